// The VirtualMachineOptions of a SyncVirtualMachine as KubeVirt's generateConverterContext reads them,
// and what each does to the domain; and the hypervisor choice (kvm / qemu / "kvm not present").
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { convertVMIToDomainSpec, type ConverterContext } from '../src/converter/index.ts';
import { KVM_NOT_PRESENT } from '../src/converter/compute/hypervisor.ts';
import { contextFromOptions, parseVirtualMachineOptions } from '../src/vm-options.ts';
import { POD_CONTEXT } from './pod-context.ts';

const base: ConverterContext = {
  ...POD_CONTEXT,
  disksInfo: { data: { format: 'raw' } },
};

function vmi(): VirtualMachineInstance {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'testvmi', namespace: 'default', uid: '11111111-2222-3333-4444-555555555555' },
    spec: {
      domain: { resources: { requests: { memory: '128Mi' } }, devices: { disks: [{ name: 'data', disk: { bus: 'virtio' } }] } },
      volumes: [{ name: 'data', containerDisk: { image: 'x' } }],
    },
  } as VirtualMachineInstance;
}

/** What the proto codec hands the server for a request the Go handler filled in. */
const GRPC_OPTIONS = {
  VirtualMachineSMBios: { manufacturer: 'M', product: 'P', version: 'V', sku: 'S', family: 'F' },
  MemBalloonStatsPeriod: 4,
  PreallocatedVolumes: ['data'],
  topology: { numa_cells: [{ id: 0, memory: null, pages: [], distances: [], cpus: [] }] },
  DisksInfo: {},
  ExpandDisksEnabled: false,
  clusterConfig: {
    ExpandDisksEnabled: false,
    FreePageReportingDisabled: true,
    BochsDisplayForEFIGuests: true,
    SerialConsoleLogDisabled: true,
    PCINUMAAwareTopologyEnabled: false,
    VGPULiveMigrationEnabled: false,
    GraceIOVirtualizationEnabled: false,
  },
  interfaceDomainAttachment: { default: 'tap' },
  interfaceMigration: {},
  pluginsJson: Buffer.alloc(0),
  GraceHostDeviceAliases: [],
};

const convert = (options: unknown, ctx: ConverterContext = base) =>
  convertVMIToDomainSpec(vmi(), { ...ctx, ...contextFromOptions(parseVirtualMachineOptions(options)) });

describe('VirtualMachineOptions', () => {
  test("none sent: KubeVirt's zero values (no SMBIOS entries, no balloon stats, serial log and free page reporting on)", () => {
    assert.equal(parseVirtualMachineOptions(null), null);
    assert.equal(parseVirtualMachineOptions(undefined), null);
    assert.deepEqual(contextFromOptions(null), {
      smbios: null,
      memBalloonStatsPeriod: 0,
      preallocatedVolumes: [],
      topology: null,
      serialConsoleLogDisabled: false,
      freePageReportingDisabled: false,
      bochsForEFIGuests: false,
      domainAttachmentByInterfaceName: {},
    });
    const spec = convert(null);
    assert.deepEqual(
      spec.SysInfo?.System?.map((e) => e.Name),
      ['uuid'],
    );
    assert.equal(spec.Devices.Ballooning?.Stats, null);
    assert.equal(spec.Devices.Ballooning?.FreePageReporting, 'on');
    assert.ok(spec.Devices.Serials?.[0]?.Log, 'serial console log on');
  });

  test('as the handler sends them: each reaches the converter context and the domain', () => {
    const options = parseVirtualMachineOptions(GRPC_OPTIONS);
    const c = contextFromOptions(options);
    assert.deepEqual(c.smbios, GRPC_OPTIONS.VirtualMachineSMBios);
    assert.equal(c.memBalloonStatsPeriod, 4);
    assert.deepEqual(c.preallocatedVolumes, ['data']);
    assert.equal(c.topology?.numa_cells.length, 1);
    assert.deepEqual([c.serialConsoleLogDisabled, c.freePageReportingDisabled, c.bochsForEFIGuests], [true, true, true]);
    assert.deepEqual(c.domainAttachmentByInterfaceName, { default: 'tap' });

    const spec = convert(GRPC_OPTIONS);
    const system = Object.fromEntries((spec.SysInfo?.System ?? []).map((e) => [e.Name, e.Value]));
    assert.deepEqual(system, {
      uuid: '11111111-2222-3333-4444-555555555555',
      manufacturer: 'M',
      family: 'F',
      product: 'P',
      sku: 'S',
      version: 'V',
    });
    assert.deepEqual(spec.Devices.Ballooning?.Stats, { Period: 4 });
    assert.equal(spec.Devices.Ballooning?.FreePageReporting, 'off');
    assert.equal(spec.Devices.Serials?.[0]?.Log, null, 'serial console log off');
  });

  test("options without a cluster config: serial log and free page reporting stay on, as KubeVirt's", () => {
    const c = contextFromOptions(parseVirtualMachineOptions({ ...GRPC_OPTIONS, clusterConfig: null }));
    assert.deepEqual([c.serialConsoleLogDisabled, c.freePageReportingDisabled, c.bochsForEFIGuests], [false, false, false]);
  });

  test("an old handler's DisksInfo is ignored: the launcher's own inspection names the image format", () => {
    const old = { ...GRPC_OPTIONS, DisksInfo: { data: { format: 'qcow2', backingFile: '', actualSize: 1, virtualSize: 1 } } };
    assert.equal(Object.hasOwn(contextFromOptions(parseVirtualMachineOptions(old)), 'disksInfo'), false);
    assert.equal(convert(old).Devices.Disks?.[0]?.BackingStore?.Format?.Type, 'raw', "base's disksInfo, as inspected");
  });

  test('a malformed field is refused naming it', () => {
    assert.throws(() => parseVirtualMachineOptions({ MemBalloonStatsPeriod: -1 }), /invalid VirtualMachineOptions: MemBalloonStatsPeriod/);
    assert.throws(() => parseVirtualMachineOptions({ VirtualMachineSMBios: { manufacturer: 7 } }), /VirtualMachineSMBios\.manufacturer/);
    assert.throws(() => parseVirtualMachineOptions({ interfaceDomainAttachment: { default: 1 } }), /interfaceDomainAttachment\.default/);
  });
});

describe('the hypervisor, as KubeVirt decides it', () => {
  test('/dev/kvm present → kvm, whether or not emulation is allowed', () => {
    for (const allowEmulation of [false, true]) {
      assert.equal(convertVMIToDomainSpec(vmi(), { ...base, allowEmulation, hypervisorDeviceAvailable: true }).Type, 'kvm');
    }
  });

  test('no /dev/kvm + --allow-emulation → qemu (TCG); without it → "kvm not present and emulation is not allowed"', () => {
    assert.equal(convertVMIToDomainSpec(vmi(), { ...base, allowEmulation: true, hypervisorDeviceAvailable: false }).Type, 'qemu');
    assert.throws(
      () => convertVMIToDomainSpec(vmi(), { ...base, allowEmulation: false, hypervisorDeviceAvailable: false }),
      (err: unknown) => err instanceof Error && err.message === KVM_NOT_PRESENT,
    );
    assert.equal(KVM_NOT_PRESENT, 'kvm not present and emulation is not allowed');
  });
});
