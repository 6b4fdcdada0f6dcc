// KubeVirt's hotplug root ports on real parts: a launcher in a pod sandbox, its own libvirtd, the test
// guest (q35). The VMI has virt-api's pod interface and a frozen interface slot total of 2, so the
// first define reserves 1 placeholder port (2 - 1 interface) and adds 2 extra ports (v2: 8 wanted,
// 6 in use, at least 3 free, 1 given by the placeholder). libvirt's XML, the guest's PCI tree and a
// virtio disk hotplugged into a spare port show the layout KubeVirt's launcher makes. (On its own,
// libvirt gives a new q35 domain one spare root port: without this step the disk would have no other.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chownSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { serialConsoleSocketPath, vmiNameToDomainName } from '@kubevirt-ts/shared';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { asRequest, startLauncher, stopLauncherTest, testVMI, type RunningLauncher } from '../../../test/bed/launcher.ts';
import { poll } from '../../../test/bed/poll.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { NotifyRecorder } from '../../../test/bed/notify-recorder.ts';
import { domainSpecFromXML, type Address, type ControllerTarget } from '../src/api/index.ts';
import { GUEST_PROMPT } from '../../../test/bed/guest.ts';
import { SerialConsole } from '../../../test/bed/serial.ts';

/** A root port as libvirt gives it back: its index and <target>. */
interface RootPort {
  index: number;
  target: ControllerTarget | null;
}

const HOTPLUG_SIZE = 16 * 1024 * 1024;

function rootPorts(xml: string): RootPort[] {
  return (domainSpecFromXML(xml).Devices.Controllers ?? [])
    .filter((c) => c.Type === 'pci' && c.Model === 'pcie-root-port')
    .map((c) => ({ index: Number(c.Index), target: c.Target }));
}

/** The bus each device with a PCI address sits on (but the PCI controllers): `disk vda`, `controller scsi`, … */
function deviceBuses(xml: string): Map<string, number> {
  const d = domainSpecFromXML(xml).Devices;
  const buses = new Map<string, number>();
  const add = (name: string, a: Address | null) => {
    if (a?.Type === 'pci') buses.set(name, Number.parseInt(a.Bus, 16));
  };
  for (const disk of d.Disks ?? []) add(`disk ${disk.Target.Device}`, disk.Address);
  for (const iface of d.Interfaces ?? []) add(`interface ${iface.Alias?.Name ?? iface.Type}`, iface.Address);
  for (const c of d.Controllers ?? []) if (c.Type !== 'pci') add(`controller ${c.Type}`, c.Address);
  add('memballoon', d.Ballooning?.Address ?? null);
  add('rng', d.Rng?.Address ?? null);
  return buses;
}

describe("KubeVirt's hotplug root ports on a real libvirtd and q35 guest", { timeout: 300_000 }, () => {
  let sandbox: PodSandbox;
  let recorder: NotifyRecorder;
  let launcher: RunningLauncher;
  let client: CmdClient;
  let serial: SerialConsole;
  const uid = randomUUID();
  const vmi = testVMI({ name: 'hpports', uid });
  vmi.metadata.annotations = { 'kubevirt.io/pci-interface-slot-count': '2' };
  const domainName = vmiNameToDomainName('default', 'hpports');
  const logs = () => launcher?.logs().slice(-8000) ?? '';
  const inactiveXML = () => virsh(sandbox, ['dumpxml', '--inactive', domainName]);
  let defined: string;

  before(async () => {
    sandbox = await createPodSandbox();
    recorder = await NotifyRecorder.listen(sandbox.hostPath('/var/run/kubevirt/domain-notify-pipe.sock'));
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m']);
    client = await cmdClient(launcher.cmdSocket);
    const r = await client.SyncVirtualMachine(asRequest(vmi));
    assert.deepEqual(r, { success: true, message: '' }, logs());
    await recorder.waitFor((e) => e.domain.Status.Status === 'Running', 60_000);
    defined = await inactiveXML();
    const socket = sandbox.hostPath(serialConsoleSocketPath(uid, 0, '/var/run/kubevirt-private'));
    await poll('serial console socket', async () => (existsSync(socket) ? true : undefined), 30_000, logs);
    serial = await SerialConsole.open(socket);
    await serial.waitForPrompt(GUEST_PROMPT, 120_000);
  });

  after(() => stopLauncherTest({ serial, client, launcher, recorder, sandbox }));

  test('the launcher logs the counts: 1 placeholder interface, 2 direct controllers', () => {
    assert.match(launcher.logs(), /Allocating 1 placeholder interfaces and 2 direct controllers for hotplug \(memory=134217728 unit=b\)/);
  });

  test('the defined domain: the placeholder port kept empty below the devices, 2 empty ports above them all', () => {
    const ports = rootPorts(defined);
    const buses = deviceBuses(defined);
    const occupied = new Set(buses.values());
    const empty = ports.filter((p) => !occupied.has(p.index)).map((p) => p.index);
    const detail = `root ports ${ports.map((p) => p.index).join(',')}; devices ${JSON.stringify([...buses])}\n${defined}`;
    // the placeholder is gone, its port is not
    assert.doesNotMatch(defined, /placeholder-/);
    // empty: the placeholder's, the one spare port libvirt adds to a new q35 domain, and the 2 extra
    assert.equal(empty.length, 1 + 1 + 2, detail);
    const highest = Math.max(...ports.filter((p) => occupied.has(p.index)).map((p) => p.index));
    const [placeholderPort, libvirtSpare, ...extra] = empty;
    // the extra ports come after every port libvirt placed a device on (and its own spare)
    assert.deepEqual([libvirtSpare, ...extra], [highest + 1, highest + 2, highest + 3], detail);
    // the placeholder's port lies below a device's: that device kept the address it had beside it
    assert.ok(placeholderPort !== undefined && placeholderPort < highest, detail);
  });

  test("libvirt gives root ports no busNr, so (as in KubeVirt) none gets hotplug='off'", () => {
    assert.doesNotMatch(defined, /busNr=|hotplug=/);
    for (const port of rootPorts(defined)) {
      assert.deepEqual(port.target, { Hotplug: '', BusNr: null, NUMANode: null }, `root port ${port.index}`);
    }
  });

  test('started, the guest has every device where the defined domain put it', async () => {
    const live = await virsh(sandbox, ['dumpxml', domainName]);
    assert.deepEqual(deviceBuses(live), deviceBuses(defined));
    assert.equal(rootPorts(live).length, rootPorts(defined).length);
    // the guest's PCIe root ports: one bound to the pcieport driver per root port of the domain
    const guestPorts = (await serial.run('ls /sys/bus/pci/drivers/pcieport')).split(/\s+/).filter((e) => /^0000:/.test(e));
    assert.equal(guestPorts.length, rootPorts(defined).length, guestPorts.join(' '));
    // vda's PCI path in the guest: behind root port N, on bus N
    const vdaBus = deviceBuses(defined).get('disk vda');
    assert.ok(vdaBus !== undefined);
    const vdaPath = await serial.run('readlink -f /sys/block/vda');
    assert.match(vdaPath, new RegExp(`/0000:${vdaBus.toString(16).padStart(2, '0')}:00\\.0/`), vdaPath);
  });

  test('4 virtio disks hotplugged into the running guest take the 4 spare ports; the guest sees each behind its port', async () => {
    // libvirt alone leaves one spare port; the placeholder's and the extra ones make 4
    const volumes = ['hp1', 'hp2', 'hp3', 'hp4'];
    const targets = ['vdb', 'vdc', 'vdd', 'vde'];
    const images = volumes.map((v) => path.join(sandbox.volumePath('hotplug-disks'), `${v}.img`));
    for (const image of images) {
      writeFileSync(image, Buffer.alloc(HOTPLUG_SIZE));
      chownSync(image, 107, 107);
    }
    // what virt-controller and virt-handler make of it: the volumes and disks, mounted into the pod
    const plugged = structuredClone(vmi) as typeof vmi & { spec: { volumes: object[] }; status: Record<string, unknown> };
    const volumeStatus: object[] = [{ name: 'data', target: 'vda' }];
    for (const v of volumes) {
      plugged.spec.volumes.push({ name: v, persistentVolumeClaim: { claimName: `claim-${v}`, hotpluggable: true } });
      plugged.spec.domain.devices.disks.push({ name: v, disk: { bus: 'virtio' }, serial: `sn-${v}` } as never);
      volumeStatus.push({
        name: v,
        target: '',
        phase: 'MountedToPod',
        hotplugVolume: { attachPodName: `hp-volume-${v}`, attachPodUID: randomUUID() },
        persistentVolumeClaimInfo: { claimName: `claim-${v}`, volumeMode: 'Filesystem', capacity: { storage: '16Mi' } },
      });
    }
    plugged.status = { phase: 'Running', volumeStatus };
    try {
      const r = await client.SyncVirtualMachine(asRequest(plugged));
      assert.deepEqual(r, { success: true, message: '' }, logs());
      const live = await poll(
        'the 4 disks in the live domain',
        async () => {
          const xml = await virsh(sandbox, ['dumpxml', domainName]);
          const buses = deviceBuses(xml);
          return targets.every((t) => buses.has(`disk ${t}`)) ? buses : undefined;
        },
        30_000,
        logs,
      );
      const occupiedBefore = new Set(deviceBuses(defined).values());
      const spare = rootPorts(defined)
        .map((p) => p.index)
        .filter((i) => !occupiedBefore.has(i));
      assert.deepEqual(
        targets.map((t) => live.get(`disk ${t}`)).sort((a = 0, b = 0) => a - b),
        spare,
        `hotplugged disks on ${JSON.stringify([...live])}, spare ports ${spare.join(',')}`,
      );
      for (const t of targets) {
        const bus = live.get(`disk ${t}`) ?? -1;
        const size = await poll(
          `the guest sees ${t}`,
          async () => {
            const out = (await serial.run(`cat /sys/block/${t}/size 2>/dev/null || echo none`)).trim();
            return /^\d+$/.test(out) ? Number(out) * 512 : undefined;
          },
          60_000,
          () => serial.output.slice(-2000),
        );
        assert.equal(size, HOTPLUG_SIZE);
        const devPath = await serial.run(`readlink -f /sys/block/${t}`);
        assert.match(devPath, new RegExp(`/0000:${bus.toString(16).padStart(2, '0')}:00\\.0/`), devPath);
      }
    } finally {
      for (const image of images) rmSync(image, { force: true });
    }
  });
});
