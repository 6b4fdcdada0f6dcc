// The pod's cpuset as KubeVirt's launcher reads it from its cgroup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseCPUSetLine } from '@kubevirt-ts/shared';
import { podCPUSet } from '../src/pod-cpuset.ts';

test('cpuset lines: ranges and single CPUs; garbage is an error', () => {
  assert.deepEqual(parseCPUSetLine('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
  assert.deepEqual(parseCPUSetLine('5'), [5]);
  assert.throws(() => parseCPUSetLine('0-a'), /^Error: failed to parse cpuset file: invalid cpuset "0-a"$/);
  assert.throws(() => parseCPUSetLine('3-1'), /invalid range 3-1/);
});

test('the cgroup cpuset holds every CPU this process may run on', () => {
  const cpus = new Set(podCPUSet());
  const allowed = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
  for (const c of parseCPUSetLine(allowed)) assert.ok(cpus.has(c), `CPU ${c} allowed but not in the cpuset`);
});
