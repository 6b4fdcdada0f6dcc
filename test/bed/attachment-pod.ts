// The test bed's stand-in for the hotplug attachment pod virt-controller renders for a hotplugged
// claim (RenderHotplugAttachmentPodTemplate): `hp-volume-<random>`, one container `hotplug-disk` that
// runs KubeVirt's container-disk program as `container-disk --copy-path /path/hp` (uid 107), the pod's
// hotplug-disks emptyDir at /path, and the claim, as kubelet mounts a file system claim, at /<volume>
// with its disk.img; a block claim (a loop device over an image here) is a device node at
// /path/<volume>/<claim uid>, in the hotplug-disks emptyDir, as the container runtime makes a
// volumeDevice. The container is a mount namespace of its own with a root of its own, so virt-handler
// finds the claim on the node exactly as in a cluster: hp.sock → the process → its mount of /<volume>
// → that directory's path on the node; or the one device node in the volume's directory.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, closeSync, copyFileSync, existsSync, linkSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { nativeProgram } from './native.ts';
import { emptyDirPath, podsBaseDir } from './pod-sandbox.ts';
import { poll } from './poll.ts';

const run = promisify(execFile);

export interface AttachmentPod {
  /** `hp-volume-<5 random characters>`, as the pod's generateName gives it */
  readonly name: string;
  readonly podUID: string;
  /** The claim's image on the node (`<claim dir>/disk.img`). */
  readonly diskImage: string;
  /** Bytes at the start of the image, for the guest to read back. */
  readonly marker: string;
  /** A block claim's loop device (e.g. /dev/loop3), detached by stop(). */
  readonly loopDevice?: string;
  readonly process: ChildProcess;
  /** Deletes the pod as kubelet would: the container killed, its directories removed. */
  stop(): Promise<void>;
}

/** A claim of `sizeBytes` (sparse, a marker at its start) in a running attachment pod. */
export async function startAttachmentPod(o: {
  volumeName: string;
  sizeBytes: number;
  /** The claim's volumeMode; Filesystem unless asked. */
  volumeMode?: 'Filesystem' | 'Block';
  podsBaseDir?: string;
  /**
   * The same (ReadWriteMany) claim as `shares`' attachment pod, as a migration target's attachment pod
   * has it: its image is that pod's (one inode, as one file on NFS).
   */
  shares?: AttachmentPod;
}): Promise<AttachmentPod> {
  const base = o.podsBaseDir ?? podsBaseDir();
  const podUID = randomUUID();
  const podDir = path.join(base, podUID);
  const name = `hp-volume-${randomBytes(4).toString('hex').slice(0, 5)}`;
  const hotplugDisks = emptyDirPath(base, podUID, 'hotplug-disks');
  mkdirSync(hotplugDisks, { recursive: true });
  chmodSync(hotplugDisks, 0o777); // the kubelet's emptyDir mode: the container runs as 107
  // where kubelet mounts a file system claim for the pod
  const claimDir = path.join(podDir, 'volumes', 'kubernetes.io~local-volume', `pv-${o.volumeName}`);
  mkdirSync(claimDir, { recursive: true });
  const diskImage = path.join(claimDir, 'disk.img');
  const marker = o.shares?.marker ?? `kvts-hotplug-${randomBytes(4).toString('hex')}`;
  if (o.shares) {
    linkSync(o.shares.diskImage, diskImage);
  } else {
    const fd = openSync(diskImage, 'wx', 0o660);
    try {
      writeSync(fd, Buffer.from(marker), 0, marker.length, 0);
      writeSync(fd, Buffer.alloc(1), 0, 1, o.sizeBytes - 1);
    } finally {
      closeSync(fd);
    }
  }

  let loopDevice: string | undefined;
  if (o.volumeMode === 'Block') {
    const { stdout } = await run('losetup', ['--find', '--show', diskImage]);
    loopDevice = stdout.trim();
    if (!/^\/dev\/loop\d+$/.test(loopDevice)) throw new Error(`losetup gave ${JSON.stringify(loopDevice)}`);
    const { rdev } = statSync(loopDevice);
    const [major, minor] = [(rdev >> 8) & 0xfff, (rdev & 0xff) | ((rdev >> 12) & 0xfff00)];
    const deviceDir = path.join(hotplugDisks, o.volumeName);
    mkdirSync(deviceDir);
    try {
      await run('mknod', ['-m', '0660', path.join(deviceDir, randomUUID()), 'b', String(major), String(minor)]);
    } catch (err) {
      await run('losetup', ['--detach', loopDevice]);
      throw err;
    }
  }

  const rootfs = path.join(podDir, 'containers', 'hotplug-disk', 'rootfs');
  mkdirSync(path.join(rootfs, 'usr/bin'), { recursive: true });
  mkdirSync(path.join(rootfs, 'path'), { recursive: true });
  mkdirSync(path.join(rootfs, o.volumeName), { recursive: true });
  copyFileSync(nativeProgram('container-disk'), path.join(rootfs, 'usr/bin/container-disk'));
  chmodSync(path.join(rootfs, 'usr/bin/container-disk'), 0o755);
  // the rootfs a mount of its own (as a container's overlay is), the volumes in it, then the program
  const script = [
    'set -e',
    'mount --bind "$1" "$1"',
    'mount --bind "$2" "$1/path"',
    ...(o.volumeMode === 'Block' ? [] : ['mount --bind "$3" "$1/$4"']),
    'exec chroot --userspec=107:107 "$1" /usr/bin/container-disk --copy-path /path/hp',
  ].join('; ');
  const child = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', rootfs, hotplugDisks, claimDir, o.volumeName],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    if (loopDevice) await run('losetup', ['--detach', loopDevice]);
    rmSync(podDir, { recursive: true, force: true });
  };
  const socket = path.join(hotplugDisks, 'hp.sock');
  try {
    await poll(
      `attachment pod ${name} serving ${socket}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`hotplug-disk container exited ${child.exitCode}: ${stderr.trim()}`);
        return existsSync(socket) ? true : undefined;
      },
      10_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { name, podUID, diskImage, marker, process: child, stop, ...(loopDevice ? { loopDevice } : {}) };
}
