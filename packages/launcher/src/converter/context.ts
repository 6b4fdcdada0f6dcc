// KubeVirt's ConverterContext, reduced to what this converter reads: where the pod's directories
// are, how the launcher was started (emulation) and the options virt-handler sends with each
// SyncVirtualMachine (see vm-options.ts).
import type { EFIEnvironment } from './efi.ts';

/** cmdv1.SMBios: the cluster's SMBIOS system entries. */
export interface SMBios {
  manufacturer: string;
  product: string;
  version: string;
  sku: string;
  family: string;
}

/** cmdv1.Topology: the host's NUMA cells, as virt-handler reads them from libvirt's capabilities. */
export interface Topology {
  numa_cells: readonly unknown[];
}

export interface ConverterContext {
  /** `--allow-emulation`: software emulation (`<domain type='qemu'>`) when the hypervisor device is missing. */
  allowEmulation: boolean;
  /** Whether the hypervisor's device (/dev/kvm) exists in the launcher's mount namespace, checked at start. */
  hypervisorDeviceAvailable: boolean;
  virtShareDir: string;
  /** `/var/run/kubevirt-private`: serial console and VNC sockets under `<privateDir>/<vmiUID>/` */
  privateDir: string;
  /** `/var/run/kubevirt/container-disks`: the images container disks bring, `disk_<volumeIndex>.img` */
  containerDiskDir: string;
  /** `/var/run/kubevirt-ephemeral-disks`: overlays and the cloud-init ISO */
  ephemeralDiskDir: string;
  /** config.SecretSourceDir: where the access credentials' secrets are mounted (a test puts them elsewhere). */
  secretSourceDir?: string;
  /** Where empty disks go; KubeVirt's is fixed at `/var/run/libvirt/empty-disks`. */
  emptyDiskDir?: string;
  /**
   * Pins `<emulator>`. KubeVirt leaves it to libvirt for a guest of the host's architecture (libvirt
   * then writes its default, /usr/bin/qemu-system-x86_64, into the live XML); unset keeps that.
   */
  emulatorPath?: string;
  /**
   * The cluster's SMBIOS; KubeVirt's default configuration when unset (KubeVirt/None/KubeVirt), no
   * system entries besides the firmware's when null (a Sync without options, as KubeVirt's launcher).
   */
  smbios?: SMBios | null;
  /** Memory balloon statistics period in seconds; KubeVirt's default 10 when unset, 0 for none. */
  memBalloonStatsPeriod?: number;
  /** The handler's PreallocatedVolumes: disks that get no `discard='unmap'` (VolumesDiscardIgnore). */
  preallocatedVolumes?: readonly string[];
  /** The host's NUMA topology from the handler; only dedicated-CPU VMIs (not supported here) read it. */
  topology?: Topology | null;
  /** The cluster's BochsDisplayForEFIGuests: a bochs display instead of VGA for EFI guests. */
  bochsForEFIGuests?: boolean;
  /**
   * The handler's interfaceDomainAttachment: per interface name, how it reaches the domain (`tap` when
   * its phase 1 prepared a tap device; none: no pod network setup was done, qemu user-mode networking).
   */
  domainAttachmentByInterfaceName?: Readonly<Record<string, string>>;
  /** Only amd64 is supported. */
  architecture?: 'amd64';
  /**
   * Image format of each container disk, by volume name: KubeVirt's DisksInfo, which the launcher fills
   * itself by inspecting each image (disk-info.ts; the handler's is ignored). A container disk missing
   * from it fails the conversion.
   */
  disksInfo?: Readonly<Record<string, { format: string }>>;
  /** The cluster's DisableSerialConsoleLog; KubeVirt's default configuration sets it (true). */
  serialConsoleLogDisabled?: boolean;
  /** KubeVirt's IsBlockPVC: PVC volumes whose claim is a block device (`/dev/<volume>`), not a file system. */
  isBlockPVC?: Readonly<Record<string, boolean>>;
  /** KubeVirt's IsBlockDV: the same for DataVolume volumes. */
  isBlockDV?: Readonly<Record<string, boolean>>;
  /** The EFI roms found under --ovmf-path (detectEFIEnvironment); none when unset: EFI VMIs fail. */
  efiEnvironment?: EFIEnvironment | null;
  /** The pod's exclusive host CPUs (its cgroup cpuset), read by the launcher for dedicatedCpuPlacement. */
  cpuSet?: readonly number[];
  /** The cluster's DisableFreePageReporting; unset in KubeVirt's default configuration (false). */
  freePageReportingDisabled?: boolean;
}

/** A context with every optional field at KubeVirt's default. */
export type ResolvedContext = Required<Omit<ConverterContext, 'emulatorPath' | 'secretSourceDir'>> &
  Pick<ConverterContext, 'emulatorPath' | 'secretSourceDir'>;

export const DefaultEmptyDiskDir = '/var/run/libvirt/empty-disks';
/** virtconfig.DefaultMemBalloonStatsPeriod */
export const DefaultMemBalloonStatsPeriod = 10;
/** virtconfig.SmbiosConfigDefault* */
export const DefaultSMBios: SMBios = {
  manufacturer: 'KubeVirt',
  product: 'None',
  version: '',
  sku: '',
  family: 'KubeVirt',
};

export function resolveContext(ctx: ConverterContext): ResolvedContext {
  return {
    ...ctx,
    emptyDiskDir: ctx.emptyDiskDir ?? DefaultEmptyDiskDir,
    smbios: ctx.smbios === undefined ? DefaultSMBios : ctx.smbios,
    memBalloonStatsPeriod: ctx.memBalloonStatsPeriod ?? DefaultMemBalloonStatsPeriod,
    architecture: ctx.architecture ?? 'amd64',
    disksInfo: ctx.disksInfo ?? {},
    serialConsoleLogDisabled: ctx.serialConsoleLogDisabled ?? true,
    freePageReportingDisabled: ctx.freePageReportingDisabled ?? false,
    isBlockPVC: ctx.isBlockPVC ?? {},
    cpuSet: ctx.cpuSet ?? [],
    efiEnvironment: ctx.efiEnvironment ?? null,
    isBlockDV: ctx.isBlockDV ?? {},
    preallocatedVolumes: ctx.preallocatedVolumes ?? [],
    topology: ctx.topology ?? null,
    bochsForEFIGuests: ctx.bochsForEFIGuests ?? false,
    domainAttachmentByInterfaceName: ctx.domainAttachmentByInterfaceName ?? {},
  };
}
