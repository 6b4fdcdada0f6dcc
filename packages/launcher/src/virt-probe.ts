#!/usr/bin/env node
// virt-probe: the exec and guestAgentPing probes of a VMI, as KubeVirt's cmd/virt-probe. The kubelet runs
// it in the compute container, as virt-controller wraps the VMI's probes:
//   virt-probe --domainName <ns>_<name> --timeoutSeconds N --command C -- ARGS...   (Exec through qemu-ga)
//   virt-probe --domainName <ns>_<name> --timeoutSeconds N --guestAgentPing         (GuestPing)
// over the launcher's cmd socket. Exit codes are KubeVirt's: the guest command's own code; 1 when the cmd
// socket cannot be reached; 2 (Go's panic, from log Critical) when the launcher reports a failure.
import { writeHeapSnapshot } from 'node:v8';
import * as z from 'zod/mini';
import { cmdClient, isServiceError, status, type CmdClient, type cmdv1 } from '@kubevirt-ts/proto';
import { createLogger, exitOnFlagError, launcherSocketPath, parseFlags, withReason, type Logger } from '@kubevirt-ts/shared';

export const probeFlags = z.object({
  socket: z._default(z.string(), launcherSocketPath()).check(z.describe('Socket for connecting to the cmd server')),
  domainName: z
    ._default(z.string(), '')
    .check(z.describe('Domain Name of the Virtual Machine to connect the agent to. Usually namespace_vmname')),
  command: z._default(z.string(), '').check(z.describe('Command to execute on the guest')),
  memProfile: z._default(z.string(), '').check(z.describe('Path to store a memory profile. Profiling is skipped if empty')),
  timeoutSeconds: z
    ._default(z.coerce.number().check(z.int(), z.gte(-2147483648), z.lte(2147483647)), 1)
    .check(z.describe('Duration in seconds the probe will wait for the guest command to return.')),
  guestAgentPing: z._default(z.coerce.boolean(), false).check(z.describe('Flag to specify readiness probe based of guest-agent ping')),
  v: z._default(z.coerce.number().check(z.int(), z.gte(0)), 2).check(z.describe('log level for V logs')),
});
export type ProbeFlags = z.infer<typeof probeFlags>;

/** The flags, and the guest command's arguments: what follows `--`. */
export function parseProbeArgs(argv: readonly string[]): { flags: ProbeFlags; args: string[] } {
  const dashes = argv.indexOf('--');
  const flagArgs = dashes === -1 ? argv : argv.slice(0, dashes);
  const args = dashes === -1 ? [] : argv.slice(dashes + 1);
  return { flags: parseFlags(probeFlags, flagArgs, { program: 'virt-probe', literalNames: true }), args };
}

// Go's codes.Code String(): DEADLINE_EXCEEDED → DeadlineExceeded
function goCodeName(code: number): string {
  const name = (status as unknown as Record<number, string | undefined>)[code] ?? `Code(${code})`;
  return name.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _sep: string, c: string) => c.toUpperCase());
}

/** cmdclient's handleError: a failed call, or a response that says it failed, as KubeVirt words it. */
function callError(cmdName: string, err: unknown, response?: cmdv1.Response__Output | null): Error | undefined {
  if (err !== undefined) {
    if (!isServiceError(err)) return err instanceof Error ? err : new Error(String(err));
    const rpcError = `rpc error: code = ${goCodeName(err.code)} desc = ${err.details}`;
    if (err.code === status.UNIMPLEMENTED) return new Error(rpcError);
    return new Error(`command ${cmdName} failed with ${goCodeName(err.code)}: ${rpcError}`);
  }
  if (response && !response.success && response.message !== '') {
    return new Error(`server error. command ${cmdName} failed: ${JSON.stringify(response.message)}`);
  }
  return undefined;
}

/** log.Critical: the line at level fatal, then Go's panic, which ends the process with 2. */
function critical(logger: Logger, err: Error, msg: string): never {
  withReason(logger, err).fatal(msg);
  process.stderr.write(`panic: ${msg}\n`);
  process.exit(2);
}

async function guestPing(client: CmdClient, flags: ProbeFlags, logger: Logger): Promise<number> {
  let failure: Error | undefined;
  try {
    const r = await client.GuestPing({ domainName: flags.domainName, timeoutSeconds: flags.timeoutSeconds });
    failure = callError('GuestPing', undefined, r.response);
  } catch (err) {
    failure = callError('GuestPing', err);
  }
  if (failure) critical(logger, failure, 'Failed to ping the guest');
  return 0;
}

async function exec(client: CmdClient, flags: ProbeFlags, args: string[], logger: Logger): Promise<number> {
  let exitCode = -1;
  let stdOut = '';
  let failure: Error | undefined;
  try {
    const r = await client.Exec({ domainName: flags.domainName, Command: flags.command, Args: args, timeoutSeconds: flags.timeoutSeconds });
    exitCode = r.exitCode;
    stdOut = r.stdOut;
    failure = callError('Exec', undefined, r.response);
  } catch (err) {
    failure = callError('Exec', err);
  }
  if (stdOut.length > 0) process.stdout.write(`${stdOut}\n`);
  if (failure) critical(logger, failure, 'Failed executing the command');
  if (flags.memProfile !== '') {
    logger.info('creating memory profile');
    writeHeapSnapshot(flags.memProfile);
  }
  return exitCode;
}

export async function runProbe(flags: ProbeFlags, args: string[]): Promise<number> {
  const logger = createLogger({ component: 'virt-probe', verbosity: flags.v });
  let client: CmdClient;
  try {
    client = await cmdClient(flags.socket);
  } catch (err) {
    withReason(logger, err).error('Failed to connect cmd client');
    return 1;
  }
  try {
    return flags.guestAgentPing ? await guestPing(client, flags, logger) : await exec(client, flags, args, logger);
  } finally {
    client.close();
  }
}

if (import.meta.main) {
  const { flags, args } = exitOnFlagError(() => parseProbeArgs(process.argv.slice(2)));
  runProbe(flags, args).then(
    // os.Exit(-1) is 255
    (code) => process.exit(code & 0xff),
    (err: unknown) => {
      process.stderr.write(`virt-probe: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
