// The MigrationOptions the source handler sends with MigrateVirtualMachine (migration-source.go's
// migrateVMI): the migration's configuration as virt-controller froze it in the VMI's migration state
// (its policy applied), or the cluster's when it has none, with KubeVirt's defaults for what is unset.
import os from 'node:os';
import * as z from 'zod/mini';
import { errorMessage, parseQuantity, parseWith, type MigrationOptions, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { DefaultMigrationConfiguration, migrationConfigurationSchema, type MigrationConfiguration } from '../cluster-config.ts';

/** parallelMultifdMigrationThreads */
export const ParallelMultifdMigrationThreads = 8;
export const MigrationStallDetectionFeatureGate = 'MigrationStallDetection';
export const MigrationDowntimeTuningFeatureGate = 'MigrationDowntimeTuning';

/** virt-config's stall detector defaults (applyStallDetectorDefaults). */
const StallDetectorDefaults = {
  StallMargin: 4,
  StallProgressTimeout: 40,
  SwitchoverTimeout: 60,
  EwmaAlpha: '0.4',
  PrecopyPossibleFactor: '1.5',
  PatienceWindowDecayFactor: '0.5',
  SearchLocalMinima: true,
  CompletionTimeoutFactor: '2',
} as const;

const quantity = z.union([z.string(), z.number()]);

/** VMIMConfigurationOptions: the cluster's MigrationConfiguration and the experimental options. */
const vmimConfigurationSchema = z.extend(migrationConfigurationSchema, {
  experimentalMigrationOptions: z.optional(
    z.looseObject({
      compression: z.optional(z.string()),
      downtimeTuning: z.optional(
        z.looseObject({
          initialMs: z.optional(z.int()),
          steps: z.optional(z.int()),
          startAfterIteration: z.optional(z.int()),
          cooldownSeconds: z.optional(z.int()),
        }),
      ),
      stallDetector: z.optional(
        z.looseObject({
          stallMargin: z.optional(z.int()),
          stallProgressTimeout: z.optional(z.int()),
          switchoverTimeout: z.optional(z.int()),
          ewmaAlpha: z.optional(quantity),
          precopyPossibleFactor: z.optional(quantity),
          patienceWindowDecayFactor: z.optional(quantity),
          searchLocalMinima: z.optional(z.boolean()),
          completionTimeoutFactor: z.optional(quantity),
        }),
      ),
    }),
  ),
});

export interface MigrationOptionsContext {
  /** The cluster's migration configuration (GetMigrationConfiguration). */
  clusterMigrations: MigrationConfiguration;
  isFeatureGateEnabled(name: string): boolean;
}

/** The VMI's frozen migration configuration; throws (with the field) when it does not parse. */
export function vmiMigrationConfiguration(vmi: VirtualMachineInstance): z.infer<typeof vmimConfigurationSchema> | undefined {
  const raw = vmi.status?.migrationState?.migrationConfiguration;
  if (raw === undefined || raw === null) return undefined;
  const what = 'status.migrationState.migrationConfiguration';
  try {
    return parseWith(vmimConfigurationSchema, raw, what);
  } catch (err) {
    throw new Error(`invalid ${what}: ${errorMessage(err)}`, { cause: err });
  }
}

/** migrateVMI's options, configureParallelMigrationThreads included. */
export function migrationOptionsFor(vmi: VirtualMachineInstance, ctx: MigrationOptionsContext): MigrationOptions {
  const frozen = vmiMigrationConfiguration(vmi);
  const config = { ...DefaultMigrationConfiguration, ...(frozen ?? ctx.clusterMigrations) };
  // the cluster's configuration carries no experimental options (ToVMIMConfigurationOptions)
  const exp = frozen?.experimentalMigrationOptions;
  const stall = exp?.stallDetector ?? {};
  const bandwidth = config.bandwidthPerMigration;
  return {
    Bandwidth: typeof bandwidth === 'number' ? String(bandwidth) : bandwidth,
    ProgressTimeout: config.progressTimeout,
    CompletionTimeoutPerGiB: config.completionTimeoutPerGiB,
    MaxDowntimeMs: config.maxDowntimeMs,
    UnsafeMigration: config.unsafeMigrationOverride,
    AllowAutoConverge: config.allowAutoConverge,
    AllowPostCopy: config.allowPostCopy,
    // an older virt-controller leaves it unset: it follows allowPostCopy
    AllowWorkloadDisruption: config.allowWorkloadDisruption ?? config.allowPostCopy,
    ParallelMigrationThreads: parallelMigrationThreads(vmi),
    StallDetectorOptions: ctx.isFeatureGateEnabled(MigrationStallDetectionFeatureGate)
      ? {
          StallMargin: stall.stallMargin ?? StallDetectorDefaults.StallMargin,
          StallProgressTimeout: stall.stallProgressTimeout ?? StallDetectorDefaults.StallProgressTimeout,
          SwitchoverTimeout: stall.switchoverTimeout ?? StallDetectorDefaults.SwitchoverTimeout,
          EwmaAlpha: stall.ewmaAlpha ?? StallDetectorDefaults.EwmaAlpha,
          PrecopyPossibleFactor: stall.precopyPossibleFactor ?? StallDetectorDefaults.PrecopyPossibleFactor,
          PatienceWindowDecayFactor: stall.patienceWindowDecayFactor ?? StallDetectorDefaults.PatienceWindowDecayFactor,
          SearchLocalMinima: stall.searchLocalMinima ?? StallDetectorDefaults.SearchLocalMinima,
          CompletionTimeoutFactor: stall.completionTimeoutFactor ?? StallDetectorDefaults.CompletionTimeoutFactor,
        }
      : null,
    Compression: exp?.compression ?? null,
    DowntimeTuning: (ctx.isFeatureGateEnabled(MigrationDowntimeTuningFeatureGate) && exp?.downtimeTuning) || null,
  };
}

/**
 * configureParallelMigrationThreads: multifd, unless the compute container has a CPU limit or the
 * vCPUs are dedicated (the threads would starve the guest).
 */
export function parallelMigrationThreads(vmi: VirtualMachineInstance): number | null {
  const limit = vmi.spec.domain.resources?.limits?.cpu;
  if (limit !== undefined && !isZeroQuantity(limit)) return null;
  if (vmi.spec.domain.cpu?.dedicatedCpuPlacement === true) return null;
  return ParallelMultifdMigrationThreads;
}

const isZeroQuantity = (q: string | number) => parseQuantity(q)?.num === 0n;

/** v1.MigrationInterfaceName: the handler pod's interface on a dedicated migration network. */
export const MigrationInterfaceName = 'migration0';

/**
 * FindMigrationIP: the migration network's address when the handler pod has one (its first global
 * unicast address), else the pod IP.
 */
export function findMigrationIP(podIP: string, interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): string {
  const addrs = interfaces[MigrationInterfaceName];
  if (!addrs) return podIP;
  const global = addrs.find((a) => !a.internal && isGlobalUnicast(a.address));
  if (!global) throw new Error(`no IP found on ${MigrationInterfaceName}`);
  return global.address;
}

/** net.IP.IsGlobalUnicast, for an address an interface has: not unspecified, link-local or multicast. */
const isGlobalUnicast = (address: string) =>
  address !== '0.0.0.0' && address !== '::' && !/^169\.254\.|^fe80:|^(22[4-9]|23\d)\.|^ff/i.test(address);
