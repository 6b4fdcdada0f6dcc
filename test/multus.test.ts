// A multus secondary network the KubeVirt way, end to end: a pod sandbox with its own network
// namespace, eth0 from the "node" bridge as a CNI plugin gives it, and a second interface named as
// multus names a secondary network's (`pod<hash>`, L2 only, no IPAM): a veth to a namespace the test
// owns, standing in for the network. virt-handler's phase 1 (PodNetworkConfigurator) bridges it to
// the guest (k6t-<hash>, <hash>-nic, tap<hash>); the launcher puts the second NIC of a VMI with
// `networks: [pod, multus]` and `interfaces: [masquerade, bridge]` on that tap; the guest, given an
// address on it over the serial console, reaches the peer and is reached from it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { createLogger, generateHashedInterfaceName, parseDomain, type Domain, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { interfacesStatus, PodNetworkConfigurator } from '@kubevirt-ts/handler';
import { createPodSandbox, type PodSandbox } from './bed/pod-sandbox.ts';
import { createNodeNetwork, createSecondaryNetwork, inNetNS, type NodeNetwork, type SecondaryNetwork } from './bed/pod-network.ts';
import {
  asRequest,
  NONROOT_ENV,
  startLauncher,
  testVMI,
  virtControllerArgv,
  type RunningLauncher,
  stopLauncherTest,
} from './bed/launcher.ts';
import { virtControllerInterfaceStatuses } from './bed/multus.ts';
import { NotifyRecorder } from './bed/notify-recorder.ts';
import { GUEST_PROMPT } from './bed/guest.ts';
import { virsh } from './bed/libvirtd.ts';
import { SerialConsole } from './bed/serial.ts';
import { poll } from './bed/poll.ts';

const logger = createLogger({ component: 'virt-handler', level: 'silent' });
const GUEST_BOOT_MS = 120_000;
const POD_IP = '10.244.77.9';
const SECONDARY_NETWORK = 'secnet';
/** The MAC multus's CNI gave the pod's secondary interface: the guest's NIC takes it. */
const SECONDARY_MAC = '02:5e:c0:00:00:02';
const GUEST_SECONDARY_IP = '192.168.50.2';

interface PodLinkState {
  ifname: string;
  address: string;
  mtu: number;
  master?: string;
  linkinfo?: { info_kind?: string; info_data?: { user?: number | string } };
  addr_info: { family: string; local: string; prefixlen: number }[];
}
const podLinks = async (pid: number) => JSON.parse(await inNetNS(pid, 'ip', ['-j', '-d', 'addr', 'show'])) as PodLinkState[];
const shape = (links: PodLinkState[]) =>
  links
    .map((l) => `${l.ifname} ${l.address} ${l.mtu} ${l.master ?? ''} ${l.addr_info.map((a) => `${a.local}/${a.prefixlen}`).join(',')}`)
    .sort();

/** An HTTP GET from inside a network namespace (node itself as the client). */
async function fetchIn(pid: number, url: string): Promise<string> {
  const script =
    'fetch(process.argv[1], { signal: AbortSignal.timeout(3000) }).then(async (r) => { if (!r.ok) process.exit(2); process.stdout.write(await r.text()); })';
  return inNetNS(pid, process.execPath, ['-e', script, url]);
}

describe('multus secondary network, bridge binding beside the masqueraded pod network', { timeout: 400_000 }, () => {
  const podIface = generateHashedInterfaceName(SECONDARY_NETWORK);
  const suffix = podIface.slice('pod'.length);
  let node: NodeNetwork;
  let secondary: SecondaryNetwork;
  let sandbox: PodSandbox | undefined;
  let launcher: RunningLauncher | undefined;
  let recorder: NotifyRecorder | undefined;
  let client: CmdClient | undefined;
  let privateDir: string;
  let configurator: PodNetworkConfigurator;
  let vmi: VirtualMachineInstance;
  let attachments: Record<string, string>;
  let preAgentDomain: Domain;

  before(async () => {
    node = await createNodeNetwork();
    secondary = await createSecondaryNetwork();
    privateDir = mkdtempSync('/tmp/kvts-handler-private-');
    sandbox = await createPodSandbox({ network: true });
    await node.attach(sandbox, POD_IP);
    await secondary.attach(sandbox, podIface, SECONDARY_MAC);
    vmi = testVMI({ name: 'multus', uid: randomUUID() }) as unknown as VirtualMachineInstance;
    vmi.spec.domain.devices!.interfaces = [
      { name: 'default', masquerade: {} },
      { name: SECONDARY_NETWORK, bridge: {} },
    ];
    vmi.spec.networks = [
      { name: 'default', pod: {} },
      { name: SECONDARY_NETWORK, multus: { networkName: 'secnet-bridge' } },
    ];
    // what virt-controller reports from the pod's network-status annotation multus wrote
    vmi.status!.interfaces = virtControllerInterfaceStatuses(vmi.spec.networks, [
      { name: 'kindnet', interface: 'eth0', ips: [POD_IP], default: true },
      { name: 'default/secnet-bridge', interface: podIface, mac: SECONDARY_MAC },
    ]);
    recorder = await NotifyRecorder.listen(sandbox.hostPath('/var/run/kubevirt/domain-notify-pipe.sock'));
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m']);
    client = await cmdClient(launcher.cmdSocket);
    configurator = new PodNetworkConfigurator({ logger, privateDir, launcherPid: () => sandbox!.pid });
  });

  after(async () => {
    await stopLauncherTest({ client, launcher, recorder, sandbox });
    await secondary?.destroy();
    await node?.destroy();
    if (privateDir) rmSync(privateDir, { recursive: true, force: true });
  });

  test("virt-controller's status names the secondary's pod interface as multus did", () => {
    assert.deepEqual(vmi.status?.interfaces, [
      { name: 'default', podInterfaceName: 'eth0' },
      { name: SECONDARY_NETWORK, infoSource: 'multus-status', podInterfaceName: podIface },
    ]);
  });

  test("phase 1 bridges the secondary's pod interface to tap<hash> on k6t-<hash>, beside the masquerade's k6t-eth0", async () => {
    attachments = await configurator.setupPodNetworkPhase1(vmi);
    assert.deepEqual(attachments, { default: 'tap', [SECONDARY_NETWORK]: 'tap' });
    const byName = new Map((await podLinks(sandbox!.pid)).map((l) => [l.ifname, l]));
    assert.equal(byName.get('tap0')?.master, 'k6t-eth0');
    assert.equal(byName.get(`${suffix}-nic`)?.master, `k6t-${suffix}`, 'the pod interface renamed and bridged');
    assert.notEqual(byName.get(`${suffix}-nic`)?.address, SECONDARY_MAC, 'its MAC left for the guest');
    const tap = byName.get(`tap${suffix}`);
    assert.equal(tap?.master, `k6t-${suffix}`);
    assert.equal(tap?.linkinfo?.info_kind, 'tun');
    // no IPAM on the secondary network: no address on its bridge, nothing cached but the state
    assert.deepEqual(
      byName.get(`k6t-${suffix}`)?.addr_info.filter((a) => a.family === 'inet'),
      [],
    );
    assert.deepEqual(JSON.parse(readFileSync(path.join(privateDir, 'network-info-cache', vmi.metadata.uid, SECONDARY_NETWORK), 'utf8')), {
      networkState: 2,
    });
    assert.equal(configurator.podInterfaceIPs(vmi.metadata.uid, SECONDARY_NETWORK), undefined);
    assert.equal(configurator.podInterfaceIPs(vmi.metadata.uid, 'default')?.podIP, POD_IP);
    // the launcher's DHCP cache: IPAM disabled, so the launcher serves no DHCP on it
    const vif = JSON.parse(readFileSync(sandbox!.hostPath(`/var/run/kubevirt-private/vif-cache-${podIface}.json`), 'utf8'));
    assert.equal(vif.IPAMDisabled, true);
  });

  test("the domain has two NICs with KubeVirt's aliases, on tap0 and tap<hash>, the secondary with the pod interface's MAC", async () => {
    const r = await client!.SyncVirtualMachine({ ...asRequest(vmi), options: { interfaceDomainAttachment: attachments } });
    assert.equal(r.message, '');
    assert.equal(r.success, true);
    preAgentDomain = parseDomain(JSON.parse((await client!.GetDomain({})).domain));
    const nics = preAgentDomain.Spec.Devices.Interfaces ?? [];
    assert.deepEqual(
      nics.map((n) => [n.Alias?.Name, n.Type, n.Target?.Device]),
      [
        ['default', 'ethernet', 'tap0'],
        [SECONDARY_NETWORK, 'ethernet', `tap${suffix}`],
      ],
    );
    assert.equal(nics[1]?.MAC?.MAC, SECONDARY_MAC);
    // libvirt's own XML: user aliases ua-<network>, in the VMI's order
    const xml = await virsh(sandbox!, ['dumpxml', `${vmi.metadata.namespace}_${vmi.metadata.name}`]);
    const aliases = [...xml.matchAll(/<interface type='ethernet'>[\s\S]*?<alias name='([^']+)'\/>/g)].map((m) => m[1]);
    assert.deepEqual(aliases, ['ua-default', `ua-${SECONDARY_NETWORK}`]);
    assert.match(xml, new RegExp(`<mac address='${SECONDARY_MAC}'/>\\s*<target dev='tap${suffix}' managed='no'/>`));
    // no DHCP for the secondary network, only for the masquerade's eth0
    assert.doesNotMatch(launcher!.logs(), new RegExp(`Starting DHCP server for ${podIface}`));
    assert.ok(!existsSync(sandbox!.hostPath(`/var/run/kubevirt-private/dhcp_started-${podIface}`)));
    assert.ok(existsSync(sandbox!.hostPath('/var/run/kubevirt-private/dhcp_started-eth0')));
  });

  test("virt-handler's status before the guest agent: both NICs from the domain, the secondary's multus source kept", () => {
    const status = interfacesStatus(vmi, preAgentDomain, (name) => configurator.podInterfaceIPs(vmi.metadata.uid, name));
    const eth0MAC = preAgentDomain.Spec.Devices.Interfaces?.[0]?.MAC?.MAC;
    assert.deepEqual(status, [
      {
        name: 'default',
        mac: eth0MAC,
        ipAddress: POD_IP,
        ipAddresses: [POD_IP],
        infoSource: 'domain',
        queueCount: 1,
        linkState: 'up',
        podInterfaceName: 'eth0',
      },
      {
        name: SECONDARY_NETWORK,
        mac: SECONDARY_MAC,
        infoSource: 'domain, multus-status',
        queueCount: 1,
        linkState: 'up',
        podInterfaceName: podIface,
      },
    ]);
  });

  test('the guest sees both NICs; over the secondary it reaches the peer and is reached from it', async () => {
    const serial = await SerialConsole.open(sandbox!.hostPath(`/var/run/kubevirt-private/${vmi.metadata.uid}/virt-serial0`));
    try {
      await serial.waitForPrompt(GUEST_PROMPT, GUEST_BOOT_MS);
      // the NICs in the domain's order: eth1 is the secondary network's, with the pod interface's MAC
      assert.equal((await serial.run('cat /sys/class/net/eth1/address')).trim(), SECONDARY_MAC);
      await poll(
        'the masqueraded eth0 has 10.0.2.2 by DHCP',
        async () => (/inet 10\.0\.2\.2\/24/.test(await serial.run('ip -4 addr show dev eth0')) ? true : undefined),
        30_000,
        launcher!.logs,
      );
      // no IPAM on the network: the guest's address is its own to give, as a user does
      await serial.run(`ip link set eth1 up && ip addr add ${GUEST_SECONDARY_IP}/${secondary.prefix} dev eth1`);
      await poll(
        'the guest pings the peer over eth1',
        async () =>
          (await serial.run(`ping -c 1 -W 2 -I eth1 ${secondary.peerIP} >/dev/null && echo peer-ok`)).includes('peer-ok')
            ? true
            : undefined,
        30_000,
      );
    } finally {
      serial.close();
    }
    const page = await poll(
      "the guest's web server from the peer",
      async () => fetchIn(secondary.pid, `http://${GUEST_SECONDARY_IP}:8080/`),
      30_000,
      launcher!.logs,
    );
    assert.equal(page.trim(), 'kvts-guest');
    // the peer's traffic went over the secondary network only: its ARP entry for the guest is the guest's NIC
    assert.match(await secondary.exec('ip', ['neigh', 'show', GUEST_SECONDARY_IP]), new RegExp(`lladdr ${SECONDARY_MAC}`));
  });

  test('the guest agent names both NICs; the status gives each its guest interface and the secondary its address', async () => {
    const domain = await poll(
      "the guest agent's interfaces in the domain",
      async () => {
        const d = parseDomain(JSON.parse((await client!.GetDomain({})).domain));
        const agent = d.Status.Interfaces ?? [];
        return agent.some((i) => i.Mac === SECONDARY_MAC && (i.IPs ?? []).includes(GUEST_SECONDARY_IP)) ? d : undefined;
      },
      90_000,
      launcher!.logs,
    );
    const status = interfacesStatus(vmi, domain, (name) => configurator.podInterfaceIPs(vmi.metadata.uid, name));
    assert.deepEqual(
      status.map((s) => [s.name, s.interfaceName, s.infoSource, s.podInterfaceName]),
      [
        ['default', 'eth0', 'domain, guest-agent', 'eth0'],
        [SECONDARY_NETWORK, 'eth1', 'domain, guest-agent, multus-status', podIface],
      ],
    );
    assert.equal(status[0]?.ipAddress, POD_IP, 'the pod IP, not the guest-side 10.0.2.2');
    assert.equal(status[1]?.ipAddress, GUEST_SECONDARY_IP);
    assert.equal(status[1]?.mac, SECONDARY_MAC);
  });

  test('a restarted handler finds both networks done and leaves the pod as it was', async () => {
    const before = await podLinks(sandbox!.pid);
    const restarted = new PodNetworkConfigurator({ logger, privateDir, launcherPid: () => sandbox!.pid });
    assert.deepEqual(await restarted.setupPodNetworkPhase1(vmi), { default: 'tap', [SECONDARY_NETWORK]: 'tap' });
    assert.deepEqual(shape(await podLinks(sandbox!.pid)), shape(before));
    assert.equal((await fetchIn(secondary.pid, `http://${GUEST_SECONDARY_IP}:8080/`)).trim(), 'kvts-guest');
  });

  test("the pod's end takes its bridges, taps and the secondary's veth with it; the handler forgets its cache", async () => {
    const netns = `/proc/${sandbox!.pid}/ns/net`;
    client!.close();
    client = undefined;
    assert.equal(await launcher!.stop('SIGTERM'), 0, 'the launcher shut its guest down and exited 0');
    launcher = undefined;
    await recorder!.close();
    recorder = undefined;
    await sandbox!.destroy();
    sandbox = undefined;
    assert.equal(existsSync(netns), false, "the pod's network namespace is gone");
    configurator.teardown(vmi.metadata.uid);
    assert.equal(existsSync(path.join(privateDir, 'network-info-cache', vmi.metadata.uid)), false);
    // the peer's end of the veth goes with the pod's: the kernel tears a dead netns down asynchronously
    const peerLinks = async () =>
      (JSON.parse(await secondary.exec('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
    await poll(
      'the peer left with lo only',
      async () => ((await peerLinks()).join() === 'lo' ? true : undefined),
      30_000,
      () => 'links still there',
    );
    assert.deepEqual(await peerLinks(), ['lo']);
  });
});

describe("multus secondary network with IPAM, non-root launcher: the guest gets the pod interface's address by DHCP", {
  timeout: 300_000,
}, () => {
  const podIface = generateHashedInterfaceName(SECONDARY_NETWORK);
  const suffix = podIface.slice('pod'.length);
  const SECONDARY_POD_IP = '192.168.60.5';
  let node: NodeNetwork;
  let secondary: SecondaryNetwork;
  let sandbox: PodSandbox | undefined;
  let launcher: RunningLauncher | undefined;
  let client: CmdClient | undefined;
  let recorder: NotifyRecorder | undefined;
  let privateDir: string;
  let vmi: VirtualMachineInstance;

  before(async () => {
    node = await createNodeNetwork();
    secondary = await createSecondaryNetwork('192.168.60.1');
    privateDir = mkdtempSync('/tmp/kvts-handler-private-');
    sandbox = await createPodSandbox({ network: true });
    await node.attach(sandbox, POD_IP);
    await secondary.attach(sandbox, podIface, SECONDARY_MAC, SECONDARY_POD_IP);
    const uid = randomUUID();
    // KubeVirt's default pod: uid 107, virt-api's runtimeUser on the VMI
    vmi = testVMI({ name: 'testvmi', uid }) as unknown as VirtualMachineInstance;
    vmi.spec.domain.devices!.interfaces = [
      { name: 'default', masquerade: {} },
      { name: SECONDARY_NETWORK, bridge: {} },
    ];
    vmi.spec.networks = [
      { name: 'default', pod: {} },
      { name: SECONDARY_NETWORK, multus: { networkName: 'secnet-bridge-ipam' } },
    ];
    vmi.status!.runtimeUser = 107;
    vmi.status!.interfaces = virtControllerInterfaceStatuses(vmi.spec.networks, [
      { name: 'kindnet', interface: 'eth0', ips: [POD_IP], default: true },
      { name: 'default/secnet-bridge-ipam', interface: podIface, ips: [SECONDARY_POD_IP], mac: SECONDARY_MAC },
    ]);
    recorder = await NotifyRecorder.listen(sandbox.hostPath('/var/run/kubevirt/domain-notify-pipe.sock'));
    const args = virtControllerArgv(uid, { allowEmulation: true, runAsNonRoot: true });
    launcher = await startLauncher(sandbox, vmi, [], { args, nonRootUser: 107, env: NONROOT_ENV });
    client = await cmdClient(launcher.cmdSocket);
  });

  after(async () => {
    await stopLauncherTest({ client, launcher, recorder, sandbox });
    await secondary?.destroy();
    await node?.destroy();
    if (privateDir) rmSync(privateDir, { recursive: true, force: true });
  });

  test('phase 1 caches the pod IP, gives the bridge the fake DHCP server address; the launcher serves the lease', async () => {
    const configurator = new PodNetworkConfigurator({ logger, privateDir, launcherPid: () => sandbox!.pid });
    const attachments = await configurator.setupPodNetworkPhase1(vmi);
    const byName = new Map((await podLinks(sandbox!.pid)).map((l) => [l.ifname, l]));
    // the second interface of the VMI: 169.254.75.1 + its index
    assert.deepEqual(
      byName
        .get(`k6t-${suffix}`)
        ?.addr_info.filter((a) => a.family === 'inet')
        .map((a) => `${a.local}/${a.prefixlen}`),
      ['169.254.75.11/32'],
    );
    assert.ok([107, '107'].includes(byName.get(`tap${suffix}`)?.linkinfo?.info_data?.user ?? -1), 'the tap belongs to uid 107');
    assert.deepEqual(configurator.podInterfaceIPs(vmi.metadata.uid, SECONDARY_NETWORK), {
      podIP: SECONDARY_POD_IP,
      podIPs: [SECONDARY_POD_IP],
    });
    const r = await client!.SyncVirtualMachine({ ...asRequest(vmi), options: { interfaceDomainAttachment: attachments } });
    assert.equal(r.message, '');
    assert.match(
      launcher!.logs(),
      new RegExp(`Starting DHCP server for ${podIface}: guest ${SECONDARY_POD_IP.replaceAll('.', '\\.')}/24 via 169\\.254\\.75\\.11`),
    );

    const domain = parseDomain(JSON.parse((await client!.GetDomain({})).domain));
    const status = interfacesStatus(vmi, domain, (name) => configurator.podInterfaceIPs(vmi.metadata.uid, name));
    assert.deepEqual(
      status.map((s) => [s.name, s.mac, s.ipAddress, s.infoSource]),
      [
        ['default', domain.Spec.Devices.Interfaces?.[0]?.MAC?.MAC, POD_IP, 'domain'],
        [SECONDARY_NETWORK, SECONDARY_MAC, SECONDARY_POD_IP, 'domain, multus-status'],
      ],
    );

    const serial = await SerialConsole.open(sandbox!.hostPath(`/var/run/kubevirt-private/${vmi.metadata.uid}/virt-serial0`));
    try {
      await serial.waitForPrompt(GUEST_PROMPT, GUEST_BOOT_MS);
      let last = '';
      await poll(
        "the guest's eth1 has the pod interface's address by DHCP",
        async () => {
          await serial.run('ip link set eth1 up; udhcpc -i eth1 -n -q -t 3 >/dev/null 2>&1', 20_000);
          last = await serial.run('ip -4 addr show dev eth1');
          return new RegExp(`inet ${SECONDARY_POD_IP.replaceAll('.', '\\.')}/24`).test(last) ? true : undefined;
        },
        60_000,
        () =>
          `${launcher!
            .logs()
            .split('\n')
            .filter((l) => /DHCP/i.test(l))
            .join('\n')}\nguest: ${last}`,
      );
    } finally {
      serial.close();
    }
    const page = await poll(
      "the guest's web server from the peer at the pod interface's address",
      async () => fetchIn(secondary.pid, `http://${SECONDARY_POD_IP}:8080/`),
      30_000,
      launcher!.logs,
    );
    assert.equal(page.trim(), 'kvts-guest');
  });
});

describe('multus secondary network with the ordinal names of an older virt-controller (net1)', { timeout: 120_000 }, () => {
  let secondary: SecondaryNetwork;
  let node: NodeNetwork;
  let sandbox: PodSandbox | undefined;
  let privateDir: string;

  before(async () => {
    node = await createNodeNetwork();
    secondary = await createSecondaryNetwork();
    privateDir = mkdtempSync('/tmp/kvts-handler-private-');
    sandbox = await createPodSandbox({ network: true });
    await node.attach(sandbox, POD_IP);
    await secondary.attach(sandbox, 'net1', SECONDARY_MAC);
    // the launcher's private dir (the bridge binding's DHCP cache): no launcher is needed for phase 1
  });

  after(async () => {
    await sandbox?.destroy();
    await secondary?.destroy();
    await node?.destroy();
    if (privateDir) rmSync(privateDir, { recursive: true, force: true });
  });

  test("phase 1 finds net1 by the pod's own interfaces and builds k6t-net1, net1-nic and tap1", async () => {
    const vmi = testVMI({ name: 'multus-ordinal', uid: randomUUID() }) as unknown as VirtualMachineInstance;
    vmi.spec.domain.devices!.interfaces = [
      { name: 'default', masquerade: {} },
      { name: SECONDARY_NETWORK, bridge: {} },
    ];
    vmi.spec.networks = [
      { name: 'default', pod: {} },
      { name: SECONDARY_NETWORK, multus: { networkName: 'secnet-bridge' } },
    ];
    const configurator = new PodNetworkConfigurator({
      logger,
      privateDir,
      launcherPid: () => sandbox!.pid,
      launcherPrivateDir: () => privateDir,
    });
    assert.deepEqual(await configurator.setupPodNetworkPhase1(vmi), { default: 'tap', [SECONDARY_NETWORK]: 'tap' });
    const byName = new Map((await podLinks(sandbox!.pid)).map((l) => [l.ifname, l]));
    assert.equal(byName.get('net1-nic')?.master, 'k6t-net1');
    assert.equal(byName.get('tap1')?.master, 'k6t-net1');
    assert.equal(byName.get('tap0')?.master, 'k6t-eth0');
    assert.ok(existsSync(path.join(privateDir, 'vif-cache-net1.json')));
  });
});
