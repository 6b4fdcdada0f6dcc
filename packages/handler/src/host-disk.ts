// pkg/host-disk on virt-handler: a filesystem claim is handed to the launcher as a hostDisk
// (ReplacePVCByHostDisk: `disk.img` in the claim's directory, DiskOrCreate, the claim's size), and
// before the VMI's first sync each DiskOrCreate image the pod lacks is created, sparse, owned by the
// qemu user (DiskImgCreator); a claim somewhat smaller than asked is tolerated, with an Event.
import { chownSync, closeSync, existsSync, openSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  errorMessage,
  forObject,
  QEMU_UID,
  quantityValue,
  type Quantity,
  type VirtualMachineInstance,
  type VolumeStatus,
} from '@kubevirt-ts/shared';
import type { EventRecorder } from './recorder.ts';

/** pvcBaseDir: where virt-controller mounts a filesystem claim (and a hostDisk's directory) in the pod. */
export const PVC_BASE_DIR = '/var/run/kubevirt-private/vmi-disks';
export const EventReasonToleratedSmallPV = 'ToleratedSmallPV';
const MiB = 1024 * 1024;

/** util.AlignImageSizeTo1MiB: rounded down to a whole MiB (a host-disk must be 1MiB-aligned). */
export function alignImageSizeTo1MiB(size: number, logger?: Logger): number {
  const aligned = size - (size % MiB);
  if (aligned !== size) logger?.info(`disk size is not 1MiB-aligned. Adjusting from ${size} down to ${aligned}.`);
  return aligned;
}

/** Quantity.Set(size) keeps the quantity's format: binary (Ki…Ei) or decimal. */
function formatSize(size: number, like: Quantity): string {
  const binary = typeof like === 'string' && /[KMGTPE]i$/.test(like);
  const suffixes = binary
    ? ([
        ['Ei', 2 ** 60],
        ['Pi', 2 ** 50],
        ['Ti', 2 ** 40],
        ['Gi', 2 ** 30],
        ['Mi', 2 ** 20],
        ['Ki', 2 ** 10],
      ] as const)
    : ([
        ['E', 1e18],
        ['P', 1e15],
        ['T', 1e12],
        ['G', 1e9],
        ['M', 1e6],
        ['k', 1e3],
      ] as const);
  for (const [suffix, unit] of suffixes) if (size >= unit && size % unit === 0) return `${size / unit}${suffix}`;
  return String(size);
}

/** replaceForHostDisk: the hostDisk a filesystem claim becomes, sized by its requests or capacity. */
function hostDiskFor(volumeName: string, status: VolumeStatus, logger?: Logger) {
  const info = status.persistentVolumeClaimInfo ?? {};
  const capacity = info.capacity?.['storage'];
  const requested = info.requests?.['storage'];
  if (capacity === undefined && requested === undefined) {
    throw new Error('unable to determine capacity of HostDisk from PVC that provides no storage capacity or requests');
  }
  const capacityBytes = capacity === undefined ? undefined : quantityValue(capacity);
  const requestedBytes = requested === undefined ? undefined : quantityValue(requested);
  // the request when it is smaller than the claim's capacity: the disk the user asked for
  const useRequest = requestedBytes !== undefined && (capacityBytes === undefined || capacityBytes > requestedBytes);
  const size = alignImageSizeTo1MiB((useRequest ? requestedBytes : capacityBytes) ?? 0, logger);
  if (size <= 0) throw new Error(`the size for volume ${volumeName} is too low, must be at least 1MiB`);
  return {
    path: path.posix.join(PVC_BASE_DIR, volumeName, 'disk.img'),
    type: 'DiskOrCreate',
    capacity: formatSize(size, (useRequest ? requested : capacity) as Quantity),
    shared: (info.accessModes ?? []).includes('ReadWriteMany'),
  };
}

/**
 * ReplacePVCByHostDisk: the VMI as the launcher gets it, each filesystem claim (persistentVolumeClaim
 * or dataVolume) a hostDisk. Not a claim shared through virtiofs, a hotplugged one, or one with no
 * claim info or in block mode.
 */
export function replacePVCByHostDisk(vmi: VirtualMachineInstance, logger?: Logger): VirtualMachineInstance {
  const shared = new Set((vmi.spec.domain.devices?.filesystems ?? []).map((fs) => fs.name));
  const statuses = new Map((vmi.status?.volumeStatus ?? []).map((s) => [s.name, s]));
  let changed = false;
  const volumes = (vmi.spec.volumes ?? []).map((volume) => {
    const { persistentVolumeClaim, dataVolume, ...rest } = volume;
    if (persistentVolumeClaim === undefined && !(dataVolume as { name?: string } | undefined)?.name) return volume;
    const status = statuses.get(volume.name);
    if (
      shared.has(volume.name) ||
      status?.hotplugVolume !== undefined ||
      status?.persistentVolumeClaimInfo === undefined ||
      status.persistentVolumeClaimInfo.volumeMode === 'Block'
    ) {
      return volume;
    }
    changed = true;
    return { ...rest, hostDisk: hostDiskFor(volume.name, status, logger) };
  });
  return changed ? { ...vmi, spec: { ...vmi.spec, volumes } } : vmi;
}

export interface HostDiskCreatorOptions {
  logger: Logger;
  recorder: Pick<EventRecorder, 'event'>;
  /** A path inside the VMI's launcher pod, reachable from the handler (its root through /proc). */
  pathInLauncher(vmiUID: string, p: string): string;
  /** developerConfiguration.pvcTolerateLessSpaceUpToPercent */
  lessPVCSpaceToleration(): number;
  /** developerConfiguration.minimumReservePVCBytes */
  minimumReservePVCBytes(): number;
  /** Bytes free to an unprivileged user in the directory (statfs). */
  bytesAvailable?(dir: string): number;
}

const statfsAvailable = (dir: string) => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

/** DiskImgCreator: the images of the VMI's DiskOrCreate hostDisks (claims replaced or the user's own). */
export class HostDiskCreator {
  readonly #o: HostDiskCreatorOptions;

  constructor(o: HostDiskCreatorOptions) {
    this.#o = o;
  }

  create(vmi: VirtualMachineInstance): void {
    for (const volume of vmi.spec.volumes ?? []) {
      const hostDisk = volume.hostDisk as { path?: unknown; type?: unknown; capacity?: Quantity } | undefined;
      if (hostDisk?.type !== 'DiskOrCreate' || typeof hostDisk.path !== 'string' || hostDisk.path === '') continue;
      try {
        this.#createImage(vmi, volume.name, hostDisk.path, hostDisk.capacity);
      } catch (err) {
        throw new Error(`preparing host-disks failed: ${errorMessage(err)}`, { cause: err });
      }
    }
  }

  /** mountHostDiskAndSetOwnership: in the directory mounted for the volume; nothing when the image is there. */
  #createImage(vmi: VirtualMachineInstance, volumeName: string, hostPath: string, capacity: Quantity | undefined): void {
    const dir = this.#o.pathInLauncher(vmi.metadata.uid, path.posix.join(PVC_BASE_DIR, volumeName));
    if (!existsSync(dir)) throw new Error(`Resolve diskdir : ${path.posix.join(PVC_BASE_DIR, volumeName)}: no such directory`);
    const file = path.join(dir, path.posix.basename(hostPath));
    if (existsSync(file)) return;
    const available = (this.#o.bytesAvailable ?? statfsAvailable)(dir) - this.#o.minimumReservePVCBytes();
    let size = (capacity === undefined ? undefined : quantityValue(capacity)) ?? 0;
    if (size > available) size = this.#shrink(vmi, hostPath, size, available);
    // createSparseRaw: created, never followed if something is there meanwhile; one byte at the end
    const fd = openSync(file, 'wx', 0o666);
    try {
      writeSync(fd, Buffer.alloc(1), 0, 1, size - 1);
    } finally {
      closeSync(fd);
    }
    chownSync(file, QEMU_UID, QEMU_UID);
  }

  /** shrinkRequestedSize: what there is, if it is within the toleration; an error otherwise. */
  #shrink(vmi: VirtualMachineInstance, hostPath: string, requested: number, available: number): number {
    const toleration = this.#o.lessPVCSpaceToleration();
    const tolerated = Math.floor((requested * (100 - toleration)) / 100);
    if (tolerated > available) {
      throw new Error(
        `unable to create ${hostPath}, not enough space, demanded size ${requested} B is bigger than available space ${available} B, also after taking ${toleration} % toleration into account`,
      );
    }
    const msg = `PV size too small: expected ${requested} B, found ${available} B. Using it anyway, it is within ${toleration} % toleration`;
    forObject(this.#o.logger, vmi).info(msg);
    this.#o.recorder.event(vmi, 'Normal', EventReasonToleratedSmallPV, msg);
    return available;
  }
}
