// Devices a VMI asks for, as the guest finds them: an ich9 sound card (Intel's HD Audio controller
// on the PCI bus), an isa panic device (QEMU's pvpanic, an ACPI device), a virtio video card and the
// chassis's SMBIOS entries; its IOThreads, as QEMU runs them; a tagged NIC's address in the ConfigDrive's
// metadata (device role tagging).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bootGuest, type BootedGuest } from '../../../test/bed/booted-guest.ts';
import { testVMI } from '../../../test/bed/launcher.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';

const SLIC_BODY = 'KVTS-SLIC-TABLE-BODY';

/** A SLIC table as a vendor ships it: the ACPI header (36 bytes, the whole table summing to 0), then the body. */
function slicTable(): Buffer {
  const body = Buffer.from(SLIC_BODY);
  const t = Buffer.alloc(36 + body.length);
  t.write('SLIC', 0, 'latin1');
  t.writeUInt32LE(t.length, 4);
  t.writeUInt8(1, 8);
  t.write('KVTSOE', 10, 'latin1');
  t.write('KVTSTBL ', 16, 'latin1');
  t.writeUInt32LE(1, 24);
  t.write('KVTS', 28, 'latin1');
  t.writeUInt32LE(1, 32);
  body.copy(t, 36);
  t.writeUInt8((256 - (t.reduce((sum, b) => sum + b, 0) % 256)) % 256, 9);
  return t;
}

describe('devices the VMI asks for: sound card, panic device, video, chassis, IOThreads, tagged NIC, ACPI table', {
  timeout: 300_000,
}, () => {
  let guest: BootedGuest | undefined;
  const booted = () => guest as BootedGuest;
  const uid = randomUUID();
  const base = testVMI({ name: 'vmi-devices', uid });
  const vmi = {
    ...base,
    spec: {
      ...base.spec,
      domain: {
        ...base.spec.domain,
        ioThreadsPolicy: 'shared',
        firmware: { ...base.spec.domain.firmware, acpi: { slicNameRef: 'acpi' } },
        chassis: { manufacturer: 'Kvts Racks', serial: 'CH-0001', asset: 'asset-7' },
        devices: {
          ...base.spec.domain.devices,
          video: { type: 'virtio' },
          sound: { name: 'audio' },
          panicDevices: [{ model: 'isa' }],
          disks: [
            { name: 'data', disk: { bus: 'virtio' }, dedicatedIOThread: true },
            { name: 'scratch', disk: { bus: 'virtio' } },
            { name: 'configdrive', disk: { bus: 'virtio' }, serial: 'cfgdrive' },
          ],
          interfaces: [{ name: 'default', masquerade: {}, tag: 'mgmt' }],
        },
      },
      networks: [{ name: 'default', pod: {} }],
      volumes: [
        ...base.spec.volumes,
        { name: 'scratch', emptyDisk: { capacity: '16Mi' } },
        { name: 'configdrive', cloudInitConfigDrive: { userData: '#cloud-config\n' } },
        // the SLIC table's secret (slic.bin), which virt-controller mounts under the secret source dir
        { name: 'acpi', secret: { secretName: 'acpi-tables' } },
      ],
    },
  };

  before(async () => {
    guest = await bootGuest(vmi, (sandbox) => {
      const dir = sandbox.hostPath('/var/run/kubevirt-private/secret/acpi');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'slic.bin'), slicTable());
    });
  });

  after(async () => {
    await guest?.stop();
  });

  test("sound: ich9 by default, aliased ua-<name>; the guest's PCI bus has Intel's ICH9 HD Audio (8086:293e)", async () => {
    assert.match(await virsh(booted().sandbox, ['dumpxml', booted().domain]), /<sound model='ich9'>[\s\S]*?<alias name='ua-audio'\/>/);
    const pci = (await booted().serial.run('for d in /sys/bus/pci/devices/*; do echo "$(cat $d/vendor):$(cat $d/device)"; done'))
      .trim()
      .split(/\s+/);
    assert.ok(pci.includes('0x8086:0x293e'), `PCI devices: ${pci.join(' ')}`);
  });

  test('panic device: isa, which the guest finds as ACPI device QEMU0001 (pvpanic)', async () => {
    assert.match(await virsh(booted().sandbox, ['dumpxml', booted().domain]), /<panic model='isa'(\/>|>)/);
    assert.match(await booted().serial.run('ls /sys/bus/acpi/devices'), /QEMU0001:00/);
  });

  test('IOThreads, shared policy: the dedicated disk its own thread (2), the others the shared one (1); QEMU runs both', async () => {
    const xml = await virsh(booted().sandbox, ['dumpxml', booted().domain]);
    assert.match(xml, /<iothreads>2<\/iothreads>/);
    const thread = (alias: string) =>
      /<driver [^>]*iothread='(\d+)'/.exec(
        /<disk [\s\S]*?<\/disk>/g[Symbol.match](xml)?.find((d) => d.includes(`'ua-${alias}'`)) ?? '',
      )?.[1];
    assert.deepEqual([thread('data'), thread('scratch')], ['2', '1']);
    const info = await virsh(booted().sandbox, ['iothreadinfo', booted().domain]);
    assert.deepEqual([...info.matchAll(/^\s*(\d+)\s+\S/gm)].map((m) => m[1]).sort(), ['1', '2']);
    // the guest still reads its data disk, through its own IOThread
    assert.match(await booted().serial.run('cat /mnt/data/README'), /kubevirt-ts data disk/);
  });

  test("video type virtio: the guest's display is a virtio GPU (1af4:1050), not the default VGA", async () => {
    const pci = (await booted().serial.run('for d in /sys/bus/pci/devices/*; do echo "$(cat $d/vendor):$(cat $d/device)"; done'))
      .trim()
      .split(/\s+/);
    assert.ok(pci.includes('0x1af4:0x1050'), `PCI devices: ${pci.join(' ')}`);
    assert.ok(!pci.includes('0x1234:0x1111'), 'no standard VGA');
  });

  test("chassis: the guest's SMBIOS chassis entries are the VMI's", async () => {
    const dmi = await booted().serial.run('cd /sys/class/dmi/id && cat chassis_vendor chassis_serial chassis_asset_tag');
    assert.deepEqual(dmi.trim().split(/\r?\n/), ['Kvts Racks', 'CH-0001', 'asset-7']);
  });

  test("a tagged interface: the ConfigDrive's meta_data.json gives its tag, PCI address and MAC, where the guest finds the NIC", async () => {
    const s = booted().serial;
    const disk = (await s.run('for d in /sys/block/vd*; do [ "$(cat $d/serial)" = cfgdrive ] && basename $d; done')).trim();
    assert.match(disk, /^vd[a-z]$/);
    const metaData = JSON.parse(
      await s.run(
        `mkdir -p /tmp/cfg && mount -t iso9660 -o ro /dev/${disk} /tmp/cfg && cat /tmp/cfg/openstack/latest/meta_data.json`,
        20_000,
      ),
    ) as { devices?: Array<{ type: string; bus: string; address: string; mac: string; tags: string[] }> };
    // eth0's device is the virtio device; its parent, the PCI function
    const nicAddress = (await s.run('basename $(dirname $(readlink -f /sys/class/net/eth0/device))')).trim();
    const nicMAC = (await s.run('cat /sys/class/net/eth0/address')).trim();
    assert.deepEqual(metaData.devices, [{ type: 'nic', bus: 'pci', address: nicAddress, mac: nicMAC, tags: ['mgmt'] }]);
  });

  test("firmware.acpi: the SLIC table from the secret's slic.bin, which the guest's kernel lists", async () => {
    assert.match(
      await virsh(booted().sandbox, ['dumpxml', booted().domain]),
      /<acpi>\s*<table type='slic'>\/var\/run\/kubevirt-private\/secret\/acpi\/slic.bin<\/table>\s*<\/acpi>/,
    );
    const table = await booted().serial.run("tr -cd 'A-Z-' < /sys/firmware/acpi/tables/SLIC; echo");
    assert.match(table, new RegExp(`^SLIC.*${SLIC_BODY}`, 'm'));
  });
});
