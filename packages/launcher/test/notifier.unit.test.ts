// The launcher's notify client against a real gRPC notify server on a unix socket, standing in for
// virt-handler (or the pipe it plants in the launcher's share dir).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNotifyServer, listenUnix, status, stopServer, type Server, type notifyv1 } from '@kubevirt-ts/proto';
import { createLogger, domainToJSON, k8sTime, newDomain, type Domain } from '@kubevirt-ts/shared';
import { Notifier, k8sEventJSON, type NotifierOptions, type NotifyResult } from '../src/notifier.ts';
import { captureLogs } from '../../../test/bed/log-capture.ts';

const VMI = { name: 'testvmi', namespace: 'default', uid: '11111111-2222-3333-4444-555555555555' };

interface Received {
  rpc: 'HandleDomainEvent' | 'HandleK8sEvent';
  eventType: string;
  json: string;
}

type Answer = notifyv1.Response | Error;

/** A notify server that records every request; `answer` may reject or fail some of them. */
class TestHandler {
  readonly received: Received[] = [];
  infoCalls = 0;
  readonly #server: Server;
  readonly socketPath: string;

  private constructor(server: Server, socketPath: string) {
    this.#server = server;
    this.socketPath = socketPath;
  }

  static async listen(socketPath: string, answer: (r: Received, n: number) => Answer = () => ({ success: true })): Promise<TestHandler> {
    let handler: TestHandler | undefined;
    const record = (r: Received): notifyv1.Response => {
      handler!.received.push(r);
      const a = answer(r, handler!.received.length);
      if (a instanceof Error) throw a;
      return a;
    };
    const server = createNotifyServer({
      Info: () => {
        handler!.infoCalls++;
        return { supportedNotifyVersions: [1] };
      },
      HandleDomainEvent: (req) => record({ rpc: 'HandleDomainEvent', eventType: req.eventType, json: req.domainJSON.toString() }),
      HandleK8sEvent: (req) => record({ rpc: 'HandleK8sEvent', eventType: '', json: req.eventJSON.toString() }),
    });
    handler = new TestHandler(server, socketPath);
    await listenUnix(server, socketPath);
    return handler;
  }

  /** The Status.Status of each domain event, with its type: `ADDED Running`. */
  domainStates(): string[] {
    return this.received
      .filter((r) => r.rpc === 'HandleDomainEvent')
      .map((r) => {
        const d = JSON.parse(r.json) as Domain;
        return `${r.eventType} ${d.Status.Status}${d.ObjectMeta.deletionTimestamp ? ' deleted' : ''}`;
      });
  }

  stop(): Promise<void> {
    return stopServer(this.#server, 200);
  }
}

function shareDir(t: TestContext): string {
  const dir = mkdtempSync('/tmp/kvt-notify-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const pipeSocket = (dir: string) => path.join(dir, 'domain-notify-pipe.sock');
const legacySocket = (dir: string) => path.join(dir, 'domain-notify.sock');

function newNotifier(t: TestContext, dir: string, opts: Partial<NotifierOptions> = {}): Notifier {
  const notifier = new Notifier({
    virtShareDir: dir,
    logger: createLogger({ component: 'virt-launcher', level: 'silent' }),
    // KubeVirt's pacing, scaled down so the tests run in seconds.
    retry: { intervalMs: 50, sendTimeoutMs: 1_000, totalMs: 500, maxIntervalMs: 200 },
    ...opts,
  });
  t.after(() => notifier.close());
  return notifier;
}

/** A notifier whose log is kept, and a wait until it has failed to reach the handler `n` times. */
function watchedNotifier(t: TestContext, dir: string) {
  const { lines, logger } = captureLogs({ component: 'virt-launcher' });
  const notifier = newNotifier(t, dir, { logger });
  const failedAttempts = async (n: number) => {
    const count = () => lines.filter((l) => l.msg === 'Failed to connect to notify server').length;
    for (const deadline = Date.now() + 10_000; count() < n; await sleep(20)) {
      assert.ok(Date.now() < deadline, `the notifier failed to connect ${n} times within 10 s (saw ${count()})`);
    }
  };
  return { notifier, failedAttempts };
}

function domain(state: string, reason = 'Unknown'): Domain {
  const d = newDomain(VMI);
  d.Spec.Name = `${VMI.namespace}_${VMI.name}`;
  d.Status.Status = state as Domain['Status']['Status'];
  d.Status.Reason = reason as Domain['Status']['Reason'];
  return d;
}

function deleted(): Domain {
  const d = domain('NoState', 'NonExistent');
  d.ObjectMeta.deletionTimestamp = k8sTime();
  return d;
}

test('events arrive in order, as KubeVirt marshals them: the Domain JSON, the event type, no statusJSON', async (t) => {
  const dir = shareDir(t);
  const handler = await TestHandler.listen(pipeSocket(dir));
  t.after(() => handler.stop());
  const notifier = newNotifier(t, dir);

  const sent = [domain('Shutoff', 'Unknown'), domain('Running', 'Booted'), domain('Paused', 'User')];
  assert.equal(await notifier.sendDomainEvent('ADDED', sent[0]!), 'delivered');
  assert.equal(await notifier.sendDomainEvent('MODIFIED', sent[1]!), 'delivered');
  assert.equal(await notifier.sendK8sEvent(VMI, 'Warning', 'IOerror', 'VM Paused due to IO error at the volume: disk0'), 'delivered');
  assert.equal(await notifier.sendDomainEvent('MODIFIED', sent[2]!), 'delivered');

  assert.deepEqual(
    handler.received.map((r) => `${r.rpc} ${r.eventType}`),
    ['HandleDomainEvent ADDED', 'HandleDomainEvent MODIFIED', 'HandleK8sEvent ', 'HandleDomainEvent MODIFIED'],
  );
  const domainJSONs = handler.received.filter((r) => r.rpc === 'HandleDomainEvent').map((r) => r.json);
  assert.deepEqual(
    domainJSONs,
    sent.map((d) => domainToJSON(d)),
  );
  const first = JSON.parse(domainJSONs[0]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(first), ['kind', 'apiVersion', 'ObjectMeta', 'Spec', 'Status']);
  assert.equal(first['kind'], 'Domain');
  assert.equal(first['apiVersion'], '1.2.2');
  assert.equal(handler.infoCalls, 1, 'one connection, negotiated once');
});

test('the k8s Event is a Go-marshalled core/v1 Event about the VMI, zero-valued keys included', () => {
  assert.equal(
    k8sEventJSON({ ...VMI, resourceVersion: '4711' }, 'Warning', 'IOerror', 'VM Paused due to IO error at the volume: disk0'),
    '{"metadata":{"creationTimestamp":null},' +
      '"involvedObject":{"kind":"VirtualMachineInstance","namespace":"default","name":"testvmi",' +
      '"uid":"11111111-2222-3333-4444-555555555555","apiVersion":"kubevirt.io/v1","resourceVersion":"4711"},' +
      '"reason":"IOerror","message":"VM Paused due to IO error at the volume: disk0","source":{},' +
      '"firstTimestamp":null,"lastTimestamp":null,"type":"Warning","eventTime":null,' +
      '"reportingComponent":"","reportingInstance":""}',
  );
  // omitempty: no resourceVersion, no message
  const event = JSON.parse(k8sEventJSON(VMI, 'Normal', 'GuestAgentPingFailed', '')) as Record<string, unknown>;
  assert.deepEqual(event['involvedObject'], {
    kind: 'VirtualMachineInstance',
    namespace: 'default',
    name: 'testvmi',
    uid: VMI.uid,
    apiVersion: 'kubevirt.io/v1',
  });
  assert.equal('message' in event, false);
  assert.equal(event['type'], 'Normal');
});

test('sendK8sEvent delivers that JSON to HandleK8sEvent', async (t) => {
  const dir = shareDir(t);
  const handler = await TestHandler.listen(pipeSocket(dir));
  t.after(() => handler.stop());
  const notifier = newNotifier(t, dir);
  assert.equal(await notifier.sendK8sEvent(VMI, 'Warning', 'GuestPanicked', 'GuestPanicked (details unavailable)'), 'delivered');
  assert.equal(handler.received[0]?.json, k8sEventJSON(VMI, 'Warning', 'GuestPanicked', 'GuestPanicked (details unavailable)'));
});

test('the version is negotiated (NotifyInfo.Info) again on every reconnect', async (t) => {
  const dir = shareDir(t);
  const first = await TestHandler.listen(pipeSocket(dir));
  const { notifier, failedAttempts } = watchedNotifier(t, dir);
  assert.equal(await notifier.sendDomainEvent('ADDED', domain('Running')), 'delivered');
  assert.equal(first.infoCalls, 1);
  await first.stop();

  // The handler is away while this is sent: the call fails, the connection is dropped and re-dialled.
  const pending = notifier.sendDomainEvent('MODIFIED', domain('Paused', 'User'));
  await failedAttempts(2);
  const second = await TestHandler.listen(pipeSocket(dir));
  t.after(() => second.stop());
  assert.equal(await pending, 'delivered');
  assert.equal(second.infoCalls, 1, 'the new connection negotiated before sending');
  assert.deepEqual(second.domainStates(), ['MODIFIED Paused']);

  assert.equal(await notifier.sendDomainEvent('MODIFIED', domain('Running', 'Unpaused')), 'delivered');
  assert.equal(second.infoCalls, 1, 'a live connection is reused');
});

test('handler away: queued MODIFIEDs collapse into the newest state; ADDED, k8s events and order are kept', async (t) => {
  const dir = shareDir(t);
  const { notifier, failedAttempts } = watchedNotifier(t, dir);

  const results: Array<Promise<NotifyResult>> = [
    notifier.sendDomainEvent('ADDED', domain('Shutoff')),
    notifier.sendDomainEvent('MODIFIED', domain('Running', 'Booted')),
    notifier.sendDomainEvent('MODIFIED', domain('Paused', 'User')),
    notifier.sendK8sEvent(VMI, 'Normal', 'Paused', 'VirtualMachineInstance paused'),
    notifier.sendDomainEvent('MODIFIED', domain('Running', 'Unpaused')),
  ];
  assert.equal(notifier.pending, 3);
  await failedAttempts(2);

  const handler = await TestHandler.listen(pipeSocket(dir));
  t.after(() => handler.stop());
  assert.deepEqual(await Promise.all(results), ['delivered', 'superseded', 'superseded', 'delivered', 'delivered']);
  assert.deepEqual(
    handler.received.map((r) => r.rpc),
    ['HandleDomainEvent', 'HandleK8sEvent', 'HandleDomainEvent'],
  );
  assert.deepEqual(handler.domainStates(), ['ADDED Shutoff', 'MODIFIED Running']);
});

test('the final deletion is never coalesced away, and replaces a queued MODIFIED', async (t) => {
  const dir = shareDir(t);
  const { notifier, failedAttempts } = watchedNotifier(t, dir);
  const results = [
    notifier.sendDomainEvent('ADDED', domain('Running')),
    notifier.sendDomainEvent('MODIFIED', domain('Running')),
    notifier.sendDomainEvent('MODIFIED', deleted()),
    notifier.sendDomainEvent('MODIFIED', domain('Shutoff', 'Destroyed')),
  ];
  await failedAttempts(1);
  const handler = await TestHandler.listen(pipeSocket(dir));
  t.after(() => handler.stop());
  assert.deepEqual(await Promise.all(results), ['delivered', 'superseded', 'delivered', 'delivered']);
  assert.deepEqual(handler.domainStates(), ['ADDED Running', 'MODIFIED NoState deleted', 'MODIFIED Shutoff']);
});

test('a handler gone for longer than KubeVirt retries (20 s) still gets the latest state: 30 s, default pacing', {
  timeout: 90_000,
}, async (t) => {
  const dir = shareDir(t);
  const { lines, logger } = captureLogs({ component: 'virt-launcher' });
  const notifier = new Notifier({ virtShareDir: dir, logger });
  t.after(() => notifier.close());
  const first = await TestHandler.listen(pipeSocket(dir));
  assert.equal(await notifier.sendDomainEvent('ADDED', domain('Running', 'Booted')), 'delivered');
  await first.stop();
  rmSync(pipeSocket(dir), { force: true });

  const goneAt = Date.now();
  const states: Array<[string, string]> = [
    ['Paused', 'User'],
    ['Running', 'Unpaused'],
    ['Paused', 'IOError'],
  ];
  const results: Array<Promise<NotifyResult>> = [];
  for (const [s, r] of states) {
    results.push(notifier.sendDomainEvent('MODIFIED', domain(s, r)));
    await sleep(5_000);
  }
  await sleep(Math.max(0, 30_000 - (Date.now() - goneAt)));

  const back = await TestHandler.listen(pipeSocket(dir));
  t.after(() => back.stop());
  const backAt = Date.now();
  assert.equal(await notifier.flush(15_000), true);
  // how soon after the handler is back is a figure (the retry interval is capped at 5 s), not a pass mark
  t.diagnostic(`latest state delivered ${Date.now() - backAt} ms after the handler came back`);
  assert.ok(
    lines.some((l) => /retrying every 5 s at most/.test(l.msg)),
    'the notifier went over to its capped retry interval',
  );
  assert.deepEqual(await Promise.all(results), ['superseded', 'superseded', 'delivered']);
  assert.deepEqual(back.domainStates(), ['MODIFIED Paused']);
  assert.equal((JSON.parse(back.received[0]!.json) as Domain).Status.Reason, 'IOError');
});

test('an answer success=false with a message is a failure: retried until accepted', async (t) => {
  const dir = shareDir(t);
  const handler = await TestHandler.listen(pipeSocket(dir), (_r, n) =>
    n <= 2 ? { success: false, message: 'VMI not found' } : { success: true },
  );
  t.after(() => handler.stop());
  const notifier = newNotifier(t, dir);
  assert.equal(await notifier.sendK8sEvent(VMI, 'Warning', 'IOerror', 'disk0'), 'delivered');
  assert.equal(handler.received.length, 3);
});

test('a rejection that outlasts the retry budget drops that event; the next one still goes', async (t) => {
  const dir = shareDir(t);
  const handler = await TestHandler.listen(pipeSocket(dir), (r) =>
    r.rpc === 'HandleK8sEvent' ? { success: false, message: 'VMI not found' } : { success: true },
  );
  t.after(() => handler.stop());
  const notifier = newNotifier(t, dir);
  const started = Date.now();
  const k8s = notifier.sendK8sEvent(VMI, 'Warning', 'IOerror', 'disk0');
  const modified = notifier.sendDomainEvent('MODIFIED', domain('Running'));
  assert.equal(await k8s, 'failed');
  assert.ok(Date.now() - started >= 500, 'retried for the whole budget');
  assert.equal(await modified, 'delivered');
  assert.ok(handler.received.filter((r) => r.rpc === 'HandleK8sEvent').length > 1);
});

test('success=false with an empty message counts as success (old servers always set a message)', async (t) => {
  const dir = shareDir(t);
  const handler = await TestHandler.listen(pipeSocket(dir), () => ({ success: false, message: '' }));
  t.after(() => handler.stop());
  const notifier = newNotifier(t, dir);
  assert.equal(await notifier.sendDomainEvent('MODIFIED', domain('Running')), 'delivered');
  assert.equal(handler.received.length, 1);
});

test('a non-retryable gRPC code fails the event at once, as in KubeVirt; later events still go', async (t) => {
  const dir = shareDir(t);
  const handler = await TestHandler.listen(pipeSocket(dir), (r) =>
    r.eventType === 'ADDED' ? Object.assign(new Error('bad request'), { code: status.INVALID_ARGUMENT }) : { success: true },
  );
  t.after(() => handler.stop());
  const notifier = newNotifier(t, dir);
  assert.equal(await notifier.sendDomainEvent('ADDED', domain('Running')), 'failed');
  assert.equal(handler.received.length, 1, 'not retried');
  assert.equal(await notifier.sendDomainEvent('MODIFIED', domain('Running')), 'delivered');
});

test('UNAVAILABLE from the handler is transient: reconnect, negotiate, retry', async (t) => {
  const dir = shareDir(t);
  const handler = await TestHandler.listen(pipeSocket(dir), (_r, n) =>
    n === 1 ? Object.assign(new Error('shutting down'), { code: status.UNAVAILABLE }) : { success: true },
  );
  t.after(() => handler.stop());
  const notifier = newNotifier(t, dir);
  assert.equal(await notifier.sendDomainEvent('MODIFIED', domain('Running')), 'delivered');
  assert.equal(handler.received.length, 2);
  assert.equal(handler.infoCalls, 2);
});

test('socket choice: the pipe socket when it is the only one', async (t) => {
  const dir = shareDir(t);
  const pipe = await TestHandler.listen(pipeSocket(dir));
  t.after(() => pipe.stop());
  assert.equal(await newNotifier(t, dir).sendDomainEvent('MODIFIED', domain('Running')), 'delivered');
  assert.equal(pipe.received.length, 1);
});

test('socket choice: the legacy domain-notify.sock when there is no pipe', async (t) => {
  const dir = shareDir(t);
  const legacy = await TestHandler.listen(legacySocket(dir));
  t.after(() => legacy.stop());
  assert.equal(await newNotifier(t, dir).sendDomainEvent('MODIFIED', domain('Running')), 'delivered');
  assert.equal(legacy.received.length, 1);
});

test('socket choice: KubeVirt prefers the legacy socket whenever it exists (a hostPath-shared VMI)', async (t) => {
  const dir = shareDir(t);
  const pipe = await TestHandler.listen(pipeSocket(dir));
  const legacy = await TestHandler.listen(legacySocket(dir));
  t.after(() => Promise.all([pipe.stop(), legacy.stop()]));
  assert.equal(await newNotifier(t, dir).sendDomainEvent('MODIFIED', domain('Running')), 'delivered');
  assert.deepEqual([pipe.received.length, legacy.received.length], [0, 1]);
});

test('the queue is bounded: on overflow the oldest k8s event goes first, and the drop is logged', async (t) => {
  const dir = shareDir(t);
  const logs = captureLogs({ component: 'virt-launcher', level: 'info' });
  const notifier = newNotifier(t, dir, { maxQueueLength: 3, logger: logs.logger });
  const results = [
    notifier.sendDomainEvent('ADDED', domain('Shutoff')),
    notifier.sendK8sEvent(VMI, 'Warning', 'IOerror', 'first'),
    notifier.sendK8sEvent(VMI, 'Warning', 'IOerror', 'second'),
    notifier.sendDomainEvent('MODIFIED', domain('Running')),
  ];
  assert.equal(notifier.pending, 3);
  assert.equal(await results[1], 'dropped');
  assert.ok(logs.lines.some((l) => l.level === 'warning' && /notify queue full \(3\): dropping Warning k8s event IOerror/.test(l.msg)));

  const handler = await TestHandler.listen(pipeSocket(dir));
  t.after(() => handler.stop());
  assert.deepEqual(await Promise.all([results[0], results[2], results[3]]), ['delivered', 'delivered', 'delivered']);
  assert.deepEqual(
    handler.received.map((r) => (r.rpc === 'HandleK8sEvent' ? (JSON.parse(r.json) as { message: string }).message : r.eventType)),
    ['ADDED', 'second', 'MODIFIED'],
  );
});

test('flush() waits for the queue to drain; close() resolves what is still queued as "closed"', async (t) => {
  const dir = shareDir(t);
  const notifier = newNotifier(t, dir);
  const pending = notifier.sendDomainEvent('MODIFIED', domain('Running'));
  assert.equal(await notifier.flush(200), false, 'nobody is listening yet');
  const flushed = notifier.flush();
  notifier.close();
  assert.equal(await pending, 'closed');
  assert.equal(await flushed, false);
  assert.equal(await notifier.sendDomainEvent('MODIFIED', domain('Running')), 'closed');
});

test('flush() resolves true once everything queued is delivered', async (t) => {
  const dir = shareDir(t);
  const { notifier, failedAttempts } = watchedNotifier(t, dir);
  void notifier.sendDomainEvent('ADDED', domain('Running'));
  void notifier.sendDomainEvent('MODIFIED', domain('Running'));
  const flushed = notifier.flush(5_000);
  await failedAttempts(1);
  const handler = await TestHandler.listen(pipeSocket(dir));
  t.after(() => handler.stop());
  assert.equal(await flushed, true);
  assert.equal(notifier.pending, 0);
  assert.deepEqual(handler.domainStates(), ['ADDED Running', 'MODIFIED Running']);
});
