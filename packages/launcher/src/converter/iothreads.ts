// converter/iothreads and its use in the disk and controller configurators: how many IOThreads the
// domain has, and which one each virtio disk (and the SCSI controller) runs its I/O on. shared (the
// default with any dedicatedIOThread) keeps one thread for all disks that ask for none, auto up to two
// per requested CPU, supplementalPool a fixed pool every virtio disk uses at once.
import type { Disk as VMIDisk, VirtualMachineInstance } from '@kubevirt-ts/shared';
import type { DiskIOThreads } from '../api/index.ts';
import { ConversionError } from './errors.ts';
import { quantityValue } from './quantity.ts';

const POLICIES = new Set(['shared', 'auto', 'supplementalPool']);

export interface IOThreadsPlan {
  /** domain.Spec.IOThreads: the number of IOThreads, 0 for none */
  total: number;
  /** the threads shared by the disks without a dedicated one (1..auto) */
  auto: number;
  /** supplementalPool: the pool every virtio disk is given */
  pool: DiskIOThreads | null;
}

export const hasDedicatedIOThread = (disk: VMIDisk) => disk.dedicatedIOThread === true;

const busOf = (disk: VMIDisk) => (disk.disk ? (disk.disk.bus ?? 'virtio') : disk.cdrom ? (disk.cdrom.bus ?? 'sata') : '');

/** HasIOThreads and GetIOThreadsCountType */
export function ioThreadsPlan(vmi: VirtualMachineInstance): IOThreadsPlan {
  const policy = vmi.spec.domain.ioThreadsPolicy;
  const disks = vmi.spec.domain.devices?.disks ?? [];
  if (policy === undefined && !disks.some(hasDedicatedIOThread)) return { total: 0, auto: 0, pool: null };
  if (policy !== undefined && !POLICIES.has(policy)) {
    throw new ConversionError('spec.domain.ioThreadsPolicy', `${JSON.stringify(policy)} is not one of shared, auto, supplementalPool`);
  }
  if (policy === 'supplementalPool') {
    const count = vmi.spec.domain.ioThreads?.supplementalPoolThreadCount;
    if (count === undefined || count < 1) {
      throw new ConversionError('spec.domain.ioThreads.supplementalPoolThreadCount', 'supplementalPool needs a thread count');
    }
    return { total: count, auto: 0, pool: { IOThread: Array.from({ length: count }, (_, i) => ({ Id: i + 1 })) } };
  }
  const dedicated = disks.filter(hasDedicatedIOThread).length;
  let auto = disks.length - dedicated;
  const limit = threadPoolLimit(vmi);
  // at least one shared thread
  if (auto + dedicated > limit) auto = Math.max(1, limit - dedicated);
  return { total: auto + dedicated, auto, pool: null };
}

/** getThreadPoolLimit: shared 1; auto two per requested (else limited) CPU. */
function threadPoolLimit(vmi: VirtualMachineInstance): number {
  if (vmi.spec.domain.ioThreadsPolicy !== 'auto') return 1;
  const resources = vmi.spec.domain.resources;
  let cpus = 1;
  if (resources?.requests?.cpu !== undefined) cpus = quantityValue(resources.requests.cpu, 'spec.domain.resources.requests.cpu');
  else if (resources?.limits?.cpu !== undefined) cpus = quantityValue(resources.limits.cpu, 'spec.domain.resources.limits.cpu');
  return cpus * 2;
}

/**
 * assignDiskIOThread over the VMI's disks, in order: the IOThread (or the pool) of each virtio disk by
 * name. Dedicated threads come after the shared ones; shared ones are taken in turn.
 */
export function diskIOThreads(vmi: VirtualMachineInstance, plan: IOThreadsPlan): Map<string, number | DiskIOThreads> {
  const out = new Map<string, number | DiskIOThreads>();
  if (plan.total === 0) return out;
  let dedicated = plan.auto + 1;
  let auto = 1;
  for (const disk of vmi.spec.domain.devices?.disks ?? []) {
    if (busOf(disk) !== 'virtio') continue;
    if (plan.pool) out.set(disk.name, plan.pool);
    else if (hasDedicatedIOThread(disk)) out.set(disk.name, dedicated++);
    else {
      out.set(disk.name, auto);
      auto = (auto % plan.auto) + 1;
    }
  }
  return out;
}

/**
 * assignSCSIControllerIOThread: with a SCSI disk that asks for a dedicated IOThread, the controller
 * takes the shared thread after those the virtio disks used, and a queue per vCPU.
 */
export function scsiControllerIOThread(vmi: VirtualMachineInstance, plan: IOThreadsPlan): number | null {
  const disks = vmi.spec.domain.devices?.disks ?? [];
  if (plan.auto === 0 || !disks.some((d) => busOf(d) === 'scsi' && hasDedicatedIOThread(d))) return null;
  let thread = 1;
  for (const disk of disks) if (busOf(disk) === 'virtio' && !hasDedicatedIOThread(disk)) thread = (thread % plan.auto) + 1;
  return thread;
}
