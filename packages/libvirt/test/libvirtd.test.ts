// The client against the real libvirtd of the test bed, driving the real tiny test guest.
// Needs root, libvirtd/qemu and the guest from scripts/build-guest; skipped otherwise.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { guestArtifacts, guestDomainXML } from '../../../test/bed/guest.ts';
import { startLibvirtd, type Libvirtd } from '../../../test/bed/libvirtd.ts';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import {
  connect,
  ConnectGetAllDomainStatsFlags,
  DOMAIN_EVENT_NAMES,
  DomainAffect,
  DomainGuestInfoTypes,
  DomainInterfaceAddressesSource,
  DomainShutdownFlags,
  DomainStatsTypes,
  DrvFeature,
  ErrorDomain,
  ErrorNumber,
  isAgentUnresponsive,
  isConnectionLost,
  isInvalidOperation,
  isNotFound,
  LibvirtError,
  type Connection,
  type ConnectionCloseEvent,
  type Domain,
  type DomainEventName,
  type DomainEventPayloads,
} from '../src/index.ts';

type Seen = { [K in DomainEventName]: { name: K; payload: DomainEventPayloads[K]; at: number } }[DomainEventName];

/** Records every domain event a connection delivers, for tests to wait on. */
class EventLog {
  readonly seen: Seen[] = [];
  constructor(conn: Connection) {
    for (const name of DOMAIN_EVENT_NAMES) this.#listen(conn, name);
  }
  #listen<K extends DomainEventName>(conn: Connection, name: K): void {
    conn.on(name, ((payload: DomainEventPayloads[K]) => {
      this.seen.push({ name, payload, at: Date.now() } as Seen);
    }) as never);
  }
  mark(): number {
    return this.seen.length;
  }
  async next<K extends DomainEventName>(
    name: K,
    match: (p: DomainEventPayloads[K]) => boolean,
    from: number,
    timeoutMs: number,
  ): Promise<DomainEventPayloads[K] & { at: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.seen.length; i++) {
        const s = this.seen[i]!;
        if (s.name === name && match(s.payload as DomainEventPayloads[K])) {
          return { ...(s.payload as DomainEventPayloads[K]), at: s.at };
        }
      }
      if (Date.now() > deadline) {
        const got = this.seen.slice(from).map((s) => `${s.name}:${JSON.stringify(s.payload, big)}`);
        throw new Error(`no ${name} event within ${timeoutMs} ms; saw ${got.join(', ') || 'nothing'}`);
      }
      await sleep(20);
    }
  }
}

const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

async function waitForAgent(conn: Connection, dom: Domain, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await conn.domainQemuAgentCommand(dom, '{"execute":"guest-ping"}', 2);
      return;
    } catch (err) {
      if (!isAgentUnresponsive(err) || Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}

async function waitForState(conn: Connection, dom: Domain, state: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await conn.domainGetState(dom);
    if (s.state === state || Date.now() > deadline) return s;
    await sleep(100);
  }
}

describe('against the real libvirtd', { timeout: 600_000 }, () => {
  let sandbox: PodSandbox;
  let libvirtd: Libvirtd;
  let conn: Connection;
  let events: EventLog;
  let dom: Domain;
  const name = `kvts-libvirt-${randomBytes(3).toString('hex')}`;
  const uuid = randomUUID();
  // Host-side tap for interface stats: a name unique on the host, which the domain's stop removes.
  const tap = `kvts${randomBytes(4).toString('hex')}`;
  const hotplugPodPath = '/var/run/kubevirt-private/hotplug.img';
  const figures: string[] = [];

  before(async () => {
    sandbox = await createPodSandbox();
    libvirtd = await startLibvirtd(sandbox);
    conn = await connect({
      socketPath: libvirtd.socketPath,
      events: ['lifecycle', 'reboot', 'agentLifecycle', 'deviceAdded', 'deviceRemoved'],
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
    });
    events = new EventLog(conn);
  });

  after(async () => {
    await conn?.close();
    await libvirtd?.stop();
    await sandbox?.destroy();
    if (figures.length) console.log(`\nlibvirt client figures:\n  ${figures.join('\n  ')}`);
  });

  it('opens qemu:///system and reports versions', async () => {
    const lib = await conn.connectGetLibVersion();
    assert.ok(lib >= 9_000_000n, `libvirt ${lib}`);
    assert.ok((await conn.connectGetVersion()) > 7_000_000n);
    assert.equal(await conn.connectGetURI(), 'qemu:///system');
    assert.ok((await conn.connectGetHostname()).length > 0);
    assert.equal(await conn.connectSupportsFeature(DrvFeature.PROGRAM_KEEPALIVE), true);
  });

  it('reports an unknown domain as VIR_ERR_NO_DOMAIN from the QEMU driver', async () => {
    const err = await conn.domainLookupByName('no-such-domain').catch((e: unknown) => e);
    assert.ok(isNotFound(err), String(err));
    assert.ok(err instanceof LibvirtError);
    assert.equal(err.code, ErrorNumber.NO_DOMAIN);
    assert.equal(err.domain, ErrorDomain.QEMU);
  });

  it('define → DEFINED/ADDED, SHUTOFF, listed, XML with the agent channel, lookup by UUID', async () => {
    const a = guestArtifacts();
    const xml = guestDomainXML({
      name,
      uuid,
      kernel: a.kernel,
      initrd: a.initrd,
      onReboot: 'restart',
      extraDevices: `
    <controller type='scsi' model='virtio-scsi' index='0'/>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${a.dataDisk}'/><target dev='vda' bus='virtio'/><readonly/></disk>
    <interface type='ethernet'><target dev='${tap}'/><model type='virtio'/></interface>
    <graphics type='vnc' socket='/var/run/kubevirt-private/vnc.sock'/>
    <video><model type='vga'/></video>`,
    });
    const from = events.mark();
    dom = await conn.domainDefineXMLFlags(xml, 0);
    assert.deepEqual(dom, { name, uuid, id: -1 });
    const ev = await events.next('lifecycle', (e) => e.domain.uuid === uuid, from, 5000);
    assert.equal(ev.event, 'DEFINED');
    assert.equal(ev.detail, 'ADDED');
    const st = await conn.domainGetState(dom);
    assert.equal(st.state, 'SHUTOFF');
    assert.ok((await conn.connectListAllDomains(0)).some((d) => d.uuid === uuid));
    assert.deepEqual(await conn.domainLookupByUUID(uuid), dom);
    const desc = await conn.domainGetXMLDesc(dom, 0);
    assert.match(desc, new RegExp(`<name>${name}</name>`));
    assert.match(desc, /org\.qemu\.guest_agent\.0/);
  });

  it('start → STARTED/BOOTED, RUNNING/BOOTED; the agent answers once connected', async (t) => {
    const from = events.mark();
    const t0 = Date.now();
    dom = await conn.domainCreateWithFlags(dom, 0);
    assert.ok(dom.id > 0);
    const started = await events.next('lifecycle', (e) => e.domain.uuid === uuid && e.event === 'STARTED', from, 10_000);
    assert.equal(started.detail, 'BOOTED');
    assert.deepEqual(await conn.domainGetState(dom), { state: 'RUNNING', reason: 'BOOTED', stateCode: 1, reasonCode: 1 });
    // Before the guest's qemu-ga is up, agent calls fail with VIR_ERR_AGENT_UNRESPONSIVE.
    const early = await conn.domainQemuAgentCommand(dom, '{"execute":"guest-ping"}', 1).catch((e: unknown) => e);
    assert.ok(isAgentUnresponsive(early), String(early));
    const connected = await events.next('agentLifecycle', (e) => e.domain.uuid === uuid && e.state === 'CONNECTED', from, 60_000);
    assert.equal(connected.reason, 'CHANNEL');
    t.diagnostic(`start → agent connected: ${connected.at - t0} ms`);
    await waitForAgent(conn, dom, 10_000);
  });

  it('runs guest agent commands', async () => {
    assert.deepEqual(JSON.parse((await conn.domainQemuAgentCommand(dom, '{"execute":"guest-ping"}')) ?? ''), { return: {} });
    const os = JSON.parse((await conn.domainQemuAgentCommand(dom, '{"execute":"guest-get-osinfo"}')) ?? '');
    assert.equal(os.return.id, 'kvts-testguest');
    const host = JSON.parse((await conn.domainQemuAgentCommand(dom, '{"execute":"guest-get-host-name"}', 5, 0)) ?? '');
    assert.equal(host.return['host-name'], 'testguest');
    const info = await conn.domainGetGuestInfo(dom, DomainGuestInfoTypes.OS | DomainGuestInfoTypes.HOSTNAME);
    assert.equal(info['os.id'], 'kvts-testguest');
    assert.equal(info.hostname, 'testguest');
    const fs = await conn.domainGetFSInfo(dom);
    assert.deepEqual(
      fs.map((f) => [f.mountpoint, f.devAliases]),
      [['/mnt/data', ['vda']]],
    );
    const ifaces = await conn.domainInterfaceAddresses(dom, DomainInterfaceAddressesSource.AGENT);
    assert.ok(ifaces.some((i) => i.name === 'lo'));
    const time = await conn.domainGetTime(dom);
    assert.ok(Math.abs(Number(time.seconds) - Date.now() / 1000) < 3600);
  });

  it('takes a screenshot over a read stream', async () => {
    const shot = await conn.domainScreenshot(dom, 0);
    assert.equal(shot.mime, 'image/png');
    assert.equal(shot.data.subarray(0, 8).toString('hex'), '89504e470d0a1a0a');
    assert.ok(shot.data.length > 100);
  });

  it('reports statistics: info, memory, all-domain typed params, block and interface', async () => {
    const info = await conn.domainGetInfo(dom);
    assert.equal(info.state, 1);
    assert.equal(info.maxMem, 131072n);
    assert.ok(info.cpuTime > 0n);
    const mem = await conn.domainMemoryStats(dom);
    assert.ok(
      mem.some((s) => s.name === 'rss' && s.value > 0n),
      JSON.stringify(mem, big),
    );
    const all = await conn.connectGetAllDomainStats(
      [],
      DomainStatsTypes.STATE |
        DomainStatsTypes.CPU_TOTAL |
        DomainStatsTypes.BALLOON |
        DomainStatsTypes.VCPU |
        DomainStatsTypes.INTERFACE |
        DomainStatsTypes.BLOCK,
      ConnectGetAllDomainStatsFlags.RUNNING,
    );
    const rec = all.find((r) => r.domain.uuid === uuid);
    assert.ok(rec, 'record for our domain');
    assert.equal(rec.params['state.state'], 1);
    assert.equal(typeof rec.params['cpu.time'], 'bigint');
    assert.equal(rec.params['block.0.name'], 'vda');
    assert.equal(rec.params['net.0.name'], tap);
    assert.equal(rec.params['vcpu.current'], 1);
    const block = await conn.domainBlockStats(dom, 'vda');
    assert.ok(block.rdReq > 0n && block.rdBytes > 0n);
    const net = await conn.domainInterfaceStats(dom, tap);
    assert.ok(net.rxBytes >= 0n && net.txBytes >= 0n);
    const vcpus = await conn.domainGetVcpus(dom, 1, 1);
    assert.equal(vcpus.info.length, 1);
    const pin = await conn.domainGetVcpuPinInfo(dom, 1, 1, DomainAffect.CURRENT);
    assert.equal(pin.num, 1);
    assert.equal((await conn.domainGetJobInfo(dom)).type, 'NONE');
    assert.equal((await conn.domainGetJobStats(dom, 0)).type, 'NONE');
  });

  it('suspend → SUSPENDED/PAUSED, PAUSED/USER; resume → RESUMED/UNPAUSED, RUNNING/UNPAUSED', async () => {
    let from = events.mark();
    await conn.domainSuspend(dom);
    const suspended = await events.next('lifecycle', (e) => e.domain.uuid === uuid, from, 5000);
    assert.deepEqual([suspended.event, suspended.detail], ['SUSPENDED', 'PAUSED']);
    assert.deepEqual(await conn.domainGetState(dom), { state: 'PAUSED', reason: 'USER', stateCode: 3, reasonCode: 1 });
    // The agent cannot be reached while paused: VIR_ERR_OPERATION_INVALID.
    const err = await conn.domainQemuAgentCommand(dom, '{"execute":"guest-ping"}', 1).catch((e: unknown) => e);
    assert.ok(isInvalidOperation(err), String(err));
    from = events.mark();
    await conn.domainResume(dom);
    const resumed = await events.next('lifecycle', (e) => e.domain.uuid === uuid, from, 5000);
    assert.deepEqual([resumed.event, resumed.detail], ['RESUMED', 'UNPAUSED']);
    assert.deepEqual(await conn.domainGetState(dom), { state: 'RUNNING', reason: 'UNPAUSED', stateCode: 1, reasonCode: 5 });
  });

  it('hot-plugs a SCSI disk (device-added) and unplugs it (device-removed)', async () => {
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', sandbox.hostPath(hotplugPodPath), '16M']);
    const disk = `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${hotplugPodPath}'/><target dev='sda' bus='scsi'/><alias name='ua-hotplug'/></disk>`;
    let from = events.mark();
    await conn.domainAttachDeviceFlags(dom, disk, DomainAffect.LIVE);
    const added = await events.next('deviceAdded', (e) => e.domain.uuid === uuid, from, 10_000);
    assert.equal(added.devAlias, 'ua-hotplug');
    assert.match(await conn.domainGetXMLDesc(dom, 0), /<alias name='ua-hotplug'\/>/);
    assert.equal((await conn.domainGetBlockInfo(dom, 'sda')).capacity, 16n * 1024n * 1024n);
    from = events.mark();
    await conn.domainDetachDeviceFlags(dom, disk, DomainAffect.LIVE);
    const removed = await events.next('deviceRemoved', (e) => e.domain.uuid === uuid, from, 20_000);
    assert.equal(removed.devAlias, 'ua-hotplug');
    assert.doesNotMatch(await conn.domainGetXMLDesc(dom, 0), /ua-hotplug/);
  });

  it('has the wire layout of every other procedure accepted by the daemon', async (t) => {
    // Each call must succeed or fail with the daemon's own verdict: a layout mistake shows up as
    // VIR_ERR_RPC ("Unable to decode message payload") or as our decoder failing.
    const a = guestArtifacts();
    const transientUUID = randomUUID();
    const transientXML = guestDomainXML({
      name: `${name}-t`,
      uuid: transientUUID,
      kernel: a.kernel,
      initrd: a.initrd,
      onReboot: 'restart',
    });
    const dumpPath = '/var/run/kubevirt-private/memory.dump';
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['connectGetCapabilities', () => conn.connectGetCapabilities()],
      [
        'connectGetDomainCapabilities',
        async () => assert.match(await conn.connectGetDomainCapabilities(null, 'x86_64', null, 'qemu'), /<domain>qemu<\/domain>/),
      ],
      ['connectGetType', () => conn.connectGetType()],
      ['nodeGetInfo', () => conn.nodeGetInfo()],
      ['domainLookupByID', async () => assert.equal((await conn.domainLookupByID(dom.id)).uuid, uuid)],
      ['domainIsActive', async () => assert.equal(await conn.domainIsActive(dom), true)],
      ['domainIsPersistent', async () => assert.equal(await conn.domainIsPersistent(dom), true)],
      ['domainGetControlInfo', () => conn.domainGetControlInfo(dom)],
      ['domainGetHostname', async () => assert.equal(await conn.domainGetHostname(dom, 2 /* AGENT */), 'testguest')],
      [
        'domainSetMetadata/domainGetMetadata',
        async () => {
          await conn.domainSetMetadata(dom, 2, '<kubevirt><uid>u1</uid></kubevirt>', 'kubevirt', 'http://kubevirt.io', DomainAffect.LIVE);
          assert.match(await conn.domainGetMetadata(dom, 2, 'http://kubevirt.io', DomainAffect.LIVE), /<uid>u1<\/uid>/);
        },
      ],
      ['domainGetVcpusFlags', async () => assert.equal(await conn.domainGetVcpusFlags(dom, DomainAffect.LIVE), 1)],
      ['domainSetVcpusFlags', () => conn.domainSetVcpusFlags(dom, 1, DomainAffect.CONFIG)],
      ['domainSetMemoryFlags', () => conn.domainSetMemoryFlags(dom, 131072n, DomainAffect.CONFIG)],
      ['domainSetMemoryStatsPeriod', () => conn.domainSetMemoryStatsPeriod(dom, 5, DomainAffect.LIVE)],
      ['domainGetDiskErrors', async () => assert.deepEqual(await conn.domainGetDiskErrors(dom, 8), [])],
      ['domainBlockResize', () => conn.domainBlockResize(dom, 'vda', 8n * 1024n * 1024n, 1 /* BYTES */)],
      [
        'domainUpdateDeviceFlags',
        () => conn.domainUpdateDeviceFlags(dom, "<graphics type='vnc' socket='/var/run/kubevirt-private/vnc.sock'/>", DomainAffect.LIVE),
      ],
      ['domainDetachDeviceAlias', () => conn.domainDetachDeviceAlias(dom, 'ua-missing', DomainAffect.LIVE)],
      ['domainAbortJob', () => conn.domainAbortJob(dom)],
      ['domainMigrateSetMaxSpeed', () => conn.domainMigrateSetMaxSpeed(dom, 100, 0)],
      ['domainMigrateStartPostCopy', () => conn.domainMigrateStartPostCopy(dom, 0)],
      [
        'domainFSFreeze/domainFSThaw',
        async () => {
          assert.equal(await conn.domainFSFreeze(dom, []), 1);
          assert.equal(await conn.domainFSThaw(dom, []), 1);
        },
      ],
      ['domainSetTime', () => conn.domainSetTime(dom, BigInt(Math.floor(Date.now() / 1000)), 0)],
      ['domainGetGuestVcpus', () => conn.domainGetGuestVcpus(dom)],
      ['domainSetUserPassword', () => conn.domainSetUserPassword(dom, 'root', 'secret')],
      ['domainAuthorizedSSHKeysGet', () => conn.domainAuthorizedSSHKeysGet(dom, 'root')],
      ['domainAuthorizedSSHKeysSet', () => conn.domainAuthorizedSSHKeysSet(dom, 'root', ['ssh-ed25519 AAAA test'], 1 /* APPEND */)],
      ['domainAgentSetResponseTimeout', () => conn.domainAgentSetResponseTimeout(dom, -1)],
      [
        'domainQemuMonitorCommand',
        async () => assert.match(await conn.domainQemuMonitorCommand(dom, '{"execute":"query-status"}'), /"running":true/),
      ],
      ['domainCoreDumpWithFormat', () => conn.domainCoreDumpWithFormat(dom, dumpPath, 0 /* RAW */, 1 << 4 /* MEMORY_ONLY */)],
      [
        'subscribe/unsubscribe',
        async () => {
          await conn.subscribe('jobCompleted', 'migrationIteration', 'deviceRemovalFailed', 'memoryDeviceSizeChange');
          await conn.unsubscribe('jobCompleted', 'migrationIteration', 'deviceRemovalFailed', 'memoryDeviceSizeChange');
        },
      ],
      [
        'domainCreateXML/domainReset',
        async () => {
          const transient = await conn.domainCreateXML(transientXML, 1 /* START_PAUSED */);
          assert.equal((await conn.domainGetState(transient)).state, 'PAUSED');
          await conn.domainReset(transient, 0);
          await conn.domainDestroyFlags(transient, 0);
          assert.ok(isNotFound(await conn.domainLookupByUUID(transientUUID).catch((e: unknown) => e)));
        },
      ],
    ];
    const outcomes: string[] = [];
    for (const [label, call] of calls) {
      try {
        await call();
        outcomes.push(`${label}: ok`);
      } catch (err) {
        assert.ok(err instanceof LibvirtError, `${label}: ${String(err)}`);
        assert.notEqual(err.code, ErrorNumber.RPC, `${label}: ${err.message}`);
        assert.equal(err.origin, 'daemon', `${label}: ${err.message}`);
        outcomes.push(`${label}: ${err.codeName}`);
      }
    }
    t.diagnostic(outcomes.join('; '));
  });

  it('pipelines 200 concurrent calls on one connection', async (t) => {
    // warm-up
    await Promise.all(Array.from({ length: 20 }, () => conn.domainGetState(dom)));
    const t0 = performance.now();
    const states = await Promise.all(Array.from({ length: 200 }, () => conn.domainGetState(dom)));
    const concurrentMs = performance.now() - t0;
    assert.ok(states.every((s) => s.state === 'RUNNING'));
    const t1 = performance.now();
    for (let i = 0; i < 200; i++) await conn.domainGetState(dom);
    const sequentialMs = performance.now() - t1;
    const t2 = performance.now();
    const lists = await Promise.all(Array.from({ length: 200 }, () => conn.connectListAllDomains(0)));
    const listMs = performance.now() - t2;
    assert.ok(lists.every((l) => l.some((d) => d.uuid === uuid)));
    const line = `200 concurrent domainGetState: ${concurrentMs.toFixed(1)} ms; 200 sequential: ${sequentialMs.toFixed(1)} ms; 200 concurrent connectListAllDomains: ${listMs.toFixed(1)} ms`;
    t.diagnostic(line);
    figures.push(line);
  });

  it('keeps memory flat over a 1,000-call loop', async (t) => {
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 1000; i++) {
      if (i % 2 === 0) await conn.domainGetState(dom);
      else await conn.domainGetInfo(dom);
    }
    const afterRss = process.memoryUsage().rss;
    const line = `RSS around 1,000 sequential calls: ${(before / 2 ** 20).toFixed(1)} MiB → ${(afterRss / 2 ** 20).toFixed(1)} MiB`;
    t.diagnostic(line);
    figures.push(line);
    assert.ok(afterRss - before < 64 * 2 ** 20);
  });

  it('survives a hung then restarted libvirtd: close detected, pending calls fail typed, events re-registered', async (t) => {
    // A second connection with a short keepalive, to time the hung-daemon detection.
    const watcher = await connect({
      socketPath: libvirtd.socketPath,
      keepalive: { intervalMs: 500, count: 2 },
      reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
      events: ['lifecycle'],
    });
    const watcherEvents = new EventLog(watcher);
    try {
      const pid = libvirtd.pid;
      const mainClosed = once(conn, 'close') as Promise<[ConnectionCloseEvent]>;
      const watcherClosed = once(watcher, 'close') as Promise<[ConnectionCloseEvent]>;
      const mainReconnected = once(conn, 'reconnect');
      const watcherReconnected = once(watcher, 'reconnect');

      // 1. Hang the daemon: calls stay pending, the short keepalive declares it dead.
      process.kill(pid, 'SIGSTOP');
      const tStop = Date.now();
      const pendingOnWatcher = watcher.domainGetState(dom, 0, { timeoutMs: 60_000 }).catch((e: unknown) => e);
      const pendingOnMain = conn.domainGetState(dom, 0, { timeoutMs: 60_000 }).catch((e: unknown) => e);
      const [wClose] = await watcherClosed;
      const hungDetectMs = Date.now() - tStop;
      assert.ok(isConnectionLost(wClose.error));
      assert.match(wClose.error.message, /keepalive/);
      assert.ok(isConnectionLost(await pendingOnWatcher));
      // by the keepalive (its message), not by the call's 60 s timeout; the time is a figure (below)

      // 2. Kill it (SIGKILL to its PID): the main connection sees the socket close at once.
      const tKill = Date.now();
      const killed = libvirtd.kill('SIGKILL');
      const [mClose] = await mainClosed;
      const eofDetectMs = Date.now() - tKill;
      assert.ok(isConnectionLost(mClose.error), String(mClose.error));
      assert.equal(mClose.willReconnect, true);
      const mainErr = await pendingOnMain;
      assert.ok(isConnectionLost(mainErr), String(mainErr));
      // by the socket's end, not by a keepalive running out
      assert.doesNotMatch(mClose.error.message, /keepalive/);

      // 3. Start it again: both connections come back and register their events again.
      await killed;
      await libvirtd.restart();
      const tUp = Date.now();
      await Promise.all([mainReconnected, watcherReconnected]);
      const reconnectMs = Date.now() - tUp;
      assert.notEqual(libvirtd.pid, pid);
      assert.equal((await conn.domainGetState(dom)).state, 'RUNNING');

      // 4. A later lifecycle event reaches both.
      const from = events.mark();
      const wFrom = watcherEvents.mark();
      await conn.domainSuspend(dom);
      assert.equal((await events.next('lifecycle', (e) => e.domain.uuid === uuid, from, 5000)).event, 'SUSPENDED');
      assert.equal((await watcherEvents.next('lifecycle', (e) => e.domain.uuid === uuid, wFrom, 5000)).event, 'SUSPENDED');
      await conn.domainResume(dom);
      const line = `hung libvirtd detected by keepalive (500 ms × (2+1)): ${hungDetectMs} ms; killed libvirtd detected (EOF): ${eofDetectMs} ms; reconnect after restart: ${reconnectMs} ms`;
      t.diagnostic(line);
      figures.push(line);
    } finally {
      await watcher.close();
    }
  });

  it('reboot → reboot event, still RUNNING, agent back', async () => {
    await waitForAgent(conn, dom, 30_000);
    const from = events.mark();
    await conn.domainReboot(dom, 0);
    await events.next('reboot', (e) => e.domain.uuid === uuid, from, 30_000);
    await events.next('agentLifecycle', (e) => e.domain.uuid === uuid && e.state === 'CONNECTED', from, 60_000);
    assert.equal((await conn.domainGetState(dom)).state, 'RUNNING');
    await waitForAgent(conn, dom, 10_000);
  });

  it('ACPI shutdown → SHUTDOWN then STOPPED/SHUTDOWN, SHUTOFF/SHUTDOWN', async () => {
    const from = events.mark();
    await conn.domainShutdownFlags(dom, DomainShutdownFlags.ACPI_POWER_BTN);
    const stopped = await events.next('lifecycle', (e) => e.domain.uuid === uuid && e.event === 'STOPPED', from, 30_000);
    assert.equal(stopped.detail, 'SHUTDOWN');
    assert.ok(events.seen.slice(from).some((s) => s.name === 'lifecycle' && s.payload.event === 'SHUTDOWN'));
    assert.deepEqual(await waitForState(conn, dom, 'SHUTOFF', 5000), {
      state: 'SHUTOFF',
      reason: 'SHUTDOWN',
      stateCode: 5,
      reasonCode: 1,
    });
  });

  it('destroy → STOPPED/DESTROYED, SHUTOFF/DESTROYED; undefine → UNDEFINED, gone', async () => {
    dom = await conn.domainCreateWithFlags(dom, 0);
    let from = events.mark();
    await conn.domainDestroyFlags(dom, 0);
    const stopped = await events.next('lifecycle', (e) => e.domain.uuid === uuid && e.event === 'STOPPED', from, 10_000);
    assert.equal(stopped.detail, 'DESTROYED');
    assert.deepEqual(await conn.domainGetState(dom), { state: 'SHUTOFF', reason: 'DESTROYED', stateCode: 5, reasonCode: 2 });
    from = events.mark();
    await conn.domainUndefineFlags(dom, 0);
    const undefined_ = await events.next('lifecycle', (e) => e.domain.uuid === uuid, from, 5000);
    assert.deepEqual([undefined_.event, undefined_.detail], ['UNDEFINED', 'REMOVED']);
    assert.ok(isNotFound(await conn.domainLookupByUUID(uuid).catch((e: unknown) => e)));
  });
});
