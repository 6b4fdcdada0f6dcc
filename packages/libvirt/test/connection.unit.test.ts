// Transport and connection behaviour against a fake daemon: keepalive, timeouts, aborts,
// pipelining, reconnect with event re-registration.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Connection, type ConnectionCloseEvent } from '../src/connection.ts';
import { DomainEventId, ErrorDomain, ErrorNumber, MessageStatus, MessageType, RemoteProc } from '../src/constants.ts';
import { isAborted, isConnectionLost, isInvalidOperation, isTimeout, LibvirtError } from '../src/errors.ts';
import { writeDomain, type Domain } from '../src/procedures.ts';
import { encodePacket, Transport } from '../src/transport.ts';
import { XdrReader, XdrWriter } from '../src/xdr.ts';
import { FakeDaemon, waitFor } from './fake-daemon.ts';

const dom: Domain = { name: 'vm1', uuid: '11111111-2222-3333-4444-555555555555', id: 1 };

function stateReply(state: number, reason: number) {
  return { body: new XdrWriter().int(state).int(reason).finish() };
}

describe('connection to a fake daemon', () => {
  let daemon: FakeDaemon;
  let conn: Connection | undefined;

  beforeEach(async () => {
    daemon = await new FakeDaemon().start();
  });

  afterEach(async () => {
    await conn?.close();
    conn = undefined;
    await daemon.dispose();
  });

  it('authenticates, opens the URI and negotiates keepalive', async () => {
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false });
    const procs = daemon.calls.map((c) => c.header.procedure);
    assert.deepEqual(procs, [RemoteProc.AUTH_LIST, RemoteProc.CONNECT_OPEN, RemoteProc.CONNECT_SUPPORTS_FEATURE]);
    const open = new XdrReader(daemon.callsOf(RemoteProc.CONNECT_OPEN)[0]!.body);
    assert.equal(
      open.optional((r) => r.string()),
      'qemu:///system',
    );
    assert.equal(open.uint(), 0);
    assert.equal(new XdrReader(daemon.callsOf(RemoteProc.CONNECT_SUPPORTS_FEATURE)[0]!.body).int(), 10);
    assert.equal(await conn.connectGetLibVersion(), 9_000_000n);
  });

  it('tries socket candidates in order', async () => {
    conn = await connect({ socketPath: [`${daemon.socketPath}.missing`, daemon.socketPath], reconnect: false });
    assert.equal(conn.socketPath, daemon.socketPath);
  });

  it('turns error replies into typed LibvirtErrors', async () => {
    daemon.handlers.set(RemoteProc.DOMAIN_SUSPEND, () => ({
      error: {
        code: ErrorNumber.OPERATION_INVALID,
        domain: ErrorDomain.QEMU,
        message: 'Requested operation is not valid: domain is not running',
      },
    }));
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false });
    const err = await conn.domainSuspend(dom).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LibvirtError);
    assert.equal(err.code, 55);
    assert.equal(err.domain, 10);
    assert.ok(isInvalidOperation(err));
  });

  it('matches pipelined replies to their calls whatever the reply order', async () => {
    daemon.handlers.set(RemoteProc.DOMAIN_GET_STATE, async (call) => {
      await sleep(Math.random() * 20);
      return stateReply(1, call.header.serial % 11);
    });
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false });
    const c = conn;
    const results = await Promise.all(Array.from({ length: 100 }, () => c.domainGetState(dom)));
    const serials = daemon.callsOf(RemoteProc.DOMAIN_GET_STATE).map((p) => p.header.serial);
    assert.deepEqual(
      results.map((r) => r.reasonCode),
      serials.map((s) => s % 11),
    );
  });

  it('times a call out without breaking the connection; the late reply is dropped', async () => {
    let replied = false;
    daemon.handlers.set(RemoteProc.DOMAIN_GET_STATE, async () => {
      await sleep(300);
      replied = true;
      return stateReply(1, 1);
    });
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false, timeoutMs: 5000 });
    const err = await conn.domainGetState(dom, 0, { timeoutMs: 100 }).catch((e: unknown) => e);
    assert.ok(isTimeout(err), String(err));
    assert.equal(replied, false, 'the call timed out before the daemon replied');
    assert.ok(await waitFor(() => replied, 5000), 'the late reply was sent');
    assert.equal(await conn.connectGetLibVersion(), 9_000_000n);
  });

  it('uses the connection-wide default timeout', async () => {
    daemon.handlers.set(RemoteProc.DOMAIN_GET_STATE, () => 'none');
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false, timeoutMs: 80 });
    assert.ok(isTimeout(await conn.domainGetState(dom).catch((e: unknown) => e)));
  });

  it('rejects a call when its AbortSignal fires', async () => {
    daemon.handlers.set(RemoteProc.DOMAIN_GET_STATE, () => 'none');
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false });
    const ac = new AbortController();
    const p = conn.domainGetState(dom, 0, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    assert.ok(isAborted(await p.catch((e: unknown) => e)));
    assert.ok(isAborted(await conn.domainGetState(dom, 0, { signal: AbortSignal.abort() }).catch((e: unknown) => e)));
  });

  it('answers the daemon’s keepalive PINGs with PONGs', async () => {
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false });
    const client = [...daemon.clients][0]!;
    let pongs = 0;
    client.socket.on('data', (d: Buffer) => {
      // PONG: program "keep", proc 2
      if (d.includes(Buffer.from('6b65657000000001000000020000000200000000', 'hex'))) pongs++;
    });
    daemon.sendPing();
    assert.ok(await waitFor(() => pongs === 1, 1000), 'PONG received');
  });

  it('stays up while the daemon answers its PINGs, even when idle', async () => {
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false, keepalive: { intervalMs: 50, count: 2 } });
    await sleep(500);
    assert.ok(conn.connected);
    assert.ok(daemon.pingsReceived >= 3, `pings: ${daemon.pingsReceived}`);
  });

  it('declares a silent daemon dead and fails pending calls with a connection-lost error', async () => {
    daemon.answerPings = false;
    daemon.handlers.set(RemoteProc.DOMAIN_GET_STATE, () => 'none');
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false, keepalive: { intervalMs: 100, count: 3 }, timeoutMs: 0 });
    const closed = once(conn, 'close') as Promise<[ConnectionCloseEvent]>;
    const t0 = Date.now();
    const pending = conn.domainGetState(dom).catch((e: unknown) => e);
    const [ev] = await closed;
    const detectedMs = Date.now() - t0;
    const err = await pending;
    assert.ok(isConnectionLost(err), String(err));
    assert.ok(isConnectionLost(ev.error));
    assert.equal(ev.willReconnect, false);
    assert.match(ev.error.message, /keepalive/);
    // three pings at 100, 200, 300 ms of silence; dead at 400 ms (checked every 20 ms): after the
    // third unanswered ping, not before it and not after a fourth
    assert.ok(detectedMs >= 380, `detected after ${detectedMs} ms`);
    assert.equal(daemon.pingsReceived, 3);
    assert.ok(isConnectionLost(await conn.connectGetLibVersion().catch((e: unknown) => e)));
  });

  it('fails pending calls at once when the daemon drops the socket', async () => {
    daemon.handlers.set(RemoteProc.DOMAIN_GET_STATE, () => 'none');
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false });
    const pending = conn.domainGetState(dom).catch((e: unknown) => e);
    await waitFor(() => daemon.callsOf(RemoteProc.DOMAIN_GET_STATE).length === 1, 1000);
    await daemon.stop();
    const err = await pending;
    // connection lost, not a timeout error: the drop failed it
    assert.ok(isConnectionLost(err));
    assert.ok(err instanceof LibvirtError && err.code === ErrorNumber.SYSTEM_ERROR && err.domain === ErrorDomain.RPC);
  });

  it('collects a read stream: reply, data packets, end, finish, confirmation', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(100_000, 0x5a)]);
    daemon.handlers.set(RemoteProc.DOMAIN_SCREENSHOT, (call, client) => {
      const h = call.header;
      const stream = (status: number, body?: Uint8Array) => client.send(encodePacket({ ...h, type: MessageType.STREAM, status }, body));
      if (h.type === MessageType.STREAM) {
        // the client's finish: confirm it
        stream(MessageStatus.OK);
        return 'none';
      }
      client.send(
        encodePacket(
          { ...h, type: MessageType.REPLY, status: MessageStatus.OK },
          new XdrWriter().optional('image/png', (w, m) => w.string(m)).finish(),
        ),
      );
      for (let off = 0; off < png.length; off += 32_768) stream(MessageStatus.CONTINUE, png.subarray(off, off + 32_768));
      stream(MessageStatus.CONTINUE);
      return 'none';
    });
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false });
    const shot = await conn.domainScreenshot(dom, 0);
    assert.equal(shot.mime, 'image/png');
    assert.deepEqual(shot.data, png);
    const finish = daemon.callsOf(RemoteProc.DOMAIN_SCREENSHOT).filter((c) => c.header.type === MessageType.STREAM);
    assert.equal(finish.length, 1);
    assert.equal(finish[0]!.header.status, MessageStatus.OK);
    assert.equal(await conn.connectGetLibVersion(), 9_000_000n);
  });

  it('collects a read stream whose reply comes last (libvirtd sends them from different threads)', async () => {
    const data = Buffer.from('89504e470d0a1a0a0102030405', 'hex');
    daemon.handlers.set(RemoteProc.DOMAIN_SCREENSHOT, (call, client) => {
      const h = call.header;
      const send = (type: number, status: number, body?: Uint8Array) => client.send(encodePacket({ ...h, type, status }, body));
      if (h.type === MessageType.STREAM) {
        // the client's finish: confirm it, and only then the call's reply
        send(MessageType.STREAM, MessageStatus.OK);
        send(MessageType.REPLY, MessageStatus.OK, new XdrWriter().optional('image/png', (w, m) => w.string(m)).finish());
        return 'none';
      }
      send(MessageType.STREAM, MessageStatus.CONTINUE, data);
      send(MessageType.STREAM, MessageStatus.CONTINUE);
      return 'none';
    });
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false });
    const shot = await conn.domainScreenshot(dom, 0);
    assert.equal(shot.mime, 'image/png');
    assert.deepEqual(shot.data, data);
  });

  it('delivers subscribed events to their listeners', async () => {
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false, events: ['lifecycle'] });
    await conn.subscribe('deviceAdded');
    const regs = daemon.callsOf(RemoteProc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY).map((c) => new XdrReader(c.body).int());
    assert.deepEqual(regs, [DomainEventId.LIFECYCLE, DomainEventId.DEVICE_ADDED]);
    const lifecycle = once(conn, 'lifecycle');
    const added = once(conn, 'deviceAdded');
    daemon.pushEvent(DomainEventId.LIFECYCLE, RemoteProc.DOMAIN_EVENT_CALLBACK_LIFECYCLE, (w) => {
      writeDomain(w, dom);
      w.int(2).int(0);
    });
    daemon.pushEvent(DomainEventId.DEVICE_ADDED, RemoteProc.DOMAIN_EVENT_CALLBACK_DEVICE_ADDED, (w) => {
      writeDomain(w, dom);
      w.string('ua-disk1');
    });
    assert.deepEqual((await lifecycle)[0], { domain: dom, event: 'STARTED', detail: 'BOOTED', eventCode: 2, detailCode: 0 });
    assert.deepEqual((await added)[0], { domain: dom, devAlias: 'ua-disk1' });
  });

  it('ignores events carrying a callbackID it did not register', async () => {
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false, events: ['lifecycle'] });
    let seen = 0;
    conn.on('lifecycle', () => seen++);
    daemon.pushEvent(
      DomainEventId.LIFECYCLE,
      RemoteProc.DOMAIN_EVENT_CALLBACK_LIFECYCLE,
      (w) => {
        writeDomain(w, dom);
        w.int(2).int(0);
      },
      999,
    );
    await sleep(100);
    assert.equal(seen, 0);
  });

  it('reconnects with back-off after the daemon restarts and registers its events again', async () => {
    conn = await connect({
      socketPath: daemon.socketPath,
      events: ['lifecycle', 'agentLifecycle'],
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    const closed = once(conn, 'close') as Promise<[ConnectionCloseEvent]>;
    const reconnected = once(conn, 'reconnect');
    await daemon.stop();
    const [ev] = await closed;
    assert.equal(ev.willReconnect, true);
    assert.ok(isConnectionLost(ev.error));
    // The daemon is down for a while: the client keeps retrying.
    await sleep(400);
    const before = daemon.calls.length;
    await daemon.start();
    await reconnected;
    const after = daemon.calls.slice(before).map((c) => c.header.procedure);
    assert.deepEqual(after, [
      RemoteProc.AUTH_LIST,
      RemoteProc.CONNECT_OPEN,
      RemoteProc.CONNECT_SUPPORTS_FEATURE,
      RemoteProc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
      RemoteProc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
    ]);
    const lifecycle = once(conn, 'lifecycle');
    assert.equal(
      daemon.pushEvent(DomainEventId.LIFECYCLE, RemoteProc.DOMAIN_EVENT_CALLBACK_LIFECYCLE, (w) => {
        writeDomain(w, dom);
        w.int(3).int(0);
      }),
      1,
    );
    assert.equal((await lifecycle)[0].event, 'SUSPENDED');
  });

  it('lets calls made during a reconnect wait for it', async () => {
    conn = await connect({ socketPath: daemon.socketPath, reconnect: { initialDelayMs: 50, maxDelayMs: 50 } });
    const closed = once(conn, 'close');
    await daemon.stop();
    await closed;
    const call = conn.connectGetLibVersion({ timeoutMs: 2000 });
    await sleep(150);
    await daemon.start();
    assert.equal(await call, 9_000_000n);
  });

  it('fails calls made during a reconnect that outlasts their timeout', async () => {
    conn = await connect({ socketPath: daemon.socketPath, reconnect: { initialDelayMs: 50, maxDelayMs: 50 } });
    const closed = once(conn, 'close');
    await daemon.stop();
    await closed;
    assert.ok(isTimeout(await conn.connectGetLibVersion({ timeoutMs: 100 }).catch((e: unknown) => e)));
  });

  it('unsubscribes: deregisters the callbackID and drops its events', async () => {
    conn = await connect({ socketPath: daemon.socketPath, reconnect: false, events: ['reboot'] });
    let seen = 0;
    conn.on('reboot', () => seen++);
    const id = [...daemon.clients][0]!.registrations.get(DomainEventId.REBOOT);
    await conn.unsubscribe('reboot');
    const dereg = daemon.callsOf(RemoteProc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY);
    assert.equal(dereg.length, 1);
    assert.equal(new XdrReader(dereg[0]!.body).int(), id);
    daemon.pushEvent(DomainEventId.REBOOT, RemoteProc.DOMAIN_EVENT_CALLBACK_REBOOT, (w) => writeDomain(w, dom), id);
    await sleep(100);
    assert.equal(seen, 0);
  });

  it('lets an AbortSignal end the wait for a reconnect', async () => {
    conn = await connect({ socketPath: daemon.socketPath, reconnect: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    const closed = once(conn, 'close');
    await daemon.stop();
    await closed;
    const ac = new AbortController();
    const waiting = conn.connectGetLibVersion({ timeoutMs: 20_000, signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    assert.ok(isAborted(await waiting));
  });

  it('close() during a reconnect back-off fails the waiting calls at once', async () => {
    conn = await connect({ socketPath: daemon.socketPath, reconnect: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    const closed = once(conn, 'close');
    await daemon.stop();
    await closed;
    const waiting = conn.connectGetLibVersion({ timeoutMs: 20_000 }).catch((e: unknown) => e);
    await sleep(50);
    await conn.close();
    // connection lost, not the call's 20 s timeout and not after the 10 s back-off: failed by close()
    assert.ok(isConnectionLost(await waiting));
  });

  it('closes with CONNECT_CLOSE and stops reconnecting', async () => {
    conn = await connect({ socketPath: daemon.socketPath });
    const closed = once(conn, 'close') as Promise<[ConnectionCloseEvent]>;
    await conn.close();
    const [ev] = await closed;
    assert.equal(ev.willReconnect, false);
    assert.equal(daemon.callsOf(RemoteProc.CONNECT_CLOSE).length, 1);
    assert.ok(isConnectionLost(await conn.connectGetLibVersion().catch((e: unknown) => e)));
  });
});

describe('transport', () => {
  it('reports a missing socket as connection lost', async () => {
    const err = await Transport.connect('/nonexistent/libvirt-sock').catch((e: unknown) => e);
    assert.ok(isConnectionLost(err));
  });
});
