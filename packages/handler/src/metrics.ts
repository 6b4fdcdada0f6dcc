// virt-handler's Prometheus metrics (pkg/monitoring/metrics/virt-handler): its own registry, the work
// queue and REST figures, and the per-VMI domain stats read from each launcher's GetDomainStats when
// /metrics is scraped, at most --max-metric-requests launchers at a time.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import * as z from 'zod/mini';
import type { CmdClient } from '@kubevirt-ts/proto';
import { forObject, withReason, type Logger, type VirtualMachineInstance } from '@kubevirt-ts/shared';

type VMILabels = 'node' | 'namespace' | 'name';

/** The work queue of virt-handler's VMI controller, as KubeVirt names it. */
export const VM_CONTROLLER_QUEUE = 'virt-handler-vm';

export interface HandlerMetrics {
  readonly registry: Registry;
  /** kubevirt_workqueue_work_duration_seconds: one execute(key) of a controller's queue */
  readonly reconcileDuration: Histogram<'name'>;
  /** kubevirt_workqueue_depth */
  readonly workqueueDepth: Gauge<'name'>;
  /** kubevirt_virt_handler_domain_notify_events_total: domain events from launchers, by watch event type */
  readonly notifyEvents: Counter<'event_type'>;
  /** kubevirt_virt_handler_rest_request_duration_seconds: the console server's answers */
  readonly restRequestDuration: Histogram<'method' | 'route' | 'code'>;
  readonly vcpuSeconds: Counter<VMILabels | 'id' | 'state'>;
  readonly cpuUsageSeconds: Counter<VMILabels>;
  readonly memoryResidentBytes: Gauge<VMILabels>;
  readonly memoryAvailableBytes: Gauge<VMILabels>;
  readonly memoryDomainBytes: Gauge<VMILabels>;
  readonly memoryUnusedBytes: Gauge<VMILabels>;
  readonly memoryActualBalloonBytes: Gauge<VMILabels>;
  readonly memoryUsableBytes: Gauge<VMILabels>;
  readonly memoryUsedBytes: Gauge<VMILabels>;
  /** ControllerMetrics of the VMI controller: one execute(key) took `seconds`. */
  observeReconcile(seconds: number): void;
  /** ControllerMetrics of the VMI controller: keys waiting in its queue. */
  setQueueDepth(depth: number): void;
  /** Sets the VMI's domain stats series from one GetDomainStats answer. */
  recordDomainStats(vmi: VirtualMachineInstance, stats: DomainStats): void;
  /** Drops every per-VMI series (before a scrape refills them, so gone VMIs disappear). */
  resetDomainStats(): void;
  /** Sets a migrating VMI's migration series (MigrationStatsCollector) from its launcher's job stats. */
  recordMigrationStats(vmi: VirtualMachineInstance, job: MigrationJobInfo): void;
  /** Drops every migration series (before a scrape refills them). */
  resetMigrationStats(): void;
}

export interface HandlerMetricsOptions {
  /** the `node` label of per-VMI series */
  nodeName?: string;
  registry?: Registry;
}

// --- the launcher's GetDomainStats JSON (virtwrap/stats.DomainStats; libvirt units: ns, KiB) --------

const statField = <S extends z.core.$ZodType>(schema: S) => z.optional(schema);
const num = () => statField(z.number());
const set = () => statField(z.boolean());

const domainStatsSchema = z.looseObject({
  Name: z.optional(z.string()),
  UUID: z.optional(z.string()),
  Cpu: z.nullish(z.looseObject({ TimeSet: set(), Time: num(), UserSet: set(), User: num(), SystemSet: set(), System: num() })),
  Memory: z.nullish(
    z.looseObject({
      UnusedSet: set(),
      Unused: num(),
      AvailableSet: set(),
      Available: num(),
      ActualBalloonSet: set(),
      ActualBalloon: num(),
      RSSSet: set(),
      RSS: num(),
      UsableSet: set(),
      Usable: num(),
      TotalSet: set(),
      Total: num(),
    }),
  ),
  Vcpu: z.nullish(z.array(z.looseObject({ StateSet: set(), State: num(), TimeSet: set(), Time: num() }))),
  // stats.DomainJobInfo: the outgoing migration's last job stats (migrationdomainstats)
  MigrateDomainJobInfo: z.nullish(
    z.looseObject({
      DataTotalSet: set(),
      DataTotal: num(),
      DataRemainingSet: set(),
      DataRemaining: num(),
      DataProcessedSet: set(),
      DataProcessed: num(),
      MemDirtyRateSet: set(),
      MemDirtyRate: num(),
      MemoryBpsSet: set(),
      MemoryBps: num(),
    }),
  ),
});
export type DomainStats = z.infer<typeof domainStatsSchema>;
export type MigrationJobInfo = NonNullable<DomainStats['MigrateDomainJobInfo']>;

/** The launcher's domainStats string; undefined when it has no domain (KubeVirt sends ""). */
export function parseDomainStats(json: string): DomainStats | undefined {
  if (json === '') return undefined;
  return domainStatsSchema.parse(JSON.parse(json));
}

const NS_PER_SECOND = 1e9;
const KIB = 1024;

// virVcpuState, as the vcpu metrics name it
const vcpuStates: Record<number, string> = { 0: 'offline', 1: 'running', 2: 'blocked' };

export function createHandlerMetrics(options: HandlerMetricsOptions = {}): HandlerMetrics {
  const registry = options.registry ?? new Registry();
  const node = options.nodeName ?? '';
  const registers = [registry];
  const vmiLabels = ['node', 'namespace', 'name'] as const;
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: vmiLabels, registers });

  const vcpuSeconds = new Counter({
    name: 'kubevirt_vmi_vcpu_seconds_total',
    help: 'Total amount of time spent in each state by each vcpu (cpu_time excluding hypervisor time). Where `id` is the vcpu identifier and `state` can be one of the following: [`OFFLINE`, `RUNNING`, `BLOCKED`].',
    labelNames: [...vmiLabels, 'id', 'state'],
    registers,
  });
  const cpuUsageSeconds = new Counter({
    name: 'kubevirt_vmi_cpu_usage_seconds_total',
    help: 'Total CPU time spent in all modes (sum of both vcpu and hypervisor usage).',
    labelNames: vmiLabels,
    registers,
  });
  const memoryResidentBytes = gauge('kubevirt_vmi_memory_resident_bytes', 'Resident set size of the process running the domain.');
  const memoryAvailableBytes = gauge(
    'kubevirt_vmi_memory_available_bytes',
    'Amount of usable memory as seen by the domain. This value may not be accurate if a balloon driver is in use or if the guest OS does not initialize all assigned pages',
  );
  const memoryDomainBytes = gauge('kubevirt_vmi_memory_domain_bytes', 'The amount of memory in bytes allocated to the domain.');
  const memoryUnusedBytes = gauge(
    'kubevirt_vmi_memory_unused_bytes',
    'The amount of memory left completely unused by the system. Memory that is available but used for reclaimable caches should NOT be reported as free.',
  );
  const memoryActualBalloonBytes = gauge('kubevirt_vmi_memory_actual_balloon_bytes', 'Current balloon size in bytes.');
  const memoryUsableBytes = gauge(
    'kubevirt_vmi_memory_usable_bytes',
    "The amount of memory which can be reclaimed by balloon without pushing the guest system to swap, corresponds to 'Available' in /proc/meminfo",
  );
  const memoryUsedBytes = gauge('kubevirt_vmi_memory_used_bytes', 'Amount of `used` memory as seen by the domain.');
  const perVMI = [
    vcpuSeconds,
    cpuUsageSeconds,
    memoryResidentBytes,
    memoryAvailableBytes,
    memoryDomainBytes,
    memoryUnusedBytes,
    memoryActualBalloonBytes,
    memoryUsableBytes,
    memoryUsedBytes,
  ];

  // migrationdomainstats' MigrationStatsCollector
  const migrationDataTotal = new Counter({
    name: 'kubevirt_vmi_migration_data_bytes_total',
    help: 'The total Guest OS data to be migrated to the new VM.',
    labelNames: vmiLabels,
    registers,
  });
  const migrationDataRemaining = gauge(
    'kubevirt_vmi_migration_data_remaining_bytes',
    'The remaining guest OS data to be migrated to the new VM.',
  );
  const migrationDataProcessed = gauge(
    'kubevirt_vmi_migration_data_processed_bytes',
    'The total Guest OS data processed and migrated to the new VM.',
  );
  const migrationDirtyMemoryRate = gauge(
    'kubevirt_vmi_migration_dirty_memory_rate_bytes',
    'The rate of memory being dirty in the Guest OS.',
  );
  const migrationMemoryTransferRate = gauge(
    'kubevirt_vmi_migration_memory_transfer_rate_bytes',
    'The rate at which the memory is being transferred.',
  );
  const perMigration = [
    migrationDataTotal,
    migrationDataRemaining,
    migrationDataProcessed,
    migrationDirtyMemoryRate,
    migrationMemoryTransferRate,
  ];

  const reconcileDuration = new Histogram({
    name: 'kubevirt_workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    labelNames: ['name'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const workqueueDepth = new Gauge({
    name: 'kubevirt_workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: ['name'],
    registers,
  });

  return {
    registry,
    reconcileDuration,
    workqueueDepth,
    notifyEvents: new Counter({
      name: 'kubevirt_virt_handler_domain_notify_events_total',
      help: 'Domain events received from virt-launchers, by watch event type.',
      labelNames: ['event_type'],
      registers,
    }),
    restRequestDuration: new Histogram({
      name: 'kubevirt_virt_handler_rest_request_duration_seconds',
      help: 'Time the console server took to answer a request from virt-api, by route and status code.',
      labelNames: ['method', 'route', 'code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    vcpuSeconds,
    cpuUsageSeconds,
    memoryResidentBytes,
    memoryAvailableBytes,
    memoryDomainBytes,
    memoryUnusedBytes,
    memoryActualBalloonBytes,
    memoryUsableBytes,
    memoryUsedBytes,

    observeReconcile(seconds) {
      reconcileDuration.observe({ name: VM_CONTROLLER_QUEUE }, seconds);
    },
    setQueueDepth(depth) {
      workqueueDepth.set({ name: VM_CONTROLLER_QUEUE }, depth);
    },

    recordDomainStats(vmi, stats) {
      const labels = { node, namespace: vmi.metadata.namespace, name: vmi.metadata.name };
      // Counters carry totals read from libvirt: forget the last reading, then count up to the new one.
      const total = (counter: Counter<string>, l: Record<string, string>, value: number) => {
        counter.remove(l);
        counter.inc(l, value);
      };
      stats.Vcpu?.forEach((vcpu, id) => {
        if (!vcpu.StateSet || !vcpu.TimeSet || vcpu.Time === undefined) return;
        const state = vcpuStates[vcpu.State ?? -1] ?? 'unknown';
        total(vcpuSeconds, { ...labels, id: String(id), state }, vcpu.Time / NS_PER_SECOND);
      });
      if (stats.Cpu?.TimeSet && stats.Cpu.Time !== undefined) total(cpuUsageSeconds, labels, stats.Cpu.Time / NS_PER_SECOND);
      const m = stats.Memory;
      if (!m) return;
      const kib = (g: Gauge<VMILabels>, isSet: boolean | undefined, v: number | undefined) => {
        if (isSet && v !== undefined) g.set(labels, v * KIB);
      };
      kib(memoryResidentBytes, m.RSSSet, m.RSS);
      kib(memoryAvailableBytes, m.AvailableSet, m.Available);
      kib(memoryDomainBytes, m.TotalSet, m.Total);
      kib(memoryUnusedBytes, m.UnusedSet, m.Unused);
      kib(memoryActualBalloonBytes, m.ActualBalloonSet, m.ActualBalloon);
      kib(memoryUsableBytes, m.UsableSet, m.Usable);
      if (m.AvailableSet && m.UsableSet && m.Available !== undefined && m.Usable !== undefined) {
        memoryUsedBytes.set(labels, (m.Available - m.Usable) * KIB);
      }
    },

    resetDomainStats() {
      for (const metric of perVMI) metric.reset();
    },

    recordMigrationStats(vmi, job) {
      // the node the VMI runs on (the source's handler collects): vmi.Status.NodeName
      const labels = { node: vmi.status?.nodeName ?? node, namespace: vmi.metadata.namespace, name: vmi.metadata.name };
      if (job.DataTotalSet && job.DataTotal !== undefined) {
        migrationDataTotal.remove(labels);
        migrationDataTotal.inc(labels, job.DataTotal);
      }
      const set = (g: Gauge<VMILabels>, isSet: boolean | undefined, v: number | undefined) => {
        if (isSet && v !== undefined) g.set(labels, v);
      };
      set(migrationDataRemaining, job.DataRemainingSet, job.DataRemaining);
      set(migrationDataProcessed, job.DataProcessedSet, job.DataProcessed);
      set(migrationDirtyMemoryRate, job.MemDirtyRateSet, job.MemDirtyRate);
      set(migrationMemoryTransferRate, job.MemoryBpsSet, job.MemoryBps);
    },

    resetMigrationStats() {
      for (const metric of perMigration) metric.reset();
    },
  };
}

// --- collection on scrape -----------------------------------------------------------------------

export interface DomainStatsCollectorDeps {
  metrics: HandlerMetrics;
  /** the VMIs this node runs (the informer cache) */
  vmis(): VirtualMachineInstance[];
  launcherClient(vmi: VirtualMachineInstance): Promise<CmdClient>;
  logger: Logger;
  /** --max-metric-requests: launchers asked at the same time */
  maxRequests?: number;
  /** per-launcher deadline of GetDomainStats */
  timeoutMs?: number;
}

/** A launcher's GetDomainStats, parsed; undefined when it has no domain; an error when it answers with one. */
export async function readDomainStats(client: Pick<CmdClient, 'GetDomainStats'>, timeoutMs?: number): Promise<DomainStats | undefined> {
  const r = await client.GetDomainStats({}, timeoutMs === undefined ? undefined : { timeoutMs });
  if (r.response && !r.response.success)
    throw new Error(`server error. command GetDomainStats failed: ${JSON.stringify(r.response.message)}`);
  return parseDomainStats(r.domainStats);
}

/** Runs `tasks` with at most `limit` of them in flight. */
async function allLimited(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

/**
 * The hook /metrics calls before it renders: asks every launcher for its domain stats (a failing or
 * domain-less launcher only loses its own series) and refreshes the per-VMI series.
 */
export function collectDomainStats(deps: DomainStatsCollectorDeps): () => Promise<void> {
  const limit = Math.max(1, deps.maxRequests ?? 3);
  // scrapes that arrive while launchers are being asked share that round
  let inFlight: Promise<void> | undefined;
  const collect = async () => {
    const readings: Array<[VirtualMachineInstance, DomainStats]> = [];
    const tasks = deps.vmis().map((vmi) => async () => {
      try {
        const stats = await readDomainStats(await deps.launcherClient(vmi), deps.timeoutMs);
        if (stats) readings.push([vmi, stats]);
      } catch (err) {
        withReason(forObject(deps.logger, { kind: 'VirtualMachineInstance', ...vmi }), err).warn('failed to collect domain stats');
      }
    });
    await allLimited(tasks, limit);
    deps.metrics.resetDomainStats();
    for (const [vmi, stats] of readings) deps.metrics.recordDomainStats(vmi, stats);
  };
  return () => {
    inFlight ??= collect().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
