// GetDomainStats: libvirt's bulk stats (typed params) in the JSON of KubeVirt's
// virtwrap/stats.DomainStats, which the handler's metrics read. Every value comes with its `…Set` flag.
import {
  DomainDirtyRateCalcFlags,
  DomainDirtyRateStatus,
  DomainStatsTypes,
  type Connection,
  type TypedParamValue,
} from '@kubevirt-ts/libvirt';
import type { DomainJobInfo } from './migration/monitor.ts';

const ALL_STATS =
  DomainStatsTypes.STATE |
  DomainStatsTypes.CPU_TOTAL |
  DomainStatsTypes.BALLOON |
  DomainStatsTypes.VCPU |
  DomainStatsTypes.INTERFACE |
  DomainStatsTypes.BLOCK;

/** The libvirt calls the stats make. */
export type StatsConnection = Pick<Connection, 'connectGetAllDomainStats' | 'connectListAllDomains' | 'domainStartDirtyRateCalc'>;

type Params = Record<string, TypedParamValue>;
type Fields = Record<string, [string, 'number' | 'string']>;

/** Copies libvirt's `prefix.key` params into `{Field, FieldSet}` pairs. */
function pick(params: Params, prefix: string, fields: Fields): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const [field, [key, type]] of Object.entries(fields)) {
    const v = params[`${prefix}${key}`];
    out[`${field}Set`] = v !== undefined;
    out[field] = v === undefined ? (type === 'string' ? '' : 0) : type === 'string' ? String(v) : Number(v);
  }
  return out;
}

const CPU: Fields = { Time: ['time', 'number'], User: ['user', 'number'], System: ['system', 'number'] };
const MEMORY: Fields = {
  Unused: ['unused', 'number'],
  Cached: ['disk_caches', 'number'],
  Available: ['available', 'number'],
  ActualBalloon: ['current', 'number'],
  RSS: ['rss', 'number'],
  SwapIn: ['swap_in', 'number'],
  SwapOut: ['swap_out', 'number'],
  MajorFault: ['major_fault', 'number'],
  MinorFault: ['minor_fault', 'number'],
  Usable: ['usable', 'number'],
  Total: ['maximum', 'number'],
};
const VCPU: Fields = { State: ['state', 'number'], Time: ['time', 'number'], Wait: ['wait', 'number'], Delay: ['delay', 'number'] };
const NET: Fields = {
  Name: ['name', 'string'],
  RxBytes: ['rx.bytes', 'number'],
  RxPkts: ['rx.pkts', 'number'],
  RxErrs: ['rx.errs', 'number'],
  RxDrop: ['rx.drop', 'number'],
  TxBytes: ['tx.bytes', 'number'],
  TxPkts: ['tx.pkts', 'number'],
  TxErrs: ['tx.errs', 'number'],
  TxDrop: ['tx.drop', 'number'],
};
const BLOCK: Fields = {
  Name: ['name', 'string'],
  Path: ['path', 'string'],
  RdReqs: ['rd.reqs', 'number'],
  RdBytes: ['rd.bytes', 'number'],
  RdTimes: ['rd.times', 'number'],
  WrReqs: ['wr.reqs', 'number'],
  WrBytes: ['wr.bytes', 'number'],
  WrTimes: ['wr.times', 'number'],
  FlReqs: ['fl.reqs', 'number'],
  FlTimes: ['fl.times', 'number'],
  Errors: ['errors', 'number'],
  Allocation: ['allocation', 'number'],
  Capacity: ['capacity', 'number'],
  Physical: ['physical', 'number'],
};

function list(params: Params, kind: string, fields: Fields): Array<Record<string, number | string | boolean>> {
  const count = Number(params[`${kind}.count`] ?? params[`${kind}.current`] ?? 0);
  return Array.from({ length: count }, (_, i) => pick(params, `${kind}.${i}.`, fields));
}

/** Stats of the launcher's domain, or undefined when none is defined (KubeVirt then sends ""). */
export async function domainStats(conn: StatsConnection, migrateJobInfo?: DomainJobInfo): Promise<Record<string, unknown> | undefined> {
  const [record] = await conn.connectGetAllDomainStats([], ALL_STATS, 0);
  if (!record) return undefined;
  const p = record.params;
  return {
    Name: record.domain.name,
    UUID: record.domain.uuid,
    Cpu: pick(p, 'cpu.', CPU),
    Memory: pick(p, 'balloon.', MEMORY),
    // the outgoing migration's last job stats (virt-handler's migration metrics), null without one
    MigrateDomainJobInfo: migrateJobInfo ?? null,
    CPUMapSet: false,
    CPUMap: null,
    NrVirtCpu: Number(p['vcpu.current'] ?? 0),
    Vcpu: list(p, 'vcpu', VCPU),
    Net: list(p, 'net', NET),
    Block: list(p, 'block', BLOCK),
    DirtyRate: null,
  };
}

/** KubeVirt's stats.DomainStatsDirtyRate. */
export interface DirtyRateStats {
  CalcStatusSet: boolean;
  CalcStatus: number;
  CalcStartTimeSet: boolean;
  CalcStartTime: number;
  CalcPeriodSet: boolean;
  CalcPeriod: number;
  MegabytesPerSecondSet: boolean;
  MegabytesPerSecond: number;
}

const DIRTYRATE: Fields = {
  CalcStatus: ['calc_status', 'number'],
  CalcStartTime: ['calc_start_time', 'number'],
  CalcPeriod: ['calc_period', 'number'],
  MegabytesPerSecond: ['megabytes_per_second', 'number'],
};

/**
 * GetDomainDirtyRateStats: QEMU measures the guest's memory dirty rate (page sampling) for
 * `seconds`, then the DIRTYRATE stats group holds the result. Undefined when no domain is defined.
 */
export async function dirtyRateStats(conn: StatsConnection, seconds: number): Promise<DirtyRateStats | undefined> {
  const [dom] = await conn.connectListAllDomains();
  if (!dom) return undefined;
  await conn.domainStartDirtyRateCalc(dom, seconds, DomainDirtyRateCalcFlags.PAGE_SAMPLING);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  // the measurement ends a little after the period; wait for it rather than read a MEASURING state
  const deadline = Date.now() + 3000;
  for (;;) {
    const [record] = await conn.connectGetAllDomainStats([dom], DomainStatsTypes.DIRTYRATE, 0);
    const stats = pick(record?.params ?? {}, 'dirtyrate.', DIRTYRATE) as unknown as DirtyRateStats;
    if (stats.CalcStatus === DomainDirtyRateStatus.MEASURED || Date.now() > deadline) return stats;
    await new Promise((r) => setTimeout(r, 100));
  }
}
