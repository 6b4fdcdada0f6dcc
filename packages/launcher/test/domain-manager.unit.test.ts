// The DomainManager's decisions (KubeVirt's virtwrap/manager.go SyncVMI, PauseVMI, UnpauseVMI,
// SignalShutdownVMI, KillVMI, DeleteVMI), table by table against a fake libvirt connection: each case
// puts the launcher's one domain in a state, runs one command, and checks the libvirt calls it made.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import {
  DomainCoreDumpFlags,
  DomainCoreDumpFormat,
  DomainState,
  DomainStateReasons,
  ErrorDomain,
  ErrorNumber,
  LibvirtError,
  domainStateWithReason,
  type Domain as VirDomain,
  type DomainStateName,
} from '@kubevirt-ts/libvirt';
import { vmiNameToDomainName, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { AsyncAgentStore } from '../src/agent/store.ts';
import { DomainManager, DomainNotFoundError, type LibvirtConnection } from '../src/domain-manager.ts';

const UID = '0f3e8a5c-0000-4000-8000-000000000042';
const domainName = vmiNameToDomainName('default', 'testvmi');

function vmi(phase?: string): VirtualMachineInstance {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'testvmi', namespace: 'default', uid: UID },
    spec: { domain: { resources: { requests: { memory: '64Mi' } }, devices: {} } },
    ...(phase === undefined ? {} : { status: { phase } }),
  } as VirtualMachineInstance;
}

const libvirtError = (code: number, message: string) => new LibvirtError({ code, domain: ErrorDomain.DOM, message });
const noDomain = () => libvirtError(ErrorNumber.NO_DOMAIN, `Domain not found: no domain with matching name '${domainName}'`);

type Method = keyof LibvirtConnection;

/** libvirtd as the DomainManager sees it: one domain (or none), its state, the calls made. */
class FakeConnection implements LibvirtConnection {
  /** Every call with its flags, in order, e.g. `domainShutdownFlags(1)`; lookups and state reads are not listed. */
  readonly calls: string[] = [];
  dom: (VirDomain & { state: DomainStateName; reason: string; xml: string }) | undefined;
  /** Every domain XML defined, in order. */
  readonly defined: string[] = [];
  /** The next call of this method throws this. */
  readonly fail = new Map<Method, LibvirtError>();

  constructor(state?: DomainStateName, reason?: string) {
    if (state)
      this.dom = {
        name: domainName,
        uuid: '5d307ca9-b3ef-428c-8861-06e72d69f223',
        id: 1,
        state,
        reason: reason ?? DomainStateReasons[state][0],
        xml: `<domain type="qemu"><name>${domainName}</name><devices></devices></domain>`,
      };
  }

  #enter(method: Method, record?: string): void {
    const err = this.fail.get(method);
    if (err) {
      this.fail.delete(method);
      if (record !== undefined) this.calls.push(record);
      throw err;
    }
    if (record !== undefined) this.calls.push(record);
  }
  #mine(d: VirDomain): NonNullable<FakeConnection['dom']> {
    if (!this.dom || d.name !== this.dom.name) throw noDomain();
    return this.dom;
  }
  #set(state: DomainStateName, reason: string): void {
    if (this.dom) Object.assign(this.dom, { state, reason });
  }

  async domainLookupByName(name: string) {
    this.#enter('domainLookupByName');
    if (!this.dom || this.dom.name !== name) throw noDomain();
    return { name: this.dom.name, uuid: this.dom.uuid, id: this.dom.id };
  }
  async domainGetState(d: VirDomain) {
    this.#enter('domainGetState');
    const dom = this.#mine(d);
    const reasons: readonly string[] = DomainStateReasons[dom.state];
    return domainStateWithReason(DomainState[dom.state], Math.max(0, reasons.indexOf(dom.reason)));
  }
  async domainDefineXMLFlags(xml: string) {
    this.#enter('domainDefineXMLFlags', 'domainDefineXMLFlags');
    this.defined.push(xml);
    const name = /<name>([^<]+)<\/name>/.exec(xml)?.[1] ?? '';
    this.dom ??= { name, uuid: '5d307ca9-b3ef-428c-8861-06e72d69f223', id: -1, state: 'SHUTOFF', reason: 'UNKNOWN', xml };
    this.dom.xml = xml;
    return { name: this.dom.name, uuid: this.dom.uuid, id: this.dom.id };
  }
  async domainCreateWithFlags(d: VirDomain, flags?: number) {
    this.#enter('domainCreateWithFlags', `domainCreateWithFlags(${flags ?? 0})`);
    this.#mine(d);
    this.#set('RUNNING', 'BOOTED');
    return d;
  }
  async domainSuspend(d: VirDomain) {
    this.#enter('domainSuspend', 'domainSuspend');
    this.#mine(d);
    this.#set('PAUSED', 'USER');
  }
  async domainResume(d: VirDomain) {
    this.#enter('domainResume', 'domainResume');
    this.#mine(d);
    this.#set('RUNNING', 'UNPAUSED');
  }
  async domainShutdownFlags(d: VirDomain, flags?: number) {
    this.#enter('domainShutdownFlags', `domainShutdownFlags(${flags ?? 0})`);
    this.#mine(d);
  }
  async domainDestroyFlags(d: VirDomain, flags?: number) {
    this.#enter('domainDestroyFlags', `domainDestroyFlags(${flags ?? 0})`);
    this.#mine(d);
    this.#set('SHUTOFF', 'DESTROYED');
  }
  async domainUndefineFlags(d: VirDomain, flags?: number) {
    this.#enter('domainUndefineFlags', `domainUndefineFlags(${flags ?? 0})`);
    this.#mine(d);
    this.dom = undefined;
  }
  async domainReset(d: VirDomain, flags?: number) {
    this.#enter('domainReset', `domainReset(${flags ?? 0})`);
    this.#mine(d);
  }
  async domainReboot(d: VirDomain, flags?: number) {
    this.#enter('domainReboot', `domainReboot(${flags ?? 0})`);
    this.#mine(d);
  }
  async domainGetXMLDesc(d: VirDomain) {
    this.#enter('domainGetXMLDesc');
    return this.#mine(d).xml;
  }
  async connectListAllDomains() {
    this.#enter('connectListAllDomains');
    return this.dom ? [{ name: this.dom.name, uuid: this.dom.uuid, id: this.dom.id }] : [];
  }
  // not used by the commands these tables drive
  connectGetVersion = unused;
  domainCoreDumpWithFormat: LibvirtConnection['domainCoreDumpWithFormat'] = unused;
  domainQemuAgentCommand = unused;
  domainScreenshot = unused;
  domainAttachDeviceFlags = unused;
  domainDetachDeviceFlags = unused;
  domainUpdateDeviceFlags = unused;
  domainSetVcpusFlags = unused;
  connectGetAllDomainStats = unused;
  domainStartDirtyRateCalc = unused;
  domainAuthorizedSSHKeysSet = unused;
  domainSetUserPassword = unused;
  domainSetTime = unused;
  domainGetJobStats = unused;
  domainAbortJob = unused;
  domainMigratePerform3Params = unused;
  domainMigrateStartPostCopy = unused;
  domainMigrateSetMaxDowntime = unused;
}

async function unused(): Promise<never> {
  throw new Error('a libvirt call these tests do not expect');
}

interface Fixture {
  conn: FakeConnection;
  dm: DomainManager;
  privateDir: string;
}

function fixture(state?: DomainStateName, reason?: string): Fixture & Disposable {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kvts-dm-'));
  const conn = new FakeConnection(state, reason);
  const privateDir = path.join(root, 'private');
  const dm = new DomainManager({
    conn,
    logger: pino({ level: 'silent' }),
    agent: new AsyncAgentStore(),
    converter: {
      allowEmulation: true,
      hypervisorDeviceAvailable: false,
      virtShareDir: path.join(root, 'share'),
      privateDir,
      containerDiskDir: path.join(root, 'container-disks'),
      ephemeralDiskDir: path.join(root, 'ephemeral-disks'),
    },
  });
  return { conn, dm, privateDir, [Symbol.dispose]: () => rmSync(root, { recursive: true, force: true }) };
}

interface Case {
  name: string;
  /** The domain's state before the command (undefined: no domain defined). */
  state?: DomainStateName;
  reason?: string;
  /** The VMI's phase as the handler sends it. */
  phase?: string;
  /** These libvirt calls fail once. */
  fail?: Array<[Method, LibvirtError]>;
  /** The libvirt calls that change something, in order. */
  calls: string[];
  /** The domain's state afterwards (undefined: none defined). */
  after?: DomainStateName;
  /** The command rejects with this. */
  error?: RegExp | (new () => Error);
}

async function check(c: Case, command: (dm: DomainManager, v: VirtualMachineInstance) => Promise<void>): Promise<void> {
  using f = fixture(c.state, c.reason);
  for (const [method, err] of c.fail ?? []) f.conn.fail.set(method, err);
  const run = command(f.dm, vmi(c.phase));
  if (c.error) await assert.rejects(run, c.error);
  else await run;
  assert.deepEqual(f.conn.calls, c.calls, 'libvirt calls');
  assert.equal(f.conn.dom?.state, c.after, 'domain state afterwards');
}

/**
 * The first define of a q35 VMI with virt-api's pod interface (allocateHotplugPorts): with 3
 * placeholder interfaces, without them, and once more with the root ports settled.
 */
const FIRST_DEFINE = ['domainDefineXMLFlags', 'domainDefineXMLFlags', 'domainDefineXMLFlags'];

describe('DomainManager.syncVMI (SyncVMI)', () => {
  const cases: Case[] = [
    {
      name: 'no domain → define, then start',
      phase: 'Scheduled',
      calls: [...FIRST_DEFINE, 'domainCreateWithFlags(0)'],
      after: 'RUNNING',
    },
    {
      name: 'no domain, VMI without a phase → define and start',
      calls: [...FIRST_DEFINE, 'domainCreateWithFlags(0)'],
      after: 'RUNNING',
    },
    {
      name: 'defined and shut off, VMI Scheduled → start',
      state: 'SHUTOFF',
      phase: 'Scheduled',
      calls: ['domainCreateWithFlags(0)'],
      after: 'RUNNING',
    },
    { name: 'crashed, VMI Scheduled → start', state: 'CRASHED', phase: 'Scheduled', calls: ['domainCreateWithFlags(0)'], after: 'RUNNING' },
    {
      name: 'no state, VMI Scheduled → start',
      state: 'NOSTATE',
      phase: 'Scheduled',
      calls: ['domainCreateWithFlags(0)'],
      after: 'RUNNING',
    },
    { name: 'running → nothing (idempotent)', state: 'RUNNING', phase: 'Running', calls: [], after: 'RUNNING' },
    { name: 'paused by the user → nothing (stays paused)', state: 'PAUSED', reason: 'USER', phase: 'Running', calls: [], after: 'PAUSED' },
    { name: 'blocked → nothing', state: 'BLOCKED', phase: 'Running', calls: [], after: 'BLOCKED' },
    {
      name: 'shut off while the VMI is Running (the guest stopped) → not restarted',
      state: 'SHUTOFF',
      reason: 'SHUTDOWN',
      phase: 'Running',
      calls: [],
      after: 'SHUTOFF',
    },
    { name: 'shut off, VMI Succeeded → not restarted', state: 'SHUTOFF', phase: 'Succeeded', calls: [], after: 'SHUTOFF' },
    { name: 'crashed, VMI Failed → not restarted', state: 'CRASHED', phase: 'Failed', calls: [], after: 'CRASHED' },
    { name: 'no domain, VMI already Failed → defined, not started', phase: 'Failed', calls: FIRST_DEFINE, after: 'SHUTOFF' },
    {
      name: 'define refused → error, nothing started',
      phase: 'Scheduled',
      fail: [['domainDefineXMLFlags', libvirtError(ErrorNumber.INTERNAL_ERROR, 'XML error: bad disk')]],
      calls: ['domainDefineXMLFlags'],
      after: undefined,
      error: /XML error: bad disk/,
    },
    {
      name: 'start refused → error, the domain stays defined',
      phase: 'Scheduled',
      fail: [['domainCreateWithFlags', libvirtError(ErrorNumber.INTERNAL_ERROR, 'process exited while connecting to monitor')]],
      calls: [...FIRST_DEFINE, 'domainCreateWithFlags(0)'],
      after: 'SHUTOFF',
      error: /process exited/,
    },
    {
      name: 'lookup fails for another reason than a missing domain → error, nothing defined',
      phase: 'Scheduled',
      fail: [['domainLookupByName', libvirtError(ErrorNumber.INTERNAL_ERROR, 'connection reset')]],
      calls: [],
      after: undefined,
      error: /connection reset/,
    },
  ];
  for (const c of cases) test(c.name, () => check(c, (dm, v) => dm.syncVMI(v)));

  test('a define makes the VMI private dir (serial and VNC sockets) first; a second sync changes nothing', async () => {
    using f = fixture();
    await f.dm.syncVMI(vmi('Scheduled'));
    assert.ok(existsSync(path.join(f.privateDir, UID)), 'the private dir of the VMI');
    assert.ok(f.conn.dom?.xml.includes(UID), 'the VMI UID in the defined XML');
    await f.dm.syncVMI(vmi('Scheduled'));
    assert.deepEqual(f.conn.calls, [...FIRST_DEFINE, 'domainCreateWithFlags(0)']);
  });

  test('the first define gives a q35 VMI the root ports KubeVirt gives it; an i440fx VMI none', async () => {
    {
      using f = fixture();
      await f.dm.syncVMI(vmi('Scheduled'));
      // the pod interface: 4 - 1 = 3 placeholders, defined first, then gone
      const placeholders = (xml: string) => [...xml.matchAll(/<target dev="(placeholder-\d)" managed="no"/g)].map((m) => m[1]);
      assert.deepEqual(placeholders(f.conn.defined[0] ?? ''), ['placeholder-0', 'placeholder-1', 'placeholder-2']);
      assert.deepEqual(placeholders(f.conn.defined[2] ?? ''), []);
    }
    {
      using f = fixture();
      const noInterface = vmi('Scheduled');
      noInterface.spec.domain.devices = { autoattachPodInterface: false };
      await f.dm.syncVMI(noInterface);
      assert.equal(f.conn.defined.length, 2);
      // usb, scsi and virtio-serial controllers and the balloon use 4 of the 8 ports wanted: 4 more
      const ports = [...(f.conn.dom?.xml ?? '').matchAll(/<controller type="pci" index="(\d+)" model="pcie-root-port"/g)];
      assert.deepEqual(
        ports.map((m) => m[1]),
        ['1', '2', '3', '4'],
      );
    }
    using f = fixture();
    const i440fx = vmi('Scheduled');
    i440fx.spec.domain.machine = { type: 'pc-i440fx-2.12' };
    await f.dm.syncVMI(i440fx);
    assert.deepEqual(f.conn.calls, ['domainDefineXMLFlags', 'domainCreateWithFlags(0)']);
    assert.doesNotMatch(f.conn.dom?.xml ?? '', /pcie-root-port/);
  });
});

describe('DomainManager.pauseVMI / unpauseVMI', () => {
  const pause: Case[] = [
    { name: 'pause: running → suspend', state: 'RUNNING', calls: ['domainSuspend'], after: 'PAUSED' },
    { name: 'pause: already paused → nothing', state: 'PAUSED', reason: 'USER', calls: [], after: 'PAUSED' },
    { name: 'pause: shut off → nothing', state: 'SHUTOFF', calls: [], after: 'SHUTOFF' },
    { name: 'pause: no domain → DomainNotFoundError', calls: [], after: undefined, error: DomainNotFoundError },
  ];
  for (const c of pause) test(c.name, () => check(c, (dm, v) => dm.pauseVMI(v)));
  const unpause: Case[] = [
    { name: 'unpause: paused → resume', state: 'PAUSED', reason: 'USER', calls: ['domainResume'], after: 'RUNNING' },
    { name: 'unpause: running → nothing', state: 'RUNNING', calls: [], after: 'RUNNING' },
    { name: 'unpause: shut off → nothing', state: 'SHUTOFF', calls: [], after: 'SHUTOFF' },
    { name: 'unpause: no domain → DomainNotFoundError', calls: [], after: undefined, error: DomainNotFoundError },
  ];
  for (const c of unpause) test(c.name, () => check(c, (dm, v) => dm.unpauseVMI(v)));
});

describe('DomainManager.signalShutdownVMI (ACPI power button)', () => {
  const cases: Case[] = [
    {
      name: 'running → ACPI power button (VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)',
      state: 'RUNNING',
      calls: ['domainShutdownFlags(1)'],
      after: 'RUNNING',
    },
    { name: 'paused → power button too', state: 'PAUSED', reason: 'USER', calls: ['domainShutdownFlags(1)'], after: 'PAUSED' },
    { name: 'shut off → nothing', state: 'SHUTOFF', calls: [], after: 'SHUTOFF' },
    { name: 'shutting down → nothing more', state: 'SHUTDOWN', calls: [], after: 'SHUTDOWN' },
    { name: 'no domain → nothing, no error', calls: [], after: undefined },
    {
      name: 'the power button refused → error',
      state: 'RUNNING',
      fail: [['domainShutdownFlags', libvirtError(ErrorNumber.OPERATION_INVALID, 'domain is not running')]],
      calls: ['domainShutdownFlags(1)'],
      after: 'RUNNING',
      error: /domain is not running/,
    },
  ];
  for (const c of cases) test(c.name, () => check(c, (dm, v) => dm.signalShutdownVMI(v)));

  test("the grace period's start goes into the domain's kubevirt metadata once", async () => {
    using f = fixture();
    await f.dm.syncVMI(vmi('Scheduled'));
    const before = await f.dm.getDomain();
    assert.equal(before?.Spec.Metadata.KubeVirt.GracePeriod?.DeletionTimestamp ?? null, null, 'no grace period before the shutdown');
    await f.dm.signalShutdownVMI(vmi('Running'));
    const first = (await f.dm.getDomain())?.Spec.Metadata.KubeVirt.GracePeriod?.DeletionTimestamp;
    assert.match(String(first), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await new Promise((r) => setTimeout(r, 1_100));
    await f.dm.signalShutdownVMI(vmi('Running'));
    assert.equal(
      (await f.dm.getDomain())?.Spec.Metadata.KubeVirt.GracePeriod?.DeletionTimestamp,
      first,
      'a re-sent shutdown keeps the start',
    );
  });
});

describe('DomainManager.killVMI (destroy) and deleteVMI (undefine)', () => {
  const kill: Case[] = [
    {
      name: 'kill: running → graceful destroy (VIR_DOMAIN_DESTROY_GRACEFUL)',
      state: 'RUNNING',
      calls: ['domainDestroyFlags(1)'],
      after: 'SHUTOFF',
    },
    { name: 'kill: paused → destroy', state: 'PAUSED', reason: 'USER', calls: ['domainDestroyFlags(1)'], after: 'SHUTOFF' },
    { name: 'kill: shutting down → destroy', state: 'SHUTDOWN', calls: ['domainDestroyFlags(1)'], after: 'SHUTOFF' },
    { name: 'kill: shut off → nothing', state: 'SHUTOFF', calls: [], after: 'SHUTOFF' },
    { name: 'kill: crashed → nothing', state: 'CRASHED', calls: [], after: 'CRASHED' },
    { name: 'kill: no domain → nothing, no error', calls: [], after: undefined },
    {
      name: 'kill: the domain stopped meanwhile (operation invalid) → no error',
      state: 'RUNNING',
      fail: [['domainDestroyFlags', libvirtError(ErrorNumber.OPERATION_INVALID, 'domain is not running')]],
      calls: ['domainDestroyFlags(1)'],
      after: 'RUNNING',
    },
    {
      name: 'kill: the domain vanished meanwhile (no domain) → no error',
      state: 'RUNNING',
      fail: [['domainDestroyFlags', noDomain()]],
      calls: ['domainDestroyFlags(1)'],
      after: 'RUNNING',
    },
    {
      name: 'kill: destroy fails otherwise → error',
      state: 'RUNNING',
      fail: [['domainDestroyFlags', libvirtError(ErrorNumber.INTERNAL_ERROR, 'Failed to terminate process')]],
      calls: ['domainDestroyFlags(1)'],
      after: 'RUNNING',
      error: /Failed to terminate process/,
    },
  ];
  for (const c of kill) test(c.name, () => check(c, (dm, v) => dm.killVMI(v)));
  const del: Case[] = [
    {
      name: 'delete: shut off → undefine keeping the NVRAM, with checkpoint metadata (KEEP_NVRAM | CHECKPOINTS_METADATA)',
      state: 'SHUTOFF',
      calls: ['domainUndefineFlags(24)'],
      after: undefined,
    },
    { name: 'delete: no domain → nothing, no error', calls: [], after: undefined },
    {
      name: 'delete: gone meanwhile → no error',
      state: 'SHUTOFF',
      fail: [['domainUndefineFlags', noDomain()]],
      calls: ['domainUndefineFlags(24)'],
      after: 'SHUTOFF',
    },
    {
      name: 'delete: undefine fails otherwise → error',
      state: 'SHUTOFF',
      fail: [['domainUndefineFlags', libvirtError(ErrorNumber.OPERATION_INVALID, 'cannot undefine transient domain')]],
      calls: ['domainUndefineFlags(24)'],
      after: 'SHUTOFF',
      error: /cannot undefine/,
    },
  ];
  for (const c of del) test(c.name, () => check(c, (dm, v) => dm.deleteVMI(v)));
});

describe('DomainManager.resetVMI / softRebootVMI', () => {
  test('reset: running → domainReset; no domain → DomainNotFoundError', async () => {
    await check({ name: '', state: 'RUNNING', calls: ['domainReset(0)'], after: 'RUNNING' }, (dm, v) => dm.resetVMI(v));
    await check({ name: '', calls: [], after: undefined, error: DomainNotFoundError }, (dm, v) => dm.resetVMI(v));
  });
  test('soft reboot: through the guest agent when connected, else the ACPI power button', async () => {
    await check({ name: '', state: 'RUNNING', calls: ['domainReboot(1)'], after: 'RUNNING' }, (dm, v) => dm.softRebootVMI(v));
    using f = fixture('RUNNING');
    const agent = new AsyncAgentStore();
    agent.setConnected(true);
    const dm = new DomainManager({
      conn: f.conn,
      logger: pino({ level: 'silent' }),
      agent,
      converter: {
        allowEmulation: true,
        hypervisorDeviceAvailable: false,
        virtShareDir: '/nonexistent',
        privateDir: f.privateDir,
        containerDiskDir: '/nonexistent',
        ephemeralDiskDir: '/nonexistent',
      },
    });
    await dm.softRebootVMI(vmi('Running'));
    assert.deepEqual(f.conn.calls, ['domainReboot(2)']);
  });
});

describe('DomainManager commands are serialised (domainModifyLock)', () => {
  test('a kill issued during a sync runs after it', async () => {
    using f = fixture();
    await Promise.all([f.dm.syncVMI(vmi('Scheduled')), f.dm.killVMI(vmi('Scheduled'))]);
    assert.deepEqual(f.conn.calls, [...FIRST_DEFINE, 'domainCreateWithFlags(0)', 'domainDestroyFlags(1)']);
    assert.equal(f.conn.dom?.state, 'SHUTOFF');
  });
});

describe('DomainManager.memoryDump (StorageManager.MemoryDump)', () => {
  test('answers at once and dumps in the background, one at a time; the metadata tells start, file, end; the same file is not dumped again', async () => {
    using f = fixture();
    await f.dm.syncVMI(vmi('Scheduled'));
    const volume = mkdtempSync(path.join(f.privateDir, 'dump-'));
    writeFileSync(path.join(volume, 'testvmi-dump-20260101-000000.memory.dump'), 'an earlier dump');
    writeFileSync(path.join(volume, 'notes.txt'), 'not a dump');
    const dumps: Array<{ file: string; format: number; flags: number; finish: (err?: Error) => void }> = [];
    f.conn.domainCoreDumpWithFormat = (_d, file, format, flags = 0) =>
      new Promise<void>((resolve, reject) => dumps.push({ file, format, flags, finish: (err) => (err ? reject(err) : resolve()) }));
    let changes = 0;
    f.dm.onMetadataChange(() => changes++);
    const metadata = async () => (await f.dm.getDomain())?.Spec.Metadata.KubeVirt.MemoryDump;
    const first = path.join(volume, 'testvmi-dump-20260102-030405.memory.dump');

    await f.dm.memoryDump(vmi('Running'), first);
    await poll(() => dumps.length === 1);
    assert.deepEqual(
      dumps.map((d) => [d.file, d.format, d.flags]),
      [[first, DomainCoreDumpFormat.RAW, DomainCoreDumpFlags.MEMORY_ONLY]],
    );
    const started = await metadata();
    assert.equal(started?.FileName, path.basename(first));
    assert.match(String(started?.StartTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual([started?.Completed, started?.EndTimestamp, started?.Failed], [false, null, false]);
    assert.deepEqual(readdirSync(volume), ['notes.txt'], 'the earlier dump removed, nothing else');
    assert.equal(changes, 1);

    // a second request while one runs does nothing
    await f.dm.memoryDump(vmi('Running'), path.join(volume, 'other.memory.dump'));
    assert.equal(dumps.length, 1);

    dumps[0]!.finish();
    await f.dm.memoryDumpDone();
    const done = await metadata();
    assert.deepEqual(
      [done?.FileName, done?.StartTimestamp, done?.Completed, done?.Failed, done?.FailureReason],
      [path.basename(first), started?.StartTimestamp, true, false, ''],
    );
    assert.match(String(done?.EndTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(changes, 2);

    // the handler asks again each round while it has not seen the result: no second dump
    await f.dm.memoryDump(vmi('Running'), first);
    await f.dm.memoryDumpDone();
    assert.equal(dumps.length, 1);
    assert.equal(changes, 2);
  });

  test('a failed dump: Completed and Failed with the reason in the metadata', async () => {
    using f = fixture();
    await f.dm.syncVMI(vmi('Scheduled'));
    f.conn.domainCoreDumpWithFormat = async () => {
      throw libvirtError(ErrorNumber.OPERATION_FAILED, 'operation failed: domain is not running');
    };
    await f.dm.memoryDump(vmi('Running'), path.join(f.privateDir, 'vm-dump-20260102-030405.memory.dump'));
    await f.dm.memoryDumpDone();
    const meta = (await f.dm.getDomain())?.Spec.Metadata.KubeVirt.MemoryDump;
    assert.deepEqual([meta?.Completed, meta?.Failed], [true, true]);
    assert.match(String(meta?.EndTimestamp), /Z$/);
    assert.equal(
      meta?.FailureReason,
      `Domain memory dump failed: virError(Code=${ErrorNumber.OPERATION_FAILED}, Domain=${ErrorDomain.DOM}, Message='operation failed: domain is not running')`,
    );
  });
});

async function poll(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}
