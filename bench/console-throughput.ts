// Serial console throughput through virt-handler's console websocket (wss, virt-api's client
// certificate, subprotocol plain.kubevirt.io) against reading QEMU's serial socket in the launcher pod
// directly, while the guest floods its console. QEMU's chardev takes one client at a time, so the two
// alternate: a websocket window, then a direct window, for several rounds.
//   node bench/console-throughput.ts [--quick] [--rounds N] [--window SECONDS]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  pathInProcRoot,
  serialConsoleSocketPath,
  socketFilePathOnHost,
  StandardLauncherSocketFileName,
  VirtShareDir,
} from '@kubevirt-ts/shared';
import { Cleanups, startDemoStack, until, type DemoStack } from '../test/demo/demo.ts';
import { podsBaseDir } from '../test/bed/pod-sandbox.ts';
import { GUEST_PROMPT } from '../test/bed/guest.ts';
import { HANDLER_MAIN } from '../test/bed/handler.ts';
import { benchFlags, emit, log, machine, median, quickFlag, round, scratchDir } from './lib.ts';
import { cpuPercent, sampleProcess, WebSocket, type ProcessSample, type WebSocketClientOptions } from './handler-lib.ts';

const flags = benchFlags(
  z.object({
    quick: quickFlag,
    rounds: z.coerce.number().int().min(1).optional().describe('websocket + direct window pairs (default 4, 2 with --quick)'),
    window: z.coerce
      .number()
      .positive()
      .optional()
      .describe('seconds counted per window, after a 0.5 s settle (default 5, 1.5 with --quick)'),
  }),
  'bench/console-throughput.ts',
);

// 64 characters and the tty's CRLF: what each line of the flood puts on the wire
const FLOOD_LINE = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-+';
const SETTLE_MS = 500;

/**
 * A process in the launcher pod, found as virt-handler finds it: its root shows the pod's launcher
 * socket (the same inode) at the launcher's path.
 */
function launcherPid(podUID: string): number {
  const want = statSync(socketFilePathOnHost(podUID, podsBaseDir()));
  for (const pid of pids()) {
    try {
      const s = statSync(pathInProcRoot(pid, `${VirtShareDir}/sockets/${StandardLauncherSocketFileName}`));
      if (s.dev === want.dev && s.ino === want.ino) return pid;
    } catch {
      // not in a launcher pod, or gone
    }
  }
  throw new Error(`no process in launcher pod ${podUID}`);
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

/** The first process whose command line holds every one of `parts`. */
function findProcess(...parts: string[]): number {
  for (const pid of pids()) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (parts.every((p) => cmdline.includes(p))) return pid;
    } catch {
      // gone
    }
  }
  throw new Error(`no process running ${parts.join(' … ')}`);
}

/** One reader of the serial console: counts bytes and reads (websocket messages, socket reads). */
interface Reader {
  bytes(): number;
  reads(): number;
  close(): Promise<void>;
}

async function websocketReader(stack: DemoStack): Promise<Reader & { send(text: string): void; output(): string }> {
  const url = `${stack.handlerURL.replace(/^https:/, 'wss:')}/v1/namespaces/${stack.namespace}/virtualmachineinstances/${stack.name}/console`;
  // ws types checkServerIdentity as returning boolean; tls takes undefined as "identity fine"
  const options = { ...stack.clientTLS, checkServerIdentity: () => undefined } as unknown as WebSocketClientOptions;
  const ws = new WebSocket(url, 'plain.kubevirt.io', options);
  let bytes = 0;
  let reads = 0;
  let tail = '';
  ws.on('message', (d: Buffer) => {
    bytes += d.length;
    reads++;
    tail = (tail + d.toString('latin1')).slice(-4096);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    bytes: () => bytes,
    reads: () => reads,
    output: () => tail,
    send: (text) => ws.send(Buffer.from(text)),
    async close() {
      const closed = once(ws, 'close');
      ws.close();
      await closed;
    },
  };
}

async function directReader(socketPath: string): Promise<Reader> {
  const socket = net.connect(socketPath);
  let bytes = 0;
  let reads = 0;
  socket.on('data', (d: Buffer) => {
    bytes += d.length;
    reads++;
  });
  await once(socket, 'connect');
  return {
    bytes: () => bytes,
    reads: () => reads,
    async close() {
      const closed = once(socket, 'close');
      socket.destroy();
      await closed;
    },
  };
}

interface Window {
  bytesPerS: number;
  /** bytes per websocket message or socket read */
  bytesPerRead: number;
  /** CPU of virt-handler, QEMU and this process over the window, % of one core */
  cpuPercent: { handler: number; qemu: number; bench: number };
}

/** Bytes/s over `seconds` after the settle time; the reader is closed after. */
async function measureWindow(open: () => Promise<Reader>, seconds: number, pids: { handler: number; qemu: number }): Promise<Window> {
  const reader = await open();
  try {
    await sleep(SETTLE_MS);
    const b0 = reader.bytes();
    const r0 = reader.reads();
    const cpu0 = { handler: sampleProcess(pids.handler), qemu: sampleProcess(pids.qemu), bench: sampleProcess(process.pid) };
    await sleep(seconds * 1000);
    const cpu1 = { handler: sampleProcess(pids.handler), qemu: sampleProcess(pids.qemu), bench: sampleProcess(process.pid) };
    const bytes = reader.bytes() - b0;
    const pct = (k: keyof typeof cpu0) => round(cpuPercent(cpu0[k] as ProcessSample, cpu1[k] as ProcessSample), 1);
    return {
      bytesPerS: bytes / ((cpu1.bench.at - cpu0.bench.at) / 1000),
      bytesPerRead: round(bytes / Math.max(1, reader.reads() - r0), 1),
      cpuPercent: { handler: pct('handler'), qemu: pct('qemu'), bench: pct('bench') },
    };
  } finally {
    await reader.close();
  }
}

/** The medians of the rounds' windows. */
function medians(windows: readonly Window[]) {
  const m = (f: (w: Window) => number) => round(median(windows.map(f)), 1);
  return {
    bytesPerS: Math.round(median(windows.map((w) => w.bytesPerS))),
    bytesPerRead: m((w) => w.bytesPerRead),
    cpuPercent: { handler: m((w) => w.cpuPercent.handler), qemu: m((w) => w.cpuPercent.qemu), bench: m((w) => w.cpuPercent.bench) },
  };
}

async function main(): Promise<void> {
  const rounds = flags.rounds ?? (flags.quick ? 2 : 4);
  const windowS = flags.window ?? (flags.quick ? 1.5 : 5);
  const t0 = Date.now();
  log(
    `console-throughput: ${rounds} rounds of ${windowS} s through virt-handler's websocket, then ${windowS} s straight from QEMU's socket`,
  );

  const cleanups = new Cleanups();
  process.once('SIGINT', () => void cleanups.run().then(() => process.exit(130)));
  try {
    const stack = await startDemoStack(
      {
        name: 'consolebench',
        dir: scratchDir('kvts-bench-console'),
        stage: (text) => log(`  [${((Date.now() - t0) / 1000).toFixed(1)} s] ${text}`),
      },
      cleanups,
    );
    // QEMU's serial socket in the launcher pod, reached through /proc/<pid>/root as the handler does
    const vmi = (await stack.getVMI()) as { metadata: { uid: string }; status: { activePods: Record<string, string> } };
    const [podUID] = Object.keys(vmi.status.activePods);
    if (!podUID) throw new Error('the VMI names no launcher pod');
    const serialSocket = pathInProcRoot(launcherPid(podUID), serialConsoleSocketPath(vmi.metadata.uid));

    // the flood, typed on the console through the handler
    const setup = await websocketReader(stack);
    setup.send('\n');
    await until('shell prompt', async () => GUEST_PROMPT.test(setup.output()), 30_000);
    setup.send(`yes ${FLOOD_LINE}\n`);
    await until('the flood', async () => setup.output().includes(`${FLOOD_LINE}\r\n${FLOOD_LINE}`), 30_000);
    await setup.close();
    log(`  guest flooding ttyS0 with \`yes\` (${FLOOD_LINE.length + 2} bytes a line)`);

    const procs = {
      handler: findProcess(HANDLER_MAIN, stack.pkiDir.replace(/\/pki$/, '')),
      qemu: findProcess('qemu-system', vmi.metadata.uid),
    };
    const websocket: Window[] = [];
    const direct: Window[] = [];
    for (let r = 0; r < rounds; r++) {
      websocket.push(await measureWindow(() => websocketReader(stack), windowS, procs));
      direct.push(await measureWindow(() => directReader(serialSocket), windowS, procs));
      const [w, d] = [websocket[r] as Window, direct[r] as Window];
      log(
        `  round ${r + 1}: websocket ${(w.bytesPerS / 1024).toFixed(1)} KiB/s (${w.bytesPerRead} B a message; CPU handler ${w.cpuPercent.handler}%, QEMU ${w.cpuPercent.qemu}%), ` +
          `direct ${(d.bytesPerS / 1024).toFixed(1)} KiB/s (${d.bytesPerRead} B a read; QEMU ${d.cpuPercent.qemu}%)`,
      );
    }
    await cleanups.run();

    const ws = medians(websocket);
    const dir = medians(direct);
    const figures = {
      bench: 'console-throughput',
      quick: flags.quick,
      rounds,
      windowS,
      websocketBytesPerS: ws.bytesPerS,
      directBytesPerS: dir.bytesPerS,
      ratio: round(ws.bytesPerS / dir.bytesPerS, 3),
      ratioGoal: 0.9,
      websocket: ws,
      direct: dir,
      perRound: websocket.map((w, i) => ({ websocket: w, direct: direct[i] })),
      elapsedS: round((Date.now() - t0) / 1000, 1),
      machine: machine(),
    };
    emit(
      figures,
      `console-throughput: websocket ${(ws.bytesPerS / 1024).toFixed(1)} KiB/s vs direct ${(dir.bytesPerS / 1024).toFixed(1)} KiB/s (medians) = ${figures.ratio}x (goal ≥ 0.9x)`,
    );
  } catch (err) {
    await cleanups.run();
    throw err;
  }
}

await main();
process.exit(0);
