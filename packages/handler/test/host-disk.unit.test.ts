// pkg/host-disk on virt-handler, table by table: which claims the launcher gets as hostDisks and at what
// size (ReplacePVCByHostDisk), and the images made before the first sync (DiskImgCreator) in a pod
// directory of the test's. A launcher booting from such an image: host-disk.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseVMI, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { alignImageSizeTo1MiB, HostDiskCreator, PVC_BASE_DIR, replacePVCByHostDisk } from '../src/host-disk.ts';

const vmi = (volumes: object[], volumeStatus: object[], filesystems: object[] = []) =>
  parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'vm', namespace: 'ns', uid: 'u1' },
    spec: { domain: { devices: { filesystems } }, volumes },
    status: { volumeStatus },
  });
const info = (o: object) => ({ accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem', ...o });
const status = (name: string, pvc?: object, extra: object = {}) => ({
  name,
  target: '',
  ...(pvc ? { persistentVolumeClaimInfo: pvc } : {}),
  ...extra,
});

test('filesystem claims and data volumes become hostDisks; virtiofs, hotplugged, block and unknown claims stay', () => {
  const before = vmi(
    [
      { name: 'fs', persistentVolumeClaim: { claimName: 'c-fs' } },
      { name: 'dv', dataVolume: { name: 'dv-1' } },
      { name: 'rwx', persistentVolumeClaim: { claimName: 'c-rwx' } },
      { name: 'blk', persistentVolumeClaim: { claimName: 'c-blk' } },
      { name: 'hp', persistentVolumeClaim: { claimName: 'c-hp', hotpluggable: true } },
      { name: 'shared', persistentVolumeClaim: { claimName: 'c-shared' } },
      { name: 'noinfo', persistentVolumeClaim: { claimName: 'c-noinfo' } },
      { name: 'cd', containerDisk: { image: 'x' } },
    ],
    [
      status('fs', info({ capacity: { storage: '2Gi' } })),
      status('dv', info({ capacity: { storage: '10G' }, requests: { storage: '5G' } })),
      status('rwx', info({ accessModes: ['ReadWriteMany'], capacity: { storage: '1Gi' }, requests: { storage: '2Gi' } })),
      status('blk', info({ volumeMode: 'Block', capacity: { storage: '1Gi' } })),
      status('hp', info({ capacity: { storage: '1Gi' } }), { hotplugVolume: { attachPodName: 'hp-pod' } }),
      status('shared', info({ capacity: { storage: '1Gi' } })),
      status('noinfo'),
    ],
    [{ name: 'shared', virtiofs: {} }],
  );
  const after = replacePVCByHostDisk(before);
  const byName = Object.fromEntries((after.spec.volumes ?? []).map((v) => [v.name, v]));
  assert.deepEqual(byName['fs'], {
    name: 'fs',
    hostDisk: { path: `${PVC_BASE_DIR}/fs/disk.img`, type: 'DiskOrCreate', capacity: '2Gi', shared: false },
  });
  // the request when it is the smaller: 5G = 5000000000 B, down to a whole MiB, kept decimal
  assert.deepEqual(byName['dv'], {
    name: 'dv',
    hostDisk: { path: `${PVC_BASE_DIR}/dv/disk.img`, type: 'DiskOrCreate', capacity: String(4999610368), shared: false },
  });
  // a request above the capacity: the capacity; ReadWriteMany: shared
  assert.deepEqual(byName['rwx']?.hostDisk, { path: `${PVC_BASE_DIR}/rwx/disk.img`, type: 'DiskOrCreate', capacity: '1Gi', shared: true });
  for (const name of ['blk', 'hp', 'shared', 'noinfo', 'cd']) {
    assert.deepEqual(
      byName[name],
      (before.spec.volumes ?? []).find((v) => v.name === name),
      name,
    );
  }
  // the VMI itself is left as it was
  assert.ok(before.spec.volumes?.[0]?.persistentVolumeClaim);
  // nothing to replace: the same object
  const plain = vmi([{ name: 'cd', containerDisk: { image: 'x' } }], []);
  assert.equal(replacePVCByHostDisk(plain), plain);
});

test('a claim with no size, or less than a MiB: refused with KubeVirt’s words', () => {
  const one = (pvc: object) => vmi([{ name: 'fs', persistentVolumeClaim: { claimName: 'c' } }], [status('fs', info(pvc))]);
  assert.throws(
    () => replacePVCByHostDisk(one({})),
    /unable to determine capacity of HostDisk from PVC that provides no storage capacity or requests/,
  );
  assert.throws(
    () => replacePVCByHostDisk(one({ capacity: { storage: '1000Ki' } })),
    /the size for volume fs is too low, must be at least 1MiB/,
  );
  assert.equal(alignImageSizeTo1MiB(3 * 1024 * 1024 + 5), 3 * 1024 * 1024);
});

test('the images: made sparse at their size and owned by qemu; one already there is left; too little room is tolerated up to the percentage, with an Event', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kvts-hostdisk-'));
  const events: string[] = [];
  let available = 10 * 1024 ** 3;
  const creator = new HostDiskCreator({
    logger: pino({ level: 'silent' }),
    recorder: { event: (_o, type, reason, message) => events.push(`${type} ${reason}: ${message}`) },
    pathInLauncher: (_uid, p) => path.join(root, p),
    lessPVCSpaceToleration: () => 10,
    minimumReservePVCBytes: () => 131072,
    bytesAvailable: () => available,
  });
  const dirOf = (volume: string) => {
    const dir = path.join(root, PVC_BASE_DIR, volume);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const disk = (name: string, capacity: string, file = 'disk.img') => ({
    name,
    hostDisk: { path: `${PVC_BASE_DIR}/${name}/${file}`, type: 'DiskOrCreate', capacity },
  });
  try {
    const a = dirOf('a');
    const existing = dirOf('b');
    writeFileSync(path.join(existing, 'disk.img'), 'kept');
    dirOf('user');
    creator.create(
      vmi(
        [disk('a', '64Mi'), disk('b', '1Gi'), disk('user', '2Mi', 'data.raw'), { name: 'x', hostDisk: { path: '/x', type: 'Disk' } }],
        [],
      ) as VirtualMachineInstance,
    );
    const made = statSync(path.join(a, 'disk.img'));
    assert.equal(made.size, 64 * 1024 * 1024);
    assert.ok(made.blocks * 512 < made.size, 'sparse');
    assert.deepEqual([made.uid, made.gid], [107, 107]);
    assert.equal(statSync(path.join(existing, 'disk.img')).size, 4, 'an image already there is not touched');
    assert.equal(statSync(path.join(root, PVC_BASE_DIR, 'user', 'data.raw')).size, 2 * 1024 * 1024);
    assert.deepEqual(events, []);

    // 100 MiB asked, 95 MiB (less the reserve) there: within 10 %
    dirOf('small');
    available = 95 * 1024 * 1024;
    creator.create(vmi([disk('small', '100Mi')], []));
    assert.equal(statSync(path.join(root, PVC_BASE_DIR, 'small', 'disk.img')).size, available - 131072);
    assert.deepEqual(events, [
      `Normal ToleratedSmallPV: PV size too small: expected ${100 * 1024 * 1024} B, found ${available - 131072} B. Using it anyway, it is within 10 % toleration`,
    ]);

    // 80 MiB there: not within 10 %
    dirOf('tiny');
    available = 80 * 1024 * 1024;
    assert.throws(
      () => creator.create(vmi([disk('tiny', '100Mi')], [])),
      /^Error: preparing host-disks failed: unable to create \/var\/run\/kubevirt-private\/vmi-disks\/tiny\/disk.img, not enough space, demanded size 104857600 B is bigger than available space 83755008 B, also after taking 10 % toleration into account$/,
    );
    // the claim's directory not mounted
    assert.throws(() => creator.create(vmi([disk('nodir', '1Mi')], [])), /preparing host-disks failed: Resolve diskdir/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
