// KubeVirt's ProcessMonitor: watches the QEMU process of the launcher's domain until it exits.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** QEMU's PID from libvirt's pid file, else from a /proc scan for the domain's UUID (KubeVirt's FindPid). */
export function findQemuPid(domainName: string, uuid: string): number | undefined {
  try {
    const pid = Number(readFileSync(`/run/libvirt/qemu/${domainName}.pid`, 'utf8').trim());
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
  opts: { signal: AbortSignal; startTimeoutMs: number; intervalMs?: number },
): Promise<'exited' | 'signal'> {
  const interval = opts.intervalMs ?? 1000;
  const startDeadline = Date.now() + opts.startTimeoutMs;
  let pid: number | undefined;
  while (!opts.signal.aborted) {
    pid ??= findQemuPid(domainName, uuid);
    if (pid !== undefined && !isAlive(pid)) return 'exited';
    if (pid === undefined && Date.now() > startDeadline) return 'exited';
    await sleep(interval, undefined, { signal: opts.signal }).catch(() => undefined);
  }
  return 'signal';
}
