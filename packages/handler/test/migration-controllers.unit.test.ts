// The live-migration controllers of virt-handler, table by table in the style of KubeVirt's
// migration-source_test.go and migration-target_test.go: each case sets up the VMI cache, the domain
// cache, the launcher and the migration proxy as the controller finds them, runs one execute(), and
// checks what it did — the Cmd calls made on the launcher, the proxy listeners started and stopped,
// the Events recorded, the VMI (status and labels) written, the requeue asked for. Multi-round
// scenarios feed each written status back into the cache, as the informer would.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import * as z from 'zod/mini';
import {
  k8sTime,
  LifeCycle,
  MigrationTargetNodeNameLabel,
  migrationOptionsSchema,
  newDomain,
  NodeNameLabel,
  OutdatedLauncherImageLabel,
  parseDomain,
  parseVMI,
  StateChangeReason,
  type Domain,
  type VirtualMachineInstance,
  type VirtualMachineInstanceMigrationState,
  type VirtualMachineInstanceStatus,
} from '@kubevirt-ts/shared';
import {
  abortInProgress,
  domainAlive,
  domainIsActiveOnTarget,
  domainMigrated,
  isMigrating,
  isMigrationDone,
  isMigrationInProgress,
  migrationNeedsFinalization,
} from '../src/migration/state.ts';
import { migrationOptionsFor } from '../src/migration/options.ts';
import { WaitingForHotplugMountError } from '../src/hotplug-disk/mounter.ts';
import {
  MigrationSourceController,
  TARGET_PORTS_REQUEUE_MS,
  VMIAbortingMigration,
  VMIMigrating,
  type SourceLauncherClient,
} from '../src/migration/source.ts';
import {
  CreateMigrationTargetAnnotation,
  EvictionSourceAnnotation,
  MigrationTargetController,
  TARGET_REQUEUE_MS,
  VirtualMachinePodCPULimitsLabel,
  VirtualMachinePodMemoryRequestsLabel,
  VMIMigrationTargetPrepared,
  type TargetLauncherClient,
} from '../src/migration/target.ts';

const sourceHost = 'node01';
const targetHost = 'node02';
const uid = '6a3d1f0e-0000-4000-8000-000000000001';
const oldUID = '6a3d1f0e-0000-4000-8000-0000000000aa';
const migrationUid = 'c0ffee00-0000-4000-8000-00000000mig1';
const key = 'default/testvmi';
const targetIP = '10.244.1.7';
const T0 = Date.parse('2026-12-01T10:00:00Z');
/** A timestamp `s` seconds from T0 (the fake clock's start). */
/** A time as the handler writes it (metav1.Time: whole seconds). */
const at = (s: number) => k8sTime(new Date(T0 + s * 1000));
/** The target's listeners as getTargetListenerPorts reports them: listening port → migration port (0: libvirt). */
const published = { '40001': 0, '40002': 49152 };
/** pathInLauncher: the launcher pod's mount namespace as the handler reaches it (the UID shows it was asked for the right pod). */
const inLauncher = (u: string, p: string) => `/proc/launcher-${u}/root${p}`;

type State = VirtualMachineInstanceMigrationState;
type Status = VirtualMachineInstanceStatus;
type MigrationMetadata = NonNullable<Domain['Spec']['Metadata']['KubeVirt']['Migration']>;

/** The migration state virt-controller writes once the target pod is scheduled. */
const baseMigration: State = {
  migrationUid,
  sourceNode: sourceHost,
  targetNode: targetHost,
  targetPod: 'virt-launcher-testvmi-target',
};

interface VMIOptions {
  /** status.nodeName and the nodeName label (default: the source node). */
  node?: string;
  phase?: string;
  deleting?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Merged over baseMigration; null: no migration state. */
  migration?: Partial<State> | null;
  status?: Partial<Status>;
  spec?: Record<string, unknown>;
}

function vmi(o: VMIOptions = {}): VirtualMachineInstance {
  const node = o.node ?? sourceHost;
  return parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: {
      name: 'testvmi',
      namespace: 'default',
      uid,
      resourceVersion: '7',
      labels: { [NodeNameLabel]: node, ...o.labels },
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.deleting ? { deletionTimestamp: at(-60) } : {}),
    },
    spec: { domain: { devices: {}, ...o.spec } },
    status: {
      phase: o.phase ?? 'Running',
      nodeName: node,
      migrationMethod: 'LiveMigration',
      ...(o.migration === null ? {} : { migrationState: { ...baseMigration, ...o.migration } }),
      ...o.status,
    },
  });
}

/** The domain as the launcher reports it; `migration` is its KubeVirt migration metadata (UID: this migration's). */
function domain(
  status: LifeCycle,
  reason: StateChangeReason = StateChangeReason.Unknown,
  migration?: Partial<MigrationMetadata>,
  domainUID = uid,
): Domain {
  const d = newDomain({ name: 'testvmi', namespace: 'default', uid: domainUID });
  d.Status.Status = status;
  d.Status.Reason = reason;
  if (migration) {
    d.Spec.Metadata.KubeVirt.Migration = {
      UID: migrationUid,
      StartTimestamp: null,
      EndTimestamp: null,
      Failed: false,
      FailureReason: '',
      AbortStatus: '',
      Mode: '',
      ...migration,
    };
  }
  return parseDomain(d);
}

/** The VMI after the status write, as the informer delivers it next. */
function written(v: VirtualMachineInstance, status: Status): VirtualMachineInstance {
  return parseVMI({ ...structuredClone(v), status: structuredClone(status) });
}

/** The VMI a Cmd request carries. */
const sentVMI = (req: { vmi?: { vmiJson?: Buffer | Uint8Array | string } | null }) =>
  JSON.parse(Buffer.from(req.vmi?.vmiJson ?? '{}').toString()) as VirtualMachineInstance;

// --- state.ts -----------------------------------------------------------------------------------

describe('migration state helpers', () => {
  const running = domain(LifeCycle.Running);
  const cases: Array<{ name: string; got: () => boolean; want: boolean }> = [
    // isMigrationDone
    { name: 'isMigrationDone: no migration state', got: () => isMigrationDone(undefined), want: true },
    { name: 'isMigrationDone: nothing reported yet', got: () => isMigrationDone({}), want: false },
    { name: 'isMigrationDone: ended and completed', got: () => isMigrationDone({ endTimestamp: at(0), completed: true }), want: true },
    { name: 'isMigrationDone: ended and failed', got: () => isMigrationDone({ endTimestamp: at(0), failed: true }), want: true },
    { name: 'isMigrationDone: ended, not concluded', got: () => isMigrationDone({ endTimestamp: at(0) }), want: false },
    { name: 'isMigrationDone: completed without an end', got: () => isMigrationDone({ completed: true, failed: true }), want: false },
    // isMigrating
    { name: 'isMigrating: no migration state', got: () => isMigrating(vmi({ migration: null }), T0), want: false },
    { name: 'isMigrating: not started', got: () => isMigrating(vmi(), T0), want: false },
    { name: 'isMigrating: started, not ended', got: () => isMigrating(vmi({ migration: { startTimestamp: at(-5) } }), T0), want: true },
    {
      name: 'isMigrating: started this very moment',
      got: () => isMigrating(vmi({ migration: { startTimestamp: at(0) } }), T0),
      want: true,
    },
    { name: 'isMigrating: starts later', got: () => isMigrating(vmi({ migration: { startTimestamp: at(5) } }), T0), want: false },
    {
      name: 'isMigrating: started and ended',
      got: () => isMigrating(vmi({ migration: { startTimestamp: at(-5), endTimestamp: at(-1) } }), T0),
      want: false,
    },
    {
      name: 'isMigrating: its end is still to come',
      got: () => isMigrating(vmi({ migration: { startTimestamp: at(-5), endTimestamp: at(5) } }), T0),
      want: true,
    },
    // isMigrationInProgress
    { name: 'isMigrationInProgress: neither VMI nor domain', got: () => isMigrationInProgress(undefined, undefined), want: false },
    {
      name: 'isMigrationInProgress: the VMI says started, not ended',
      got: () => isMigrationInProgress(vmi({ migration: { startTimestamp: at(-5) } }), undefined),
      want: true,
    },
    {
      name: 'isMigrationInProgress: the VMI says ended, domain running',
      got: () => isMigrationInProgress(vmi({ migration: { startTimestamp: at(-5), endTimestamp: at(-1) } }), running),
      want: false,
    },
    {
      name: "isMigrationInProgress: the domain's metadata says started, not ended",
      got: () => isMigrationInProgress(vmi(), domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-5) })),
      want: true,
    },
    {
      name: "isMigrationInProgress: the domain's metadata says ended",
      got: () =>
        isMigrationInProgress(
          vmi(),
          domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-5), EndTimestamp: at(-1) }),
        ),
      want: false,
    },
    {
      name: 'isMigrationInProgress: paused for the migration',
      got: () => isMigrationInProgress(vmi(), domain(LifeCycle.Paused, StateChangeReason.Migration)),
      want: true,
    },
    {
      name: 'isMigrationInProgress: paused starting up',
      got: () => isMigrationInProgress(vmi(), domain(LifeCycle.Paused, StateChangeReason.StartingUp)),
      want: true,
    },
    {
      name: 'isMigrationInProgress: paused in post-copy',
      got: () => isMigrationInProgress(vmi(), domain(LifeCycle.Paused, StateChangeReason.Postcopy)),
      want: true,
    },
    {
      name: 'isMigrationInProgress: paused by the user',
      got: () => isMigrationInProgress(vmi(), domain(LifeCycle.Paused, StateChangeReason.User)),
      want: false,
    },
    { name: 'isMigrationInProgress: running', got: () => isMigrationInProgress(vmi(), running), want: false },
    // domainMigrated
    {
      name: 'domainMigrated: shut off, migrated',
      got: () => domainMigrated(domain(LifeCycle.Shutoff, StateChangeReason.Migrated)),
      want: true,
    },
    {
      name: 'domainMigrated: shut off, destroyed',
      got: () => domainMigrated(domain(LifeCycle.Shutoff, StateChangeReason.Destroyed)),
      want: false,
    },
    { name: 'domainMigrated: running', got: () => domainMigrated(running), want: false },
    { name: 'domainMigrated: no domain', got: () => domainMigrated(undefined), want: false },
    // domainIsActiveOnTarget
    { name: 'domainIsActiveOnTarget: running', got: () => domainIsActiveOnTarget(running), want: true },
    {
      name: 'domainIsActiveOnTarget: paused by the user (migrates paused)',
      got: () => domainIsActiveOnTarget(domain(LifeCycle.Paused, StateChangeReason.User)),
      want: true,
    },
    {
      name: 'domainIsActiveOnTarget: paused for the incoming migration',
      got: () => domainIsActiveOnTarget(domain(LifeCycle.Paused, StateChangeReason.Migration)),
      want: false,
    },
    {
      name: 'domainIsActiveOnTarget: paused, post-copy failed',
      got: () => domainIsActiveOnTarget(domain(LifeCycle.Paused, StateChangeReason.PostcopyFailed)),
      want: false,
    },
    { name: 'domainIsActiveOnTarget: shut off', got: () => domainIsActiveOnTarget(domain(LifeCycle.Shutoff)), want: false },
    { name: 'domainIsActiveOnTarget: no domain', got: () => domainIsActiveOnTarget(undefined), want: false },
    // domainAlive
    { name: 'domainAlive: no domain', got: () => domainAlive(undefined), want: false },
    { name: 'domainAlive: running', got: () => domainAlive(running), want: true },
    { name: 'domainAlive: paused', got: () => domainAlive(domain(LifeCycle.Paused, StateChangeReason.Migration)), want: true },
    { name: 'domainAlive: shutting down', got: () => domainAlive(domain(LifeCycle.Shutdown, StateChangeReason.User)), want: true },
    { name: 'domainAlive: no state', got: () => domainAlive(domain(LifeCycle.NoState)), want: true },
    { name: 'domainAlive: shut off', got: () => domainAlive(domain(LifeCycle.Shutoff, StateChangeReason.Migrated)), want: false },
    { name: 'domainAlive: crashed', got: () => domainAlive(domain(LifeCycle.Crashed)), want: false },
    {
      name: 'domainAlive: an empty status',
      got: () => domainAlive(parseDomain({ ...newDomain({ name: 'testvmi', namespace: 'default', uid }), Status: { Status: '' } })),
      want: false,
    },
    // migrationNeedsFinalization
    { name: 'migrationNeedsFinalization: no state', got: () => migrationNeedsFinalization(undefined), want: false },
    {
      name: 'migrationNeedsFinalization: started and ended',
      got: () => migrationNeedsFinalization({ startTimestamp: at(-5), endTimestamp: at(-1) }),
      want: true,
    },
    {
      name: 'migrationNeedsFinalization: completed already',
      got: () => migrationNeedsFinalization({ startTimestamp: at(-5), endTimestamp: at(-1), completed: true }),
      want: false,
    },
    {
      name: 'migrationNeedsFinalization: failed',
      got: () => migrationNeedsFinalization({ startTimestamp: at(-5), endTimestamp: at(-1), failed: true }),
      want: false,
    },
    {
      name: 'migrationNeedsFinalization: ended, never started',
      got: () => migrationNeedsFinalization({ endTimestamp: at(-1) }),
      want: false,
    },
    {
      name: 'migrationNeedsFinalization: started, running',
      got: () => migrationNeedsFinalization({ startTimestamp: at(-5) }),
      want: false,
    },
    // abortInProgress
    {
      name: 'abortInProgress: abort asked for, running',
      got: () => abortInProgress(vmi({ migration: { abortRequested: true } })),
      want: true,
    },
    {
      name: 'abortInProgress: abort asked for, migration failed',
      got: () => abortInProgress(vmi({ migration: { abortRequested: true, endTimestamp: at(-1), failed: true } })),
      want: false,
    },
    { name: 'abortInProgress: no abort asked for', got: () => abortInProgress(vmi()), want: false },
    { name: 'abortInProgress: no migration state', got: () => abortInProgress(vmi({ migration: null })), want: false },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(c.got(), c.want));
  }
});

// --- the source ---------------------------------------------------------------------------------

type SourceCall = 'MigrateVirtualMachine' | 'CancelVirtualMachineMigration';

interface SourceWorld {
  vmi?: VirtualMachineInstance;
  domain?: Domain;
  /** The launcher answers success:false with this message. */
  fail?: Partial<Record<SourceCall, string>>;
  dialFails?: boolean;
  /** startSourceListener rejects with this. */
  proxyFails?: string;
}

/** One MigrationSourceController on sourceHost with fakes around it; the clock moves only when a test moves it. */
class SourceFixture {
  now = T0;
  vmi: VirtualMachineInstance | undefined;
  domain: Domain | undefined;
  readonly calls: Array<{ call: SourceCall; vmiUID: string; options?: Record<string, unknown> }> = [];
  /** The proxy's calls: `start` / `stop`. */
  readonly proxy: string[] = [];
  readonly listenerArgs: Array<{ uid: string; address: string; ports: Record<string, number>; baseDir: string }> = [];
  readonly stopped: string[] = [];
  readonly events: Array<{ type: string; reason: string; message: string }> = [];
  readonly writes: Status[] = [];
  readonly controller: MigrationSourceController;
  /** Changed by a test to change what the launcher and the proxy do next. */
  readonly world: SourceWorld;

  constructor(world: SourceWorld) {
    this.world = world;
    this.vmi = world.vmi;
    this.domain = world.domain;
    const reply = (call: SourceCall) => async (req: { vmi?: { vmiJson?: Buffer | Uint8Array | string } | null; options?: unknown }) => {
      const options = req.options ? (JSON.parse(Buffer.from(req.options as Uint8Array).toString()) as Record<string, unknown>) : undefined;
      this.calls.push({ call, vmiUID: sentVMI(req).metadata.uid, ...(options ? { options } : {}) });
      const message = world.fail?.[call];
      return { success: message === undefined, message: message ?? '' };
    };
    const client: SourceLauncherClient = {
      MigrateVirtualMachine: reply('MigrateVirtualMachine'),
      CancelVirtualMachineMigration: reply('CancelVirtualMachineMigration'),
    };
    this.controller = new MigrationSourceController({
      logger: pino({ level: 'silent' }),
      host: sourceHost,
      vmis: {
        get: (ns, name) => (this.vmi && this.vmi.metadata.namespace === ns && this.vmi.metadata.name === name ? this.vmi : undefined),
        list: () => (this.vmi ? [this.vmi] : []),
      },
      domains: { get: (k) => (k === key ? this.domain : undefined), list: () => (this.domain ? [this.domain] : []), on: () => undefined },
      launcherClient: async (u) => {
        assert.equal(u, uid, 'the launcher asked for');
        if (world.dialFails) throw new Error('dial unix launcher-sock: connect: connection refused');
        return client;
      },
      pathInLauncher: inLauncher,
      proxy: {
        startSourceListener: async (u, address, ports, baseDir) => {
          this.proxy.push('start');
          this.listenerArgs.push({ uid: u, address, ports, baseDir });
          if (world.proxyFails) throw new Error(world.proxyFails);
        },
        stopSourceListener: (u) => {
          this.proxy.push('stop');
          this.stopped.push(u);
        },
      },
      // as main.ts wires it: the cluster's defaults, no feature gates
      migrationOptions: (v) => migrationOptionsFor(v, { clusterMigrations: {}, isFeatureGateEnabled: () => false }),
      statusWriter: {
        update: async (v, status) => {
          this.writes.push(structuredClone(status));
          this.vmi = written(v, status);
        },
      },
      recorder: { event: (_v, type, reason, message) => void this.events.push({ type, reason, message }) },
      clock: { now: () => this.now },
    });
  }
}

interface SourceWant {
  /** The Cmd calls, in order ([] for none). */
  calls: SourceCall[];
  /** The Events, as `Type Reason`. */
  events: string[];
  /** The status written (a partial match); null: nothing written. */
  written: null | { phase?: string; migrationState?: Partial<State> };
  /** The proxy's calls (default: none). */
  proxy?: string[];
  requeue?: number;
  error?: RegExp;
}

interface SourceCase {
  name: string;
  world: SourceWorld;
  want: SourceWant;
}

async function checkSource(c: SourceCase): Promise<SourceFixture> {
  const f = new SourceFixture(c.world);
  let requeue: number | undefined;
  if (c.want.error) await assert.rejects(f.controller.execute(key), c.want.error);
  else requeue = await f.controller.execute(key);
  assert.deepEqual(
    f.calls.map((x) => x.call),
    c.want.calls,
    'Cmd calls',
  );
  for (const x of f.calls) assert.equal(x.vmiUID, uid, `the VMI sent with ${x.call}`);
  assert.deepEqual(
    f.events.map((e) => `${e.type} ${e.reason}`),
    c.want.events,
    'Events',
  );
  assert.deepEqual(f.proxy, c.want.proxy ?? [], 'proxy calls');
  if (c.want.written === null) {
    assert.deepEqual(f.writes, [], 'no status write');
  } else {
    assert.equal(f.writes.length, 1, 'one status write');
    assert.partialDeepStrictEqual(f.writes[0], c.want.written, 'the status written');
  }
  if (!c.want.error) assert.equal(requeue, c.want.requeue, 'requeue');
  return f;
}

const ports = { targetNodeAddress: targetIP, targetDirectMigrationNodePorts: published } satisfies Partial<State>;
const running = () => domain(LifeCycle.Running);
const nothing: SourceWant = { calls: [], events: [], written: null };

describe('MigrationSourceController.execute: which VMIs it handles', () => {
  const cases: SourceCase[] = [
    { name: 'VMI gone from the cache → nothing', world: { domain: running() }, want: nothing },
    { name: 'no migration state → nothing', world: { vmi: vmi({ migration: null }), domain: running() }, want: nothing },
    {
      name: 'the VMI runs on another node (its source) → nothing',
      world: { vmi: vmi({ node: 'node03', migration: { sourceNode: 'node03', ...ports } }), domain: running() },
      want: nothing,
    },
    {
      name: 'this node runs the VMI, but the migration names another source → nothing',
      world: { vmi: vmi({ migration: { sourceNode: 'node03', ...ports } }), domain: running() },
      want: nothing,
    },
    {
      name: 'a Failed VMI → nothing',
      world: { vmi: vmi({ phase: 'Failed', migration: ports }), domain: running() },
      want: nothing,
    },
    {
      name: 'a Succeeded VMI → nothing',
      world: { vmi: vmi({ phase: 'Succeeded', migration: ports }), domain: running() },
      want: nothing,
    },
    {
      name: 'a VMI being deleted → nothing',
      world: { vmi: vmi({ deleting: true, migration: ports }), domain: running() },
      want: nothing,
    },
    {
      name: 'the domain of an earlier VMI of the same name → nothing until it is cleaned up',
      world: { vmi: vmi({ migration: ports }), domain: domain(LifeCycle.Running, StateChangeReason.Unknown, undefined, oldUID) },
      want: nothing,
    },
    {
      name: 'the domain is shut off → no migration started',
      world: { vmi: vmi({ migration: ports }), domain: domain(LifeCycle.Shutoff, StateChangeReason.Destroyed) },
      want: nothing,
    },
    {
      name: 'no domain (yet) → no migration started',
      world: { vmi: vmi({ migration: ports }) },
      want: nothing,
    },
  ];
  for (const c of cases) test(c.name, () => checkSource(c).then(() => undefined));
});

describe('MigrationSourceController.execute: starting the migration (migrateVMI)', () => {
  const cases: SourceCase[] = [
    {
      name: 'the target has not published its ports → wait 1 s, nothing started',
      world: { vmi: vmi(), domain: running() },
      want: { ...nothing, requeue: TARGET_PORTS_REQUEUE_MS },
    },
    {
      name: 'the ports are published → the source listener, then MigrateVirtualMachine once and a Migrating Event',
      world: { vmi: vmi({ migration: ports }), domain: running() },
      want: { calls: ['MigrateVirtualMachine'], events: ['Normal Migrating'], written: null, proxy: ['start'] },
    },
    {
      name: 'a domain paused by the user migrates too',
      world: { vmi: vmi({ migration: ports }), domain: domain(LifeCycle.Paused, StateChangeReason.User) },
      want: { calls: ['MigrateVirtualMachine'], events: ['Normal Migrating'], written: null, proxy: ['start'] },
    },
    {
      name: 'the VMI says the migration started → not again',
      world: { vmi: vmi({ migration: { ...ports, startTimestamp: at(-5) } }), domain: running() },
      want: nothing,
    },
    {
      name: "the domain's metadata says a migration runs → not again (and its start is recorded)",
      world: { vmi: vmi({ migration: ports }), domain: domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-5) }) },
      want: { calls: [], events: [], written: { migrationState: { startTimestamp: at(-5) } } },
    },
    {
      name: 'the domain is paused for the migration → not again',
      world: { vmi: vmi({ migration: ports }), domain: domain(LifeCycle.Paused, StateChangeReason.Migration) },
      want: nothing,
    },
    {
      name: 'the domain is paused in post-copy → not again',
      world: { vmi: vmi({ migration: ports }), domain: domain(LifeCycle.Paused, StateChangeReason.Postcopy) },
      want: nothing,
    },
    {
      // the metadata of another migration neither counts as this one's progress nor is copied
      name: 'the domain carries the metadata of an earlier, failed migration → this one starts, nothing copied',
      world: {
        vmi: vmi({ migration: ports }),
        domain: domain(LifeCycle.Running, StateChangeReason.Unknown, {
          UID: 'earlier-migration',
          StartTimestamp: at(-600),
          EndTimestamp: at(-590),
          Failed: true,
          FailureReason: 'earlier failure',
        }),
      },
      want: { calls: ['MigrateVirtualMachine'], events: ['Normal Migrating'], written: null, proxy: ['start'] },
    },
    {
      name: "MigrateVirtualMachine fails → execute rejects with the launcher's message, a SyncFailed Event",
      world: { vmi: vmi({ migration: ports }), domain: running(), fail: { MigrateVirtualMachine: 'virError(Code=9): operation failed' } },
      want: {
        calls: ['MigrateVirtualMachine'],
        events: ['Warning SyncFailed'],
        written: null,
        proxy: ['start'],
        error: /operation failed/,
      },
    },
    {
      name: 'the source listener cannot be started → rejects, no MigrateVirtualMachine',
      world: { vmi: vmi({ migration: ports }), domain: running(), proxyFails: 'listen unix: address already in use' },
      want: {
        calls: [],
        events: ['Warning SyncFailed'],
        written: null,
        proxy: ['start'],
        error: /failed to handle migration proxy: listen unix: address already in use/,
      },
    },
    {
      name: 'the launcher cannot be dialled → rejects',
      world: { vmi: vmi({ migration: ports }), domain: running(), dialFails: true },
      want: {
        calls: [],
        events: ['Warning SyncFailed'],
        written: null,
        error: /unable to create virt-launcher client connection: dial unix/,
      },
    },
  ];
  for (const c of cases) test(c.name, () => checkSource(c).then(() => undefined));

  test('the listener opens in the launcher pod, towards the published ports; the options travel as JSON with Go field names', async () => {
    const f = await checkSource(cases[1]!);
    assert.deepEqual(f.listenerArgs, [{ uid, address: targetIP, ports: published, baseDir: inLauncher(uid, '/var/run/kubevirt') }]);
    const options = f.calls[0]?.options;
    assert.deepEqual(options, {
      Bandwidth: '0Mi',
      ProgressTimeout: 150,
      CompletionTimeoutPerGiB: 150,
      MaxDowntimeMs: 900,
      UnsafeMigration: false,
      AllowAutoConverge: false,
      AllowPostCopy: false,
      AllowWorkloadDisruption: false,
      ParallelMigrationThreads: 8,
      StallDetectorOptions: null,
      Compression: null,
      DowntimeTuning: null,
    });
    // what the launcher's parse makes of it
    assert.deepEqual(z.parse(migrationOptionsSchema, options), options);
    assert.equal(f.events[0]?.message, VMIMigrating);
  });

  test("the VMI's frozen migration configuration is what the launcher gets", async () => {
    const f = await checkSource({
      name: 'frozen',
      world: {
        vmi: vmi({ migration: { ...ports, migrationConfiguration: { bandwidthPerMigration: '64Mi', allowPostCopy: true } } }),
        domain: running(),
      },
      want: { calls: ['MigrateVirtualMachine'], events: ['Normal Migrating'], written: null, proxy: ['start'] },
    });
    assert.equal(f.calls[0]?.options?.Bandwidth, '64Mi');
    assert.equal(f.calls[0]?.options?.AllowPostCopy, true);
    assert.equal(f.calls[0]?.options?.AllowWorkloadDisruption, true);
  });

  test('a frozen configuration that does not parse → rejects naming the field, opens no listener; the SyncFailed Event says which', async () => {
    const f = await checkSource({
      name: 'bad frozen',
      world: { vmi: vmi({ migration: { ...ports, migrationConfiguration: { progressTimeout: 'soon' } } }), domain: running() },
      want: {
        calls: [],
        events: ['Warning SyncFailed'],
        written: null,
        proxy: [],
        error: /invalid status\.migrationState\.migrationConfiguration: progressTimeout/,
      },
    });
    assert.match(f.events[0]?.message ?? '', /migrationConfiguration: progressTimeout/);
  });

  test('waits while the ports are missing, starts once they are published, then never again while the domain migrates', async () => {
    const f = new SourceFixture({ vmi: vmi(), domain: running() });
    assert.equal(await f.controller.execute(key), TARGET_PORTS_REQUEUE_MS, 'round 1: waiting for the target');
    assert.equal(f.calls.length, 0, 'round 1: no Cmd calls');
    assert.equal(f.proxy.length, 0, 'round 1: no listener');

    // the target's handler publishes its listeners
    f.vmi = vmi({ migration: ports });
    assert.equal(await f.controller.execute(key), undefined, 'round 2');
    assert.deepEqual(
      f.calls.map((x) => x.call),
      ['MigrateVirtualMachine'],
    );
    assert.deepEqual(f.proxy, ['start']);

    // the launcher reports the migration running: its start goes into the VMI, nothing is called again
    f.domain = domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(1), Mode: 'PreCopy' });
    f.now += 2_000;
    assert.equal(await f.controller.execute(key), undefined, 'round 3');
    assert.equal(f.writes.length, 1);
    assert.partialDeepStrictEqual(f.writes[0], { migrationState: { startTimestamp: at(1), mode: 'PreCopy' } });

    // and with the start in the VMI: still nothing more
    assert.equal(await f.controller.execute(key), undefined, 'round 4');
    assert.deepEqual(
      f.calls.map((x) => x.call),
      ['MigrateVirtualMachine'],
      'MigrateVirtualMachine once in all',
    );
    assert.deepEqual(f.proxy, ['start'], 'one listener in all');
    assert.equal(f.writes.length, 1, 'nothing new to write');
    assert.deepEqual(
      f.events.map((e) => `${e.type} ${e.reason}`),
      ['Normal Migrating'],
    );
  });
});

describe('MigrationSourceController.execute: aborting (handleMigrationAbort)', () => {
  // as the earlier rounds left it: the start and the outcome copied from the domain's metadata
  const migrating = { ...ports, startTimestamp: at(-5), failed: false, abortRequested: true } satisfies Partial<State>;
  const cases: SourceCase[] = [
    {
      name: 'an abort asked for → one CancelVirtualMachineMigration and an Event, no MigrateVirtualMachine',
      world: {
        vmi: vmi({ migration: migrating }),
        domain: domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-5) }),
      },
      want: { calls: ['CancelVirtualMachineMigration'], events: ['Normal Migrating'], written: null },
    },
    {
      name: 'an abort asked for before the migration started → cancelled, not started',
      world: { vmi: vmi({ migration: { ...ports, abortRequested: true } }), domain: running() },
      want: { calls: ['CancelVirtualMachineMigration'], events: ['Normal Migrating'], written: null },
    },
    {
      name: "the domain's metadata says Aborting → not again",
      world: {
        vmi: vmi({ migration: migrating }),
        domain: domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-5), AbortStatus: 'Aborting' }),
      },
      want: nothing,
    },
    {
      name: "the domain's metadata says the abort succeeded → not again",
      world: {
        vmi: vmi({ migration: migrating }),
        domain: domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-5), AbortStatus: 'Succeeded' }),
      },
      want: nothing,
    },
    {
      name: 'the VMI says Aborting → not again',
      world: {
        vmi: vmi({ migration: { ...migrating, abortStatus: 'Aborting' } }),
        domain: domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-5) }),
      },
      want: nothing,
    },
    {
      name: 'an abort that failed → asked again',
      world: {
        vmi: vmi({ migration: migrating }),
        domain: domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-5), AbortStatus: 'Failed' }),
      },
      want: { calls: ['CancelVirtualMachineMigration'], events: ['Normal Migrating'], written: null },
    },
    {
      name: "CancelVirtualMachineMigration fails → rejects with the launcher's message",
      world: {
        vmi: vmi({ migration: migrating }),
        domain: domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-5) }),
        fail: { CancelVirtualMachineMigration: 'no migration to cancel' },
      },
      want: { calls: ['CancelVirtualMachineMigration'], events: ['Warning SyncFailed'], written: null, error: /no migration to cancel/ },
    },
  ];
  for (const c of cases) test(c.name, () => checkSource(c).then(() => undefined));

  test('cancelled once; once the launcher reports Aborting, not again', async () => {
    const f = new SourceFixture({
      vmi: vmi({ migration: migrating }),
      domain: domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-5) }),
    });
    await f.controller.execute(key);
    assert.equal(f.events[0]?.message, VMIAbortingMigration);
    f.domain = domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-5), AbortStatus: 'Aborting' });
    await f.controller.execute(key);
    await f.controller.execute(key);
    assert.deepEqual(
      f.calls.map((x) => x.call),
      ['CancelVirtualMachineMigration'],
    );
  });
});

describe("MigrationSourceController.execute: the launcher's record into the VMI (updateStatus)", () => {
  const started = { ...ports, startTimestamp: at(-30) } satisfies Partial<State>;
  const cases: SourceCase[] = [
    {
      name: "the metadata's start and mode → copied",
      world: {
        vmi: vmi({ migration: ports }),
        domain: domain(LifeCycle.Paused, StateChangeReason.Postcopy, { StartTimestamp: at(-30), Mode: 'PostCopy' }),
      },
      want: { calls: [], events: [], written: { migrationState: { startTimestamp: at(-30), mode: 'PostCopy' } } },
    },
    {
      name: 'the metadata says failed → completed, failed, its end, abort status and reason; a Warning Migrated Event',
      world: {
        vmi: vmi({ migration: started }),
        domain: domain(LifeCycle.Running, StateChangeReason.Unknown, {
          StartTimestamp: at(-30),
          EndTimestamp: at(-1),
          Failed: true,
          FailureReason: 'operation failed: job migration-out aborted',
          AbortStatus: 'Succeeded',
        }),
      },
      want: {
        calls: [],
        events: ['Warning Migrated'],
        written: {
          migrationState: {
            startTimestamp: at(-30),
            endTimestamp: at(-1),
            completed: true,
            failed: true,
            abortStatus: 'Succeeded',
            failureReason: 'operation failed: job migration-out aborted',
          },
        },
      },
    },
    {
      name: 'no target node → the VMI fails (migrated to an unknown host), ended now',
      world: { vmi: vmi({ migration: { ...started, targetNode: '' } }), domain: running() },
      want: {
        calls: [],
        events: ['Warning Migrated'],
        written: { phase: 'Failed', migrationState: { completed: true, failed: true, endTimestamp: at(0) } },
      },
    },
    {
      name: 'ended, the target has not reported the domain → look again when the minute since the end is up',
      world: {
        vmi: vmi({ migration: { ...started, endTimestamp: at(-10) } }),
        domain: domain(LifeCycle.Shutoff, StateChangeReason.Migrated),
      },
      want: { ...nothing, requeue: 50_000 },
    },
    {
      name: 'ended 58 s ago, the target has not reported the domain → look again in no less than 5 s',
      world: {
        vmi: vmi({ migration: { ...started, endTimestamp: at(-58) } }),
        domain: domain(LifeCycle.Shutoff, StateChangeReason.Migrated),
      },
      want: { ...nothing, requeue: 5_000 },
    },
    {
      name: 'ended over a minute ago, the target never reported the domain → the VMI fails',
      world: {
        vmi: vmi({ migration: { ...started, endTimestamp: at(-61) } }),
        domain: domain(LifeCycle.Shutoff, StateChangeReason.Migrated),
      },
      want: {
        calls: [],
        events: ['Warning Migrated'],
        written: { phase: 'Failed', migrationState: { completed: true, failed: true, endTimestamp: at(-61) } },
      },
    },
    {
      name: 'ended, the target reported the domain ready → nothing to do',
      world: {
        vmi: vmi({
          migration: { ...started, endTimestamp: at(-61), targetState: { domainDetected: true, domainReadyTimestamp: at(-60) } },
        }),
        domain: domain(LifeCycle.Shutoff, StateChangeReason.Migrated),
      },
      want: nothing,
    },
    {
      name: 'ended and completed → the source listener stopped, nothing else',
      world: {
        vmi: vmi({ migration: { ...started, endTimestamp: at(-1), completed: true } }),
        domain: domain(LifeCycle.Shutoff, StateChangeReason.Migrated),
      },
      want: { ...nothing, proxy: ['stop'] },
    },
    {
      name: 'ended and failed → the source listener stopped, nothing else',
      world: { vmi: vmi({ migration: { ...started, endTimestamp: at(-1), failed: true } }), domain: running() },
      want: { ...nothing, proxy: ['stop'] },
    },
    {
      name: "done, even when this node is not the source → the VMI's listener stopped",
      world: { vmi: vmi({ node: 'node03', migration: { ...started, sourceNode: 'node03', endTimestamp: at(-1), completed: true } }) },
      want: { ...nothing, proxy: ['stop'] },
    },
  ];
  for (const c of cases) test(c.name, () => checkSource(c).then(() => undefined));

  test("the failure Event names the migration and the launcher's reason", async () => {
    const f = await checkSource(cases[1]!);
    assert.equal(
      f.events[0]?.message,
      `VirtualMachineInstance migration uid ${migrationUid} failed. reason:operation failed: job migration-out aborted`,
    );
  });

  test('a failed migration: recorded, then its listener stopped on the next round', async () => {
    const f = new SourceFixture({
      vmi: vmi({ migration: started }),
      domain: domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-30), EndTimestamp: at(-1), Failed: true }),
    });
    await f.controller.execute(key);
    assert.equal(f.writes.length, 1);
    assert.deepEqual(f.proxy, []);
    await f.controller.execute(key);
    assert.deepEqual(f.proxy, ['stop']);
    assert.deepEqual(f.stopped, [uid]);
    assert.equal(f.writes.length, 1, 'nothing more written');
    assert.deepEqual(f.calls, []);
  });

  test('the target never reports the domain: a requeue, then Failed once the minute is up', async () => {
    const f = new SourceFixture({
      vmi: vmi({ migration: { ...started, endTimestamp: at(0) } }),
      domain: domain(LifeCycle.Shutoff, StateChangeReason.Migrated),
    });
    assert.equal(await f.controller.execute(key), 60_000);
    f.now += 30_000;
    assert.equal(await f.controller.execute(key), 30_000);
    assert.deepEqual(f.writes, []);
    f.now += 30_000;
    assert.equal(await f.controller.execute(key), undefined);
    assert.equal(f.writes.length, 1);
    assert.partialDeepStrictEqual(f.writes[0], { phase: 'Failed', migrationState: { completed: true, failed: true, endTimestamp: at(0) } });
    assert.match(f.events[0]?.message ?? '', /never observed on the target/);
  });
});

// --- the target ---------------------------------------------------------------------------------

type TargetCall =
  | 'SyncMigrationTarget'
  | 'FinalizeVirtualMachineMigration'
  | 'SignalTargetPodCleanup'
  | 'SyncVirtualMachineCPUs'
  | 'SyncVirtualMachineMemory';

interface TargetWorld {
  vmi?: VirtualMachineInstance;
  domain?: Domain;
  /** The target pod's launcher socket is not there yet. */
  noLauncher?: boolean;
  dialFails?: boolean;
  fail?: Partial<Record<TargetCall, string>>;
  /** The container disks are not served yet. */
  disksNotReady?: boolean;
  /** The target's listeners are up (an earlier round prepared the target). */
  listening?: boolean;
  /** The target's attachment pod has not mounted its volumes yet. */
  hotplugWaiting?: boolean;
}

/** One VMI write: labels and annotations as the VMI carried them, and the status. */
interface TargetWrite {
  labels: Record<string, string>;
  annotations: Record<string, string> | undefined;
  status: Status;
}

/** The VMI migrating to targetHost: labelled for it, still the source's. */
function targetVMI(o: VMIOptions = {}): VirtualMachineInstance {
  return vmi({ ...o, labels: { [MigrationTargetNodeNameLabel]: targetHost, ...o.labels } });
}

/** One MigrationTargetController on targetHost with fakes around it, every side effect in `ops`, in order. */
class TargetFixture {
  now = T0;
  vmi: VirtualMachineInstance | undefined;
  domain: Domain | undefined;
  readonly ops: string[] = [];
  readonly calls: Array<{ call: TargetCall; vmiUID: string; options: unknown }> = [];
  readonly listenerSockets: string[][] = [];
  readonly events: Array<{ type: string; reason: string; message: string }> = [];
  readonly writes: TargetWrite[] = [];
  readonly #ports = new Map<string, Record<string, number>>();
  readonly controller: MigrationTargetController;
  /** Changed by a test to change what the launcher and the mounter do next. */
  readonly world: TargetWorld;

  constructor(world: TargetWorld) {
    this.world = world;
    this.vmi = world.vmi;
    this.domain = world.domain;
    if (world.listening) this.#ports.set(uid, { ...published });
    const reply = (call: TargetCall) => async (req: { vmi?: { vmiJson?: Buffer | Uint8Array | string } | null; options?: unknown }) => {
      this.ops.push(call);
      this.calls.push({ call, vmiUID: sentVMI(req).metadata.uid, options: req.options });
      const message = world.fail?.[call];
      return { success: message === undefined, message: message ?? '' };
    };
    const client: TargetLauncherClient = {
      SyncMigrationTarget: reply('SyncMigrationTarget'),
      FinalizeVirtualMachineMigration: reply('FinalizeVirtualMachineMigration'),
      SignalTargetPodCleanup: reply('SignalTargetPodCleanup'),
      SyncVirtualMachineCPUs: reply('SyncVirtualMachineCPUs'),
      SyncVirtualMachineMemory: reply('SyncVirtualMachineMemory'),
    };
    const op = (name: string) => () => void this.ops.push(name);
    this.controller = new MigrationTargetController({
      logger: pino({ level: 'silent' }),
      host: targetHost,
      migrationIPAddress: targetIP,
      vmis: {
        get: (ns, name) => (this.vmi && this.vmi.metadata.namespace === ns && this.vmi.metadata.name === name ? this.vmi : undefined),
        list: () => (this.vmi ? [this.vmi] : []),
      },
      domains: {
        get: (k) => (k === key ? this.domain : undefined),
        on: () => undefined,
        delete: (k) => {
          this.ops.push(`domains.delete ${k}`);
          if (k === key) this.domain = undefined;
        },
      },
      launchers: {
        client: async (v) => {
          assert.equal(v.metadata.uid, uid, 'the launcher asked for');
          if (world.dialFails) throw new Error('dial unix launcher-sock: connect: connection refused');
          return world.noLauncher ? undefined : client;
        },
        resetClient: (u) => void this.ops.push(`resetClient ${u === uid ? 'uid' : u}`),
        close: (u) => void this.ops.push(`close ${u === uid ? 'uid' : u}`),
      },
      pathInLauncher: inLauncher,
      proxy: {
        startTargetListener: async (u, sockets) => {
          this.ops.push('startTargetListener');
          this.listenerSockets.push([...sockets]);
          // a listening port for each socket, reported with the migration port it stands for
          const ports: Record<string, number> = {};
          sockets.forEach((s, i) => {
            ports[String(40001 + i)] = s.includes('-49153-') ? 49153 : s.includes('-49152-') ? 49152 : 0;
          });
          this.#ports.set(u, ports);
        },
        stopTargetListener: (u) => {
          this.ops.push('stopTargetListener');
          this.#ports.delete(u);
        },
        getTargetListenerPorts: (u) => ({ ...this.#ports.get(u) }),
      },
      statusWriter: {
        update: async (v, status) => {
          this.writes.push({
            labels: structuredClone(v.metadata.labels ?? {}),
            annotations: structuredClone(v.metadata.annotations),
            status: structuredClone(status),
          });
          this.vmi = written(v, status);
        },
      },
      recorder: { event: (_v, type, reason, message) => void this.events.push({ type, reason, message }) },
      // per VMI, as virtualMachineOptions: marked with the VMI it was asked for
      syncOptions: (v) => ({ MemBalloonStatsPeriod: 10, PreallocatedVolumes: [v.metadata.uid] }),
      containerDisks: {
        containerDisksReady: () => {
          this.ops.push('containerDisksReady');
          return !world.disksNotReady;
        },
        mountAndVerify: async () => void this.ops.push('mountAndVerify'),
        unmount: async (u) => void this.ops.push(`unmount ${u === uid ? 'uid' : u}`),
      },
      hotplugVolumes: {
        mount: async (_v, from) => {
          this.ops.push(`hotplug.mount ${from}`);
          if (world.hotplugWaiting) throw new WaitingForHotplugMountError('waiting for the attachment pod');
        },
        unmountAll: async (u) => void this.ops.push(`hotplug.unmountAll ${u === uid ? 'uid' : u}`),
      },
      network: {
        setupPodNetworkPhase1: async () => {
          this.ops.push('setupPodNetworkPhase1');
          return {};
        },
        teardown: op('network.teardown'),
      },
      hostDisks: { create: op('hostDisks.create') },
      deviceOwnership: { setup: op('deviceOwnership.setup') },
      virtioFS: { configure: op('virtioFS.configure') },
      memlock: { adjust: async () => void this.ops.push('memlock.adjust') },
      clock: { now: () => this.now },
    });
  }
}

interface TargetWant {
  /** Every side effect, in order ([] for none). */
  ops: string[];
  /** The Events, as `Type Reason`. */
  events: string[];
  /**
   * The VMI written: its status (a partial match, but conditions — by type — and published ports
   * exactly) and labels (exact); null: nothing written.
   */
  written: null | { status?: Partial<Status>; labels?: Record<string, string> };
  requeue?: number;
  error?: RegExp;
}

interface TargetCase {
  name: string;
  world: TargetWorld;
  want: TargetWant;
}

async function checkTarget(c: TargetCase): Promise<TargetFixture> {
  const f = new TargetFixture(c.world);
  let requeue: number | undefined;
  if (c.want.error) await assert.rejects(f.controller.execute(key), c.want.error);
  else requeue = await f.controller.execute(key);
  assert.deepEqual(f.ops, c.want.ops, 'side effects');
  for (const x of f.calls) assert.equal(x.vmiUID, uid, `the VMI sent with ${x.call}`);
  assert.deepEqual(
    f.events.map((e) => `${e.type} ${e.reason}`),
    c.want.events,
    'Events',
  );
  if (c.want.written === null) {
    assert.deepEqual(f.writes, [], 'no VMI write');
  } else {
    assert.equal(f.writes.length, 1, 'one VMI write');
    const want = c.want.written.status;
    const got = f.writes[0]?.status;
    if (want) assert.partialDeepStrictEqual(got, want, 'the status written');
    // a partial match takes any superset of an array or a map: these are compared whole
    if (want?.conditions) {
      assert.deepEqual(
        (got?.conditions ?? []).map((x) => x.type),
        want.conditions.map((x) => x.type),
        'the conditions written',
      );
    }
    const ports = want?.migrationState?.targetDirectMigrationNodePorts;
    if (ports) assert.deepEqual(got?.migrationState?.targetDirectMigrationNodePorts, ports, 'the ports published');
    if (c.want.written.labels) assert.deepEqual(f.writes[0]?.labels, c.want.written.labels, 'the labels written');
  }
  if (!c.want.error) assert.equal(requeue, c.want.requeue, 'requeue');
  return f;
}

/** The target's preparation, in KubeVirt's order. */
const prepare = [
  'containerDisksReady',
  'mountAndVerify',
  'setupPodNetworkPhase1',
  'hostDisks.create',
  'deviceOwnership.setup',
  'virtioFS.configure',
  'SyncMigrationTarget',
  'memlock.adjust',
  'startTargetListener',
];
const sourceLabels = { [NodeNameLabel]: sourceHost, [MigrationTargetNodeNameLabel]: targetHost };
const targetLabels = { [NodeNameLabel]: targetHost, [MigrationTargetNodeNameLabel]: targetHost };
const publishedState = { targetNodeAddress: targetIP, targetDirectMigrationNodePorts: published } satisfies Partial<State>;
/** Prepared, published, started by the source. */
const migrating = { ...publishedState, startTimestamp: at(-30) } satisfies Partial<State>;
/** The target's domain as libvirt hands it over: running, the migration's end in its metadata. */
const arrived = () => domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-30), EndTimestamp: at(-1) });
const none: TargetWant = { ops: [], events: [], written: null };

describe('MigrationTargetController.execute: which VMIs it handles', () => {
  const cases: TargetCase[] = [
    { name: 'VMI gone from the cache → nothing', world: {}, want: none },
    {
      name: 'labelled for another target node → nothing',
      world: { vmi: vmi({ labels: { [MigrationTargetNodeNameLabel]: 'node03' } }) },
      want: none,
    },
    { name: 'not labelled as a migration target → nothing', world: { vmi: vmi() }, want: none },
    { name: 'no migration state → nothing', world: { vmi: targetVMI({ migration: null }) }, want: none },
    {
      name: 'a target domain that is shut off, no abort → nothing',
      world: { vmi: targetVMI({ migration: migrating }), domain: domain(LifeCycle.Shutoff, StateChangeReason.Destroyed), listening: true },
      want: none,
    },
    {
      name: 'a final VMI → best-effort cleanup: disks, network cache, launcher connection',
      world: { vmi: targetVMI({ phase: 'Failed', migration: migrating }), listening: true },
      want: { ops: ['unmount uid', 'network.teardown', 'resetClient uid'], events: [], written: null },
    },
    {
      name: 'a VMI being deleted → the same best-effort cleanup',
      world: { vmi: targetVMI({ deleting: true, migration: migrating }) },
      want: { ops: ['unmount uid', 'network.teardown', 'resetClient uid'], events: [], written: null },
    },
    {
      name: 'the domain of an earlier VMI of the same name → deleted from the cache, and an error',
      world: { vmi: targetVMI(), domain: domain(LifeCycle.Running, StateChangeReason.Unknown, undefined, oldUID) },
      want: {
        ops: [`domains.delete ${key}`],
        events: [],
        written: null,
        error: /stale domain \(UID 6a3d1f0e-0000-4000-8000-0000000000aa\)/,
      },
    },
  ];
  for (const c of cases) test(c.name, () => checkTarget(c).then(() => undefined));
});

describe('MigrationTargetController.execute: preparing the target (processVMI)', () => {
  const cases: TargetCase[] = [
    {
      name: 'the launcher is not found yet → look again in 1 s, nothing done or written',
      world: { vmi: targetVMI(), noLauncher: true },
      want: { ...none, requeue: TARGET_REQUEUE_MS },
    },
    {
      name: 'the first round with the launcher → disks, network, ownership, SyncMigrationTarget, listeners; the listeners published',
      world: { vmi: targetVMI() },
      want: {
        ops: prepare,
        events: ['Normal PreparingTarget', 'Normal PreparingTarget'],
        written: { status: { migrationState: publishedState }, labels: sourceLabels },
      },
    },
    {
      name: 'the container disks are not served yet → look again in 1 s, not synced',
      world: { vmi: targetVMI(), disksNotReady: true },
      want: { ops: ['containerDisksReady'], events: [], written: null, requeue: TARGET_REQUEUE_MS },
    },
    {
      name: "hotplugged volumes → mounted from the target's own attachment pod (MountFromPod) before the sync",
      world: { vmi: targetVMI({ migration: { targetAttachmentPodUID: 'att-b' } }) },
      want: {
        ops: ['containerDisksReady', 'mountAndVerify', 'hotplug.mount att-b', ...prepare.slice(2)],
        events: ['Normal PreparingTarget', 'Normal PreparingTarget'],
        written: { status: { migrationState: publishedState }, labels: sourceLabels },
      },
    },
    {
      name: 'the target attachment pod has not mounted its volumes yet → look again in 1 s, not synced',
      world: { vmi: targetVMI({ migration: { targetAttachmentPodUID: 'att-b' } }), hotplugWaiting: true },
      want: {
        ops: ['containerDisksReady', 'mountAndVerify', 'hotplug.mount att-b'],
        events: [],
        written: null,
        requeue: TARGET_REQUEUE_MS,
      },
    },
    {
      name: "SyncMigrationTarget fails → rejects with the launcher's message, a SyncFailed Event, no listeners",
      world: { vmi: targetVMI(), fail: { SyncMigrationTarget: 'no space left on device' } },
      want: {
        ops: prepare.slice(0, prepare.indexOf('SyncMigrationTarget') + 1),
        events: ['Warning SyncFailed'],
        written: null,
        error: /syncing migration target failed: no space left on device/,
      },
    },
    {
      name: 'the launcher cannot be dialled → rejects, the client reset',
      world: { vmi: targetVMI(), dialFails: true },
      want: {
        ops: ['resetClient uid'],
        events: ['Warning SyncFailed'],
        written: null,
        error: /unable to create virt-launcher client connection: dial unix/,
      },
    },
    {
      name: 'prepared and published already → nothing',
      world: { vmi: targetVMI({ migration: publishedState }), listening: true },
      want: none,
    },
    {
      name: 'prepared, not yet published (the write was lost) → published again, not prepared again',
      world: { vmi: targetVMI(), listening: true },
      want: { ops: [], events: ['Normal PreparingTarget'], written: { status: { migrationState: publishedState } } },
    },
    {
      name: 'published with another address (a handler restarted with a new IP) → the new one',
      world: { vmi: targetVMI({ migration: { ...publishedState, targetNodeAddress: '10.244.1.99' } }), listening: true },
      want: { ops: [], events: ['Normal PreparingTarget'], written: { status: { migrationState: publishedState } } },
    },
    {
      name: 'the migration already runs, no listeners here → not prepared again',
      world: { vmi: targetVMI({ migration: { startTimestamp: at(-5) } }) },
      want: none,
    },
  ];
  for (const c of cases) test(c.name, () => checkTarget(c).then(() => undefined));

  test("the listeners stand for the launcher pod's libvirt socket and the migration stream; SyncMigrationTarget gets the VMI's options", async () => {
    const f = await checkTarget(cases[1]!);
    assert.deepEqual(f.listenerSockets, [
      [inLauncher(uid, '/var/run/libvirt/virtqemud-sock'), inLauncher(uid, `/var/run/kubevirt/migrationproxy/${uid}-49152-source.sock`)],
    ]);
    assert.deepEqual(f.calls[0]?.options, { MemBalloonStatsPeriod: 10, PreallocatedVolumes: [uid] });
    assert.equal(f.events[0]?.message, VMIMigrationTargetPrepared);
    assert.equal(f.events[1]?.message, `Migration Target is listening at ${targetIP}, on ports: 40001,40002`);
  });

  test('a block migration → a listener for the NBD stream too, published with its port', async () => {
    const f = await checkTarget({
      name: 'block',
      world: { vmi: targetVMI({ status: { migrationMethod: 'BlockMigration' } }) },
      want: {
        ops: prepare,
        events: ['Normal PreparingTarget', 'Normal PreparingTarget'],
        written: { status: { migrationState: { targetDirectMigrationNodePorts: { '40001': 0, '40002': 49152, '40003': 49153 } } } },
      },
    });
    assert.deepEqual(f.listenerSockets, [
      [
        inLauncher(uid, '/var/run/libvirt/virtqemud-sock'),
        inLauncher(uid, `/var/run/kubevirt/migrationproxy/${uid}-49152-source.sock`),
        inLauncher(uid, `/var/run/kubevirt/migrationproxy/${uid}-49153-source.sock`),
      ],
    ]);
  });

  test('the published listeners go into targetState too, when virt-controller created it', async () => {
    const f = await checkTarget({
      name: 'targetState',
      world: { vmi: targetVMI({ migration: { targetState: { node: targetHost } } }) },
      want: {
        ops: prepare,
        events: ['Normal PreparingTarget', 'Normal PreparingTarget'],
        written: {
          status: { migrationState: { ...publishedState, targetState: { nodeAddress: targetIP, directMigrationNodePorts: published } } },
        },
      },
    });
    assert.equal(f.writes[0]?.status.migrationState?.targetState?.node, targetHost);
  });

  test('disks not ready, then ready → prepared on the round they are', async () => {
    const f = new TargetFixture({ vmi: targetVMI(), disksNotReady: true });
    assert.equal(await f.controller.execute(key), TARGET_REQUEUE_MS);
    (f.world as { disksNotReady?: boolean }).disksNotReady = false;
    f.now += 1_000;
    assert.equal(await f.controller.execute(key), undefined);
    assert.deepEqual(f.ops, ['containerDisksReady', ...prepare]);
    assert.equal(f.writes.length, 1);
  });
});

describe('MigrationTargetController.execute: the domain arriving (updateStatus)', () => {
  const cases: TargetCase[] = [
    {
      name: 'the incoming domain seen (paused for the migration) → targetNodeDomainDetected, the memlock limit raised',
      world: {
        vmi: targetVMI({ migration: { ...migrating, targetState: { node: targetHost } } }),
        domain: domain(LifeCycle.Paused, StateChangeReason.Migration),
        listening: true,
      },
      want: {
        ops: ['memlock.adjust'],
        events: [],
        written: {
          status: { migrationState: { targetNodeDomainDetected: true, targetState: { domainDetected: true } } },
          labels: sourceLabels,
        },
      },
    },
    {
      name: 'the domain running here (no end in its metadata yet) → targetNodeDomainReadyTimestamp, MigrationRequired dropped',
      world: {
        vmi: targetVMI({
          migration: { ...migrating, targetNodeDomainDetected: true, targetState: { node: targetHost } },
          status: {
            conditions: [
              { type: 'MigrationRequired', status: 'True' },
              { type: 'LiveMigratable', status: 'True' },
            ],
          },
        }),
        domain: domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(-30) }),
        listening: true,
      },
      want: {
        ops: [],
        events: [],
        written: {
          status: {
            conditions: [{ type: 'LiveMigratable', status: 'True' }],
            migrationState: { targetNodeDomainReadyTimestamp: at(0), targetState: { domainReadyTimestamp: at(0) } },
          },
          labels: sourceLabels,
        },
      },
    },
    {
      name: 'the domain paused by the user here → ready too (a paused guest migrates paused)',
      world: {
        vmi: targetVMI({ migration: { ...migrating, targetNodeDomainDetected: true } }),
        domain: domain(LifeCycle.Paused, StateChangeReason.User),
        listening: true,
      },
      want: { ops: [], events: [], written: { status: { migrationState: { targetNodeDomainReadyTimestamp: at(0) } } } },
    },
    {
      name: "the domain running with the migration's end → acknowledged: the VMI is this node's (labels, nodeName, transport), a Migrated Event",
      world: {
        vmi: targetVMI({
          labels: { [OutdatedLauncherImageLabel]: '' },
          annotations: { [EvictionSourceAnnotation]: 'node01', [CreateMigrationTargetAnnotation]: 'true' },
          migration: { ...migrating, targetNodeDomainDetected: true, targetNodeDomainReadyTimestamp: at(-2) },
          status: { launcherContainerImageVersion: 'registry/virt-launcher:old', evacuationNodeName: sourceHost },
        }),
        domain: arrived(),
        listening: true,
      },
      want: {
        ops: [],
        events: ['Normal Migrated'],
        written: {
          status: {
            nodeName: targetHost,
            migrationTransport: 'Unix',
            migrationState: { startTimestamp: at(-30), endTimestamp: at(-1), targetNodeDomainReadyTimestamp: at(-2) },
          },
          labels: targetLabels,
        },
      },
    },
    {
      name: "the domain's end, not running here → the migration failed (no ack: the VMI stays the source's)",
      world: {
        vmi: targetVMI({ migration: { ...migrating, targetNodeDomainDetected: true } }),
        domain: domain(LifeCycle.Paused, StateChangeReason.Migration, { StartTimestamp: at(-30), EndTimestamp: at(-1) }),
        listening: true,
      },
      want: {
        ops: [],
        events: [],
        written: {
          status: { nodeName: sourceHost, migrationState: { endTimestamp: at(-1), failed: true, completed: true } },
          labels: sourceLabels,
        },
      },
    },
  ];
  for (const c of cases) test(c.name, () => checkTarget(c).then(() => undefined));

  test('the ack clears what belonged to the source pod', async () => {
    const f = await checkTarget(cases[3]!);
    const w = f.writes[0]!;
    assert.equal(w.status.launcherContainerImageVersion, undefined);
    assert.equal(w.status.evacuationNodeName, undefined);
    assert.deepEqual(
      w.annotations,
      { [CreateMigrationTargetAnnotation]: 'true' },
      'eviction-source gone, create-migration-target kept until cleanup',
    );
    assert.equal(f.events[0]?.message, `The VirtualMachineInstance migrated to node ${targetHost}.`);
  });

  test('the incoming domain, seen before the migration started → detected, not ready, listeners published as they are', async () => {
    const f = await checkTarget({
      name: 'early',
      world: {
        vmi: targetVMI({ migration: publishedState }),
        domain: domain(LifeCycle.Paused, StateChangeReason.StartingUp),
        listening: true,
      },
      want: { ops: ['memlock.adjust'], events: [], written: { status: { migrationState: { targetNodeDomainDetected: true } } } },
    });
    assert.equal(f.writes[0]?.status.migrationState?.targetNodeDomainReadyTimestamp, undefined);
  });
});

describe('MigrationTargetController.execute: finalizing (finalizeMigration)', () => {
  /** Acknowledged by an earlier round: started, ended, the VMI this node's. */
  const ended = {
    ...migrating,
    endTimestamp: at(-1),
    targetNodeDomainDetected: true,
    targetNodeDomainReadyTimestamp: at(-2),
  } satisfies Partial<State>;
  const acked = (o: VMIOptions = {}) =>
    vmi({
      ...o,
      node: targetHost,
      labels: { [MigrationTargetNodeNameLabel]: targetHost, ...o.labels },
      migration: { ...ended, ...o.migration },
      status: { migrationTransport: 'Unix', ...o.status },
    });
  const cases: TargetCase[] = [
    {
      // as KubeVirt: the ack (and its Event) repeats on each round the domain carries the migration's end
      name: 'started and ended, not completed, the domain running → FinalizeVirtualMachineMigration, completed',
      world: { vmi: acked(), domain: arrived(), listening: true },
      want: {
        ops: ['FinalizeVirtualMachineMigration'],
        events: ['Normal Migrated'],
        written: { status: { migrationState: { completed: true } }, labels: targetLabels },
      },
    },
    {
      name: 'a vCPU hotplug asked for meanwhile (HotVCPUChange) → SyncVirtualMachineCPUs first, the topology in the status',
      world: {
        vmi: acked({
          labels: { [VirtualMachinePodCPULimitsLabel]: '8' },
          spec: { cpu: { sockets: 4, cores: 2, threads: 1 } },
          status: { conditions: [{ type: 'HotVCPUChange', status: 'True' }], currentCPUTopology: { sockets: 2, cores: 2, threads: 1 } },
        }),
        domain: arrived(),
        listening: true,
      },
      want: {
        ops: ['SyncVirtualMachineCPUs', 'FinalizeVirtualMachineMigration'],
        events: ['Normal Migrated'],
        written: {
          status: { conditions: [], currentCPUTopology: { sockets: 4, cores: 2, threads: 1 }, migrationState: { completed: true } },
          labels: targetLabels,
        },
      },
    },
    {
      name: 'the vCPU hotplug fails → a Warning Event, the condition dropped, the migration finalized all the same',
      world: {
        vmi: acked({
          spec: { cpu: { sockets: 4, cores: 2, threads: 1 } },
          status: { conditions: [{ type: 'HotVCPUChange', status: 'True' }], currentCPUTopology: { sockets: 2, cores: 2, threads: 1 } },
        }),
        domain: arrived(),
        listening: true,
        fail: { SyncVirtualMachineCPUs: 'cannot hotplug vCPUs' },
      },
      want: {
        ops: ['SyncVirtualMachineCPUs', 'FinalizeVirtualMachineMigration'],
        events: ['Warning cannot hotplug vCPUs', 'Normal Migrated'],
        written: {
          status: { conditions: [], currentCPUTopology: { sockets: 2 }, migrationState: { completed: true } },
        },
      },
    },
    {
      name: 'a memory hotplug the target pod has room for (HotMemoryChange) → SyncVirtualMachineMemory, guestRequested',
      world: {
        vmi: acked({
          labels: { [VirtualMachinePodMemoryRequestsLabel]: '4Gi' },
          spec: { memory: { guest: '3Gi', maxGuest: '8Gi' }, resources: { requests: { memory: '3Gi' } } },
          status: { conditions: [{ type: 'HotMemoryChange', status: 'True' }] },
        }),
        domain: arrived(),
        listening: true,
      },
      want: {
        ops: ['SyncVirtualMachineMemory', 'FinalizeVirtualMachineMigration'],
        events: ['Normal Migrated'],
        written: {
          status: { conditions: [], memory: { guestRequested: '3Gi' }, migrationState: { completed: true } },
          labels: targetLabels,
        },
      },
    },
    {
      name: 'a memory hotplug larger than the target pod → not asked for, a Warning Event, finalized all the same',
      world: {
        vmi: acked({
          labels: { [VirtualMachinePodMemoryRequestsLabel]: '2Gi' },
          spec: { memory: { guest: '3Gi', maxGuest: '8Gi' }, resources: { requests: { memory: '3Gi' } } },
          status: { conditions: [{ type: 'HotMemoryChange', status: 'True' }] },
        }),
        domain: arrived(),
        listening: true,
      },
      want: {
        ops: ['FinalizeVirtualMachineMigration'],
        events: ['Warning amount of requested guest memory (3Gi) exceeds the launcher memory request (2Gi)', 'Normal Migrated'],
        written: { status: { conditions: [], migrationState: { completed: true } }, labels: targetLabels },
      },
    },
    {
      name: 'a volume migration → its condition and migratedVolumes dropped',
      world: {
        vmi: acked({
          status: { conditions: [{ type: 'VolumesChange', status: 'True' }], migratedVolumes: [{ volumeName: 'disk0' }] },
        }),
        domain: arrived(),
        listening: true,
      },
      want: {
        ops: ['FinalizeVirtualMachineMigration'],
        events: ['Normal Migrated'],
        written: { status: { conditions: [], migrationState: { completed: true } } },
      },
    },
    {
      name: 'FinalizeVirtualMachineMigration fails → rejects, not completed (nothing new to write)',
      world: {
        vmi: acked({ status: { conditions: [{ type: 'LiveMigratable', status: 'True' }] } }),
        domain: arrived(),
        listening: true,
        fail: { FinalizeVirtualMachineMigration: 'domain not found' },
      },
      want: {
        ops: ['FinalizeVirtualMachineMigration'],
        events: ['Warning SyncFailed', 'Normal Migrated'],
        written: null,
        error: /failed to finalize migration: domain not found/,
      },
    },
    {
      name: 'ended, but the domain is not active here → failed and completed, not finalized',
      world: {
        vmi: targetVMI({ migration: { ...migrating, endTimestamp: at(-1), targetNodeDomainDetected: true } }),
        domain: domain(LifeCycle.Paused, StateChangeReason.Migration),
        listening: true,
      },
      want: {
        ops: [],
        events: [],
        written: { status: { nodeName: sourceHost, migrationState: { failed: true, completed: true } }, labels: sourceLabels },
      },
    },
  ];
  for (const c of cases) test(c.name, () => checkTarget(c).then(() => undefined));

  test("after the vCPU hotplug: the pod CPU limit label gone, SyncVirtualMachineCPUs with the VMI's options", async () => {
    const f = await checkTarget(cases[1]!);
    assert.equal(f.writes[0]?.labels[VirtualMachinePodCPULimitsLabel], undefined);
    assert.deepEqual(f.calls[0]?.options, { MemBalloonStatsPeriod: 10, PreallocatedVolumes: [uid] });
    assert.equal(f.writes[0]?.status.migratedVolumes, undefined);
  });
});

describe('MigrationTargetController.execute: final cleanup (finalCleanup)', () => {
  const done = (o: Partial<State>, node = targetHost) =>
    vmi({
      node,
      labels: { [MigrationTargetNodeNameLabel]: targetHost },
      annotations: { [CreateMigrationTargetAnnotation]: 'true' },
      migration: { ...migrating, endTimestamp: at(-1), ...o },
    });
  const cases: TargetCase[] = [
    {
      name: 'completed → FinalizeVirtualMachineMigration, the target label removed, the listeners stopped, the connection reset',
      world: { vmi: done({ completed: true }), domain: arrived(), listening: true },
      want: {
        ops: ['FinalizeVirtualMachineMigration', 'stopTargetListener', 'resetClient uid'],
        events: [],
        written: { labels: { [NodeNameLabel]: targetHost } },
      },
    },
    {
      name: 'failed → the target pod told to clean up, disks unmounted, network cache and domain dropped, the launcher forgotten',
      world: {
        vmi: done({ failed: true, completed: true }, sourceHost),
        domain: domain(LifeCycle.Paused, StateChangeReason.Migration),
        listening: true,
      },
      want: {
        ops: ['SignalTargetPodCleanup', 'unmount uid', 'network.teardown', `domains.delete ${key}`, 'stopTargetListener', 'close uid'],
        events: [],
        written: { labels: { [NodeNameLabel]: sourceHost } },
      },
    },
    {
      name: "failed, with the target's attachment pod → its hotplugged volumes unmounted too",
      world: { vmi: done({ failed: true, targetAttachmentPodUID: 'att-b' }, sourceHost), listening: true },
      want: {
        ops: [
          'SignalTargetPodCleanup',
          'unmount uid',
          'hotplug.unmountAll uid',
          'network.teardown',
          `domains.delete ${key}`,
          'stopTargetListener',
          'close uid',
        ],
        events: [],
        written: { labels: { [NodeNameLabel]: sourceHost } },
      },
    },
    {
      name: 'failed, no domain here (it never arrived) → the same cleanup',
      world: { vmi: done({ failed: true }, sourceHost), listening: true },
      want: {
        ops: ['SignalTargetPodCleanup', 'unmount uid', 'network.teardown', `domains.delete ${key}`, 'stopTargetListener', 'close uid'],
        events: [],
        written: { labels: { [NodeNameLabel]: sourceHost } },
      },
    },
    {
      name: 'failed, the target pod does not answer SignalTargetPodCleanup → ignored, cleaned up all the same',
      world: { vmi: done({ failed: true }, sourceHost), listening: true, fail: { SignalTargetPodCleanup: 'connection reset' } },
      want: {
        ops: ['SignalTargetPodCleanup', 'unmount uid', 'network.teardown', `domains.delete ${key}`, 'stopTargetListener', 'close uid'],
        events: [],
        written: { labels: { [NodeNameLabel]: sourceHost } },
      },
    },
    {
      name: 'failed, no launcher found → no signal, the rest of the cleanup',
      world: { vmi: done({ failed: true }, sourceHost), noLauncher: true },
      want: {
        ops: ['unmount uid', 'network.teardown', `domains.delete ${key}`, 'stopTargetListener', 'close uid'],
        events: [],
        written: { labels: { [NodeNameLabel]: sourceHost } },
      },
    },
    {
      name: 'a failed post-copy while the VMI still runs → wait: the guest lives only in this pod',
      world: {
        vmi: done({ failed: true }, sourceHost),
        domain: domain(LifeCycle.Paused, StateChangeReason.PostcopyFailed),
        listening: true,
      },
      want: { ...none, requeue: TARGET_REQUEUE_MS },
    },
    {
      name: 'completed, FinalizeVirtualMachineMigration fails → rejects, the label stays (but the listeners are stopped)',
      world: {
        vmi: done({ completed: true }),
        domain: arrived(),
        listening: true,
        fail: { FinalizeVirtualMachineMigration: 'domain not found' },
      },
      want: {
        ops: ['FinalizeVirtualMachineMigration', 'stopTargetListener', 'resetClient uid'],
        events: [],
        written: null,
        error: /domain not found/,
      },
    },
  ];
  for (const c of cases) test(c.name, () => checkTarget(c).then(() => undefined));

  test('the create-migration-target annotation goes with a successful migration only', async () => {
    const ok = await checkTarget(cases[0]!);
    assert.equal(ok.writes[0]?.annotations?.[CreateMigrationTargetAnnotation], undefined);
    const failed = await checkTarget(cases[1]!);
    assert.equal(failed.writes[0]?.annotations?.[CreateMigrationTargetAnnotation], 'true');
    assert.deepEqual(
      failed.calls.map((x) => x.call),
      ['SignalTargetPodCleanup'],
    );
  });
});

describe('MigrationTargetController: a migration from start to end', () => {
  test('prepare, publish, the domain arrives, ack, finalize, clean up — each step once', async () => {
    const f = new TargetFixture({ vmi: targetVMI(), noLauncher: true });
    const round = async (name: string, want: { ops: string[]; events: string[]; writes: number }) => {
      const ops = f.ops.length;
      const events = f.events.length;
      const writes = f.writes.length;
      assert.equal(await f.controller.execute(key), undefined, `${name}: requeue`);
      assert.deepEqual(f.ops.slice(ops), want.ops, `${name}: side effects`);
      assert.deepEqual(
        f.events.slice(events).map((e) => `${e.type} ${e.reason}`),
        want.events,
        `${name}: Events`,
      );
      assert.equal(f.writes.length - writes, want.writes, `${name}: writes`);
    };

    assert.equal(await f.controller.execute(key), TARGET_REQUEUE_MS, 'no launcher yet');
    assert.deepEqual(f.writes, []);

    (f.world as { noLauncher?: boolean }).noLauncher = false;
    await round('prepare', { ops: prepare, events: ['Normal PreparingTarget', 'Normal PreparingTarget'], writes: 1 });
    assert.partialDeepStrictEqual(f.vmi?.status?.migrationState, publishedState);
    await round('prepared: nothing to do', { ops: [], events: [], writes: 0 });

    // the source starts the migration (its handler writes the start); the incoming domain shows up here
    f.vmi = written(f.vmi!, { ...f.vmi!.status, migrationState: { ...f.vmi!.status!.migrationState, startTimestamp: at(1) } });
    f.domain = domain(LifeCycle.Paused, StateChangeReason.Migration, { StartTimestamp: at(1) });
    f.now += 2_000;
    await round('domain detected', { ops: ['memlock.adjust'], events: [], writes: 1 });
    assert.equal(f.vmi?.status?.migrationState?.targetNodeDomainDetected, true);

    // libvirt hands the guest over: running here, the end in the metadata
    f.domain = domain(LifeCycle.Running, StateChangeReason.Unknown, { StartTimestamp: at(1), EndTimestamp: at(9) });
    f.now += 8_000;
    await round('ack', { ops: [], events: ['Normal Migrated'], writes: 1 });
    assert.equal(f.vmi?.status?.nodeName, targetHost);
    assert.equal(f.vmi?.metadata.labels?.[NodeNameLabel], targetHost);
    assert.equal(f.vmi?.status?.migrationState?.targetNodeDomainReadyTimestamp, at(10));
    assert.equal(f.vmi?.status?.migrationState?.endTimestamp, at(9));

    await round('finalize', { ops: ['FinalizeVirtualMachineMigration'], events: ['Normal Migrated'], writes: 1 });
    assert.equal(f.vmi?.status?.migrationState?.completed, true);

    await round('cleanup', { ops: ['FinalizeVirtualMachineMigration', 'stopTargetListener', 'resetClient uid'], events: [], writes: 1 });
    assert.equal(f.vmi?.metadata.labels?.[MigrationTargetNodeNameLabel], undefined);

    // out of this controller's hands
    await round('after', { ops: [], events: [], writes: 0 });
    assert.equal(f.vmi?.status?.migrationState?.failed, undefined);
  });

  test('an aborted migration: ended without the domain running here → failed, then cleaned up as failed', async () => {
    const f = new TargetFixture({
      vmi: targetVMI({ migration: { ...migrating, abortRequested: true, targetNodeDomainDetected: true } }),
      domain: domain(LifeCycle.Paused, StateChangeReason.Migration, { StartTimestamp: at(-30) }),
      listening: true,
    });
    // QEMU's job ends on the source; the source handler records its end
    f.domain = domain(LifeCycle.Paused, StateChangeReason.Migration, { StartTimestamp: at(-30), EndTimestamp: at(-1) });
    await f.controller.execute(key);
    assert.partialDeepStrictEqual(f.vmi?.status?.migrationState, { endTimestamp: at(-1), failed: true, completed: true });
    assert.equal(f.vmi?.status?.nodeName, sourceHost);
    const before = f.ops.length;
    await f.controller.execute(key);
    assert.deepEqual(f.ops.slice(before), [
      'SignalTargetPodCleanup',
      'unmount uid',
      'network.teardown',
      `domains.delete ${key}`,
      'stopTargetListener',
      'close uid',
    ]);
    assert.equal(f.vmi?.metadata.labels?.[MigrationTargetNodeNameLabel], undefined);
  });

  // sync marks such a migration failed before processVMI, whose abortInProgress then sees it done and
  // returns ("already prepared"): the checks read the status the round is building, as KubeVirt's do
  test('an abort whose end arrived, the domain not active here → failed without preparing the target again', async () => {
    await checkTarget({
      name: 'abort ended',
      world: {
        vmi: targetVMI({ migration: { ...migrating, abortRequested: true, endTimestamp: at(-1), targetNodeDomainDetected: true } }),
        domain: domain(LifeCycle.Paused, StateChangeReason.Migration),
        listening: true,
      },
      want: { ops: [], events: [], written: { status: { migrationState: { failed: true, completed: true } } } },
    });
  });
});
