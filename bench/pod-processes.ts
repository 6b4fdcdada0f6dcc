// The compute side of a launcher pod with its VM running, process by process, beside the memory
// KubeVirt budgets for each: virt-launcher-monitor as PID 1 of the compute container and the launcher
// behind it (the overheads virt-controller adds to the compute container's request, "the `ps` RSS"
// of each, pkg/hypervisor/kvm/hypervisorbackend.go), one container-disk per containerDisk volume plus
// the kernel-boot one (their containers' request and limit, pkg/container-disk
// getMinimalInitContainerDiskResources), and virt-tail in the guest-console-log container
// (pkg/virt-controller/services/serialconsolelog.go). The guest's images stay staged in the pod's
// volume (no handler mounts them here); the container-disk processes run beside, to be measured.
import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { cmdClient } from '@kubevirt-ts/proto';
import { domainNotifyPipeSocketPath } from '@kubevirt-ts/shared';
import { startContainerDisks } from '../test/bed/container-disks.ts';
import { asRequest, startLauncher, testVMI } from '../test/bed/launcher.ts';
import { nativeProgram, rssKiB } from '../test/bed/native.ts';
import { NotifyRecorder } from '../test/bed/notify-recorder.ts';
import { createPodSandbox } from '../test/bed/pod-sandbox.ts';
import { poll } from '../test/bed/poll.ts';
import { log, round, waitForAgent } from './lib.ts';

const Mi = 2 ** 20;
const M = 1e6;

/** KubeVirt's figures, in bytes: `budget` is what a process of ours is held against. */
export const KUBEVIRT_BUDGETS = {
  /** VirtLauncherMonitorOverhead, part of the compute container's memory request */
  monitor: { budget: 25 * Mi, source: 'VirtLauncherMonitorOverhead 25Mi' },
  /** VirtLauncherOverhead */
  launcher: { budget: 100 * Mi, source: 'VirtLauncherOverhead 100Mi' },
  /** a containerDisk container: requests 1M, limits 40M */
  containerDisk: { budget: 40 * M, request: 1 * M, source: 'container-disk limits 40M (requests 1M)' },
  /** the guest-console-log container: requests 35M, limits 60M */
  virtTail: { budget: 60 * M, request: 35 * M, source: 'guest-console-log limits 60M (requests 35M)' },
} as const;

export interface ProcessFigure {
  rssMiB: number;
  budgetMiB: number;
  /** ours / budget */
  ratio: number;
  /** ours / the container's memory request, where it has one of its own */
  requestRatio?: number;
}

export interface PodFigures {
  launcherNodeArgs: string;
  monitor: ProcessFigure;
  launcher: ProcessFigure;
  containerDisks: Record<string, ProcessFigure>;
  virtTail: ProcessFigure & { linesFollowed: number };
  /** the four kinds summed, ours vs KubeVirt's budgets summed */
  totalRssMiB: number;
  totalBudgetMiB: number;
  budgets: Record<string, string>;
}

const exeName = (pid: number): string | undefined => {
  try {
    return path.basename(readlinkSync(`/proc/${pid}/exe`));
  } catch {
    return undefined;
  }
};

const children = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);

function figure(rssKiBValue: number, b: { budget: number; request?: number }): ProcessFigure {
  const bytes = rssKiBValue * 1024;
  return {
    rssMiB: round(rssKiBValue / 1024, 1),
    budgetMiB: round(b.budget / Mi, 1),
    ratio: round(bytes / b.budget, 2),
    ...(b.request === undefined ? {} : { requestRatio: round(bytes / b.request, 2) }),
  };
}

/** Waits until `pid` has exec'd `name` (unshare, sh and chroot exec their way to the program). */
function execed(pid: number, name: string, what: string): Promise<number> {
  return poll(`${what} exec'd ${name}`, async () => (exeName(pid) === name ? pid : undefined), 10_000);
}

/**
 * Starts a pod (launcher behind virt-launcher-monitor, the container-disk processes, virt-tail), runs
 * the test VM to a connected agent, settles for `settleMs` and reads each process's VmRSS.
 */
export async function measurePod(o: { entry: string; nodeArgs: readonly string[]; settleMs: number }): Promise<PodFigures> {
  const sandbox = await createPodSandbox();
  const cleanup: Array<() => Promise<unknown> | unknown> = [() => sandbox.destroy()];
  try {
    const recorder = await NotifyRecorder.listen(sandbox.hostPath(domainNotifyPipeSocketPath()));
    cleanup.push(() => recorder.close());
    const vmi = testVMI({ name: 'benchpod', uid: crypto.randomUUID() });
    const launcher = await startLauncher(sandbox, vmi, [], {
      entry: o.entry,
      nodeArgs: o.nodeArgs,
      monitor: nativeProgram('virt-launcher-monitor'),
    });
    cleanup.push(() => launcher.stop('SIGKILL'));
    const client = await cmdClient(launcher.cmdSocket);
    cleanup.push(() => client.close());

    // unshare (--fork) → the monitor, PID 1 of the container → node, the launcher
    const unshare = launcher.process.pid as number;
    const monitorPid = await poll('the monitor under unshare', async () => children(unshare)[0], 10_000);
    await execed(monitorPid, 'virt-launcher-monitor', 'PID 1');
    const launcherPid = await poll(
      "the launcher's node under the monitor",
      async () => children(monitorPid).find((c) => exeName(c) === path.basename(process.execPath)),
      10_000,
    );

    const disks = await startContainerDisks(sandbox, vmi.metadata.uid, vmi.spec.volumes);
    const diskPids = await Promise.all(disks.map((d) => execed(d.process.pid as number, 'container-disk', d.name)));

    // the guest-console-log container: virt-tail following what virtlogd writes, as uid 107 would
    const serialLog = `/var/run/kubevirt-private/${vmi.metadata.uid}/virt-serial0-log`;
    const tail: ChildProcess = sandbox.spawn(nativeProgram('virt-tail'), ['--logfile', serialLog], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VIRT_LAUNCHER_LOG_VERBOSITY: '2' },
    });
    sandbox.adopt(tail);
    let lines = 0;
    tail.stdout?.on('data', (d: Buffer) => (lines += d.toString().split('\n').length - 1));
    tail.stderr?.resume();
    const tailPid = await execed(tail.pid as number, 'virt-tail', 'guest-console-log');

    const r = await client.SyncVirtualMachine(asRequest(vmi));
    if (!r.success) throw new Error(`SyncVirtualMachine failed: ${r.message}`);
    await recorder.waitFor((e) => e.domain.Status.Status === 'Running', 60_000);
    await waitForAgent({ client }, 90_000);
    await poll('virt-tail printing the serial console', async () => (lines > 0 ? true : undefined), 30_000);
    await sleep(o.settleMs);

    const budgets = KUBEVIRT_BUDGETS;
    const monitor = figure(rssKiB(monitorPid), budgets.monitor);
    const launcherFig = figure(rssKiB(launcherPid), budgets.launcher);
    const containerDisks = Object.fromEntries(disks.map((d, i) => [d.name, figure(rssKiB(diskPids[i] as number), budgets.containerDisk)]));
    const virtTail = { ...figure(rssKiB(tailPid), budgets.virtTail), linesFollowed: lines };
    const diskFigs = Object.values(containerDisks);
    const totalRssMiB = round(monitor.rssMiB + launcherFig.rssMiB + virtTail.rssMiB + diskFigs.reduce((s, f) => s + f.rssMiB, 0), 1);
    const totalBudgetMiB = round(
      (budgets.monitor.budget + budgets.launcher.budget + budgets.virtTail.budget + diskFigs.length * budgets.containerDisk.budget) / Mi,
      1,
    );
    log(
      `  pod: monitor ${monitor.rssMiB}/${monitor.budgetMiB}, launcher ${launcherFig.rssMiB}/${launcherFig.budgetMiB}, ` +
        `${Object.entries(containerDisks)
          .map(([n, f]) => `${n} ${f.rssMiB}/${f.budgetMiB}`)
          .join(', ')}, virt-tail ${virtTail.rssMiB}/${virtTail.budgetMiB} MiB RSS/budget`,
    );
    return {
      launcherNodeArgs: o.nodeArgs.join(' '),
      monitor,
      launcher: launcherFig,
      containerDisks,
      virtTail,
      totalRssMiB,
      totalBudgetMiB,
      budgets: Object.fromEntries(Object.entries(budgets).map(([k, b]) => [k, b.source])),
    };
  } finally {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
  }
}
