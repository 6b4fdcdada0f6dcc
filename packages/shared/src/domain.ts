// KubeVirt's api.Domain (pkg/virt-launcher/virtwrap/api/schema.go) as JSON: what travels in notify
// events and GetDomain. Only ObjectMeta has json tags, so every other key is the Go field name and
// nothing is omitted. The schema carries Go's zero values as defaults: parsing fills every missing
// key the way Go's decoder leaves it (pointers, slices and maps null; strings ""; numbers 0).
import * as z from 'zod/mini';
import { objectMetaShape, timeSchema } from './meta.ts';
import { openEnum, parseWith, type Known } from './validation.ts';

export const DomainKind = 'Domain';
export const DomainAPIVersion = '1.2.2';

// --- LifeCycle and StateChangeReason ------------------------------------------------------------

export const LifeCycle = {
  NoState: 'NoState',
  Running: 'Running',
  Blocked: 'Blocked',
  Paused: 'Paused',
  /** KubeVirt's api.Shutdown; libvirt's SHUTDOWN state is "being shut down". */
  Shutdown: 'ShuttingDown',
  Shutoff: 'Shutoff',
  Crashed: 'Crashed',
  PMSuspended: 'PMSuspended',
  /** Set by virt-handler only, for a launcher it cannot reach; its sync loop skips such domains. */
  Unknown: 'Unknown',
} as const;
export type LifeCycle = (typeof LifeCycle)[keyof typeof LifeCycle];

export const StateChangeReason = {
  Unknown: 'Unknown',
  // ShuttingDown
  User: 'User',
  // Shutoff
  Shutdown: 'Shutdown',
  Destroyed: 'Destroyed',
  Migrated: 'Migrated',
  Crashed: 'Crashed',
  Saved: 'Saved',
  Failed: 'Failed',
  FromSnapshot: 'FromSnapshot',
  // Crashed
  Panicked: 'Panicked',
  // NoState: the domain is gone
  NonExistent: 'NonExistent',
  // Paused (plus Unknown, User, FromSnapshot, Crashed above)
  Migration: 'Migration',
  Save: 'Save',
  Dump: 'Dump',
  IOError: 'IOError',
  Watchdog: 'Watchdog',
  ShuttingDown: 'ShuttingDown',
  Snapshot: 'Snapshot',
  StartingUp: 'StartingUp',
  Postcopy: 'Postcopy',
  PostcopyFailed: 'PostcopyFailed',
} as const;
export type StateChangeReason = (typeof StateChangeReason)[keyof typeof StateChangeReason];

export const FSFrozen = 'frozen';
export const FSThawed = 'thawed';

/** k8s watch.EventType, the `eventType` of a DomainEventRequest. */
export const WatchEventType = { Added: 'ADDED', Modified: 'MODIFIED', Deleted: 'DELETED', Error: 'ERROR' } as const;
export type WatchEventType = (typeof WatchEventType)[keyof typeof WatchEventType];

// --- libvirt state → LifeCycle / StateChangeReason (virtwrap/util ConvState, ConvReason) -------

/** virDomainState */
export const LifeCycleTranslationMap: Readonly<Record<number, LifeCycle>> = {
  0: LifeCycle.NoState, // VIR_DOMAIN_NOSTATE
  1: LifeCycle.Running, // VIR_DOMAIN_RUNNING
  2: LifeCycle.Blocked, // VIR_DOMAIN_BLOCKED
  3: LifeCycle.Paused, // VIR_DOMAIN_PAUSED
  4: LifeCycle.Shutdown, // VIR_DOMAIN_SHUTDOWN
  5: LifeCycle.Shutoff, // VIR_DOMAIN_SHUTOFF
  6: LifeCycle.Crashed, // VIR_DOMAIN_CRASHED
  7: LifeCycle.PMSuspended, // VIR_DOMAIN_PMSUSPENDED
};

/** virDomainShutdownReason */
export const ShutdownReasonTranslationMap: Readonly<Record<number, StateChangeReason>> = {
  0: StateChangeReason.Unknown, // VIR_DOMAIN_SHUTDOWN_UNKNOWN
  1: StateChangeReason.User, // VIR_DOMAIN_SHUTDOWN_USER
};

/** virDomainShutoffReason (DAEMON = 8 is not translated, as in KubeVirt) */
export const ShutoffReasonTranslationMap: Readonly<Record<number, StateChangeReason>> = {
  0: StateChangeReason.Unknown, // VIR_DOMAIN_SHUTOFF_UNKNOWN
  1: StateChangeReason.Shutdown, // VIR_DOMAIN_SHUTOFF_SHUTDOWN
  2: StateChangeReason.Destroyed, // VIR_DOMAIN_SHUTOFF_DESTROYED
  3: StateChangeReason.Crashed, // VIR_DOMAIN_SHUTOFF_CRASHED
  4: StateChangeReason.Migrated, // VIR_DOMAIN_SHUTOFF_MIGRATED
  5: StateChangeReason.Saved, // VIR_DOMAIN_SHUTOFF_SAVED
  6: StateChangeReason.Failed, // VIR_DOMAIN_SHUTOFF_FAILED
  7: StateChangeReason.FromSnapshot, // VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT
};

/** virDomainCrashedReason */
export const CrashedReasonTranslationMap: Readonly<Record<number, StateChangeReason>> = {
  0: StateChangeReason.Unknown, // VIR_DOMAIN_CRASHED_UNKNOWN
  1: StateChangeReason.Panicked, // VIR_DOMAIN_CRASHED_PANICKED
};

/** virDomainPausedReason (API_ERROR = 14 is not translated, as in KubeVirt) */
export const PausedReasonTranslationMap: Readonly<Record<number, StateChangeReason>> = {
  0: StateChangeReason.Unknown, // VIR_DOMAIN_PAUSED_UNKNOWN
  1: StateChangeReason.User, // VIR_DOMAIN_PAUSED_USER
  2: StateChangeReason.Migration, // VIR_DOMAIN_PAUSED_MIGRATION
  3: StateChangeReason.Save, // VIR_DOMAIN_PAUSED_SAVE
  4: StateChangeReason.Dump, // VIR_DOMAIN_PAUSED_DUMP
  5: StateChangeReason.IOError, // VIR_DOMAIN_PAUSED_IOERROR
  6: StateChangeReason.Watchdog, // VIR_DOMAIN_PAUSED_WATCHDOG
  7: StateChangeReason.FromSnapshot, // VIR_DOMAIN_PAUSED_FROM_SNAPSHOT
  8: StateChangeReason.ShuttingDown, // VIR_DOMAIN_PAUSED_SHUTTING_DOWN
  9: StateChangeReason.Snapshot, // VIR_DOMAIN_PAUSED_SNAPSHOT
  10: StateChangeReason.Crashed, // VIR_DOMAIN_PAUSED_CRASHED
  11: StateChangeReason.StartingUp, // VIR_DOMAIN_PAUSED_STARTING_UP
  12: StateChangeReason.Postcopy, // VIR_DOMAIN_PAUSED_POSTCOPY
  13: StateChangeReason.PostcopyFailed, // VIR_DOMAIN_PAUSED_POSTCOPY_FAILED
};

const reasonTables: Readonly<Record<number, Readonly<Record<number, StateChangeReason>>>> = {
  3: PausedReasonTranslationMap,
  4: ShutdownReasonTranslationMap,
  5: ShutoffReasonTranslationMap,
  6: CrashedReasonTranslationMap,
};

/** ConvState. A state missing from the table gives "", as a Go map lookup does. */
export function convState(state: number): LifeCycle | '' {
  return LifeCycleTranslationMap[state] ?? '';
}

/**
 * ConvReason. Only PAUSED, SHUTDOWN, SHUTOFF and CRASHED reasons are translated; every other state
 * (RUNNING included, whatever its reason) gives Unknown; an untranslated reason of those four gives "".
 */
export function convReason(state: number, reason: number): StateChangeReason | '' {
  const table = reasonTables[state];
  return table === undefined ? StateChangeReason.Unknown : (table[reason] ?? '');
}

/** Status.Status and Status.Reason for a libvirt (state, reason) pair: `Object.assign(domain.Status, …)`. */
export function lifeCycleFromLibvirt(state: number, reason: number): { Status: LifeCycle | ''; Reason: StateChangeReason | '' } {
  return { Status: convState(state), Reason: convReason(state, reason) };
}

// --- domain names -------------------------------------------------------------------------------

/** `<namespace>_<name>`, the libvirt domain name of a VMI (VMINamespaceKeyFunc). */
export function vmiNameToDomainName(namespace: string, name: string): string {
  return `${namespace}_${name}`;
}

/** SplitVMINamespaceKey: splits at the first `_`; a name without one is in namespace `default`. */
export function domainNameToVMI(domainName: string): { namespace: string; name: string } {
  const at = domainName.indexOf('_');
  if (at === -1) return { namespace: 'default', name: domainName };
  return { namespace: domainName.slice(0, at), name: domainName.slice(at + 1) };
}

// --- Go zero values -----------------------------------------------------------------------------

const str = () => z._default(z.string(), '');
const uint = () => z._default(z.int().check(z.nonnegative()), 0);
const int = () => z._default(z.int(), 0);
const bool = () => z._default(z.boolean(), false);
/** *T, []T and map fields: null when absent */
const ptr = <T extends z.core.$ZodType>(schema: T) => z._default(z.nullable(schema), null);
const list = <T extends z.core.$ZodType>(item: T) => z._default(z.nullable(z.array(item)), null);
/** a pointer to a struct we keep whole but do not model */
const opaque = () => z._default(z.nullable(z.looseObject({})), null);
/**
 * A value (non-pointer) struct: always present, its own fields at their zero values. (`{}` is a valid
 * input for every shape built from the helpers above; TypeScript cannot see that for a generic shape.)
 */
const struct = <S extends z.core.$ZodLooseShape>(shape: S) => z.prefault(z.looseObject(shape), {} as never);

// --- Spec ---------------------------------------------------------------------------------------

const memoryShape = { Value: uint(), Unit: str() };

/** Alias marshals through its own JSON: `{"Name": "...", "UserDefined": bool}`. */
const aliasSchema = z.looseObject({ Name: str(), UserDefined: bool() });

const addressSchema = z.looseObject({
  Type: str(),
  Domain: str(),
  Bus: str(),
  Slot: str(),
  Function: str(),
  Controller: str(),
  Target: str(),
  Unit: str(),
  UUID: str(),
  Device: str(),
  CSSID: str(),
  SSID: str(),
  DevNo: str(),
});

const bootOrderSchema = z.looseObject({ Order: uint() });

const interfaceSchema = z.looseObject({
  XMLName: struct({ Space: str(), Local: str() }),
  Address: ptr(addressSchema),
  Type: str(),
  TrustGuestRxFilters: str(),
  Source: struct({ Network: str(), Device: str(), Bridge: str(), Mode: str(), Address: ptr(addressSchema) }),
  Target: ptr(z.looseObject({ Device: str(), Managed: str() })),
  Model: ptr(z.looseObject({ Type: str() })),
  MAC: ptr(z.looseObject({ MAC: str() })),
  MTU: ptr(z.looseObject({ Size: str() })),
  BandWidth: opaque(),
  BootOrder: ptr(bootOrderSchema),
  LinkState: ptr(z.looseObject({ State: str() })),
  FilterRef: ptr(z.looseObject({ Filter: str() })),
  Alias: ptr(aliasSchema),
  Driver: ptr(z.looseObject({ Name: str(), Queues: ptr(z.int().check(z.nonnegative())), IOMMU: str() })),
  Rom: ptr(z.looseObject({ Enabled: str() })),
  ACPI: ptr(z.looseObject({ Index: uint() })),
  Backend: ptr(z.looseObject({ Type: str(), LogFile: str() })),
  PortForward: list(z.looseObject({})),
});

const channelSchema = z.looseObject({
  Type: str(),
  Source: ptr(z.looseObject({ Mode: str(), Path: str() })),
  /** the guest agent channel is Name `org.qemu.guest_agent.0`, State `connected`/`disconnected` */
  Target: ptr(z.looseObject({ Name: str(), Type: str(), Address: str(), Port: uint(), State: str() })),
});

const diskSchema = z.looseObject({
  Device: str(),
  Snapshot: str(),
  Type: str(),
  Source: struct({
    Dev: str(),
    File: str(),
    StartupPolicy: str(),
    Protocol: str(),
    Name: str(),
    Host: opaque(),
    Reservations: opaque(),
    Slices: list(z.looseObject({})),
    DataStore: opaque(),
  }),
  Target: struct({ Bus: str(), Device: str(), Tray: str() }),
  Serial: str(),
  Driver: ptr(
    z.looseObject({
      Cache: str(),
      ErrorPolicy: str(),
      IO: str(),
      Name: str(),
      Type: str(),
      IOThread: ptr(z.int().check(z.nonnegative())),
      IOThreads: opaque(),
      Queues: ptr(z.int().check(z.nonnegative())),
      Discard: str(),
      IOMMU: str(),
    }),
  ),
  ReadOnly: opaque(),
  Auth: opaque(),
  Alias: ptr(aliasSchema),
  BackingStore: opaque(),
  BootOrder: ptr(bootOrderSchema),
  Address: ptr(addressSchema),
  Model: str(),
  BlockIO: opaque(),
  FilesystemOverhead: ptr(z.string()),
  Capacity: ptr(z.int()),
  ExpandDisksEnabled: bool(),
  Shareable: opaque(),
});

const devicesShape = {
  Emulator: str(),
  Interfaces: list(interfaceSchema),
  Channels: list(channelSchema),
  HostDevices: list(z.looseObject({})),
  PanicDevices: list(z.looseObject({})),
  Controllers: list(z.looseObject({})),
  Video: list(z.looseObject({})),
  Graphics: list(z.looseObject({})),
  Ballooning: opaque(),
  Disks: list(diskSchema),
  Inputs: list(z.looseObject({})),
  Serials: list(z.looseObject({})),
  Consoles: list(z.looseObject({})),
  Watchdogs: list(z.looseObject({})),
  Rng: opaque(),
  Filesystems: list(z.looseObject({})),
  Redirs: list(z.looseObject({})),
  SoundCards: list(z.looseObject({})),
  TPMs: list(z.looseObject({})),
  VSOCK: opaque(),
  Memory: opaque(),
  IOMMU: opaque(),
};

const osShape = {
  Firmware: str(),
  FirmwareInfo: opaque(),
  Type: struct({ OS: str(), Arch: str(), Machine: str() }),
  ACPI: opaque(),
  SMBios: ptr(z.looseObject({ Mode: str() })),
  BootOrder: list(z.looseObject({ Dev: str() })),
  BootMenu: opaque(),
  BIOS: ptr(z.looseObject({ UseSerial: str() })),
  BootLoader: ptr(z.looseObject({ ReadOnly: str(), Secure: str(), Type: str(), Path: str() })),
  NVRam: ptr(z.looseObject({ Template: str(), Format: str(), NVRam: str() })),
  Kernel: str(),
  Initrd: str(),
  KernelArgs: str(),
};

const featureStateSchema = z.looseObject({ State: str() });

const featuresSchema = z.looseObject({
  ACPI: opaque(),
  APIC: opaque(),
  Hyperv: opaque(),
  SMM: opaque(),
  KVM: opaque(),
  PVSpinlock: ptr(featureStateSchema),
  PMU: ptr(featureStateSchema),
  VMPort: ptr(featureStateSchema),
});

const kubeVirtMetadataShape = {
  UID: str(),
  GracePeriod: ptr(
    z.looseObject({
      DeletionGracePeriodSeconds: int(),
      DeletionTimestamp: ptr(timeSchema),
      MarkedForGracefulShutdown: ptr(z.boolean()),
    }),
  ),
  Migration: ptr(
    z.looseObject({
      UID: str(),
      StartTimestamp: ptr(timeSchema),
      EndTimestamp: ptr(timeSchema),
      Failed: bool(),
      FailureReason: str(),
      AbortStatus: str(),
      Mode: str(),
    }),
  ),
  Backup: opaque(),
  AccessCredential: ptr(z.looseObject({ Succeeded: bool(), Message: str() })),
  MemoryDump: ptr(
    z.looseObject({
      FileName: str(),
      StartTimestamp: ptr(timeSchema),
      EndTimestamp: ptr(timeSchema),
      Completed: bool(),
      Failed: bool(),
      FailureReason: str(),
    }),
  ),
};

const cpuShape = {
  Mode: str(),
  Model: str(),
  Features: list(z.looseObject({ Name: str(), Policy: str() })),
  Topology: ptr(z.looseObject({ Sockets: uint(), Cores: uint(), Threads: uint() })),
  NUMA: opaque(),
};

const domainSpecSchema = z.looseObject({
  XMLName: struct({ Space: str(), Local: str() }),
  Type: str(),
  XmlNS: str(),
  /** `<namespace>_<name>` */
  Name: str(),
  UUID: str(),
  Memory: struct(memoryShape),
  CurrentMemory: ptr(z.looseObject(memoryShape)),
  MaxMemory: ptr(z.looseObject({ ...memoryShape, Slots: uint() })),
  MemoryBacking: opaque(),
  OS: struct(osShape),
  SysInfo: opaque(),
  Devices: struct(devicesShape),
  Clock: opaque(),
  Resource: ptr(z.looseObject({ Partition: str() })),
  QEMUCmd: opaque(),
  Metadata: struct({ KubeVirt: struct(kubeVirtMetadataShape) }),
  Features: ptr(featuresSchema),
  CPU: struct(cpuShape),
  VCPU: ptr(z.looseObject({ Placement: str(), CPUs: uint() })),
  VCPUs: opaque(),
  CPUTune: opaque(),
  NUMATune: opaque(),
  IOThreads: ptr(z.looseObject({ IOThreads: uint() })),
  LaunchSecurity: opaque(),
  OnReboot: str(),
  IOMMUFD: opaque(),
});

// --- Status -------------------------------------------------------------------------------------

const interfaceStatusSchema = z.looseObject({
  Mac: str(),
  Ip: str(),
  IPs: list(z.string()),
  InterfaceName: str(),
});

const guestOSInfoShape = {
  Name: str(),
  KernelRelease: str(),
  Version: str(),
  PrettyName: str(),
  VersionId: str(),
  KernelVersion: str(),
  Machine: str(),
  Id: str(),
};

const domainStatusSchema = z.looseObject({
  Status: z._default(openEnum(Object.values(LifeCycle)), ''),
  Reason: z._default(openEnum(Object.values(StateChangeReason)), ''),
  Interfaces: list(interfaceStatusSchema),
  OSInfo: struct(guestOSInfoShape),
  /** "", `frozen` or `thawed` */
  FSFreezeStatus: struct({ Status: str() }),
  GuestPanicInfo: ptr(z.looseObject({ Type: str(), Arg1: uint(), Arg2: uint(), Arg3: uint(), Arg4: uint(), Arg5: uint() })),
  PanicCount: int(),
});

// --- the Domain ---------------------------------------------------------------------------------

export const domainSchema = z.looseObject({
  // TypeMeta is embedded without a tag: kind/apiVersion sit at the top and are omitempty
  kind: z.optional(z.string()),
  apiVersion: z.optional(z.string()),
  ObjectMeta: z.prefault(z.looseObject({ ...objectMetaShape, creationTimestamp: z._default(z.nullable(timeSchema), null) }), {}),
  Spec: z.prefault(domainSpecSchema, {}),
  Status: z.prefault(domainStatusSchema, {}),
});

/** A Domain with every key Go emits. */
export type Domain = Known<z.output<typeof domainSchema>>;
/** A Domain as one may write it: any subset of the keys; the rest take Go's zero values. */
export type DomainInput = z.input<typeof domainSchema>;
export type DomainStatus = Domain['Status'];
export type DomainInterface = Known<z.output<typeof interfaceSchema>>;
export type DomainChannel = Known<z.output<typeof channelSchema>>;
export type DomainDisk = Known<z.output<typeof diskSchema>>;
/** api.InterfaceStatus, an item of Status.Interfaces */
export type InterfaceStatus = Known<z.output<typeof interfaceStatusSchema>>;
/** api.GuestOSInfo, Status.OSInfo */
export type GuestOSInfo = Domain['Status']['OSInfo'];
/** api.FSFreeze, Status.FSFreezeStatus */
export type FSFreeze = Domain['Status']['FSFreezeStatus'];
export type KubeVirtMetadata = Domain['Spec']['Metadata']['KubeVirt'];

/**
 * A Domain from the wire (JSON text or bytes) or a DomainInput. Keys are case-sensitive, as with
 * apimachinery's json: `"spec"` is not `Spec` (it is kept as an unknown key, and Spec is zero).
 */
export function parseDomain(json: unknown): Domain {
  return parseWith(domainSchema, json, 'Domain');
}

/** The launcher's NewDomainFromName: a zero Domain naming the VMI, its UID in ObjectMeta and Spec.Metadata. */
export function newDomain(vmi: { name: string; namespace: string; uid: string }): Domain {
  return parseDomain({
    kind: DomainKind,
    apiVersion: DomainAPIVersion,
    ObjectMeta: { name: vmi.name, namespace: vmi.namespace, uid: vmi.uid },
    Spec: { Metadata: { KubeVirt: { UID: vmi.uid } } },
  } satisfies DomainInput);
}

/** Go's encoding: every key present, zero values included. */
export function domainToJSON(domain: Domain | DomainInput): string {
  return JSON.stringify(parseDomain(domain));
}
