// The guest's disks as the guest sees them. The ISOs the launcher makes reach the guest as a
// cloud-init or config reader finds them: the guest mounts its NoCloud disk and its configMap disk,
// reads the volume labels cloud-init and KubeVirt's docs look for (cidata, cfgdata) and the files the
// VMI and the configMap carry. With blockMultiQueue each virtio disk asks for a queue per vCPU; a
// disk's blockSize is what the guest's kernel reports, and its pciAddress where the guest finds it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bootGuest, type BootedGuest } from '../../../test/bed/booted-guest.ts';
import { testVMI } from '../../../test/bed/launcher.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';

const userData = '#cloud-config\nhostname: from-cloud-init\n';
const networkData = 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n';

function cloudInitVMI(uid: string) {
  const base = testVMI({ name: 'vmi-cloud-init', uid });
  return {
    ...base,
    spec: {
      ...base.spec,
      domain: {
        ...base.spec.domain,
        cpu: { cores: 2 },
        devices: {
          ...base.spec.domain.devices,
          blockMultiQueue: true,
          disks: [
            ...base.spec.domain.devices.disks,
            { name: 'cloudinit', disk: { bus: 'virtio' }, serial: 'ci' },
            { name: 'app', disk: { bus: 'virtio' }, serial: 'app' },
            {
              name: 'scratch4k',
              serial: 's4k',
              disk: { bus: 'virtio', pciAddress: '0000:00:10.0' },
              blockSize: { custom: { logical: 4096, physical: 4096 } },
            },
            { name: 'scratchmatch', disk: { bus: 'virtio' }, serial: 'smatch', blockSize: { matchVolume: {} } },
          ],
        },
      },
      volumes: [
        ...base.spec.volumes,
        // the user data from a secret (secretRef), the network data inline
        { name: 'cloudinit', cloudInitNoCloud: { secretRef: { name: 'vmi-userdata' }, networkData } },
        { name: 'app', configMap: { name: 'app-config' } },
        { name: 'scratch4k', emptyDisk: { capacity: '16Mi' } },
        { name: 'scratchmatch', emptyDisk: { capacity: '16Mi' } },
      ],
    },
  };
}

describe("the guest's disks: cloud-init and configMap ISOs, blockMultiQueue, blockSize, pciAddress", { timeout: 300_000 }, () => {
  let guest: BootedGuest | undefined;
  const booted = () => guest as BootedGuest;
  const serial_ = () => booted().serial;
  const uid = randomUUID();
  const vmi = cloudInitVMI(uid);

  before(async () => {
    guest = await bootGuest(vmi, (sandbox) => {
      // virt-controller mounts the secretRef's secret at <SecretSourceDir>/<volume>
      const secret = sandbox.hostPath('/var/run/kubevirt-private/secret/cloudinit');
      mkdirSync(secret, { recursive: true });
      writeFileSync(path.join(secret, 'userdata'), userData);
      // the kubelet's configMap mount, where virt-controller's pod has it
      const configMap = sandbox.hostPath('/var/run/kubevirt-private/config-map/app');
      mkdirSync(configMap, { recursive: true });
      writeFileSync(path.join(configMap, 'app.properties'), 'greeting=hello\n');
    });
  });

  after(async () => {
    await guest?.stop();
  });

  /** The ISO 9660 volume label of a guest disk (the primary volume descriptor's volume id), and its files. */
  /**
   * The guest's name for the disk with this serial: the guest names virtio disks in the order it finds
   * them on the PCI bus, and a disk placed on the root bus (pciAddress) comes first.
   */
  async function guestDisk(serial: string): Promise<string> {
    const s = serial_();
    const name = (await s.run(`for d in /sys/block/vd*; do [ "$(cat $d/serial)" = ${serial} ] && basename $d; done`)).trim();
    assert.match(name, /^vd[a-z]$/, `the guest's disk with serial ${serial}`);
    return name;
  }

  async function readISO(dev: string): Promise<{ label: string; files: string[] }> {
    const s = serial_();
    const label = await s.run(`dd if=${dev} bs=2048 skip=16 count=1 2>/dev/null | dd bs=1 skip=40 count=32 2>/dev/null; echo`);
    const mnt = `/tmp/${path.basename(dev)}`;
    const listing = await s.run(`mkdir -p ${mnt} && mount -t iso9660 -o ro ${dev} ${mnt} && ls ${mnt}`, 20_000);
    return { label: label.trim(), files: listing.split(/\s+/).filter(Boolean).sort() };
  }

  test('the NoCloud disk: label cidata, the user-data of the secretRef, the VMI’s network-config, meta-data naming the VMI', async () => {
    const s = serial_();
    const ci = await guestDisk('ci');
    assert.deepEqual(await readISO(`/dev/${ci}`), { label: 'cidata', files: ['meta-data', 'network-config', 'user-data'] });
    assert.equal((await s.run(`cat /tmp/${ci}/user-data`)).trim(), userData.trim());
    assert.equal((await s.run(`cat /tmp/${ci}/network-config`)).trim(), networkData.trim());
    const metaData = JSON.parse(await s.run(`cat /tmp/${ci}/meta-data`)) as Record<string, string>;
    assert.equal(metaData['local-hostname'], 'vmi-cloud-init');
  });

  test('the configMap disk: label cfgdata and the configMap’s file', async () => {
    const s = serial_();
    const app = await guestDisk('app');
    assert.deepEqual(await readISO(`/dev/${app}`), { label: 'cfgdata', files: ['app.properties'] });
    assert.equal((await s.run(`cat /tmp/${app}/app.properties`)).trim(), 'greeting=hello');
  });

  test('blockMultiQueue: the launcher gives each virtio disk a queue per vCPU (2)', async () => {
    // (QEMU 7.2 gives virtio-blk a queue per vCPU by itself, so the guest cannot tell; libvirt's XML can)
    const xml = await virsh(booted().sandbox, ['dumpxml', booted().domain]);
    const drivers = [...xml.matchAll(/<disk [\s\S]*?<driver ([^>]*)\/>[\s\S]*?<target dev='(vd\w)'/g)].map((m) => [
      m[2],
      /queues='(\d+)'/.exec(m[1]!)?.[1],
    ]);
    assert.deepEqual(drivers, [
      ['vda', '2'],
      ['vdb', '2'],
      ['vdc', '2'],
      ['vdd', '2'],
      ['vde', '2'],
    ]);
  });

  test("blockSize: custom sizes, or the volume's own (matchVolume: the image's file system block size)", async () => {
    const s = serial_();
    const sizes = async (dev: string) =>
      (await s.run(`cat /sys/block/${dev}/queue/logical_block_size /sys/block/${dev}/queue/physical_block_size`)).trim().split(/\s+/);
    assert.deepEqual(await sizes(await guestDisk('s4k')), ['4096', '4096']);
    const image = booted().sandbox.hostPath('/var/run/libvirt/empty-disks/scratchmatch.qcow2');
    const fsBlock = String(statfsSync(image).bsize);
    assert.notEqual(fsBlock, '512', 'the image sits where the default would not pass for a match');
    assert.deepEqual(await sizes(await guestDisk('smatch')), [fsBlock, fsBlock]);
    // a disk without blockSize keeps QEMU's 512
    assert.deepEqual(await sizes(await guestDisk('app')), ['512', '512']);
  });

  test('disk.pciAddress: the guest finds the disk at the address the VMI gave', async () => {
    const device = await serial_().run(`readlink -f /sys/block/${await guestDisk('s4k')}/device`);
    assert.match(device, /\/0000:00:10\.0\/virtio\d+$/m);
  });
});
