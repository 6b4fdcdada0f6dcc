// The converter's XML against a real libvirtd (define only: libvirt validates it), and the XML
// libvirt gives back parsed into the DomainSpec the handler reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@kubevirt-ts/libvirt';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { createPodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { startLibvirtd } from '../../../test/bed/libvirtd.ts';
import { domainSpecFromXML, domainSpecToXML } from '../src/api/index.ts';
import { convertVMIToDomainSpec, type ConverterContext } from '../src/converter/index.ts';
import { POD_CONTEXT } from './pod-context.ts';

const ctx: ConverterContext = {
  ...POD_CONTEXT,
  disksInfo: { root: { format: 'raw' } },
};

const testGuest: VirtualMachineInstance = {
  metadata: { name: 'testvmi', namespace: 'default', uid: '6a1a1d3c-8d4e-4a51-9a29-3c1f1e0b7f42' },
  spec: {
    terminationGracePeriodSeconds: 0,
    domain: {
      cpu: { cores: 1 },
      resources: { requests: { memory: '128Mi' } },
      firmware: {
        uuid: '5d307ca9-b3ef-428c-8861-06e72d69f223',
        kernelBoot: {
          kernelArgs: 'console=ttyS0 panic=-1 quiet',
          container: { image: 'kvts/testguest', kernelPath: '/boot/vmlinux', initrdPath: '/boot/initrd.img' },
        },
      },
      devices: { interfaces: [{ name: 'default', masquerade: {}, macAddress: '02:6a:1a:1d:3c:01' }] },
      rebootPolicy: 'Terminate',
    } as VirtualMachineInstance['spec']['domain'],
    networks: [{ name: 'default', pod: {} }],
  },
};

const withDisks: VirtualMachineInstance = {
  metadata: { name: 'disks', namespace: 'ns1', uid: '0b6c7d1e-1111-2222-3333-444455556666' },
  spec: {
    domain: {
      cpu: { sockets: 2, maxSockets: 4, model: 'Haswell-noTSX' },
      memory: { guest: '256Mi' },
      devices: {
        rng: {},
        logSerialConsole: true,
        disks: [
          { name: 'root', disk: {}, bootOrder: 1 },
          { name: 'scratch', disk: { bus: 'scsi' }, serial: 'SCRATCH1' },
          { name: 'ci', cdrom: {} },
        ],
      },
    },
    volumes: [
      { name: 'root', containerDisk: { image: 'img' } },
      { name: 'scratch', emptyDisk: { capacity: '1Gi' } },
      { name: 'ci', cloudInitNoCloud: { userData: '#cloud-config\n' } },
    ],
  },
};

test("libvirtd accepts the converter's domains and gives back XML that parses as KubeVirt's launcher would", {
  timeout: 120_000,
}, async (t) => {
  const sandbox = await createPodSandbox();
  const libvirtd = await startLibvirtd(sandbox).catch(async (err: unknown) => {
    await sandbox.destroy();
    throw err;
  });
  const conn = await connect({ socketPath: libvirtd.socketPath });
  t.after(async () => {
    await conn.close();
    await libvirtd.stop();
    await sandbox.destroy();
  });

  await t.test('the test guest: name, UUID from the firmware, type, KubeVirt metadata, agent channel, NIC', async () => {
    const dom = await conn.domainDefineXMLFlags(domainSpecToXML(convertVMIToDomainSpec(testGuest, ctx)), 0);
    try {
      const spec = domainSpecFromXML(await conn.domainGetXMLDesc(dom, 0));
      assert.equal(spec.Name, 'default_testvmi');
      assert.equal(spec.UUID, '5d307ca9-b3ef-428c-8861-06e72d69f223', 'libvirt takes <uuid> from the SMBIOS entry');
      assert.equal(spec.Type, 'qemu');
      assert.equal(spec.Metadata.KubeVirt.UID, '6a1a1d3c-8d4e-4a51-9a29-3c1f1e0b7f42');
      assert.equal(spec.Metadata.KubeVirt.GracePeriod?.DeletionGracePeriodSeconds, 0);
      assert.deepEqual(spec.Memory, { Value: 131072, Unit: 'KiB' });
      assert.match(spec.OS.Type.Machine, /^pc-q35-/);
      assert.equal(spec.OS.Kernel, '/var/run/kubevirt/container-disks/kernel-boot/vmlinux');
      assert.equal(spec.OnReboot, 'destroy');
      assert.deepEqual(spec.Features?.ACPI, {});
      assert.equal(spec.CPU.Mode, 'host-model');
      assert.deepEqual(
        spec.Devices.Channels?.map((c) => c.Target),
        [{ Name: 'org.qemu.guest_agent.0', Type: 'virtio', Address: '', Port: 0, State: '' }],
        'no state until the domain runs',
      );
      const [nic] = spec.Devices.Interfaces ?? [];
      assert.equal(nic?.Type, 'user');
      assert.deepEqual(nic?.MAC, { MAC: '02:6a:1a:1d:3c:01' });
      assert.deepEqual(nic?.Alias, { Name: 'default', UserDefined: true });
    } finally {
      await conn.domainUndefineFlags(dom, 0);
    }
  });

  await t.test(
    'container disk overlay, empty disk, cloud-init CD-ROM, SCSI, RNG, console log, named CPU model, CPU hotplug room',
    async () => {
      const dom = await conn.domainDefineXMLFlags(domainSpecToXML(convertVMIToDomainSpec(withDisks, ctx)), 0);
      try {
        const spec = domainSpecFromXML(await conn.domainGetXMLDesc(dom, 0));
        assert.deepEqual(
          spec.Devices.Disks?.map((d) => [d.Alias?.Name, d.Device, d.Target.Device, d.Source.File, d.BackingStore?.Source?.File ?? null]),
          [
            [
              'root',
              'disk',
              'vda',
              '/var/run/kubevirt-ephemeral-disks/disk-data/root/disk.qcow2',
              '/var/run/kubevirt/container-disks/disk_0.img',
            ],
            ['scratch', 'disk', 'sda', '/var/run/libvirt/empty-disks/scratch.qcow2', null],
            ['ci', 'cdrom', 'sdb', '/var/run/kubevirt-ephemeral-disks/cloud-init-data/ns1/disks/noCloud.iso', null],
          ],
        );
        assert.equal(spec.Devices.Disks?.[1]?.Serial, 'SCRATCH1');
        assert.equal(spec.Devices.Rng?.Backend?.Source, '/dev/urandom');
        assert.equal(
          spec.Devices.Serials?.[0]?.Log?.File,
          '/var/run/kubevirt-private/0b6c7d1e-1111-2222-3333-444455556666/virt-serial0-log',
        );
        assert.deepEqual([spec.CPU.Mode, spec.CPU.Model, spec.CPU.Topology?.Sockets, spec.VCPU?.CPUs], ['custom', 'Haswell-noTSX', 4, 4]);
        assert.deepEqual(
          spec.VCPUs?.VCPU?.map((v) => v.Enabled),
          ['yes', 'yes', 'no', 'no'],
        );
        assert.equal(spec.UUID, '0b6c7d1e-1111-2222-3333-444455556666', 'a VMI without a firmware UUID gets its UID');
      } finally {
        await conn.domainUndefineFlags(dom, 0);
      }
    },
  );
});
