// What the benches share: flags, the one JSON line of figures, statistics, the machine, and a
// virt-launcher in a pod sandbox started the way the bench needs it (TS source or bundle, node flags).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { z } from 'zod';
import { build as buildDaemons, type BuildResult, type Daemon } from '../scripts/build.ts';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { domainNotifyPipeSocketPath, exitOnFlagError, parseFlags } from '@kubevirt-ts/shared';
import { createPodSandbox, type PodSandbox } from '../test/bed/pod-sandbox.ts';
import { asRequest, startLauncher, testVMI } from '../test/bed/launcher.ts';
import { NotifyRecorder } from '../test/bed/notify-recorder.ts';

export const REPO = path.resolve(import.meta.dirname, '..');

/** Every bench takes `--quick` (the smoke test's mode); the rest is its own. */
export function benchFlags<S extends z.ZodObject>(schema: S, program: string): z.output<S> {
  return exitOnFlagError(() => parseFlags(schema, process.argv.slice(2), { program }));
}

export const quickFlag = z.coerce.boolean().default(false).describe('smoke mode: a few seconds instead of minutes');

/** The figures as exactly one JSON line on stdout; people read the summary on stderr. */
export function emit(figures: Record<string, unknown>, summary: string): void {
  process.stderr.write(`${summary.trimEnd()}\n`);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

export function machine(): { nproc: number; cpu: string; memGiB: number; node: string } {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return { nproc: cpus().length, cpu: model.trim(), memGiB: round(totalmem() / 2 ** 30, 1), node: process.version };
}

// --- the launcher under test --------------------------------------------------------------------

export type LauncherEntry = 'source' | 'bundle';

let built: Promise<BuildResult> | undefined;
/**
 * The shipped bundle of a daemon (dist/<daemon>.mjs), built fresh once per
 * bench run by scripts/build.ts into a temporary directory, so a stale dist/ is never measured.
 */
export async function daemonBundle(daemon: Daemon): Promise<string> {
  if (!built) {
    const dir = mkdtempSync('/tmp/kvts-bench-bundle-');
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    built = buildDaemons(path.join(dir, 'dist'));
  }
  return (await built).bundles[daemon];
}

export const launcherBundle = (): Promise<string> => daemonBundle('virt-launcher');

export interface LauncherOptions {
  entry?: LauncherEntry;
  /** node's own flags, before the entry. */
  nodeArgs?: readonly string[];
  env?: Readonly<Record<string, string>>;
  launcherArgs?: readonly string[];
  name?: string;
}

/** A launcher pod: sandbox, the handler's notify socket (a recorder), the launcher, a cmd client. */
export interface LauncherPod {
  readonly sandbox: PodSandbox;
  readonly recorder: NotifyRecorder;
  readonly process: ChildProcess;
  /** PID of the launcher's node process (nsenter execs it, no fork). */
  readonly pid: number;
  readonly client: CmdClient;
  readonly vmi: ReturnType<typeof testVMI>;
  /** Everything the launcher logged so far. */
  logs(): string;
  /** SyncVirtualMachine with the pod's VMI. */
  sync(): Promise<{ success: boolean; message: string }>;
  destroy(): Promise<void>;
}

export async function startLauncherPod(o: LauncherOptions = {}): Promise<LauncherPod> {
  const sandbox = await createPodSandbox();
  const cleanup: Array<() => Promise<void> | void> = [() => sandbox.destroy()];
  const destroy = async () => {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
  };
  try {
    const recorder = await NotifyRecorder.listen(sandbox.hostPath(domainNotifyPipeSocketPath()));
    cleanup.push(() => recorder.close());
    const vmi = testVMI({ name: o.name ?? 'benchvmi', uid: crypto.randomUUID() });
    const launcher = await startLauncher(sandbox, vmi, o.launcherArgs, {
      ...(o.entry === 'bundle' ? { entry: await launcherBundle() } : {}),
      ...(o.nodeArgs ? { nodeArgs: o.nodeArgs } : {}),
      ...(o.env ? { env: o.env } : {}),
    });
    cleanup.push(async () => void (await launcher.stop('SIGKILL')));
    const client = await cmdClient(launcher.cmdSocket);
    cleanup.push(() => client.close());
    return {
      sandbox,
      recorder,
      process: launcher.process,
      pid: launcher.process.pid as number,
      client,
      vmi,
      logs: launcher.logs,
      sync: () => client.SyncVirtualMachine(asRequest(vmi)),
      destroy,
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}

/** Waits until the guest agent answers through the launcher (its agent poller is then active). */
export async function waitForAgent(pod: Pick<LauncherPod, 'client'>, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(250)) {
    const r = await pod.client.GetGuestInfo({});
    const info = JSON.parse(r.guestInfoResponse || '{}') as { os?: { id?: string } };
    if (info.os?.id) return;
    if (Date.now() > deadline) throw new Error(`guest agent not connected within ${timeoutMs} ms`);
  }
}

/** A fresh directory for scratch files, removed on exit. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(`/tmp/${prefix}-`);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function listFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
