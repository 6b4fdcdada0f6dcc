/** pkg/handler-launcher-com/cmd/v1/version.go */
export const CMD_VERSION = 1;
/** pkg/handler-launcher-com/notify/v1/version.go */
export const NOTIFY_VERSION = 1;

/** Versions our clients speak (KubeVirt hard-codes these apart from the server constants). */
export const SUPPORTED_CMD_VERSIONS: readonly number[] = [1];
export const SUPPORTED_NOTIFY_VERSIONS: readonly number[] = [1];

/** Go's %v of a []uint32: `[1 2]`. */
function goSlice(values: readonly number[]): string {
  return `[${values.join(' ')}]`;
}

/**
 * KubeVirt's GetHighestCompatibleVersion (pkg/handler-launcher-com/common.go): the highest server
 * version the client also supports. Go sorts the server slice in place before formatting the
 * error, so the message shows it in descending order.
 */
export function negotiateVersion(server: readonly number[], client: readonly number[]): number {
  const descending = [...server].sort((a, b) => b - a);
  const version = descending.find((s) => client.includes(s));
  if (version === undefined) {
    throw new Error(`no compatible version found, server: ${goSlice(descending)}, client: ${goSlice(client)}`);
  }
  return version;
}
