// converter/pci-placement.go: the devices that take a PCI address (CountPCIDevices counts them, the
// hotplug ports are reserved by that count) and, for a VMI annotated
// kubevirt.io/placePCIDevicesOnRootComplex, their placement on the root bus's slots, no root ports.
import { addressCodec, newStruct, type Address, type DomainSpec } from '../api/index.ts';
import { ConversionError } from './errors.ts';

/** hwutil.PCI_ADDRESS_PATTERN, domain:bus:slot.function */
const PCI_ADDRESS = /^([\da-fA-F]{4}):([\da-fA-F]{2}):([\da-fA-F]{2})\.([0-7])$/;

/** device.NewPciAddressField: a device address the VMI gives, e.g. `0000:81:01.0`. */
export function pciAddressField(address: string): Address {
  const m = PCI_ADDRESS.exec(address);
  if (!m) throw new Error(`failed to parse pci address ${address}`);
  return newStruct(addressCodec, { Type: 'pci', Domain: `0x${m[1]}`, Bus: `0x${m[2]}`, Slot: `0x${m[3]}`, Function: `0x${m[4]}` });
}

/** pciAddressField for a VMI field: its error names the field and the device (`interface x`, `disk x`). */
export function userPCIAddress(address: string, path: string, device: string): Address {
  try {
    return pciAddressField(address);
  } catch (err) {
    throw new ConversionError(path, `failed to configure ${device}: ${(err as Error).message}`);
  }
}

/** v1.PlacePCIDevicesOnRootComplex */
export const PlacePCIDevicesOnRootComplex = 'kubevirt.io/placePCIDevicesOnRootComplex';

type AddressFn = (address: Address | null) => Address | null;

/**
 * iteratePCIAddresses: `fn` on the address of each device that has none or a PCI one, in KubeVirt's
 * order (interfaces, PCI host devices, controllers but the root and expander buses, virtio disks and
 * inputs, watchdogs, RNG, balloon); what it returns becomes the device's address.
 */
function iteratePCIAddresses(devices: DomainSpec['Devices'], fn: AddressFn): void {
  const visit = (a: Address | null) => (a === null || a.Type === '' || a.Type === 'pci' ? fn(a) : a);
  for (const iface of devices.Interfaces ?? []) iface.Address = visit(iface.Address);
  for (const hostDev of devices.HostDevices ?? []) if (hostDev.Type === 'pci') hostDev.Address = visit(hostDev.Address);
  for (const c of devices.Controllers ?? []) {
    if (c.Model === 'pci-root' || c.Model === 'pcie-root' || c.Model === 'pcie-expander-bus') continue;
    c.Address = visit(c.Address);
  }
  for (const disk of devices.Disks ?? []) if (disk.Target.Bus === 'virtio') disk.Address = visit(disk.Address);
  for (const input of devices.Inputs ?? []) if (input.Bus === 'virtio') input.Address = visit(input.Address);
  for (const watchdog of devices.Watchdogs ?? []) watchdog.Address = visit(watchdog.Address);
  if (devices.Rng) devices.Rng.Address = visit(devices.Rng.Address);
  if (devices.Ballooning) devices.Ballooning.Address = visit(devices.Ballooning.Address);
}

/** CountPCIDevices */
export function countPCIDevices(spec: Pick<DomainSpec, 'Devices'>): number {
  let count = 0;
  iteratePCIAddresses(spec.Devices, (a) => {
    count++;
    return a;
  });
  return count;
}

/**
 * pciRootSlotAssigner.nextSlot: the next free slot of bus 0; slots 0 and 1 (VGA), 0x1b (the first ich9
 * sound card) and 0x1f (QEMU's SATA controller) are reserved.
 */
function rootSlotAssigner(): () => number {
  let last = -1;
  return () => {
    let slot = last + 1;
    if (slot === 0 || slot === 0x01) slot = 0x02;
    else if (slot === 0x1f || slot === 0x1b) slot++;
    if (slot >= 0x20) throw new Error('No space left on the root PCI bus.');
    last = slot;
    return slot;
  };
}

/** PlacePCIDevicesOnRootComplex: every device without an explicit PCI address on the next root slot. */
export function placePCIDevicesOnRootComplex(spec: Pick<DomainSpec, 'Devices'>): void {
  const nextSlot = rootSlotAssigner();
  iteratePCIAddresses(spec.Devices, (address) => {
    // an address with a domain is one asked for: kept
    if (address !== null && address.Domain !== '') return address;
    const slot = nextSlot();
    const a: Address = address ?? newStruct(addressCodec);
    a.Type = 'pci';
    a.Domain = '0x0000';
    a.Bus = '0x00';
    a.Slot = `0x${slot.toString(16).padStart(2, '0')}`;
    a.Function = '0x0';
    return a;
  });
}
