// Security of the node daemons' files and logs: sockets and ghost records get KubeVirt's modes, the
// launcher does not follow a symlink planted where it writes, and secrets a VMI carries (a cloud-init
// password) never reach a log line, not even when the input around them is rejected and logged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cmdClient, notifyClient, type CmdClient } from '@kubevirt-ts/proto';
import { ghostRecordDir, ghostRecordPath, parseVMI } from '@kubevirt-ts/shared';
import { startDomainWatcher, type RunningWatcher } from '../bed/domain-watcher.ts';
import { createPodSandbox, type PodSandbox } from '../bed/pod-sandbox.ts';
import { startLauncher, testVMI, type RunningLauncher, stopLauncherTest } from '../bed/launcher.ts';
import { NotifyRecorder } from '../bed/notify-recorder.ts';
import { captureLogs } from '../bed/log-capture.ts';

const NAME = 'secvmi';
const uid = randomUUID();
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const USER_DATA = `#cloud-config\npassword: ${PASSWORD}\nchpasswd: { expire: False }\n`;

function umask(): number {
  const line = readFileSync('/proc/self/status', 'utf8').match(/^Umask:\s*(\d+)$/m);
  return line ? parseInt(line[1]!, 8) : 0o022;
}

/** A VMI already Running: the launcher prepares its disks and defines the domain, but boots nothing. */
function secretVMI() {
  const vmi = testVMI({ name: NAME, uid });
  vmi.spec.domain.devices.disks.push({ name: 'cloudinit', disk: { bus: 'virtio' } });
  (vmi.spec.volumes as object[]).push({ name: 'cloudinit', cloudInitNoCloud: { userData: USER_DATA } });
  return { ...vmi, status: { phase: 'Running' } };
}
const asRequest = (json: string) => ({ vmi: { vmiJson: Buffer.from(json) } });

/** Every form the secret could take in a log line. */
const leaks = (logs: string, secret: string) =>
  [secret, Buffer.from(secret).toString('base64'), JSON.stringify(secret).slice(1, -1)].filter((s) => logs.includes(s));

describe('sockets, files and logs of the node daemons', { timeout: 180_000 }, () => {
  let sandbox: PodSandbox;
  let recorder: NotifyRecorder;
  let launcher: RunningLauncher;
  let client: CmdClient;
  let outside: string;
  let dir: string;
  let handlerLogs: () => string = () => '';
  let handler: RunningWatcher;
  const victim = () => path.join(outside, 'victim');
  const VICTIM = 'must stay as it is\n';

  before(async () => {
    outside = mkdtempSync('/tmp/kvsec-outside');
    writeFileSync(victim(), VICTIM);
    sandbox = await createPodSandbox();
    // planted before the launcher starts, where it binds and renames its command socket
    const sockets = sandbox.volumePath('sockets');
    symlinkSync(victim(), path.join(sockets, 'launcher-init-sock'));
    symlinkSync(victim(), path.join(sockets, 'launcher-sock'));
    recorder = await NotifyRecorder.listen(sandbox.hostPath('/var/run/kubevirt/domain-notify-pipe.sock'));
    // -v 9 for the launcher; libvirt logs at debug level too, as KubeVirt turns it on (its env, not -v)
    launcher = await startLauncher(sandbox, { metadata: { name: NAME, namespace: 'default', uid } }, ['--qemu-timeout', '10m', '-v', '9'], {
      env: { LIBVIRT_DEBUG_LOGS: '1' },
    });
    // the test bed's readiness check sees the planted symlink: wait for the real socket
    const deadline = Date.now() + 60_000;
    while (!lstatSync(launcher.cmdSocket).isSocket()) {
      assert.equal(launcher.process.exitCode, null, launcher.logs());
      assert.ok(Date.now() < deadline, 'launcher-sock never became a socket');
      await sleep(100);
    }
    client = await cmdClient(launcher.cmdSocket);

    dir = mkdtempSync('/tmp/kvsec');
    const captured = captureLogs({ component: 'virt-handler', verbosity: 9 });
    handlerLogs = captured.text;
    const logger = captured.logger;
    handler = await startDomainWatcher({
      dir,
      podsBaseDir: sandbox.podsBaseDir,
      logger,
      host: 'sec-node',
      // virt-handler's informer lookup: only our VMI is known
      recordK8sEvent: (e) => {
        if (e.involvedObject.uid !== uid) throw new Error('VMI not found');
      },
    });
  });

  after(async () => {
    await stopLauncherTest({ client, handler, launcher, recorder, sandbox });
    for (const d of [dir, outside]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test("the launcher's command socket: a socket of its own, KubeVirt's mode (net.Listen under the umask), no symlink followed", () => {
    const st = lstatSync(launcher.cmdSocket);
    assert.ok(st.isSocket(), 'launcher-sock is the socket itself, not the planted symlink');
    assert.equal(st.mode & 0o777, 0o777 & ~umask());
    assert.equal(st.mode & 0o002, 0, 'not writable by others');
    assert.equal(existsSync(sandbox.hostPath('/var/run/kubevirt/sockets/launcher-init-sock')), false);
    assert.ok(readFileSync(victim()).equals(Buffer.from(VICTIM)), 'the target of the symlinks was written');
  });

  test("the handler's domain-notify.sock is 0700, and it serves", async () => {
    const sock = path.join(dir, 'share', 'domain-notify.sock');
    const st = lstatSync(sock);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o700);
    const c = await notifyClient(sock);
    assert.equal(c.version, 1);
    c.close();
  });

  test('ghost records: 0600 files in a 0700 directory, holding no more than name, namespace, socket and uid', () => {
    const vmi = parseVMI(secretVMI());
    handler.launchers.remember(vmi, launcher.cmdSocket);
    const dirStat = statSync(ghostRecordDir(path.join(dir, 'private')));
    assert.equal(dirStat.mode & 0o777, 0o700);
    const file = ghostRecordPath(uid, path.join(dir, 'private'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const record = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(record).sort(), ['name', 'namespace', 'socketFile', 'uid']);
  });

  test("the cloud-init ISO does not follow a symlink planted at its path out of the launcher's dirs", async () => {
    const isoDir = path.join(sandbox.volumePath('ephemeral-disks'), 'cloud-init-data', 'default', NAME);
    mkdirSync(isoDir, { recursive: true });
    symlinkSync(victim(), path.join(isoDir, 'noCloud.iso'));
    const r = await client.SyncVirtualMachine(asRequest(JSON.stringify(secretVMI())));
    assert.deepEqual(r, { success: true, message: '' }, launcher.logs().slice(-3000));
    assert.ok(readFileSync(victim()).equals(Buffer.from(VICTIM)), 'the symlink target was overwritten');
    const iso = lstatSync(path.join(isoDir, 'noCloud.iso'));
    assert.ok(iso.isFile() && !iso.isSymbolicLink(), 'the ISO is a regular file in the launcher dir');
    assert.ok(readFileSync(path.join(isoDir, 'noCloud.iso')).includes(Buffer.from(PASSWORD)), 'the ISO carries the user data');
  });

  test('a cloud-init password never reaches a log line: accepted, rejected or malformed input (-v 9)', async () => {
    const good = secretVMI();
    // accepted (again), then rejected by validation with the secret beside the bad field
    assert.equal((await client.SyncVirtualMachine(asRequest(JSON.stringify(good)))).success, true);
    const badType = structuredClone(good) as unknown as { spec: { domain: { cpu: unknown } } };
    badType.spec.domain.cpu = { cores: 'two' };
    const r1 = await client.SyncVirtualMachine(asRequest(JSON.stringify(badType)));
    assert.equal(r1.success, false);
    // the secret where validation fails, and where JSON parsing fails
    const secretAsType = structuredClone(good) as unknown as { spec: { volumes: Array<{ cloudInitNoCloud?: { userData: unknown } }> } };
    secretAsType.spec.volumes[1]!.cloudInitNoCloud!.userData = { password: PASSWORD };
    const r2 = await client.SyncVirtualMachine(asRequest(JSON.stringify(secretAsType)));
    assert.equal(r2.success, false);
    const text = JSON.stringify(good);
    const at = text.indexOf(PASSWORD) + PASSWORD.length;
    for (const broken of [`${text.slice(0, at)}"}}`, `${text.slice(0, at)}\u0001${text.slice(at)}`, text.slice(0, at)]) {
      const r = await client.SyncVirtualMachine(asRequest(broken));
      assert.equal(r.success, false);
      assert.deepEqual(leaks(r.message, PASSWORD), [], `the in-band error quotes the secret: ${r.message.slice(0, 300)}`);
    }
    for (const rpc of ['PauseVirtualMachine', 'KillVirtualMachine', 'GetScreenshot'] as const) {
      await client[rpc](asRequest(JSON.stringify(secretAsType)));
    }
    // the same secret at the handler's notify server: in a Domain and a k8s Event it cannot parse
    const notify = await notifyClient(path.join(dir, 'share', 'domain-notify.sock'));
    try {
      for (const domainJSON of [
        `{"ObjectMeta":{"name":"${PASSWORD}`,
        `{"ObjectMeta":{"name":{"password":"${PASSWORD}"}}}`,
        `{"Status":"${PASSWORD}"x`,
      ]) {
        const r = await notify.HandleDomainEvent({ domainJSON: Buffer.from(domainJSON), eventType: 'MODIFIED' });
        assert.equal(r.success, false);
        assert.deepEqual(leaks(r.message, PASSWORD), [], `the notify error quotes the secret: ${r.message}`);
      }
      const r = await notify.HandleK8sEvent({ eventJSON: Buffer.from(`{"type":"Warning","reason":1,"message":"${PASSWORD}"`) });
      assert.equal(r.success, false);
    } finally {
      notify.close();
    }

    const launcherLogs = launcher.logs();
    assert.match(launcherLogs, /"level":"error"/, 'the rejected VMIs were logged');
    assert.match(launcherLogs, /No valid vmi object present in command server request/);
    assert.match(handlerLogs(), /rejected a domain event/);
    assert.deepEqual(leaks(launcherLogs, PASSWORD), [], 'virt-launcher logged the cloud-init password');
    assert.deepEqual(leaks(handlerLogs(), PASSWORD), [], 'virt-handler logged the cloud-init password');
  });
});
