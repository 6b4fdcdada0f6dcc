// vcpu.AdjustDomainForTopologyAndCPUSet for dedicatedCpuPlacement: each vCPU pinned to one of the
// pod's exclusive host CPUs (its cgroup cpuset), whole host cores first, then what is left on a NUMA
// cell, then across cells (the relaxed pool: no NUMA passthrough here); the emulator thread on the
// next free CPU when isolated; KVM's hint-dedicated on. KubeVirt's errors when they do not fit.
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { featuresCodec, newStruct, type DomainSpec } from '../../api/index.ts';
import { ConversionError } from '../errors.ts';

/** cmdv1.Cell as the handler sends it (keepCase JSON of the proto message). */
interface Cell {
  cpus?: { id?: number; siblings?: number[] }[];
}

/** cpuChunksToCells: per NUMA cell, its host cores, each the threads of it the pod may use. */
function coresPerCell(cpuSet: readonly number[], cells: readonly Cell[]): number[][][] {
  const allowed = new Set(cpuSet);
  const visited = new Set<number>();
  return cells.map((cell) => {
    const cores: number[][] = [];
    for (const cpu of cell.cpus ?? []) {
      const id = cpu.id ?? 0;
      if (visited.has(id)) continue;
      const threads = cpu.siblings && cpu.siblings.length > 0 ? cpu.siblings : [id];
      for (const t of threads) visited.add(t);
      cores.push(threads.filter((t) => allowed.has(t)));
    }
    return cores;
  });
}

/** The relaxed vCPU pool: `threadsPerCore` threads for each of `cores` guest cores. */
class CPUPool {
  readonly #cells: { full: number[][]; fragmented: number[] }[];
  readonly #threadsPerCore: number;

  constructor(cells: number[][][], threadsPerCore: number) {
    this.#threadsPerCore = threadsPerCore;
    this.#cells = cells.map((cores) => ({
      full: cores.filter((c) => c.length >= threadsPerCore),
      fragmented: cores.filter((c) => c.length < threadsPerCore).flat(),
    }));
  }

  /** fitCores: host threads for `count` guest cores, or how many cores did not fit. */
  fitCores(count: number): { threads: number[]; remaining: number } {
    const threads: number[] = [];
    let remaining = count;
    // whole host cores, then a core's worth of threads within a cell, then across cells
    for (const cell of this.#cells) {
      while (remaining > 0 && cell.full.length > 0) {
        threads.push(...(cell.full.shift() ?? []));
        remaining--;
      }
    }
    for (const cell of this.#cells) {
      while (remaining > 0 && cell.fragmented.length >= this.#threadsPerCore) {
        threads.push(...cell.fragmented.splice(0, this.#threadsPerCore));
        remaining--;
      }
    }
    let wanted = remaining * this.#threadsPerCore;
    for (const cell of this.#cells) {
      const take = cell.fragmented.splice(0, wanted);
      threads.push(...take);
      wanted -= take.length;
    }
    return { threads, remaining: Math.floor(wanted / this.#threadsPerCore + 0.5) };
  }

  /** fitThread: one more free thread. */
  fitThread(): number | undefined {
    for (const cell of this.#cells) {
      if (cell.fragmented.length > 0) return cell.fragmented.shift();
      const core = cell.full.shift();
      if (core) {
        const [thread, ...rest] = core;
        cell.fragmented.push(...rest);
        return thread;
      }
    }
    return undefined;
  }
}

export function adjustDomainForDedicatedCPUs(
  vmi: VirtualMachineInstance,
  spec: DomainSpec,
  cells: readonly unknown[],
  cpuSet: readonly number[],
): void {
  const topology = spec.CPU.Topology;
  const threadsPerCore = topology?.Threads || 1;
  let sockets = topology?.Sockets || 1;
  const coresPerSocket = topology?.Cores || 1;
  // sockets left for CPU hotplug are not pinned
  if (vmi.spec.domain.cpu?.maxSockets && spec.VCPUs?.VCPU) {
    const disabled = spec.VCPUs.VCPU.filter((v) => v.Enabled !== 'yes').length;
    sockets -= Math.floor(disabled / (coresPerSocket * threadsPerCore));
  }
  const pool = new CPUPool(coresPerCell(cpuSet, cells as Cell[]), threadsPerCore);
  const { threads, remaining } = pool.fitCores(sockets * coresPerSocket);
  if (remaining > 0) {
    throw new ConversionError(
      'spec.domain.cpu.dedicatedCpuPlacement',
      `not enough exclusive threads provided, could not fit ${remaining} core(s)`,
    );
  }
  spec.CPUTune = {
    VCPUPin: threads.map((thread, vcpu) => ({ VCPU: vcpu, CPUSet: String(thread) })),
    IOThreadPin: null,
    EmulatorPin: null,
  };
  spec.Features ??= newStruct(featuresCodec, {});
  spec.Features.KVM = { Hidden: spec.Features.KVM?.Hidden ?? null, HintDedicated: { State: 'on' } };
  // supplemental pool IOThreads take pool CPUs of their own, before the emulator thread
  const poolThreads =
    vmi.spec.domain.ioThreadsPolicy === 'supplementalPool' ? (vmi.spec.domain.ioThreads?.supplementalPoolThreadCount ?? 0) : 0;
  const ioThreadPins: { IOThread: number; CPUSet: string }[] = [];
  for (let id = 1; id <= poolThreads; id++) {
    const thread = pool.fitThread();
    if (thread === undefined) {
      throw new ConversionError(
        'spec.domain.ioThreads.supplementalPoolThreadCount',
        'no CPU allocated for the iothread: no remaining unassigned threads',
      );
    }
    ioThreadPins.push({ IOThread: id, CPUSet: String(thread) });
  }
  if (vmi.spec.domain.cpu?.isolateEmulatorThread) {
    const thread = pool.fitThread();
    if (thread === undefined) {
      throw new ConversionError(
        'spec.domain.cpu.isolateEmulatorThread',
        'no CPU allocated for the emulation thread: no remaining unassigned threads',
      );
    }
    spec.CPUTune.EmulatorPin = { CPUSet: String(thread) };
  }
  if (spec.IOThreads && poolThreads === 0)
    ioThreadPins.push(...sharedIOThreadPins(vmi, spec.IOThreads.IOThreads, spec.CPUTune.EmulatorPin?.CPUSet, cpuSet));
  spec.CPUTune.IOThreadPin = ioThreadPins.length > 0 ? ioThreadPins : null;
}

/**
 * FormatDomainIOThreadPin: with an isolated emulator thread IOThread 1 shares its CPU; else each IOThread
 * gets one of the first vCPU-count CPUs of the pod's set, or a balanced slice of them when there are
 * fewer IOThreads than vCPUs.
 */
function sharedIOThreadPins(
  vmi: VirtualMachineInstance,
  ioThreads: number,
  emulatorCPUSet: string | undefined,
  cpuSet: readonly number[],
): { IOThread: number; CPUSet: string }[] {
  if (vmi.spec.domain.cpu?.isolateEmulatorThread && emulatorCPUSet !== undefined) return [{ IOThread: 1, CPUSet: emulatorCPUSet }];
  const cpu = vmi.spec.domain.cpu;
  // hardware.GetNumberOfVCPUs: cores × sockets × threads, an unset one not counted
  const vcpus = [cpu?.sockets, cpu?.threads].reduce<number>((n, x) => (x ? (n ? n * x : x) : n), cpu?.cores ?? 0) || 1;
  const pins: { IOThread: number; CPUSet: string }[] = [];
  if (ioThreads >= vcpus) {
    for (let thread = 1; thread <= ioThreads; thread++) pins.push({ IOThread: thread, CPUSet: String(cpuSet[thread % vcpus]) });
    return pins;
  }
  // e.g. 3 threads over 8 CPUs: 0,1,2 / 3,4,5 / 6,7
  const longer = vcpus % ioThreads;
  let curr = 0;
  for (let thread = 1; thread <= ioThreads; thread++) {
    const size = Math.floor(vcpus / ioThreads) + (thread <= longer ? 1 : 0);
    pins.push({ IOThread: thread, CPUSet: cpuSet.slice(curr, curr + size).join(',') });
    curr += size;
  }
  return pins;
}
