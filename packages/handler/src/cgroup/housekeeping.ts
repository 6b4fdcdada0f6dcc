// KvmVirtRuntime.HandleHousekeeping (pkg/hypervisor/kvm/runtime.go), after each SyncVirtualMachine:
// for a VMI with dedicated CPUs and an isolated emulator thread, the launcher's threads other than
// QEMU's KVM vCPU threads go into a "housekeeping" child of its cpuset cgroup, limited to the CPUs the
// domain pins the emulator to, so they never run on a vCPU's dedicated CPU. cgroup v1 (the v1
// manager's CreateChildCgroup, SetCpuSet, GetCgroupThreads and AttachTID).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod/mini';
import { forObject, parseCPUSetLine, type Domain, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { cgroupVersion, controllerCgroupPath, managerPath } from './devices.ts';

export const HOUSEKEEPING = 'housekeeping';

export interface HousekeepingOptions {
  logger: Logger;
  /** A process of the VMI's launcher pod (its compute container); throws when there is none. */
  launcherPid(vmiUID: string): number;
  /** The node's cgroup file system (cgroupconsts.HostCgroupBasePath). */
  cgroupRoot: string;
  procDir?: string;
}

/** The cpuset controller's path in a /proc/<pid>/cgroup (v1), a housekeeping group's as its parent's. */
export function cpusetCgroupPath(procCgroup: string): string | undefined {
  const found = controllerCgroupPath(procCgroup, 'cpuset');
  return found === undefined ? undefined : managerPath(found);
}

const emulatorPinSchema = z.object({
  CPUTune: z.optional(z.nullable(z.object({ EmulatorPin: z.optional(z.nullable(z.object({ CPUSet: z.string() }))) }))),
});

/** The domain's `<emulatorpin cpuset>`, undefined when it has none. */
export function emulatorPinCPUs(domain: Domain): number[] | undefined {
  const parsed = emulatorPinSchema.safeParse(domain.Spec);
  const cpuset = parsed.success ? parsed.data.CPUTune?.EmulatorPin?.CPUSet : undefined;
  return cpuset === undefined ? undefined : parseCPUSetLine(cpuset, 100);
}

/** A QEMU vCPU thread under KVM keeps its CPU: its name is "CPU <n>/KVM". */
export const isKVMVCPUThread = (comm: string) => comm.includes('CPU ') && comm.includes('KVM');

export class Housekeeping {
  readonly #o: HousekeepingOptions;

  constructor(o: HousekeepingOptions) {
    this.#o = o;
  }

  /** HandleHousekeeping's cgroup part; `domain` is the one known before this sync (none on the first). */
  async handle(vmi: VirtualMachineInstance, domain: Domain | undefined): Promise<void> {
    const cpu = vmi.spec.domain.cpu;
    if (!cpu?.dedicatedCpuPlacement || !cpu.isolateEmulatorThread) return;
    const log = forObject(this.#o.logger, vmi);
    if (cgroupVersion(this.#o.cgroupRoot) === 'v2') {
      log.warn('the housekeeping cgroup is made on cgroup v1 nodes only: the emulator thread shares the vCPUs’ CPUs');
      return;
    }
    const procDir = this.#o.procDir ?? '/proc';
    const pid = this.#o.launcherPid(vmi.metadata.uid);
    const cgroupPath = cpusetCgroupPath(readFileSync(path.join(procDir, String(pid), 'cgroup'), 'utf8'));
    if (cgroupPath === undefined) throw new Error(`the launcher (pid ${pid}) is in no cpuset cgroup`);
    const podDir = path.join(this.#o.cgroupRoot, 'cpuset', cgroupPath);
    const dir = path.join(podDir, HOUSEKEEPING);
    // init_cgroup: a new cpuset group gets its parent's CPUs and memory nodes, or it could hold no task
    if (!existsSync(dir)) {
      mkdirSync(dir);
      for (const file of ['cpuset.mems', 'cpuset.cpus']) writeFileSync(path.join(dir, file), readFileSync(path.join(podDir, file)));
    }
    if (!domain) return;
    const cpus = emulatorPinCPUs(domain);
    if (cpus === undefined) return;
    log.debug(`housekeeping cpu: ${cpus.join(',')}`);
    writeFileSync(path.join(dir, 'cpuset.cpus'), cpus.join(','));
    const tids = readFileSync(path.join(podDir, 'tasks'), 'utf8').split('\n').filter(Boolean).map(Number);
    const moved: number[] = [];
    for (const tid of tids) {
      // QEMU's and Node's worker threads come and go: one that ended meanwhile has nothing to move (KubeVirt
      // fails the sync on it and tries again)
      try {
        if (isKVMVCPUThread(readFileSync(path.join(procDir, String(tid), 'comm'), 'utf8'))) continue;
        writeFileSync(path.join(dir, 'tasks'), String(tid));
        moved.push(tid);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ESRCH') throw new Error(`error attaching tid ${tid}: ${String(err)}`, { cause: err });
      }
    }
    log.debug(`hk thread ids: ${moved.join(',')}`);
  }
}
