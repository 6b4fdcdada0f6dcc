// The VirtualMachineOptions virt-handler sends with every SyncVirtualMachine, and the part of the
// converter context they decide, as KubeVirt's generateConverterContext reads them: a Sync without
// options gets the zero values (no SMBIOS entries, no balloon statistics, serial console log and free
// page reporting on), exactly as KubeVirt's launcher does, not the cluster's defaults.
import * as z from 'zod/mini';
import type { ConverterContext } from './converter/index.ts';

const smbiosSchema = z.object({
  manufacturer: z._default(z.string(), ''),
  product: z._default(z.string(), ''),
  version: z._default(z.string(), ''),
  sku: z._default(z.string(), ''),
  family: z._default(z.string(), ''),
});

const clusterConfigSchema = z.object({
  FreePageReportingDisabled: z._default(z.boolean(), false),
  BochsDisplayForEFIGuests: z._default(z.boolean(), false),
  SerialConsoleLogDisabled: z._default(z.boolean(), false),
});

/** cmdv1.VirtualMachineOptions, the fields the launcher reads (the rest belong to plugins and SR-IOV). */
export const virtualMachineOptionsSchema = z.object({
  VirtualMachineSMBios: z._default(z.nullable(smbiosSchema), null),
  MemBalloonStatsPeriod: z._default(z.number().check(z.int(), z.gte(0), z.lte(0xffff_ffff)), 0),
  PreallocatedVolumes: z._default(z.array(z.string()), []),
  topology: z._default(z.nullable(z.object({ numa_cells: z._default(z.array(z.unknown()), []) })), null),
  clusterConfig: z._default(z.nullable(clusterConfigSchema), null),
  interfaceDomainAttachment: z._default(z.record(z.string().check(z.minLength(1)), z.string()), {}),
  /** per interface, how it is migrated (`link-refresh`: the link is cycled after the migration) */
  interfaceMigration: z._default(z.record(z.string(), z.nullable(z.object({ Method: z._default(z.string(), '') }))), {}),
});
export type VirtualMachineOptions = z.infer<typeof virtualMachineOptionsSchema>;

/** The per-Sync part of a ConverterContext. */
export type OptionsContext = Required<
  Pick<
    ConverterContext,
    | 'smbios'
    | 'memBalloonStatsPeriod'
    | 'preallocatedVolumes'
    | 'topology'
    | 'serialConsoleLogDisabled'
    | 'freePageReportingDisabled'
    | 'bochsForEFIGuests'
    | 'domainAttachmentByInterfaceName'
  >
>;

/**
 * Parses the request's options (null or absent: none were sent). Throws a ValidationError-like Error
 * naming the field when they do not fit the contract.
 */
export function parseVirtualMachineOptions(options: unknown): VirtualMachineOptions | null {
  if (options === null || options === undefined) return null;
  const result = z.safeParse(virtualMachineOptionsSchema, options);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'options';
  throw new Error(`invalid VirtualMachineOptions: ${where}: ${issue?.message ?? 'does not parse'}`);
}

/** generateConverterContext's reading of the options. */
export function contextFromOptions(options: VirtualMachineOptions | null): OptionsContext {
  const cluster = options?.clusterConfig;
  return {
    smbios: options?.VirtualMachineSMBios ?? null,
    memBalloonStatsPeriod: options?.MemBalloonStatsPeriod ?? 0,
    preallocatedVolumes: options?.PreallocatedVolumes ?? [],
    topology: options?.topology ?? null,
    serialConsoleLogDisabled: cluster?.SerialConsoleLogDisabled ?? false,
    freePageReportingDisabled: cluster?.FreePageReportingDisabled ?? false,
    bochsForEFIGuests: cluster?.BochsDisplayForEFIGuests ?? false,
    domainAttachmentByInterfaceName: options?.interfaceDomainAttachment ?? {},
  };
}

/** interfacesToReconnect: the interfaces whose migration method is link-refresh. */
export function interfacesToReconnect(options: VirtualMachineOptions | null): Set<string> {
  const names = new Set<string>();
  for (const [name, m] of Object.entries(options?.interfaceMigration ?? {})) if (m?.Method === 'link-refresh') names.add(name);
  return names;
}
