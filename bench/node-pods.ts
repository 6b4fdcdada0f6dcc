// The pods of a real node (test/node: kubelet + containerd running our images) with the example VM up and
// its guest agent connected: the launcher pod process by process beside KubeVirt's budgets (as
// launcher-memory's pod figures in a sandbox), each container's memory cgroup beside what virt-controller
// requests for it, and the virt-handler DaemonSet pod beside its request. Holds the machine's one node:
//   flock /tmp/kvts-heavy.lock node bench/node-pods.ts [--quick] [--settle 30s]
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { quantityToBytes } from '@kubevirt-ts/launcher';
import { goDuration } from '@kubevirt-ts/shared';
import { Cleanups } from '../test/demo/demo.ts';
import { startNodeDemoStack } from '../test/demo/node-stack.ts';
import { podProcesses, type PodProcess } from '../test/node/host.ts';
import { rssKiB } from '../test/bed/native.ts';
import { benchFlags, emit, log, machine, quickFlag, round, scratchDir } from './lib.ts';
import { KUBEVIRT_BUDGETS, type ProcessFigure } from './pod-processes.ts';

const flags = benchFlags(
  z.object({
    quick: quickFlag,
    settle: z.optional(goDuration()).describe('how long the VM runs before the figures are read (default 30s; 2s with --quick)'),
  }),
  'bench/node-pods.ts',
);

const Mi = 2 ** 20;

const figure = (kib: number, budget: number): ProcessFigure => ({
  rssMiB: round(kib / 1024, 1),
  budgetMiB: round(budget / Mi, 1),
  ratio: round((kib * 1024) / budget, 2),
});

/** memory.stat's total_rss (anonymous memory, no page cache) and the cgroup's usage, MiB. */
function cgroupMemory(dir: string): { rssMiB: number; usageMiB: number } {
  const stat = readFileSync(`${dir}/memory.stat`, 'utf8');
  const rss = Number(/^total_rss (\d+)$/m.exec(stat)?.[1] ?? Number.NaN);
  const usage = Number(readFileSync(`${dir}/memory.usage_in_bytes`, 'utf8'));
  return { rssMiB: round(rss / Mi, 1), usageMiB: round(usage / Mi, 1) };
}

interface ContainerFigure {
  processes: Record<string, number>;
  cgroupRssMiB: number;
  cgroupUsageMiB: number;
  requestMiB?: number;
  /** cgroup RSS / the container's memory request */
  requestRatio?: number;
}

/** Each container of a pod: its processes' RSS by program, its memory cgroup, its request. */
function containers(pod: V1Pod): Record<string, ContainerFigure> {
  const byID = new Map<string, string>();
  for (const s of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    const id = s.containerID?.replace(/^\w+:\/\//, '');
    if (id) byID.set(id, s.name);
  }
  const groups = new Map<string, PodProcess[]>();
  for (const p of podProcesses(pod.metadata!.uid!)) {
    const name = byID.get(p.containerID) ?? 'pod sandbox (pause)';
    groups.set(name, [...(groups.get(name) ?? []), p]);
  }
  const out: Record<string, ContainerFigure> = {};
  for (const [name, procs] of groups) {
    const processes: Record<string, number> = {};
    for (const p of procs) {
      const key = p.cmdline.includes('/usr/bin/virt-launcher ') ? 'virt-launcher' : p.exe;
      processes[key] = round((processes[key] ?? 0) + rssKiB(p.pid) / 1024, 1);
    }
    const memory = cgroupMemory(procs[0]!.memoryCgroup);
    const quantity = pod.spec?.containers.find((c) => c.name === name)?.resources?.requests?.['memory'];
    const request = quantity === undefined ? undefined : quantityToBytes(quantity, `${name} memory request`);
    out[name] = {
      processes,
      cgroupRssMiB: memory.rssMiB,
      cgroupUsageMiB: memory.usageMiB,
      ...(request === undefined ? {} : { requestMiB: round(request / Mi, 1), requestRatio: round((memory.rssMiB * Mi) / request, 2) }),
    };
  }
  return out;
}

async function main(): Promise<void> {
  const started = Date.now();
  const settleMs = flags.settle ?? (flags.quick ? 2_000 : 30_000);
  const cleanups = new Cleanups();
  const interrupted = () => void cleanups.run().then(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const stack = await startNodeDemoStack(
      { name: 'bench-vmi', dir: scratchDir('kvts-bench-node'), stage: (s) => log(`  ${s}`) },
      cleanups,
    );
    const upS = round((Date.now() - started) / 1000, 1);
    await sleep(settleMs);
    const core = stack.kubeConfig.makeApiClient(CoreV1Api);
    const [launcherPod] = (await core.listNamespacedPod({ namespace: stack.namespace, labelSelector: 'kubevirt.io=virt-launcher' })).items;
    const [handlerPod] = (await core.listNamespacedPod({ namespace: 'kubevirt', labelSelector: 'kubevirt.io=virt-handler' })).items;
    if (!launcherPod || !handlerPod) throw new Error('the launcher or the handler pod is gone');

    const launcher = containers(launcherPod);
    const compute = launcher['compute'];
    if (!compute?.processes['virt-launcher-monitor'] || !compute.processes['virt-launcher'])
      throw new Error(`compute container without the monitor and the launcher: ${JSON.stringify(compute)}`);
    const budgets = KUBEVIRT_BUDGETS;
    const ours = {
      monitor: figure(compute.processes['virt-launcher-monitor'] * 1024, budgets.monitor.budget),
      launcher: figure(compute.processes['virt-launcher'] * 1024, budgets.launcher.budget),
      containerDisks: Object.fromEntries(
        Object.entries(launcher)
          .filter(([name]) => name.startsWith('volume'))
          .map(([name, c]) => [name, figure((c.processes['container-disk'] ?? 0) * 1024, budgets.containerDisk.budget)]),
      ),
    };
    const handler = containers(handlerPod)['virt-handler'];
    if (!handler) throw new Error('no virt-handler container measured');

    const figures = {
      bench: 'node-pods',
      quick: flags.quick,
      settleS: settleMs / 1000,
      nothingToAgentS: upS,
      launcherPod: launcher,
      kubevirtBudgets: ours,
      budgets: Object.fromEntries(Object.entries(budgets).map(([k, b]) => [k, b.source])),
      handlerPod: handler,
      elapsedS: round((Date.now() - started) / 1000, 1),
      machine: machine(),
    };
    const disks = Object.entries(ours.containerDisks).map(([n, f]) => `${n} ${f.rssMiB}/${f.budgetMiB} (${f.ratio})`);
    emit(
      figures,
      [
        `node-pods: the example VM on the real node, ${settleMs / 1000} s after its agent connected (nothing → agent ${upS} s)`,
        `  launcher pod, RSS / KubeVirt budget MiB (ratio): monitor ${ours.monitor.rssMiB}/${ours.monitor.budgetMiB} (${ours.monitor.ratio}), ` +
          `launcher ${ours.launcher.rssMiB}/${ours.launcher.budgetMiB} (${ours.launcher.ratio}), ${disks.join(', ')}`,
        ...Object.entries(launcher).map(
          ([name, c]) =>
            `  ${name}: cgroup RSS ${c.cgroupRssMiB} MiB (usage with cache ${c.cgroupUsageMiB})` +
            (c.requestMiB === undefined ? '' : ` of a ${c.requestMiB} MiB request (${c.requestRatio})`) +
            `; ${Object.entries(c.processes)
              .map(([p, mib]) => `${p} ${mib}`)
              .join(', ')}`,
        ),
        `  virt-handler pod: cgroup RSS ${handler.cgroupRssMiB} MiB of a ${handler.requestMiB} MiB request (${handler.requestRatio}); ` +
          Object.entries(handler.processes)
            .map(([p, mib]) => `${p} ${mib}`)
            .join(', '),
      ].join('\n'),
    );
  } finally {
    await cleanups.run();
  }
}

await main();
process.exit(0);
