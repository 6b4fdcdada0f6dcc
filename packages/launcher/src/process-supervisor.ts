// Keeps a daemon (libvirtd, virtlogd) running for as long as the launcher runs: restarts it with
// backoff when it exits, forwards its stderr into our structured log, stops it on our exit — what
// KubeVirt's StartLibvirt/StartVirtlog goroutines do.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';

export interface SupervisorOptions {
  name: string;
  command: string;
  args?: readonly string[];
  logger: Logger;
  /** First restart delay; doubles up to maxBackoffMs and resets after a run of a minute. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export class ProcessSupervisor {
  readonly #opts: Required<Omit<SupervisorOptions, 'args'>> & { args: readonly string[] };
  #child: ChildProcess | undefined;
  #stopping = false;
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #onStart: Array<(pid: number) => void> = [];

  constructor(opts: SupervisorOptions) {
    this.#opts = { backoffMs: 500, maxBackoffMs: 10_000, args: [], ...opts };
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /** Called with the new PID after every (re)start. */
  onStart(fn: (pid: number) => void): void {
    this.#onStart.push(fn);
  }

  start(): void {
    this.#stopping = false;
    this.#run(this.#opts.backoffMs);
  }

  #run(backoff: number): void {
    const { name, command, args, logger } = this.#opts;
    const startedAt = Date.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.once('spawn', () => {
      logger.info({ pid: child.pid }, `${name} started`);
      for (const fn of this.#onStart) fn(child.pid ?? 0);
    });
    if (child.stderr) {
      createInterface({ input: child.stderr }).on('line', (line) => logger.info({ subcomponent: name }, line));
    }
    child.once('error', (err) => logger.error({ reason: err.message }, `${name} could not be started`));
    child.once('close', (code, signal) => {
      if (this.#stopping) return;
      const next = Date.now() - startedAt > 60_000 ? this.#opts.backoffMs : Math.min(backoff * 2, this.#opts.maxBackoffMs);
      logger.error({ reason: `exit code ${code ?? 'none'}, signal ${signal ?? 'none'}` }, `${name} exited, restarting in ${backoff} ms`);
      this.#restarts++;
      this.#restartTimer = setTimeout(() => this.#run(next), backoff);
    });
  }

  /** Stops the daemon: SIGTERM, then SIGKILL after graceMs. */
  async stop(graceMs = 5_000): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const closed = once(child, 'close');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await closed;
    clearTimeout(timer);
  }
}
