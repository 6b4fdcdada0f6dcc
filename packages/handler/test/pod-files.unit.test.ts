// The launcher pod's files the VMI status reads (ISO sizes, the SELinux context), through /proc/<pid>/root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LauncherPodFiles, regularFileSize } from '../src/pod-files.ts';

test('a regular file’s size through the pod’s root; symlinks on the way, directories and missing files give none', () => {
  const dir = mkdtempSync('/tmp/kvts-podfiles-');
  try {
    mkdirSync(path.join(dir, 'disks'));
    writeFileSync(path.join(dir, 'disks', 'noCloud.iso'), Buffer.alloc(374784));
    symlinkSync(path.join(dir, 'disks'), path.join(dir, 'link'));
    symlinkSync('/etc/hostname', path.join(dir, 'disks', 'evil.iso'));
    // this process stands for the launcher: its root is the same filesystem
    assert.equal(regularFileSize(process.pid, path.join(dir, 'disks', 'noCloud.iso')), 374784);
    assert.equal(regularFileSize(process.pid, path.join(dir, 'link', 'noCloud.iso')), undefined, 'a symlinked directory');
    assert.equal(regularFileSize(process.pid, path.join(dir, 'disks', 'evil.iso')), undefined, 'a symlinked file');
    assert.equal(regularFileSize(process.pid, path.join(dir, 'disks')), undefined, 'a directory');
    assert.equal(regularFileSize(process.pid, path.join(dir, 'disks', 'missing.iso')), undefined);

    const files = new LauncherPodFiles({
      launcherPid: (uid) => {
        if (uid !== 'known') throw new Error(`no launcher known for VMI ${uid}`);
        return process.pid;
      },
      procFilesystems: path.join(dir, 'filesystems'),
    });
    assert.equal(files.fileSize('known', path.join(dir, 'disks', 'noCloud.iso')), 374784);
    assert.equal(files.fileSize('unknown', path.join(dir, 'disks', 'noCloud.iso')), undefined, 'no launcher: no size, no throw');
    // SELinux: `none` when the kernel has no selinuxfs registered; left alone (undefined) when it has, or cannot be told
    assert.equal(files.selinuxContext('known'), undefined, 'unreadable');
    writeFileSync(path.join(dir, 'filesystems'), 'nodev\tsysfs\nnodev\tproc\n\text4\n');
    assert.equal(files.selinuxContext('known'), 'none');
    const enabled = new LauncherPodFiles({ launcherPid: () => process.pid, procFilesystems: path.join(dir, 'filesystems-selinux') });
    writeFileSync(path.join(dir, 'filesystems-selinux'), 'nodev\tsysfs\nnodev\tselinuxfs\n\text4\n');
    assert.equal(enabled.selinuxContext('known'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
