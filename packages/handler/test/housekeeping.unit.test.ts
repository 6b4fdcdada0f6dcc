// HandleHousekeeping's decisions (pkg/hypervisor/kvm/runtime.go): which cgroup, which CPUs, which threads.
// The moves themselves are proven on a real launcher in housekeeping.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newDomain } from '@kubevirt-ts/shared';
import { cpusetCgroupPath, emulatorPinCPUs, isKVMVCPUThread } from '../src/cgroup/housekeeping.ts';

test('the cpuset controller’s path, alone or among others; a housekeeping group’s is its parent’s; none on v2', () => {
  assert.equal(cpusetCgroupPath('3:cpu,cpuacct:/a\n4:cpuset:/kubepods/pod1/c1\n'), '/kubepods/pod1/c1');
  assert.equal(cpusetCgroupPath('4:cpuset,cpu:/kubepods/pod1/c1/housekeeping\n'), '/kubepods/pod1/c1');
  assert.equal(cpusetCgroupPath('0::/kubepods.slice/c1\n'), undefined);
});

test('the emulator pin of the domain: a cpuset list, or none', () => {
  const domain = newDomain({ name: 'vm', namespace: 'ns', uid: 'u' });
  assert.equal(emulatorPinCPUs(domain), undefined);
  (domain.Spec as { CPUTune?: unknown }).CPUTune = { VCPUPin: [{ VCPU: 0, CPUSet: '0' }], EmulatorPin: null };
  assert.equal(emulatorPinCPUs(domain), undefined);
  (domain.Spec as { CPUTune?: unknown }).CPUTune = { VCPUPin: [], EmulatorPin: { CPUSet: '1,3-4' } };
  assert.deepEqual(emulatorPinCPUs(domain), [1, 3, 4]);
});

test('only KVM vCPU threads keep their CPU', () => {
  assert.equal(isKVMVCPUThread('CPU 0/KVM'), true);
  assert.equal(isKVMVCPUThread('CPU 12/KVM\n'), true);
  assert.equal(isKVMVCPUThread('CPU 0/TCG'), false);
  assert.equal(isKVMVCPUThread('qemu-system-x86'), false);
  assert.equal(isKVMVCPUThread('kvm-pit/1234'), false);
});
