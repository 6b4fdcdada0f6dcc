// The agent poller: its command groups and schedule against a scripted libvirt connection, then the
// real thing — libvirtd in a pod sandbox, the test guest's qemu-ga answering through qemuAgentCommand,
// the poller started and stopped by libvirt's agent-lifecycle events as KubeVirt's notifier does.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Connection, type Domain as VirDomain } from '@kubevirt-ts/libvirt';
import { createLogger, newDomain } from '@kubevirt-ts/shared';
import { AgentPoller, DEFAULT_AGENT_POLL_INTERVALS } from '../src/agent-poller.ts';
import { AsyncAgentStore } from '../src/agent/store.ts';
import { createPodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { startLibvirtd } from '../../../test/bed/libvirtd.ts';
import { guestArtifacts, guestDomainXML } from '../../../test/bed/guest.ts';
import { captureLogs } from '../../../test/bed/log-capture.ts';

function capturingLogger() {
  return captureLogs({ component: 'virt-launcher', level: 'info' });
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** A libvirt connection whose qemu-ga answers from a table; records each command with its time. */
function scriptedConnection(replies: Record<string, string | Error>) {
  const calls: Array<{ command: string; at: number }> = [];
  const dom = { name: 'default_testvmi', uuid: new Uint8Array(16), id: 1 } as unknown as VirDomain;
  const conn = {
    domainLookupByName: async () => dom,
    domainQemuAgentCommand: async (_d: VirDomain, json: string) => {
      const command = (JSON.parse(json) as { execute: string }).execute;
      calls.push({ command, at: Date.now() });
      const reply = replies[command];
      if (reply instanceof Error || reply === undefined) throw reply ?? new Error(`no reply for ${command}`);
      return reply;
    },
  };
  // Only the two procedures the poller uses exist on the fake.
  return { conn: conn as unknown as Connection, calls };
}

test("KubeVirt's defaults: sys 120 s, files 300 s, users 10 s, version 300 s, fsfreeze 5 s, first rounds from 10 s", () => {
  assert.deepEqual(DEFAULT_AGENT_POLL_INTERVALS, {
    sysMs: 120_000,
    fileMs: 300_000,
    userMs: 10_000,
    versionMs: 300_000,
    fsFreezeStatusMs: 5_000,
    initialMs: 10_000,
  });
});

test('groups run at once on start, then each on its period, ramping up from the initial interval', async (t) => {
  const { conn, calls } = scriptedConnection({
    'guest-info': '{"return":{"version":"7.2.22","supported_commands":[]}}',
    'guest-network-get-interfaces': '{"return":[]}',
    'guest-get-osinfo': '{"return":{"id":"kvts-testguest"}}',
    'guest-get-timezone': '{"return":{"zone":"UTC","offset":0}}',
    'guest-get-host-name': '{"return":{"host-name":"testguest"}}',
    'guest-get-fsinfo': '{"return":[]}',
    'guest-get-users': '{"return":[]}',
    'guest-fsfreeze-status': '{"return":"thawed"}',
  });
  const store = new AsyncAgentStore();
  const poller = new AgentPoller({
    conn,
    store,
    logger: createLogger({ component: 'virt-launcher', level: 'silent' }),
    intervals: { initialMs: 100, sysMs: 400, userMs: 150, versionMs: 10_000, fileMs: 10_000, fsFreezeStatusMs: 10_000 },
  });
  t.after(() => poller.stop());
  // Timers and the clock mocked: the schedule is exact, whatever the machine's load. Between ticks the
  // scripted agent's promises settle (setImmediate is real).
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const advance = async (ms: number) => {
    for (let i = 0; i < ms; i += 10) {
      t.mock.timers.tick(10);
      await settle();
    }
  };
  poller.start('default_testvmi');
  assert.equal(poller.running, true);
  assert.equal(store.connected, true);
  await settle();
  assert.deepEqual(
    new Set(calls.map((c) => c.command)),
    new Set([
      'guest-info',
      'guest-network-get-interfaces',
      'guest-get-osinfo',
      'guest-get-timezone',
      'guest-get-host-name',
      'guest-get-fsinfo',
      'guest-get-users',
      'guest-fsfreeze-status',
    ]),
  );
  // The sys group runs its four commands in KubeVirt's order, one after another.
  const sys = calls
    .map((c) => c.command)
    .filter((c) => ['guest-network-get-interfaces', 'guest-get-osinfo', 'guest-get-timezone', 'guest-get-host-name'].includes(c));
  assert.deepEqual(sys, ['guest-network-get-interfaces', 'guest-get-osinfo', 'guest-get-timezone', 'guest-get-host-name']);

  await advance(990);
  poller.stop();
  const rounds = (command: string) => calls.filter((c) => c.command === command).map((c) => c.at);
  // each group: at once, then the initial interval doubling up to its period (sliding: after the round)
  assert.deepEqual(rounds('guest-get-osinfo'), [0, 100, 300, 700], 'sys: 100, 200, 400 (its period) apart');
  assert.deepEqual(rounds('guest-get-users'), [0, 100, 250, 400, 550, 700, 850], 'users: 100, then its 150 ms period');
  assert.deepEqual(rounds('guest-info'), [0, 100, 300, 700], 'version (10 s): 100, 200, 400 apart');

  assert.equal(poller.running, false);
  assert.equal(store.connected, false);
  const count = calls.length;
  // far past every group's next round: had a timer survived stop(), it would have fired
  await advance(20_000);
  assert.equal(calls.length, count, 'no command after stop()');
  assert.equal(store.getSysInfo().hostname, 'testguest', 'the data stays after stop()');
});

test('failing commands and bad replies are skipped and logged, never thrown; the last good value stays', async (t) => {
  const replies: Record<string, string | Error> = {
    'guest-info': new Error('Guest agent is not responding: QEMU guest agent is not connected'),
    'guest-get-osinfo': '{"return":{"id":"kvts-testguest"}}',
    'guest-get-host-name': '{"return":{"host-name":"testguest"}}',
    'guest-network-get-interfaces': '{"return":{"not":"a list"}}',
    'guest-get-timezone': 'garbage',
    'guest-get-fsinfo': '{"return":[{"name":"vda","used-bytes":"lots"}]}',
    'guest-get-users': '{"return":[{"user":"root","login-time":1}]}',
    'guest-fsfreeze-status': '{"return":""}',
  };
  const { conn, calls } = scriptedConnection(replies);
  const store = new AsyncAgentStore();
  const { lines, logger } = capturingLogger();
  const poller = new AgentPoller({ conn, store, logger, intervals: { initialMs: 50, userMs: 50, sysMs: 50 } });
  t.after(() => poller.stop());
  poller.start('default_testvmi');
  await waitFor('users', () => (store.getUsers(-1).length ? true : undefined), 2_000);
  replies['guest-get-users'] = '{"return":[{"user":42}]}';
  replies['guest-get-osinfo'] = '{"return":7}';
  // the bad replies were asked for and answered (two rounds each, so the first is surely past its parse)
  const changedAt = calls.length;
  const askedTwice = (command: string) => calls.slice(changedAt).filter((c) => c.command === command).length >= 2;
  await waitFor(
    'rounds with the bad replies',
    () => (askedTwice('guest-get-users') && askedTwice('guest-get-osinfo') ? true : undefined),
    10_000,
  );
  poller.stop();

  assert.deepEqual(store.getUsers(-1), [{ name: 'root', domain: '', loginTime: 1 }]);
  assert.equal(store.getGuestOSInfo()?.Id, 'kvts-testguest');
  assert.equal(store.getInterfaceStatus(), undefined);
  assert.equal(store.getGA().version, '');
  const parseErrors = new Set(lines.filter((l) => l.level === 'error').map((l) => l.msg));
  for (const command of [
    'guest-network-get-interfaces',
    'guest-get-timezone',
    'guest-get-fsinfo',
    'guest-get-users',
    'guest-get-osinfo',
    'guest-fsfreeze-status',
  ]) {
    assert.ok(parseErrors.has(`Cannot parse guest agent reply to ${command}`), `logged: ${command}`);
  }
});

test('the test guest through libvirtd: the store fills with what its qemu-ga reports', { timeout: 240_000 }, async (t) => {
  const guest = guestArtifacts();
  const sandbox = await createPodSandbox();
  const libvirtd = await startLibvirtd(sandbox).catch(async (err: unknown) => {
    await sandbox.destroy();
    throw err;
  });
  const conn = await connect({ socketPath: libvirtd.socketPath, events: ['agentLifecycle'] });
  t.after(async () => {
    await conn.close();
    await libvirtd.stop();
    await sandbox.destroy();
  });

  const store = new AsyncAgentStore();
  // debug: the skipped rounds of a vanished domain are logged at debug level
  const { lines, logger } = captureLogs({ component: 'virt-launcher', level: 'debug' });
  const poller = new AgentPoller({
    conn,
    store,
    logger,
    intervals: { initialMs: 500, sysMs: 2_000, fileMs: 2_000, userMs: 1_000, versionMs: 2_000, fsFreezeStatusMs: 1_000 },
  });
  t.after(() => poller.stop());
  const updates: string[] = [];
  poller.onUpdate((e) => updates.push(e.key));
  const agentStates: string[] = [];
  // What KubeVirt's notifier does with agent-lifecycle events.
  conn.on('agentLifecycle', (e) => {
    agentStates.push(e.state);
    if (e.state === 'CONNECTED') poller.start(e.domain.name);
    else if (e.state === 'DISCONNECTED') poller.stop();
  });

  const uid = randomUUID();
  const serialSocket = `/var/run/kubevirt-private/${uid}/virt-serial0`;
  mkdirSync(sandbox.hostPath(`/var/run/kubevirt-private/${uid}`), { recursive: true });
  const mac = '52:54:00:6b:76:74';
  const xml = guestDomainXML({
    name: 'default_testvmi',
    uuid: uid,
    ...guest,
    serialSocket,
    extraDevices: `<interface type='user'><mac address='${mac}'/><model type='virtio'/></interface>`,
  });
  const dom = await conn.domainCreateWithFlags(await conn.domainDefineXMLFlags(xml));
  const booted = Date.now();

  await t.test('the agent connects and the poller starts', async () => {
    await waitFor('the agent-lifecycle CONNECTED event', () => (poller.running ? true : undefined), 90_000);
    assert.equal(store.connected, true);
    t.diagnostic(`agent connected ${Date.now() - booted} ms after start`);
  });

  await t.test('guest-info: qemu-ga version and its commands', async () => {
    const ga = await waitFor('guest-info', () => (store.getGA().version ? store.getGA() : undefined), 30_000);
    assert.equal(ga.version, '7.2.22');
    assert.ok(ga.supportedCommands.some((c) => c.name === 'guest-get-osinfo' && c.enabled === true));
  });

  await t.test('OS info from the guest os-release, hostname, timezone', async () => {
    const os = await waitFor('OS info', () => store.getGuestOSInfo(), 30_000);
    assert.equal(os.Id, 'kvts-testguest');
    assert.equal(os.Name, 'kvts-testguest');
    assert.equal(os.PrettyName, 'kubevirt-ts test guest');
    assert.equal(os.Machine, 'x86_64');
    assert.match(os.KernelRelease, /-amd64$/);
    const sys = await waitFor('hostname', () => (store.getSysInfo().hostname ? store.getSysInfo() : undefined), 30_000);
    assert.equal(sys.hostname, 'testguest');
    assert.deepEqual(sys.timezone, { zone: 'UTC', offset: 0 });
  });

  await t.test('interfaces: the virtio NIC as eth0 with its MAC and addresses; lo is left out', async () => {
    const eth0 = await waitFor(
      'eth0 with an address',
      () => store.getInterfaceStatus()?.find((i) => i.InterfaceName === 'eth0' && (i.IPs?.length ?? 0) > 0),
      60_000,
    );
    assert.equal(eth0.Mac, mac);
    assert.equal(
      store.getInterfaceStatus()?.some((i) => i.InterfaceName === 'lo'),
      false,
    );
    const ipv4 = eth0.IPs?.find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip));
    assert.equal(eth0.Ip, ipv4 ?? eth0.IPs?.[0]);
    // QEMU's user-mode DHCP hands out 10.0.2.15 when the guest asks for a lease.
    if (ipv4 !== undefined) assert.equal(ipv4, '10.0.2.15');
    t.diagnostic(`eth0: ${JSON.stringify(eth0)}`);
  });

  await t.test('filesystems: the data disk at /mnt/data on a virtio disk', async () => {
    const fs = await waitFor('/mnt/data', () => store.getFS(-1).find((f) => f.mountpoint === '/mnt/data'), 30_000);
    assert.equal(fs.name, 'vda');
    assert.match(fs.type, /^ext[234]$/);
    assert.ok(fs.totalBytes > 0 && fs.usedBytes > 0 && fs.usedBytes < fs.totalBytes);
    assert.deepEqual(
      fs.disk.map((d) => d.busType),
      ['virtio'],
    );
  });

  await t.test('users: root, logged in on ttyS0 by the guest getty', async () => {
    const root = await waitFor('root among the users', () => store.getUsers(-1).find((u) => u.name === 'root'), 60_000);
    assert.ok(root.loginTime * 1000 > booted - 60_000 && root.loginTime * 1000 < Date.now() + 60_000, `login time ${root.loginTime}`);
  });

  await t.test('fsfreeze status: thawed', async () => {
    assert.deepEqual(await waitFor('fsfreeze status', () => store.getFSFreezeStatus(), 30_000), { Status: 'thawed' });
  });

  await t.test('GetGuestInfo / GetUsers / GetFilesystems and the Domain status overlay', () => {
    const info = store.guestInfo();
    assert.equal(info.guestAgentVersion, '7.2.22');
    assert.equal(info.hostname, 'testguest');
    assert.equal(info.os?.id, 'kvts-testguest');
    assert.equal(info.timezone, 'UTC, 0');
    assert.deepEqual(
      info.userList?.map((u) => u.userName),
      ['root'],
    );
    assert.deepEqual(
      info.fsInfo?.disks?.map((d) => [d.diskName, d.mountPoint, d.disk]),
      [['vda', '/mnt/data', [{ busType: 'virtio' }]]],
    );
    assert.equal(info.fsFreezeStatus, 'thawed');
    assert.deepEqual(
      store.users().map((u) => u.userName),
      ['root'],
    );
    assert.deepEqual(
      store.filesystems().map((f) => f.mountPoint),
      ['/mnt/data'],
    );

    const domain = newDomain({ name: 'testvmi', namespace: 'default', uid });
    store.overlay(domain);
    assert.equal(domain.Status.OSInfo.Id, 'kvts-testguest');
    assert.equal(domain.Status.Interfaces?.[0]?.InterfaceName, 'eth0');
    assert.equal(domain.Status.FSFreezeStatus.Status, 'thawed');
  });

  await t.test('updates fire on change only: each key at least once, the fsfreeze status (polled every second) once', () => {
    for (const key of [
      'guest-info',
      'guest-get-osinfo',
      'guest-get-host-name',
      'guest-get-timezone',
      'guest-network-get-interfaces',
      'guest-get-fsinfo',
      'guest-get-users',
      'guest-fsfreeze-status',
    ]) {
      assert.ok(updates.includes(key), `an update for ${key}`);
    }
    const seconds = (Date.now() - booted) / 1000;
    assert.ok(updates.filter((k) => k === 'guest-fsfreeze-status').length === 1, 'fsfreeze polled every second, unchanged');
    t.diagnostic(`${updates.length} updates in ${seconds.toFixed(1)} s`);
  });

  await t.test('the domain goes away: rounds fail quietly until stop(); the data stays', async () => {
    await conn.domainDestroyFlags(dom, 0);
    await conn.domainUndefineFlags(dom, 0);
    // libvirt sends no agent-lifecycle event when the domain is destroyed: the poller keeps
    // running (as KubeVirt's does) and its commands fail and are skipped.
    const from = lines.length;
    await waitFor(
      'a round that found no domain',
      () => (lines.slice(from).some((l) => /agent poller: domain .* not found/.test(l.msg)) ? true : undefined),
      30_000,
    );
    assert.equal(poller.running, true);
    poller.stop();
    assert.equal(poller.running, false);
    assert.equal(store.connected, false);
    assert.equal(store.getSysInfo().hostname, 'testguest');
    t.diagnostic(`agent lifecycle events: ${agentStates.join(', ')}`);
  });

  assert.deepEqual(
    lines.filter((l) => l.level === 'error'),
    [],
    'no parse errors against the real agent',
  );
});
