// What the launcher adds to starting a VM: SyncVirtualMachine on its cmd socket → the Running domain
// event at the handler's notify socket, against the same domain XML (the one the launcher produced)
// defined and started directly with virsh → libvirt's lifecycle STARTED event. Both paths run on a fresh
// pod sandbox with libvirtd configured by SetupLibvirt under tini -s, alternating.
//   node bench/sync-overhead.ts [--quick] [--runs N] [--entry bundle|source]
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { connect } from '@kubevirt-ts/libvirt';
import { createPodSandbox } from '../test/bed/pod-sandbox.ts';
import { startLibvirtd, virsh } from '../test/bed/libvirtd.ts';
import { stageGuestImages } from '../test/bed/launcher.ts';
import { NODE_FLAGS } from '../scripts/build.ts';
import { benchFlags, emit, log, machine, median, quickFlag, round, scratchDir, startLauncherPod } from './lib.ts';

const flags = benchFlags(
  z.object({
    quick: quickFlag,
    runs: z.coerce.number().int().min(1).optional().describe('measured runs per path (default 10, 1 with --quick)'),
    entry: z.enum(['bundle', 'source']).default('bundle').describe("the shipped bundle with its shebang's node flags, or the TS source"),
  }),
  'bench/sync-overhead.ts',
);

/** When libvirt's DEFINED and STARTED lifecycle events reached a client of our own, ms after t0. */
interface Phases {
  definedMs: number;
  startedMs: number;
}

interface LauncherRun extends Phases {
  /** SyncVirtualMachine sent → the first domain event with Status Running received. */
  toRunningMs: number;
  /** SyncVirtualMachine sent → its reply. */
  syncReplyMs: number;
}

interface DirectRun extends Phases {
  /** virsh define started → libvirt's lifecycle STARTED event received. */
  toStartedMs: number;
  /** virsh define started → virsh start returned. */
  virshReturnMs: number;
}

/** Timestamps libvirt's DEFINED and STARTED events on a connection of the bench's own. */
async function watchPhases(socketPath: string): Promise<{ phases: (t0: number) => Promise<Phases>; close: () => Promise<void> }> {
  const conn = await connect({ socketPath, events: ['lifecycle'] });
  const at = new Map<string, number>();
  const started = new Promise<void>((resolve) => {
    conn.on('lifecycle', (e) => {
      if (!at.has(e.event)) at.set(e.event, Date.now());
      if (e.event === 'STARTED') resolve();
    });
  });
  return {
    phases: async (t0) => {
      await started;
      return { definedMs: (at.get('DEFINED') ?? NaN) - t0, startedMs: (at.get('STARTED') as number) - t0 };
    },
    close: () => conn.close(),
  };
}

/** What the direct path needs from the launcher's pod: its domain XML and its container-disk overlay. */
interface Captured {
  xml: string;
  domainName: string;
  ephemeralDisks: string;
  privateDirs: string[];
}

async function viaLauncher(capture: string | undefined): Promise<{ run: LauncherRun; captured?: Captured }> {
  const pod = await startLauncherPod(
    flags.entry === 'bundle' ? { entry: 'bundle', nodeArgs: NODE_FLAGS['virt-launcher'] } : { entry: 'source' },
  );
  const watch = await watchPhases(pod.sandbox.hostPath('/var/run/libvirt/libvirt-sock'));
  try {
    const t0 = Date.now();
    const r = await pod.sync();
    const syncReplyMs = Date.now() - t0;
    if (!r.success) throw new Error(`SyncVirtualMachine failed: ${r.message}`);
    const running = await pod.recorder.waitFor((e) => e.domain.Status.Status === 'Running', 60_000);
    const run = { toRunningMs: running.at - t0, syncReplyMs, ...(await watch.phases(t0)) };
    if (capture === undefined) return { run };
    const domainName = running.domain.Spec.Name;
    const xml = await virsh(pod.sandbox, ['dumpxml', '--inactive', domainName]);
    const ephemeralDisks = path.join(capture, 'ephemeral-disks');
    cpSync(pod.sandbox.volumePath('ephemeral-disks'), ephemeralDisks, { recursive: true });
    // libvirt does not create socket directories (serial, VNC): the launcher does.
    const privateDirs = [
      ...new Set([...xml.matchAll(/path='(\/var\/run\/kubevirt-private\/[^']+)'/g)].map((m) => path.posix.dirname(m[1] as string))),
    ];
    return { run, captured: { xml, domainName, ephemeralDisks, privateDirs } };
  } finally {
    await watch.close();
    await pod.destroy();
  }
}

async function direct(c: Captured, scratch: string): Promise<DirectRun> {
  const sandbox = await createPodSandbox();
  try {
    stageGuestImages(sandbox);
    cpSync(c.ephemeralDisks, sandbox.volumePath('ephemeral-disks'), { recursive: true });
    for (const dir of c.privateDirs) mkdirSync(sandbox.hostPath(dir), { recursive: true });
    const xmlFile = path.join(scratch, 'domain.xml');
    writeFileSync(xmlFile, c.xml);
    const libvirtd = await startLibvirtd(sandbox);
    const watch = await watchPhases(libvirtd.socketPath);
    try {
      const t0 = Date.now();
      await virsh(sandbox, ['define', xmlFile]);
      await virsh(sandbox, ['start', c.domainName]);
      const virshReturnMs = Date.now() - t0;
      const phases = await watch.phases(t0);
      return { toStartedMs: phases.startedMs, virshReturnMs, ...phases };
    } finally {
      await watch.close();
      await libvirtd.stop();
    }
  } finally {
    await sandbox.destroy();
  }
}

function phaseMedians<R extends Phases>(runs: R[], end: (r: R) => number) {
  return {
    toDefined: median(runs.map((r) => r.definedMs)),
    definedToStarted: median(runs.map((r) => r.startedMs - r.definedMs)),
    startedToEnd: median(runs.map((r) => end(r) - r.startedMs)),
  };
}

async function main(): Promise<void> {
  const runs = flags.runs ?? (flags.quick ? 1 : 10);
  const warmup = flags.quick ? 0 : 1;
  const scratch = scratchDir('kvts-bench-sync');
  const started = Date.now();
  log(`sync-overhead: ${runs} run(s) per path, alternating${warmup ? `, after ${warmup} warm-up pair` : ''}`);
  const launcherRuns: LauncherRun[] = [];
  const directRuns: DirectRun[] = [];
  let captured: Captured | undefined;
  for (let i = 0; i < warmup + runs; i++) {
    const l = await viaLauncher(captured === undefined ? scratch : undefined);
    captured ??= l.captured;
    const d = await direct(captured as Captured, scratch);
    const tag = i < warmup ? 'warm-up' : `run ${i - warmup + 1}`;
    log(
      `  ${tag.padEnd(8)} launcher Sync→Running ${l.run.toRunningMs} ms (DEFINED ${l.run.definedMs}, STARTED ${l.run.startedMs}, reply ${l.run.syncReplyMs})` +
        `   virsh define+start→STARTED ${d.toStartedMs} ms (DEFINED ${d.definedMs})`,
    );
    if (i < warmup) continue;
    launcherRuns.push(l.run);
    directRuns.push(d);
  }
  const launcherMedian = median(launcherRuns.map((r) => r.toRunningMs));
  const directMedian = median(directRuns.map((r) => r.toStartedMs));
  const figures = {
    bench: 'sync-overhead',
    quick: flags.quick,
    entry: flags.entry,
    runs,
    launcherToRunningMedianMs: launcherMedian,
    directToStartedMedianMs: directMedian,
    ratio: round(launcherMedian / directMedian, 3),
    launcherSyncReplyMedianMs: median(launcherRuns.map((r) => r.syncReplyMs)),
    directVirshReturnMedianMs: median(directRuns.map((r) => r.virshReturnMs)),
    // Where the time goes, medians per phase: t0 → DEFINED → STARTED (→ Running at the notify socket).
    launcherPhasesMs: phaseMedians(launcherRuns, (r) => r.toRunningMs),
    directPhasesMs: phaseMedians(directRuns, (r) => r.startedMs),
    launcherToRunningMs: launcherRuns.map((r) => r.toRunningMs),
    directToStartedMs: directRuns.map((r) => r.toStartedMs),
    elapsedS: round((Date.now() - started) / 1000, 1),
    machine: machine(),
  };
  emit(figures, `sync-overhead: median launcher ${launcherMedian} ms vs direct ${directMedian} ms → ratio ${figures.ratio} (goal ≤ 1.05)`);
}

await main();
process.exit(0);
