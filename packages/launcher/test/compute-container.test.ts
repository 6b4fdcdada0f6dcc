// The compute container as virt-controller renders it: virt-launcher-monitor (PID 1 of the container's PID
// namespace) in front of the real virt-launcher, in a pod sandbox, booting the test guest; the VMI's probes
// as virt-probe runs them in that container (default cmd socket path); and the pod's end: SIGTERM to PID 1
// shuts the guest down through the launcher, and the monitor exits 0 with nothing left behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { asRequest, startLauncher, testVMI, type RunningLauncher, stopLauncherTest } from '../../../test/bed/launcher.ts';
import { jsonLines, nativeProgram, rssKiB } from '../../../test/bed/native.ts';
import { NotifyRecorder } from '../../../test/bed/notify-recorder.ts';
import { poll } from '../../../test/bed/poll.ts';

const VIRT_PROBE = path.resolve(import.meta.dirname, '../src/virt-probe.ts');

describe('compute container: virt-launcher-monitor → virt-launcher → guest; virt-probe', { timeout: 300_000 }, () => {
  let sandbox: PodSandbox;
  let recorder: NotifyRecorder;
  let launcher: RunningLauncher;
  let client: CmdClient;
  const vmi = testVMI({ name: 'testvmi', uid: randomUUID(), terminationGracePeriodSeconds: 20 });

  /** virt-probe run in the pod (as the kubelet's exec probe runs it in the compute container). */
  function probe(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = sandbox.spawn(process.execPath, [VIRT_PROBE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }
  const domainArgs = ['--domainName', 'default_testvmi', '--timeoutSeconds', '10'];

  before(async () => {
    sandbox = await createPodSandbox();
    recorder = await NotifyRecorder.listen(sandbox.hostPath('/var/run/kubevirt/domain-notify-pipe.sock'));
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m', '--grace-period-seconds', '20'], {
      monitor: nativeProgram('virt-launcher-monitor'),
    });
    client = await cmdClient(launcher.cmdSocket);
  });

  after(() => stopLauncherTest({ client, launcher, recorder, sandbox }));

  /** Host PID of the container's PID 1, and what runs in its namespace. */
  function pid1(): { pid: number; children: string[] } {
    const unshare = launcher.process.pid;
    const pid = Number(readFileSync(`/proc/${unshare}/task/${unshare}/children`, 'utf8').trim().split(' ')[0]);
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
    return { pid, children };
  }

  test('the monitor is PID 1 of its namespace and the launcher its child', () => {
    const { pid, children } = pid1();
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^NSpid:\s+\d+\s+1$/m);
    assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'virt-launcher-m');
    const cmdlines = children.map((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0'));
    assert.ok(
      cmdlines.some((argv) => argv.some((a) => a.endsWith('packages/launcher/src/main.ts')) && argv.includes('--name')),
      JSON.stringify(cmdlines),
    );
  });

  test('the guest boots behind the monitor and its agent answers', async () => {
    assert.deepEqual(await client.SyncVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await recorder.waitFor((e) => e.eventType === 'MODIFIED' && e.domain.Status.Status === 'Running', 60_000);
    await poll(
      'guest agent connected',
      async () => ((await client.GetGuestInfo({})).guestInfoResponse.includes('kvts-testguest') ? true : undefined),
      120_000,
      launcher.logs,
    );
    console.log(`# virt-launcher-monitor RSS with a running guest: ${rssKiB(pid1().pid)} KiB`);
  });

  test('virt-probe --guestAgentPing → exit 0', async () => {
    const r = await probe([...domainArgs, '--guestAgentPing']);
    assert.equal(r.code, 0, r.stderr);
  });

  test("virt-probe --command echo -- hello probe → exit 0, the guest command's output on stdout", async () => {
    const r = await probe([...domainArgs, '--command', 'echo', '--', 'hello', 'probe']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello probe\n\n'); // the agent's output, then fmt.Println's newline
  });

  test("virt-probe --command false → the guest command's exit code, 1", async () => {
    const r = await probe([...domainArgs, '--command', 'false']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
  });

  test('virt-probe with a command the guest cannot run → exit 2 (log Critical), fatal line with the reason', async () => {
    const r = await probe([...domainArgs, '--command', '/no/such/program']);
    assert.equal(r.code, 2, r.stderr);
    const fatal = jsonLines(r.stderr).find((l) => l['level'] === 'fatal');
    assert.equal(fatal?.['msg'], 'Failed executing the command', r.stderr);
    assert.equal(fatal?.['component'], 'virt-probe');
    assert.match(String(fatal?.['reason']), /^command Exec failed with \w+: rpc error: code = \w+ desc = ./);
  });

  test('virt-probe for a domain the launcher does not run → exit 2', async () => {
    const r = await probe(['--domainName', 'default_other', '--timeoutSeconds', '2', '--guestAgentPing']);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(
      jsonLines(r.stderr).some((l) => l['msg'] === 'Failed to ping the guest'),
      r.stderr,
    );
  });

  test('virt-probe without a cmd socket → exit 1, "Failed to connect cmd client"', async () => {
    const r = await probe([...domainArgs, '--socket', '/var/run/kubevirt/sockets/none', '--guestAgentPing']);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(
      jsonLines(r.stderr).some((l) => l['msg'] === 'Failed to connect cmd client' && l['level'] === 'error'),
      r.stderr,
    );
  });

  test('SIGTERM to PID 1: the launcher shuts the guest down, the monitor exits 0, no QEMU left', async () => {
    const { pid } = pid1();
    const from = recorder.events.length;
    const code = await launcher.stop('SIGTERM');
    assert.equal(code, 0, launcher.logs().slice(-5000));
    const monitorLines = jsonLines(launcher.logs()).filter((l) => l['component'] === 'virt-launcher-monitor');
    assert.ok(
      monitorLines.some((l) => l['msg'] === 'signalling virt-launcher to shut down'),
      launcher.logs().slice(-5000),
    );
    assert.ok(monitorLines.some((l) => l['msg'] === 'virt-launcher-monitor: Exiting...'));
    assert.ok(!monitorLines.some((l) => l['msg'] === 'Killing QEMU gracefully.'), 'the launcher itself stopped QEMU');
    // the launcher's own shutdown: the domain powered off and reported gone
    assert.ok(
      recorder.events.slice(from).some((e) => e.domain.Status.Status === 'Shutoff'),
      'domain Shutoff reported',
    );
    await recorder.waitFor((e) => e.domain.Status.Reason === 'NonExistent', 1000, from);
    // PID 1 gone: the namespace, and so every process that was in it, is gone
    assert.throws(() => readFileSync(`/proc/${pid}/status`));
  });
});
