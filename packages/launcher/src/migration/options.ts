// The launcher's end of cmdclient.MigrationOptions (the schema is shared's): parsed off the request
// with KubeVirt's errors.
import * as z from 'zod/mini';
import { migrationOptionsSchema, type MigrationOptions } from '@kubevirt-ts/shared';
import { quantityToBytes } from '../converter/index.ts';

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
