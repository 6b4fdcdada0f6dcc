// pkg/network/errors: a pod network failure the VMI cannot recover from. virt-handler fails the VMI
// for it (handleSyncError) instead of retrying.

export class CriticalNetworkError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'CriticalNetworkError';
  }
}

/** errors.As: anywhere in the error's cause chain. */
export function isCriticalNetworkError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 16; e = e.cause, depth++) {
    if (e instanceof CriticalNetworkError) return true;
  }
  return false;
}
