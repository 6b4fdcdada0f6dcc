// The metrics port's /start-profiler, /stop-profiler and /dump-profiler: refused without
// developerConfiguration.clusterProfiler, and with it a V8 CPU profile of the handler process that Chrome
// DevTools opens (.cpuprofile: nodes, samples, timeDeltas, startTime, endTime).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import { createLogger } from '@kubevirt-ts/shared';
import { startHealthServer, type HealthServer } from '../src/rest/health-server.ts';
import { ProfileManager } from '../src/profiler.ts';
import { makeHandlerPki, type HandlerPki } from '../../../test/bed/handler-pki.ts';

let dir: string;
let pki: HandlerPki;
let server: HealthServer;
let enabled = false;
const profiler = new ProfileManager({ enabled: () => enabled });

function get(urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(
        { host: '127.0.0.1', port: server.port, path: urlPath, ca: pki.ca.cert, checkServerIdentity: () => undefined, agent: false },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      )
      .on('error', reject);
  });
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'hprof-'));
  pki = await makeHandlerPki(path.join(dir, 'pki'));
  server = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
    registry: new Registry(),
    ready: () => true,
    profiler,
    logger: createLogger({ component: 'virt-handler', level: 'silent' }),
  });
});

after(async () => {
  await server.close();
  await profiler.close();
  rmSync(dir, { recursive: true, force: true });
});

test("without clusterProfiler: 403 with KubeVirt's texts", async () => {
  assert.deepEqual(await get('/start-profiler'), {
    status: 403,
    body: 'Unable to start profiler. "ClusterProfiler" feature gate must be enabled',
  });
  assert.deepEqual(await get('/stop-profiler'), {
    status: 403,
    body: 'Unable to stop profiler. "ClusterProfiler" feature gate must be enabled',
  });
  assert.deepEqual(await get('/dump-profiler'), {
    status: 403,
    body: 'Unable to retrieve profiler data. "ClusterProfiler" feature gate must be enabled',
  });
});

test('start, work, stop, dump: a .cpuprofile of this process in pprofData', async () => {
  enabled = true;
  assert.deepEqual(await get('/dump-profiler'), { status: 200, body: '{}' }, 'nothing profiled yet');
  assert.equal((await get('/start-profiler')).status, 200);
  // something for the sampler to see
  let x = 0;
  const until = Date.now() + 200;
  while (Date.now() < until) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  assert.equal((await get('/stop-profiler')).status, 200);
  const dump = await get('/dump-profiler');
  assert.equal(dump.status, 200);
  const result = JSON.parse(dump.body) as { pprofData: Record<string, string> };
  assert.deepEqual(Object.keys(result.pprofData), ['cpu.cpuprofile']);
  const profile = JSON.parse(Buffer.from(result.pprofData['cpu.cpuprofile']!, 'base64').toString('utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string } }>;
    samples: number[];
    timeDeltas: number[];
    startTime: number;
    endTime: number;
  };
  assert.ok(profile.nodes.length > 1 && profile.samples.length > 10, 'sampled');
  assert.equal(profile.samples.length, profile.timeDeltas.length);
  assert.ok(profile.endTime - profile.startTime >= 200_000, 'at least the 200 ms of work (µs)');
  assert.ok(profile.nodes.some((n) => n.callFrame.functionName === '(root)'));
  // a new start drops the old result
  assert.equal((await get('/start-profiler')).status, 200);
  assert.deepEqual(await get('/dump-profiler'), { status: 200, body: '{}' });
  assert.equal((await get('/stop-profiler')).status, 200);
});
