// Where KubeVirt's launcher finds each kind of volume in its pod (pkg/storage/types volumepath,
// pkg/host-disk, pkg/config): PVC and DataVolume images or device nodes, host disks, and the ISOs
// built from configMap, secret, service account and downward API mounts.
import { posix } from 'node:path';
import { HotplugDiskDir, type Volume } from '@kubevirt-ts/shared';
import type { ConverterContext } from './context.ts';

type Dirs = Pick<ConverterContext, 'privateDir'>;

/** volumepath.Filesystem: a filesystem PVC's image, `<private>/vmi-disks/<volume>/disk.img`. */
export function filesystemVolumePath(volumeName: string, ctx: Dirs): string {
  return posix.join(ctx.privateDir, 'vmi-disks', volumeName, 'disk.img');
}

/** volumepath.BlockDevice: a block PVC's device node, `/dev/<volume>`. */
export function blockVolumePath(volumeName: string): string {
  return posix.join('/dev', volumeName);
}

/** volumepath.HotplugFilesystem: the image virt-handler bind-mounted into the pod, `/var/run/kubevirt/hotplug-disks/<volume>.img`. */
export function hotplugFilesystemPath(volumeName: string): string {
  return posix.join(HotplugDiskDir, `${volumeName}.img`);
}

/** volumepath.HotplugBlockDevice: the device node virt-handler made in the pod, `/var/run/kubevirt/hotplug-disks/<volume>`. */
export function hotplugBlockDevicePath(volumeName: string): string {
  return posix.join(HotplugDiskDir, volumeName);
}

/** disksource.IsHotplugDisk: a disk whose source is in the hotplug-disks directory. */
export function isHotplugDiskSource(sourcePath: string): boolean {
  return sourcePath.startsWith(`${HotplugDiskDir}/`);
}

/** hostdisk.GetMountedHostDiskPath: the host's directory is mounted at `<private>/vmi-disks/<volume>/`. */
export function hostDiskPath(volumeName: string, hostPath: string, ctx: Dirs): string {
  return posix.join(ctx.privateDir, 'vmi-disks', volumeName, posix.basename(hostPath));
}

/** config.DownwardMetricDisk: the downwardMetrics volume's vhostmd disk, `<private>/downwardapi-disks/vhostmd0`. */
export function downwardMetricDiskPath(ctx: Dirs): string {
  return posix.join(ctx.privateDir, 'downwardapi-disks', 'vhostmd0');
}

/** The config volume kinds KubeVirt hands the guest as an ISO of the mounted files. */
export type ConfigVolumeKind = 'configMap' | 'secret' | 'serviceAccount' | 'downwardAPI' | 'sysprep';

/** config.ServiceAccountSourceDir: the pod's own service account mount. */
export const ServiceAccountSourceDir = '/var/run/secrets/kubernetes.io/serviceaccount/';

const sourceDirs: Record<Exclude<ConfigVolumeKind, 'serviceAccount'>, string> = {
  configMap: 'config-map',
  secret: 'secret',
  downwardAPI: 'downwardapi',
  sysprep: 'sysprep',
};
const diskDirs: Record<ConfigVolumeKind, string> = {
  configMap: 'config-map-disks',
  secret: 'secret-disks',
  downwardAPI: 'downwardapi-disks',
  serviceAccount: 'service-account-disk',
  sysprep: 'sysprep-disks',
};

export function configVolumeKind(volume: Volume): ConfigVolumeKind | undefined {
  if (volume.configMap) return 'configMap';
  if (volume.secret) return 'secret';
  if (volume.serviceAccount) return 'serviceAccount';
  if (volume.downwardAPI) return 'downwardAPI';
  if (volume.sysprep) return 'sysprep';
  return undefined;
}

/** config.*SourceDir: where the pod mounts the volume's files. */
export function configSourceDir(kind: ConfigVolumeKind, volumeName: string, ctx: Dirs): string {
  if (kind === 'serviceAccount') return ServiceAccountSourceDir;
  return posix.join(ctx.privateDir, sourceDirs[kind], volumeName);
}

/** config.Get*DiskPath: the ISO made of those files; one service account ISO per pod. */
export function configDiskPath(kind: ConfigVolumeKind, volumeName: string, ctx: Dirs): string {
  const dir = posix.join(ctx.privateDir, diskDirs[kind]);
  return kind === 'serviceAccount' ? posix.join(dir, 'service-account.iso') : posix.join(dir, `${volumeName}.iso`);
}

/** The ISO's volume id: `unattendCD` for sysprep, else the volume's `volumeLabel`, KubeVirt's `cfgdata` when unset. */
export function configVolumeLabel(volume: Volume): string {
  const kind = configVolumeKind(volume);
  if (kind === 'sysprep') return 'unattendCD';
  const source = kind ? (volume[kind] as { volumeLabel?: unknown } | undefined) : undefined;
  return typeof source?.volumeLabel === 'string' && source.volumeLabel !== '' ? source.volumeLabel : 'cfgdata';
}
