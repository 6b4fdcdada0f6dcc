// The launcher's own inspection of containerDisk images (KubeVirt's GetDiskInfoWithValidation and
// VerifyImage), on images the real qemu-img makes, under the real ulimits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { ContainerDisksInfo, getDiskInfoWithValidation, verifyImage, DefaultDiskMemoryLimitBytes } from '../src/disk-info.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync('/tmp/kvts-disk-info-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function image(dir: string, name: string, format: string, extra: string[] = []): Promise<string> {
  const file = path.join(dir, name);
  await run('qemu-img', ['create', '-f', format, ...extra, file, '16M']);
  return file;
}

test('a raw image → format raw, its virtual size, no backing file; verified', async (t) => {
  const file = await image(tempDir(t), 'disk.img', 'raw');
  const info = await getDiskInfoWithValidation(file, DefaultDiskMemoryLimitBytes);
  assert.equal(info.format, 'raw');
  assert.equal(info.virtualSize, 16 * MiB);
  assert.equal(info.backingFile, '');
  verifyImage(info);
});

test('a qcow2 image → format qcow2; verified', async (t) => {
  const file = await image(tempDir(t), 'disk.img', 'qcow2');
  const info = await getDiskInfoWithValidation(file, DefaultDiskMemoryLimitBytes);
  assert.equal(info.format, 'qcow2');
  assert.equal(info.virtualSize, 16 * MiB);
  assert.ok(info.actualSize > 0, 'qemu-img reports the allocated size');
  verifyImage(info);
});

test('a qcow2 image with a backing file → "expected no backing file, but found <file>"', async (t) => {
  const dir = tempDir(t);
  const base = await image(dir, 'base.img', 'raw');
  const file = await image(dir, 'disk.img', 'qcow2', ['-b', base, '-F', 'raw']);
  const info = await getDiskInfoWithValidation(file, DefaultDiskMemoryLimitBytes);
  assert.equal(info.backingFile, base);
  assert.throws(() => verifyImage(info), { message: `expected no backing file, but found ${base}` });
});

test('a vmdk image → "unsupported image format: vmdk"', async (t) => {
  const file = await image(tempDir(t), 'disk.img', 'vmdk');
  const info = await getDiskInfoWithValidation(file, DefaultDiskMemoryLimitBytes);
  assert.equal(info.format, 'vmdk');
  assert.throws(() => verifyImage(info), { message: 'unsupported image format: vmdk' });
});

test('a memory limit qemu-img cannot run in → "failed to invoke qemu-img: exit status N: \'<its stderr>\'"', async (t) => {
  const file = await image(tempDir(t), 'disk.img', 'qcow2');
  await assert.rejects(getDiskInfoWithValidation(file, 4 * MiB), (err: Error) => {
    assert.match(err.message, /^failed to invoke qemu-img: exit status [1-9]\d*: '.+'$/s);
    return true;
  });
});

test("a missing image → qemu-img's own error, naming the file", async (t) => {
  const file = path.join(tempDir(t), 'nope.img');
  await assert.rejects(getDiskInfoWithValidation(file, DefaultDiskMemoryLimitBytes), (err: Error) => {
    assert.match(err.message, /^failed to invoke qemu-img: exit status 1: 'qemu-img: Could not open '.*nope\.img'/);
    return true;
  });
});

test('qemu-img runs under 10 CPU seconds and --disk-memory-limit of address space (ulimit -t 10, -v limit/1024)', async (t) => {
  // a program in qemu-img's place that answers `info` with the limits it was started under
  const probe = path.join(tempDir(t), 'qemu-img');
  writeFileSync(probe, '#!/bin/sh\nprintf \'{"format":"raw","virtual-size":%s,"actual-size":%s}\' "$(ulimit -t)" "$(ulimit -v)"\n', {
    mode: 0o755,
  });
  const info = await getDiskInfoWithValidation('/nonexistent.img', 1500 * MiB, probe);
  assert.deepEqual({ cpuSeconds: info.virtualSize, addressSpaceKiB: info.actualSize }, { cpuSeconds: 10, addressSpaceKiB: 1500 * 1024 });
});

test('a path with shell specials is an argument, never part of the script', async (t) => {
  // interpreted by a shell, the name would change (quote, substitution, separator) and no file would match
  const file = await image(tempDir(t), `a'b "$(echo x)" \`false\`; c.img`, 'raw');
  assert.equal((await getDiskInfoWithValidation(file, DefaultDiskMemoryLimitBytes)).format, 'raw');
});

function vmi(volumes: VirtualMachineInstance['spec']['volumes']): VirtualMachineInstance {
  return {
    metadata: { name: 'v', namespace: 'ns', uid: '00000000-0000-4000-8000-000000000001' },
    spec: { domain: { devices: {} }, volumes },
  } as VirtualMachineInstance;
}

test("ContainerDisksInfo: each containerDisk volume by its index, cached by name for the launcher's life", async (t) => {
  const dir = tempDir(t);
  const containerDiskDir = path.join(dir, 'container-disks');
  mkdirSync(containerDiskDir);
  await image(containerDiskDir, 'disk_1.img', 'qcow2');
  await image(containerDiskDir, 'disk_2.img', 'raw');
  const disks = new ContainerDisksInfo({ containerDiskDir });
  const v = vmi([
    { name: 'ci', cloudInitNoCloud: { userData: '#cloud-config\n' } },
    { name: 'root', containerDisk: { image: 'a' } },
    { name: 'constructor', containerDisk: { image: 'b' } },
  ]);
  await disks.update(v);
  const formats = () => Object.fromEntries(Object.entries(disks.byVolume).map(([name, info]) => [name, info.format]));
  assert.deepEqual(formats(), { root: 'qcow2', constructor: 'raw' });
  // inspected once: a later sync does not look again (the image a container brings does not change)
  rmSync(path.join(containerDiskDir, 'disk_1.img'));
  await disks.update(v);
  assert.deepEqual(formats(), { root: 'qcow2', constructor: 'raw' });
});

test("ContainerDisksInfo: KubeVirt's errors, and nothing cached for the failed volume", async (t) => {
  const dir = tempDir(t);
  const base = await image(dir, 'base.img', 'raw');
  await image(dir, 'disk_0.img', 'qcow2', ['-b', base, '-F', 'raw']);
  const disks = new ContainerDisksInfo({ containerDiskDir: dir });
  await assert.rejects(disks.update(vmi([{ name: 'root', containerDisk: { image: 'a' } }])), {
    message: `invalid image in containerDisk root: expected no backing file, but found ${base}`,
  });
  await assert.rejects(
    disks.update(
      vmi([
        { name: 'x', containerDisk: { image: 'a' } },
        { name: 'y', containerDisk: { image: 'b' } },
      ]),
    ),
    (err: Error) => {
      // x (disk_0.img, the backed qcow2) fails first; y (disk_1.img, absent) is never reached
      assert.match(err.message, /^invalid image in containerDisk x: /);
      return true;
    },
  );
  rmSync(path.join(dir, 'disk_0.img'));
  await assert.rejects(disks.update(vmi([{ name: 'root', containerDisk: { image: 'a' } }])), (err: Error) => {
    assert.match(err.message, /^failed to get container disk info: failed to invoke qemu-img: exit status 1: '.*disk_0\.img/s);
    return true;
  });
  assert.deepEqual(Object.keys(disks.byVolume), []);
  const tiny = new ContainerDisksInfo({ containerDiskDir: dir, diskMemoryLimitBytes: 4 * MiB });
  await image(dir, 'disk_0.img', 'raw');
  await assert.rejects(
    tiny.update(vmi([{ name: 'root', containerDisk: { image: 'a' } }])),
    /^Error: failed to get container disk info: failed to invoke qemu-img: /,
  );
});
