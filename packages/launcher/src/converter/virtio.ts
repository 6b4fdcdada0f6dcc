// virtio.InterpretTransitionalModelType on amd64.
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';

export function virtioModel(vmi: VirtualMachineInstance): string {
  return vmi.spec.domain.devices?.useVirtioTransitional ? 'virtio-transitional' : 'virtio-non-transitional';
}
