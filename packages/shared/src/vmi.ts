// The VirtualMachineInstance (kubevirt.io/v1, staging/src/kubevirt.io/api/core/v1) as far as the node
// daemons read or write it, plus the guest-agent documents the handler serves. Every object is loose:
// fields we do not model pass through untouched, so nothing a KubeVirt peer sends is lost.
import * as z from 'zod/mini';
import type { GuestOSInfo } from './domain.ts';
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
  TDXNotLiveMigratable: 'TDXNotLiveMigratable',
  PersistentReservationNotLiveMigratable: 'PersistentReservationNotLiveMigratable',
  HypervPassthroughNotLiveMigratable: 'HypervPassthroughNotLiveMigratable',
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
const uint = () => z.int().check(z.nonnegative());
/** A k8s resource.Quantity: `"128Mi"` on the wire; a bare number is accepted too. */
export const quantitySchema = z.union([z.string(), z.number()]);
export type Quantity = Known<z.infer<typeof quantitySchema>>;

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Disk and volume names name files in the launcher's directories: no separators, no dot names. */
const pathSafeName = () =>
  z.string().check(
    z.minLength(1),
    z.maxLength(253),
    z.regex(/^[^/\0]+$/, 'must not contain "/"'),
    z.refine((n) => n !== '.' && n !== '..', 'must not be "." or ".."'),
  );
const resourceList = z.record(z.string(), quantitySchema);
/** An object we keep whole but do not look into. */
const opaque = () => z.looseObject({});

// --- spec ---------------------------------------------------------------------------------------

const cpuSchema = z.looseObject({
  cores: z.optional(uint()),
  sockets: z.optional(uint()),
  threads: z.optional(uint()),
  maxSockets: z.optional(uint()),
  model: z.optional(z.string()),
  features: z.optional(z.array(z.looseObject({ name: z.string(), policy: z.optional(z.string()) }))),
  dedicatedCpuPlacement: z.optional(z.boolean()),
  isolateEmulatorThread: z.optional(z.boolean()),
  numa: z.optional(opaque()),
  realtime: z.optional(opaque()),
});

const memorySchema = z.looseObject({
  hugepages: z.optional(z.looseObject({ pageSize: z.string() })),
  guest: z.optional(quantitySchema),
  maxGuest: z.optional(quantitySchema),
  // virt-controller adds it to the pod's memory; virt-handler raises the memlock limit for MemLockRequired
  reservedOverhead: z.optional(
    z.looseObject({ addedOverhead: z.optional(quantitySchema), memLock: z.optional(z.enum(['Required', 'NotRequired'])) }),
  ),
});

const resourcesSchema = z.looseObject({
  requests: z.optional(resourceList),
  limits: z.optional(resourceList),
  overcommitGuestOverhead: z.optional(z.boolean()),
});

const machineSchema = z.looseObject({ type: z.optional(z.string()) });

const firmwareSchema = z.looseObject({
  uuid: z.optional(z.string()),
  serial: z.optional(z.string()),
  acpi: z.optional(z.looseObject({ slicNameRef: z.optional(z.string()), msdmNameRef: z.optional(z.string()) })),
  bootloader: z.optional(
    z.looseObject({
      bios: z.optional(z.looseObject({ useSerial: z.optional(z.boolean()) })),
      efi: z.optional(z.looseObject({ secureBoot: z.optional(z.boolean()), persistent: z.optional(z.boolean()) })),
    }),
  ),
  kernelBoot: z.optional(
    z.looseObject({
      kernelArgs: z.optional(z.string()),
      container: z.optional(
        z.looseObject({
          image: z.string(),
          imagePullSecret: z.optional(z.string()),
          kernelPath: z.optional(z.string()),
          initrdPath: z.optional(z.string()),
          imagePullPolicy: z.optional(z.string()),
        }),
      ),
    }),
  ),
});

const featureState = () => z.looseObject({ enabled: z.optional(z.boolean()) });

const featuresSchema = z.looseObject({
  acpi: z.optional(featureState()),
  apic: z.optional(featureState()),
  smm: z.optional(featureState()),
  pvspinlock: z.optional(featureState()),
  hyperv: z.optional(opaque()),
  kvm: z.optional(opaque()),
});

const diskTargetSchema = z.looseObject({
  bus: z.optional(z.string()),
  readonly: z.optional(z.boolean()),
  pciAddress: z.optional(z.string()),
});

const diskSchema = z.looseObject({
  name: pathSafeName(),
  disk: z.optional(diskTargetSchema),
  cdrom: z.optional(z.looseObject({ bus: z.optional(z.string()), readonly: z.optional(z.boolean()), tray: z.optional(z.string()) })),
  lun: z.optional(opaque()),
  bootOrder: z.optional(uint()),
  serial: z.optional(z.string()),
  dedicatedIOThread: z.optional(z.boolean()),
  cache: z.optional(z.string()),
  io: z.optional(z.string()),
  tag: z.optional(z.string()),
  shareable: z.optional(z.boolean()),
  errorPolicy: z.optional(z.string()),
  blockSize: z.optional(
    z.looseObject({
      custom: z.optional(z.looseObject({ logical: uint(), physical: uint(), discardGranularity: z.optional(uint()) })),
      matchVolume: z.optional(z.looseObject({ enabled: z.optional(z.boolean()) })),
    }),
  ),
});

/** v1.DHCPOptions: what the launcher's DHCP server adds for the interface's guest. */
const dhcpOptionsSchema = z.looseObject({
  bootFileName: z.optional(z.string()),
  tftpServerName: z.optional(z.string()),
  ntpServers: z.optional(z.array(z.string())),
  privateOptions: z.optional(z.array(z.looseObject({ option: int(), value: z.string() }))),
});

const interfaceSchema = z.looseObject({
  name: z.string(),
  model: z.optional(z.string()),
  macAddress: z.optional(z.string()),
  bridge: z.optional(opaque()),
  masquerade: z.optional(opaque()),
  sriov: z.optional(opaque()),
  passt: z.optional(opaque()),
  binding: z.optional(z.looseObject({ name: z.string() })),
  ports: z.optional(z.array(z.looseObject({ name: z.optional(z.string()), protocol: z.optional(z.string()), port: int() }))),
  bootOrder: z.optional(uint()),
  pciAddress: z.optional(z.string()),
  dhcpOptions: z.optional(dhcpOptionsSchema),
  tag: z.optional(z.string()),
  acpiIndex: z.optional(int()),
  state: z.optional(z.string()),
});

const filesystemSchema = z.looseObject({
  // names the volume shared, its virtiofs socket and the guest's mount tag
  name: pathSafeName(),
  // FilesystemVirtiofs is an empty struct: its presence picks virtiofs
  virtiofs: z.optional(z.nullable(opaque())),
});

const devicesSchema = z.looseObject({
  disks: z.optional(z.array(diskSchema)),
  interfaces: z.optional(z.array(interfaceSchema)),
  inputs: z.optional(z.array(opaque())),
  watchdog: z.optional(opaque()),
  rng: z.optional(opaque()),
  gpus: z.optional(z.array(opaque())),
  hostDevices: z.optional(z.array(opaque())),
  filesystems: z.optional(z.array(filesystemSchema)),
  autoattachPodInterface: z.optional(z.boolean()),
  autoattachGraphicsDevice: z.optional(z.boolean()),
  autoattachSerialConsole: z.optional(z.boolean()),
  logSerialConsole: z.optional(z.boolean()),
  autoattachMemBalloon: z.optional(z.boolean()),
  autoattachInputDevice: z.optional(z.boolean()),
  autoattachVSOCK: z.optional(z.boolean()),
  sound: z.optional(opaque()),
  /** v1.DownwardMetrics: an empty struct, present to ask for the metrics channel */
  downwardMetrics: z.optional(z.looseObject({})),
  video: z.optional(z.looseObject({ type: z.optional(z.string()) })),
  panicDevices: z.optional(z.array(opaque())),
  /** v1.ClientPassthroughDevices: an empty struct, present to ask for USB redirection */
  clientPassthrough: z.optional(z.looseObject({})),
  blockMultiQueue: z.optional(z.boolean()),
  networkInterfaceMultiqueue: z.optional(z.boolean()),
  useVirtioTransitional: z.optional(z.boolean()),
  disableHotplug: z.optional(z.boolean()),
});

const domainSpecSchema = z.looseObject({
  resources: z.optional(resourcesSchema),
  cpu: z.optional(cpuSchema),
  memory: z.optional(memorySchema),
  machine: z.optional(machineSchema),
  firmware: z.optional(firmwareSchema),
  clock: z.optional(opaque()),
  features: z.optional(featuresSchema),
  devices: z.optional(devicesSchema),
  ioThreadsPolicy: z.optional(z.string()),
  ioThreads: z.optional(z.looseObject({ supplementalPoolThreadCount: z.optional(uint()) })),
  chassis: z.optional(
    z.looseObject({
      manufacturer: z.optional(z.string()),
      version: z.optional(z.string()),
      serial: z.optional(z.string()),
      asset: z.optional(z.string()),
      sku: z.optional(z.string()),
    }),
  ),
  launchSecurity: z.optional(opaque()),
});

const secretRef = () => z.looseObject({ name: z.optional(z.string()) });

const cloudInitSchema = z.looseObject({
  userData: z.optional(z.string()),
  userDataBase64: z.optional(z.string()),
  secretRef: z.optional(secretRef()),
  networkData: z.optional(z.string()),
  networkDataBase64: z.optional(z.string()),
  networkDataSecretRef: z.optional(secretRef()),
});

const volumeSchema = z.looseObject({
  name: pathSafeName(),
  containerDisk: z.optional(
    z.looseObject({
      image: z.string(),
      imagePullSecret: z.optional(z.string()),
      path: z.optional(z.string()),
      imagePullPolicy: z.optional(z.string()),
    }),
  ),
  emptyDisk: z.optional(z.looseObject({ capacity: quantitySchema })),
  cloudInitNoCloud: z.optional(cloudInitSchema),
  cloudInitConfigDrive: z.optional(cloudInitSchema),
  ephemeral: z.optional(z.looseObject({ persistentVolumeClaim: z.optional(z.looseObject({ claimName: z.optional(z.string()) })) })),
  // hotpluggable: virt-controller mounts it through an attachment pod, and the handler into the launcher
  persistentVolumeClaim: z.optional(z.looseObject({ hotpluggable: z.optional(z.boolean()) })),
  dataVolume: z.optional(z.looseObject({ hotpluggable: z.optional(z.boolean()) })),
  hostDisk: z.optional(opaque()),
  configMap: z.optional(opaque()),
  secret: z.optional(opaque()),
  serviceAccount: z.optional(opaque()),
  downwardAPI: z.optional(opaque()),
  downwardMetrics: z.optional(z.looseObject({})),
  memoryDump: z.optional(opaque()),
  sysprep: z.optional(opaque()),
});

const networkSchema = z.looseObject({
  name: z.string(),
  pod: z.optional(z.looseObject({ vmNetworkCIDR: z.optional(z.string()), vmIPv6NetworkCIDR: z.optional(z.string()) })),
  multus: z.optional(z.looseObject({ networkName: z.string(), default: z.optional(z.boolean()) })),
});

const vmiSpecSchema = z.looseObject({
  priorityClassName: z.optional(z.string()),
  domain: domainSpecSchema,
  nodeSelector: z.optional(z.record(z.string(), z.string())),
  affinity: z.optional(opaque()),
  schedulerName: z.optional(z.string()),
  serviceAccountName: z.optional(z.string()),
  tolerations: z.optional(z.array(opaque())),
  topologySpreadConstraints: z.optional(z.array(opaque())),
  evictionStrategy: z.optional(openEnum(['None', 'LiveMigrate', 'LiveMigrateIfPossible', 'External'] as const)),
  startStrategy: z.optional(openEnum(['Paused'] as const)),
  terminationGracePeriodSeconds: z.optional(int()),
  volumes: z.optional(z.array(volumeSchema)),
  livenessProbe: z.optional(opaque()),
  readinessProbe: z.optional(opaque()),
  hostname: z.optional(z.string()),
  subdomain: z.optional(z.string()),
  networks: z.optional(z.array(networkSchema)),
  dnsPolicy: z.optional(z.string()),
  dnsConfig: z.optional(opaque()),
  accessCredentials: z.optional(z.array(opaque())),
  architecture: z.optional(z.string()),
  resourceClaims: z.optional(z.array(opaque())),
  // UtilityVolume: a claim hotplugged into the launcher pod as a directory, never into the domain
  utilityVolumes: z.optional(
    z.array(z.looseObject({ name: z.string(), claimName: z.string(), readOnly: z.optional(z.boolean()), type: z.optional(z.string()) })),
  ),
});

// --- status -------------------------------------------------------------------------------------

const conditionSchema = z.looseObject({
  type: openEnum(Object.values(VirtualMachineInstanceConditionType)),
  status: openEnum(Object.values(ConditionStatus)),
  lastProbeTime: z.optional(z.nullable(timeSchema)),
  lastTransitionTime: z.optional(z.nullable(timeSchema)),
  reason: z.optional(z.string()),
  message: z.optional(z.string()),
});

const phaseTransitionTimestampSchema = z.looseObject({
  phase: z.optional(openEnum(Object.values(VirtualMachineInstancePhase))),
  phaseTransitionTimestamp: z.optional(z.nullable(timeSchema)),
});

const networkInterfaceStatusSchema = z.looseObject({
  ipAddress: z.optional(z.string()),
  mac: z.optional(z.string()),
  name: z.optional(z.string()),
  ipAddresses: z.optional(z.array(z.string())),
  podInterfaceName: z.optional(z.string()),
  interfaceName: z.optional(z.string()),
  /** `domain`, `guest-agent`, `multus-status`, joined with ", " */
  infoSource: z.optional(z.string()),
  queueCount: z.optional(int()),
  linkState: z.optional(z.string()),
});

export const guestOSInfoSchema = z.looseObject({
  name: z.optional(z.string()),
  kernelRelease: z.optional(z.string()),
  version: z.optional(z.string()),
  prettyName: z.optional(z.string()),
  versionId: z.optional(z.string()),
  kernelVersion: z.optional(z.string()),
  machine: z.optional(z.string()),
  id: z.optional(z.string()),
});

/** VirtualMachineInstanceCommonMigrationState: one end of a migration, as each end's handler writes it. */
const migrationEndStateSchema = z.looseObject({
  node: z.optional(z.string()),
  pod: z.optional(z.string()),
  migrationUID: z.optional(z.string()),
  domainName: z.optional(z.nullable(z.string())),
  domainNamespace: z.optional(z.nullable(z.string())),
  syncAddress: z.optional(z.nullable(z.string())),
  selinuxContext: z.optional(z.string()),
  virtualMachineInstanceUID: z.optional(z.nullable(z.string())),
});

/** VirtualMachineInstanceMigrationTargetState: what the target's handler publishes for the source. */
const migrationTargetStateSchema = z.extend(migrationEndStateSchema, {
  domainDetected: z.optional(z.boolean()),
  domainReadyTimestamp: z.optional(z.nullable(timeSchema)),
  nodeAddress: z.optional(z.nullable(z.string())),
  directMigrationNodePorts: z.optional(z.record(z.string(), int())),
  attachmentPodUID: z.optional(z.string()),
});

const migrationStateSchema = z.looseObject({
  startTimestamp: z.optional(z.nullable(timeSchema)),
  endTimestamp: z.optional(z.nullable(timeSchema)),
  targetNodeDomainReadyTimestamp: z.optional(z.nullable(timeSchema)),
  targetNodeDomainDetected: z.optional(z.boolean()),
  targetNodeAddress: z.optional(z.string()),
  targetDirectMigrationNodePorts: z.optional(z.record(z.string(), int())),
  targetNode: z.optional(z.string()),
  targetPod: z.optional(z.string()),
  targetAttachmentPodUID: z.optional(z.string()),
  sourceNode: z.optional(z.string()),
  sourcePod: z.optional(z.string()),
  completed: z.optional(z.boolean()),
  failed: z.optional(z.boolean()),
  abortRequested: z.optional(z.boolean()),
  abortStatus: z.optional(z.string()),
  failureReason: z.optional(z.string()),
  migrationUid: z.optional(z.string()),
  mode: z.optional(openEnum(['PreCopy', 'PostCopy', 'Paused'] as const)),
  migrationPolicyName: z.optional(z.string()),
  migrationConfiguration: z.optional(opaque()),
  targetCPUSet: z.optional(z.array(int())),
  targetNodeTopology: z.optional(z.string()),
  sourceState: z.optional(z.nullable(migrationEndStateSchema)),
  targetState: z.optional(z.nullable(migrationTargetStateSchema)),
});

/** PersistentVolumeClaimInfo: what virt-controller found of a volume's claim. */
const persistentVolumeClaimInfoSchema = z.looseObject({
  claimName: z.optional(z.string()),
  accessModes: z.optional(z.array(z.string())),
  volumeMode: z.optional(z.string()),
  capacity: z.optional(resourceList),
  requests: z.optional(resourceList),
  preallocated: z.optional(z.boolean()),
  filesystemOverhead: z.optional(z.string()),
});

const volumeStatusSchema = z.looseObject({
  name: z.string(),
  target: z.string(),
  phase: z.optional(z.string()),
  reason: z.optional(z.string()),
  message: z.optional(z.string()),
  persistentVolumeClaimInfo: z.optional(persistentVolumeClaimInfoSchema),
  hotplugVolume: z.optional(z.looseObject({ attachPodName: z.optional(z.string()), attachPodUID: z.optional(z.string()) })),
  size: z.optional(int()),
  // DomainMemoryDumpInfo: virt-controller writes claimName, virt-handler the rest
  memoryDumpVolume: z.optional(
    z.looseObject({
      claimName: z.optional(z.string()),
      targetFileName: z.optional(z.string()),
      startTimestamp: z.optional(z.nullable(z.string())),
      endTimestamp: z.optional(z.nullable(z.string())),
    }),
  ),
  containerDiskVolume: z.optional(z.looseObject({ checksum: z.optional(uint()) })),
});

const vmiStatusSchema = z.looseObject({
  nodeName: z.optional(z.string()),
  reason: z.optional(z.string()),
  conditions: z.optional(z.array(conditionSchema)),
  phase: z.optional(openEnum(Object.values(VirtualMachineInstancePhase))),
  phaseTransitionTimestamps: z.optional(z.array(phaseTransitionTimestampSchema)),
  interfaces: z.optional(z.array(networkInterfaceStatusSchema)),
  guestOSInfo: z.optional(guestOSInfoSchema),
  migrationState: z.optional(migrationStateSchema),
  migrationMethod: z.optional(openEnum(['BlockMigration', 'LiveMigration'] as const)),
  migrationTransport: z.optional(openEnum(['Unix'] as const)),
  qosClass: z.optional(openEnum(['Guaranteed', 'Burstable', 'BestEffort'] as const)),
  launcherContainerImageVersion: z.optional(z.string()),
  evacuationNodeName: z.optional(z.string()),
  /** pod UID → node name; how virt-handler finds the launcher socket */
  activePods: z.optional(z.record(z.string(), z.string())),
  volumeStatus: z.optional(z.array(volumeStatusSchema)),
  kernelBootStatus: z.optional(opaque()),
  /** `frozen`, or absent */
  fsFreezeStatus: z.optional(z.string()),
  topologyHints: z.optional(z.looseObject({ tscFrequency: z.optional(z.nullable(int())) })),
  virtualMachineRevisionName: z.optional(z.string()),
  runtimeUser: z.optional(uint()),
  VSOCKCID: z.optional(uint()),
  selinuxContext: z.optional(z.string()),
  machine: z.optional(machineSchema),
  currentCPUTopology: z.optional(z.looseObject({ cores: z.optional(uint()), sockets: z.optional(uint()), threads: z.optional(uint()) })),
  memory: z.optional(
    z.looseObject({
      guestAtBoot: z.optional(quantitySchema),
      guestCurrent: z.optional(quantitySchema),
      guestRequested: z.optional(quantitySchema),
    }),
  ),
  migratedVolumes: z.optional(z.array(opaque())),
  changedBlockTracking: z.optional(z.nullable(opaque())),
});

// --- the VMI ------------------------------------------------------------------------------------

/**
 * Name, namespace and uid are required: a VMI the daemons act on always has them. Name and namespace
 * are checked as the API server checks them (they become paths on disk and socket names here).
 */
export const vmiMetadataSchema = z.looseObject({
  ...objectMetaShape,
  name: z.string().check(z.maxLength(253), z.regex(DNS1123_SUBDOMAIN, 'must be a DNS-1123 subdomain')),
  namespace: z.string().check(z.maxLength(63), z.regex(DNS1123_LABEL, 'must be a DNS-1123 label')),
  uid: z.string().check(z.minLength(1), z.regex(/^[^/\0]+$/, 'must not contain "/"')),
});

export const virtualMachineInstanceSchema = z.looseObject({
  apiVersion: z.optional(z.string()),
  kind: z.optional(z.string()),
  metadata: vmiMetadataSchema,
  spec: vmiSpecSchema,
  status: z.optional(vmiStatusSchema),
});

export type VirtualMachineInstance = Known<z.infer<typeof virtualMachineInstanceSchema>>;
export type VirtualMachineInstanceSpec = Known<z.infer<typeof vmiSpecSchema>>;
export type VirtualMachineInstanceStatus = Known<z.infer<typeof vmiStatusSchema>>;
export type VirtualMachineInstanceDomainSpec = Known<z.infer<typeof domainSpecSchema>>;
export type VirtualMachineInstanceCondition = Known<z.infer<typeof conditionSchema>>;
export type VirtualMachineInstanceNetworkInterface = Known<z.infer<typeof networkInterfaceStatusSchema>>;
export type VirtualMachineInstanceGuestOSInfo = Known<z.infer<typeof guestOSInfoSchema>>;
export type DHCPOptions = Known<z.infer<typeof dhcpOptionsSchema>>;
export type VirtualMachineInstanceMigrationState = Known<z.infer<typeof migrationStateSchema>>;
export type VolumeStatus = Known<z.infer<typeof volumeStatusSchema>>;
export type Disk = Known<z.infer<typeof diskSchema>>;
export type Filesystem = Known<z.infer<typeof filesystemSchema>>;
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
  domain: z.optional(z.string()),
  /** seconds since the epoch */
  loginTime: z.optional(z.number()),
});

export const fileSystemSchema = z.looseObject({
  diskName: z.string(),
  mountPoint: z.string(),
  fileSystemType: z.string(),
  usedBytes: int(),
  totalBytes: int(),
  disk: z.optional(z.array(z.looseObject({ serial: z.optional(z.string()), busType: z.string() }))),
});

export const guestAgentInfoSchema = z.looseObject({
  kind: z.optional(z.string()),
  apiVersion: z.optional(z.string()),
  guestAgentVersion: z.optional(z.string()),
  supportedCommands: z.optional(z.array(z.looseObject({ name: z.string(), enabled: z.optional(z.boolean()) }))),
  hostname: z.optional(z.string()),
  os: z.optional(guestOSInfoSchema),
  /** e.g. `UTC, 0` */
  timezone: z.optional(z.string()),
  userList: z.optional(z.array(guestOSUserSchema)),
  fsInfo: z.optional(z.looseObject({ disks: z.nullable(z.array(fileSystemSchema)) })),
  fsFreezeStatus: z.optional(z.string()),
});

const listMeta = () => z.optional(opaque());

export const guestOSUserListSchema = z.looseObject({
  kind: z.optional(z.string()),
  apiVersion: z.optional(z.string()),
  metadata: listMeta(),
  items: z.nullable(z.array(guestOSUserSchema)),
});

export const fileSystemListSchema = z.looseObject({
  kind: z.optional(z.string()),
  apiVersion: z.optional(z.string()),
  metadata: listMeta(),
  items: z.nullable(z.array(fileSystemSchema)),
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
  return parseWith(z.nullable(z.array(guestOSUserSchema)), json, 'VirtualMachineInstanceGuestOSUser list');
}

/** The launcher sends a bare array of filesystems; the handler serves it wrapped as a list. */
export function parseFileSystems(json: unknown): VirtualMachineInstanceFileSystem[] | null {
  return parseWith(z.nullable(z.array(fileSystemSchema)), json, 'VirtualMachineInstanceFileSystem list');
}

/** A domain's OSInfo as VirtualMachineInstanceGuestOSInfo: every field omitempty, as Go writes it. */
export function vmiGuestOSInfo(os: GuestOSInfo): VirtualMachineInstanceGuestOSInfo {
  const fields = {
    name: os.Name,
    kernelRelease: os.KernelRelease,
    version: os.Version,
    prettyName: os.PrettyName,
    versionId: os.VersionId,
    kernelVersion: os.KernelVersion,
    machine: os.Machine,
    id: os.Id,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ''));
}
