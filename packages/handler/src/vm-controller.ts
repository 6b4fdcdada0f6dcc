// KubeVirt's VirtualMachineController (pkg/virt-handler/vm.go): a level-based reconcile of each VMI of
// this node against its launcher's domain. The queue carries `namespace/name` keys; execute() reads the
// VMI and the domain from the caches, decides shutdown / delete / cleanup / update as KubeVirt does,
// talks to the launcher, and writes the VMI status back with a full Update when it changed.
// Everything it talks to comes in as a narrow interface (main.ts wires the real ones), so its
// decisions are table-tested without a cluster, a launcher or a guest.
import { posix } from 'node:path';
import { vmiRequest, type cmdv1, type CmdClient } from '@kubevirt-ts/proto';
import {
  errorMessage,
  HotplugDiskDir,
  KubeVirtGroupVersion,
  NodeNameLabel,
  VirtualMachineInstanceKind,
  forObject,
  parseGuestAgentInfo,
  withReason,
  type Domain,
  type Logger,
  type VirtualMachineInstance,
  type VirtualMachineInstanceStatus,
  type VolumeStatus,
} from '@kubevirt-ts/shared';
import type { GhostRecord } from './launcher-clients.ts';
import type { ContainerDiskMounter } from './container-disk/mounter.ts';
import { WaitingForHotplugMountError, type HotplugVolumeMounter } from './hotplug-disk/mounter.ts';
import { SupportedGuestAgentVersions } from './cluster-config.ts';
import type { NetworkConfigurator } from './network/configurator.ts';
import type { VirtioFSOwnership } from './virtiofs.ts';
import { isCriticalNetworkError } from './network/errors.ts';
import type { PodFiles } from './pod-files.ts';
import type { Housekeeping } from './cgroup/housekeeping.ts';
import type { MemlockAdjuster } from './memlock.ts';
import { replacePVCByHostDisk, type HostDiskCreator } from './host-disk.ts';
import type { DeviceOwnership } from './device-ownership.ts';
import { runWorker, WorkQueue } from './workqueue.ts';
import { domainMigrated, isMigrating, isMigrationInProgress } from './migration/state.ts';
import {
  accessCredentialEvent,
  calculatePhase,
  calculateStatus,
  guestAgentConnected,
  hotplugVolumesPending,
  hotplugVolumesReady,
  isDomainAlive,
  isFinal,
  phaseOf,
  statusEqual,
  volumeStatusEvents,
  VolumePhase,
  type GuestAgentFacts,
  type LauncherState,
} from './vmi-status.ts';

/** The part of a VMI informer the controller uses. */
export interface VMIStore {
  get(namespace: string, name: string): VirtualMachineInstance | undefined;
  list(): VirtualMachineInstance[];
}

/** The domains the launchers reported (the DomainWatcher's cache), keyed `namespace/name`. */
export interface DomainStore {
  get(key: string): Domain | undefined;
  list(): Domain[];
  on(event: 'update' | 'delete', listener: (key: string) => void): unknown;
}

/** The Cmd calls the controller makes on a launcher. */
export type LauncherClient = Pick<
  CmdClient,
  | 'SyncVirtualMachine'
  | 'ShutdownVirtualMachine'
  | 'KillVirtualMachine'
  | 'DeleteVirtualMachine'
  | 'GetGuestInfo'
  | 'VirtualMachineMemoryDump'
>;

/** Finding a VMI's launcher and its client (LauncherClients). */
export interface LauncherClientFactory {
  /** The launcher found earlier (ghost record), if any. */
  record(uid: string): GhostRecord | undefined;
  ghostRecords(): GhostRecord[];
  findSocket(vmi: VirtualMachineInstance): { socket?: string; initializing: boolean };
  /** Records the first contact with a launcher (its ghost record). */
  remember(vmi: VirtualMachineInstance, socketFile: string): unknown;
  client(uid: string): Promise<LauncherClient>;
  resetClient(uid: string): void;
  isUnresponsive(socketFile: string): boolean;
  /** Forgets the launcher: client, notify pipe, ghost record. */
  close(uid: string): void;
}

/** Writes a VMI's new status (KubeVirt: a full Update of the VMI); rejects when the VMI changed meanwhile. */
export interface VMIStatusWriter {
  update(vmi: VirtualMachineInstance, status: VirtualMachineInstanceStatus): Promise<void>;
}

export interface EventRecorder {
  event(vmi: VirtualMachineInstance, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface ControllerMetrics {
  observeReconcile(seconds: number): void;
  setQueueDepth(depth: number): void;
}

export interface VirtualMachineControllerOptions {
  logger: Logger;
  /** This node's name: VMIs labelled for another node (migration targets) are not this controller's. */
  host: string;
  /** VMIs of this node (source) and migration targets on it. */
  vmis: VMIStore[];
  domains: DomainStore;
  launchers: LauncherClientFactory;
  statusWriter: VMIStatusWriter;
  recorder: EventRecorder;
  /** SyncVirtualMachine options for this VMI (KubeVirt's virtualMachineOptions: cluster config, topology, …). */
  syncOptions(vmi: VirtualMachineInstance): cmdv1.VirtualMachineOptions;
  /** Pod network phase 1, before each VMI's first SyncVirtualMachine (KubeVirt's netConf.Setup). */
  network?: NetworkConfigurator;
  /** containerDisk and kernel-boot images mounted into the launcher pod before its first SyncVirtualMachine. */
  containerDisks?: ContainerDiskMounter;
  /** Hotplugged volumes mounted from their attachment pods into the launcher pod, and unmounted again. */
  hotplugVolumes?: HotplugVolumeMounter;
  /** configureVirtioFS: the virtiofs sockets in the launcher pod given to the qemu user before the first sync. */
  virtioFS?: Pick<VirtioFSOwnership, 'configure'>;
  /** setupDevicesOwnerships before the first sync: the pod's devices and disks QEMU opens, the qemu user's. */
  deviceOwnership?: Pick<DeviceOwnership, 'setup'>;
  /** configureHostDisks before the first sync: the DiskOrCreate images the launcher pod lacks. */
  hostDisks?: Pick<HostDiskCreator, 'create'>;
  /** AdjustResources before the first sync: the libvirt daemon's memlock limit for VMIs that lock memory. */
  memlock?: Pick<MemlockAdjuster, 'adjust'>;
  /** DownwardMetricsManager: the metrics server of each running VMI with the downwardMetrics device. */
  downwardMetrics?: { startServer(vmi: VirtualMachineInstance): void; stopServer(vmiUID: string): void };
  /** HandleHousekeeping after each sync: QEMU's non-vCPU threads onto the emulator thread's CPUs. */
  housekeeping?: Pick<Housekeeping, 'handle'>;
  /** The node labeller's host-model CPU ('' when the node has none): LiveMigratable of a host-model VMI. */
  hostCPUModel?(): string;
  /** The VMI's migration listeners, closed with the rest at cleanup. */
  migrationProxy?: { stopSourceListener(uid: string): void; stopTargetListener(uid: string): void };
  /** The cluster's supportedGuestAgentVersions, for an agent that lists no commands (KubeVirt's defaults when absent). */
  supportedAgentVersions?(): string[];
  /** ISO sizes and the SELinux context for the status, from the launcher pod. */
  podFiles?: PodFiles;
  metrics?: ControllerMetrics;
  clock?: Clock;
  workers?: number;
  /** How long a launcher may show no socket before it counts as gone (KubeVirt: 3 min). */
  launcherStartTimeoutMs?: number;
}

/** KubeVirt re-sends ShutdownVirtualMachine at least this often while the grace period runs. */
export const SHUTDOWN_RESEND_MS = 5_000;
/** How soon a VMI whose launcher is still starting is looked at again. */
export const LAUNCHER_INITIALIZING_REQUEUE_MS = 1_000;
/** How soon a VMI whose container disks are not served yet is looked at again. */
export const CONTAINER_DISKS_REQUEUE_MS = 1_000;
/** How soon a VMI waiting for a hotplug volume's mount, or with one not yet attached, is looked at again. */
export const HOTPLUG_REQUEUE_MS = 1_000;
/** How soon a failed SyncVirtualMachine is retried. */
export const SYNC_FAILED_REQUEUE_MS = 5_000;
/** KubeVirt's default launcher start timeout (3 min). */
export const LAUNCHER_START_TIMEOUT_MS = 180_000;
/** The grace period when neither the VMI nor the domain has one (KubeVirt's default). */
export const DEFAULT_GRACE_PERIOD_SECONDS = 30;
/** Workers when none are asked for (main.ts asks for KubeVirt's 10). */
const DEFAULT_WORKERS = 3;

export const systemClock: Clock = { now: () => Date.now() };

export class VirtualMachineController {
  readonly #o: VirtualMachineControllerOptions;
  readonly queue = new WorkQueue();
  readonly #clock: Clock;
  /** VMI UID → when its graceful shutdown began. */
  readonly #graceStart = new Map<string, number>();
  /** VMI UID → first time no launcher socket was found. */
  readonly #notInitializedSince = new Map<string, number>();
  /** VMI UID → first time its start was prepared (containerDisks' NotInitializedSince). */
  readonly #startingSince = new Map<string, number>();
  #running: Promise<void>[] = [];

  constructor(opts: VirtualMachineControllerOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Enqueue on every VMI and domain change; then run the workers. */
  run(): void {
    const enqueue = (key: string) => {
      this.queue.add(key);
      this.#o.metrics?.setQueueDepth(this.queue.length);
    };
    this.#o.domains.on('update', (key) => enqueue(key));
    this.#o.domains.on('delete', (key) => enqueue(key));
    for (const d of this.#o.domains.list()) enqueue(keyOf(d.ObjectMeta));
    for (const store of this.#o.vmis) for (const vmi of store.list()) enqueue(keyOf(vmi.metadata));
    for (let i = 0; i < (this.#o.workers ?? DEFAULT_WORKERS); i++) {
      this.#running.push(
        runWorker(this.queue, {
          execute: (key) => this.execute(key),
          onError: (key, err) => withReason(this.#o.logger, err).error(`reenqueuing VirtualMachineInstance ${key}`),
          onDone: (seconds) => {
            this.#o.metrics?.observeReconcile(seconds);
            this.#o.metrics?.setQueueDepth(this.queue.length);
          },
        }),
      );
    }
  }

  /** For the informers' add/update/delete handlers. */
  enqueueVMI(vmi: VirtualMachineInstance): void {
    this.queue.add(keyOf(vmi.metadata));
  }

  async stop(): Promise<void> {
    this.queue.shutdown();
    await Promise.all(this.#running);
  }

  /** One reconcile of a key; resolves to a delay when the key must be looked at again. */
  async execute(key: string): Promise<number | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    let vmi = this.#o.vmis.map((s) => s.get(namespace, name)).find((v) => v !== undefined);
    let domain = this.#o.domains.get(key);
    // a domain left by an earlier VMI of the same name is not this VMI's
    const domainUID = domain?.Spec.Metadata.KubeVirt.UID || domain?.ObjectMeta.uid;
    if (vmi && domain && domainUID && domainUID !== vmi.metadata.uid) vmi = undefined;
    const uid = vmi?.metadata.uid ?? domainUID ?? this.#uidFromGhostRecord(namespace, name);
    // made on first use: a child logger serializes its bindings, and most rounds log nothing
    let logger: Logger | undefined;
    const log = () =>
      (logger ??= vmi ? forObject(this.#o.logger, vmi) : this.#o.logger.child({ kind: VirtualMachineInstanceKind, name, namespace, uid }));

    // a domain reported by a launcher this handler never found: there is no one to talk to
    if (!vmi && uid && !this.#o.launchers.record(uid) && !this.#uidFromGhostRecord(namespace, name)) {
      log().info('domain without a VMI or a known launcher: nothing to do');
      return undefined;
    }
    // the source's domain after a successful migration: the guest runs on the target now
    if (domainMigrated(domain) && uid) {
      log().debug('detected orphan vmi');
      await this.#processVmDelete(vmi, uid, log);
      await this.#processVmCleanup(uid, log);
      return undefined;
    }
    if (vmi && phaseOf(vmi) === 'Failed' && isMigrating(vmi, this.#clock.now()) && uid) {
      log().info(`cleaning up VMI key ${key} as migration is in progress and the vmi is failed`);
      await this.#processVmCleanup(uid, log);
    }
    // the migration controllers have the VMI meanwhile
    if (!vmi?.metadata.deletionTimestamp && isMigrationInProgress(vmi, domain)) {
      log().debug(`ignoring key ${key} as migration is in progress`);
      return undefined;
    }
    // a VMI of another node (a migration target here) is not this controller's (isVMIOwnedByNode)
    if (vmi && vmi.metadata.labels?.[NodeNameLabel] !== this.#o.host) {
      log().debug('ignoring vmi as it is not owned by this node');
      return undefined;
    }
    const domainExists = domain !== undefined;
    const domainAlive = isDomainAlive(domain);
    const gone = !vmi || Boolean(vmi.metadata.deletionTimestamp) || isFinal(phaseOf(vmi));

    if (gone && domainAlive && uid) return this.#processVmShutdown(vmi, domain!, uid, log);
    if (gone && domainExists && uid) {
      await this.#processVmDelete(vmi, uid, log);
      if (vmi) await this.#updateStatus(vmi, domain, this.#launcherState(vmi, false), undefined);
      return undefined;
    }
    if (gone) {
      if (uid) await this.#processVmCleanup(uid, log);
      if (vmi) await this.#updateStatus(vmi, undefined, this.#launcherState(vmi, false), undefined);
      return undefined;
    }

    // an active (or about to be active) VMI
    vmi = vmi!;
    const launcher = this.#launcherState(vmi);
    let syncError: string | undefined;
    let syncErrorIsCritical = false;
    let requeue: number | undefined;
    // only while the VMI's phase agrees with the domain's (KubeVirt's start-flow optimisation)
    if (calculatePhase({ vmi, domain, launcher }) === phaseOf(vmi)) {
      if (launcher === 'initializing') {
        requeue = LAUNCHER_INITIALIZING_REQUEUE_MS;
      } else if (launcher === 'ready') {
        try {
          const running = phaseOf(vmi) === 'Running';
          // the VMI as the launcher gets it: filesystem claims as hostDisks (the status keeps the VMI's own);
          // the node logger, as KubeVirt's log.Log: a VMI logger would be made on every round
          const synced = replacePVCByHostDisk(vmi, this.#o.logger);
          if (!domain && !(await this.#handleStartingVMI(synced))) {
            requeue = CONTAINER_DISKS_REQUEUE_MS;
          } else {
            if (running) requeue = await this.#handleRunningVMI(vmi);
            const created = await this.#processVmUpdate(synced, domain);
            if (created) this.#o.recorder.event(vmi, 'Normal', 'Created', 'VirtualMachineInstance defined.');
            await this.#o.housekeeping?.handle(vmi, domain);
            // the disks no longer in the spec were detached by this sync: their mounts go
            if (running) await this.#o.hotplugVolumes?.unmount(vmi);
          }
        } catch (err) {
          syncError = errorMessage(err);
          syncErrorIsCritical = isCriticalSyncError(err);
          log().error({ reason: syncError }, 'Synchronizing the VirtualMachineInstance failed.');
          this.#o.recorder.event(vmi, 'Warning', 'SyncFailed', syncError);
          requeue = SYNC_FAILED_REQUEUE_MS;
        }
      }
    }
    domain = this.#o.domains.get(key) ?? domain;
    if (syncErrorIsCritical) log().error('virt-launcher reached a critical error. Updating the VirtualMachineInstance status to Failed');
    const status = await this.#updateStatus(vmi, domain, launcher, syncError, syncErrorIsCritical);
    if (status && hotplugVolumesPending(status)) requeue = Math.min(requeue ?? HOTPLUG_REQUEUE_MS, HOTPLUG_REQUEUE_MS);
    return requeue;
  }

  #uidFromGhostRecord(namespace: string, name: string): string | undefined {
    return this.#o.launchers.ghostRecords().find((r) => r.namespace === namespace && r.name === name)?.uid;
  }

  /**
   * Where the VMI's launcher is in its life (KubeVirt's isLauncherClientUnresponsive). A first found
   * socket is remembered (ghost record) only when `discover`: a VMI on its way out must not get one back.
   */
  #launcherState(vmi: VirtualMachineInstance, discover = true): LauncherState {
    const uid = vmi.metadata.uid;
    const known = this.#o.launchers.record(uid);
    if (known) return this.#o.launchers.isUnresponsive(known.socketFile) ? 'unresponsive' : 'ready';
    const found = this.#o.launchers.findSocket(vmi);
    if (found.socket) {
      if (this.#o.launchers.isUnresponsive(found.socket)) return 'unresponsive';
      if (!discover) return 'ready';
      this.#o.launchers.remember(vmi, found.socket);
      this.#notInitializedSince.delete(uid);
      return 'ready';
    }
    const now = this.#clock.now();
    const since = this.#notInitializedSince.get(uid) ?? now;
    this.#notInitializedSince.set(uid, since);
    if (!found.initializing && now - since > (this.#o.launcherStartTimeoutMs ?? LAUNCHER_START_TIMEOUT_MS)) return 'unresponsive';
    return 'initializing';
  }

  /**
   * handleStartingVMI: false while the container disks are not served yet, or a hotplugged volume is
   * not mounted into the pod yet; mounts what is there.
   */
  async #handleStartingVMI(vmi: VirtualMachineInstance): Promise<boolean> {
    const mounter = this.#o.containerDisks;
    if (mounter) {
      const uid = vmi.metadata.uid;
      const since = this.#startingSince.get(uid) ?? this.#clock.now();
      this.#startingSince.set(uid, since);
      if (!mounter.containerDisksReady(vmi, since)) return false;
      await mounter.mountAndVerify(vmi);
    }
    if ((await this.#mountHotplugVolumes(vmi)) !== undefined) return false;
    if (!hotplugVolumesReady(vmi)) return false;
    // setupDevicesOwnerships: the host disks' images, the devices and disks QEMU opens, the virtiofs sockets
    // (one not there yet fails this sync)
    this.#o.hostDisks?.create(vmi);
    this.#o.deviceOwnership?.setup(vmi);
    this.#o.virtioFS?.configure(vmi);
    await this.#o.memlock?.adjust(vmi);
    return true;
  }

  /**
   * handleRunningVMI's hotplug part: new hotplugged volumes mounted before the sync attaches them; the
   * memory dumps the status has in progress asked of the launcher; the downward metrics server started.
   */
  async #handleRunningVMI(vmi: VirtualMachineInstance): Promise<number | undefined> {
    const requeue = await this.#mountHotplugVolumes(vmi);
    await this.#getMemoryDump(vmi);
    this.#o.downwardMetrics?.startServer(vmi);
    return requeue;
  }

  /**
   * getMemoryDump: VirtualMachineMemoryDump for each memory dump volume InProgress. The launcher dumps
   * in the background and ignores a file it already took up, so asking again each round is harmless.
   */
  async #getMemoryDump(vmi: VirtualMachineInstance): Promise<void> {
    for (const volumeStatus of vmi.status?.volumeStatus ?? []) {
      if (!volumeStatus.memoryDumpVolume || volumeStatus.phase !== VolumePhase.MemoryDumpInProgress) continue;
      try {
        const client = await this.#client(vmi.metadata.uid);
        forObject(this.#o.logger, vmi).debug('sending memory dump command');
        const res = await client.VirtualMachineMemoryDump({ ...vmiRequest(vmi), dumpPath: memoryDumpPath(volumeStatus) });
        if (!res.success) throw new Error(res.message || 'VirtualMachineMemoryDump failed');
      } catch (err) {
        throw new Error(`failed to getting memory dump: ${errorMessage(err)}`, { cause: err });
      }
    }
  }

  /** hotplugVolumeMounter.Mount: a requeue while an attachment pod is not found; other errors fail the sync. */
  async #mountHotplugVolumes(vmi: VirtualMachineInstance): Promise<number | undefined> {
    try {
      await this.#o.hotplugVolumes?.mount(vmi);
      return undefined;
    } catch (err) {
      if (err instanceof WaitingForHotplugMountError) {
        forObject(this.#o.logger, vmi).debug(`waiting for hotplug volumes to be mounted: ${errorMessage(err)}`);
        return HOTPLUG_REQUEUE_MS;
      }
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.#o.recorder.event(vmi, 'Warning', 'HotplugFailed', errorMessage(err));
        return undefined;
      }
      throw err;
    }
  }

  /** SyncVirtualMachine: define and start the domain, or bring it in line with the VMI. */
  async #processVmUpdate(vmi: VirtualMachineInstance, domain: Domain | undefined): Promise<boolean> {
    const client = await this.#client(vmi.metadata.uid);
    const options = this.#o.syncOptions(vmi);
    if (this.#o.network) options.interfaceDomainAttachment = await this.#o.network.setupPodNetworkPhase1(vmi);
    const res = await client.SyncVirtualMachine({ ...vmiRequest(vmi), options });
    if (!res.success && res.message.includes('EFI OVMF rom missing')) {
      throw new CriticalSecureBootError(`mismatch of Secure Boot setting and bootloaders: ${res.message}`);
    }
    if (!res.success) throw new Error(res.message || 'SyncVirtualMachine failed');
    return domain === undefined;
  }

  /** processVmShutdown: ACPI shutdown within the grace period, re-sent every few seconds; then kill. */
  async #processVmShutdown(vmi: VirtualMachineInstance | undefined, domain: Domain, uid: string, log: () => Logger): Promise<number> {
    const graceSeconds =
      vmi?.spec.terminationGracePeriodSeconds ??
      domain.Spec.Metadata.KubeVirt.GracePeriod?.DeletionGracePeriodSeconds ??
      DEFAULT_GRACE_PERIOD_SECONDS;
    const now = this.#clock.now();
    const first = !this.#graceStart.has(uid);
    const start = this.#graceStart.get(uid) ?? now;
    const remaining = start + graceSeconds * 1000 - now;
    const client = await this.#client(uid);
    const request = vmiRequest(vmi ?? minimalVMI(domain, uid));
    if (remaining <= 0 || graceSeconds === 0) {
      const res = await client.KillVirtualMachine(request);
      if (!res.success) throw new Error(res.message || 'KillVirtualMachine failed');
      log().info('grace period expired, killing deleted VirtualMachineInstance');
      if (vmi) this.#o.recorder.event(vmi, 'Normal', 'Deleted', 'Signaled Deletion');
      return SHUTDOWN_RESEND_MS;
    }
    const res = await client.ShutdownVirtualMachine(request);
    if (!res.success) throw new Error(res.message || 'ShutdownVirtualMachine failed');
    // the grace period runs from the first shutdown the launcher took (KubeVirt: the launcher's
    // DeletionTimestamp), so a refused first attempt still gets its ShuttingDown Event
    this.#graceStart.set(uid, start);
    if (first) {
      log().info('Signaled graceful shutdown for VirtualMachineInstance');
      if (vmi) this.#o.recorder.event(vmi, 'Normal', 'ShuttingDown', 'Signaled Graceful Shutdown');
    }
    return Math.min(SHUTDOWN_RESEND_MS, remaining);
  }

  /** processVmDelete: the domain is down; have the launcher undefine it. */
  async #processVmDelete(vmi: VirtualMachineInstance | undefined, uid: string, log: () => Logger): Promise<void> {
    const client = await this.#client(uid);
    const domain = this.#o.domains.get(vmi ? keyOf(vmi.metadata) : '');
    const res = await client.DeleteVirtualMachine(vmiRequest(vmi ?? minimalVMI(domain, uid)));
    if (!res.success) throw new Error(res.message || 'DeleteVirtualMachine failed');
    log().info('Signaled deletion for VirtualMachineInstance');
  }

  /** processVmCleanup: the domain is gone; unmount its disks, forget the launcher (client, pipe, ghost record). */
  async #processVmCleanup(uid: string, log: () => Logger): Promise<void> {
    this.#o.downwardMetrics?.stopServer(uid);
    this.#o.migrationProxy?.stopTargetListener(uid);
    this.#o.migrationProxy?.stopSourceListener(uid);
    await this.#o.hotplugVolumes?.unmountAll(uid, log());
    await this.#o.containerDisks?.unmount(uid, log());
    this.#startingSince.delete(uid);
    if (!this.#o.launchers.record(uid) && !this.#graceStart.has(uid)) return;
    this.#o.launchers.close(uid);
    this.#o.network?.teardown(uid);
    this.#graceStart.delete(uid);
    this.#notInitializedSince.delete(uid);
    log().info('cleaned up the launcher of the VirtualMachineInstance');
  }

  async #client(uid: string): Promise<LauncherClient> {
    try {
      return await this.#o.launchers.client(uid);
    } catch (err) {
      this.#o.launchers.resetClient(uid);
      throw new Error(`unable to create virt-launcher client connection: ${errorMessage(err)}`, { cause: err });
    }
  }

  /**
   * updateVMIStatus: a full Update only when the status changed; the phase change's Event after it.
   * `launcher` is the state this round already found (the status is calculated once per round).
   */
  async #updateStatus(
    vmi: VirtualMachineInstance,
    domain: Domain | undefined,
    launcher: LauncherState,
    syncError: string | undefined,
    syncErrorIsCritical = false,
  ): Promise<VirtualMachineInstanceStatus | undefined> {
    const uid = vmi.metadata.uid;
    const network = this.#o.network;
    const podIfaceIPs = network ? (iface: string) => network.podInterfaceIPs(uid, iface) : undefined;
    const files = this.#o.podFiles;
    const live = !isFinal(phaseOf(vmi)) && launcher === 'ready';
    const status = calculateStatus({
      vmi,
      domain,
      launcher,
      syncError,
      syncErrorIsCritical,
      now: new Date(this.#clock.now()),
      podIfaceIPs,
      host: this.#o.host,
      ...(this.#o.hostCPUModel ? { hostCPUModel: this.#o.hostCPUModel() } : {}),
      guestAgent: live && guestAgentConnected(domain) ? await this.#guestAgentFacts(uid) : undefined,
      ...(files && live ? { isoSizes: (path: string) => files.fileSize(uid, path), selinuxContext: files.selinuxContext(uid) } : {}),
      ...(this.#o.hotplugVolumes ? { hotplugMounted: (volume: string) => this.#hotplugMounted(vmi, volume) } : {}),
    });
    if (statusEqual(status, vmi.status ?? {})) return status;
    const credEvent = accessCredentialEvent(vmi.status ?? {}, status);
    if (credEvent) this.#o.recorder.event(vmi, credEvent.type, credEvent.reason, credEvent.message);
    await this.#o.statusWriter.update(vmi, status);
    for (const e of volumeStatusEvents(vmi.status?.volumeStatus ?? [], status.volumeStatus ?? [])) {
      this.#o.recorder.event(vmi, 'Normal', e.reason, e.message);
    }
    const wasFailed = new Set((vmi.status?.volumeStatus ?? []).filter((v) => v.phase === VolumePhase.MemoryDumpFailed).map((v) => v.name));
    for (const v of status.volumeStatus ?? []) {
      if (v.phase === VolumePhase.MemoryDumpFailed && !wasFailed.has(v.name)) forObject(this.#o.logger, vmi).error(v.message ?? '');
    }
    const oldPhase = phaseOf(vmi);
    const newPhase = String(status.phase ?? '');
    if (newPhase !== oldPhase) {
      if (newPhase === 'Running') this.#o.recorder.event(vmi, 'Normal', 'Started', 'VirtualMachineInstance started.');
      if (newPhase === 'Succeeded') this.#o.recorder.event(vmi, 'Normal', 'Stopped', 'The VirtualMachineInstance was shut down.');
      if (newPhase === 'Failed') this.#o.recorder.event(vmi, 'Warning', 'Stopped', 'The VirtualMachineInstance crashed.');
    }
    return status;
  }

  /** IsMounted; an error is logged and counts as not mounted, as in KubeVirt. */
  #hotplugMounted(vmi: VirtualMachineInstance, volume: string): boolean {
    try {
      return this.#o.hotplugVolumes?.isMounted(vmi, volume) ?? false;
    } catch (err) {
      forObject(this.#o.logger, vmi).error({ reason: errorMessage(err) }, 'error occurred while checking if volume is mounted');
      return false;
    }
  }

  /** updateGuestAgentConditions' GetGuestInfo: a failure fails the status update, as in KubeVirt. */
  async #guestAgentFacts(uid: string): Promise<GuestAgentFacts> {
    const client = await this.#client(uid);
    const res = await client.GetGuestInfo({});
    const info = res.guestInfoResponse === '' ? {} : parseGuestAgentInfo(JSON.parse(res.guestInfoResponse));
    return {
      guestAgentVersion: info.guestAgentVersion ?? '',
      supportedCommands: info.supportedCommands ?? [],
      supportedVersions: this.#o.supportedAgentVersions?.() ?? SupportedGuestAgentVersions.split(','),
    };
  }
}

/** virtLauncherCriticalSecurebootError: the launcher has no firmware for the VMI's Secure Boot setting. */
export class CriticalSecureBootError extends Error {
  override name = 'CriticalSecureBootError';
}

/** handleSyncError's errors that fail the VMI: a critical network error, a Secure Boot mismatch. */
export function isCriticalSyncError(err: unknown): boolean {
  return isCriticalNetworkError(err) || err instanceof CriticalSecureBootError;
}

/** memoryDumpPath: the dump file in the volume's directory as the launcher sees it (GetVolumeMountDir). */
export function memoryDumpPath(volumeStatus: VolumeStatus): string {
  return posix.join(HotplugDiskDir, volumeStatus.name, volumeStatus.memoryDumpVolume?.targetFileName ?? '');
}

const keyOf = (meta: { namespace?: string | null; name?: string | null }) => `${meta.namespace ?? ''}/${meta.name ?? ''}`;

/** The VMI a launcher needs for shutdown/kill/delete when the VMI itself is gone. */
function minimalVMI(domain: Domain | undefined, uid: string) {
  return {
    apiVersion: KubeVirtGroupVersion,
    kind: VirtualMachineInstanceKind,
    metadata: { name: domain?.ObjectMeta.name ?? '', namespace: domain?.ObjectMeta.namespace ?? '', uid },
    spec: { domain: { devices: {} } },
  };
}
