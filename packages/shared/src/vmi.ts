// The VirtualMachineInstance (kubevirt.io/v1, staging/src/kubevirt.io/api/core/v1) as far as the node
// daemons read or write it, plus the guest-agent documents the handler serves. Every object is loose:
// fields we do not model pass through untouched, so nothing a KubeVirt peer sends is lost.
import { z } from 'zod';
import { objectMetaShape, timeSchema } from './meta.ts';
import { openEnum, parseWith, type Known } from './validation.ts';

export const KubeVirtGroupVersion = 'kubevirt.io/v1';
export const VirtualMachineInstanceKind = 'VirtualMachineInstance';

// --- constants ----------------------------------------------------------------------------------

export const VirtualMachineInstancePhase = {
  Unset: '',
  Pending: 'Pending',
  Scheduling: 'Scheduling',
  Scheduled: 'Scheduled',
  Running: 'Running',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  WaitingForSync: 'WaitingForSync',
  Unknown: 'Unknown',
} as const;
export type VirtualMachineInstancePhase = (typeof VirtualMachineInstancePhase)[keyof typeof VirtualMachineInstancePhase];

export const VirtualMachineInstanceConditionType = {
  Provisioning: 'Provisioning',
  Ready: 'Ready',
  Synchronized: 'Synchronized',
  Paused: 'Paused',
  AgentConnected: 'AgentConnected',
  AccessCredentialsSynchronized: 'AccessCredentialsSynchronized',
  AgentVersionNotSupported: 'AgentVersionNotSupported',
  LiveMigratable: 'LiveMigratable',
  StorageLiveMigratable: 'StorageLiveMigratable',
  HotVCPUChange: 'HotVCPUChange',
  HotMemoryChange: 'HotMemoryChange',
  VolumesChange: 'VolumesChange',
  DataVolumesReady: 'DataVolumesReady',
  DecentralizedLiveMigrationFailure: 'DecentralizedLiveMigrationFailure',
  MigrationRequired: 'MigrationRequired',
  EvictionRequested: 'EvictionRequested',
  SoftwareEmulation: 'SoftwareEmulation',
} as const;
export type VirtualMachineInstanceConditionType =
  (typeof VirtualMachineInstanceConditionType)[keyof typeof VirtualMachineInstanceConditionType];

export const ConditionStatus = { True: 'True', False: 'False', Unknown: 'Unknown' } as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

/** Reasons on VMI conditions, as virt-handler and virt-controller write them. */
export const VirtualMachineInstanceConditionReason = {
  // Paused, set by virt-handler from the domain's paused reason
  PausedByUser: 'PausedByUser',
  PausedByMigrationMonitor: 'PausedByMigrationMonitor',
  PausedIOError: 'PausedIOError',
  // Ready, set by virt-controller from the launcher pod
  PodTerminating: 'PodTerminating',
  PodNotExists: 'PodNotExists',
  PodConditionMissing: 'PodConditionMissing',
  GuestNotRunning: 'GuestNotRunning',
  // LiveMigratable
  DisksNotLiveMigratable: 'DisksNotLiveMigratable',
  InterfaceNotLiveMigratable: 'InterfaceNotLiveMigratable',
  HotplugNotLiveMigratable: 'HotplugNotLiveMigratable',
  CPUModeLiveMigratable: 'CPUModeLiveMigratable',
  VirtIOFSNotLiveMigratable: 'VirtIOFSNotLiveMigratable',
  HostDeviceNotLiveMigratable: 'HostDeviceNotLiveMigratable',
  SEVNotLiveMigratable: 'SEVNotLiveMigratable',
  PersistentReservationNotLiveMigratable: 'PersistentReservationNotLiveMigratable',
  NotMigratable: 'NotMigratable',
} as const;
export type VirtualMachineInstanceConditionReason =
  (typeof VirtualMachineInstanceConditionReason)[keyof typeof VirtualMachineInstanceConditionReason];

/** The reason KubeVirt puts on a `Synchronized=False` condition. */
export const SynchronizationFailedReason = 'Synchronizing with the Domain failed.';

export const AppLabel = 'kubevirt.io';
/** `kubevirt.io=virt-launcher` marks launcher pods. */
export const VirtLauncherAppLabelValue = 'virt-launcher';
export const NodeNameLabel = 'kubevirt.io/nodeName';
export const MigrationTargetNodeNameLabel = 'kubevirt.io/migrationTargetNodeName';
/** On launcher pods: the VMI's UID. */
export const CreatedByLabel = 'kubevirt.io/created-by';
export const OutdatedLauncherImageLabel = 'kubevirt.io/outdatedLauncherImage';
export const DomainAnnotation = 'kubevirt.io/domain';
export const VirtualMachineInstanceFinalizer = 'kubevirt.io/foregroundDeleteVirtualMachine';

// --- building blocks ----------------------------------------------------------------------------

const int = () => z.int();
const uint = () => z.int().nonnegative();
/** A k8s resource.Quantity: `"128Mi"` on the wire; a bare number is accepted too. */
export const quantitySchema = z.union([z.string(), z.number()]);
export type Quantity = Known<z.infer<typeof quantitySchema>>;

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Disk and volume names name files in the launcher's directories: no separators, no dot names. */
const pathSafeName = () =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(/^[^/\0]+$/, 'must not contain "/"')
    .refine((n) => n !== '.' && n !== '..', 'must not be "." or ".."');
const resourceList = z.record(z.string(), quantitySchema);
/** An object we keep whole but do not look into. */
const opaque = () => z.looseObject({});

// --- spec ---------------------------------------------------------------------------------------

const cpuSchema = z.looseObject({
  cores: uint().optional(),
  sockets: uint().optional(),
  threads: uint().optional(),
  maxSockets: uint().optional(),
  model: z.string().optional(),
  features: z.array(z.looseObject({ name: z.string(), policy: z.string().optional() })).optional(),
  dedicatedCpuPlacement: z.boolean().optional(),
  isolateEmulatorThread: z.boolean().optional(),
  numa: opaque().optional(),
  realtime: opaque().optional(),
});

const memorySchema = z.looseObject({
  hugepages: z.looseObject({ pageSize: z.string() }).optional(),
  guest: quantitySchema.optional(),
  maxGuest: quantitySchema.optional(),
});

const resourcesSchema = z.looseObject({
  requests: resourceList.optional(),
  limits: resourceList.optional(),
  overcommitGuestOverhead: z.boolean().optional(),
});

const machineSchema = z.looseObject({ type: z.string().optional() });

const firmwareSchema = z.looseObject({
  uuid: z.string().optional(),
  serial: z.string().optional(),
  bootloader: z
    .looseObject({
      bios: z.looseObject({ useSerial: z.boolean().optional() }).optional(),
      efi: z.looseObject({ secureBoot: z.boolean().optional(), persistent: z.boolean().optional() }).optional(),
    })
    .optional(),
  kernelBoot: z
    .looseObject({
      kernelArgs: z.string().optional(),
      container: z
        .looseObject({
          image: z.string(),
          imagePullSecret: z.string().optional(),
          kernelPath: z.string().optional(),
          initrdPath: z.string().optional(),
          imagePullPolicy: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
  acpi: opaque().optional(),
});

const featureState = () => z.looseObject({ enabled: z.boolean().optional() });

const featuresSchema = z.looseObject({
  acpi: featureState().optional(),
  apic: featureState().optional(),
  smm: featureState().optional(),
  pvspinlock: featureState().optional(),
  hyperv: opaque().optional(),
  kvm: opaque().optional(),
});

const diskTargetSchema = z.looseObject({
  bus: z.string().optional(),
  readonly: z.boolean().optional(),
  pciAddress: z.string().optional(),
});

const diskSchema = z.looseObject({
  name: pathSafeName(),
  disk: diskTargetSchema.optional(),
  cdrom: z.looseObject({ bus: z.string().optional(), readonly: z.boolean().optional(), tray: z.string().optional() }).optional(),
  lun: opaque().optional(),
  bootOrder: uint().optional(),
  serial: z.string().optional(),
  dedicatedIOThread: z.boolean().optional(),
  cache: z.string().optional(),
  io: z.string().optional(),
  tag: z.string().optional(),
  shareable: z.boolean().optional(),
  errorPolicy: z.string().optional(),
  blockSize: opaque().optional(),
});

const interfaceSchema = z.looseObject({
  name: z.string(),
  model: z.string().optional(),
  macAddress: z.string().optional(),
  bridge: opaque().optional(),
  masquerade: opaque().optional(),
  sriov: opaque().optional(),
  passt: opaque().optional(),
  binding: z.looseObject({ name: z.string() }).optional(),
  ports: z.array(z.looseObject({ name: z.string().optional(), protocol: z.string().optional(), port: int() })).optional(),
  bootOrder: uint().optional(),
  pciAddress: z.string().optional(),
  dhcpOptions: opaque().optional(),
  tag: z.string().optional(),
  acpiIndex: int().optional(),
  state: z.string().optional(),
});

const devicesSchema = z.looseObject({
  disks: z.array(diskSchema).optional(),
  interfaces: z.array(interfaceSchema).optional(),
  inputs: z.array(opaque()).optional(),
  watchdog: opaque().optional(),
  rng: opaque().optional(),
  gpus: z.array(opaque()).optional(),
  hostDevices: z.array(opaque()).optional(),
  filesystems: z.array(opaque()).optional(),
  autoattachPodInterface: z.boolean().optional(),
  autoattachGraphicsDevice: z.boolean().optional(),
  autoattachSerialConsole: z.boolean().optional(),
  logSerialConsole: z.boolean().optional(),
  autoattachMemBalloon: z.boolean().optional(),
  autoattachInputDevice: z.boolean().optional(),
  autoattachVSOCK: z.boolean().optional(),
  blockMultiQueue: z.boolean().optional(),
  networkInterfaceMultiqueue: z.boolean().optional(),
  useVirtioTransitional: z.boolean().optional(),
  disableHotplug: z.boolean().optional(),
});

const domainSpecSchema = z.looseObject({
  resources: resourcesSchema.optional(),
  cpu: cpuSchema.optional(),
  memory: memorySchema.optional(),
  machine: machineSchema.optional(),
  firmware: firmwareSchema.optional(),
  clock: opaque().optional(),
  features: featuresSchema.optional(),
  devices: devicesSchema.optional(),
  ioThreadsPolicy: z.string().optional(),
  ioThreads: opaque().optional(),
  chassis: opaque().optional(),
  launchSecurity: opaque().optional(),
});

const secretRef = () => z.looseObject({ name: z.string().optional() });

const cloudInitSchema = z.looseObject({
  userData: z.string().optional(),
  userDataBase64: z.string().optional(),
  secretRef: secretRef().optional(),
  networkData: z.string().optional(),
  networkDataBase64: z.string().optional(),
  networkDataSecretRef: secretRef().optional(),
});

const volumeSchema = z.looseObject({
  name: pathSafeName(),
  containerDisk: z
    .looseObject({
      image: z.string(),
      imagePullSecret: z.string().optional(),
      path: z.string().optional(),
      imagePullPolicy: z.string().optional(),
    })
    .optional(),
  emptyDisk: z.looseObject({ capacity: quantitySchema }).optional(),
  cloudInitNoCloud: cloudInitSchema.optional(),
  cloudInitConfigDrive: cloudInitSchema.optional(),
  ephemeral: opaque().optional(),
  persistentVolumeClaim: opaque().optional(),
  dataVolume: opaque().optional(),
  hostDisk: opaque().optional(),
  configMap: opaque().optional(),
  secret: opaque().optional(),
  serviceAccount: opaque().optional(),
  downwardAPI: opaque().optional(),
  downwardMetrics: opaque().optional(),
  memoryDump: opaque().optional(),
  sysprep: opaque().optional(),
});

const networkSchema = z.looseObject({
  name: z.string(),
  pod: z.looseObject({ vmNetworkCIDR: z.string().optional(), vmIPv6NetworkCIDR: z.string().optional() }).optional(),
  multus: z.looseObject({ networkName: z.string(), default: z.boolean().optional() }).optional(),
});

const vmiSpecSchema = z.looseObject({
  priorityClassName: z.string().optional(),
  domain: domainSpecSchema,
  nodeSelector: z.record(z.string(), z.string()).optional(),
  affinity: opaque().optional(),
  schedulerName: z.string().optional(),
  serviceAccountName: z.string().optional(),
  tolerations: z.array(opaque()).optional(),
  topologySpreadConstraints: z.array(opaque()).optional(),
  evictionStrategy: openEnum(['None', 'LiveMigrate', 'LiveMigrateIfPossible', 'External'] as const).optional(),
  startStrategy: openEnum(['Paused'] as const).optional(),
  terminationGracePeriodSeconds: int().optional(),
  volumes: z.array(volumeSchema).optional(),
  livenessProbe: opaque().optional(),
  readinessProbe: opaque().optional(),
  hostname: z.string().optional(),
  subdomain: z.string().optional(),
  networks: z.array(networkSchema).optional(),
  dnsPolicy: z.string().optional(),
  dnsConfig: opaque().optional(),
  accessCredentials: z.array(opaque()).optional(),
  architecture: z.string().optional(),
  resourceClaims: z.array(opaque()).optional(),
  utilityVolumes: z.array(opaque()).optional(),
});

// --- status -------------------------------------------------------------------------------------

const conditionSchema = z.looseObject({
  type: openEnum(Object.values(VirtualMachineInstanceConditionType)),
  status: openEnum(Object.values(ConditionStatus)),
  lastProbeTime: timeSchema.nullable().optional(),
  lastTransitionTime: timeSchema.nullable().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

const phaseTransitionTimestampSchema = z.looseObject({
  phase: openEnum(Object.values(VirtualMachineInstancePhase)).optional(),
  phaseTransitionTimestamp: timeSchema.nullable().optional(),
});

const networkInterfaceStatusSchema = z.looseObject({
  ipAddress: z.string().optional(),
  mac: z.string().optional(),
  name: z.string().optional(),
  ipAddresses: z.array(z.string()).optional(),
  podInterfaceName: z.string().optional(),
  interfaceName: z.string().optional(),
  /** `domain`, `guest-agent`, `multus-status`, joined with ", " */
  infoSource: z.string().optional(),
  queueCount: int().optional(),
  linkState: z.string().optional(),
});

export const guestOSInfoSchema = z.looseObject({
  name: z.string().optional(),
  kernelRelease: z.string().optional(),
  version: z.string().optional(),
  prettyName: z.string().optional(),
  versionId: z.string().optional(),
  kernelVersion: z.string().optional(),
  machine: z.string().optional(),
  id: z.string().optional(),
});

const migrationStateSchema = z.looseObject({
  startTimestamp: timeSchema.nullable().optional(),
  endTimestamp: timeSchema.nullable().optional(),
  targetNodeDomainReadyTimestamp: timeSchema.nullable().optional(),
  targetNodeDomainDetected: z.boolean().optional(),
  targetNodeAddress: z.string().optional(),
  targetDirectMigrationNodePorts: z.record(z.string(), int()).optional(),
  targetNode: z.string().optional(),
  targetPod: z.string().optional(),
  targetAttachmentPodUID: z.string().optional(),
  sourceNode: z.string().optional(),
  sourcePod: z.string().optional(),
  completed: z.boolean().optional(),
  failed: z.boolean().optional(),
  abortRequested: z.boolean().optional(),
  abortStatus: z.string().optional(),
  failureReason: z.string().optional(),
  migrationUid: z.string().optional(),
  mode: openEnum(['PreCopy', 'PostCopy', 'Paused'] as const).optional(),
  migrationPolicyName: z.string().optional(),
  migrationConfiguration: opaque().optional(),
  targetCPUSet: z.array(int()).optional(),
  targetNodeTopology: z.string().optional(),
  sourceState: opaque().optional(),
  targetState: opaque().optional(),
});

const volumeStatusSchema = z.looseObject({
  name: z.string(),
  target: z.string(),
  phase: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  persistentVolumeClaimInfo: opaque().optional(),
  hotplugVolume: z.looseObject({ attachPodName: z.string().optional(), attachPodUID: z.string().optional() }).optional(),
  size: int().optional(),
  memoryDumpVolume: opaque().optional(),
  containerDiskVolume: z.looseObject({ checksum: uint().optional() }).optional(),
});

const vmiStatusSchema = z.looseObject({
  nodeName: z.string().optional(),
  reason: z.string().optional(),
  conditions: z.array(conditionSchema).optional(),
  phase: openEnum(Object.values(VirtualMachineInstancePhase)).optional(),
  phaseTransitionTimestamps: z.array(phaseTransitionTimestampSchema).optional(),
  interfaces: z.array(networkInterfaceStatusSchema).optional(),
  guestOSInfo: guestOSInfoSchema.optional(),
  migrationState: migrationStateSchema.optional(),
  migrationMethod: openEnum(['BlockMigration', 'LiveMigration'] as const).optional(),
  migrationTransport: openEnum(['Unix'] as const).optional(),
  qosClass: openEnum(['Guaranteed', 'Burstable', 'BestEffort'] as const).optional(),
  launcherContainerImageVersion: z.string().optional(),
  evacuationNodeName: z.string().optional(),
  /** pod UID → node name; how virt-handler finds the launcher socket */
  activePods: z.record(z.string(), z.string()).optional(),
  volumeStatus: z.array(volumeStatusSchema).optional(),
  kernelBootStatus: opaque().optional(),
  /** `frozen`, or absent */
  fsFreezeStatus: z.string().optional(),
  topologyHints: z.looseObject({ tscFrequency: int().nullable().optional() }).optional(),
  virtualMachineRevisionName: z.string().optional(),
  runtimeUser: uint().optional(),
  VSOCKCID: uint().optional(),
  selinuxContext: z.string().optional(),
  machine: machineSchema.optional(),
  currentCPUTopology: z.looseObject({ cores: uint().optional(), sockets: uint().optional(), threads: uint().optional() }).optional(),
  memory: z
    .looseObject({
      guestAtBoot: quantitySchema.optional(),
      guestCurrent: quantitySchema.optional(),
      guestRequested: quantitySchema.optional(),
    })
    .optional(),
  migratedVolumes: z.array(opaque()).optional(),
  changedBlockTracking: opaque().nullable().optional(),
});

// --- the VMI ------------------------------------------------------------------------------------

/**
 * Name, namespace and uid are required: a VMI the daemons act on always has them. Name and namespace
 * are checked as the API server checks them (they become paths on disk and socket names here).
 */
export const vmiMetadataSchema = z.looseObject({
  ...objectMetaShape,
  name: z.string().max(253).regex(DNS1123_SUBDOMAIN, 'must be a DNS-1123 subdomain'),
  namespace: z.string().max(63).regex(DNS1123_LABEL, 'must be a DNS-1123 label'),
  uid: z.string().min(1).regex(/^[^/\0]+$/, 'must not contain "/"'),
});

export const virtualMachineInstanceSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: vmiMetadataSchema,
  spec: vmiSpecSchema,
  status: vmiStatusSchema.optional(),
});

export type VirtualMachineInstance = Known<z.infer<typeof virtualMachineInstanceSchema>>;
export type VirtualMachineInstanceSpec = Known<z.infer<typeof vmiSpecSchema>>;
export type VirtualMachineInstanceStatus = Known<z.infer<typeof vmiStatusSchema>>;
export type VirtualMachineInstanceDomainSpec = Known<z.infer<typeof domainSpecSchema>>;
export type VirtualMachineInstanceCondition = Known<z.infer<typeof conditionSchema>>;
export type VirtualMachineInstanceNetworkInterface = Known<z.infer<typeof networkInterfaceStatusSchema>>;
export type VirtualMachineInstanceGuestOSInfo = Known<z.infer<typeof guestOSInfoSchema>>;
export type VirtualMachineInstanceMigrationState = Known<z.infer<typeof migrationStateSchema>>;
export type VolumeStatus = Known<z.infer<typeof volumeStatusSchema>>;
export type Disk = Known<z.infer<typeof diskSchema>>;
export type Interface = Known<z.infer<typeof interfaceSchema>>;
export type Volume = Known<z.infer<typeof volumeSchema>>;
export type Network = Known<z.infer<typeof networkSchema>>;

/** A VMI from the wire (JSON text or bytes, as in `VMI.vmiJson`) or an already-decoded object. */
export function parseVMI(json: unknown): VirtualMachineInstance {
  return parseWith(virtualMachineInstanceSchema, json, 'VirtualMachineInstance');
}

// --- guest agent documents (GET …/guestosinfo, …/userlist, …/filesystemlist) ---------------------

export const guestOSUserSchema = z.looseObject({
  userName: z.string(),
  domain: z.string().optional(),
  /** seconds since the epoch */
  loginTime: z.number().optional(),
});

export const fileSystemSchema = z.looseObject({
  diskName: z.string(),
  mountPoint: z.string(),
  fileSystemType: z.string(),
  usedBytes: int(),
  totalBytes: int(),
  disk: z.array(z.looseObject({ serial: z.string().optional(), busType: z.string() })).optional(),
});

export const guestAgentInfoSchema = z.looseObject({
  kind: z.string().optional(),
  apiVersion: z.string().optional(),
  guestAgentVersion: z.string().optional(),
  supportedCommands: z.array(z.looseObject({ name: z.string(), enabled: z.boolean().optional() })).optional(),
  hostname: z.string().optional(),
  os: guestOSInfoSchema.optional(),
  /** e.g. `UTC, 0` */
  timezone: z.string().optional(),
  userList: z.array(guestOSUserSchema).optional(),
  fsInfo: z.looseObject({ disks: z.array(fileSystemSchema).nullable() }).optional(),
  fsFreezeStatus: z.string().optional(),
});

const listMeta = () => opaque().optional();

export const guestOSUserListSchema = z.looseObject({
  kind: z.string().optional(),
  apiVersion: z.string().optional(),
  metadata: listMeta(),
  items: z.array(guestOSUserSchema).nullable(),
});

export const fileSystemListSchema = z.looseObject({
  kind: z.string().optional(),
  apiVersion: z.string().optional(),
  metadata: listMeta(),
  items: z.array(fileSystemSchema).nullable(),
});

export type VirtualMachineInstanceGuestAgentInfo = Known<z.infer<typeof guestAgentInfoSchema>>;
export type VirtualMachineInstanceGuestOSUser = Known<z.infer<typeof guestOSUserSchema>>;
export type VirtualMachineInstanceGuestOSUserList = Known<z.infer<typeof guestOSUserListSchema>>;
export type VirtualMachineInstanceFileSystem = Known<z.infer<typeof fileSystemSchema>>;
export type VirtualMachineInstanceFileSystemList = Known<z.infer<typeof fileSystemListSchema>>;

/** The launcher's GuestInfoResponse.guestInfoResponse. */
export function parseGuestAgentInfo(json: unknown): VirtualMachineInstanceGuestAgentInfo {
  return parseWith(guestAgentInfoSchema, json, 'VirtualMachineInstanceGuestAgentInfo');
}

/** The launcher sends a bare array of users; the handler serves it wrapped as a list. */
export function parseGuestOSUsers(json: unknown): VirtualMachineInstanceGuestOSUser[] | null {
  return parseWith(z.array(guestOSUserSchema).nullable(), json, 'VirtualMachineInstanceGuestOSUser list');
}

/** The launcher sends a bare array of filesystems; the handler serves it wrapped as a list. */
export function parseFileSystems(json: unknown): VirtualMachineInstanceFileSystem[] | null {
  return parseWith(z.array(fileSystemSchema).nullable(), json, 'VirtualMachineInstanceFileSystem list');
}
