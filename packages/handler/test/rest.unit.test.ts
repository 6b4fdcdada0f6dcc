// virt-handler's console server and health server, the handler's side only: real TLS, real HTTP and
// websockets (virt-api played by https and ws clients holding the client certificates), but a FAKE
// launcher — a gRPC Cmd server that records what it is asked and answers what the test sets — and
// unix-socket servers standing in for QEMU's virt-serial0 and virt-vnc.
// The fake is here for what a real launcher cannot be made to do on demand: fail in-band, be
// unreachable, answer slowly (the metrics concurrency limit), answer exact guest data whose JSON form
// is checked byte for byte, and record the exact request the handler sent (the freeze timeout in
// seconds, the VMI JSON). A 202 or 200 from the fake proves only the handler's part (route, RPC,
// Event, status code). That the routes work — the guest frozen, reset, rebooted, its screen a PNG — is
// proved on a real launcher and guest in rest-real.test.ts (and handler.test.ts for pause, console,
// guest info); test/INDEX.md maps each route to its proof.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { cmdClient, createCmdServer, listenUnix, stopServer, type CmdClient, type CmdServerImpl, type Server } from '@kubevirt-ts/proto';
import { createLogger, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { collectDomainStats, createHandlerMetrics, type HandlerMetrics } from '../src/metrics.ts';
import { startConsoleServer, type ConsoleServer } from '../src/rest/console-server.ts';
import { startHealthServer, type HealthServer } from '../src/rest/health-server.ts';
import { makeHandlerPki, type HandlerPki, type KeyPair } from '../../../test/bed/handler-pki.ts';

const logger = createLogger({ component: 'virt-handler', level: 'silent' });
const BASE = '/v1/namespaces/default/virtualmachineinstances';

function makeVMI(name: string, uid: string): VirtualMachineInstance {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name, namespace: 'default', uid },
    spec: { domain: { devices: {} } },
    status: { phase: 'Running', nodeName: 'node01', activePods: { 'pod-1': 'node01' } },
  } as VirtualMachineInstance;
}

// --- the stand-in launcher --------------------------------------------------------------------------

interface LauncherCall {
  rpc: string;
  vmi?: unknown;
  unfreezeTimeoutSeconds?: number;
}

class FakeLauncher {
  readonly calls: LauncherCall[] = [];
  /** in-band failure message for every VMI command, when set */
  failWith: string | undefined;
  users = '[{"userName":"root","loginTime":1795426843.5}]';
  filesystems =
    '[{"diskName":"vda","mountPoint":"/mnt/data","fileSystemType":"ext4","usedBytes":15360,"totalBytes":7408640,"disk":[{"busType":"virtio"}]}]';
  guestInfo = JSON.stringify({
    guestAgentVersion: '7.2.22',
    supportedCommands: [{ name: 'guest-ping', enabled: true }, { name: 'guest-get-devices' }],
    hostname: 'testguest',
    os: { name: 'Debian <GNU/Linux>', id: 'debian' },
    timezone: 'UTC, 0',
    fsInfo: { disks: null },
  });
  screenshot = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);
  statsDelayMs = 0;
  statsInFlight = 0;
  statsMaxInFlight = 0;
  server: Server | undefined;

  impl(): CmdServerImpl {
    const vmiCommand = (rpc: string) => (request: { vmi: { vmiJson: Buffer } | null; unfreezeTimeoutSeconds?: number }) => {
      const call: LauncherCall = { rpc, vmi: request.vmi ? JSON.parse(request.vmi.vmiJson.toString('utf8')) : undefined };
      if (request.unfreezeTimeoutSeconds !== undefined) call.unfreezeTimeoutSeconds = request.unfreezeTimeoutSeconds;
      this.calls.push(call);
      return this.failWith === undefined ? { success: true, message: '' } : { success: false, message: this.failWith };
    };
    const ok = () => ({ success: true, message: '' });
    return {
      PauseVirtualMachine: vmiCommand('PauseVirtualMachine'),
      UnpauseVirtualMachine: vmiCommand('UnpauseVirtualMachine'),
      FreezeVirtualMachine: vmiCommand('FreezeVirtualMachine'),
      UnfreezeVirtualMachine: vmiCommand('UnfreezeVirtualMachine'),
      ResetVirtualMachine: vmiCommand('ResetVirtualMachine'),
      SoftRebootVirtualMachine: vmiCommand('SoftRebootVirtualMachine'),
      GetGuestInfo: () => ({ response: ok(), guestInfoResponse: this.guestInfo }),
      GetUsers: () => ({ response: ok(), guestUserListResponse: this.users }),
      GetFilesystems: () => ({ response: ok(), guestFilesystemsResponse: this.filesystems }),
      GetScreenshot: (request) => {
        this.calls.push({ rpc: 'GetScreenshot', vmi: request.vmi ? JSON.parse(request.vmi.vmiJson.toString('utf8')) : undefined });
        return this.failWith === undefined
          ? { response: ok(), mime: 'image/png', data: this.screenshot }
          : { response: { success: false, message: this.failWith }, mime: '', data: Buffer.alloc(0) };
      },
      GetDomainStats: async () => {
        this.statsInFlight++;
        this.statsMaxInFlight = Math.max(this.statsMaxInFlight, this.statsInFlight);
        await sleep(this.statsDelayMs);
        this.statsInFlight--;
        return {
          response: ok(),
          domainStats: JSON.stringify({
            Name: 'default_testvmi',
            Cpu: { TimeSet: true, Time: 2_500_000_000, UserSet: false, User: 0, SystemSet: false, System: 0 },
            Memory: {
              RSSSet: true,
              RSS: 1024,
              AvailableSet: true,
              Available: 4096,
              UsableSet: true,
              Usable: 1024,
              TotalSet: true,
              Total: 8192,
            },
            Vcpu: [{ StateSet: true, State: 1, TimeSet: true, Time: 1_000_000_000 }],
          }),
        };
      },
      Ping: ok,
    };
  }

  async start(socketPath: string): Promise<void> {
    this.server = createCmdServer(this.impl());
    await listenUnix(this.server, socketPath);
  }

  rpcs(): string[] {
    return this.calls.map((c) => c.rpc);
  }
}

// --- https / wss clients as virt-api ----------------------------------------------------------------

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface ClientOptions {
  cert?: KeyPair | undefined;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

let pki: HandlerPki;

function tlsClientOptions(cert: KeyPair | undefined): https.RequestOptions {
  return {
    ca: pki.ca.cert,
    ...(cert ? { cert: cert.cert, key: cert.key } : {}),
    // KubeVirt checks the handler's certificate by CA and CN, never by host name
    checkServerIdentity: () => undefined,
  };
}

function call(port: number, method: string, urlPath: string, opts: ClientOptions = {}): Promise<Reply> {
  const cert = 'cert' in opts ? opts.cert : pki.client;
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, method, path: urlPath, agent: false, headers: opts.headers, ...tlsClientOptions(cert) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

function openWS(port: number, urlPath: string, cert: KeyPair = pki.client): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // ws types checkServerIdentity as returning boolean; tls takes undefined as "identity fine"
    const ws = new WebSocket(`wss://127.0.0.1:${port}${urlPath}`, 'plain.kubevirt.io', tlsClientOptions(cert) as WebSocket.ClientOptions);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(chunks).toString() })),
      );
    });
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Collects binary frames until `length` bytes have arrived. */
function receive(ws: WebSocket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onMessage = (data: Buffer, isBinary: boolean) => {
      assert.ok(isBinary, 'the handler sends binary frames only');
      chunks.push(data);
      got += data.length;
      if (got >= length) {
        ws.off('message', onMessage);
        resolve(Buffer.concat(chunks));
      }
    };
    ws.on('message', onMessage);
    ws.once('close', () => reject(new Error(`closed after ${got} of ${length} bytes`)));
  });
}

/** A unix socket server standing in for QEMU's chardev socket; keeps its connections and bytes. */
class QemuSocket {
  readonly conns: net.Socket[] = [];
  received = Buffer.alloc(0);
  readonly server: net.Server;

  constructor() {
    this.server = net.createServer((conn) => {
      this.conns.push(conn);
      conn.on('data', (d: Buffer) => {
        this.received = Buffer.concat([this.received, d]);
      });
      conn.on('error', () => {});
    });
  }

  listen(socketPath: string): Promise<void> {
    mkdirSync(path.dirname(socketPath), { recursive: true });
    return new Promise((resolve) => this.server.listen(socketPath, resolve));
  }

  async waitFor(predicate: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (predicate()) return;
      await sleep(10);
    }
    assert.fail(`timed out waiting for ${what}`);
  }

  close(): void {
    for (const c of this.conns) c.destroy();
    this.server.close();
  }
}

// --- the bed --------------------------------------------------------------------------------------

const vmi = makeVMI('testvmi', 'uid-1');
const noSocketVMI = makeVMI('nosocket', 'uid-2');
const badSocketVMI = makeVMI('badsocket', 'uid-3');

describe('virt-handler console server', () => {
  let dir: string;
  let launcher: FakeLauncher;
  let serial: QemuSocket;
  let vncSocket: QemuSocket;
  let server: ConsoleServer;
  let port: number;
  let metrics: HandlerMetrics;
  const clients: CmdClient[] = [];
  const events: Array<{ name: string; type: string; reason: string; message: string }> = [];
  const touched = { store: 0, launcher: 0, socketPath: 0 };
  let launcherBroken: string | undefined;

  const root = () => path.join(dir, 'r');

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hrest-'));
    pki = await makeHandlerPki(path.join(dir, 'pki'));
    launcher = new FakeLauncher();
    const launcherSock = path.join(dir, 'launcher-sock');
    await launcher.start(launcherSock);
    serial = new QemuSocket();
    vncSocket = new QemuSocket();
    await serial.listen(path.join(root(), 'var/run/kubevirt-private/uid-1/virt-serial0'));
    await vncSocket.listen(path.join(root(), 'var/run/kubevirt-private/uid-1/virt-vnc'));
    // a file where the socket should be: found, but nothing answers the dial
    mkdirSync(path.join(root(), 'var/run/kubevirt-private/uid-3'), { recursive: true });
    writeFileSync(path.join(root(), 'var/run/kubevirt-private/uid-3/virt-serial0'), '');

    const store = new Map([vmi, noSocketVMI, badSocketVMI].map((v) => [`${v.metadata.namespace}/${v.metadata.name}`, v]));
    metrics = createHandlerMetrics({ nodeName: 'node01' });
    server = await startConsoleServer(
      {
        logger,
        vmiStore: {
          get: (namespace, name) => {
            touched.store++;
            return store.get(`${namespace}/${name}`);
          },
        },
        launcherClient: async () => {
          touched.launcher++;
          if (launcherBroken) throw new Error(launcherBroken);
          const c = await cmdClient(launcherSock);
          clients.push(c);
          return c;
        },
        launcherSocketPath: async (_vmi, inLauncher) => {
          touched.socketPath++;
          return path.join(root(), inLauncher);
        },
        recorder: { event: (v, type, reason, message) => events.push({ name: v.metadata.name, type, reason, message }) },
        metrics,
      },
      { host: '127.0.0.1', port: 0, tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert } },
    );
    port = server.port;
  });

  after(async () => {
    await server.close();
    for (const c of clients) c.close();
    if (launcher.server) await stopServer(launcher.server);
    serial.close();
    vncSocket.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('lifecycle', () => {
    test('pause → 202 with no body, a Normal Paused Event, and PauseVirtualMachine got the VMI JSON', async () => {
      launcher.calls.length = 0;
      events.length = 0;
      const r = await call(port, 'PUT', `${BASE}/testvmi/pause`);
      assert.equal(r.status, 202);
      assert.equal(r.body.length, 0);
      assert.deepEqual(launcher.calls, [{ rpc: 'PauseVirtualMachine', vmi }]);
      assert.deepEqual(events, [{ name: 'testvmi', type: 'Normal', reason: 'Paused', message: 'VirtualMachineInstance paused' }]);
    });

    test("unpause, reset and softreboot → 202, each its RPC and Event (the handler's part; effects: rest-real.test.ts)", async () => {
      launcher.calls.length = 0;
      events.length = 0;
      for (const sub of ['unpause', 'reset', 'softreboot']) {
        assert.equal((await call(port, 'PUT', `${BASE}/testvmi/${sub}`)).status, 202, sub);
      }
      assert.deepEqual(launcher.rpcs(), ['UnpauseVirtualMachine', 'ResetVirtualMachine', 'SoftRebootVirtualMachine']);
      assert.deepEqual(
        events.map((e) => [e.type, e.reason, e.message]),
        [
          ['Normal', 'Unpaused', 'VirtualMachineInstance unpaused'],
          ['Normal', 'Reset', 'VirtualMachineInstance reset'],
          ['Normal', 'SoftRebooted', 'VirtualMachineInstance soft rebooted'],
        ],
      );
    });

    test('freeze → 202 and the Go duration in seconds; unfreeze → 202', async () => {
      launcher.calls.length = 0;
      const r = await call(port, 'PUT', `${BASE}/testvmi/freeze`, {
        body: '{"unfreezeTimeout":"5m30.9s"}',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(r.status, 202);
      // virt-api's proxied body may come without a content type
      assert.equal((await call(port, 'PUT', `${BASE}/testvmi/freeze`, { body: '{"unfreezeTimeout":"2s"}' })).status, 202);
      assert.equal((await call(port, 'PUT', `${BASE}/testvmi/unfreeze`)).status, 202);
      assert.deepEqual(
        launcher.calls.map((c) => [c.rpc, c.unfreezeTimeoutSeconds]),
        [
          ['FreezeVirtualMachine', 330],
          ['FreezeVirtualMachine', 2],
          ['UnfreezeVirtualMachine', undefined],
        ],
      );
    });

    test('freeze without a timeout or with a bad one → 400 and no FreezeVirtualMachine', async () => {
      launcher.calls.length = 0;
      const none = await call(port, 'PUT', `${BASE}/testvmi/freeze`);
      assert.equal(none.status, 400);
      assert.equal(none.body.toString(), 'Unfreeze timeout in freeze request is not set');
      assert.match(String(none.headers['content-type']), /^text\/plain/);
      for (const body of ['{"unfreezeTimeout":"5 minutes"}', '{"unfreezeTimeout":300}', 'not json']) {
        const bad = await call(port, 'PUT', `${BASE}/testvmi/freeze`, { body, headers: { 'content-type': 'application/json' } });
        assert.equal(bad.status, 400, body);
        assert.equal(bad.body.toString(), 'failed to unmarshal unfreeze timeout', body);
      }
      assert.deepEqual(launcher.rpcs(), []);
    });

    test('launcher success:false → 500 with cmd-client wording; freeze and unfreeze → 400, freeze with a Warning Event', async () => {
      launcher.failWith = "virError(Code=55, Domain=10, Message='Requested operation is not valid: domain is not running')";
      events.length = 0;
      try {
        const pause = await call(port, 'PUT', `${BASE}/testvmi/pause`);
        assert.equal(pause.status, 500);
        assert.equal(pause.body.toString(), `server error. command Pause failed: ${JSON.stringify(launcher.failWith)}`);
        const freeze = await call(port, 'PUT', `${BASE}/testvmi/freeze`, {
          body: '{"unfreezeTimeout":"1m"}',
          headers: { 'content-type': 'application/json' },
        });
        assert.equal(freeze.status, 400);
        assert.equal(freeze.body.toString(), `server error. command Freeze failed: ${JSON.stringify(launcher.failWith)}`);
        assert.equal((await call(port, 'PUT', `${BASE}/testvmi/unfreeze`)).status, 400);
        const shot = await call(port, 'GET', `${BASE}/testvmi/vnc/screenshot`);
        assert.equal(shot.status, 500);
        assert.deepEqual(
          events.map((e) => [e.type, e.reason]),
          [['Warning', 'FreezeError']],
        );
      } finally {
        launcher.failWith = undefined;
      }
    });

    test('a launcher that cannot be reached → 500 with the lookup error', async () => {
      launcherBroken = 'No command socket found for vmi uid-1';
      try {
        const r = await call(port, 'PUT', `${BASE}/testvmi/pause`);
        assert.equal(r.status, 500);
        assert.equal(r.body.toString(), 'No command socket found for vmi uid-1');
      } finally {
        launcherBroken = undefined;
      }
    });
  });

  describe('guest agent and screenshot', () => {
    test('guestosinfo → 200 JSON in Go field order, one-space indent, os and fsInfo always present', async () => {
      const r = await call(port, 'GET', `${BASE}/testvmi/guestosinfo`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(
        r.body.toString(),
        [
          '{',
          ' "guestAgentVersion": "7.2.22",',
          ' "supportedCommands": [',
          '  {',
          '   "name": "guest-ping",',
          '   "enabled": true',
          '  },',
          '  {',
          '   "name": "guest-get-devices"',
          '  }',
          ' ],',
          ' "hostname": "testguest",',
          ' "os": {',
          '  "name": "Debian \\u003cGNU/Linux\\u003e",',
          '  "id": "debian"',
          ' },',
          ' "timezone": "UTC, 0",',
          ' "fsInfo": {',
          '  "disks": null',
          ' }',
          '}',
        ].join('\n'),
      );
    });

    test('userlist and filesystemlist wrap the launcher array as {metadata:{}, items}', async () => {
      const users = await call(port, 'GET', `${BASE}/testvmi/userlist`);
      assert.equal(users.status, 200);
      assert.equal(users.headers['content-type'], 'application/json');
      assert.equal(
        users.body.toString(),
        '{\n "metadata": {},\n "items": [\n  {\n   "userName": "root",\n   "loginTime": 1795426843.5\n  }\n ]\n}',
      );
      const fs = await call(port, 'GET', `${BASE}/testvmi/filesystemlist`);
      assert.equal(fs.status, 200);
      assert.deepEqual(JSON.parse(fs.body.toString()), {
        metadata: {},
        items: [
          {
            diskName: 'vda',
            mountPoint: '/mnt/data',
            fileSystemType: 'ext4',
            usedBytes: 15360,
            totalBytes: 7408640,
            disk: [{ busType: 'virtio' }],
          },
        ],
      });
    });

    test('a launcher answering null → "items": null', async () => {
      const saved = launcher.users;
      launcher.users = 'null';
      try {
        const r = await call(port, 'GET', `${BASE}/testvmi/userlist`);
        assert.equal(r.body.toString(), '{\n "metadata": {},\n "items": null\n}');
      } finally {
        launcher.users = saved;
      }
    });

    test("vnc/screenshot → 200, the launcher's mime type and bytes passed through unchanged (a real PNG: rest-real.test.ts)", async () => {
      launcher.calls.length = 0;
      const r = await call(port, 'GET', `${BASE}/testvmi/vnc/screenshot`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'image/png');
      assert.deepEqual(r.body, launcher.screenshot);
      assert.deepEqual(launcher.calls, [{ rpc: 'GetScreenshot', vmi }]);
    });
  });

  describe('requests refused', () => {
    test('unknown VMI → 404 "VMI <ns>/<name> does not exist", launcher untouched', async () => {
      const before = touched.launcher;
      for (const [method, sub] of [
        ['PUT', 'pause'],
        ['GET', 'guestosinfo'],
        ['GET', 'console'],
      ] as const) {
        const r = await call(port, method, `${BASE}/ghost/${sub}`);
        assert.equal(r.status, 404, sub);
        assert.equal(r.body.toString(), 'VMI default/ghost does not exist', sub);
        assert.match(String(r.headers['content-type']), /^text\/plain/);
      }
      assert.equal(touched.launcher, before);
    });

    test('bad names → 400 before the store, the launcher or the disk is touched', async () => {
      const before = { ...touched };
      const bad = [
        `${BASE}/../pause`,
        `${BASE}/a%2Fb/pause`,
        `${BASE}/..%2F..%2Fetc/console`,
        `${BASE}/${'a'.repeat(300)}/pause`,
        `${BASE}/TestVMI/pause`,
        `/v1/namespaces/Default/virtualmachineinstances/testvmi/pause`,
        `/v1/namespaces/${'n'.repeat(64)}/virtualmachineinstances/testvmi/guestosinfo`,
        `/v1/namespaces/a.b/virtualmachineinstances/testvmi/pause`,
      ];
      for (const url of bad) {
        const r = await call(port, url.endsWith('pause') ? 'PUT' : 'GET', url);
        assert.equal(r.status, 400, url);
        assert.match(r.body.toString(), /^invalid (name|namespace) /, url);
      }
      assert.deepEqual(touched, before);
    });

    test('an oversized body → 413', async () => {
      const r = await call(port, 'PUT', `${BASE}/testvmi/freeze`, {
        body: `{"unfreezeTimeout":"1m","pad":"${'x'.repeat(200 * 1024)}"}`,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(r.status, 413);
      assert.equal(r.body.toString(), 'http: request body too large');
    });

    test('an unknown route → 404', async () => {
      for (const [method, url] of [
        ['GET', '/'],
        ['GET', `${BASE}/testvmi/sev/nonesuch`],
        ['POST', `${BASE}/testvmi/pause`],
      ] as const) {
        const r = await call(port, method, url);
        assert.equal(r.status, 404, url);
        assert.equal(r.body.toString(), '404: Page Not Found');
      }
    });

    test('every answer is counted in the REST duration histogram by route and code', async () => {
      const text = await metrics.registry.getSingleMetricAsString('kubevirt_virt_handler_rest_request_duration_seconds');
      assert.match(
        text,
        /_count\{method="PUT",route="\/v1\/namespaces\/:namespace\/virtualmachineinstances\/:name\/pause",code="202"\} [1-9]/,
      );
      assert.match(
        text,
        /_count\{method="PUT",route="\/v1\/namespaces\/:namespace\/virtualmachineinstances\/:name\/pause",code="500"\} [1-9]/,
      );
    });
  });

  describe('console and VNC websockets', () => {
    test('console: binary bytes 0x00-0xff pass byte-exact both ways; text frames are ignored', async () => {
      const before = serial.conns.length;
      const ws = await openWS(port, `${BASE}/testvmi/console`);
      assert.equal(ws.protocol, 'plain.kubevirt.io');
      await serial.waitFor(() => serial.conns.length === before + 1, 'the console dial');
      serial.received = Buffer.alloc(0);

      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const upstream = Buffer.concat([all, all.reverse(), Buffer.from('\r\n')]);
      ws.send('text is ignored', { binary: false });
      ws.send(upstream.subarray(0, 100), { binary: true });
      ws.send(upstream.subarray(100), { binary: true });
      await serial.waitFor(() => serial.received.length >= upstream.length, 'console input');
      assert.deepEqual(serial.received, upstream);

      const downstream = Buffer.concat([Buffer.from('login: '), all, Buffer.alloc(70_000, 0xa5)]);
      const got = receive(ws, downstream.length);
      serial.conns.at(-1)!.write(downstream);
      assert.deepEqual(await got, downstream);

      const done = closed(ws);
      ws.close();
      await done;
    });

    test('a second console session closes the first with a reason; the second keeps streaming', async () => {
      const first = await openWS(port, `${BASE}/testvmi/console`);
      const firstClosed = closed(first);
      const second = await openWS(port, `${BASE}/testvmi/console`);
      const { code, reason } = await firstClosed;
      assert.equal(code, 1001);
      assert.match(reason, /new console session/);

      await serial.waitFor(() => serial.conns.filter((c) => !c.destroyed).length >= 1, 'the second dial');
      const got = receive(second, 5);
      serial.conns.at(-1)!.write('hello');
      assert.equal((await got).toString(), 'hello');
      const done = closed(second);
      second.close();
      await done;
    });

    test('VNC: preserveSession=true while a session is open → 503 before the upgrade; without it the old one is kicked', async () => {
      const first = await openWS(port, `${BASE}/testvmi/vnc`);
      await assert.rejects(openWS(port, `${BASE}/testvmi/vnc?preserveSession=true`), (err: Error & { status?: number; body?: string }) => {
        assert.equal(err.status, 503);
        assert.equal(err.body, 'Active VNC connection. Request denied.');
        return true;
      });
      assert.equal(first.readyState, WebSocket.OPEN, 'the preserved session stays');
      const firstClosed = closed(first);
      const second = await openWS(port, `${BASE}/testvmi/vnc?preserveSession=false`);
      assert.equal((await firstClosed).code, 1001);
      const done = closed(second);
      second.close();
      await done;
      // with no session left, preserveSession=true connects (once the handler has seen the close)
      let third: WebSocket | undefined;
      for (const deadline = Date.now() + 10_000; !third; ) {
        third = await openWS(port, `${BASE}/testvmi/vnc?preserveSession=true`).catch((err: Error & { status?: number }) => {
          if (err.status !== 503 || Date.now() > deadline) throw err;
          return undefined;
        });
      }
      const thirdDone = closed(third);
      third.close();
      await thirdDone;
    });

    test('websocket refusals happen before the upgrade: 404 unknown VMI, 400 missing socket', async () => {
      await assert.rejects(openWS(port, `${BASE}/ghost/console`), (err: Error & { status?: number; body?: string }) => {
        assert.equal(err.status, 404);
        assert.equal(err.body, 'VMI default/ghost does not exist');
        return true;
      });
      await assert.rejects(openWS(port, `${BASE}/nosocket/vnc`), (err: Error & { status?: number; body?: string }) => {
        assert.equal(err.status, 400);
        assert.match(err.body ?? '', /^stat .*virt-vnc: no such file or directory$/);
        return true;
      });
    });

    test('a socket that cannot be dialled → the upgraded websocket is closed with a reason', async () => {
      const ws = await openWS(port, `${BASE}/badsocket/console`);
      const { code, reason } = await closed(ws);
      assert.equal(code, 1011);
      assert.match(reason, /^unix socket virt-serial0: E[A-Z]+/);
    });

    test('backpressure: a flooding console is not read faster than the websocket client takes it', async () => {
      const before = serial.conns.length;
      const ws = await openWS(port, `${BASE}/testvmi/console`);
      await serial.waitFor(() => serial.conns.length === before + 1, 'the console dial');
      const qemu = serial.conns.at(-1)!;
      ws.pause();
      const flood = Buffer.alloc(48 << 20, 0x5a);
      qemu.write(flood);
      // until the handler stops reading: what it took no longer grows
      let last = -1;
      for (const deadline = Date.now() + 20_000; qemu.writableLength !== last; ) {
        assert.ok(Date.now() < deadline, 'the handler kept reading a paused stream for 20 s');
        last = qemu.writableLength;
        await sleep(200);
      }
      // what the handler read is bounded by its high-water mark plus the kernel's buffers
      assert.ok(qemu.writableLength > 24 << 20, `the handler read ${(flood.length - qemu.writableLength) >> 20} MiB of a paused stream`);
      let got = 0;
      const all = new Promise<void>((resolve) =>
        ws.on('message', (d: Buffer) => {
          got += d.length;
          if (got >= flood.length) resolve();
        }),
      );
      ws.resume();
      await all;
      assert.equal(got, flood.length);
      const done = closed(ws);
      ws.close();
      await done;
    });
  });

  describe("features the launcher answers UNIMPLEMENTED: KubeVirt's statuses", () => {
    const unimplemented = (rpc: string) => `rpc error: code = Unimplemented desc = method ${rpc} not implemented`;

    test('PUT backup → 400 with the launcher error and a Warning BackupError Event; a body that is not JSON → 400', async () => {
      events.length = 0;
      const r = await call(port, 'PUT', `${BASE}/testvmi/backup`, { body: '{"backupName":"b1","cmd":"Start"}' });
      assert.deepEqual([r.status, r.body.toString()], [400, unimplemented('BackupVirtualMachine')]);
      assert.deepEqual(events, [
        {
          name: 'testvmi',
          type: 'Warning',
          reason: 'BackupError',
          message: `Failed backing up VM: ${unimplemented('BackupVirtualMachine')}`,
        },
      ]);
      const bad = await call(port, 'PUT', `${BASE}/testvmi/backup`, { body: '{not json' });
      assert.equal(bad.status, 400);
    });

    test('PUT redefine-checkpoint → 503 (retry later) with the launcher error', async () => {
      const r = await call(port, 'PUT', `${BASE}/testvmi/redefine-checkpoint`, { body: '{"name":"cp1"}' });
      assert.deepEqual([r.status, r.body.toString()], [503, unimplemented('RedefineCheckpoint')]);
    });

    test('sev/fetchcertchain, sev/querylaunchmeasurement, sev/injectlaunchsecret → 500 with the launcher error', async () => {
      const cert = await call(port, 'GET', `${BASE}/testvmi/sev/fetchcertchain`);
      assert.deepEqual([cert.status, cert.body.toString()], [500, unimplemented('GetSEVInfo')]);
      const measure = await call(port, 'GET', `${BASE}/testvmi/sev/querylaunchmeasurement`);
      assert.deepEqual([measure.status, measure.body.toString()], [500, unimplemented('GetLaunchMeasurement')]);
      const inject = await call(port, 'PUT', `${BASE}/testvmi/sev/injectlaunchsecret`, { body: '{}' });
      assert.deepEqual([inject.status, inject.body.toString()], [500, unimplemented('InjectLaunchSecret')]);
    });

    test('GET vsock on a VMI without autoattachVSOCK → 400; unknown VMI → 404', async () => {
      const r = await call(port, 'GET', `${BASE}/testvmi/vsock?port=1234`);
      assert.deepEqual([r.status, r.body.toString()], [400, "VM doesn't have VSOCK enabled"]);
      assert.equal((await call(port, 'GET', `${BASE}/nonesuch/vsock?port=1`)).status, 404);
    });
  });

  describe('usbredir websocket', () => {
    const slots: QemuSocket[] = [];
    before(async () => {
      for (let slot = 0; slot < 4; slot++) {
        const s = new QemuSocket();
        await s.listen(path.join(root(), `var/run/kubevirt-private/uid-1/virt-usbredir-${slot}`));
        slots.push(s);
      }
    });
    after(() => {
      for (const s of slots) s.close();
    });

    test('each connection takes the first free slot (virt-usbredir-N); a fifth → 503; a closed slot is free again', async () => {
      const open: WebSocket[] = [];
      for (let slot = 0; slot < 4; slot++) {
        open.push(await openWS(port, `${BASE}/testvmi/usbredir`));
        await slots[slot]!.waitFor(() => slots[slot]!.conns.length === 1, `slot ${slot} dialled`);
      }
      await assert.rejects(openWS(port, `${BASE}/testvmi/usbredir`), (err: { status?: number }) => err.status === 503);
      // bytes both ways on slot 2
      open[2]!.send(Buffer.from('usbredir hello'), { binary: true });
      await slots[2]!.waitFor(() => slots[2]!.received.toString() === 'usbredir hello', 'upstream bytes');
      const got = receive(open[2]!, 5);
      slots[2]!.conns[0]!.write('reply');
      assert.equal((await got).toString(), 'reply');
      const done = closed(open[1]!);
      open[1]!.close();
      await done;
      await slots[1]!.waitFor(() => slots[1]!.conns[0]!.destroyed || slots[1]!.conns[0]!.readableEnded, 'slot 1 hung up');
      const again = await openWS(port, `${BASE}/testvmi/usbredir`);
      await slots[1]!.waitFor(() => slots[1]!.conns.length === 2, 'slot 1 dialled again');
      for (const ws of [...open, again]) ws.close();
    });

    test('a VMI whose launcher has no usbredir socket → 400', async () => {
      await assert.rejects(openWS(port, `${BASE}/nosocket/usbredir`), (err: { status?: number }) => err.status === 400);
    });
  });

  describe('TLS', () => {
    const refused = async (cert: KeyPair | undefined, what: string) => {
      const before = { ...touched };
      await assert.rejects(
        call(port, 'PUT', `${BASE}/testvmi/pause`, { cert }),
        (err: Error) => {
          assert.match(String((err as NodeJS.ErrnoException).code ?? err.message), /ECONNRESET|EPIPE|ERR_SSL|socket hang up|alert/i, what);
          return true;
        },
        what,
      );
      assert.deepEqual(touched, before, `${what}: nothing was served`);
    };

    test('no client certificate → refused', () => refused(undefined, 'no cert'));
    test('a self-signed client certificate → refused', () => refused(pki.selfSigned, 'self-signed'));
    test('an expired client certificate → refused', () => refused(pki.expired, 'expired'));
    test('a CA-signed certificate with another CommonName → refused', () => refused(pki.wrongCN, 'wrong CN'));
    test('a CA-signed certificate without clientAuth → refused', () => refused(pki.serverAuthOnly, 'serverAuth only'));

    test("virt-api's certificate → served", async () => {
      assert.equal((await call(port, 'GET', `${BASE}/testvmi/guestosinfo`)).status, 200);
    });

    test('updateTLS: a rotated CA bundle takes effect for new connections', async () => {
      const rotated = await makeHandlerPki(path.join(dir, 'pki-rotated'));
      const oldPKI = pki;
      try {
        // the new CA's client is unknown until the bundle holds the new CA
        await assert.rejects(call(port, 'GET', `${BASE}/testvmi/guestosinfo`, { cert: rotated.client }));
        server.updateTLS({ cert: pki.server.cert, key: pki.server.key, ca: oldPKI.ca.cert + rotated.ca.cert });
        assert.equal((await call(port, 'GET', `${BASE}/testvmi/guestosinfo`, { cert: rotated.client })).status, 200);
        assert.equal((await call(port, 'GET', `${BASE}/testvmi/guestosinfo`, { cert: oldPKI.client })).status, 200);
      } finally {
        server.updateTLS({ cert: oldPKI.server.cert, key: oldPKI.server.key, ca: oldPKI.ca.cert });
      }
    });

    test('externallyManaged: any CommonName the CA signed with clientAuth is accepted', async () => {
      server.updateTLS({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, externallyManaged: true });
      try {
        assert.equal((await call(port, 'GET', `${BASE}/testvmi/guestosinfo`, { cert: pki.wrongCN })).status, 200);
      } finally {
        server.updateTLS({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert });
      }
    });
  });
});

describe('virt-handler health server', () => {
  let dir: string;
  let launcher: FakeLauncher;
  let health: HealthServer;
  let ready = true;
  const clients: CmdClient[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hhealth-'));
    pki = await makeHandlerPki(path.join(dir, 'pki'));
    launcher = new FakeLauncher();
    launcher.statsDelayMs = 50;
    const sock = path.join(dir, 'launcher-sock');
    await launcher.start(sock);
    const metrics = createHandlerMetrics({ nodeName: 'node01' });
    metrics.observeReconcile(0.02);
    metrics.setQueueDepth(3);
    metrics.notifyEvents.inc({ event_type: 'MODIFIED' });
    const vmis = Array.from({ length: 6 }, (_, i) => makeVMI(`vmi-${i}`, `uid-${i}`));
    health = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
      registry: metrics.registry,
      ready: () => ready,
      collect: collectDomainStats({
        metrics,
        vmis: () => vmis,
        maxRequests: 2,
        launcherClient: async () => {
          const c = await cmdClient(sock);
          clients.push(c);
          return c;
        },
        logger,
      }),
      logger,
    });
  });

  after(async () => {
    await health.close();
    for (const c of clients) c.close();
    if (launcher.server) await stopServer(launcher.server);
    rmSync(dir, { recursive: true, force: true });
  });

  test('/healthz → 200 ok when ready, 500 when not; no client certificate needed', async () => {
    ready = true;
    const ok = await call(health.port, 'GET', '/healthz', { cert: undefined });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'ok');
    ready = false;
    assert.equal((await call(health.port, 'GET', '/healthz', { cert: undefined })).status, 500);
    ready = true;
  });

  test('a client certificate that is presented must verify', async () => {
    assert.equal((await call(health.port, 'GET', '/healthz', { cert: pki.client })).status, 200);
    await assert.rejects(call(health.port, 'GET', '/healthz', { cert: pki.selfSigned }));
  });

  test('/metrics → Prometheus text with the queue, notify and per-VMI domain stats, launchers asked at most 2 at a time', async () => {
    const r = await call(health.port, 'GET', '/metrics', { cert: undefined });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = r.body.toString();
    assert.match(text, /kubevirt_workqueue_depth\{name="virt-handler-vm"\} 3/);
    assert.match(text, /kubevirt_workqueue_work_duration_seconds_count\{name="virt-handler-vm"\} 1/);
    assert.match(text, /kubevirt_virt_handler_domain_notify_events_total\{event_type="MODIFIED"\} 1/);
    assert.match(text, /# TYPE kubevirt_vmi_vcpu_seconds_total counter/);
    assert.match(text, /kubevirt_vmi_vcpu_seconds_total\{node="node01",namespace="default",name="vmi-5",id="0",state="running"\} 1\n/);
    assert.match(text, /kubevirt_vmi_cpu_usage_seconds_total\{node="node01",namespace="default",name="vmi-0"\} 2.5\n/);
    assert.match(text, /kubevirt_vmi_memory_resident_bytes\{node="node01",namespace="default",name="vmi-3"\} 1048576\n/);
    assert.match(text, /kubevirt_vmi_memory_domain_bytes\{node="node01",namespace="default",name="vmi-3"\} 8388608\n/);
    assert.match(text, /kubevirt_vmi_memory_used_bytes\{node="node01",namespace="default",name="vmi-3"\} 3145728\n/);
    assert.equal(launcher.statsMaxInFlight, 2);

    // a second scrape replaces the readings instead of adding to the counters
    const again = (await call(health.port, 'GET', '/metrics', { cert: undefined })).body.toString();
    assert.match(again, /kubevirt_vmi_cpu_usage_seconds_total\{node="node01",namespace="default",name="vmi-0"\} 2.5\n/);
  });

  test('an unknown path → 404', async () => {
    assert.equal((await call(health.port, 'GET', '/nope', { cert: undefined })).status, 404);
  });
});
