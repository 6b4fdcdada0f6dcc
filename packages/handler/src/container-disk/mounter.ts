// containerDisk and kernel-boot mounting (KubeVirt's pkg/virt-handler/container-disk): each containerDisk
// volume has a container in the launcher pod that does nothing but listen on `disk_<index>.sock` (or
// `kernel-boot.sock`) in the pod's container-disks emptyDir. Through that socket the handler finds the
// container's process, from it the container's root filesystem on the node, and bind-mounts the image
// (read-only) onto `disk_<index>.img` in the same emptyDir, where the launcher finds it. What was mounted
// is recorded under the handler's private dir, so a restarted handler can still unmount it.
//
// As in KubeVirt, the kubelet's pods directory has the same path in the handler and on the node (the
// DaemonSet mounts /var/lib/kubelet HostToContainer), so a target path is valid in both.
import { execFile } from 'node:child_process';
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import * as z from 'zod/mini';
import { errorMessage, forObject, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { findSocketProcess, isMountPoint, type MountInfo, parentPathForRootMount, readMountInfo } from './isolation.ts';

/** What the VirtualMachineController needs. */
export interface ContainerDiskMounter {
  /** False while a disk's container does not serve its socket yet; an error once that lasted a minute. */
  containerDisksReady(vmi: VirtualMachineInstance, notInitializedSince: number): boolean;
  mountAndVerify(vmi: VirtualMachineInstance): Promise<void>;
  unmount(vmiUID: string, logger: Logger): Promise<void>;
}

/** The node's mount namespace: what is mounted there, and mounting in it. */
export interface NodeMounts {
  mounts(): MountInfo[];
  /** A bind mount (virt-chroot mount -o [ro,]bind), read-only unless `readOnly` is false. */
  bind(source: string, target: string, readOnly?: boolean): Promise<void>;
  /** A lazy unmount (virt-chroot umount: MNT_DETACH). */
  unmount(target: string): Promise<void>;
  /** A path of the node's namespace, as the handler reads it. */
  readable(nodePath: string): string;
}

export interface MounterOptions {
  logger: Logger;
  /**
   * This node: only its pods of a VMI's activePods count (during a migration the other node's pod
   * is there too; a node's kubelet has only its own pod directories, a test bed's two nodes share one).
   */
  host?: string;
  /** Where the handler sees the kubelet's pods directory with short paths, for sockets (/pods). */
  podsBaseDir: string;
  /** The kubelet's pods directory (--kubelet-pods-dir), where the targets are. */
  kubeletPodsDir: string;
  /** `<kubevirt-private-dir>/container-disk-mount-state` */
  stateDir: string;
  node: NodeMounts;
  /** Where a containerDisk container mounts its pod volume, before the VMI's uid (virt-controller's). */
  containerDisksDir?: string;
  procDir?: string;
  clock?: { now(): number };
}

export const KernelBootName = 'kernel-boot';
/** pkg/container-disk: where an image is when the volume names no path. */
export const DiskSourceFallbackPath = '/disk';
/** suppressWarningTimeout: how long a disk's container may take to serve its socket. */
export const CONTAINER_DISK_READY_TIMEOUT_MS = 60_000;
/** How many times a target still mounted is unmounted again before cleanup gives up (and is retried). */
const MAX_UNMOUNT_ROUNDS = 5;
const CONTAINER_DISKS_VOLUME = 'volumes/kubernetes.io~empty-dir/container-disks';

export const diskTargetName = (volumeIndex: number) => `disk_${volumeIndex}.img`;
const diskSocketName = (volumeIndex: number) => `disk_${volumeIndex}.sock`;

/** The checkpoint KubeVirt keeps per VMI (vmiMountTargetRecord), with its JSON names. */
const recordSchema = z.object({
  mountTargetEntries: z.array(z.object({ targetFile: z.string(), socketFile: z.string() })),
  usesSafePaths: z.optional(z.boolean()),
});
type MountTargetRecord = z.infer<typeof recordSchema>;

interface DiskToMount {
  /** The volume's name, for messages. */
  name: string;
  socketName: string;
  /** The image (or kernel-boot artifact) path in the container's root, if the volume names one. */
  imagePath: string | undefined;
  target: string;
}

export class Mounter implements ContainerDiskMounter {
  readonly #o: MounterOptions;

  constructor(o: MounterOptions) {
    this.#o = o;
  }

  containerDisksReady(vmi: VirtualMachineInstance, notInitializedSince: number): boolean {
    const log = forObject(this.#o.logger, vmi);
    const late = () => (this.#o.clock ?? Date).now() > notInitializedSince + CONTAINER_DISK_READY_TIMEOUT_MS;
    for (const [index, volume] of vmi.spec.volumes?.entries() ?? []) {
      if (!volume.containerDisk) continue;
      try {
        this.#servingProcess(vmi, diskSocketName(index));
      } catch (err) {
        log.info({ reason: errorMessage(err) }, `containerdisk ${volume.name} not yet ready`);
        if (late()) throw new Error(`containerdisk ${volume.name} still not ready after one minute`);
        return false;
      }
    }
    if (vmi.spec.domain.firmware?.kernelBoot?.container) {
      try {
        this.#servingProcess(vmi, `${KernelBootName}.sock`);
      } catch (err) {
        log.info({ reason: errorMessage(err) }, 'kernelboot container not yet ready');
        if (late()) throw new Error('kernelboot container still not ready after one minute');
        return false;
      }
    }
    return true;
  }

  async mountAndVerify(vmi: VirtualMachineInstance): Promise<void> {
    const disks: DiskToMount[] = [];
    const volumes = vmi.spec.volumes ?? [];
    const kernel = vmi.spec.domain.firmware?.kernelBoot?.container;
    if (!volumes.some((v) => v.containerDisk) && !kernel) return;
    const targetDir = this.#targetDir(vmi);
    for (const [index, volume] of volumes.entries()) {
      if (!volume.containerDisk) continue;
      disks.push({
        name: volume.name,
        socketName: diskSocketName(index),
        imagePath: volume.containerDisk.path,
        target: path.join(targetDir, diskTargetName(index)),
      });
    }
    const entries = disks.map((d) => ({ targetFile: d.target, socketFile: this.#socket(vmi, d.socketName) }));
    if (kernel) {
      const dir = path.join(targetDir, KernelBootName);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      chmodSync(dir, 0o755);
      entries.push({ targetFile: dir, socketFile: this.#socket(vmi, `${KernelBootName}.sock`) });
      for (const artifact of [kernel.kernelPath, kernel.initrdPath]) {
        if (!artifact) continue;
        disks.push({
          name: KernelBootName,
          socketName: `${KernelBootName}.sock`,
          imagePath: artifact,
          target: path.join(dir, path.basename(artifact)),
        });
      }
    }
    // recorded before anything is mounted: a handler that dies half-way still knows what to undo
    this.#storeRecord(vmi.metadata.uid, { mountTargetEntries: entries, usesSafePaths: true });

    const log = forObject(this.#o.logger, vmi);
    for (const disk of disks) {
      if (isMountPoint(this.#o.node.mounts(), disk.target)) continue;
      touch(disk.target);
      const source = this.#imageOnNode(vmi, disk);
      log.info(`Bind mounting container disk at ${source} to ${disk.target}`);
      try {
        await this.#o.node.bind(source, disk.target);
      } catch (err) {
        throw new Error(`failed to bindmount containerDisk ${disk.name}: ${errorMessage(err)}`, { cause: err });
      }
    }
    const mounts = this.#o.node.mounts();
    const missing = disks.find((d) => !isMountPoint(mounts, d.target));
    if (missing) throw new Error(`containerDisk ${missing.name}: ${missing.target} is not mounted after the bind mount`);
  }

  async unmount(vmiUID: string, logger: Logger): Promise<void> {
    const record = this.#readRecord(vmiUID);
    if (!record) return;
    logger.info('Found container disk mount entries');
    for (const entry of record.mountTargetEntries) {
      // the entry itself, or (kernel-boot) the artifacts mounted in it, deepest first; again while any is
      // left (a mount the node's shared mounts propagated may show more than once)
      for (let round = 0; ; round++) {
        const under = [...new Set(this.#o.node.mounts().map((m) => m.mountPoint))]
          .filter((m) => m === entry.targetFile || m.startsWith(`${entry.targetFile}/`))
          .sort((a, b) => b.length - a.length);
        if (under.length === 0) break;
        if (round === MAX_UNMOUNT_ROUNDS) throw new Error(`failed to unmount containerDisk ${under.join(', ')}: still mounted`);
        for (const target of under) {
          logger.info(`unmounting container disk at path ${target}`);
          try {
            await this.#o.node.unmount(target);
          } catch (err) {
            throw new Error(`failed to unmount containerDisk ${target}: ${errorMessage(err)}`, { cause: err });
          }
        }
      }
    }
    for (const entry of record.mountTargetEntries) {
      // as KubeVirt (os.Remove, errors ignored): the mount points and sockets go (the disk's container
      // ends with its socket); the pod's volume goes with the pod anyway
      for (const p of [entry.targetFile, entry.socketFile]) {
        try {
          rmSync(p, { recursive: true, force: true });
        } catch (err) {
          logger.info({ reason: errorMessage(err) }, `could not remove ${p}`);
        }
      }
    }
    rmSync(path.join(this.#o.stateDir, vmiUID), { force: true });
  }

  /** GetDiskTargetDirFromHostView: the container-disks emptyDir of the VMI's one active pod. */
  #targetDir(vmi: VirtualMachineInstance): string {
    const found = this.#activePods(vmi)
      .map((podUID) => path.join(this.#o.kubeletPodsDir, podUID, CONTAINER_DISKS_VOLUME))
      .filter(isDirectory);
    if (found.length > 1) {
      throw new Error(
        `Found multiple pods active for vmi ${vmi.metadata.namespace}/${vmi.metadata.name}. Waiting on outdated pod directories to be removed`,
      );
    }
    if (!found[0]) throw new Error(`no container-disks volume of an active pod of vmi ${vmi.metadata.namespace}/${vmi.metadata.name}`);
    return found[0];
  }

  #activePods(vmi: VirtualMachineInstance): string[] {
    return activePodsOn(vmi, this.#o.host);
  }

  /** NewSocketPathGetter: the socket in whichever active pod has it. */
  #socket(vmi: VirtualMachineInstance, socketName: string): string {
    for (const podUID of this.#activePods(vmi)) {
      const socket = path.join(this.#o.podsBaseDir, podUID, CONTAINER_DISKS_VOLUME, socketName);
      if (exists(socket)) return socket;
    }
    throw new Error(`container disk socket path not found for vmi "${vmi.metadata.name}"`);
  }

  /** DetectForSocket: the process listening on the disk's socket. */
  #servingProcess(vmi: VirtualMachineInstance, socketName: string): number {
    const socket = this.#socket(vmi, socketName);
    const inContainer = path.posix.join(this.#o.containerDisksDir ?? '/var/run/kubevirt/container-disks', vmi.metadata.uid, socketName);
    const pid = findSocketProcess(socket, inContainer, this.#o.procDir);
    if (pid === undefined) throw new Error(`no process serves ${socket}`);
    return pid;
  }

  /** getContainerDiskPath: the image in the disk container's root, as a path of the node. */
  #imageOnNode(vmi: VirtualMachineInstance, disk: DiskToMount): string {
    const pid = this.#servingProcess(vmi, disk.socketName);
    const root = parentPathForRootMount(this.#o.node.mounts(), readMountInfo(pid, this.#o.procDir));
    const image = getImage(root, disk.imagePath, this.#o.node.readable);
    if (!lstatSync(this.#o.node.readable(image)).isFile()) throw new Error(`${disk.imagePath ?? image} is not a regular file`);
    return image;
  }

  #storeRecord(uid: string, record: MountTargetRecord): void {
    mkdirSync(this.#o.stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(this.#o.stateDir, uid), JSON.stringify(record));
  }

  #readRecord(uid: string): MountTargetRecord | undefined {
    let text: string;
    try {
      text = readFileSync(path.join(this.#o.stateDir, uid), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = recordSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`container disk mount record of ${uid}: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }
}

/**
 * GetImage: the volume's path in the container's root, or else the one file in /disk (KubeVirt's errors
 * when there is none or more than one). `root` is a node path; `readable` makes it one the handler reads.
 */
export function getImage(root: string, imagePath: string | undefined, readable: (p: string) => string = (p) => p): string {
  if (imagePath) return path.posix.join(root, path.posix.normalize(`/${imagePath}`));
  const dir = path.posix.join(root, DiskSourceFallbackPath);
  let files: string[];
  try {
    files = readdirSync(readable(dir));
  } catch (err) {
    throw new Error(`failed to check default image path ${DiskSourceFallbackPath}: ${errorMessage(err)}`, { cause: err });
  }
  if (files.length === 0) throw new Error(`no file found in folder ${DiskSourceFallbackPath}, no disk present`);
  if (files.length > 1) throw new Error(`more than one file found in folder ${DiskSourceFallbackPath}, only one disk is allowed`);
  return path.posix.join(dir, files[0]!);
}

function touch(file: string): void {
  closeSync(openSync(file, 'a', 0o666));
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

const run = promisify(execFile);

/**
 * The node's mount namespace: PID 1's, as the DaemonSet runs with hostPID; with VIRT_IN_CONTAINER=true
 * (Kubernetes itself in a container, where PID 1 is not the node's) the handler's parent's, the
 * container runtime's shim (KubeVirt's virt-chroot GetChrootMountNamespace).
 */
export function nodeMountNamespace(env: NodeJS.ProcessEnv = process.env, procDir = '/proc'): NodeMounts {
  const pid = virtInContainer(env) ? process.ppid : 1;
  const inNode = async (args: string[]) => {
    try {
      await run('nsenter', [`--mount=${procDir}/${pid}/ns/mnt`, '--', ...args]);
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim();
      throw new Error(`${args.join(' ')}: ${stderr || errorMessage(err)}`, { cause: err });
    }
  };
  return {
    mounts: () => readMountInfo(pid, procDir),
    bind: (source, target, readOnly = true) => inNode(['mount', '-o', readOnly ? 'ro,bind' : 'bind', source, target]),
    unmount: (target) => inNode(['umount', '-l', target]),
    readable: (p) => path.join(procDir, String(pid), 'root', p),
  };
}

const virtInContainerSchema = z.optional(z.enum(['true', 'false', '']));

/** VIRT_IN_CONTAINER: "true" or unset (anything else is refused, not taken as false). */
export function virtInContainer(env: NodeJS.ProcessEnv): boolean {
  const parsed = virtInContainerSchema.safeParse(env.VIRT_IN_CONTAINER);
  if (!parsed.success) throw new Error(`VIRT_IN_CONTAINER: want "true" or "false", got ${JSON.stringify(env.VIRT_IN_CONTAINER)}`);
  return parsed.data === 'true';
}

/** The VMI's active pods, or those on `host` when given. */
export function activePodsOn(vmi: VirtualMachineInstance, host: string | undefined): string[] {
  return Object.entries(vmi.status?.activePods ?? {})
    .filter(([, node]) => host === undefined || node === host)
    .map(([uid]) => uid);
}
