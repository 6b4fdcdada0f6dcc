// cmdclient.MigrationOptions: what virt-handler sends with MigrateVirtualMachine, as JSON with Go's
// field names (the struct has no json tags). Absent fields are Go's zero values, as json.Unmarshal
// leaves them.
import * as z from 'zod/mini';
import { quantityToBytes } from '../converter/index.ts';

const int = () => z.number().check(z.int());
const uint = () => z.number().check(z.int(), z.gte(0));
const quantity = () => z.union([z.string(), z.number()]);

const stallDetectorOptionsSchema = z.object({
  StallMargin: z._default(int(), 0),
  StallProgressTimeout: z._default(int(), 0),
  SwitchoverTimeout: z._default(int(), 0),
  EwmaAlpha: z._default(quantity(), '0'),
  PrecopyPossibleFactor: z._default(quantity(), '0'),
  PatienceWindowDecayFactor: z._default(quantity(), '0'),
  SearchLocalMinima: z._default(z.boolean(), false),
  CompletionTimeoutFactor: z._default(quantity(), '0'),
});

/** v1.DowntimeTuningOptions (this one has json tags). */
const downtimeTuningSchema = z.object({
  initialMs: z.optional(int()),
  steps: z.optional(int()),
  startAfterIteration: z.optional(int()),
  cooldownSeconds: z.optional(int()),
});

export const migrationOptionsSchema = z.object({
  Bandwidth: z._default(quantity(), '0'),
  ProgressTimeout: z._default(int(), 0),
  CompletionTimeoutPerGiB: z._default(int(), 0),
  MaxDowntimeMs: z._default(uint(), 0),
  UnsafeMigration: z._default(z.boolean(), false),
  AllowAutoConverge: z._default(z.boolean(), false),
  AllowPostCopy: z._default(z.boolean(), false),
  ParallelMigrationThreads: z._default(z.nullable(uint()), null),
  AllowWorkloadDisruption: z._default(z.boolean(), false),
  StallDetectorOptions: z._default(z.nullable(stallDetectorOptionsSchema), null),
  Compression: z._default(z.nullable(z.string()), null),
  DowntimeTuning: z._default(z.nullable(downtimeTuningSchema), null),
});
export type MigrationOptions = z.infer<typeof migrationOptionsSchema>;

/** getMigrationOptionsFromRequest: the request's options bytes, with KubeVirt's errors. */
export function parseMigrationOptions(raw: Buffer | null | undefined): MigrationOptions {
  if (!raw || raw.length === 0) throw new Error('migration options object not present in command server request');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new Error(`no valid migration options object present in command server request: ${(err as Error).message}`);
  }
  const result = z.safeParse(migrationOptionsSchema, json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'options';
  throw new Error(`no valid migration options object present in command server request: ${where}: ${issue?.message ?? 'does not parse'}`);
}

/** vcpu.QuantityToMebiByte: the bandwidth in MiB/s, rounded to nearest; under 1 MiB but not 0 is 1. */
export function bandwidthMiB(bandwidth: string | number): number {
  const bytes = quantityToBytes(bandwidth, 'Bandwidth');
  if (bytes === 0) return 0;
  if (bytes < 1048576) return 1;
  return Math.floor(bytes / 1048576 + 0.5);
}
