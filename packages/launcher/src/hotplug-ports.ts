// allocateHotplugPorts, the step of the domain's first define in KubeVirt's manager.go, with what it
// calls: defaults.SupportsPCIeHotplug, calculateHotplugPortCountV1/V2, converter.CountPCIDevices,
// network.WithNetworkIfacesResources and pci.DisableHotplugOnOccupiedRootPorts. On a PCIe guest the
// domain is first defined with placeholder interfaces so libvirt gives them root ports, then defined
// again without them (their ports stay, empty, and every other device keeps its address), then with
// extra empty root ports above the occupied ones: the free hotplug slots and the PCI addresses a
// KubeVirt guest has. The decisions are pure functions; the defines go through a DomainDefiner.
import type { Logger } from 'pino';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import {
  ControllerModelPCIeExpanderBus,
  ControllerModelPCIeRoot,
  ControllerModelPCIeRootPort,
  ControllerModelPCIRoot,
  ControllerTypePCI,
  interfaceCodec,
  newStruct,
  type Address,
  type Controller,
  type DomainSpec,
  type Interface,
} from './api/index.ts';
import { virtioModel } from './converter/virtio.ts';
import { countPCIDevices, PlacePCIDevicesOnRootComplex } from './converter/pci-placement.ts';

export { countPCIDevices, PlacePCIDevicesOnRootComplex };

/** v1.PciInterfaceSlotCountAnnotation: the frozen total of interface slots (virt-handler sets it on v2 VMs). */
export const PciInterfaceSlotCountAnnotation = 'kubevirt.io/pci-interface-slot-count';

// manager.go's hotplug port constants
const hotplugLargeMemoryThreshold = 2 * 1024 * 1024 * 1024;
const hotplugLargeMemoryDefaultTotalPorts = 16;
const hotplugLargeMemoryMinRequiredFreePorts = 6;
const hotplugDefaultTotalPorts = 8;
const hotplugMinRequiredFreePorts = 3;

/** The highest PCI bus index allowed: each pcie-root-port takes one of bus 0's 32 slots. */
export const maxPCIBusIndex = 31;

type VMI = Pick<VirtualMachineInstance, 'metadata' | 'spec'>;

const annotation = (vmi: VMI, name: string): string | undefined => vmi.metadata.annotations?.[name];
const onRootComplex = (vmi: VMI) => annotation(vmi, PlacePCIDevicesOnRootComplex) === 'true';
const interfaceCount = (vmi: VMI) => vmi.spec.domain.devices?.interfaces?.length ?? 0;

/** Go's strconv.Atoi: an optionally signed decimal, or an error worded as Go words it. */
function atoi(s: string): number | Error {
  if (!/^[+-]?\d+$/.test(s)) return new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) return new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/** Go's strconv.ParseInt(s, 16, 32). */
function parseHex32(s: string): number | undefined {
  if (!/^[+-]?[0-9a-fA-F]+$/.test(s)) return undefined;
  const n = Number.parseInt(s, 16);
  return n >= -(2 ** 31) && n < 2 ** 31 ? n : undefined;
}

/**
 * defaults.SupportsPCIeHotplug: a PCIe bus topology that needs pcie-root-ports for hotplug; not the
 * flat buses of s390x and ppc64le, nor i440fx.
 */
export function supportsPCIeHotplug(spec: VMI['spec']): boolean {
  if (!['amd64', 'arm64', ''].includes(spec.architecture ?? '')) return false;
  const machine = spec.domain.machine;
  if (machine && !machine.type?.includes('q35') && !machine.type?.startsWith('virt')) return false;
  return true;
}

/** calculateHotplugPortCountV1: placeholders to four interfaces, none for a VMI without interfaces. */
export function calculateHotplugPortCountV1(vmi: VMI): number {
  if (onRootComplex(vmi)) return 0;
  const interfaces = interfaceCount(vmi);
  if (interfaces === 0) return 0;
  return Math.max(0, 4 - interfaces);
}

/** calculateHotplugPortCountV2: free ports wanted, by memory size and the PCI devices in use. */
export function calculateHotplugPortCountV2(vmi: VMI, spec: Pick<DomainSpec, 'Memory' | 'Devices'>): number {
  if (onRootComplex(vmi)) return 0;
  const large = spec.Memory.Value > hotplugLargeMemoryThreshold;
  const defaultTotalPorts = large ? hotplugLargeMemoryDefaultTotalPorts : hotplugDefaultTotalPorts;
  const minFreePorts = large ? hotplugLargeMemoryMinRequiredFreePorts : hotplugMinRequiredFreePorts;
  return Math.max(defaultTotalPorts - countPCIDevices(spec), minFreePorts);
}

/**
 * calculatePlaceholderCount: from the frozen slot total when the VMI has one (so interfaces added or
 * removed while stopped shift no PCI address), else the v1 formula. Throws on an unreadable total.
 */
export function calculatePlaceholderCount(vmi: VMI): number {
  const total = annotation(vmi, PciInterfaceSlotCountAnnotation);
  if (total === undefined) return calculateHotplugPortCountV1(vmi);
  const n = atoi(total);
  if (n instanceof Error) {
    throw new Error(`invalid ${PciInterfaceSlotCountAnnotation} annotation value ${JSON.stringify(total)}: ${n.message}`);
  }
  return Math.max(0, n - interfaceCount(vmi));
}

/** calculateExtraControllerCount: the v2 free ports the placeholders do not already give. */
export function calculateExtraControllerCount(vmi: VMI, spec: Pick<DomainSpec, 'Memory' | 'Devices'>, placeholderCount: number): number {
  if (onRootComplex(vmi)) return 0;
  return Math.max(0, calculateHotplugPortCountV2(vmi, spec) - placeholderCount);
}

/** maxPCIControllerIndex: the highest index among the PCI controllers (0 when none). */
export function maxPCIControllerIndex(spec: Pick<DomainSpec, 'Devices'>): number {
  let max = 0;
  for (const c of spec.Devices.Controllers ?? []) {
    if (c.Type !== ControllerTypePCI) continue;
    const idx = atoi(c.Index);
    if (typeof idx === 'number' && idx > max) max = idx;
  }
  return max;
}

/**
 * appendPCIeRootPortControllers: `count` empty root ports after the highest PCI controller, as many
 * as fit below bus 0's slot limit.
 */
export function appendPCIeRootPortControllers(spec: Pick<DomainSpec, 'Devices'>, count: number): void {
  const next = maxPCIControllerIndex(spec) + 1;
  const controllers = spec.Devices.Controllers ?? [];
  for (let i = 0; i < count && next + i <= maxPCIBusIndex; i++) {
    controllers.push(rootPort(next + i));
  }
  spec.Devices.Controllers = controllers.length > 0 ? controllers : spec.Devices.Controllers;
}

function rootPort(index: number): Controller {
  return {
    Type: ControllerTypePCI,
    Index: String(index),
    Model: ControllerModelPCIeRootPort,
    Driver: null,
    Alias: null,
    Address: null,
    PCIHole64: null,
    Target: null,
  };
}

/**
 * pci.DisableHotplugOnOccupiedRootPorts: hotplug off on the root ports whose bus number (the
 * target's busNr) carries a device other than an interface, so the guest cannot eject a disk, the
 * balloon or the RNG; interface ports stay hotpluggable for NIC unplug. Ports without a busNr are
 * left alone.
 */
export function disableHotplugOnOccupiedRootPorts(spec: Pick<DomainSpec, 'Devices'>): void {
  const occupied = occupiedPCIBuses(spec.Devices);
  for (const c of spec.Devices.Controllers ?? []) {
    if (c.Model !== ControllerModelPCIeRootPort || !c.Target || c.Target.BusNr === null) continue;
    if (occupied.has(c.Target.BusNr)) c.Target.Hotplug = 'off';
  }
}

/** The buses of the devices collectNonInterfacePCIAddresses lists (any address type, as KubeVirt reads them). */
function occupiedPCIBuses(devices: DomainSpec['Devices']): Set<number> {
  const addrs: Array<Address | null> = [];
  for (const disk of devices.Disks ?? []) if (disk.Target.Bus === 'virtio') addrs.push(disk.Address);
  for (const c of devices.Controllers ?? []) {
    if (
      c.Model === ControllerModelPCIRoot ||
      c.Model === ControllerModelPCIeRoot ||
      c.Model === ControllerModelPCIeRootPort ||
      c.Model === ControllerModelPCIeExpanderBus
    ) {
      continue;
    }
    addrs.push(c.Address);
  }
  for (const input of devices.Inputs ?? []) if (input.Bus === 'virtio') addrs.push(input.Address);
  for (const watchdog of devices.Watchdogs ?? []) addrs.push(watchdog.Address);
  for (const hostDev of devices.HostDevices ?? []) if (hostDev.Type === 'pci') addrs.push(hostDev.Address);
  if (devices.Ballooning) addrs.push(devices.Ballooning.Address);
  if (devices.Rng) addrs.push(devices.Rng.Address);
  if (devices.Memory) addrs.push(devices.Memory.Address);
  const buses = new Set<number>();
  for (const addr of addrs) {
    if (!addr || addr.Bus === '') continue;
    const bus = parseHex32(addr.Bus.startsWith('0x') ? addr.Bus.slice(2) : addr.Bus);
    if (bus !== undefined) buses.add(bus);
  }
  return buses;
}

/** network.newInterfacePlaceholder: an unmanaged ethernet interface that only reserves a root port. */
function interfacePlaceholder(index: number, modelType: string): Interface {
  const name = `placeholder-${index}`;
  return newStruct(interfaceCodec, {
    Type: 'ethernet',
    Model: { Type: modelType },
    Alias: { Name: name, UserDefined: false },
    Target: { Device: name, Managed: 'no' },
  });
}

/** network.AppendPlaceholderInterfacesToTheDomain: a copy of the spec with `count` placeholders after its interfaces. */
export function appendPlaceholderInterfacesToTheDomain(vmi: VMI, spec: DomainSpec, count: number): DomainSpec {
  const copy = structuredClone(spec);
  const model = virtioModel(vmi as VirtualMachineInstance);
  const interfaces = copy.Devices.Interfaces ?? [];
  for (let i = 0; i < count; i++) interfaces.push(interfacePlaceholder(i, model));
  copy.Devices.Interfaces = interfaces.length > 0 ? interfaces : copy.Devices.Interfaces;
  return copy;
}

/** How allocateHotplugPorts defines the domain and reads it back. */
export interface DomainDefiner<D> {
  /** setDomainSpecWithHooks: through the hook sidecars, defined; the spec becomes what the hooks made of it. */
  setDomainSpecWithHooks(spec: DomainSpec): Promise<D>;
  /** util.GetDomainSpecWithFlags(dom, DOMAIN_XML_INACTIVE) */
  inactiveSpec(dom: D): Promise<DomainSpec>;
}

/**
 * network.WithNetworkIfacesResources: with `count` placeholders, defines the domain with them, takes
 * the devices libvirt made of it (addresses, the root ports) with the spec's own interfaces instead
 * of the placeholders, then defines that.
 */
export async function withNetworkIfacesResources<D>(vmi: VMI, spec: DomainSpec, count: number, definer: DomainDefiner<D>): Promise<D> {
  if (count > 0) {
    const dom = await definer.setDomainSpecWithHooks(appendPlaceholderInterfacesToTheDomain(vmi, spec, count));
    // only the devices: libvirt does not give every part back (the qemu:commandline, for one)
    const readBack = await definer.inactiveSpec(dom);
    readBack.Devices.Interfaces = spec.Devices.Interfaces;
    spec.Devices = structuredClone(readBack.Devices);
  }
  return definer.setDomainSpecWithHooks(spec);
}

/** allocateHotplugPorts: the domain's first define, with KubeVirt's hotplug ports on a PCIe guest. */
export async function allocateHotplugPorts<D>(vmi: VMI, spec: DomainSpec, definer: DomainDefiner<D>, log: Logger): Promise<D> {
  if (!supportsPCIeHotplug(vmi.spec)) {
    log.info('Skipping hotplug port allocation: spec does not support PCIe topology');
    return definer.setDomainSpecWithHooks(spec);
  }
  const placeholderCount = calculatePlaceholderCount(vmi);
  const extraControllers = calculateExtraControllerCount(vmi, spec, placeholderCount);
  log.info(
    `Allocating ${placeholderCount} placeholder interfaces and ${extraControllers} direct controllers for hotplug (memory=${spec.Memory.Value} unit=${spec.Memory.Unit})`,
  );
  const dom = await withNetworkIfacesResources(vmi, spec, placeholderCount, definer);
  // without placeholders nothing was read back, and the ports' bus numbers come from libvirt
  if (placeholderCount === 0) spec.Devices = structuredClone((await definer.inactiveSpec(dom)).Devices);
  // after libvirt placed the devices: these ports get higher indices and stay empty
  if (extraControllers > 0) appendPCIeRootPortControllers(spec, extraControllers);
  disableHotplugOnOccupiedRootPorts(spec);
  return definer.setDomainSpecWithHooks(spec);
}
