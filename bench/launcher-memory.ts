// Memory of the virt-launcher process itself (not libvirtd or QEMU): RSS and PSS from /proc, the V8 heap
// from a Node diagnostic report (--report-on-signal: no new code in the launcher, no heap snapshot),
// idle after "Marked as ready", with one VM running and the agent poller active, and after a steady
// state. One pod (one VM) at a time, per variant: the TS source, the esbuild bundle, node/V8 flags.
// Also what each dependency costs to import, in a bare node, and the whole compute side of a pod
// (monitor, launcher, container-disks, virt-tail) beside KubeVirt's budgets (bench/pod-processes.ts).
//   node bench/launcher-memory.ts [--quick] [--duration 10m] [--variants source,bundle,...] [--pod=false] [--list]
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { goDuration } from '@kubevirt-ts/shared';
import { LAUNCHER_MAIN } from '../test/bed/launcher.ts';
import {
  benchFlags,
  emit,
  launcherBundle,
  listFiles,
  log,
  machine,
  quickFlag,
  REPO,
  round,
  scratchDir,
  startLauncherPod,
  waitForAgent,
  type LauncherEntry,
} from './lib.ts';
import { measurePod, type PodFigures } from './pod-processes.ts';

interface Variant {
  entry: LauncherEntry;
  nodeArgs: readonly string[];
  env?: Readonly<Record<string, string>>;
}

// Flags NODE_OPTIONS takes: small young generation, heap tuned for footprint, fewer V8 helper threads.
const SMALL = ['--max-semi-space-size=1', '--optimize-for-size', '--v8-pool-size=1'] as const;
// The recommended set: V8's lite mode (no optimizing compiler; command line only, not NODE_OPTIONS).
const LEAN = ['--lite-mode', '--max-semi-space-size=1', '--v8-pool-size=1'] as const;

const VARIANTS: Readonly<Record<string, Variant>> = {
  source: { entry: 'source', nodeArgs: [] },
  bundle: { entry: 'bundle', nodeArgs: [] },
  'bundle+semi-space-1': { entry: 'bundle', nodeArgs: ['--max-semi-space-size=1'] },
  'bundle+optimize-for-size': { entry: 'bundle', nodeArgs: ['--optimize-for-size'] },
  'bundle+v8-pool-1': { entry: 'bundle', nodeArgs: ['--v8-pool-size=1'] },
  'bundle+lite-mode': { entry: 'bundle', nodeArgs: ['--lite-mode'] },
  'bundle+old-space-64': { entry: 'bundle', nodeArgs: ['--max-old-space-size=64'] },
  'bundle+malloc-arena-2': { entry: 'bundle', nodeArgs: [], env: { MALLOC_ARENA_MAX: '2' } },
  'bundle+small': { entry: 'bundle', nodeArgs: SMALL },
  'source+small': { entry: 'source', nodeArgs: SMALL },
  'bundle+lean': { entry: 'bundle', nodeArgs: LEAN },
  'source+lean': { entry: 'source', nodeArgs: LEAN },
  'bundle+lean+threadpool-1': { entry: 'bundle', nodeArgs: LEAN, env: { UV_THREADPOOL_SIZE: '1' } },
  'bundle+lean+malloc-arena-1': { entry: 'bundle', nodeArgs: LEAN, env: { MALLOC_ARENA_MAX: '1' } },
  'bundle+jitless': { entry: 'bundle', nodeArgs: ['--jitless', '--max-semi-space-size=1', '--v8-pool-size=1'] },
};

const flags = benchFlags(
  z.object({
    quick: quickFlag,
    duration: z.optional(goDuration()).describe('steady state with the VM running (default 10m, 20s with --quick)'),
    variants: z
      .array(z.enum(Object.keys(VARIANTS) as [string, ...string[]]))
      .optional()
      .describe('variants to measure, one pod after another (default source,bundle,bundle+lean; source with --quick)'),
    'sample-interval': z.prefault(goDuration(), '10s').describe('RSS sampling interval during the steady state'),
    pod: z.coerce
      .boolean()
      .default(true)
      .describe("also measure a whole pod: monitor, launcher (bundle+lean), container-disks, virt-tail beside KubeVirt's budgets"),
  }),
  'bench/launcher-memory.ts',
);

const MiB = 2 ** 20;
const kiBToMiB = (kib: number) => round(kib / 1024, 1);

interface ProcMemory {
  rssMiB: number;
  anonMiB: number;
  fileMiB: number;
  pssMiB: number;
  threads: number;
  /** CPU the launcher used since it started (user + system). */
  cpuS: number;
}

function procMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return {
    rssMiB: kiBToMiB(field(status, 'VmRSS')),
    anonMiB: kiBToMiB(field(status, 'RssAnon')),
    fileMiB: kiBToMiB(field(status, 'RssFile')),
    pssMiB: kiBToMiB(field(rollup, 'Pss')),
    threads: field(status, 'Threads'),
    cpuS: cpuSeconds(pid),
  };
}

function cpuSeconds(pid: number): number {
  // fields after the command: state is field 3, utime 14 and stime 15, in clock ticks (100 Hz)
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return round((Number(fields[11]) + Number(fields[12])) / 100, 2);
}

/** RSS per mapping (the node binary, libc, [heap], anonymous: V8's heap and the threads' arenas). */
function rssByMapping(pid: number, top = 6): Record<string, number> {
  const totals = new Map<string, number>();
  let current = '[anon]';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const name = header[1] ?? '';
      current = name === '' ? '[anon]' : name.startsWith('/') ? path.basename(name) : name;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) totals.set(current, (totals.get(current) ?? 0) + Number(rss[1]));
  }
  return Object.fromEntries(
    [...totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, kib]) => [name, kiBToMiB(kib)]),
  );
}

interface HeapFigures {
  heapTotalMiB: number;
  heapUsedMiB: number;
  heapCommittedMiB: number;
  externalMiB: number;
  mallocedMiB: number;
  spacesMiB: Record<string, number>;
}

/** SIGUSR2 → Node writes a diagnostic report (javascriptHeap) into `dir`. */
async function heapReport(pid: number, dir: string): Promise<HeapFigures> {
  const before = new Set(listFiles(dir));
  process.kill(pid, 'SIGUSR2');
  for (const deadline = Date.now() + 10_000; ; await sleep(50)) {
    const file = listFiles(dir).find((f) => !before.has(f) && f.endsWith('.json'));
    if (file) {
      try {
        const heap = (JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { javascriptHeap: ReportHeap }).javascriptHeap;
        return {
          heapTotalMiB: round(heap.totalMemory / MiB, 1),
          heapUsedMiB: round(heap.usedMemory / MiB, 1),
          heapCommittedMiB: round(heap.totalCommittedMemory / MiB, 1),
          externalMiB: round(heap.externalMemory / MiB, 1),
          mallocedMiB: round(heap.mallocedMemory / MiB, 1),
          spacesMiB: Object.fromEntries(
            Object.entries(heap.heapSpaces)
              .filter(([, s]) => s.committedMemory > 0)
              .map(([name, s]) => [name, round(s.committedMemory / MiB, 1)]),
          ),
        };
      } catch {
        // still being written
      }
    }
    if (Date.now() > deadline) throw new Error('no diagnostic report from the launcher within 10 s');
  }
}

interface ReportHeap {
  totalMemory: number;
  totalCommittedMemory: number;
  usedMemory: number;
  externalMemory: number;
  mallocedMemory: number;
  heapSpaces: Record<string, { committedMemory: number }>;
}

interface VariantFigures {
  nodeArgs: string;
  idle: ProcMemory;
  vmRunning: ProcMemory;
  steady: ProcMemory;
  steadyMaxRssMiB: number;
  steadyMinRssMiB: number;
  idleHeap: HeapFigures;
  steadyHeap: HeapFigures;
  steadyRssByMapping: Record<string, number>;
}

async function measureVariant(name: string, v: Variant, durationMs: number, intervalMs: number, reports: string): Promise<VariantFigures> {
  const reportDir = scratchDir(`${reports}-${name.replace(/\W/g, '_')}`);
  const nodeArgs = [...v.nodeArgs, '--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reportDir}`, '--report-compact'];
  const pod = await startLauncherPod({ entry: v.entry, nodeArgs, ...(v.env ? { env: v.env } : {}) });
  try {
    const exe = readlinkSync(`/proc/${pod.pid}/exe`);
    if (exe !== realpathSync(process.execPath)) throw new Error(`pid ${pod.pid} is ${exe}, not the launcher's node`);
    await sleep(flags.quick ? 2_000 : 5_000); // idle after "Marked as ready"
    const idle = procMemory(pod.pid);
    const idleHeap = await heapReport(pod.pid, reportDir);
    log(`  ${name}: idle ${idle.rssMiB} MiB RSS, heap ${idleHeap.heapUsedMiB}/${idleHeap.heapTotalMiB} MiB`);

    const r = await pod.sync();
    if (!r.success) throw new Error(`SyncVirtualMachine failed: ${r.message}`);
    await pod.recorder.waitFor((e) => e.domain.Status.Status === 'Running', 60_000);
    await waitForAgent(pod, 90_000);
    const vmRunning = procMemory(pod.pid);
    log(`  ${name}: VM running, agent connected: ${vmRunning.rssMiB} MiB RSS; steady state for ${durationMs / 1000} s`);

    const series: number[] = [];
    for (const end = Date.now() + durationMs; Date.now() < end; ) {
      await sleep(Math.min(intervalMs, Math.max(0, end - Date.now())));
      series.push(procMemory(pod.pid).rssMiB);
    }
    const steady = procMemory(pod.pid);
    const steadyHeap = await heapReport(pod.pid, reportDir);
    const figures = {
      nodeArgs: [...v.nodeArgs, ...Object.entries(v.env ?? {}).map(([k, val]) => `${k}=${val}`)].join(' '),
      idle,
      vmRunning,
      steady,
      steadyMaxRssMiB: Math.max(...series, steady.rssMiB),
      steadyMinRssMiB: Math.min(...series, steady.rssMiB),
      idleHeap,
      steadyHeap,
      steadyRssByMapping: rssByMapping(pod.pid),
    };
    log(
      `  ${name}: steady ${steady.rssMiB} MiB RSS (min ${figures.steadyMinRssMiB}, max ${figures.steadyMaxRssMiB}; anon ${steady.anonMiB}, file ${steady.fileMiB}), ` +
        `heap used/total ${steadyHeap.heapUsedMiB}/${steadyHeap.heapTotalMiB} MiB, threads ${steady.threads}, CPU ${steady.cpuS} s`,
    );
    return figures;
  } finally {
    await pod.destroy();
  }
}

/** RSS of a bare node after importing one thing (and a GC): what each dependency costs. */
function importCosts(bundle: string): Record<string, number> {
  const launcherDir = path.join(REPO, 'packages', 'launcher');
  const protoDir = path.join(REPO, 'packages', 'proto');
  // [key in the figures, what is imported, where it resolves from]
  const cases: Array<[string, string | null, string]> = [
    ['node', null, launcherDir],
    ['zod', 'zod', launcherDir], // the classic API, all of it
    ['zodMini', 'zod/mini', launcherDir], // what the daemons import
    ['pino', 'pino', launcherDir],
    ['fastXmlParser', 'fast-xml-parser', launcherDir],
    ['grpcJs', '@grpc/grpc-js', protoDir],
    ['kubevirtProto', '@kubevirt-ts/proto', launcherDir], // grpc-js, protobufjs and our descriptor.json; TS
    ['launcherSource', LAUNCHER_MAIN, launcherDir], // every module of main.ts, through type stripping
    ['launcherBundle', bundle, launcherDir],
  ];
  const out: Record<string, number> = {};
  for (const [label, specifier, cwd] of cases) {
    const load = specifier === null ? '' : `await import(${JSON.stringify(specifier)});`;
    const code = `${load} globalThis.gc(); await new Promise((r) => setTimeout(r, 200)); globalThis.gc(); process.stdout.write(String(process.memoryUsage().rss));`;
    const rss = Number(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], { cwd, encoding: 'utf8' }));
    out[label] = round(rss / MiB, 1);
  }
  return out;
}

async function main(): Promise<void> {
  const durationMs = flags.duration ?? (flags.quick ? 20_000 : 600_000);
  const names = flags.variants ?? (flags.quick ? ['source'] : ['source', 'bundle', 'bundle+lean']);
  const started = Date.now();
  log(`launcher-memory: ${names.join(', ')}; steady state ${durationMs / 1000} s each`);
  const bundle = await launcherBundle();
  const imports = importCosts(bundle);
  for (const [label, mib] of Object.entries(imports)) log(`  import ${label}: ${mib} MiB RSS`);

  const variants: Record<string, VariantFigures> = {};
  for (const name of names) {
    variants[name] = await measureVariant(name, VARIANTS[name] as Variant, durationMs, flags['sample-interval'], 'kvts-bench-mem');
  }
  let pod: PodFigures | undefined;
  if (flags.pod) {
    log('launcher-memory: the pod, launcher behind virt-launcher-monitor (bundle+lean), container-disks, virt-tail');
    const lean = VARIANTS['bundle+lean'] as Variant;
    pod = await measurePod({ entry: bundle, nodeArgs: lean.nodeArgs, settleMs: flags.quick ? 2_000 : 30_000 });
  }
  const first = variants[names[0] as string] as VariantFigures;
  const figures = {
    bench: 'launcher-memory',
    quick: flags.quick,
    durationS: durationMs / 1000,
    bundle: path.relative(REPO, bundle).startsWith('..') ? 'temporary esbuild bundle' : path.relative(REPO, bundle),
    steadyRssMiB: first.steady.rssMiB,
    idleRssMiB: first.idle.rssMiB,
    steadyHeapUsedMiB: first.steadyHeap.heapUsedMiB,
    goalRssMiB: 56,
    variants,
    importRssMiB: imports,
    ...(pod ? { pod } : {}),
    elapsedS: round((Date.now() - started) / 1000, 1),
    machine: machine(),
  };
  const lines = Object.entries(variants).map(
    ([n, f]) =>
      `  ${n.padEnd(26)} idle ${f.idle.rssMiB}  VM ${f.vmRunning.rssMiB}  steady ${f.steady.rssMiB} (max ${f.steadyMaxRssMiB}) MiB RSS; heap ${f.steadyHeap.heapUsedMiB}/${f.steadyHeap.heapTotalMiB} MiB`,
  );
  if (pod) {
    const disks = Object.entries(pod.containerDisks).map(([n, f]) => `${n} ${f.rssMiB}/${f.budgetMiB} (${f.ratio})`);
    lines.push(
      `  pod (RSS/KubeVirt budget MiB, ratio): monitor ${pod.monitor.rssMiB}/${pod.monitor.budgetMiB} (${pod.monitor.ratio}), ` +
        `launcher ${pod.launcher.rssMiB}/${pod.launcher.budgetMiB} (${pod.launcher.ratio}), ${disks.join(', ')}, ` +
        `virt-tail ${pod.virtTail.rssMiB}/${pod.virtTail.budgetMiB} (${pod.virtTail.ratio}); total ${pod.totalRssMiB}/${pod.totalBudgetMiB}`,
    );
  }
  emit(figures, `launcher-memory (goal ≤ 56 MiB RSS):\n${lines.join('\n')}`);
}

await main();
process.exit(0);
