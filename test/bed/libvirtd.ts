// Starts virtlogd + libvirtd inside a pod sandbox, configured by the launcher's own SetupLibvirt, for
// tests that need a libvirtd without a launcher.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PodSandbox } from './pod-sandbox.ts';
import { LIBVIRT_ETC_DIR, LIBVIRT_RUNTIME_DIR, setupLibvirt } from '@kubevirt-ts/launcher';

export interface Libvirtd {
  /** Host-visible path of libvirtd's read-write socket. */
  readonly socketPath: string;
  /** PID of the running libvirtd (changes on restart). */
  readonly pid: number;
  /** stderr of libvirtd and virtlogd so far, for failure messages. */
  readonly log: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  /** Destroys and undefines what is left, then stops libvirtd and virtlogd. */
  stop(): Promise<void>;
}

export async function startLibvirtd(sandbox: PodSandbox, opts: { startTimeoutMs?: number } = {}): Promise<Libvirtd> {
  // written from outside the pod: the same files, at the paths the daemons find them inside it
  const config = setupLibvirt({ etcDir: sandbox.hostPath(LIBVIRT_ETC_DIR), runtimeDir: sandbox.hostPath(LIBVIRT_RUNTIME_DIR) });
  const inPod = (hostFile: string, dir: string) => path.posix.join(dir, path.basename(hostFile));

  const socketPath = sandbox.hostPath('/var/run/libvirt/libvirt-sock');
  let log = '';
  const capture = (name: string, child: ChildProcess) => {
    child.stderr?.on('data', (d: Buffer) => {
      log += `[${name}] ${d.toString()}`;
      if (log.length > 200_000) log = log.slice(-100_000);
    });
  };

  const virtlogd = sandbox.spawn('virtlogd', ['-f', inPod(config.virtlogdConf, LIBVIRT_ETC_DIR)], { stdio: ['ignore', 'ignore', 'pipe'] });
  capture('virtlogd', virtlogd);

  let libvirtd!: ChildProcess;
  const start = async () => {
    rmSync(socketPath, { force: true });
    // tini -s: a child subreaper, so qemu is reaped at once on destroy (as virt-launcher-monitor does).
    libvirtd = sandbox.spawn('tini', ['-s', '-w', '--', 'libvirtd', '-f', inPod(config.daemonConf, LIBVIRT_RUNTIME_DIR)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    capture('libvirtd', libvirtd);
    const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
    while (!(await canConnect(socketPath))) {
      if (!running(libvirtd)) throw new Error(`libvirtd exited (${libvirtd.exitCode}):\n${log}`);
      if (Date.now() >= deadline) throw new Error(`libvirtd socket ${socketPath} not ready:\n${log}`);
      await sleep(50);
    }
  };
  const libvirtdPid = (): number => {
    // tini's only child is libvirtd.
    const tiniPid = libvirtd.pid;
    if (tiniPid === undefined) throw new Error('libvirtd not started');
    const children = readChildren(tiniPid);
    const pid = children[0];
    if (pid === undefined) throw new Error('libvirtd is not running');
    return pid;
  };

  const killLibvirtd = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const tini = libvirtd;
    if (!running(tini)) return;
    const exited = once(tini, 'exit');
    process.kill(libvirtdPid(), signal);
    await exited;
  };

  try {
    await start();
  } catch (err) {
    // a daemon left running would keep the test's process alive, and the lane with it
    await killLibvirtd().catch(() => undefined);
    for (const child of [libvirtd, virtlogd]) {
      if (!child || !running(child)) continue;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    throw err;
  }

  return {
    socketPath,
    get pid() {
      return libvirtdPid();
    },
    log: () => log,
    kill: killLibvirtd,
    restart: async () => {
      await killLibvirtd('SIGKILL');
      await start();
    },
    async stop() {
      if (running(libvirtd)) {
        await virsh(sandbox, ['list', '--all', '--name'])
          .then(async (names) => {
            for (const name of names.split('\n').filter(Boolean)) {
              await virsh(sandbox, ['destroy', name]).catch(() => undefined);
              await virsh(sandbox, ['undefine', '--nvram', name]).catch(() => undefined);
            }
          })
          .catch(() => undefined);
        await killLibvirtd('SIGTERM');
      }
      if (running(virtlogd)) {
        const exited = once(virtlogd, 'exit');
        virtlogd.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** Runs virsh against the sandbox's libvirtd (a test-bed tool; daemons use @kubevirt-ts/libvirt). */
export async function virsh(sandbox: PodSandbox, args: readonly string[]): Promise<string> {
  const child = sandbox.spawn('virsh', ['-q', '-c', 'qemu:///system', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`virsh ${args.join(' ')} failed (${code}): ${err.trim()}`);
  return out.trim();
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function canConnect(socketPath: string): Promise<boolean> {
  if (!existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function readChildren(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
