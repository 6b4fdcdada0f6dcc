// SetupPodNetworkPhase2 (KubeVirt's pkg/network/setup/launcher): for each interface the handler
// attached as `tap`, finds its pod interface (eth0, or a secondary network's `pod<hash>` / `net<N>`),
// points the domain's NIC at the tap device phase 1 made (tap0 / `tap<hash>`, else the pod interface
// itself), with the pod interface's MAC (unless the VMI names one) and MTU, and starts the
// single-client DHCP server that gives the guest KubeVirt's addresses (masquerade; bridge when the pod
// interface had an IPv4 address, as a secondary network without IPAM has not) and, for masquerade on
// a pod with IPv6, the DHCPv6 server giving it the IPv6 VM network's ::2.
import { readFileSync, writeFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  generateBridgeName,
  generateNewBridgedVmiInterfaceName,
  generateTapDeviceName,
  podInterfaceNameCandidates,
  vmIPv6NetworkAddresses,
  type Network,
  type VirtualMachineInstance,
  type VirtualMachineInstanceNetworkInterface,
} from '@kubevirt-ts/shared';
import type { DomainSpec } from '../api/index.ts';
import { startDHCPServer, type DHCPConfig, type RunningDHCPServer } from './dhcp-server.ts';
import { startDHCPv6Server, type RunningDHCPv6Server } from './dhcpv6-server.ts';
import { readLink as readLinkDefault, type PodLink } from './pod-link.ts';
import { parseResolvConf } from './resolv-conf.ts';

/** api.DefaultVMCIDR: the masquerade bridge takes the first address, the guest the second. */
export const DEFAULT_VM_CIDR = '10.0.2.0/24';

export function masqueradeAddresses(cidr: string | undefined): { gateway: string; guest: string; prefix: number } {
  const [net = '', len = ''] = (cidr || DEFAULT_VM_CIDR).split('/');
  const prefix = Number(len);
  const parts = net.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255)) || !(prefix >= 0 && prefix <= 30)) {
    throw new Error(`failed to parse VM CIDR: ${cidr}`);
  }
  const base = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const ip = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
  const network = (base & mask) >>> 0;
  return { gateway: ip(network + 1), guest: ip(network + 2), prefix };
}

/** link.StaticMasqueradeBridgeMAC: the masquerade bridge's MAC, the DHCPv6 server's DUID */
export const STATIC_MASQUERADE_BRIDGE_MAC = '02:00:00:00:00:00';

/** The IPv6 VM network's guest address (its second), fd10:0:2::2 by default. */
export const masqueradeIPv6Guest = (cidr: string | undefined): string => vmIPv6NetworkAddresses(cidr).guest;

/**
 * The bridge binding's data the handler caches for the launcher (`vif-cache-<iface>.json`): the
 * guest's MAC, and its DHCP lease when the pod interface had an IPv4 address (IPAM).
 */
export interface BridgeDHCPCache {
  mac: string;
  mtu: number;
  dhcp?: {
    ip: string;
    prefix: number;
    gateway?: string;
    routes: { dst: string; gateway: string }[];
  };
}

export interface Phase2Options {
  logger: Logger;
  /** `/var/run/kubevirt-private`: dhcp_started-<iface> markers, the bridge binding's vif cache */
  privateDir: string;
  resolvConf?: string;
  readLink?: (name: string) => Promise<PodLink | undefined>;
  readBridgeCache?: (podIface: string) => BridgeDHCPCache | undefined;
}

export class PodNetworkPhase2 {
  readonly #log: Logger;
  readonly #privateDir: string;
  readonly #resolvConf: string;
  readonly #readLink: (name: string) => Promise<PodLink | undefined>;
  readonly #readBridgeCache: (podIface: string) => BridgeDHCPCache | undefined;
  readonly #servers = new Map<string, RunningDHCPServer>();
  readonly #serversV6 = new Map<string, RunningDHCPv6Server>();

  constructor(o: Phase2Options) {
    this.#log = o.logger;
    this.#privateDir = o.privateDir;
    this.#resolvConf = o.resolvConf ?? '/etc/resolv.conf';
    this.#readLink = o.readLink ?? readLinkDefault;
    this.#readBridgeCache = o.readBridgeCache ?? ((iface) => readBridgeCacheFile(this.#privateDir, iface));
  }

  async setup(vmi: VirtualMachineInstance, spec: DomainSpec, attachments: Readonly<Record<string, string>>): Promise<void> {
    const networks = vmi.spec.networks ?? [];
    for (const iface of vmi.spec.domain.devices?.interfaces ?? []) {
      if (attachments[iface.name] !== 'tap') continue;
      const net = networks.find((n) => n.name === iface.name);
      if (!net) continue;
      const found = await this.#discoverPodLink(networks, net, vmi.status?.interfaces ?? []);
      const podIface = found.podIface;
      // bridge: the pod's MAC (and address) from the handler's cache, for where no dummy kept them
      const bridgeCache = iface.bridge ? this.#readBridgeCache(podIface) : undefined;
      const link = found.link;
      const tap = generateTapDeviceName(podIface, net);
      const target = (await this.#readLink(tap)) ? tap : podIface;
      const domIface = (spec.Devices.Interfaces ?? []).find((d) => d.Alias?.Name === iface.name);
      if (domIface) {
        const podMAC = found.renamed ? bridgeCache?.mac || link.mac : link.mac;
        domIface.MAC = { MAC: iface.macAddress?.replaceAll('-', ':') ?? podMAC };
        domIface.MTU = { Size: String(link.mtu) };
        domIface.Target = { Device: target, Managed: 'no' };
      }
      if (iface.masquerade) {
        const addrs = masqueradeAddresses(net.pod?.vmNetworkCIDR);
        await this.#ensureDHCP(podIface, {
          clientMAC: domIface?.MAC?.MAC,
          clientIP: addrs.guest,
          clientPrefix: addrs.prefix,
          serverIP: addrs.gateway,
          gateway: addrs.gateway,
          mtu: link.mtu,
          ...this.#dns(),
          hostname: hostname(),
          custom: iface.dhcpOptions,
        });
        // HasIPv6GlobalUnicastAddress: the pod has IPv6, phase 1 gave the bridge the IPv6 gateway
        if (link.ipv6.length > 0 && !this.#serversV6.has(podIface)) {
          const clientIP = masqueradeIPv6Guest(net.pod?.vmIPv6NetworkCIDR);
          const serverIface = generateBridgeName(podIface);
          this.#log.info(`Starting DHCPv6 server for ${podIface}: guest ${clientIP} on ${serverIface}`);
          const dnsServers = parseResolvConf(readFileSync(this.#resolvConf, 'utf8')).nameserversIPv6;
          this.#serversV6.set(
            podIface,
            await startDHCPv6Server({ clientIP, serverIface, serverMAC: STATIC_MASQUERADE_BRIDGE_MAC, dnsServers }, this.#log),
          );
        }
      } else if (iface.bridge) {
        const c = bridgeCache?.dhcp;
        if (!c) continue; // IPAM disabled (no IPv4 on the pod interface): the guest configures itself
        await this.#ensureDHCP(podIface, {
          clientMAC: bridgeCache.mac,
          clientIP: c.ip,
          clientPrefix: c.prefix,
          serverIP: fakeBridgeIP(vmi, iface.name),
          ...(c.gateway ? { gateway: c.gateway } : {}),
          routes: c.routes,
          mtu: bridgeCache.mtu || link.mtu,
          ...this.#dns(),
          hostname: hostname(),
          custom: iface.dhcpOptions,
        });
      }
    }
  }

  /**
   * link.DiscoverByNetwork: the pod interface by its hashed (or reported primary) name, else its
   * ordinal one. The bridge binding leaves a dummy of that name; where the kernel has no dummy links
   * only the renamed `<name>-nic` is left, so that is looked for last.
   */
  async #discoverPodLink(
    networks: readonly Network[],
    net: Network,
    statuses: readonly VirtualMachineInstanceNetworkInterface[],
  ): Promise<{ podIface: string; link: PodLink; renamed: boolean }> {
    const names = podInterfaceNameCandidates(networks, net, statuses);
    for (const podIface of names) {
      const link = await this.#readLink(podIface);
      if (link) return { podIface, link, renamed: false };
    }
    for (const podIface of names) {
      const link = await this.#readLink(generateNewBridgedVmiInterfaceName(podIface));
      if (link) return { podIface, link, renamed: true };
    }
    throw new Error(`pod link (${names.join(' or ')}) of network ${net.name} is missing`);
  }

  #dns(): { dnsServers: string[]; searchDomains: string[] } {
    const r = parseResolvConf(readFileSync(this.#resolvConf, 'utf8'));
    return { dnsServers: r.nameserversIPv4, searchDomains: r.searchDomains };
  }

  async #ensureDHCP(podIface: string, config: DHCPConfig): Promise<void> {
    if (this.#servers.has(podIface)) return;
    this.#log.info(`Starting DHCP server for ${podIface}: guest ${config.clientIP}/${config.clientPrefix} via ${config.serverIP}`);
    this.#servers.set(podIface, await startDHCPServer(config, this.#log));
    // KubeVirt's marker that the server runs for this interface
    writeFileSync(path.join(this.#privateDir, `dhcp_started-${podIface}`), '');
  }

  async close(): Promise<void> {
    await Promise.all([...this.#servers.values(), ...this.#serversV6.values()].map((s) => s.close()));
    this.#servers.clear();
    this.#serversV6.clear();
  }
}

/** link.GetFakeBridgeIP: 169.254.75.1<index of the interface>, the bridge binding's DHCP server. */
export function fakeBridgeIP(vmi: VirtualMachineInstance, ifaceName: string): string {
  const index = (vmi.spec.domain.devices?.interfaces ?? []).findIndex((i) => i.name === ifaceName);
  return `169.254.75.1${index}`;
}

const ipNetSchema = z.looseObject({ IP: z.string(), Mask: z.string() });
const vifCacheSchema = z.looseObject({
  IP: z.nullable(z.optional(ipNetSchema)),
  MAC: z.nullable(z.optional(z.string())),
  Routes: z.nullable(
    z.optional(z.array(z.looseObject({ Dst: z.nullable(z.optional(ipNetSchema)), Gw: z.nullable(z.optional(z.string())) }))),
  ),
  Mtu: z.optional(z.number()),
  IPAMDisabled: z.optional(z.boolean()),
  Gateway: z.nullable(z.optional(z.string())),
});

/** Prefix length of a Go net.IPMask (base64 bytes in JSON). */
export function maskPrefix(base64: string): number {
  return [...Buffer.from(base64, 'base64')].reduce((n, b) => n + b.toString(2).replaceAll('0', '').length, 0);
}

/**
 * cache.DHCPConfig from KubeVirt's JSON (Go field names, IPNet masks and the MAC as base64). KubeVirt's
 * launcher reads nothing of it when IPAM is disabled; ours still takes the MAC our handler leaves in it.
 */
export function parseVifCache(json: string, mtu: number): BridgeDHCPCache {
  const parsed = vifCacheSchema.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`DHCP cache: ${z.prettifyError(parsed.error)}`);
  const c = parsed.data;
  const mac = c.MAC ? [...Buffer.from(c.MAC, 'base64')].map((b) => b.toString(16).padStart(2, '0')).join(':') : '';
  const out: BridgeDHCPCache = { mac, mtu: c.Mtu || mtu };
  if (c.IPAMDisabled || !c.IP) return out;
  out.dhcp = {
    ip: c.IP.IP,
    prefix: maskPrefix(c.IP.Mask),
    ...(c.Gateway ? { gateway: c.Gateway } : {}),
    routes: (c.Routes ?? [])
      .filter((r) => r.Gw)
      .map((r) => ({ dst: r.Dst ? `${r.Dst.IP}/${maskPrefix(r.Dst.Mask)}` : '0.0.0.0/0', gateway: r.Gw! })),
  };
  return out;
}

function readBridgeCacheFile(privateDir: string, podIface: string): BridgeDHCPCache | undefined {
  return parseVifCache(readFileSync(path.join(privateDir, `vif-cache-${podIface}.json`), 'utf8'), 0);
}
