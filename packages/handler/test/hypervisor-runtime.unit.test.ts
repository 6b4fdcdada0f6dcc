// The hypervisor runtime's decisions (pkg/hypervisor/kvm/runtime.go): HandleHousekeeping's cgroup, CPUs
// and threads; AdjustResources' VMIs and daemon. Proven on real launchers in hypervisor-runtime.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newDomain, parseVMI } from '@kubevirt-ts/shared';
import { cpusetCgroupPath, emulatorPinCPUs, isKVMVCPUThread } from '../src/cgroup/housekeeping.ts';
import { findLibvirtDaemon, needsLockedMemory } from '../src/memlock.ts';

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

test('which VMIs lock their memory: host devices, GPUs, realtime, SEV, memLock Required', () => {
  const vmi = (domain: object) =>
    parseVMI({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: 'vm', namespace: 'ns', uid: 'u' },
      spec: { domain: { devices: {}, ...domain } },
    });
  assert.equal(needsLockedMemory(vmi({})), false);
  assert.equal(needsLockedMemory(vmi({ memory: { reservedOverhead: { memLock: 'NotRequired' } } })), false);
  assert.equal(needsLockedMemory(vmi({ devices: { hostDevices: [] } })), false);
  assert.equal(needsLockedMemory(vmi({ memory: { reservedOverhead: { memLock: 'Required' } } })), true);
  assert.equal(needsLockedMemory(vmi({ devices: { hostDevices: [{ name: 'h', deviceName: 'x' }] } })), true);
  assert.equal(needsLockedMemory(vmi({ devices: { gpus: [{ name: 'g', deviceName: 'x' }] } })), true);
  assert.equal(needsLockedMemory(vmi({ cpu: { realtime: {} } })), true);
  assert.equal(needsLockedMemory(vmi({ launchSecurity: { sev: {} } })), true);
  assert.throws(() => vmi({ memory: { reservedOverhead: { memLock: 'Maybe' } } }), /memLock/);
});

test('the libvirt daemon of the launcher’s pod: the one in its mount namespace, never another pod’s', () => {
  const proc = mkdtempSync(path.join(os.tmpdir(), 'kvts-proc-'));
  try {
    const ps = (pid: number, comm: string, mntNs: number) => {
      mkdirSync(path.join(proc, String(pid), 'ns'), { recursive: true });
      writeFileSync(path.join(proc, String(pid), 'comm'), `${comm}\n`);
      symlinkSync(`mnt:[${mntNs}]`, path.join(proc, String(pid), 'ns', 'mnt'));
    };
    ps(20, 'libvirtd', 2); // another pod's
    ps(10, 'sleep', 1); // the pod's pause
    ps(11, 'tini', 1);
    ps(12, 'libvirtd', 1);
    ps(13, 'virtlogd', 1);
    assert.equal(findLibvirtDaemon(10, proc), 12);
    ps(30, 'node', 3);
    assert.equal(findLibvirtDaemon(30, proc), undefined);
    ps(31, 'virtqemud', 3);
    assert.equal(findLibvirtDaemon(30, proc), 31);
  } finally {
    rmSync(proc, { recursive: true, force: true });
  }
});
