// Cmd RPC latency of a real virt-launcher (Ping; GetDomain without and with a domain) against the floor:
// a grpc-js Cmd server in its own process whose handlers do nothing, on the same kind of unix socket.
//   node bench/rpc-latency.ts [--quick] [--calls N]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { cmdClient, createCmdServer, listenUnix, type CmdClient } from '@kubevirt-ts/proto';
import { benchFlags, emit, log, machine, percentile, quickFlag, round, scratchDir, startLauncherPod } from './lib.ts';

const flags = benchFlags(
  z.object({
    quick: quickFlag,
    calls: z.coerce.number().int().min(10).optional().describe('calls per RPC and server (default 2000, 200 with --quick)'),
    'serve-floor': z.string().optional().describe('internal: serve the floor Cmd server on this socket'),
    'domain-file': z.string().optional().describe('internal: the floor GetDomain answers with this file'),
  }),
  'bench/rpc-latency.ts',
);

interface Latency {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

async function measure(what: string, call: () => Promise<unknown>, calls: number): Promise<Latency> {
  for (let i = 0; i < Math.min(100, calls); i++) await call(); // warm-up: connection, JIT
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await call();
    ms.push(performance.now() - t0);
  }
  const r = {
    p50Ms: round(percentile(ms, 50), 3),
    p99Ms: round(percentile(ms, 99), 3),
    meanMs: round(ms.reduce((a, b) => a + b, 0) / ms.length, 3),
  };
  log(`  ${what.padEnd(28)} p50 ${r.p50Ms.toFixed(3)} ms  p99 ${r.p99Ms.toFixed(3)} ms  (${calls} calls)`);
  return r;
}

/** The floor: Ping and GetDomain answered at once, in a process of their own like the launcher. */
async function serveFloor(socket: string, domainFile: string | undefined): Promise<void> {
  const domain = domainFile ? readFileSync(domainFile, 'utf8') : '';
  const server = createCmdServer({
    Ping: () => ({ success: true, message: '' }),
    GetDomain: () => ({ response: { success: true, message: '' }, domain }),
  });
  await listenUnix(server, socket);
  process.stdout.write('ready\n');
}

async function floor(rpc: 'Ping' | 'GetDomain', label: string, socket: string, domainFile: string | undefined, calls: number) {
  const args = [import.meta.filename, '--serve-floor', socket, ...(domainFile ? ['--domain-file', domainFile] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    for (const deadline = Date.now() + 10_000; !existsSync(socket); await sleep(10)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('floor server did not start');
    }
    const client = await cmdClient(socket);
    try {
      return await measure(`floor ${label}`, () => (rpc === 'Ping' ? client.Ping({}) : client.GetDomain({})), calls);
    } finally {
      client.close();
    }
  } finally {
    child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const calls = flags.calls ?? (flags.quick ? 200 : 2000);
  const scratch = scratchDir('kvts-bench-rpc');
  const t0 = Date.now();
  log(`rpc-latency: ${calls} calls each, a real virt-launcher vs a do-nothing grpc-js Cmd server`);

  const pod = await startLauncherPod();
  let launcher: { ping: Latency; getDomainEmpty: Latency; getDomain: Latency };
  let domainBytes = 0;
  const domainFile = path.join(scratch, 'domain.json');
  try {
    const client: CmdClient = pod.client;
    const ping = await measure('launcher Ping', () => client.Ping({}), calls);
    const getDomainEmpty = await measure('launcher GetDomain (none)', () => client.GetDomain({}), calls);
    // A domain that exists but does not compete for the CPU: synced, running, then paused.
    const sync = await pod.sync();
    if (!sync.success) throw new Error(`SyncVirtualMachine failed: ${sync.message}`);
    await pod.recorder.waitFor((e) => e.domain.Status.Status === 'Running', 60_000);
    const pause = await client.PauseVirtualMachine({ vmi: { vmiJson: Buffer.from(JSON.stringify(pod.vmi)) } });
    if (!pause.success) throw new Error(`PauseVirtualMachine failed: ${pause.message}`);
    await pod.recorder.waitFor((e) => e.domain.Status.Status === 'Paused', 30_000);
    const { domain } = await client.GetDomain({});
    domainBytes = Buffer.byteLength(domain);
    writeFileSync(domainFile, domain);
    const getDomain = await measure('launcher GetDomain (paused)', () => client.GetDomain({}), calls);
    launcher = { ping, getDomainEmpty, getDomain };
  } finally {
    await pod.destroy();
  }

  const floorPing = await floor('Ping', 'Ping', path.join(scratch, 'p.sock'), undefined, calls);
  const floorEmpty = await floor('GetDomain', 'GetDomain (none)', path.join(scratch, 'e.sock'), undefined, calls);
  const floorDomain = await floor('GetDomain', `GetDomain (${domainBytes} B)`, path.join(scratch, 'd.sock'), domainFile, calls);

  const figures = {
    bench: 'rpc-latency',
    quick: flags.quick,
    calls,
    domainJsonBytes: domainBytes,
    launcher,
    floor: { ping: floorPing, getDomainEmpty: floorEmpty, getDomain: floorDomain },
    p50Ratio: {
      ping: round(launcher.ping.p50Ms / floorPing.p50Ms, 2),
      getDomainEmpty: round(launcher.getDomainEmpty.p50Ms / floorEmpty.p50Ms, 2),
      getDomain: round(launcher.getDomain.p50Ms / floorDomain.p50Ms, 2),
    },
    elapsedS: round((Date.now() - t0) / 1000, 1),
    machine: machine(),
  };
  emit(
    figures,
    `rpc-latency: p50 launcher/floor — Ping ${figures.p50Ratio.ping}x, GetDomain (none) ${figures.p50Ratio.getDomainEmpty}x, ` +
      `GetDomain (${domainBytes} B) ${figures.p50Ratio.getDomain}x`,
  );
}

if (flags['serve-floor'] !== undefined) {
  await serveFloor(flags['serve-floor'], flags['domain-file']);
} else {
  await main();
  process.exit(0);
}
