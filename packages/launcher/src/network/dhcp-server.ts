// KubeVirt's SingleClientDHCPServer (pkg/network/dhcp/server): answers DHCPDISCOVER with an OFFER and
// DHCPREQUEST with an ACK for the one guest behind the pod's bridge, always the same address, a
// 999-day lease. No npm DHCP server is kept up to date, so the BOOTP/DHCP packet (RFC 2131/2132) is
// handled here; it is small.
//
// Node cannot bind a socket to a device (SO_BINDTODEVICE). So requests are read on 0.0.0.0:67 and
// replies leave from a second socket bound to the server's address on the bridge: Linux routes a
// limited broadcast out of the device that owns the source address, i.e. the bridge the guest's tap
// is on, never the pod's eth0.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { DHCPOptions } from '@kubevirt-ts/shared';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
const MAGIC_COOKIE = 0x63825363;
/** 999 days, KubeVirt's "infinite" lease. */
export const INFINITE_LEASE_SECONDS = 999 * 24 * 3600;

export const MessageType = { Discover: 1, Offer: 2, Request: 3, Decline: 4, Ack: 5, Nak: 6, Release: 7, Inform: 8 } as const;

export const Option = {
  SubnetMask: 1,
  Router: 3,
  DomainNameServer: 6,
  HostName: 12,
  DomainName: 15,
  InterfaceMTU: 26,
  NTPServers: 42,
  LeaseTime: 51,
  MessageType: 53,
  ServerIdentifier: 54,
  TFTPServerName: 66,
  BootFileName: 67,
  DomainSearch: 119,
  ClasslessRoute: 121,
} as const;

export interface Route {
  /** destination network in CIDR form; `0.0.0.0/0` for the default route */
  dst: string;
  gateway: string;
}

export interface DHCPConfig {
  /** The guest's MAC; requests from any other client are ignored (KubeVirt's single-client check). */
  clientMAC?: string;
  clientIP: string;
  clientPrefix: number;
  /** The server identifier and source address; must be an address on the guest's bridge. */
  serverIP: string;
  gateway?: string;
  dnsServers: readonly string[];
  searchDomains: readonly string[];
  mtu: number;
  hostname: string;
  routes?: readonly Route[];
  /** The interface's dhcpOptions (v1.DHCPOptions). */
  custom?: DHCPOptions;
}

export interface DHCPRequest {
  op: number;
  xid: number;
  flags: number;
  ciaddr: string;
  giaddr: string;
  chaddr: string;
  messageType: number | undefined;
  raw: Buffer;
}

function ipBytes(ip: string): number[] {
  if (!isIPv4(ip)) throw new Error(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return ip.split('.').map(Number);
}

function ipString(b: Buffer, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function prefixToMask(prefix: number): number[] {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [m >>> 24, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff];
}

/** RFC 1035 §3.1 names, no compression (as KubeVirt's convertSearchDomainsToBytes). */
export function encodeSearchDomains(domains: readonly string[]): number[] {
  const out: number[] = [];
  for (const d of domains) {
    for (const label of d.split('.')) {
      if (label.length === 0 || label.length > 63) throw new Error(`search domain is not valid: '${d}'`);
      out.push(label.length, ...Buffer.from(label, 'ascii'));
    }
    out.push(0);
  }
  return out;
}

/** RFC 3442 classless static routes, default routes last (KubeVirt's formClasslessRoutes order). */
export function encodeClasslessRoutes(routes: readonly Route[]): number[] {
  const sorted = [...routes.filter((r) => !r.dst.endsWith('/0')), ...routes.filter((r) => r.dst.endsWith('/0'))];
  const out: number[] = [];
  for (const r of sorted) {
    const [net = '', len = ''] = r.dst.split('/');
    const prefix = Number(len);
    const significant = Math.ceil(prefix / 8);
    out.push(prefix, ...ipBytes(net).slice(0, significant), ...ipBytes(r.gateway));
  }
  return out;
}

/** The longest search domain, KubeVirt's dns.GetDomainName. */
export function domainName(searchDomains: readonly string[]): string {
  return searchDomains.reduce((a, d) => (d.length > a.length ? d : a), '');
}

export function parseRequest(b: Buffer): DHCPRequest | undefined {
  if (b.length < 240 || b.readUInt32BE(236) !== MAGIC_COOKIE) return undefined;
  const hlen = Math.min(b[2] ?? 0, 16);
  let messageType: number | undefined;
  for (let i = 240; i < b.length; ) {
    const code = b[i] ?? 255;
    if (code === 255) break;
    if (code === 0) {
      i++;
      continue;
    }
    const len = b[i + 1] ?? 0;
    if (code === Option.MessageType && len === 1) messageType = b[i + 2];
    i += 2 + len;
  }
  const chaddr = [...b.subarray(28, 28 + hlen)].map((x) => x.toString(16).padStart(2, '0')).join(':');
  return {
    op: b[0] ?? 0,
    xid: b.readUInt32BE(4),
    flags: b.readUInt16BE(10),
    ciaddr: ipString(b, 12),
    giaddr: ipString(b, 24),
    chaddr,
    messageType,
    raw: b,
  };
}

/** KubeVirt's option set, in its order after 53/54/51. */
export function replyOptions(c: DHCPConfig): [number, number[]][] {
  const opts: [number, number[]][] = [];
  opts.push([Option.SubnetMask, prefixToMask(c.clientPrefix)]);
  if (c.gateway) opts.push([Option.Router, ipBytes(c.gateway)]);
  opts.push([Option.DomainNameServer, c.dnsServers.flatMap(ipBytes)]);
  opts.push([Option.HostName, [...Buffer.from(c.hostname)]]);
  const domain = domainName(c.searchDomains);
  if (domain) opts.push([Option.DomainName, [...Buffer.from(domain)]]);
  opts.push([Option.InterfaceMTU, [c.mtu >> 8, c.mtu & 0xff]]);
  const search = encodeSearchDomains(c.searchDomains);
  if (search.length > 0) opts.push([Option.DomainSearch, search]);
  const routes = encodeClasslessRoutes(c.routes ?? []);
  if (routes.length > 0) opts.push([Option.ClasslessRoute, routes]);
  return [...opts, ...customOptions(c.custom)];
}

/** prepareDHCPOptions' custom part: TFTP server, boot file, NTP servers (IPv4 only), private options 224–254. */
function customOptions(o: DHCPOptions | undefined): [number, number[]][] {
  if (!o) return [];
  const opts: [number, number[]][] = [];
  const text = (s: string) => [...Buffer.from(s)];
  if (o.tftpServerName) opts.push([Option.TFTPServerName, text(o.tftpServerName)]);
  if (o.bootFileName) opts.push([Option.BootFileName, text(o.bootFileName)]);
  if (o.ntpServers?.length) {
    opts.push([
      Option.NTPServers,
      o.ntpServers.flatMap((server) => {
        if (!isIPv4(server)) throw new Error(`Could not parse NTP server as IPv4 address: ${server}`);
        return ipBytes(server);
      }),
    ]);
  }
  for (const p of o.privateOptions ?? []) {
    if (p.option >= 224 && p.option <= 254) opts.push([p.option, text(p.value)]);
  }
  return opts;
}

/** The OFFER or ACK for a request (krolaw/dhcp4's ReplyPacket, as KubeVirt uses it). */
export function buildReply(req: DHCPRequest, type: number, c: DHCPConfig): Buffer {
  const b = Buffer.alloc(1500);
  b[0] = 2; // BOOTREPLY
  b[1] = req.raw[1] ?? 1;
  b[2] = req.raw[2] ?? 6;
  b.writeUInt32BE(req.xid, 4);
  b.writeUInt16BE(req.flags, 10);
  Buffer.from(ipBytes(c.clientIP)).copy(b, 16);
  req.raw.copy(b, 24, 24, 28); // giaddr
  req.raw.copy(b, 28, 28, 44); // chaddr
  b.writeUInt32BE(MAGIC_COOKIE, 236);
  let i = 240;
  const put = (code: number, data: readonly number[]) => {
    let off = 0;
    do {
      const chunk = data.slice(off, off + 255); // a long option is split (RFC 3396)
      b[i++] = code;
      b[i++] = chunk.length;
      for (const x of chunk) b[i++] = x;
      off += 255;
    } while (off < data.length);
  };
  put(Option.MessageType, [type]);
  put(Option.ServerIdentifier, ipBytes(c.serverIP));
  const lease = INFINITE_LEASE_SECONDS;
  put(Option.LeaseTime, [lease >>> 24, (lease >>> 16) & 0xff, (lease >>> 8) & 0xff, lease & 0xff]);
  for (const [code, data] of replyOptions(c)) put(code, data);
  b[i++] = 255;
  return b.subarray(0, Math.max(i, 300));
}

/** What the server answers to a request: an OFFER, an ACK, or nothing. */
export function answer(req: DHCPRequest, c: DHCPConfig): Buffer | undefined {
  if (req.op !== 1) return undefined;
  if (c.clientMAC && req.chaddr !== c.clientMAC.toLowerCase()) return undefined; // not our client
  if (req.messageType === MessageType.Discover) return buildReply(req, MessageType.Offer, c);
  if (req.messageType === MessageType.Request) return buildReply(req, MessageType.Ack, c);
  return undefined;
}

export interface RunningDHCPServer {
  close(): Promise<void>;
}

export interface DHCPServerLogger {
  info(msg: string): void;
  warn(obj: object, msg: string): void;
}

function bindSocket(address: string): Promise<Socket> {
  const s = createSocket({ type: 'udp4', reuseAddr: true });
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind({ address, port: DHCP_SERVER_PORT }, () => {
      s.off('error', reject);
      s.setBroadcast(true);
      resolve(s);
    });
  });
}

export async function startDHCPServer(c: DHCPConfig, log: DHCPServerLogger): Promise<RunningDHCPServer> {
  replyOptions(c); // invalid configuration fails here, not at the first request
  const listener = await bindSocket('0.0.0.0');
  let sender: Socket;
  try {
    sender = await bindSocket(c.serverIP);
  } catch (err) {
    listener.close();
    throw err;
  }
  const onMessage = (msg: Buffer) => {
    const req = parseRequest(msg);
    if (!req) return;
    const reply = answer(req, c);
    if (!reply) return;
    sender.send(reply, DHCP_CLIENT_PORT, '255.255.255.255', (err) => {
      if (err) log.warn({ reason: err.message }, 'failed to send DHCP reply');
    });
  };
  for (const s of [listener, sender]) {
    s.on('message', onMessage);
    s.on('error', (err) => log.warn({ reason: err.message }, 'DHCP server socket error'));
  }
  log.info('Starting SingleClientDHCPServer');
  return {
    close: () => Promise.all([listener, sender].map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined),
  };
}
