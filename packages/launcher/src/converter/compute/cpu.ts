// compute.CPUDomainConfigurator on amd64: topology, vCPU count and room for CPU hotplug, the CPU
// model (host-model by default, also under software emulation, where libvirt derives it from what
// TCG offers), and the NUMA cell memfd and memory hotplug need.
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import type { CPUTopology } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';
import { softwareEmulation } from './hypervisor.ts';
import { ConversionError } from '../errors.ts';
import { quantityToBytes, quantityValue } from '../quantity.ts';
import { isMemfdRequired, virtualMemory } from './memory.ts';

export const CPUModeHostModel = 'host-model';
export const CPUModeHostPassthrough = 'host-passthrough';

/** vcpu.GetCPUTopology: the VMI's topology, else as many sockets as CPUs requested, else 1. */
export function cpuTopology(vmi: VirtualMachineInstance): CPUTopology {
  const cpu = vmi.spec.domain.cpu;
  const topology = { Sockets: cpu?.sockets || 1, Cores: cpu?.cores || 1, Threads: cpu?.threads || 1 };
  if (!cpu || (!cpu.cores && !cpu.sockets && !cpu.threads)) {
    const resources = vmi.spec.domain.resources;
    if (resources?.limits?.cpu !== undefined) {
      topology.Sockets = quantityValue(resources.limits.cpu, 'spec.domain.resources.limits.cpu');
    } else if (resources?.requests?.cpu !== undefined) {
      topology.Sockets = quantityValue(resources.requests.cpu, 'spec.domain.resources.requests.cpu');
    }
  }
  return topology;
}

/** vcpu.CalculateRequestedVCPUs over GetCPUTopology: sockets × cores × threads. */
export function requestedVCPUs(vmi: VirtualMachineInstance): number {
  const topology = cpuTopology(vmi);
  return topology.Sockets * topology.Cores * topology.Threads;
}

export const configureCPU: DomainConfigurator = (vmi, spec, ctx) => {
  const topology = cpuTopology(vmi);
  let count = requestedVCPUs(vmi);
  if (count < 1) throw new ConversionError('spec.domain.resources.requests.cpu', 'the guest needs at least one vCPU');
  const maxSockets = vmi.spec.domain.cpu?.maxSockets ?? 0;
  if (maxSockets !== 0) {
    // room for CPU hotplug: every socket up to maxSockets declared, the requested ones enabled, and
    // all but the first socket's CPUs hotpluggable
    if (maxSockets < topology.Sockets) {
      throw new ConversionError('spec.domain.cpu.maxSockets', `must be at least sockets (${topology.Sockets})`);
    }
    const enabled = count;
    const perSocket = topology.Cores * topology.Threads;
    topology.Sockets = maxSockets;
    count = maxSockets * perSocket;
    spec.VCPUs = {
      VCPU: Array.from({ length: count }, (_, id) => ({
        ID: id,
        Enabled: id < enabled ? 'yes' : 'no',
        Hotpluggable: id >= perSocket ? 'yes' : 'no',
        Order: 0,
      })),
    };
  }
  spec.CPU.Topology = topology;
  spec.VCPU = { Placement: 'static', CPUs: count };

  const model = vmi.spec.domain.cpu?.model ?? '';
  if (model === CPUModeHostModel || model === CPUModeHostPassthrough) {
    if (model === CPUModeHostPassthrough && softwareEmulation(ctx)) {
      throw new ConversionError(
        'spec.domain.cpu.model',
        'host-passthrough needs KVM; under software emulation use host-model or a named model',
      );
    }
    spec.CPU.Mode = model;
  } else if (model !== '') {
    spec.CPU.Mode = 'custom';
    spec.CPU.Model = model;
    // libvirt's cpu_map still lists the deprecated mpx for some models QEMU no longer offers it on
    spec.CPU.Features = [{ Name: 'mpx', Policy: 'disable' }];
  } else {
    spec.CPU.Mode = CPUModeHostModel;
  }
  // configureCPUFeatures: the VMI's features first; mpx stays off only when the VMI does not name it
  const features = vmi.spec.domain.cpu?.features ?? [];
  if (features.length > 0) {
    const named = new Set(features.map((f) => f.name));
    spec.CPU.Features = [
      ...features.map((f) => ({ Name: f.name, Policy: f.policy || 'require' })),
      ...(spec.CPU.Features ?? []).filter((f) => !named.has(f.Name)),
    ];
  }

  // memfd needs a NUMA cell (configureSyntheticNUMA); so does memory hotplug on libvirt 9.0, where
  // KubeVirt's libvirt adds that cell itself
  if (isMemfdRequired(vmi) || spec.MaxMemory) {
    const memory = virtualMemory(vmi);
    spec.CPU.NUMA = {
      Cells: [
        {
          ID: '0',
          CPUs: `0-${count - 1}`,
          Memory: Math.floor(quantityToBytes(memory.quantity, memory.path) / 1024),
          Unit: 'KiB',
          MemoryAccess: '',
        },
      ],
    };
  }
};
