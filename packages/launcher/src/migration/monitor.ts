// The source's migration monitor (live-migration-source.go, migrationMonitor): every 400 ms it reads
// the migration job and decides, as KubeVirt's legacy convergence does, whether to help the migration
// finish (post-copy or pausing the guest), to abort it (stuck, or over its time), or to wait.
import type { Logger } from 'pino';
import { DomainJobType, type Connection, type Domain as VirDomain } from '@kubevirt-ts/libvirt';
import type { MigrationOptions } from '@kubevirt-ts/shared';

/** monitorSleepPeriodMS, and the log of the job's figures every monitorLogInterval rounds. */
export const MONITOR_PERIOD_MS = 400;
const LOG_EVERY = 10;
/** QEMUMaxMigrationDowntimeMS and QEMUDefaultTargetDowntimeMS (pkg/util/migrations). */
export const QEMU_MAX_DOWNTIME_MS = 2_000_000;
export const QEMU_DEFAULT_DOWNTIME_MS = 300;

export type ConvergenceAction = 'none' | 'postcopy' | 'pause' | 'abort-stuck' | 'abort-timeout';

export interface ConvergenceState {
  elapsedSeconds: number;
  /** Seconds since the data left to send last went down. */
  stuckSeconds: number;
  mode: string;
  abortInProgress: boolean;
  /** Seconds the whole migration may take (0: no limit). */
  acceptableCompletionTime: number;
}

/** handleLegacyConvergence: what the monitor does this round. */
export function legacyConvergence(s: ConvergenceState, o: MigrationOptions): ConvergenceAction {
  if (s.mode === 'PostCopy') return 'none'; // the target runs the guest: aborting would lose it
  const timedOut = s.acceptableCompletionTime !== 0 && s.elapsedSeconds > s.acceptableCompletionTime;
  if (o.AllowWorkloadDisruption && timedOut && s.mode !== 'Paused') return o.AllowPostCopy ? 'postcopy' : 'pause';
  if (o.ProgressTimeout !== 0 && s.stuckSeconds > o.ProgressTimeout) return s.abortInProgress ? 'none' : 'abort-stuck';
  if (timedOut) return s.abortInProgress ? 'none' : 'abort-timeout';
  return 'none';
}

export interface DowntimeTuning {
  maxDowntimeMs: number;
  initialMs: number;
  steps: number;
  startAfterIteration: number;
  cooldownSeconds: number;
}

/** newDowntimeTuningConfig: KubeVirt's defaults (150 ms, 7 steps, after iteration 3, 10 s apart). */
export function downtimeTuning(o: MigrationOptions): DowntimeTuning | undefined {
  const dt = o.DowntimeTuning;
  if (!dt) return undefined;
  const cfg: DowntimeTuning = { maxDowntimeMs: o.MaxDowntimeMs, initialMs: 150, steps: 7, startAfterIteration: 3, cooldownSeconds: 10 };
  if (dt.initialMs !== undefined && dt.initialMs >= 0) cfg.initialMs = dt.initialMs;
  if (dt.steps !== undefined) cfg.steps = Math.max(dt.steps, 1);
  if (dt.startAfterIteration !== undefined && dt.startAfterIteration >= 0) cfg.startAfterIteration = dt.startAfterIteration;
  if (dt.cooldownSeconds !== undefined) cfg.cooldownSeconds = Math.max(dt.cooldownSeconds, 1);
  cfg.initialMs = Math.min(cfg.initialMs, cfg.maxDowntimeMs);
  return cfg;
}

/** tuneDowntime's next max downtime, undefined to leave it; `current` 0 means not set yet. */
export function nextDowntime(
  cfg: DowntimeTuning,
  current: number,
  iteration: number | undefined,
  sinceTunedMs: number,
): number | undefined {
  if (current === 0) return cfg.initialMs;
  if (iteration === undefined || iteration < cfg.startAfterIteration) return undefined;
  if (sinceTunedMs < cfg.cooldownSeconds * 1000) return undefined;
  const step = Math.max(Math.floor((cfg.maxDowntimeMs - cfg.initialMs) / cfg.steps), 1);
  const next = Math.min(current + step, cfg.maxDowntimeMs);
  return next <= current ? undefined : next;
}

export type MonitorConnection = Pick<
  Connection,
  'domainGetJobStats' | 'domainMigrateStartPostCopy' | 'domainMigrateSetMaxDowntime' | 'domainSuspend'
>;

const num = (v: unknown): number | undefined => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : undefined);

/** stats.DomainJobInfo: what GetDomainStats reports of an outgoing migration (virt-handler's migration metrics). */
export interface DomainJobInfo {
  DataTotalSet: boolean;
  DataTotal: number;
  DataProcessedSet: boolean;
  DataProcessed: number;
  MemoryBpsSet: boolean;
  MemoryBps: number;
  DataRemainingSet: boolean;
  DataRemaining: number;
  MemDirtyRateSet: boolean;
  MemDirtyRate: number;
}

/** Convert_libvirt_DomainJobInfo_To_stats_DomainJobInfo, from virDomainGetJobStats' typed parameters. */
export function domainJobInfo(params: Record<string, unknown>): DomainJobInfo {
  const field = (name: string): [boolean, number] => {
    const v = num(params[name]);
    return v === undefined ? [false, 0] : [true, v];
  };
  const [DataTotalSet, DataTotal] = field('data_total');
  const [DataProcessedSet, DataProcessed] = field('data_processed');
  const [MemoryBpsSet, MemoryBps] = field('memory_bps');
  const [DataRemainingSet, DataRemaining] = field('data_remaining');
  const [MemDirtyRateSet, MemDirtyRate] = field('memory_dirty_rate');
  return {
    DataTotalSet,
    DataTotal,
    DataProcessedSet,
    DataProcessed,
    MemoryBpsSet,
    MemoryBps,
    DataRemainingSet,
    DataRemaining,
    MemDirtyRateSet,
    MemDirtyRate,
  };
}

export interface MigrationMonitorHooks {
  /** Each round's job stats of the running migration (the launcher's domainInfoStats). */
  jobInfo?(info: DomainJobInfo): void;
  mode(): string;
  abortInProgress(): boolean;
  setMode(mode: 'PostCopy' | 'Paused'): void;
  cancel(): void;
}

/** The monitor of one outgoing migration; stop() once MigrateToURI3 returned. */
export class MigrationMonitor {
  readonly #start = Date.now();
  #lastProgress = this.#start;
  #watermark = 0;
  #acceptable: number;
  readonly #tuning: DowntimeTuning | undefined;
  #downtime = 0;
  #tunedAt = 0;
  #rounds = 0;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  readonly conn: MonitorConnection;
  readonly dom: VirDomain;
  readonly options: MigrationOptions;
  readonly hooks: MigrationMonitorHooks;
  readonly log: Logger;

  constructor(
    conn: MonitorConnection,
    dom: VirDomain,
    options: MigrationOptions,
    dataSizeGB: number,
    hooks: MigrationMonitorHooks,
    log: Logger,
  ) {
    this.conn = conn;
    this.dom = dom;
    this.options = options;
    this.hooks = hooks;
    this.log = log;
    this.#acceptable = options.CompletionTimeoutPerGiB * dataSizeGB;
    this.#tuning = downtimeTuning(options);
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#busy) return;
      this.#busy = true;
      this.#round()
        .catch((err: unknown) => this.log.error({ reason: String(err) }, 'migration monitor round failed'))
        .finally(() => {
          this.#busy = false;
        });
    }, MONITOR_PERIOD_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #round(): Promise<void> {
    const now = Date.now();
    let params: Record<string, unknown> | undefined;
    try {
      const stats = await this.conn.domainGetJobStats(this.dom, 0);
      if (stats.typeCode === DomainJobType.UNBOUNDED) params = stats.params;
    } catch (err) {
      this.log.info({ reason: String(err) }, 'failed to get domain job info');
    }
    if (params) {
      this.hooks.jobInfo?.(domainJobInfo(params));
      const remaining = num(params.data_remaining) ?? this.#watermark;
      if (this.#watermark === 0 || remaining < this.#watermark) this.#lastProgress = now;
      this.#watermark = remaining;
      if (++this.#rounds % LOG_EVERY === 1) this.#logInfo(params);
    }
    await this.#tune(params, now);
    const action = legacyConvergence(
      {
        elapsedSeconds: Math.floor((now - this.#start) / 1000),
        stuckSeconds: Math.floor((now - this.#lastProgress) / 1000),
        mode: this.hooks.mode(),
        abortInProgress: this.hooks.abortInProgress(),
        acceptableCompletionTime: this.#acceptable,
      },
      this.options,
    );
    await this.#act(action, now);
  }

  async #tune(params: Record<string, unknown> | undefined, now: number): Promise<void> {
    if (!this.#tuning) return;
    if (this.#downtime !== 0 && !params) return;
    const next = nextDowntime(this.#tuning, this.#downtime, num(params?.memory_iteration), now - this.#tunedAt);
    if (next === undefined) return;
    try {
      await this.conn.domainMigrateSetMaxDowntime(this.dom, next, 0);
    } catch (err) {
      this.log.warn({ reason: String(err) }, `downtime tuning: failed to set max_downtime to ${next}ms`);
      return;
    }
    this.log.info(
      `downtime tuning: max_downtime ${this.#downtime || QEMU_DEFAULT_DOWNTIME_MS}ms -> ${next}ms (ceiling=${this.#tuning.maxDowntimeMs}ms)`,
    );
    this.#downtime = next;
    this.#tunedAt = now;
  }

  async #act(action: ConvergenceAction, now: number): Promise<void> {
    switch (action) {
      case 'none':
        return;
      case 'postcopy':
        this.log.info('Starting post copy mode for migration');
        try {
          await this.conn.domainMigrateStartPostCopy(this.dom, 0);
        } catch (err) {
          this.log.error({ reason: String(err) }, 'failed to start post migration');
          return;
        }
        this.hooks.setMode('PostCopy');
        return;
      case 'pause':
        this.log.info('Pausing the guest to allow migration to complete');
        try {
          await this.conn.domainSuspend(this.dom);
        } catch (err) {
          this.log.error({ reason: String(err) }, 'Signalling suspension failed.');
          return;
        }
        // more time, so the paused guest is not aborted at once
        this.#acceptable *= 2;
        this.hooks.setMode('Paused');
        return;
      case 'abort-stuck':
        this.log.warn(`Aborting migration: stuck for ${Math.floor((now - this.#lastProgress) / 1000)} seconds`);
        this.hooks.cancel();
        return;
      case 'abort-timeout':
        this.log.warn(`Aborting migration: not completed after ${this.#acceptable} seconds`);
        this.hooks.cancel();
        return;
    }
  }

  #logInfo(p: Record<string, unknown>): void {
    const MiB = (k: string) => Math.floor((num(p[k]) ?? 0) / 1048576);
    this.log.info(
      `Migration info: TimeElapsed:${num(p.time_elapsed) ?? 0}ms DataProcessed:${MiB('data_processed')}MiB ` +
        `DataRemaining:${MiB('data_remaining')}MiB DataTotal:${MiB('data_total')}MiB ` +
        `MemoryBandwidth:${Math.floor(((num(p.memory_bps) ?? 0) * 8) / 1_000_000)}Mbps Iteration:${num(p.memory_iteration) ?? 0}`,
    );
  }
}
