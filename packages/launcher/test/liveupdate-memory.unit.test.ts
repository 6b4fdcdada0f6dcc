// The virtio-mem device memory hotplug attaches and updates, as KubeVirt's BuildMemoryDevice sizes it
// and its UpdateGuestMemory writes it (the device's XML, lower-cased); on libvirtd and in the guest
// in memory-hotplug.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVMI, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { domainSpecFromXML } from '../src/api/index.ts';
import { buildMemoryDevice, memoryDeviceToXML } from '../src/liveupdate/memory.ts';

const Gi = 1024 ** 3;
const Mi = 1024 ** 2;

function vmi(memory: Record<string, unknown>, guestAtBoot: string | null = '1Gi'): VirtualMachineInstance {
  return parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'vmi-memory', namespace: 'default', uid: '11111111-2222-3333-4444-555555555555' },
    spec: { domain: { memory, devices: {} } },
    status: guestAtBoot === null ? {} : { memory: { guestAtBoot, guestCurrent: guestAtBoot, guestRequested: memory.guest } },
  });
}

const sizes = (v: VirtualMachineInstance) => {
  const t = buildMemoryDevice(v).Target;
  assert.ok(t);
  return { size: t.Size.Value, requested: t.Requested.Value, block: t.Block.Value, node: t.Node };
};

test('BuildMemoryDevice: the room is maxGuest − guestAtBoot, the request guest − guestAtBoot, 2Mi blocks on node 0', () => {
  // at boot: nothing asked yet
  assert.deepEqual(sizes(vmi({ guest: '1Gi', maxGuest: '4Gi' })), { size: 3 * Gi, requested: 0, block: 2 * Mi, node: '0' });
  // the VM's guest memory raised to 2Gi
  assert.deepEqual(sizes(vmi({ guest: '2Gi', maxGuest: '4Gi' })), { size: 3 * Gi, requested: Gi, block: 2 * Mi, node: '0' });
  // decimal quantities count in bytes too
  assert.deepEqual(sizes(vmi({ guest: '1500M', maxGuest: '2G' }, '1G')), { size: 1e9, requested: 5e8, block: 2 * Mi, node: '0' });
});

test('BuildMemoryDevice: with 1Gi hugepages the block is one hugepage', () => {
  assert.equal(sizes(vmi({ guest: '2Gi', maxGuest: '8Gi', hugepages: { pageSize: '1Gi' } })).block, Gi);
  assert.equal(sizes(vmi({ guest: '2Gi', maxGuest: '8Gi', hugepages: { pageSize: '2Mi' } })).block, 2 * Mi);
});

test('BuildMemoryDevice: what it cannot size fails naming the field', () => {
  assert.throws(
    () => buildMemoryDevice(vmi({ guest: '1Gi' })),
    /^ConversionError: spec\.domain\.memory\.maxGuest: Max guest memory must be configured when memory hotplug is enabled$/,
  );
  assert.throws(
    () => buildMemoryDevice(vmi({ maxGuest: '4Gi' })),
    /^ConversionError: spec\.domain\.memory\.guest: Guest memory must be configured when memory hotplug is enabled$/,
  );
  assert.throws(() => buildMemoryDevice(vmi({ guest: '2Gi', maxGuest: '4Gi' }, null)), /^ConversionError: status\.memory\.guestAtBoot: /);
  // below the memory at boot: a negative request (KubeVirt's QuantityToByte error)
  assert.throws(
    () => buildMemoryDevice(vmi({ guest: '512Mi', maxGuest: '4Gi' })),
    /^ConversionError: spec\.domain\.memory\.guest: Memory size '-512Mi' must be greater than or equal to 0$/,
  );
});

test('the device XML: marshalled as KubeVirt marshals api.MemoryDevice, then lower-cased', () => {
  assert.equal(
    memoryDeviceToXML(buildMemoryDevice(vmi({ guest: '2Gi', maxGuest: '4Gi' }))),
    [
      '<memory model="virtio-mem">',
      '\t<target>',
      `\t\t<size unit="b">${3 * Gi}</size>`,
      `\t\t<requested unit="b">${Gi}</requested>`,
      '\t\t<current unit="">0</current>',
      '\t\t<node>0</node>',
      `\t\t<block unit="b">${2 * Mi}</block>`,
      '\t</target>',
      '</memory>',
    ].join('\n'),
  );
});

test("the update: the running domain's device as libvirt gives it (alias, address, KiB), only its request changed", () => {
  const live = domainSpecFromXML(`<domain type='qemu'><devices>
    <memory model='virtio-mem'>
      <target>
        <size unit='KiB'>786432</size>
        <node>0</node>
        <block unit='KiB'>2048</block>
        <requested unit='KiB'>0</requested>
        <current unit='KiB'>0</current>
      </target>
      <alias name='virtiomem0'/>
      <address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>
    </memory></devices></domain>`).Devices.Memory;
  assert.ok(live?.Target);
  live.Target.Requested = { Value: 256 * Mi, Unit: 'b' };
  assert.equal(
    memoryDeviceToXML(live),
    [
      '<memory model="virtio-mem">',
      '\t<target>',
      '\t\t<size unit="kib">786432</size>',
      `\t\t<requested unit="b">${256 * Mi}</requested>`,
      '\t\t<current unit="kib">0</current>',
      '\t\t<node>0</node>',
      '\t\t<block unit="kib">2048</block>',
      '\t</target>',
      '\t<alias name="virtiomem0"></alias>',
      '\t<address type="pci" domain="0x0000" bus="0x06" slot="0x00" function="0x0"></address>',
      '</memory>',
    ].join('\n'),
  );
});
