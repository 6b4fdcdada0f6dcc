// virtualMachineOptions field by field, as KubeVirt's pkg/virt-handler/options_test.go: each option
// from the CR setting, feature gate, VMI status or host capability it comes from, and its zero value.
// The cluster config's readers here are one-liners over the real clusterConfigFromKubeVirt (the CR's
// configuration over KubeVirt's defaults); kube.test.ts proves the live ClusterConfig's readers against
// kube-apiserver, sync-options.test.ts the whole path into libvirt's domain.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseVMI, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import {
  capabilitiesToTopology,
  graceHostDeviceAliases,
  isNVIDIAGracePCIVendorSelector,
  parseCapabilities,
  preallocatedVolumes,
  readHostCapabilities,
  siblingsList,
  virtualMachineOptions,
  type OptionsClusterConfig,
} from '../src/options.ts';
import { clusterConfigFromKubeVirt, VGADisplayForEFIGuestsX86Annotation } from '../src/cluster-config.ts';

function vmi(o: { gpus?: object[]; hostDevices?: object[]; volumeStatus?: object[] } = {}): VirtualMachineInstance {
  return parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'testvmi', namespace: 'default', uid: '6a3d1f0e-0000-4000-8000-000000000001' },
    spec: { domain: { devices: { ...(o.gpus ? { gpus: o.gpus } : {}), ...(o.hostDevices ? { hostDevices: o.hostDevices } : {}) } } },
    status: { phase: 'Scheduled', ...(o.volumeStatus ? { volumeStatus: o.volumeStatus } : {}) },
  });
}

/** ClusterConfig's readers over a KubeVirt CR's configuration (validated, over the defaults) and annotations. */
function clusterConfig(configuration: object = {}, annotations: Record<string, string> = {}): OptionsClusterConfig {
  const config = clusterConfigFromKubeVirt({ spec: { configuration } });
  const gates = config.developerConfiguration?.featureGates ?? [];
  return {
    isFreePageReportingDisabled: () => config.virtualMachineOptions?.disableFreePageReporting !== undefined,
    isSerialConsoleLogDisabled: () => config.virtualMachineOptions?.disableSerialConsoleLog !== undefined,
    vgaDisplayForEFIGuestsEnabled: () => Object.hasOwn(annotations, VGADisplayForEFIGuestsX86Annotation),
    isFeatureGateEnabled: (name) => gates.includes(name),
    getPermittedHostDevices: () => config.permittedHostDevices,
  };
}

const noInputs = { period: 0, preallocatedVolumes: [], capabilities: null };
const clusterOf = (configuration: object, annotations?: Record<string, string>) =>
  virtualMachineOptions(vmi(), { ...noInputs, clusterConfig: clusterConfig(configuration, annotations) }).clusterConfig;

describe('virtualMachineOptions: the clusterConfig switches', () => {
  const zero = {
    FreePageReportingDisabled: false,
    BochsDisplayForEFIGuests: true,
    SerialConsoleLogDisabled: false,
    PCINUMAAwareTopologyEnabled: false,
    VGPULiveMigrationEnabled: false,
    GraceIOVirtualizationEnabled: false,
  };
  const cases: Array<{ name: string; configuration: object; annotations?: Record<string, string>; want: Partial<typeof zero> }> = [
    { name: 'a CR without settings → the defaults: Bochs for EFI guests, everything else off', configuration: {}, want: {} },
    {
      name: 'virtualMachineOptions.disableFreePageReporting: {} → FreePageReportingDisabled',
      configuration: { virtualMachineOptions: { disableFreePageReporting: {} } },
      want: { FreePageReportingDisabled: true },
    },
    {
      name: 'virtualMachineOptions.disableSerialConsoleLog: {} → SerialConsoleLogDisabled',
      configuration: { virtualMachineOptions: { disableSerialConsoleLog: {} } },
      want: { SerialConsoleLogDisabled: true },
    },
    {
      name: 'the CR annotation kubevirt.io/vga-display-efi-x86 (any value) → BochsDisplayForEFIGuests off',
      configuration: {},
      annotations: { 'kubevirt.io/vga-display-efi-x86': '' },
      want: { BochsDisplayForEFIGuests: false },
    },
    {
      name: 'a feature gate named VGADisplayForEFIGuests is not what KubeVirt reads → Bochs stays',
      configuration: { developerConfiguration: { featureGates: ['VGADisplayForEFIGuests'] } },
      want: {},
    },
    {
      name: 'feature gate PCINUMAAwareTopology → PCINUMAAwareTopologyEnabled',
      configuration: { developerConfiguration: { featureGates: ['PCINUMAAwareTopology'] } },
      want: { PCINUMAAwareTopologyEnabled: true },
    },
    {
      name: 'feature gate VGPULiveMigration → VGPULiveMigrationEnabled',
      configuration: { developerConfiguration: { featureGates: ['VGPULiveMigration'] } },
      want: { VGPULiveMigrationEnabled: true },
    },
    {
      name: 'feature gate GraceIOVirtualization → GraceIOVirtualizationEnabled',
      configuration: { developerConfiguration: { featureGates: ['GraceIOVirtualization'] } },
      want: { GraceIOVirtualizationEnabled: true },
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(clusterOf(c.configuration, c.annotations), { ...zero, ...c.want }));

  test('without a cluster config (KubeVirt: nil) → no clusterConfig and no Grace aliases in the options', () => {
    const options = virtualMachineOptions(vmi(), noInputs);
    assert.equal(options.clusterConfig, undefined);
    assert.equal(options.GraceHostDeviceAliases, undefined);
  });
});

describe('virtualMachineOptions: SMBIOS, balloon period, preallocated volumes, DisksInfo', () => {
  test('the CR smbios and memBalloonStatsPeriod as the handler reads them → the options', () => {
    const config = clusterConfigFromKubeVirt({
      spec: { configuration: { smbios: { sku: 'GX-9', version: '2.4' }, memBalloonStatsPeriod: 3 } },
    });
    const options = virtualMachineOptions(vmi(), { ...noInputs, smbios: config.smbios ?? {}, period: config.memBalloonStatsPeriod ?? 0 });
    // KubeVirt's defaults fill what the CR leaves out (family, manufacturer, product)
    assert.deepEqual(options.VirtualMachineSMBios, {
      family: 'KubeVirt',
      manufacturer: 'KubeVirt',
      product: 'None',
      sku: 'GX-9',
      version: '2.4',
    });
    assert.equal(options.MemBalloonStatsPeriod, 3);
  });

  test('a CR without smbios or period → KubeVirt defaults: family/manufacturer KubeVirt, product None, period 10', () => {
    const config = clusterConfigFromKubeVirt({ spec: { configuration: {} } });
    const options = virtualMachineOptions(vmi(), { ...noInputs, smbios: config.smbios ?? {}, period: config.memBalloonStatsPeriod ?? 0 });
    assert.deepEqual(options.VirtualMachineSMBios, { family: 'KubeVirt', manufacturer: 'KubeVirt', product: 'None', sku: '', version: '' });
    assert.equal(options.MemBalloonStatsPeriod, 10);
  });

  test('no smbios (KubeVirt: nil) → no VirtualMachineSMBios; period 0 stays 0; DisksInfo always empty', () => {
    const options = virtualMachineOptions(vmi(), noInputs);
    assert.equal(options.VirtualMachineSMBios, undefined);
    assert.equal(options.MemBalloonStatsPeriod, 0);
    assert.deepEqual(options.DisksInfo, {});
    assert.deepEqual(options.PreallocatedVolumes, []);
  });

  const volumeCases: Array<{ name: string; volumeStatus?: object[]; want: string[] }> = [
    { name: 'no status.volumeStatus → none', want: [] },
    {
      name: 'persistentVolumeClaimInfo.preallocated true → that volume, in status order',
      volumeStatus: [
        { name: 'data', target: 'vdb', persistentVolumeClaimInfo: { claimName: 'data-pvc', preallocated: true } },
        { name: 'rootdisk', target: 'vda', persistentVolumeClaimInfo: { claimName: 'root-pvc', preallocated: false } },
        { name: 'cloudinit', target: 'vdc' },
        { name: 'scratch', target: 'vdd', persistentVolumeClaimInfo: { claimName: 'scratch-pvc' } },
        { name: 'logs', target: 'vde', persistentVolumeClaimInfo: { claimName: 'logs-pvc', preallocated: true } },
      ],
      want: ['data', 'logs'],
    },
  ];
  for (const c of volumeCases) test(`preallocatedVolumes: ${c.name}`, () => assert.deepEqual(preallocatedVolumes(vmi(c)), c.want));
});

describe('virtualMachineOptions: GraceHostDeviceAliases (options_test.go)', () => {
  const permitted = {
    pciHostDevices: [
      { resourceName: 'nvidia.com/gb200', pciVendorSelector: '10de:2342' },
      { resourceName: 'nvidia.com/gh200', pciVendorSelector: '10de:2941' },
      { resourceName: 'nvidia.com/a100', pciVendorSelector: '10de:20b0' },
    ],
  };
  const devices = {
    gpus: [
      { name: 'gpu1', deviceName: 'nvidia.com/a100' },
      { name: 'gpu0', deviceName: 'nvidia.com/gb200' },
    ],
    hostDevices: [{ name: 'hostdev0', deviceName: 'nvidia.com/gh200' }],
  };

  test('gate on, Grace GPUs permitted → the aliases of the VMI devices they back, sorted', () => {
    const cc = clusterConfig({ developerConfiguration: { featureGates: ['GraceIOVirtualization'] }, permittedHostDevices: permitted });
    const options = virtualMachineOptions(vmi(devices), { ...noInputs, clusterConfig: cc });
    assert.equal(options.clusterConfig?.GraceIOVirtualizationEnabled, true);
    assert.deepEqual(options.GraceHostDeviceAliases, ['gpu-gpu0', 'hostdevice-hostdev0']);
  });

  test('gate off → no aliases', () => {
    assert.deepEqual(graceHostDeviceAliases(vmi(devices), clusterConfig({ permittedHostDevices: permitted })), []);
  });

  test('gate on, no permittedHostDevices → no aliases', () => {
    const cc = clusterConfig({ developerConfiguration: { featureGates: ['GraceIOVirtualization'] } });
    assert.deepEqual(graceHostDeviceAliases(vmi(devices), cc), []);
  });

  const selectors: Array<[string, boolean]> = [
    ['10de:2342', true],
    ['10DE:2348', true],
    ['0x10de:0x2941', true],
    [' 10de : 2342 ', true],
    ['10de:20b0', false],
    ['10de:*', false],
    ['8086:2342', false],
    ['10de', false],
    ['10de:2342:1', false],
    ['10dg:2342', false],
  ];
  for (const [selector, want] of selectors)
    test(`IsNVIDIAGracePCIVendorSelector(${JSON.stringify(selector)}) → ${want}`, () =>
      assert.equal(isNVIDIAGracePCIVendorSelector(selector), want));
});

// The shape of `virsh capabilities` (libvirt's virCapabilitiesFormatNUMATopology), two cells
const TWO_CELLS = `<capabilities>
  <host>
    <uuid>0b8e4c21-1b9c-4a5e-9c7e-7a8d7b6b2c11</uuid>
    <cpu>
      <arch>x86_64</arch>
      <model>Skylake-Client-IBRS</model>
      <topology sockets='1' dies='1' clusters='1' cores='2' threads='2'/>
      <counter name='tsc' frequency='2112000000' scaling='no'/>
      <pages unit='KiB' size='4'/>
      <pages unit='KiB' size='2048'/>
    </cpu>
    <topology>
      <cells num='2'>
        <cell id='0'>
          <memory unit='KiB'>16256896</memory>
          <pages unit='KiB' size='4'>4064224</pages>
          <pages unit='KiB' size='2048'>0</pages>
          <pages unit='KiB' size='1048576'>0</pages>
          <distances>
            <sibling id='0' value='10'/>
            <sibling id='1' value='21'/>
          </distances>
          <cpus num='2'>
            <cpu id='0' socket_id='0' die_id='0' cluster_id='0' core_id='0' siblings='0,2'/>
            <cpu id='2' socket_id='0' die_id='0' cluster_id='0' core_id='0' siblings='0,2'/>
          </cpus>
        </cell>
        <cell id='1'>
          <memory unit='KiB'>18446744073709551615</memory>
          <pages unit='KiB' size='4'>3</pages>
          <distances>
            <sibling id='0' value='21'/>
            <sibling id='1' value='10'/>
          </distances>
          <cpus num='2'>
            <cpu id='1' socket_id='1' die_id='0' cluster_id='0' core_id='0' siblings='1-3'/>
            <cpu id='3' socket_id='1' die_id='0' cluster_id='0' core_id='0' siblings='1,x,3'/>
          </cpus>
        </cell>
      </cells>
    </topology>
  </host>
  <guest>
    <os_type>hvm</os_type>
    <arch name='x86_64'><machine>q35</machine></arch>
  </guest>
</capabilities>`;

describe('capabilitiesToTopology: libvirt capabilities → cmdv1.Topology', () => {
  test('two NUMA cells → memory, pages, distances, cpus with siblings, uint64s as decimal strings', () => {
    assert.deepEqual(capabilitiesToTopology(parseCapabilities(TWO_CELLS)), {
      numa_cells: [
        {
          id: 0,
          memory: { amount: '16256896', unit: 'KiB' },
          pages: [
            { count: '4064224', unit: 'KiB', size: 4 },
            { count: '0', unit: 'KiB', size: 2048 },
            { count: '0', unit: 'KiB', size: 1048576 },
          ],
          distances: [
            { id: 0, value: '10' },
            { id: 1, value: '21' },
          ],
          cpus: [
            { id: 0, siblings: [0, 2] },
            { id: 2, siblings: [0, 2] },
          ],
        },
        {
          id: 1,
          // the full uint64 range, no precision lost
          memory: { amount: '18446744073709551615', unit: 'KiB' },
          pages: [{ count: '3', unit: 'KiB', size: 4 }],
          distances: [
            { id: 0, value: '21' },
            { id: 1, value: '10' },
          ],
          // KubeVirt splits on commas and skips what is not a number: a range is dropped whole
          cpus: [
            { id: 1, siblings: [] },
            { id: 3, siblings: [1, 3] },
          ],
        },
      ],
    });
  });

  test('no capabilities, or capabilities without NUMA cells → an empty topology', () => {
    assert.deepEqual(capabilitiesToTopology(null), { numa_cells: [] });
    assert.deepEqual(
      capabilitiesToTopology(parseCapabilities('<capabilities><host><cpu><arch>x86_64</arch></cpu></host></capabilities>')),
      {
        numa_cells: [],
      },
    );
    assert.deepEqual(
      capabilitiesToTopology(parseCapabilities('<capabilities><host><topology><cells num="0"/></topology></host></capabilities>')),
      {
        numa_cells: [],
      },
    );
  });

  test('a cell without memory or cpus → only what is there', () => {
    const caps = parseCapabilities("<capabilities><host><topology><cells num='1'><cell id='4'/></cells></topology></host></capabilities>");
    assert.deepEqual(capabilitiesToTopology(caps), { numa_cells: [{ id: 4, pages: [], distances: [], cpus: [] }] });
  });

  test('the options carry the topology', () => {
    const options = virtualMachineOptions(vmi(), { ...noInputs, capabilities: parseCapabilities(TWO_CELLS) });
    assert.deepEqual(
      options.topology?.numa_cells?.map((c) => c.id),
      [0, 1],
    );
  });

  const bad: Array<[string, string, RegExp]> = [
    ['a cell id that is not a number', "<cell id='zero'/>", /cell id is not an integer/],
    ['a negative memory size', "<cell id='0'><memory unit='KiB'>-1</memory></cell>", /cell memory is not an unsigned integer/],
    [
      'a sibling distance that is not a number',
      "<cell id='0'><distances><sibling id='0' value='far'/></distances></cell>",
      /sibling value/,
    ],
  ];
  for (const [name, cell, message] of bad)
    test(`rejected, as Caps.Unmarshal would: ${name}`, () =>
      assert.throws(
        () => parseCapabilities(`<capabilities><host><topology><cells num='1'>${cell}</cells></topology></host></capabilities>`),
        message,
      ));

  test('not capabilities XML → rejected', () => {
    assert.throws(() => parseCapabilities('<domainCapabilities/>'), /host capabilities: /);
  });

  test('siblings: comma lists of uint32s; empty, ranges, signs, overflow skipped', () => {
    assert.deepEqual(siblingsList('0,4'), [0, 4]);
    assert.deepEqual(siblingsList(''), []);
    assert.deepEqual(siblingsList('0-3'), []);
    assert.deepEqual(siblingsList('+1,2,4294967295,4294967296'), [2, 4294967295]);
  });

  test("readHostCapabilities reads node-labeller.sh's capabilities.xml from the node-labeller dir", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kvts-caps-'));
    try {
      writeFileSync(path.join(dir, 'capabilities.xml'), TWO_CELLS);
      assert.equal(capabilitiesToTopology(readHostCapabilities(dir)).numa_cells?.length, 2);
      rmSync(path.join(dir, 'capabilities.xml'));
      assert.throws(() => readHostCapabilities(dir), /ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
