import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { cmdCallTimeoutMs } from '../src/client.ts';
import {
  cmdClient,
  createCmdServer,
  createNotifyServer,
  isServiceError,
  listenUnix,
  notifyClient,
  status,
  stopServer,
  type CmdServerImpl,
  type Server,
} from '../src/index.ts';

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-proto-srv-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function serveCmd(t: TestContext, impl: CmdServerImpl) {
  const socket = path.join(tempDir(t), 'launcher-sock');
  const server = createCmdServer(impl);
  await listenUnix(server, socket);
  const client = await cmdClient(socket);
  t.after(async () => {
    client.close();
    await stopServer(server);
  });
  return client;
}

function stopAfter(t: TestContext, server: Server): void {
  t.after(() => stopServer(server));
}

test('an RPC the launcher leaves out answers UNIMPLEMENTED naming the RPC', async (t) => {
  const client = await serveCmd(t, { Ping: () => ({ success: true }) });
  assert.deepEqual(await client.Ping({}), { success: true, message: '' });
  await assert.rejects(client.MigrateVirtualMachine({}), (err: unknown) => {
    assert.ok(isServiceError(err));
    assert.equal(err.code, status.UNIMPLEMENTED);
    assert.equal(err.details, 'method MigrateVirtualMachine not implemented');
    return true;
  });
  await assert.rejects(client.GetSEVInfo({}), { code: status.UNIMPLEMENTED, details: 'method GetSEVInfo not implemented' });
});

test('a notify server without HandleK8sEvent answers UNIMPLEMENTED for it', async (t) => {
  const socket = path.join(tempDir(t), 'domain-notify.sock');
  const server = createNotifyServer({ HandleDomainEvent: () => ({ success: true }) });
  stopAfter(t, server);
  await listenUnix(server, socket);
  const client = await notifyClient(socket);
  t.after(() => client.close());
  await assert.rejects(client.HandleK8sEvent({}), { code: status.UNIMPLEMENTED, details: 'method HandleK8sEvent not implemented' });
});

test('a thrown error becomes gRPC UNKNOWN with its message, like a Go handler returning err (Exec)', async (t) => {
  const client = await serveCmd(t, {
    Exec: async () => {
      throw new Error('command failed: exit status 1');
    },
  });
  await assert.rejects(client.Exec({ Command: 'false' }), { code: status.UNKNOWN, details: 'command failed: exit status 1' });
});

test('a thrown error carrying a gRPC code keeps that code', async (t) => {
  const client = await serveCmd(t, {
    GuestPing: () => {
      throw Object.assign(new Error('agent not connected'), { code: status.FAILED_PRECONDITION });
    },
  });
  await assert.rejects(client.GuestPing({}), { code: status.FAILED_PRECONDITION, details: 'agent not connected' });
});

test('handlers may be methods of a class instance (this is kept)', async (t) => {
  class Launcher {
    readonly name = 'launcher-1';
    Ping() {
      return { success: true, message: this.name };
    }
  }
  const client = await serveCmd(t, new Launcher());
  assert.equal((await client.Ping({})).message, 'launcher-1');
});

test('a per-call timeoutMs overrides the default deadline', async (t) => {
  const client = await serveCmd(t, {
    GetDomain: () => new Promise((resolve) => setTimeout(() => resolve({ response: { success: true }, domain: '' }), 500)),
  });
  await assert.rejects(client.GetDomain({}, { timeoutMs: 50 }), { code: status.DEADLINE_EXCEEDED });
});

test('Exec and GuestPing wait for the guest timeout plus 5 s; others use the table', () => {
  assert.equal(cmdCallTimeoutMs('Exec', { timeoutSeconds: 10 }), 15_000);
  assert.equal(cmdCallTimeoutMs('GuestPing', { timeoutSeconds: 1 }), 6_000);
  assert.equal(cmdCallTimeoutMs('GuestPing', {}), 5_000);
  assert.equal(cmdCallTimeoutMs('SyncVirtualMachine', { timeoutSeconds: 10 }), 20_000);
  assert.equal(cmdCallTimeoutMs('FreezeVirtualMachine', {}), 60_000);
});

test('listenUnix replaces whatever is at the path and creates missing parent directories', async (t) => {
  const dir = tempDir(t);
  const socket = path.join(dir, 'a', 'b', 'launcher-sock');
  fs.mkdirSync(socket, { recursive: true });
  fs.writeFileSync(path.join(socket, 'stale'), 'x');

  const server = createCmdServer({ Ping: () => ({ success: true, message: 'fresh' }) });
  stopAfter(t, server);
  await listenUnix(server, socket);
  assert.ok(fs.statSync(socket).isSocket());

  const client = await cmdClient(socket);
  t.after(() => client.close());
  assert.equal((await client.Ping({})).message, 'fresh');
});

test('listenUnix keeps default permissions unless a mode is given', async (t) => {
  const dir = tempDir(t);
  const restricted = path.join(dir, 'restricted-sock');
  const server = createCmdServer({});
  stopAfter(t, server);
  await listenUnix(server, restricted, { mode: 0o600 });
  assert.equal(fs.statSync(restricted).mode & 0o777, 0o600);

  const plain = path.join(dir, 'plain-sock');
  const other = createCmdServer({});
  stopAfter(t, other);
  await listenUnix(other, plain);
  assert.equal(fs.statSync(plain).mode & 0o777, 0o777 & ~process.umask());
});

test('the server keeps serving after the launcher renames launcher-init-sock to launcher-sock', async (t) => {
  const dir = tempDir(t);
  const init = path.join(dir, 'launcher-init-sock');
  const ready = path.join(dir, 'launcher-sock');
  const server = createCmdServer({ Ping: () => ({ success: true, message: 'ready' }) });
  stopAfter(t, server);
  await listenUnix(server, init);
  fs.renameSync(init, ready);
  const client = await cmdClient(ready);
  t.after(() => client.close());
  assert.equal((await client.Ping({})).message, 'ready');
});
