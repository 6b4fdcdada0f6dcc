// KubeVirt's GuestExec (virtwrap/agent/exec.go): a command run in the guest by the agent's guest-exec,
// its guest-exec-status polled until it exits or the timeout passes (virt-probe's exec probes).
import { GuestExecCommand, parseGuestExec, parseGuestExecStatus } from './parser.ts';

/** ExecExitCode: the command ran and exited non-zero; not a failure of Exec itself. */
export class ExecExitCode extends Error {
  readonly exitCode: number;
  readonly stdout: string;
  constructor(exitCode: number, stdout = '') {
    super(`command failed with exit code ${exitCode}`);
    this.exitCode = exitCode;
    this.stdout = stdout;
  }
}

/** Sends one agent command with its arguments to the domain's agent and answers its JSON reply. */
export type AgentCommandRunner = (execute: string, args: Record<string, unknown>) => Promise<string>;

/** The command's stdout when it exits 0; ExecExitCode (with stdout) when it exits otherwise. */
export async function guestExec(
  agent: AgentCommandRunner,
  command: string,
  args: readonly string[],
  timeoutSeconds: number,
  pollMs = 100,
): Promise<string> {
  const pid = parseGuestExec(await agent(GuestExecCommand.EXEC, { path: command, arg: args, 'capture-output': true }));
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const status = parseGuestExecStatus(await agent(GuestExecCommand.EXEC_STATUS, { pid }));
    if (status.exited) {
      if (status.exitCode !== 0) throw new ExecExitCode(status.exitCode, status.stdout);
      return status.stdout;
    }
    if (Date.now() > deadline) throw new Error(`Command timed out: ${command} did not finish within ${timeoutSeconds}s`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
