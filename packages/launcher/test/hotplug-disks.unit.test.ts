// Volume hotplug on the launcher's side, as KubeVirt's converter and manager.go decide it: which disks
// a VMI's domain has (permanent ones, and hotplugged ones once virt-handler mounted them), the source a
// hotplugged disk gets, and what syncDisks detaches and attaches on a running domain. The live
// attach/detach against libvirtd and the guest is proven in packages/handler/test/hotplug-volumes.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { parseVMI, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { domainSpecToXML, type Disk } from '../src/api/index.ts';
import { convertVMIToDomainSpec, type ConverterContext } from '../src/converter/index.ts';
import { attachedDisks, detachedDisks, diskToXML, syncDisks, type HotplugConnection } from '../src/hotplug-disks.ts';
import { POD_CONTEXT } from './pod-context.ts';

const UID = '11111111-2222-3333-4444-5555555555h1';
const ctx: ConverterContext = {
  ...POD_CONTEXT,
  isBlockPVC: { root: false, hp: false, hpblock: true },
};

/** A VMI with a permanent claim `root` and the hotplugged claims given, each with its volume status phase. */
function vmi(hotplugged: Record<string, string>, extraStatus: object[] = [{ name: 'root', target: 'vda' }]): VirtualMachineInstance {
  const names = Object.keys(hotplugged);
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
            ...names.map((name) => ({ name, disk: { bus: 'scsi' }, serial: `sn-${name}` })),
          ],
        },
      },
      volumes: [
        { name: 'root', persistentVolumeClaim: { claimName: 'root' } },
        ...names.map((name) => ({ name, persistentVolumeClaim: { claimName: `c-${name}`, hotpluggable: true } })),
      ],
    },
    status: {
      phase: 'Running',
      volumeStatus: [
        ...extraStatus,
        ...names.map((name) => ({
          name,
          target: '',
          phase: hotplugged[name],
          hotplugVolume: { attachPodName: `hp-volume-${name}`, attachPodUID: 'u' },
        })),
      ],
    },
  });
}

const disks = (v: VirtualMachineInstance) => convertVMIToDomainSpec(v, ctx).Devices.Disks ?? [];
const targets = (v: VirtualMachineInstance) => disks(v).map((d) => `${d.Alias?.Name}:${d.Target.Device}`);

describe('the converter: hotplugged disks join the domain once mounted into the pod', () => {
  const cases: [string, Record<string, string>, string[]][] = [
    ['attached to the node only: not yet', { hp: 'AttachedToNode' }, ['root:vda']],
    ['Bound / Pending: not yet', { hp: 'Bound', hp2: 'Pending' }, ['root:vda']],
    ['mounted to the pod: in', { hp: 'MountedToPod' }, ['root:vda', 'hp:sda']],
    ['Ready: in', { hp: 'Ready' }, ['root:vda', 'hp:sda']],
    ['unmounted or detaching: out', { hp: 'UnMountedFromPod', hp2: 'Detaching' }, ['root:vda']],
  ];
  for (const [name, hot, want] of cases) test(name, () => assert.deepEqual(targets(vmi(hot)), want));

  test('a VMI without volume statuses (not started yet) gets every disk', () => {
    const v = vmi({});
    v.spec.volumes!.push({ name: 'hp', persistentVolumeClaim: { hotpluggable: true } });
    v.spec.domain.devices!.disks!.push({ name: 'hp', disk: { bus: 'scsi' } });
    delete v.status!.volumeStatus;
    assert.deepEqual(targets(v), ['root:vda', 'hp:sda']);
  });

  test('a permanent disk without a volume status is left out once statuses exist (virt-controller makes one per volume)', () => {
    assert.deepEqual(targets(vmi({ hp: 'Ready' }, [{ name: 'other', target: '' }])), ['hp:sda']);
  });

  test("a file system claim: KubeVirt's hotplugged disk, the image virt-handler mounted in hotplug-disks", () => {
    const hp = disks(vmi({ hp: 'MountedToPod' })).find((d) => d.Alias?.Name === 'hp');
    assert.ok(hp);
    assert.equal(
      diskToXML(hp),
      [
        '<disk device="disk" type="file">',
        '\t<source file="/var/run/kubevirt/hotplug-disks/hp.img"></source>',
        '\t<target bus="scsi" dev="sda"></target>',
        '\t<serial>sn-hp</serial>',
        '\t<driver error_policy="stop" name="qemu" type="raw" discard="unmap"></driver>',
        '\t<alias name="ua-hp"></alias>',
        '\t<address type="drive" bus="0" controller="0" unit="0"></address>',
        '</disk>',
      ].join('\n'),
    );
  });

  test('a block claim: the device node virt-handler made in hotplug-disks', () => {
    const v = vmi({ hpblock: 'Ready' });
    const d = disks(v).find((x) => x.Alias?.Name === 'hpblock');
    assert.equal(d?.Type, 'block');
    assert.equal(d?.Source.Dev, '/var/run/kubevirt/hotplug-disks/hpblock');
    assert.match(domainSpecToXML(convertVMIToDomainSpec(v, ctx)), /<source dev="\/var\/run\/kubevirt\/hotplug-disks\/hpblock"><\/source>/);
  });

  test('a hotplugged volume that is not a claim or DataVolume is refused', () => {
    const v = vmi({ hp: 'Ready' });
    v.spec.volumes![1] = { name: 'hp', emptyDisk: { capacity: '1Gi' } };
    assert.throws(() => convertVMIToDomainSpec(v, ctx), /hotplug disk hp references an unsupported source/);
  });

  test('a hotplugged disk keeps the target its volume status recorded', () => {
    const v = vmi({ hp: 'Ready', hp2: 'Ready' });
    v.status!.volumeStatus!.find((s) => s.name === 'hp2')!.target = 'sda';
    assert.deepEqual(targets(v), ['root:vda', 'hp:sdb', 'hp2:sda']);
  });
});

describe('syncDisks: what a running domain gets attached and detached', () => {
  const running = disks(vmi({ hp: 'Ready' }));
  const withBoth = disks(vmi({ hp: 'Ready', hp2: 'MountedToPod' }));
  const none = disks(vmi({}));
  const names = (list: Disk[]) => list.map((d) => d.Alias?.Name);

  test('getAttachedDisks / getDetachedDisks match by target device and only touch hotplug disks', () => {
    assert.deepEqual(names(attachedDisks(running, withBoth)), ['hp2']);
    assert.deepEqual(names(detachedDisks(running, withBoth)), []);
    assert.deepEqual(names(detachedDisks(withBoth, none)), ['hp', 'hp2']);
    assert.deepEqual(names(attachedDisks(none, running)), ['hp']);
    // a permanent disk that differs is never hotplugged
    assert.deepEqual(names(detachedDisks(running, [])), ['hp']);
    assert.deepEqual(names(attachedDisks([], running)), ['hp']);
  });

  test('a SATA disk in hotplug-disks is not hotplugged (virtio and SCSI only)', () => {
    const sata = structuredClone(running.find((d) => d.Alias?.Name === 'hp')!);
    sata.Target.Bus = 'sata';
    assert.deepEqual(attachedDisks([], [sata]), []);
  });

  test('libvirt calls: detach first, then attach what can be opened, live and persistent', async () => {
    const calls: string[] = [];
    const conn: HotplugConnection = {
      domainAttachDeviceFlags: async (_d, xml, flags) => void calls.push(`attach ${/<alias name="([^"]+)"/.exec(xml)?.[1]} ${flags}`),
      domainDetachDeviceFlags: async (_d, xml, flags) => void calls.push(`detach ${/<alias name="([^"]+)"/.exec(xml)?.[1]} ${flags}`),
      domainUpdateDeviceFlags: async (_d, xml, flags) => void calls.push(`update ${/<alias name="([^"]+)"/.exec(xml)?.[1]} ${flags}`),
    };
    const dom = { name: 'ns_vm', uuid: UID, id: 1 };
    const before = vmi({ hp: 'Ready' });
    before.status!.volumeStatus!.find((v) => v.name === 'hp')!.target = 'sdc';
    const oldDisks = disks(before);
    const newDisks = disks(vmi({ hp3: 'MountedToPod', hp4: 'MountedToPod' })).filter((d) => d.Alias?.Name !== 'hp');
    const ready = new Set(['/var/run/kubevirt/hotplug-disks/hp3.img']);
    await syncDisks(conn, dom, oldDisks, newDisks, pino({ level: 'silent' }), (f) => ready.has(f));
    // LIVE | CONFIG = 3; hp4's image is not there yet: the next sync attaches it
    assert.deepEqual(calls, ['detach ua-hp 3', 'attach ua-hp3 3']);
  });
});
