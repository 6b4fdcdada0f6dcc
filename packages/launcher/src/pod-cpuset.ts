// util.GetPodCPUSet: the host CPUs the launcher's cgroup may run on (cgroup v2, else v1), the set a
// dedicated-CPU guest's vCPUs are pinned within.
import { existsSync, readFileSync } from 'node:fs';

const CPUSET_FILES = ['/sys/fs/cgroup/cpuset.cpus.effective', '/sys/fs/cgroup/cpuset/cpuset.cpus'];

/** hardware.ParseCPUSetLine: `0-3,8,10-11` */
export function parseCPUSetLine(line: string, limit = 50000): number[] {
  const cpus: number[] = [];
  for (const part of line.trim().split(',').filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`failed to parse cpuset file: invalid cpuset ${JSON.stringify(line.trim())}`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to - from + cpus.length > limit) throw new Error(`failed to parse cpuset file: invalid range ${part}`);
    for (let c = from; c <= to; c++) cpus.push(c);
  }
  return cpus;
}

export function podCPUSet(): number[] {
  const file = CPUSET_FILES.find((f) => existsSync(f));
  if (!file) throw new Error(`no cpuset file (${CPUSET_FILES.join(', ')})`);
  return parseCPUSetLine(readFileSync(file, 'utf8').split('\n')[0] ?? '');
}
