// KubeVirt's default launcher pod is non-root: uid/gid 107, every capability dropped but
// NET_BIND_SERVICE, no privilege escalation, XDG_* pointing into the pod's volumes, and
// `--run-as-nonroot` on the command line. The launcher then runs libvirt as a session daemon of its
// own user; this boots the test guest that way and drives it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import {
  NONROOT_ENV,
  NONROOT_UID,
  asRequest,
  startLauncher,
  testVMI,
  virtControllerArgv,
  type RunningLauncher,
  stopLauncherTest,
} from '../../../test/bed/launcher.ts';
import { poll } from '../../../test/bed/poll.ts';

const CAP_NET_BIND_SERVICE = 1n << 10n;

/** uid and effective capabilities of every process in the pod but its pause process. */
function podProcesses(sandbox: PodSandbox): Array<{ pid: number; comm: string; uid: number; capEff: bigint }> {
  const ns = readlinkSync(`/proc/${sandbox.pid}/ns/mnt`);
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === sandbox.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/mnt`) !== ns) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
      out.push({
        pid: Number(entry),
        comm: field('Name'),
        uid: Number(field('Uid').split(/\s+/)[0]),
        capEff: BigInt(`0x${field('CapEff')}`),
      });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

describe('virt-launcher as uid 107 with only NET_BIND_SERVICE, --run-as-nonroot', { timeout: 300_000 }, () => {
  let sandbox: PodSandbox;
  let launcher: RunningLauncher;
  let client: CmdClient;
  const uid = randomUUID();
  const vmi = testVMI({ name: 'testvmi', uid });
  const status = async () => {
    const r = await client.GetDomain({});
    assert.equal(r.response?.success, true, r.response?.message);
    return r.domain === '' ? undefined : (JSON.parse(r.domain) as { Status: { Status: string } }).Status.Status;
  };

  before(async () => {
    sandbox = await createPodSandbox();
    const args = virtControllerArgv(uid, { allowEmulation: true, runAsNonRoot: true });
    launcher = await startLauncher(sandbox, vmi, [], { args, nonRootUser: NONROOT_UID, env: NONROOT_ENV });
    client = await cmdClient(launcher.cmdSocket);
  });

  after(() => stopLauncherTest({ client, launcher, sandbox }));

  test('Info (negotiated cmd v1), Ping and GetDomain before any sync', async () => {
    assert.equal(client.version, 1);
    assert.deepEqual(await client.Ping({}), { success: true, message: '' });
    assert.equal(await status(), undefined);
  });

  test('Sync → the guest runs and boots (its agent reports the OS)', async () => {
    assert.deepEqual(await client.SyncVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await poll('domain Running', async () => ((await status()) === 'Running' ? true : undefined), 60_000, launcher.logs);
    const info = await poll(
      'guest info with the OS',
      async () => {
        const gi = JSON.parse((await client.GetGuestInfo({})).guestInfoResponse || '{}') as { os?: { id?: string } };
        return gi.os?.id === 'kvts-testguest' ? gi : undefined;
      },
      120_000,
      launcher.logs,
    );
    assert.equal(info.os?.id, 'kvts-testguest');
  });

  test('every process of the pod (launcher, libvirtd, virtlogd, qemu) is uid 107 with at most NET_BIND_SERVICE', () => {
    const procs = podProcesses(sandbox);
    const names = procs.map((p) => p.comm);
    for (const name of ['libvirtd', 'virtlogd']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    assert.ok(
      names.some((n) => n.startsWith('qemu-system')),
      `qemu in ${names.join(', ')}`,
    );
    for (const p of procs) {
      assert.equal(p.uid, NONROOT_UID, `${p.comm} (${p.pid}) runs as ${p.uid}`);
      assert.equal(p.capEff & ~CAP_NET_BIND_SERVICE, 0n, `${p.comm} (${p.pid}) has capabilities ${p.capEff.toString(16)}`);
    }
  });

  test('Pause → Paused; Unpause → Running; GetQemuVersion', async () => {
    assert.deepEqual(await client.PauseVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await poll('domain Paused', async () => ((await status()) === 'Paused' ? true : undefined), 20_000, launcher.logs);
    assert.deepEqual(await client.UnpauseVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await poll('domain Running', async () => ((await status()) === 'Running' ? true : undefined), 20_000, launcher.logs);
    const v = await client.GetQemuVersion({});
    assert.equal(v.response?.success, true, v.response?.message);
  });

  test("SIGTERM → ACPI shutdown of the guest found by the session daemon's pid file, exit 0", async () => {
    // $XDG_RUNTIME_DIR/libvirt/qemu/run: where KubeVirt's process monitor looks in non-root mode
    const pidFile = sandbox.hostPath('/var/run/libvirt/qemu/run/default_testvmi.pid');
    assert.match(readFileSync(pidFile, 'utf8'), /^\d+\s*$/);
    launcher.process.kill('SIGTERM');
    const exited = () => Promise.resolve(launcher.process.exitCode ?? undefined);
    assert.equal(await poll('the launcher exits after the guest shut down', exited, 60_000, launcher.logs), 0);
    assert.match(launcher.logs(), /Waiting on final notifications/);
    assert.doesNotMatch(launcher.logs(), /Grace period of \d+s expired/, 'the guest powered off on the ACPI button');
  });
});
