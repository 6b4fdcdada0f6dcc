// The VMI status virt-handler writes, as KubeVirt computes it (calculateVmPhaseForStatusReason,
// updateVMIStatusFromDomain), table by table; and the work queue's client-go semantics.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newDomain, parseDomain, parseVMI, type Domain, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import {
  calculatePhase,
  calculateStatus,
  interfacesStatus,
  MIGRATION_NOT_IMPLEMENTED_MESSAGE,
  quantity,
  statusEqual,
} from '../src/vmi-status.ts';
import { WorkQueue } from '../src/workqueue.ts';

const uid = '1b5a3e3c-0000-4000-8000-000000000001';
const vmi = (phase: string, extra: object = {}) =>
  parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'vm', namespace: 'ns', uid },
    spec: {
      domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] } },
      networks: [{ name: 'default', pod: {} }],
      ...extra,
    },
    status: { phase },
  });

function domain(status: string, reason: string, patch: (d: Domain) => void = () => undefined): Domain {
  const d = newDomain({ name: 'vm', namespace: 'ns', uid });
  d.Status.Status = status;
  d.Status.Reason = reason;
  patch(d);
  return parseDomain(d);
}

describe('phase from the domain (calculateVmPhaseForStatusReason)', () => {
  // 5th: the domain has ACPI; 6th: the VMI's terminationGracePeriodSeconds
  const cases: Array<[string, string, string, string, boolean?, number?]> = [
    // vmi phase, domain status, reason → phase
    ['Scheduled', 'Running', 'Unknown', 'Running'],
    ['Scheduled', 'Paused', 'StartingUp', 'Running'],
    ['Running', 'Paused', 'User', 'Running'],
    ['Running', 'Paused', 'PostcopyFailed', 'Failed'],
    ['Running', 'Blocked', 'Unknown', 'Running'],
    ['Running', 'PMSuspended', 'Unknown', 'Running'],
    ['Running', 'Shutoff', 'Shutdown', 'Succeeded'],
    ['Running', 'Shutoff', 'Saved', 'Succeeded'],
    ['Running', 'Shutoff', 'FromSnapshot', 'Succeeded'],
    ['Running', 'Shutoff', 'Destroyed', 'Succeeded'],
    ['Running', 'Shutoff', 'Destroyed', 'Failed', true],
    ['Running', 'Shutoff', 'Destroyed', 'Succeeded', true, 0],
    ['Running', 'Shutoff', 'Crashed', 'Failed'],
    ['Running', 'Crashed', 'Panicked', 'Failed'],
    ['Running', 'Shutoff', 'Failed', 'Running'],
    ['Running', 'Crashed', 'Unknown', 'Running'],
    ['Running', 'Shutoff', 'Migrated', 'Running'],
    ['Running', 'ShuttingDown', 'User', 'Running'],
    ['Running', 'NoState', 'Unknown', 'Running'],
  ];
  const withACPI = (d: Domain) => {
    d.Spec.Features = { ...d.Spec.Features, ACPI: {} } as Domain['Spec']['Features'];
  };
  for (const [phase, status, reason, want, acpi, grace] of cases) {
    const name = `${phase} + ${status}/${reason}${acpi ? ' (ACPI)' : ''}${grace !== undefined ? ` (grace ${grace})` : ''} → ${want}`;
    test(name, () => {
      const d = domain(status, reason, acpi ? withACPI : undefined);
      const v = vmi(phase, grace === undefined ? {} : { terminationGracePeriodSeconds: grace });
      // KubeVirt's isACPIEnabled: Destroyed with ACPI and a grace period was killed after the grace period → Failed
      assert.equal(calculatePhase({ vmi: v, domain: d, launcher: 'ready' }), want);
    });
  }
  test('no domain: Scheduled stays while the launcher starts; Running with an unresponsive launcher → Failed', () => {
    assert.equal(calculatePhase({ vmi: vmi('Scheduled'), domain: undefined, launcher: 'initializing' }), 'Scheduled');
    assert.equal(calculatePhase({ vmi: vmi('Running'), domain: undefined, launcher: 'ready' }), 'Running');
    assert.equal(calculatePhase({ vmi: vmi('Running'), domain: undefined, launcher: 'unresponsive' }), 'Failed');
    assert.equal(calculatePhase({ vmi: vmi('Succeeded'), domain: undefined, launcher: 'unresponsive' }), 'Succeeded');
    assert.equal(calculatePhase({ vmi: vmi(''), domain: undefined, launcher: 'initializing' }), 'Scheduled');
  });
});

describe('status fields and conditions', () => {
  const now = new Date('2026-11-23T10:00:00Z');

  test('a phase change appends a phaseTransitionTimestamp; the same state twice changes nothing', () => {
    const first = calculateStatus({ vmi: vmi('Scheduled'), domain: domain('Running', 'Unknown'), launcher: 'ready', now });
    assert.equal(first.phase, 'Running');
    assert.deepEqual(first.phaseTransitionTimestamps, [{ phase: 'Running', phaseTransitionTimestamp: '2026-11-23T10:00:00Z' }]);
    const again = calculateStatus({
      vmi: { ...vmi('Running'), status: first },
      domain: domain('Running', 'Unknown'),
      launcher: 'ready',
      now: new Date(),
    });
    assert.ok(statusEqual(again, first), 'level-based: a second round is a no-op');
  });

  test('statusEqual compares as JSON: key order and undefined keys do not matter, array order does', () => {
    assert.ok(statusEqual({ phase: 'Running', machine: { type: 'q35' } }, { machine: { type: 'q35' }, phase: 'Running' }));
    assert.ok(statusEqual({ phase: 'Running', reason: undefined }, { phase: 'Running' }));
    assert.ok(
      statusEqual({ conditions: [{ type: 'Ready', lastProbeTime: null }] }, { conditions: [{ lastProbeTime: null, type: 'Ready' }] }),
    );
    assert.ok(!statusEqual({ phase: 'Running' }, { phase: 'Running', reason: 'x' }));
    assert.ok(!statusEqual({ conditions: [{ type: 'A' }, { type: 'B' }] }, { conditions: [{ type: 'B' }, { type: 'A' }] }));
    assert.ok(!statusEqual({ lastProbeTime: null }, { lastProbeTime: {} }));
    assert.ok(!statusEqual({ interfaces: [] }, { interfaces: {} }));
    assert.ok(!statusEqual({ memory: { guestCurrent: '1Gi' } }, { memory: { guestCurrent: 1 } }));
  });

  test('calculateStatus leaves the input VMI alone', () => {
    const input = {
      ...vmi('Running'),
      status: calculateStatus({ vmi: vmi('Scheduled'), domain: domain('Paused', 'User'), launcher: 'ready', now }),
    };
    const before = JSON.stringify(input);
    calculateStatus({ vmi: input, domain: domain('Running', 'Unknown'), launcher: 'ready', now: new Date() });
    calculateStatus({ vmi: input, domain: undefined, launcher: 'unresponsive', now: new Date() });
    assert.equal(JSON.stringify(input), before);
  });

  test('Paused with KubeVirt reasons; removed when running again', () => {
    const reasonFor = (r: string) =>
      calculateStatus({ vmi: vmi('Running'), domain: domain('Paused', r), launcher: 'ready', now }).conditions?.find(
        (c) => c.type === 'Paused',
      );
    assert.deepEqual(reasonFor('User'), {
      type: 'Paused',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: '2026-11-23T10:00:00Z',
      reason: 'PausedByUser',
      message: 'VMI was paused by user',
    });
    assert.equal(reasonFor('IOError')?.reason, 'PausedIOError');
    assert.equal(reasonFor('Migration')?.reason, 'PausedByMigrationMonitor');
    const paused = calculateStatus({ vmi: vmi('Running'), domain: domain('Paused', 'User'), launcher: 'ready', now });
    const resumed = calculateStatus({
      vmi: { ...vmi('Running'), status: paused },
      domain: domain('Running', 'Unknown'),
      launcher: 'ready',
      now,
    });
    assert.equal(
      resumed.conditions?.some((c) => c.type === 'Paused'),
      false,
    );
  });

  test('AgentConnected from the guest agent channel; guestOSInfo, fsFreezeStatus, machine, memory from the domain', () => {
    const d = domain('Running', 'Unknown', (x) => {
      x.Spec.Devices.Channels = [
        {
          Type: 'unix',
          Source: null,
          Target: { Name: 'org.qemu.guest_agent.0', Type: 'virtio', Address: '', Port: 0, State: 'connected' },
        },
      ];
      x.Status.OSInfo = {
        Name: 'Debian',
        KernelRelease: '6.1',
        Version: '12',
        PrettyName: 'Debian 12',
        VersionId: '12',
        KernelVersion: '#1',
        Machine: 'x86_64',
        Id: 'debian',
      };
      x.Status.FSFreezeStatus = { Status: 'frozen' };
      x.Spec.OS.Type.Machine = 'pc-q35-7.2';
      x.Spec.CurrentMemory = { Value: 134217728, Unit: 'b' };
    });
    const s = calculateStatus({ vmi: vmi('Running'), domain: d, launcher: 'ready', now });
    assert.equal(s.conditions?.find((c) => c.type === 'AgentConnected')?.status, 'True');
    assert.deepEqual(s.guestOSInfo, {
      name: 'Debian',
      kernelRelease: '6.1',
      version: '12',
      prettyName: 'Debian 12',
      versionId: '12',
      kernelVersion: '#1',
      machine: 'x86_64',
      id: 'debian',
    });
    assert.equal(s.fsFreezeStatus, 'frozen');
    assert.deepEqual(s.machine, { type: 'pc-q35-7.2' });
    assert.deepEqual(s.memory, { guestCurrent: '128Mi' });
  });

  test('a sync error sets Synchronized=False with KubeVirt reason; a good sync removes it', () => {
    const failed = calculateStatus({ vmi: vmi('Scheduled'), domain: undefined, launcher: 'ready', syncError: 'boom', now });
    assert.deepEqual(
      failed.conditions?.find((c) => c.type === 'Synchronized'),
      {
        type: 'Synchronized',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: '2026-11-23T10:00:00Z',
        reason: 'Synchronizing with the Domain failed.',
        message: 'boom',
      },
    );
    const ok = calculateStatus({ vmi: { ...vmi('Scheduled'), status: failed }, domain: undefined, launcher: 'ready', now });
    assert.equal(
      ok.conditions?.some((c) => c.type === 'Synchronized'),
      false,
    );
  });

  test("LiveMigratable: always False until migration exists; KubeVirt's specific reason first, else NotMigratable", () => {
    const cond = (v: VirtualMachineInstance) => {
      const c = calculateStatus({ vmi: v, domain: domain('Running', 'Unknown'), launcher: 'ready', now }).conditions?.find(
        (x) => x.type === 'LiveMigratable',
      );
      return [c?.status, c?.reason, c?.message];
    };
    const withIface = (iface: object) =>
      parseVMI({
        ...vmi('Running'),
        spec: { domain: { devices: { interfaces: [{ name: 'default', ...iface }] } }, networks: [{ name: 'default', pod: {} }] },
      });
    const bridgeMsg =
      'cannot migrate VMI which does not use masquerade, bridge with kubevirt.io/allow-pod-bridge-network-live-migration VM annotation or a migratable plugin to connect to the pod network';
    const cases: Array<[string, VirtualMachineInstance, Array<string | undefined>]> = [
      // what KubeVirt would report itself wins: the interface check comes before any other
      ['bridge on the pod network', withIface({ bridge: {} }), ['False', 'InterfaceNotLiveMigratable', bridgeMsg]],
      // KubeVirt would say True; the launcher answers every migration RPC with UNIMPLEMENTED
      ['masquerade on the pod network', withIface({ masquerade: {} }), ['False', 'NotMigratable', MIGRATION_NOT_IMPLEMENTED_MESSAGE]],
      [
        'no interfaces',
        parseVMI({ ...vmi('Running'), spec: { domain: { devices: {} } } }),
        ['False', 'NotMigratable', MIGRATION_NOT_IMPLEMENTED_MESSAGE],
      ],
    ];
    for (const [what, v, want] of cases) assert.deepEqual(cond(v), want, what);
  });

  test('interfaces: spec NICs by alias with the agent IPs for their MAC, then agent-only NICs (not lo)', () => {
    const d = domain('Running', 'Unknown', (x) => {
      x.Spec.Devices.Interfaces = [{ Alias: { Name: 'ua-default', UserDefined: true }, MAC: { MAC: '52:54:00:AA:BB:CC' } } as never];
      x.Status.Interfaces = [
        { Mac: '52:54:00:aa:bb:cc', Ip: '10.0.2.2', IPs: ['10.0.2.2', 'fe80::1'], InterfaceName: 'eth0' },
        { Mac: '00:00:00:00:00:00', Ip: '127.0.0.1', IPs: ['127.0.0.1'], InterfaceName: 'lo' },
        { Mac: '52:54:00:00:00:09', Ip: '', IPs: [], InterfaceName: 'eth9' },
      ];
    });
    assert.deepEqual(interfacesStatus(vmi('Running'), d), [
      {
        name: 'default',
        infoSource: 'domain, guest-agent',
        mac: '52:54:00:aa:bb:cc',
        interfaceName: 'eth0',
        ipAddress: '10.0.2.2',
        ipAddresses: ['10.0.2.2', 'fe80::1'],
      },
      { infoSource: 'guest-agent', interfaceName: 'eth9', mac: '52:54:00:00:00:09' },
    ]);
  });

  test('memory quantities as resource.Quantity', () => {
    assert.equal(quantity(131072, 'KiB'), '128Mi');
    assert.equal(quantity(2, 'GiB'), '2Gi');
    assert.equal(quantity(1000, 'b'), '1000');
  });
});

describe('work queue (client-go semantics)', () => {
  test('a key is deduplicated, never processed twice at once, and re-processed if added meanwhile', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(q.length, 2);
    const first = await q.get();
    assert.equal(first, 'a');
    q.add('a'); // while processing: dirty, not queued twice
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'b');
    q.done('b');
    assert.equal(q.length, 0);
    q.done('a'); // now it comes back
    assert.equal(await q.get(), 'a');
    q.done('a');
    q.shutdown();
    assert.equal(await q.get(), undefined);
  });

  test('rate-limited requeues back off exponentially; forget resets', async (t) => {
    // mocked timers: the delays are checked exactly, whatever the machine's load
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const q = new WorkQueue({ baseDelayMs: 20, maxDelayMs: 1000 });
    const requeuedAfter = async (ms: number) => {
      q.addRateLimited('k');
      t.mock.timers.tick(ms - 1);
      assert.equal(q.length, 0, `not back before ${ms} ms`);
      t.mock.timers.tick(1);
      assert.equal(q.length, 1, `back after ${ms} ms`);
      assert.equal(await q.get(), 'k');
      q.done('k');
    };
    await requeuedAfter(20);
    await requeuedAfter(40);
    await requeuedAfter(80);
    q.forget('k');
    await requeuedAfter(20);
    q.shutdown();
  });
});
