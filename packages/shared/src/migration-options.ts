// cmdclient.MigrationOptions: what virt-handler sends with MigrateVirtualMachine, as JSON with Go's
// field names (the struct has no json tags). Absent fields are Go's zero values, as json.Unmarshal
// leaves them. The handler writes it, the launcher parses it.
import * as z from 'zod/mini';

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
/** Every field, as Go's json.Marshal writes them (the handler's output, the launcher's parse). */
export type MigrationOptions = z.infer<typeof migrationOptionsSchema>;
