import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { cmdInfoService, notifyInfoService } from '../src/definitions.ts';
import {
  cmdClient,
  createCmdServer,
  createNotifyServer,
  listenUnix,
  negotiateVersion,
  notifyClient,
  stopServer,
  type Server,
} from '../src/index.ts';

async function serve(t: TestContext, server: Server, name: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-proto-ver-'));
  const socket = path.join(dir, name);
  await listenUnix(server, socket);
  t.after(async () => {
    await stopServer(server);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return socket;
}

/** Calls an Info RPC with a bare grpc-js client, as a Go client would see the answer. */
function rawInfo<Res>(socket: string, method: { path: string; responseDeserialize(b: Buffer): Res }): Promise<Res> {
  const conn = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure());
  return new Promise<Res>((resolve, reject) => {
    conn.makeUnaryRequest(
      method.path,
      () => Buffer.alloc(0),
      (b: Buffer) => method.responseDeserialize(b),
      {},
      (err, res) => {
        conn.close();
        if (err || res === undefined) reject(err ?? new Error('no response'));
        else resolve(res);
      },
    );
  });
}

test('negotiateVersion picks the highest server version the client also supports', () => {
  assert.equal(negotiateVersion([1], [1]), 1);
  assert.equal(negotiateVersion([1, 2], [1]), 1);
  assert.equal(negotiateVersion([1, 3, 2], [2, 1]), 2);
  assert.equal(negotiateVersion([3, 1, 2], [3, 1, 2]), 3);
});

test('negotiateVersion fails with Go GetHighestCompatibleVersion text (%v slices, server sorted descending)', () => {
  assert.throws(() => negotiateVersion([2, 3], [1]), { message: 'no compatible version found, server: [3 2], client: [1]' });
  assert.throws(() => negotiateVersion([], [1]), { message: 'no compatible version found, server: [], client: [1]' });
  assert.throws(() => negotiateVersion([1], [4, 5]), { message: 'no compatible version found, server: [1], client: [4 5]' });
});

test("negotiateVersion does not reorder the caller's server list", () => {
  const server = [1, 2];
  negotiateVersion(server, [1]);
  assert.deepEqual(server, [1, 2]);
});

test('CmdInfo.Info answers supportedCmdVersions [1] by default', async (t) => {
  const socket = await serve(t, createCmdServer({}), 'launcher-sock');
  assert.deepEqual(await rawInfo(socket, cmdInfoService.Info), { supportedCmdVersions: [1] });
});

test('NotifyInfo.Info answers supportedNotifyVersions [1] by default', async (t) => {
  const socket = await serve(t, createNotifyServer({}), 'domain-notify.sock');
  assert.deepEqual(await rawInfo(socket, notifyInfoService.Info), { supportedNotifyVersions: [1] });
});

test('cmdClient settles on 1 when the launcher also offers newer versions', async (t) => {
  const socket = await serve(t, createCmdServer({ Info: () => ({ supportedCmdVersions: [1, 2] }) }), 'launcher-sock');
  const client = await cmdClient(socket);
  t.after(() => client.close());
  assert.equal(client.version, 1);
});

test('cmdClient refuses a launcher without a common Cmd version', async (t) => {
  const socket = await serve(t, createCmdServer({ Info: () => ({ supportedCmdVersions: [3, 2] }) }), 'launcher-sock');
  await assert.rejects(cmdClient(socket), { message: 'no compatible version found, server: [3 2], client: [1]' });
});

test('notifyClient refuses a handler without a common Notify version', async (t) => {
  const socket = await serve(t, createNotifyServer({ Info: () => ({ supportedNotifyVersions: [2] }) }), 'domain-notify.sock');
  await assert.rejects(notifyClient(socket), { message: 'no compatible version found, server: [2], client: [1]' });
});

test('cmdClient reports a failing Info call as "could not check cmd server version"', async (t) => {
  const socket = await serve(
    t,
    createCmdServer({
      Info: () => {
        throw new Error('launcher not ready');
      },
    }),
    'launcher-sock',
  );
  await assert.rejects(cmdClient(socket), { message: /^could not check cmd server version: 2 UNKNOWN: launcher not ready$/ });
});

test('cmdClient fails after the 2 s connect timeout when nothing listens on the socket', async () => {
  const started = Date.now();
  await assert.rejects(cmdClient(path.join(os.tmpdir(), `kv-proto-missing-${process.pid}.sock`)));
  assert.ok(Date.now() - started >= 1_900, 'dial should block for the connect timeout');
});
