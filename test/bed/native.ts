// The images' native programs (packages/{launcher,handler}/native), built by scripts/build-native into
// its cache (by the sources' hash, so a changed source is rebuilt here too), and a way to run one as
// PID 1 of a fresh PID namespace, as the container runtime runs a container's first process.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { poll } from './poll.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

export type NativeProgram = 'virt-launcher-monitor' | 'container-disk' | 'virt-tail' | 'cgroup-device-filter';

let builtDir: string | undefined;

/** Path of a built native program (builds it first when its sources changed). */
export function nativeProgram(name: NativeProgram): string {
  if (builtDir === undefined) {
    try {
      builtDir = execFileSync('bash', [path.join(REPO, 'scripts/build-native')], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .at(-1);
    } catch (err) {
      throw new Error(`scripts/build-native failed (gcc and libc6-dev come with scripts/setup): ${String(err)}`);
    }
  }
  return path.join(builtDir ?? '', name);
}

export interface Pid1Process {
  /** unshare, the parent outside the namespace. */
  readonly unshare: ChildProcess;
  /** Host PID of the namespace's PID 1 (the program); 0 if it had exited before it was seen. */
  readonly pid: number;
  /** Everything it wrote to stderr and stdout so far. */
  output(): string;
  /** Resolves with the program's exit code (unshare passes it on; 128+n when killed by signal n). */
  readonly exited: Promise<number>;
  /** Host PIDs of the namespace's processes, with their PID inside it and state letter. */
  processes(): { pid: number; nsPid: number; state: string; cmdline: string }[];
  kill(): Promise<void>;
}

/** Runs `program` as PID 1 of a new PID namespace with its own /proc (`unshare -p -f --mount-proc`); unshare's death kills it. */
export async function startAsPid1(
  program: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  opts: { newNetwork?: boolean } = {},
): Promise<Pid1Process> {
  // a new network namespace's loopback starts down (`ip link set lo up` brings it up)
  const net = opts.newNetwork ? ['--net'] : [];
  const unshare = spawn('unshare', ['--pid', '--fork', '--mount-proc', ...net, '--kill-child', '--', program, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  unshare.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  unshare.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(unshare, 'close').then(
    ([code, signal]) => (code as number | null) ?? 128 + constants.signals[signal as NodeJS.Signals],
  );
  const unsharePid = unshare.pid;
  if (unsharePid === undefined) throw new Error('unshare did not start');
  const pid = await poll(
    `${path.basename(program)} started as PID 1`,
    async () => {
      if (unshare.exitCode !== null || unshare.signalCode !== null) return 0; // came and went already
      const children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim();
      const child = Number(children.split(' ')[0]);
      if (!child) return undefined;
      // unshare forks, then the child execs the program: wait for the exec
      return readlinkSync(`/proc/${child}/exe`) === program ? child : undefined;
    },
    10_000,
    () => out,
  );
  const pidNs = pid === 0 ? '' : readlinkSync(`/proc/${pid}/ns/pid`);
  const processes = () =>
    readdirSync('/proc')
      .filter(() => pidNs !== '')
      .filter((e) => /^\d+$/.test(e))
      .flatMap((e) => {
        try {
          if (readlinkSync(`/proc/${e}/ns/pid`) !== pidNs) return [];
          const status = readFileSync(`/proc/${e}/status`, 'utf8');
          const nsPids = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/) ?? [];
          const state = /^State:\s+(\S)/m.exec(status)?.[1] ?? '?';
          const cmdline = readFileSync(`/proc/${e}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
          return [{ pid: Number(e), nsPid: Number(nsPids.at(-1)), state, cmdline }];
        } catch {
          return []; // gone meanwhile
        }
      });
  return {
    unshare,
    pid,
    output: () => out,
    exited,
    processes,
    async kill() {
      // SIGKILL to PID 1 ends the whole namespace
      if (unshare.exitCode === null && unshare.signalCode === null) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await exited;
      }
    },
  };
}

/** VmRSS of a process, in KiB. */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** The JSON log lines in a program's output (KubeVirt's form), in order. */
export function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
