// virt-handler end to end on the test bed: a real kube-apiserver, the handler as a process, and real
// launchers in pod sandboxes booting the real test guest. The test plays kubelet and virt-controller:
// it creates the Node and the Scheduled VMI, and starts the launcher for it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { notifyClient } from '@kubevirt-ts/proto';
import { domainToJSON, ghostRecordPath, newDomain } from '@kubevirt-ts/shared';
import type { ControlPlane } from '../../../test/control-plane/control-plane.ts';
import { poll } from '../../../test/bed/poll.ts';
import { mountsUnder } from '../../../test/bed/mounts.ts';
import type { HandlerPki } from '../../../test/bed/handler-pki.ts';
import { GUEST_PROMPT } from '../../../test/bed/guest.ts';
import { startHandlerNode, VMI, type HandlerNode, type TestVM } from '../../../test/bed/handler-node.ts';
import { handlerRequest } from '../../../test/bed/handler.ts';
import { createKubeVirtCR } from '../../../test/bed/kubevirt-cr.ts';

describe('virt-handler with a real kube-apiserver, launcher and guest', { timeout: 600_000 }, () => {
  let node: HandlerNode;
  let cp: ControlPlane;
  let api: CustomObjectsApi;
  let core: CoreV1Api;
  let namespace: string;
  let pki: HandlerPki;
  let dir: string;
  let consolePort: number;
  let nodeName: string;
  const handlerLogs = () => node.handler.logs();
  const getVMI = (name: string) => node.getVMI(name);
  const startVM = (name: string) => node.startVM(name);
  const request = (method: string, urlPath: string, opts: { cert?: boolean; port?: number } = {}) => node.request(method, urlPath, opts);
  const vmiPath = (name: string, sub: string) => node.vmiPath(name, sub);

  before(async () => {
    node = await startHandlerNode({ namespace: 'handler', nodePrefix: 'kvts-node' });
    ({ cp, api, core, namespace, pki, dir, consolePort, nodeName } = node);
  });

  after(async () => {
    await node?.stop();
  });

  let vm: TestVM;

  test('marks its node unschedulable while starting and schedulable when ready', async () => {
    const node = await poll(
      'node labelled schedulable',
      async () => {
        const n = await core.readNode({ name: nodeName });
        return n.metadata?.labels?.['kubevirt.io/schedulable'] === 'true' ? n : undefined;
      },
      30_000,
      handlerLogs,
    );
    assert.ok(node.metadata?.annotations?.['kubevirt.io/heartbeat'], 'heartbeat annotation');
  });

  test('a Scheduled VMI is synced to its launcher → domain running → VMI Running with guestOSInfo', async () => {
    vm = await startVM('vmi-a');
    const running = await poll(
      'VMI Running',
      async () => {
        const v = await getVMI('vmi-a');
        return v.status?.phase === 'Running' ? v : undefined;
      },
      60_000,
      handlerLogs,
    );
    assert.deepEqual(
      running.status?.phaseTransitionTimestamps?.map((t) => t.phase),
      ['Running'],
    );
    assert.equal(
      running.status?.machine?.type?.startsWith('pc-q35') || running.status?.machine?.type === 'q35',
      true,
      JSON.stringify(running.status?.machine),
    );
    assert.ok(existsSync(ghostRecordPath(vm.uid, path.join(dir, 'private'))), 'ghost record written');
    // the guest's images came from its containerDisk containers, bind-mounted by the handler
    assert.deepEqual(diskMounts(vm.sandbox.volumePath('container-disks')), ['disk_0.img', 'kernel-boot/initrd.img', 'kernel-boot/vmlinux']);
    assert.ok(existsSync(path.join(dir, 'private', 'container-disk-mount-state', vm.uid)), 'mount record written');
    const withOS = await poll(
      'guestOSInfo from the agent',
      async () => {
        const v = await getVMI('vmi-a');
        return v.status?.guestOSInfo?.name ? v : undefined;
      },
      60_000,
      handlerLogs,
    );
    assert.ok(withOS.status?.conditions?.some((c) => c.type === 'AgentConnected' && c.status === 'True'));
    // qemu-ga lists every command KubeVirt requires: no AgentVersionNotSupported (GetGuestInfo was asked)
    assert.equal(
      withOS.status?.conditions?.find((c) => c.type === 'AgentVersionNotSupported'),
      undefined,
      JSON.stringify(withOS.status?.conditions),
    );
    // the containerDisk volume: its domain disk's target; copied on a migration (block migration)
    assert.deepEqual(withOS.status?.volumeStatus, [{ name: 'data', target: 'vda' }]);
    assert.equal(withOS.status?.migrationMethod, 'BlockMigration');
    // a node without SELinux (no selinuxfs in the kernel): KubeVirt writes `none`
    assert.equal(withOS.status?.selinuxContext, /\sselinuxfs$/m.test(readFileSync('/proc/filesystems', 'utf8')) ? undefined : 'none');
    // no interface, no host device, a containerDisk (copied): KubeVirt's migratable VMI
    const migratable = (type: string) => withOS.status?.conditions?.find((c) => c.type === type);
    assert.deepEqual([migratable('LiveMigratable')?.status, migratable('LiveMigratable')?.reason], ['True', undefined]);
    assert.deepEqual([migratable('StorageLiveMigratable')?.status, migratable('StorageLiveMigratable')?.reason], ['True', undefined]);
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=vmi-a` });
    assert.ok(
      events.items.some((e) => e.reason === 'Started' && e.source?.component === 'virt-handler'),
      'Started event',
    );
  });

  test('guestosinfo, userlist and filesystemlist return the guest data', async () => {
    const info = await request('GET', vmiPath('vmi-a', 'guestosinfo'));
    assert.equal(info.status, 200, info.body);
    assert.match(info.type ?? '', /application\/json/);
    const parsed = JSON.parse(info.body) as { os: { name?: string }; hostname: string };
    assert.ok(parsed.os.name, info.body);
    const users = await request('GET', vmiPath('vmi-a', 'userlist'));
    assert.equal(users.status, 200, users.body);
    assert.ok('items' in (JSON.parse(users.body) as object));
    const fs = await poll(
      'filesystems',
      async () => {
        const r = await request('GET', vmiPath('vmi-a', 'filesystemlist'));
        const items = (JSON.parse(r.body) as { items: Array<{ mountPoint: string }> | null }).items;
        return items?.some((i) => i.mountPoint === '/mnt/data') ? items : undefined;
      },
      30_000,
    );
    assert.ok(fs.length > 0);
    const missing = await request('GET', vmiPath('nope', 'guestosinfo'));
    assert.equal(missing.status, 404);
    assert.equal(missing.body.trim(), `VMI ${namespace}/nope does not exist`);
  });

  test("GET /v1/vmstats (VMStatsCollector gate, monitoring certificate): the launcher's domain stats and guest-agent data", async () => {
    await createKubeVirtCR(cp.kubeConfig(), namespace, { developerConfiguration: { featureGates: ['VMStatsCollector'] } });
    const monitoring = { ca: pki.ca.cert, cert: pki.wrongCN.cert, key: pki.wrongCN.key };
    const r = await poll(
      'vmstats served',
      async () => {
        const got = await handlerRequest(node.vmStatsPort, monitoring, 'GET', '/v1/vmstats?domainStats=true&guestGetOsInfo=true');
        return got.status === 200 ? got : undefined;
      },
      20_000,
      handlerLogs,
    );
    const results = JSON.parse(r.body) as Record<
      string,
      { stats?: { DomainStats: { Name?: string }; GuestGetOsInfo: string; GuestAgentVersion: string }; error?: string }
    >;
    const mine = results[`${namespace}/vmi-a`];
    assert.ok(mine?.stats, r.body.slice(0, 2000));
    assert.equal(mine.stats.DomainStats.Name, `${namespace}_vmi-a`);
    assert.match(mine.stats.GuestGetOsInfo, /debian|linux/i, "the agent's guest-get-osinfo answer");
    assert.notEqual(mine.stats.GuestAgentVersion, '');
  });

  test('PUT pause → condition Paused (PausedByUser) and the domain paused; unpause clears it', async () => {
    const r = await request('PUT', vmiPath('vmi-a', 'pause'));
    assert.equal(r.status, 202, r.body);
    await poll(
      'Paused condition',
      async () => {
        const v = await getVMI('vmi-a');
        return v.status?.conditions?.find((c) => c.type === 'Paused' && c.status === 'True' && c.reason === 'PausedByUser');
      },
      20_000,
      handlerLogs,
    );
    assert.equal((await request('PUT', vmiPath('vmi-a', 'unpause'))).status, 202);
    await poll(
      'Paused condition gone',
      async () => {
        const v = await getVMI('vmi-a');
        return v.status?.conditions?.some((c) => c.type === 'Paused') ? undefined : v;
      },
      20_000,
      handlerLogs,
    );
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=vmi-a` });
    assert.ok(
      events.items.some((e) => e.reason === 'Paused'),
      'Paused event',
    );
  });

  test('GET console over a websocket runs a shell command in the guest', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${consolePort}${vmiPath('vmi-a', 'console')}`, 'plain.kubevirt.io', {
      ca: pki.ca.cert,
      cert: pki.client.cert,
      key: pki.client.key,
      checkServerIdentity: () => undefined,
      // ws types it as returning boolean; tls takes undefined as "identity fine"
    } as unknown as WebSocket.ClientOptions);
    let out = '';
    ws.on('message', (d: Buffer) => (out += d.toString('latin1')));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    assert.equal(ws.protocol, 'plain.kubevirt.io');
    ws.send(Buffer.from('\n'));
    await poll('shell prompt', async () => (GUEST_PROMPT.test(out) ? true : undefined), 20_000);
    const marker = randomUUID().slice(0, 8);
    ws.send(Buffer.from(`echo kvts-$((6*7))-${marker}; uname -s\n`));
    await poll('command output', async () => (out.includes(`kvts-42-${marker}`) && /Linux/.test(out) ? true : undefined), 20_000);
    ws.close();
  });

  test('the TLS handshake is refused without a client certificate', async () => {
    await assert.rejects(request('GET', vmiPath('vmi-a', 'guestosinfo'), { cert: false }));
  });

  test('a KubeVirt-format notify event from a plain gRPC client is accepted; a bad one is refused in-band', async () => {
    const client = await notifyClient(path.join(dir, 'share', 'domain-notify.sock'));
    try {
      const domain = newDomain({ name: 'ghost-vm', namespace, uid: randomUUID() });
      const ok = await client.HandleDomainEvent({ eventType: 'MODIFIED', domainJSON: Buffer.from(domainToJSON(domain)) });
      assert.deepEqual({ success: ok.success, message: ok.message }, { success: true, message: '' });
      const bad = await client.HandleDomainEvent({ eventType: 'MODIFIED', domainJSON: Buffer.from('{"kind": 42') });
      assert.equal(bad.success, false);
      assert.match(bad.message, /Failed to unmarshal domain json object/);
      // HandleK8sEvent: recorded on the VMI when the UID matches; refused in-band otherwise
      const vmiA = await getVMI('vmi-a');
      const event = (uid: string, reason: string) =>
        Buffer.from(
          JSON.stringify({
            type: 'Normal',
            reason,
            message: 'from the launcher',
            involvedObject: { kind: 'VirtualMachineInstance', name: 'vmi-a', namespace, uid },
          }),
        );
      assert.equal((await client.HandleK8sEvent({ eventJSON: event(vmiA.metadata.uid, 'LauncherSaysHi') })).success, true);
      const wrong = await client.HandleK8sEvent({ eventJSON: event(randomUUID(), 'NotForThisVMI') });
      assert.deepEqual([wrong.success, wrong.message], [false, 'VMI not found']);
      await poll(
        'launcher event recorded',
        async () => {
          const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=vmi-a' });
          return events.items.find((e) => e.reason === 'LauncherSaysHi' && e.involvedObject.uid === vmiA.metadata.uid);
        },
        10_000,
      );
    } finally {
      client.close();
    }
  });

  test('restarting the handler causes no status regression', async () => {
    const before = await getVMI('vmi-a');
    const synced = () =>
      vm.launcher
        .logs()
        .split('\n')
        .filter((l) => l.includes('"msg":"Synced vmi"')).length;
    await node.handler.stop('SIGTERM');
    const syncedBefore = synced(); // counted with the old handler gone: what comes now is the new one's
    await node.startHandler();
    // the new handler had its chance: it synced vmi-a with the launcher, and finished that reconcile
    // (its work-queue histogram counts only finished ones; vmi-a is the only key it knows)
    await poll('the new handler synced vmi-a', async () => (synced() > syncedBefore ? true : undefined), 30_000, handlerLogs);
    await poll(
      'the new handler finished a reconcile',
      async () => {
        const m = await request('GET', '/metrics', { port: node.healthPort });
        const count = /kubevirt_workqueue_work_duration_seconds_count\{name="virt-handler-vm"\} (\d+)/.exec(m.body);
        return Number(count?.[1] ?? 0) >= 1 ? true : undefined;
      },
      30_000,
      handlerLogs,
    );
    const afterRestart = await getVMI('vmi-a');
    assert.equal(afterRestart.status?.phase, 'Running');
    assert.deepEqual(afterRestart.status?.phaseTransitionTimestamps, before.status?.phaseTransitionTimestamps);
    // still in control: pause works through the new handler
    assert.equal((await request('PUT', vmiPath('vmi-a', 'pause'))).status, 202);
    assert.equal((await request('PUT', vmiPath('vmi-a', 'unpause'))).status, 202);
  });

  test('deleting the VMI shuts the VM down (Succeeded) and cleans up the launcher', async () => {
    await api.deleteNamespacedCustomObject({ ...VMI, namespace, name: 'vmi-a' });
    const done = await poll(
      'VMI Succeeded',
      async () => {
        const v = await getVMI('vmi-a');
        return v.status?.phase === 'Succeeded' ? v : undefined;
      },
      60_000,
      handlerLogs,
    );
    assert.ok(done.metadata.deletionTimestamp);
    const code = await Promise.race([vm.launcher.exited, sleep(45_000, 'timeout' as const)]);
    assert.equal(code, 0, `launcher exit: ${String(code)}\n${vm.launcher.logs().slice(-4000)}`);
    await poll(
      'ghost record removed',
      async () => (existsSync(ghostRecordPath(vm.uid, path.join(dir, 'private'))) ? undefined : true),
      20_000,
      handlerLogs,
    );
    assert.deepEqual(diskMounts(vm.sandbox.volumePath('container-disks')), [], 'the disks unmounted');
    assert.equal(existsSync(path.join(dir, 'private', 'container-disk-mount-state', vm.uid)), false, 'mount record removed');
    // virt-controller's part: drop the finalizer once the handler is done
    await api.patchNamespacedCustomObject({ ...VMI, namespace, name: 'vmi-a', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
  });

  test('a non-root launcher (runtimeUser 107, uid 107): the notify pipe is handed to 107 and the VMI goes Running', async () => {
    const nonRoot = await node.startVM('vmi-nonroot', { nonRoot: true });
    await poll(
      'non-root VMI Running with guestOSInfo',
      async () => {
        const v = await getVMI('vmi-nonroot');
        return v.status?.phase === 'Running' && v.status.guestOSInfo?.name ? v : undefined;
      },
      90_000,
      () => `${handlerLogs().slice(-3000)}\n${nonRoot.launcher.logs().slice(-3000)}`,
    );
    const pipe = statSync(nonRoot.sandbox.hostPath('/var/run/kubevirt/domain-notify-pipe.sock'));
    assert.deepEqual([pipe.uid, pipe.gid], [107, 107], 'domain-notify-pipe.sock owned by the launcher user');
    await api.deleteNamespacedCustomObject({ ...VMI, namespace, name: 'vmi-nonroot' });
    await poll(
      'non-root VMI Succeeded',
      async () => ((await getVMI('vmi-nonroot')).status?.phase === 'Succeeded' ? true : undefined),
      60_000,
      handlerLogs,
    );
    await api.patchNamespacedCustomObject({
      ...VMI,
      namespace,
      name: 'vmi-nonroot',
      body: [{ op: 'remove', path: '/metadata/finalizers' }],
    });
  });

  test('a launcher that is killed → the watchdog marks its socket unresponsive → VMI Failed', async (t) => {
    const b = await startVM('vmi-b');
    await poll('VMI b Running', async () => ((await getVMI('vmi-b')).status?.phase === 'Running' ? true : undefined), 60_000, handlerLogs);
    // the launcher dies; its socket stays behind, as a hung launcher's would
    const killedAt = Date.now();
    b.launcher.process.kill('SIGKILL');
    await poll('VMI b Failed', async () => ((await getVMI('vmi-b')).status?.phase === 'Failed' ? true : undefined), 60_000, handlerLogs);
    // Failed because of the watchdog (5 s here), not some other path; how fast is bench material
    assert.match(handlerLogs(), new RegExp(`"uid":"${b.uid}"[^\\n]*unresponsive for \\d+s: domain considered gone`));
    t.diagnostic(`Failed ${Date.now() - killedAt} ms after the kill (watchdog timeout 5 s)`);
    await api.deleteNamespacedCustomObject({ ...VMI, namespace, name: 'vmi-b' });
    await api.patchNamespacedCustomObject({ ...VMI, namespace, name: 'vmi-b', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
  });

  test('the handler logged no secret', () => {
    const logs = node.handler.logs();
    assert.ok(!logs.includes(readFileSync(pki.server.keyFile, 'utf8').split('\n')[1] ?? 'x'.repeat(100)), 'server key in logs');
    if (cp.adminToken) assert.ok(!logs.includes(cp.adminToken), 'token in logs');
  });
});

/** The mounts under a pod's container-disks volume, relative to it. */
function diskMounts(volume: string): string[] {
  return mountsUnder(volume)
    .filter((m) => m !== volume)
    .map((m) => m.slice(volume.length + 1))
    .sort();
}
