// Plays kubelet and CSI for a launcher pod's PersistentVolumeClaims: a file system claim is a
// directory with disk.img mounted at /var/run/kubevirt-private/vmi-disks/<volume>/; a block claim is
// a device node at /dev/<volume> (here a loop device over an image file; its node is made in the
// pod's /dev, since a bind mount cannot cross into the pod's mount namespace).
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PodSandbox } from './pod-sandbox.ts';

const run = promisify(execFile);

/** Copies `image` into the pod as the file system claim of `volume`. */
export function provideFilesystemClaim(sandbox: PodSandbox, volume: string, image: string): string {
  const dir = path.join(sandbox.volumePath('private'), 'vmi-disks', volume);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'disk.img');
  copyFileSync(image, file);
  return file;
}

export interface BlockClaim {
  /** The host's loop device, e.g. /dev/loop3 */
  readonly device: string;
  /** Detaches the loop device; call after the pod sandbox (and QEMU with it) is gone. */
  release(): Promise<void>;
}

/** A loop device over a copy of `image`, its node at /dev/<volume> in the pod. */
export async function provideBlockClaim(sandbox: PodSandbox, volume: string, image: string): Promise<BlockClaim> {
  const backing = path.join(sandbox.podDir, `${volume}.blockclaim.img`);
  copyFileSync(image, backing);
  const { stdout } = await run('losetup', ['--find', '--show', backing]);
  const device = stdout.trim();
  if (!/^\/dev\/loop\d+$/.test(device)) throw new Error(`losetup gave ${JSON.stringify(device)}`);
  const release = async () => {
    await run('losetup', ['--detach', device]);
  };
  try {
    // the pod's /dev is its own tmpfs (as a container's): the device node is made there, as the
    // container runtime does for a volumeDevice
    const { rdev } = statSync(device);
    const major = (rdev >> 8) & 0xfff;
    const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
    const target = `/dev/${volume}`;
    const mount = sandbox.spawn('mknod', ['-m', '0660', target, 'b', String(major), String(minor)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    mount.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(mount, 'close')) as [number | null];
    if (code !== 0) throw new Error(`making ${target} (${device}) in the pod failed (${code}): ${err.trim()}`);
  } catch (e) {
    await release();
    throw e;
  }
  return { device, release };
}
