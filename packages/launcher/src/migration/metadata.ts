// metadataCache.Migration: the migration's record in the domain's kubevirt metadata. It reaches the
// handler with every domain the launcher sends, and is how each end learns how the migration went.
import { k8sTime, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import type { MigrationMetadata } from '../api/index.ts';

export interface MigrationMetadataStore {
  load(): MigrationMetadata | null;
  /** Stores the record (or changes it in place) and sends the domain again. */
  store(m: MigrationMetadata): void;
}

export type MigrationMode = 'PreCopy' | 'PostCopy' | 'Paused';

/** v1.MigrationAbortStatus */
export const MigrationAbort = { Succeeded: 'Succeeded', Failed: 'Failed', InProgress: 'Aborting' } as const;

/** MigrationUID: the source's migration when the state has one, else the migration's own. */
export function migrationUID(vmi: VirtualMachineInstance): string {
  const state = vmi.status?.migrationState;
  if (!state) return '';
  if (state.sourceState) return state.sourceState.migrationUID ?? '';
  return state.migrationUid ?? '';
}

/**
 * initializeMigrationMetadata: a new record for this migration. True when this migration is already
 * running (nothing to do); an error when it ran before: a migration is one shot, like a pod.
 */
export function initializeMigrationMetadata(store: MigrationMetadataStore, vmi: VirtualMachineInstance, mode: MigrationMode): boolean {
  const uid = migrationUID(vmi);
  const current = store.load();
  if (current && current.UID === uid) {
    if (current.EndTimestamp === null) return true;
    throw new Error(
      `migration job ${current.UID} already executed, finished at ${current.EndTimestamp}, failed: ${current.Failed}, abortStatus: ${current.AbortStatus}`,
    );
  }
  store.store({ UID: uid, StartTimestamp: k8sTime(), EndTimestamp: null, Failed: false, FailureReason: '', AbortStatus: '', Mode: mode });
  return false;
}

/** setMigrationResult: the end of the migration, once; an aborted one says so. */
export function setMigrationResult(store: MigrationMetadataStore, failed: boolean, reason: string): boolean {
  const current = store.load();
  if (!current || current.EndTimestamp !== null) return false;
  let why = reason;
  if (failed) {
    if (current.AbortStatus === MigrationAbort.Succeeded) why = 'Live migration has been aborted';
    else if (reason.split(/\s+/).join(' ').includes('has to be smaller or equal to the actual size of the containing file')) {
      why = `Volume migration cannot be performed because the destination volume is smaller than the source volume: ${reason}`;
    }
  }
  store.store({ ...current, ...(failed ? { Failed: true, FailureReason: why } : {}), EndTimestamp: k8sTime() });
  return true;
}

/** setEndTimestamp (the target's end): the record ends when the incoming job is over. */
export function setEndTimestamp(store: MigrationMetadataStore): void {
  const current = store.load();
  if (current && current.EndTimestamp !== null) return;
  store.store({
    ...(current ?? { UID: '', StartTimestamp: null, Failed: false, FailureReason: '', AbortStatus: '', Mode: '' }),
    EndTimestamp: k8sTime(),
  });
}

export function updateMigration(store: MigrationMetadataStore, change: Partial<MigrationMetadata>): void {
  const current = store.load();
  if (current) store.store({ ...current, ...change });
}
