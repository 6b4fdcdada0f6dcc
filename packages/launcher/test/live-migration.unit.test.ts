// The live migration's decisions as tables: libvirt's flags and parameters for a VMI and its options,
// which disks are copied, the monitor's convergence and downtime steps, the options' parsing, and
// the migration record's one-shot rule.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainMigrateFlags as F } from '@kubevirt-ts/libvirt';
import { parseVMI, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { newDomainSpec, type Disk } from '../src/api/index.ts';
import { migrationOptionsSchema, type MigrationOptions } from '@kubevirt-ts/shared';
import { bandwidthMiB, parseMigrationOptions } from '../src/migration/options.ts';
import {
  destinationDomainName,
  diskTargetsForMigration,
  migrationFlags,
  migrationParams,
  QEMU_POSTCOPY_MULTIFD,
  withoutUnsafeParallel,
} from '../src/migration/source.ts';
import { domainJobInfo, downtimeTuning, legacyConvergence, nextDowntime, type ConvergenceState } from '../src/migration/monitor.ts';
import { initializeMigrationMetadata, migrationUID, setMigrationResult, type MigrationMetadataStore } from '../src/migration/metadata.ts';
import type { MigrationMetadata } from '../src/api/index.ts';
import * as z from 'zod/mini';

const options = (o: Partial<MigrationOptions> = {}): MigrationOptions => ({ ...z.parse(migrationOptionsSchema, {}), ...o });

function vmi(extra: { volumes?: object[]; status?: object } = {}): VirtualMachineInstance {
  return parseVMI(
    JSON.stringify({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: 'mig', namespace: 'ns', uid: 'aaaa-1111' },
      spec: { domain: { devices: {} }, volumes: extra.volumes ?? [] },
      status: extra.status ?? { migrationState: { migrationUid: 'm-1' } },
    }),
  );
}

describe('generateMigrationFlags', () => {
  const base = F.LIVE | F.PEER2PEER | F.PERSIST_DEST;
  const cases: [string, boolean, boolean, Partial<MigrationOptions>, number][] = [
    ['defaults', false, false, {}, base],
    ['block migration', true, false, {}, base | F.NON_SHARED_INC],
    ['a paused domain stays paused', false, true, {}, base | F.PAUSED],
    ['unsafe', false, false, { UnsafeMigration: true }, base | F.UNSAFE],
    ['auto-converge and post-copy', false, false, { AllowAutoConverge: true, AllowPostCopy: true }, base | F.AUTO_CONVERGE | F.POSTCOPY],
    ['parallel threads', false, false, { ParallelMigrationThreads: 4 }, base | F.PARALLEL],
    ['zstd compression', false, false, { Compression: 'zstd' }, base | F.COMPRESSED],
    ['compression None', false, false, { Compression: 'None' }, base],
    ['an unknown method is no compression', false, false, { Compression: 'lz4' }, base],
  ];
  for (const [name, block, paused, o, want] of cases) {
    test(name, () => assert.equal(migrationFlags(block, paused, options(o)), want));
  }
});

test('parallel connections are dropped when post-copy may start on a QEMU older than 10.1 (7.2 crashes the incoming side)', () => {
  const o = options({ ParallelMigrationThreads: 8, AllowPostCopy: true });
  assert.equal(withoutUnsafeParallel(o, 7_002_022).ParallelMigrationThreads, null);
  assert.equal(withoutUnsafeParallel(o, QEMU_POSTCOPY_MULTIFD), o);
  const noPostCopy = options({ ParallelMigrationThreads: 8 });
  assert.equal(withoutUnsafeParallel(noPostCopy, 7_002_022), noPostCopy);
});

describe('generateMigrationParams', () => {
  test('the migrate URI through the proxy socket, both XMLs, the destination name; no bandwidth when 0', () => {
    const params = migrationParams(vmi(), options(), '<domain/>', [], '/var/run/kubevirt');
    assert.deepEqual(params, [
      { field: 'migrate_uri', type: 'string', value: 'unix:///var/run/kubevirt/migrationproxy/aaaa-1111-49152-source.sock' },
      { field: 'destination_xml', type: 'string', value: '<domain/>' },
      { field: 'persistent_xml', type: 'string', value: '<domain/>' },
      { field: 'destination_name', type: 'string', value: 'ns_mig' },
    ]);
  });

  test('bandwidth in MiB/s, parallel connections, a disk list with the NBD socket, compression', () => {
    const params = migrationParams(
      vmi(),
      options({ Bandwidth: '64Mi', ParallelMigrationThreads: 3, Compression: 'zstd' }),
      '<domain/>',
      ['vda', 'vdb'],
      '/run/kubevirt',
    );
    const byField = (f: string) => params.filter((p) => p.field === f).map((p) => p.value);
    assert.deepEqual(byField('bandwidth'), [64n]);
    assert.deepEqual(byField('parallel.connections'), [3]);
    assert.deepEqual(byField('migrate_disks'), ['vda', 'vdb']);
    assert.deepEqual(byField('disks_uri'), ['unix:///run/kubevirt/migrationproxy/aaaa-1111-49153-source.sock']);
    assert.deepEqual(byField('compression'), ['zstd']);
  });

  test("a decentralized migration: the target VMI's UID replaces the source's in the XML, and its domain name", () => {
    const v = vmi({
      status: {
        migrationState: {
          migrationUid: 'm-1',
          targetState: { virtualMachineInstanceUID: 'bbbb-2222', domainName: 'other', domainNamespace: 'ns2' },
        },
      },
    });
    const params = migrationParams(v, options(), '<uid>aaaa-1111</uid><p>aaaa-1111</p>', [], '/x');
    assert.equal(params.find((p) => p.field === 'destination_xml')?.value, '<uid>bbbb-2222</uid><p>bbbb-2222</p>');
    assert.equal(destinationDomainName(v), 'ns2_other');
  });

  test('QuantityToMebiByte: rounded to nearest, under 1 MiB is 1, 0 is none', () => {
    assert.deepEqual(['0', '1', '1Mi', '1.4Mi', '1.5Mi', '1G'].map(bandwidthMiB), [0, 1, 1, 1, 2, 954]);
  });
});

describe('getDiskTargetsForMigration', () => {
  const disk = (name: string, o: Partial<Disk> = {}): Disk => {
    const spec = newDomainSpec();
    const d = {
      ...(spec.Devices.Disks?.[0] ?? {}),
      Device: 'disk',
      Type: 'file',
      Alias: { Name: name, UserDefined: false },
      ReadOnly: null,
      Target: { Bus: 'virtio', Device: `t-${name}` },
      ...o,
    };
    return d as Disk;
  };
  test('local disks are copied; shared claims, CD-ROMs and read-only volumes of the pod are not', () => {
    const spec = newDomainSpec();
    spec.Devices.Disks = [
      disk('cd', { Device: 'cdrom' }),
      disk('container'),
      disk('claim'),
      disk('cloudinit', { ReadOnly: {} }),
      disk('hostro', { ReadOnly: {} }),
      disk('net', { Type: 'network' }),
      disk('empty'),
    ];
    const v = vmi({
      volumes: [
        { name: 'container', containerDisk: { image: 'x' } },
        { name: 'claim', persistentVolumeClaim: { claimName: 'c' } },
        { name: 'cloudinit', cloudInitNoCloud: { userData: 'x' } },
        { name: 'hostro', hostDisk: { path: '/x', type: 'Disk' } },
        { name: 'empty', emptyDisk: { capacity: '1Gi' } },
      ],
    });
    assert.deepEqual(diskTargetsForMigration(spec, v), ['t-container', 't-cloudinit', 't-empty']);
  });
});

describe('handleLegacyConvergence', () => {
  const s = (o: Partial<ConvergenceState>): ConvergenceState => ({
    elapsedSeconds: 10,
    stuckSeconds: 0,
    mode: 'PreCopy',
    abortInProgress: false,
    acceptableCompletionTime: 150,
    ...o,
  });
  const cases: [string, Partial<ConvergenceState>, Partial<MigrationOptions>, string][] = [
    ['progressing within its time', {}, { ProgressTimeout: 150 }, 'none'],
    ['stuck longer than the progress timeout', { stuckSeconds: 151 }, { ProgressTimeout: 150 }, 'abort-stuck'],
    ['stuck, abort already asked', { stuckSeconds: 151, abortInProgress: true }, { ProgressTimeout: 150 }, 'none'],
    ['no progress timeout', { stuckSeconds: 10_000 }, { ProgressTimeout: 0 }, 'none'],
    ['over its completion time', { elapsedSeconds: 151 }, {}, 'abort-timeout'],
    ['no completion limit', { elapsedSeconds: 10_000, acceptableCompletionTime: 0 }, {}, 'none'],
    [
      'over time, disruption allowed: post-copy',
      { elapsedSeconds: 151 },
      { AllowWorkloadDisruption: true, AllowPostCopy: true },
      'postcopy',
    ],
    ['over time, disruption allowed, no post-copy: pause', { elapsedSeconds: 151 }, { AllowWorkloadDisruption: true }, 'pause'],
    [
      'paused already and over time again: abort',
      { elapsedSeconds: 301, mode: 'Paused' },
      { AllowWorkloadDisruption: true },
      'abort-timeout',
    ],
    ['post-copy is never aborted', { elapsedSeconds: 10_000, stuckSeconds: 10_000, mode: 'PostCopy' }, { ProgressTimeout: 1 }, 'none'],
  ];
  for (const [name, state, o, want] of cases) test(name, () => assert.equal(legacyConvergence(s(state), options(o)), want));
});

describe('downtime tuning', () => {
  test('off without DowntimeTuning; defaults, and an initial value above the ceiling capped', () => {
    assert.equal(downtimeTuning(options()), undefined);
    assert.deepEqual(downtimeTuning(options({ MaxDowntimeMs: 1000, DowntimeTuning: {} })), {
      maxDowntimeMs: 1000,
      initialMs: 150,
      steps: 7,
      startAfterIteration: 3,
      cooldownSeconds: 10,
    });
    assert.equal(downtimeTuning(options({ MaxDowntimeMs: 100, DowntimeTuning: { initialMs: 500 } }))?.initialMs, 100);
  });
  test('first the initial value, then steps to the ceiling after the start iteration, one per cooldown', () => {
    const cfg = { maxDowntimeMs: 850, initialMs: 150, steps: 7, startAfterIteration: 3, cooldownSeconds: 10 };
    assert.equal(nextDowntime(cfg, 0, undefined, 0), 150);
    assert.equal(nextDowntime(cfg, 150, 2, 60_000), undefined, 'before the start iteration');
    assert.equal(nextDowntime(cfg, 150, 3, 9_000), undefined, 'within the cooldown');
    assert.equal(nextDowntime(cfg, 150, 3, 10_000), 250);
    assert.equal(nextDowntime(cfg, 800, 9, 10_000), 850);
    assert.equal(nextDowntime(cfg, 850, 9, 10_000), undefined, 'at the ceiling');
  });
});

describe('MigrationOptions from the request', () => {
  test("Go's field names, zero values for what is absent", () => {
    const o = parseMigrationOptions(Buffer.from('{"Bandwidth":"64Mi","AllowPostCopy":true,"DowntimeTuning":{"steps":2}}'));
    assert.equal(o.Bandwidth, '64Mi');
    assert.equal(o.AllowPostCopy, true);
    assert.equal(o.ProgressTimeout, 0);
    assert.equal(o.ParallelMigrationThreads, null);
    assert.deepEqual(o.DowntimeTuning, { steps: 2 });
  });
  test("KubeVirt's errors: absent, not JSON, a field of the wrong type", () => {
    assert.throws(() => parseMigrationOptions(undefined), { message: 'migration options object not present in command server request' });
    assert.throws(
      () => parseMigrationOptions(Buffer.from('{')),
      /^Error: no valid migration options object present in command server request: /,
    );
    assert.throws(() => parseMigrationOptions(Buffer.from('{"MaxDowntimeMs":-1}')), /command server request: MaxDowntimeMs: /);
  });
});

describe('the migration record', () => {
  const store = (): MigrationMetadataStore & { m: MigrationMetadata | null } => {
    const s = {
      m: null as MigrationMetadata | null,
      load: () => s.m,
      store: (m: MigrationMetadata) => {
        s.m = { ...m };
      },
    };
    return s;
  };

  test("MigrationUID: the source state's, else the migration's", () => {
    assert.equal(migrationUID(vmi()), 'm-1');
    assert.equal(
      migrationUID(vmi({ status: { migrationState: { migrationUid: 'm-1', sourceState: { migrationUID: 'm-src' } } } })),
      'm-src',
    );
    assert.equal(migrationUID(vmi({ status: {} })), '');
  });

  test('one shot: running again is nothing, after its end an error', () => {
    const s = store();
    assert.equal(initializeMigrationMetadata(s, vmi(), 'PreCopy'), false);
    assert.equal(s.m?.UID, 'm-1');
    assert.equal(s.m?.Mode, 'PreCopy');
    assert.equal(initializeMigrationMetadata(s, vmi(), 'PreCopy'), true, 'in progress');
    assert.equal(setMigrationResult(s, false, ''), true);
    assert.equal(setMigrationResult(s, true, 'late'), false, 'the result is reported once');
    assert.equal(s.m?.Failed, false);
    assert.throws(
      () => initializeMigrationMetadata(s, vmi(), 'PreCopy'),
      /^Error: migration job m-1 already executed, finished at .+, failed: false, abortStatus: $/,
    );
  });

  test('an aborted migration fails with the abort as its reason', () => {
    const s = store();
    initializeMigrationMetadata(s, vmi(), 'PreCopy');
    s.store({ ...(s.m as MigrationMetadata), AbortStatus: 'Succeeded' });
    setMigrationResult(s, true, "virError(Code=55, Domain=10, Message='operation aborted')");
    assert.equal(s.m?.FailureReason, 'Live migration has been aborted');
    assert.equal(s.m?.Failed, true);
  });
});

describe('the job stats GetDomainStats reports (Convert_libvirt_DomainJobInfo_To_stats_DomainJobInfo)', () => {
  test("libvirt's typed parameters, each with its Set flag; absent ones unset and 0", () => {
    // what virDomainGetJobStats returns mid-migration: unsigned longs arrive as bigint
    const info = domainJobInfo({
      data_total: 277872640n,
      data_processed: 52428800n,
      data_remaining: 225443840n,
      memory_bps: 1048576n,
      type: 2,
    });
    assert.deepEqual(info, {
      DataTotalSet: true,
      DataTotal: 277872640,
      DataProcessedSet: true,
      DataProcessed: 52428800,
      MemoryBpsSet: true,
      MemoryBps: 1048576,
      DataRemainingSet: true,
      DataRemaining: 225443840,
      MemDirtyRateSet: false,
      MemDirtyRate: 0,
    });
    assert.equal(domainJobInfo({ memory_dirty_rate: 4096 }).MemDirtyRate, 4096);
    assert.equal(domainJobInfo({ memory_dirty_rate: 4096 }).MemDirtyRateSet, true);
  });
});
