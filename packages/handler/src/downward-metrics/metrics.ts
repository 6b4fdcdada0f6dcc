// pkg/downwardmetrics: the vhostmd metrics document a guest reads on its downward metrics port
// (api.Metrics, as xml.MarshalIndent writes it), made of the launcher's GetQemuVersion and
// GetDomainStats and the node's own figures from /proc and /sys (scraper.Report, hostMetricsCollector).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DomainStats } from '../metrics.ts';

/** api.Metric: the XML's type, context and unit attributes and its name and value elements. */
export interface Metric {
  type: 'int64' | 'uint64' | 'real64' | 'string';
  context: 'host' | 'vm';
  name: string;
  value: string;
  unit?: string;
}

const metric = (type: Metric['type'], context: Metric['context'], name: string, value: number | string, unit?: string): Metric => ({
  type,
  context,
  name,
  // metrics.ToMetric: reals with six decimals, the rest as Go prints them
  value: type === 'real64' ? Number(value).toFixed(6) : String(value),
  ...(unit ? { unit } : {}),
});

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');

/** xml.MarshalIndent(metrics, "", "  ") */
export function metricsXML(metrics: readonly Metric[]): string {
  const lines = ['<metrics>'];
  for (const m of metrics) {
    const unit = m.unit ? ` unit="${xmlEscape(m.unit)}"` : '';
    lines.push(`  <metric type="${m.type}" context="${m.context}"${unit}>`);
    lines.push(`    <name>${xmlEscape(m.name)}</name>`);
    lines.push(`    <value>${xmlEscape(m.value)}</value>`);
    lines.push('  </metric>');
  }
  lines.push('</metrics>');
  return lines.join('\n');
}

/** What the guest is told when the figures cannot be had (emptyMetrics). */
export const EMPTY_METRICS = '<metrics><!-- host metrics not available --><!-- VM metrics not available --></metrics>';

/** virVcpuState VIR_VCPU_OFFLINE */
const VCPU_OFFLINE = 0;

/** Report's first part: the static host facts, QEMU's version and the guest's CPU and memory. */
export function guestMetrics(nodeName: string, qemuVersion: string, stats: DomainStats): Metric[] {
  const vcpus = stats.Vcpu ?? [];
  const cpuTime = vcpus.reduce((sum, v) => sum + (v.Time ?? 0), 0);
  const online = vcpus.filter((v) => v.StateSet && v.State !== VCPU_OFFLINE).length;
  const balloon = stats.Memory?.ActualBalloon ?? 0;
  return [
    metric('string', 'host', 'HostName', nodeName),
    metric('string', 'host', 'HostSystemInfo', 'linux'),
    metric('string', 'host', 'VirtualizationVendor', 'kubevirt.io'),
    metric('string', 'host', 'VirtProductInfo', qemuVersion),
    metric('real64', 'vm', 'TotalCPUTime', cpuTime / 1e9, 's'),
    metric('int64', 'vm', 'ResourceProcessorLimit', online),
    metric('uint64', 'vm', 'PhysicalMemoryAllocatedToVirtualSystem', balloon, 'KiB'),
    metric('uint64', 'vm', 'ResourceMemoryLimit', balloon, 'KiB'),
  ];
}

/** USER_HZ, the unit of /proc/stat's times */
const USER_HZ = 100;
const PAGE_SIZE = 4096;

/** hostMetricsCollector.Collect: the node's CPUs, CPU time, memory and paging, and the time. A part it cannot read is left out. */
export function hostMetrics(procPath = '/proc', sysPath = '/sys', now = Date.now()): Metric[] {
  const out: Metric[] = [];
  try {
    const cpuDir = path.join(sysPath, 'devices/system/cpu');
    const packages = new Set(
      readdirSync(cpuDir)
        .filter((d) => /^cpu\d+$/.test(d))
        .map((d) => readFileSync(path.join(cpuDir, d, 'topology/physical_package_id'), 'utf8').trim()),
    );
    out.push(metric('int64', 'host', 'NumberOfPhysicalCPUs', packages.size));
  } catch {
    // KubeVirt logs and leaves the metric out
  }
  try {
    const cpu = /^cpu\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readFileSync(path.join(procPath, 'stat'), 'utf8'));
    if (cpu) out.push(metric('real64', 'host', 'TotalCPUTime', (Number(cpu[1]) + Number(cpu[2]) + Number(cpu[3])) / USER_HZ, 's'));
  } catch {
    // left out
  }
  try {
    const mem = Object.fromEntries(
      [...readFileSync(path.join(procPath, 'meminfo'), 'utf8').matchAll(/^(\w+):\s+(\d+)/gm)].map((m) => [m[1], Number(m[2])]),
    ) as Record<string, number>;
    const kb = (k: string) => mem[k] ?? 0;
    out.push(
      metric('uint64', 'host', 'FreePhysicalMemory', kb('MemFree'), 'KiB'),
      metric('uint64', 'host', 'FreeVirtualMemory', kb('MemFree') + kb('SwapFree'), 'KiB'),
      metric('uint64', 'host', 'MemoryAllocatedToVirtualServers', kb('MemTotal') - kb('MemFree') - kb('Buffers') - kb('Cached'), 'KiB'),
      metric(
        'uint64',
        'host',
        'UsedVirtualMemory',
        kb('MemTotal') + kb('SwapTotal') - kb('MemFree') - kb('Cached') - kb('Buffers') - kb('SwapCached'),
        'KiB',
      ),
    );
  } catch {
    // left out
  }
  try {
    const vmstat = readFileSync(path.join(procPath, 'vmstat'), 'utf8');
    const count = (k: string) => Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(vmstat)?.[1] ?? 0);
    out.push(
      metric('uint64', 'host', 'PagedInMemory', Math.trunc((count('pswpin') * PAGE_SIZE) / 1024), 'KiB'),
      metric('uint64', 'host', 'PagedOutMemory', Math.trunc((count('pswpout') * PAGE_SIZE) / 1024), 'KiB'),
    );
  } catch {
    // left out
  }
  out.push(metric('int64', 'host', 'Time', Math.trunc(now / 1000), 's'));
  return out;
}
