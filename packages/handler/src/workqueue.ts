// client-go's rate-limited work queue, as much as the handler uses: keys (not events), a key is never
// processed by two workers at once, a key added while being processed is processed again afterwards,
// failures are retried with per-key exponential backoff, AddAfter for timed requeues.
import { withReason, type Logger, type VirtualMachineInstance } from '@kubevirt-ts/shared';

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #base: number;
  readonly #max: number;
  #waiters: Array<() => void> = [];
  #shutdown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.#base = opts.baseDelayMs ?? 5;
    this.#max = opts.maxDelayMs ?? 60_000;
  }

  get length(): number {
    return this.#queue.length;
  }

  add(key: string): void {
    if (this.#shutdown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#waiters.shift()?.();
  }

  /** Adds the key after `ms`, unless an earlier timed add of the key is pending. */
  addAfter(key: string, ms: number): void {
    if (this.#shutdown || this.#timers.has(key)) return;
    this.#timers.set(
      key,
      setTimeout(() => {
        this.#timers.delete(key);
        this.add(key);
      }, ms),
    );
  }

  /** Requeue after a failure: 5 ms, 10 ms, 20 ms … up to the cap. */
  addRateLimited(key: string): void {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.#max, this.#base * 2 ** n));
  }

  /** The key succeeded: its backoff starts over. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** The next key to process, or undefined once shut down. */
  async get(): Promise<string | undefined> {
    while (this.#queue.length === 0) {
      if (this.#shutdown) return undefined;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    const key = this.#queue.shift()!;
    this.#dirty.delete(key);
    this.#processing.add(key);
    return key;
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      this.#queue.push(key);
      this.#waiters.shift()?.();
    }
  }

  shutdown(): void {
    this.#shutdown = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** Two requeue delays as one: the sooner, or whichever there is. */
export const soonerRequeue = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

export interface WorkerOptions {
  /** One reconcile of a key; resolves to a delay when the key must be looked at again. */
  execute(key: string): Promise<number | undefined>;
  /** A failed reconcile: the key is retried with backoff. */
  onError(key: string, err: unknown): void;
  /** After every reconcile, failed or not. */
  onDone?(seconds: number): void;
}

/** A controller's worker (processNextWorkItem): until the queue shuts down. */
export async function runWorker(queue: WorkQueue, o: WorkerOptions): Promise<void> {
  for (;;) {
    const key = await queue.get();
    if (key === undefined) return;
    const started = performance.now();
    try {
      const requeueMs = await o.execute(key);
      queue.forget(key);
      if (requeueMs !== undefined) queue.addAfter(key, requeueMs);
    } catch (err) {
      o.onError(key, err);
      queue.addRateLimited(key);
    } finally {
      queue.done(key);
      o.onDone?.((performance.now() - started) / 1000);
    }
  }
}

/** Where a controller's keys come from: its VMI informer's cache and the domain cache's changes. */
export interface ControllerSources {
  logger: Logger;
  workers: number;
  vmis: { list(): VirtualMachineInstance[] };
  domains: { on(event: 'update' | 'delete', listener: (key: string) => void): unknown };
}

/**
 * A controller's queue and workers: keys (`namespace/name`) from its VMI informer and the domain
 * cache, each run through `execute` by one of its workers, a failure retried with backoff.
 */
export abstract class KeyedController {
  readonly queue = new WorkQueue();
  readonly #sources: ControllerSources;
  #running: Promise<void>[] = [];

  constructor(sources: ControllerSources) {
    this.#sources = sources;
  }

  /** One reconcile of a key; resolves to a delay when the key must be looked at again. */
  abstract execute(key: string): Promise<number | undefined>;

  run(): void {
    const { domains, vmis, workers, logger } = this.#sources;
    domains.on('update', (key) => this.queue.add(key));
    domains.on('delete', (key) => this.queue.add(key));
    for (const vmi of vmis.list()) this.enqueueVMI(vmi);
    for (let i = 0; i < workers; i++) {
      this.#running.push(
        runWorker(this.queue, {
          execute: (key) => this.execute(key),
          onError: (key, err) => withReason(logger, err).info(`re-enqueuing VirtualMachineInstance ${key}`),
        }),
      );
    }
  }

  /** For the informer's add, update and delete handlers. */
  enqueueVMI(vmi: VirtualMachineInstance): void {
    this.queue.add(`${vmi.metadata.namespace}/${vmi.metadata.name}`);
  }

  async stop(): Promise<void> {
    this.queue.shutdown();
    await Promise.all(this.#running);
  }
}
