// compute.MemoryConfigurator and MemoryBackingConfigurator: the guest's memory in bytes, hugepages
// backed by memfd, and shared memfd memory for virtiofs.
import type { Quantity, VirtualMachineInstance } from '@kubevirt-ts/shared';
import { memoryBackingCodec, newStruct, type Memory } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';
import { ConversionError } from '../errors.ts';
import { compareQuantities, mustParseQuantity, quantityToBytes } from '../quantity.ts';

/** vcpu.GetVirtualMemory: the guest's memory, with the path of the field it came from. */
export function virtualMemory(vmi: VirtualMachineInstance): { quantity: Quantity; path: string } {
  const domain = vmi.spec.domain;
  if (domain.memory?.guest !== undefined) return { quantity: domain.memory.guest, path: 'spec.domain.memory.guest' };
  const requests = domain.resources?.requests?.memory;
  const limits = domain.resources?.limits?.memory;
  if (requests === undefined && limits !== undefined) {
    return { quantity: limits, path: 'spec.domain.resources.limits.memory' };
  }
  if (requests === undefined) {
    throw new ConversionError('spec.domain.resources.requests.memory', 'the guest has no memory: set it or spec.domain.memory.guest');
  }
  return { quantity: requests, path: 'spec.domain.resources.requests.memory' };
}

/** vcpu.QuantityToByte */
export function quantityToMemory(quantity: Quantity, path: string): Memory {
  return { Value: quantityToBytes(quantity, path), Unit: 'b' };
}

/** `<maxMemory slots>` (see configureMemory) */
export const MemorySlots = 1;

export const configureMemory: DomainConfigurator = (vmi, spec) => {
  const guest = virtualMemory(vmi);
  const maxGuest = vmi.spec.domain.memory?.maxGuest;
  spec.Memory = quantityToMemory(guest.quantity, guest.path);
  if (maxGuest === undefined) return;
  const max = mustParseQuantity(maxGuest, 'spec.domain.memory.maxGuest');
  const cmp = compareQuantities(max, mustParseQuantity(guest.quantity, guest.path));
  if (cmp === 0) return;
  if (cmp < 0) {
    throw new ConversionError('spec.domain.memory.maxGuest', 'Guest memory is greater than the configured maxGuest memory');
  }
  // Hotplug room as KubeVirt's MemoryConfigurator writes it; the memory comes later as a virtio-mem
  // device. KubeVirt writes slots='0' (virtio-mem takes no DIMM slot), which the libvirt of Debian 12
  // (9.0) refuses ("both maximum memory size and memory slot count must be specified"): one slot,
  // left unused, is the nearest it accepts.
  const bytes = quantityToMemory(maxGuest, 'spec.domain.memory.maxGuest');
  spec.MaxMemory = { Value: bytes.Value, Unit: bytes.Unit, Slots: MemorySlots };
};

/** util.IsVMIVirtiofsEnabled: a filesystem shared through virtiofs. */
export function isVirtiofsEnabled(vmi: VirtualMachineInstance): boolean {
  return (vmi.spec.domain.devices?.filesystems ?? []).some((fs) => fs.virtiofs != null);
}

/** compute.isMemfdRequired (no passt binding here: the converter refuses it). */
export function isMemfdRequired(vmi: VirtualMachineInstance): boolean {
  if (vmi.spec.domain.memory?.hugepages !== undefined && vmi.metadata.annotations?.['kubevirt.io/memfd'] !== 'false') return true;
  return isVirtiofsEnabled(vmi);
}

/** MemoryBackingConfigurator (amd64, where memfd is supported): virtiofsd maps the guest's RAM, so it is shared. */
export const configureMemoryBacking: DomainConfigurator = (vmi, spec) => {
  const hugepages = vmi.spec.domain.memory?.hugepages;
  const sharedAccess = isVirtiofsEnabled(vmi);
  if (!hugepages && !sharedAccess) return;
  spec.MemoryBacking = newStruct(memoryBackingCodec, {});
  if (hugepages) {
    // the page size picks the hugetlbfs mount of the launcher pod; the XML names no size
    mustParseQuantity(hugepages.pageSize, 'spec.domain.memory.hugepages.pageSize');
    spec.MemoryBacking.HugePages = { HugePage: null };
  }
  if (sharedAccess) spec.MemoryBacking.Access = { Mode: 'shared' };
  if (isMemfdRequired(vmi)) spec.MemoryBacking.Source = { Type: 'memfd' };
};
