// KubeVirt's MigrationTargetController (pkg/virt-handler/migration-target.go): on the node a VMI
// migrates to (label kubevirt.io/migrationTargetNodeName), the target pod is prepared as for a new
// domain (disks mounted, pod network, device ownership, SyncMigrationTarget), the target's proxy
// listeners opened and published in the VMI for the source; once the launcher reports the migrated
// domain running, the VMI is moved to this node (labels, nodeName), the migration finalized (hotplug
// of CPUs and memory asked for meanwhile, FinalizeVirtualMachineMigration) and the listeners closed.
// A failed migration's target pod is told to go.
import { vmiRequest, type cmdv1, type CmdClient } from '@kubevirt-ts/proto';
import {
  errorMessage,
  forObject,
  k8sTime,
  migrationPorts,
  migrationProxyKey,
  migrationSourceUnixFile,
  MigrationTargetNodeNameLabel,
  NodeNameLabel,
  OutdatedLauncherImageLabel,
  quantityValue,
  VirtShareDir,
  withReason,
  type Domain,
  type Logger,
  type VirtualMachineInstance,
  type VirtualMachineInstanceCondition,
  type VirtualMachineInstanceStatus,
} from '@kubevirt-ts/shared';
import { replacePVCByHostDisk } from '../host-disk.ts';
import { statusEqual } from '../vmi-status.ts';
import type { ContainerDiskMounter } from '../container-disk/mounter.ts';
import { WaitingForHotplugMountError, type HotplugVolumeMounter } from '../hotplug-disk/mounter.ts';
import type { NetworkConfigurator } from '../network/configurator.ts';
import type { DeviceOwnership } from '../device-ownership.ts';
import type { VirtioFSOwnership } from '../virtiofs.ts';
import type { MemlockAdjuster } from '../memlock.ts';
import type { HostDiskCreator } from '../host-disk.ts';
import type { MigrationProxyManager } from '../migration-proxy.ts';
import { systemClock, type Clock, type EventRecorder, type VMIStatusWriter, type VMIStore } from '../vm-controller.ts';
import { KeyedController, soonerRequeue } from '../workqueue.ts';
import {
  abortInProgress,
  domainAlive,
  domainIsActiveOnTarget,
  domainPausedFailedPostCopy,
  isMigrating,
  migrationNeedsFinalization,
} from './state.ts';

/** The Cmd calls the target controller makes. */
export type TargetLauncherClient = Pick<
  CmdClient,
  | 'SyncMigrationTarget'
  | 'FinalizeVirtualMachineMigration'
  | 'SignalTargetPodCleanup'
  | 'SyncVirtualMachineCPUs'
  | 'SyncVirtualMachineMemory'
>;

/** The target's launcher: found in the target pod on this node (activePods), and let go again. */
export interface TargetLaunchers {
  /** The client of the VMI's launcher on this node; undefined while its socket is not there yet. */
  client(vmi: VirtualMachineInstance): Promise<TargetLauncherClient | undefined>;
  /** CloseLauncherClient: the connection only (the notify pipe stays: the VMI stays on this node). */
  resetClient(uid: string): void;
  /** A failed migration's launcher: client, notify pipe and ghost record. */
  close(uid: string): void;
}

/** The domain cache: a failed migration's domain is not this node's any more. */
export interface TargetDomainStore {
  get(key: string): Domain | undefined;
  on(event: 'update' | 'delete', listener: (key: string) => void): unknown;
  delete(key: string): void;
}

export interface MigrationTargetControllerOptions {
  logger: Logger;
  host: string;
  /** --pod-ip-address (or the migration network's): where the source dials this node's listeners. */
  migrationIPAddress: string;
  /** The VMIs migrating to this node. */
  vmis: VMIStore;
  domains: TargetDomainStore;
  launchers: TargetLaunchers;
  pathInLauncher(uid: string, p: string): string;
  proxy: Pick<MigrationProxyManager, 'startTargetListener' | 'stopTargetListener' | 'getTargetListenerPorts'>;
  statusWriter: VMIStatusWriter;
  recorder: EventRecorder;
  /** virtualMachineOptions for the target (and for the CPU and memory hotplug after the migration). */
  syncOptions(vmi: VirtualMachineInstance): cmdv1.VirtualMachineOptions;
  containerDisks?: Pick<ContainerDiskMounter, 'containerDisksReady' | 'mountAndVerify' | 'unmount'>;
  /** The hotplugged volumes, from the target's attachment pod (migrationState.targetAttachmentPodUID). */
  hotplugVolumes?: Pick<HotplugVolumeMounter, 'mount' | 'unmountAll'>;
  network?: Pick<NetworkConfigurator, 'setupPodNetworkPhase1' | 'teardown'>;
  deviceOwnership?: Pick<DeviceOwnership, 'setup'>;
  virtioFS?: Pick<VirtioFSOwnership, 'configure'>;
  hostDisks?: Pick<HostDiskCreator, 'create'>;
  memlock?: Pick<MemlockAdjuster, 'adjust'>;
  clock?: Clock;
  workers?: number;
}

export const VMIMigrationTargetPrepared = 'VirtualMachineInstance Migration Target Prepared.';
/** How soon a target waiting (for its launcher, its disks, its listeners) is looked at again. */
export const TARGET_REQUEUE_MS = 1_000;
/** v1.VirtualMachineInstanceVCPUChange, v1.VirtualMachineInstanceMemoryChange, MigrationRequired */
export const HotVCPUChange = 'HotVCPUChange';
export const HotMemoryChange = 'HotMemoryChange';
export const MigrationRequired = 'MigrationRequired';
/** Labels virt-controller puts on a VMI whose pod was sized for a hotplug. */
export const VirtualMachinePodCPULimitsLabel = 'kubevirt.io/vmPodCPULimits';
export const VirtualMachinePodMemoryRequestsLabel = 'kubevirt.io/vmPodMemoryRequests';
export const MemoryHotplugOverheadRatioLabel = 'kubevirt.io/memoryHotplugOverheadRatio';
export const EvictionSourceAnnotation = 'kubevirt.io/eviction-source';
export const CreateMigrationTargetAnnotation = 'kubevirt.io/create-migration-target';

/** The VMI as this controller changes it: status and metadata (labels, annotations). */
type Work = { vmi: VirtualMachineInstance; status: VirtualMachineInstanceStatus };

export class MigrationTargetController extends KeyedController {
  readonly #o: MigrationTargetControllerOptions;
  readonly #clock: Clock;
  /** VMI UID → when its containerDisks were first waited for. */
  readonly #startingSince = new Map<string, number>();

  constructor(opts: MigrationTargetControllerOptions) {
    super({ logger: opts.logger, workers: opts.workers ?? 5, vmis: opts.vmis, domains: opts.domains });
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  async execute(key: string): Promise<number | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    const vmi = this.#o.vmis.get(namespace, name);
    if (!vmi) return undefined;
    const uid = vmi.metadata.uid;
    const phase = vmi.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed' || vmi.metadata.deletionTimestamp) {
      // best effort: the VMI is going away
      await this.#unmountVolumes(vmi).catch(() => undefined);
      this.#o.network?.teardown(uid);
      this.#o.launchers.resetClient(uid);
      return undefined;
    }
    const domain = this.#o.domains.get(key);
    const domainUID = domain?.Spec.Metadata.KubeVirt.UID;
    if (domain && domainUID && domainUID !== uid) {
      this.#o.domains.delete(key);
      throw new Error(`had to delete stale domain (UID ${domainUID}) that didn't match current VMI (UID ${uid})`);
    }
    if (domain && !domainAlive(domain) && !abortInProgress(vmi)) return undefined;
    if (!vmi.status?.migrationState) return undefined;
    if (vmi.metadata.labels?.[MigrationTargetNodeNameLabel] !== this.#o.host) return undefined;
    return this.#sync(vmi, domain, key);
  }

  async #sync(vmi: VirtualMachineInstance, domain: Domain | undefined, key: string): Promise<number | undefined> {
    // one copy, changed in place as KubeVirt changes its VMI: later checks see what earlier steps decided
    const copy = structuredClone(vmi);
    copy.metadata.labels ??= {};
    const work: Work = { vmi: copy, status: (copy.status ??= {}) as VirtualMachineInstanceStatus };
    const state = work.status.migrationState!;
    if (state.endTimestamp && (state.completed || state.failed)) return this.#finalCleanup(vmi, work, domain, key);

    const log = forObject(this.#o.logger, vmi);
    log.info(
      `VMI is in phase: ${vmi.status?.phase ?? ''} | ${domain ? `Domain status: ${domain.Status.Status}, reason: ${domain.Status.Reason}` : 'Domain does not exist'}`,
    );
    // ended, yet not active here: QEMU's migration was aborted
    if (migrationNeedsFinalization(state) && !domainIsActiveOnTarget(domain)) {
      log.info('migration ended but domain is not active on target, marking as failed');
      state.failed = true;
      state.completed = true;
    }
    let requeue: number | undefined;
    let syncError: unknown;
    try {
      requeue = await this.#processVMI(work);
    } catch (err) {
      syncError = err;
      this.#o.recorder.event(vmi, 'Warning', 'SyncFailed', errorMessage(err));
      withReason(log, err).error('Synchronizing the VirtualMachineInstance failed.');
    }
    requeue = soonerRequeue(requeue, await this.#updateStatus(work, domain));
    await this.#write(vmi, work);
    if (syncError) throw syncError;
    return requeue;
  }

  /** processVMI: finalize an ended migration, or prepare the target pod once. */
  async #processVMI(work: Work): Promise<number | undefined> {
    const { vmi, status } = work;
    const uid = vmi.metadata.uid;
    if (migrationNeedsFinalization(status.migrationState)) {
      await this.#finalizeMigration(work);
      return undefined;
    }
    // prepared already (the listeners are up): nothing to do until the migration ends
    if (Object.keys(this.#o.proxy.getTargetListenerPorts(uid)).length > 0 && !abortInProgress(vmi)) return undefined;
    const client = await this.#client(vmi);
    if (!client) return TARGET_REQUEUE_MS;
    if (isMigrating(vmi, this.#clock.now())) return undefined;

    // syncVolumes: the target pod's disks as the launcher will open them
    const synced = replacePVCByHostDisk(vmi, this.#o.logger);
    const mounter = this.#o.containerDisks;
    if (mounter) {
      const since = this.#startingSince.get(uid) ?? this.#clock.now();
      this.#startingSince.set(uid, since);
      if (!mounter.containerDisksReady(synced, since)) return TARGET_REQUEUE_MS;
      await mounter.mountAndVerify(synced);
    }
    const attachmentPodUID = status.migrationState?.targetAttachmentPodUID;
    if (attachmentPodUID && this.#o.hotplugVolumes) {
      try {
        await this.#o.hotplugVolumes.mount(synced, attachmentPodUID);
      } catch (err) {
        if (err instanceof WaitingForHotplugMountError) return TARGET_REQUEUE_MS;
        throw new Error(`failed to mount hotplug volumes: ${errorMessage(err)}`, { cause: err });
      }
    }
    try {
      await this.#o.network?.setupPodNetworkPhase1(vmi);
    } catch (err) {
      throw new Error(`failed to configure vmi network for migration target: ${errorMessage(err)}`, { cause: err });
    }
    // setupDevicesOwnerships
    this.#o.hostDisks?.create(synced);
    this.#o.deviceOwnership?.setup(synced);
    this.#o.virtioFS?.configure(synced);

    const res = await client.SyncMigrationTarget({ ...vmiRequest(synced), options: this.#o.syncOptions(vmi) });
    if (!res.success) throw new Error(`syncing migration target failed: ${res.message}`);
    try {
      await this.#o.memlock?.adjust(vmi);
    } catch (err) {
      throw new Error(`failed to adjust resources on migration target: ${errorMessage(err)}`, { cause: err });
    }
    try {
      await this.#handleTargetMigrationProxy(vmi);
    } catch (err) {
      throw new Error(`failed to handle post sync migration proxy: ${errorMessage(err)}`, { cause: err });
    }
    this.#startingSince.delete(uid);
    this.#o.recorder.event(vmi, 'Normal', 'PreparingTarget', VMIMigrationTargetPrepared);
    return undefined;
  }

  /** handleTargetMigrationProxy: the target pod's libvirt socket and QEMU's listeners behind TCP listeners. */
  async #handleTargetMigrationProxy(vmi: VirtualMachineInstance): Promise<void> {
    const uid = vmi.metadata.uid;
    const base = this.#o.pathInLauncher(uid, VirtShareDir);
    const sockets = [
      this.#o.pathInLauncher(uid, '/var/run/libvirt/virtqemud-sock'),
      ...migrationPorts(vmi.status?.migrationMethod === 'BlockMigration').map((port) =>
        migrationSourceUnixFile(base, migrationProxyKey(uid, port)),
      ),
    ];
    await this.#o.proxy.startTargetListener(uid, sockets);
  }

  /**
   * updateStatus: the domain seen here, then running here; the launcher's end of the migration
   * acknowledged (the VMI moves to this node); the listeners published for the source.
   */
  async #updateStatus(work: Work, domain: Domain | undefined): Promise<number | undefined> {
    const { vmi, status } = work;
    const state = status.migrationState!;
    if (state.failed) return undefined;
    const log = forObject(this.#o.logger, vmi);
    if (domain && !state.targetNodeDomainDetected) {
      log.info('The target node received the migrated domain');
      state.targetNodeDomainDetected = true;
      if (state.targetState) state.targetState.domainDetected = true;
      // the QEMU process's memlock limit, for host devices hotplugged after the migration
      try {
        await this.#o.memlock?.adjust(vmi);
      } catch (err) {
        this.#o.recorder.event(vmi, 'Warning', errorMessage(err), 'Failed to update target node qemu memory limits during live migration');
      }
    }
    if (domainIsActiveOnTarget(domain) && !state.targetNodeDomainReadyTimestamp) {
      // the moment CNI drivers may move the pod's IP to the target pod
      state.targetNodeDomainReadyTimestamp = k8sTime(new Date(this.#clock.now()));
      if (state.targetState) state.targetState.domainReadyTimestamp = state.targetNodeDomainReadyTimestamp;
      log.info('The target node received the running migrated domain');
      removeCondition(status, MigrationRequired);
    }
    const meta = domain?.Spec.Metadata.KubeVirt.Migration;
    if (domain && meta?.EndTimestamp) {
      if (domainIsActiveOnTarget(domain)) {
        this.#ackMigrationCompletion(work, domain);
      } else {
        // ended without a running domain here: QEMU's migration was aborted
        state.endTimestamp = meta.EndTimestamp;
        state.startTimestamp ??= meta.StartTimestamp ?? null;
        state.failed = true;
        state.completed = true;
      }
    }
    if (isMigrating(vmi, this.#clock.now()) && !abortInProgress(vmi)) return undefined;

    const ports = this.#o.proxy.getTargetListenerPorts(vmi.metadata.uid);
    if (Object.keys(ports).length === 0) {
      log.info('target migration listener is not up for this vmi, giving it time');
      return TARGET_REQUEUE_MS;
    }
    if (state.targetNodeAddress !== this.#o.migrationIPAddress) {
      this.#o.recorder.event(
        vmi,
        'Normal',
        'PreparingTarget',
        `Migration Target is listening at ${this.#o.migrationIPAddress}, on ports: ${Object.keys(ports).join(',')}`,
      );
      state.targetNodeAddress = this.#o.migrationIPAddress;
      state.targetDirectMigrationNodePorts = ports;
      if (state.targetState) {
        state.targetState.nodeAddress = this.#o.migrationIPAddress;
        state.targetState.directMigrationNodePorts = ports;
      }
    }
    return undefined;
  }

  /** ackMigrationCompletion: the VMI is this node's now. */
  #ackMigrationCompletion(work: Work, domain: Domain): void {
    const { vmi, status } = work;
    const state = status.migrationState!;
    const meta = domain.Spec.Metadata.KubeVirt.Migration!;
    state.startTimestamp ??= meta.StartTimestamp ?? null;
    state.endTimestamp = meta.EndTimestamp ?? null;
    const labels = vmi.metadata.labels!;
    labels[NodeNameLabel] = this.#o.host;
    delete labels[OutdatedLauncherImageLabel];
    if (vmi.metadata.annotations) delete vmi.metadata.annotations[EvictionSourceAnnotation];
    delete status.launcherContainerImageVersion;
    status.nodeName = this.#o.host;
    delete status.evacuationNodeName;
    // the next migration of this VMI goes over unix sockets too
    status.migrationTransport = 'Unix';
    const overhead = (state as { targetMemoryOverhead?: unknown }).targetMemoryOverhead;
    if (overhead !== undefined) status.memory = { ...(status.memory ?? {}), memoryOverhead: overhead } as typeof status.memory;
    this.#o.recorder.event(vmi, 'Normal', 'Migrated', `The VirtualMachineInstance migrated to node ${this.#o.host}.`);
    forObject(this.#o.logger, vmi).info('The target node detected that the migration has completed');
  }

  /** finalizeMigration: the hotplugs the migration was for, then FinalizeVirtualMachineMigration. */
  async #finalizeMigration(work: Work): Promise<void> {
    const { vmi, status } = work;
    const client = await this.#client(vmi);
    if (!client) throw new Error('failed to finalize migration: the target launcher is not there');
    const log = forObject(this.#o.logger, vmi);
    for (const [hotplug, what] of [
      [() => this.#hotplugCPU(work, client), 'failed to change vCPUs'],
      [() => this.#hotplugMemory(work, client), 'failed to update guest memory'],
    ] as const) {
      try {
        await hotplug();
      } catch (err) {
        withReason(log, err).error('failed to finalize migration');
        this.#o.recorder.event(vmi, 'Warning', errorMessage(err), what);
      }
    }
    // removeMigratedVolumes
    removeCondition(status, 'VolumesChange');
    delete status.migratedVolumes;
    const res = await client.FinalizeVirtualMachineMigration({ ...vmiRequest(vmi), options: {} });
    if (!res.success) throw new Error(`failed to finalize migration: ${res.message}`);
    status.migrationState!.completed = true;
  }

  /** hotplugCPU: the sockets asked for while the pod was resized (HotVCPUChange), then the status's topology. */
  async #hotplugCPU(work: Work, client: TargetLauncherClient): Promise<void> {
    const { vmi, status } = work;
    delete vmi.metadata.labels![VirtualMachinePodCPULimitsLabel];
    if (!removeCondition(status, HotVCPUChange)) return;
    const res = await client.SyncVirtualMachineCPUs({ ...vmiRequest(vmi), options: this.#o.syncOptions(vmi) });
    if (!res.success) throw new Error(res.message || 'SyncVirtualMachineCPUs failed');
    const cpu = vmi.spec.domain.cpu;
    status.currentCPUTopology = { sockets: cpu?.sockets, cores: cpu?.cores, threads: cpu?.threads } as typeof status.currentCPUTopology;
  }

  /**
   * hotplugMemory: the guest memory asked for while the pod was resized (HotMemoryChange), if the
   * target pod's memory request (label) holds it and the launcher's overhead.
   */
  async #hotplugMemory(work: Work, client: TargetLauncherClient): Promise<void> {
    const { vmi, status } = work;
    const labels = vmi.metadata.labels!;
    const podRequest = labels[VirtualMachinePodMemoryRequestsLabel];
    delete labels[VirtualMachinePodMemoryRequestsLabel];
    delete labels[MemoryHotplugOverheadRatioLabel];
    if (!hasCondition(status, HotMemoryChange)) return;
    const guest = vmi.spec.domain.memory?.guest;
    const requested = quantityOf(vmi.spec.domain.resources?.requests?.memory);
    const overhead = quantityOf((status.migrationState as { targetMemoryOverhead?: string | number } | undefined)?.targetMemoryOverhead);
    const pod = quantityOf(podRequest);
    if (pod === undefined) {
      removeCondition(status, HotMemoryChange);
      throw new Error(`cannot parse Memory requests from VMI label: ${JSON.stringify(podRequest ?? '')}`);
    }
    if (pod < (requested ?? 0) + (overhead ?? 0)) {
      removeCondition(status, HotMemoryChange);
      throw new Error(`amount of requested guest memory (${String(guest ?? '')}) exceeds the launcher memory request (${podRequest})`);
    }
    const res = await client.SyncVirtualMachineMemory({ ...vmiRequest(vmi), options: this.#o.syncOptions(vmi) });
    if (!res.success) {
      removeCondition(status, HotMemoryChange);
      (status.conditions ??= []).push({
        type: HotMemoryChange,
        status: 'False',
        reason: 'Memory Hotplug Failed',
        message: 'memory hotplug failed, the VM configuration is not supported',
      } as VirtualMachineInstanceCondition);
      throw new Error(res.message || 'SyncVirtualMachineMemory failed');
    }
    removeCondition(status, HotMemoryChange);
    status.memory = { ...(status.memory ?? {}), guestRequested: guest } as typeof status.memory;
  }

  /**
   * finalCleanup: the migration is over. A failed one's target pod is told to go and its mounts, network
   * cache and domain forgotten; a successful one is finalized. The VMI leaves this controller (label).
   */
  async #finalCleanup(vmi: VirtualMachineInstance, work: Work, domain: Domain | undefined, key: string): Promise<number | undefined> {
    const uid = vmi.metadata.uid;
    const log = forObject(this.#o.logger, vmi);
    const state = work.status.migrationState!;
    if (domainPausedFailedPostCopy(domain)) {
      // the guest's only state is in this pod until the VMI is failed
      if (vmi.status?.phase === 'Running') {
        log.info("we're the target of a failed post-copy but the VMI is still running, waiting a sec");
        return TARGET_REQUEUE_MS;
      }
      if (vmi.status?.phase === 'Succeeded') work.status.phase = 'Failed';
    }
    try {
      const client = await this.#client(vmi);
      if (state.failed) {
        if (client) {
          const res = await client
            .SignalTargetPodCleanup(vmiRequest(vmi))
            .catch((err: unknown) => ({ success: false, message: errorMessage(err) }));
          if (!res.success) log.warn(`Failed to signal target pod cleanup: ${res.message}, ignoring.`);
        }
        await this.#unmountVolumes(vmi);
        log.info('Signaled target pod for failed migration to clean up');
        this.#o.network?.teardown(uid);
        // the domain in the target pod is not this node's
        this.#o.domains.delete(key);
      } else {
        if (!client) throw new Error('the target launcher is not there');
        const res = await client.FinalizeVirtualMachineMigration({ ...vmiRequest(vmi), options: {} });
        if (!res.success) throw new Error(res.message || 'FinalizeVirtualMachineMigration failed');
      }
      delete work.vmi.metadata.labels![MigrationTargetNodeNameLabel];
      if (!state.failed && work.vmi.metadata.annotations) delete work.vmi.metadata.annotations[CreateMigrationTargetAnnotation];
      await this.#write(vmi, work);
    } finally {
      this.#o.proxy.stopTargetListener(uid);
      if (state.failed) this.#o.launchers.close(uid);
      else this.#o.launchers.resetClient(uid);
      this.#startingSince.delete(uid);
    }
    return undefined;
  }

  /** unmountVolumes: the target pod's containerDisks, and its hotplugged volumes when it had an attachment pod. */
  async #unmountVolumes(vmi: VirtualMachineInstance): Promise<void> {
    const log = forObject(this.#o.logger, vmi);
    await this.#o.containerDisks?.unmount(vmi.metadata.uid, log);
    if (vmi.status?.migrationState?.targetAttachmentPodUID) await this.#o.hotplugVolumes?.unmountAll(vmi.metadata.uid, log);
  }

  /** updateVMI: a full Update when the status or the labels changed. */
  async #write(original: VirtualMachineInstance, work: Work): Promise<void> {
    const labelsEqual = JSON.stringify(original.metadata.labels ?? {}) === JSON.stringify(work.vmi.metadata.labels ?? {});
    const annotationsEqual = JSON.stringify(original.metadata.annotations ?? {}) === JSON.stringify(work.vmi.metadata.annotations ?? {});
    if (labelsEqual && annotationsEqual && statusEqual(work.status, original.status ?? {})) return;
    await this.#o.statusWriter.update(work.vmi, work.status);
  }

  async #client(vmi: VirtualMachineInstance): Promise<TargetLauncherClient | undefined> {
    try {
      return await this.#o.launchers.client(vmi);
    } catch (err) {
      this.#o.launchers.resetClient(vmi.metadata.uid);
      throw new Error(`unable to create virt-launcher client connection: ${errorMessage(err)}`, { cause: err });
    }
  }
}

const hasCondition = (status: VirtualMachineInstanceStatus, type: string) => (status.conditions ?? []).some((c) => c.type === type);

/** RemoveCondition: true when there was one; the list is left alone otherwise (no needless Update). */
function removeCondition(status: VirtualMachineInstanceStatus, type: string): boolean {
  if (!hasCondition(status, type)) return false;
  status.conditions = status.conditions!.filter((c) => c.type !== type);
  return true;
}

/** A quantity's value; undefined when absent or not a quantity. */
const quantityOf = (q: string | number | undefined) => (q === undefined ? undefined : quantityValue(q));
