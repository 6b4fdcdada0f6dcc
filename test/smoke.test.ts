// The test bed end to end, before any project daemon: a pod sandbox runs its own libvirtd, the tiny
// guest boots under TCG, and its console, guest agent and pause state are real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPodSandbox } from './bed/pod-sandbox.ts';
import { startLibvirtd, virsh } from './bed/libvirtd.ts';
import { GUEST_PROMPT, guestArtifacts, guestDomainXML } from './bed/guest.ts';
import { SerialConsole } from './bed/serial.ts';

test('smoke: a guest boots in a pod sandbox; console, agent and pause state are real', { timeout: 180_000 }, async (t) => {
  const guest = guestArtifacts();
  const sandbox = await createPodSandbox();
  const libvirtd = await startLibvirtd(sandbox).catch(async (err: unknown) => {
    await sandbox.destroy();
    throw err;
  });
  t.after(async () => {
    await libvirtd.stop();
    await sandbox.destroy();
  });

  const uid = randomUUID();
  const name = 'default_smoke';
  const serialSocket = `/var/run/kubevirt-private/${uid}/virt-serial0`;
  // libvirt does not create the socket's directory itself.
  mkdirSync(sandbox.hostPath(`/var/run/kubevirt-private/${uid}`), { recursive: true });
  const xmlPath = `/var/run/kubevirt-private/${uid}/domain.xml`;
  writeFileSync(sandbox.hostPath(xmlPath), guestDomainXML({ name, uuid: uid, ...guest, serialSocket }));

  await virsh(sandbox, ['define', xmlPath]);
  const started = Date.now();
  await virsh(sandbox, ['start', name]);
  assert.equal(await virsh(sandbox, ['domstate', '--reason', name]), 'running (booted)');

  await t.test('serial console: a shell prompt, a command and its output', async () => {
    const console = await SerialConsole.open(sandbox.hostPath(serialSocket));
    try {
      await console.waitForPrompt(GUEST_PROMPT, 60_000);
      assert.equal((await console.run('echo $((6*7)); uname -s')).trim(), '42\nLinux');
      assert.match(await console.run('cat /mnt/data/README'), /kubevirt-ts data disk/);
    } finally {
      console.close();
    }
  });

  await t.test('guest agent: guest-get-osinfo answers from the guest', async () => {
    let reply = '';
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(500)) {
      try {
        reply = await virsh(sandbox, ['qemu-agent-command', name, '{"execute":"guest-get-osinfo"}']);
        break;
      } catch {
        // the agent is not connected yet
      }
    }
    const osinfo = JSON.parse(reply) as { return: { id?: string; 'kernel-release'?: string } };
    assert.equal(osinfo.return.id, 'kvts-testguest');
    assert.match(osinfo.return['kernel-release'] ?? '', /-amd64$/);
    t.diagnostic(`start → agent answered: ${Date.now() - started} ms`);
  });

  await t.test('suspend → paused (user); resume → running (unpaused)', async () => {
    await virsh(sandbox, ['suspend', name]);
    assert.equal(await virsh(sandbox, ['domstate', '--reason', name]), 'paused (user)');
    await virsh(sandbox, ['resume', name]);
    assert.equal(await virsh(sandbox, ['domstate', '--reason', name]), 'running (unpaused)');
  });

  await virsh(sandbox, ['destroy', name]);
  assert.equal(await virsh(sandbox, ['domstate', '--reason', name]), 'shut off (destroyed)');
  await virsh(sandbox, ['undefine', name]);
});
