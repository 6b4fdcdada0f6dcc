// configureVirtioFS's path walk through the launcher pod's root: the socket found, a missing one
// failing as safepath's lstat, a symlink on the way refused (a chown must never land on the node's file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { VirtioFSOwnership } from '../src/virtiofs.ts';
import { inPodNoSymlink } from '../src/pod-files.ts';

test('the socket through the pod root; missing: lstat error; a symlink on the way: refused', () => {
  const dir = mkdtempSync('/tmp/kvts-virtiofs-');
  try {
    mkdirSync(path.join(dir, 'virtiofs-containers'));
    writeFileSync(path.join(dir, 'virtiofs-containers', 'shared.sock'), '');
    symlinkSync(path.join(dir, 'virtiofs-containers'), path.join(dir, 'link'));
    symlinkSync('/etc/hostname', path.join(dir, 'virtiofs-containers', 'evil.sock'));
    // this process stands for the launcher: its root is the same filesystem
    const root = `/proc/${process.pid}/root`;
    assert.equal(inPodNoSymlink(process.pid, `${dir}/virtiofs-containers/shared.sock`), `${root}${dir}/virtiofs-containers/shared.sock`);
    assert.throws(
      () => inPodNoSymlink(process.pid, `${dir}/virtiofs-containers/gone.sock`),
      new Error(`lstat ${root}${dir}/virtiofs-containers/gone.sock: no such file or directory`),
    );
    assert.throws(
      () => inPodNoSymlink(process.pid, `${dir}/link/shared.sock`),
      /link is a symbolic link in the launcher pod: not followed/,
    );
    assert.throws(() => inPodNoSymlink(process.pid, `${dir}/virtiofs-containers/evil.sock`), /evil\.sock is a symbolic link/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a VMI without filesystems asks for no launcher and touches nothing', () => {
  const asked: string[] = [];
  const ownership = new VirtioFSOwnership({
    launcherPid: (uid) => {
      asked.push(uid);
      throw new Error('no launcher');
    },
  });
  const vmi = { metadata: { name: 'v', namespace: 'ns', uid: 'u1' }, spec: { domain: { devices: {} } } } as VirtualMachineInstance;
  ownership.configure(vmi);
  assert.deepEqual(asked, []);
  // with a filesystem, the launcher's process is needed (and its absence is the sync's error)
  vmi.spec.domain.devices = { filesystems: [{ name: 'shared', virtiofs: {} }] };
  assert.throws(() => ownership.configure(vmi), /no launcher/);
  assert.deepEqual(asked, ['u1']);
});
