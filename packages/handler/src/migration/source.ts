// KubeVirt's MigrationSourceController (pkg/virt-handler/migration-source.go): on the node a VMI runs
// on, once virt-controller has put a migration in its status and the target's handler has published
// where it listens, the source's proxy is opened in the launcher pod and the launcher asked to
// migrate; the launcher's record of the migration (the domain's metadata) goes into the VMI's
// migration state; an abort asked for is passed on. The target's handler ends the migration (it
// moves the VMI to its node); this controller only fails one that never shows up there.
import { vmiRequest, type CmdClient } from '@kubevirt-ts/proto';
import {
  errorMessage,
  forObject,
  k8sTime,
  VirtShareDir,
  withReason,
  type Domain,
  type Logger,
  type MigrationOptions,
  type VirtualMachineInstance,
  type VirtualMachineInstanceMigrationState,
  type VirtualMachineInstanceStatus,
} from '@kubevirt-ts/shared';
import { replacePVCByHostDisk } from '../host-disk.ts';
import { statusEqual } from '../vmi-status.ts';
import { systemClock, type Clock, type DomainStore, type EventRecorder, type VMIStatusWriter, type VMIStore } from '../vm-controller.ts';
import { KeyedController, soonerRequeue } from '../workqueue.ts';
import type { MigrationProxyManager } from '../migration-proxy.ts';
import { domainAlive, isMigrationDone, isMigrationInProgress } from './state.ts';

/** The Cmd calls the source controller makes. */
export type SourceLauncherClient = Pick<CmdClient, 'MigrateVirtualMachine' | 'CancelVirtualMachineMigration'>;

export interface MigrationSourceControllerOptions {
  logger: Logger;
  host: string;
  /** The VMIs of this node. */
  vmis: VMIStore;
  domains: DomainStore;
  /** The launcher the VirtualMachineController found for the VMI (an error when there is none). */
  launcherClient(uid: string): Promise<SourceLauncherClient>;
  /** A path in the launcher's mount namespace, as the handler reaches it (the pod's /var/run/kubevirt). */
  pathInLauncher(uid: string, p: string): string;
  proxy: Pick<MigrationProxyManager, 'startSourceListener' | 'stopSourceListener'>;
  migrationOptions(vmi: VirtualMachineInstance): MigrationOptions;
  statusWriter: VMIStatusWriter;
  recorder: EventRecorder;
  clock?: Clock;
  workers?: number;
}

/** How long the target may take to report the migrated domain once the migration ended. */
export const MIGRATION_TARGET_DELAY_TIMEOUT_MS = 60_000;
/** How soon a VMI whose target has not published its ports yet is looked at again. */
export const TARGET_PORTS_REQUEUE_MS = 1_000;
export const VMIMigrating = 'VirtualMachineInstance is migrating.';
export const VMIAbortingMigration = 'VirtualMachineInstance is aborting migration.';

export class MigrationSourceController extends KeyedController {
  readonly #o: MigrationSourceControllerOptions;
  readonly #clock: Clock;

  constructor(opts: MigrationSourceControllerOptions) {
    super({ logger: opts.logger, workers: opts.workers ?? 5, vmis: opts.vmis, domains: opts.domains });
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  async execute(key: string): Promise<number | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    const vmi = this.#o.vmis.get(namespace, name);
    const phase = vmi?.status?.phase;
    if (!vmi || phase === 'Succeeded' || phase === 'Failed' || vmi.metadata.deletionTimestamp) return undefined;
    const domain = this.#o.domains.get(key);
    // a domain of an earlier VMI of the same name, still to be cleaned up
    if (domain && domain.Spec.Metadata.KubeVirt.UID !== vmi.metadata.uid) return undefined;
    const state = vmi.status?.migrationState;
    if (!state) return undefined;
    if (isMigrationDone(state)) {
      this.#o.proxy.stopSourceListener(vmi.metadata.uid);
      return undefined;
    }
    if (!this.#isMigrationSource(vmi)) return undefined;
    return this.#sync(vmi, domain);
  }

  #isMigrationSource(vmi: VirtualMachineInstance): boolean {
    return vmi.status?.nodeName === this.#o.host && vmi.status.migrationState?.sourceNode === this.#o.host;
  }

  async #sync(vmi: VirtualMachineInstance, domain: Domain | undefined): Promise<number | undefined> {
    const log = forObject(this.#o.logger, vmi);
    log.info(
      `VMI is in phase: ${vmi.status?.phase ?? ''}${domain ? ` | Domain status: ${domain.Status.Status}, reason: ${domain.Status.Reason}` : ''}`,
    );
    const status = structuredClone(vmi.status ?? {}) as VirtualMachineInstanceStatus;
    let requeue: number | undefined;
    let syncError: unknown;
    try {
      if (domainAlive(domain)) requeue = await this.#migrateVMI(vmi, domain!);
    } catch (err) {
      syncError = err;
      this.#o.recorder.event(vmi, 'Warning', 'SyncFailed', errorMessage(err));
      withReason(log, err).error('Synchronizing the VirtualMachineInstance failed.');
    }
    const statusRequeue = this.#updateStatus(vmi, status, domain);
    if (!statusEqual(status, vmi.status ?? {})) await this.#o.statusWriter.update(vmi, status);
    if (syncError) throw syncError;
    return soonerRequeue(requeue, statusRequeue);
  }

  /** migrateVMI: abort on request; else, once the target listens, the proxy and MigrateVirtualMachine, once. */
  async #migrateVMI(vmi: VirtualMachineInstance, domain: Domain): Promise<number | undefined> {
    const uid = vmi.metadata.uid;
    const state = vmi.status!.migrationState!;
    const client = await this.#client(uid);
    if (state.abortRequested) {
      await this.#handleMigrationAbort(vmi, state, domain, client);
      return undefined;
    }
    // started already: libvirt's job runs in the launcher
    if (isMigrationInProgress(vmi, domain)) return undefined;
    if (!state.targetDirectMigrationNodePorts || !state.targetNodeAddress) {
      forObject(this.#o.logger, vmi).debug('waiting for target node to publish migration ports');
      return TARGET_PORTS_REQUEUE_MS;
    }
    // worked out first: a configuration that does not parse opens no listener
    const options = this.#o.migrationOptions(vmi);
    try {
      // the proxy's sockets go into the launcher pod (not shared through a host mount)
      await this.#o.proxy.startSourceListener(
        uid,
        state.targetNodeAddress,
        state.targetDirectMigrationNodePorts,
        this.#o.pathInLauncher(uid, VirtShareDir),
      );
    } catch (err) {
      throw new Error(`failed to handle migration proxy: ${errorMessage(err)}`, { cause: err });
    }
    forObject(this.#o.logger, vmi).info(`migration options matched for vmi ${vmi.metadata.name}: ${JSON.stringify(options)}`);
    const res = await client.MigrateVirtualMachine({
      ...vmiRequest(replacePVCByHostDisk(vmi, this.#o.logger)),
      options: Buffer.from(JSON.stringify(options)),
    });
    if (!res.success) throw new Error(res.message || 'MigrateVirtualMachine failed');
    this.#o.recorder.event(vmi, 'Normal', 'Migrating', VMIMigrating);
    return undefined;
  }

  /** handleMigrationAbort: one CancelVirtualMachineMigration, unless the launcher or the VMI has it in hand. */
  async #handleMigrationAbort(
    vmi: VirtualMachineInstance,
    state: VirtualMachineInstanceMigrationState,
    domain: Domain,
    client: SourceLauncherClient,
  ): Promise<void> {
    const handled = (s: string | undefined) => s === 'Aborting' || s === 'Succeeded';
    if (handled(domain.Spec.Metadata.KubeVirt.Migration?.AbortStatus) || handled(state.abortStatus)) return;
    const res = await client.CancelVirtualMachineMigration(vmiRequest(vmi));
    if (!res.success) throw new Error(res.message || 'CancelVirtualMachineMigration failed');
    this.#o.recorder.event(vmi, 'Normal', 'Migrating', VMIAbortingMigration);
  }

  /**
   * updateStatus: the launcher's record of this migration; a migration with no target, or whose target
   * never reported the domain within a minute of its end, fails the VMI.
   */
  #updateStatus(vmi: VirtualMachineInstance, status: VirtualMachineInstanceStatus, domain: Domain | undefined): number | undefined {
    const state = status.migrationState!;
    const meta = domain?.Spec.Metadata.KubeVirt.Migration;
    if (meta && meta.UID === state.migrationUid) {
      if (meta.StartTimestamp) state.startTimestamp = meta.StartTimestamp;
      if (meta.Failed || state.failed !== undefined) state.failed = meta.Failed;
      if (meta.Failed) {
        state.completed = true;
        state.endTimestamp = meta.EndTimestamp ?? null;
        state.abortStatus = meta.AbortStatus;
        state.failureReason = meta.FailureReason;
        this.#o.recorder.event(
          vmi,
          'Warning',
          'Migrated',
          `VirtualMachineInstance migration uid ${meta.UID} failed. reason:${meta.FailureReason}`,
        );
      }
      if (meta.Mode) state.mode = meta.Mode as NonNullable<typeof state.mode>;
      else delete state.mode;
    }
    const fail = (message: string, event: string) => {
      status.phase = 'Failed';
      state.completed = true;
      state.failed = true;
      state.endTimestamp ??= k8sTime(new Date(this.#clock.now()));
      forObject(this.#o.logger, vmi).warn(message);
      this.#o.recorder.event(vmi, 'Warning', 'Migrated', event);
    };
    if (!state.targetNode) {
      fail('the vmi migrated to an unknown host', 'The VirtualMachineInstance migrated to unknown host.');
      return undefined;
    }
    // hasTargetDetectedReadyDomain
    if (!state.endTimestamp || state.failed) return undefined;
    if (state.targetState?.domainDetected && state.targetState.domainReadyTimestamp) return undefined;
    const left = Date.parse(state.endTimestamp) + MIGRATION_TARGET_DELAY_TIMEOUT_MS - this.#clock.now();
    if (left > 0) return Math.max(left, 5_000);
    fail(
      'the domain was never observed on the taget after the migration completed within the timeout period',
      "The VirtualMachineInstance's domain was never observed on the target after the migration completed within the timeout period.",
    );
    return undefined;
  }

  async #client(uid: string): Promise<SourceLauncherClient> {
    try {
      return await this.#o.launcherClient(uid);
    } catch (err) {
      throw new Error(`unable to create virt-launcher client connection: ${errorMessage(err)}`, { cause: err });
    }
  }
}
