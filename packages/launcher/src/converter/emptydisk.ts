// pkg/emptydisk: a blank qcow2 per emptyDisk volume, made by disk-preparation.ts before start.
import { posix } from 'node:path';
import type { Volume } from '@kubevirt-ts/shared';
import { DefaultEmptyDiskDir, type ConverterContext } from './context.ts';
import { ConversionError } from './errors.ts';
import { quantityToBytes } from './quantity.ts';

/** emptyDiskCreator.FilePathForVolumeName: `/var/run/libvirt/empty-disks/<volumeName>.qcow2`. */
export function emptyDiskPath(volumeName: string, ctx: Pick<ConverterContext, 'emptyDiskDir'> = {}): string {
  return posix.join(ctx.emptyDiskDir ?? DefaultEmptyDiskDir, `${volumeName}.qcow2`);
}

const MiB = 1024 * 1024;

/**
 * The size to give `qemu-img create`, in bytes: the capacity rounded down to a whole MiB
 * (util.AlignImageSizeTo1MiB); too small to hold one MiB is an error, as in KubeVirt.
 */
export function emptyDiskSize(volume: Volume, volumeIndex = 0): number {
  const path = `spec.volumes[${volumeIndex}].emptyDisk.capacity`;
  const bytes = quantityToBytes(volume.emptyDisk?.capacity, path);
  const aligned = bytes - (bytes % MiB);
  if (aligned === 0) throw new ConversionError(path, `the size for volume ${volume.name} is too low`);
  return aligned;
}
