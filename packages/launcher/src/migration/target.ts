// The target end of a live migration (live-migration-target.go): once libvirt resumed the incoming
// domain, the record ends when no incoming job is left; FinalizeVirtualMachineMigration then renews
// what the guest must learn again (time, DHCP leases of link-refresh interfaces).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DomainJobOperation, DomainJobType, isLibvirtError, type Connection, type Domain as VirDomain } from '@kubevirt-ts/libvirt';
import { ErrorNumber } from '@kubevirt-ts/libvirt';
import { setEndTimestamp, type MigrationMetadataStore } from './metadata.ts';

/** retryDelays of TargetMigrationMonitor: three more polls of up to 3 s, 1, 2 and 3 s apart. */
const RETRY_DELAYS_MS = [1000, 2000, 3000];

/** True while libvirt still runs the incoming migration's job on the domain. */
async function incomingJobActive(conn: Pick<Connection, 'domainGetJobStats'>, dom: VirDomain): Promise<boolean | undefined> {
  try {
    const job = await conn.domainGetJobStats(dom, 0);
    return job.typeCode !== DomainJobType.NONE && job.params.operation === DomainJobOperation.MIGRATION_IN;
  } catch {
    return undefined; // a job that does not report its figures: ask again
  }
}

/**
 * TargetMigrationMonitor: a migration is not over when the target resumes; the record's end waits
 * until no incoming job is seen (every 100 ms for 3 s, retried), and is set anyway after that.
 */
export async function monitorIncomingMigration(
  conn: Pick<Connection, 'domainGetJobStats'>,
  dom: VirDomain,
  store: MigrationMetadataStore,
  log: Logger,
): Promise<void> {
  let done = false;
  for (let attempt = 0; attempt <= RETRY_DELAYS_MS.length && !done; attempt++) {
    const deadline = Date.now() + 3000;
    while (Date.now() <= deadline) {
      if ((await incomingJobActive(conn, dom)) === false) {
        done = true;
        break;
      }
      await sleep(100);
    }
    if (!done && attempt < RETRY_DELAYS_MS.length) {
      log.info('A migration job is still active, retrying after delay');
      await sleep(RETRY_DELAYS_MS[attempt]);
    }
  }
  log.info(
    done
      ? 'Incoming migration job completed, setting EndTimestamp'
      : 'Error polling libvirt, setting EndTimestamp anyway to unblock migration',
  );
  setEndTimestamp(store);
}

const FAILED_SYNC_GUEST_TIME = 'failed to sync guest time';

/** setGuestTime: the host's time into the guest through its agent, once a second for up to 60 s. */
export async function setGuestTime(
  conn: Pick<Connection, 'domainSetTime'>,
  dom: VirDomain,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  let latest: string | undefined;
  while (Date.now() < deadline && !signal?.aborted) {
    await sleep(1000);
    const now = Date.now();
    try {
      await conn.domainSetTime(dom, Math.floor(now / 1000), (now % 1000) * 1_000_000, 0);
      log.info('guest VM time sync finished successfully');
      return;
    } catch (err) {
      if (!isLibvirtError(err)) {
        log.warn({ reason: String(err) }, FAILED_SYNC_GUEST_TIME);
        return;
      }
      if (err.code === ErrorNumber.OPERATION_UNSUPPORTED) {
        log.warn({ reason: err.message }, 'failed to set time: not supported');
        return;
      }
      if (err.code === ErrorNumber.ARGUMENT_UNSUPPORTED) {
        log.warn({ reason: err.message }, 'failed to set time: agent not configured');
        return;
      }
      latest =
        err.code === ErrorNumber.AGENT_UNRESPONSIVE
          ? `failed to set time: QEMU agent unresponsive, ${err.message}`
          : `${FAILED_SYNC_GUEST_TIME}, ${err.message}`;
    }
  }
  if (latest) log.warn(latest);
  else if (!signal?.aborted) log.error(FAILED_SYNC_GUEST_TIME);
}
