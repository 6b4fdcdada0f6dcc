// KubeVirt's ConverterContext, reduced to what this converter reads: where the pod's directories
// are and the handful of cluster options virt-handler sends with SyncVirtualMachine.

/** cmdv1.SMBios: the cluster's SMBIOS system entries. */
export interface SMBios {
  manufacturer: string;
  product: string;
  version: string;
  sku: string;
  family: string;
}

export interface ConverterContext {
  /**
   * Software emulation (`<domain type='qemu'>`), else `kvm`. Decided by the caller from the cluster's
   * useEmulation option, never from /dev/kvm: on these machines KVM opens but does not run guests.
   */
  useEmulation: boolean;
  virtShareDir: string;
  /** `/var/run/kubevirt-private`: serial console and VNC sockets under `<privateDir>/<vmiUID>/` */
  privateDir: string;
  /** `/var/run/kubevirt/container-disks`: the images container disks bring, `disk_<volumeIndex>.img` */
  containerDiskDir: string;
  /** `/var/run/kubevirt-ephemeral-disks`: overlays and the cloud-init ISO */
  ephemeralDiskDir: string;
  /** Where empty disks go; KubeVirt's is fixed at `/var/run/libvirt/empty-disks`. */
  emptyDiskDir?: string;
  /**
   * Pins `<emulator>`. KubeVirt leaves it to libvirt for a guest of the host's architecture (libvirt
   * then writes its default, /usr/bin/qemu-system-x86_64, into the live XML); unset keeps that.
   */
  emulatorPath?: string;
  /** The cluster's SMBIOS; KubeVirt's default configuration when unset (KubeVirt/None/KubeVirt). */
  smbios?: SMBios;
  /** Memory balloon statistics period in seconds; KubeVirt's default 10 when unset, 0 for none. */
  memBalloonStatsPeriod?: number;
  /** Only amd64 is supported. */
  architecture?: 'amd64';
  /**
   * Image format of each container disk, by volume name (KubeVirt's DisksInfo from the handler);
   * `raw` when absent, which is also what the overlay must be created with.
   */
  disksInfo?: Readonly<Record<string, { format: string }>>;
  /** The cluster's DisableSerialConsoleLog; KubeVirt's default configuration sets it (true). */
  serialConsoleLogDisabled?: boolean;
  /** The cluster's DisableFreePageReporting; unset in KubeVirt's default configuration (false). */
  freePageReportingDisabled?: boolean;
  /**
   * VirtualMachineOptions.interfaceDomainAttachment from the handler: interface name → `tap` when the
   * handler's phase 1 prepared a tap device for it. Unset: no pod network setup was done.
   */
  interfaceDomainAttachment?: Readonly<Record<string, string>>;
}

/** A context with every optional field at KubeVirt's default. */
export type ResolvedContext = Required<Omit<ConverterContext, 'emulatorPath' | 'interfaceDomainAttachment'>> &
  Pick<ConverterContext, 'emulatorPath' | 'interfaceDomainAttachment'>;

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
    smbios: ctx.smbios ?? DefaultSMBios,
    memBalloonStatsPeriod: ctx.memBalloonStatsPeriod ?? DefaultMemBalloonStatsPeriod,
    architecture: ctx.architecture ?? 'amd64',
    disksInfo: ctx.disksInfo ?? {},
    serialConsoleLogDisabled: ctx.serialConsoleLogDisabled ?? true,
    freePageReportingDisabled: ctx.freePageReportingDisabled ?? false,
  };
}
