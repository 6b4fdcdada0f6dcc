// virt-handler's pod network phase 1 without a network namespace: the NAT ruleset KubeVirt writes, the
// pod interface cache's file format, and the order of work (once, redone after an interruption).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import type { VirtualMachineInstance, VirtualMachineInstanceStatus } from '@kubevirt-ts/shared';
import { PodIfaceNetworkPreparationStarted, readPodIfaceCache, writePodIfaceCache } from '../src/network/cache.ts';
import { vmIPv6NetworkAddresses } from '@kubevirt-ts/shared';
import { isNonRoot, PodNetworkConfigurator, vmNetworkAddresses } from '../src/network/configurator.ts';
import { masqueradeRuleset } from '../src/network/masquerade.ts';
import type { NetNS } from '../src/network/netns.ts';

const base = { family: 'ip', podIface: 'eth0', bridgeIface: 'k6t-eth0', gateway: '10.0.2.1', guest: '10.0.2.2' } as const;

test("masquerade NAT: everything to the guest when no ports are listed, KubeVirt's chains and migration-port exceptions", () => {
  const rules = masqueradeRuleset({ ...base, ports: [] });
  for (const line of [
    'add chain ip nat prerouting { type nat hook prerouting priority -100; }',
    'add chain ip nat postrouting { type nat hook postrouting priority 100; }',
    'add rule ip nat postrouting ip saddr 10.0.2.2 counter masquerade',
    'add rule ip nat prerouting iifname "eth0" counter jump KUBEVIRT_PREINBOUND',
    'add rule ip nat postrouting oifname "k6t-eth0" counter jump KUBEVIRT_POSTINBOUND',
    'add rule ip nat output tcp dport { 49152, 49153 } ip saddr 127.0.0.1 counter return',
    'add rule ip nat KUBEVIRT_PREINBOUND counter dnat to 10.0.2.2',
    'add rule ip nat KUBEVIRT_POSTINBOUND ip saddr { 127.0.0.1 } counter snat to 10.0.2.1',
  ]) {
    assert.ok(rules.split('\n').includes(line), `missing: ${line}\n${rules}`);
  }
});

test('masquerade NAT: with ports, only those are forwarded; a bad protocol is refused', () => {
  const rules = masqueradeRuleset({ ...base, ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] });
  assert.match(rules, /^add rule ip nat KUBEVIRT_PREINBOUND tcp dport \{ 80 \} counter dnat to 10\.0\.2\.2$/m);
  assert.match(rules, /^add rule ip nat KUBEVIRT_PREINBOUND udp dport \{ 53 \} counter dnat to 10\.0\.2\.2$/m);
  assert.doesNotMatch(rules, /^add rule ip nat KUBEVIRT_PREINBOUND counter dnat/m);
  assert.throws(() => masqueradeRuleset({ ...base, ports: [{ port: 1, protocol: 'icmp' }] }), /unsupported port protocol/);
});

test('masquerade NAT for IPv6: table ip6 nat, ::1 for the loopback rules, the IPv6 guest and gateway', () => {
  const rules = masqueradeRuleset({ ...base, family: 'ip6', gateway: 'fd10:0:2::1', guest: 'fd10:0:2::2', ports: [{ port: 80 }] }).split(
    '\n',
  );
  for (const line of [
    'add table ip6 nat',
    'add rule ip6 nat postrouting ip6 saddr fd10:0:2::2 counter masquerade',
    'add rule ip6 nat output tcp dport { 49152, 49153 } ip6 saddr ::1 counter return',
    'add rule ip6 nat KUBEVIRT_PREINBOUND tcp dport { 80 } counter dnat to fd10:0:2::2',
    'add rule ip6 nat KUBEVIRT_POSTINBOUND tcp dport 80 ip6 saddr { ::1 } counter snat to fd10:0:2::1',
    'add rule ip6 nat output ip6 daddr { ::1 } tcp dport 80 counter dnat to fd10:0:2::2',
  ]) {
    assert.ok(rules.includes(line), `missing: ${line}\n${rules.join('\n')}`);
  }
  assert.ok(!rules.some((l) => /\bip (saddr|daddr)|127\.0\.0\.1/.test(l)), 'nothing of IPv4 in the IPv6 table');
});

test('IPv6 VM network addresses: the first two of the CIDR, in the form Go prints', () => {
  assert.deepEqual(vmIPv6NetworkAddresses(undefined), { gateway: 'fd10:0:2::1', guest: 'fd10:0:2::2', prefix: 120 });
  assert.deepEqual(vmIPv6NetworkAddresses('fd00:1:2:3::100/120'), { gateway: 'fd00:1:2:3::101', guest: 'fd00:1:2:3::102', prefix: 120 });
  assert.deepEqual(vmIPv6NetworkAddresses('fd00:0:0:1::/64'), { gateway: 'fd00:0:0:1::1', guest: 'fd00:0:0:1::2', prefix: 64 });
  assert.deepEqual(vmIPv6NetworkAddresses('2001:db8:0:0:1:0:0:0/126'), {
    gateway: '2001:db8::1:0:0:1',
    guest: '2001:db8::1:0:0:2',
    prefix: 126,
  });
  for (const bad of ['fd10::2::/120', 'fd10:0:2::/127', '10.0.2.0/24', 'fd10:0:2::', 'fd10:0:2:g::/120'])
    assert.throws(() => vmIPv6NetworkAddresses(bad), /failed to parse VM IPv6 CIDR/, bad);
});

test('VM network addresses and the tap owner', () => {
  assert.deepEqual(vmNetworkAddresses(undefined), { gateway: '10.0.2.1', guest: '10.0.2.2', prefix: 24 });
  for (const bad of ['nonsense', '10.0.2.0', '10.0.2.0/31', '10.0.2/24'])
    assert.throws(() => vmNetworkAddresses(bad), /failed to parse VM CIDR/, bad);
  const vmi = (status: object, annotations?: Record<string, string>) =>
    ({
      metadata: { name: 'v', namespace: 'n', uid: 'u', ...(annotations ? { annotations } : {}) },
      spec: { domain: {} },
      status,
    }) as VirtualMachineInstance;
  assert.equal(isNonRoot(vmi({ runtimeUser: 107 })), true);
  assert.equal(isNonRoot(vmi({})), false);
  assert.equal(isNonRoot(vmi({}, { 'kubevirt.io/nonroot': '' })), true);
});

test("pod interface cache: KubeVirt's path, 2-space JSON, mode 0604, omitempty", () => {
  const dir = mkdtempSync('/tmp/kvts-netcache-');
  try {
    writePodIfaceCache(dir, 'uid1', 'default', {
      iface: { name: 'default' },
      podIP: '10.244.0.5',
      podIPs: ['10.244.0.5'],
      networkState: 2,
    });
    const file = path.join(dir, 'network-info-cache', 'uid1', 'default');
    assert.equal(
      readFileSync(file, 'utf8'),
      '{\n  "iface": {\n    "name": "default"\n  },\n  "podIP": "10.244.0.5",\n  "podIPs": [\n    "10.244.0.5"\n  ],\n  "networkState": 2\n}',
    );
    assert.equal(statSync(file).mode & 0o777, 0o604);
    writePodIfaceCache(dir, 'uid1', 'x', { networkState: 0, podIPs: [] });
    assert.equal(readFileSync(path.join(dir, 'network-info-cache', 'uid1', 'x'), 'utf8'), '{}');
    assert.equal(readPodIfaceCache(dir, 'uid1', 'missing'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function fakeNetNS(calls: string[]): NetNS {
  return {
    pid: 42,
    async exec(cmd, args, input) {
      calls.push(`${cmd} ${args.join(' ')}${input ? ` <<${input.split('\n')[0]}` : ''}`);
      if (cmd === 'ip' && args[1] === 'addr') {
        return JSON.stringify([
          { ifname: 'eth0', address: '0a:58:0a:f4:00:05', mtu: 1450, addr_info: [{ family: 'inet', local: '10.244.0.5', prefixlen: 24 }] },
          { ifname: 'tap0', mtu: 1450 },
        ]);
      }
      if (cmd === 'nft' && args[0] === '-j') return JSON.stringify({ nftables: [{ table: { family: 'ip', name: 'nat' } }] });
      return '';
    },
  };
}

test('phase 1: done once per VMI; an interrupted one is undone and redone; a shared netns is never touched', async () => {
  const dir = mkdtempSync('/tmp/kvts-netcache-');
  try {
    const calls: string[] = [];
    const mk = (shared = false) =>
      new PodNetworkConfigurator({
        logger: pino({ level: 'silent' }),
        privateDir: dir,
        launcherPid: () => 42,
        netns: () => fakeNetNS(calls),
        sharesHandlerNetNS: () => shared,
      });
    const vmi = {
      metadata: { name: 'v', namespace: 'n', uid: 'uid2' },
      spec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] } }, networks: [{ name: 'default', pod: {} }] },
      status: { runtimeUser: 107 },
    } as VirtualMachineInstance;

    assert.deepEqual(await mk(true).setupPodNetworkPhase1(vmi), {});
    assert.equal(calls.length, 0, "nothing run in the handler's own namespace");

    assert.deepEqual(await mk().setupPodNetworkPhase1(vmi), { default: 'tap' });
    assert.ok(calls.some((c) => c.startsWith('ip -batch - <<link add k6t-eth0 type bridge')));
    assert.ok(calls.some((c) => c.startsWith('nft -f - <<add table ip nat')));
    assert.equal(readPodIfaceCache(dir, 'uid2', 'default')?.networkState, 2);

    calls.length = 0;
    assert.deepEqual(await mk().setupPodNetworkPhase1(vmi), { default: 'tap' });
    assert.equal(calls.length, 0, 'a restarted handler finds it finished');

    writePodIfaceCache(dir, 'uid2', 'default', { iface: { name: 'default' }, networkState: PodIfaceNetworkPreparationStarted });
    await mk().setupPodNetworkPhase1(vmi);
    const undo = calls.indexOf('ip link del tap0');
    assert.ok(undo >= 0 && calls.indexOf('nft delete table ip nat') > undo, calls.join('\n'));
    assert.ok(calls.findIndex((c) => c.startsWith('ip -batch')) > undo);

    mk().teardown('uid2');
    assert.equal(readPodIfaceCache(dir, 'uid2', 'default'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('status.interfaces: the pod IP from the cache before the agent reports, kept per family as KubeVirt merges', async () => {
  const { newDomain, parseDomain, parseVMI } = await import('@kubevirt-ts/shared');
  const { interfacesStatus } = await import('../src/vmi-status.ts');
  const uid = 'uid3';
  const vmi = parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'vm', namespace: 'ns', uid },
    spec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] } }, networks: [{ name: 'default', pod: {} }] },
  });
  const dom = (agent: { Mac: string; Ip: string; IPs: string[]; InterfaceName: string }[]) => {
    const d = newDomain({ name: 'vm', namespace: 'ns', uid });
    d.Spec.Devices.Interfaces = [{ Alias: { Name: 'default', UserDefined: true }, MAC: { MAC: '0a:58:0a:f4:00:05' } } as never];
    d.Status.Interfaces = agent;
    return parseDomain(d);
  };
  const dir = mkdtempSync('/tmp/kvts-netcache-');
  try {
    writePodIfaceCache(dir, uid, 'default', { iface: { name: 'default' }, podIP: '10.244.0.5', podIPs: ['10.244.0.5'], networkState: 2 });
    const configurator = new PodNetworkConfigurator({ logger: pino({ level: 'silent' }), privateDir: dir, launcherPid: () => 0 });
    const ips = (name: string) => configurator.podInterfaceIPs(uid, name);
    assert.deepEqual(interfacesStatus(vmi, dom([]), ips), [
      {
        name: 'default',
        infoSource: 'domain',
        mac: '0a:58:0a:f4:00:05',
        ipAddress: '10.244.0.5',
        ipAddresses: ['10.244.0.5'],
        queueCount: 1,
        linkState: 'up',
      },
    ]);
    const withAgent = interfacesStatus(
      vmi,
      dom([{ Mac: '0a:58:0a:f4:00:05', Ip: '10.0.2.2', IPs: ['10.0.2.2', 'fd10:0:2::2'], InterfaceName: 'eth0' }]),
      ips,
    );
    assert.deepEqual(withAgent, [
      {
        name: 'default',
        infoSource: 'domain, guest-agent',
        mac: '0a:58:0a:f4:00:05',
        interfaceName: 'eth0',
        ipAddress: '10.244.0.5',
        ipAddresses: ['10.244.0.5', 'fd10:0:2::2'],
        queueCount: 1,
        linkState: 'up',
      },
    ]);
    // the guest lost its address: the agent's empty list wins
    assert.equal(
      interfacesStatus(vmi, dom([{ Mac: '0a:58:0a:f4:00:05', Ip: '', IPs: [], InterfaceName: 'eth0' }]), ips)[0]?.ipAddress,
      undefined,
    );
    configurator.teardown(uid);
    assert.equal(configurator.podInterfaceIPs(uid, 'default'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bridge binding's DHCP cache: cache.DHCPConfig as Go's encoding/json writes it", async () => {
  const { bridgeDHCPConfig } = await import('../src/network/configurator.ts');
  const c = bridgeDHCPConfig('eth0', { address: '10.244.0.7', prefix: 24 }, '0a:58:0a:f4:00:07', '10.244.0.1', [
    { dst: 'default', gateway: '10.244.0.1' },
    { dst: '10.244.0.0/24', scope: 'link' },
    { dst: '10.96.0.0/12', gateway: '10.244.0.1' },
  ]);
  assert.deepEqual(c.IP, {
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
  });
  assert.equal(c.MAC, Buffer.from([0x0a, 0x58, 0x0a, 0xf4, 0x00, 0x07]).toString('base64'));
  assert.deepEqual(c.Routes, [
    { Dst: null, Gw: '10.244.0.1', LinkIndex: 0 },
    { Dst: { IP: '10.96.0.0', Mask: '//AAAA==' }, Gw: '10.244.0.1', LinkIndex: 0 },
  ]);
  assert.equal(c.Gateway, '10.244.0.1');
  assert.equal(c.IPAMDisabled, false);
  assert.equal(bridgeDHCPConfig('eth0', undefined, '0a:58:0a:f4:00:07', undefined, []).IPAMDisabled, true);
});

test('the controller runs phase 1 before SyncVirtualMachine, sends its attachments, and a failure stops the sync', async () => {
  const { parseVMI } = await import('@kubevirt-ts/shared');
  const { VirtualMachineController } = await import('../src/vm-controller.ts');
  const vmi = parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'vm', namespace: 'ns', uid: 'uid4', labels: { 'kubevirt.io/nodeName': 'node01' } },
    spec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] } }, networks: [{ name: 'default', pod: {} }] },
    status: { phase: 'Scheduled' },
  });
  const calls: string[] = [];
  let fail = false;
  const record = { name: 'vm', namespace: 'ns', uid: 'uid4', socketFile: '/x/launcher-sock' };
  const controller = new VirtualMachineController({
    logger: pino({ level: 'silent' }),
    host: 'node01',
    vmis: [{ get: () => vmi, list: () => [vmi] }],
    domains: { get: () => undefined, list: () => [], on: () => undefined },
    launchers: {
      record: () => record,
      ghostRecords: () => [record],
      findSocket: () => ({ socket: record.socketFile, initializing: false }),
      remember: () => undefined,
      client: async () =>
        ({
          SyncVirtualMachine: async (r: { options?: { interfaceDomainAttachment?: Record<string, string> } }) => {
            calls.push(`sync ${JSON.stringify(r.options?.interfaceDomainAttachment)}`);
            return { success: true, message: '' };
          },
        }) as never,
      resetClient: () => undefined,
      isUnresponsive: () => false,
      close: () => undefined,
    },
    network: {
      setupPodNetworkPhase1: async () => {
        calls.push('phase1');
        if (fail) throw new Error('pod link (eth0) is missing');
        return { default: 'tap' };
      },
      podInterfaceIPs: () => ({ podIP: '10.244.0.5', podIPs: ['10.244.0.5'] }),
      teardown: () => calls.push('teardown'),
    },
    statusWriter: { update: async () => undefined },
    recorder: { event: (_v, type, reason) => void calls.push(`${type} ${reason}`) },
    syncOptions: () => ({ MemBalloonStatsPeriod: 10 }),
  });
  await controller.execute('ns/vm');
  assert.deepEqual(calls.slice(0, 2), ['phase1', 'sync {"default":"tap"}']);
  calls.length = 0;
  fail = true;
  await controller.execute('ns/vm');
  assert.deepEqual(calls, ['phase1', 'Warning SyncFailed']);
});

test('phase 1 failures: past the started mark critical (the VMI fails), before it not', async () => {
  const { isCriticalNetworkError } = await import('../src/network/errors.ts');
  const dir = mkdtempSync('/tmp/kvts-netcache-');
  try {
    const vmi = {
      metadata: { name: 'v', namespace: 'n', uid: 'uid5' },
      spec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] } }, networks: [{ name: 'default', pod: {} }] },
      status: { runtimeUser: 107 },
    } as VirtualMachineInstance;
    const mk = (netns: NetNS) =>
      new PodNetworkConfigurator({
        logger: pino({ level: 'silent' }),
        privateDir: dir,
        launcherPid: () => 42,
        netns: () => netns,
        sharesHandlerNetNS: () => false,
      });
    const base = fakeNetNS([]);
    // discovery: the pod link is missing → a plain error, retried
    const noLink: NetNS = {
      pid: 42,
      exec: async (cmd, args, input) => (cmd === 'ip' && args[1] === 'addr' ? '[]' : base.exec(cmd, args, input)),
    };
    const plain = await mk(noLink)
      .setupPodNetworkPhase1(vmi)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.match(String(plain), /pod link \(eth0\) is missing/);
    assert.equal(isCriticalNetworkError(plain), false);
    // configuration: nft refuses the NAT table → critical
    const nftFails: NetNS = {
      pid: 42,
      exec: async (cmd, args, input) => {
        if (cmd === 'nft' && args[0] === '-f') throw new Error('nft: Operation not permitted');
        return base.exec(cmd, args, input);
      },
    };
    const critical = await mk(nftFails)
      .setupPodNetworkPhase1(vmi)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.match(String(critical), /Operation not permitted/);
    assert.equal(isCriticalNetworkError(critical), true);
    assert.equal(readPodIfaceCache(dir, 'uid5', 'default')?.networkState, PodIfaceNetworkPreparationStarted);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the controller fails the VMI on a critical network error (handleSyncError)', async () => {
  const { parseVMI } = await import('@kubevirt-ts/shared');
  const { VirtualMachineController } = await import('../src/vm-controller.ts');
  const { CriticalNetworkError } = await import('../src/network/errors.ts');
  const vmi = parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'vm', namespace: 'ns', uid: 'uid6', labels: { 'kubevirt.io/nodeName': 'node01' } },
    spec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] } }, networks: [{ name: 'default', pod: {} }] },
    status: { phase: 'Scheduled' },
  });
  const events: string[] = [];
  const written: VirtualMachineInstanceStatus[] = [];
  const record = { name: 'vm', namespace: 'ns', uid: 'uid6', socketFile: '/x/launcher-sock' };
  const controller = new VirtualMachineController({
    logger: pino({ level: 'silent' }),
    host: 'node01',
    vmis: [{ get: () => vmi, list: () => [vmi] }],
    domains: { get: () => undefined, list: () => [], on: () => undefined },
    launchers: {
      record: () => record,
      ghostRecords: () => [record],
      findSocket: () => ({ socket: record.socketFile, initializing: false }),
      remember: () => undefined,
      client: async () => ({ SyncVirtualMachine: async () => ({ success: true, message: '' }) }) as never,
      resetClient: () => undefined,
      isUnresponsive: () => false,
      close: () => undefined,
    },
    network: {
      setupPodNetworkPhase1: async () => {
        throw new CriticalNetworkError(new Error('failed to mark configuration as finished for default: EROFS'));
      },
      podInterfaceIPs: () => undefined,
      teardown: () => undefined,
    },
    statusWriter: { update: async (_v, status) => void written.push(status) },
    recorder: { event: (_v, type, reason) => void events.push(`${type} ${reason}`) },
    syncOptions: () => ({}),
  });
  await controller.execute('ns/vm');
  assert.deepEqual(events, ['Warning SyncFailed', 'Warning Stopped']);
  assert.equal(written.length, 1);
  assert.equal(String(written[0]?.phase), 'Failed');
  const sync = written[0]?.conditions?.find((c) => c.type === 'Synchronized');
  assert.deepEqual([sync?.status, sync?.message], ['False', 'failed to mark configuration as finished for default: EROFS']);
});

/** A pod with eth0 (the CNI's, with the pod IP) and the given secondary interfaces multus made (no IPs). */
function fakeMultusPod(calls: string[], secondary: string[]): NetNS {
  return {
    pid: 43,
    async exec(cmd, args, input) {
      calls.push(`${cmd} ${args.join(' ')}${input ? `\n${input}` : ''}`);
      if (cmd === 'ip' && args.join(' ') === '-j addr show') {
        return JSON.stringify([
          { ifname: 'lo', address: '00:00:00:00:00:00', mtu: 65536, addr_info: [] },
          { ifname: 'eth0', address: '0a:58:0a:f4:00:05', mtu: 1450, addr_info: [{ family: 'inet', local: '10.244.0.5', prefixlen: 24 }] },
          ...secondary.map((name, i) => ({ ifname: name, address: `02:00:00:00:01:0${i + 1}`, mtu: 1400, addr_info: [] })),
        ]);
      }
      if (cmd === 'nft' && args[0] === '-j') return JSON.stringify({ nftables: [] });
      return '';
    },
  };
}

test('phase 1 with a multus network: its pod interface (hashed or net<N>) bridged to tap<name> on k6t-<name>, no DHCP data', async () => {
  const { generateHashedInterfaceName } = await import('@kubevirt-ts/shared');
  const hashed = generateHashedInterfaceName('secnet');
  const suffix = hashed.slice(3);
  for (const [scheme, podIface, bridge, nic, tap] of [
    ['hashed', hashed, `k6t-${suffix}`, `${suffix}-nic`, `tap${suffix}`],
    ['ordinal', 'net1', 'k6t-net1', 'net1-nic', 'tap1'],
  ] as const) {
    const dir = mkdtempSync('/tmp/kvts-netcache-');
    const launcherPrivate = mkdtempSync('/tmp/kvts-launcher-private-');
    try {
      const calls: string[] = [];
      const configurator = new PodNetworkConfigurator({
        logger: pino({ level: 'silent' }),
        privateDir: dir,
        launcherPid: () => 43,
        netns: () => fakeMultusPod(calls, [podIface]),
        sharesHandlerNetNS: () => false,
        launcherPrivateDir: () => launcherPrivate,
      });
      const vmi = {
        metadata: { name: 'v', namespace: 'n', uid: 'uid5' },
        spec: {
          domain: {
            devices: {
              interfaces: [
                { name: 'default', masquerade: {} },
                { name: 'secnet', bridge: {} },
              ],
            },
          },
          networks: [
            { name: 'default', pod: {} },
            { name: 'secnet', multus: { networkName: 'secnet-nad' } },
          ],
        },
        status: { runtimeUser: 107 },
      } as VirtualMachineInstance;
      assert.deepEqual(await configurator.setupPodNetworkPhase1(vmi), { default: 'tap', secnet: 'tap' }, scheme);
      const batch = calls.filter((c) => c.startsWith('ip -batch -')).join('\n');
      for (const line of [
        'link add k6t-eth0 type bridge',
        'tuntap add dev tap0 mode tap user 107 group 107 vnet_hdr',
        `link add ${bridge} type bridge`,
        `link set ${podIface} name ${nic}`,
        `link set ${nic} master ${bridge}`,
        `link set ${nic} type bridge_slave learning off`,
        `tuntap add dev ${tap} mode tap user 107 group 107 vnet_hdr`,
        `link set ${tap} mtu 1400 master ${bridge} up`,
        // the dummy keeping the pod interface's name and MAC
        `link add ${podIface} type dummy`,
        `link set ${podIface} address 02:00:00:00:01:01 mtu 1400`,
      ]) {
        assert.ok(batch.split('\n').includes(line), `${scheme}: missing ${line}\n${batch}`);
      }
      // no IPv4 on the pod interface: no fake DHCP server address, no ARP change, no routes asked for
      assert.doesNotMatch(batch, new RegExp(`169\\.254\\.75\\.11/32 dev ${bridge}`));
      assert.ok(!calls.some((c) => c.includes(`route show dev ${podIface}`)), scheme);
      assert.ok(!calls.some((c) => c.includes('arp_ignore')), scheme);
      // the cache: the state only (KubeVirt stores no iface for a pod interface without IPs)
      assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'network-info-cache', 'uid5', 'secnet'), 'utf8')), { networkState: 2 });
      assert.equal(readPodIfaceCache(dir, 'uid5', 'default')?.podIP, '10.244.0.5');
      // the launcher's cache: IPAM disabled, the pod interface's MAC for the guest
      const vif = JSON.parse(readFileSync(path.join(launcherPrivate, `vif-cache-${podIface}.json`), 'utf8'));
      assert.equal(vif.IPAMDisabled, true);
      assert.equal(vif.IP, null);
      assert.equal(Buffer.from(vif.MAC, 'base64').toString('hex'), '020000000101');
      assert.equal(statSync(path.join(launcherPrivate, `vif-cache-${podIface}.json`)).uid, 107);

      calls.length = 0;
      assert.deepEqual(await configurator.setupPodNetworkPhase1(vmi), { default: 'tap', secnet: 'tap' });
      assert.equal(calls.length, 0, `${scheme}: a second call finds both networks finished`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(launcherPrivate, { recursive: true, force: true });
    }
  }
});

test('phase 1 with a multus network: a missing pod interface, masquerade on it, an interrupted bridge', async () => {
  const dir = mkdtempSync('/tmp/kvts-netcache-');
  try {
    const calls: string[] = [];
    const configurator = (secondary: string[]) =>
      new PodNetworkConfigurator({
        logger: pino({ level: 'silent' }),
        privateDir: dir,
        launcherPid: () => 43,
        netns: () => fakeMultusPod(calls, secondary),
        sharesHandlerNetNS: () => false,
        launcherPrivateDir: () => dir,
      });
    const vmi = (binding: 'bridge' | 'masquerade') =>
      ({
        metadata: { name: 'v', namespace: 'n', uid: 'uid6' },
        spec: {
          domain: { devices: { interfaces: [{ name: 'secnet', [binding]: {} }] } },
          networks: [{ name: 'secnet', multus: { networkName: 'secnet-nad' } }],
        },
      }) as VirtualMachineInstance;
    const { generateHashedInterfaceName } = await import('@kubevirt-ts/shared');
    await assert.rejects(configurator([]).setupPodNetworkPhase1(vmi('bridge')), {
      message: `pod link (${generateHashedInterfaceName('secnet')}) is missing`,
    });
    await assert.rejects(configurator(['net1']).setupPodNetworkPhase1(vmi('masquerade')), {
      message: 'Masquerade interface only implemented with pod network',
    });
    assert.ok(!calls.some((c) => c.startsWith('ip -batch')), 'nothing made');
    writePodIfaceCache(dir, 'uid6', 'secnet', { networkState: PodIfaceNetworkPreparationStarted });
    await assert.rejects(configurator(['net1']).setupPodNetworkPhase1(vmi('bridge')), (err: Error) => {
      assert.equal(err.name, 'CriticalNetworkError');
      assert.equal(err.message, 'preparation for networks [secnet] cannot be restarted');
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('phase 1 with a multus network whose pod interface is missing: nothing marked started, so a retry can succeed', async () => {
  const dir = mkdtempSync('/tmp/kvts-netcache-');
  try {
    const vmi = {
      metadata: { name: 'v', namespace: 'n', uid: 'uid7' },
      spec: {
        domain: {
          devices: {
            interfaces: [
              { name: 'default', masquerade: {} },
              { name: 'secnet', bridge: {} },
            ],
          },
        },
        networks: [
          { name: 'default', pod: {} },
          { name: 'secnet', multus: { networkName: 'secnet-nad' } },
        ],
      },
    } as VirtualMachineInstance;
    const configurator = (secondary: string[]) =>
      new PodNetworkConfigurator({
        logger: pino({ level: 'silent' }),
        privateDir: dir,
        launcherPid: () => 43,
        netns: () => fakeMultusPod([], secondary),
        sharesHandlerNetNS: () => false,
        launcherPrivateDir: () => dir,
      });
    await assert.rejects(configurator([]).setupPodNetworkPhase1(vmi), /pod link \(pod[0-9a-f]{11}\) is missing/);
    assert.equal(readPodIfaceCache(dir, 'uid7', 'default'), undefined, 'the pod network not marked started either');
    assert.deepEqual(await configurator(['net1']).setupPodNetworkPhase1(vmi), { default: 'tap', secnet: 'tap' });
    assert.equal(readPodIfaceCache(dir, 'uid7', 'secnet')?.networkState, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
