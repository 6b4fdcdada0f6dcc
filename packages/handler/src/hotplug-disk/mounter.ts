// Hotplug volume mounting (KubeVirt's pkg/virt-handler/hotplug-disk): virt-controller gives each
// hotplugged claim an attachment pod on the VMI's node (`hp-volume-*`, KubeVirt's container-disk
// program serving `/path/hp.sock` in its hotplug-disks emptyDir, the claim mounted at `/<volume>`, or a
// block claim's device node at `/path/<volume>/<claim uid>`). Through that socket the handler finds
// the pod's process, from its mounts the claim's directory on the node, and bind-mounts its
// `disk.img` onto `<volume>.img` in the launcher pod's hotplug-disks emptyDir (a block claim gets a
// device node of the same numbers, `<volume>`; a memory dump claim's whole directory is bound onto the
// directory `<volume>`, where the launcher writes the dump, and so is a utility volume's), where the
// launcher attaches it to the domain. What was
// mounted is recorded under the handler's private dir, so a restarted handler can still undo it.
import {
  chownSync,
  closeSync,
  rmdirSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import * as z from 'zod/mini';
import { errorMessage, forObject, QEMU_UID, type VirtualMachineInstance, type Volume, type VolumeStatus } from '@kubevirt-ts/shared';
import { findSocketProcess, isMountPoint, parentPathForMount, readMountInfo } from '../container-disk/isolation.ts';
import { activePodsOn, type NodeMounts } from '../container-disk/mounter.ts';

/** What the VirtualMachineController needs (KubeVirt's VolumeMounter). */
export interface HotplugVolumeMounter {
  /**
   * Mounts every hotplugged volume of the VMI's status that is in its spec and has an attachment pod;
   * from `sourceUID`'s attachment pod when given (MountFromPod: a migration target's own attachment pod).
   */
  mount(vmi: VirtualMachineInstance, sourceUID?: string): Promise<void>;
  /** Unmounts what is recorded but no longer a hotplug volume of the VMI's spec. */
  unmount(vmi: VirtualMachineInstance): Promise<void>;
  /** Unmounts everything recorded for the VMI (its cleanup). */
  unmountAll(vmiUID: string, logger: Logger): Promise<void>;
  /** Whether the volume is in the launcher pod's hotplug-disks directory (a mount, or a block device node). */
  isMounted(vmi: VirtualMachineInstance, volumeName: string): boolean;
}

/** Which block devices the launcher pod may open (KubeVirt's cgroup manager device rules). */
export interface DeviceRules {
  allow(vmi: VirtualMachineInstance, major: number, minor: number): Promise<void>;
  deny(vmiUID: string, major: number, minor: number): Promise<void>;
}

export interface HotplugMounterOptions {
  logger: Logger;
  /** This node: only its pods of a VMI's activePods count (the container-disk Mounter's `host`). */
  host?: string;
  /** Where the handler sees the kubelet's pods directory with short paths, for sockets (/pods). */
  podsBaseDir: string;
  /** The kubelet's pods directory (--kubelet-pods-dir), where the targets are; the same path on the node. */
  kubeletPodsDir: string;
  /** `<kubevirt-private-dir>/hotplug-volume-mount-state` */
  stateDir: string;
  node: NodeMounts;
  /** The launcher pod's device cgroup; without it a block volume fails, as KubeVirt's without a cgroup manager. */
  deviceRules?: DeviceRules;
  procDir?: string;
}

/** hotplugvolume.ErrWaitingForHotplugMount: the attachment pod is not (yet) found; retried in a second. */
export class WaitingForHotplugMountError extends Error {
  override name = 'WaitingForHotplugMountError';
}

/** hotplugDisksKubeletVolumePath */
export const HotplugDisksVolume = 'volumes/kubernetes.io~empty-dir/hotplug-disks';
/** The attachment pod's `container-disk --copy-path /path/hp` serves this socket. */
export const AttachmentPodSocket = '/path/hp.sock';
/** The uid and gid the launcher's QEMU runs as (util.NonRootUID): hotplugged disks are handed to it. */
/** How many times a target still mounted is unmounted again (a shared mount may show more than once). */
const MAX_UNMOUNT_ROUNDS = 5;

/** The checkpoint KubeVirt keeps per VMI (vmiMountTargetRecord), with its JSON names. */
const recordSchema = z.object({
  mountTargetEntries: z.nullable(z.array(z.object({ targetFile: z.string() }))),
  usesSafePaths: z.optional(z.boolean()),
});
type MountTargetRecord = { mountTargetEntries: { targetFile: string }[]; usesSafePaths: boolean };

/** storagetypes.IsHotplugVolume: a claim or DataVolume marked hotpluggable (or a memory dump). */
export function isHotplugVolume(volume: Volume): boolean {
  return volume.persistentVolumeClaim?.hotpluggable === true || volume.dataVolume?.hotpluggable === true || volume.memoryDump !== undefined;
}

/** storagetypes.IsUtilityVolume: the name is one of spec.utilityVolumes. */
export function isUtilityVolume(vmi: VirtualMachineInstance, volumeName: string): boolean {
  return (vmi.spec.utilityVolumes ?? []).some((u) => u.name === volumeName);
}

/** The names of the VMI's volumes and utility volumes: what the spec still has. */
export function specVolumeNames(vmi: VirtualMachineInstance): Set<string> {
  return new Set([...(vmi.spec.volumes ?? []), ...(vmi.spec.utilityVolumes ?? [])].map((v) => v.name));
}

/** isDirectoryMounted: a utility or memory dump volume is the claim's directory, not its disk.img. */
export function isDirectoryMounted(vmi: VirtualMachineInstance, volumeName: string): boolean {
  if (isUtilityVolume(vmi, volumeName)) return true;
  return (vmi.spec.volumes ?? []).find((v) => v.name === volumeName)?.memoryDump !== undefined;
}

/** isBlockVolume: the claim virt-controller recorded in the volume's status is a block claim. */
export function isBlockVolume(status: readonly VolumeStatus[] | undefined, volumeName: string): boolean {
  const info = status?.find((s) => s.name === volumeName)?.persistentVolumeClaimInfo as { volumeMode?: unknown } | undefined;
  return info?.volumeMode === 'Block';
}

export class HotplugMounter implements HotplugVolumeMounter {
  readonly #o: HotplugMounterOptions;

  constructor(o: HotplugMounterOptions) {
    this.#o = o;
  }

  async mount(vmi: VirtualMachineInstance, fromPod?: string): Promise<void> {
    const record = this.#readRecord(vmi.metadata.uid);
    const inSpec = specVolumeNames(vmi);
    const log = forObject(this.#o.logger, vmi);
    for (const status of vmi.status?.volumeStatus ?? []) {
      if (!status.hotplugVolume) continue;
      if (!inSpec.has(status.name)) {
        log.debug(`Skipping mount for volume ${status.name}: no longer in VMI spec`);
        continue;
      }
      if (isUtilityVolume(vmi, status.name) && isBlockVolume(vmi.status?.volumeStatus, status.name)) {
        log.warn(
          `Skipping mount for utility volume ${status.name}: configured with block mode PVC, utility volumes require filesystem mode`,
        );
        continue;
      }
      const sourceUID = fromPod || (status.hotplugVolume.attachPodUID ?? '');
      if (sourceUID === '') continue;
      if (isBlockVolume(vmi.status?.volumeStatus, status.name)) {
        log.debug(`Mounting block volume: ${status.name}`);
        try {
          await this.#mountBlock(vmi, status.name, sourceUID, record);
        } catch (err) {
          throw wrap(err, `failed to mount block hotplug volume ${status.name}`);
        }
      } else {
        log.debug(`Mounting file system volume: ${status.name}`);
        try {
          await this.#mountFileSystem(vmi, status.name, sourceUID, record, isDirectoryMounted(vmi, status.name));
        } catch (err) {
          throw wrap(err, `failed to mount filesystem hotplug volume ${status.name}`);
        }
      }
    }
  }

  async #mountFileSystem(
    vmi: VirtualMachineInstance,
    volume: string,
    sourceUID: string,
    record: MountTargetRecord,
    directory: boolean,
  ): Promise<void> {
    const launcherUID = this.#findLauncherUID(vmi);
    if (!launcherUID) return; // not this node's pod
    const target = path.join(this.#targetDir(launcherUID), directory ? volume : `${volume}.img`);
    if (directory) mkdirNoFollow(target);
    else touch(target);
    if (!isMountPoint(this.#o.node.mounts(), target)) {
      let source: string;
      try {
        const dir = this.#sourceDirOnNode(sourceUID, volume);
        source = directory ? dir : path.posix.join(dir, 'disk.img');
      } catch (err) {
        throw new WaitingForHotplugMountError(
          `failed to get source path for volume ${volume} from source pod ${sourceUID}: ${errorMessage(err)}: waiting for hotplug mount`,
          { cause: err },
        );
      }
      // recorded before the mount: a handler that dies right after it still knows what to undo
      this.#appendToRecord(vmi.metadata.uid, record, target);
      try {
        await this.#o.node.bind(source, target, false);
      } catch (err) {
        throw new Error(`failed to bindmount hotplug volume source from ${source} to ${target}: ${errorMessage(err)}`, { cause: err });
      }
      forObject(this.#o.logger, vmi).info(`successfully mounted hotplug volume ${volume}`);
    }
    chownSync(target, QEMU_UID, QEMU_UID);
  }

  async #mountBlock(vmi: VirtualMachineInstance, volume: string, sourceUID: string, record: MountTargetRecord): Promise<void> {
    const launcherUID = this.#findLauncherUID(vmi);
    if (!launcherUID) return;
    const device = path.join(this.#targetDir(launcherUID), volume);
    if (!exists(device)) {
      const source = this.#sourceDevice(sourceUID, volume);
      this.#appendToRecord(vmi.metadata.uid, record, device);
      await run('mknod', ['-m', (source.mode & 0o777).toString(8), device, 'b', String(source.major), String(source.minor)]);
    }
    const st = statSync(device);
    if (!st.isBlockDevice()) throw new Error(`target device ${device} exists but it is not a block device`);
    const { major, minor } = devNumbers(st.rdev);
    if (!this.#o.deviceRules) throw new Error(`failed to apply device rule b ${major}:${minor} rwm: cgroup manager is nil`);
    await this.#o.deviceRules.allow(vmi, major, minor);
    chownSync(device, QEMU_UID, QEMU_UID);
  }

  /** getSourcePodFilePath: the directory the attachment pod has mounted at /<volume>, as a path of the node. */
  #sourceDirOnNode(sourceUID: string, volume: string): string {
    const socket = path.join(this.#o.podsBaseDir, sourceUID, HotplugDisksVolume, path.basename(AttachmentPodSocket));
    const pid = findSocketProcess(socket, AttachmentPodSocket, this.#o.procDir);
    if (pid === undefined) throw new Error(`no process serves ${socket}`);
    const child = readMountInfo(pid, this.#o.procDir);
    if (!child.some((m) => m.mountPoint === `/${volume}`)) throw new Error(`unable to find source disk image path for pod ${sourceUID}`);
    return parentPathForMount(this.#o.node.mounts(), child, `/${volume}`);
  }

  /** statSourceDevice: the one device node in the attachment pod's `hotplug-disks/<volume>/`, as the node shows it. */
  #sourceDevice(sourceUID: string, volume: string): { major: number; minor: number; mode: number } {
    const dir = this.#o.node.readable(path.join(this.#o.kubeletPodsDir, sourceUID, HotplugDisksVolume, volume));
    for (const name of readdirSync(dir)) {
      const st = lstatSync(path.join(dir, name));
      if (!st.isBlockDevice() && !st.isCharacterDevice()) continue;
      if (!st.isBlockDevice()) throw new Error(`${path.join(dir, name)} is not a block device`);
      return { ...devNumbers(st.rdev), mode: st.mode };
    }
    throw new Error(`no device in ${dir}`);
  }

  async unmount(vmi: VirtualMachineInstance): Promise<void> {
    const uid = vmi.metadata.uid;
    const record = this.#readRecord(uid);
    if (record.mountTargetEntries.length === 0) return;
    const log = forObject(this.#o.logger, vmi);
    const launcherUID = this.#findLauncherUID(vmi);
    const targetDir = launcherUID ? this.#targetDir(launcherUID) : undefined;
    if (!targetDir || !exists(targetDir)) {
      // no mounts left: the pod's directory is gone
      this.#deleteRecord(uid);
      return;
    }
    const current = new Set(
      (vmi.spec.volumes ?? [])
        .filter(isHotplugVolume)
        .map((v) =>
          path.join(
            targetDir,
            isBlockVolume(vmi.status?.volumeStatus, v.name) || isDirectoryMounted(vmi, v.name) ? v.name : `${v.name}.img`,
          ),
        ),
    );
    for (const { name } of vmi.spec.utilityVolumes ?? []) {
      if (isBlockVolume(vmi.status?.volumeStatus, name)) {
        log.warn(`Skipping unmount cleanup for utility volume ${name}: configured with block mode PVC`);
        continue;
      }
      current.add(path.join(targetDir, name));
    }
    const keep: MountTargetRecord = { mountTargetEntries: [], usesSafePaths: true };
    const errors: string[] = [];
    for (const { targetFile } of record.mountTargetEntries) {
      if (!exists(targetFile)) {
        log.info(`Volume ${targetFile} is not mounted anymore, continuing`);
        continue;
      }
      if (current.has(targetFile)) {
        keep.mountTargetEntries.push({ targetFile });
        continue;
      }
      try {
        if (lstatSync(targetFile).isBlockDevice()) await this.#removeBlock(uid, targetFile);
        else await this.#unmountFileSystem(targetFile);
        log.info(`Unmounted hotplug volume path ${targetFile}`);
      } catch (err) {
        const message = `Unable to unmount volume at path ${targetFile}: ${errorMessage(err)}`;
        log.error(message);
        keep.mountTargetEntries.push({ targetFile });
        errors.push(message);
      }
    }
    if (keep.mountTargetEntries.length > 0) this.#storeRecord(uid, keep);
    else this.#deleteRecord(uid);
    if (errors.length > 0) throw new Error(`failed to cleanup hotplug mounts for VMI ${vmi.metadata.name}: ${errors.join('\n')}`);
  }

  async unmountAll(vmiUID: string, logger: Logger): Promise<void> {
    const record = this.#readRecord(vmiUID);
    if (record.mountTargetEntries.length === 0) {
      this.#deleteRecord(vmiUID);
      return;
    }
    logger.info('Cleaning up remaining hotplug volumes');
    for (const { targetFile } of record.mountTargetEntries) {
      if (!exists(targetFile)) {
        logger.info(`Device ${targetFile} is not mounted anymore, continuing.`);
        continue;
      }
      try {
        if (lstatSync(targetFile).isBlockDevice()) await this.#removeBlock(vmiUID, targetFile);
        else await this.#unmountFileSystem(targetFile);
      } catch (err) {
        // as KubeVirt: warn and go on with the next; the record goes
        logger.warn({ reason: errorMessage(err) }, `Unable to unmount volume at path ${targetFile}`);
      }
    }
    this.#deleteRecord(vmiUID);
  }

  isMounted(vmi: VirtualMachineInstance, volumeName: string): boolean {
    const launcherUID = this.#findLauncherUID(vmi);
    if (!launcherUID) throw new Error('Unable to determine virt-launcher UID');
    const targetDir = this.#targetDir(launcherUID);
    if (!exists(targetDir)) return false;
    if (isBlockVolume(vmi.status?.volumeStatus, volumeName)) {
      try {
        return lstatSync(path.join(targetDir, volumeName)).isBlockDevice();
      } catch {
        return false;
      }
    }
    const target = path.join(targetDir, isDirectoryMounted(vmi, volumeName) ? volumeName : `${volumeName}.img`);
    return exists(target) && isMountPoint(this.#o.node.mounts(), target);
  }

  /** unmountFileSystemHotplugVolumes: unmounted (every layer of it), then the file (or a memory dump's directory) goes. */
  async #unmountFileSystem(target: string): Promise<void> {
    if (!isMountPoint(this.#o.node.mounts(), target)) return;
    for (let round = 0; isMountPoint(this.#o.node.mounts(), target); round++) {
      if (round === MAX_UNMOUNT_ROUNDS) throw new Error(`failed to unmount hotplug disk ${target}: still mounted`);
      try {
        await this.#o.node.unmount(target);
      } catch (err) {
        throw new Error(`failed to unmount hotplug disk ${target}: ${errorMessage(err)}`, { cause: err });
      }
    }
    if (lstatSync(target).isDirectory()) rmdirSync(target);
    else rmSync(target, { force: true });
  }

  /** unmountBlockHotplugVolumes: the device node goes, and with it the pod's permission to open the device. */
  async #removeBlock(vmiUID: string, device: string): Promise<void> {
    const { major, minor } = devNumbers(statSync(device).rdev);
    rmSync(device, { force: true });
    await this.#o.deviceRules?.deny(vmiUID, major, minor);
  }

  /** findVirtlauncherUID: the one active pod of the VMI whose hotplug-disks volume is on this node. */
  #findLauncherUID(vmi: VirtualMachineInstance): string | undefined {
    const found = activePodsOn(vmi, this.#o.host).filter((uid) => exists(this.#targetDir(uid)));
    return found.length === 1 ? found[0] : undefined;
  }

  /** GetHotplugTargetPodPathOnHost */
  #targetDir(launcherUID: string): string {
    return path.join(this.#o.kubeletPodsDir, launcherUID, HotplugDisksVolume);
  }

  #appendToRecord(uid: string, record: MountTargetRecord, targetFile: string): void {
    if (record.mountTargetEntries.some((e) => e.targetFile === targetFile)) return;
    record.mountTargetEntries.push({ targetFile });
    this.#storeRecord(uid, record);
  }

  #storeRecord(uid: string, record: MountTargetRecord): void {
    mkdirSync(this.#o.stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(this.#o.stateDir, uid), JSON.stringify({ ...record, usesSafePaths: true }));
  }

  #deleteRecord(uid: string): void {
    rmSync(path.join(this.#o.stateDir, uid), { force: true });
  }

  /** The VMI's record from disk (a restarted handler finds its predecessor's); an empty one when there is none. */
  #readRecord(uid: string): MountTargetRecord {
    if (uid === '') throw new Error('unable to find hotplug mounted directories for vmi without uid');
    let text: string;
    try {
      text = readFileSync(path.join(this.#o.stateDir, uid), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { mountTargetEntries: [], usesSafePaths: true };
      throw err;
    }
    const parsed = recordSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`failed to get checkpoint ${uid}: ${z.prettifyError(parsed.error)}`);
    return { mountTargetEntries: parsed.data.mountTargetEntries ?? [], usesSafePaths: true };
  }
}

const run = promisify(execFile);

function wrap(err: unknown, prefix: string): Error {
  const message = `${prefix}: ${errorMessage(err)}`;
  return err instanceof WaitingForHotplugMountError
    ? new WaitingForHotplugMountError(message, { cause: err })
    : new Error(message, { cause: err });
}

/** TouchAtNoFollow with 0666: the mount point, a file of its own (a symlink there is refused). */
function touch(file: string): void {
  if (exists(file)) return;
  closeSync(openSync(file, constants.O_CREAT | constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_EXCL, 0o666));
}

/** MkdirAtNoFollow with 0750: a memory dump volume's mount point (a symlink there is refused). */
function mkdirNoFollow(dir: string): void {
  try {
    if (lstatSync(dir).isDirectory()) return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dir, { mode: 0o750 });
    return;
  }
  throw new Error(`${dir} exists and is not a directory`);
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** unix.Major / unix.Minor of a device number. */
export function devNumbers(rdev: number): { major: number; minor: number } {
  return { major: Math.floor(rdev / 0x100) & 0xfff, minor: (rdev & 0xff) | (Math.floor(rdev / 0x1000) & 0xfff00) };
}
