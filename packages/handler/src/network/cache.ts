// KubeVirt's pod interface cache (pkg/network/cache/podinterface.go): what phase 1 learnt of the pod
// interface, at <kubevirt-private-dir>/network-info-cache/<vmi uid>/<interface name>, JSON indented by
// two spaces, mode 0604 — read by virt-handler for status.interfaces and across its restarts.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';
import { networkInfoCacheDir } from '@kubevirt-ts/shared';

/** cache.PodIfaceState */
export const PodIfaceNetworkPreparationPending = 0;
export const PodIfaceNetworkPreparationStarted = 1;
export const PodIfaceNetworkPreparationFinished = 2;

export const podIfaceCacheSchema = z.looseObject({
  iface: z.optional(z.looseObject({ name: z.string() })),
  podIP: z.optional(z.string()),
  podIPs: z.optional(z.array(z.string())),
  networkState: z.optional(z.number()),
});
export type PodIfaceCacheData = z.infer<typeof podIfaceCacheSchema>;

export function readPodIfaceCache(privateDir: string, vmiUID: string, iface: string): PodIfaceCacheData | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(networkInfoCacheDir(vmiUID, privateDir), iface), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = podIfaceCacheSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`pod interface cache of ${iface}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function writePodIfaceCache(privateDir: string, vmiUID: string, iface: string, data: PodIfaceCacheData): void {
  const dir = networkInfoCacheDir(vmiUID, privateDir);
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  // omitempty as Go writes it: no zero state, no empty IPs
  const out: Record<string, unknown> = {};
  if (data.iface) out.iface = data.iface;
  if (data.podIP) out.podIP = data.podIP;
  if (data.podIPs?.length) out.podIPs = data.podIPs;
  if (data.networkState) out.networkState = data.networkState;
  writeFileSync(path.join(dir, iface), JSON.stringify(out, null, 2), { mode: 0o604 });
}

export function removePodIfaceCache(privateDir: string, vmiUID: string): void {
  rmSync(networkInfoCacheDir(vmiUID, privateDir), { recursive: true, force: true });
}
