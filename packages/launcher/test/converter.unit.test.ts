// VMI → domain, as KubeVirt's converter writes it: table tests on the XML (whole documents for the
// minimal and test-guest VMIs, the relevant elements for the rest) and on what it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { domainSpecToXML, newDomainSpec } from '../src/api/index.ts';
import { isPreAllocated } from '../src/disk-info.ts';
import {
  ConversionError,
  containerDiskImagePath,
  containerDiskOverlayPath,
  convertVMIToDomainSpec,
  emptyDiskPath,
  emptyDiskSize,
  noCloudFiles,
  noCloudISOPath,
  parseQuantity,
  quantityToBytes,
  setDriverCacheMode,
  setOptimalIOMode,
  SUPPORTED_FIELDS,
  type ConverterContext,
} from '../src/converter/index.ts';

const UID = '11111111-2222-3333-4444-555555555555';

const ctx: ConverterContext = {
  allowEmulation: false,
  hypervisorDeviceAvailable: true,
  virtShareDir: '/var/run/kubevirt',
  privateDir: '/var/run/kubevirt-private',
  containerDiskDir: '/var/run/kubevirt/container-disks',
  ephemeralDiskDir: '/var/run/kubevirt-ephemeral-disks',
  // what the launcher's qemu-img inspection found for the container disks these tests name (disk-info.ts)
  disksInfo: { root: { format: 'raw' }, d: { format: 'raw' } },
};
const emulation: ConverterContext = { ...ctx, allowEmulation: true, hypervisorDeviceAvailable: false };

type Spec = VirtualMachineInstance['spec'];
type DomainPart = Partial<Spec['domain']>;

function vmi(domain: DomainPart = {}, spec: Partial<Spec> = {}, name = 'testvmi'): VirtualMachineInstance {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name, namespace: 'default', uid: UID },
    spec: { domain: { resources: { requests: { memory: '128Mi' } }, devices: {}, ...domain }, ...spec },
  };
}

/** The test guest (test/bed/guest.ts) as a VMI: direct kernel boot from a kernel-boot container. */
function testGuestVMI(): VirtualMachineInstance {
  return vmi(
    {
      cpu: { cores: 1 },
      firmware: {
        uuid: '5d307ca9-b3ef-428c-8861-06e72d69f223',
        kernelBoot: {
          kernelArgs: 'console=ttyS0 panic=-1 quiet',
          container: { image: 'kvts/testguest', kernelPath: '/boot/vmlinux', initrdPath: '/boot/initrd.img' },
        },
      },
      devices: { autoattachPodInterface: false, autoattachGraphicsDevice: false },
      rebootPolicy: 'Terminate',
    } as DomainPart,
    { terminationGracePeriodSeconds: 0 },
  );
}

/** Lines of XML without their indentation, so a fragment matches wherever it is nested. */
function flat(xml: string): string {
  return xml
    .split('\n')
    .map((l) => l.trim())
    .join('\n');
}

function assertXMLHas(xml: string, fragment: string): void {
  assert.ok(flat(xml).includes(flat(fragment)), `expected\n${fragment}\nin\n${xml}`);
}

function convert(v: VirtualMachineInstance, c: ConverterContext = ctx): string {
  return domainSpecToXML(convertVMIToDomainSpec(v, c));
}

test("a minimal VMI becomes KubeVirt's default domain: kvm, q35, host-model, agent channel, console, VNC, balloon", () => {
  assert.equal(
    convert(vmi({}, { terminationGracePeriodSeconds: 0 })),
    `<domain type="kvm" xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">
	<name>default_testvmi</name>
	<memory unit="b">134217728</memory>
	<os>
		<type arch="x86_64" machine="q35">hvm</type>
		<smbios mode="sysinfo"></smbios>
	</os>
	<sysinfo type="smbios">
		<system>
			<entry name="uuid">${UID}</entry>
			<entry name="manufacturer">KubeVirt</entry>
			<entry name="family">KubeVirt</entry>
			<entry name="product">None</entry>
			<entry name="sku"></entry>
			<entry name="version"></entry>
		</system>
	</sysinfo>
	<devices>
		<interface type="user">
			<source></source>
			<model type="virtio-non-transitional"></model>
			<alias name="ua-default"></alias>
		</interface>
		<channel type="unix">
			<target name="org.qemu.guest_agent.0" type="virtio"></target>
		</channel>
		<controller type="usb" index="0" model="none"></controller>
		<controller type="scsi" index="0" model="virtio-non-transitional"></controller>
		<controller type="virtio-serial" index="0" model="virtio-non-transitional"></controller>
		<video>
			<model type="vga" heads="1" vram="16384"></model>
		</video>
		<graphics type="vnc">
			<listen type="socket" socket="/var/run/kubevirt-private/${UID}/virt-vnc"></listen>
		</graphics>
		<memballoon model="virtio-non-transitional" freePageReporting="on">
			<stats period="10"></stats>
		</memballoon>
		<serial type="unix">
			<target port="0"></target>
			<source mode="bind" path="/var/run/kubevirt-private/${UID}/virt-serial0"></source>
		</serial>
		<console type="pty">
			<target type="serial" port="0"></target>
		</console>
	</devices>
	<metadata>
		<kubevirt xmlns="http://kubevirt.io">
			<uid>${UID}</uid>
			<graceperiod>
				<deletionGracePeriodSeconds>0</deletionGracePeriodSeconds>
			</graceperiod>
		</kubevirt>
	</metadata>
	<features>
		<acpi></acpi>
		<vmport state="off"></vmport>
	</features>
	<cpu mode="host-model">
		<topology sockets="1" cores="1" threads="1"></topology>
	</cpu>
	<vcpu placement="static">1</vcpu>
</domain>`,
  );
});

test('the test guest under emulation: qemu, direct kernel boot from kernel-boot artifacts, destroy on reboot', () => {
  assert.equal(
    convert(testGuestVMI(), emulation),
    `<domain type="qemu" xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">
	<name>default_testvmi</name>
	<memory unit="b">134217728</memory>
	<os>
		<type arch="x86_64" machine="q35">hvm</type>
		<smbios mode="sysinfo"></smbios>
		<kernel>/var/run/kubevirt/container-disks/kernel-boot/vmlinux</kernel>
		<initrd>/var/run/kubevirt/container-disks/kernel-boot/initrd.img</initrd>
		<cmdline>console=ttyS0 panic=-1 quiet</cmdline>
	</os>
	<sysinfo type="smbios">
		<system>
			<entry name="uuid">5d307ca9-b3ef-428c-8861-06e72d69f223</entry>
			<entry name="manufacturer">KubeVirt</entry>
			<entry name="family">KubeVirt</entry>
			<entry name="product">None</entry>
			<entry name="sku"></entry>
			<entry name="version"></entry>
		</system>
	</sysinfo>
	<devices>
		<channel type="unix">
			<target name="org.qemu.guest_agent.0" type="virtio"></target>
		</channel>
		<controller type="usb" index="0" model="none"></controller>
		<controller type="scsi" index="0" model="virtio-non-transitional"></controller>
		<controller type="virtio-serial" index="0" model="virtio-non-transitional"></controller>
		<memballoon model="virtio-non-transitional" freePageReporting="on">
			<stats period="10"></stats>
		</memballoon>
		<serial type="unix">
			<target port="0"></target>
			<source mode="bind" path="/var/run/kubevirt-private/${UID}/virt-serial0"></source>
		</serial>
		<console type="pty">
			<target type="serial" port="0"></target>
		</console>
	</devices>
	<metadata>
		<kubevirt xmlns="http://kubevirt.io">
			<uid>${UID}</uid>
			<graceperiod>
				<deletionGracePeriodSeconds>0</deletionGracePeriodSeconds>
			</graceperiod>
		</kubevirt>
	</metadata>
	<features>
		<acpi></acpi>
		<vmport state="off"></vmport>
	</features>
	<cpu mode="host-model">
		<topology sockets="1" cores="1" threads="1"></topology>
	</cpu>
	<vcpu placement="static">1</vcpu>
	<on_reboot>destroy</on_reboot>
</domain>`,
  );
});

test("the domain JSON has exactly Go's keys, with the VMI's name, UID and grace period", () => {
  const spec = convertVMIToDomainSpec(vmi(), ctx);
  const keys = (o: object) => Object.keys(o);
  const zero = newDomainSpec();
  assert.deepEqual(keys(spec), keys(zero));
  assert.deepEqual(keys(spec.OS), keys(zero.OS));
  assert.deepEqual(keys(spec.Devices), keys(zero.Devices));
  assert.deepEqual(keys(spec.CPU), keys(zero.CPU));
  assert.equal(spec.Name, 'default_testvmi');
  assert.equal(spec.UUID, '', 'KubeVirt writes no <uuid>: libvirt takes it from the sysinfo entry');
  assert.deepEqual(spec.Metadata.KubeVirt, {
    UID,
    GracePeriod: { DeletionGracePeriodSeconds: 30, DeletionTimestamp: null, MarkedForGracefulShutdown: null },
    Migration: null,
    Backup: null,
    AccessCredential: null,
    MemoryDump: null,
  });
});

test('containerDisk, emptyDisk and cloudInitNoCloud: overlay over the image, blank qcow2, cidata ISO', () => {
  const v = vmi(
    {
      devices: {
        disks: [
          { name: 'root', disk: { bus: 'virtio' }, bootOrder: 1 },
          { name: 'scratch', disk: { bus: 'scsi' }, serial: 'SCRATCH1' },
          { name: 'cloudinit', cdrom: { bus: 'sata' } },
        ],
      },
    },
    {
      volumes: [
        { name: 'root', containerDisk: { image: 'quay.io/containerdisks/fedora:latest' } },
        { name: 'scratch', emptyDisk: { capacity: '1Gi' } },
        { name: 'cloudinit', cloudInitNoCloud: { userDataBase64: Buffer.from('#cloud-config\npassword: x\n').toString('base64') } },
      ],
    },
  );
  const xml = convert(v);
  assertXMLHas(
    xml,
    `<disk device="disk" type="file" model="virtio-non-transitional">
	<source file="/var/run/kubevirt-ephemeral-disks/disk-data/root/disk.qcow2"></source>
	<target bus="virtio" dev="vda"></target>
	<driver error_policy="stop" name="qemu" type="qcow2" discard="unmap"></driver>
	<alias name="ua-root"></alias>
	<backingStore type="file">
		<format type="raw"></format>
		<source file="/var/run/kubevirt/container-disks/disk_0.img"></source>
	</backingStore>
	<boot order="1"></boot>
</disk>
<disk device="disk" type="file">
	<source file="/var/run/libvirt/empty-disks/scratch.qcow2"></source>
	<target bus="scsi" dev="sda"></target>
	<serial>SCRATCH1</serial>
	<driver error_policy="stop" name="qemu" type="qcow2" discard="unmap"></driver>
	<alias name="ua-scratch"></alias>
	<address type="drive" bus="0" controller="0" unit="0"></address>
</disk>
<disk device="cdrom" type="file">
	<source file="/var/run/kubevirt-ephemeral-disks/cloud-init-data/default/testvmi/noCloud.iso"></source>
	<target bus="sata" dev="sdb" tray="closed"></target>
	<driver error_policy="stop" name="qemu" type="raw"></driver>
	<readonly></readonly>
	<alias name="ua-cloudinit"></alias>
</disk>`,
  );

  // what the DomainManager makes before define
  assert.equal(containerDiskImagePath(0, ctx), '/var/run/kubevirt/container-disks/disk_0.img');
  assert.equal(containerDiskOverlayPath('root', ctx), '/var/run/kubevirt-ephemeral-disks/disk-data/root/disk.qcow2');
  assert.equal(emptyDiskPath('scratch', ctx), '/var/run/libvirt/empty-disks/scratch.qcow2');
  assert.equal(emptyDiskSize({ name: 'scratch', emptyDisk: { capacity: '1Gi' } }), 1024 ** 3);
  assert.equal(emptyDiskSize({ name: 'scratch', emptyDisk: { capacity: '1500k' } }), 1024 ** 2, 'rounded down to a MiB');
  assert.equal(noCloudISOPath(v, ctx), '/var/run/kubevirt-ephemeral-disks/cloud-init-data/default/testvmi/noCloud.iso');
  const volume = v.spec.volumes?.[2];
  assert.ok(volume);
  assert.deepEqual(noCloudFiles(volume, v), {
    userData: '#cloud-config\npassword: x\n',
    metaData: `{"instance-id":"${UID}","local-hostname":"testvmi"}`,
  });
});

test('cloud-init network data goes in network-config; the hostname is spec.hostname or the name up to a dot', () => {
  const v = vmi(
    {},
    { hostname: 'guest1', volumes: [{ name: 'ci', cloudInitNoCloud: { userData: 'u', networkData: 'version: 2\n' } }] },
    'a.b',
  );
  const volume = v.spec.volumes?.[0];
  assert.ok(volume);
  assert.deepEqual(noCloudFiles(volume, v), {
    userData: 'u',
    metaData: `{"instance-id":"${UID}","local-hostname":"guest1"}`,
    networkData: 'version: 2\n',
  });
  const unnamed = vmi({}, { volumes: [{ name: 'ci', cloudInitNoCloud: { userData: 'u' } }] }, 'web.example');
  assert.equal(JSON.parse(noCloudFiles(unnamed.spec.volumes?.[0] ?? { name: '' }, unnamed).metaData)['local-hostname'], 'web');
});

test('a volume without a disk gets a virtio disk; a disk without a target gets one', () => {
  const spec = convertVMIToDomainSpec(
    vmi(
      { devices: { disks: [{ name: 'a' }] } },
      {
        volumes: [
          { name: 'a', emptyDisk: { capacity: '1Gi' } },
          { name: 'b', emptyDisk: { capacity: '1Gi' } },
        ],
      },
    ),
    ctx,
  );
  assert.deepEqual(
    spec.Devices.Disks?.map((d) => [d.Alias?.Name, d.Device, d.Target.Bus, d.Target.Device]),
    [
      ['a', 'disk', 'virtio', 'vda'],
      ['b', 'disk', 'virtio', 'vdb'],
    ],
  );
});

test('interfaces: masquerade or bridge on the pod network become user-mode NICs with the MAC and alias ua-<name>', () => {
  const xml = convert(
    vmi(
      {
        devices: {
          interfaces: [
            { name: 'default', masquerade: {}, macAddress: '02:00:00:00:00:01' },
            { name: 'second', bridge: {}, model: 'e1000', bootOrder: 2 },
          ],
        },
      },
      {
        networks: [
          { name: 'default', pod: {} },
          { name: 'second', pod: {} },
        ],
      },
    ),
  );
  assertXMLHas(
    xml,
    `<interface type="user">
	<source></source>
	<model type="virtio-non-transitional"></model>
	<mac address="02:00:00:00:00:01"></mac>
	<alias name="ua-default"></alias>
</interface>
<interface type="user">
	<source></source>
	<model type="e1000"></model>
	<boot order="2"></boot>
	<alias name="ua-second"></alias>
</interface>`,
  );
});

test('autoattachPodInterface: false leaves the guest without a NIC', () => {
  const spec = convertVMIToDomainSpec(vmi({ devices: { autoattachPodInterface: false } }), ctx);
  assert.equal(spec.Devices.Interfaces, null);
});

test('hugepages: memfd-backed hugepages and the NUMA cell memfd needs', () => {
  const xml = convert(vmi({ cpu: { sockets: 2 }, memory: { guest: '1Gi', hugepages: { pageSize: '2Mi' } } }));
  assertXMLHas(
    xml,
    `<memory unit="b">1073741824</memory>
<memoryBacking>
	<hugepages></hugepages>
	<source type="memfd"></source>
</memoryBacking>`,
  );
  assertXMLHas(
    xml,
    `<cpu mode="host-model">
	<topology sockets="2" cores="1" threads="1"></topology>
	<numa>
		<cell id="0" cpus="0-1" memory="1048576" unit="KiB"></cell>
	</numa>
</cpu>
<vcpu placement="static">2</vcpu>`,
  );
});

test('guest memory: memory.guest, else requests.memory, else limits.memory; bytes as KubeVirt writes them', () => {
  const cases: [DomainPart, number][] = [
    [{ memory: { guest: '256Mi' }, resources: { requests: { memory: '128Mi' } } }, 256 * 1024 ** 2],
    [{ resources: { requests: { memory: '128M' } } }, 128e6],
    [{ resources: { limits: { memory: '1Gi' } } }, 1024 ** 3],
    [{ resources: { requests: { memory: '1.5Gi' }, limits: { memory: '2Gi' } } }, 1.5 * 1024 ** 3],
  ];
  for (const [domain, bytes] of cases) {
    const spec = convertVMIToDomainSpec(vmi(domain), ctx);
    assert.deepEqual(spec.Memory, { Value: bytes, Unit: 'b' }, JSON.stringify(domain));
  }
});

test('CPU: topology from the VMI or from the CPU request; named models are custom with mpx off', () => {
  const fromRequest = convertVMIToDomainSpec(vmi({ resources: { requests: { memory: '128Mi', cpu: '1500m' } } }), ctx);
  assert.deepEqual(fromRequest.CPU.Topology, { Sockets: 2, Cores: 1, Threads: 1 });
  assert.deepEqual(fromRequest.VCPU, { Placement: 'static', CPUs: 2 });

  const named = convertVMIToDomainSpec(vmi({ cpu: { sockets: 1, cores: 2, threads: 2, model: 'Haswell-noTSX' } }), ctx);
  assert.deepEqual(named.CPU, {
    Mode: 'custom',
    Model: 'Haswell-noTSX',
    Features: [{ Name: 'mpx', Policy: 'disable' }],
    Topology: { Sockets: 1, Cores: 2, Threads: 2 },
    NUMA: null,
  });
  assert.equal(named.VCPU?.CPUs, 4);

  assert.equal(convertVMIToDomainSpec(vmi({ cpu: { model: 'host-passthrough' } }), ctx).CPU.Mode, 'host-passthrough');
  assert.equal(convertVMIToDomainSpec(vmi({ cpu: { model: 'host-model' } }), emulation).CPU.Mode, 'host-model');
});

test('maxSockets: every socket declared for CPU hotplug, the requested ones enabled', () => {
  const xml = convert(vmi({ cpu: { sockets: 1, cores: 2, maxSockets: 2 } }));
  assertXMLHas(
    xml,
    `<topology sockets="2" cores="2" threads="1"></topology>
</cpu>
<vcpu placement="static">4</vcpu>
<vcpus>
	<vcpu id="0" enabled="yes" hotpluggable="no"></vcpu>
	<vcpu id="1" enabled="yes" hotpluggable="no"></vcpu>
	<vcpu id="2" enabled="no" hotpluggable="yes"></vcpu>
	<vcpu id="3" enabled="no" hotpluggable="yes"></vcpu>
</vcpus>`,
  );
});

test('devices the VMI turns off: serial console, graphics, memory balloon, ACPI', () => {
  const spec = convertVMIToDomainSpec(
    vmi({
      devices: {
        autoattachSerialConsole: false,
        autoattachGraphicsDevice: false,
        autoattachMemBalloon: false,
        autoattachPodInterface: false,
      },
      features: { acpi: { enabled: false } },
    }),
    ctx,
  );
  assert.equal(spec.Devices.Serials, null);
  assert.equal(spec.Devices.Consoles, null);
  assert.equal(spec.Devices.Graphics, null);
  assert.equal(spec.Devices.Video, null);
  assert.deepEqual(spec.Devices.Ballooning, { Model: 'none', Stats: null, Address: null, Driver: null, FreePageReporting: '' });
  assert.deepEqual(
    spec.Devices.Controllers?.map((c) => c.Type),
    ['usb', 'scsi'],
  );
  assert.deepEqual(spec.Features, {
    ACPI: null,
    APIC: null,
    Hyperv: null,
    SMM: null,
    KVM: null,
    PVSpinlock: null,
    PMU: null,
    VMPort: { State: 'off' },
  });
});

test('clientPassthrough: four usb-redir devices on the usbredir sockets, and the USB controller they need', () => {
  const spec = convertVMIToDomainSpec(vmi({ devices: { clientPassthrough: {} } }), ctx);
  assert.deepEqual(spec.Devices.Controllers?.find((c) => c.Type === 'usb')?.Model, 'qemu-xhci');
  const xml = domainSpecToXML(spec);
  for (const slot of [0, 1, 2, 3]) {
    assertXMLHas(
      xml,
      `<redirdev type="unix" bus="usb">\n<source mode="bind" path="${ctx.privateDir}/${UID}/virt-usbredir-${slot}"></source>\n</redirdev>`,
    );
  }
  assert.equal(xml.match(/<redirdev /g)?.length, 4);
  // without it: none, and the USB controller off
  const plain = convertVMIToDomainSpec(vmi({ devices: {} }), ctx);
  assert.equal(plain.Devices.Redirs, null);
  assert.equal(plain.Devices.Controllers?.find((c) => c.Type === 'usb')?.Model, 'none');
});

test('logSerialConsole keeps the console output in <socket>-log; rng, clock and smbios as asked', () => {
  const xml = convert(
    vmi({
      devices: { logSerialConsole: true, rng: {}, autoattachPodInterface: false },
      clock: { utc: {}, timer: { rtc: { tickPolicy: 'catchup' }, hpet: { present: false } } },
      firmware: { serial: 'SN-1' },
    } as DomainPart),
    { ...ctx, smbios: { manufacturer: 'ACME', product: 'P', version: '1', sku: 'S', family: 'F' }, memBalloonStatsPeriod: 0 },
  );
  assertXMLHas(
    xml,
    `<serial type="unix">
	<target port="0"></target>
	<source mode="bind" path="/var/run/kubevirt-private/${UID}/virt-serial0"></source>
	<log file="/var/run/kubevirt-private/${UID}/virt-serial0-log" append="on"></log>
</serial>`,
  );
  assertXMLHas(
    xml,
    `<rng model="virtio-non-transitional">
	<backend model="random">/dev/urandom</backend>
</rng>`,
  );
  assertXMLHas(
    xml,
    `<clock offset="utc" adjustment="reset">
	<timer name="rtc" tickpolicy="catchup" present="yes"></timer>
	<timer name="hpet" present="no"></timer>
</clock>`,
  );
  assertXMLHas(
    xml,
    `<entry name="uuid">${UID}</entry>
<entry name="serial">SN-1</entry>
<entry name="manufacturer">ACME</entry>
<entry name="family">F</entry>
<entry name="product">P</entry>
<entry name="sku">S</entry>
<entry name="version">1</entry>`,
  );
  assertXMLHas(xml, '<memballoon model="virtio-non-transitional" freePageReporting="on"></memballoon>');
});

test('emulatorPath pins <emulator>; rebootPolicy Reboot restarts', () => {
  const spec = convertVMIToDomainSpec(vmi({ rebootPolicy: 'Reboot' } as DomainPart), {
    ...ctx,
    emulatorPath: '/usr/bin/qemu-system-x86_64',
  });
  assert.equal(spec.Devices.Emulator, '/usr/bin/qemu-system-x86_64');
  assert.equal(spec.OnReboot, 'restart');
});

test('the VMI is not modified, and converting twice gives the same domain', () => {
  const v = testGuestVMI();
  const before = structuredClone(v);
  const a = convert(v, emulation);
  assert.deepEqual(v, before);
  assert.equal(convert(v, emulation), a);
});

test('a VMI using every supported field converts', () => {
  const v = vmi(
    {
      cpu: { cores: 1, sockets: 1, threads: 1, maxSockets: 2, model: 'host-model' },
      memory: { guest: '1Gi', maxGuest: '1Gi', hugepages: { pageSize: '2Mi' } },
      resources: { requests: { memory: '1Gi', cpu: '1' }, limits: { memory: '1Gi', cpu: '1' } },
      machine: { type: 'q35' },
      firmware: {
        uuid: UID,
        serial: 's',
        bootloader: { bios: { useSerial: true } },
        kernelBoot: {
          kernelArgs: 'x',
          container: { image: 'i', imagePullPolicy: 'Always', imagePullSecret: 's', kernelPath: '/k', initrdPath: '/i' },
        },
      },
      features: { acpi: { enabled: true }, apic: { enabled: true }, smm: { enabled: true } },
      clock: {
        utc: { offsetSeconds: 5 },
        timer: {
          hpet: { present: true, tickPolicy: 'delay' },
          pit: { present: true, tickPolicy: 'delay' },
          rtc: { present: true, tickPolicy: 'catchup', track: 'guest' },
          kvm: { present: true },
          hyperv: { present: true },
        },
      },
      rebootPolicy: 'Terminate',
      devices: {
        autoattachSerialConsole: true,
        logSerialConsole: false,
        autoattachGraphicsDevice: true,
        autoattachMemBalloon: true,
        autoattachPodInterface: true,
        useVirtioTransitional: false,
        disableHotplug: false,
        clientPassthrough: {},
        rng: {},
        disks: [
          { name: 'd', disk: { bus: 'virtio', readonly: true }, bootOrder: 1, serial: 's', cache: 'writethrough' },
          { name: 'c', cdrom: { bus: 'sata', readonly: true, tray: 'closed' } },
        ],
        interfaces: [
          {
            name: 'm',
            masquerade: {},
            model: 'virtio',
            macAddress: '02:00:00:00:00:02',
            bootOrder: 2,
            dhcpOptions: {
              bootFileName: 'f',
              tftpServerName: 't',
              ntpServers: ['10.0.0.1'],
              privateOptions: [{ option: 240, value: 'v' }],
            },
          },
          { name: 'b', bridge: {} },
        ],
      },
    } as DomainPart,
    {
      architecture: 'amd64',
      terminationGracePeriodSeconds: 10,
      hostname: 'h',
      nodeSelector: { 'kubernetes.io/hostname': 'node1' },
      networks: [
        { name: 'm', pod: { vmNetworkCIDR: '10.11.12.0/24', vmIPv6NetworkCIDR: 'fd10:0:3::/120' } },
        { name: 'b', pod: {} },
      ],
      volumes: [
        { name: 'd', containerDisk: { image: 'i', imagePullPolicy: 'IfNotPresent', imagePullSecret: 's', path: '/disk' } },
        { name: 'c', cloudInitNoCloud: { userData: 'u', userDataBase64: '', networkData: 'n', networkDataBase64: '' } },
      ],
      // virt-handler's, never the domain's
      utilityVolumes: [{ name: 'u', claimName: 'backup', type: 'Backup' }],
    },
  );
  const spec = convertVMIToDomainSpec(v, ctx);
  assert.deepEqual(
    spec.Devices.Disks?.map((d) => d.Alias?.Name),
    ['d', 'c'],
    'no disk for the utility volume',
  );
  assert.equal(spec.OS.BIOS?.UseSerial, 'yes');
  assert.equal(spec.Devices.Disks?.[0]?.Driver?.Cache, 'writethrough');
  assert.deepEqual(spec.Devices.Disks?.[0]?.ReadOnly, {});
  assert.ok(spec.Features?.APIC && spec.Features.SMM);
  assert.ok(SUPPORTED_FIELDS.length > 50);
});

test("multus networks: one ethernet NIC per interface in the VMI's order, aliased ua-<name>, the VMI's MAC kept", () => {
  const v = vmi(
    {
      devices: {
        interfaces: [
          { name: 'default', masquerade: {} },
          { name: 'secnet', bridge: {}, macAddress: '02:aa:bb:cc:dd:01' },
        ],
      },
    } as DomainPart,
    {
      networks: [
        { name: 'secnet', multus: { networkName: 'ns1/bridge-net' } },
        { name: 'default', pod: {} },
      ],
    },
  );
  const attachments = { default: 'tap', secnet: 'tap' };
  const xml = domainSpecToXML(convertVMIToDomainSpec(v, { ...emulation, domainAttachmentByInterfaceName: attachments }));
  const nics = [...xml.matchAll(/<interface type="(\w+)">([\s\S]*?)<\/interface>/g)];
  assert.deepEqual(
    nics.map((m) => [m[1], /<alias name="([^"]+)"/.exec(m[2]!)?.[1]]),
    [
      ['ethernet', 'ua-default'],
      ['ethernet', 'ua-secnet'],
    ],
  );
  assert.match(nics[1]![2]!, /<mac address="02:aa:bb:cc:dd:01"><\/mac>/);
});

test('unsupported fields are rejected with their path, never dropped', () => {
  const cases: [string, VirtualMachineInstance, string | RegExp][] = [
    [
      'an SR-IOV binding',
      vmi({ devices: { interfaces: [{ name: 'n', sriov: {} }] } }, { networks: [{ name: 'n', pod: {} }] }),
      'spec.domain.devices.interfaces[0].sriov',
    ],
    ['dedicated CPUs', vmi({ cpu: { cores: 2, dedicatedCpuPlacement: true } }), 'spec.domain.cpu.dedicatedCpuPlacement'],
    [
      'an unknown pod network setting',
      vmi({}, { networks: [{ name: 'default', pod: { vmNetworkCIDR: '10.1.0.0/24', other: 1 } as object }] }),
      'spec.networks[0].pod.other',
    ],
    [
      'an unknown DHCP option field',
      vmi({ devices: { interfaces: [{ name: 'default', masquerade: {}, dhcpOptions: { domainName: 'x' } }] } } as unknown as DomainPart),
      'spec.domain.devices.interfaces[0].dhcpOptions.domainName',
    ],
    ['a GPU', vmi({ devices: { gpus: [{ name: 'g', deviceName: 'nvidia.com/TU104GL' }] } }), 'spec.domain.devices.gpus'],
    ['a host device', vmi({ devices: { hostDevices: [{ name: 'h', deviceName: 'vendor.com/dev' }] } }), 'spec.domain.devices.hostDevices'],
    ['SEV', vmi({ launchSecurity: { sev: {} } }), 'spec.domain.launchSecurity'],
    ['vsock (no /dev/vhost-vsock)', vmi({ devices: { autoattachVSOCK: true } } as DomainPart), 'spec.domain.devices.autoattachVSOCK'],
    ['a keyboard input', vmi({ devices: { inputs: [{ type: 'keyboard', bus: 'usb', name: 'k' }] } }), 'spec.domain.devices.inputs[0].type'],
    [
      'an input on a PS/2 bus',
      vmi({ devices: { inputs: [{ type: 'tablet', bus: 'ps2', name: 't' }] } }),
      'spec.domain.devices.inputs[0].bus',
    ],
    ['maxGuest below the guest memory', vmi({ memory: { guest: '2Gi', maxGuest: '1Gi' } }), 'spec.domain.memory.maxGuest'],
    [
      "a secondary network without the handler's tap",
      vmi({ devices: { interfaces: [{ name: 'n', bridge: {} }] } }, { networks: [{ name: 'n', multus: { networkName: 'br' } }] }),
      'spec.networks[0].multus',
    ],
    [
      'masquerade on a multus network',
      vmi({ devices: { interfaces: [{ name: 'n', masquerade: {} }] } }, { networks: [{ name: 'n', multus: { networkName: 'br' } }] }),
      'spec.domain.devices.interfaces[0].name',
    ],
    ['EFI', vmi({ firmware: { bootloader: { efi: {} } } }), 'spec.domain.firmware.bootloader.efi'],
    [
      'a virtio CD-ROM',
      vmi(
        { devices: { disks: [{ name: 'c', cdrom: { bus: 'virtio' } }] } },
        { volumes: [{ name: 'c', cloudInitNoCloud: { userData: 'u' } }] },
      ),
      'spec.domain.devices.disks[0].cdrom.bus',
    ],
    [
      'an unknown disk bus',
      vmi({ devices: { disks: [{ name: 'd', disk: { bus: 'ide' } }] } }, { volumes: [{ name: 'd', emptyDisk: { capacity: '1Gi' } }] }),
      'spec.domain.devices.disks[0].disk.bus',
    ],
    ['host-passthrough under emulation', vmi({ cpu: { model: 'host-passthrough' } }), 'spec.domain.cpu.model'],
    [
      'an interface without a network',
      vmi({ devices: { interfaces: [{ name: 'x', masquerade: {} }] } }),
      'spec.domain.devices.interfaces[0].name',
    ],
    ['a disk without a volume', vmi({ devices: { disks: [{ name: 'x', disk: {} }] } }), 'spec.domain.devices.disks[0].name'],
    ['another architecture', vmi({}, { architecture: 'arm64' }), 'spec.architecture'],
    ['a VMI without memory', vmi({ resources: {} }), 'spec.domain.resources.requests.memory'],
    ['an unknown reboot policy', vmi({ rebootPolicy: 'Sometimes' } as DomainPart), 'spec.domain.rebootPolicy'],
  ];
  for (const [what, v, path] of cases) {
    assert.throws(
      () => convertVMIToDomainSpec(v, emulation),
      (err: unknown) => {
        assert.ok(err instanceof ConversionError, `${what}: ${String(err)}`);
        assert.equal(err.path, path, what);
        assert.ok(err.message.startsWith(`${path}: `), `${what}: ${err.message}`);
        return true;
      },
      what,
    );
  }
});

test('bad quantities are rejected naming the field; good ones parse exactly', () => {
  for (const [quantity, path, domain] of [
    ['12Q', 'spec.domain.resources.requests.memory', { resources: { requests: { memory: '12Q' } } }],
    ['1K', 'spec.domain.memory.guest', { memory: { guest: '1K' } }],
    ['-1Gi', 'spec.domain.memory.guest', { memory: { guest: '-1Gi' } }],
    ['lots', 'spec.domain.resources.requests.cpu', { resources: { requests: { memory: '1Gi', cpu: 'lots' } } }],
    ['2MB', 'spec.domain.memory.hugepages.pageSize', { memory: { guest: '1Gi', hugepages: { pageSize: '2MB' } } }],
  ] as const) {
    assert.throws(
      () => convertVMIToDomainSpec(vmi(domain as DomainPart), ctx),
      (err: unknown) => err instanceof ConversionError && err.path === path && err.message.includes(quantity),
      quantity,
    );
  }
  const bytes: [string | number, number][] = [
    ['128Mi', 134217728],
    ['1Gi', 1073741824],
    ['128M', 128000000],
    ['1.5Gi', 1610612736],
    ['1e3', 1000],
    ['0.5', 0],
    ['100m', 0],
    [1024, 1024],
  ];
  for (const [q, b] of bytes) assert.equal(quantityToBytes(q, 'q'), b, String(q));
  assert.equal(parseQuantity('1.5.5'), undefined);
  assert.equal(parseQuantity(''), undefined);
});

test("containerDisk: the backing store's format is the one the launcher found; none found → KubeVirt's error", () => {
  const v = vmi({}, { volumes: [{ name: 'cirros', containerDisk: { image: 'quay.io/kubevirt/cirros-container-disk-demo' } }] });
  const spec = convertVMIToDomainSpec(v, { ...ctx, disksInfo: { cirros: { format: 'qcow2' } } });
  assert.equal(spec.Devices.Disks?.[0]?.BackingStore?.Format?.Type, 'qcow2');
  assert.throws(() => convertVMIToDomainSpec(v, ctx), { message: 'no disk info provided for volume cirros' });
  const named = vmi({}, { volumes: [{ name: 'constructor', containerDisk: { image: 'i' } }] });
  assert.throws(() => convertVMIToDomainSpec(named, ctx), { message: 'no disk info provided for volume constructor' });
});

test('driver cache: none where O_DIRECT works (disk and backing file), writethrough where it does not', () => {
  const spec = convertVMIToDomainSpec(
    vmi(
      {},
      {
        volumes: [
          { name: 'root', containerDisk: { image: 'i' } },
          { name: 'scratch', emptyDisk: { capacity: '1Gi' } },
        ],
      },
    ),
    ctx,
  );
  const [root, scratch] = spec.Devices.Disks ?? [];
  assert.ok(root && scratch);
  setDriverCacheMode(root, (path) => !path.includes('container-disks'));
  setDriverCacheMode(scratch, () => true);
  assert.equal(root.Driver?.Cache, 'writethrough');
  assert.equal(scratch.Driver?.Cache, 'none');
});

test('disk io, errorPolicy and shareable as the VMI sets them; bad values rejected naming the field', () => {
  const withDisks = (disks: object[]) =>
    vmi({ devices: { disks } } as DomainPart, {
      volumes: disks.map((d) => ({ name: (d as { name: string }).name, emptyDisk: { capacity: '1Gi' } })),
    });
  const spec = convertVMIToDomainSpec(
    withDisks([
      { name: 'a', disk: {}, io: 'threads', errorPolicy: 'report' },
      { name: 'b', disk: { pciAddress: '0000:00:10.0' }, shareable: true },
      { name: 'c', disk: {} },
    ]),
    ctx,
  );
  const [a, b, c] = spec.Devices.Disks ?? [];
  assert.deepEqual([a?.Driver?.IO, a?.Driver?.ErrorPolicy, a?.Shareable], ['threads', 'report', null]);
  // a shared disk is never cached on this host: cache none unless the VMI says otherwise
  assert.deepEqual([b?.Driver?.Cache, b?.Shareable], ['none', {}]);
  assert.deepEqual([b?.Address?.Type, b?.Address?.Bus, b?.Address?.Slot], ['pci', '0x00', '0x10']);
  assert.deepEqual([c?.Driver?.IO, c?.Driver?.ErrorPolicy, c?.Driver?.Cache], ['', 'stop', '']);
  assertXMLHas(domainSpecToXML(spec), '<shareable></shareable>');
  for (const [disk, field, message] of [
    [{ name: 'x', disk: {}, io: 'io_uring' }, 'spec.domain.devices.disks[0].io', /"io_uring" is not one of native, threads/],
    [{ name: 'x', disk: {}, errorPolicy: 'panic' }, 'spec.domain.devices.disks[0].errorPolicy', /error policy panic not recognized/],
    [
      { name: 'x', disk: { bus: 'sata', pciAddress: '0000:00:10.0' } },
      'spec.domain.devices.disks[0].disk.pciAddress',
      /setting a pci address is not allowed for non-virtio bus types, for disk x/,
    ],
    [
      { name: 'x', disk: { pciAddress: '00:10.0' } },
      'spec.domain.devices.disks[0].disk.pciAddress',
      /failed to configure disk x: failed to parse pci address 00:10.0/,
    ],
    [
      { name: 'x', disk: {}, shareable: true, cache: 'writeback' },
      'spec.domain.devices.disks[0].cache',
      /a sharable disk requires cache = none got: writeback/,
    ],
  ] as const) {
    assert.throws(
      () => convertVMIToDomainSpec(withDisks([disk]), ctx),
      (err: unknown) => err instanceof ConversionError && err.path === field && message.test(err.message),
      field,
    );
  }
});

test('blockMultiQueue: a queue per vCPU on each virtio disk, none on other buses', () => {
  const v = vmi(
    {
      cpu: { sockets: 2, cores: 2, threads: 1 },
      devices: {
        blockMultiQueue: true,
        disks: [
          { name: 'a', disk: {} },
          { name: 'b', disk: { bus: 'sata' } },
        ],
      },
    } as DomainPart,
    { volumes: ['a', 'b'].map((name) => ({ name, emptyDisk: { capacity: '1Gi' } })) },
  );
  assert.deepEqual(
    convertVMIToDomainSpec(v, ctx).Devices.Disks?.map((d) => d.Driver?.Queues),
    [4, null],
  );
});

test('io=native where O_DIRECT is on and the disk is a block device or a preallocated image (qemu-img says which)', async (t) => {
  const dir = mkdtempSync('/tmp/kvts-io-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const thick = path.join(dir, 'thick.img');
  const sparse = path.join(dir, 'sparse.img');
  execFileSync('qemu-img', ['create', '-q', '-f', 'raw', '-o', 'preallocation=full', thick, '4M']);
  execFileSync('qemu-img', ['create', '-q', '-f', 'raw', sparse, '4M']);
  assert.equal(await isPreAllocated(thick), true);
  assert.equal(await isPreAllocated(sparse), false);
  assert.equal(await isPreAllocated(path.join(dir, 'missing.img')), false, 'a failing qemu-img is a no');

  const disk = (file: string, cache: string, io = '', block = false) => {
    const d = convertVMIToDomainSpec(vmi({}, { volumes: [{ name: 'd', emptyDisk: { capacity: '1Gi' } }] }), ctx).Devices.Disks![0]!;
    d.Type = block ? 'block' : 'file';
    d.Source = { ...d.Source, File: block ? '' : file, Dev: block ? file : '' };
    d.Driver!.Cache = cache;
    d.Driver!.IO = io;
    return d;
  };
  const ioOf = async (d: ReturnType<typeof disk>) => {
    await setOptimalIOMode(d, isPreAllocated);
    return d.Driver?.IO;
  };
  assert.equal(await ioOf(disk(thick, 'none')), 'native');
  assert.equal(await ioOf(disk(sparse, 'none')), '');
  assert.equal(await ioOf(disk('/dev/claim', 'none', '', true)), 'native', 'a block device, without asking qemu-img');
  assert.equal(await ioOf(disk(thick, 'writethrough')), '', 'no O_DIRECT, no native io');
  assert.equal(await ioOf(disk(thick, 'none', 'threads')), 'threads', "the VMI's io stays");
});

test('sound: ich9 unless ac97 is asked, aliased; another model refused. Panic devices as listed', () => {
  const devices = (d: object) => convertVMIToDomainSpec(vmi({ devices: d } as DomainPart), ctx).Devices;
  assert.deepEqual(devices({ sound: { name: 's' } }).SoundCards, [{ Alias: { Name: 's', UserDefined: true }, Model: 'ich9' }]);
  assert.equal(devices({ sound: { name: 's', model: 'ac97' } }).SoundCards?.[0]?.Model, 'ac97');
  assert.throws(() => devices({ sound: { name: 's', model: 'sb16' } }), /spec\.domain\.devices\.sound\.model: invalid model: sb16/);
  assert.equal(devices({}).SoundCards, null);
  assert.deepEqual(devices({ panicDevices: [{ model: 'hyperv' }, {}] }).PanicDevices, [{ Model: 'hyperv' }, { Model: null }]);
  assert.equal(devices({}).PanicDevices, null);
  // accepted, not converted: virt-controller turns it into inputs
  assert.doesNotThrow(() => devices({ autoattachInputDevice: true }));
});

test('blockSize.custom: the disk has those sizes; matchVolume is left to the DomainManager, which reads the volume', () => {
  const spec = (blockSize: object) =>
    convertVMIToDomainSpec(
      vmi({ devices: { disks: [{ name: 'd', disk: {}, blockSize }] } } as DomainPart, {
        volumes: [{ name: 'd', emptyDisk: { capacity: '1Gi' } }],
      }),
      ctx,
    );
  const custom = spec({ custom: { logical: 4096, physical: 4096, discardGranularity: 8192 } });
  assert.deepEqual(custom.Devices.Disks?.[0]?.BlockIO, { LogicalBlockSize: 4096, PhysicalBlockSize: 4096, DiscardGranularity: 8192 });
  assertXMLHas(
    domainSpecToXML(custom),
    '<blockio logical_block_size="4096" physical_block_size="4096" discard_granularity="8192"></blockio>',
  );
  assert.equal(spec({ matchVolume: {} }).Devices.Disks?.[0]?.BlockIO, null);
});

test('IOThreads as KubeVirt counts and hands them out: shared, auto (two per CPU), dedicated, supplementalPool, SCSI', () => {
  const convert = (domain: object, disks: object[]) =>
    convertVMIToDomainSpec(
      vmi({ ...domain, devices: { disks } } as DomainPart, {
        volumes: disks.map((d) => ({ name: (d as { name: string }).name, emptyDisk: { capacity: '1Gi' } })),
      }),
      ctx,
    );
  const threads = (spec: ReturnType<typeof convert>) => [
    spec.IOThreads?.IOThreads ?? 0,
    spec.Devices.Disks?.map((d) => d.Driver?.IOThread ?? (d.Driver?.IOThreads ? `pool ${d.Driver.IOThreads.IOThread?.length}` : null)),
  ];
  const four = ['a', 'b', 'c', 'd'].map((name) => ({ name, disk: {} }));
  assert.deepEqual(threads(convert({}, four)), [0, [null, null, null, null]], 'no policy, no dedicated disk: none');
  assert.deepEqual(threads(convert({ ioThreadsPolicy: 'shared' }, four)), [1, [1, 1, 1, 1]]);
  // auto: up to two per requested CPU (1 here: 2 threads), taken in turn
  assert.deepEqual(threads(convert({ ioThreadsPolicy: 'auto' }, four)), [2, [1, 2, 1, 2]]);
  assert.deepEqual(threads(convert({ ioThreadsPolicy: 'auto', resources: { requests: { memory: '128Mi', cpu: '2' } } }, four)), [
    4,
    [1, 2, 3, 4],
  ]);
  // a dedicated disk: its own thread after the shared ones; a SATA disk gets none
  assert.deepEqual(
    threads(
      convert({}, [
        { name: 'a', disk: {}, dedicatedIOThread: true },
        { name: 'b', disk: {} },
        { name: 'c', disk: { bus: 'sata' } },
      ]),
    ),
    [2, [2, 1, null]],
  );
  assert.deepEqual(
    threads(convert({ ioThreadsPolicy: 'supplementalPool', ioThreads: { supplementalPoolThreadCount: 3 } }, four.slice(0, 2))),
    [3, ['pool 3', 'pool 3']],
  );
  // a SCSI disk on a dedicated thread: the controller takes the next shared one and a queue per vCPU
  const scsi = convert({ ioThreadsPolicy: 'shared' }, [
    { name: 'a', disk: {} },
    { name: 's', disk: { bus: 'scsi' }, dedicatedIOThread: true },
  ]);
  assert.deepEqual(scsi.Devices.Controllers?.find((c) => c.Type === 'scsi')?.Driver, {
    IOThread: 1,
    Queues: 1,
    IOThreads: null,
    IOMMU: '',
  });
  assert.throws(
    () => convert({ ioThreadsPolicy: 'many' }, four),
    /spec\.domain\.ioThreadsPolicy: "many" is not one of shared, auto, supplementalPool/,
  );
});

test('chassis: every SMBIOS chassis entry, empty ones too; video: the VMI type with the default heads and VRAM', () => {
  const spec = convertVMIToDomainSpec(vmi({ chassis: { serial: 'CH-1' }, devices: { video: { type: 'virtio' } } } as DomainPart), ctx);
  assert.deepEqual(spec.SysInfo?.Chassis, [
    { Name: 'manufacturer', Value: '' },
    { Name: 'version', Value: '' },
    { Name: 'serial', Value: 'CH-1' },
    { Name: 'asset', Value: '' },
    { Name: 'sku', Value: '' },
  ]);
  assert.deepEqual(
    spec.Devices.Video?.map((v) => [v.Model.Type, v.Model.Heads, v.Model.VRam]),
    [['virtio', 1, 16384]],
  );
  assert.equal(convertVMIToDomainSpec(vmi({}), ctx).SysInfo?.Chassis, null);
});

test('downwardMetrics: a second virtio-serial channel, org.github.vhostmd.1, bound where virt-handler dials it', () => {
  const channels = (d: object) => convertVMIToDomainSpec(vmi({ devices: d } as DomainPart), ctx).Devices.Channels;
  assert.deepEqual(
    channels({ downwardMetrics: {} })?.map((c) => [c.Target?.Name, c.Source?.Mode ?? null, c.Source?.Path ?? null]),
    [
      ['org.qemu.guest_agent.0', null, null],
      ['org.github.vhostmd.1', 'bind', '/var/run/kubevirt-private/downwardmetrics-channel/downwardmetrics.sock'],
    ],
  );
  assert.equal(channels({})?.length, 1);
});

test("a downwardMetrics volume: vhostmd's disk, read-only raw virtio, from the private dir", () => {
  const spec = convertVMIToDomainSpec(
    vmi({ devices: { disks: [{ name: 'm', disk: {} }] } } as DomainPart, { volumes: [{ name: 'm', downwardMetrics: {} }] }),
    ctx,
  );
  const [disk] = spec.Devices.Disks ?? [];
  assert.deepEqual(
    [disk?.Type, disk?.ReadOnly, disk?.Driver?.Type, disk?.Driver?.ErrorPolicy, disk?.Source.File, disk?.Target.Bus],
    ['file', {}, 'raw', 'stop', `${ctx.privateDir}/downwardapi-disks/vhostmd0`, 'virtio'],
  );
});

test("an ephemeral volume: a qcow2 overlay in disk-data over the claim's raw image, or its block device", () => {
  const disk = (block: boolean) =>
    convertVMIToDomainSpec(
      vmi({ devices: { disks: [{ name: 'e', disk: {} }] } } as DomainPart, {
        volumes: [{ name: 'e', ephemeral: { persistentVolumeClaim: { claimName: 'c' } } }],
      }),
      { ...ctx, isBlockPVC: { e: block } },
    ).Devices.Disks?.[0];
  const file = disk(false);
  assert.deepEqual(
    [
      file?.Type,
      file?.Driver?.Type,
      file?.Source.File,
      file?.BackingStore?.Type,
      file?.BackingStore?.Format?.Type,
      file?.BackingStore?.Source?.File,
    ],
    ['file', 'qcow2', `${ctx.ephemeralDiskDir}/disk-data/e/disk.qcow2`, 'file', 'raw', `${ctx.privateDir}/vmi-disks/e/disk.img`],
  );
  const block = disk(true);
  assert.deepEqual([block?.BackingStore?.Type, block?.BackingStore?.Source?.Dev], ['block', '/dev/e']);
});

test("firmware.acpi: each table the <type>.bin of its secret volume; a missing or non-secret volume, or none named, is KubeVirt's error", () => {
  const withACPI = (acpi: object, volumes: object[]) =>
    convertVMIToDomainSpec(vmi({ firmware: { acpi } } as DomainPart, { volumes } as Partial<Spec>), ctx);
  assert.deepEqual(
    withACPI({ slicNameRef: 's', msdmNameRef: 'm' }, [
      { name: 's', secret: { secretName: 'slic' } },
      { name: 'm', secret: { secretName: 'msdm' } },
    ]).OS.ACPI,
    {
      Table: [
        { Type: 'slic', Path: '/var/run/kubevirt-private/secret/s/slic.bin' },
        { Type: 'msdm', Path: '/var/run/kubevirt-private/secret/m/msdm.bin' },
      ],
    },
  );
  assert.throws(() => withACPI({}, []), /spec\.domain\.firmware\.acpi: no ACPI tables were set, expecting at least one/);
  assert.throws(() => withACPI({ slicNameRef: 'x' }, []), /firmware's volume for slic was not found/);
  assert.throws(
    () => withACPI({ slicNameRef: 'x' }, [{ name: 'x', configMap: { name: 'c' } }]),
    /firmware's volume type is unsupported for slic/,
  );
});
