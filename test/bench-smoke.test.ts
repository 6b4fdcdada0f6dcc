// The benches still run: each in its --quick mode, as a child process, prints exactly one JSON line
// of figures on stdout, with the figures it promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const BENCH = path.resolve(import.meta.dirname, '..', 'bench');

async function runQuick(name: string, ...args: string[]): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [path.join(BENCH, `${name}.ts`), '--quick', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, `${name} exited ${code}:\n${err.slice(-5000)}`);
  const lines = out.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `exactly one line on stdout, got:\n${out}`);
  const figures = JSON.parse(lines[0] as string) as Record<string, unknown>;
  assert.equal(figures['bench'], name);
  assert.equal(figures['quick'], true);
  return figures;
}

function positive(figures: unknown, ...paths: string[]): void {
  for (const p of paths) {
    const value = p.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], figures);
    assert.ok(typeof value === 'number' && value > 0 && Number.isFinite(value), `${p} is a positive number (got ${String(value)})`);
  }
}

test('bench rpc-latency --quick: launcher and floor percentiles', { timeout: 60_000 }, async () => {
  const f = await runQuick('rpc-latency');
  positive(f, 'calls', 'domainJsonBytes');
  for (const side of ['launcher', 'floor']) {
    for (const rpc of ['ping', 'getDomainEmpty', 'getDomain']) positive(f, `${side}.${rpc}.p50Ms`, `${side}.${rpc}.p99Ms`);
  }
  positive(f, 'p50Ratio.ping', 'p50Ratio.getDomainEmpty', 'p50Ratio.getDomain');
});

test('bench sync-overhead --quick: both medians and their ratio', { timeout: 60_000 }, async () => {
  const f = await runQuick('sync-overhead');
  positive(f, 'runs', 'launcherToRunningMedianMs', 'directToStartedMedianMs', 'ratio');
});

test("bench launcher-memory --quick: RSS and V8 heap of the launcher, the pod beside KubeVirt's budgets", {
  timeout: 180_000,
}, async () => {
  const f = await runQuick('launcher-memory');
  positive(
    f,
    'idleRssMiB',
    'steadyRssMiB',
    'steadyHeapUsedMiB',
    'variants.source.steady.pssMiB',
    'variants.source.steadyHeap.heapTotalMiB',
  );
  positive(f, 'importRssMiB.node', 'importRssMiB.launcherSource', 'importRssMiB.launcherBundle');
  positive(f, 'pod.monitor.rssMiB', 'pod.monitor.ratio', 'pod.launcher.rssMiB', 'pod.launcher.ratio', 'pod.totalRssMiB');
  positive(f, 'pod.virtTail.rssMiB', 'pod.virtTail.ratio', 'pod.virtTail.linesFollowed');
  assert.equal((f['pod'] as { monitor: { budgetMiB: number } }).monitor.budgetMiB, 25, "KubeVirt's VirtLauncherMonitorOverhead");
  const disks = (f['pod'] as { containerDisks: Record<string, unknown> }).containerDisks;
  assert.deepEqual(
    Object.keys(disks).sort(),
    ['volumedata', 'volumekernel-boot-volume'],
    'one container-disk per containerDisk volume and kernel boot',
  );
  for (const name of Object.keys(disks)) positive(disks, `${name}.rssMiB`, `${name}.ratio`, `${name}.requestRatio`);
});

/** handler-scale's figures of its one step, and the bed it ran on. */
function handlerScaleStep(f: Record<string, unknown>): void {
  const [step] = f['steps'] as Array<Record<string, unknown>>;
  positive(
    step,
    'vmis',
    'bringUp.allRunningS',
    'idle.rssMiB',
    'steady.p50Ms',
    'steady.p99Ms',
    'steady.statusUpdatesPerS',
    'burst.statusUpdatesPerS',
    'rssMiB',
  );
  assert.equal((step as { steady: { lost: number } }).steady.lost, 0, 'no event lost');
  assert.equal((step as { burst: { lost: number } }).burst.lost, 0, 'no event of the burst lost');
}

test('bench handler-scale --quick: event → VMI status latency, throughput, RSS and CPU of virt-handler', { timeout: 90_000 }, async () => {
  const f = await runQuick('handler-scale');
  assert.equal(f['bed'], 'sandbox');
  handlerScaleStep(f);
});

test("bench handler-scale --quick --node: the same with the handler's DaemonSet pod and launcher pods on the real node", {
  timeout: 600_000,
}, async () => {
  const f = await runQuick('handler-scale', '--node');
  assert.equal(f['bed'], 'real node');
  handlerScaleStep(f);
});

test('bench console-throughput --quick: websocket and direct bytes/s and their ratio', { timeout: 90_000 }, async () => {
  const f = await runQuick('console-throughput');
  positive(f, 'websocketBytesPerS', 'directBytesPerS', 'ratio');
});

test('bench migration --quick: a migration over TLS and one without, their times and libvirt figures', { timeout: 180_000 }, async () => {
  const f = await runQuick('migration');
  positive(f, 'tlsElapsedMs', 'plainElapsedMs', 'ratio', 'tls.jobMs', 'tls.downtimeMs', 'tls.dataMiB', 'plain.jobMs', 'plain.dataMiB');
  positive(f, 'proxy.tlsMiBps', 'proxy.plainMiBps');
});

test("bench node-pods --quick: the real node's launcher and handler pods beside KubeVirt's budgets and requests", {
  timeout: 900_000,
}, async () => {
  const f = await runQuick('node-pods');
  positive(f, 'nothingToAgentS', 'kubevirtBudgets.monitor.rssMiB', 'kubevirtBudgets.launcher.rssMiB', 'kubevirtBudgets.launcher.ratio');
  positive(f, 'launcherPod.compute.cgroupRssMiB', 'launcherPod.compute.requestMiB', 'launcherPod.compute.processes.qemu-system-x86_64');
  positive(f, 'launcherPod.compute.processes.libvirtd', 'handlerPod.cgroupRssMiB', 'handlerPod.requestMiB');
  const disks = Object.values((f['kubevirtBudgets'] as { containerDisks: Record<string, { rssMiB: number }> }).containerDisks);
  assert.equal(disks.length, 2, 'the containerDisk and the kernel-boot container');
  for (const d of disks) assert.ok(d.rssMiB > 0);
});
