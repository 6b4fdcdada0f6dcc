// The masquerade binding's NAT (KubeVirt's pkg/network/setup/netpod/masquerade): table `ip nat` (and
// `ip6 nat` for a pod with IPv6) with KubeVirt's chains and rules, each as one `nft -f` transaction. Traffic entering on the pod interface goes
// to the guest (only the listed `ports` when there are any); the guest's own traffic leaves masqueraded
// as the pod IP; the legacy migration ports (49152, 49153) stay the pod's.
import type { Interface as VMIInterface } from '@kubevirt-ts/shared';

export const NAT_TABLE = 'nat';
export const LEGACY_MIGRATION_PORTS = [49152, 49153] as const;
/** nft's family, which is also its address match keyword (`ip saddr`, `ip6 saddr`). */
export type NATFamily = 'ip' | 'ip6';
const LOOPBACK: Record<NATFamily, string> = { ip: '127.0.0.1', ip6: '::1' };

export interface MasqueradeNAT {
  family: NATFamily;
  podIface: string;
  bridgeIface: string;
  gateway: string;
  guest: string;
  ports: NonNullable<VMIInterface['ports']>;
}

export function masqueradeRuleset(m: MasqueradeNAT): string {
  const f = m.family;
  const t = `${f} ${NAT_TABLE}`;
  const loopback = LOOPBACK[f];
  const lines = [
    `add table ${t}`,
    `add chain ${t} prerouting { type nat hook prerouting priority -100; }`,
    `add chain ${t} input { type nat hook input priority 100; }`,
    `add chain ${t} output { type nat hook output priority -100; }`,
    `add chain ${t} postrouting { type nat hook postrouting priority 100; }`,
    `add chain ${t} KUBEVIRT_PREINBOUND`,
    `add chain ${t} KUBEVIRT_POSTINBOUND`,
    `add rule ${t} postrouting ${f} saddr ${m.guest} counter masquerade`,
    `add rule ${t} prerouting iifname ${JSON.stringify(m.podIface)} counter jump KUBEVIRT_PREINBOUND`,
    `add rule ${t} postrouting oifname ${JSON.stringify(m.bridgeIface)} counter jump KUBEVIRT_POSTINBOUND`,
  ];
  const skip = `{ ${LEGACY_MIGRATION_PORTS.join(', ')} }`;
  lines.push(`add rule ${t} output tcp dport ${skip} ${f} saddr ${loopback} counter return`);
  lines.push(`add rule ${t} KUBEVIRT_POSTINBOUND tcp dport ${skip} ${f} saddr ${loopback} counter return`);
  for (const p of m.ports) {
    const proto = (p.protocol || 'tcp').toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new Error(`unsupported port protocol ${JSON.stringify(p.protocol)}`);
    const port = Number(p.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port ${JSON.stringify(p.port)}`);
    lines.push(`add rule ${t} KUBEVIRT_PREINBOUND ${proto} dport { ${port} } counter dnat to ${m.guest}`);
    lines.push(`add rule ${t} KUBEVIRT_POSTINBOUND ${proto} dport ${port} ${f} saddr { ${loopback} } counter snat to ${m.gateway}`);
    lines.push(`add rule ${t} output ${f} daddr { ${loopback} } ${proto} dport ${port} counter dnat to ${m.guest}`);
  }
  if (m.ports.length === 0) {
    lines.push(`add rule ${t} KUBEVIRT_PREINBOUND counter dnat to ${m.guest}`);
    lines.push(`add rule ${t} KUBEVIRT_POSTINBOUND ${f} saddr { ${loopback} } counter snat to ${m.gateway}`);
    lines.push(`add rule ${t} output ${f} daddr { ${loopback} } counter dnat to ${m.guest}`);
  }
  return `${lines.join('\n')}\n`;
}
