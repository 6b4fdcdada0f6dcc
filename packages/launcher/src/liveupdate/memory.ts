// KubeVirt's liveupdate/memory and the launcher's UpdateGuestMemory: memory hotplug through one
// virtio-mem device spanning the room between the guest's memory at boot and maxGuest (the domain's
// <maxMemory>). The domain boots without it; the first SyncVirtualMachineMemory attaches it, later
// ones change the size it asks the guest to plug.
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { DomainDeviceModifyFlags, type Connection, type Domain as VirDomain } from '@kubevirt-ts/libvirt';
import { domainSpecFromXML, memoryDeviceCodec, newStruct, type MemoryDevice } from '../api/index.ts';
import { marshalXML } from '../api/codec.ts';
import { ConversionError } from '../converter/errors.ts';
import type { Rational } from '@kubevirt-ts/shared';
import { mustParseQuantity } from '../converter/quantity.ts';

/** The virtio-mem block: a power of 2, at least a transparent hugepage (2MiB on x86_64), QEMU's advice. */
export const HotplugBlockAlignmentBytes = 0x200000;
/** With 1Gi hugepages the block is one hugepage. */
export const Hotplug1GHugePagesBlockAlignmentBytes = 0x40000000;

/** v1.FuncTestMemoryHotplugFailAnnotation: SyncVirtualMachineMemory fails, in-band, with this as its message. */
export const FuncTestMemoryHotplugFailAnnotation = 'kubevirt.io/func-test-memory-hotplug-fail';

/** The block size the VMI's memory backing asks for. */
export function hotplugBlockAlignment(vmi: VirtualMachineInstance): number {
  return vmi.spec.domain.memory?.hugepages?.pageSize === '1Gi' ? Hotplug1GHugePagesBlockAlignmentBytes : HotplugBlockAlignmentBytes;
}

/**
 * status.memory.guestAtBoot: the memory the guest booted with, which virt-api's webhook sets to
 * spec.domain.memory.guest when the VMI is created. The device's room and request are counted from it.
 */
function guestAtBoot(vmi: VirtualMachineInstance): Rational {
  const atBoot = vmi.status?.memory?.guestAtBoot;
  if (atBoot === undefined) {
    throw new ConversionError(
      'status.memory.guestAtBoot',
      'the memory the guest booted with is not set: memory hotplug cannot size the virtio-mem device',
    );
  }
  return mustParseQuantity(atBoot, 'status.memory.guestAtBoot');
}

/** a − b, then vcpu.QuantityToByte: rounded down to a byte, an error when negative. */
function differenceToBytes(a: Rational, b: Rational, path: string): number {
  const num = a.num * b.den - b.num * a.den;
  const den = a.den * b.den;
  if (num < 0n) throw new ConversionError(path, `Memory size '${formatBytes(num / den)}' must be greater than or equal to 0`);
  return Number(num / den);
}

/** A byte count as a Quantity prints it (binary SI when it divides evenly). */
function formatBytes(bytes: bigint): string {
  const sign = bytes < 0n ? '-' : '';
  let v = bytes < 0n ? -bytes : bytes;
  if (v === 0n) return '0';
  let i = 0;
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  while (i < suffixes.length - 1 && v % 1024n === 0n) {
    v /= 1024n;
    i++;
  }
  return `${sign}${v}${suffixes[i]}`;
}

/**
 * memory.BuildMemoryDevice: the virtio-mem device on guest NUMA node 0, as big as maxGuest minus
 * the memory at boot, asking for spec guest minus the memory at boot.
 */
export function buildMemoryDevice(vmi: VirtualMachineInstance): MemoryDevice {
  const memory = vmi.spec.domain.memory;
  if (memory?.maxGuest === undefined) {
    throw new ConversionError('spec.domain.memory.maxGuest', 'Max guest memory must be configured when memory hotplug is enabled');
  }
  if (memory.guest === undefined) {
    throw new ConversionError('spec.domain.memory.guest', 'Guest memory must be configured when memory hotplug is enabled');
  }
  const atBoot = guestAtBoot(vmi);
  const size = differenceToBytes(mustParseQuantity(memory.maxGuest, 'spec.domain.memory.maxGuest'), atBoot, 'spec.domain.memory.maxGuest');
  const requested = differenceToBytes(mustParseQuantity(memory.guest, 'spec.domain.memory.guest'), atBoot, 'spec.domain.memory.guest');
  return newStruct(memoryDeviceCodec, {
    Model: 'virtio-mem',
    Target: {
      Size: { Value: size, Unit: 'b' },
      Requested: { Value: requested, Unit: 'b' },
      Current: { Value: 0, Unit: '' },
      Node: '0',
      Block: { Value: hotplugBlockAlignment(vmi), Unit: 'b' },
      Address: null,
    },
  });
}

/** The device's XML as UpdateGuestMemory sends it (KubeVirt lower-cases the whole marshalled text). */
export function memoryDeviceToXML(device: MemoryDevice): string {
  return marshalXML(memoryDeviceCodec, 'memory', device).toLowerCase();
}

export type MemoryHotplugConnection = Pick<Connection, 'domainGetXMLDesc' | 'domainUpdateDeviceFlags' | 'domainAttachDeviceFlags'>;

/**
 * UpdateGuestMemory: the running domain's virtio-mem device asked for the VMI's guest memory
 * (live); a domain without one gets it attached (live and persistent), as KubeVirt does.
 */
export async function updateGuestMemory(conn: MemoryHotplugConnection, dom: VirDomain, vmi: VirtualMachineInstance): Promise<void> {
  const wanted = buildMemoryDevice(vmi);
  const spec = domainSpecFromXML(await conn.domainGetXMLDesc(dom, 0));
  const existing = spec.Devices.Memory;
  if (existing?.Target && wanted.Target) {
    existing.Target.Requested = wanted.Target.Requested;
    await conn.domainUpdateDeviceFlags(dom, memoryDeviceToXML(existing), DomainDeviceModifyFlags.LIVE);
  } else {
    await conn.domainAttachDeviceFlags(dom, memoryDeviceToXML(wanted), DomainDeviceModifyFlags.LIVE | DomainDeviceModifyFlags.CONFIG);
  }
}
