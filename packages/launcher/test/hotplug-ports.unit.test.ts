// KubeVirt's hotplug port allocation (manager.go allocateHotplugPorts and what it calls), decision by
// decision, with the facts of KubeVirt's own tests: pkg/defaults/defaults_test.go (SupportsPCIeHotplug),
// pkg/virt-launcher/virtwrap/manager_test.go (calculateHotplugPortCountV1/V2, calculatePlaceholderCount,
// calculateExtraControllerCount, appendPCIeRootPortControllers, maxPCIControllerIndex, the defines of a
// first sync), pkg/virt-launcher/virtwrap/pci/hotplug_test.go (DisableHotplugOnOccupiedRootPorts) and
// network/nichotplug_test.go (WithNetworkIfacesResources). The real libvirtd's side is proven in
// hotplug-ports.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import {
  addressCodec,
  controllerCodec,
  diskCodec,
  diskTargetCodec,
  domainSpecFromXML,
  domainSpecToXML,
  hostDeviceCodec,
  inputCodec,
  interfaceCodec,
  memBalloonCodec,
  memoryDeviceCodec,
  newDomainSpec,
  newStruct,
  rngCodec,
  watchdogCodec,
  type Address,
  type Controller,
  type DomainSpec,
} from '../src/api/index.ts';
import {
  allocateHotplugPorts,
  appendPCIeRootPortControllers,
  appendPlaceholderInterfacesToTheDomain,
  calculateExtraControllerCount,
  calculateHotplugPortCountV1,
  calculateHotplugPortCountV2,
  calculatePlaceholderCount,
  disableHotplugOnOccupiedRootPorts,
  maxPCIControllerIndex,
  PciInterfaceSlotCountAnnotation,
  PlacePCIDevicesOnRootComplex,
  supportsPCIeHotplug,
  withNetworkIfacesResources,
  type DomainDefiner,
} from '../src/hotplug-ports.ts';
import { setDomainSpecWithHooks, transferQEMUCommandline } from '../src/define-domain.ts';
import { placePCIDevicesOnRootComplex } from '../src/converter/pci-placement.ts';
import { convertVMIToDomainSpec } from '../src/converter/index.ts';
import { POD_CONTEXT } from './pod-context.ts';

const GB = 1024 * 1024 * 1024;

function vmi(
  o: { interfaces?: number; annotations?: Record<string, string>; arch?: string; machine?: string } = {},
): VirtualMachineInstance {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'testvmi', namespace: 'testns', uid: 'u', annotations: o.annotations ?? {} },
    spec: {
      ...(o.arch === undefined ? {} : { architecture: o.arch }),
      domain: {
        ...(o.machine === undefined ? {} : { machine: { type: o.machine } }),
        devices: o.interfaces === undefined ? {} : { interfaces: Array.from({ length: o.interfaces }, (_, i) => ({ name: `iface${i}` })) },
      },
    },
  } as VirtualMachineInstance;
}

/** manager_test.go's domainWithDevices: `n` virtio disks and the memory given. */
function domainWithDevices(n: number, memory: number): DomainSpec {
  const spec = newDomainSpec();
  spec.Memory = { Value: memory, Unit: 'b' };
  spec.Devices.Disks = Array.from({ length: n }, () => newStruct(diskCodec, { Target: newStruct(diskTargetCodec, { Bus: 'virtio' }) }));
  return spec;
}

const pciAddr = (bus: string): Address =>
  newStruct(addressCodec, { Type: 'pci', Domain: '0x0000', Bus: bus, Slot: '0x00', Function: '0x0' });
const ctl = (type: string, index: string, model = '', more: Partial<Controller> = {}) =>
  newStruct(controllerCodec, { Type: type, Index: index, Model: model, ...more });
const rootPort = (index: string, busNr: number) =>
  ctl('pci', index, 'pcie-root-port', { Target: { Hotplug: '', BusNr: busNr, NUMANode: null } });

describe('SupportsPCIeHotplug (defaults_test.go)', () => {
  const cases: Array<[string, string, string | undefined, boolean]> = [
    ['amd64 with q35', 'amd64', 'pc-q35-3.0', true],
    ['amd64 with no machine type', 'amd64', undefined, true],
    ['amd64 with i440fx', 'amd64', 'pc-i440fx-2.12', false],
    ['arm64 with virt', 'arm64', 'virt', true],
    ['arm64 with versioned virt', 'arm64', 'virt-6.2', true],
    ['arm64 with no machine type', 'arm64', undefined, true],
    ['empty arch with q35', '', 'pc-q35-3.0', true],
    ['empty arch with no machine type', '', undefined, true],
    ['s390x', 's390x', undefined, false],
    ['ppc64le', 'ppc64le', undefined, false],
  ];
  for (const [name, arch, machine, expected] of cases) {
    test(name, () => assert.equal(supportsPCIeHotplug(vmi({ arch, ...(machine === undefined ? {} : { machine }) }).spec), expected));
  }
});

describe('calculateHotplugPortCountV1 (manager_test.go)', () => {
  test('0 when PlacePCIDevicesOnRootComplex is true', () => {
    assert.equal(calculateHotplugPortCountV1(vmi({ interfaces: 1, annotations: { [PlacePCIDevicesOnRootComplex]: 'true' } })), 0);
  });
  test('0 when there are no interfaces', () => assert.equal(calculateHotplugPortCountV1(vmi()), 0));
  for (const [interfaces, expected] of [
    [1, 3],
    [2, 2],
    [3, 1],
    [4, 0],
    [5, 0],
  ] as const) {
    test(`${interfaces} interfaces → ${expected}`, () => assert.equal(calculateHotplugPortCountV1(vmi({ interfaces })), expected));
  }
});

describe('calculatePlaceholderCount (manager_test.go)', () => {
  test('derived from the frozen slot total: max(0, 11-1) = 10', () => {
    assert.equal(calculatePlaceholderCount(vmi({ interfaces: 1, annotations: { [PciInterfaceSlotCountAnnotation]: '11' } })), 10);
  });
  test('clamped to zero when the interfaces exceed the slot total: max(0, 2-3) = 0', () => {
    assert.equal(calculatePlaceholderCount(vmi({ interfaces: 3, annotations: { [PciInterfaceSlotCountAnnotation]: '2' } })), 0);
  });
  test('an unreadable slot total is an error naming the annotation and value', () => {
    assert.throws(() => calculatePlaceholderCount(vmi({ annotations: { [PciInterfaceSlotCountAnnotation]: 'not-a-number' } })), {
      message:
        'invalid kubevirt.io/pci-interface-slot-count annotation value "not-a-number": strconv.Atoi: parsing "not-a-number": invalid syntax',
    });
  });
  test('the v1 formula when the annotation is absent: max(0, 4-1) = 3', () =>
    assert.equal(calculatePlaceholderCount(vmi({ interfaces: 1 })), 3));
});

describe('calculateHotplugPortCountV2 (manager_test.go)', () => {
  test('0 when PlacePCIDevicesOnRootComplex is true', () => {
    assert.equal(
      calculateHotplugPortCountV2(vmi({ annotations: { [PlacePCIDevicesOnRootComplex]: 'true' } }), domainWithDevices(0, GB)),
      0,
    );
  });
  const cases: Array<[string, number, number, number]> = [
    ['1G memory, no ports in use', GB, 0, 8],
    ['1G memory, 2 ports in use', GB, 2, 6],
    ['1G memory, 4 ports in use', GB, 4, 4],
    ['1G memory, 5 ports in use', GB, 5, 3],
    ['1G memory, 6 ports in use', GB, 6, 3],
    ['1G memory, 8 ports in use', GB, 8, 3],
    ['2G memory, 2 ports in use', 2 * GB, 2, 6],
    ['2G memory, 8 ports in use', 2 * GB, 8, 3],
    ['2G+ memory, 2 ports in use', 2 * GB + 1, 2, 14],
    ['2G+ memory, 8 ports in use', 2 * GB + 1, 8, 8],
    ['3G memory, no ports in use', 3 * GB, 0, 16],
    ['3G memory, 4 ports in use', 3 * GB, 4, 12],
    ['3G memory, 8 ports in use', 3 * GB, 8, 8],
    ['3G memory, 10 ports in use', 3 * GB, 10, 6],
    ['3G memory, 12 ports in use', 3 * GB, 12, 6],
    ['3G memory, 16 ports in use', 3 * GB, 16, 6],
  ];
  for (const [name, mem, inUse, expected] of cases) {
    test(`${name} → ${expected}`, () => assert.equal(calculateHotplugPortCountV2(vmi(), domainWithDevices(inUse, mem)), expected));
  }
  test('counts what converter.CountPCIDevices counts: interfaces, PCI host devices, controllers but the root buses, virtio disks and inputs, watchdogs, RNG, balloon', () => {
    const spec = domainWithDevices(1, GB);
    spec.Devices.Interfaces = [
      newStruct(interfaceCodec, {}),
      newStruct(interfaceCodec, { Address: newStruct(addressCodec, { Type: 'ccw' }) }),
    ];
    spec.Devices.HostDevices = [newStruct(hostDeviceCodec, { Type: 'pci' }), newStruct(hostDeviceCodec, { Type: 'mdev' })];
    spec.Devices.Controllers = [
      ctl('pci', '0', 'pcie-root'),
      ctl('pci', '1', 'pcie-root-port'),
      ctl('usb', '0', 'none'),
      ctl('virtio-serial', '0'),
    ];
    spec.Devices.Disks?.push(newStruct(diskCodec, { Target: newStruct(diskTargetCodec, { Bus: 'sata' }) }));
    spec.Devices.Inputs = [newStruct(inputCodec, { Bus: 'virtio' }), newStruct(inputCodec, { Bus: 'usb' })];
    spec.Devices.Watchdogs = [newStruct(watchdogCodec, {})];
    spec.Devices.Rng = newStruct(rngCodec, {});
    spec.Devices.Ballooning = newStruct(memBalloonCodec, { Model: 'none' });
    // 1 disk + 1 interface + 1 host device + 3 controllers + 1 input + 1 watchdog + RNG + balloon = 10
    assert.equal(calculateHotplugPortCountV2(vmi(), spec), 3);
    spec.Memory.Value = 3 * GB;
    assert.equal(calculateHotplugPortCountV2(vmi(), spec), 6);
    spec.Devices.Controllers = [];
    assert.equal(calculateHotplugPortCountV2(vmi(), spec), 16 - 7);
  });
});

describe('calculateExtraControllerCount (manager_test.go)', () => {
  test('0 when PlacePCIDevicesOnRootComplex is true', () => {
    assert.equal(
      calculateExtraControllerCount(vmi({ annotations: { [PlacePCIDevicesOnRootComplex]: 'true' } }), domainWithDevices(0, GB), 3),
      0,
    );
  });
  const cases: Array<[string, number, number, number, number]> = [
    ['>2G, 4 devices, 3 placeholders', 3 * GB, 4, 3, 9],
    ['>2G, 10 devices, 3 placeholders', 3 * GB, 10, 3, 3],
    ['>2G, 4 devices, 0 placeholders', 3 * GB, 4, 0, 12],
    ['1G, 2 devices, 3 placeholders', GB, 2, 3, 3],
    ['1G, 5 devices, 3 placeholders', GB, 5, 3, 0],
    ['1G, 2 devices, 0 placeholders', GB, 2, 0, 6],
    ['2G, 4 devices, 2 placeholders', 2 * GB, 4, 2, 2],
    ['1G, 7 devices, 3 placeholders', GB, 7, 3, 0],
  ];
  for (const [name, mem, devices, placeholders, expected] of cases) {
    test(`${name} → ${expected}`, () =>
      assert.equal(calculateExtraControllerCount(vmi(), domainWithDevices(devices, mem), placeholders), expected));
  }
});

describe('appendPCIeRootPortControllers and maxPCIControllerIndex (manager_test.go)', () => {
  test('appended after the highest PCI controller, in order', () => {
    const spec = newDomainSpec();
    spec.Devices.Controllers = [
      ctl('pci', '0', 'pcie-root'),
      ctl('pci', '1', 'pcie-root-port'),
      ctl('pci', '2', 'pcie-root-port'),
      ctl('usb', '0', 'qemu-xhci'),
    ];
    appendPCIeRootPortControllers(spec, 3);
    assert.equal(spec.Devices.Controllers.length, 7);
    assert.deepEqual(spec.Devices.Controllers.slice(4), [
      ctl('pci', '3', 'pcie-root-port'),
      ctl('pci', '4', 'pcie-root-port'),
      ctl('pci', '5', 'pcie-root-port'),
    ]);
  });
  test('an empty controller list: indices from 1', () => {
    const spec = newDomainSpec();
    appendPCIeRootPortControllers(spec, 2);
    assert.deepEqual(
      spec.Devices.Controllers?.map((c) => c.Index),
      ['1', '2'],
    );
  });
  test('capped at the bus 0 slot limit: of 5 asked after index 29, only 30 and 31', () => {
    const spec = newDomainSpec();
    spec.Devices.Controllers = Array.from({ length: 30 }, (_, i) => ctl('pci', String(i), 'pcie-root-port'));
    appendPCIeRootPortControllers(spec, 5);
    assert.equal(spec.Devices.Controllers.length, 32);
    assert.equal(spec.Devices.Controllers[30]?.Index, '30');
    assert.equal(spec.Devices.Controllers[31]?.Index, '31');
  });
  test('maxPCIControllerIndex: 0 without controllers, non-PCI ones ignored, else the highest', () => {
    assert.equal(maxPCIControllerIndex(newDomainSpec()), 0);
    const spec = newDomainSpec();
    spec.Devices.Controllers = [ctl('usb', '0'), ctl('scsi', '5')];
    assert.equal(maxPCIControllerIndex(spec), 0);
    spec.Devices.Controllers = [
      ctl('pci', '0', 'pcie-root'),
      ctl('pci', '3', 'pcie-root-port'),
      ctl('usb', '0'),
      ctl('pci', '7', 'pcie-root-port'),
      ctl('pci', '1', 'pcie-root-port'),
    ];
    assert.equal(maxPCIControllerIndex(spec), 7);
  });
});

describe('DisableHotplugOnOccupiedRootPorts (pci/hotplug_test.go)', () => {
  const hotplug = (spec: DomainSpec, i: number) => spec.Devices.Controllers?.[i]?.Target?.Hotplug ?? '';

  test('occupied ports off, empty ones unchanged', () => {
    const spec = newDomainSpec();
    spec.Devices.Controllers = [ctl('pci', '0', 'pcie-root'), rootPort('1', 1), rootPort('2', 2), rootPort('3', 3)];
    spec.Devices.Interfaces = [newStruct(interfaceCodec, { Address: pciAddr('0x01') })];
    spec.Devices.Ballooning = newStruct(memBalloonCodec, { Address: pciAddr('0x02') });
    disableHotplugOnOccupiedRootPorts(spec);
    assert.deepEqual(
      [1, 2, 3].map((i) => hotplug(spec, i)),
      ['', 'off', ''],
    );
  });
  test('every non-interface PCI device type occupies its port', () => {
    const spec = newDomainSpec();
    spec.Devices.Controllers = [ctl('pci', '0', 'pcie-root'), ...Array.from({ length: 9 }, (_, i) => rootPort(String(i + 1), i + 1))];
    spec.Devices.Interfaces = [newStruct(interfaceCodec, { Address: pciAddr('0x01') })];
    spec.Devices.Disks = [newStruct(diskCodec, { Target: newStruct(diskTargetCodec, { Bus: 'virtio' }), Address: pciAddr('0x02') })];
    spec.Devices.Inputs = [newStruct(inputCodec, { Bus: 'virtio', Address: pciAddr('0x03') })];
    spec.Devices.Watchdogs = [newStruct(watchdogCodec, { Address: pciAddr('0x04') })];
    spec.Devices.HostDevices = [newStruct(hostDeviceCodec, { Type: 'pci', Address: pciAddr('0x05') })];
    spec.Devices.Ballooning = newStruct(memBalloonCodec, { Address: pciAddr('0x06') });
    spec.Devices.Rng = newStruct(rngCodec, { Address: pciAddr('0x07') });
    spec.Devices.Memory = newStruct(memoryDeviceCodec, { Address: pciAddr('0x08') });
    disableHotplugOnOccupiedRootPorts(spec);
    assert.deepEqual(
      Array.from({ length: 9 }, (_, i) => hotplug(spec, i + 1)),
      ['', 'off', 'off', 'off', 'off', 'off', 'off', 'off', ''],
    );
  });
  test('controllers other than root ports are not touched', () => {
    const spec = newDomainSpec();
    spec.Devices.Controllers = [
      ctl('pci', '0', 'pcie-root'),
      ctl('usb', '0', 'none'),
      ctl('scsi', '0', 'virtio-scsi', { Address: pciAddr('0x05') }),
    ];
    disableHotplugOnOccupiedRootPorts(spec);
    for (const c of spec.Devices.Controllers) assert.equal(c.Target, null);
  });
  test('a root port without a target (no busNr) is skipped', () => {
    const spec = newDomainSpec();
    spec.Devices.Controllers = [ctl('pci', '1', 'pcie-root-port')];
    spec.Devices.Ballooning = newStruct(memBalloonCodec, { Address: pciAddr('0x01') });
    disableHotplugOnOccupiedRootPorts(spec);
    assert.equal(spec.Devices.Controllers[0]?.Target, null);
  });
  test('the rest of the target is kept when hotplug goes off', () => {
    const spec = newDomainSpec();
    spec.Devices.Controllers = [ctl('pci', '1', 'pcie-root-port', { Target: { Hotplug: '', BusNr: 1, NUMANode: 0 } })];
    spec.Devices.Ballooning = newStruct(memBalloonCodec, { Address: pciAddr('0x01') });
    disableHotplugOnOccupiedRootPorts(spec);
    assert.deepEqual(spec.Devices.Controllers[0]?.Target, { Hotplug: 'off', BusNr: 1, NUMANode: 0 });
  });
  test('a child controller on its bus occupies a root port', () => {
    const spec = newDomainSpec();
    spec.Devices.Controllers = [
      ctl('pci', '0', 'pcie-root'),
      rootPort('1', 1),
      rootPort('5', 5),
      ctl('scsi', '0', 'virtio-scsi', { Address: pciAddr('0x05') }),
    ];
    spec.Devices.Ballooning = newStruct(memBalloonCodec, { Address: pciAddr('0x01') });
    disableHotplugOnOccupiedRootPorts(spec);
    assert.deepEqual([hotplug(spec, 1), hotplug(spec, 2)], ['off', 'off']);
  });
  test('interface ports stay hotpluggable (NIC hot-unplug)', () => {
    const spec = newDomainSpec();
    spec.Devices.Controllers = [ctl('pci', '0', 'pcie-root'), rootPort('1', 1), rootPort('2', 2), rootPort('3', 3)];
    spec.Devices.Interfaces = ['0x01', '0x02', '0x03'].map((b) => newStruct(interfaceCodec, { Address: pciAddr(b) }));
    disableHotplugOnOccupiedRootPorts(spec);
    assert.deepEqual(
      [1, 2, 3].map((i) => hotplug(spec, i)),
      ['', '', ''],
    );
  });
  test('addresses of SATA disks and USB inputs do not count', () => {
    const spec = newDomainSpec();
    spec.Devices.Controllers = [rootPort('0', 0), rootPort('1', 1)];
    spec.Devices.Disks = [
      newStruct(diskCodec, {
        Target: newStruct(diskTargetCodec, { Bus: 'sata' }),
        Address: newStruct(addressCodec, { Type: 'drive', Bus: '0', Controller: '0', Target: '0', Unit: '0' }),
      }),
    ];
    spec.Devices.Inputs = [
      newStruct(inputCodec, { Type: 'tablet', Bus: 'usb', Address: newStruct(addressCodec, { Type: 'usb', Bus: '0' }) }),
    ];
    disableHotplugOnOccupiedRootPorts(spec);
    assert.deepEqual([hotplug(spec, 0), hotplug(spec, 1)], ['', '']);
  });
});

/** A libvirt that gives back what was defined, with the PCI controllers and addresses it adds. */
class FakeDefiner implements DomainDefiner<string> {
  readonly defined: DomainSpec[] = [];
  async setDomainSpecWithHooks(spec: DomainSpec): Promise<string> {
    // through the XML as the hooks would, so the spec is what the launcher reads back
    const xml = domainSpecToXML(spec);
    Object.assign(spec, domainSpecFromXML(xml));
    this.defined.push(structuredClone(spec));
    return xml;
  }
  async inactiveSpec(xml: string): Promise<DomainSpec> {
    // libvirt's part: pcie-root, then a root port (bus n) per device that has no address
    const spec = domainSpecFromXML(xml);
    const controllers = [ctl('pci', '0', 'pcie-root'), ...(spec.Devices.Controllers ?? [])];
    let bus = 0;
    const place = <T extends { Address: Address | null }>(d: T) => {
      d.Address ??= pciAddr(`0x${(++bus).toString(16).padStart(2, '0')}`);
      controllers.push(ctl('pci', String(bus), 'pcie-root-port', { Target: { Hotplug: '', BusNr: null, NUMANode: null } }));
    };
    for (const i of spec.Devices.Interfaces ?? []) place(i);
    for (const d of spec.Devices.Disks ?? []) place(d);
    spec.Devices.Controllers = controllers;
    return spec;
  }
}

describe('WithNetworkIfacesResources (network/nichotplug_test.go)', () => {
  test('with 0 placeholders: defined once', async () => {
    const definer = new FakeDefiner();
    await withNetworkIfacesResources(vmi({ interfaces: 1 }), newDomainSpec(), 0, definer);
    assert.equal(definer.defined.length, 1);
  });
  test('with 3: defined with the placeholders, then without them and with the devices libvirt placed', async () => {
    const definer = new FakeDefiner();
    const written = newDomainSpec();
    written.Devices.Interfaces = [newStruct(interfaceCodec, { Type: 'ethernet' })];
    written.Devices.Disks = [newStruct(diskCodec, { Target: newStruct(diskTargetCodec, { Bus: 'virtio', Device: 'vda' }) })];
    // as the launcher reads it (XMLName filled), so what the defines see compares with it
    const spec = domainSpecFromXML(domainSpecToXML(written));
    const original = structuredClone(spec.Devices.Interfaces);
    await withNetworkIfacesResources(vmi({ interfaces: 1 }), spec, 3, definer);
    assert.equal(definer.defined.length, 2);
    const [first, second] = definer.defined as [DomainSpec, DomainSpec];
    assert.equal(first.Devices.Interfaces?.length, 4);
    assert.deepEqual(
      first.Devices.Interfaces?.slice(1).map((i) => [i.Type, i.Target, i.Model?.Type, i.Alias]),
      [0, 1, 2].map((n) => [
        'ethernet',
        { Device: `placeholder-${n}`, Managed: 'no' },
        'virtio-non-transitional',
        { Name: `placeholder-${n}`, UserDefined: false },
      ]),
    );
    assert.deepEqual(second.Devices.Interfaces, original);
    assert.deepEqual(spec.Devices.Interfaces, original);
    // the disk keeps the port it had beside the placeholders: bus 5, after the four interfaces
    assert.equal(spec.Devices.Disks?.[0]?.Address?.Bus, '0x05');
    assert.equal(spec.Devices.Controllers?.filter((c) => c.Model === 'pcie-root-port').length, 5);
  });
  test('placeholders take the transitional model on a VMI that asks for it', () => {
    const v = vmi({ interfaces: 1 });
    v.spec.domain.devices = { ...v.spec.domain.devices, useVirtioTransitional: true };
    const copy = appendPlaceholderInterfacesToTheDomain(v, newDomainSpec(), 1);
    assert.equal(copy.Devices.Interfaces?.[0]?.Model?.Type, 'virtio-transitional');
  });
});

describe('allocateHotplugPorts (manager.go)', () => {
  const log = pino({ level: 'silent' });

  test('i440fx: one define, nothing added', async () => {
    const definer = new FakeDefiner();
    const spec = domainWithDevices(1, GB);
    await allocateHotplugPorts(vmi({ machine: 'pc-i440fx-2.12' }), spec, definer, log);
    assert.equal(definer.defined.length, 1);
    assert.equal(spec.Devices.Controllers, null);
  });

  test('no interfaces: defined, read back, the v2 extra ports appended above the occupied ones, defined again', async () => {
    const definer = new FakeDefiner();
    const spec = domainWithDevices(2, GB);
    await allocateHotplugPorts(vmi(), spec, definer, log);
    assert.equal(definer.defined.length, 2);
    const last = definer.defined[1] as DomainSpec;
    // libvirt's two ports for the disks, then 8-2 = 6 extra
    assert.deepEqual(
      last.Devices.Controllers?.map((c) => `${c.Model}#${c.Index}`),
      ['pcie-root#0', 'pcie-root-port#1', 'pcie-root-port#2', ...[3, 4, 5, 6, 7, 8].map((i) => `pcie-root-port#${i}`)],
    );
    assert.deepEqual(
      last.Devices.Disks?.map((d) => d.Address?.Bus),
      ['0x01', '0x02'],
    );
  });

  test('the frozen slot total: placeholders first, then the extra ports; three defines', async () => {
    const definer = new FakeDefiner();
    const spec = domainWithDevices(1, GB);
    await allocateHotplugPorts(vmi({ annotations: { [PciInterfaceSlotCountAnnotation]: '2' } }), spec, definer, log);
    assert.equal(definer.defined.length, 3);
    assert.equal(definer.defined[0]?.Devices.Interfaces?.length, 2);
    const last = definer.defined[2] as DomainSpec;
    assert.equal(last.Devices.Interfaces, null);
    // ports 1-2 held the placeholders, 3 the disk; v2 = 8-1 = 7 free wanted, 2 given: 5 more from index 4
    assert.equal(last.Devices.Disks?.[0]?.Address?.Bus, '0x03');
    assert.deepEqual(
      last.Devices.Controllers?.filter((c) => c.Model === 'pcie-root-port').map((c) => c.Index),
      ['1', '2', '3', '4', '5', '6', '7', '8'],
    );
  });

  test('an unreadable slot total: no define, the error', async () => {
    const definer = new FakeDefiner();
    await assert.rejects(
      allocateHotplugPorts(vmi({ annotations: { [PciInterfaceSlotCountAnnotation]: 'x' } }), domainWithDevices(1, GB), definer, log),
      /invalid kubevirt.io\/pci-interface-slot-count annotation value "x"/,
    );
    assert.equal(definer.defined.length, 0);
  });
});

describe('TransferQEMUCommandline (converter/translate)', () => {
  const ns = 'http://libvirt.org/schemas/domain/qemu/1.0';
  test("the hooks' qemu:commandline and the namespace come back into the spec", () => {
    const spec = newDomainSpec();
    transferQEMUCommandline(
      `<domain type="kvm" xmlns:qemu="${ns}"><name>a</name><qemu:commandline><qemu:arg value="-x"/><qemu:env name="A" value="1"/><qemu:env value="no name"/></qemu:commandline></domain>`,
      spec,
    );
    assert.equal(spec.XmlNS, ns);
    assert.deepEqual(spec.QEMUCmd, { QEMUArg: [{ Value: '-x' }], QEMUEnv: [{ Name: 'A', Value: '1' }] });
  });
  test('no qemu:commandline: no namespace either (lost in the round trip, as in KubeVirt)', () => {
    const spec = newDomainSpec();
    transferQEMUCommandline(
      `<domain type="kvm" xmlns:qemu="${ns}"><name>a</name><commandline><arg value="-x"/></commandline></domain>`,
      spec,
    );
    assert.equal(spec.XmlNS, '');
    assert.equal(spec.QEMUCmd, null);
  });
});

describe('PlacePCIDevicesOnRootComplex (converter/pci-placement.go; converter_test.go testdata/domain_x86_64_root.xml)', () => {
  const slots = (spec: DomainSpec) => ({
    interface: spec.Devices.Interfaces?.map((i) => i.Address?.Slot),
    controllers: spec.Devices.Controllers?.map((c) => `${c.Type}:${c.Address?.Slot ?? '-'}`),
    disks: spec.Devices.Disks?.map((d) => `${d.Target.Device}:${d.Address?.Slot ?? '-'}`),
    inputs: spec.Devices.Inputs?.map((i) => i.Address?.Slot),
    rng: spec.Devices.Rng?.Address?.Slot,
    balloon: spec.Devices.Ballooning?.Address?.Slot,
  });

  test("in KubeVirt's order from slot 2: interface, controllers, virtio disks, virtio inputs, RNG, balloon", () => {
    const spec = newDomainSpec();
    spec.Devices.Interfaces = [newStruct(interfaceCodec, { Type: 'ethernet' })];
    spec.Devices.Controllers = [ctl('usb', '0', 'none'), ctl('virtio-serial', '0', 'virtio-non-transitional')];
    spec.Devices.Disks = ['vda', 'vdb', 'sda'].map((dev) =>
      newStruct(diskCodec, { Target: newStruct(diskTargetCodec, { Bus: dev === 'sda' ? 'sata' : 'virtio', Device: dev }) }),
    );
    spec.Devices.Inputs = [newStruct(inputCodec, { Type: 'tablet', Bus: 'virtio' })];
    spec.Devices.Rng = newStruct(rngCodec, { Model: 'virtio-non-transitional' });
    spec.Devices.Ballooning = newStruct(memBalloonCodec, { Model: 'virtio-non-transitional' });
    placePCIDevicesOnRootComplex(spec);
    assert.deepEqual(slots(spec), {
      interface: ['0x02'],
      controllers: ['usb:0x03', 'virtio-serial:0x04'],
      disks: ['vda:0x05', 'vdb:0x06', 'sda:-'],
      inputs: ['0x07'],
      rng: '0x08',
      balloon: '0x09',
    });
    assert.deepEqual(spec.Devices.Interfaces?.[0]?.Address, { ...pciAddr('0x00'), Slot: '0x02' });
  });

  test('an address asked for is kept and takes no slot; slots 0x1b and 0x1f are skipped; past 0x1f no space is left', () => {
    const spec = newDomainSpec();
    const asked = newStruct(addressCodec, { Type: 'pci', Domain: '0x0000', Bus: '0x00', Slot: '0x10', Function: '0x0' });
    spec.Devices.Interfaces = [newStruct(interfaceCodec, { Address: asked })];
    spec.Devices.Disks = Array.from({ length: 28 }, (_, i) =>
      newStruct(diskCodec, { Target: newStruct(diskTargetCodec, { Bus: 'virtio', Device: `vd${i}` }) }),
    );
    placePCIDevicesOnRootComplex(spec);
    assert.equal(spec.Devices.Interfaces[0]?.Address, asked);
    const used = spec.Devices.Disks.map((d) => Number.parseInt(d.Address?.Slot ?? '', 16));
    assert.deepEqual(used, [...Array.from({ length: 25 }, (_, i) => i + 2), 0x1c, 0x1d, 0x1e]);
    spec.Devices.Disks.push(newStruct(diskCodec, { Target: newStruct(diskTargetCodec, { Bus: 'virtio', Device: 'vdz' }) }));
    for (const d of spec.Devices.Disks) d.Address = null;
    assert.throws(() => placePCIDevicesOnRootComplex(spec), { message: 'No space left on the root PCI bus.' });
  });

  test('the converter places the devices of an annotated VMI on the root bus; the hotplug step then reserves nothing', () => {
    const v = vmi({ interfaces: 1, annotations: { [PlacePCIDevicesOnRootComplex]: 'true' } });
    v.spec.domain.resources = { requests: { memory: '128Mi' } };
    v.spec.networks = [{ name: 'iface0', pod: {} }];
    v.spec.domain.devices = { interfaces: [{ name: 'iface0', masquerade: {} }], disks: [{ name: 'd', disk: { bus: 'virtio' } }] };
    v.spec.volumes = [{ name: 'd', emptyDisk: { capacity: '1Gi' } }];
    const spec = convertVMIToDomainSpec(v, {
      ...POD_CONTEXT,
      domainAttachmentByInterfaceName: { iface0: 'tap' },
    });
    assert.equal(spec.Devices.Interfaces?.[0]?.Address?.Slot, '0x02');
    for (const a of [...(spec.Devices.Disks ?? []).map((d) => d.Address), spec.Devices.Ballooning?.Address ?? null]) {
      assert.equal(a?.Bus, '0x00');
    }
    assert.equal(calculatePlaceholderCount(v), 0);
    assert.equal(calculateExtraControllerCount(v, spec, 0), 0);
  });
});

describe('setDomainSpecWithHooks (util.SetDomainSpecStrWithHooks)', () => {
  const ns = 'http://libvirt.org/schemas/domain/qemu/1.0';
  test("the hooks' XML is what gets defined, and the spec becomes it for the next define", async () => {
    const defined: string[] = [];
    const conn = {
      domainDefineXMLFlags: async (xml: string) => {
        defined.push(xml);
        return { name: 'default_testvmi', uuid: 'u', id: -1 };
      },
    };
    const seen: string[] = [];
    // a hook that renames the emulator and adds a qemu:commandline, as an OnDefineDomain sidecar may
    const hook = async (xml: string) => {
      seen.push(xml);
      return xml
        .replace('<domain type="kvm"', `<domain type="kvm" xmlns:qemu="${ns}"`)
        .replace('</devices>', '</devices><qemu:commandline><qemu:arg value="-s"/></qemu:commandline>')
        .replace('<emulator>/usr/bin/qemu-system-x86_64</emulator>', '<emulator>/opt/qemu</emulator>');
    };
    const spec = newDomainSpec({ Type: 'kvm', Name: 'default_testvmi' });
    spec.Devices.Emulator = '/usr/bin/qemu-system-x86_64';
    await setDomainSpecWithHooks(conn, hook, vmi(), spec);
    assert.match(defined[0] ?? '', /<emulator>\/opt\/qemu<\/emulator>[\s\S]*<qemu:arg value="-s"\/>/);
    assert.equal(spec.Devices.Emulator, '/opt/qemu');
    assert.deepEqual(spec.QEMUCmd, { QEMUArg: [{ Value: '-s' }], QEMUEnv: null });
    assert.equal(spec.XmlNS, ns);
    // the next define hands the hook what it made the first time
    const identity = async (xml: string) => {
      seen.push(xml);
      return xml;
    };
    await setDomainSpecWithHooks(conn, identity, vmi(), spec);
    assert.match(seen[1] ?? '', /<emulator>\/opt\/qemu<\/emulator>/);
    assert.match(seen[1] ?? '', new RegExp(`xmlns:qemu="${ns}"[\\s\\S]*<qemu:arg value="-s"></qemu:arg>`));
  });
});
