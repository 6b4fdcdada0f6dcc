// What the virt-handler benches share: the Kubernetes client and ws, and a process's RSS and CPU time
// from /proc.
import { readFileSync } from 'node:fs';
import WebSocketModule from 'ws';

export * as k8s from '@kubernetes/client-node';
export const WebSocket = WebSocketModule;
export type WebSocket = WebSocketModule;
export type WebSocketClientOptions = WebSocketModule.ClientOptions;

// USER_HZ: what /proc/<pid>/stat counts CPU time in on every Linux architecture node runs on.
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessSample {
  /** VmRSS */
  rssMiB: number;
  /** VmHWM: the highest RSS so far */
  peakRssMiB: number;
  /** utime + stime */
  cpuSeconds: number;
  /** performance.now() when read */
  at: number;
}

export function sampleProcess(pid: number): ProcessSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  // the command name (field 2) may hold spaces: count fields after its closing parenthesis
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return {
    rssMiB: kib('VmRSS') / 1024,
    peakRssMiB: kib('VmHWM') / 1024,
    cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND,
    at: performance.now(),
  };
}

/** CPU used between two samples of one process, in percent of one core. */
export function cpuPercent(from: ProcessSample, to: ProcessSample): number {
  return (100 * (to.cpuSeconds - from.cpuSeconds)) / ((to.at - from.at) / 1000);
}

/** The whole machine's busy share between two reads of /proc/stat, in percent of all cores. */
export function machineBusy(): () => number {
  const read = () => {
    const cpu = (/^cpu\s+(.+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? '').split(/\s+/).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
    return { idle, total: cpu.slice(0, 8).reduce((a, b) => a + b, 0) };
  };
  const start = read();
  return () => {
    const now = read();
    const total = now.total - start.total;
    return total > 0 ? (100 * (total - (now.idle - start.idle))) / total : Number.NaN;
  };
}
