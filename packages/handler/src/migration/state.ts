// Where a migration stands, read off the VMI's migration state and the domain the launcher reports
// (KubeVirt's helpers in migration-source.go, migration-target.go, controller.go and util/migrations).
import {
  LifeCycle,
  StateChangeReason,
  type Domain,
  type VirtualMachineInstance,
  type VirtualMachineInstanceMigrationState,
} from '@kubevirt-ts/shared';

/** isMigrationDone: no migration, or one that ended and was concluded either way. */
export function isMigrationDone(state: VirtualMachineInstanceMigrationState | undefined): boolean {
  return state === undefined || (Boolean(state.endTimestamp) && (state.completed === true || state.failed === true));
}

/** migrations.IsMigrating: started and not ended (as of `now`). */
export function isMigrating(vmi: VirtualMachineInstance, now: number): boolean {
  const state = vmi.status?.migrationState;
  if (!state) return false;
  const started = state.startTimestamp ? Date.parse(state.startTimestamp) <= now : false;
  const ended = state.endTimestamp ? Date.parse(state.endTimestamp) <= now : false;
  return started && !ended;
}

/** isMigrationInProgress: the VMI or the domain says a migration runs, or QEMU paused the guest for one. */
export function isMigrationInProgress(vmi: VirtualMachineInstance | undefined, domain: Domain | undefined): boolean {
  const state = vmi?.status?.migrationState;
  if (state?.startTimestamp && !state.endTimestamp) return true;
  const meta = domain?.Spec.Metadata.KubeVirt.Migration;
  if (meta?.StartTimestamp && !meta.EndTimestamp) return true;
  const reason = domain?.Status.Reason;
  return (
    domain?.Status.Status === LifeCycle.Paused &&
    (reason === StateChangeReason.Migration || reason === StateChangeReason.StartingUp || reason === StateChangeReason.Postcopy)
  );
}

/** domainMigrated: the source's domain after a successful migration. */
export function domainMigrated(domain: Domain | undefined): boolean {
  return domain?.Status.Status === LifeCycle.Shutoff && domain.Status.Reason === StateChangeReason.Migrated;
}

/** domainIsActiveOnTarget: running, or paused by the user (a paused guest migrates paused). */
export function domainIsActiveOnTarget(domain: Domain | undefined): boolean {
  if (!domain) return false;
  return (
    domain.Status.Status === LifeCycle.Running ||
    (domain.Status.Status === LifeCycle.Paused && domain.Status.Reason === StateChangeReason.User)
  );
}

export function domainPausedFailedPostCopy(domain: Domain | undefined): boolean {
  return domain?.Status.Status === LifeCycle.Paused && domain.Status.Reason === StateChangeReason.PostcopyFailed;
}

/** The domain is alive as the migration controllers count it: neither off, crashed, nor unknown. */
export function domainAlive(domain: Domain | undefined): boolean {
  const s = domain?.Status.Status;
  return domain !== undefined && s !== LifeCycle.Shutoff && s !== LifeCycle.Crashed && s !== '';
}

/** migrationNeedsFinalization: ended but not concluded. */
export function migrationNeedsFinalization(state: VirtualMachineInstanceMigrationState | undefined): boolean {
  return Boolean(state?.startTimestamp && state.endTimestamp && !state.completed && !state.failed);
}

/** abortInProgress: an abort was asked for and the migration is not done. */
export function abortInProgress(vmi: VirtualMachineInstance): boolean {
  const state = vmi.status?.migrationState;
  return state?.abortRequested === true && !isMigrationDone(state);
}
