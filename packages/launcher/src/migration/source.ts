// The source end of a live migration (live-migration-source.go): libvirt here migrates the domain,
// peer to peer, to the target launcher's libvirt through the handler's migration proxy, while the
// monitor watches it; the result goes into the domain's migration metadata.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  DomainJobType,
  DomainMigrateFlags,
  DomainXMLFlags,
  isLibvirtError,
  MigrateParam,
  type Connection,
  type Domain as VirDomain,
  type TypedParam,
} from '@kubevirt-ts/libvirt';
import {
  LibvirtBlockMigrationPort,
  LibvirtDirectMigrationPort,
  migrationProxyKey,
  migrationSourceUnixFile,
  parseQuantity,
  vmiNameToDomainName,
  type VirtualMachineInstance,
} from '@kubevirt-ts/shared';
import { domainSpecFromXML, type DomainSpec } from '../api/index.ts';
import type { MigrationOptions } from '@kubevirt-ts/shared';
import { bandwidthMiB } from './options.ts';
import { MigrationMonitor, type DomainJobInfo, type MonitorConnection } from './monitor.ts';
import {
  initializeMigrationMetadata,
  MigrationAbort,
  setMigrationResult,
  updateMigration,
  type MigrationMetadataStore,
} from './metadata.ts';

const FORCE_FAILURE_ANNOTATION = 'kubevirt.io/func-test-force-launcher-migration-failure';
/** libvirtCompressionMethods: the only method libvirt is asked for. */
const COMPRESSION_METHODS: Record<string, string> = { zstd: 'zstd' };

export const isBlockMigration = (vmi: VirtualMachineInstance) => vmi.status?.migrationMethod === 'BlockMigration';

/** shouldCompressMigration: the libvirt method, undefined for none or an unknown one. */
export function compressionMethod(o: MigrationOptions): string | undefined {
  if (!o.Compression || o.Compression === 'None') return undefined;
  return COMPRESSION_METHODS[o.Compression];
}

/** generateMigrationFlags */
export function migrationFlags(blockMigration: boolean, paused: boolean, o: MigrationOptions): number {
  let flags = DomainMigrateFlags.LIVE | DomainMigrateFlags.PEER2PEER | DomainMigrateFlags.PERSIST_DEST;
  if (blockMigration) flags |= DomainMigrateFlags.NON_SHARED_INC;
  if (o.UnsafeMigration) flags |= DomainMigrateFlags.UNSAFE;
  if (o.AllowAutoConverge) flags |= DomainMigrateFlags.AUTO_CONVERGE;
  if (o.AllowPostCopy) flags |= DomainMigrateFlags.POSTCOPY;
  if (paused) flags |= DomainMigrateFlags.PAUSED;
  if (o.ParallelMigrationThreads !== null) flags |= DomainMigrateFlags.PARALLEL;
  if (compressionMethod(o)) flags |= DomainMigrateFlags.COMPRESSED;
  return flags;
}

/** QEMU's version (major × 10⁶ + minor × 10³) from which post-copy runs over multifd connections. */
export const QEMU_POSTCOPY_MULTIFD = 10_001_000;

/**
 * The options without parallel connections when post-copy may start and QEMU is older than 10.1:
 * QEMU 7.2 (Debian 12's) switches such a migration to post-copy and its incoming side crashes, the
 * guest lost, while the source reports success. KubeVirt's newer QEMU runs both together.
 */
export function withoutUnsafeParallel(o: MigrationOptions, qemuVersion: number): MigrationOptions {
  if (!o.AllowPostCopy || o.ParallelMigrationThreads === null || qemuVersion >= QEMU_POSTCOPY_MULTIFD) return o;
  return { ...o, ParallelMigrationThreads: null };
}

/** classifyVolumesForMigration: volumes the target shares, and the generated ones it gets a copy of. */
export function classifyVolumesForMigration(vmi: VirtualMachineInstance): { shared: Set<string>; generated: Set<string> } {
  const shared = new Set<string>();
  const generated = new Set<string>();
  for (const v of vmi.spec.volumes ?? []) {
    if (v.persistentVolumeClaim || v.dataVolume) shared.add(v.name);
    else if (v.hostDisk) {
      if (v.hostDisk.shared) shared.add(v.name);
    } else if (
      v.configMap ||
      v.secret ||
      v.downwardAPI ||
      v.serviceAccount ||
      v.cloudInitNoCloud ||
      v.cloudInitConfigDrive ||
      v.containerDisk
    ) {
      generated.add(v.name);
    }
  }
  return { shared, generated };
}

/** getDiskTargetsForMigration: the disks block migration copies (no CD-ROMs, nothing shared). */
export function diskTargetsForMigration(spec: DomainSpec, vmi: VirtualMachineInstance): string[] {
  const { shared, generated } = classifyVolumesForMigration(vmi);
  const targets: string[] = [];
  for (const disk of spec.Devices.Disks ?? []) {
    const name = disk.Alias?.Name ?? '';
    if (disk.Device === 'cdrom') continue;
    if (disk.ReadOnly && !generated.has(name)) continue;
    if ((disk.Type !== 'file' && disk.Type !== 'block') || shared.has(name)) continue;
    targets.push(disk.Target.Device);
  }
  return targets;
}

/** generateDomainName: the target's domain name, when the state names another VMI (decentralized). */
export function destinationDomainName(vmi: VirtualMachineInstance): string {
  const target = vmi.status?.migrationState?.targetState;
  if (target?.domainName && target.domainNamespace) return vmiNameToDomainName(target.domainNamespace, target.domainName);
  return vmiNameToDomainName(vmi.metadata.namespace, vmi.metadata.name);
}

/** generateMigrationParams, from the domain's migratable XML and the disks to copy. */
export function migrationParams(
  vmi: VirtualMachineInstance,
  o: MigrationOptions,
  migratableXML: string,
  copyDisks: readonly string[],
  virtShareDir: string,
): TypedParam[] {
  let xml = migratableXML;
  const targetUID = vmi.status?.migrationState?.targetState?.virtualMachineInstanceUID;
  if (targetUID) xml = xml.replaceAll(vmi.metadata.uid, targetUID);
  const uri = (port: number) => `unix://${migrationSourceUnixFile(virtShareDir, migrationProxyKey(vmi.metadata.uid, port))}`;
  const params: TypedParam[] = [{ field: MigrateParam.URI, type: 'string', value: uri(LibvirtDirectMigrationPort) }];
  const bandwidth = bandwidthMiB(o.Bandwidth);
  if (bandwidth > 0) params.push({ field: MigrateParam.BANDWIDTH, type: 'ullong', value: BigInt(bandwidth) });
  params.push(
    { field: MigrateParam.DEST_XML, type: 'string', value: xml },
    { field: MigrateParam.PERSIST_XML, type: 'string', value: xml },
  );
  if (o.ParallelMigrationThreads !== null) {
    params.push({ field: MigrateParam.PARALLEL_CONNECTIONS, type: 'int', value: o.ParallelMigrationThreads });
  }
  params.push({ field: MigrateParam.DEST_NAME, type: 'string', value: destinationDomainName(vmi) });
  if (copyDisks.length > 0) {
    // a repeated parameter: one entry per disk
    for (const disk of copyDisks) params.push({ field: MigrateParam.MIGRATE_DISKS, type: 'string', value: disk });
    params.push({ field: MigrateParam.DISKS_URI, type: 'string', value: uri(LibvirtBlockMigrationPort) });
  }
  const compression = compressionMethod(o);
  if (compression) params.push({ field: MigrateParam.COMPRESSION, type: 'string', value: compression });
  return params;
}

/** libvirt.Error's Error(): how KubeVirt's migration failures read in the metadata. */
function failureText(err: unknown): string {
  if (isLibvirtError(err)) return `virError(Code=${err.code}, Domain=${err.domain}, Message='${err.message}')`;
  return err instanceof Error ? err.message : String(err);
}

function ephemeralDisksSize(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else total += statSync(p).size;
    }
  };
  try {
    walk(dir);
  } catch {
    return 0;
  }
  return total;
}

/** getVMIMigrationDataSize: guest memory (and a block migration's disks) in GB, rounded up. */
export function migrationDataSizeGB(vmi: VirtualMachineInstance, ephemeralDiskDir: string): number {
  const memory = vmi.spec.domain.memory?.guest ?? vmi.spec.domain.resources?.requests?.memory;
  const r = memory === undefined ? undefined : parseQuantity(memory);
  let bytes = r ? Number(r.num / r.den) : 0;
  if (isBlockMigration(vmi)) bytes += ephemeralDisksSize(ephemeralDiskDir);
  return Math.ceil(bytes / 1e9);
}

export type SourceConnection = MonitorConnection &
  Pick<
    Connection,
    'connectGetVersion' | 'domainLookupByName' | 'domainGetState' | 'domainGetXMLDesc' | 'domainMigratePerform3Params' | 'domainAbortJob'
  >;

export interface MigrationSourceOptions {
  conn: SourceConnection;
  logger: Logger;
  virtShareDir: string;
  ephemeralDiskDir: string;
  metadata: MigrationMetadataStore;
  /** The domain-modify lock: the parameters are made from a domain no sync is changing. */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
}

export class MigrationSource {
  readonly #o: MigrationSourceOptions;
  /** An abort in flight; the migration's end waits for it (abortWg). */
  #aborting: Promise<void> | undefined;
  /** The last job stats of the outgoing migration (kept once it ended, as KubeVirt's domainInfoStats). */
  #jobInfo: DomainJobInfo | undefined;

  constructor(o: MigrationSourceOptions) {
    this.#o = o;
  }

  /** The outgoing migration's last job stats, for GetDomainStats. */
  jobInfo(): DomainJobInfo | undefined {
    return this.#jobInfo;
  }

  /** startMigration: returns once the migration is under way (or already was). */
  start(vmi: VirtualMachineInstance, o: MigrationOptions): void {
    if (!vmi.status?.migrationState) throw new Error('cannot migrate VMI until migrationState is ready');
    if ((vmi.status.migratedVolumes ?? []).length > 0)
      throw new Error('volume migration (migratedVolumes) is not supported by this launcher');
    if (initializeMigrationMetadata(this.#o.metadata, vmi, 'PreCopy')) return;
    void this.#migrate(vmi, o);
  }

  /** cancelMigration: aborts the running migration job, once. */
  cancel(vmi: VirtualMachineInstance): void {
    const log = this.#o.logger;
    const m = this.#o.metadata.load();
    if (!m || m.EndTimestamp !== null || m.Failed || m.StartTimestamp === null) {
      log.info('cancel migration ignored: vmi is not migrating');
      return;
    }
    if (m.AbortStatus === MigrationAbort.InProgress) {
      log.info('cancel migration ignored: abort is already in progress');
      return;
    }
    if (m.AbortStatus === MigrationAbort.Succeeded) {
      log.info('cancel migration ignored: abort already succeeded');
      return;
    }
    updateMigration(this.#o.metadata, { AbortStatus: MigrationAbort.InProgress });
    this.#aborting = this.#abort(vmi);
  }

  async #abort(vmi: VirtualMachineInstance): Promise<void> {
    const { conn, logger: log, metadata } = this.#o;
    const status = (s: string) => updateMigration(metadata, { AbortStatus: s });
    const attempt = async () => {
      const dom = await conn.domainLookupByName(vmiNameToDomainName(vmi.metadata.namespace, vmi.metadata.name));
      const job = await conn.domainGetJobStats(dom, 0);
      if (job.typeCode !== DomainJobType.UNBOUNDED) {
        log.info(`migration job is not active (type=${job.typeCode}), nothing to abort`);
        return MigrationAbort.Failed;
      }
      await conn.domainAbortJob(dom);
      log.info('Live migration abort succeeded');
      return MigrationAbort.Succeeded;
    };
    // libvirt can hang on an unresponsive QEMU monitor: 30 s, then the abort failed
    const timeout = new Promise<string>((resolve) => setTimeout(resolve, 30_000, 'timeout').unref());
    try {
      const result = await Promise.race([attempt(), timeout]);
      if (result === 'timeout') log.error('migration abort timed out waiting for libvirt');
      status(result === 'timeout' ? MigrationAbort.Failed : result);
    } catch (err) {
      log.error({ reason: failureText(err) }, 'failed to cancel migration');
      status(MigrationAbort.Failed);
    }
  }

  async #migrate(vmi: VirtualMachineInstance, o: MigrationOptions): Promise<void> {
    const { conn, logger: log, metadata } = this.#o;
    if (vmi.metadata.annotations?.[FORCE_FAILURE_ANNOTATION] !== undefined) {
      log.error('Live migration failed. Failure is forced by functional tests suite.');
      setMigrationResult(metadata, true, 'Failed migration to satisfy functional test condition');
      return;
    }
    log.info('Initiating live migration.');
    if (o.UnsafeMigration) log.info("UNSAFE_MIGRATION flag is set, libvirt's migration checks will be disabled!");
    if (o.StallDetectorOptions) log.warn('stall detection is not implemented: the legacy convergence applies');
    let dom: VirDomain;
    try {
      dom = await conn.domainLookupByName(vmiNameToDomainName(vmi.metadata.namespace, vmi.metadata.name));
    } catch (err) {
      const reason = `migration monitor failed to look up domain: ${failureText(err)}`;
      log.error({ reason }, 'migration monitor failed to start');
      setMigrationResult(metadata, true, reason);
      return;
    }
    const monitor = new MigrationMonitor(
      conn,
      dom,
      o,
      migrationDataSizeGB(vmi, this.#o.ephemeralDiskDir),
      {
        jobInfo: (info) => {
          this.#jobInfo = info;
        },
        mode: () => metadata.load()?.Mode ?? '',
        abortInProgress: () => {
          const s = metadata.load()?.AbortStatus ?? '';
          return s !== '' && s !== MigrationAbort.Failed;
        },
        setMode: (mode) => updateMigration(metadata, { Mode: mode }),
        cancel: () => this.cancel(vmi),
      },
      log,
    );
    monitor.start();
    try {
      await this.#perform(vmi, dom, o);
      await this.#aborting;
    } catch (err) {
      await this.#aborting;
      log.error({ reason: failureText(err) }, 'Live migration failed.');
      setMigrationResult(metadata, true, failureText(err));
      return;
    } finally {
      monitor.stop();
    }
    log.info('Live migration succeeded.');
    setMigrationResult(metadata, false, '');
  }

  /** migrateHelper: MigrateToURI3 to the target's libvirt, through the proxy's socket in this pod. */
  async #perform(vmi: VirtualMachineInstance, dom: VirDomain, requested: MigrationOptions): Promise<void> {
    const { conn, virtShareDir, logger: log } = this.#o;
    const o = withoutUnsafeParallel(requested, Number(await conn.connectGetVersion()));
    if (o !== requested) {
      log.warn('post-copy is allowed and this QEMU cannot run it over parallel connections: one connection is used');
    }
    const paused = (await conn.domainGetState(dom)).state === 'PAUSED';
    const flags = migrationFlags(isBlockMigration(vmi), paused, o);
    const params = await this.#o.exclusive(async () => {
      const xml = await conn.domainGetXMLDesc(dom, DomainXMLFlags.MIGRATABLE);
      const live = domainSpecFromXML(await conn.domainGetXMLDesc(dom, 0));
      return migrationParams(vmi, o, xml, diskTargetsForMigration(live, vmi), virtShareDir);
    });
    const session = (vmi.status?.runtimeUser ?? 0) !== 0 ? 'session' : 'system';
    const dconnuri = `qemu+unix:///${session}?socket=${migrationSourceUnixFile(virtShareDir, vmi.metadata.uid)}`;
    log.info(`migrating to ${dconnuri} with flags ${flags}`);
    await conn.domainMigratePerform3Params(dom, dconnuri, params, flags, { timeoutMs: 0 });
  }
}
