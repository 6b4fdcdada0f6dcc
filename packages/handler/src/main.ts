#!/usr/bin/env node
// virt-handler (cmd/virt-handler): parses flags and wires the parts together, in KubeVirt's order.
import { Mounter, nodeMountNamespace } from './container-disk/mounter.ts';
import { HotplugMounter } from './hotplug-disk/mounter.ts';
import { LauncherDeviceCgroup } from './cgroup/devices.ts';
import { Housekeeping } from './cgroup/housekeeping.ts';
import { MemlockAdjuster } from './memlock.ts';
import { HostDiskCreator } from './host-disk.ts';
import { DeviceOwnership } from './device-ownership.ts';
import { mkdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import {
  createLogger,
  domainNotifySocketPath,
  exitOnFlagError,
  ghostRecordDir,
  networkInfoCacheBaseDir,
  parseFlags,
  VirtShareDir,
  withReason,
  type Logger,
  type VirtualMachineInstance,
} from '@kubevirt-ts/shared';
import { handlerFlags, type HandlerFlags } from './flags.ts';
import { PooledKubeConfig } from './kubeconfig.ts';
import { createVMIInformers, type VMIInformer } from './informers.ts';
import { createClusterConfig } from './cluster-config.ts';
import { cpuManagerPaths, Heartbeat } from './heartbeat.ts';
import { DeviceController, devicePermissions, hostRootMount, permanentHostDevicePlugins } from './device-manager/device-controller.ts';
import { EventRecorder } from './recorder.ts';
import { handlerNamespace, watchCABundle } from './ca-bundle.ts';
import { LauncherClients } from './launcher-clients.ts';
import { DomainWatcher } from './domain-watcher.ts';
import { PodNetworkConfigurator } from './network/configurator.ts';
import { LauncherPodFiles } from './pod-files.ts';
import { VirtioFSOwnership } from './virtiofs.ts';
import { VirtualMachineController } from './vm-controller.ts';
import { KubeVMIStatusWriter } from './vmi-status-writer.ts';
import { createHandlerMetrics, collectDomainStats, parseDomainStats, readDomainStats } from './metrics.ts';
import { startConsoleServer } from './rest/console-server.ts';
import { startHealthServer } from './rest/health-server.ts';
import { NodeLabeller } from './node-labeller.ts';
import { startVMStatsServer, VMStatsCollectorFeatureGate } from './vmstats.ts';
import { ProfileManager } from './profiler.ts';
import { KSMHandler } from './ksm.ts';
import { DownwardMetricsManager } from './downward-metrics/server.ts';
import { DownwardMetricsCollector } from './downward-metrics/collector.ts';
import { guestMetrics, hostMetrics } from './downward-metrics/metrics.ts';
import { KubevirtSeccompProfileFeatureGate, shouldInstallKubevirtSeccompProfile } from './seccomp/seccomp.ts';
import { preallocatedVolumes, readHostCapabilities, virtualMachineOptions, type HostCapabilities } from './options.ts';
import { MigrationProxyManager, type MigrationTLS } from './migration-proxy.ts';
import { MigrationSourceController } from './migration/source.ts';
import { MigrationTargetController } from './migration/target.ts';
import { findMigrationIP, migrationOptionsFor } from './migration/options.ts';
import { MigrationStatsHandler } from './migration/stats.ts';

function loadKubeConfig(f: HandlerFlags): PooledKubeConfig {
  const kc = new PooledKubeConfig();
  if (f.kubeconfig) kc.loadFromFile(f.kubeconfig);
  else kc.loadFromDefault(); // $KUBECONFIG, ~/.kube/config, or in-cluster
  if (f.master) {
    // client-go's BuildConfigFromFlags: --master overrides the server the kubeconfig names
    const current = kc.getCurrentCluster();
    if (current) kc.clusters = kc.clusters.map((c) => (c.name === current.name ? { ...c, server: f.master } : c));
    else kc.loadFromClusterAndUser({ name: 'master', server: f.master, skipTLSVerify: false }, { name: 'default' });
  }
  return kc;
}

export async function runHandler(f: HandlerFlags, signal: AbortSignal): Promise<number> {
  const host = f['hostname-override'] || os.hostname();
  const logger: Logger = createLogger({ component: 'virt-handler', verbosity: f.v });
  logger.info({ hostname: host }, 'virt-handler starting');
  // KubeVirt refuses to start without it; here only migrations to this node need it
  if (!f['pod-ip-address']) logger.error('no --pod-ip-address: VMIs cannot migrate to this node');
  // a migration0 interface without an address stops the handler, as KubeVirt's panics
  const migrationIPAddress = findMigrationIP(f['pod-ip-address']);
  const kc = loadKubeConfig(f);
  const namespace = handlerNamespace();

  // the directories KubeVirt's handler owns
  mkdirSync(f['kubevirt-share-dir'], { recursive: true, mode: 0o755 });
  mkdirSync(ghostRecordDir(f['kubevirt-private-dir']), { recursive: true, mode: 0o700 });
  mkdirSync(networkInfoCacheBaseDir(f['kubevirt-private-dir']), { recursive: true, mode: 0o700 });

  let ready = false;
  const clusterConfig = createClusterConfig({ kc, logger });
  clusterConfig.onChange(() =>
    shouldInstallKubevirtSeccompProfile(clusterConfig.isFeatureGateEnabled(KubevirtSeccompProfileFeatureGate), f['kubelet-root'], logger),
  );
  // device-manager: kvm, tun and vhost-net for the kubelet; the node is schedulable only once they are registered
  const devices = new DeviceController({
    logger,
    permanentPlugins: permanentHostDevicePlugins({
      hypervisorDevice: 'kvm',
      maxDevices: f['max-devices'],
      permissions: devicePermissions(),
      kubeletRoot: f['kubelet-root'],
      logger,
    }),
  });
  const heartbeat = new Heartbeat({
    kc,
    host,
    logger,
    isReady: () => ready && devices.initialized(),
    cpuManagerFeatureEnabled: () => clusterConfig.isFeatureGateEnabled('CPUManager'),
    cpuManagerPaths: cpuManagerPaths(f['kubelet-root'], hostRootMount()),
  });
  await heartbeat.markNodeAsUnschedulable();

  const { source, target } = createVMIInformers(kc, host, logger);
  const recorder = new EventRecorder({ kc, host, logger });
  const metrics = createHandlerMetrics();
  // KubeVirt reads node-labeller.sh's files at start (and panics without them); here a node without them is
  // only left unlabelled, so the handler also runs where no init container ran (a test bed, a dev box).
  let labeller: NodeLabeller | undefined;
  try {
    labeller = new NodeLabeller({ kc, host, logger, clusterConfig, volumePath: f['node-labeller-dir'], recorder });
  } catch (err) {
    withReason(logger, err).error(`node-labeller could not load ${f['node-labeller-dir']}: the node is not labelled`);
  }

  // the host's NUMA topology for every Sync; KubeVirt panics without the file, here the topology is left empty
  let capabilities: HostCapabilities | null = null;
  try {
    capabilities = readHostCapabilities(f['node-labeller-dir']);
  } catch (err) {
    withReason(logger, err).error(
      `could not read the host capabilities in ${f['node-labeller-dir']}: no NUMA topology is sent to launchers`,
    );
  }

  const findVMI = (namespace: string, name: string): VirtualMachineInstance | undefined =>
    source.get(namespace, name) ?? target.get(namespace, name);
  const launchers = new LauncherClients({
    logger,
    podsBaseDir: f['pods-base-dir'],
    privateDir: f['kubevirt-private-dir'],
    launcherShareDir: VirtShareDir,
    notifyConnection: (socket) => domains.serveNotifyConnection(socket),
    host,
  });
  const domains = new DomainWatcher({
    logger,
    notifySocket: domainNotifySocketPath(f['kubevirt-share-dir']),
    launchers,
    watchdogTimeoutMs: f['watchdog-timeout'],
    resyncPeriodMs: f['domain-resync-period-seconds'] * 1000,
    // HandleK8sEvent: an Event on the VMI the launcher runs, if it is still that VMI
    recordK8sEvent: (e) => {
      const vmi = findVMI(e.involvedObject.namespace, e.involvedObject.name);
      if (!vmi || vmi.metadata.uid !== e.involvedObject.uid) throw new Error('VMI not found');
      recorder.event(vmi, e.type === 'Warning' ? 'Warning' : 'Normal', e.reason, e.message);
    },
  });
  domains.on('update', () => metrics.notifyEvents.inc({ event_type: 'MODIFIED' }));
  domains.on('delete', () => metrics.notifyEvents.inc({ event_type: 'DELETED' }));
  await Promise.all([clusterConfig.start(), source.start(), target.start()]);
  await domains.start();

  // Report: QEMU's version and the domain's stats from the launcher, then the node's own figures
  const reportDownwardMetrics = async (vmi: VirtualMachineInstance) => {
    const client = await launchers.client(vmi.metadata.uid);
    const version = (await client.GetQemuVersion({})).version || 'qemu-unknown';
    const stats = parseDomainStats((await client.GetDomainStats({})).domainStats);
    if (!stats?.Name) throw new Error(`disappearing VM ${vmi.metadata.namespace}/${vmi.metadata.name}, ignored`);
    return [...guestMetrics(host, version, stats), ...hostMetrics()];
  };
  const downwardMetrics = new DownwardMetricsManager({
    logger,
    pathInLauncher: (uid, p) => launchers.pathInLauncher(uid, p),
    report: reportDownwardMetrics,
  });
  const downwardMetricsCollector = new DownwardMetricsCollector({
    logger,
    vmis: () => source.list(),
    pathInLauncher: (uid, p) => launchers.pathInLauncher(uid, p),
    report: reportDownwardMetrics,
  });
  const network = new PodNetworkConfigurator({
    logger,
    privateDir: f['kubevirt-private-dir'],
    launcherPid: (uid) => launchers.launcherPid(uid),
  });
  const containerDisks = new Mounter({
    logger,
    host,
    podsBaseDir: f['pods-base-dir'],
    kubeletPodsDir: f['kubelet-pods-dir'],
    stateDir: path.join(f['kubevirt-private-dir'], 'container-disk-mount-state'),
    node: nodeMountNamespace(),
  });
  const hotplugVolumes = new HotplugMounter({
    logger,
    host,
    podsBaseDir: f['pods-base-dir'],
    kubeletPodsDir: f['kubelet-pods-dir'],
    stateDir: path.join(f['kubevirt-private-dir'], 'hotplug-volume-mount-state'),
    node: nodeMountNamespace(),
    deviceRules: new LauncherDeviceCgroup({
      logger,
      launcherPid: (uid) => launchers.launcherPid(uid),
      cgroupRoot: path.join(hostRootMount(), 'sys/fs/cgroup'),
      allowEmulation: () => clusterConfig.allowEmulation(),
    }),
  });
  const memlock = new MemlockAdjuster({ logger, launcherPid: (uid) => launchers.launcherPid(uid) });
  const deviceOwnership = new DeviceOwnership({
    pathInLauncher: (uid, p) => launchers.pathInLauncher(uid, p),
    allowEmulation: () => clusterConfig.allowEmulation(),
  });
  const hostDisks = new HostDiskCreator({
    logger,
    recorder,
    pathInLauncher: (uid, p) => launchers.pathInLauncher(uid, p),
    lessPVCSpaceToleration: () => clusterConfig.getLessPVCSpaceToleration(),
    minimumReservePVCBytes: () => clusterConfig.getMinimumReservePVCBytes(),
  });
  const virtioFS = new VirtioFSOwnership({ launcherPid: (uid) => launchers.launcherPid(uid) });
  const syncOptions = (vmi: VirtualMachineInstance) =>
    virtualMachineOptions(vmi, {
      smbios: clusterConfig.getSMBIOS(),
      period: clusterConfig.getMemBalloonStatsPeriod(),
      preallocatedVolumes: preallocatedVolumes(vmi),
      capabilities,
      clusterConfig,
    });
  const statusWriter = new KubeVMIStatusWriter(kc);
  // the node's certificate (REST for virt-api, health/metrics, the migration proxy) and the client CA bundle
  const readTLS = () => ({
    cert: readFileSync(f['tls-cert-file'], 'utf8'),
    key: readFileSync(f['tls-key-file'], 'utf8'),
  });
  const caBundle = watchCABundle({ kc, namespace, configMapName: f['ca-configmap-name'], file: f['ca-bundle-file'] || undefined, logger });
  // KubeVirt serves without a CA until the kubevirt-ca configmap shows up (every client is refused till then)
  await caBundle.start();
  const ca = caBundle.current() ?? '';
  if (!ca) logger.warn(`no client CA bundle yet (configmap ${f['ca-configmap-name']}): client certificates are refused until it appears`);

  // live migration's proxy between the two handlers (the VirtualMachineController closes its listeners too)
  const caOf = () => caBundle.current() ?? '';
  const migrationTLS = (): MigrationTLS | undefined => {
    if (clusterConfig.getMigrationConfiguration().disableTLS === true) return undefined;
    const externallyManaged = f['externally-managed'];
    return {
      server: { ...readTLS(), ca: caOf(), cnTypes: f['migration-cn-types'], externallyManaged },
      client: {
        cert: readFileSync(f['migration-client-cert-file'], 'utf8'),
        key: readFileSync(f['migration-client-key-file'], 'utf8'),
        ca: caOf(),
        externallyManaged,
      },
    };
  };
  const migrationProxy = new MigrationProxyManager({ tls: migrationTLS, logger });

  const controller = new VirtualMachineController({
    logger,
    host,
    vmis: [source, target],
    domains,
    launchers,
    statusWriter,
    recorder,
    metrics,
    network,
    containerDisks,
    hotplugVolumes,
    podFiles: new LauncherPodFiles({ launcherPid: (uid) => launchers.launcherPid(uid) }),
    memlock,
    deviceOwnership,
    hostDisks,
    housekeeping: new Housekeeping({
      logger,
      launcherPid: (uid) => launchers.launcherPid(uid),
      cgroupRoot: path.join(hostRootMount(), 'sys/fs/cgroup'),
    }),
    virtioFS,
    downwardMetrics,
    supportedAgentVersions: () => clusterConfig.getSupportedAgentVersions(),
    workers: 10, // cmd/virt-handler: vmController.Run(10, stop)
    syncOptions,
    migrationProxy,
    // KubeVirt reads it from the node labeller; without node-labeller files there is none
    hostCPUModel: () => labeller?.data.hostCPUModel.name ?? '',
  });

  // live migration: the source's and the target's controllers
  const migrationSource = new MigrationSourceController({
    logger,
    host,
    vmis: source,
    domains,
    launcherClient: (uid) => launchers.client(uid),
    pathInLauncher: (uid, p) => launchers.pathInLauncher(uid, p),
    proxy: migrationProxy,
    migrationOptions: (vmi) =>
      migrationOptionsFor(vmi, {
        clusterMigrations: clusterConfig.getMigrationConfiguration(),
        isFeatureGateEnabled: (gate) => clusterConfig.isFeatureGateEnabled(gate),
      }),
    statusWriter,
    recorder,
  });
  const migrationTarget = new MigrationTargetController({
    logger,
    host,
    migrationIPAddress,
    vmis: target,
    domains,
    launchers: {
      // the target pod's launcher, found (and remembered) as the VirtualMachineController finds a VMI's
      client: async (vmi) => (launchers.discover(vmi) ? launchers.client(vmi.metadata.uid) : undefined),
      resetClient: (uid) => launchers.resetClient(uid),
      close: (uid) => launchers.close(uid),
    },
    pathInLauncher: (uid, p) => launchers.pathInLauncher(uid, p),
    proxy: migrationProxy,
    statusWriter,
    recorder,
    syncOptions,
    containerDisks,
    hotplugVolumes,
    network,
    deviceOwnership,
    virtioFS,
    hostDisks,
    memlock,
  });
  // the migration metrics of this node's migrating VMIs (migrationdomainstats)
  const migrationStats = new MigrationStatsHandler({
    logger,
    currentVMI: (namespace, name) => source.get(namespace, name),
    // collectionTimeout: 10 s
    scrape: async (vmi) => (await readDomainStats(await launchers.client(vmi.metadata.uid), 10_000))?.MigrateDomainJobInfo ?? undefined,
  });
  source.on('add', (vmi) => migrationStats.handle(vmi));
  source.on('update', (vmi) => migrationStats.handle(vmi));
  const onEveryChange = (informer: VMIInformer, fn: (vmi: VirtualMachineInstance) => void) => {
    informer.on('add', fn);
    informer.on('update', fn);
    informer.on('delete', fn);
  };
  onEveryChange(source, (vmi) => {
    controller.enqueueVMI(vmi);
    migrationSource.enqueueVMI(vmi);
  });
  onEveryChange(target, (vmi) => {
    controller.enqueueVMI(vmi);
    migrationTarget.enqueueVMI(vmi);
  });
  devices.run();
  controller.run();
  migrationSource.run();
  migrationTarget.run();
  downwardMetricsCollector.run();
  if (f['enable-node-labeller']) labeller?.run();
  const ksm = new KSMHandler({ kc, host, logger, clusterConfig, ksmPath: path.join(hostRootMount(), 'sys/kernel/mm/ksm') });
  ksm.run();

  const consoleServer = await startConsoleServer(
    {
      logger,
      vmiStore: { get: findVMI },
      launcherClient: async (vmi) => {
        if (!launchers.discover(vmi))
          throw new Error(`unable to find the virt-launcher socket of VMI ${vmi.metadata.namespace}/${vmi.metadata.name}`);
        try {
          return await launchers.client(vmi.metadata.uid);
        } catch (err) {
          launchers.resetClient(vmi.metadata.uid);
          throw err;
        }
      },
      launcherSocketPath: async (vmi, inLauncher) => launchers.pathInLauncher(vmi.metadata.uid, inLauncher),
      recorder,
      metrics,
    },
    { host: f.listen, port: f['console-server-port'], tls: { ...readTLS(), ca, externallyManaged: f['externally-managed'] } },
  );
  const vmStatsServer = await startVMStatsServer(
    {
      logger,
      vmis: () => source.list(),
      launcherClient: (vmi) => launchers.client(vmi.metadata.uid),
      featureGateEnabled: () => clusterConfig.isFeatureGateEnabled(VMStatsCollectorFeatureGate),
      maxRequests: f['max-metric-requests'],
    },
    { host: f.listen, port: f['vmstats-server-port'], tls: { ...readTLS(), ca, externallyManaged: f['externally-managed'] } },
  );
  caBundle.onChange((bundle) => {
    consoleServer.updateTLS({ ...readTLS(), ca: bundle, externallyManaged: f['externally-managed'] });
    vmStatsServer.updateTLS({ ...readTLS(), ca: bundle, externallyManaged: f['externally-managed'] });
  });

  const collectVMIStats = collectDomainStats({
    metrics,
    maxRequests: f['max-metric-requests'],
    vmis: () => source.list(),
    launcherClient: (vmi) => launchers.client(vmi.metadata.uid),
    logger,
  });
  const profiler = new ProfileManager({ enabled: () => clusterConfig.clusterProfilerEnabled() });
  const healthServer = await startHealthServer({
    profiler,
    host: f.listen,
    port: f.port,
    tls: { ...readTLS(), ca },
    registry: metrics.registry,
    ready: () => ready,
    collect: async () => {
      await collectVMIStats();
      metrics.resetMigrationStats();
      for (const r of migrationStats.collect()) metrics.recordMigrationStats(r.vmi, r.job);
    },
    logger,
  });

  ready = true;
  heartbeat.run();
  logger.info(
    { consoleServerPort: consoleServer.port, port: healthServer.port, vmStatsServerPort: vmStatsServer.port },
    'virt-handler is ready',
  );

  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  logger.info('virt-handler shutting down');
  ready = false;
  // the migrations under way finish (within --graceful-shutdown-seconds); no new one starts
  migrationProxy.initiateGracefulShutdown();
  const deadline = Date.now() + f['graceful-shutdown-seconds'] * 1000;
  while (migrationProxy.openListenerCount() > 0 && Date.now() < deadline) {
    logger.info(`waiting for ${migrationProxy.openListenerCount()} migration listeners to terminate`);
    await sleep(Math.min(10_000, Math.max(0, deadline - Date.now())));
  }
  if (migrationProxy.openListenerCount() > 0) logger.error('Timed out waiting for migration listeners to terminate');
  await migrationSource.stop();
  await migrationTarget.stop();
  migrationStats.stop();
  await heartbeat.stop();
  await devices.stop();
  await labeller?.stop();
  await ksm.stop();
  await consoleServer.close();
  await vmStatsServer.close();
  await healthServer.close();
  await profiler.close();
  await controller.stop();
  downwardMetrics.stop();
  await downwardMetricsCollector.stop();
  await domains.stop();
  caBundle.stop();
  source.stop();
  target.stop();
  clusterConfig.stop();
  launchers.closeAll();
  recorder.stop?.();
  return 0;
}

if (import.meta.main) {
  const flags = exitOnFlagError(() => parseFlags(handlerFlags, process.argv.slice(2), { program: 'virt-handler' }));
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
  runHandler(flags, stop.signal).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`virt-handler: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
