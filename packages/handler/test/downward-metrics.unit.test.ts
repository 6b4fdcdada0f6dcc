// The downward metrics document and request rules, as KubeVirt's vhostmd API and virtio-serial server
// have them; the node's figures read from a /proc and /sys laid out in a temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createLogger } from '@kubevirt-ts/shared';
import { guestMetrics, hostMetrics, metricsXML } from '../src/downward-metrics/metrics.ts';
import { checkRequest, serveDownwardMetrics } from '../src/downward-metrics/server.ts';

test('metricsXML: xml.MarshalIndent of api.Metrics, unit after context, text escaped', () => {
  assert.equal(
    metricsXML([
      { type: 'string', context: 'host', name: 'HostName', value: 'node<1>' },
      { type: 'real64', context: 'vm', name: 'TotalCPUTime', value: '1.500000', unit: 's' },
    ]),
    [
      '<metrics>',
      '  <metric type="string" context="host">',
      '    <name>HostName</name>',
      '    <value>node&lt;1&gt;</value>',
      '  </metric>',
      '  <metric type="real64" context="vm" unit="s">',
      '    <name>TotalCPUTime</name>',
      '    <value>1.500000</value>',
      '  </metric>',
      '</metrics>',
    ].join('\n'),
  );
});

test("guestMetrics: the vCPUs' time summed in seconds, online vCPUs counted, the balloon's size in KiB", () => {
  const m = guestMetrics('node01', '7.2.22', {
    Name: 'default_v',
    Vcpu: [
      { StateSet: true, State: 1, Time: 1_500_000_000 },
      { StateSet: true, State: 0, Time: 500_000_000 },
    ],
    Memory: { ActualBalloonSet: true, ActualBalloon: 131072 },
  });
  assert.deepEqual(
    m.map((x) => [x.context, x.name, x.type, x.value, x.unit ?? '']),
    [
      ['host', 'HostName', 'string', 'node01', ''],
      ['host', 'HostSystemInfo', 'string', 'linux', ''],
      ['host', 'VirtualizationVendor', 'string', 'kubevirt.io', ''],
      ['host', 'VirtProductInfo', 'string', '7.2.22', ''],
      ['vm', 'TotalCPUTime', 'real64', '2.000000', 's'],
      ['vm', 'ResourceProcessorLimit', 'int64', '1', ''],
      ['vm', 'PhysicalMemoryAllocatedToVirtualSystem', 'uint64', '131072', 'KiB'],
      ['vm', 'ResourceMemoryLimit', 'uint64', '131072', 'KiB'],
    ],
  );
});

test('hostMetrics: packages, CPU time, memory, paging and time from /proc and /sys; what is missing is left out', (t) => {
  const root = mkdtempSync('/tmp/kvts-dmetrics-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const proc = path.join(root, 'proc');
  const sys = path.join(root, 'sys');
  mkdirSync(proc, { recursive: true });
  for (const [cpu, pkg] of [
    ['cpu0', '0'],
    ['cpu1', '0'],
    ['cpu2', '1'],
  ] as const) {
    mkdirSync(path.join(sys, 'devices/system/cpu', cpu, 'topology'), { recursive: true });
    writeFileSync(path.join(sys, 'devices/system/cpu', cpu, 'topology/physical_package_id'), `${pkg}\n`);
  }
  writeFileSync(path.join(proc, 'stat'), 'cpu  1000 200 300 9000 0 0 0 0 0 0\ncpu0 1 2 3 4\n');
  writeFileSync(
    path.join(proc, 'meminfo'),
    'MemTotal:       1000 kB\nMemFree:         400 kB\nBuffers:          50 kB\nCached:          100 kB\nSwapCached:       10 kB\nSwapTotal:       200 kB\nSwapFree:        150 kB\n',
  );
  writeFileSync(path.join(proc, 'vmstat'), 'pswpin 3\npswpout 5\n');
  const byName = (ms: ReturnType<typeof hostMetrics>) => Object.fromEntries(ms.map((m) => [m.name, m.value]));
  assert.deepEqual(byName(hostMetrics(proc, sys, 1_700_000_000_500)), {
    NumberOfPhysicalCPUs: '2',
    TotalCPUTime: '15.000000',
    FreePhysicalMemory: '400',
    FreeVirtualMemory: '550',
    MemoryAllocatedToVirtualServers: '450',
    UsedVirtualMemory: '640',
    PagedInMemory: '12',
    PagedOutMemory: '20',
    Time: '1700000000',
  });
  assert.deepEqual(Object.keys(byName(hostMetrics(path.join(root, 'none'), path.join(root, 'none'), 0))), ['Time']);
});

test('checkRequest: GET of /metrics/XML only, a query allowed; anything else refused with the reason', () => {
  assert.doesNotThrow(() => checkRequest('GET /metrics/XML'));
  assert.doesNotThrow(() => checkRequest('GET /metrics/XML?x=1'));
  assert.throws(() => checkRequest('GET'), /malformed request: "GET"/);
  assert.throws(() => checkRequest('PUT /metrics/XML'), /invalid method: "PUT"/);
  assert.throws(() => checkRequest('GET /metrics/JSON'), /invalid request: "\/metrics\/JSON"/);
  assert.throws(() => checkRequest('GET metrics'), /invalid URI for request/);
});

test("the server on QEMU's end of the channel: metrics for a request, at most one a second; a flood of bytes refused, serving on", async (t) => {
  const dir = mkdtempSync('/tmp/kvts-dm-sock-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = path.join(dir, 'downwardmetrics.sock');
  // the test plays QEMU: it listens, the handler's server dials in, and the test writes as the guest would
  const guest = await new Promise<net.Socket>((resolve) => {
    const server = net.createServer((c) => {
      server.close();
      resolve(c);
    });
    server.listen(socket);
    const controller = new AbortController();
    t.after(() => controller.abort());
    void serveDownwardMetrics(
      socket,
      async () => [{ type: 'string', context: 'host', name: 'HostName', value: 'n1' }],
      createLogger({ component: 'virt-handler', level: 'silent' }),
      controller.signal,
    );
  });
  t.after(() => guest.destroy());
  let received = '';
  guest.setEncoding('utf8');
  guest.on('data', (d: string) => {
    received += d;
  });
  const replies = async (count: number) => {
    const deadline = Date.now() + 10_000;
    while ((received.match(/\n\n/g) ?? []).length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return received.split('\n\n').slice(0, count);
  };
  const start = Date.now();
  guest.write('GET /metrics/XML\n\nGET /metrics/XML\n\n');
  const [first, second] = await replies(2);
  assert.match(first ?? '', /<name>HostName<\/name>\n {4}<value>n1<\/value>/);
  assert.equal(second, first);
  assert.ok(Date.now() - start >= 1000, 'the second answer waited for the rate limit');
  guest.write('x'.repeat(5000));
  assert.equal((await replies(3))[2], 'INVALID REQUEST');
  guest.write('GET /metrics/XML\n\n');
  assert.match((await replies(4))[3] ?? '', /<metrics>/, 'serving on after the flood');
});
