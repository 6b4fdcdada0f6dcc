// KubeVirt's pkg/virt-handler/options.go: the VirtualMachineOptions virt-handler sends with every
// SyncVirtualMachine — SMBIOS and balloon period from the cluster config, the VMI's preallocated volumes,
// the host's NUMA topology from libvirt's capabilities (node-labeller.sh's capabilities.xml) and the
// cluster-wide switches the launcher's converter reads.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import * as z from 'zod/mini';
import type { cmdv1 } from '@kubevirt-ts/proto';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import type { ClusterConfig, PermittedHostDevices, SMBiosConfiguration } from './cluster-config.ts';
import { CapabilitiesFile } from './node-labeller.ts';

// featuregate names (pkg/virt-config/featuregate/active.go); all Alpha: on only when listed
export const PCINUMAAwareTopologyFeatureGate = 'PCINUMAAwareTopology';
export const VGPULiveMigrationFeatureGate = 'VGPULiveMigration';
export const GraceIOVirtualizationFeatureGate = 'GraceIOVirtualization';

/** The cluster config as virtualMachineOptions reads it. */
export type OptionsClusterConfig = Pick<
  ClusterConfig,
  | 'isFreePageReportingDisabled'
  | 'isSerialConsoleLogDisabled'
  | 'vgaDisplayForEFIGuestsEnabled'
  | 'isFeatureGateEnabled'
  | 'getPermittedHostDevices'
>;

export interface OptionsInputs {
  /** undefined: no SMBIOS entries (KubeVirt's migration paths pass nil). */
  smbios?: SMBiosConfiguration;
  /** MemBalloonStatsPeriod in seconds. */
  period: number;
  preallocatedVolumes: string[];
  /** The host's capabilities; null: an empty topology. */
  capabilities: HostCapabilities | null;
  /** undefined: no clusterConfig in the options (the launcher's zero values). */
  clusterConfig?: OptionsClusterConfig;
}

/** virtualMachineOptions */
export function virtualMachineOptions(vmi: VirtualMachineInstance, inputs: OptionsInputs): cmdv1.VirtualMachineOptions {
  const options: cmdv1.VirtualMachineOptions = {
    MemBalloonStatsPeriod: inputs.period,
    PreallocatedVolumes: inputs.preallocatedVolumes,
    topology: capabilitiesToTopology(inputs.capabilities),
    // newer launchers no longer read it; kept empty as KubeVirt does
    DisksInfo: {},
  };
  if (inputs.smbios) {
    options.VirtualMachineSMBios = {
      family: inputs.smbios.family ?? '',
      product: inputs.smbios.product ?? '',
      manufacturer: inputs.smbios.manufacturer ?? '',
      sku: inputs.smbios.sku ?? '',
      version: inputs.smbios.version ?? '',
    };
  }
  const cc = inputs.clusterConfig;
  if (cc) {
    options.clusterConfig = {
      FreePageReportingDisabled: cc.isFreePageReportingDisabled(),
      BochsDisplayForEFIGuests: !cc.vgaDisplayForEFIGuestsEnabled(),
      SerialConsoleLogDisabled: cc.isSerialConsoleLogDisabled(),
      PCINUMAAwareTopologyEnabled: cc.isFeatureGateEnabled(PCINUMAAwareTopologyFeatureGate),
      VGPULiveMigrationEnabled: cc.isFeatureGateEnabled(VGPULiveMigrationFeatureGate),
      GraceIOVirtualizationEnabled: cc.isFeatureGateEnabled(GraceIOVirtualizationFeatureGate),
    };
    options.GraceHostDeviceAliases = graceHostDeviceAliases(vmi, cc);
  }
  return options;
}

// --- preallocated volumes (VirtualMachineController.getPreallocatedVolumes) ---------------------------------

const pvcInfoSchema = z.looseObject({ preallocated: z.optional(z.boolean()) });

/** The VMI's volumes whose PVC virt-controller reported as preallocated (status.volumeStatus). */
export function preallocatedVolumes(vmi: VirtualMachineInstance): string[] {
  return (vmi.status?.volumeStatus ?? [])
    .filter((s) => z.safeParse(pvcInfoSchema, s.persistentVolumeClaimInfo).data?.preallocated === true)
    .map((s) => s.name);
}

// --- NVIDIA Grace GPUs (graceHostDeviceAliases, pkg/util/hardware/grace.go) --------------------------------

const NVIDIA_PCI_VENDOR_ID = '10DE';
const NVIDIA_GRACE_GPU_DEVICE_IDS = new Set(['2342', '2348', '2941']);
const normalizePCIID = (id: string) => id.trim().toUpperCase().replace(/^0X/, '');

/** IsNVIDIAGracePCIVendorSelector: "vendor:device" naming one of the Grace GPUs. */
export function isNVIDIAGracePCIVendorSelector(selector: string): boolean {
  const parts = selector.split(':');
  if (parts.length !== 2) return false;
  const [vendor, device] = parts.map(normalizePCIID) as [string, string];
  const hex = /^[0-9A-F]{4}$/;
  if (!hex.test(vendor) || !(device === '*' || hex.test(device))) return false;
  return vendor === NVIDIA_PCI_VENDOR_ID && NVIDIA_GRACE_GPU_DEVICE_IDS.has(device);
}

function gracePCIResourceNames(permitted: PermittedHostDevices | undefined): Set<string> {
  return new Set(
    (permitted?.pciHostDevices ?? [])
      .filter((d) => d.resourceName !== '' && isNVIDIAGracePCIVendorSelector(d.pciVendorSelector))
      .map((d) => d.resourceName),
  );
}

const namedDeviceSchema = z.looseObject({ name: z._default(z.string(), ''), deviceName: z._default(z.string(), '') });
const namedDevices = (list: readonly unknown[] | undefined) =>
  (list ?? []).flatMap((d) => {
    const parsed = z.safeParse(namedDeviceSchema, d);
    return parsed.success ? [parsed.data] : [];
  });

/** The domain aliases of the VMI's GPUs and host devices backed by a permitted Grace GPU, sorted. */
export function graceHostDeviceAliases(vmi: VirtualMachineInstance, cc: OptionsClusterConfig): string[] {
  if (!cc.isFeatureGateEnabled(GraceIOVirtualizationFeatureGate)) return [];
  const grace = gracePCIResourceNames(cc.getPermittedHostDevices());
  if (grace.size === 0) return [];
  const devices = vmi.spec.domain.devices;
  const aliases = [
    ...namedDevices(devices?.gpus)
      .filter((g) => grace.has(g.deviceName))
      .map((g) => `gpu-${g.name}`),
    ...namedDevices(devices?.hostDevices)
      .filter((h) => grace.has(h.deviceName))
      .map((h) => `hostdevice-${h.name}`),
  ];
  // Go's sort.Strings: byte order
  return aliases.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

// --- host capabilities (libvirtxml.Caps, the NUMA part) ------------------------------------------------------

const CELL = 'capabilities.host.topology.cells.cell';
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  alwaysCreateTextNode: true,
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (_name, jpath) => [CELL, `${CELL}.pages`, `${CELL}.distances.sibling`, `${CELL}.cpus.cpu`].includes(String(jpath)),
});

// Go's encoding/xml into int/uint fields: a number that does not parse fails the whole document
const decimal = (what: string) => z.string().check(z.regex(/^\s*[+-]?\d+\s*$/, `${what} is not an integer`));
const unsigned = (what: string) => z.string().check(z.regex(/^\s*\d+\s*$/, `${what} is not an unsigned integer`));
const optionalText = z._default(z.string(), '');

const cellSchema = z.looseObject({
  '@id': z._default(decimal('cell id'), '0'),
  memory: z.optional(z.looseObject({ '#text': z._default(unsigned('cell memory'), '0'), '@unit': optionalText })),
  pages: z._default(
    z.array(
      z.looseObject({
        '#text': z._default(unsigned('pages count'), '0'),
        '@unit': optionalText,
        '@size': z._default(decimal('pages size'), '0'),
      }),
    ),
    [],
  ),
  distances: z.optional(
    z.looseObject({
      sibling: z._default(
        z.array(z.looseObject({ '@id': z._default(decimal('sibling id'), '0'), '@value': z._default(unsigned('sibling value'), '0') })),
        [],
      ),
    }),
  ),
  cpus: z.optional(
    z.looseObject({
      cpu: z._default(z.array(z.looseObject({ '@id': z._default(decimal('cpu id'), '0'), '@siblings': optionalText })), []),
    }),
  ),
});

const capabilitiesSchema = z.looseObject({
  capabilities: z.looseObject({
    host: z._default(
      z.looseObject({
        topology: z.optional(z.looseObject({ cells: z.optional(z.looseObject({ cell: z._default(z.array(cellSchema), []) })) })),
      }),
      {},
    ),
  }),
});

/** The host's NUMA cells as libvirt's capabilities describe them. */
export type HostCapabilities = z.output<typeof capabilitiesSchema>['capabilities'];

/** Caps.Unmarshal of `virsh capabilities`' XML. Throws naming what does not fit. */
export function parseCapabilities(xml: string): HostCapabilities {
  const result = z.safeParse(capabilitiesSchema, parser.parse(xml));
  if (result.success) return result.data.capabilities;
  const issue = result.error.issues[0];
  throw new Error(`host capabilities: ${issue?.message ?? 'not libvirt capabilities XML'} at ${issue?.path.join('.') ?? ''}`);
}

/** cmd/virt-handler: the capabilities node-labeller.sh wrote into the node-labeller volume. */
export function readHostCapabilities(nodeLabellerDir: string): HostCapabilities {
  return parseCapabilities(readFileSync(path.join(nodeLabellerDir, CapabilitiesFile), 'utf8'));
}

// Go's uint32(int): the low 32 bits
const uint32 = (s: string) => Number(BigInt.asUintN(32, BigInt(s.trim())));
const uint64 = (s: string) => BigInt.asUintN(64, BigInt(s.trim())).toString();

/** convertListOfIntStringToSlice: a comma list of CPU ids; what is not a uint32 (a range "0-3") is skipped. */
export function siblingsList(siblings: string): number[] {
  return siblings
    .split(',')
    .filter((s) => /^\d+$/.test(s) && BigInt(s) <= 0xffff_ffffn)
    .map(Number);
}

/** capabilitiesToTopology: the host's NUMA cells for the launcher (dedicated CPUs); none without capabilities. */
export function capabilitiesToTopology(caps: HostCapabilities | null): cmdv1.Topology {
  const cells = caps?.host.topology?.cells?.cell ?? [];
  return {
    numa_cells: cells.map((cell) => {
      const c: cmdv1.Cell = { id: uint32(cell['@id']), pages: [], distances: [], cpus: [] };
      if (cell.memory) c.memory = { amount: uint64(cell.memory['#text']), unit: cell.memory['@unit'] };
      c.pages = cell.pages.map((p) => ({ count: uint64(p['#text']), unit: p['@unit'], size: uint32(p['@size']) }));
      c.distances = (cell.distances?.sibling ?? []).map((s) => ({ id: uint32(s['@id']), value: uint64(s['@value']) }));
      c.cpus = (cell.cpus?.cpu ?? []).map((cpu) => ({ id: uint32(cpu['@id']), siblings: siblingsList(cpu['@siblings']) }));
      return c;
    }),
  };
}
