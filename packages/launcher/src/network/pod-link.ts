// Reads the launcher's own pod interfaces with iproute2's JSON output (`ip -j addr show`), as
// KubeVirt's netdriver reads them through netlink: name, MAC, MTU and IPv4 addresses.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as z from 'zod/mini';

const run = promisify(execFile);

const ipAddrSchema = z.array(
  z.looseObject({
    ifname: z.string(),
    address: z.optional(z.string()),
    mtu: z.number(),
    addr_info: z.optional(
      z.array(z.looseObject({ family: z.string(), local: z.string(), prefixlen: z.number(), scope: z.optional(z.string()) })),
    ),
  }),
);

export interface PodLink {
  name: string;
  mac: string;
  mtu: number;
  /** global-scope IPv4 addresses */
  ipv4: { address: string; prefix: number }[];
}

export function parseIPAddr(json: string): PodLink[] {
  const parsed = ipAddrSchema.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`unexpected output of ip -j addr: ${z.prettifyError(parsed.error)}`);
  return parsed.data.map((l) => ({
    name: l.ifname,
    mac: l.address ?? '',
    mtu: l.mtu,
    ipv4: (l.addr_info ?? [])
      .filter((a) => a.family === 'inet' && (a.scope ?? 'global') === 'global')
      .map((a) => ({ address: a.local, prefix: a.prefixlen })),
  }));
}

/** The link, or undefined when it does not exist. */
export async function readLink(name: string): Promise<PodLink | undefined> {
  try {
    const { stdout } = await run('ip', ['-j', 'addr', 'show', 'dev', name]);
    return parseIPAddr(stdout)[0];
  } catch (err) {
    if (/does not exist/.test(String((err as { stderr?: unknown }).stderr ?? ''))) return undefined;
    throw err;
  }
}
