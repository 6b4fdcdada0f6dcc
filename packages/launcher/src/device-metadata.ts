// buildDevicesMetadata (virtwrap/manager.go): the interfaces the VMI tags, with the PCI address and MAC
// libvirt gave them, for the guest to find in the ConfigDrive's metadata (device role tagging).
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import type { DomainSpec } from './api/index.ts';
import type { DeviceData } from './converter/index.ts';

/** formatPCIAddressStr: `0x0000`, `0x01`, `0x00`, `0x0` → `0000:01:00.0` */
const pciAddress = (a: { Domain: string; Bus: string; Slot: string; Function: string }) =>
  `${a.Domain.slice(2)}:${a.Bus.slice(2)}:${a.Slot.slice(2)}.${a.Function.slice(2)}`;

export function taggedDevices(vmi: VirtualMachineInstance, defined: DomainSpec): DeviceData[] {
  const tags = new Map((vmi.spec.domain.devices?.interfaces ?? []).filter((i) => i.tag).map((i) => [i.name, i.tag as string]));
  if (tags.size === 0) return [];
  const out: DeviceData[] = [];
  for (const nic of defined.Devices.Interfaces ?? []) {
    const tag = nic.Alias ? tags.get(nic.Alias.Name) : undefined;
    if (tag === undefined || !nic.Address) continue;
    out.push({ type: 'nic', bus: nic.Address.Type, address: pciAddress(nic.Address), mac: nic.MAC?.MAC ?? '', tags: [tag] });
  }
  return out;
}
