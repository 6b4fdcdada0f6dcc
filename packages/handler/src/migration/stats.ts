// KubeVirt's migrationdomainstats: while a VMI of this node migrates, its launcher's job stats are read
// every 5 s (the last 10 readings kept); each /metrics scrape takes the readings and shows them as the
// kubevirt_vmi_migration_* series. A VMI's polling ends once its migration completed, or it is gone.
import { forObject, withReason, type Logger, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import type { MigrationJobInfo } from '../metrics.ts';

export const MIGRATION_STATS_POLL_MS = 5_000;
export const MIGRATION_STATS_BUFFER = 10;

export interface MigrationStatsReading {
  vmi: VirtualMachineInstance;
  job: MigrationJobInfo;
  timestamp: number;
}

export interface MigrationStatsOptions {
  logger: Logger;
  /** The VMI as the informer has it now (undefined: gone). */
  currentVMI(namespace: string, name: string): VirtualMachineInstance | undefined;
  /** The launcher's MigrateDomainJobInfo (GetDomainStats); undefined while it has none. */
  scrape(vmi: VirtualMachineInstance): Promise<MigrationJobInfo | undefined>;
  pollMs?: number;
}

/** One migrating VMI's readings (KubeVirt's queue). */
class MigrationStatsQueue {
  readonly #o: MigrationStatsOptions;
  readonly #vmi: VirtualMachineInstance;
  #readings: MigrationStatsReading[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(o: MigrationStatsOptions, vmi: VirtualMachineInstance) {
    this.#o = o;
    this.#vmi = vmi;
  }

  start(): void {
    void this.#collect();
    this.#timer = setInterval(() => void this.#collect(), this.#o.pollMs ?? MIGRATION_STATS_POLL_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The readings since the last call, and whether the migration is over. */
  take(): { readings: MigrationStatsReading[]; finished: boolean } {
    const readings = this.#readings;
    this.#readings = [];
    return { readings, finished: this.finished() };
  }

  finished(): boolean {
    const vmi = this.#o.currentVMI(this.#vmi.metadata.namespace, this.#vmi.metadata.name);
    const state = vmi?.status?.migrationState;
    return !state || state.completed === true;
  }

  async #collect(): Promise<void> {
    if (this.finished()) {
      this.stop();
      return;
    }
    try {
      const job = await this.#o.scrape(this.#vmi);
      if (!job) return;
      this.#readings.push({ vmi: this.#vmi, job, timestamp: Date.now() });
      if (this.#readings.length > MIGRATION_STATS_BUFFER) this.#readings.shift();
    } catch (err) {
      withReason(forObject(this.#o.logger, this.#vmi), err).error('failed to scrape domain stats for a migrating VMI');
    }
  }
}

export class MigrationStatsHandler {
  readonly #o: MigrationStatsOptions;
  readonly #queues = new Map<string, MigrationStatsQueue>();

  constructor(o: MigrationStatsOptions) {
    this.#o = o;
  }

  /** The informer's add and update: a VMI with a migration not completed yet is polled. */
  handle(vmi: VirtualMachineInstance): void {
    const state = vmi.status?.migrationState;
    if (!state || state.completed === true) return;
    const key = `${vmi.metadata.namespace}/${vmi.metadata.name}`;
    if (this.#queues.has(key)) return;
    const queue = new MigrationStatsQueue(this.#o, vmi);
    queue.start();
    this.#queues.set(key, queue);
  }

  /** Every reading since the last scrape; the queues of finished migrations go. */
  collect(): MigrationStatsReading[] {
    const all: MigrationStatsReading[] = [];
    for (const [key, queue] of this.#queues) {
      const { readings, finished } = queue.take();
      all.push(...readings);
      if (finished) {
        queue.stop();
        this.#queues.delete(key);
        this.#o.logger.debug(`deleting queue for VMI ${key}`);
      }
    }
    return all;
  }

  stop(): void {
    for (const queue of this.#queues.values()) queue.stop();
    this.#queues.clear();
  }
}
