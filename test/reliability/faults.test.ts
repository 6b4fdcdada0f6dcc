// Faults on the real test bed: one control plane and one virt-handler (a process with deploy/'s
// service account) for the whole file, launchers in pod sandboxes booting the real test guest, one VM
// at a time. Each case breaks one part under a handler-managed VMI — libvirtd, virtlogd, QEMU, the
// notify path, kube-apiserver, a guest that ignores ACPI — and checks that the daemons keep serving,
// that nothing is lost (no VMI stuck in a wrong phase, no domain or process left behind, no event
// dropped) and that what a caller sees is clear. Each case reports how long recovery or detection took.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { cmdClient } from '@kubevirt-ts/proto';
import { ghostRecordDir, ghostRecordPath } from '@kubevirt-ts/shared';
import type { ControlPlane } from '../control-plane/control-plane.ts';
import { processesInNamespace, type PodSandbox } from '../bed/pod-sandbox.ts';
import { poll } from '../bed/poll.ts';
import type { HandlerPki } from '../bed/handler-pki.ts';
import { GUEST_PROMPT } from '../bed/guest.ts';
import { startHandlerNode, VMI, type HandlerNode, type TestVM } from '../bed/handler-node.ts';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** PIDs and command lines of what runs in the pod besides its pause process. */
function podProcesses(sandbox: PodSandbox): Array<{ pid: number; cmd: string }> {
  let mntNs: string;
  try {
    mntNs = readlinkSync(`/proc/${sandbox.pid}/ns/mnt`);
  } catch {
    return [];
  }
  return processesInNamespace(mntNs)
    .filter((pid) => pid !== sandbox.pid)
    .map((pid) => {
      try {
        return { pid, cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') };
      } catch {
        return { pid, cmd: '' };
      }
    })
    .filter((p) => p.cmd !== '');
}

const podProcess = (sandbox: PodSandbox, match: (argv0: string) => boolean) =>
  podProcesses(sandbox).find((p) => match(path.basename(p.cmd.split(' ')[0] ?? '')));
const isQemu = (argv0: string) => argv0.startsWith('qemu-system');

/** Log lines that mean a notify event was lost. */
const DROPPED = /notify: giving up|notify queue full|Timed out waiting for final delete notification/;

describe('faults under handler-managed VMIs', { timeout: 420_000 }, () => {
  let node: HandlerNode;
  let cp: ControlPlane;
  let api: CustomObjectsApi;
  let core: CoreV1Api;
  let namespace: string;
  let pki: HandlerPki;
  let consolePort: number;
  let healthPort: number;
  const handlerLogs = () => node.handler.logs();
  /** The handler's JSON log lines from offset `from` of its log. */
  const handlerLogLines = (from: number) =>
    handlerLogs()
      .slice(from)
      .split('\n')
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as { msg: string; timestamp: string; vmiInformer?: string }];
        } catch {
          return [];
        }
      });
  const privateDir = () => node.privateDir;

  const getVMI = (name: string) => node.getVMI(name);
  const phaseIs = (name: string, phase: string) => async () => ((await getVMI(name)).status?.phase === phase ? true : undefined);
  const pausedCondition = (name: string) => async () =>
    (await getVMI(name)).status?.conditions?.find((c) => c.type === 'Paused' && c.status === 'True');
  const noPausedCondition = (name: string) => async () =>
    (await getVMI(name)).status?.conditions?.some((c) => c.type === 'Paused') ? undefined : true;

  /** virt-controller's and kubelet's parts: a Scheduled VMI on this node and its launcher pod; resolves once Running. */
  async function startVM(name: string, extra: { kernelArgs?: string; grace?: number } = {}): Promise<TestVM> {
    const vm = await node.startVM(name, extra);
    await poll(`VMI ${name} Running`, phaseIs(name, 'Running'), 90_000, () => `${handlerLogs()}\n--- launcher\n${vm.launcher.logs()}`);
    return vm;
  }

  /** After the launcher is gone: nothing left in its pod, no ghost record, no notify event lost. */
  async function assertCleanedUp(vm: TestVM): Promise<void> {
    await poll(
      `ghost record of ${vm.name} removed`,
      async () => (existsSync(ghostRecordPath(vm.uid, privateDir())) ? undefined : true),
      20_000,
      handlerLogs,
    );
    assert.deepEqual(podProcesses(vm.sandbox), [], 'libvirtd, virtlogd and QEMU are gone with the launcher');
    assert.doesNotMatch(vm.launcher.logs(), DROPPED, 'the launcher lost no notify event');
  }

  /** virt-controller's part once the handler is done with a final VMI: delete it and drop the finalizer. */
  async function removeVMI(name: string): Promise<void> {
    await api.deleteNamespacedCustomObject({ ...VMI, namespace, name }).catch(() => undefined);
    await api.patchNamespacedCustomObject({ ...VMI, namespace, name, body: [{ op: 'remove', path: '/metadata/finalizers' }] });
    await poll(
      `VMI ${name} gone`,
      async () =>
        (await getVMI(name).then(
          () => false,
          () => true,
        )) || undefined,
      10_000,
    );
  }

  const request = (method: string, urlPath: string, port?: number) => node.request(method, urlPath, port === undefined ? {} : { port });
  const vmiPath = (name: string, sub: string) => node.vmiPath(name, sub);

  /** PUT pause, then unpause, through the handler's API, each seen as the VMI's Paused condition. */
  async function pauseAndUnpause(name: string): Promise<void> {
    const paused = await request('PUT', vmiPath(name, 'pause'));
    assert.equal(paused.status, 202, paused.body);
    const cond = await poll('Paused condition', pausedCondition(name), 20_000, handlerLogs);
    assert.equal(cond.reason, 'PausedByUser');
    const unpaused = await request('PUT', vmiPath(name, 'unpause'));
    assert.equal(unpaused.status, 202, unpaused.body);
    await poll('Paused condition gone', noPausedCondition(name), 20_000, handlerLogs);
  }

  /** The guest answers on its serial console, through the handler's console websocket. */
  async function guestAnswers(name: string): Promise<void> {
    const ws = new WebSocket(`wss://127.0.0.1:${consolePort}${vmiPath(name, 'console')}`, 'plain.kubevirt.io', {
      ca: pki.ca.cert,
      cert: pki.client.cert,
      key: pki.client.key,
      checkServerIdentity: () => undefined,
    } as unknown as WebSocket.ClientOptions);
    let out = '';
    ws.on('message', (d: Buffer) => (out += d.toString('latin1')));
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      ws.send(Buffer.from('\n'));
      await poll('shell prompt', async () => (GUEST_PROMPT.test(out) ? true : undefined), 20_000);
      const marker = randomUUID().slice(0, 8);
      ws.send(Buffer.from(`echo kvts-$((6*7))-${marker}\n`));
      await poll('command output', async () => (out.includes(`kvts-42-${marker}`) ? true : undefined), 20_000);
    } finally {
      ws.close();
    }
  }

  before(async () => {
    node = await startHandlerNode({ namespace: 'faults', nodePrefix: 'kvts-faults' });
    ({ cp, api, core, namespace, pki, consolePort, healthPort } = node);
  });

  after(async () => {
    if (process.exitCode) console.error(`--- handler\n${node?.handler.logs().slice(-20_000)}`);
    await node?.stop();
  });

  let vm: TestVM;

  test('a VMI of this node boots (the VM the next cases break)', async () => {
    vm = await startVM('vmi-faults');
  });

  test('libvirtd killed → restarted and reconnected; the VMI stays Running and a later PUT pause shows as Paused', async (t: TestContext) => {
    const pidFile = vm.sandbox.hostPath('/run/libvirtd.pid');
    const oldPid = Number(readFileSync(pidFile, 'utf8').trim());
    const qemu = podProcess(vm.sandbox, isQemu);
    assert.ok(qemu, 'QEMU runs');
    const logFrom = vm.launcher.logs().length;
    const killedAt = Date.now();
    process.kill(oldPid, 'SIGKILL');

    const newPid = await poll(
      'a new libvirtd',
      async () => {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        return pid !== oldPid && podProcess(vm.sandbox, (a) => a === 'libvirtd')?.pid === pid ? pid : undefined;
      },
      30_000,
      () => vm.launcher.logs(),
    );
    const restartedIn = Date.now() - killedAt;
    // the PUT fails clearly while the launcher has no libvirt connection, then works again
    const failures: string[] = [];
    const paused = await poll(
      'PUT pause accepted',
      async () => {
        const r = await request('PUT', vmiPath(vm.name, 'pause'));
        if (r.status === 202) return r;
        failures.push(`${r.status} ${r.body.trim()}`);
        return undefined;
      },
      60_000,
      () => vm.launcher.logs(),
    );
    const pauseWorksIn = Date.now() - killedAt;
    assert.equal(paused.status, 202);
    for (const f of failures) assert.match(f, /^5\d\d \S/, 'a failed PUT is a 5xx with a reason');
    const cond = await poll('Paused condition', pausedCondition(vm.name), 20_000, handlerLogs);
    assert.equal(cond.reason, 'PausedByUser');
    // the Paused state came from a lifecycle event of the re-registered callback
    assert.match(vm.launcher.logs().slice(logFrom), /libvirt connection re-established/);
    assert.match(vm.launcher.logs().slice(logFrom), /DomainLifecycle event SUSPENDED/);
    assert.equal((await request('PUT', vmiPath(vm.name, 'unpause'))).status, 202);
    await poll('Paused condition gone', noPausedCondition(vm.name), 20_000, handlerLogs);

    assert.equal((await getVMI(vm.name)).status?.phase, 'Running');
    assert.equal(podProcess(vm.sandbox, isQemu)?.pid, qemu.pid, 'the same QEMU runs on');
    t.diagnostic(
      `libvirtd ${oldPid} → ${newPid} in ${seconds(restartedIn)}; PUT pause accepted ${seconds(pauseWorksIn)} after the kill` +
        (failures.length ? `; ${failures.length} refused before, e.g. "${failures[0]!.slice(0, 160)}"` : '; none refused'),
    );
  });

  test('virtlogd killed → restarted with a new pid; the VM keeps running and the VMI stays Running', async (t: TestContext) => {
    const old = podProcess(vm.sandbox, (a) => a === 'virtlogd');
    assert.ok(old, 'virtlogd runs');
    const qemu = podProcess(vm.sandbox, isQemu);
    const killedAt = Date.now();
    process.kill(old.pid, 'SIGKILL');
    const restarted = await poll(
      'a new virtlogd',
      async () => {
        const p = podProcess(vm.sandbox, (a) => a === 'virtlogd');
        return p && p.pid !== old.pid ? p : undefined;
      },
      30_000,
      () => vm.launcher.logs(),
    );
    const restartedIn = Date.now() - killedAt;
    assert.match(vm.launcher.logs(), /virtlogd exited, restarting/);
    await guestAnswers(vm.name);
    assert.equal(podProcess(vm.sandbox, isQemu)?.pid, qemu?.pid, 'the same QEMU runs on');
    assert.equal((await getVMI(vm.name)).status?.phase, 'Running');
    t.diagnostic(`virtlogd ${old.pid} → ${restarted.pid} in ${seconds(restartedIn)}; the guest answered on its console afterwards`);
  });

  test('the notify path gone for 30 s (handler stopped) while the VM is paused: the queued state arrives, then unpause works', async (t: TestContext) => {
    const logFrom = vm.launcher.logs().length;
    assert.equal(await node.handler.stop('SIGTERM'), 0, 'the handler stops cleanly');
    const stoppedAt = Date.now();
    const client = await cmdClient(vm.launcher.cmdSocket);
    try {
      const vmi = await getVMI(vm.name);
      assert.deepEqual(await client.PauseVirtualMachine({ vmi: { vmiJson: Buffer.from(JSON.stringify(vmi)) } }), {
        success: true,
        message: '',
      });
    } finally {
      client.close();
    }
    await sleep(Math.max(0, 30_000 - (Date.now() - stoppedAt)));
    assert.match(vm.launcher.logs().slice(logFrom), /notify server unreachable for \d+ s, \d+ event\(s\) queued/);
    assert.equal(
      (await getVMI(vm.name)).status?.conditions?.some((c) => c.type === 'Paused'),
      false,
      'nobody updated the VMI meanwhile',
    );

    const restartAt = Date.now();
    await node.startHandler();
    const cond = await poll('Paused condition after the handler is back', pausedCondition(vm.name), 30_000, handlerLogs);
    const pausedIn = Date.now() - restartAt;
    assert.equal(cond.reason, 'PausedByUser');
    await poll(
      'queued events delivered',
      async () => (/notify server reachable again after \d+ s/.test(vm.launcher.logs().slice(logFrom)) ? true : undefined),
      15_000,
      () => vm.launcher.logs(),
    );
    assert.equal((await request('PUT', vmiPath(vm.name, 'unpause'))).status, 202);
    await poll('Paused condition gone', noPausedCondition(vm.name), 20_000, handlerLogs);
    assert.equal((await getVMI(vm.name)).status?.phase, 'Running');
    assert.doesNotMatch(vm.launcher.logs(), DROPPED);
    t.diagnostic(`handler away ${seconds(restartAt - stoppedAt)}; Paused on the VMI ${seconds(pausedIn)} after the handler started again`);
  });

  test('kube-apiserver restarted: the informers watch again and a VMI change made afterwards is reconciled', async (t: TestContext) => {
    if (!cp.owned) {
      t.skip('the control plane was not started here ($KUBECONFIG): its kube-apiserver cannot be restarted');
      return;
    }
    const handlerFrom = handlerLogs().length;
    const downAt = Date.now();
    await cp.restartApiserver();
    const upIn = Date.now() - downAt;
    const upAt = Date.now();
    // A change only the API server knows. The handler writes the status with a full Update of its cached
    // VMI: a stale cache gets 409 for ever (no Paused condition) or would drop this label.
    const label = 'kubevirt-ts.io/after-restart';
    await api.patchNamespacedCustomObject({
      ...VMI,
      namespace,
      name: vm.name,
      body: [{ op: 'add', path: `/metadata/labels/${label.replace('/', '~1')}`, value: String(upAt) }],
    });
    await pauseAndUnpause(vm.name);
    const reconciledAt = Date.now();
    const after = await getVMI(vm.name);
    assert.equal(after.metadata.labels?.[label], String(upAt), 'the handler wrote the status over the VMI as changed after the restart');
    assert.equal(after.status?.phase, 'Running');
    const since = handlerLogLines(handlerFrom);
    const cut = since.find((l) => l.vmiInformer === 'source' && /list\/watch failed, restarting in \d+ ms/.test(l.msg));
    assert.ok(cut, 'the handler saw its VMI watch cut');
    // client-go's reflector, and client-node's ListWatch, resume the watch from the last resourceVersion;
    // only a 410 Gone makes them list again (unit-tested in packages/handler/test/kube.test.ts)
    const relisted = since.some((l) => l.msg === 'listed' && l.vmiInformer === 'source');
    const health = await request('GET', '/healthz', healthPort);
    assert.deepEqual([health.status, health.body], [200, 'ok']);
    t.diagnostic(
      `kube-apiserver stopped and ready again in ${seconds(upIn)}; VMI watch cut → pause + unpause reconciled in ` +
        `${seconds(reconciledAt - Date.parse(cut.timestamp))} (${seconds(reconciledAt - upAt)} after ready; ${relisted ? 'relisted' : 'watch resumed, no relist'})`,
    );
  });

  test('QEMU killed → the crash is reported, the VMI Failed, the launcher exits and the handler cleans up', async (t: TestContext) => {
    const qemu = podProcess(vm.sandbox, isQemu);
    assert.ok(qemu, 'QEMU runs');
    const handlerFrom = handlerLogs().length;
    const killedAt = Date.now();
    process.kill(qemu.pid, 'SIGKILL');
    await poll('VMI Failed', phaseIs(vm.name, 'Failed'), 20_000, handlerLogs);
    const failedIn = Date.now() - killedAt;
    // libvirt: QEMU's monitor closed without a SHUTDOWN event → SHUTOFF/CRASHED (processMonitorEOFEvent)
    assert.match(vm.launcher.logs(), /kubevirt domain status: Shutoff:Crashed/);
    assert.doesNotMatch(handlerLogs().slice(handlerFrom), /unresponsive for/, 'detected from the domain, not by the watchdog');
    const code = await Promise.race([vm.launcher.exited, sleep(45_000, 'timeout' as const)]);
    const exitedIn = Date.now() - killedAt;
    assert.equal(code, 0, `launcher exit: ${String(code)}\n${vm.launcher.logs().slice(-4000)}`);
    await assertCleanedUp(vm);
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${vm.name}` });
    assert.ok(
      events.items.some((e) => e.type === 'Warning' && e.reason === 'Stopped'),
      'a Warning Stopped event',
    );
    // a caller asking for the dead VM gets a plain error, and the handler keeps serving
    const late = await request('PUT', vmiPath(vm.name, 'pause'));
    assert.ok(late.status >= 400 && late.status < 600, `PUT pause on the crashed VM: ${late.status} ${late.body}`);
    assert.match(late.body.trim(), /^[^\n]{1,300}$/, 'a one-line reason, no stack');
    await removeVMI(vm.name);
    t.diagnostic(
      `VMI Failed ${seconds(failedIn)} after the kill; launcher exited ${seconds(exitedIn)} after it; ` +
        `a later PUT pause: ${late.status} "${late.body.trim()}"`,
    );
  });

  test('SIGTERM to a launcher whose guest ignores ACPI → destroyed after the grace period, the gone-domain event, exit 0, VMI Failed', async (t: TestContext) => {
    const b = await startVM('vmi-noacpi', { kernelArgs: 'kvts.acpi=off', grace: 3 });
    const termAt = Date.now();
    b.launcher.process.kill('SIGTERM');
    const code = await Promise.race([b.launcher.exited, sleep(60_000, 'timeout' as const)]);
    const exitedIn = Date.now() - termAt;
    const logs = b.launcher.logs();
    assert.equal(code, 0, logs.slice(-5000));
    assert.match(logs, /Grace period of 3s expired, killing the domain/);
    assert.match(logs, /kubevirt domain status: Shutoff:Destroyed/);
    assert.match(logs, /kubevirt domain status: NoState:NonExistent/);
    assert.ok(exitedIn >= 3_000, `exited after ${exitedIn} ms, before the grace period ended`);
    // KubeVirt: Destroyed with ACPI on and a grace period means "killed after the grace period" → Failed
    await poll('VMI Failed', phaseIs(b.name, 'Failed'), 20_000, handlerLogs);
    await assertCleanedUp(b);
    await removeVMI(b.name);
    t.diagnostic(`SIGTERM → launcher exit 0 in ${seconds(exitedIn)} (grace 3 s)`);
  });

  test('deleting a VMI whose guest ignores ACPI (grace 3 s) → the handler destroys the domain after the grace period; VMI Failed', async (t: TestContext) => {
    const c = await startVM('vmi-noacpi-del', { kernelArgs: 'kvts.acpi=off', grace: 3 });
    const deletedAt = Date.now();
    await api.deleteNamespacedCustomObject({ ...VMI, namespace, name: c.name });
    const final = await poll(
      'VMI final',
      async () => {
        const v = await getVMI(c.name);
        return v.status?.phase === 'Succeeded' || v.status?.phase === 'Failed' ? v : undefined;
      },
      30_000,
      handlerLogs,
    );
    const finalIn = Date.now() - deletedAt;
    assert.equal(final.status?.phase, 'Failed', 'KubeVirt: destroyed after the grace period with ACPI on');
    assert.ok(final.metadata.deletionTimestamp);
    assert.ok(finalIn >= 3_000, `final after ${finalIn} ms, before the grace period ended`);
    const code = await Promise.race([c.launcher.exited, sleep(45_000, 'timeout' as const)]);
    assert.equal(code, 0, c.launcher.logs().slice(-5000));
    assert.match(c.launcher.logs(), /kubevirt domain status: Shutoff:Destroyed/);
    await assertCleanedUp(c);
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${c.name}` });
    const reasons = events.items.map((e) => e.reason);
    assert.ok(reasons.includes('ShuttingDown') && reasons.includes('Deleted'), `events: ${reasons.join(', ')}`);
    await removeVMI(c.name);
    t.diagnostic(`delete → domain destroyed, VMI Failed in ${seconds(finalIn)} (grace 3 s)`);
  });

  test('nothing left behind: no VMI, no ghost record, no process in any pod; the handler still serves', async () => {
    const list = (await api.listNamespacedCustomObject({ ...VMI, namespace })) as { items: unknown[] };
    assert.equal(list.items.length, 0);
    assert.deepEqual(readdirSync(ghostRecordDir(privateDir())), []);
    for (const s of node.sandboxes) assert.deepEqual(podProcesses(s), []);
    const health = await request('GET', '/healthz', healthPort);
    assert.deepEqual([health.status, health.body], [200, 'ok']);
    assert.equal(node.handler.process.exitCode, null, 'the handler is still running');
  });
});
