// The pod's DNS servers and search domains for the guest's DHCP, as KubeVirt's pkg/network/dns
// reads /etc/resolv.conf (defaults 8.8.8.8 and cluster.local when none are listed).
import { isIPv4, isIPv6 } from 'node:net';

export interface ResolvConf {
  nameserversIPv4: string[];
  /** for the DHCPv6 server of a pod with IPv6 */
  nameserversIPv6: string[];
  searchDomains: string[];
}

export function parseResolvConf(content: string): ResolvConf {
  const nameservers: string[] = [];
  const nameserversIPv6: string[] = [];
  let anyNameserver = false;
  const searchDomains: string[] = [];
  for (const line of content.split('\n')) {
    if (line.startsWith('nameserver')) {
      const fields = line.trim().split(/\s+/);
      if (fields.length !== 2 || fields[1] === undefined) continue;
      if (isIPv4(fields[1])) nameservers.push(fields[1]);
      else if (isIPv6(fields[1])) nameserversIPv6.push(fields[1]);
      if (fields[1].includes(':')) anyNameserver = true;
    } else if (line.startsWith('search')) {
      for (const d of line.slice('search'.length).trim().split(/\s+/)) if (d) searchDomains.push(d.toLowerCase());
    }
  }
  if (nameservers.length === 0 && !anyNameserver) nameservers.push('8.8.8.8');
  if (searchDomains.length === 0) searchDomains.push('cluster.local');
  return { nameserversIPv4: nameservers, nameserversIPv6, searchDomains };
}
