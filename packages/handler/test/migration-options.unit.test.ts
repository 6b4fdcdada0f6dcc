// The MigrationOptions the source handler sends with MigrateVirtualMachine (migration-source.go's
// migrateVMI and configureParallelMigrationThreads), table by table: which configuration wins (the
// VMI's frozen one over the cluster's), KubeVirt's defaults for what is unset, the multifd threads,
// the experimental options behind their feature gates, and a frozen configuration that does not parse.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as z from 'zod/mini';
import { migrationOptionsSchema, parseVMI, type MigrationOptions, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { DefaultMigrationConfiguration, type MigrationConfiguration } from '../src/cluster-config.ts';
import {
  findMigrationIP,
  MigrationDowntimeTuningFeatureGate,
  MigrationStallDetectionFeatureGate,
  migrationOptionsFor,
  parallelMigrationThreads,
  ParallelMultifdMigrationThreads,
  vmiMigrationConfiguration,
} from '../src/migration/options.ts';

interface VMIOptions {
  /** status.migrationState.migrationConfiguration (virt-controller's frozen VMIMConfigurationOptions). */
  frozen?: unknown;
  limits?: Record<string, string | number>;
  requests?: Record<string, string | number>;
  dedicatedCpuPlacement?: boolean;
}

function vmi(o: VMIOptions = {}): VirtualMachineInstance {
  const resources = {
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.requests ? { requests: o.requests } : {}),
  };
  return parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'testvmi', namespace: 'default', uid: '6a3d1f0e-0000-4000-8000-000000000001' },
    spec: {
      domain: {
        devices: {},
        ...(o.limits || o.requests ? { resources } : {}),
        ...(o.dedicatedCpuPlacement === undefined ? {} : { cpu: { cores: 2, dedicatedCpuPlacement: o.dedicatedCpuPlacement } }),
      },
    },
    status: {
      phase: 'Running',
      migrationState: {
        migrationUid: 'mig-0001',
        sourceNode: 'node01',
        targetNode: 'node02',
        ...(o.frozen === undefined ? {} : { migrationConfiguration: o.frozen }),
      },
    },
  });
}

/** What the handler sends for a VMI without limits on a cluster with KubeVirt's defaults. */
const defaults: MigrationOptions = {
  Bandwidth: '0Mi',
  ProgressTimeout: 150,
  CompletionTimeoutPerGiB: 150,
  MaxDowntimeMs: 900,
  UnsafeMigration: false,
  AllowAutoConverge: false,
  AllowPostCopy: false,
  AllowWorkloadDisruption: false,
  ParallelMigrationThreads: ParallelMultifdMigrationThreads,
  StallDetectorOptions: null,
  Compression: null,
  DowntimeTuning: null,
};

/** virt-config's applyStallDetectorDefaults. */
const stallDefaults = {
  StallMargin: 4,
  StallProgressTimeout: 40,
  SwitchoverTimeout: 60,
  EwmaAlpha: '0.4',
  PrecopyPossibleFactor: '1.5',
  PatienceWindowDecayFactor: '0.5',
  SearchLocalMinima: true,
  CompletionTimeoutFactor: '2',
};

interface Case {
  name: string;
  vmi?: VMIOptions;
  cluster?: MigrationConfiguration;
  gates?: string[];
  /** The fields that differ from `defaults`. */
  want: Partial<MigrationOptions>;
}

const optionsOf = (c: Pick<Case, 'vmi' | 'cluster' | 'gates'>) =>
  migrationOptionsFor(vmi(c.vmi), {
    clusterMigrations: c.cluster ?? {},
    isFeatureGateEnabled: (gate) => (c.gates ?? []).includes(gate),
  });

describe('migrationOptionsFor: the configuration and its defaults', () => {
  const cases: Case[] = [
    { name: 'an empty cluster configuration → KubeVirt defaults 0Mi / 150 / 150 / 900, 8 threads', want: {} },
    {
      name: "the cluster's configuration as virt-config fills it → the same defaults",
      cluster: { ...DefaultMigrationConfiguration },
      want: {},
    },
    {
      name: "no frozen configuration → the cluster's, field by field",
      cluster: {
        bandwidthPerMigration: '64Mi',
        progressTimeout: 300,
        completionTimeoutPerGiB: 800,
        maxDowntimeMs: 250,
        unsafeMigrationOverride: true,
        allowAutoConverge: true,
      },
      want: {
        Bandwidth: '64Mi',
        ProgressTimeout: 300,
        CompletionTimeoutPerGiB: 800,
        MaxDowntimeMs: 250,
        UnsafeMigration: true,
        AllowAutoConverge: true,
      },
    },
    {
      // the launcher parses Bandwidth as a quantity string or number; the handler sends a string
      name: 'a bandwidth given as a number → sent as its decimal string',
      cluster: { bandwidthPerMigration: 67108864 },
      want: { Bandwidth: '67108864' },
    },
    {
      name: 'allowPostCopy with allowWorkloadDisruption unset (older virt-controller) → workload disruption follows post-copy',
      cluster: { allowPostCopy: true },
      want: { AllowPostCopy: true, AllowWorkloadDisruption: true },
    },
    {
      name: 'allowPostCopy with allowWorkloadDisruption false → false stays',
      cluster: { allowPostCopy: true, allowWorkloadDisruption: false },
      want: { AllowPostCopy: true, AllowWorkloadDisruption: false },
    },
    {
      name: 'allowWorkloadDisruption without post-copy → only workload disruption',
      cluster: { allowWorkloadDisruption: true },
      want: { AllowWorkloadDisruption: true },
    },
    {
      name: "the VMI's frozen configuration wins over the cluster's",
      cluster: { bandwidthPerMigration: '64Mi', progressTimeout: 300, allowPostCopy: true, allowAutoConverge: true },
      vmi: {
        frozen: {
          bandwidthPerMigration: '1Gi',
          progressTimeout: 42,
          completionTimeoutPerGiB: 10,
          maxDowntimeMs: 100,
          unsafeMigrationOverride: false,
          allowAutoConverge: false,
          allowPostCopy: false,
          allowWorkloadDisruption: true,
        },
      },
      want: {
        Bandwidth: '1Gi',
        ProgressTimeout: 42,
        CompletionTimeoutPerGiB: 10,
        MaxDowntimeMs: 100,
        AllowWorkloadDisruption: true,
      },
    },
    {
      // virt-controller freezes the whole configuration: nothing of the cluster's is mixed into it
      name: "a frozen configuration with fields unset → KubeVirt's defaults for them, not the cluster's",
      cluster: { bandwidthPerMigration: '64Mi', progressTimeout: 300, maxDowntimeMs: 50 },
      vmi: { frozen: { allowPostCopy: true } },
      want: { AllowPostCopy: true, AllowWorkloadDisruption: true },
    },
    {
      name: "the frozen allowWorkloadDisruption false with post-copy → false (the cluster's true is not used)",
      cluster: { allowWorkloadDisruption: true },
      vmi: { frozen: { allowPostCopy: true, allowWorkloadDisruption: false } },
      want: { AllowPostCopy: true, AllowWorkloadDisruption: false },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(optionsOf(c), { ...defaults, ...c.want });
    });
  }
});

describe('migrationOptionsFor: ParallelMigrationThreads (configureParallelMigrationThreads)', () => {
  const cases: Array<{ name: string; vmi: VMIOptions; want: number | null }> = [
    { name: 'no resources → multifd with 8 threads', vmi: {}, want: 8 },
    { name: 'a CPU limit → none (the threads would choke the compute container)', vmi: { limits: { cpu: '2' } }, want: null },
    { name: 'a millicore CPU limit → none', vmi: { limits: { cpu: '500m' } }, want: null },
    { name: 'a numeric CPU limit → none', vmi: { limits: { cpu: 1 } }, want: null },
    { name: 'a zero CPU limit → threads (a zero limit is no limit)', vmi: { limits: { cpu: '0' } }, want: 8 },
    { name: 'a zero millicore CPU limit → threads', vmi: { limits: { cpu: '0m' } }, want: 8 },
    { name: 'a memory limit only → threads', vmi: { limits: { memory: '1Gi' } }, want: 8 },
    { name: 'a CPU request only → threads', vmi: { requests: { cpu: '2' } }, want: 8 },
    { name: 'dedicated CPUs → none', vmi: { dedicatedCpuPlacement: true }, want: null },
    { name: 'dedicatedCpuPlacement false → threads', vmi: { dedicatedCpuPlacement: false }, want: 8 },
    { name: 'dedicated CPUs with a zero CPU limit → none', vmi: { dedicatedCpuPlacement: true, limits: { cpu: '0' } }, want: null },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(parallelMigrationThreads(vmi(c.vmi)), c.want);
      assert.equal(optionsOf({ vmi: c.vmi }).ParallelMigrationThreads, c.want);
    });
  }
});

describe('migrationOptionsFor: experimental options and their feature gates', () => {
  const cases: Case[] = [
    {
      name: 'MigrationStallDetection on, nothing frozen → the stall detector with its defaults',
      gates: [MigrationStallDetectionFeatureGate],
      want: { StallDetectorOptions: stallDefaults },
    },
    {
      name: "MigrationStallDetection on, the cluster's configuration → still the defaults (the cluster's carries no experimental options)",
      gates: [MigrationStallDetectionFeatureGate],
      cluster: { allowPostCopy: true },
      want: { StallDetectorOptions: stallDefaults, AllowPostCopy: true, AllowWorkloadDisruption: true },
    },
    {
      name: 'MigrationStallDetection on, a frozen stall detector → its fields over the defaults',
      gates: [MigrationStallDetectionFeatureGate],
      vmi: {
        frozen: {
          experimentalMigrationOptions: {
            stallDetector: { stallMargin: 7, ewmaAlpha: '0.9', searchLocalMinima: false, completionTimeoutFactor: 3 },
          },
        },
      },
      want: {
        StallDetectorOptions: { ...stallDefaults, StallMargin: 7, EwmaAlpha: '0.9', SearchLocalMinima: false, CompletionTimeoutFactor: 3 },
      },
    },
    {
      name: 'MigrationStallDetection off → no stall detector, whatever is frozen',
      vmi: { frozen: { experimentalMigrationOptions: { stallDetector: { stallMargin: 7 } } } },
      want: { StallDetectorOptions: null },
    },
    {
      name: 'a frozen compression → sent without a gate',
      vmi: { frozen: { experimentalMigrationOptions: { compression: 'zstd' } } },
      want: { Compression: 'zstd' },
    },
    {
      name: 'MigrationDowntimeTuning on, a frozen downtimeTuning → sent as it is',
      gates: [MigrationDowntimeTuningFeatureGate],
      vmi: { frozen: { experimentalMigrationOptions: { downtimeTuning: { initialMs: 50, steps: 4, startAfterIteration: 2 } } } },
      want: { DowntimeTuning: { initialMs: 50, steps: 4, startAfterIteration: 2 } },
    },
    {
      name: 'MigrationDowntimeTuning off → no downtime tuning',
      vmi: { frozen: { experimentalMigrationOptions: { downtimeTuning: { initialMs: 50, steps: 4 } } } },
      want: { DowntimeTuning: null },
    },
    {
      name: 'MigrationDowntimeTuning on, nothing frozen → none',
      gates: [MigrationDowntimeTuningFeatureGate],
      want: { DowntimeTuning: null },
    },
    {
      name: 'the stall detection gate does not turn on downtime tuning',
      gates: [MigrationStallDetectionFeatureGate],
      vmi: { frozen: { experimentalMigrationOptions: { downtimeTuning: { steps: 4 } } } },
      want: { StallDetectorOptions: stallDefaults, DowntimeTuning: null },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(optionsOf(c), { ...defaults, ...c.want });
    });
  }

  test('the options as JSON are what the launcher parses (Go field names, nothing lost)', () => {
    const options = optionsOf({
      gates: [MigrationStallDetectionFeatureGate, MigrationDowntimeTuningFeatureGate],
      vmi: {
        limits: { cpu: '2' },
        frozen: {
          bandwidthPerMigration: '128Mi',
          allowPostCopy: true,
          experimentalMigrationOptions: { compression: 'zstd', downtimeTuning: { steps: 3 }, stallDetector: { stallMargin: 2 } },
        },
      },
    });
    const json = JSON.parse(JSON.stringify(options)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json).sort(), Object.keys(defaults).sort());
    assert.deepEqual(z.parse(migrationOptionsSchema, json), options);
    assert.equal(json.ParallelMigrationThreads, null);
  });
});

describe('vmiMigrationConfiguration', () => {
  test('none frozen → undefined (the cluster configuration applies)', () => {
    assert.equal(vmiMigrationConfiguration(vmi()), undefined);
  });

  test('a frozen configuration → parsed, unknown fields kept', () => {
    const frozen = { progressTimeout: 42, allowPostCopy: true, network: 'migration-net', somethingNewer: 'x' };
    assert.deepEqual(vmiMigrationConfiguration(vmi({ frozen })), frozen);
  });

  const invalid: Array<{ name: string; frozen: unknown; field: RegExp }> = [
    { name: 'a progressTimeout that is not a number', frozen: { progressTimeout: 'soon' }, field: /progressTimeout/ },
    { name: 'a bandwidth that is a boolean', frozen: { bandwidthPerMigration: true }, field: /bandwidthPerMigration/ },
    { name: 'a negative maxDowntimeMs', frozen: { maxDowntimeMs: -1 }, field: /maxDowntimeMs/ },
    {
      name: 'a fractional stallMargin',
      frozen: { experimentalMigrationOptions: { stallDetector: { stallMargin: 1.5 } } },
      field: /experimentalMigrationOptions\.stallDetector\.stallMargin/,
    },
    {
      name: 'a compression that is not a string',
      frozen: { experimentalMigrationOptions: { compression: 3 } },
      field: /experimentalMigrationOptions\.compression/,
    },
  ];
  for (const c of invalid) {
    test(`${c.name} → a clear error naming the field, from migrationOptionsFor too`, () => {
      assert.throws(() => vmiMigrationConfiguration(vmi({ frozen: c.frozen })), { message: c.field });
      assert.throws(() => optionsOf({ vmi: { frozen: c.frozen } }), { message: c.field });
    });
  }
});

describe('the address the target publishes (FindMigrationIP)', () => {
  const iface = (address: string, internal = false) =>
    ({ address, internal, family: address.includes(':') ? 'IPv6' : 'IPv4', netmask: '', mac: '', cidr: null }) as never;
  const cases: Array<[string, NodeJS.Dict<never[]>, string | RegExp]> = [
    ['no migration network: the pod IP', { eth0: [iface('10.244.0.5')] }, '10.244.0.5'],
    [
      'migration0: its global address',
      { eth0: [iface('10.244.0.5')], migration0: [iface('fe80::1'), iface('192.168.50.3')] },
      '192.168.50.3',
    ],
    ['migration0 with an IPv6 global address', { migration0: [iface('fe80::1'), iface('fd00:50::3')] }, 'fd00:50::3'],
    [
      'migration0 with only link-local addresses: an error',
      { migration0: [iface('fe80::1'), iface('169.254.0.2')] },
      /no IP found on migration0/,
    ],
  ];
  for (const [what, interfaces, want] of cases) {
    test(what, () => {
      if (typeof want === 'string') assert.equal(findMigrationIP('10.244.0.5', interfaces), want);
      else assert.throws(() => findMigrationIP('10.244.0.5', interfaces), { message: want });
    });
  }
});
