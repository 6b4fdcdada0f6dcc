// The VMIs KubeVirt users write, as virt-api's webhook leaves them: every one converts, each into the
// domain parts KubeVirt's converter gives it; what needs hardware this launcher lacks fails naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyWebhookDefaults } from '../../../test/bed/vmi-defaults.ts';
import { domainSpecToXML } from '../src/api/index.ts';
import { ConversionError, convertVMIToDomainSpec, type EFIEnvironment } from '../src/converter/index.ts';
import { corpus, corpusContext, unsupportedCorpus, type CorpusVMI } from './vmi-corpus.ts';

const efi: EFIEnvironment = {
  code: '/usr/share/OVMF/OVMF_CODE.fd',
  vars: '/usr/share/OVMF/OVMF_VARS.fd',
  codeSecureBoot: '/usr/share/OVMF/OVMF_CODE.secboot.fd',
  varsSecureBoot: '/usr/share/OVMF/OVMF_VARS.secboot.fd',
};

const all = corpus();
const byName = (name: string): CorpusVMI => {
  const c = all.find((c) => c.vmi.metadata.name === name);
  assert.ok(c, `corpus VMI ${name}`);
  return c;
};
const xmlOf = (c: CorpusVMI, ctx = corpusContext(c.vmi, efi)) => domainSpecToXML(convertVMIToDomainSpec(c.vmi, ctx));

function assertXMLHas(xml: string, fragment: string): void {
  const strip = (s: string) => s.replace(/\n\s*/g, '');
  assert.ok(strip(xml).includes(strip(fragment)), `expected\n${fragment}\nin\n${xml}`);
}

test("the corpus has at least 32 VMIs (the README's figure), each from KubeVirt's examples or user guide", () => {
  assert.ok(all.length >= 32, `${all.length} VMIs`);
});

test('the webhook defaults: SATA buses, hotplug room, features {}, a firmware UUID, host-model, probes, inputs', () => {
  const hotplug = byName('vmi-memory-hotplug').vmi.spec.domain;
  assert.equal(hotplug.memory?.maxGuest, '8Gi');
  assert.equal(hotplug.cpu?.maxSockets, 4);
  // 1024M is below 1Gi: no memory hotplug room
  assert.equal(byName('vmi-fedora').vmi.spec.domain.memory?.maxGuest, undefined);
  const multi = byName('vm-alpine-multipvc').vmi.spec.domain.devices?.disks;
  assert.deepEqual(
    multi?.map((d) => d.disk?.bus),
    ['sata', 'sata'],
  );
  for (const c of all) {
    const d = c.vmi.spec.domain;
    assert.ok(d.features, `${c.file}: features`);
    assert.match(d.firmware?.uuid ?? '', /^[0-9a-f-]{36}$/, `${c.file}: firmware.uuid`);
    assert.equal(d.machine?.type, 'q35', c.file);
    assert.ok(d.cpu?.model, c.file);
  }
  const probes = byName('vmi-probes').vmi.spec;
  assert.deepEqual(probes.readinessProbe, {
    initialDelaySeconds: 120,
    periodSeconds: 20,
    httpGet: { port: 1500 },
    timeoutSeconds: 1,
    successThreshold: 1,
    failureThreshold: 3,
  });
  assert.deepEqual(byName('win2k19').vmi.spec.domain.devices?.inputs, [{ name: 'tablet', type: 'tablet', bus: 'usb' }]);
  // a bare VMI gets the pod network with the cluster's default binding
  const bridge = byName('vmi-bridge').vmi.spec;
  assert.deepEqual(bridge.domain.devices?.interfaces, [{ name: 'default', bridge: {} }]);
  assert.deepEqual(bridge.networks, [{ name: 'default', pod: {} }]);
  assert.equal(bridge.domain.cpu?.sockets, 1);
  // the webhook leaves a VMI it already defaulted as it is, apart from the fresh status
  const again = applyWebhookDefaults(structuredClone(byName('vmi-pvc').vmi) as Record<string, unknown>);
  assert.deepEqual(again.spec, byName('vmi-pvc').vmi.spec);
});

for (const c of all) {
  test(`${c.file} converts`, () => {
    const spec = convertVMIToDomainSpec(c.vmi, corpusContext(c.vmi, efi));
    // libvirt takes the domain's UUID from the SMBIOS entry: the webhook's firmware UUID
    assert.equal(spec.SysInfo?.System?.find((e) => e.Name === 'uuid')?.Value, c.vmi.spec.domain.firmware?.uuid);
  });
}

test('clock timers are switched by present, as KubeVirt spells it', () => {
  assertXMLHas(
    xmlOf(byName('vmi-windows')),
    `<clock offset="utc" adjustment="reset">
    <timer name="rtc" tickpolicy="catchup" present="yes"></timer>
    <timer name="pit" tickpolicy="delay" present="yes"></timer>
    <timer name="hpet" present="no"></timer>
    <timer name="hypervclock" present="yes"></timer>
  </clock>`,
  );
});

test('Windows: Hyper-V enlightenments, KVM hidden, a USB tablet on qemu-xhci, secure-boot OVMF, SMM', () => {
  const xml = xmlOf(byName('win2k19'));
  assertXMLHas(
    xml,
    `<hyperv>
    <relaxed state="on"></relaxed><vapic state="on"></vapic><spinlocks state="on" retries="8191"></spinlocks>
    <vpindex state="on"></vpindex><runtime state="on"></runtime><synic state="on"></synic>
    <stimer state="on"><direct state="on"></direct></stimer><reset state="on"></reset>
    <vendor_id state="on" value="KubeVirt"></vendor_id><frequencies state="on"></frequencies>
    <reenlightenment state="on"></reenlightenment><tlbflush state="on"></tlbflush><ipi state="on"></ipi>
  </hyperv>`,
  );
  assertXMLHas(xml, '<kvm><hidden state="on"></hidden></kvm>');
  assertXMLHas(xml, '<input type="tablet" bus="usb"><alias name="ua-tablet"></alias></input>');
  assertXMLHas(xml, '<controller type="usb" index="0" model="qemu-xhci"></controller>');
  const win = xmlOf(byName('vmi-windows'));
  assertXMLHas(win, '<loader readonly="yes" secure="yes" type="pflash">/usr/share/OVMF/OVMF_CODE.secboot.fd</loader>');
  assertXMLHas(
    win,
    '<nvram template="/usr/share/OVMF/OVMF_VARS.secboot.fd">/var/run/kubevirt-private/libvirt/qemu/nvram/vmi-windows_VARS.fd</nvram>',
  );
  assertXMLHas(win, '<smm></smm>');
  assertXMLHas(win, '<tpm model="tpm-tis"><backend type="emulator" version="2.0"></backend></tpm>');
  assertXMLHas(xmlOf(byName('vmi-alpine-efi')), '<loader readonly="yes" secure="no" type="pflash">/usr/share/OVMF/OVMF_CODE.fd</loader>');
});

test("EFI without the roms fails as KubeVirt's launcher does", () => {
  const c = byName('vmi-secureboot');
  assert.throws(
    () => convertVMIToDomainSpec(c.vmi, { ...corpusContext(c.vmi, efi), efiEnvironment: { ...efi, varsSecureBoot: '' } }),
    (err: unknown) =>
      err instanceof ConversionError &&
      err.message ===
        'spec.domain.firmware.bootloader.efi: EFI OVMF roms missing for booting in EFI mode with SecureBoot=true, SEV/SEV-ES=false, SEV-SNP=false, TDX=false',
  );
});

test('--firmware-auto-selection: a secure boot VMI gets firmware="efi" with its features, no loader, a raw nvram', () => {
  const c = byName('vmi-secureboot');
  // libvirt chooses the firmware, so missing roms do not matter
  const xml = xmlOf(c, { ...corpusContext(c.vmi, efi), efiEnvironment: null, firmwareAutoSelection: true });
  assertXMLHas(
    xml,
    '<os firmware="efi"><firmware><feature enabled="yes" name="secure-boot"></feature><feature enabled="yes" name="enrolled-keys"></feature></firmware>',
  );
  assert.doesNotMatch(xml, /<loader/);
  assertXMLHas(xml, '<nvram format="raw">/var/run/kubevirt-private/libvirt/qemu/nvram/vmi-secureboot_VARS.fd</nvram>');
  // without secure boot the flag changes nothing: OVMF from --ovmf-path
  const plain = byName('vmi-alpine-efi');
  const plainXML = xmlOf(plain, { ...corpusContext(plain.vmi, efi), firmwareAutoSelection: true });
  assertXMLHas(plainXML, '<loader readonly="yes" secure="no" type="pflash">/usr/share/OVMF/OVMF_CODE.fd</loader>');
  assert.doesNotMatch(plainXML, /firmware="efi"/);
});

test('PVC and DataVolume disks: disk.img on a file system claim, the device node of a block claim', () => {
  assertXMLHas(
    xmlOf(byName('vmi-pvc')),
    `<disk device="disk" type="file" model="virtio-non-transitional">
    <source file="/var/run/kubevirt-private/vmi-disks/pvcdisk/disk.img"></source>
    <target bus="virtio" dev="vda"></target>
    <driver error_policy="stop" name="qemu" type="raw" discard="unmap"></driver>
    <alias name="ua-pvcdisk"></alias>
  </disk>`,
  );
  assertXMLHas(
    xmlOf(byName('vmi-pvc-block')),
    '<disk device="disk" type="block" model="virtio-non-transitional"><source dev="/dev/blockdisk" name="blockdisk"></source>',
  );
  assertXMLHas(
    xmlOf(byName('vm-alpine-datavolume')),
    '<source file="/var/run/kubevirt-private/vmi-disks/datavolumedisk1/disk.img"></source>',
  );
});

test('hostDisk, config volumes, ConfigDrive and sysprep: where KubeVirt puts each', () => {
  assertXMLHas(xmlOf(byName('vmi-host-disk')), '<source file="/var/run/kubevirt-private/vmi-disks/host-disk/disk.img"></source>');
  const config = xmlOf(byName('vmi-config-volumes'));
  assertXMLHas(config, '<source file="/var/run/kubevirt-private/config-map-disks/app-config-disk.iso"></source>');
  assertXMLHas(config, '<source file="/var/run/kubevirt-private/secret-disks/app-secret-disk.iso"></source>');
  assertXMLHas(config, '<source file="/var/run/kubevirt-private/service-account-disk/service-account.iso"></source>');
  assertXMLHas(config, '<serial>CVLY623300HK240D</serial>');
  assertXMLHas(
    xmlOf(byName('vmi-fedora-downwardapi')),
    '<source file="/var/run/kubevirt-private/downwardapi-disks/podinfo-disk.iso"></source>',
  );
  assertXMLHas(
    xmlOf(byName('vmi-configdrive')),
    '<source file="/var/run/kubevirt-ephemeral-disks/cloud-init-data/default/vmi-configdrive/configdrive.iso"></source>',
  );
  assertXMLHas(xmlOf(byName('win2k19')), '<source file="/var/run/kubevirt-private/sysprep-disks/sysprep.iso"></source>');
});

test('memory hotplug room: <maxMemory> at maxGuest (one slot, for libvirt 9.0), the guest memory as <memory>', () => {
  const xml = xmlOf(byName('vmi-memory-hotplug'));
  assertXMLHas(xml, `<memory unit="b">${2 * 1024 ** 3}</memory>`);
  assertXMLHas(xml, `<maxMemory unit="b" slots="1">${8 * 1024 ** 3}</maxMemory>`);
  assert.doesNotMatch(xmlOf(byName('vmi-fedora')), /maxMemory/);
});

test("startStrategy Paused: the firmware's boot menu waits 10 s once unpaused", () => {
  assertXMLHas(xmlOf(byName('vmi-paused')), '<bootmenu enable="yes" timeout="10000"></bootmenu>');
});

test("dedicated CPUs: the vCPU and the emulator thread each pinned to a CPU of the pod's cpuset, KVM told so", () => {
  const c = byName('vmi-fedora-isolated');
  const xml = xmlOf(c);
  assertXMLHas(xml, '<cputune><vcpupin vcpu="0" cpuset="0"></vcpupin><emulatorpin cpuset="1"></emulatorpin></cputune>');
  assertXMLHas(xml, '<kvm><hint-dedicated state="on"></hint-dedicated></kvm>');
  // one CPU in the cpuset: no room for the emulator thread; none: not even the vCPU (KubeVirt's errors)
  const one = { ...corpusContext(c.vmi, efi), cpuSet: [0] };
  assert.throws(
    () => convertVMIToDomainSpec(c.vmi, one),
    /^ConversionError: spec.domain.cpu.isolateEmulatorThread: no CPU allocated for the emulation thread: no remaining unassigned threads$/,
  );
  const none = { ...corpusContext(c.vmi, efi), topology: null };
  assert.throws(
    () => convertVMIToDomainSpec(c.vmi, none),
    /spec.domain.cpu.dedicatedCpuPlacement: not enough exclusive threads provided, could not fit 1 core\(s\)/,
  );
});

test('dedicated CPUs with IOThreads: beside an isolated emulator thread, or over the vCPUs; a supplemental pool before it', () => {
  const c = byName('vmi-fedora-isolated');
  const topology = {
    numa_cells: [{ id: 0, cpus: Array.from({ length: 8 }, (_, id) => ({ id, siblings: [] })) }],
  };
  const withCPU = (cpu: object, domain: object = {}, moreDisks: string[] = []) => {
    const vmi = structuredClone(c.vmi);
    Object.assign(vmi.spec.domain, { cpu: { ...vmi.spec.domain.cpu, ...cpu }, ...domain });
    for (const name of moreDisks) {
      vmi.spec.domain.devices?.disks?.push({ name, disk: {} });
      vmi.spec.volumes?.push({ name, emptyDisk: { capacity: '1Gi' } });
    }
    const ctx = { ...corpusContext(vmi, efi), topology, cpuSet: [0, 1, 2, 3, 4, 5, 6, 7] };
    return convertVMIToDomainSpec(vmi, ctx).CPUTune;
  };
  // isolated emulator thread: IOThread 1 on its CPU (vCPU 0 on 0, the emulator on 1)
  assert.deepEqual(withCPU({}, { ioThreadsPolicy: 'shared' })?.IOThreadPin, [{ IOThread: 1, CPUSet: '1' }]);
  // no isolation, 8 vCPUs, an auto thread for each of the two disks: the pod's CPUs split between them
  const auto = { ioThreadsPolicy: 'auto', resources: { requests: { cpu: '8', memory: '1Gi' } } };
  const eight = withCPU({ cores: 8, isolateEmulatorThread: false }, auto);
  assert.equal(eight?.EmulatorPin, null);
  assert.deepEqual(eight?.IOThreadPin, [
    { IOThread: 1, CPUSet: '0,1,2,3' },
    { IOThread: 2, CPUSet: '4,5,6,7' },
  ]);
  // three threads over eight CPUs, as KubeVirt's comment has it: 0,1,2 / 3,4,5 / 6,7
  const three = withCPU({ cores: 8, isolateEmulatorThread: false }, auto, ['x']);
  assert.deepEqual(
    three?.IOThreadPin?.map((p) => p.CPUSet),
    ['0,1,2', '3,4,5', '6,7'],
  );
  // a supplemental pool: its own CPUs after the vCPU's, then the emulator thread's
  const pooled = withCPU({}, { ioThreadsPolicy: 'supplementalPool', ioThreads: { supplementalPoolThreadCount: 2 } });
  assert.deepEqual(pooled?.IOThreadPin, [
    { IOThread: 1, CPUSet: '1' },
    { IOThread: 2, CPUSet: '2' },
  ]);
  assert.deepEqual(pooled?.EmulatorPin, { CPUSet: '3' });
});

test('a watchdog and CPU features as KubeVirt writes them', () => {
  const xml = xmlOf(byName('vmi-with-watchdog'));
  assertXMLHas(xml, '<watchdog model="i6300esb" action="poweroff"><alias name="ua-mywatchdog"></alias></watchdog>');
  assertXMLHas(
    xml,
    '<feature name="pcid" policy="require"></feature><feature name="vmx" policy="disable"></feature><feature name="mpx" policy="disable"></feature>',
  );
});

for (const c of unsupportedCorpus()) {
  test(`${c.file} fails naming ${c.expect}`, () => {
    assert.throws(
      () => convertVMIToDomainSpec(c.vmi, corpusContext(c.vmi, efi)),
      (err: unknown) => err instanceof ConversionError && err.path === c.expect && err.message.startsWith(`${c.expect}: `),
    );
  });
}
