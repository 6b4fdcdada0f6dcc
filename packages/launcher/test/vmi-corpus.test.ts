// Every corpus VMI's domain against a real libvirtd (one, in a pod sandbox): libvirt validates and
// defines each, and gives back what KubeVirt's converter meant (memory hotplug room, claims, EFI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { connect, DomainDeviceModifyFlags } from '@kubevirt-ts/libvirt';
import { createPodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { startLibvirtd } from '../../../test/bed/libvirtd.ts';
import { domainSpecFromXML, domainSpecToXML } from '../src/api/index.ts';
import { convertVMIToDomainSpec, detectEFIEnvironment } from '../src/converter/index.ts';
import { buildMemoryDevice, memoryDeviceToXML } from '../src/liveupdate/memory.ts';
import { corpus, corpusContext } from './vmi-corpus.ts';

/** Debian's ovmf package (scripts/setup) */
const DEBIAN_OVMF = '/usr/share/OVMF';
const UNDEFINE_NVRAM = 4;

/**
 * An --ovmf-path directory with KubeVirt's file names. Debian ships the secure-boot code but its
 * variables with Microsoft's keys enrolled as OVMF_VARS.ms.fd: that is the secure-boot template.
 */
function ovmfDir(): string {
  for (const f of ['OVMF_CODE.fd', 'OVMF_VARS.fd', 'OVMF_CODE.secboot.fd', 'OVMF_VARS.ms.fd']) {
    assert.ok(existsSync(path.join(DEBIAN_OVMF, f)), `${DEBIAN_OVMF}/${f} missing: install Debian's ovmf (scripts/setup)`);
  }
  const dir = mkdtempSync('/tmp/kvts-ovmf-');
  for (const [name, target] of [
    ['OVMF_CODE.fd', 'OVMF_CODE.fd'],
    ['OVMF_VARS.fd', 'OVMF_VARS.fd'],
    ['OVMF_CODE.secboot.fd', 'OVMF_CODE.secboot.fd'],
    ['OVMF_VARS.secboot.fd', 'OVMF_VARS.ms.fd'],
  ] as const) {
    symlinkSync(path.join(DEBIAN_OVMF, target), path.join(dir, name));
  }
  return dir;
}

test('libvirtd defines the domain of every corpus VMI', { timeout: 180_000 }, async (t) => {
  const ovmf = ovmfDir();
  t.after(() => rmSync(ovmf, { recursive: true, force: true }));
  const efi = detectEFIEnvironment(ovmf);
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

  for (const c of corpus()) {
    await t.test(c.file, async () => {
      const sent = convertVMIToDomainSpec(c.vmi, corpusContext(c.vmi, efi));
      const dom = await conn.domainDefineXMLFlags(domainSpecToXML(sent), 0);
      try {
        const got = domainSpecFromXML(await conn.domainGetXMLDesc(dom, 0));
        assert.equal(got.Name, `${c.vmi.metadata.namespace}_${c.vmi.metadata.name}`);
        assert.equal(got.UUID, c.vmi.spec.domain.firmware?.uuid, 'the UUID from the SMBIOS entry');
        assert.deepEqual(
          got.Devices.Disks?.map((d) => [d.Alias?.Name, d.Type, d.Source.File || d.Source.Dev]),
          sent.Devices.Disks?.map((d) => [d.Alias?.Name, d.Type, d.Source.File || d.Source.Dev]),
        );
        const maxGuest = c.vmi.spec.domain.memory?.maxGuest;
        if (maxGuest !== undefined && maxGuest !== c.vmi.spec.domain.memory?.guest) {
          // libvirt keeps the room and adds the NUMA cell memory hotplug needs
          assert.equal(got.MaxMemory?.Value, (sent.MaxMemory?.Value ?? 0) / 1024);
          assert.equal(got.MaxMemory?.Unit, 'KiB');
          assert.equal(got.CPU.NUMA?.Cells?.length, 1);
          // and takes the virtio-mem device the first SyncVirtualMachineMemory attaches (into the
          // definition here: the domain does not run)
          const device = buildMemoryDevice(c.vmi);
          await conn.domainAttachDeviceFlags(dom, memoryDeviceToXML(device), DomainDeviceModifyFlags.CONFIG);
          const target = domainSpecFromXML(await conn.domainGetXMLDesc(dom, 0)).Devices.Memory?.Target;
          assert.deepEqual(target && [target.Size.Value * 1024, target.Requested.Value, target.Block.Value * 1024, target.Node], [
            device.Target?.Size.Value,
            0,
            device.Target?.Block.Value,
            '0',
          ]);
        } else {
          assert.equal(got.MaxMemory, null);
        }
        if (c.vmi.spec.domain.firmware?.bootloader?.efi) {
          assert.equal(got.OS.BootLoader?.Type, 'pflash');
          assert.equal(got.OS.BootLoader?.Path, sent.OS.BootLoader?.Path);
          assert.equal(got.OS.BootLoader?.Secure, c.vmi.spec.domain.firmware.bootloader.efi.secureBoot === false ? 'no' : 'yes');
        }
        if ((c.vmi.spec.domain.devices as { tpm?: object } | undefined)?.tpm) {
          // libvirt takes an emulated TPM only when swtpm is installed (scripts/setup)
          assert.deepEqual(
            got.Devices.TPMs?.map((t) => [t.Model, t.Backend.Type, t.Backend.Version]),
            [['tpm-tis', 'emulator', '2.0']],
          );
        }
        const filesystems = c.vmi.spec.domain.devices?.filesystems ?? [];
        if (filesystems.length > 0) {
          // vhost-user-fs on each virtiofs container's socket, over shared memfd memory
          assert.deepEqual(
            got.Devices.Filesystems?.map((f) => [f.Driver?.Type, f.Source?.Socket, f.Target?.Dir]),
            filesystems.map((f) => ['virtiofs', `/var/run/kubevirt/virtiofs-containers/${f.name}.sock`, f.name]),
          );
          assert.deepEqual([got.MemoryBacking?.Source?.Type, got.MemoryBacking?.Access?.Mode], ['memfd', 'shared']);
        }
        for (const input of c.vmi.spec.domain.devices?.inputs ?? []) {
          assert.ok(got.Devices.Inputs?.some((i) => i.Type === 'tablet' && i.Alias?.Name === (input as { name: string }).name));
        }
      } finally {
        await conn.domainUndefineFlags(dom, UNDEFINE_NVRAM);
      }
    });
  }
});
