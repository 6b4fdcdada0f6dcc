// IPv6 addresses as the masquerade binding needs them on both sides of the pod network: the IPv6 VM
// network's gateway and guest (virt-handler's phase 1, the launcher's DHCPv6 server) and the 16 bytes
// of an address on the wire.
import { isIPv6 } from 'node:net';

/** api.DefaultVMIpv6CIDR */
export const DEFAULT_VM_IPV6_CIDR = 'fd10:0:2::/120';

/** An IPv6 address as a 128-bit number; undefined for anything else. */
function ipv6ToBigInt(text: string): bigint | undefined {
  if (!isIPv6(text) || text.includes('.') || text.includes('%')) return undefined;
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

/** RFC 5952's form, as Go's net.IP.String() prints it. */
function bigIntToIPv6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

/** The IPv6 VM network's gateway and guest (its first and second addresses), fd10:0:2::1 and ::2 by default. */
export function vmIPv6NetworkAddresses(cidr: string | undefined): { gateway: string; guest: string; prefix: number } {
  const [net = '', len = ''] = (cidr || DEFAULT_VM_IPV6_CIDR).split('/');
  const prefix = Number(len);
  const base = ipv6ToBigInt(net);
  if (base === undefined || !/^\d+$/.test(len) || prefix > 126) throw new Error(`failed to parse VM IPv6 CIDR: ${cidr}`);
  const network = base & (((1n << BigInt(prefix)) - 1n) << BigInt(128 - prefix));
  return { gateway: bigIntToIPv6(network + 1n), guest: bigIntToIPv6(network + 2n), prefix };
}

/** An IPv6 address's 16 bytes. */
export function ipv6Bytes(address: string): Buffer {
  const n = ipv6ToBigInt(address);
  if (n === undefined) throw new Error(`not an IPv6 address: ${address}`);
  const out = Buffer.alloc(16);
  out.writeBigUInt64BE(n >> 64n, 0);
  out.writeBigUInt64BE(n & 0xffffffffffffffffn, 8);
  return out;
}
