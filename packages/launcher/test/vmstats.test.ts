// GetVMStats, GetDomainDirtyRateStats and the launcher's k8s events, end to end: in a pod sandbox the
// launcher runs its own libvirtd and one real guest; the test plays virt-handler (cmd client and
// notify server).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { serialConsoleSocketPath } from '@kubevirt-ts/shared';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { asRequest, startLauncher, testVMI, type RunningLauncher, stopLauncherTest } from '../../../test/bed/launcher.ts';
import { poll } from '../../../test/bed/poll.ts';
import { NotifyRecorder } from '../../../test/bed/notify-recorder.ts';
import { SerialConsole } from '../../../test/bed/serial.ts';
import { GUEST_PROMPT } from '../../../test/bed/guest.ts';

describe('GetVMStats / GetDomainDirtyRateStats / k8s events with a real guest', { timeout: 180_000 }, () => {
  let sandbox: PodSandbox;
  let recorder: NotifyRecorder;
  let launcher: RunningLauncher;
  let client: CmdClient;
  let serial: SerialConsole | undefined;
  const vmi = testVMI({ name: 'statsvmi', uid: randomUUID() });

  before(async () => {
    sandbox = await createPodSandbox();
    recorder = await NotifyRecorder.listen(sandbox.hostPath('/var/run/kubevirt/domain-notify-pipe.sock'));
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m']);
    client = await cmdClient(launcher.cmdSocket);
  });

  after(() => stopLauncherTest({ serial, client, launcher, recorder, sandbox }));

  test('no domain yet: GetDomainDirtyRateStats answers an in-band error', async () => {
    const r = await client.GetDomainDirtyRateStats({});
    assert.equal(r.response?.success, false);
    assert.match(r.response?.message ?? '', /^failed to get dirty rate stats: /);
  });

  test('GetVMStats: domain stats and the asked agent commands, with the guest’s real data; nothing else', async () => {
    assert.deepEqual(await client.SyncVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await recorder.waitFor((e) => e.domain.Status.Status === 'Running', 30_000);
    const r = await poll(
      'GetVMStats with the guest’s host name',
      async () => {
        const res = await client.GetVMStats({ domainStats: {}, guestGetHostName: {}, guestGetOsInfo: {}, guestGetTimezone: {} });
        return res.response?.success && res.guestGetHostName?.message.includes('testguest') ? res : undefined;
      },
      90_000,
    );
    const stats = JSON.parse(r.domainStats?.domainStats ?? '') as { Name: string; Cpu: { TimeSet: boolean } };
    assert.equal(stats.Name, 'default_statsvmi');
    assert.equal(stats.Cpu.TimeSet, true);
    assert.equal(r.domainStats?.response?.success, true);

    const host = JSON.parse(r.guestGetHostName?.message ?? '') as { return: { 'host-name': string } };
    assert.equal(host.return['host-name'], 'testguest');
    assert.equal(r.guestGetOsInfo?.success, true);
    const os = JSON.parse(r.guestGetOsInfo?.message ?? '') as { return: { id: string } };
    assert.equal(os.return.id, 'kvts-testguest');
    assert.equal(r.guestGetTimezone?.success, true);
    assert.ok('return' in (JSON.parse(r.guestGetTimezone?.message ?? '') as object));
    assert.equal(r.guestAgentVersion?.success, true);

    // markers not in the request stay out of the response
    assert.equal(r.guestGetLoad, null);
    assert.equal(r.guestNetworkGetInterfaces, null);
    assert.equal(r.dirtyRateStats, null);

    // no agent marker → no guestAgentVersion either
    const onlyStats = await client.GetVMStats({ domainStats: {} });
    assert.equal(onlyStats.response?.success, true);
    assert.equal(onlyStats.guestAgentVersion, null);
    assert.equal(onlyStats.guestGetHostName, null);
  });

  test('GetDomainDirtyRateStats: measured for a second while the guest writes memory, a rate > 0; GetVMStats dirtyRate too', async () => {
    const socket = sandbox.hostPath(serialConsoleSocketPath(vmi.metadata.uid, 0, '/var/run/kubevirt-private'));
    await poll('serial console socket', async () => (existsSync(socket) ? true : undefined), 30_000);
    serial = await SerialConsole.open(socket);
    await serial.waitForPrompt(GUEST_PROMPT, 120_000);
    // the guest dirties memory without pause: a file in its RAM-backed root, rewritten
    await serial.run('(while :; do dd if=/dev/zero of=/dirty bs=1M count=16 2>/dev/null; done) & true');
    // a second's page sampling may miss a guest starved of CPU: measured again until it sees the writes
    const rates: number[] = [];
    const started = Date.now();
    const r = await poll(
      'GetDomainDirtyRateStats > 0 MB/s while the guest writes',
      async () => {
        const res = await client.GetDomainDirtyRateStats({});
        assert.deepEqual(res.response, { success: true, message: '' }, JSON.stringify(res));
        rates.push(Number(res.dirtyRateMbs));
        return Number(res.dirtyRateMbs) > 0 ? res : undefined;
      },
      60_000,
      () => `rates measured: ${rates.join(', ')}`,
    );
    assert.ok(Date.now() - started >= 1000 * rates.length, 'each calculation runs for one second');

    const v = await poll(
      'GetVMStats dirtyRate > 0 MB/s',
      async () => {
        const res = await client.GetVMStats({ dirtyRate: {} });
        assert.equal(res.dirtyRateStats?.response?.success, true);
        return Number(res.dirtyRateStats?.dirtyRateMbs) > 0 ? res : undefined;
      },
      60_000,
    );
    await serial.run('kill $!; rm -f /dirty');
    assert.ok(Number(r.dirtyRateMbs) > 0);
    assert.equal(v.domainStats, null);
  });

  test('a VMI that cannot start (container disk image missing) → success:false and a Warning k8s event', async () => {
    const broken = testVMI({ name: 'brokenvmi', uid: randomUUID() });
    // disk_0.img is staged; disk_1.img is not
    broken.spec.domain.devices.disks = [
      { name: 'present', disk: { bus: 'virtio' } },
      { name: 'missing', disk: { bus: 'virtio' } },
    ];
    broken.spec.volumes = [
      { name: 'present', containerDisk: { image: 'kubevirt-ts/testguest:data' } },
      { name: 'missing', containerDisk: { image: 'kubevirt-ts/testguest:missing' } },
    ];
    const from = recorder.k8sEvents.length;
    const r = await client.SyncVirtualMachine(asRequest(broken));
    assert.equal(r.success, false);
    // KubeVirt's message: the launcher's qemu-img inspection of the image fails
    assert.match(
      r.message,
      /^failed to get container disk info: failed to invoke qemu-img: exit status 1: '.*disk_1\.img.*No such file or directory/s,
    );
    const event = await poll('the Warning k8s event', async () => recorder.k8sEvents.slice(from).find((e) => e.type === 'Warning'), 10_000);
    assert.equal(event.reason, 'SyncFailed');
    assert.equal(event.message, r.message);
    const involved = (event as unknown as { involvedObject: { kind: string; name: string; uid: string } }).involvedObject;
    assert.equal(involved.kind, 'VirtualMachineInstance');
    assert.equal(involved.name, 'brokenvmi');
    assert.equal(involved.uid, broken.metadata.uid);
    // the running guest is untouched
    const { domain } = await client.GetDomain({});
    assert.equal((JSON.parse(domain) as { Status: { Status: string } }).Status.Status, 'Running');
  });
});
