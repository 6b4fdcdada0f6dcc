#!/usr/bin/env node
// virt-launcher (cmd/virt-launcher): parses flags and wires the parts together, in KubeVirt's order.
import './zod-jitless.ts';
import { chmodSync, chownSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Connection } from '@kubevirt-ts/libvirt';
import { cmdClient, listenUnix, stopServer } from '@kubevirt-ts/proto';
import {
  VirtPrivateDir,
  DownwardMetricsChannelDir,
  QEMU_UID,
  createLogger,
  exitOnFlagError,
  launcherInitSocketPath,
  launcherSocketPath,
  parseFlags,
  socketsDirectory,
  vmiNameToDomainName,
  vmiPrivateDir,
  type Logger,
} from '@kubevirt-ts/shared';
import { LIBVIRT_RUNTIME_DIR, libvirtEnvOptions, setupLibvirt, startLibvirt, startVirtlog } from './libvirt-setup.ts';
import {
  effectiveVerbosity,
  hypervisorDevice,
  launcherFlags,
  parseLauncherEnv,
  unsupportedFeatures,
  type LauncherEnv,
  type LauncherFlags,
} from './flags.ts';
import { DomainManager } from './domain-manager.ts';
import { detectEFIEnvironment } from './converter/index.ts';
import { createLauncherCmdServer } from './cmd-server.ts';
import { Notifier } from './notifier.ts';
import { AgentPoller } from './agent-poller.ts';
import { DomainEventMonitor } from './event-monitor.ts';
import { PodNetworkPhase2 } from './network/phase2.ts';
import { QEMU_NONROOT_PID_DIR, QEMU_PID_DIR, waitForQemuExit } from './process-monitor.ts';
import { HooksManager, applySidecarHooks } from './hooks/manager.ts';
import { preCloudInitIsoHook } from './hooks/cloud-init.ts';

const EMULATOR = '/usr/bin/qemu-system-x86_64';

function initializeDirs(f: LauncherFlags): void {
  for (const dir of [
    f['kubevirt-share-dir'],
    socketsDirectory(f['kubevirt-share-dir']),
    vmiPrivateDir(f.uid),
    path.join(f['ephemeral-disk-dir'], 'cloud-init-data'),
    path.join(f['ephemeral-disk-dir'], 'container-disk-data'),
    path.join(f['ephemeral-disk-dir'], 'disk-data'),
    path.join(f['ephemeral-disk-dir'], 'empty-disks'),
    f['container-disk-dir'],
    f['hotplug-disk-dir'],
  ]) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  }
  // InitializeDisksDirectories: QEMU (the qemu user) binds the downward metrics socket here
  mkdirSync(DownwardMetricsChannelDir, { recursive: true, mode: 0o750 });
  chmodSync(DownwardMetricsChannelDir, 0o750);
  chownSync(DownwardMetricsChannelDir, QEMU_UID, QEMU_UID);
}

/** libvirtd takes a moment to create its socket; KubeVirt's NewConnection waits up to its timeout. */
/**
 * createLibvirtConnection: the system daemon as root; non-root, the session daemon the launcher runs
 * (KubeVirt's `qemu+unix:///session?socket=/var/run/libvirt/virtqemud-sock`; libvirtd's is libvirt-sock).
 */
function libvirtEndpoint(nonRoot: boolean): { uri: string; socketPath?: string } {
  return nonRoot ? { uri: 'qemu:///session', socketPath: path.join(LIBVIRT_RUNTIME_DIR, 'libvirt-sock') } : { uri: 'qemu:///system' };
}

/** `virtqemud-sock`, KubeVirt's libvirt socket, as another name of libvirtd's own. */
function linkVirtqemudSocket(): void {
  const link = path.join(LIBVIRT_RUNTIME_DIR, 'virtqemud-sock');
  rmSync(link, { force: true });
  symlinkSync('libvirt-sock', link);
}

/** What virt-controller renders into a non-root compute container, for a launcher started without it. */
const NONROOT_XDG = {
  XDG_CACHE_HOME: VirtPrivateDir,
  XDG_CONFIG_HOME: VirtPrivateDir,
  XDG_RUNTIME_DIR: '/var/run',
};

async function connectLibvirt(logger: Logger, timeoutMs: number, nonRoot: boolean): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await connect({
        ...libvirtEndpoint(nonRoot),
        timeoutMs: 10_000,
        events: ['lifecycle', 'reboot', 'agentLifecycle', 'deviceAdded', 'deviceRemoved', 'memoryDeviceSizeChange'],
      });
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`failed to connect to libvirtd: ${String(err)}`);
      logger.debug({ reason: String(err) }, 'libvirt not ready yet');
      await sleep(100);
    }
  }
}

async function selfPing(socketPath: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const client = await cmdClient(socketPath);
      try {
        const r = await client.Ping({});
        if (r.success) return;
      } finally {
        client.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`failed to connect to cmd server: ${String(err)}`);
    }
    await sleep(1000);
  }
}

/** NewLibvirtDomainManager's check: is the hypervisor's device in this mount namespace? */
function hypervisorDeviceAvailable(device: string): boolean {
  try {
    statSync(device);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new Error(`failed to stat hypervisor device ${device}: ${String(err)}`);
  }
}

export async function runLauncher(f: LauncherFlags, env: LauncherEnv = parseLauncherEnv(process.env)): Promise<number> {
  const { verbosity, warning } = effectiveVerbosity(f, env);
  const logger = createLogger({ component: 'virt-launcher', verbosity }).child({
    kind: 'VirtualMachineInstance',
    name: f.name,
    namespace: f.namespace,
    uid: f.uid,
  });
  if (warning !== undefined) logger.warn(warning);
  else if (env.VIRT_LAUNCHER_LOG_VERBOSITY !== undefined) logger.info(`set log verbosity to ${verbosity}`);
  logger.info(`Hypervisor set to ${f.hypervisor}`);
  const signals = new AbortController();
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const) {
    process.on(s, () => {
      logger.info(`Received signal ${s}`);
      signals.abort();
    });
  }

  initializeDirs(f);
  if (f['simulate-crash']) throw new Error('Simulated virt-launcher crash');
  // Block until all requested hook sidecars are ready (KubeVirt panics when they are not in time)
  const hooks = new HooksManager({ logger });
  if (f['hook-sidecars'] > 0) await hooks.collect(f['hook-sidecars'], f['qemu-timeout']);
  const unsupported = unsupportedFeatures(f);
  for (const feature of unsupported) logger.warn(`${feature}: every SyncVirtualMachine will fail`);
  // KubeVirt's non-root mode: libvirt as a session daemon of the launcher's user (uid 107). A launcher
  // that is root all the same runs the system daemon: a root libvirtd is never a session daemon.
  const nonRoot = f['run-as-nonroot'] && process.getuid?.() !== 0;
  if (f['run-as-nonroot'] && !nonRoot) logger.warn('--run-as-nonroot, but running as root: libvirt runs as the system daemon');
  if (nonRoot) {
    // libvirt's session paths follow XDG_*; the daemons inherit them
    for (const [name, value] of Object.entries(NONROOT_XDG)) process.env[name] ??= env[name as keyof LauncherEnv] ?? value;
  }

  const kvm = hypervisorDeviceAvailable(hypervisorDevice(f.hypervisor));
  const libvirtConfig = setupLibvirt({
    customLogFilters: f['libvirt-log-filters'],
    ...libvirtEnvOptions(env),
    nonRoot,
    logger,
  });
  const virtlogd = startVirtlog(logger, libvirtConfig);
  const libvirtd = startLibvirt(logger, libvirtConfig);
  const conn = await connectLibvirt(logger, 30_000, nonRoot);
  // virt-handler's migration proxy dials virtqemud's socket in the target pod; ours is libvirtd's
  linkVirtqemudSocket();
  // libvirt probes QEMU's capabilities (~1 s here) at the first call that needs them, which would be
  // the first Sync's define. Asked now, libvirt probes while the handler is still finding this launcher.
  void conn
    .connectGetDomainCapabilities(EMULATOR, 'x86_64', null, kvm ? 'kvm' : 'qemu')
    .catch((err: unknown) => logger.warn({ reason: String(err) }, 'probing the hypervisor capabilities failed'));

  const domainName = vmiNameToDomainName(f.namespace, f.name);
  const pidDir = nonRoot ? QEMU_NONROOT_PID_DIR : QEMU_PID_DIR;
  const notifier = new Notifier({ virtShareDir: f['kubevirt-share-dir'], logger });
  const agentPoller = new AgentPoller({
    conn,
    logger,
    intervals: {
      sysMs: f['qemu-agent-sys-interval'],
      fileMs: f['qemu-agent-file-interval'],
      userMs: f['qemu-agent-user-interval'],
      versionMs: f['qemu-agent-version-interval'],
      fsFreezeStatusMs: f['qemu-fsfreeze-status-interval'],
    },
  });
  const podNetwork = new PodNetworkPhase2({ logger, privateDir: VirtPrivateDir });
  const domainManager = new DomainManager({
    conn,
    logger,
    notifier,
    network: podNetwork,
    agent: agentPoller.store,
    diskMemoryLimitBytes: f['disk-memory-limit'],
    onDefineDomain: applySidecarHooks(hooks),
    preCloudInitIso: preCloudInitIsoHook(hooks),
    converter: {
      allowEmulation: f['allow-emulation'],
      hypervisorDeviceAvailable: kvm,
      virtShareDir: f['kubevirt-share-dir'],
      privateDir: VirtPrivateDir,
      containerDiskDir: f['container-disk-dir'],
      ephemeralDiskDir: f['ephemeral-disk-dir'],
      emulatorPath: EMULATOR,
      efiEnvironment: detectEFIEnvironment(f['ovmf-path']),
      firmwareAutoSelection: f['firmware-auto-selection'],
    },
  });

  const initSocket = launcherInitSocketPath(f['kubevirt-share-dir']);
  const readySocket = launcherSocketPath(f['kubevirt-share-dir']);
  // SignalTargetPodCleanup: a target pod whose migration will not come stops waiting for its domain
  const earlyExit = new AbortController();
  const server = createLauncherCmdServer(domainManager, logger, {
    unsupportedFeatures: unsupported,
    ...(env.POD_NAME === undefined ? {} : { podName: env.POD_NAME }),
    onEarlyExit: () => earlyExit.abort(),
  });
  await listenUnix(server, initSocket);
  await selfPing(initSocket);

  const monitor = new DomainEventMonitor({ conn, domainManager, notifier, agentPoller, logger });
  // a signal before any domain exists ends the wait at once: nothing to shut down or report
  const added = once(monitor, 'added', { signal: signals.signal }).then(
    () => 'added' as const,
    () => 'signal' as const,
  );
  const deleted = once(monitor, 'deleted').catch(() => undefined);
  monitor.start();

  renameSync(initSocket, readySocket);
  logger.info('Marked as ready');

  let exitCode = 0;
  const qemuTimeout = sleep(f['qemu-timeout'], 'timeout' as const, { signal: signals.signal }).catch(() => 'signal' as const);
  const early = once(earlyExit.signal, 'abort').then(() => 'early-exit' as const);
  const first = await Promise.race([added, qemuTimeout, early]);
  if (first === 'early-exit') {
    logger.error('received early exit signal');
    exitCode = 1;
  } else if (first === 'timeout') {
    logger.error(`timed out waiting for domain to be defined within ${f['qemu-timeout'] / 1000}s`);
    exitCode = 1;
  } else if (first === 'added') {
    const domain = await domainManager.getDomain();
    const uuid = domain?.Spec.UUID ?? '';
    logger.info(`Detected domain with UUID ${uuid}`);
    const why = await waitForQemuExit(domainName, uuid, { signal: signals.signal, startTimeoutMs: f['qemu-timeout'], pidDir });
    if (why === 'signal') await gracefulShutdown(domainManager, f, logger, pidDir);
    // Allow hooks to gracefully shutdown
    await hooks.shutdown().catch((err: unknown) => logger.error({ reason: String(err) }, 'Failed to run Shutdown'));
    // QEMU can be gone before libvirt's STOPPED event is handled: report the stopped state (how the
    // guest ended decides Succeeded vs Failed in the handler) before the domain is undefined.
    await monitor.waitForStopped(5_000);
    await finalNotify(domainManager, f, logger, deleted, why === 'signal' ? 0 : 15_000);
  }

  logger.info('Exiting...');
  await domainManager.stop();
  await monitor.drain();
  // a domain's final events must reach the handler; a launcher stopped before it had a domain has
  // nothing the handler must learn (KubeVirt's exits at once), so it does not wait for one that is away
  if (first !== 'signal') await notifier.flush(10_000);
  notifier.close();
  await stopServer(server).catch(() => undefined);
  rmSync(readySocket, { force: true });
  agentPoller.stop();
  await conn.close();
  await libvirtd.stop();
  await virtlogd.stop();
  return exitCode;
}

const vmiRef = (f: LauncherFlags) =>
  ({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: f.name, namespace: f.namespace, uid: f.uid },
    spec: { domain: { devices: {} } },
  }) as const;

/** SIGTERM: the ACPI power button for the grace period, then destroy. */
async function gracefulShutdown(dm: DomainManager, f: LauncherFlags, logger: Logger, pidDir: string): Promise<void> {
  const vmi = vmiRef(f);
  const domainName = vmiNameToDomainName(f.namespace, f.name);
  const deadline = Date.now() + f['grace-period-seconds'] * 1000;
  await dm.signalShutdownVMI(vmi).catch((err: unknown) => logger.error({ reason: String(err) }, 'graceful shutdown failed'));
  const uuid = (await dm.getDomain())?.Spec.UUID ?? '';
  const stop = AbortSignal.timeout(Math.max(0, deadline - Date.now()));
  if ((await waitForQemuExit(domainName, uuid, { signal: stop, startTimeoutMs: 0, intervalMs: 200, pidDir })) === 'signal') {
    logger.info(`Grace period of ${f['grace-period-seconds']}s expired, killing the domain`);
    await dm.killVMI(vmi).catch((err: unknown) => logger.error({ reason: String(err) }, 'kill failed'));
  }
}

/**
 * waitForFinalNotify: the domain's deletion must reach the handler before we exit. The handler deletes
 * it after it saw it stop; a launcher that is terminating (or waited long enough) undefines it itself.
 */
async function finalNotify(dm: DomainManager, f: LauncherFlags, logger: Logger, deleted: Promise<unknown>, waitMs: number): Promise<void> {
  logger.info('Waiting on final notifications to be sent to virt-handler.');
  if ((await Promise.race([deleted.then(() => 'deleted'), sleep(waitMs, 'timeout')])) === 'deleted') return;
  await dm.killVMI(vmiRef(f)).catch(() => undefined);
  await dm.deleteVMI(vmiRef(f)).catch((err: unknown) => logger.error({ reason: String(err) }, 'could not undefine the domain'));
  if ((await Promise.race([deleted.then(() => 'deleted'), sleep(30_000, 'timeout')])) === 'timeout') {
    logger.info('Timed out waiting for final delete notification.');
  }
}

if (import.meta.main) {
  const flags = exitOnFlagError(() => parseFlags(launcherFlags, process.argv.slice(2), { program: 'virt-launcher' }));
  runLauncher(flags).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`virt-launcher: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
