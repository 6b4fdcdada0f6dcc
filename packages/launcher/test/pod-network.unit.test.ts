// The launcher's side of pod networking without a network: the tap NIC the converter writes, the DHCP
// packets the single-client server answers with, resolv.conf parsing and the sync options check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { domainSpecToXML } from '../src/api/index.ts';
import { convertVMIToDomainSpec, type ConverterContext } from '../src/converter/index.ts';
import { contextFromOptions, parseVirtualMachineOptions } from '../src/vm-options.ts';
import {
  answer,
  encodeClasslessRoutes,
  encodeSearchDomains,
  INFINITE_LEASE_SECONDS,
  MessageType,
  parseRequest,
  replyOptions,
  type DHCPConfig,
} from '../src/network/dhcp-server.ts';
import { fakeBridgeIP, masqueradeAddresses, masqueradeIPv6Guest } from '../src/network/phase2.ts';
import { buildDHCPv6Response, MessageTypeV6, OptionV6, parseDHCPv6 } from '../src/network/dhcpv6-server.ts';
import { parseResolvConf } from '../src/network/resolv-conf.ts';
import { linkStateUpdates } from '../src/network/link-state.ts';
import { POD_CONTEXT } from './pod-context.ts';

const ctx: ConverterContext = POD_CONTEXT;

function masqueradeVMI(): VirtualMachineInstance {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'v', namespace: 'default', uid: '11111111-2222-3333-4444-555555555555' },
    spec: {
      domain: {
        resources: { requests: { memory: '128Mi' } },
        devices: { interfaces: [{ name: 'default', masquerade: {}, ports: [{ port: 80 }] }] },
      },
      networks: [{ name: 'default', pod: {} }],
    },
  };
}

test("interfaceDomainAttachment tap: an ethernet NIC (KubeVirt's tap binding); without it: qemu user-mode", () => {
  const tap = domainSpecToXML(convertVMIToDomainSpec(masqueradeVMI(), { ...ctx, domainAttachmentByInterfaceName: { default: 'tap' } }));
  assert.match(tap, /<interface type="ethernet">/);
  const user = domainSpecToXML(convertVMIToDomainSpec(masqueradeVMI(), ctx));
  assert.match(user, /<interface type="user">/);
});

test('a NIC on the tap: no option ROM unless it boots, link down when asked; PCI address and ACPI index as given', () => {
  const withIface = (extra: object) => {
    const v = masqueradeVMI();
    Object.assign(v.spec.domain.devices!.interfaces![0]!, extra);
    return v;
  };
  const convert = (v: VirtualMachineInstance, tap = true) =>
    convertVMIToDomainSpec(v, tap ? { ...ctx, domainAttachmentByInterfaceName: { default: 'tap' } } : ctx).Devices.Interfaces![0]!;
  const plain = convert(masqueradeVMI());
  assert.deepEqual([plain.Rom, plain.LinkState, plain.ACPI, plain.Address], [{ Enabled: 'no' }, null, null, null]);
  assert.equal(convert(withIface({ bootOrder: 1 })).Rom, null, 'a boot NIC keeps its ROM');
  assert.equal(convert(masqueradeVMI(), false).Rom, null, 'user-mode: as before');
  assert.deepEqual(convert(withIface({ state: 'down' })).LinkState, { State: 'down' });
  assert.equal(convert(withIface({ state: 'up' })).LinkState, null);
  const placed = convert(withIface({ pciAddress: '0000:81:01.0', acpiIndex: 150 }));
  assert.deepEqual(
    [placed.Address?.Type, placed.Address?.Domain, placed.Address?.Bus, placed.Address?.Slot, placed.Address?.Function],
    ['pci', '0x0000', '0x81', '0x01', '0x0'],
  );
  assert.match(domainSpecToXML(convertVMIToDomainSpec(withIface({ acpiIndex: 150 }), ctx)), /<acpi index="150"><\/acpi>/);
  assert.throws(
    () => convert(withIface({ pciAddress: '81:01.0' })),
    /interfaces\[0\]\.pciAddress: failed to configure interface default: failed to parse pci address 81:01.0/,
  );
  assert.throws(() => convert(withIface({ state: 'absent' })), /interfaces\[0\]\.state: interface state "absent" is not supported/);
});

test('link state updates: each running NIC whose state is not the wanted one, as libvirt has it otherwise; none when they agree', () => {
  const nic = (alias: string, state?: string, mac = '02:00:00:00:00:01') => ({
    ...convertVMIToDomainSpec(masqueradeVMI(), { ...ctx, domainAttachmentByInterfaceName: { default: 'tap' } }).Devices.Interfaces![0]!,
    Alias: { Name: alias, UserDefined: true },
    MAC: { MAC: mac },
    LinkState: state ? { State: state } : null,
  });
  const running = [nic('a', undefined, '02:00:00:00:00:0a'), nic('b', 'down'), nic('c', 'up')];
  const updates = linkStateUpdates(running, [nic('a', 'down', 'ff:ff:ff:ff:ff:ff'), nic('b'), nic('c'), nic('gone', 'down')]);
  assert.deepEqual(
    updates.map((u) => [u.Alias?.Name, u.LinkState?.State, u.MAC?.MAC]),
    [
      ['a', 'down', '02:00:00:00:00:0a'],
      ['b', 'up', '02:00:00:00:00:01'],
    ],
  );
  assert.deepEqual(linkStateUpdates(running, [nic('a'), nic('b', 'down'), nic('c')]), []);
});

test('sync options: interfaceDomainAttachment passed on, an empty map is none, an empty key is rejected', () => {
  const attachments = (options: unknown) => contextFromOptions(parseVirtualMachineOptions(options)).domainAttachmentByInterfaceName;
  assert.deepEqual(attachments({ interfaceDomainAttachment: { default: 'tap' } }), { default: 'tap' });
  assert.deepEqual(attachments({ interfaceDomainAttachment: {} }), {});
  assert.deepEqual(attachments(null), {});
  assert.throws(
    () => parseVirtualMachineOptions({ interfaceDomainAttachment: { '': 'tap' } }),
    /invalid VirtualMachineOptions: interfaceDomainAttachment/,
  );
});

test("masquerade addresses: KubeVirt's 10.0.2.1 gateway and 10.0.2.2 guest, or from vmNetworkCIDR", () => {
  assert.deepEqual(masqueradeAddresses(undefined), { gateway: '10.0.2.1', guest: '10.0.2.2', prefix: 24 });
  assert.deepEqual(masqueradeAddresses('192.168.7.0/28'), { gateway: '192.168.7.1', guest: '192.168.7.2', prefix: 28 });
  assert.throws(() => masqueradeAddresses('10.0.2.0/31'), /failed to parse VM CIDR/);
  assert.equal(fakeBridgeIP(masqueradeVMI(), 'default'), '169.254.75.10');
});

test("resolv.conf: IPv4 nameservers and search domains; KubeVirt's defaults when absent", () => {
  assert.deepEqual(
    parseResolvConf(
      'nameserver 10.96.0.10\nnameserver fd00::10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
    ),
    {
      nameserversIPv4: ['10.96.0.10'],
      nameserversIPv6: ['fd00::10'],
      searchDomains: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
    },
  );
  assert.deepEqual(parseResolvConf(''), { nameserversIPv4: ['8.8.8.8'], nameserversIPv6: [], searchDomains: ['cluster.local'] });
});

const MAC = '02:42:0a:f4:4d:05';

function request(type: number, mac = MAC): Buffer {
  const b = Buffer.alloc(300);
  b[0] = 1;
  b[1] = 1;
  b[2] = 6;
  b.writeUInt32BE(0xdeadbeef, 4);
  b.writeUInt16BE(0x8000, 10);
  Buffer.from(mac.split(':').map((x) => parseInt(x, 16))).copy(b, 28);
  b.writeUInt32BE(0x63825363, 236);
  Buffer.from([53, 1, type, 255]).copy(b, 240);
  return b;
}

function options(reply: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let i = 240; reply[i] !== 255; i += 2 + reply[i + 1]!) out.set(reply[i]!, reply.subarray(i + 2, i + 2 + reply[i + 1]!));
  return out;
}

const config: DHCPConfig = {
  clientMAC: MAC,
  clientIP: '10.0.2.2',
  clientPrefix: 24,
  serverIP: '10.0.2.1',
  gateway: '10.0.2.1',
  dnsServers: ['10.96.0.10', '10.96.0.11'],
  searchDomains: ['default.svc.cluster.local', 'cluster.local'],
  mtu: 1450,
  hostname: 'virt-launcher-x',
};

test("DHCP: DISCOVER → OFFER and REQUEST → ACK with KubeVirt's options, for our client only", () => {
  const offer = answer(parseRequest(request(MessageType.Discover))!, config);
  assert.ok(offer);
  assert.equal(offer[0], 2);
  assert.equal(offer.readUInt32BE(4), 0xdeadbeef);
  assert.equal(offer.readUInt16BE(10), 0x8000, 'the broadcast flag is kept');
  assert.deepEqual([...offer.subarray(16, 20)], [10, 0, 2, 2]);
  const o = options(offer);
  assert.deepEqual([...o.keys()], [53, 54, 51, 1, 3, 6, 12, 15, 26, 119]);
  assert.deepEqual([...o.get(53)!], [MessageType.Offer]);
  assert.deepEqual([...o.get(54)!], [10, 0, 2, 1]);
  assert.equal(o.get(51)!.readUInt32BE(0), INFINITE_LEASE_SECONDS);
  assert.deepEqual([...o.get(1)!], [255, 255, 255, 0]);
  assert.deepEqual([...o.get(3)!], [10, 0, 2, 1]);
  assert.deepEqual([...o.get(6)!], [10, 96, 0, 10, 10, 96, 0, 11]);
  assert.equal(o.get(12)!.toString(), 'virt-launcher-x');
  assert.equal(o.get(15)!.toString(), 'default.svc.cluster.local');
  assert.equal(o.get(26)!.readUInt16BE(0), 1450);
  assert.deepEqual([...o.get(119)!], encodeSearchDomains(config.searchDomains));

  const ack = answer(parseRequest(request(MessageType.Request))!, config);
  assert.deepEqual([...options(ack!).get(53)!], [MessageType.Ack]);
  assert.equal(answer(parseRequest(request(MessageType.Discover, '02:00:00:00:00:99'))!, config), undefined, 'not our client');
  assert.equal(answer(parseRequest(request(MessageType.Release))!, config), undefined);
  assert.equal(parseRequest(Buffer.alloc(100)), undefined, 'too short to be DHCP');
});

test('DHCP dhcpOptions: TFTP server, boot file, NTP servers and private options 224–254, as KubeVirt adds them', () => {
  const custom = {
    tftpServerName: 'tftp.example.com',
    bootFileName: 'pxelinux.0',
    ntpServers: ['10.0.2.1', '192.0.2.5'],
    privateOptions: [
      { option: 240, value: 'extra' },
      { option: 223, value: 'below the private range' },
      { option: 255, value: 'above it' },
    ],
  };
  const o = options(answer(parseRequest(request(MessageType.Discover))!, { ...config, custom })!);
  assert.deepEqual([...o.keys()], [53, 54, 51, 1, 3, 6, 12, 15, 26, 119, 66, 67, 42, 240]);
  assert.equal(o.get(66)!.toString(), 'tftp.example.com');
  assert.equal(o.get(67)!.toString(), 'pxelinux.0');
  assert.deepEqual([...o.get(42)!], [10, 0, 2, 1, 192, 0, 2, 5]);
  assert.equal(o.get(240)!.toString(), 'extra');
  assert.throws(
    () => replyOptions({ ...config, custom: { ntpServers: ['fd00::1'] } }),
    /^Error: Could not parse NTP server as IPv4 address: fd00::1$/,
  );
});

test('DHCP encodings: RFC 1035 search names, RFC 3442 routes with the default route last', () => {
  assert.deepEqual(encodeSearchDomains(['example.com']), [7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0]);
  assert.throws(() => encodeSearchDomains(['a..b']), /search domain is not valid/);
  assert.deepEqual(
    encodeClasslessRoutes([
      { dst: '0.0.0.0/0', gateway: '10.1.2.3' },
      { dst: '10.0.0.0/8', gateway: '10.1.2.3' },
      { dst: '192.168.1.0/24', gateway: '192.168.2.3' },
    ]),
    [8, 10, 10, 1, 2, 3, 24, 192, 168, 1, 192, 168, 2, 3, 0, 10, 1, 2, 3],
  );
});

test("bridge binding: KubeVirt's vif-cache JSON read into the guest's DHCP data", async () => {
  const { parseVifCache, maskPrefix } = await import('../src/network/phase2.ts');
  assert.equal(maskPrefix('////AA=='), 24);
  assert.equal(maskPrefix('//AAAA=='), 12);
  const json = JSON.stringify({
    Name: 'eth0',
    IP: {
      IP: '10.244.0.7',
      Mask: '////AA==',
      Label: '',
      Flags: 0,
      Scope: 0,
      Peer: null,
      Broadcast: null,
      PreferedLft: 0,
      ValidLft: 0,
      LinkIndex: 0,
    },
    IPv6: { IP: '', Mask: null },
    MAC: 'ClgK9AAH',
    AdvertisingIPAddr: null,
    Routes: [
      { Dst: null, Gw: '10.244.0.1', LinkIndex: 0 },
      { Dst: { IP: '10.96.0.0', Mask: '//AAAA==' }, Gw: '10.244.0.1' },
    ],
    Mtu: 1450,
    IPAMDisabled: false,
    Gateway: '10.244.0.1',
    Subdomain: '',
  });
  assert.deepEqual(parseVifCache(json, 1500), {
    mac: '0a:58:0a:f4:00:07',
    mtu: 1450,
    dhcp: {
      ip: '10.244.0.7',
      prefix: 24,
      gateway: '10.244.0.1',
      routes: [
        { dst: '0.0.0.0/0', gateway: '10.244.0.1' },
        { dst: '10.96.0.0/12', gateway: '10.244.0.1' },
      ],
    },
  });
  // IPAM disabled (a pod interface without IPv4, as a secondary network without IPAM): no lease, the MAC kept
  assert.deepEqual(parseVifCache(JSON.stringify({ IPAMDisabled: true }), 1500), { mac: '', mtu: 1500 });
  assert.deepEqual(parseVifCache(JSON.stringify({ IPAMDisabled: true, MAC: 'ClgK9AAH', IP: null }), 1500), {
    mac: '0a:58:0a:f4:00:07',
    mtu: 1500,
  });
  assert.throws(() => parseVifCache(JSON.stringify({ IP: { IP: 7 } }), 1500), /DHCP cache/);
});

test('DHCPv6: Solicit → Advertise, rapid commit → Reply, Request → Reply; the IAID and client ID echoed', () => {
  const c = { clientIP: 'fd10:0:2::2', serverIface: 'k6t-eth0', serverMAC: '02:00:00:00:00:00', dnsServers: ['fd00::a'] };
  const opt = (code: number, data: Buffer) =>
    Buffer.concat([Buffer.from([code >> 8, code & 0xff, data.length >> 8, data.length & 0xff]), data]);
  const clientID = Buffer.from('000100012a2b2c2d0a0b0c0d0e0f', 'hex');
  const ia = Buffer.concat([Buffer.from('deadbeef', 'hex'), Buffer.alloc(8)]);
  const message = (type: number, ...opts: Buffer[]) => Buffer.concat([Buffer.from([type, 0x12, 0x34, 0x56]), ...opts]);
  const options = (packet: Buffer) => parseDHCPv6(packet).options.map((o) => [o.code, o.data.toString('hex')]);

  const advertise = buildDHCPv6Response(parseDHCPv6(message(MessageTypeV6.Solicit, opt(1, clientID), opt(3, ia))), c)!;
  assert.equal(advertise[0], MessageTypeV6.Advertise);
  assert.equal(advertise.subarray(1, 4).toString('hex'), '123456', 'the transaction ID');
  assert.deepEqual(options(advertise), [
    [OptionV6.ClientID, clientID.toString('hex')],
    [OptionV6.ServerID, '00030001020000000000'],
    // IAID deadbeef, T1 = T2 = 0, IAADDR fd10:0:2::2 with 86313600 s (999 days) both lifetimes
    [OptionV6.IANA, `deadbeef${'0'.repeat(16)}00050018fd100000000200000000000000000002${'05250a80'.repeat(2)}`],
    [OptionV6.DNSServers, 'fd00000000000000000000000000000a'],
  ]);
  assert.equal(INFINITE_LEASE_SECONDS, 0x05250a80);

  const rapid = buildDHCPv6Response(parseDHCPv6(message(MessageTypeV6.Solicit, opt(1, clientID), opt(14, Buffer.alloc(0)))), c)!;
  assert.equal(rapid[0], MessageTypeV6.Reply);
  assert.ok(options(rapid).some(([code]) => code === OptionV6.RapidCommit));
  for (const type of [MessageTypeV6.Request, MessageTypeV6.Renew, MessageTypeV6.Rebind, MessageTypeV6.InformationRequest])
    assert.equal(buildDHCPv6Response(parseDHCPv6(message(type, opt(1, clientID))), c)?.[0], MessageTypeV6.Reply, `type ${type}`);
  for (const type of [MessageTypeV6.Advertise, MessageTypeV6.Reply, 12, 200])
    assert.equal(buildDHCPv6Response(parseDHCPv6(message(type)), c), undefined, `type ${type} is never answered`);
  assert.throws(() => parseDHCPv6(Buffer.from([1, 0, 0])), /too short/);
  assert.throws(() => parseDHCPv6(Buffer.concat([message(1), Buffer.from([0, 1, 0, 9, 1])])), /option 1 cut short/);
});

test("masquerade IPv6 guest: the VM network's second address; resolv.conf's IPv6 servers kept apart", () => {
  assert.equal(masqueradeIPv6Guest(undefined), 'fd10:0:2::2');
  assert.equal(masqueradeIPv6Guest('fd00:1::100/120'), 'fd00:1::102');
  assert.throws(() => masqueradeIPv6Guest('10.0.2.0/24'), /failed to parse VM IPv6 CIDR/);
  const r = parseResolvConf('nameserver 10.96.0.10\nnameserver fd00:10:96::a\nsearch default.svc.cluster.local\n');
  assert.deepEqual(r.nameserversIPv4, ['10.96.0.10']);
  assert.deepEqual(r.nameserversIPv6, ['fd00:10:96::a']);
});

test('phase 2 for a multus network: its pod interface found by hashed, then ordinal name; the domain NIC on its tap', async () => {
  const { PodNetworkPhase2 } = await import('../src/network/phase2.ts');
  const { generateHashedInterfaceName } = await import('@kubevirt-ts/shared');
  const { pino } = await import('pino');
  const hashed = generateHashedInterfaceName('secnet');
  const vmi: VirtualMachineInstance = {
    ...masqueradeVMI(),
    spec: {
      domain: {
        resources: { requests: { memory: '128Mi' } },
        devices: { interfaces: [{ name: 'secnet', bridge: {} }] },
      },
      networks: [{ name: 'secnet', multus: { networkName: 'ns/secnet-nad' } }],
    },
  };
  const link = (name: string, mac: string) => ({ name, mac, mtu: 1400, ipv4: [], ipv6: [] });
  // [links in the pod, what the domain NIC gets]
  const cases: [string, Record<string, ReturnType<typeof link>>, { target: string; mac: string }][] = [
    [
      'hashed, the dummy keeping the pod MAC',
      { [hashed]: link(hashed, '02:00:00:00:01:01'), [`tap${hashed.slice(3)}`]: link(`tap${hashed.slice(3)}`, 'fe:00:00:00:00:01') },
      { target: `tap${hashed.slice(3)}`, mac: '02:00:00:00:01:01' },
    ],
    [
      'ordinal',
      { net1: link('net1', '02:00:00:00:01:02'), tap1: link('tap1', 'fe:00:00:00:00:02') },
      { target: 'tap1', mac: '02:00:00:00:01:02' },
    ],
    [
      'no dummy links: the renamed -nic, the MAC from the handler cache',
      {
        [`${hashed.slice(3)}-nic`]: link(`${hashed.slice(3)}-nic`, '06:11:22:33:44:55'),
        [`tap${hashed.slice(3)}`]: link('t', 'fe:00:00:00:00:03'),
      },
      { target: `tap${hashed.slice(3)}`, mac: '02:00:00:00:01:03' },
    ],
  ];
  for (const [what, links, want] of cases) {
    const cacheAsked: string[] = [];
    const phase2 = new PodNetworkPhase2({
      logger: pino({ level: 'silent' }),
      privateDir: '/nonexistent',
      readLink: async (name) => links[name],
      readBridgeCache: (podIface) => {
        cacheAsked.push(podIface);
        return { mac: '02:00:00:00:01:03', mtu: 0 };
      },
    });
    const spec = convertVMIToDomainSpec(vmi, { ...ctx, domainAttachmentByInterfaceName: { secnet: 'tap' } });
    await phase2.setup(vmi, spec, { secnet: 'tap' });
    const nic = spec.Devices.Interfaces?.[0];
    assert.deepEqual(nic?.Target, { Device: want.target, Managed: 'no' }, what);
    assert.equal(nic?.MAC?.MAC, want.mac, what);
    assert.equal(nic?.MTU?.Size, '1400', what);
    assert.equal(cacheAsked.length, 1, `${what}: the vif cache of the pod interface read once`);
    await phase2.close();
  }
  const none = new PodNetworkPhase2({ logger: pino({ level: 'silent' }), privateDir: '/nonexistent', readLink: async () => undefined });
  const spec = convertVMIToDomainSpec(vmi, { ...ctx, domainAttachmentByInterfaceName: { secnet: 'tap' } });
  await assert.rejects(none.setup(vmi, spec, { secnet: 'tap' }), { message: `pod link (${hashed} or net1) of network secnet is missing` });
});
