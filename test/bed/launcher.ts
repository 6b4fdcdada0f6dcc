// Plays kubelet for a virt-launcher: stages the test guest's images where a launcher pod has them
// (kernel-boot artifacts and container disks in the container-disks volume) and runs the launcher
// inside a pod sandbox, as the compute container would.
import { once } from 'node:events';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { launcherSocketPath } from '@kubevirt-ts/shared';
import { guestArtifacts } from './guest.ts';
import type { PodSandbox } from './pod-sandbox.ts';

/** The uid of KubeVirt's default, non-root compute container (and virt-api's runtimeUser for it). */
export const NONROOT_UID = 107;
/** rendercontainer.go's env of a non-root compute container: libvirt's session paths. */
export const NONROOT_ENV = {
  XDG_CACHE_HOME: '/var/run/kubevirt-private',
  XDG_CONFIG_HOME: '/var/run/kubevirt-private',
  XDG_RUNTIME_DIR: '/var/run',
} as const;

export const LAUNCHER_MAIN = path.resolve(import.meta.dirname, '../../packages/launcher/src/main.ts');

export interface TestVMIOptions {
  name: string;
  namespace?: string;
  uid: string;
  /** Appended to the guest's kernel command line, e.g. `kvts.acpi=off`. */
  kernelArgs?: string;
  terminationGracePeriodSeconds?: number;
  /** A virtio memballoon (KubeVirt's default); off unless asked, the guest has no use for it. */
  autoattachMemBalloon?: boolean;
}

/** A VMI as virt-controller hands it over (phase Scheduled): the test guest, booted from kernelBoot. */
export function testVMI(o: TestVMIOptions) {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: o.name, namespace: o.namespace ?? 'default', uid: o.uid, labels: {}, annotations: {} },
    spec: {
      domain: {
        cpu: { cores: 1 },
        memory: { guest: '128Mi' },
        resources: { requests: { memory: '128Mi' } },
        machine: { type: 'q35' },
        firmware: {
          kernelBoot: {
            kernelArgs: `console=ttyS0 panic=-1 quiet ${o.kernelArgs ?? ''}`.trim(),
            container: { image: 'kubevirt-ts/testguest:kernel', kernelPath: '/boot/vmlinux', initrdPath: '/boot/initrd.img' },
          },
        },
        devices: {
          disks: [{ name: 'data', disk: { bus: 'virtio' } }],
          autoattachMemBalloon: o.autoattachMemBalloon ?? false,
        },
      },
      volumes: [{ name: 'data', containerDisk: { image: 'kubevirt-ts/testguest:data' } }],
      terminationGracePeriodSeconds: o.terminationGracePeriodSeconds ?? 5,
    },
    status: { phase: 'Scheduled' },
  };
}

/** The containerDisk image name that stands for the EFI test guest's disk (scripts/build-guest-efi). */
export const EFI_GUEST_IMAGE = 'kubevirt-ts/testguest:efi';

export interface TestEFIVMIOptions {
  name: string;
  namespace?: string;
  uid: string;
  secureBoot: boolean;
  /** virt-api's runtimeUser of a non-root VMI (107), which moves its nvram into the private dir. */
  runtimeUser?: number;
}

/**
 * An EFI VMI as virt-controller hands it over: the EFI test guest's disk as a containerDisk, booted
 * first by OVMF; SMM with secure boot (virt-api's webhook refuses secure boot without it).
 */
export function testEFIVMI(o: TestEFIVMIOptions) {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: o.name, namespace: o.namespace ?? 'default', uid: o.uid, labels: {}, annotations: {} },
    spec: {
      domain: {
        cpu: { cores: 1 },
        memory: { guest: '256Mi' },
        resources: { requests: { memory: '256Mi' } },
        machine: { type: 'q35' },
        firmware: { bootloader: { efi: { secureBoot: o.secureBoot } } },
        features: o.secureBoot ? { smm: { enabled: true } } : {},
        devices: { disks: [{ name: 'boot', bootOrder: 1, disk: { bus: 'virtio' } }], autoattachMemBalloon: false },
      },
      volumes: [{ name: 'boot', containerDisk: { image: EFI_GUEST_IMAGE } }],
      terminationGracePeriodSeconds: 5,
    },
    status: { phase: 'Scheduled', ...(o.runtimeUser === undefined ? {} : { runtimeUser: o.runtimeUser }) },
  };
}

/** A cmd RPC's VMIRequest carrying the VMI as JSON, as virt-handler sends it. */
export const asRequest = (vmi: object) => ({ vmi: { vmiJson: Buffer.from(JSON.stringify(vmi)) } });

function stage(from: string, to: string): void {
  mkdirSync(path.dirname(to), { recursive: true });
  if (existsSync(to)) return;
  try {
    linkSync(from, to); // same filesystem: no copy of a 66 MB kernel
  } catch {
    copyFileSync(from, to);
  }
}

/** The guest's images where KubeVirt's container-disk and kernel-boot containers would put them. */
export function stageGuestImages(sandbox: PodSandbox): void {
  const g = guestArtifacts();
  const disks = sandbox.volumePath('container-disks');
  stage(g.kernel, path.join(disks, 'kernel-boot', 'vmlinux'));
  stage(g.initrd, path.join(disks, 'kernel-boot', 'initrd.img'));
  stage(g.dataDisk, path.join(disks, 'disk_0.img'));
}

/**
 * Stops what a launcher test started, in order (console, gRPC client, handler, launcher, notify
 * recorder, pod sandbox); after a failed test, the launcher's log goes to stderr.
 */
export async function stopLauncherTest(parts: {
  serial?: { close(): void };
  client?: { close(): void };
  handler?: { stop(): Promise<unknown> };
  launcher?: RunningLauncher;
  recorder?: { close(): Promise<unknown> };
  sandbox?: { destroy(): Promise<unknown> };
}): Promise<void> {
  parts.serial?.close();
  parts.client?.close();
  await parts.handler?.stop();
  if (parts.launcher) {
    await parts.launcher.stop('SIGKILL');
    if (process.exitCode) console.error(parts.launcher.logs().slice(-20_000));
  }
  await parts.recorder?.close();
  await parts.sandbox?.destroy();
}

export interface RunningLauncher {
  readonly process: ChildProcess;
  /** Host-visible path of the launcher's cmd socket once ready. */
  readonly cmdSocket: string;
  /** Everything the launcher logged so far (JSON lines). */
  logs(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface LaunchOptions {
  readyTimeoutMs?: number;
  /** Put the guest's images in the container-disks volume (default); false when virt-handler mounts them. */
  stageImages?: boolean;
  /** The script node runs: the TS source (default) or a bundle. */
  entry?: string;
  /** node's own flags, before the entry. */
  nodeArgs?: readonly string[];
  env?: Readonly<Record<string, string>>;
  /**
   * The launcher's whole command line, as given (e.g. virt-controller's exact argv); by default
   * `--name/--namespace/--uid` of the VMI, `--allow-emulation` and `extraArgs`.
   */
  args?: readonly string[];
  /**
   * Run as KubeVirt's default (non-root) compute container: this uid and gid, no supplementary groups,
   * every capability dropped but NET_BIND_SERVICE (ambient, as virt-launcher-monitor hands it on), no
   * privilege escalation.
   */
  nonRootUser?: number;
  /**
   * Path of a virt-launcher-monitor: the launcher then runs behind it, the monitor as PID 1 of a
   * PID namespace of its own (with its own /proc), as in the compute container. That namespace (and
   * mount namespace) is not the sandbox's: end it with stop() (or by killing `process`, unshare
   * --kill-child), not only with the sandbox's destroy().
   */
  monitor?: string;
}

/** setpriv's arguments for a compute container's user: KubeVirt's securityContext of a non-root pod. */
export function nonRootCommand(uid: number, command: string, args: readonly string[]): [string, string[]] {
  return [
    'setpriv',
    [
      `--reuid=${uid}`,
      `--regid=${uid}`,
      '--clear-groups',
      '--inh-caps=-all,+net_bind_service',
      '--ambient-caps=-all,+net_bind_service',
      '--bounding-set=-all,+net_bind_service',
      '--no-new-privs',
      '--',
      command,
      ...args,
    ],
  ];
}

/**
 * The compute container's process tree: `monitor` as PID 1 of a new PID namespace, running node
 * with `args` (the launcher's node flags, entry and flags) through a wrapper it finds as
 * $KUBEVIRT_TS_VIRT_LAUNCHER. The returned process is unshare's; `monitorPid` resolves to PID 1's host PID.
 */
function spawnBehindMonitor(
  sandbox: PodSandbox,
  monitor: string,
  nodeArgs: readonly string[],
  launcherArgs: readonly string[],
  spawnOpts: SpawnOptions & { env: NodeJS.ProcessEnv },
): { child: ChildProcess; monitorPid: () => number | undefined } {
  const dir = mkdtempSync(path.join(tmpdir(), 'kvts-launcher-'));
  const wrapper = path.join(dir, 'virt-launcher');
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  writeFileSync(wrapper, `#!/bin/sh\nexec ${[process.execPath, ...nodeArgs].map(quote).join(' ')} "$@"\n`, { mode: 0o755 });
  const child = sandbox.spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', '--', monitor, ...launcherArgs], {
    ...spawnOpts,
    env: { ...spawnOpts.env, KUBEVIRT_TS_VIRT_LAUNCHER: wrapper },
  });
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const monitorPid = () => {
    try {
      const pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  return { child, monitorPid };
}

export async function startLauncher(
  sandbox: PodSandbox,
  vmi: { metadata: { name: string; namespace: string; uid: string } },
  extraArgs: readonly string[] = [],
  opts: LaunchOptions = {},
): Promise<RunningLauncher> {
  if (opts.stageImages !== false) stageGuestImages(sandbox);
  const args = [
    ...(opts.nodeArgs ?? []),
    opts.entry ?? LAUNCHER_MAIN,
    ...(opts.args ?? [
      '--name',
      vmi.metadata.name,
      '--namespace',
      vmi.metadata.namespace,
      '--uid',
      vmi.metadata.uid,
      '--allow-emulation',
      ...extraArgs,
    ]),
  ];
  const spawnOpts: SpawnOptions & { env: NodeJS.ProcessEnv } = { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } };
  const entryAt = (opts.nodeArgs?.length ?? 0) + 1;
  const behindMonitor =
    opts.monitor === undefined
      ? undefined
      : spawnBehindMonitor(sandbox, opts.monitor, args.slice(0, entryAt), args.slice(entryAt), spawnOpts);
  const [command, argv] =
    opts.nonRootUser === undefined ? [process.execPath, args] : nonRootCommand(opts.nonRootUser, process.execPath, args);
  const child = behindMonitor?.child ?? sandbox.spawn(command, argv, spawnOpts);
  let logs = '';
  const keep = (d: Buffer) => {
    logs += d.toString();
    if (logs.length > 2_000_000) logs = logs.slice(-1_000_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  const cmdSocket = sandbox.hostPath(launcherSocketPath());
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (!existsSync(cmdSocket)) {
    if (child.exitCode !== null) throw new Error(`virt-launcher exited (${child.exitCode}) before it was ready:\n${logs}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`virt-launcher not ready within ${opts.readyTimeoutMs ?? 60_000} ms:\n${logs}`);
    }
    await sleep(50);
  }
  return {
    process: child,
    cmdSocket,
    logs: () => logs,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        // behind a monitor the signal goes to it (PID 1), as the kubelet's does; unshare ignores SIGTERM
        const monitorPid = behindMonitor?.monitorPid();
        if (monitorPid === undefined) child.kill(signal);
        else process.kill(monitorPid, signal);
      }
      return exited;
    },
  };
}

/**
 * The compute container's arguments virt-controller renders (template.go) for VMI `testvmi` in
 * `default`; the conditional flags as asked.
 */
export function virtControllerArgv(
  uid: string,
  opts: { allowEmulation: boolean; hookSidecars?: number; runAsNonRoot?: boolean },
): string[] {
  return [
    '--qemu-timeout',
    '279s',
    '--name',
    'testvmi',
    '--uid',
    uid,
    '--namespace',
    'default',
    '--kubevirt-share-dir',
    '/var/run/kubevirt',
    '--ephemeral-disk-dir',
    '/var/run/kubevirt-ephemeral-disks',
    '--container-disk-dir',
    '/var/run/kubevirt/container-disks',
    '--grace-period-seconds',
    '45',
    '--hook-sidecars',
    String(opts.hookSidecars ?? 0),
    '--ovmf-path',
    '/usr/share/edk2/ovmf',
    '--disk-memory-limit',
    '2097152000',
    '--hypervisor',
    'kvm',
    ...(opts.runAsNonRoot ? ['--run-as-nonroot'] : []),
    ...(opts.allowEmulation ? ['--allow-emulation'] : []),
  ];
}
