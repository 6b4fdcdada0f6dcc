// GuestExec (KubeVirt's virtwrap/agent/exec.go): the guest-exec and guest-exec-status replies parsed, and
// the poll loop driven by a scripted agent that answers as qemu-ga does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExecExitCode, guestExec, type AgentCommandRunner } from '../src/agent/exec.ts';
import { AgentReplyError, parseGuestExec, parseGuestExecStatus } from '../src/agent/parser.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('guest-exec → the pid; a reply without a positive pid is refused', () => {
  assert.equal(parseGuestExec('{"return":{"pid":1234}}'), 1234);
  for (const reply of ['{"return":{}}', '{"return":{"pid":0}}', '{"return":{"pid":"7"}}', '{"error":{"class":"GenericError"}}', 'x']) {
    assert.throws(() => parseGuestExec(reply), AgentReplyError, reply);
  }
});

test('guest-exec-status → exited, exit code and stdout decoded; missing keys are Go zero values', () => {
  assert.deepEqual(parseGuestExecStatus(`{"return":{"exitcode":0,"out-data":"${b64('hello\n')}","exited":true}}`), {
    exited: true,
    exitCode: 0,
    stdout: 'hello\n',
  });
  assert.deepEqual(parseGuestExecStatus('{"return":{"exited":false}}'), { exited: false, exitCode: 0, stdout: '' });
  for (const reply of ['{"return":{"exited":"yes"}}', '{"return":{"exited":true,"out-data":"not base64!"}}', '{"return":[]}']) {
    assert.throws(() => parseGuestExecStatus(reply), AgentReplyError, reply);
  }
});

/** An agent that answers each command from a script, recording what it was sent. */
function scriptedAgent(replies: Record<string, string[]>): { agent: AgentCommandRunner; sent: Array<[string, unknown]> } {
  const sent: Array<[string, unknown]> = [];
  const agent: AgentCommandRunner = async (execute, args) => {
    sent.push([execute, args]);
    const next = replies[execute]?.shift();
    if (next === undefined) throw new Error(`unexpected ${execute}`);
    return next;
  };
  return { agent, sent };
}

test('runs the command with captured output and polls its status until it exits', async () => {
  const { agent, sent } = scriptedAgent({
    'guest-exec': ['{"return":{"pid":42}}'],
    'guest-exec-status': ['{"return":{"exited":false}}', `{"return":{"exited":true,"exitcode":0,"out-data":"${b64('ok')}"}}`],
  });
  assert.equal(await guestExec(agent, '/bin/echo', ['ok'], 5, 1), 'ok');
  assert.deepEqual(sent, [
    ['guest-exec', { path: '/bin/echo', arg: ['ok'], 'capture-output': true }],
    ['guest-exec-status', { pid: 42 }],
    ['guest-exec-status', { pid: 42 }],
  ]);
});

test('a non-zero exit is an ExecExitCode carrying the code and stdout', async () => {
  const { agent } = scriptedAgent({
    'guest-exec': ['{"return":{"pid":7}}'],
    'guest-exec-status': [`{"return":{"exited":true,"exitcode":3,"out-data":"${b64('partial')}"}}`],
  });
  const err = await guestExec(agent, 'false', [], 5, 1).then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ExecExitCode);
  assert.equal(err.exitCode, 3);
  assert.equal(err.stdout, 'partial');
});

test('a command still running at the timeout fails the exec', async () => {
  const running = Array.from({ length: 100 }, () => '{"return":{"exited":false}}');
  const { agent } = scriptedAgent({ 'guest-exec': ['{"return":{"pid":9}}'], 'guest-exec-status': running });
  await assert.rejects(guestExec(agent, 'sleep', ['60'], 0.05, 10), /Command timed out: sleep did not finish within 0.05s/);
});
