// pkg/container-disk and pkg/ephemeral-disk: where a container disk's image and its writable
// overlay live in the launcher's view. The converter only names them; disk-preparation.ts makes the
// overlay (`qemu-img create -f qcow2 -b <image> -F <format> <overlay>`) before defining the domain.
import { posix } from 'node:path';
import type { ConverterContext } from './context.ts';

/** containerdisk.KernelBootName: kernel and initrd of a kernel-boot container land here. */
export const KernelBootName = 'kernel-boot';

/** GetDiskTargetPathFromLauncherView: `<containerDiskDir>/disk_<volumeIndex>.img`. */
export function containerDiskImagePath(volumeIndex: number, ctx: Pick<ConverterContext, 'containerDiskDir'>): string {
  return posix.join(ctx.containerDiskDir, `disk_${volumeIndex}.img`);
}

/** ephemeralDiskCreator.GetFilePath: `<ephemeralDiskDir>/disk-data/<volumeName>/disk.qcow2`. */
export function containerDiskOverlayPath(volumeName: string, ctx: Pick<ConverterContext, 'ephemeralDiskDir'>): string {
  return posix.join(ctx.ephemeralDiskDir, 'disk-data', volumeName, 'disk.qcow2');
}

/** The backing image's format the domain names, and the overlay must be created with; KubeVirt's error when unknown. */
export function containerDiskFormat(volumeName: string, ctx: Pick<ConverterContext, 'disksInfo'>): string {
  const info = ctx.disksInfo && Object.hasOwn(ctx.disksInfo, volumeName) ? ctx.disksInfo[volumeName] : undefined;
  if (!info) throw new Error(`no disk info provided for volume ${volumeName}`);
  return info.format;
}

/** GetKernelBootArtifactPathFromLauncherView: `<containerDiskDir>/kernel-boot/<basename>`. */
export function kernelBootArtifactPath(artifact: string, ctx: Pick<ConverterContext, 'containerDiskDir'>): string {
  return posix.join(ctx.containerDiskDir, KernelBootName, posix.basename(artifact));
}
