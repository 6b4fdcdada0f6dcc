// virt-launcher end to end: in a pod sandbox, the launcher starts its own libvirtd, syncs a real VMI,
// and reports every change of the real guest to a notify server, as it would to virt-handler.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { asRequest, startLauncher, testVMI, type RunningLauncher, stopLauncherTest } from '../../../test/bed/launcher.ts';
import { poll } from '../../../test/bed/poll.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { NotifyRecorder } from '../../../test/bed/notify-recorder.ts';

describe('virt-launcher with a real libvirtd and guest', { timeout: 300_000 }, () => {
  let sandbox: PodSandbox;
  let recorder: NotifyRecorder;
  let launcher: RunningLauncher;
  let client: CmdClient;
  const vmi = testVMI({ name: 'testvmi', uid: randomUUID() });

  before(async () => {
    sandbox = await createPodSandbox();
    // The launcher dials <share>/domain-notify-pipe.sock, which virt-handler would create in the pod.
    recorder = await NotifyRecorder.listen(sandbox.hostPath('/var/run/kubevirt/domain-notify-pipe.sock'));
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m', '--grace-period-seconds', '20']);
    client = await cmdClient(launcher.cmdSocket);
  });

  after(() => stopLauncherTest({ client, launcher, recorder, sandbox }));

  test('Ping, and GetDomain before any sync: success with no domain', async () => {
    assert.deepEqual(await client.Ping({}), { success: true, message: '' });
    const r = await client.GetDomain({});
    assert.equal(r.response?.success, true);
    assert.equal(r.domain, '');
  });

  test("before any sync, libvirt has probed QEMU's capabilities (the first define does not wait for it)", async () => {
    const caps = sandbox.hostPath('/var/cache/libvirt/qemu/capabilities');
    const cached = async () => (existsSync(caps) && readdirSync(caps).some((f) => f.endsWith('.xml')) ? true : undefined);
    await poll('QEMU capabilities cached by libvirtd', cached, 20_000, launcher.logs);
  });

  test('bad VMI JSON → in-band error naming the problem; the server keeps serving', async () => {
    const r = await client.SyncVirtualMachine({ vmi: { vmiJson: Buffer.from('{"metadata": 42') } });
    assert.equal(r.success, false);
    assert.match(r.message, /^No valid vmi object present in command server request/);
    const wrongType = structuredClone(vmi) as { spec: { domain: { cpu: unknown } } };
    wrongType.spec.domain.cpu = { cores: 'two' };
    const r2 = await client.SyncVirtualMachine(asRequest(wrongType));
    assert.equal(r2.success, false);
    assert.match(r2.message, /spec\.domain\.cpu\.cores/);
    assert.equal((await client.Ping({})).success, true);
  });

  test('SyncVirtualMachine → domain defined and running → ADDED and MODIFIED Running events', async () => {
    const r = await client.SyncVirtualMachine(asRequest(vmi));
    assert.deepEqual(r, { success: true, message: '' });
    const added = await recorder.waitFor((e) => e.eventType === 'ADDED', 30_000);
    assert.equal(added.domain.ObjectMeta.uid, vmi.metadata.uid);
    assert.equal(added.domain.Spec.Name, 'default_testvmi');
    const running = await recorder.waitFor((e) => e.eventType === 'MODIFIED' && e.domain.Status.Status === 'Running', 30_000);
    assert.equal(running.domain.ObjectMeta.name, 'testvmi');
    assert.equal(running.domain.ObjectMeta.namespace, 'default');
  });

  test('a second sync with the same VMI changes nothing', async () => {
    const before = recorder.events.length;
    const { domain: d1 } = await client.GetDomain({});
    assert.deepEqual(await client.SyncVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    const { domain: d2 } = await client.GetDomain({});
    const parse = (d: string) => JSON.parse(d) as { Spec: { UUID: string }; Status: { Status: string; Reason: string } };
    assert.equal(parse(d2).Spec.UUID, parse(d1).Spec.UUID);
    assert.deepEqual(parse(d2).Status, parse(d1).Status);
    // a marker after the sync: libvirt's events and the launcher's queue keep order, so an event the
    // sync caused (a redefine → ADDED) would arrive before the marker's Paused
    assert.equal((await client.PauseVirtualMachine(asRequest(vmi))).success, true);
    const marker = await recorder.waitFor((e) => e.domain.Status.Status === 'Paused', 15_000, before);
    const upToMarker = recorder.events.slice(before, recorder.events.indexOf(marker));
    assert.ok(
      !upToMarker.some((e) => e.eventType === 'ADDED'),
      `no new ADDED event after an idempotent sync: ${upToMarker.map((e) => e.eventType).join(', ')}`,
    );
    const from = recorder.events.length;
    assert.equal((await client.UnpauseVirtualMachine(asRequest(vmi))).success, true);
    await recorder.waitFor((e) => e.domain.Status.Status === 'Running', 15_000, from);
  });

  test('guest agent data arrives: osinfo, hostname, users, filesystems', async () => {
    const info = await poll(
      'guest info with OS',
      async () => {
        const r = await client.GetGuestInfo({});
        const gi = JSON.parse(r.guestInfoResponse || '{}') as { os?: { id?: string }; hostname?: string; guestAgentVersion?: string };
        // the poller fills these in separate calls of one sweep: wait for all of them
        return gi.os?.id === 'kvts-testguest' && gi.hostname && gi.guestAgentVersion ? gi : undefined;
      },
      90_000,
    );
    assert.equal(info.hostname, 'testguest');
    assert.match(info.guestAgentVersion ?? '', /^\d+\.\d+/);
    await recorder.waitFor((e) => e.domain.Status.OSInfo.Id === 'kvts-testguest', 30_000);

    const users = await poll(
      'root in the user list',
      async () => {
        const r = await client.GetUsers({});
        const list = JSON.parse(r.guestUserListResponse || '[]') as Array<{ userName: string }>;
        return list.some((u) => u.userName === 'root') ? list : undefined;
      },
      60_000,
    );
    assert.ok(users.length >= 1);
    const fs = await poll(
      '/mnt/data in the filesystem list',
      async () => {
        const r = await client.GetFilesystems({});
        const list = JSON.parse(r.guestFilesystemsResponse || '[]') as Array<{ mountPoint: string; fileSystemType: string }>;
        return list.find((f) => f.mountPoint === '/mnt/data');
      },
      60_000,
    );
    // an ext2 image mounted through the ext4 driver reports ext4
    assert.match(fs.fileSystemType, /^ext[234]$/);
  });

  test('pause → Paused/User; unpause → Running (KubeVirt maps RUNNING/UNPAUSED to reason Unknown)', async () => {
    let from = recorder.events.length;
    assert.deepEqual(await client.PauseVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await recorder.waitFor((e) => e.domain.Status.Status === 'Paused' && e.domain.Status.Reason === 'User', 15_000, from);
    from = recorder.events.length;
    assert.deepEqual(await client.UnpauseVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await recorder.waitFor((e) => e.domain.Status.Status === 'Running' && e.domain.Status.Reason === 'Unknown', 15_000, from);
  });

  test('GetDomain reads the live XML each time: a link set down in libvirt shows, and up again', async () => {
    const linkOf = async () => {
      const r = await client.GetDomain({});
      const domain = JSON.parse(r.domain) as {
        Spec: { Name: string; Devices: { Interfaces?: Array<{ MAC?: { MAC: string }; LinkState?: { State: string } }> } };
      };
      const iface = domain.Spec.Devices.Interfaces?.[0];
      return { name: domain.Spec.Name, mac: iface?.MAC?.MAC ?? '', state: iface?.LinkState?.State ?? 'up' };
    };
    const before = await linkOf();
    assert.ok(before.mac, 'the VMI has an interface');
    assert.equal(before.state, 'up');
    await virsh(sandbox, ['domif-setlink', before.name, before.mac, 'down']);
    assert.equal((await linkOf()).state, 'down');
    await virsh(sandbox, ['domif-setlink', before.name, before.mac, 'up']);
    assert.equal((await linkOf()).state, 'up');
  });

  test('libvirtd killed mid-run → restarted; the launcher reconnects and keeps reporting', async () => {
    const pid = Number(readFileSync(sandbox.hostPath('/run/libvirtd.pid'), 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    const from = recorder.events.length;
    // the supervisor restarts libvirtd and the client reconnects; then commands work again
    const r = await poll(
      'pause after the libvirtd restart',
      async () => {
        const res = await client.PauseVirtualMachine(asRequest(vmi));
        return res.success ? res : undefined;
      },
      60_000,
    );
    assert.equal(r.success, true);
    await recorder.waitFor((e) => e.domain.Status.Status === 'Paused', 15_000, from);
    assert.equal((await client.UnpauseVirtualMachine(asRequest(vmi))).success, true);
    await recorder.waitFor((e) => e.domain.Status.Status === 'Running', 15_000, from);
  });

  test('SIGTERM → graceful ACPI shutdown, the final gone-domain event, exit 0', async () => {
    const from = recorder.events.length;
    launcher.process.kill('SIGTERM');
    const code = await launcher.exited;
    assert.equal(code, 0, launcher.logs().slice(-5000));
    const shutdown = recorder.events.slice(from).find((e) => e.domain.Status.Status === 'Shutoff');
    assert.equal(
      shutdown?.domain.Status.Reason,
      'Shutdown',
      `the guest powered off on ACPI (not destroyed): ${JSON.stringify(recorder.events.slice(from).map((e) => [e.eventType, e.domain.Status.Status, e.domain.Status.Reason]))}\n${launcher.logs().slice(-6000)}`,
    );
    const gone = await recorder.waitFor((e) => e.domain.Status.Reason === 'NonExistent', 1000, from);
    assert.equal(gone.eventType, 'MODIFIED');
    assert.equal(gone.domain.Status.Status, 'NoState');
    assert.ok(gone.domain.ObjectMeta.deletionTimestamp, 'deletionTimestamp set on the final event');
  });
});
