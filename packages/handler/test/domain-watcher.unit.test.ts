// The handler's domain notify server as a KubeVirt launcher sees it: a plain gRPC client on the real
// notify socket sends the event types KubeVirt's notify server knows, and bad ones.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { notifyClient, type NotifyClient } from '@kubevirt-ts/proto';
import { domainToJSON, newDomain, parseVMI } from '@kubevirt-ts/shared';
import { startDomainWatcher, type RunningWatcher } from '../../../test/bed/domain-watcher.ts';
import { captureLogs } from '../../../test/bed/log-capture.ts';

describe('domain notify server: event types', () => {
  let dir: string;
  let logs: () => string = () => '';
  let handler: RunningWatcher;
  let client: NotifyClient;

  before(async () => {
    dir = mkdtempSync('/tmp/kvts-notify-');
    const captured = captureLogs({ component: 'virt-handler', verbosity: 3 });
    logs = captured.text;
    const logger = captured.logger;
    handler = await startDomainWatcher({ dir, podsBaseDir: path.join(dir, 'pods'), logger, host: 'notify-node' });
    client = await notifyClient(handler.notifySocket);
  });

  after(async () => {
    client?.close();
    await handler?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const domain = () => {
    const d = newDomain({ name: 'vmi-a', namespace: 'ns', uid: '6a1f3c2e-0000-4000-8000-000000000001' });
    d.Status.Status = 'Running';
    d.Status.Reason = 'Unknown';
    return Buffer.from(domainToJSON(d));
  };

  test('ADDED, MODIFIED and DELETED change the domain the handler knows', async () => {
    assert.deepEqual(await client.HandleDomainEvent({ eventType: 'ADDED', domainJSON: domain() }), { success: true, message: '' });
    assert.equal(handler.watcher.get('ns/vmi-a')?.Status.Status, 'Running');
    assert.deepEqual(await client.HandleDomainEvent({ eventType: 'DELETED', domainJSON: domain() }), { success: true, message: '' });
    assert.equal(handler.watcher.get('ns/vmi-a'), undefined);
  });

  test('ERROR carries a metav1.Status: logged as KubeVirt logs it, answered success, no domain touched', async () => {
    const statusJSON = Buffer.from(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message: 'libvirt went away',
        reason: 'InternalError',
        code: 500,
      }),
    );
    const before = handler.watcher.list().length;
    assert.deepEqual(await client.HandleDomainEvent({ eventType: 'ERROR', domainJSON: Buffer.alloc(0), statusJSON }), {
      success: true,
      message: '',
    });
    assert.match(logs(), /"msg":"Domain error event with message: libvirt went away"/);
    assert.match(logs(), /"reason":"InternalError"/);
    assert.equal(handler.watcher.list().length, before);
    // an ERROR without a status is accepted too (Go leaves the Status empty)
    assert.equal((await client.HandleDomainEvent({ eventType: 'ERROR', domainJSON: Buffer.alloc(0) })).success, true);
  });

  test('bad input is refused in-band with a message, and the server keeps serving', async () => {
    const badStatus = await client.HandleDomainEvent({
      eventType: 'ERROR',
      domainJSON: Buffer.alloc(0),
      statusJSON: Buffer.from('{"message":'),
    });
    assert.equal(badStatus.success, false);
    assert.match(badStatus.message, /^Failed to unmarshal status json object: /);
    const badDomain = await client.HandleDomainEvent({ eventType: 'MODIFIED', domainJSON: Buffer.from('[]') });
    assert.equal(badDomain.success, false);
    assert.match(badDomain.message, /^Failed to unmarshal domain json object: /);
    const badType = await client.HandleDomainEvent({ eventType: 'BOOKMARK', domainJSON: domain() });
    assert.deepEqual(badType, { success: false, message: 'unknown domain event type "BOOKMARK"' });
    assert.deepEqual(await client.HandleDomainEvent({ eventType: 'MODIFIED', domainJSON: domain() }), { success: true, message: '' });
  });
});

describe('domain watcher: the watchdog', () => {
  test('dials every known launcher socket each round, spread over the round rather than all at once', async (t) => {
    const dir = mkdtempSync('/tmp/kvts-watchdog-');
    const servers: net.Server[] = [];
    let handler: RunningWatcher | undefined;
    t.after(async () => {
      await handler?.stop();
      for (const s of servers) s.close();
      rmSync(dir, { recursive: true, force: true });
    });
    // 20 launchers answering on their sockets; every accepted dial is timed
    const accepts: number[][] = [];
    const sockets = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const sock = path.join(dir, `launcher-${i}`, 'launcher-sock');
        mkdirSync(path.dirname(sock), { recursive: true });
        accepts[i] = [];
        const server = net.createServer((c) => {
          accepts[i]?.push(performance.now());
          c.destroy();
        });
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(sock, resolve));
        return sock;
      }),
    );
    // a 1.5 s watchdog timeout: a round every 500 ms, spread over at most 250 ms
    handler = await startDomainWatcher({
      dir,
      podsBaseDir: path.join(dir, 'pods'),
      logger: captureLogs({ component: 'virt-handler' }).logger,
      host: 'n',
      watchdogTimeoutMs: 1_500,
    });
    sockets.forEach((sock, i) => {
      const uid = `6a1f3c2e-0000-4000-8000-${String(i).padStart(12, '0')}`;
      handler?.launchers.remember(
        parseVMI({
          apiVersion: 'kubevirt.io/v1',
          kind: 'VirtualMachineInstance',
          metadata: { name: `vmi-${i}`, namespace: 'ns', uid },
          spec: { domain: { devices: {} } },
        }),
        sock,
      );
    });
    // two rounds seen: every launcher dialled twice (a poll with a deadline, not a fixed wait)
    for (
      const deadline = Date.now() + 30_000;
      !accepts.every((a) => a.length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 50))
    ) {
      assert.ok(Date.now() < deadline, `every launcher dialled twice within 30 s: ${accepts.map((a) => a.length).join(',')}`);
    }
    const firstRound = accepts.map((a) => a[0] as number);
    const secondRound = accepts.map((a) => a[1] as number);
    const spread = Math.max(...firstRound) - Math.min(...firstRound);
    assert.ok(spread >= 150, `one round's 20 dials spread over ${spread.toFixed(0)} ms (expected ~240)`);
    // a round is one dial per launcher: all of the first round's dials come before any of the second's
    assert.ok(
      Math.max(...firstRound) < Math.min(...secondRound),
      `the first round ended before the second began (spread ${spread.toFixed(0)} ms)`,
    );
  });
});
