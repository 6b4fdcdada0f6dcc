#!/usr/bin/env node
// The one-command local demo: a Kubernetes API (the test bed's etcd + kube-apiserver, or $KUBECONFIG's
// cluster), virt-handler, and — playing kubelet and virt-controller — a launcher pod for an example VMI
// booting the test guest; then virt-api's calls against the handler's HTTPS API. Stays up until Ctrl-C
// (with a hint how to attach to the console), or tears down at once with --once.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { z } from 'zod';
import { exitOnFlagError, parseFlags } from '@kubevirt-ts/shared';
import { startControlPlane, type ControlPlane } from '../control-plane/control-plane.ts';
import { freePort } from '../control-plane/daemon.ts';
import { createPodSandbox, podsBaseDir, type PodSandbox } from '../bed/pod-sandbox.ts';
import { startLauncher, testVMI, type RunningLauncher } from '../bed/launcher.ts';
import { startHandler, type RunningHandler } from '../bed/handler.ts';
import { makeHandlerPki } from '../bed/handler-pki.ts';
import { handlerKubeconfig } from '../bed/handler-rbac.ts';
import { GUEST_PROMPT } from '../bed/guest.ts';

/** Where a running demo leaves what `pnpm console` needs. */
export const DEMO_STATE = '/run/kubevirt-ts-demo/demo.json';

const flags = z.object({
  once: z.coerce.boolean().default(false).describe('tear everything down after the walk-through'),
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).default('testvmi').describe('name of the example VMI'),
});

const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;
const t0 = Date.now();
let stageStart = Date.now();
function stage(text: string): void {
  const now = Date.now();
  process.stdout.write(`[${((now - t0) / 1000).toFixed(1).padStart(5)} s] ${text} (+${now - stageStart} ms)\n`);
  stageStart = now;
}

async function main(): Promise<number> {
  const f = exitOnFlagError(() => parseFlags(flags, process.argv.slice(2), { program: 'pnpm demo' }));
  const cleanups: Array<() => Promise<unknown>> = [];
  const teardown = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    process.stdout.write('\ntearing down…\n');
    void teardown().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    stageStart = Date.now();
    const cp: ControlPlane = await startControlPlane();
    cleanups.push(() => cp.stop());
    stage(`Kubernetes API ready at ${cp.url}${cp.owned ? ' (embedded etcd + kube-apiserver)' : ' (from KUBECONFIG)'}`);

    const kc = cp.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const api = kc.makeApiClient(CustomObjectsApi);
    const namespace = await cp.createNamespace('demo');
    const nodeName = `kvts-demo-${randomUUID().slice(0, 6)}`;
    await core.createNode({ body: { metadata: { name: nodeName } } });
    cleanups.push(() => core.deleteNode({ name: nodeName }));

    const dir = '/run/kubevirt-ts-demo';
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const pki = await makeHandlerPki(path.join(dir, 'pki'));
    const consolePort = await freePort();
    const handler: RunningHandler = await startHandler({
      nodeName,
      kubeconfigPath: await handlerKubeconfig(cp, path.join(dir, 'handler.kubeconfig')),
      shareDir: path.join(dir, 'share'),
      privateDir: path.join(dir, 'private'),
      podsBaseDir: podsBaseDir(),
      consoleServerPort: consolePort,
      port: await freePort(),
      tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, caFile: pki.ca.certFile },
    });
    cleanups.push(() => handler.stop());
    stage(`virt-handler ready for node ${nodeName}: virt-api's port https://127.0.0.1:${consolePort}`);

    // virt-controller's and kubelet's parts: a Scheduled VMI and its launcher pod
    const sandbox: PodSandbox = await createPodSandbox();
    cleanups.push(() => sandbox.destroy());
    const example = testVMI({ name: f.name, namespace, uid: 'set-by-apiserver' });
    const { uid: _ignored, ...metadata } = example.metadata;
    const created = (await api.createNamespacedCustomObject({
      ...VMI,
      namespace,
      body: {
        ...example,
        metadata: { ...metadata, labels: { 'kubevirt.io/nodeName': nodeName } },
        status: { phase: 'Scheduled', nodeName, activePods: { [sandbox.podUID]: nodeName } },
      },
    })) as { metadata: { uid: string } };
    const launcher: RunningLauncher = await startLauncher(sandbox, { metadata: { name: f.name, namespace, uid: created.metadata.uid } });
    cleanups.push(() => launcher.stop());
    stage(`VMI ${namespace}/${f.name} Scheduled; virt-launcher started in pod ${sandbox.podUID}`);

    const getVMI = async () => (await api.getNamespacedCustomObject({ ...VMI, namespace, name: f.name })) as { status?: { phase?: string; guestOSInfo?: { prettyName?: string } } };
    await until('VMI Running', async () => (await getVMI()).status?.phase === 'Running', 120_000);
    stage(`VMI ${namespace}/${f.name} is Running`);
    await until('guest agent', async () => Boolean((await getVMI()).status?.guestOSInfo?.prettyName), 120_000);
    stage(`guest agent connected: ${(await getVMI()).status?.guestOSInfo?.prettyName ?? ''}`);

    const tls = { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key };
    const base = `/v1/namespaces/${namespace}/virtualmachineinstances/${f.name}`;
    const call = (method: string, sub: string) => request(consolePort, tls, method, `${base}/${sub}`);
    for (const sub of ['guestosinfo', 'userlist', 'filesystemlist']) {
      const r = await call('GET', sub);
      stage(`GET ${sub} → ${r.status}`);
      process.stdout.write(indent(r.body));
    }
    stage(`PUT pause → ${(await call('PUT', 'pause')).status}`);
    await until('Paused condition', async () => JSON.stringify(await getVMI()).includes('"PausedByUser"'), 30_000);
    stage('VMI condition Paused (PausedByUser)');
    stage(`PUT unpause → ${(await call('PUT', 'unpause')).status}`);
    await until('Paused condition gone', async () => !JSON.stringify(await getVMI()).includes('"PausedByUser"'), 30_000);
    stage('VMI running again');

    const output = await consoleCommand(consolePort, tls, `${base}/console`, 'uname -a');
    stage('console websocket: uname -a in the guest');
    process.stdout.write(indent(output));

    if (f.once) {
      await teardown();
      stage('torn down');
      return 0;
    }
    writeFileSync(DEMO_STATE, JSON.stringify({ port: consolePort, namespace, name: f.name, pki: path.join(dir, 'pki') }), { mode: 0o600 });
    process.stdout.write(`\nThe VM keeps running. Attach to its serial console with:\n  pnpm console ${namespace}/${f.name}\n(leave it with Ctrl-]). Ctrl-C here tears everything down.\n`);
    await new Promise(() => undefined);
    return 0;
  } catch (err) {
    if (interrupted) return 130;
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await teardown();
    return 1;
  }
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

const indent = (text: string) => `${text.trimEnd().split('\n').map((l) => `          ${l}`).join('\n')}\n`;

type ClientTLS = { ca: string; cert: string; key: string };

function request(port: number, tls: ClientTLS, method: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: urlPath, ...tls, checkServerIdentity: () => undefined }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs one shell command on the serial console through the handler's websocket; returns its output. */
async function consoleCommand(port: number, tls: ClientTLS, urlPath: string, command: string): Promise<string> {
  // ws types checkServerIdentity as returning boolean; tls takes undefined as "identity fine"
  const options = { ...tls, checkServerIdentity: () => undefined } as unknown as WebSocket.ClientOptions;
  const ws = new WebSocket(`wss://127.0.0.1:${port}${urlPath}`, 'plain.kubevirt.io', options);
  let out = '';
  ws.on('message', (d: Buffer) => (out += d.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  try {
    ws.send(Buffer.from('\n'));
    await until('shell prompt', async () => GUEST_PROMPT.test(out), 30_000);
    const end = `--end-${randomUUID().slice(0, 6)}--`;
    out = '';
    // quoted in two halves, so only the command's output holds the marker whole
    ws.send(Buffer.from(`${command}; echo '${end.slice(0, 5)}''${end.slice(5)}'\n`));
    await until(`${command} output`, async () => out.includes(end), 30_000);
    // terminal escapes (the guest's shell asks for the cursor position) and prompt-only lines go
    const lines = out.replaceAll('\r', '').replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').split('\n');
    return lines.filter((l) => l.trim() && !l.includes(end) && !l.includes(command) && !/^\s*~ #\s*$/.test(l)).join('\n');
  } finally {
    ws.close();
  }
}

if (import.meta.main) main().then((code) => process.exit(code));
