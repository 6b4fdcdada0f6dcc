// A control-plane process started by this module: its output goes to a log file in the control plane's
// directory, and it dies with the process that started it (even on SIGKILL), so no etcd or
// kube-apiserver outlives a crashed test run.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Set once the process has exited. */
  readonly exited: boolean;
  /** How it exited ("code 1", "signal SIGKILL"), once it has. */
  readonly exitStatus: string | undefined;
  /** The last lines of its log, for failure messages. */
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface DaemonOptions {
  /** The daemon's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export function startDaemon(name: string, bin: string, args: readonly string[], logPath: string, opts: DaemonOptions = {}): Daemon {
  const log = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    // setpriv --pdeathsig: the kernel kills the daemon when its parent goes, whatever the parent's end.
    // detached: a terminal's Ctrl-C reaches only the test or demo, which stops its daemons in order.
    child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', bin, ...args], {
      stdio: ['ignore', log, log],
      detached: true,
      env: opts.env ?? process.env,
    });
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${bin}`);
  let exited = false;
  let exitStatus: string | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      exitStatus = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    }),
  );
  child.on('error', () => undefined); // a failed kill() of an already reaped child
  const logTail = (lines = 30) => {
    try {
      return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  return {
    name,
    pid,
    logPath,
    get exited() {
      return exited;
    },
    get exitStatus() {
      return exitStatus;
    },
    logTail,
    async stop(graceMs = 10_000) {
      if (exited) return;
      child.kill('SIGTERM');
      // (an unref'd timer: once the daemon has exited, nothing may keep this process waiting)
      const ended = await Promise.race([exit.then(() => true), sleep(graceMs, false, { ref: false })]);
      if (!ended) child.kill('SIGKILL');
      await exit;
    },
  };
}

/** Polls `ready` until it resolves true; fails early with the daemon's log if it exits meanwhile. */
export async function waitUntilReady(daemon: Daemon, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (daemon.exited) {
      throw new Error(`${daemon.name} exited during start-up (${daemon.exitStatus}):\n${fatalLines(daemon.logPath)}${daemon.logTail()}`);
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${daemon.name} not ready after ${timeoutMs} ms:\n${daemon.logTail()}`);
    await sleep(100);
  }
}

/** A TCP port free on loopback right now (the daemon binds it moments later). */
/** Ports freePort gave this process: the kernel may offer a closed one again at once. */
const handedOut = new Set<number>();

/** A loopback port nothing listens on, and one this process was not given before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    server.close();
    await once(server, 'close');
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/**
 * A log's fatal lines (Go's panic and fatal error, klog's F and E lines): a Go crash buries them under a
 * goroutine dump longer than any tail.
 */
export function fatalLines(logPath: string, max = 20): string {
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return '';
  }
  const found = text.split('\n').filter((l) => /^(panic:|fatal error:|[FE]\d{4} )/.test(l));
  return found.length === 0 ? '' : `fatal lines of ${logPath}:\n${found.slice(-max).join('\n')}\n--- log tail:\n`;
}
