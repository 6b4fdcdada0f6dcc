// KubeVirt's LibvirtDomainManager (pkg/virt-launcher/virtwrap/manager.go): every command the handler
// sends, carried out on the one domain this launcher owns, through our libvirt client.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  DomainCoreDumpFlags,
  DomainCoreDumpFormat,
  DomainCreateFlags,
  DomainDestroyFlags,
  DomainRebootFlags,
  DomainShutdownFlags,
  DomainUndefineFlags,
  DomainVcpuFlags,
  DomainXMLFlags,
  isInvalidOperation,
  isNotFound,
  type Connection,
  type Domain as VirDomain,
  type DomainStateName,
} from '@kubevirt-ts/libvirt';
import {
  domainNameToVMI,
  forObject,
  lifeCycleFromLibvirt,
  k8sTime,
  newDomain,
  vmiNameToDomainName,
  vmiPrivateDir,
  type Domain,
  type VirtualMachineInstance,
} from '@kubevirt-ts/shared';
import {
  convertVMIToDomainSpec,
  setBlockIOMatchingVolume,
  setDriverCacheMode,
  setOptimalIOMode,
  supportsDirectIO,
  type ConverterContext,
} from './converter/index.ts';
import { domainSpecFromXML, domainSpecToXML, type DomainSpec, type KubeVirtMetadata } from './api/index.ts';
import type { AgentStore } from './agent/store.ts';
import type { AgentDataCommand } from './agent/data-fields.ts';
import { guestExec } from './agent/exec.ts';
import { AgentCommand, parseFSFreezeStatus } from './agent/parser.ts';
import { dirtyRateStats, domainStats, type DirtyRateStats, type StatsConnection } from './stats.ts';
import type { PodNetworkPhase2 } from './network/phase2.ts';
import type { Notifier, K8sEventType } from './notifier.ts';
import { contextFromOptions, type VirtualMachineOptions } from './vm-options.ts';
import { blockVolumes, prepareVolumes, writeConfigDriveISO } from './volumes.ts';
import { taggedDevices } from './device-metadata.ts';
import { prepareDisks } from './disk-preparation.ts';
import { cloudInitFiles, readCloudInitData } from './cloud-init-data.ts';
import type { CloudInitData } from './hooks/manager.ts';
import { ContainerDisksInfo, isPreAllocated } from './disk-info.ts';
import { podCPUSet } from './pod-cpuset.ts';
import { updateGuestMemory } from './liveupdate/memory.ts';
import { syncDisks } from './hotplug-disks.ts';
import { syncLinkStates } from './network/link-state.ts';
import { allocateHotplugPorts, type DomainDefiner } from './hotplug-ports.ts';
import { setDomainSpecWithHooks } from './define-domain.ts';
import { resolveContext } from './converter/context.ts';
import { withDefaults } from './converter/vmi-defaults.ts';
import { requestedVCPUs } from './converter/compute/cpu.ts';
import { AccessCredentialManager, errorText, type AccessCredentialResult } from './access-credentials.ts';
import { reconnectInterfaces } from './network/link-state.ts';
import { interfacesToReconnect } from './vm-options.ts';
import { MigrationSource, type SourceConnection } from './migration/source.ts';
import { initializeMigrationMetadata, type MigrationMetadataStore } from './migration/metadata.ts';
import { monitorIncomingMigration, setGuestTime } from './migration/target.ts';
import type { MigrationOptions } from '@kubevirt-ts/shared';

/** removePreviousMemoryDump: the earlier dumps in the volume (`*memory.dump*`); failures are logged. */
function removePreviousMemoryDump(dir: string, log: Logger): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    log.error({ reason: errorText(err) }, 'failed to remove older memory dumps');
    return;
  }
  for (const name of names) {
    if (!name.includes('memory.dump')) continue;
    try {
      rmSync(path.join(dir, name));
    } catch (err) {
      log.error({ reason: errorText(err) }, 'failed to remove older memory dumps');
    }
  }
}

export class DomainNotFoundError extends Error {
  constructor() {
    super('Domain not found.');
  }
}

/** The libvirt calls the DomainManager makes: a `Connection` of `@kubevirt-ts/libvirt` has them all. */
export type LibvirtConnection = StatsConnection &
  SourceConnection &
  Pick<
    Connection,
    | 'connectGetVersion'
    | 'connectListAllDomains'
    | 'domainAuthorizedSSHKeysSet'
    | 'domainCoreDumpWithFormat'
    | 'domainCreateWithFlags'
    | 'domainAttachDeviceFlags'
    | 'domainDefineXMLFlags'
    | 'domainDestroyFlags'
    | 'domainDetachDeviceFlags'
    | 'domainGetState'
    | 'domainGetXMLDesc'
    | 'domainLookupByName'
    | 'domainQemuAgentCommand'
    | 'domainReboot'
    | 'domainReset'
    | 'domainResume'
    | 'domainScreenshot'
    | 'domainSetTime'
    | 'domainSetUserPassword'
    | 'domainSetVcpusFlags'
    | 'domainShutdownFlags'
    | 'domainSuspend'
    | 'domainUpdateDeviceFlags'
    | 'domainUndefineFlags'
  >;

export interface DomainManagerOptions {
  conn: LibvirtConnection;
  logger: Logger;
  converter: ConverterContext;
  agent: AgentStore;
  /** Where k8s events about the VMI go (the launcher's one Notifier, so they stay in order with domain events). */
  notifier?: Pick<Notifier, 'sendK8sEvent'>;
  /** Pod network phase 2 for interfaces the handler attached as `tap`. */
  network?: Pick<PodNetworkPhase2, 'setup'>;
  /** `--disk-memory-limit`: the address space qemu-img gets to inspect a containerDisk image. */
  diskMemoryLimitBytes?: number;
  /** The hook sidecars' OnDefineDomain: the domain XML to define instead of the converter's. */
  onDefineDomain?: (domainXML: string, vmi: VirtualMachineInstance) => Promise<string>;
  /** The hook sidecars' PreCloudInitIso: the cloud-init data the ISO is built from. */
  preCloudInitIso?: (vmi: VirtualMachineInstance, data: CloudInitData) => Promise<CloudInitData>;
  /** Where the access credentials' secrets are mounted (config.SecretSourceDir unless a test says otherwise). */
  secretSourceDir?: string;
}

/** storage.FailedDomainMemoryDump */
export const FailedDomainMemoryDump = 'Domain memory dump failed';

/** How long one GetVMStats agent command may take: the handler gives the whole call 5 s. */
const AGENT_DATA_TIMEOUT_SECONDS = 2;

export class DomainManager {
  readonly #conn: LibvirtConnection;
  readonly #log: Logger;
  readonly #ctx: ConverterContext;
  readonly #agent: AgentStore;
  #notifier: Pick<Notifier, 'sendK8sEvent'> | undefined;
  readonly #network: Pick<PodNetworkPhase2, 'setup'> | undefined;
  readonly #containerDisks: ContainerDisksInfo;
  readonly #onDefineDomain: (domainXML: string, vmi: VirtualMachineInstance) => Promise<string>;
  readonly #preCloudInitIso: (vmi: VirtualMachineInstance, data: CloudInitData) => Promise<CloudInitData>;
  /** KubeVirt's metadata cache: what we add to the domain's kubevirt metadata at run time. */
  readonly #metadata = new Map<string, KubeVirtMetadata>();
  /** The newest XML read and its parse: most events and GetDomain calls find the XML as it was. */
  #parsed: { xml: string; spec: Domain['Spec'] } | undefined;
  #unfreezeTimer: NodeJS.Timeout | undefined;
  /** Serialises domain-modifying commands, as KubeVirt's domainModifyLock does. */
  #lock: Promise<unknown> = Promise.resolve();
  readonly #credManager: AccessCredentialManager;
  /** The metadata cache's notification: run-time metadata changed, the domain must be sent again. */
  readonly #metadataListeners = new Set<() => void>();
  /** A memory dump is running (KubeVirt's memoryDumpInProgress channel of one). */
  #memoryDumpInProgress: Promise<void> | undefined;
  /** A CD-ROM's medium changed: libvirt raises no event for it, the domain must be sent again. */
  readonly #mediaListeners = new Set<() => void>();
  /** metadataCache.Migration of the launcher's one VMI. */
  readonly #migrationStore: MigrationMetadataStore = {
    load: () => this.#oneMetadata()?.Migration ?? null,
    store: (m) => {
      const meta = this.#oneMetadata();
      if (!meta) return;
      meta.Migration = { ...m };
      this.#metadataChanged();
    },
  };
  readonly #migrationSource: MigrationSource;
  /** This launcher was prepared as a migration's target. */
  #migrationTarget = false;
  /** setTimeOnce */
  #guestTimeSet = false;

  constructor(opts: DomainManagerOptions) {
    this.#conn = opts.conn;
    this.#log = opts.logger;
    this.#containerDisks = new ContainerDisksInfo({
      containerDiskDir: opts.converter.containerDiskDir,
      diskMemoryLimitBytes: opts.diskMemoryLimitBytes,
    });
    // the launcher's own disksInfo, filled as syncs inspect the images (the handler's is ignored, as KubeVirt's)
    this.#ctx = {
      ...opts.converter,
      disksInfo: this.#containerDisks.byVolume,
      ...(opts.secretSourceDir === undefined ? {} : { secretSourceDir: opts.secretSourceDir }),
    };
    this.#agent = opts.agent;
    this.#notifier = opts.notifier;
    this.#network = opts.network;
    this.#onDefineDomain = opts.onDefineDomain ?? ((xml) => Promise.resolve(xml));
    this.#preCloudInitIso = opts.preCloudInitIso ?? ((_vmi, data) => Promise.resolve(data));
    this.#migrationSource = new MigrationSource({
      conn: opts.conn,
      logger: opts.logger,
      virtShareDir: opts.converter.virtShareDir,
      ephemeralDiskDir: opts.converter.ephemeralDiskDir,
      metadata: this.#migrationStore,
      exclusive: (fn) => this.#exclusive(fn),
    });
    this.#credManager = new AccessCredentialManager({
      conn: opts.conn,
      logger: opts.logger,
      secretBaseDir: opts.secretSourceDir,
      report: (result) => this.#storeAccessCredential(result),
      sendWarning: (vmi, reason, message) => this.sendK8sEvent(vmi, 'Warning', reason, message),
    });
  }

  /** Listens to changes of the domain's run-time metadata (metadataCache.Listen). */
  onMetadataChange(listener: () => void): () => void {
    this.#metadataListeners.add(listener);
    return () => this.#metadataListeners.delete(listener);
  }

  /** Listens to CD-ROM media changes a sync made (the handler learns of them only from a new domain). */
  onMediaChange(listener: () => void): () => void {
    this.#mediaListeners.add(listener);
    return () => this.#mediaListeners.delete(listener);
  }

  /** metadataCache.AccessCredential.Store: listeners hear of it when the result changed. */
  #storeAccessCredential(result: AccessCredentialResult): void {
    const meta = this.#oneMetadata();
    if (!meta) return;
    if (meta.AccessCredential?.Succeeded === result.Succeeded && meta.AccessCredential.Message === result.Message) return;
    meta.AccessCredential = { ...result };
    this.#metadataChanged();
  }

  #metadataChanged(): void {
    for (const listener of this.#metadataListeners) listener();
  }

  /** Stops the access credentials' propagation (the launcher is exiting). */
  stop(): Promise<void> {
    return this.#credManager.stop();
  }

  /** SendK8sEvent about the VMI through the notifier; never throws (the event is best effort). */
  sendK8sEvent(vmi: VirtualMachineInstance, type: K8sEventType, reason: string, message: string): void {
    if (!this.#notifier) {
      this.#log.debug(`no notifier: k8s event ${reason} not sent`);
      return;
    }
    const { name, namespace, uid } = vmi.metadata;
    const ref = { name, namespace, uid, ...(vmi.metadata.resourceVersion ? { resourceVersion: vmi.metadata.resourceVersion } : {}) };
    this.#notifier.sendK8sEvent(ref, type, reason, message).then(
      (result) => {
        if (result !== 'delivered') this.#log.warn(`k8s event ${reason} not delivered: ${result}`);
      },
      (err: unknown) => this.#log.warn({ reason: String(err) }, `Could not send k8s event ${reason}`),
    );
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#lock.then(fn, fn);
    this.#lock = next.catch(() => undefined);
    return next;
  }

  async #lookup(vmi: VirtualMachineInstance): Promise<VirDomain | undefined> {
    try {
      return await this.#conn.domainLookupByName(vmiNameToDomainName(vmi.metadata.namespace, vmi.metadata.name));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #mustLookup(vmi: VirtualMachineInstance): Promise<VirDomain> {
    const dom = await this.#lookup(vmi);
    if (!dom) throw new DomainNotFoundError();
    return dom;
  }

  /**
   * Defines the domain if needed and brings it to running; a second call with the same VMI changes
   * nothing. The handler's options (null: none sent) complete the converter context for this call.
   */
  syncVMI(vmi: VirtualMachineInstance, options: VirtualMachineOptions | null = null): Promise<void> {
    return this.#exclusive(async () => {
      const { spec, ctx } = await this.#convert(vmi, options);
      let dom = await this.#lookup(vmi);
      const existed = dom !== undefined;
      let state: DomainStateName | undefined;
      if (!dom) {
        const cloudInit = await this.#preStart(vmi, spec, ctx);
        this.#metadata.set(vmi.metadata.uid, spec.Metadata.KubeVirt);
        dom = await this.#allocateHotplugPorts(vmi, spec, ctx);
        this.#log.info('Domain defined.');
        // generateCloudInitISO with the domain: tagged NICs' addresses into the ConfigDrive's metadata
        const configDrive = (vmi.spec.volumes ?? []).find((v) => v.cloudInitConfigDrive);
        if (configDrive && vmi.spec.domain.devices?.interfaces?.some((i) => i.tag)) {
          const devices = taggedDevices(vmi, domainSpecFromXML(await this.#conn.domainGetXMLDesc(dom, 0)));
          if (devices.length > 0) await writeConfigDriveISO(vmi, configDrive, this.#ctx, cloudInit, devices);
        }
        // Just defined, so shut off: no GetState round trip, in which the DEFINED event's domain parse
        // would run first and hold back the start.
        state = 'SHUTOFF';
      }
      state ??= (await this.#conn.domainGetState(dom)).state;
      const phase = vmi.status?.phase;
      const final = phase === 'Succeeded' || phase === 'Failed';
      if ((state === 'SHUTOFF' || state === 'CRASHED' || state === 'NOSTATE') && phase !== 'Running' && !final) {
        // startStrategy Paused: the guest waits, paused, for the user's unpause
        await this.#conn.domainCreateWithFlags(dom, vmi.spec.startStrategy === 'Paused' ? DomainCreateFlags.START_PAUSED : 0);
        this.#log.info('Domain started.');
      }
      // hotplugged disks and NIC link states: the running domain brought in line with the VMI's (a new
      // domain already is)
      if (existed) {
        const running = domainSpecFromXML(await this.#conn.domainGetXMLDesc(dom, 0));
        const media = await syncDisks(this.#conn, dom, running.Devices.Disks ?? [], spec.Devices.Disks ?? [], this.#log);
        if (media > 0) for (const listener of this.#mediaListeners) listener();
        await syncLinkStates(this.#conn, dom, running.Devices.Interfaces ?? [], spec.Devices.Interfaces ?? [], this.#log);
      }
    });
  }

  /** generateConverterContext and the conversion. */
  async #convert(vmi: VirtualMachineInstance, options: VirtualMachineOptions | null) {
    await this.#containerDisks.update(vmi);
    const ctx = {
      ...this.#ctx,
      ...contextFromOptions(options),
      ...blockVolumes(vmi, this.#ctx),
      ...(vmi.spec.domain.cpu?.dedicatedCpuPlacement ? { cpuSet: podCPUSet() } : {}),
    };
    return { spec: convertVMIToDomainSpec(vmi, ctx), ctx };
  }

  /**
   * preStartHook: what the pod needs before QEMU starts here, for a new domain or an incoming one;
   * returns the cloud-init data the hooks had their say on.
   */
  async #preStart(
    vmi: VirtualMachineInstance,
    spec: DomainSpec,
    ctx: ConverterContext & { domainAttachmentByInterfaceName: Record<string, string> },
  ) {
    const attachments = ctx.domainAttachmentByInterfaceName;
    if (Object.keys(attachments).length > 0) {
      if (!this.#network) throw new Error('pod network phase 2 is not available');
      await this.#network.setup(vmi, spec, attachments);
    }
    const source = readCloudInitData(vmi, this.#ctx.secretSourceDir);
    const cloudInit = source && {
      volumeName: source.data.VolumeName,
      files: cloudInitFiles(source, await this.#preCloudInitIso(vmi, source.data)),
    };
    await prepareDisks(vmi, ctx, cloudInit);
    await prepareVolumes(vmi, this.#ctx, cloudInit);
    try {
      this.#credManager.handleQemuAgentAccessCredentials(vmi);
    } catch (err) {
      throw new Error(`Starting qemu agent access credential propagation failed: ${errorText(err)}`);
    }
    for (const disk of spec.Devices.Disks ?? []) {
      setDriverCacheMode(disk, supportsDirectIO);
      await setOptimalIOMode(disk, isPreAllocated);
      setBlockIOMatchingVolume(disk, vmi);
    }
    // libvirt binds the serial and VNC sockets here but does not create the directory
    mkdirSync(vmiPrivateDir(vmi.metadata.uid, this.#ctx.privateDir), { recursive: true });
    return cloudInit;
  }

  /**
   * The first define, through the hook sidecars, with KubeVirt's spare PCIe root ports, counted on the
   * VMI as KubeVirt's launcher gets it: with virt-api's defaults (the pod interface among them).
   */
  async #allocateHotplugPorts(vmi: VirtualMachineInstance, spec: DomainSpec, ctx: ConverterContext): Promise<VirDomain> {
    const definer: DomainDefiner<VirDomain> = {
      setDomainSpecWithHooks: (s) => setDomainSpecWithHooks(this.#conn, this.#onDefineDomain, vmi, s),
      inactiveSpec: async (d) => domainSpecFromXML(await this.#conn.domainGetXMLDesc(d, DomainXMLFlags.INACTIVE)),
    };
    try {
      return await allocateHotplugPorts(withDefaults(vmi, resolveContext(ctx)), spec, definer, this.#log);
    } catch (err) {
      this.#log.error({ reason: errorText(err) }, 'failed to allocate hotplug ports');
      throw err;
    }
  }

  /**
   * PrepareMigrationTarget: the pod made ready for the incoming domain as for a new one (network,
   * disks, ISOs, hooks), the migration's record started, and the directory of QEMU's sockets made.
   */
  prepareMigrationTarget(vmi: VirtualMachineInstance, options: VirtualMachineOptions | null): Promise<void> {
    return this.#exclusive(async () => {
      const { spec, ctx } = await this.#convert(vmi, options);
      await this.#preStart(vmi, spec, ctx);
      this.#metadata.set(vmi.metadata.uid, spec.Metadata.KubeVirt);
      // unlike the source, a retry prepares everything again
      initializeMigrationMetadata(this.#migrationStore, vmi, 'PreCopy');
      // the hooks' OnDefineDomain runs for the target too: it may set up the pod
      await this.#onDefineDomain(domainSpecToXML(spec), vmi);
      if (vmi.metadata.annotations?.['kubevirt.io/func-test-block-migration-target-preparation'] !== undefined) {
        throw new Error('Blocking preparation of migration target in order to satisfy a functional test condition');
      }
      // QEMU listens here on the paths the source's proxy sockets have in the source pod
      mkdirSync(path.join(this.#ctx.virtShareDir, 'migrationproxy'), { recursive: true });
      this.#migrationTarget = true;
    });
  }

  /** MigrateVMI: starts the outgoing migration and returns; its end is in the migration metadata. */
  migrateVMI(vmi: VirtualMachineInstance, options: MigrationOptions): void {
    this.#migrationSource.start(vmi, options);
  }

  cancelVMIMigration(vmi: VirtualMachineInstance): void {
    this.#migrationSource.cancel(vmi);
  }

  /**
   * The incoming domain resumed (or stayed paused) on this target: the record ends once libvirt has
   * no incoming job left. Nothing for a launcher that was not prepared as a target.
   */
  incomingMigrationSettled(dom: VirDomain): void {
    if (!this.#migrationTarget) return;
    void monitorIncomingMigration(this.#conn, dom, this.#migrationStore, this.#log);
  }

  /** FinalizeVirtualMachineMigration: link-refresh interfaces cycled, the guest's time set. */
  finalizeVirtualMachineMigration(vmi: VirtualMachineInstance, options: VirtualMachineOptions | null): Promise<void> {
    return this.#exclusive(async () => {
      const dom = await this.#mustLookup(vmi);
      const names = interfacesToReconnect(options);
      if (names.size > 0) {
        const running = domainSpecFromXML(await this.#conn.domainGetXMLDesc(dom, 0));
        await reconnectInterfaces(this.#conn, dom, running.Devices.Interfaces ?? [], names);
      }
      if (this.#guestTimeSet) return;
      this.#guestTimeSet = true;
      void setGuestTime(this.#conn, dom, forObject(this.#log, vmi));
    });
  }

  pauseVMI(vmi: VirtualMachineInstance): Promise<void> {
    return this.#exclusive(async () => {
      const dom = await this.#mustLookup(vmi);
      if ((await this.#conn.domainGetState(dom)).state === 'RUNNING') await this.#conn.domainSuspend(dom);
    });
  }

  unpauseVMI(vmi: VirtualMachineInstance): Promise<void> {
    return this.#exclusive(async () => {
      const dom = await this.#mustLookup(vmi);
      if ((await this.#conn.domainGetState(dom)).state === 'PAUSED') await this.#conn.domainResume(dom);
    });
  }

  /** ACPI power button, and the grace period's start recorded in the domain's metadata. */
  signalShutdownVMI(vmi: VirtualMachineInstance): Promise<void> {
    return this.#exclusive(async () => {
      const dom = await this.#lookup(vmi);
      if (!dom) return;
      const { state } = await this.#conn.domainGetState(dom);
      if (state !== 'RUNNING' && state !== 'PAUSED') return;
      await this.#conn.domainShutdownFlags(dom, DomainShutdownFlags.ACPI_POWER_BTN);
      this.#log.info(`Signaled graceful shutdown for ${vmi.metadata.name}`);
      const meta = this.#metadataFor(vmi.metadata.uid);
      meta.GracePeriod ??= { DeletionGracePeriodSeconds: 0, DeletionTimestamp: null, MarkedForGracefulShutdown: null };
      meta.GracePeriod.DeletionTimestamp ??= k8sTime();
    });
  }

  killVMI(vmi: VirtualMachineInstance): Promise<void> {
    return this.#exclusive(async () => {
      const dom = await this.#lookup(vmi);
      if (!dom) return;
      const { state } = await this.#conn.domainGetState(dom);
      if (state === 'SHUTOFF' || state === 'CRASHED') return;
      try {
        await this.#conn.domainDestroyFlags(dom, DomainDestroyFlags.GRACEFUL);
      } catch (err) {
        if (!isInvalidOperation(err) && !isNotFound(err)) throw err;
      }
      this.#log.info(`Signaled vmi kill for ${vmi.metadata.name}`);
    });
  }

  deleteVMI(vmi: VirtualMachineInstance): Promise<void> {
    return this.#exclusive(async () => {
      const dom = await this.#lookup(vmi);
      if (!dom) return;
      try {
        // as KubeVirt: the nvram stays, a persistent EFI VMI's lives on its backend storage
        await this.#conn.domainUndefineFlags(dom, DomainUndefineFlags.KEEP_NVRAM | DomainUndefineFlags.CHECKPOINTS_METADATA);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    });
  }

  resetVMI(vmi: VirtualMachineInstance): Promise<void> {
    return this.#exclusive(async () => this.#conn.domainReset(await this.#mustLookup(vmi), 0));
  }

  /** Through the guest agent when it is connected, else the ACPI power button. */
  softRebootVMI(vmi: VirtualMachineInstance): Promise<void> {
    return this.#exclusive(async () => {
      const dom = await this.#mustLookup(vmi);
      const flags = this.#agent.connected ? DomainRebootFlags.GUEST_AGENT : DomainRebootFlags.ACPI_POWER_BTN;
      await this.#conn.domainReboot(dom, flags);
    });
  }

  async freezeVMI(vmi: VirtualMachineInstance, unfreezeTimeoutSeconds: number): Promise<void> {
    const dom = await this.#mustLookup(vmi);
    const status = parseFSFreezeStatus(await this.#agentCommand(dom, AgentCommand.GET_FSFREEZE_STATUS));
    // idempotent: a guest already frozen is not frozen again
    if (status.Status !== 'frozen') await this.#agentCommand(dom, 'guest-fsfreeze-freeze');
    clearTimeout(this.#unfreezeTimer);
    if (unfreezeTimeoutSeconds > 0) {
      // the safety net KubeVirt keeps: a frozen guest must not stay frozen forever
      this.#unfreezeTimer = setTimeout(() => {
        this.#log.warn(
          `Unfreeze was not called for vmi ${vmi.metadata.name} for more then ${unfreezeTimeoutSeconds}s, initiating unfreeze`,
        );
        this.unfreezeVMI(vmi).catch((err: unknown) => this.#log.error({ reason: String(err) }, 'safety unfreeze failed'));
      }, unfreezeTimeoutSeconds * 1000);
      this.#unfreezeTimer.unref();
    }
  }

  async unfreezeVMI(vmi: VirtualMachineInstance): Promise<void> {
    clearTimeout(this.#unfreezeTimer);
    await this.#agentCommand(await this.#mustLookup(vmi), 'guest-fsfreeze-thaw');
  }

  async #agentCommand(dom: VirDomain, execute: string, args?: Record<string, unknown>, timeoutSeconds = 10): Promise<string> {
    const reply = await this.#conn.domainQemuAgentCommand(
      dom,
      JSON.stringify(args ? { execute, arguments: args } : { execute }),
      timeoutSeconds,
    );
    return reply ?? '{}';
  }

  /** guest-exec of a command, polled to completion within the timeout (virt-probe's exec probes). */
  async exec(domainName: string, command: string, args: readonly string[], timeoutSeconds: number): Promise<string> {
    const dom = await this.#conn.domainLookupByName(domainName);
    return guestExec((execute, a) => this.#agentCommand(dom, execute, a, timeoutSeconds), command, args, timeoutSeconds);
  }

  async guestPing(domainName: string, timeoutSeconds: number): Promise<void> {
    const dom = await this.#conn.domainLookupByName(domainName);
    await this.#conn.domainQemuAgentCommand(dom, '{"execute":"guest-ping"}', Math.max(1, timeoutSeconds));
  }

  /** The launcher's one domain as KubeVirt's Domain object, or undefined when none is defined. */
  async getDomain(): Promise<Domain | undefined> {
    const doms = await this.#conn.connectListAllDomains();
    const dom = doms[0];
    return dom ? this.domainObject(dom) : undefined;
  }

  /**
   * Builds the Domain object KubeVirt sends: spec from the live XML, state/reason, agent data. Takes
   * the domain a libvirt event or listing named (as KubeVirt's eventCallback does), or looks it up.
   */
  async domainObject(named: VirDomain | string): Promise<Domain> {
    const { namespace, name } = domainNameToVMI(typeof named === 'string' ? named : named.name);
    let stateReason;
    let xml;
    try {
      const dom = typeof named === 'string' ? await this.#conn.domainLookupByName(named) : named;
      // one round trip for both: libvirt answers calls on a connection concurrently
      [stateReason, xml] = await Promise.all([this.#conn.domainGetState(dom), this.#conn.domainGetXMLDesc(dom, 0)]);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return this.#nonExistent(namespace, name);
    }
    const spec = this.#specFromXML(xml);
    const uid = spec.Metadata.KubeVirt.UID;
    const cached = this.#metadata.get(uid);
    if (cached) spec.Metadata.KubeVirt = { ...spec.Metadata.KubeVirt, ...cached, UID: uid };
    const domain = newDomain({ name, namespace, uid });
    domain.Spec = spec;
    const { Status, Reason } = lifeCycleFromLibvirt(stateReason.stateCode, stateReason.reasonCode);
    domain.Status.Status = Status;
    domain.Status.Reason = Reason;
    this.#agent.overlay(domain);
    return domain;
  }

  #specFromXML(xml: string): Domain['Spec'] {
    if (this.#parsed?.xml !== xml) this.#parsed = { xml, spec: domainSpecFromXML(xml) };
    const { spec } = this.#parsed;
    // a copy of the level domainObject writes to; the rest is shared and never written
    return { ...spec, Metadata: { ...spec.Metadata } };
  }

  #nonExistent(namespace: string, name: string): Domain {
    const uid = [...this.#metadata.keys()][0] ?? '';
    const domain = newDomain({ name, namespace, uid });
    domain.Status.Status = 'NoState';
    domain.Status.Reason = 'NonExistent';
    return domain;
  }

  /** The run-time metadata of the launcher's one VMI, once a sync or a migration target knows it. */
  #oneMetadata(): KubeVirtMetadata | undefined {
    return this.#metadata.values().next().value;
  }

  #metadataFor(uid: string): KubeVirtMetadata {
    let meta = this.#metadata.get(uid);
    if (!meta) {
      meta = { UID: uid, GracePeriod: null, Migration: null, Backup: null, AccessCredential: null, MemoryDump: null };
      this.#metadata.set(uid, meta);
    }
    return meta;
  }

  getGuestInfo() {
    return this.#agent.guestInfo();
  }

  getUsers() {
    return this.#agent.users();
  }

  getFilesystems() {
    return this.#agent.filesystems();
  }

  /** QEMU's version as libvirt reports it, formatted major.minor.micro. */
  async getQemuVersion(): Promise<string> {
    const v = Number(await this.#conn.connectGetVersion());
    return `${Math.floor(v / 1_000_000)}.${Math.floor(v / 1000) % 1000}.${v % 1000}`;
  }

  async getScreenshot(vmi: VirtualMachineInstance): Promise<{ mime: string; data: Buffer }> {
    const shot = await this.#conn.domainScreenshot(await this.#mustLookup(vmi), 0, 0);
    return { mime: shot.mime ?? 'application/octet-stream', data: Buffer.from(shot.data) };
  }

  /**
   * MemoryDump: returns at once, the dump runs in the background, one at a time (a call while one runs
   * does nothing). Its progress is the domain's MemoryDump metadata, which reaches the handler with
   * the domain: the file's name and start, then Completed (Failed with the reason) and the end.
   */
  memoryDump(vmi: VirtualMachineInstance, dumpPath: string): Promise<void> {
    const log = forObject(this.#log, vmi);
    if (this.#memoryDumpInProgress) {
      log.info('memory-dump is in progress');
      return Promise.resolve();
    }
    const running = this.#dumpMemory(vmi, dumpPath)
      .catch((err: unknown) => log.error({ reason: errorText(err) }, FailedDomainMemoryDump))
      .finally(() => {
        this.#memoryDumpInProgress = undefined;
      });
    this.#memoryDumpInProgress = running;
    return Promise.resolve();
  }

  /** Resolves when the memory dump running now (if any) has ended. */
  async memoryDumpDone(): Promise<void> {
    await this.#memoryDumpInProgress;
  }

  async #dumpMemory(vmi: VirtualMachineInstance, dumpPath: string): Promise<void> {
    const log = forObject(this.#log, vmi);
    const meta = this.#metadataFor(vmi.metadata.uid);
    const fileName = path.basename(dumpPath);
    // in progress or just completed: the handler asks again each round until it sees the result
    if (meta.MemoryDump?.FileName === fileName) return;
    meta.MemoryDump = {
      FileName: fileName,
      StartTimestamp: k8sTime(),
      EndTimestamp: null,
      Completed: false,
      Failed: false,
      FailureReason: '',
    };
    this.#metadataChanged();
    const dom = await this.#mustLookup(vmi);
    // a dump still goes ahead when an older one could not be removed
    removePreviousMemoryDump(path.dirname(dumpPath), log);
    log.info('Starting memory dump');
    let failure = '';
    try {
      await this.#conn.domainCoreDumpWithFormat(dom, dumpPath, DomainCoreDumpFormat.RAW, DomainCoreDumpFlags.MEMORY_ONLY);
      log.info('Completed memory dump successfully');
    } catch (err) {
      failure = `${FailedDomainMemoryDump}: ${errorText(err)}`;
      throw err;
    } finally {
      meta.MemoryDump = { ...meta.MemoryDump, Completed: true, EndTimestamp: k8sTime(), Failed: failure !== '', FailureReason: failure };
      this.#metadataChanged();
    }
  }

  async syncVMICPUs(vmi: VirtualMachineInstance): Promise<void> {
    const dom = await this.#mustLookup(vmi);
    await this.#conn.domainSetVcpusFlags(dom, requestedVCPUs(vmi), DomainVcpuFlags.LIVE | DomainVcpuFlags.CONFIG);
  }

  /** UpdateGuestMemory: the virtio-mem device asked for the VMI's guest memory, under the modify lock. */
  syncVMIMemory(vmi: VirtualMachineInstance): Promise<void> {
    return this.#exclusive(async () => updateGuestMemory(this.#conn, await this.#mustLookup(vmi), vmi));
  }

  getDomainStats(): Promise<Record<string, unknown> | undefined> {
    return domainStats(this.#conn, this.#migrationSource.jobInfo());
  }

  /** The dirty rate measured over `seconds`; an error when no domain is defined. */
  async getDomainDirtyRateStats(seconds: number): Promise<DirtyRateStats> {
    const stats = await dirtyRateStats(this.#conn, seconds);
    if (!stats) throw new DomainNotFoundError();
    return stats;
  }

  /** The guest agent's version as guest-info reported it ('' before it answered). */
  getGuestAgentVersion(): string {
    return this.#agent.getGA().version;
  }

  /** One guest-agent command on the launcher's domain, its raw JSON reply. */
  async getAgentData(command: AgentDataCommand): Promise<string> {
    const [dom] = await this.#conn.connectListAllDomains();
    if (!dom) throw new DomainNotFoundError();
    return this.#agentCommand(dom, command, undefined, AGENT_DATA_TIMEOUT_SECONDS);
  }
}
