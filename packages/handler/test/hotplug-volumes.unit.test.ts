// Volume hotplug's decisions in virt-handler, table by table as KubeVirt's vm.go makes them:
// updateHotplugVolumeStatus (the phases the handler writes), hotplugVolumesReady,
// generateEventsForVolumeStatusChange, the needsRefresh requeue, and the device rules of a block volume. The mounts themselves are proven
// on real parts in hotplug-volumes.test.ts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { newDomain, parseDomain, parseVMI, type Domain, type VolumeStatus } from '@kubevirt-ts/shared';
import { hotplugVolumesPending, hotplugVolumesReady, volumeStatusEvents, volumeStatuses } from '../src/vmi-status.ts';
import { devNumbers, isBlockVolume, isHotplugVolume } from '../src/hotplug-disk/mounter.ts';
import { devicesCgroupPath, LauncherDeviceCgroup } from '../src/cgroup/devices.ts';

const uid = '1b5a3e3c-0000-4000-8000-0000000000h1';

const vmi = (volumes: string[], volumeStatus: object[] = []) =>
  parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'vm', namespace: 'ns', uid },
    spec: {
      domain: { devices: { disks: volumes.map((name) => ({ name, disk: { bus: 'scsi' } })) } },
      volumes: volumes.map((name) => ({ name, persistentVolumeClaim: { claimName: `c-${name}`, hotpluggable: true } })),
    },
    status: { phase: 'Running', volumeStatus },
  });

/** A domain with the hotplugged disk `hp` attached (sda), or without it. */
function domain(attached: boolean): Domain {
  const d = newDomain({ name: 'vm', namespace: 'ns', uid });
  if (attached) {
    d.Spec.Devices.Disks = [
      {
        Alias: { Name: 'hp', UserDefined: true },
        Target: { Bus: 'scsi', Device: 'sda', Tray: '' },
        Source: { File: '/var/run/kubevirt/hotplug-disks/hp.img' },
      } as never,
    ];
  }
  return parseDomain(d);
}

const hp = (phase: string, target = ''): VolumeStatus => ({
  name: 'hp',
  target,
  phase,
  reason: 'SuccessfulCreate',
  message: 'Created hotplug attachment pod hp-volume-abcde, for volume hp',
  hotplugVolume: { attachPodName: 'hp-volume-abcde', attachPodUID: 'a1' },
});

describe('updateHotplugVolumeStatus: the phase virt-handler writes', () => {
  const mounted = { phase: 'MountedToPod', reason: 'VolumeMountedToPod', message: 'Volume hp has been mounted in virt-launcher pod' };
  const unmounted = {
    phase: 'UnMountedFromPod',
    reason: 'VolumeUnMountedFromPod',
    message: 'Volume hp has been unmounted from virt-launcher pod',
  };
  const ready = { phase: 'Ready', reason: 'VolumeReady', message: 'Successfully attach hotplugged volume hp to VM' };
  const unchanged = (phase: string) => ({ phase, reason: hp(phase).reason, message: hp(phase).message });
  const cases: { name: string; phase: string; inSpec: boolean; isMounted: boolean; attached: boolean; want: object; target?: string }[] = [
    {
      name: 'attached to the node, mounted, in the spec → MountedToPod',
      phase: 'AttachedToNode',
      inSpec: true,
      isMounted: true,
      attached: false,
      want: mounted,
    },
    { name: 'Bound, mounted, in the spec → MountedToPod', phase: 'Bound', inSpec: true, isMounted: true, attached: false, want: mounted },
    {
      name: 'Pending, mounted, in the spec → MountedToPod',
      phase: 'Pending',
      inSpec: true,
      isMounted: true,
      attached: false,
      want: mounted,
    },
    {
      name: 'attached to the node, not yet mounted → unchanged',
      phase: 'AttachedToNode',
      inSpec: true,
      isMounted: false,
      attached: false,
      want: unchanged('AttachedToNode'),
    },
    {
      name: 'mounted but gone from the spec → unchanged (the sync detaches, then it is unmounted)',
      phase: 'AttachedToNode',
      inSpec: false,
      isMounted: true,
      attached: false,
      want: unchanged('AttachedToNode'),
    },
    {
      name: 'mounted, in the domain → Ready',
      phase: 'MountedToPod',
      inSpec: true,
      isMounted: true,
      attached: true,
      want: ready,
      target: 'sda',
    },
    {
      name: 'Ready stays Ready while the domain has it, even gone from the spec',
      phase: 'Ready',
      inSpec: false,
      isMounted: true,
      attached: true,
      want: ready,
      target: 'sda',
    },
    {
      name: 'Ready, detached, unmounted, gone from the spec → UnMountedFromPod',
      phase: 'Ready',
      inSpec: false,
      isMounted: false,
      attached: false,
      want: unmounted,
    },
    {
      name: 'MountedToPod, unmounted, gone from the spec → UnMountedFromPod',
      phase: 'MountedToPod',
      inSpec: false,
      isMounted: false,
      attached: false,
      want: unmounted,
    },
    {
      name: 'attached to the node, never mounted, gone from the spec → UnMountedFromPod',
      phase: 'AttachedToNode',
      inSpec: false,
      isMounted: false,
      attached: false,
      want: unmounted,
    },
    {
      name: 'Detaching (virt-controller) is left to virt-controller',
      phase: 'Detaching',
      inSpec: false,
      isMounted: false,
      attached: false,
      want: unchanged('Detaching'),
    },
    {
      name: 'Pending, not mounted, gone from the spec → unchanged',
      phase: 'Pending',
      inSpec: false,
      isMounted: false,
      attached: false,
      want: unchanged('Pending'),
    },
    {
      name: 'Ready, detached but still mounted and in the spec → unchanged (re-attached by the next sync)',
      phase: 'Ready',
      inSpec: true,
      isMounted: true,
      attached: false,
      want: unchanged('Ready'),
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const v = vmi(c.inSpec ? ['hp'] : [], [hp(c.phase)]);
      const asked: string[] = [];
      const [out] = volumeStatuses(v.status!.volumeStatus!, domain(c.attached), v, (name) => {
        asked.push(name);
        return c.isMounted;
      });
      assert.deepEqual({ phase: out?.phase, reason: out?.reason, message: out?.message }, c.want);
      assert.equal(out?.target, c.target ?? '');
      // IsMounted is asked only while the domain has no disk for the volume
      assert.deepEqual(asked, c.attached ? [] : ['hp']);
      assert.deepEqual(out?.hotplugVolume, { attachPodName: 'hp-volume-abcde', attachPodUID: 'a1' });
    });
  }

  test('a utility volume (spec.utilityVolumes) is in the spec: MountedToPod while there, UnMountedFromPod once gone', () => {
    const withUtility = (present: boolean) =>
      parseVMI({
        ...vmi([], [hp('AttachedToNode')]),
        spec: { domain: { devices: {} }, utilityVolumes: present ? [{ name: 'hp', claimName: 'c' }] : [] },
      });
    const [kept] = volumeStatuses([hp('AttachedToNode')], undefined, withUtility(true), () => true);
    assert.deepEqual({ phase: kept?.phase, reason: kept?.reason }, { phase: 'MountedToPod', reason: 'VolumeMountedToPod' });
    const [gone] = volumeStatuses([hp('MountedToPod')], undefined, withUtility(false), () => false);
    assert.deepEqual({ phase: gone?.phase, reason: gone?.reason }, { phase: 'UnMountedFromPod', reason: 'VolumeUnMountedFromPod' });
  });

  test('a volume that is not hotplugged gets its target only, and IsMounted is not asked', () => {
    const v = vmi(['data'], [{ name: 'data', target: '' }]);
    const out = volumeStatuses(v.status!.volumeStatus!, domain(false), v, () => assert.fail('asked'));
    assert.deepEqual(out, [{ name: 'data', target: '' }]);
  });
});

describe('needsRefresh: a hotplugged volume without a domain disk is looked at again in a second', () => {
  const cases: [string, VolumeStatus[], boolean][] = [
    ['none hotplugged', [{ name: 'data', target: 'vda' }], false],
    ['hotplugged, attached', [hp('Ready', 'sda')], false],
    ['hotplugged, waiting', [hp('AttachedToNode')], true],
    ['hotplugged, unmounted, waiting for virt-controller', [hp('UnMountedFromPod')], true],
  ];
  for (const [name, list, want] of cases) test(name, () => assert.equal(hotplugVolumesPending({ volumeStatus: list }), want));
});

describe('hotplugVolumesReady: a starting VMI with hotplug volumes waits for their mounts', () => {
  const cases: [string, ReturnType<typeof vmi>, boolean][] = [
    [
      'no hotplug volume',
      parseVMI({ ...vmi([]), spec: { domain: { devices: {} }, volumes: [{ name: 'd', containerDisk: { image: 'x' } }] } }),
      true,
    ],
    ['a hotplug volume and no statuses yet', vmi(['hp'], []), false],
    ['mounted to the pod', vmi(['hp'], [hp('MountedToPod')]), true],
    ['Ready', vmi(['hp'], [hp('Ready', 'sda')]), true],
    ['still attaching to the node', vmi(['hp'], [hp('AttachedToNode')]), false],
    ['one of two not mounted', vmi(['hp'], [hp('MountedToPod'), { ...hp('Bound'), name: 'hp2' }]), false],
    [
      'only a utility volume, still attaching',
      parseVMI({ ...vmi([], [hp('AttachedToNode')]), spec: { domain: { devices: {} }, utilityVolumes: [{ name: 'hp', claimName: 'c' }] } }),
      false,
    ],
    [
      'only a utility volume, mounted',
      parseVMI({ ...vmi([], [hp('MountedToPod')]), spec: { domain: { devices: {} }, utilityVolumes: [{ name: 'hp', claimName: 'c' }] } }),
      true,
    ],
  ];
  for (const [name, v, want] of cases) test(name, () => assert.equal(hotplugVolumesReady(v), want));
});

describe('generateEventsForVolumeStatusChange', () => {
  test('a changed phase gives its reason and message; an unchanged one nothing; a removed one VolumeUnplugged', () => {
    const before = [hp('AttachedToNode'), { name: 'gone', target: '', phase: 'Ready' }, { name: 'data', target: 'vda' }];
    const after = volumeStatuses(before.slice(0, 1), undefined, vmi(['hp']), () => true).concat([{ name: 'data', target: 'vda' }]);
    assert.deepEqual(volumeStatusEvents(before, after), [
      { reason: 'VolumeMountedToPod', message: 'Volume hp has been mounted in virt-launcher pod' },
      { reason: 'VolumeUnplugged', message: 'Volume gone has been unplugged' },
    ]);
  });
});

describe('the mounter’s vocabulary', () => {
  test('IsHotplugVolume: a claim or DataVolume marked hotpluggable, or a memory dump', () => {
    const vol = (v: object) =>
      parseVMI({ ...vmi([]), spec: { domain: { devices: {} }, volumes: [{ name: 'v', ...v }] } }).spec.volumes![0]!;
    assert.equal(isHotplugVolume(vol({ persistentVolumeClaim: { claimName: 'c', hotpluggable: true } })), true);
    assert.equal(isHotplugVolume(vol({ dataVolume: { name: 'd', hotpluggable: true } })), true);
    assert.equal(isHotplugVolume(vol({ memoryDump: { claimName: 'c' } })), true);
    assert.equal(isHotplugVolume(vol({ persistentVolumeClaim: { claimName: 'c' } })), false);
    assert.equal(isHotplugVolume(vol({ containerDisk: { image: 'x' } })), false);
  });
  test('a hotpluggable that is not a boolean is refused with the VMI', () => {
    assert.throws(
      () =>
        parseVMI({
          ...vmi([]),
          spec: { domain: { devices: {} }, volumes: [{ name: 'v', persistentVolumeClaim: { hotpluggable: 'yes' } }] },
        }),
      /hotpluggable/,
    );
  });
  test('isBlockVolume: the claim info virt-controller recorded says Block', () => {
    const list = [
      { ...hp('Bound'), persistentVolumeClaimInfo: { volumeMode: 'Block' } },
      { ...hp('Bound'), name: 'fs', persistentVolumeClaimInfo: { volumeMode: 'Filesystem' } },
      { ...hp('Bound'), name: 'none' },
    ];
    assert.deepEqual(
      ['hp', 'fs', 'none', 'missing'].map((n) => isBlockVolume(list, n)),
      [true, false, false, false],
    );
  });
  test('unix.Major and unix.Minor of a device number', () => {
    assert.deepEqual(devNumbers(0x0700), { major: 7, minor: 0 }); // loop0
    assert.deepEqual(devNumbers(0x0803), { major: 8, minor: 3 }); // sda3
    assert.deepEqual(devNumbers(0x10301), { major: 259, minor: 1 }); // nvme0n1p1
    assert.deepEqual(devNumbers(0x100800), { major: 8, minor: 256 }); // makedev(8, 256): the minor's high bits
  });
});

describe('the launcher pod’s devices cgroup (cgroup v1 manager)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kvts-cg-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const proc = path.join(tmp, 'proc');
  const root = path.join(tmp, 'cgroup');
  const pidWith = (pid: number, cgroup: string) => {
    mkdirSync(path.join(proc, String(pid)), { recursive: true });
    writeFileSync(path.join(proc, String(pid), 'cgroup'), cgroup);
    return pid;
  };
  const launcherCgroup = '/kubepods/besteffort/pod1/c1';
  const dir = path.join(root, 'devices', launcherCgroup);
  mkdirSync(dir, { recursive: true });
  const pids: Record<string, number> = {
    [uid]: pidWith(41, `12:pids:/kubepods\n5:devices:${launcherCgroup}\n1:name=systemd:/kubepods\n0::/\n`),
    root: pidWith(42, '5:devices:/\n'),
    v2: pidWith(43, '0::/kubepods.slice/c1\n'),
  };
  const manager = new LauncherDeviceCgroup({
    logger: pino({ level: 'silent' }),
    cgroupRoot: root,
    procDir: proc,
    allowEmulation: () => true,
    launcherPid: (id) => {
      const pid = pids[id];
      if (pid === undefined) throw new Error(`no launcher known for VMI ${id}`);
      return pid;
    },
  });
  const forUID = (id: string) => parseVMI({ ...vmi([]), metadata: { name: 'vm', namespace: 'ns', uid: id } });

  test('the devices controller’s path, alone or among others; none on cgroup v2', () => {
    assert.equal(devicesCgroupPath('3:cpu,cpuacct:/a\n5:devices:/kubepods/x\n'), '/kubepods/x');
    assert.equal(devicesCgroupPath('7:devices,freezer:/b\n'), '/b');
    assert.equal(devicesCgroupPath('0::/kubepods.slice/x\n'), undefined);
  });
  test('allow writes the rule into devices.allow, deny into devices.deny', async () => {
    await manager.allow(forUID(uid), 7, 3);
    assert.equal(readFileSync(path.join(dir, 'devices.allow'), 'utf8'), 'b 7:3 rwm');
    await manager.deny(uid, 7, 3);
    assert.equal(readFileSync(path.join(dir, 'devices.deny'), 'utf8'), 'b 7:3 rwm');
  });
  test('a launcher in the root devices cgroup needs no rule; a launcher that is gone needs no deny', async () => {
    await manager.allow(forUID('root'), 7, 3);
    await manager.deny('gone', 7, 3);
    assert.equal(existsSync(path.join(root, 'devices', 'devices.allow')), false);
  });
  test('no devices controller on a cgroup v1 node: refused, naming why', async () => {
    await assert.rejects(manager.allow(forUID('v2'), 7, 3), /no devices cgroup controller: .* not cgroup v2/);
  });
});
