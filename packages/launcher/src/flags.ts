// cmd/virt-launcher's command line and environment: every flag KubeVirt's launcher defines, with its
// name, type and default, and the environment virt-controller renders into the compute container.
import * as z from 'zod/mini';
import { ContainerDiskDir, EphemeralDiskDir, HotplugDiskDir, VirtShareDir, goDuration } from '@kubevirt-ts/shared';

/** v1.KvmHypervisorName / v1.HyperVDirectHypervisorName */
export const KVM_HYPERVISOR = 'kvm';
export const HYPERV_DIRECT_HYPERVISOR = 'hyperv-direct';

const flag = {
  string: (value: string, description: string) => z._default(z.string(), value).check(z.describe(description)),
  bool: (description: string) => z._default(z.coerce.boolean(), false).check(z.describe(description)),
};

export const launcherFlags = z.object({
  'qemu-timeout': z.prefault(goDuration(), '3m').check(z.describe('Amount of time to wait for qemu')),
  'kubevirt-share-dir': flag.string(VirtShareDir, 'Shared directory between virt-handler and virt-launcher'),
  'ephemeral-disk-dir': flag.string(EphemeralDiskDir, 'Base directory for ephemeral disk data'),
  'container-disk-dir': flag.string(ContainerDiskDir, 'Base directory for container disk data'),
  'hotplug-disk-dir': flag.string(HotplugDiskDir, 'Base directory for hotplug disk data'),
  name: z.string().check(z.minLength(1), z.describe('Name of the VirtualMachineInstance')),
  uid: z.string().check(z.minLength(1), z.describe('UID of the VirtualMachineInstance')),
  namespace: z.string().check(z.minLength(1), z.describe('Namespace of the VirtualMachineInstance')),
  'grace-period-seconds': z
    ._default(z.coerce.number().check(z.int(), z.gte(0)), 30)
    .check(z.describe('Grace period to observe before sending SIGTERM to vmi process')),
  'allow-emulation': flag.bool('Allow use of software emulation as fallback'),
  'allow-cross-arch-emulation': flag.bool('Allow cross-architecture software emulation via QEMU TCG'),
  'run-as-nonroot': flag.bool("Run virtqemud with the 'virt' user"),
  'image-volume': flag.bool('Generated with ImageVolume instead of containerDisk'),
  'upgrade-ordinal-ifaces': flag.bool('Enable upgrade of ordinal ifaces naming scheme'),
  'vgpu-dedicated-hook': flag.bool('Enable target mdev UUID mutation for vGPU live migration'),
  'vm-stats-collector': flag.bool('Enable additional guest agent polling workers for VMStats monitoring data collection'),
  'firmware-auto-selection': flag.bool('Use libvirt firmware auto-selection for EFI Secure Boot'),
  'hook-sidecars': z
    ._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(0xffff_ffff)), 0)
    .check(z.describe('Number of requested hook sidecars, virt-launcher will wait for all of them to become available')),
  'disk-memory-limit': z
    ._default(z.coerce.number().check(z.int()), 2000 * 1024 * 1024)
    .check(z.describe('Memory limit for disk verification')),
  'ovmf-path': flag.string('/usr/share/edk2/ovmf', 'The directory that contains the EFI roms (like OVMF_CODE.fd)'),
  'qemu-agent-sys-interval': z
    .prefault(goDuration(), '120s')
    .check(z.describe('Interval between consecutive qemu agent calls for sys commands')),
  'qemu-agent-file-interval': z
    .prefault(goDuration(), '300s')
    .check(z.describe('Interval between consecutive qemu agent calls for file command')),
  'qemu-agent-user-interval': z
    .prefault(goDuration(), '10s')
    .check(z.describe('Interval between consecutive qemu agent calls for user command')),
  'qemu-agent-version-interval': z
    .prefault(goDuration(), '300s')
    .check(z.describe('Interval between consecutive qemu agent calls for version command')),
  'qemu-fsfreeze-status-interval': z
    .prefault(goDuration(), '5s')
    .check(z.describe('Interval between consecutive qemu agent calls for fsfreeze status command')),
  'simulate-crash': flag.bool(
    'Causes virt-launcher to immediately crash. This is used by functional tests to simulate crash loop scenarios.',
  ),
  'libvirt-log-filters': flag.string('', 'Set custom log filters for libvirt'),
  hypervisor: flag.string(KVM_HYPERVISOR, 'Hypervisor to be used by the VMI'),
  // virt-launcher-monitor's flag: KubeVirt's monitor strips it before it execs the launcher; accepted here
  // so a pod that runs the launcher directly still starts (it has no meaning in the launcher itself)
  'keep-after-failure': flag.bool('virt-launcher-monitor: keep the container after a failure (no effect in virt-launcher)'),
  v: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(9)), 2).check(z.describe('log level for V logs')),
});
export type LauncherFlags = z.infer<typeof launcherFlags>;

/**
 * What the command line asks for that this launcher does not implement, one sentence per flag. The
 * process starts all the same (KubeVirt's pod must come up and answer); every Sync fails with these.
 */
export function unsupportedFeatures(f: LauncherFlags): string[] {
  const out: string[] = [];
  if (f['image-volume']) out.push('--image-volume: ImageVolume disks are not supported by this virt-launcher');
  if (f.hypervisor === HYPERV_DIRECT_HYPERVISOR) {
    out.push(`--hypervisor ${HYPERV_DIRECT_HYPERVISOR}: only the ${KVM_HYPERVISOR} hypervisor is supported by this virt-launcher`);
  }
  return out;
}

/** NewLauncherHypervisorResources(name).GetHypervisorDevice(): anything but hyperv-direct is KVM. */
export function hypervisorDevice(hypervisor: string): string {
  return hypervisor === HYPERV_DIRECT_HYPERVISOR ? '/dev/mshv' : '/dev/kvm';
}

/** The compute container's environment as virt-controller renders it (template.go, rendercontainer.go). */
export const launcherEnv = z.object({
  /** the VMI's or cluster's launcher verbosity; overrides `-v` (an integer, else a warning) */
  VIRT_LAUNCHER_LOG_VERBOSITY: z.optional(z.string()),
  /** set (to anything): libvirt logs at debug level */
  LIBVIRT_DEBUG_LOGS: z.optional(z.string()),
  /** "1": virtiofsd logs at debug level */
  VIRTIOFSD_DEBUG_LOGS: z.optional(z.string()),
  /** colon-separated paths libvirt must treat as shared between hosts (migration of shared filesystems) */
  SHARED_FILESYSTEM_PATHS: z.optional(z.string()),
  /** the pod's name (fieldRef metadata.name) */
  POD_NAME: z.optional(z.string()),
  /** non-root pods: /var/run/kubevirt-private, /var/run/kubevirt-private, /var/run */
  XDG_CACHE_HOME: z.optional(z.string().check(z.minLength(1))),
  XDG_CONFIG_HOME: z.optional(z.string().check(z.minLength(1))),
  XDG_RUNTIME_DIR: z.optional(z.string().check(z.minLength(1))),
});
export type LauncherEnv = z.infer<typeof launcherEnv>;

/** Parses the environment; a malformed variable is an error naming it. */
export function parseLauncherEnv(env: Record<string, string | undefined>): LauncherEnv {
  const result = z.safeParse(launcherEnv, env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new Error(`invalid environment variable ${String(issue?.path[0] ?? '')}: ${issue?.message ?? 'does not parse'}`);
}

/**
 * The launcher's verbosity: VIRT_LAUNCHER_LOG_VERBOSITY wins over `-v` when it is an integer, as in
 * KubeVirt's main; `warning` says why it was ignored otherwise.
 */
export function effectiveVerbosity(f: Pick<LauncherFlags, 'v'>, env: LauncherEnv): { verbosity: number; warning?: string } {
  const text = env.VIRT_LAUNCHER_LOG_VERBOSITY;
  if (text === undefined) return { verbosity: f.v };
  if (/^[+-]?\d+$/.test(text)) return { verbosity: Math.max(0, Number(text)) };
  return {
    verbosity: f.v,
    warning: `failed to set log verbosity. The value of logVerbosity label should be an integer, got ${text} instead.`,
  };
}
