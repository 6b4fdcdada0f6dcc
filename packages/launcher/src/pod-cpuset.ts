// util.GetPodCPUSet: the host CPUs the launcher's cgroup may run on (cgroup v2, else v1), the set a
// dedicated-CPU guest's vCPUs are pinned within.
import { existsSync, readFileSync } from 'node:fs';
import { parseCPUSetLine } from '@kubevirt-ts/shared';

const CPUSET_FILES = ['/sys/fs/cgroup/cpuset.cpus.effective', '/sys/fs/cgroup/cpuset/cpuset.cpus'];

export function podCPUSet(): number[] {
  const file = CPUSET_FILES.find((f) => existsSync(f));
  if (!file) throw new Error(`no cpuset file (${CPUSET_FILES.join(', ')})`);
  return parseCPUSetLine(readFileSync(file, 'utf8').split('\n')[0] ?? '');
}
