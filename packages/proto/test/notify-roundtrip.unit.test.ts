import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createNotifyServer, listenUnix, notifyClient, stopServer, type NotifyClient, type Server, type notifyv1 } from '../src/index.ts';

const received: notifyv1.DomainEventRequest__Output[] = [];

let dir: string;
let server: Server;
let client: NotifyClient;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-proto-notify-'));
  const socket = path.join(dir, 'domain-notify.sock');
  server = createNotifyServer({
    HandleDomainEvent: (req) => {
      received.push(req);
      const domain = JSON.parse(req.domainJSON.toString('utf8')) as { metadata: { name: string } };
      return { success: true, message: `${req.eventType} ${domain.metadata.name}` };
    },
    HandleK8sEvent: (req) => {
      const event = JSON.parse(req.eventJSON.toString('utf8')) as { reason: string; involvedObject: { name: string } };
      return { success: false, message: `${event.reason} for ${event.involvedObject.name}` };
    },
  });
  await listenUnix(server, socket);
  client = await notifyClient(socket);
});

after(async () => {
  client.close();
  await stopServer(server);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('notifyClient negotiates Notify version 1 through NotifyInfo.Info', () => {
  assert.equal(client.version, 1);
});

test('HandleDomainEvent: MODIFIED with domainJSON bytes reaches virt-handler; statusJSON stays empty', async () => {
  const domainJSON = Buffer.from(JSON.stringify({ kind: 'Domain', apiVersion: '1.2.2', metadata: { name: 'vm-a' } }));
  const res = await client.HandleDomainEvent({ domainJSON, eventType: 'MODIFIED' });
  assert.deepEqual(res, { success: true, message: 'MODIFIED vm-a' });

  const req = received.at(-1);
  assert.ok(req);
  assert.ok(Buffer.isBuffer(req.domainJSON));
  assert.deepEqual(req.domainJSON, domainJSON);
  assert.ok(Buffer.isBuffer(req.statusJSON));
  assert.equal(req.statusJSON.length, 0);
});

test('HandleK8sEvent: eventJSON bytes reach virt-handler and its in-band failure comes back', async () => {
  const eventJSON = Buffer.from(
    JSON.stringify({
      involvedObject: { kind: 'VirtualMachineInstance', apiVersion: 'kubevirt.io/v1', name: 'vm-a' },
      type: 'Warning',
      reason: 'IOerror',
      message: 'VM Paused due to IO error at the volume: rootdisk',
    }),
  );
  assert.deepEqual(await client.HandleK8sEvent({ eventJSON }), { success: false, message: 'IOerror for vm-a' });
});
