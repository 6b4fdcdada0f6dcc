// iproute2's JSON output (`ip -j addr show`), as the handler's network phase 1 and the launcher's phase 2
// read the pod's links: name, MAC, MTU and global IPv4 and IPv6 addresses (what KubeVirt reads through netlink).
import * as z from 'zod/mini';

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

export interface IPLink {
  name: string;
  mac: string;
  mtu: number;
  /** global-scope IPv4 addresses */
  ipv4: { address: string; prefix: number }[];
  /** global-scope IPv6 addresses (not link-local) */
  ipv6: { address: string; prefix: number }[];
}

/** The links `ip -j addr show` printed; a clear error when the output is not what iproute2 prints. */
export function parseIPAddr(json: string): IPLink[] {
  const parsed = ipAddrSchema.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`unexpected output of ip -j addr: ${z.prettifyError(parsed.error)}`);
  return parsed.data.map((l) => ({
    name: l.ifname,
    mac: l.address ?? '',
    mtu: l.mtu,
    ipv4: global(l.addr_info, 'inet'),
    ipv6: global(l.addr_info, 'inet6'),
  }));
}

function global(addrs: { family: string; local: string; prefixlen: number; scope?: string | undefined }[] | undefined, family: string) {
  return (addrs ?? [])
    .filter((a) => a.family === family && (a.scope ?? 'global') === 'global')
    .map((a) => ({ address: a.local, prefix: a.prefixlen }));
}
