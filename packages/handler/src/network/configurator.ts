// Pod network phase 1 (KubeVirt's pkg/network/setup NetConf + netpod): done by virt-handler, with its
// privileges, in the launcher pod's network namespace, once per VMI before the first
// SyncVirtualMachine. Masquerade: bridge k6t-eth0 (02:00:00:00:00:00, the VM network's gateway
// address, the pod MTU), tap0 owned by the launcher's user on it, forwarding on, and the NAT table.
// Bridge, on the pod network or a multus one: the pod interface (eth0, or the `pod<hash>` / `net<N>`
// multus made, as the pod's own interfaces tell) and a tap on k6t-<name>. The pod interface cache
// records the pod IPs and the state (started → finished) per network, so a restarted handler neither
// redoes nor half-redoes it. Everything made lives in the pod's network namespace and goes with it.
import { randomBytes } from 'node:crypto';
import { chownSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import {
  errorMessage,
  generateBridgeName,
  generateNewBridgedVmiInterfaceName,
  generateTapDeviceName,
  parseIPAddr,
  podInterfaceNameScheme,
  vmIPv6NetworkAddresses,
  type Interface as VMIInterface,
  type Network,
  type VirtualMachineInstance,
  type VirtualMachineInstanceNetworkInterface,
} from '@kubevirt-ts/shared';
import * as z from 'zod/mini';
import {
  PodIfaceNetworkPreparationFinished,
  PodIfaceNetworkPreparationStarted,
  readPodIfaceCache,
  removePodIfaceCache,
  writePodIfaceCache,
} from './cache.ts';
import { CriticalNetworkError } from './errors.ts';
import { masqueradeRuleset, NAT_TABLE } from './masquerade.ts';
import { launcherNetNS, sharesHandlerNetNS, type NetNS } from './netns.ts';

/** What the controller needs: phase 1 for a VMI, and forgetting it when the VMI is gone. */
export interface NetworkConfigurator {
  /** Prepares the pod network; resolves to VirtualMachineOptions.interfaceDomainAttachment. */
  setupPodNetworkPhase1(vmi: VirtualMachineInstance): Promise<Record<string, string>>;
  /** The pod IPs phase 1 cached for an interface, for status.interfaces. */
  podInterfaceIPs(vmiUID: string, ifaceName: string): { podIP?: string; podIPs?: string[] } | undefined;
  teardown(vmiUID: string): void;
}

export const PRIMARY_TAP = 'tap0';
export const STATIC_MASQUERADE_BRIDGE_MAC = '02:00:00:00:00:00';
export const DEFAULT_VM_CIDR = '10.0.2.0/24';
/** util.NonRootUID; a root VMI's tap belongs to root (LibvirtUserAndGroupId "0"). */
export const NON_ROOT_UID = 107;

export interface PodLink {
  name: string;
  mac: string;
  mtu: number;
  ipv4: string[];
  addrs: { address: string; prefix: number }[];
  /** global IPv6 addresses */
  ipv6: string[];
}

export async function readLinks(ns: NetNS): Promise<Map<string, PodLink>> {
  return new Map(
    parseIPAddr(await ns.exec('ip', ['-j', 'addr', 'show'])).map((l) => [
      l.name,
      { name: l.name, mac: l.mac, mtu: l.mtu, ipv4: l.ipv4.map((a) => a.address), addrs: l.ipv4, ipv6: l.ipv6.map((a) => a.address) },
    ]),
  );
}

const routeSchema = z.array(z.looseObject({ dst: z.string(), gateway: z.optional(z.string()), scope: z.optional(z.string()) }));

export interface PodRoute {
  /** `default` or a CIDR */
  dst: string;
  gateway?: string;
  scope?: string;
}

/** The pod interface's IPv4 routes (`ip -j route show dev`). */
export async function readRoutes(ns: NetNS, dev: string): Promise<PodRoute[]> {
  const parsed = routeSchema.safeParse(JSON.parse(await ns.exec('ip', ['-j', '-4', 'route', 'show', 'dev', dev])));
  if (!parsed.success) throw new Error(`unexpected output of ip -j route: ${z.prettifyError(parsed.error)}`);
  return parsed.data.map((r) => ({ dst: r.dst, ...(r.gateway ? { gateway: r.gateway } : {}), ...(r.scope ? { scope: r.scope } : {}) }));
}

function randomLocalMAC(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02; // unicast, locally administered
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

const maskBase64 = (prefix: number) =>
  Buffer.from(prefix === 0 ? [0, 0, 0, 0] : [24, 16, 8, 0].map((sh) => ((0xffffffff << (32 - prefix)) >>> sh) & 0xff)).toString('base64');

/**
 * cache.DHCPConfig as Go's encoding/json writes it (vif-cache-<iface>.json in the launcher's private
 * dir): netlink.Addr and Routes with their IPNet masks and the MAC as base64 bytes. The launcher's
 * bridge DHCP server reads it. Routes: the pod interface's, but the link-local subnet route.
 */
export function bridgeDHCPConfig(
  podIface: string,
  addr: { address: string; prefix: number } | undefined,
  mac: string,
  gateway: string | undefined,
  routes: PodRoute[],
): Record<string, unknown> {
  const ipnet = (ip: string, prefix: number) => ({ IP: ip, Mask: maskBase64(prefix) });
  const other = routes.filter((r) => r.scope !== 'link');
  return {
    Name: podIface,
    IP: addr
      ? {
          ...ipnet(addr.address, addr.prefix),
          Label: '',
          Flags: 0,
          Scope: 0,
          Peer: null,
          Broadcast: null,
          PreferedLft: 0,
          ValidLft: 0,
          LinkIndex: 0,
        }
      : null,
    MAC: Buffer.from(mac.split(':').map((x) => parseInt(x, 16))).toString('base64'),
    AdvertisingIPAddr: null,
    AdvertisingIPv6Addr: null,
    Routes:
      other.length > 0
        ? other.map((r) => {
            const [ip = '', len = '32'] = r.dst.split('/');
            return { Dst: r.dst === 'default' ? null : ipnet(ip, Number(len)), Gw: r.gateway ?? null, LinkIndex: 0 };
          })
        : null,
    Mtu: 0,
    IPAMDisabled: addr === undefined,
    Gateway: gateway ?? null,
    Subdomain: '',
  };
}

/**
 * A network sysctl of the pod: /proc/sys/net shows the namespace of the process that opens it, so a
 * tee run inside the pod's namespace writes the pod's value (coreutils, no procps in the image).
 */
async function setSysctl(ns: NetNS, key: string, value: string): Promise<void> {
  await ns.exec('tee', [`/proc/sys/${key}`], `${value}\n`);
}

/** The VM network's gateway (first address) and guest (second), KubeVirt's masquerade addresses. */
export function vmNetworkAddresses(cidr: string | undefined): { gateway: string; guest: string; prefix: number } {
  const [net = '', len = ''] = (cidr || DEFAULT_VM_CIDR).split('/');
  const parts = net.split('.').map(Number);
  const prefix = Number(len);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255)) || !/^\d+$/.test(len) || prefix > 30) {
    throw new Error(`failed to parse VM CIDR: ${cidr}`);
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = ((((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0) & mask) >>> 0;
  const ip = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
  return { gateway: ip(base + 1), guest: ip(base + 2), prefix };
}

/**
 * storePodInterfaceData: the VMI interface and the pod interface's IPs, IPv4 first, then IPv6
 * (KubeVirt's order); nothing of either for a pod interface without addresses.
 */
function podIfaceData(iface: VMIInterface, pod: PodLink): { iface?: VMIInterface; podIP?: string; podIPs?: string[] } {
  const ips = [...pod.ipv4.slice(0, 1), ...pod.ipv6.slice(0, 1)];
  return ips[0] ? { iface, podIP: ips[0], podIPs: ips } : {};
}

interface PendingNetwork {
  net: Network;
  iface: VMIInterface;
  /** the interface's position in the VMI spec (the bridge's fake DHCP server address) */
  index: number;
  /** the pod interface multus (or the CNI) made for the network */
  podIface: string;
  pod?: PodLink;
}

/** vmitrait.IsNonRoot: the deprecated annotation, or a non-zero status.runtimeUser. */
export function isNonRoot(vmi: VirtualMachineInstance): boolean {
  return vmi.metadata.annotations?.['kubevirt.io/nonroot'] !== undefined || (vmi.status?.runtimeUser ?? 0) !== 0;
}

export interface PodNetworkOptions {
  logger: Logger;
  /** --kubevirt-private-dir: the pod interface cache lives under it */
  privateDir: string;
  /** The launcher's PID (its network namespace) for a VMI. */
  launcherPid(vmiUID: string): number;
  netns?: (pid: number) => NetNS;
  sharesHandlerNetNS?: (pid: number) => boolean;
  /** The launcher's /var/run/kubevirt-private as the handler sees it (the bridge binding's DHCP cache). */
  launcherPrivateDir?: (pid: number) => string;
}

export class PodNetworkConfigurator implements NetworkConfigurator {
  readonly #o: PodNetworkOptions;
  readonly #netns: (pid: number) => NetNS;
  readonly #ips = new Map<string, { podIP: string; podIPs: string[] }>();

  constructor(o: PodNetworkOptions) {
    this.#o = o;
    this.#netns = o.netns ?? launcherNetNS;
  }

  async setupPodNetworkPhase1(vmi: VirtualMachineInstance): Promise<Record<string, string>> {
    const uid = vmi.metadata.uid;
    const specIfaces = vmi.spec.domain.devices?.interfaces ?? [];
    const networks = vmi.spec.networks ?? [];
    const statuses = vmi.status?.interfaces ?? [];
    // DomainAttachmentByInterfaceName: every masquerade and bridge NIC is on a tap phase 1 makes
    const attachments: Record<string, string> = {};
    for (const iface of specIfaces) if (iface.masquerade || iface.bridge) attachments[iface.name] = 'tap';

    // the networks phase 1 builds (SR-IOV has no pod side here), by the state each is cached in
    const pending: PendingNetwork[] = [];
    const started: string[] = [];
    specIfaces.forEach((iface, index) => {
      const net = networks.find((n) => n.name === iface.name);
      if (!net || !(iface.masquerade || iface.bridge)) return;
      const state = readPodIfaceCache(this.#o.privateDir, uid, net.name)?.networkState ?? 0;
      if (state === PodIfaceNetworkPreparationStarted) started.push(net.name);
      if (state !== PodIfaceNetworkPreparationFinished) pending.push({ net, iface, index, podIface: '' });
    });
    if (pending.length === 0) return attachments;

    const log = this.#o.logger.child({ kind: 'VirtualMachineInstance', name: vmi.metadata.name, namespace: vmi.metadata.namespace, uid });
    const pid = this.#o.launcherPid(uid);
    if ((this.#o.sharesHandlerNetNS ?? sharesHandlerNetNS)(pid)) {
      // no pod network to set up (a launcher run beside the handler, as in a bare test bed): the
      // launcher then gets no tap attachment and keeps its user-mode NIC
      log.warn("launcher shares virt-handler's network namespace: pod network setup skipped");
      return {};
    }
    const ns = this.#netns(pid);
    const links = await readLinks(ns);
    log.info({ podInterfaces: [...links.values()] }, 'Current pod network');
    // the pod's interfaces say which name scheme multus used; the primary's name is the status's
    const podIfaceNames = podInterfaceNameScheme(networks, statuses, links.keys());
    for (const p of pending) {
      p.podIface = podIfaceNames.get(p.net.name) ?? '';
      if (p.iface.masquerade && !p.net.pod) throw new Error('Masquerade interface only implemented with pod network');
    }

    // a handler stopped half way: the masquerade pieces can be undone and made again; a bridge
    // binding has renamed the pod's interface and moved its address, so KubeVirt gives up on it
    const interrupted = pending.filter((p) => started.includes(p.net.name));
    if (interrupted.some((p) => p.iface.bridge)) {
      throw new CriticalNetworkError(
        new Error(`preparation for networks [${interrupted.map((p) => p.net.name).join(' ')}] cannot be restarted`),
      );
    }
    for (const p of interrupted) {
      log.info(`pod network preparation of ${p.net.name} was interrupted; starting over`);
      await this.#undoMasquerade(ns, links, p.podIface);
    }

    // discover: each pod interface exists; its IPs cached (a bridge's IPv6 is the pod's: never the guest's)
    for (const p of pending) {
      p.pod = links.get(p.podIface);
      if (!p.pod) throw new Error(`pod link (${p.podIface}) is missing`);
    }
    // SetStarted, for all of them once all are found
    for (const p of pending) {
      writePodIfaceCache(this.#o.privateDir, uid, p.net.name, {
        ...podIfaceData(p.iface, p.iface.bridge ? { ...p.pod!, ipv6: [] } : p.pod!),
        networkState: PodIfaceNetworkPreparationStarted,
      });
    }

    const owner = isNonRoot(vmi) ? NON_ROOT_UID : 0;
    // past SetStarted, KubeVirt calls a failure critical: the pod's network may be half made
    try {
      for (const p of pending) {
        if (p.iface.bridge) await this.#setupBridge(ns, pid, p, owner, statuses, log);
        else
          await this.#setupMasquerade(ns, p.podIface, p.pod!, owner, p.iface, p.net.pod?.vmNetworkCIDR, p.net.pod?.vmIPv6NetworkCIDR, log);
      }
    } catch (err) {
      log.error({ reason: errorMessage(err) }, 'failed to configure pod network');
      throw new CriticalNetworkError(err);
    }

    for (const p of pending) {
      try {
        writePodIfaceCache(this.#o.privateDir, uid, p.net.name, {
          ...podIfaceData(p.iface, p.iface.bridge ? { ...p.pod!, ipv6: [] } : p.pod!),
          networkState: PodIfaceNetworkPreparationFinished,
        });
      } catch (err) {
        throw new CriticalNetworkError(new Error(`failed to mark configuration as finished for ${p.net.name}: ${errorMessage(err)}`));
      }
      log.info(
        `pod network ready for ${p.net.name} (${p.iface.bridge ? 'bridge' : 'masquerade'} on ${p.podIface}), ` +
          `${generateTapDeviceName(p.podIface, p.net)} owned by uid ${owner}`,
      );
    }
    return attachments;
  }

  async #setupMasquerade(
    ns: NetNS,
    podIface: string,
    pod: PodLink,
    owner: number,
    iface: VMIInterface,
    vmCIDR: string | undefined,
    vmIPv6CIDR: string | undefined,
    _log: Logger,
  ): Promise<void> {
    const bridge = generateBridgeName(podIface);
    const addrs = vmNetworkAddresses(vmCIDR);
    // each family the pod has (hasIPGlobalUnicast) gets the gateway address and its NAT table
    const v6 = pod.ipv6.length > 0 ? vmIPv6NetworkAddresses(vmIPv6CIDR) : undefined;
    await ns.exec(
      'ip',
      ['-batch', '-'],
      [
        `link add ${bridge} type bridge`,
        `link set ${bridge} address ${STATIC_MASQUERADE_BRIDGE_MAC} mtu ${pod.mtu}`,
        `addr add ${addrs.gateway}/${addrs.prefix} dev ${bridge}`,
        // nodad: the gateway is usable at once (the bridge's only other member is the guest's tap)
        ...(v6 ? [`addr add ${v6.gateway}/${v6.prefix} dev ${bridge} nodad`] : []),
        `link set ${bridge} up`,
        // as virt-chroot create-tap makes it (netlink's defaults: no packet info, vnet headers, one queue)
        `tuntap add dev ${PRIMARY_TAP} mode tap user ${owner} group ${owner} vnet_hdr`,
        `link set ${PRIMARY_TAP} mtu ${pod.mtu} master ${bridge} up`,
        '',
      ].join('\n'),
    );
    await setSysctl(ns, 'net/ipv4/ip_forward', '1');
    await setSysctl(ns, `net/ipv4/conf/${bridge}/route_localnet`, '1');
    const ports = iface.ports ?? [];
    await ns.exec('nft', ['-f', '-'], masqueradeRuleset({ family: 'ip', podIface, bridgeIface: bridge, ...addrs, ports }));
    if (v6) {
      await setSysctl(ns, 'net/ipv6/conf/all/forwarding', '1');
      await ns.exec('nft', ['-f', '-'], masqueradeRuleset({ family: 'ip6', podIface, bridgeIface: bridge, ...v6, ports }));
    }
  }

  /**
   * The bridge binding, for the primary or a secondary network: the pod interface (renamed
   * `<name>-nic`, no address, learning off) and the tap on `k6t-<name>` (a fake 169.254.75.1<index>/32
   * for the DHCP server when the pod interface had an IPv4 address); a dummy keeps the pod interface's
   * name, MAC and IP; its IP, gateway and routes go to the launcher's DHCP cache for the guest.
   */
  async #setupBridge(
    ns: NetNS,
    pid: number,
    p: PendingNetwork,
    owner: number,
    statuses: readonly VirtualMachineInstanceNetworkInterface[],
    log: Logger,
  ): Promise<void> {
    const podIface = p.podIface;
    const pod = p.pod!;
    const bridge = generateBridgeName(podIface);
    const nic = generateNewBridgedVmiInterfaceName(podIface);
    const tap = generateTapDeviceName(podIface, p.net);
    const addr = pod.addrs[0];
    const routes = addr ? await readRoutes(ns, podIface) : [];
    const nicMAC = randomLocalMAC();
    const lines = [
      `link add ${bridge} type bridge`,
      `link set ${podIface} down`,
      `link set ${podIface} name ${nic}`,
      `addr flush dev ${nic}`,
      `link set ${nic} address ${nicMAC}`,
      `link set ${nic} master ${bridge}`,
      `link set ${nic} type bridge_slave learning off`,
      `link set ${nic} up`,
      ...(addr ? [`addr add 169.254.75.1${p.index}/32 dev ${bridge}`] : []),
      `link set ${bridge} up`,
      `tuntap add dev ${tap} mode tap user ${owner} group ${owner} vnet_hdr`,
      `link set ${tap} mtu ${pod.mtu} master ${bridge} up`,
      '',
    ];
    await ns.exec('ip', ['-batch', '-'], lines.join('\n'));
    const dummy = [
      `link add ${podIface} type dummy`,
      `link set ${podIface} address ${pod.mac} mtu ${pod.mtu}`,
      ...(addr ? [`addr add ${addr.address}/${addr.prefix} dev ${podIface}`] : []),
      `link set ${podIface} up`,
      '',
    ];
    try {
      await ns.exec('ip', ['-batch', '-'], dummy.join('\n'));
    } catch (err) {
      // a kernel built without dummy links (no CONFIG_DUMMY): the guest still gets the pod IP
      if (!/Unknown device type/.test(String(err))) throw err;
      log.warn(`the kernel has no dummy links: ${podIface} is not kept in the pod (its IP goes to the guest only)`);
    }
    if (addr) await setSysctl(ns, 'net/ipv4/conf/all/arp_ignore', '1'); // procsys.ARPReplyMode1
    const gateway = routes.find((r) => r.dst === 'default')?.gateway;
    // resolveMacAddress: the spec's, else the one the status reported, else the pod interface's.
    // KubeVirt writes it only with IPAM; it is always kept here, for our launcher on a kernel without
    // dummy links (nothing else keeps the pod interface's MAC); KubeVirt's ignores it without IPAM.
    const statusMAC = statuses.find((s) => s.name === p.iface.name)?.mac;
    const mac = p.iface.macAddress || statusMAC || pod.mac;
    const dir = this.#o.launcherPrivateDir?.(pid) ?? `/proc/${pid}/root/run/kubevirt-private`;
    const file = `${dir}/vif-cache-${podIface}.json`;
    writeFileSync(file, JSON.stringify(bridgeDHCPConfig(podIface, addr, mac, gateway, routes), null, 2), { mode: 0o604 });
    chownSync(file, owner, owner);
  }

  async #undoMasquerade(ns: NetNS, links: Map<string, PodLink>, podIface: string): Promise<void> {
    if (links.has(PRIMARY_TAP)) await ns.exec('ip', ['link', 'del', PRIMARY_TAP]);
    if (links.has(generateBridgeName(podIface))) await ns.exec('ip', ['link', 'del', generateBridgeName(podIface)]);
    const tables = await ns.exec('nft', ['-j', 'list', 'tables']);
    const entries = (JSON.parse(tables) as { nftables?: { table?: { family?: string; name?: string } }[] }).nftables ?? [];
    for (const family of ['ip', 'ip6']) {
      if (entries.some((e) => e.table?.family === family && e.table.name === NAT_TABLE))
        await ns.exec('nft', ['delete', 'table', family, NAT_TABLE]);
    }
  }

  podInterfaceIPs(vmiUID: string, ifaceName: string): { podIP?: string; podIPs?: string[] } | undefined {
    const key = `${vmiUID}/${ifaceName}`;
    const known = this.#ips.get(key);
    if (known) return known;
    let data;
    try {
      data = readPodIfaceCache(this.#o.privateDir, vmiUID, ifaceName);
    } catch (err) {
      this.#o.logger.warn({ uid: vmiUID, reason: String(err) }, 'unreadable pod interface cache');
      return undefined;
    }
    if (!data?.podIP) return undefined;
    // written once by phase 1, never changed after: read it once (KubeVirt's volatile cache)
    const ips = { podIP: data.podIP, podIPs: data.podIPs ?? [data.podIP] };
    if (data.networkState === PodIfaceNetworkPreparationFinished) this.#ips.set(key, ips);
    return ips;
  }

  teardown(vmiUID: string): void {
    for (const key of this.#ips.keys()) if (key.startsWith(`${vmiUID}/`)) this.#ips.delete(key);
    removePodIfaceCache(this.#o.privateDir, vmiUID);
  }
}
