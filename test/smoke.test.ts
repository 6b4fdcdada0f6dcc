// The test bed end to end, before any project daemon: a pod sandbox runs its own libvirtd, the tiny
// guest boots under TCG through our libvirt client, and its console, guest agent and pause state are real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, isAgentUnresponsive } from '@kubevirt-ts/libvirt';
import { createPodSandbox } from './bed/pod-sandbox.ts';
import { startLibvirtd } from './bed/libvirtd.ts';
import { GUEST_PROMPT, guestArtifacts, guestDomainXML } from './bed/guest.ts';
import { SerialConsole } from './bed/serial.ts';

test('smoke: a guest boots in a pod sandbox; console, agent and pause state are real', { timeout: 180_000 }, async (t) => {
  const guest = guestArtifacts();
  const sandbox = await createPodSandbox();
  const libvirtd = await startLibvirtd(sandbox).catch(async (err: unknown) => {
    await sandbox.destroy();
    throw err;
  });
  const conn = await connect({ socketPath: libvirtd.socketPath, events: ['lifecycle'] });
  t.after(async () => {
    await conn.close();
    await libvirtd.stop();
    await sandbox.destroy();
  });
  const lifecycle: string[] = [];
  conn.on('lifecycle', (e) => lifecycle.push(`${e.event}/${e.detail}`));

  const uid = randomUUID();
  const serialSocket = `/var/run/kubevirt-private/${uid}/virt-serial0`;
  // libvirt does not create the socket's directory itself.
  mkdirSync(sandbox.hostPath(`/var/run/kubevirt-private/${uid}`), { recursive: true });
  const defined = await conn.domainDefineXMLFlags(guestDomainXML({ name: 'default_smoke', uuid: uid, ...guest, serialSocket }));
  const started = Date.now();
  const dom = await conn.domainCreateWithFlags(defined);
  assert.deepEqual(pick(await conn.domainGetState(dom)), { state: 'RUNNING', reason: 'BOOTED' });

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
    let reply: string | null = null;
    for (const deadline = Date.now() + 60_000; reply === null; await sleep(250)) {
      try {
        reply = await conn.domainQemuAgentCommand(dom, '{"execute":"guest-get-osinfo"}', 5);
      } catch (err) {
        if (!isAgentUnresponsive(err) || Date.now() > deadline) throw err;
      }
    }
    const osinfo = JSON.parse(reply ?? 'null') as { return: { id?: string; 'kernel-release'?: string } };
    assert.equal(osinfo.return.id, 'kvts-testguest');
    assert.match(osinfo.return['kernel-release'] ?? '', /-amd64$/);
    t.diagnostic(`start → agent answered: ${Date.now() - started} ms`);
  });

  await t.test('suspend → PAUSED/USER; resume → RUNNING/UNPAUSED', async () => {
    await conn.domainSuspend(dom);
    assert.deepEqual(pick(await conn.domainGetState(dom)), { state: 'PAUSED', reason: 'USER' });
    await conn.domainResume(dom);
    assert.deepEqual(pick(await conn.domainGetState(dom)), { state: 'RUNNING', reason: 'UNPAUSED' });
  });

  await conn.domainDestroyFlags(dom);
  assert.deepEqual(pick(await conn.domainGetState(dom)), { state: 'SHUTOFF', reason: 'DESTROYED' });
  await conn.domainUndefineFlags(dom);
  for (const e of ['DEFINED/ADDED', 'STARTED/BOOTED', 'SUSPENDED/PAUSED', 'RESUMED/UNPAUSED']) {
    assert.ok(lifecycle.includes(e), `lifecycle event ${e} not among ${lifecycle.join(', ')}`);
  }
});

function pick(s: { state: string; reason: string }): { state: string; reason: string } {
  return { state: s.state, reason: s.reason };
}

test('a libvirtd that does not come up in time: the error says so and no daemon is left running', { timeout: 60_000 }, async () => {
  const sandbox = await createPodSandbox();
  try {
    const children = () => readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim();
    const before = children();
    // no time at all: virtlogd and libvirtd are running when startLibvirtd gives up on the socket
    await assert.rejects(startLibvirtd(sandbox, { startTimeoutMs: 0 }), /libvirtd socket .* not ready/);
    assert.equal(children(), before, 'virtlogd and libvirtd are gone: nothing keeps this process alive');
  } finally {
    await sandbox.destroy();
  }
});

/** Every file under `dir` (none when it does not exist), with its size and change time. */
function snapshot(dir: string): string[] {
  if (!existsSync(dir)) return [`${dir}: absent`];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((name) => {
      const st = statSync(path.join(dir, name));
      return `${name} ${st.size} ${st.ctimeMs}`;
    });
}

test("two pod sandboxes side by side, each with its own libvirtd; the host's /etc/libvirt and /run/libvirt untouched", {
  timeout: 60_000,
}, async () => {
  const before = { etc: snapshot('/etc/libvirt'), run: snapshot('/run/libvirt') };
  const sandboxes = [await createPodSandbox(), await createPodSandbox()];
  const daemons: Awaited<ReturnType<typeof startLibvirtd>>[] = [];
  try {
    for (const sandbox of sandboxes) daemons.push(await startLibvirtd(sandbox));
    assert.notEqual(daemons[0]!.socketPath, daemons[1]!.socketPath);
    // both answer at once, each its own daemon: a domain defined in one is not in the other
    const [a, b] = await Promise.all(daemons.map((d) => connect({ socketPath: d.socketPath })));
    try {
      const guest = guestArtifacts();
      await a!.domainDefineXMLFlags(guestDomainXML({ name: 'default_side', uuid: randomUUID(), ...guest, serialSocket: '/run/unused' }));
      assert.deepEqual(
        (await a!.connectListAllDomains()).map((d) => d.name),
        ['default_side'],
      );
      assert.deepEqual(await b!.connectListAllDomains(), []);
    } finally {
      await Promise.all([a?.close(), b?.close()]);
    }
  } finally {
    for (const d of daemons) await d.stop();
    for (const sandbox of sandboxes) await sandbox.destroy();
  }
  assert.deepEqual({ etc: snapshot('/etc/libvirt'), run: snapshot('/run/libvirt') }, before);
});
