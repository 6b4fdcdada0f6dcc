// Live migration of the test guest (128Mi, its containerDisk by block migration) from launcher pod to
// launcher pod through virt-handler's migration proxy: over TLS (KubeVirt's default) and with TLS
// disabled (the migration configuration's disableTLS), alternating, several rounds. Per migration: the
// time from MigrateVirtualMachine to the source's record ending, and libvirt's figures of the
// completed job (its time, the guest's downtime, the data sent). The ratio TLS / plain is what the
// proxy's TLS costs a migration. Beside it, the proxy alone: bytes pushed from a source-pod socket to
// a target-pod socket through both managers, TLS and plain. The launchers run from source: libvirt
// and QEMU do the migrating.
//   node bench/migration.ts [--quick] [--rounds N]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { vmiNameToDomainName } from '@kubevirt-ts/shared';
import { bootGuest } from '../test/bed/booted-guest.ts';
import { asRequest, stopLauncherTest } from '../test/bed/launcher.ts';
import { virsh } from '../test/bed/libvirtd.ts';
import {
  migratingVMI,
  migrationEnded,
  migrationOptions,
  migrationProxies,
  migrationVMI,
  startTargetPod,
  wireMigrationProxies,
  type MigrationPod,
} from '../test/bed/migration.ts';
import { benchFlags, emit, log, machine, median, quickFlag, round } from './lib.ts';

const flags = benchFlags(
  z.object({
    quick: quickFlag,
    rounds: z.coerce.number().int().min(1).optional().describe('TLS + plain migration pairs (default 4, 1 with --quick)'),
  }),
  'bench/migration.ts',
);

interface Figures {
  /** MigrateVirtualMachine → the source's migration record ends */
  elapsedMs: number;
  /** libvirt's completed job: its duration, the guest's downtime, the data sent */
  jobMs: number;
  downtimeMs: number;
  dataMiB: number;
}

/** `virsh domjobinfo --completed` of the migration that just left the pod. */
async function completedJob(pod: MigrationPod, domain: string): Promise<Omit<Figures, 'elapsedMs'>> {
  const out = await virsh(pod.sandbox, ['domjobinfo', '--completed', domain]);
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+([0-9.]+)\\s*(\\S*)`, 'm').exec(out);
    if (!m) throw new Error(`no "${name}" in domjobinfo:\n${out}`);
    const unit = m[2] ?? '';
    const value = Number(m[1]);
    return unit === 'GiB' ? value * 1024 : unit === 'KiB' ? value / 1024 : unit === 'B' ? value / 2 ** 20 : value;
  };
  return { jobMs: field('Time elapsed'), downtimeMs: field('Total downtime'), dataMiB: round(field('Data processed'), 1) };
}

/** MiB/s through both proxy managers, unix socket to unix socket, `mib` MiB in 1 MiB writes. */
async function proxyThroughput(tls: boolean, mib: number): Promise<number> {
  const dir = mkdtempSync('/tmp/kvts-mig-tp-');
  const proxies = await migrationProxies({ tls });
  const sink = createServer((s) => s.resume());
  try {
    let received = 0;
    const all = new Promise<void>((resolve) => {
      sink.on('connection', (s) =>
        s.on('data', (d: Buffer) => {
          received += d.length;
          if (received >= mib * 2 ** 20) resolve();
        }),
      );
    });
    sink.listen(path.join(dir, 'sink.sock'));
    await once(sink, 'listening');
    await proxies.target.startTargetListener('bench', [path.join(dir, 'sink.sock')]);
    await proxies.source.startSourceListener('bench', '127.0.0.1', proxies.target.getTargetListenerPorts('bench'), dir);
    const client = createConnection(proxies.source.getSourceListenerFiles('bench')[0] as string);
    await once(client, 'connect');
    const chunk = Buffer.alloc(2 ** 20, 0x5a);
    const started = performance.now();
    for (let i = 0; i < mib; i++) if (!client.write(chunk)) await once(client, 'drain');
    await all;
    const seconds = (performance.now() - started) / 1000;
    client.destroy();
    return round(mib / seconds);
  } finally {
    proxies.source.stopSourceListener('bench');
    proxies.target.stopTargetListener('bench');
    sink.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(proxies.dir, { recursive: true, force: true });
  }
}

const medians = (xs: Figures[]): Figures => ({
  elapsedMs: round(median(xs.map((x) => x.elapsedMs))),
  jobMs: median(xs.map((x) => x.jobMs)),
  downtimeMs: median(xs.map((x) => x.downtimeMs)),
  dataMiB: round(median(xs.map((x) => x.dataMiB)), 1),
});

async function main(): Promise<void> {
  const t0 = Date.now();
  const rounds = flags.rounds ?? (flags.quick ? 1 : 4);
  const uid = randomUUID();
  const domain = vmiNameToDomainName('default', 'migvmi');
  const proxies = { tls: await migrationProxies({ tls: true }), plain: await migrationProxies({ tls: false }) };
  const booted = await bootGuest(migrationVMI(uid, false));
  let current: MigrationPod = booted;
  const results: Record<'tls' | 'plain', Figures[]> = { tls: [], plain: [] };
  try {
    for (let i = 0; i < rounds * 2; i++) {
      const mode = i % 2 === 0 ? 'tls' : 'plain';
      const other = mode === 'tls' ? 'plain' : 'tls';
      // one manager's sockets in the source pod at a time: both use the same names
      proxies[other].source.stopSourceListener(uid);
      proxies[other].target.stopTargetListener(uid);
      const target = await startTargetPod(uid, false);
      await wireMigrationProxies(uid, proxies[mode], current.sandbox, target.sandbox);
      const vmi = migratingVMI(uid, randomUUID(), false);
      const prepared = await target.client.SyncMigrationTarget(asRequest(vmi));
      if (!prepared.success) throw new Error(`SyncMigrationTarget: ${prepared.message}`);
      const started = performance.now();
      const res = await current.client.MigrateVirtualMachine({ ...asRequest(vmi), options: migrationOptions() });
      if (!res.success) throw new Error(`MigrateVirtualMachine: ${res.message}`);
      const ended = await migrationEnded(current.client, 120_000, () => current.launcher.logs().slice(-4000));
      const elapsedMs = performance.now() - started;
      if (ended.Failed) throw new Error(`migration ${i + 1} failed: ${ended.FailureReason}`);
      const figures = { elapsedMs: round(elapsedMs), ...(await completedJob(current, domain)) };
      results[mode].push(figures);
      log(
        `migration ${i + 1} (${mode}): ${figures.elapsedMs} ms, job ${figures.jobMs} ms, downtime ${figures.downtimeMs} ms, ${figures.dataMiB} MiB`,
      );
      // the guest now runs in the target pod: the next migration's source
      if (current === booted) await booted.stop();
      else await stopLauncherTest(current);
      current = target;
    }
  } finally {
    for (const p of Object.values(proxies)) {
      p.source.stopSourceListener(uid);
      p.target.stopTargetListener(uid);
      rmSync(p.dir, { recursive: true, force: true });
    }
    if (current === booted) await booted.stop();
    else await stopLauncherTest(current);
  }
  const tls = medians(results.tls);
  const plain = medians(results.plain);
  const proxyMiB = flags.quick ? 64 : 512;
  const proxy = { tlsMiBps: await proxyThroughput(true, proxyMiB), plainMiBps: await proxyThroughput(false, proxyMiB), mib: proxyMiB };
  const figures = {
    bench: 'migration',
    quick: flags.quick,
    rounds,
    guest: '128Mi, containerDisk 8 MiB (block migration)',
    tlsElapsedMs: tls.elapsedMs,
    plainElapsedMs: plain.elapsedMs,
    ratio: round(tls.elapsedMs / plain.elapsedMs, 3),
    tls,
    plain,
    proxy,
    perMigration: results,
    elapsedS: round((Date.now() - t0) / 1000, 1),
    machine: machine(),
  };
  emit(
    figures,
    `migration: over TLS ${tls.elapsedMs} ms (downtime ${tls.downtimeMs} ms) vs plain ${plain.elapsedMs} ms (downtime ${plain.downtimeMs} ms), medians = ${figures.ratio}x; the proxy alone ${proxy.tlsMiBps} MiB/s over TLS, ${proxy.plainMiBps} MiB/s plain`,
  );
}

await main();
process.exit(0);
