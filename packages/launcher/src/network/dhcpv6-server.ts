// KubeVirt's SingleClientDHCPv6Server (pkg/network/dhcp/serverv6): on the masquerade bridge of a pod with
// IPv6, every DHCPv6 request gets the one guest address (IA_NA, 999-day lifetimes), the server's DUID-LL
// from the bridge's MAC and the pod's IPv6 DNS servers. Solicit gets an Advertise (a Reply when the client
// asks for rapid commit); everything else a Reply. The message format (RFC 8415) is small enough to
// handle here, as the DHCPv4 server does.
//
// Node cannot bind to a device: the socket listens on [::]:547, joins the servers' multicast group on
// the bridge only, and answers only clients whose link-local address is scoped to the bridge.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { ipv6Bytes } from '@kubevirt-ts/shared';
import { INFINITE_LEASE_SECONDS } from './dhcp-server.ts';

export const DHCPV6_SERVER_PORT = 547;
/** All_DHCP_Relay_Agents_and_Servers */
export const ALL_DHCP_SERVERS = 'ff02::1:2';

export const MessageTypeV6 = {
  Solicit: 1,
  Advertise: 2,
  Request: 3,
  Confirm: 4,
  Renew: 5,
  Rebind: 6,
  Reply: 7,
  Release: 8,
  Decline: 9,
  InformationRequest: 11,
} as const;

export const OptionV6 = { ClientID: 1, ServerID: 2, IANA: 3, IAAddr: 5, RapidCommit: 14, DNSServers: 23 } as const;

export interface DHCPv6Config {
  /** The guest's address. */
  clientIP: string;
  /** The bridge the server answers on. */
  serverIface: string;
  /** The bridge's MAC: the server's DUID-LL. */
  serverMAC: string;
  dnsServers: readonly string[];
}

export interface DHCPv6Message {
  type: number;
  transactionID: Buffer;
  options: { code: number; data: Buffer }[];
}

/** Parses a client message; a clear error when it is cut short. */
export function parseDHCPv6(packet: Buffer): DHCPv6Message {
  if (packet.length < 4) throw new Error(`DHCPv6 message of ${packet.length} bytes: too short`);
  const options: { code: number; data: Buffer }[] = [];
  for (let at = 4; at < packet.length; ) {
    if (at + 4 > packet.length) throw new Error('DHCPv6 option header cut short');
    const code = packet.readUInt16BE(at);
    const len = packet.readUInt16BE(at + 2);
    if (at + 4 + len > packet.length) throw new Error(`DHCPv6 option ${code} cut short`);
    options.push({ code, data: packet.subarray(at + 4, at + 4 + len) });
    at += 4 + len;
  }
  return { type: packet[0]!, transactionID: packet.subarray(1, 4), options };
}

const option = (code: number, data: Buffer): Buffer => {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(code, 0);
  head.writeUInt16BE(data.length, 2);
  return Buffer.concat([head, data]);
};

/** The answer to a client message, or undefined for a message a server never answers. */
export function buildDHCPv6Response(msg: DHCPv6Message, c: DHCPv6Config): Buffer | undefined {
  const known: number[] = Object.values(MessageTypeV6);
  if (!known.includes(msg.type) || msg.type === MessageTypeV6.Advertise || msg.type === MessageTypeV6.Reply) return undefined;
  const rapid = msg.options.some((o) => o.code === OptionV6.RapidCommit);
  const type = msg.type === MessageTypeV6.Solicit && !rapid ? MessageTypeV6.Advertise : MessageTypeV6.Reply;

  const duid = Buffer.alloc(4);
  duid.writeUInt16BE(3, 0); // DUID-LL
  duid.writeUInt16BE(1, 2); // Ethernet
  const serverID = Buffer.concat([duid, Buffer.from(c.serverMAC.split(':').map((b) => Number.parseInt(b, 16)))]);

  const lifetimes = Buffer.alloc(8);
  lifetimes.writeUInt32BE(INFINITE_LEASE_SECONDS, 0);
  lifetimes.writeUInt32BE(INFINITE_LEASE_SECONDS, 4);
  const iaAddr = option(OptionV6.IAAddr, Buffer.concat([ipv6Bytes(c.clientIP), lifetimes]));
  // the client's IAID, T1 and T2 0 (the client picks them)
  const iaid = msg.options.find((o) => o.code === OptionV6.IANA)?.data.subarray(0, 4) ?? Buffer.alloc(4);
  const iana = option(OptionV6.IANA, Buffer.concat([iaid, Buffer.alloc(8), iaAddr]));

  const clientID = msg.options.find((o) => o.code === OptionV6.ClientID);
  const parts = [
    Buffer.from([type]),
    msg.transactionID,
    ...(clientID ? [option(OptionV6.ClientID, clientID.data)] : []),
    option(OptionV6.ServerID, serverID),
    iana,
    ...(c.dnsServers.length > 0 ? [option(OptionV6.DNSServers, Buffer.concat(c.dnsServers.map(ipv6Bytes)))] : []),
    ...(rapid && type === MessageTypeV6.Reply && msg.type === MessageTypeV6.Solicit ? [option(OptionV6.RapidCommit, Buffer.alloc(0))] : []),
  ];
  return Buffer.concat(parts);
}

export interface RunningDHCPv6Server {
  close(): Promise<void>;
}

export async function startDHCPv6Server(c: DHCPv6Config, log: Logger): Promise<RunningDHCPv6Server> {
  log.info('Starting SingleClientDHCPv6Server');
  const socket: Socket = createSocket({ type: 'udp6', reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(DHCPV6_SERVER_PORT, '::', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  try {
    socket.addMembership(ALL_DHCP_SERVERS, `::%${c.serverIface}`);
  } catch (err) {
    socket.close();
    throw new Error(`couldn't create DHCPv6 server: joining ${ALL_DHCP_SERVERS} on ${c.serverIface}: ${String(err)}`);
  }
  socket.on('message', (packet: Buffer, peer: RemoteInfo) => {
    // a link-local client address carries its interface as the scope
    if (!peer.address.endsWith(`%${c.serverIface}`)) return;
    let response: Buffer | undefined;
    try {
      response = buildDHCPv6Response(parseDHCPv6(packet), c);
    } catch (err) {
      log.error({ reason: String(err) }, 'DHCPv6 failed building a response to the client');
      return;
    }
    if (!response) return;
    socket.send(response, peer.port, peer.address, (err) => {
      if (err) log.error({ reason: String(err) }, 'DHCPv6 failed sending a response to the client');
    });
  });
  socket.on('error', (err) => log.error({ reason: String(err) }, 'DHCPv6 server socket error'));
  return { close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
