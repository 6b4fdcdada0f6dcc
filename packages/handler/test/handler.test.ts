// virt-handler end to end on the test bed: a real kube-apiserver, the handler as a process, and real
// launchers in pod sandboxes booting the real test guest. The test plays kubelet and virt-controller:
// it creates the Node and the Scheduled VMI, and starts the launcher for it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { notifyClient } from '@kubevirt-ts/proto';
import { domainToJSON, ghostRecordPath, newDomain } from '@kubevirt-ts/shared';
import { startControlPlane, type ControlPlane } from '../../../test/control-plane/control-plane.ts';
import { freePort } from '../../../test/control-plane/daemon.ts';
import { createPodSandbox, podsBaseDir, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { startLauncher, testVMI, type RunningLauncher } from '../../../test/bed/launcher.ts';
import { handlerRequest, startHandler, type RunningHandler } from '../../../test/bed/handler.ts';
import { poll } from '../../../test/bed/poll.ts';
import { makeHandlerPki, type HandlerPki } from '../../../test/bed/handler-pki.ts';
import { GUEST_PROMPT } from '../../../test/bed/guest.ts';
import { handlerKubeconfig } from '../../../test/bed/handler-rbac.ts';

const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;
type VMIObject = {
  metadata: { name: string; namespace: string; uid: string; resourceVersion?: string; finalizers?: string[]; deletionTimestamp?: string };
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; reason?: string }>;
    guestOSInfo?: { id?: string; name?: string };
    phaseTransitionTimestamps?: Array<{ phase: string }>;
    machine?: { type?: string };
  };
};

describe('virt-handler with a real kube-apiserver, launcher and guest', { timeout: 600_000 }, () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let api: CustomObjectsApi;
  let core: CoreV1Api;
  let namespace: string;
  let pki: HandlerPki;
  let handler: RunningHandler;
  let handlerKubeconfigPath: string;
  let dir: string;
  let consolePort: number;
  let healthPort: number;
  const nodeName = `kvts-node-${randomUUID().slice(0, 8)}`;
  const sandboxes: PodSandbox[] = [];
  const launchers: RunningLauncher[] = [];
  const handlerLogs = () => handler.logs();

  const handlerOptions = () => ({
    nodeName,
    kubeconfigPath: handlerKubeconfigPath,
    shareDir: path.join(dir, 'share'),
    privateDir: path.join(dir, 'private'),
    podsBaseDir: podsBaseDir(),
    consoleServerPort: consolePort,
    port: healthPort,
    tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, caFile: pki.ca.certFile },
    watchdogTimeout: '5s',
  });

  const getVMI = async (name: string) =>
    (await api.getNamespacedCustomObject({ ...VMI, namespace, name })) as VMIObject;

  /** virt-controller's part: a Scheduled VMI on this node, with the launcher pod in activePods. */
  async function scheduleVMI(name: string, podUID: string, extra: { kernelArgs?: string; grace?: number } = {}) {
    const vmi = testVMI({ name, namespace, uid: 'set-by-apiserver', kernelArgs: extra.kernelArgs, terminationGracePeriodSeconds: extra.grace ?? 5 });
    const { uid: _uid, ...metadata } = vmi.metadata;
    const body = {
      ...vmi,
      metadata: { ...metadata, labels: { 'kubevirt.io/nodeName': nodeName }, finalizers: ['kubevirt.io/foregroundDeleteVirtualMachine'] },
      status: { phase: 'Scheduled', nodeName, activePods: { [podUID]: nodeName } },
    };
    return (await api.createNamespacedCustomObject({ ...VMI, namespace, body })) as VMIObject;
  }

  /** kubelet's part: a launcher pod for the VMI. */
  async function startVM(name: string, extra: { kernelArgs?: string; grace?: number } = {}) {
    const sandbox = await createPodSandbox();
    sandboxes.push(sandbox);
    const created = await scheduleVMI(name, sandbox.podUID, extra);
    const launcher = await startLauncher(sandbox, { metadata: { name, namespace, uid: created.metadata.uid } }, [
      '--grace-period-seconds', String(extra.grace ?? 5),
    ]);
    launchers.push(launcher);
    return { sandbox, launcher, uid: created.metadata.uid };
  }

  const request = (method: string, urlPath: string, opts: { cert?: boolean } = {}) =>
    handlerRequest(consolePort, opts.cert === false ? { ca: pki.ca.cert } : { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key }, method, urlPath);
  const vmiPath = (name: string, sub: string) => `/v1/namespaces/${namespace}/virtualmachineinstances/${name}/${sub}`;

  before(async () => {
    cp = await startControlPlane();
    kc = cp.kubeConfig();
    api = kc.makeApiClient(CustomObjectsApi);
    core = kc.makeApiClient(CoreV1Api);
    namespace = await cp.createNamespace('handler');
    await core.createNode({ body: { metadata: { name: nodeName } } });
    dir = mkdtempSync('/tmp/kvh');
    pki = await makeHandlerPki(path.join(dir, 'pki'));
    // the handler runs with exactly the permissions deploy/ grants its service account
    handlerKubeconfigPath = await handlerKubeconfig(cp, path.join(dir, 'kubeconfig'));
    consolePort = await freePort();
    healthPort = await freePort();
    handler = await startHandler(handlerOptions());
  });

  after(async () => {
    await handler?.stop('SIGKILL');
    for (const l of launchers) await l.stop('SIGKILL').catch(() => undefined);
    for (const s of sandboxes) await s.destroy().catch(() => undefined);
    await core?.deleteNode({ name: nodeName }).catch(() => undefined);
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let vm: { sandbox: PodSandbox; launcher: RunningLauncher; uid: string };

  test('marks its node unschedulable while starting and schedulable when ready', async () => {
    const node = await poll('node labelled schedulable', async () => {
      const n = await core.readNode({ name: nodeName });
      return n.metadata?.labels?.['kubevirt.io/schedulable'] === 'true' ? n : undefined;
    }, 30_000, handlerLogs);
    assert.ok(node.metadata?.annotations?.['kubevirt.io/heartbeat'], 'heartbeat annotation');
  });

  test('a Scheduled VMI is synced to its launcher → domain running → VMI Running with guestOSInfo', async () => {
    vm = await startVM('vmi-a');
    const running = await poll('VMI Running', async () => {
      const v = await getVMI('vmi-a');
      return v.status?.phase === 'Running' ? v : undefined;
    }, 60_000, handlerLogs);
    assert.deepEqual(running.status?.phaseTransitionTimestamps?.map((t) => t.phase), ['Running']);
    assert.equal(running.status?.machine?.type?.startsWith('pc-q35') || running.status?.machine?.type === 'q35', true, JSON.stringify(running.status?.machine));
    assert.ok(existsSync(ghostRecordPath(vm.uid, path.join(dir, 'private'))), 'ghost record written');
    const withOS = await poll('guestOSInfo from the agent', async () => {
      const v = await getVMI('vmi-a');
      return v.status?.guestOSInfo?.name ? v : undefined;
    }, 60_000, handlerLogs);
    assert.ok(withOS.status?.conditions?.some((c) => c.type === 'AgentConnected' && c.status === 'True'));
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=vmi-a` });
    assert.ok(events.items.some((e) => e.reason === 'Started' && e.source?.component === 'virt-handler'), 'Started event');
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
    const fs = await poll('filesystems', async () => {
      const r = await request('GET', vmiPath('vmi-a', 'filesystemlist'));
      const items = (JSON.parse(r.body) as { items: Array<{ mountPoint: string }> | null }).items;
      return items?.some((i) => i.mountPoint === '/mnt/data') ? items : undefined;
    }, 30_000);
    assert.ok(fs.length > 0);
    const missing = await request('GET', vmiPath('nope', 'guestosinfo'));
    assert.equal(missing.status, 404);
    assert.equal(missing.body.trim(), `VMI ${namespace}/nope does not exist`);
  });

  test('PUT pause → condition Paused (PausedByUser) and the domain paused; unpause clears it', async () => {
    const r = await request('PUT', vmiPath('vmi-a', 'pause'));
    assert.equal(r.status, 202, r.body);
    await poll('Paused condition', async () => {
      const v = await getVMI('vmi-a');
      return v.status?.conditions?.find((c) => c.type === 'Paused' && c.status === 'True' && c.reason === 'PausedByUser');
    }, 20_000, handlerLogs);
    assert.equal((await request('PUT', vmiPath('vmi-a', 'unpause'))).status, 202);
    await poll('Paused condition gone', async () => {
      const v = await getVMI('vmi-a');
      return v.status?.conditions?.some((c) => c.type === 'Paused') ? undefined : v;
    }, 20_000, handlerLogs);
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=vmi-a` });
    assert.ok(events.items.some((e) => e.reason === 'Paused'), 'Paused event');
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
        Buffer.from(JSON.stringify({ type: 'Normal', reason, message: 'from the launcher', involvedObject: { kind: 'VirtualMachineInstance', name: 'vmi-a', namespace, uid } }));
      assert.equal((await client.HandleK8sEvent({ eventJSON: event(vmiA.metadata.uid, 'LauncherSaysHi') })).success, true);
      const wrong = await client.HandleK8sEvent({ eventJSON: event(randomUUID(), 'NotForThisVMI') });
      assert.deepEqual([wrong.success, wrong.message], [false, 'VMI not found']);
      await poll('launcher event recorded', async () => {
        const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=vmi-a' });
        return events.items.find((e) => e.reason === 'LauncherSaysHi' && e.involvedObject.uid === vmiA.metadata.uid);
      }, 10_000);
    } finally {
      client.close();
    }
  });

  test('restarting the handler causes no status regression', async () => {
    const before = await getVMI('vmi-a');
    await handler.stop('SIGTERM');
    handler = await startHandler(handlerOptions());
    await sleep(3_000);
    const afterRestart = await getVMI('vmi-a');
    assert.equal(afterRestart.status?.phase, 'Running');
    assert.deepEqual(afterRestart.status?.phaseTransitionTimestamps, before.status?.phaseTransitionTimestamps);
    // still in control: pause works through the new handler
    assert.equal((await request('PUT', vmiPath('vmi-a', 'pause'))).status, 202);
    assert.equal((await request('PUT', vmiPath('vmi-a', 'unpause'))).status, 202);
  });

  test('deleting the VMI shuts the VM down (Succeeded) and cleans up the launcher', async () => {
    await api.deleteNamespacedCustomObject({ ...VMI, namespace, name: 'vmi-a' });
    const done = await poll('VMI Succeeded', async () => {
      const v = await getVMI('vmi-a');
      return v.status?.phase === 'Succeeded' ? v : undefined;
    }, 60_000, handlerLogs);
    assert.ok(done.metadata.deletionTimestamp);
    const code = await Promise.race([vm.launcher.exited, sleep(45_000, 'timeout' as const)]);
    assert.equal(code, 0, `launcher exit: ${String(code)}\n${vm.launcher.logs().slice(-4000)}`);
    await poll('ghost record removed', async () => (existsSync(ghostRecordPath(vm.uid, path.join(dir, 'private'))) ? undefined : true), 20_000, handlerLogs);
    // virt-controller's part: drop the finalizer once the handler is done
    await api.patchNamespacedCustomObject({ ...VMI, namespace, name: 'vmi-a', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
  });

  test('a launcher that is killed → VMI Failed within the watchdog timeout + 5 s', async () => {
    const b = await startVM('vmi-b');
    await poll('VMI b Running', async () => ((await getVMI('vmi-b')).status?.phase === 'Running' ? true : undefined), 60_000, handlerLogs);
    // the launcher dies; its socket stays behind, as a hung launcher's would
    const killedAt = Date.now();
    b.launcher.process.kill('SIGKILL');
    await poll('VMI b Failed', async () => ((await getVMI('vmi-b')).status?.phase === 'Failed' ? true : undefined), 5_000 + 5_000 + 5_000, handlerLogs);
    const took = Date.now() - killedAt;
    assert.ok(took <= 5_000 + 5_000 + 2_000, `Failed after ${took} ms`);
    await api.deleteNamespacedCustomObject({ ...VMI, namespace, name: 'vmi-b' });
    await api.patchNamespacedCustomObject({ ...VMI, namespace, name: 'vmi-b', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
  });

  test('the handler logged no secret', () => {
    const logs = handler.logs();
    assert.ok(!logs.includes(readFileSync(pki.server.keyFile, 'utf8').split('\n')[1] ?? 'x'.repeat(100)), 'server key in logs');
    if (cp.adminToken) assert.ok(!logs.includes(cp.adminToken), 'token in logs');
  });
});
