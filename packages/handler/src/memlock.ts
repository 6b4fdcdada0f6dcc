// KvmVirtRuntime.AdjustResources (pkg/hypervisor/kvm/runtime.go), before a VMI's first sync: a VMI
// with host devices (VFIO), realtime vCPUs, SEV or `memory.reservedOverhead.memLock: Required` runs
// with its memory locked, and the launcher pod may not raise its own RLIMIT_MEMLOCK. The handler sets
// the pod's libvirt daemon's to unlimited; QEMU inherits it when libvirt starts it.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { forObject, type VirtualMachineInstance } from '@kubevirt-ts/shared';

const execFileAsync = promisify(execFile);

/** KubeVirt's launcher runs virtqemud; Debian 12's libvirt has only the monolithic libvirtd. */
export const LIBVIRT_DAEMONS = ['virtqemud', 'libvirtd'];

/** vmitrait.HasVFIO, IsRealtimeEnabled, IsSEVVMI, RequiresLockingMemory. */
export function needsLockedMemory(vmi: VirtualMachineInstance): boolean {
  const { devices, cpu, memory, launchSecurity } = vmi.spec.domain;
  const sev = (launchSecurity as { sev?: unknown } | undefined)?.sev;
  return (
    (devices?.hostDevices?.length ?? 0) > 0 ||
    (devices?.gpus?.length ?? 0) > 0 ||
    cpu?.realtime !== undefined ||
    sev !== undefined ||
    memory?.reservedOverhead?.memLock === 'Required'
  );
}

/**
 * FindVirtqemudProcess: the libvirt daemon of the launcher's pod. KubeVirt takes the launcher's child
 * of that name; here the one in the launcher's mount namespace (the test bed starts libvirtd under
 * tini, and the process found for a VMI's socket need not be the launcher itself).
 */
export function findLibvirtDaemon(launcherPid: number, procDir = '/proc'): number | undefined {
  const ns = readlinkSync(path.join(procDir, String(launcherPid), 'ns', 'mnt'));
  for (const entry of readdirSync(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!LIBVIRT_DAEMONS.includes(readFileSync(path.join(procDir, entry, 'comm'), 'utf8').trim())) continue;
      if (readlinkSync(path.join(procDir, entry, 'ns', 'mnt')) === ns) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

export interface MemlockOptions {
  logger: Logger;
  /** A process of the VMI's launcher pod (its compute container); throws when there is none. */
  launcherPid(vmiUID: string): number;
  procDir?: string;
}

export class MemlockAdjuster {
  readonly #o: MemlockOptions;

  constructor(o: MemlockOptions) {
    this.#o = o;
  }

  /** AdjustResources for a VMI not running yet; nothing when it needs no locked memory or no daemon is found. */
  async adjust(vmi: VirtualMachineInstance): Promise<void> {
    if (!needsLockedMemory(vmi)) return;
    const daemon = findLibvirtDaemon(this.#o.launcherPid(vmi.metadata.uid), this.#o.procDir);
    if (daemon === undefined) return;
    try {
      await execFileAsync('prlimit', ['--pid', String(daemon), '--memlock=unlimited:unlimited']);
    } catch (err) {
      const detail = (err as { stderr?: string }).stderr?.trim() || String(err);
      throw new Error(`failed to adjust resources: failed to set process ${daemon} memlock rlimit to unlimited: ${detail}`, {
        cause: err,
      });
    }
    forObject(this.#o.logger, vmi).debug(`set process ${daemon} memlock rlimits to unlimited`);
  }
}
