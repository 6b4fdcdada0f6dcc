// setupDevicesOwnerships on a pod root of the test's own, with real device nodes: what goes to the qemu
// user for a root and a non-root VMI, and what fails. A non-root VMI booting from a block claim the
// handler gave to qemu: host-disk.test.ts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseVMI } from '@kubevirt-ts/shared';
import { DeviceOwnership } from '../src/device-ownership.ts';
import { isCriticalNetworkError } from '../src/network/errors.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kvts-owner-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let pods = 0;
/** A pod root with these device nodes (root's, 0660) and files. */
function podRoot(nodes: Array<[string, 'b' | 'c', number, number]>, files: string[] = []): string {
  const root = path.join(tmp, `pod-${++pods}`);
  for (const [file, type, major, minor] of nodes) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    execFileSync('mknod', ['-m', '0660', path.join(root, file), type, String(major), String(minor)]);
  }
  for (const file of files) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), '');
  }
  return root;
}
const owner = (root: string, file: string) => {
  const st = lstatSync(path.join(root, file));
  return `${st.uid}:${st.gid}`;
};
const ownership = (root: string, allowEmulation = true) =>
  new DeviceOwnership({ pathInLauncher: (_uid, p) => path.join(root, p), allowEmulation: () => allowEmulation });

const vmi = (o: { nonRoot?: boolean; devices?: object; volumes?: object[]; volumeStatus?: object[] } = {}) =>
  parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'vm', namespace: 'ns', uid: 'u' },
    spec: { domain: { devices: o.devices ?? {} }, volumes: o.volumes ?? [] },
    status: { volumeStatus: o.volumeStatus ?? [], ...(o.nonRoot ? { runtimeUser: 107 } : {}) },
  });
const blockClaim = {
  volumes: [{ name: 'blk', persistentVolumeClaim: { claimName: 'c-blk' } }],
  volumeStatus: [{ name: 'blk', target: '', persistentVolumeClaimInfo: { volumeMode: 'Block' } }],
};

test('a root VMI: the hypervisor device only; its block claim and tun stay root’s', () => {
  const root = podRoot([
    ['/dev/kvm', 'c', 10, 232],
    ['/dev/blk', 'b', 7, 200],
    ['/dev/net/tun', 'c', 10, 200],
  ]);
  ownership(root).setup(vmi(blockClaim));
  assert.equal(owner(root, '/dev/kvm'), '107:107');
  assert.equal(owner(root, '/dev/blk'), '0:0');
  assert.equal(owner(root, '/dev/net/tun'), '0:0');
});

test('no hypervisor device: fine when emulating, else an error naming it; an auto-attached vsock must be there', () => {
  const root = podRoot([]);
  ownership(root, true).setup(vmi());
  assert.throws(() => ownership(root, false).setup(vmi()), /^Error: failed to set up file ownership for \/dev\/kvm: ENOENT/);
  assert.throws(
    () => ownership(root, true).setup(vmi({ devices: { autoattachVSOCK: true } })),
    /failed to set up file ownership for \/dev\/vhost-vsock/,
  );
});

test('a symlink where a device should be is refused, and its target keeps its owner', () => {
  const root = podRoot([['/dev/real-kvm', 'c', 10, 232]]);
  symlinkSync('real-kvm', path.join(root, 'dev/kvm'));
  assert.throws(() => ownership(root).setup(vmi()), /\/dev\/kvm is a symlink/);
  assert.equal(owner(root, '/dev/real-kvm'), '0:0');
});

test('a non-root VMI: block claims, host disks (or their directory), VFIO and tun; a filesystem or unknown claim is left', () => {
  const root = podRoot(
    [
      ['/dev/kvm', 'c', 10, 232],
      ['/dev/blk', 'b', 7, 200],
      ['/dev/fsclaim', 'b', 7, 201],
      ['/dev/vfio/vfio', 'c', 10, 196],
      ['/dev/vfio/12', 'c', 243, 0],
      ['/dev/net/tun', 'c', 10, 200],
    ],
    ['/var/run/kubevirt-private/vmi-disks/hd/disk.img'],
  );
  mkdirSync(path.join(root, '/var/run/kubevirt-private/vmi-disks/later'), { recursive: true });
  chmodSync(path.join(root, '/dev/vfio/vfio'), 0o600);
  ownership(root).setup(
    vmi({
      nonRoot: true,
      volumes: [
        ...blockClaim.volumes,
        { name: 'fsclaim', persistentVolumeClaim: { claimName: 'c-fs' } },
        { name: 'unknown', persistentVolumeClaim: { claimName: 'c-unknown' } },
        { name: 'missing', persistentVolumeClaim: { claimName: 'c-missing' } },
        { name: 'hd', hostDisk: { path: '/var/run/kubevirt-private/vmi-disks/hd/disk.img', type: 'DiskOrCreate', capacity: '1Mi' } },
        { name: 'later', hostDisk: { path: '/data/later.img', type: 'DiskOrCreate', capacity: '1Mi' } },
      ],
      volumeStatus: [
        ...blockClaim.volumeStatus,
        { name: 'fsclaim', target: '', persistentVolumeClaimInfo: { volumeMode: 'Filesystem' } },
        { name: 'missing', target: '', persistentVolumeClaimInfo: { volumeMode: 'Block' } },
      ],
    }),
  );
  assert.equal(owner(root, '/dev/blk'), '107:107');
  assert.equal(owner(root, '/dev/fsclaim'), '0:0');
  assert.equal(owner(root, '/var/run/kubevirt-private/vmi-disks/hd/disk.img'), '107:107');
  assert.equal(owner(root, '/var/run/kubevirt-private/vmi-disks/later'), '107:107', 'the directory the image will be made in');
  assert.equal(lstatSync(path.join(root, '/dev/vfio/vfio')).mode & 0o777, 0o666);
  assert.equal(owner(root, '/dev/vfio/vfio'), '0:0');
  assert.equal(owner(root, '/dev/vfio/12'), '107:107');
  assert.equal(owner(root, '/dev/net/tun'), '107:107');
});

test('a non-root VMI’s network devices: tun missing, or vhost-net for a virtio interface without emulation, is a critical network error', () => {
  const root = podRoot([['/dev/kvm', 'c', 10, 232]]);
  const noTun = (() => {
    try {
      ownership(root).setup(vmi({ nonRoot: true }));
    } catch (err) {
      return err;
    }
  })();
  assert.match(String(noTun), /failed to set up tun device, ENOENT/);
  assert.ok(isCriticalNetworkError(noTun));
  // no pod interface at all: no tun needed
  ownership(root).setup(vmi({ nonRoot: true, devices: { autoattachPodInterface: false } }));
  const withTun = podRoot([
    ['/dev/kvm', 'c', 10, 232],
    ['/dev/net/tun', 'c', 10, 200],
  ]);
  const virtio = { interfaces: [{ name: 'default', masquerade: {} }] };
  ownership(withTun, true).setup(vmi({ nonRoot: true, devices: virtio }));
  assert.throws(() => ownership(withTun, false).setup(vmi({ nonRoot: true, devices: virtio })), /failed to set up vhost-net device/);
});
