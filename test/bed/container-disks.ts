// The test bed's stand-in for a launcher pod's containerDisk containers (virt-controller renders one
// per containerDisk volume, and one for a kernel-boot container): KubeVirt's container-disk program,
// as uid 107, chrooted into a root filesystem of its own (the test guest's image laid out as
// images/test-guest/Containerfile lays it out) with the pod's container-disks volume at
// /var/run/kubevirt/container-disks/<vmi uid>. Its root is a mount of its own mount namespace, so the
// handler finds the image on the node exactly as for a container: from the socket to the process, from
// the process's mountinfo to the node's path.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { efiGuestDisk, guestArtifacts } from './guest.ts';
import { EFI_GUEST_IMAGE } from './launcher.ts';
import { nativeProgram } from './native.ts';
import type { PodSandbox } from './pod-sandbox.ts';
import { poll } from './poll.ts';

const IN_CONTAINER = '/var/run/kubevirt/container-disks';

export interface DiskContainer {
  /** virt-controller's container name (`volume<volume name>`) */
  name: string;
  /** The socket it serves, on the host. */
  socket: string;
  process: ChildProcess;
}

function place(from: string, to: string): void {
  mkdirSync(path.dirname(to), { recursive: true });
  if (existsSync(to)) return;
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/**
 * Starts the containerDisk containers of testVMI() or testEFIVMI(): `volume<name>` serving the guest's
 * data disk (the EFI guest's disk for EFI_GUEST_IMAGE) as disk_<index>.img and, unless `kernelBoot` is
 * false, `volumekernel-boot-volume` serving the kernel and initrd; resolves once all listen. The sandbox
 * stops them with the pod.
 */
export async function startContainerDisks(
  sandbox: PodSandbox,
  vmiUID: string,
  volumes: readonly { name: string; containerDisk?: { image?: string } }[],
  opts: { kernelBoot?: boolean } = {},
): Promise<DiskContainer[]> {
  const g = guestArtifacts();
  const volume = sandbox.volumePath('container-disks');
  const image = (name: string | undefined): [string, string] =>
    name === EFI_GUEST_IMAGE ? [efiGuestDisk(), 'disk/efi.img'] : [g.dataDisk, 'disk/data.img'];
  const specs: { name: string; copyName: string; files: [string, string][] }[] = volumes.flatMap((v, index) =>
    v.containerDisk ? [{ name: `volume${v.name}`, copyName: `disk_${index}`, files: [image(v.containerDisk.image)] }] : [],
  );
  if (opts.kernelBoot !== false) {
    specs.push({
      name: 'volumekernel-boot-volume',
      copyName: 'kernel-boot',
      files: [
        [g.kernel, 'boot/vmlinux'],
        [g.initrd, 'boot/initrd.img'],
      ],
    });
  }
  const started: DiskContainer[] = [];
  for (const spec of specs) {
    const rootfs = path.join(sandbox.podDir, 'containers', spec.name, 'rootfs');
    for (const [from, to] of spec.files) place(from, path.join(rootfs, to));
    place(nativeProgram('container-disk'), path.join(rootfs, 'usr/bin/container-disk'));
    const mountPoint = path.join(rootfs, IN_CONTAINER, vmiUID);
    mkdirSync(mountPoint, { recursive: true });
    const copyPath = path.posix.join(IN_CONTAINER, vmiUID, spec.copyName);
    // The rootfs a mount of its own (as a container's overlay is), the pod volume in it, then the program.
    const script = [
      'set -e',
      'mount --bind "$1" "$1"',
      'mount --bind "$2" "$3"',
      'exec chroot --userspec=107:107 "$1" /usr/bin/container-disk --copy-path "$4"',
    ].join('; ');
    const child = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', rootfs, volume, mountPoint, copyPath],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    sandbox.adopt(child);
    const socket = path.join(volume, `${spec.copyName}.sock`);
    started.push({ name: spec.name, socket, process: child });
    await poll(
      `${spec.name} listening on ${socket}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${spec.name} exited ${child.exitCode}: ${stderr.trim()}`);
        return existsSync(socket) ? true : undefined;
      },
      10_000,
    );
  }
  return started;
}

/** Ends a disk container as the kubelet would (SIGTERM), waiting for it. */
export async function stopDiskContainer(c: DiskContainer): Promise<void> {
  if (c.process.exitCode !== null || c.process.signalCode !== null) return;
  c.process.kill('SIGTERM');
  await once(c.process, 'exit');
}
