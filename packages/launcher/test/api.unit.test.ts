// The DomainSpec as data: Go's JSON keys, its XML both ways, and a running domain's live XML read
// back into the same JSON a Go launcher sends the handler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  diskCodec,
  domainSpecFromXML,
  domainSpecToXML,
  newDomainSpec,
  newStruct,
  XMLUnmarshalError,
  type DomainSpec,
} from '../src/api/index.ts';
import { convertVMIToDomainSpec, type ConverterContext } from '../src/converter/index.ts';
import { POD_CONTEXT } from './pod-context.ts';

// KubeVirt's facts, vendored (test/fixtures/kubevirt/README.md).
const reference = (name: string) => new URL(`../../../test/fixtures/kubevirt/${name}`, import.meta.url);
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const ctx: ConverterContext = {
  ...POD_CONTEXT,
  // what the launcher's qemu-img inspection found (disk-info.ts)
  disksInfo: { root: { format: 'raw' } },
};

/** Every key path of a JSON value, arrays by their items, in order. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => keyPaths(v, `${prefix}[]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...keyPaths(v, `${prefix}.${k}`)]);
}

/** A domain with a bit of everything the converter writes. */
function richSpec(): DomainSpec {
  return convertVMIToDomainSpec(
    {
      metadata: { name: 'rich', namespace: 'ns', uid: '0b6c7d1e-1111-2222-3333-444455556666' },
      spec: {
        domain: {
          cpu: { sockets: 2, model: 'Haswell-noTSX' },
          memory: { guest: '256Mi', hugepages: { pageSize: '2Mi' } },
          firmware: { serial: 'S&N <1>', kernelBoot: { kernelArgs: `console=ttyS0 a="b c" d='e'` } },
          devices: {
            logSerialConsole: true,
            rng: {},
            disks: [
              { name: 'root', disk: {}, bootOrder: 1 },
              { name: 'scratch', disk: { bus: 'scsi' }, serial: 'x1' },
              { name: 'ci', cdrom: {} },
            ],
            interfaces: [{ name: 'default', masquerade: {}, macAddress: '02:00:00:00:00:01' }],
          },
        },
        networks: [{ name: 'default', pod: {} }],
        volumes: [
          { name: 'root', containerDisk: { image: 'img' } },
          { name: 'scratch', emptyDisk: { capacity: '1Gi' } },
          { name: 'ci', cloudInitNoCloud: { userData: 'u' } },
        ],
      },
    },
    ctx,
  );
}

test('a zero DomainSpec has exactly the keys, order and zero values Go marshals', () => {
  const zero = JSON.parse(readFileSync(reference('domain-zero-value.json'), 'utf8')) as { Spec: DomainSpec };
  const expected = { ...zero.Spec, Metadata: { KubeVirt: { ...zero.Spec.Metadata.KubeVirt, UID: '' } } };
  assert.equal(JSON.stringify(newDomainSpec()), JSON.stringify(expected));
});

test('XML → spec → XML: what we write reads back the same, as Go reads it', () => {
  for (const spec of [richSpec(), newDomainSpec({ Name: 'x', Type: 'kvm' })]) {
    const xml = domainSpecToXML(spec);
    const parsed = domainSpecFromXML(xml);
    // Go fills every XMLName on unmarshal and never reads `xmlns:qemu` back (its local name is `qemu`)
    const interfaces = spec.Devices.Interfaces?.map((i) => ({ ...i, XMLName: { Space: '', Local: 'interface' } })) ?? null;
    assert.deepEqual(parsed, {
      ...spec,
      XMLName: { Space: '', Local: 'domain' },
      XmlNS: '',
      Devices: { ...spec.Devices, Interfaces: interfaces },
    });
    assert.equal(domainSpecToXML(parsed), xml.replace(' xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0"', ''));
    assert.deepEqual(keyPaths(parsed), keyPaths(spec));
  }
});

test('text and attributes with XML specials survive the round trip', () => {
  const spec = richSpec();
  const xml = domainSpecToXML(spec);
  assert.match(xml, /<entry name="serial">S&amp;N &lt;1&gt;<\/entry>/);
  const parsed = domainSpecFromXML(xml);
  assert.equal(parsed.SysInfo?.System?.find((e) => e.Name === 'serial')?.Value, 'S&N <1>');
  assert.equal(parsed.OS.KernelArgs, `console=ttyS0 a="b c" d='e'`);
  // libvirt writes ' as &apos; in attributes and may use numeric references
  const fromLibvirt = domainSpecFromXML(`<domain type='kvm'><name>a&apos;b&#38;c&#x41;</name></domain>`);
  assert.equal(fromLibvirt.Name, "a'b&cA");
});

test("a running domain's live XML parses into what the handler reads", () => {
  const spec = domainSpecFromXML(fixture('live-domain.xml'));
  assert.deepEqual(spec.XMLName, { Space: '', Local: 'domain' });
  assert.equal(spec.Type, 'qemu');
  assert.equal(spec.XmlNS, '');
  assert.equal(spec.Name, 'default_testvmi');
  assert.equal(spec.UUID, '5d307ca9-b3ef-428c-8861-06e72d69f223');
  assert.deepEqual(spec.Memory, { Value: 131072, Unit: 'KiB' });
  assert.deepEqual(spec.CurrentMemory, { Value: 131072, Unit: 'KiB' });
  assert.equal(spec.OS.Type.Machine, 'pc-q35-7.2');
  assert.deepEqual(spec.Metadata.KubeVirt, {
    UID: '6a1a1d3c-8d4e-4a51-9a29-3c1f1e0b7f42',
    GracePeriod: { DeletionGracePeriodSeconds: 0, DeletionTimestamp: null, MarkedForGracefulShutdown: null },
    Migration: null,
    Backup: null,
    AccessCredential: null,
    MemoryDump: null,
  });
  assert.deepEqual(spec.Features?.ACPI, {});
  assert.equal(spec.CPU.Mode, 'custom');
  assert.equal(spec.CPU.Model, 'EPYC');
  assert.deepEqual(spec.CPU.Topology, { Sockets: 1, Cores: 1, Threads: 1 });
  assert.deepEqual(spec.Resource, { Partition: '/machine' });
  assert.equal(spec.OnReboot, 'destroy');

  // the guest agent is up: the handler's AgentConnected condition comes from here
  assert.deepEqual(spec.Devices.Channels, [
    {
      Type: 'unix',
      Source: { Mode: 'bind', Path: '/var/lib/libvirt/qemu/channel/target/domain-1-default_testvmi/org.qemu.guest_agent.0' },
      Target: { Name: 'org.qemu.guest_agent.0', Type: 'virtio', Address: '', Port: 0, State: 'connected' },
    },
  ]);

  const [nic] = spec.Devices.Interfaces ?? [];
  assert.ok(nic);
  assert.deepEqual(nic.XMLName, { Space: '', Local: 'interface' });
  assert.equal(nic.Type, 'user');
  assert.deepEqual(nic.MAC, { MAC: '02:6a:1a:1d:3c:01' });
  assert.deepEqual(nic.Alias, { Name: 'default', UserDefined: true });
  assert.deepEqual(nic.Model, { Type: 'virtio-non-transitional' });
  assert.equal(nic.Address?.Bus, '0x01');

  // libvirt's own aliases are not user-defined
  assert.deepEqual(spec.Devices.Controllers?.[0]?.Alias, { Name: 'usb', UserDefined: false });
  assert.deepEqual(spec.Devices.Serials?.[0]?.Alias, { Name: 'serial0', UserDefined: false });
  assert.equal(spec.Devices.Serials?.[0]?.Target?.Port, 0);
  assert.deepEqual(spec.Devices.Ballooning?.Stats, { Period: 10 });
  assert.equal(spec.Devices.Emulator, '/usr/bin/qemu-system-x86_64');
  assert.deepEqual(
    spec.Devices.Inputs?.map((i) => `${i.Type}/${i.Bus}`),
    ['mouse/ps2', 'keyboard/ps2'],
  );
  assert.deepEqual(spec.Devices.Graphics?.[0]?.Listen, {
    Type: 'socket',
    Address: '',
    Network: '',
    Socket: '/var/run/kubevirt-private/6a1a1d3c-8d4e-4a51-9a29-3c1f1e0b7f42/virt-vnc',
  });

  // the JSON still has every key of Go's struct, no more
  assert.deepEqual(Object.keys(spec), Object.keys(newDomainSpec()));
  assert.deepEqual(Object.keys(spec.Devices.Disks?.[0] ?? newStruct(diskCodec)), Object.keys(newStruct(diskCodec)));
});

test('a disk from libvirt: backing store, driver, alias and address land in their fields', () => {
  const spec = domainSpecFromXML(`<domain type='kvm'><devices>
    <disk type='file' device='disk' model='virtio-non-transitional'>
      <driver name='qemu' type='qcow2' cache='none' error_policy='stop' discard='unmap'/>
      <source file='/var/run/kubevirt-ephemeral-disks/disk-data/root/disk.qcow2' index='2'/>
      <backingStore type='file' index='3'>
        <format type='raw'/>
        <source file='/var/run/kubevirt/container-disks/disk_0.img'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
      <boot order='1'/>
      <alias name='ua-root'/>
      <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>
    </disk></devices></domain>`);
  const disk = spec.Devices.Disks?.[0];
  assert.ok(disk);
  assert.equal(disk.Model, 'virtio-non-transitional');
  assert.deepEqual(disk.Target, { Bus: 'virtio', Device: 'vda', Tray: '' });
  assert.equal(disk.Driver?.Cache, 'none');
  assert.equal(disk.BackingStore?.Source?.File, '/var/run/kubevirt/container-disks/disk_0.img');
  assert.deepEqual(disk.BackingStore?.Format, { Type: 'raw' });
  assert.deepEqual(disk.BootOrder, { Order: 1 });
  assert.deepEqual(disk.Alias, { Name: 'root', UserDefined: true });
});

test('KubeVirt metadata: only in its namespace, prefixed or not; times come back as RFC3339 at seconds', () => {
  const spec = domainSpecFromXML(`<domain type='kvm'><metadata>
      <other xmlns="http://example.com"><uid>not-this</uid></other>
      <kv:kubevirt xmlns:kv="http://kubevirt.io">
        <kv:uid>u-1</kv:uid>
        <kv:graceperiod>
          <kv:deletionGracePeriodSeconds>30</kv:deletionGracePeriodSeconds>
          <kv:deletionTimestamp>2026-11-23T10:11:12.123456789+01:00</kv:deletionTimestamp>
          <kv:markedForGracefulShutdown>true</kv:markedForGracefulShutdown>
        </kv:graceperiod>
      </kv:kubevirt></metadata></domain>`);
  assert.deepEqual(spec.Metadata.KubeVirt.GracePeriod, {
    DeletionGracePeriodSeconds: 30,
    DeletionTimestamp: '2026-11-23T09:11:12Z',
    MarkedForGracefulShutdown: true,
  });
  assert.equal(spec.Metadata.KubeVirt.UID, 'u-1');
  assert.equal(domainSpecFromXML(`<domain><metadata><kubevirt><uid>x</uid></kubevirt></metadata></domain>`).Metadata.KubeVirt.UID, '');
});

test("what Go's decoder rejects, we reject: bad numbers, other root elements, broken XML", () => {
  assert.throws(() => domainSpecFromXML(`<domain><memory unit='KiB'>lots</memory></domain>`), XMLUnmarshalError);
  assert.throws(() => domainSpecFromXML(`<domain><vcpu>-1</vcpu></domain>`), XMLUnmarshalError);
  assert.throws(() => domainSpecFromXML(`<network><name>x</name></network>`), /expected element type <domain>/);
  assert.throws(() => domainSpecFromXML(`<domain><name>x</domain>`), XMLUnmarshalError);
  // and accepts what it accepts: surrounding space in numbers, unknown elements, empty values
  const spec = domainSpecFromXML(
    `<?xml version="1.0"?><domain><vcpu placement='static'> 2 </vcpu><unknown a='1'/><memory unit='KiB'></memory></domain>`,
  );
  assert.deepEqual(spec.VCPU, { Placement: 'static', CPUs: 2 });
  assert.deepEqual(spec.Memory, { Value: 0, Unit: 'KiB' });
});
