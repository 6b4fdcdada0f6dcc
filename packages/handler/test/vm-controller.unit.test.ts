// The VirtualMachineController's decisions, table by table in the style of KubeVirt's
// pkg/virt-handler/vm_test.go: each case sets up the VMI cache, the domain cache and the launcher as
// the controller finds them, runs one execute(), and checks what it did — the Cmd calls made on the
// launcher, the Events recorded, the VMI status written, the requeue asked for, the launcher forgotten.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import {
  newDomain,
  parseDomain,
  parseVMI,
  type Domain,
  type VirtualMachineInstance,
  type VirtualMachineInstanceStatus,
} from '@kubevirt-ts/shared';
import type { GhostRecord } from '../src/launcher-clients.ts';
import { CONTAINER_DISK_READY_TIMEOUT_MS, type ContainerDiskMounter } from '../src/container-disk/mounter.ts';
import {
  CONTAINER_DISKS_REQUEUE_MS,
  DEFAULT_GRACE_PERIOD_SECONDS,
  LAUNCHER_INITIALIZING_REQUEUE_MS,
  LAUNCHER_START_TIMEOUT_MS,
  SHUTDOWN_RESEND_MS,
  SYNC_FAILED_REQUEUE_MS,
  VirtualMachineController,
  type LauncherClient,
  type LauncherClientFactory,
} from '../src/vm-controller.ts';

const host = 'node01';
const uid = '6a3d1f0e-0000-4000-8000-000000000001';
const oldUID = '6a3d1f0e-0000-4000-8000-0000000000aa';
const key = 'default/testvmi';
const socketFile = `/pods/pod-uid/volumes/kubernetes.io~empty-dir/sockets/launcher-sock`;
const T0 = Date.parse('2026-12-01T10:00:00Z');

type Phase = 'Pending' | 'Scheduling' | 'Scheduled' | 'Running' | 'Succeeded' | 'Failed' | '';

interface VMIOptions {
  phase?: Phase;
  deleting?: boolean;
  grace?: number;
  node?: string;
  uid?: string;
  status?: Partial<VirtualMachineInstanceStatus>;
}

const lastWritten: Partial<VirtualMachineInstanceStatus> = {
  conditions: [
    { type: 'LiveMigratable', status: 'True', lastProbeTime: null, lastTransitionTime: null },
    { type: 'StorageLiveMigratable', status: 'True', lastProbeTime: null, lastTransitionTime: null },
  ],
  migrationMethod: 'LiveMigration',
};

function vmi(o: VMIOptions = {}): VirtualMachineInstance {
  return parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: {
      name: 'testvmi',
      namespace: 'default',
      uid: o.uid ?? uid,
      resourceVersion: '7',
      labels: { 'kubevirt.io/nodeName': o.node ?? host },
      ...(o.deleting ? { deletionTimestamp: '2026-12-01T09:59:00Z' } : {}),
    },
    spec: {
      domain: { devices: {} },
      ...(o.grace === undefined ? {} : { terminationGracePeriodSeconds: o.grace }),
    },
    // as the handler last wrote it: migratability is written on every round, with or without a domain
    status: { phase: o.phase ?? 'Running', nodeName: o.node ?? host, ...lastWritten, ...o.status },
  });
}

function domain(status: string, reason = 'Unknown', patch: (d: Domain) => void = () => undefined): Domain {
  const d = newDomain({ name: 'testvmi', namespace: 'default', uid });
  d.Status.Status = status;
  d.Status.Reason = reason;
  patch(d);
  return parseDomain(d);
}

const withUID = (u: string) => (d: Domain) => {
  d.Spec.Metadata.KubeVirt.UID = u;
  d.ObjectMeta.uid = u;
};
const withGrace = (seconds: number) => (d: Domain) => {
  d.Spec.Metadata.KubeVirt.GracePeriod = { DeletionGracePeriodSeconds: seconds, DeletionTimestamp: null, MarkedForGracefulShutdown: null };
};
const withAgentChannel = (d: Domain) => {
  d.Spec.Devices.Channels = [
    { Type: 'unix', Source: null, Target: { Name: 'org.qemu.guest_agent.0', Type: 'virtio', Address: '', Port: 0, State: 'connected' } },
  ];
};
const withACPI = (d: Domain) => {
  d.Spec.Features = { ...d.Spec.Features, ACPI: {} } as Domain['Spec']['Features'];
};

type Call = 'SyncVirtualMachine' | 'ShutdownVirtualMachine' | 'KillVirtualMachine' | 'DeleteVirtualMachine' | 'VirtualMachineMemoryDump';

/** Where the VMI's launcher is, as LauncherClients would find it. */
interface LauncherSetup {
  /** A ghost record exists (the launcher was found before, maybe by an earlier handler). */
  known?: boolean;
  /** launcher-sock is there. */
  socket?: boolean;
  /** only launcher-init-sock is there. */
  initializing?: boolean;
  /** The watchdog or the socket's absence marks it unresponsive. */
  unresponsive?: boolean;
  /** Dialing the launcher fails. */
  dialFails?: boolean;
  /** The Cmd replies: success:false with this message. */
  fail?: Partial<Record<Call, string>>;
  /** GetGuestInfo's VirtualMachineInstanceGuestAgentInfo. */
  guestInfo?: object;
}

class FakeLaunchers implements LauncherClientFactory {
  readonly calls: Array<{ call: Call; uid: string; vmiUID: string }> = [];
  /** The options of each SyncVirtualMachine. */
  readonly syncOptions: unknown[] = [];
  readonly remembered: string[] = [];
  readonly closed: string[] = [];
  readonly resets: string[] = [];
  guestInfoCalls = 0;
  readonly #records = new Map<string, GhostRecord>();
  /** Changed by a test to change what the launcher does next. */
  readonly setup: LauncherSetup;

  constructor(setup: LauncherSetup, recordUID: string) {
    this.setup = setup;
    const record = { name: 'testvmi', namespace: 'default', socketFile, uid: recordUID };
    if (setup.known) this.#records.set(recordUID, record);
  }

  record(u: string) {
    return this.#records.get(u);
  }
  ghostRecords() {
    return [...this.#records.values()];
  }
  findSocket(_vmi: VirtualMachineInstance) {
    return this.setup.socket ? { socket: socketFile, initializing: false } : { initializing: Boolean(this.setup.initializing) };
  }
  remember(v: VirtualMachineInstance, socket: string) {
    this.remembered.push(v.metadata.uid);
    const record = { name: v.metadata.name, namespace: v.metadata.namespace, socketFile: socket, uid: v.metadata.uid };
    this.#records.set(v.metadata.uid, record);
    return record;
  }
  isUnresponsive(_socket: string) {
    return Boolean(this.setup.unresponsive);
  }
  resetClient(u: string) {
    this.resets.push(u);
  }
  close(u: string) {
    this.closed.push(u);
    this.#records.delete(u);
  }
  async client(u: string): Promise<LauncherClient> {
    if (this.setup.dialFails) throw new Error('dial unix launcher-sock: connect: connection refused');
    const reply = (call: Call) => async (req: { vmi?: { vmiJson?: Buffer | Uint8Array | string } | null; options?: unknown }) => {
      const sent = JSON.parse(Buffer.from(req.vmi?.vmiJson ?? '{}').toString()) as VirtualMachineInstance;
      this.calls.push({ call, uid: u, vmiUID: sent.metadata.uid });
      if (call === 'SyncVirtualMachine') this.syncOptions.push(req.options);
      this.onCall?.(call);
      const message = this.setup.fail?.[call];
      return { success: message === undefined, message: message ?? '' };
    };
    return {
      SyncVirtualMachine: reply('SyncVirtualMachine'),
      ShutdownVirtualMachine: reply('ShutdownVirtualMachine'),
      KillVirtualMachine: reply('KillVirtualMachine'),
      DeleteVirtualMachine: reply('DeleteVirtualMachine'),
      VirtualMachineMemoryDump: reply('VirtualMachineMemoryDump'),
      GetGuestInfo: async () => {
        this.guestInfoCalls++;
        return { guestInfoResponse: JSON.stringify(this.setup.guestInfo ?? {}), response: { success: true, message: '' } };
      },
    };
  }
  onCall?: (call: Call) => void;
}

interface World {
  /** The VMI in this node's (source) informer. */
  vmi?: VirtualMachineInstance;
  /** The VMI in the migration-target informer. */
  target?: VirtualMachineInstance;
  domain?: Domain;
  launcher?: LauncherSetup;
  /** The domain the launcher reports once SyncVirtualMachine returns. */
  domainAfterSync?: Domain;
  /** The status write fails (a 409 from kube-apiserver). */
  writeFails?: boolean;
  /** The container disks' mounter; none: the controller has no mounter. */
  disks?: DiskSetup;
}

/** What the container disks' mounter finds. */
interface DiskSetup {
  /** The disks' containers serve their sockets. */
  ready?: boolean;
  /** Mounting fails with this. */
  mountFails?: string;
}

/** Records the controller's calls; answers as DiskSetup says, and KubeVirt's one-minute error. */
class FakeMounter implements ContainerDiskMounter {
  readonly calls: string[] = [];
  readonly #setup: DiskSetup;
  readonly #now: () => number;
  constructor(setup: DiskSetup, now: () => number) {
    this.#setup = setup;
    this.#now = now;
  }
  containerDisksReady(_vmi: VirtualMachineInstance, since: number): boolean {
    this.calls.push('ready');
    if (this.#setup.ready) return true;
    if (this.#now() > since + CONTAINER_DISK_READY_TIMEOUT_MS) throw new Error('containerdisk data still not ready after one minute');
    return false;
  }
  async mountAndVerify(_vmi: VirtualMachineInstance): Promise<void> {
    this.calls.push('mount');
    if (this.#setup.mountFails) throw new Error(this.#setup.mountFails);
  }
  async unmount(vmiUID: string): Promise<void> {
    this.calls.push(`unmount ${vmiUID}`);
  }
}

/** One controller with fakes around it; the clock only moves when a test moves it. */
class Fixture {
  now = T0;
  readonly launchers: FakeLaunchers;
  readonly events: string[] = [];
  readonly writes: VirtualMachineInstanceStatus[] = [];
  readonly controller: VirtualMachineController;
  readonly mounter: FakeMounter | undefined;
  readonly #domains = new Map<string, Domain>();

  constructor(w: World) {
    const recordUID = w.vmi?.metadata.uid ?? w.domain?.Spec.Metadata.KubeVirt.UID ?? uid;
    this.launchers = new FakeLaunchers(w.launcher ?? {}, recordUID);
    if (w.domain) this.#domains.set(key, w.domain);
    this.launchers.onCall = (call) => {
      if (call === 'SyncVirtualMachine' && w.domainAfterSync) this.#domains.set(key, w.domainAfterSync);
    };
    const store = (v: VirtualMachineInstance | undefined) => ({
      get: (ns: string, name: string) => (v && v.metadata.namespace === ns && v.metadata.name === name ? v : undefined),
      list: () => (v ? [v] : []),
    });
    const domains = this.#domains;
    this.mounter = w.disks ? new FakeMounter(w.disks, () => this.now) : undefined;
    this.controller = new VirtualMachineController({
      ...(this.mounter ? { containerDisks: this.mounter } : {}),
      logger: pino({ level: 'silent' }),
      host,
      vmis: [store(w.vmi), store(w.target)],
      domains: { get: (k) => domains.get(k), list: () => [...domains.values()], on: () => undefined },
      launchers: this.launchers,
      statusWriter: {
        update: async (_vmi, status) => {
          if (w.writeFails) throw new Error('the VMI changed meanwhile (409), retrying');
          this.writes.push(status);
        },
      },
      recorder: { event: (_vmi, type, reason) => void this.events.push(`${type} ${reason}`) },
      clock: { now: () => this.now },
      // per VMI, as virtualMachineOptions: the fake marks the options with the VMI it was asked for
      syncOptions: (v) => ({ MemBalloonStatsPeriod: 10, PreallocatedVolumes: [v.metadata.uid] }),
    });
  }

  removeDomain(): void {
    this.#domains.delete(key);
  }
}

interface Want {
  /** The Cmd calls, in order ([] for none). */
  calls: Call[];
  /** The Events recorded, as `Type Reason` ([] for none). */
  events: string[];
  /** The phase of the status written; null: no status written. */
  written: string | null;
  /** execute()'s requeue delay (undefined: none). */
  requeue?: number;
  /** execute() rejects with this. */
  error?: RegExp;
  /** The launcher was forgotten (closed). */
  closed?: boolean;
  /** The launcher's socket was found and remembered this round. */
  remembered?: boolean;
  /** The condition of this type written (with its status). */
  condition?: [type: string, status: string];
  /** The UID the Cmd calls named (default: the VMI's). */
  callUID?: string;
  /** The mounter's calls this round (checked when given). */
  mounts?: string[];
}

interface Case {
  name: string;
  world: World;
  /** Earlier rounds and clock moves before the checked execute(). */
  before?: (f: Fixture) => Promise<void>;
  want: Want;
}

async function check(c: Case): Promise<void> {
  const f = new Fixture(c.world);
  await c.before?.(f);
  const callsBefore = f.launchers.calls.length;
  const eventsBefore = f.events.length;
  const writesBefore = f.writes.length;
  const mountsBefore = f.mounter?.calls.length ?? 0;
  let requeue: number | undefined;
  if (c.want.error) {
    await assert.rejects(f.controller.execute(key), c.want.error);
  } else {
    requeue = await f.controller.execute(key);
  }
  const calls = f.launchers.calls.slice(callsBefore);
  assert.deepEqual(
    calls.map((x) => x.call),
    c.want.calls,
    'Cmd calls',
  );
  for (const x of calls) assert.equal(x.vmiUID, c.want.callUID ?? uid, `the VMI sent with ${x.call}`);
  assert.deepEqual(f.events.slice(eventsBefore), c.want.events, 'Events');
  const writes = f.writes.slice(writesBefore);
  if (c.want.written === null) {
    assert.deepEqual(writes, [], 'no status write');
  } else {
    assert.equal(writes.length, 1, 'one status write');
    assert.equal(writes[0]?.phase, c.want.written, 'written phase');
  }
  if (c.want.condition) {
    const [type, status] = c.want.condition;
    const cond = writes[0]?.conditions?.find((x) => x.type === type);
    assert.equal(cond?.status, status, `condition ${type}`);
  }
  if (!c.want.error) assert.equal(requeue, c.want.requeue, 'requeue');
  assert.equal(f.launchers.closed.includes(c.want.callUID ?? uid), Boolean(c.want.closed), 'launcher closed');
  assert.equal(f.launchers.remembered.length > 0, Boolean(c.want.remembered), 'launcher remembered');
  if (c.want.mounts) assert.deepEqual(f.mounter?.calls.slice(mountsBefore), c.want.mounts, 'mounter calls');
}

const ready: LauncherSetup = { known: true };
const grace = DEFAULT_GRACE_PERIOD_SECONDS * 1000;

describe('VirtualMachineController.execute: shutdown (processVmShutdown)', () => {
  const cases: Case[] = [
    {
      name: 'VMI gone from the cache, domain running → ACPI shutdown, re-sent within 5 s, no status to write',
      world: { domain: domain('Running'), launcher: ready },
      want: { calls: ['ShutdownVirtualMachine'], events: [], written: null, requeue: SHUTDOWN_RESEND_MS },
    },
    {
      name: 'VMI with a deletionTimestamp, domain running → shutdown and a ShuttingDown Event',
      world: { vmi: vmi({ deleting: true }), domain: domain('Running'), launcher: ready },
      want: { calls: ['ShutdownVirtualMachine'], events: ['Normal ShuttingDown'], written: null, requeue: SHUTDOWN_RESEND_MS },
    },
    {
      name: 'VMI being deleted with a domain paused → shutdown (paused is alive)',
      world: { vmi: vmi({ deleting: true }), domain: domain('Paused', 'User'), launcher: ready },
      want: { calls: ['ShutdownVirtualMachine'], events: ['Normal ShuttingDown'], written: null, requeue: SHUTDOWN_RESEND_MS },
    },
    {
      name: 'VMI being deleted with a domain shutting down → shutdown re-sent (still alive)',
      world: { vmi: vmi({ deleting: true }), domain: domain('ShuttingDown', 'User'), launcher: ready },
      want: { calls: ['ShutdownVirtualMachine'], events: ['Normal ShuttingDown'], written: null, requeue: SHUTDOWN_RESEND_MS },
    },
    {
      name: 'VMI Succeeded while its domain still runs → shutdown',
      world: { vmi: vmi({ phase: 'Succeeded' }), domain: domain('Running'), launcher: ready },
      want: { calls: ['ShutdownVirtualMachine'], events: ['Normal ShuttingDown'], written: null, requeue: SHUTDOWN_RESEND_MS },
    },
    {
      name: 'a grace period shorter than the re-send interval → requeue when it ends',
      world: { vmi: vmi({ deleting: true, grace: 2 }), domain: domain('Running'), launcher: ready },
      want: { calls: ['ShutdownVirtualMachine'], events: ['Normal ShuttingDown'], written: null, requeue: 2_000 },
    },
    {
      name: 'terminationGracePeriodSeconds 0 → kill at once, Deleted Event',
      world: { vmi: vmi({ deleting: true, grace: 0 }), domain: domain('Running'), launcher: ready },
      want: { calls: ['KillVirtualMachine'], events: ['Normal Deleted'], written: null, requeue: SHUTDOWN_RESEND_MS },
    },
    {
      name: 'VMI gone, the domain carries grace period 0 → kill',
      world: { domain: domain('Running', 'Unknown', withGrace(0)), launcher: ready },
      want: { calls: ['KillVirtualMachine'], events: [], written: null, requeue: SHUTDOWN_RESEND_MS },
    },
    {
      name: "the VMI's grace period wins over the domain's",
      world: { vmi: vmi({ deleting: true, grace: 3 }), domain: domain('Running', 'Unknown', withGrace(0)), launcher: ready },
      want: { calls: ['ShutdownVirtualMachine'], events: ['Normal ShuttingDown'], written: null, requeue: 3_000 },
    },
    {
      name: 'second round inside the grace period → shutdown re-sent without a second Event',
      world: { vmi: vmi({ deleting: true }), domain: domain('Running'), launcher: ready },
      before: async (f) => {
        await f.controller.execute(key);
        f.now += 10_000;
      },
      want: { calls: ['ShutdownVirtualMachine'], events: [], written: null, requeue: SHUTDOWN_RESEND_MS },
    },
    {
      name: 'last seconds of the grace period → requeue when it ends',
      world: { vmi: vmi({ deleting: true }), domain: domain('Running'), launcher: ready },
      before: async (f) => {
        await f.controller.execute(key);
        f.now += grace - 1_500;
      },
      want: { calls: ['ShutdownVirtualMachine'], events: [], written: null, requeue: 1_500 },
    },
    {
      name: 'grace period expired → kill and a Deleted Event',
      world: { vmi: vmi({ deleting: true }), domain: domain('Running'), launcher: ready },
      before: async (f) => {
        await f.controller.execute(key);
        f.now += grace;
      },
      want: { calls: ['KillVirtualMachine'], events: ['Normal Deleted'], written: null, requeue: SHUTDOWN_RESEND_MS },
    },
    {
      name: 'the launcher refuses the shutdown → error (the key is rate-limited)',
      world: {
        vmi: vmi({ deleting: true }),
        domain: domain('Running'),
        launcher: { known: true, fail: { ShutdownVirtualMachine: 'domain busy' } },
      },
      want: { calls: ['ShutdownVirtualMachine'], events: [], written: null, error: /domain busy/ },
    },
    {
      name: 'a first shutdown the launcher refused → the next one taken is still the first: ShuttingDown Event',
      world: {
        vmi: vmi({ deleting: true }),
        domain: domain('Running'),
        launcher: { known: true, fail: { ShutdownVirtualMachine: 'busy' } },
      },
      before: async (f) => {
        await assert.rejects(f.controller.execute(key), /busy/);
        f.launchers.setup.fail = {};
        f.now += 10_000;
      },
      want: { calls: ['ShutdownVirtualMachine'], events: ['Normal ShuttingDown'], written: null, requeue: SHUTDOWN_RESEND_MS },
    },
    {
      name: 'the launcher refuses the kill → error',
      world: {
        vmi: vmi({ deleting: true, grace: 0 }),
        domain: domain('Running'),
        launcher: { known: true, fail: { KillVirtualMachine: 'no' } },
      },
      want: { calls: ['KillVirtualMachine'], events: [], written: null, error: /^Error: no$|no/ },
    },
    {
      name: 'the launcher cannot be dialed → error, its client reset, nothing sent',
      world: { vmi: vmi({ deleting: true }), domain: domain('Running'), launcher: { known: true, dialFails: true } },
      want: { calls: [], events: [], written: null, error: /unable to create virt-launcher client connection: dial unix/ },
    },
    {
      name: 'a running domain of an older VMI with the same name → that VMI is shut down, the new one left alone',
      world: { vmi: vmi({ phase: 'Scheduled' }), domain: domain('Running', 'Unknown', withUID(oldUID)), launcher: ready },
      want: { calls: ['ShutdownVirtualMachine'], events: [], written: null, requeue: SHUTDOWN_RESEND_MS, callUID: oldUID },
    },
  ];
  for (const c of cases) test(c.name, () => check(c));
});

describe('VirtualMachineController.execute: delete (processVmDelete)', () => {
  const cases: Case[] = [
    {
      name: 'VMI gone, domain shut off → DeleteVirtualMachine, nothing to write',
      world: { domain: domain('Shutoff', 'Shutdown'), launcher: ready },
      want: { calls: ['DeleteVirtualMachine'], events: [], written: null },
    },
    {
      name: 'VMI being deleted, domain shut down by the guest → delete and Succeeded written',
      world: { vmi: vmi({ deleting: true }), domain: domain('Shutoff', 'Shutdown'), launcher: ready },
      want: { calls: ['DeleteVirtualMachine'], events: ['Normal Stopped'], written: 'Succeeded' },
    },
    {
      name: 'VMI being deleted, domain destroyed after its ACPI grace period → delete and Failed written',
      world: { vmi: vmi({ deleting: true }), domain: domain('Shutoff', 'Destroyed', withACPI), launcher: ready },
      want: { calls: ['DeleteVirtualMachine'], events: ['Warning Stopped'], written: 'Failed' },
    },
    {
      name: 'VMI already Succeeded, domain shut off → delete, the status stays',
      world: { vmi: vmi({ phase: 'Succeeded' }), domain: domain('Shutoff', 'Shutdown'), launcher: ready },
      want: { calls: ['DeleteVirtualMachine'], events: [], written: null },
    },
    {
      name: 'VMI Failed, domain crashed → delete',
      world: { vmi: vmi({ phase: 'Failed' }), domain: domain('Crashed', 'Panicked'), launcher: ready },
      want: { calls: ['DeleteVirtualMachine'], events: [], written: null },
    },
    {
      name: 'the launcher refuses the delete → error, no status write',
      world: {
        vmi: vmi({ deleting: true }),
        domain: domain('Shutoff', 'Shutdown'),
        launcher: { known: true, fail: { DeleteVirtualMachine: 'undefine failed' } },
      },
      want: { calls: ['DeleteVirtualMachine'], events: [], written: null, error: /undefine failed/ },
    },
  ];
  for (const c of cases) test(c.name, () => check(c));
});

describe('VirtualMachineController.execute: cleanup (processVmCleanup)', () => {
  const cases: Case[] = [
    {
      name: 'VMI and domain gone, the UID from the ghost record → launcher forgotten, nothing sent',
      world: { vmi: undefined, launcher: ready },
      want: { calls: [], events: [], written: null, closed: true },
    },
    {
      name: 'VMI, domain and launcher all unknown → nothing',
      world: {},
      want: { calls: [], events: [], written: null },
    },
    {
      name: 'VMI Failed, no domain, launcher known → forgotten, status left as is',
      world: { vmi: vmi({ phase: 'Failed' }), launcher: ready },
      want: { calls: [], events: [], written: null, closed: true },
    },
    {
      name: 'VMI Succeeded, no domain, no launcher → nothing at all',
      world: { vmi: vmi({ phase: 'Succeeded' }) },
      want: { calls: [], events: [], written: null },
    },
    {
      name: 'a domain whose VMI and launcher this handler never knew → nothing',
      world: { domain: domain('Running') },
      want: { calls: [], events: [], written: null },
    },
    {
      name: 'after a shutdown, the domain gone → cleanup ends the grace period',
      world: { vmi: vmi({ deleting: true }), domain: domain('Running'), launcher: ready },
      before: async (f) => {
        await f.controller.execute(key);
        f.removeDomain();
      },
      want: { calls: [], events: [], written: null, closed: true },
    },
  ];
  for (const c of cases) test(c.name, () => check(c));
});

describe('VirtualMachineController.execute: sync (processVmUpdate) and status', () => {
  const cases: Case[] = [
    {
      name: 'Scheduled VMI, launcher socket found → remembered, SyncVirtualMachine, Created Event',
      world: { vmi: vmi({ phase: 'Scheduled' }), launcher: { socket: true } },
      want: { calls: ['SyncVirtualMachine'], events: ['Normal Created'], written: null, remembered: true },
    },
    {
      name: 'Scheduled VMI whose domain starts during the sync → Running written, Created and Started Events',
      world: { vmi: vmi({ phase: 'Scheduled' }), launcher: ready, domainAfterSync: domain('Running', 'Booted') },
      want: { calls: ['SyncVirtualMachine'], events: ['Normal Created', 'Normal Started'], written: 'Running' },
    },
    {
      name: 'Running VMI with a running domain → SyncVirtualMachine again (level-based), nothing new',
      world: { vmi: vmi({ phase: 'Running' }), domain: domain('Running', 'Booted'), launcher: ready },
      want: { calls: ['SyncVirtualMachine'], events: [], written: 'Running' },
    },
    {
      name: 'Scheduled VMI, domain already running → Running written first, no sync this round',
      world: { vmi: vmi({ phase: 'Scheduled' }), domain: domain('Running', 'Booted'), launcher: ready },
      want: { calls: [], events: ['Normal Started'], written: 'Running' },
    },
    {
      name: 'Running VMI, domain paused by the user → sync, Paused condition written',
      world: { vmi: vmi({ phase: 'Running' }), domain: domain('Paused', 'User'), launcher: ready },
      want: { calls: ['SyncVirtualMachine'], events: [], written: 'Running', condition: ['Paused', 'True'] },
    },
    {
      name: 'Running VMI, domain shut down from inside the guest → Succeeded written, no sync',
      world: { vmi: vmi({ phase: 'Running' }), domain: domain('Shutoff', 'Shutdown'), launcher: ready },
      want: { calls: [], events: ['Normal Stopped'], written: 'Succeeded' },
    },
    {
      name: 'Running VMI, domain crashed → Failed written, no sync',
      world: { vmi: vmi({ phase: 'Running' }), domain: domain('Crashed', 'Crashed'), launcher: ready },
      want: { calls: [], events: ['Warning Stopped'], written: 'Failed' },
    },
    {
      name: 'Running VMI, domain paused after a failed post-copy → Failed written',
      world: { vmi: vmi({ phase: 'Running' }), domain: domain('Paused', 'PostcopyFailed'), launcher: ready },
      want: { calls: [], events: ['Warning Stopped'], written: 'Failed' },
    },
    {
      name: 'SyncVirtualMachine fails → SyncFailed Event, Synchronized=False written, retried in 5 s',
      world: { vmi: vmi({ phase: 'Scheduled' }), launcher: { known: true, fail: { SyncVirtualMachine: 'converting: bad disk' } } },
      want: {
        calls: ['SyncVirtualMachine'],
        events: ['Warning SyncFailed'],
        written: 'Scheduled',
        condition: ['Synchronized', 'False'],
        requeue: SYNC_FAILED_REQUEUE_MS,
      },
    },
    {
      name: 'the launcher has no firmware for Secure Boot → critical: SyncFailed, Failed written (handleSyncError)',
      world: { vmi: vmi({ phase: 'Scheduled' }), launcher: { known: true, fail: { SyncVirtualMachine: 'EFI OVMF rom missing' } } },
      want: {
        calls: ['SyncVirtualMachine'],
        events: ['Warning SyncFailed', 'Warning Stopped'],
        written: 'Failed',
        condition: ['Synchronized', 'False'],
        requeue: SYNC_FAILED_REQUEUE_MS,
      },
    },
    {
      name: 'Running VMI, guest agent connected without its basic commands → AgentVersionNotSupported written',
      world: {
        vmi: vmi({ phase: 'Running' }),
        domain: domain('Running', 'Booted', withAgentChannel),
        launcher: { known: true, guestInfo: { guestAgentVersion: '5.2.0', supportedCommands: [{ name: 'guest-ping', enabled: true }] } },
      },
      want: { calls: ['SyncVirtualMachine'], events: [], written: 'Running', condition: ['AgentVersionNotSupported', 'True'] },
    },
    {
      name: 'the launcher cannot be dialed for a sync → SyncFailed, retried in 5 s',
      world: { vmi: vmi({ phase: 'Scheduled' }), launcher: { known: true, dialFails: true } },
      want: {
        calls: [],
        events: ['Warning SyncFailed'],
        written: 'Scheduled',
        condition: ['Synchronized', 'False'],
        requeue: SYNC_FAILED_REQUEUE_MS,
      },
    },
    {
      name: 'the status write conflicts (409) → error, the key retried',
      world: { vmi: vmi({ phase: 'Scheduled' }), domain: domain('Running', 'Booted'), launcher: ready, writeFails: true },
      want: { calls: [], events: [], written: null, error: /changed meanwhile \(409\)/ },
    },
    {
      name: 'a VMI of another node, found as a migration target here → ignored',
      world: { target: vmi({ phase: 'Running', node: 'node02' }), launcher: { socket: true } },
      want: { calls: [], events: [], written: null },
    },
    {
      name: 'a migration target VMI with a domain here → ignored, not shut down',
      world: { target: vmi({ phase: 'Running', node: 'node02', deleting: true }), domain: domain('Running'), launcher: ready },
      want: { calls: [], events: [], written: null },
    },
  ];
  for (const c of cases) test(c.name, () => check(c));

  test('SyncVirtualMachine carries the options made for the VMI being synced', async () => {
    const f = new Fixture({ vmi: vmi({ phase: 'Scheduled' }), launcher: { socket: true } });
    await f.controller.execute(key);
    assert.deepEqual(f.launchers.syncOptions, [{ MemBalloonStatsPeriod: 10, PreallocatedVolumes: [uid] }]);
  });
});

describe('VirtualMachineController.execute: container disks (handleStartingVMI, processVmCleanup)', () => {
  const scheduled = () => vmi({ phase: 'Scheduled' });
  const cases: Case[] = [
    {
      name: "Scheduled VMI, the disks' containers not serving yet → no sync, looked at again in 1 s",
      world: { vmi: scheduled(), launcher: ready, disks: {} },
      want: { calls: [], events: [], written: null, requeue: CONTAINER_DISKS_REQUEUE_MS, mounts: ['ready'] },
    },
    {
      name: 'Scheduled VMI, the disks served → mounted, then SyncVirtualMachine',
      world: { vmi: scheduled(), launcher: ready, disks: { ready: true } },
      want: { calls: ['SyncVirtualMachine'], events: ['Normal Created'], written: null, mounts: ['ready', 'mount'] },
    },
    {
      name: 'the bind mount fails → no sync, SyncFailed Event with the reason, retried',
      world: { vmi: scheduled(), launcher: ready, disks: { ready: true, mountFails: 'failed to bindmount containerDisk data: EPERM' } },
      want: {
        calls: [],
        events: ['Warning SyncFailed'],
        written: 'Scheduled',
        condition: ['Synchronized', 'False'],
        requeue: SYNC_FAILED_REQUEUE_MS,
        mounts: ['ready', 'mount'],
      },
    },
    {
      name: 'the disks not served a minute after the first look → SyncFailed (KubeVirt: still not ready after one minute)',
      world: { vmi: scheduled(), launcher: ready, disks: {} },
      before: async (f) => {
        await f.controller.execute(key);
        f.now += 61_000;
      },
      want: {
        calls: [],
        events: ['Warning SyncFailed'],
        written: 'Scheduled',
        condition: ['Synchronized', 'False'],
        requeue: SYNC_FAILED_REQUEUE_MS,
        mounts: ['ready'],
      },
    },
    {
      name: 'the launcher still starting → the disks are not looked at yet',
      world: { vmi: scheduled(), launcher: { initializing: true }, disks: {} },
      want: { calls: [], events: [], written: null, requeue: LAUNCHER_INITIALIZING_REQUEUE_MS, mounts: [] },
    },
    {
      name: 'Running VMI with its domain → no mounting, SyncVirtualMachine',
      world: { vmi: vmi({ phase: 'Running' }), domain: domain('Running', 'Booted'), launcher: ready, disks: {} },
      want: { calls: ['SyncVirtualMachine'], events: [], written: 'Running', mounts: [] },
    },
    {
      name: 'VMI Succeeded, domain gone → the disks unmounted, the launcher forgotten',
      world: { vmi: vmi({ phase: 'Succeeded' }), launcher: ready, disks: {} },
      want: { calls: [], events: [], written: null, closed: true, mounts: [`unmount ${uid}`] },
    },
  ];
  for (const c of cases) test(c.name, () => check(c));
});

describe('VirtualMachineController.execute: launcher life (isLauncherClientUnresponsive)', () => {
  const cases: Case[] = [
    {
      name: 'only launcher-init-sock → wait 1 s for the launcher, nothing sent',
      world: { vmi: vmi({ phase: 'Scheduled' }), launcher: { initializing: true } },
      want: { calls: [], events: [], written: null, requeue: LAUNCHER_INITIALIZING_REQUEUE_MS },
    },
    {
      name: 'no socket yet, inside the start timeout → still waiting',
      world: { vmi: vmi({ phase: 'Scheduled' }) },
      before: async (f) => {
        await f.controller.execute(key);
        f.now += LAUNCHER_START_TIMEOUT_MS;
      },
      want: { calls: [], events: [], written: null, requeue: LAUNCHER_INITIALIZING_REQUEUE_MS },
    },
    {
      name: 'no socket past the start timeout, VMI Scheduled → Failed written',
      world: { vmi: vmi({ phase: 'Scheduled' }) },
      before: async (f) => {
        await f.controller.execute(key);
        f.now += LAUNCHER_START_TIMEOUT_MS + 1;
      },
      want: { calls: [], events: ['Warning Stopped'], written: 'Failed' },
    },
    {
      name: 'only launcher-init-sock past the start timeout → still initializing',
      world: { vmi: vmi({ phase: 'Scheduled' }), launcher: { initializing: true } },
      before: async (f) => {
        await f.controller.execute(key);
        f.now += LAUNCHER_START_TIMEOUT_MS + 1;
      },
      want: { calls: [], events: [], written: null, requeue: LAUNCHER_INITIALIZING_REQUEUE_MS },
    },
    {
      name: 'known launcher marked unresponsive, Running VMI without a domain → Failed written, nothing sent',
      world: { vmi: vmi({ phase: 'Running' }), launcher: { known: true, unresponsive: true } },
      want: { calls: [], events: ['Warning Stopped'], written: 'Failed' },
    },
    {
      name: 'a socket found but unresponsive → not remembered, Failed written',
      world: { vmi: vmi({ phase: 'Running' }), launcher: { socket: true, unresponsive: true } },
      want: { calls: [], events: ['Warning Stopped'], written: 'Failed' },
    },
    {
      name: 'unresponsive launcher, Scheduled VMI → Failed written, no sync',
      world: { vmi: vmi({ phase: 'Scheduled' }), launcher: { known: true, unresponsive: true } },
      want: { calls: [], events: ['Warning Stopped'], written: 'Failed' },
    },
    {
      name: 'unresponsive launcher but a running domain in the cache → the phase stays, no sync',
      world: { vmi: vmi({ phase: 'Running' }), domain: domain('Running', 'Booted'), launcher: { known: true, unresponsive: true } },
      want: { calls: [], events: [], written: 'Running' },
    },
  ];
  for (const c of cases) test(c.name, () => check(c));
});

describe('VirtualMachineController.run: the work queue around execute()', () => {
  async function until(what: string, ok: () => boolean): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  test('every cached VMI is reconciled at start; a failed round is retried with backoff until it succeeds', async () => {
    const f = new Fixture({
      vmi: vmi({ deleting: true }),
      domain: domain('Running'),
      launcher: { known: true, fail: { ShutdownVirtualMachine: 'busy' } },
    });
    f.launchers.onCall = (call) => {
      // the launcher refuses twice, then takes the shutdown
      if (call === 'ShutdownVirtualMachine' && f.launchers.calls.length === 3) f.launchers.setup.fail = {};
    };
    f.controller.run();
    try {
      await until('a third ShutdownVirtualMachine', () => f.launchers.calls.length >= 3);
      assert.deepEqual(
        f.launchers.calls.slice(0, 3).map((c) => c.call),
        ['ShutdownVirtualMachine', 'ShutdownVirtualMachine', 'ShutdownVirtualMachine'],
      );
      await until('the ShuttingDown Event', () => f.events.includes('Normal ShuttingDown'));
    } finally {
      await f.controller.stop();
    }
  });

  test('a domain event enqueues its key', async () => {
    const domains = new Map<string, Domain>();
    const listeners: Array<(key: string) => void> = [];
    const launchers = new FakeLaunchers({ known: true }, uid);
    const controller = new VirtualMachineController({
      logger: pino({ level: 'silent' }),
      host,
      vmis: [],
      domains: { get: (k) => domains.get(k), list: () => [...domains.values()], on: (_e, l) => void listeners.push(l) },
      launchers,
      statusWriter: { update: async () => undefined },
      recorder: { event: () => undefined },
      syncOptions: () => ({}),
    });
    controller.run();
    try {
      assert.equal(listeners.length, 2, 'update and delete listeners');
      domains.set(key, domain('Shutoff', 'Shutdown'));
      listeners[0]?.(key);
      await until('DeleteVirtualMachine', () => launchers.calls.some((c) => c.call === 'DeleteVirtualMachine'));
    } finally {
      await controller.stop();
    }
  });
});

// The cases above compare with the constants; these pin them to KubeVirt's figures (vm.go's AddAfter
// calls, the container-disk mounter's timeout), which the README quotes.
test("the delays are KubeVirt's: shutdown re-sent every 5 s, a failed sync in 5 s, launcher and container disks looked at in 1 s", () => {
  assert.deepEqual(
    {
      SHUTDOWN_RESEND_MS,
      SYNC_FAILED_REQUEUE_MS,
      LAUNCHER_INITIALIZING_REQUEUE_MS,
      CONTAINER_DISKS_REQUEUE_MS,
      CONTAINER_DISK_READY_TIMEOUT_MS,
      LAUNCHER_START_TIMEOUT_MS,
      DEFAULT_GRACE_PERIOD_SECONDS,
    },
    {
      SHUTDOWN_RESEND_MS: 5_000,
      SYNC_FAILED_REQUEUE_MS: 5_000,
      LAUNCHER_INITIALIZING_REQUEUE_MS: 1_000,
      CONTAINER_DISKS_REQUEUE_MS: 1_000,
      CONTAINER_DISK_READY_TIMEOUT_MS: 60_000,
      LAUNCHER_START_TIMEOUT_MS: 180_000,
      DEFAULT_GRACE_PERIOD_SECONDS: 30,
    },
  );
});
