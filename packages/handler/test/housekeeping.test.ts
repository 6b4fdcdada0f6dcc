// Dedicated CPUs with an isolated emulator thread, through virt-handler: the launcher pins the vCPU and
// the emulator to CPUs of its pod's cpuset, and after the sync the handler moves the pod's threads
// other than KVM vCPU threads into a "housekeeping" cpuset group on the emulator's CPUs (KubeVirt's
// HandleHousekeeping). A real kube-apiserver, launcher, libvirtd and QEMU (TCG) in a pod sandbox with
// a cpuset cgroup of its own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cmdClient } from '@kubevirt-ts/proto';
import { parseCPUSetLine } from '@kubevirt-ts/shared';
import { startHandlerNode, type HandlerNode, type TestVM } from '../../../test/bed/handler-node.ts';
import { poll } from '../../../test/bed/poll.ts';

const tasksOf = (group: string) => readFileSync(path.join(group, 'tasks'), 'utf8').split('\n').filter(Boolean).map(Number);
const commOf = (tid: number) => {
  try {
    return readFileSync(`/proc/${tid}/comm`, 'utf8').trim();
  } catch {
    return ''; // ended meanwhile
  }
};
const tgidOf = (tid: number) => {
  try {
    return Number(/^Tgid:\s*(\d+)$/m.exec(readFileSync(`/proc/${tid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};
const allowedCPUs = (tid: number) => /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${tid}/status`, 'utf8'))?.[1] ?? '';

describe('dedicated CPUs with an isolated emulator thread on virt-handler', { timeout: 600_000 }, () => {
  let node: HandlerNode;
  let vm: TestVM;
  const logs = () => `${node.handler.logs().slice(-6000)}\n--- launcher ---\n${vm?.launcher.logs().slice(-6000) ?? ''}`;

  before(async () => {
    // the host's NUMA topology (node-labeller.sh's capabilities) is what the launcher fits dedicated CPUs in
    node = await startHandlerNode({ namespace: 'housekeeping', nodePrefix: 'kvts-hk', nodeLabellerFiles: true });
  });
  after(async () => {
    await node?.stop();
  });

  test('Running; the pod’s threads but KVM vCPUs on the emulator’s CPU in the housekeeping group', async () => {
    const podCPUs = parseCPUSetLine(readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8'));
    assert.ok(podCPUs.length >= 2, `one CPU for the vCPU and one for the emulator: the node has ${podCPUs.join(',')}`);
    vm = await node.startVM('hk-vmi', {
      cpusetCgroup: true,
      customize: (v) => {
        Object.assign(v.spec.domain, { cpu: { cores: 1, dedicatedCpuPlacement: true, isolateEmulatorThread: true } });
      },
    });
    await poll('VMI Running', async () => ((await node.getVMI('hk-vmi')).status?.phase === 'Running' ? true : undefined), 240_000, logs);
    const client = await cmdClient(vm.launcher.cmdSocket);
    const reply = await client.GetDomain({}).finally(() => client.close());
    const { CPUTune } = (
      JSON.parse(reply.domain) as { Spec: { CPUTune: { VCPUPin: Array<{ CPUSet: string }>; EmulatorPin: { CPUSet: string } } } }
    ).Spec;
    const emulator = CPUTune.EmulatorPin.CPUSet;
    assert.notEqual(emulator, CPUTune.VCPUPin[0]?.CPUSet, 'the emulator thread has a CPU of its own');

    const pod = vm.sandbox.cpusetCgroup as string;
    const housekeeping = path.join(pod, 'housekeeping');
    // a sync after the domain is known moves the threads (the first one only makes the group)
    const moved = await poll(
      'QEMU’s main thread in the housekeeping group',
      async () => {
        if (!existsSync(housekeeping)) return undefined;
        const tids = tasksOf(housekeeping);
        return tids.some((t) => commOf(t).startsWith('qemu-system')) ? tids : undefined;
      },
      120_000,
      logs,
    );
    assert.equal(readFileSync(path.join(housekeeping, 'cpuset.cpus'), 'utf8').trim(), emulator);
    const qemu = moved.find((t) => commOf(t).startsWith('qemu-system')) as number;
    assert.equal(allowedCPUs(qemu), emulator, 'the kernel keeps QEMU’s main thread on the emulator’s CPU');
    const names = new Set(moved.map(commOf));
    // not only QEMU's: every process of the pod (the launcher, libvirtd, virtlogd)
    const processes = new Set(moved.map((t) => tgidOf(t)).filter((p) => p !== 0));
    assert.ok(processes.size >= 3, `threads of ${processes.size} processes moved: ${[...names].join(', ')}`);
    // KubeVirt keeps only threads named "CPU <n>/KVM" out: under TCG the vCPU thread ("CPU 0/TCG") moves as well
    assert.ok(names.has('CPU 0/TCG'), `the TCG vCPU thread: ${[...names].join(', ')}`);
    assert.ok(
      tasksOf(pod).every((t) => !moved.includes(t)),
      'a thread is in one group of the hierarchy at a time',
    );
  });
});
