// The handler's domain notify server as a KubeVirt launcher sees it: a plain gRPC client on the real
// notify socket sends the event types KubeVirt's notify server knows, and bad ones.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { notifyClient, type NotifyClient } from '@kubevirt-ts/proto';
import { domainToJSON, newDomain } from '@kubevirt-ts/shared';
import { captureLogs } from '../../../test/bed/log-capture.ts';
import { DomainWatcher } from '../src/domain-watcher.ts';
import { LauncherClients } from '../src/launcher-clients.ts';

describe('domain notify server: event types', () => {
  let dir: string;
  let logs: () => string = () => '';
  let watcher: DomainWatcher;
  let launchers: LauncherClients;
  let client: NotifyClient;

  before(async () => {
    dir = mkdtempSync('/tmp/kvts-notify-');
    const captured = captureLogs({ component: 'virt-handler', verbosity: 3 });
    logs = captured.text;
    const logger = captured.logger;
    launchers = new LauncherClients({
      logger,
      podsBaseDir: path.join(dir, 'pods'),
      privateDir: path.join(dir, 'private'),
      launcherShareDir: '/var/run/kubevirt',
      notifyConnection: (socket) => watcher.serveNotifyConnection(socket),
      host: 'notify-node',
    });
    const notifySocket = path.join(dir, 'share', 'domain-notify.sock');
    watcher = new DomainWatcher({ logger, notifySocket, launchers, watchdogTimeoutMs: 30_000, resyncPeriodMs: 300_000, recordK8sEvent: () => undefined });
    await watcher.start();
    client = await notifyClient(notifySocket);
  });

  after(async () => {
    client?.close();
    await watcher?.stop();
    launchers?.closeAll();
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
    assert.equal(watcher.get('ns/vmi-a')?.Status.Status, 'Running');
    assert.deepEqual(await client.HandleDomainEvent({ eventType: 'DELETED', domainJSON: domain() }), { success: true, message: '' });
    assert.equal(watcher.get('ns/vmi-a'), undefined);
  });

  test('ERROR carries a metav1.Status: logged as KubeVirt logs it, answered success, no domain touched', async () => {
    const statusJSON = Buffer.from(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'libvirt went away', reason: 'InternalError', code: 500 }));
    const before = watcher.list().length;
    assert.deepEqual(await client.HandleDomainEvent({ eventType: 'ERROR', domainJSON: Buffer.alloc(0), statusJSON }), { success: true, message: '' });
    assert.match(logs(), /"msg":"Domain error event with message: libvirt went away"/);
    assert.match(logs(), /"reason":"InternalError"/);
    assert.equal(watcher.list().length, before);
    // an ERROR without a status is accepted too (Go leaves the Status empty)
    assert.equal((await client.HandleDomainEvent({ eventType: 'ERROR', domainJSON: Buffer.alloc(0) })).success, true);
  });

  test('bad input is refused in-band with a message, and the server keeps serving', async () => {
    const badStatus = await client.HandleDomainEvent({ eventType: 'ERROR', domainJSON: Buffer.alloc(0), statusJSON: Buffer.from('{"message":') });
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
