// Bad input on the wire: random and mutated messages on every Cmd RPC of a real virt-launcher (in a pod
// sandbox, no VM) and on virt-handler's notify server (a real DomainWatcher on a unix socket). Every
// reply must be a proper gRPC status or a well-formed answer, bad input answered in-band with
// success=false and a message (KubeVirt's convention), and both daemons must keep serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readlinkSync, readFileSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import {
  CMD_INFO_METHODS,
  CMD_METHODS,
  NOTIFY_INFO_METHODS,
  NOTIFY_METHODS,
  cmdClient,
  notifyClient,
  status,
  type CmdMethod,
} from '@kubevirt-ts/proto';
import { createLogger, domainToJSON, newDomain, parseDomain, parseVMI } from '@kubevirt-ts/shared';
import { startDomainWatcher, type RunningWatcher } from '../bed/domain-watcher.ts';
import { createPodSandbox, processesInNamespace, type PodSandbox } from '../bed/pod-sandbox.ts';
import { startLauncher, testVMI, type RunningLauncher, stopLauncherTest } from '../bed/launcher.ts';
import { NotifyRecorder } from '../bed/notify-recorder.ts';
import { RawGrpcClient, decodeFields, embeddedResponse, pb, type RawReply } from './raw-grpc.ts';

// --- a seeded generator, so a failing input can be replayed with FUZZ_SEED ------------------------

/**
 * FUZZ_SEED picks the inputs; CI fixes it (.ci/run), so two green runs test the same inputs and a red
 * one can be replayed. Only a run outside CI with none set takes one from the clock.
 */
function fuzzSeed(env: NodeJS.ProcessEnv): number {
  const given = env.FUZZ_SEED;
  if (given === undefined || given === '') {
    if (env.CI) throw new Error('FUZZ_SEED is not set: CI runs must fix the fuzz seed (.ci/run exports one)');
    return Date.now() % 2 ** 31;
  }
  if (!/^\d{1,10}$/.test(given) || Number(given) >= 2 ** 32)
    throw new Error(`FUZZ_SEED must be an integer in [0, 2^32): ${JSON.stringify(given)}`);
  return Number(given);
}
const SEED = fuzzSeed(process.env);
// printed before any input is sent: a run that dies midway still says how to replay it
process.stderr.write(`fuzz: seed ${SEED} (replay with FUZZ_SEED=${SEED})\n`);
let state = SEED || 1;
/** mulberry32 */
function rand(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const bytes = (max: number) => {
  const b = Buffer.alloc(int(max + 1));
  for (let i = 0; i < b.length; i++) b[i] = int(256);
  return b;
};

const MiB = 1024 * 1024;
const GRPC_MAX = 4 * MiB;

// No '/' anywhere: a mutated VMI the launcher accepts turns names into paths inside the pod.
const STRINGS = ['', 'ü', '名前', '🚀🔥', '\u0000', '\ud800', 'a\u202eb', '\ufeff', ' ', '..', 'x'.repeat(300), 'null', '0', 'true', '{}'];
const NUMBERS = [0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 2 ** 64, -(2 ** 31), 4294967296];

function deepJSON(depth: number, open = '[', close = ']'): string {
  return open.repeat(depth) + close.repeat(depth);
}

// --- JSON mutations --------------------------------------------------------------------------------

type JSONValue = null | boolean | number | string | JSONValue[] | { [k: string]: JSONValue };
type Slot = { parent: Record<string, JSONValue> | JSONValue[]; key: string | number };

function slots(root: JSONValue, out: Slot[] = [], depth = 0): Slot[] {
  if (depth > 12 || root === null || typeof root !== 'object') return out;
  for (const [k, v] of Object.entries(root)) {
    out.push({ parent: root, key: Array.isArray(root) ? Number(k) : k });
    slots(v, out, depth + 1);
  }
  return out;
}

function flip(v: JSONValue): JSONValue {
  if (typeof v === 'string') return pick([Number(v.length), true, [v], { v }]);
  if (typeof v === 'number') return pick([String(v), !v, [v]]);
  if (typeof v === 'boolean') return pick([String(v), Number(v)]);
  if (Array.isArray(v)) return pick([{ ...v }, v.length, 'array']);
  if (v && typeof v === 'object') return pick([Object.values(v), 'object', 0]);
  return pick(['null', 0, false, {}]);
}

/** One to three of: drop a key, null it, flip its type, unicode, odd numbers, nesting, long strings. */
function mutate(doc: JSONValue): JSONValue {
  const root = structuredClone(doc);
  for (let n = 1 + int(3); n > 0; n--) {
    const all = slots(root);
    if (all.length === 0) return root;
    const { parent, key } = pick(all);
    const set = (v: JSONValue) => ((parent as Record<string | number, JSONValue>)[key] = v);
    const cur = (parent as Record<string | number, JSONValue>)[key]!;
    switch (int(9)) {
      case 0:
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        break;
      case 1:
        set(null);
        break;
      case 2:
        set(flip(cur));
        break;
      case 3:
        set(pick(STRINGS));
        break;
      case 4:
        set(pick(NUMBERS));
        break;
      case 5:
        set(JSON.parse(deepJSON(1 + int(200))) as JSONValue);
        break;
      case 6:
        set(typeof cur === 'string' ? cur + pick(STRINGS) : pick(STRINGS));
        break;
      case 7:
        set(pick<JSONValue>([[], {}, [null], { '': null }]));
        break;
      default:
        if (!Array.isArray(parent)) parent[pick(STRINGS) || 'extra'] = pick([1, 'x', null, [], {}]);
    }
  }
  return root;
}

/** Invalid JSON text: truncated, a byte flipped, a stray character, or unbalanced nesting. */
function breakJSON(text: string): string {
  switch (int(4)) {
    case 0:
      return text.slice(0, int(text.length));
    case 1: {
      const i = int(text.length);
      return text.slice(0, i) + String.fromCharCode(int(128)) + text.slice(i + 1);
    }
    case 2:
      return `${text}${pick(['}', ',', ']', 'x', '"'])}`;
    default:
      return deepJSON(1 + int(5000), '{"a":', '');
  }
}

// --- what we send ------------------------------------------------------------------------------------

const uid = randomUUID();
const NAME = 'fuzzvmi';
/** The launcher defines but never starts a domain for a VMI already Running: no VM boots. */
const baseVMI = { ...testVMI({ name: NAME, uid }), status: { phase: 'Running' } } as unknown as JSONValue;

interface Probe {
  body: Buffer;
  /** Known to be rejected in-band: a VMI or Domain the daemon cannot accept. */
  bad?: boolean;
  /** Over gRPC's 4 MiB limit: must be refused with RESOURCE_EXHAUSTED. */
  oversize?: boolean;
}

/**
 * A VMI JSON the launcher may act on is pinned to our VMI's namespace and Running phase (a domain may be
 * defined, never started) and to its name, except for DeleteVirtualMachine: a well-formed deletion of
 * our domain ends the launcher by design (the VM is gone), so it names another VMI.
 */
function vmiJSON(name = NAME): { json: Buffer; bad: boolean } {
  const pinned = { name, namespace: 'default', uid };
  const kind = int(10);
  let text: string;
  if (kind < 5) {
    const m = mutate(baseVMI) as Record<string, JSONValue>;
    let ok = true;
    try {
      // as the launcher will see it: JSON.stringify drops undefined and makes NaN null
      parseVMI(JSON.stringify(m));
    } catch {
      ok = false;
    }
    if (ok) {
      m.metadata = { ...(m.metadata as object), ...pinned };
      m.status = { ...(m.status as object), phase: 'Running' };
    }
    text = JSON.stringify(m);
  } else if (kind < 7) text = breakJSON(JSON.stringify(baseVMI));
  else if (kind < 8) text = JSON.stringify(pick([null, 42, 'vmi', [], true, {}, { metadata: null }, { spec: {} }]));
  else if (kind < 9) return { json: bytes(300), bad: true };
  else {
    // deeper than JSON.stringify can go, under a key nobody models: the VMI itself is acceptable
    const depth = 5_000 + int(20_000);
    const [open, close] = pick([
      ['[', ']'],
      ['{"a":', '}'],
    ] as const);
    const vmi = { ...(baseVMI as object), metadata: { ...(baseVMI as { metadata: object }).metadata, ...pinned } };
    text = `${JSON.stringify(vmi).slice(0, -1)},"deep":${open.repeat(depth)}1${close.repeat(depth)}}`;
  }
  let vmi: ReturnType<typeof parseVMI>;
  try {
    vmi = parseVMI(text);
  } catch {
    return { json: Buffer.from(text), bad: true };
  }
  // a broken or mutated text that still parses (a character of "Running" changed, say) could start or
  // delete our domain: draw again
  if (vmi.metadata.name !== name || vmi.metadata.namespace !== 'default' || vmi.status?.phase !== 'Running') return vmiJSON(name);
  return { json: Buffer.from(text), bad: false };
}

function hugeVMI(size: number): Buffer {
  const vmi = structuredClone(baseVMI) as { metadata: { annotations: Record<string, string> } };
  vmi.metadata.annotations.big = 'ü'.repeat(size / 2);
  return Buffer.from(JSON.stringify(vmi));
}

/** Request layouts of the Cmd RPCs (cmd.proto): what follows the VMI, and whether the reply wraps a Response. */
type Layout = 'vmi' | 'freeze' | 'dump' | 'vmi+json' | 'empty' | 'exec' | 'guestping' | 'vmstats';
const CMD_LAYOUT: Record<CmdMethod, { req: Layout; wrapped: boolean }> = {
  SyncVirtualMachine: { req: 'vmi', wrapped: false },
  PauseVirtualMachine: { req: 'vmi', wrapped: false },
  UnpauseVirtualMachine: { req: 'vmi', wrapped: false },
  FreezeVirtualMachine: { req: 'freeze', wrapped: false },
  UnfreezeVirtualMachine: { req: 'vmi', wrapped: false },
  ResetVirtualMachine: { req: 'vmi', wrapped: false },
  SoftRebootVirtualMachine: { req: 'vmi', wrapped: false },
  ShutdownVirtualMachine: { req: 'vmi', wrapped: false },
  KillVirtualMachine: { req: 'vmi', wrapped: false },
  DeleteVirtualMachine: { req: 'vmi', wrapped: false },
  MigrateVirtualMachine: { req: 'vmi+json', wrapped: false },
  SyncMigrationTarget: { req: 'vmi', wrapped: false },
  CancelVirtualMachineMigration: { req: 'vmi', wrapped: false },
  SignalTargetPodCleanup: { req: 'vmi', wrapped: false },
  FinalizeVirtualMachineMigration: { req: 'vmi', wrapped: false },
  HotplugHostDevices: { req: 'vmi', wrapped: false },
  GetDomain: { req: 'empty', wrapped: true },
  GetDomainStats: { req: 'empty', wrapped: true },
  GetGuestInfo: { req: 'empty', wrapped: true },
  GetUsers: { req: 'empty', wrapped: true },
  GetFilesystems: { req: 'empty', wrapped: true },
  Ping: { req: 'empty', wrapped: false },
  Exec: { req: 'exec', wrapped: true },
  GuestPing: { req: 'guestping', wrapped: true },
  VirtualMachineMemoryDump: { req: 'dump', wrapped: false },
  GetQemuVersion: { req: 'empty', wrapped: true },
  SyncVirtualMachineCPUs: { req: 'vmi', wrapped: false },
  SyncVirtualMachineMemory: { req: 'vmi', wrapped: false },
  GetSEVInfo: { req: 'empty', wrapped: true },
  GetLaunchMeasurement: { req: 'vmi', wrapped: true },
  InjectLaunchSecret: { req: 'vmi+json', wrapped: false },
  GetDomainDirtyRateStats: { req: 'empty', wrapped: true },
  GetScreenshot: { req: 'vmi', wrapped: true },
  BackupVirtualMachine: { req: 'vmi+json', wrapped: false },
  RedefineCheckpoint: { req: 'vmi+json', wrapped: true },
  GetVMStats: { req: 'vmstats', wrapped: true },
};

function vmiField(json: Buffer): Buffer {
  return pb.bytes(1, pb.bytes(1, json));
}

/** VirtualMachineOptions with junk in it: wrong types, unknown fields, odd maps. */
function junkOptions(): Buffer {
  return pb.bytes(
    2,
    pick([
      () => bytes(64),
      () => pb.msg(pb.varint(2, BigInt(-1)), pb.bytes(3, pick(STRINGS)), pb.varint(6, 7)),
      () => pb.msg(pb.bytes(5, pb.msg(pb.bytes(1, pick(STRINGS)), pb.bytes(2, pb.varint(1, 3)))), pb.fixed64(2, 1n)),
      () => pb.msg(pb.bytes(4, pb.bytes(1, pb.bytes(3, pb.varint(1, 2n ** 63n)))), pb.bytes(10, '[{"name":')),
      () => pb.msg(pb.group(99, pb.varint(1, 1)), pb.fixed32(1, 5)),
    ])(),
  );
}

function cmdProbe(rpc: CmdMethod, i: number): Probe {
  const layout = CMD_LAYOUT[rpc].req;
  // every RPC gets its share of the generic torture first
  if (i === 0) return { body: vmiField(hugeVMI(3 * MiB)) };
  if (i === 1) return { body: pb.bytes(1, pb.bytes(1, 'x'.repeat(GRPC_MAX + 1024))), oversize: true };
  if (i === 2) return { body: Buffer.alloc(0) };
  const r = int(20);
  if (r < 3) return { body: bytes(512) };
  if (r < 5) {
    // valid wire format, wrong types for the known fields
    return {
      body: pick([
        () => pb.varint(1, int(1000)),
        () => pb.fixed64(1, BigInt(int(1e9))),
        () => pb.bytes(1, pb.varint(1, 1)),
        () => pb.msg(pb.bytes(1, pb.fixed32(1, 3)), pb.varint(2, 9)),
        () => pb.msg(pb.varint(2, 1), pb.varint(3, 1), pb.varint(4, 2n ** 64n - 1n)),
        () => pb.bytes(1, pb.group(1, pb.bytes(1, '{}'))),
      ])(),
    };
  }
  switch (layout) {
    case 'empty':
      return { body: r < 12 ? Buffer.alloc(0) : pb.msg(pb.bytes(1 + int(20), bytes(50)), pb.varint(1 + int(20), int(1e6))) };
    case 'vmstats': {
      const parts: Buffer[] = [];
      for (let f = 1; f <= 16; f++) if (rand() < 0.5) parts.push(pb.bytes(f, rand() < 0.8 ? Buffer.alloc(0) : bytes(8)));
      return { body: pb.msg(...parts) };
    }
    case 'exec':
      return {
        body: pb.msg(
          pb.bytes(1, pick([...STRINGS, `default_${NAME}`, 'no_such'])),
          pb.bytes(2, pick([...STRINGS, 'echo'])),
          ...Array.from({ length: int(4) }, () => pb.bytes(3, pick(STRINGS))),
          pb.varint(4, pick([0, 1, -1, -(2 ** 31)])),
        ),
      };
    case 'guestping':
      return { body: pb.msg(pb.bytes(1, pick([...STRINGS, `default_${NAME}`])), pb.varint(2, pick([0, 1, -1, 2 ** 31 - 1]))) };
    default: {
      const { json, bad } = vmiJSON(rpc === 'DeleteVirtualMachine' ? `${NAME}-other` : NAME);
      const parts = [vmiField(json)];
      if (layout === 'vmi' && rand() < 0.3) parts.push(junkOptions());
      if (layout === 'freeze') parts.push(pb.varint(2, pick([0, 1, -1, 2 ** 31 - 1, -(2 ** 31)])));
      // libvirt refuses to dump an inactive domain before it touches the path; keep it in the pod anyway
      if (layout === 'dump') parts.push(pb.bytes(2, `/var/run/kubevirt-private/fuzz-dump-${pick(STRINGS)}`));
      if (layout === 'vmi+json')
        parts.push(pb.bytes(2, rand() < 0.5 ? breakJSON('{"Bandwidth":"64Mi","ProgressTimeout":150}') : bytes(100)));
      return { body: pb.msg(...parts), bad };
    }
  }
}

// --- notify side -------------------------------------------------------------------------------------

const baseEvent = {
  metadata: { creationTimestamp: null },
  involvedObject: { kind: 'VirtualMachineInstance', apiVersion: 'kubevirt.io/v1', name: NAME, namespace: 'default', uid },
  type: 'Warning',
  reason: 'IOerror',
  message: 'VM Paused due to IO error at the volume: data',
  firstTimestamp: null,
  lastTimestamp: null,
} as JSONValue;
const EVENT_TYPES = ['ADDED', 'MODIFIED', 'DELETED', 'ERROR', 'BOOKMARK', '', 'added', '名前', '\u0000', 'x'.repeat(5000)];

function domainEventProbe(baseDomain: JSONValue, i: number): Probe {
  if (i === 0) return { body: pb.bytes(1, JSON.stringify({ ...(baseDomain as object), kind: 'ü'.repeat(1.5 * MiB) })) };
  if (i === 1) return { body: pb.bytes(1, 'x'.repeat(GRPC_MAX + 1024)), oversize: true };
  const r = int(20);
  if (r < 3) return { body: bytes(512) };
  if (r < 5) return { body: pick([pb.varint(1, 5), pb.fixed32(3, 1), pb.msg(pb.bytes(1, pb.varint(1, 1)), pb.fixed64(3, 7n))]) };
  let text: string;
  if (r < 11) text = JSON.stringify(mutate(baseDomain));
  else if (r < 14) text = breakJSON(JSON.stringify(baseDomain));
  else if (r < 15) text = deepJSON(20_000);
  else if (r < 16) text = '';
  else text = JSON.stringify(baseDomain);
  const eventType = r < 16 ? pick(['ADDED', 'MODIFIED', 'DELETED']) : pick(EVENT_TYPES);
  // KubeVirt's rule: a domainJSON that does not unmarshal is refused in-band (an empty one is skipped)
  let bad = text !== '';
  try {
    parseDomain(text);
    bad = false;
  } catch {
    // bad stays as it is
  }
  const statusJSON = rand() < 0.2 ? [pb.bytes(2, pick(['{"message":"boom"}', '{', 'null', '']))] : [];
  return { body: pb.msg(pb.bytes(1, text), ...statusJSON, pb.bytes(3, eventType)), bad };
}

function k8sEventProbe(i: number): Probe {
  if (i === 0) return { body: pb.bytes(1, JSON.stringify({ ...(baseEvent as object), message: 'ü'.repeat(1.5 * MiB) })) };
  if (i === 1) return { body: pb.bytes(1, 'x'.repeat(GRPC_MAX + 1024)), oversize: true };
  const r = int(20);
  if (r < 3) return { body: bytes(512) };
  if (r < 5) return { body: pick([pb.varint(1, 5), pb.fixed64(1, 1n), pb.bytes(1, pb.varint(1, 1))]) };
  let text: string;
  let bad = false;
  if (r < 13) text = JSON.stringify(mutate(baseEvent));
  else if (r < 17) {
    text = breakJSON(JSON.stringify(baseEvent));
    try {
      JSON.parse(text);
    } catch {
      bad = true;
    }
  } else text = pick([deepJSON(20_000), '', 'null', '[]', '"event"']);
  if (['', 'null', '[]', '"event"'].includes(text) || text.startsWith('[[')) bad = true;
  return { body: pb.bytes(1, text), bad };
}

// --- the run -----------------------------------------------------------------------------------------

interface Tally {
  sent: number;
  inBandOK: number;
  inBandFailed: number;
  codes: Map<string, number>;
  problems: string[];
}

const CALL_DEADLINE_MS = 10_000;
const PER_CMD_RPC = 195;
const PER_NOTIFY_RPC = 1_000;
const CONCURRENCY = 16;

describe('bad input on the handler <-> launcher gRPC surfaces', { timeout: 240_000 }, () => {
  let sandbox: PodSandbox;
  let recorder: NotifyRecorder;
  let launcher: RunningLauncher;
  let dir: string;
  let handler: RunningWatcher;
  let notifySocket: string;
  let handlerErrors = 0;
  const tallies = new Map<string, Tally>();

  before(async () => {
    sandbox = await createPodSandbox();
    recorder = await NotifyRecorder.listen(sandbox.hostPath('/var/run/kubevirt/domain-notify-pipe.sock'));
    launcher = await startLauncher(sandbox, { metadata: { name: NAME, namespace: 'default', uid } }, ['--qemu-timeout', '10m']);
    dir = mkdtempSync('/tmp/kvfz');
    const logger = createLogger({
      component: 'virt-handler',
      verbosity: 2,
      destination: new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (chunk.includes('"level":"error"')) handlerErrors++;
          cb();
        },
      }),
    });
    handler = await startDomainWatcher({
      dir,
      podsBaseDir: sandbox.podsBaseDir,
      logger,
      host: 'fuzz-node',
      // virt-handler's informer lookup: only our VMI is known
      recordK8sEvent: (e) => {
        if (e.involvedObject.uid !== uid) throw new Error('VMI not found');
      },
    });
    notifySocket = handler.notifySocket;
  });

  after(async () => {
    await stopLauncherTest({ handler, launcher, recorder, sandbox });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function judge(rpc: string, probe: Probe, reply: RawReply, wrapped: boolean | 'info'): void {
    let t = tallies.get(rpc);
    if (!t) tallies.set(rpc, (t = { sent: 0, inBandOK: 0, inBandFailed: 0, codes: new Map(), problems: [] }));
    t.sent++;
    const problem = (what: string) =>
      t.problems.length < 5 &&
      t.problems.push(`${what} (input ${probe.body.length} bytes: ${JSON.stringify(probe.body.subarray(0, 120).toString('latin1'))})`);
    if (reply.timedOut) return void problem('no reply within the deadline');
    if (reply.code === undefined) return void problem(`no gRPC status: ${reply.error}`);
    const codeName = status[reply.code] ?? String(reply.code);
    t.codes.set(codeName, (t.codes.get(codeName) ?? 0) + 1);
    if (probe.oversize && reply.code !== status.RESOURCE_EXHAUSTED) return void problem(`oversize message answered ${codeName}`);
    if (reply.code !== status.OK) {
      if (reply.details.trim() === '') problem(`status ${codeName} without details`);
      if (reply.code === status.DEADLINE_EXCEEDED) problem('the server ran into the deadline');
      return;
    }
    const message = reply.message!;
    if (wrapped === 'info') {
      try {
        const versions = decodeFields(message).flatMap((f) => (f.wire === 2 ? [...(f.value as Buffer)] : [Number(f.value as bigint)]));
        if (!versions.includes(1)) problem(`Info without version 1: ${JSON.stringify(versions)}`);
      } catch (err) {
        problem(`undecodable Info reply: ${String(err)}`);
      }
      return;
    }
    let response;
    try {
      response = embeddedResponse(message, wrapped);
    } catch (err) {
      return void problem(`undecodable reply: ${String(err)}`);
    }
    if (!response) return void problem('reply without its Response');
    if (response.success) t.inBandOK++;
    else t.inBandFailed++;
    if (!response.success && response.message.trim() === '') problem('success=false with an empty message');
    if (probe.bad && response.success) problem('bad input accepted');
  }

  async function run(target: string, jobs: Array<{ rpc: string; path: string; probe: Probe; wrapped: boolean | 'info' }>): Promise<void> {
    let client = await RawGrpcClient.connect(target);
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        if (client.closed) client = await RawGrpcClient.connect(target);
        judge(job.rpc, job.probe, await client.call(job.path, job.probe.body, CALL_DEADLINE_MS), job.wrapped);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    client.close();
  }

  async function assertLauncherAlive(): Promise<void> {
    assert.equal(launcher.process.exitCode, null, `virt-launcher exited:\n${launcher.logs().slice(-5000)}`);
    assert.equal(launcher.process.signalCode, null);
    const c = await cmdClient(launcher.cmdSocket);
    try {
      assert.deepEqual(await c.Ping({}, { timeoutMs: 5_000 }), { success: true, message: '' });
    } finally {
      c.close();
    }
  }

  async function assertNotifyAlive(): Promise<void> {
    const c = await notifyClient(notifySocket);
    try {
      assert.equal(c.version, 1);
    } finally {
      c.close();
    }
  }

  test('every Cmd RPC of a real virt-launcher survives random and mutated messages', async () => {
    const rpcs = Object.keys(CMD_METHODS) as CmdMethod[];
    assert.deepEqual(new Set(rpcs), new Set(Object.keys(CMD_LAYOUT)), 'every Cmd RPC has a request layout');
    const jobs = [];
    for (let i = 0; i < PER_CMD_RPC; i++) {
      for (const rpc of rpcs) jobs.push({ rpc, path: CMD_METHODS[rpc], probe: cmdProbe(rpc, i), wrapped: CMD_LAYOUT[rpc].wrapped });
      jobs.push({
        rpc: 'CmdInfo.Info',
        path: CMD_INFO_METHODS.Info,
        probe: { body: i < 20 ? Buffer.alloc(0) : bytes(200) },
        wrapped: 'info' as const,
      });
    }
    for (let b = 0; b < jobs.length; b += 1_000) {
      await run(launcher.cmdSocket, jobs.slice(b, b + 1_000));
      await assertLauncherAlive();
    }
    // the fuzzer pins accepted VMIs to Running, so the launcher may define a domain but never start it
    const mntNs = readlinkSync(`/proc/${sandbox.pid}/ns/mnt`);
    const qemu = processesInNamespace(mntNs).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('/usr/bin/qemu-system');
      } catch {
        return false;
      }
    });
    assert.deepEqual(qemu, [], 'no VM was started');
  });

  test("virt-handler's notify server survives random and mutated messages", async () => {
    // a real Domain as the launcher reports it, when the Cmd fuzzing left one defined
    const c = await cmdClient(launcher.cmdSocket);
    const got = await c.GetDomain({});
    c.close();
    const baseDomain = JSON.parse(got.domain || domainToJSON(newDomain({ name: NAME, namespace: 'default', uid }))) as JSONValue;
    const jobs = [];
    for (let i = 0; i < PER_NOTIFY_RPC; i++) {
      jobs.push({
        rpc: 'HandleDomainEvent',
        path: NOTIFY_METHODS.HandleDomainEvent,
        probe: domainEventProbe(baseDomain, i),
        wrapped: false,
      });
      jobs.push({ rpc: 'HandleK8sEvent', path: NOTIFY_METHODS.HandleK8sEvent, probe: k8sEventProbe(i), wrapped: false });
      jobs.push({
        rpc: 'NotifyInfo.Info',
        path: NOTIFY_INFO_METHODS.Info,
        probe: { body: i < 50 ? Buffer.alloc(0) : bytes(200) },
        wrapped: 'info' as const,
      });
    }
    for (let b = 0; b < jobs.length; b += 1_000) {
      await run(notifySocket, jobs.slice(b, b + 1_000));
      await assertNotifyAlive();
    }
    assert.ok(handlerErrors > 0, 'rejected events are logged');
  });

  test('report: every input got a proper answer', (t) => {
    let total = 0;
    const lines: string[] = [`seed ${SEED} (replay with FUZZ_SEED=${SEED})`];
    const problems: string[] = [];
    for (const [rpc, tally] of [...tallies].sort()) {
      total += tally.sent;
      const codes = [...tally.codes].map(([c, n]) => `${c}=${n}`).join(' ');
      lines.push(`${rpc}: ${tally.sent} sent; in-band ok=${tally.inBandOK} failed=${tally.inBandFailed}; status ${codes}`);
      problems.push(...tally.problems.map((p) => `${rpc}: ${p}`));
    }
    lines.push(`total ${total}`);
    t.diagnostic(lines.join('\n'));
    assert.ok(total >= 10_000, `only ${total} inputs`);
    assert.equal(tallies.size, Object.keys(CMD_METHODS).length + 4, 'every RPC was fuzzed');
    assert.deepEqual(problems, []);
  });
});
