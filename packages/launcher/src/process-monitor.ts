// KubeVirt's ProcessMonitor: watches the QEMU process of the launcher's domain until it exits.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where libvirt keeps QEMU's pid file: the system daemon's, and a session daemon's ($XDG_RUNTIME_DIR=/var/run). */
export const QEMU_PID_DIR = '/run/libvirt/qemu';
export const QEMU_NONROOT_PID_DIR = '/run/libvirt/qemu/run';

/** QEMU's PID from libvirt's pid file, else from a /proc scan for the domain's UUID (KubeVirt's FindPid). */
export function findQemuPid(domainName: string, uuid: string, pidDir = QEMU_PID_DIR): number | undefined {
  try {
    const pid = Number(readFileSync(`${pidDir}/${domainName}.pid`, 'utf8').trim());
    if (pid > 0 && isAlive(pid)) return pid;
  } catch {
    // no pid file: scan
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.includes('qemu-system') && argv.includes(uuid)) return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

export function isAlive(pid: number): boolean {
  try {
    // a zombie still answers kill(0); its state in /proc tells
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Resolves 'exited' once QEMU is gone (or never showed up within `startTimeoutMs`), or 'signal' when
 * `signal` aborts first.
 */
export async function waitForQemuExit(
  domainName: string,
  uuid: string,
  opts: { signal: AbortSignal; startTimeoutMs: number; intervalMs?: number; pidDir?: string },
): Promise<'exited' | 'signal'> {
  const interval = opts.intervalMs ?? 1000;
  const startDeadline = Date.now() + opts.startTimeoutMs;
  let pid: number | undefined;
  while (!opts.signal.aborted) {
    pid ??= findQemuPid(domainName, uuid, opts.pidDir);
    if (pid !== undefined && !isAlive(pid)) return 'exited';
    if (pid === undefined && Date.now() > startDeadline) return 'exited';
    await sleep(interval, undefined, { signal: opts.signal }).catch(() => undefined);
  }
  return 'signal';
}
