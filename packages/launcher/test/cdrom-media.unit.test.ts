// CD-ROM media changes (KubeVirt's DeclarativeHotplugVolumes): an empty CD-ROM drive (a cdrom disk
// without a volume) as the converter writes it, and getUpdatedDisks' decision of which running drives
// get a new medium or lose theirs, with KubeVirt's own cases from manager_test.go. The change on a
// running guest is proven in packages/handler/test/cdrom-media.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { DomainState, domainStateWithReason, type Domain as VirDomain } from '@kubevirt-ts/libvirt';
import { parseVMI, vmiNameToDomainName, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { AsyncAgentStore } from '../src/agent/store.ts';
import { diskCodec, diskDriverCodec, diskSourceCodec, domainSpecToXML, newStruct, type Disk, type DiskSource } from '../src/api/index.ts';
import { convertVMIToDomainSpec, type ConverterContext } from '../src/converter/index.ts';
import { DomainManager, type LibvirtConnection } from '../src/domain-manager.ts';
import { diskToXML, syncDisks, updatedDisks, type HotplugConnection } from '../src/hotplug-disks.ts';
import { POD_CONTEXT } from './pod-context.ts';

const UID = '11111111-2222-3333-4444-5555555555c1';
const HOTPLUG = '/var/run/kubevirt/hotplug-disks';
const ctx: ConverterContext = { ...POD_CONTEXT, isBlockPVC: { root: false, cd: false } };

/**
 * A VMI with a permanent claim `root` and a SATA CD-ROM drive `cd`; `medium` gives the drive a
 * hotplugged claim, its volume status in that phase.
 */
function vmi(medium?: string, cdStatus: Record<string, unknown> = {}): VirtualMachineInstance {
  return parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'vm', namespace: 'ns', uid: UID },
    spec: {
      domain: {
        resources: { requests: { memory: '128Mi' } },
        devices: {
          disks: [
            { name: 'root', disk: { bus: 'virtio' } },
            { name: 'cd', cdrom: { bus: 'sata' } },
          ],
        },
      },
      volumes: [
        { name: 'root', persistentVolumeClaim: { claimName: 'root' } },
        ...(medium ? [{ name: 'cd', persistentVolumeClaim: { claimName: 'iso', hotpluggable: true } }] : []),
      ],
    },
    status: {
      phase: 'Running',
      volumeStatus: [
        { name: 'root', target: 'vda' },
        ...(medium
          ? [{ name: 'cd', target: '', phase: medium, hotplugVolume: { attachPodName: 'hp-volume-cd', attachPodUID: 'u' }, ...cdStatus }]
          : []),
      ],
    },
  });
}

const disks = (v: VirtualMachineInstance) => convertVMIToDomainSpec(v, ctx).Devices.Disks ?? [];
const drive = (v: VirtualMachineInstance) => disks(v).find((d) => d.Alias?.Name === 'cd');

describe('the converter: an empty CD-ROM drive (convert_v1_Missing_Volume_To_api_Disk)', () => {
  test('a cdrom disk without a volume is a drive with no source: block, raw, read-only, tray closed (the default)', () => {
    const cd = drive(vmi());
    assert.ok(cd, 'the empty drive is in the domain');
    assert.equal(
      diskToXML(cd),
      [
        '<disk device="cdrom" type="block">',
        '\t<source></source>',
        '\t<target bus="sata" dev="sda" tray="closed"></target>',
        '\t<driver error_policy="stop" name="qemu" type="raw" discard="unmap"></driver>',
        '\t<readonly></readonly>',
        '\t<alias name="ua-cd"></alias>',
        '</disk>',
      ].join('\n'),
    );
  });

  test('the empty drive is in the domain although virt-controller made no volume status for it', () => {
    assert.deepEqual(
      disks(vmi()).map((d) => `${d.Alias?.Name}:${d.Target.Device}`),
      ['root:vda', 'cd:sda'],
    );
  });

  test("KubeVirt's case: a VMI whose only disk is an empty CD-ROM drive", () => {
    const v = vmi();
    v.spec.domain.devices!.disks = [{ name: 'mycdrom', cdrom: { bus: 'sata' } }];
    v.spec.volumes = [];
    delete v.status;
    const [cd, ...rest] = disks(v);
    assert.deepEqual(rest, []);
    assert.equal(cd?.Device, 'cdrom');
    assert.equal(cd?.Type, 'block');
    assert.deepEqual(cd?.Target, { Bus: 'sata', Device: 'sda', Tray: 'closed' });
    assert.deepEqual([cd?.Driver?.Name, cd?.Driver?.Type, cd?.Driver?.ErrorPolicy, cd?.Driver?.Discard], ['qemu', 'raw', 'stop', 'unmap']);
    assert.deepEqual(cd?.ReadOnly, {});
    assert.equal(cd?.Source.File || cd?.Source.Dev, '');
  });

  test('a disk (not a CD-ROM) without a volume is refused', () => {
    const v = vmi();
    v.spec.domain.devices!.disks![1] = { name: 'cd', disk: { bus: 'virtio' } };
    assert.throws(() => convertVMIToDomainSpec(v, ctx), /spec\.domain\.devices\.disks\[1\]\.name: no matching volume with name cd found/);
  });

  const phases: [string, string, string | undefined][] = [
    ['attached to the node only: the drive is left out until mounted', 'AttachedToNode', undefined],
    ['mounted into the pod: the hotplugged image', 'MountedToPod', `${HOTPLUG}/cd.img`],
    ['Ready: the hotplugged image', 'Ready', `${HOTPLUG}/cd.img`],
  ];
  for (const [name, phase, source] of phases) {
    test(`a drive with a hotplugged medium, ${name}`, () => {
      const cd = drive(vmi(phase));
      assert.equal(cd?.Source.File, source);
      if (cd) {
        assert.equal(cd.Type, 'file');
        assert.equal(cd.Device, 'cdrom');
        assert.equal(cd.Driver?.Type, 'raw');
      }
    });
  }

  test('a CD-ROM drive keeps the target its volume status recorded (deviceNamer)', () => {
    // `other` comes first but `cd` had sda: `other` takes the next free name
    const v = vmi('Ready', { target: 'sda' });
    v.spec.domain.devices!.disks!.splice(1, 0, { name: 'other', cdrom: { bus: 'sata' } });
    assert.deepEqual(
      disks(v).map((d) => `${d.Alias?.Name}:${d.Target.Device}`),
      ['root:vda', 'other:sdb', 'cd:sda'],
    );
  });
});

/** A disk as manager_test.go writes them: device, target, source; every other field Go's zero. */
function disk(device: string, target: string, source: Partial<DiskSource> | null, extra: Partial<Disk> = {}): Disk {
  return newStruct(diskCodec, {
    Device: device,
    Target: { Bus: '', Device: target, Tray: '' },
    Source: newStruct(diskSourceCodec, source ?? {}),
    ...extra,
  });
}
const raw = (type: string) => ({ Type: type, Driver: newStruct(diskDriverCodec, { Type: 'raw' }) });

describe("getUpdatedDisks: KubeVirt's cases", () => {
  const hp = (file: string) => `${HOTPLUG}/${file}`;
  const cases: [string, Disk[], Disk[], Disk[]][] = [
    ['be empty with empty old and new', [], [], []],
    [
      'be empty with empty old and new being identical',
      [disk('cdrom', 'sda', { Name: 'test', File: hp('file1') })],
      [disk('cdrom', 'sda', { Name: 'test', File: hp('file1') })],
      [],
    ],
    [
      'be empty with new disk being added',
      [disk('cdrom', 'sda', { Name: 'test', File: hp('file1') })],
      [disk('cdrom', 'sda', { Name: 'test', File: hp('file1') }), disk('cdrom', 'sdb', { Name: 'test2', File: hp('file2') })],
      [],
    ],
    [
      'be ejected if disk removed',
      [disk('cdrom', 'sda', { Name: 'test', File: hp('file1') }), disk('cdrom', 'sdb', { Name: 'test2', File: hp('file2') })],
      [disk('cdrom', 'sda', { Name: 'test', File: hp('file1') })],
      [disk('cdrom', 'sdb', null, raw('block'))],
    ],
    [
      'be empty not cd-roms',
      [disk('disk', 'sda', { Name: 'test', File: hp('file1') })],
      [disk('disk', 'sda', { Name: 'test2', File: hp('file2') })],
      [],
    ],
    [
      'be empty if not hotplug',
      [disk('cdrom', 'sda', { Name: 'test', File: 'file1' })],
      [disk('cdrom', 'sda', { Name: 'test2', File: 'file2' })],
      [],
    ],
    [
      'cd-rom inject',
      [disk('cdrom', 'sda', null)],
      [disk('cdrom', 'sda', { Name: 'test1', File: hp('file1') })],
      [disk('cdrom', 'sda', { Name: 'test1', File: hp('file1') }, raw('file'))],
    ],
    [
      'cd-rom eject',
      [disk('cdrom', 'sda', { Name: 'test1', File: hp('file1') })],
      [disk('cdrom', 'sda', null)],
      [disk('cdrom', 'sda', null, raw('block'))],
    ],
    [
      'cd-rom swap',
      [disk('cdrom', 'sda', { Name: 'test1', File: hp('file1') })],
      [disk('cdrom', 'sda', { Name: 'test2', File: hp('file2') })],
      [disk('cdrom', 'sda', { Name: 'test2', File: hp('file2') }, raw('file'))],
    ],
    [
      'cd-rom swap block',
      [disk('cdrom', 'sda', { Name: 'test1', File: hp('file1') })],
      [disk('cdrom', 'sda', { Name: 'test2', Dev: hp('file2') })],
      [disk('cdrom', 'sda', { Name: 'test2', Dev: hp('file2') }, raw('block'))],
    ],
  ];
  for (const [name, oldDisks, newDisks, want] of cases) test(name, () => assert.deepEqual(updatedDisks(oldDisks, newDisks), want));

  test('a drive whose new medium is not hotplugged (a permanent volume) is left alone', () => {
    assert.deepEqual(updatedDisks([disk('cdrom', 'sda', null)], [disk('cdrom', 'sda', { File: '/var/run/kubevirt-private/x.iso' })]), []);
  });

  test('a cdrom that became a disk on the same target is left alone', () => {
    assert.deepEqual(updatedDisks([disk('cdrom', 'sda', null)], [disk('disk', 'sda', { File: hp('file1') })]), []);
  });

  test("the running drive's other settings stay (alias, bus, read-only, driver), its type follows the medium", () => {
    const running = disk('cdrom', 'sda', null, {
      Type: 'block',
      Alias: { Name: 'cd', UserDefined: true },
      ReadOnly: {},
      Driver: newStruct(diskDriverCodec, { Name: 'qemu', ErrorPolicy: 'stop' }),
    });
    running.Target.Bus = 'sata';
    const [update] = updatedDisks([running], [disk('cdrom', 'sda', { File: hp('cd.img') })]);
    assert.equal(
      diskToXML(update!),
      [
        '<disk device="cdrom" type="file">',
        '\t<source file="/var/run/kubevirt/hotplug-disks/cd.img"></source>',
        '\t<target bus="sata" dev="sda"></target>',
        '\t<driver error_policy="stop" name="qemu" type="raw"></driver>',
        '\t<readonly></readonly>',
        '\t<alias name="ua-cd"></alias>',
        '</disk>',
      ].join('\n'),
    );
    // nothing of the running disk was changed in place
    assert.equal(running.Source.File, '');
    assert.equal(running.Driver?.Type, '');
  });

  test('an empty list in the running source is the same as none (Semantic.DeepEqual)', () => {
    const running = disk('cdrom', 'sda', { File: hp('cd.img'), Slices: [] });
    assert.deepEqual(updatedDisks([running], [disk('cdrom', 'sda', { File: hp('cd.img') })]), []);
  });
});

describe('syncDisks: media changes on a running domain', () => {
  const dom = { name: 'ns_vm', uuid: UID, id: 1 };
  const silent = pino({ level: 'silent' });
  function recorder() {
    const calls: string[] = [];
    const conn: HotplugConnection = {
      domainAttachDeviceFlags: async (_d, xml) => void calls.push(`attach ${xml}`),
      domainDetachDeviceFlags: async (_d, xml) => void calls.push(`detach ${xml}`),
      domainUpdateDeviceFlags: async (_d, xml, flags) => void calls.push(`update(${flags}) ${xml}`),
    };
    return { calls, conn };
  }
  const empty = disks(vmi());
  const injected = disks(vmi('MountedToPod'));

  test('inject: the new medium once its image can be opened, live and persistent; no attach or detach', async () => {
    const { calls, conn } = recorder();
    assert.equal(await syncDisks(conn, dom, empty, injected, silent, () => false), 0);
    assert.deepEqual(calls, [], 'an image not there yet waits for the next sync');
    // one medium changed: the DomainManager sends the domain again
    assert.equal(await syncDisks(conn, dom, empty, injected, silent, (f) => f === `${HOTPLUG}/cd.img`), 1);
    assert.equal(calls.length, 1);
    assert.match(calls[0]!, /^update\(3\) <disk device="cdrom" type="file">/);
    assert.match(calls[0]!, /<source file="\/var\/run\/kubevirt\/hotplug-disks\/cd\.img"><\/source>/);
  });

  test('eject: the drive without a source, whatever can be opened', async () => {
    const { calls, conn } = recorder();
    assert.equal(await syncDisks(conn, dom, injected, empty, silent, () => false), 1);
    assert.equal(calls.length, 1);
    assert.match(calls[0]!, /^update\(3\) <disk device="cdrom" type="block">\n\t<source><\/source>/);
  });

  test('a medium not yet mounted into the pod leaves the empty drive as it is', async () => {
    const { calls, conn } = recorder();
    await syncDisks(conn, dom, empty, disks(vmi('AttachedToNode')), silent, () => true);
    assert.deepEqual(calls, []);
  });
});

describe('DomainManager.syncVMI: a media change has the domain sent again', () => {
  /** A running domain of `xml`; UpdateDeviceFlags recorded and applied as libvirt would (the new XML). */
  function fakeConnection(xml: string) {
    const dom: VirDomain = { name: vmiNameToDomainName('ns', 'vm'), uuid: UID, id: 1 };
    const state = { xml, updates: [] as string[] };
    const conn: Partial<LibvirtConnection> = {
      domainLookupByName: async () => dom,
      domainGetState: async () => domainStateWithReason(DomainState.RUNNING, 1),
      domainGetXMLDesc: async () => state.xml,
      domainUpdateDeviceFlags: async (_d, disk) => {
        state.updates.push(disk);
        state.xml = domainSpecToXML(convertVMIToDomainSpec(vmi(), ctx));
      },
    };
    // any other call is one this sync must not make
    const strict = new Proxy(conn, {
      get: (target, key) => target[key as keyof LibvirtConnection] ?? (() => Promise.reject(new Error(`unexpected ${String(key)}`))),
    }) as LibvirtConnection;
    return { conn: strict, state };
  }

  test('eject: UpdateDeviceFlags, the media listeners hear of it once; a sync that changes nothing is silent', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'kvts-cdrom-'));
    try {
      // the permanent claim's image, where the pod has it
      mkdirSync(path.join(root, 'private/vmi-disks/root'), { recursive: true });
      writeFileSync(path.join(root, 'private/vmi-disks/root/disk.img'), '');
      const { conn, state } = fakeConnection(domainSpecToXML(convertVMIToDomainSpec(vmi('Ready'), ctx)));
      const dm = new DomainManager({
        conn,
        logger: pino({ level: 'silent' }),
        agent: new AsyncAgentStore(),
        converter: { ...POD_CONTEXT, privateDir: path.join(root, 'private'), containerDiskDir: path.join(root, 'cd') },
      });
      let heard = 0;
      dm.onMediaChange(() => heard++);
      await dm.syncVMI(vmi());
      assert.equal(state.updates.length, 1);
      assert.match(state.updates[0]!, /^<disk device="cdrom" type="block">\n\t<source><\/source>/);
      assert.equal(heard, 1);
      await dm.syncVMI(vmi());
      assert.equal(state.updates.length, 1);
      assert.equal(heard, 1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
