#!/usr/bin/env node
// The one-command local demo. By default on a real node (test/node/): etcd + kube-apiserver, containerd,
// kubelet, scheduler and controller-manager; deploy/'s virt-handler DaemonSet from our image; the example
// VMI booting in a launcher pod kubelet starts from our image (the virt-controller stand-in renders it).
// With --sandbox, the quick look: the test bed's kube-apiserver, virt-handler as a host process and a pod
// sandbox playing kubelet. Either way, then virt-api's calls against the handler's HTTPS API; it stays up
// until Ctrl-C with a virt-api stand-in serving the VM's page (console, VNC, pause), or tears down at
// once with --once.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { z } from 'zod';
import { errorMessage, exitOnFlagError, parseFlags } from '@kubevirt-ts/shared';
import { startControlPlane } from '../control-plane/control-plane.ts';
import { freePort } from '../control-plane/daemon.ts';
import { createPodSandbox, podsBaseDir } from '../bed/pod-sandbox.ts';
import { startLauncher, testVMI } from '../bed/launcher.ts';
import { startContainerDisks } from '../bed/container-disks.ts';
import { startHandler } from '../bed/handler.ts';
import { makeHandlerPki } from '../bed/handler-pki.ts';
import { handlerKubeconfig } from '../bed/handler-rbac.ts';
import { GUEST_PROMPT } from '../bed/guest.ts';
import { startVirtApi } from './virt-api.ts';
import { startNodeDemoStack } from './node-stack.ts';
import { kubectlGetPodsVMIs } from './kubectl-get.ts';
import { createKubeVirtCR, KUBEVIRT } from '../bed/kubevirt-cr.ts';

/** Where a running demo leaves what `pnpm console` needs. */
export const DEMO_STATE = '/run/kubevirt-ts-demo/demo.json';
const DEMO_DIR = path.dirname(DEMO_STATE);

const flags = z.object({
  once: z.coerce.boolean().default(false).describe('tear everything down after the walk-through'),
  sandbox: z.coerce
    .boolean()
    .default(false)
    .describe('the quick look: virt-handler as a host process and the launcher in a pod sandbox, no kubelet'),
  name: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .default('testvmi')
    .describe('name of the example VMI'),
  port: z.coerce.number().int().min(0).max(65535).default(0).describe("the VM page's port on 127.0.0.1 (0: any free one)"),
  json: z.coerce.boolean().default(false).describe("print the handler's JSON answers whole"),
});

const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;

export interface VMIObject {
  status?: {
    phase?: string;
    guestOSInfo?: { prettyName?: string };
    conditions?: Array<{ type: string; status: string; reason?: string }>;
  };
}

/** Undone last-first by run(): what each started piece leaves to tear down. */
export class Cleanups {
  readonly #steps: Array<() => Promise<unknown>> = [];

  defer(step: () => Promise<unknown>): void {
    this.#steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) await step().catch(() => undefined);
  }
}

/** Everything the demo starts, up to a Running VMI with its guest agent connected. */
export interface DemoStack {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  /** virt-handler's HTTPS API (the console server virt-api calls) */
  handlerURL: string;
  /** the KubeVirt CA and virt-api's client certificate, as PEM */
  clientTLS: ClientTLS;
  /** where the CA and certificates are kept as files */
  pkiDir: string;
  getVMI(): Promise<VMIObject>;
}

export interface DemoStackOptions {
  /** the example VMI's name */
  name: string;
  /** the stack's private directory (emptied first) */
  dir: string;
  /** called as each piece is up */
  stage?: (text: string) => void;
}

/** Starts the control plane, virt-handler and a launcher pod booting the test guest; `cleanups` tears it all down. */
export async function startDemoStack(o: DemoStackOptions, cleanups: Cleanups): Promise<DemoStack> {
  const stage = o.stage ?? (() => undefined);
  const cp = await startControlPlane();
  cleanups.defer(() => cp.stop());
  stage(`Kubernetes API ready at ${cp.url}${cp.owned ? ' (embedded etcd + kube-apiserver)' : ' (from KUBECONFIG)'}`);

  const kc = cp.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const api = kc.makeApiClient(CustomObjectsApi);
  const namespace = await cp.createNamespace('demo');
  // the cluster's KubeVirt CR: useEmulation, as the demo's guest runs under TCG
  await createKubeVirtCR(kc, namespace, {});
  cleanups.defer(() => api.deleteNamespacedCustomObject({ ...KUBEVIRT, namespace, name: 'kubevirt' }));
  const nodeName = `kvts-demo-${randomUUID().slice(0, 6)}`;
  await core.createNode({ body: { metadata: { name: nodeName } } });
  cleanups.defer(() => core.deleteNode({ name: nodeName }));

  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  cleanups.defer(async () => rmSync(o.dir, { recursive: true, force: true }));
  const pkiDir = path.join(o.dir, 'pki');
  const pki = await makeHandlerPki(pkiDir);
  const consolePort = await freePort();
  const handler = await startHandler({
    nodeName,
    kubeconfigPath: await handlerKubeconfig(cp, path.join(o.dir, 'handler.kubeconfig')),
    shareDir: path.join(o.dir, 'share'),
    privateDir: path.join(o.dir, 'private'),
    podsBaseDir: podsBaseDir(),
    consoleServerPort: consolePort,
    port: await freePort(),
    tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, caFile: pki.ca.certFile },
  });
  cleanups.defer(() => handler.stop());
  stage(`virt-handler ready for node ${nodeName}: virt-api's port https://127.0.0.1:${consolePort}`);

  // virt-controller's and kubelet's parts: a Scheduled VMI and its launcher pod
  const sandbox = await createPodSandbox();
  cleanups.defer(() => sandbox.destroy());
  const example = testVMI({ name: o.name, namespace, uid: 'set-by-apiserver' });
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
  const disks = await startContainerDisks(sandbox, created.metadata.uid, example.spec.volumes);
  stage(`containerDisk containers serving: ${disks.map((d) => d.name).join(', ')}`);
  const launcher = await startLauncher(sandbox, { metadata: { name: o.name, namespace, uid: created.metadata.uid } }, [], {
    stageImages: false,
  });
  cleanups.defer(() => launcher.stop());
  stage(`VMI ${namespace}/${o.name} Scheduled; virt-launcher started in pod ${sandbox.podUID}`);

  const getVMI = async () => (await api.getNamespacedCustomObject({ ...VMI, namespace, name: o.name })) as VMIObject;
  await until('VMI Running', async () => (await getVMI()).status?.phase === 'Running', 120_000);
  stage(`VMI ${namespace}/${o.name} is Running`);
  await until('guest agent', async () => Boolean((await getVMI()).status?.guestOSInfo?.prettyName), 120_000);
  stage(`guest agent connected: ${(await getVMI()).status?.guestOSInfo?.prettyName ?? ''}`);

  return {
    kubeConfig: kc,
    namespace,
    name: o.name,
    handlerURL: `https://127.0.0.1:${consolePort}`,
    clientTLS: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    pkiDir,
    getVMI,
  };
}

const t0 = Date.now();
let stageStart = Date.now();
function stage(text: string): void {
  const now = Date.now();
  process.stdout.write(`[${((now - t0) / 1000).toFixed(1).padStart(5)} s] ${text} (+${now - stageStart} ms)\n`);
  stageStart = now;
}

async function main(): Promise<number> {
  const f = exitOnFlagError(() => parseFlags(flags, process.argv.slice(2), { program: 'pnpm demo' }));
  const cleanups = new Cleanups();
  let interrupted = false;
  // Ctrl-C is how a person ends the demo: a clean teardown is a success (exit 0), so pnpm reports none.
  // pnpm forwards the terminal's SIGINT to us a second time: later signals are ignored, not fatal.
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    process.stdout.write('\ntearing down…\n');
    stageStart = Date.now();
    void cleanups.run().then(() => {
      stage('torn down');
      process.exit(0);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    stageStart = Date.now();
    const start = f.sandbox ? startDemoStack : startNodeDemoStack;
    const stack = await start({ name: f.name, dir: DEMO_DIR, stage }, cleanups);
    const { namespace, name, handlerURL, clientTLS: tls, getVMI } = stack;
    if (!f.sandbox) {
      stage('kubectl get pods,vmi -A');
      process.stdout.write(indent(await kubectlGetPodsVMIs(stack.kubeConfig)));
    }

    const base = `/v1/namespaces/${namespace}/virtualmachineinstances/${name}`;
    const call = (method: string, sub: string) => request(handlerURL, tls, method, `${base}/${sub}`);
    for (const sub of ['guestosinfo', 'userlist', 'filesystemlist'] as const) {
      const r = await call('GET', sub);
      stage(`GET ${sub} → ${r.status}: ${r.status === 200 ? summarize(sub, r.body) : r.body.trim()}`);
      if (f.json) process.stdout.write(indent(r.body));
    }
    stage(`PUT pause → ${(await call('PUT', 'pause')).status}`);
    await until('Paused condition', async () => JSON.stringify(await getVMI()).includes('"PausedByUser"'), 30_000);
    stage('VMI condition Paused (PausedByUser)');
    stage(`PUT unpause → ${(await call('PUT', 'unpause')).status}`);
    await until('Paused condition gone', async () => !JSON.stringify(await getVMI()).includes('"PausedByUser"'), 30_000);
    stage('VMI running again');

    const output = await consoleCommand(handlerURL, tls, `${base}/console`, 'uname -a');
    stage('console websocket: uname -a in the guest');
    process.stdout.write(indent(output));

    if (f.once) {
      await cleanups.run();
      stage('torn down');
      return 0;
    }
    const virtApi = await startVirtApi({ handlerURL, tls, kubeConfig: stack.kubeConfig, port: f.port });
    cleanups.defer(() => virtApi.close());
    const page = `${virtApi.url}/vmi/${namespace}/${name}`;
    stage(`virt-api stand-in serving the VM's page at ${page}`);
    const { hostname: host, port } = new URL(handlerURL);
    writeFileSync(DEMO_STATE, JSON.stringify({ host, port: Number(port), namespace, name, pki: stack.pkiDir }), { mode: 0o600 });
    process.stdout.write(
      `\nThe VM keeps running. Open its page (serial console, VNC screen, pause/unpause) in a browser:\n  ${page}\n` +
        `(from another machine: ssh -L ${new URL(virtApi.url).port}:127.0.0.1:${new URL(virtApi.url).port} to this one first)\n` +
        `or attach to its serial console here with:\n  pnpm console ${namespace}/${name}\n` +
        `(leave it with Ctrl-]). Ctrl-C here tears everything down.\n`,
    );
    await new Promise(() => undefined);
    return 0;
  } catch (err) {
    // what failed was torn down under it: the signal handler's teardown ends the process
    if (interrupted) return new Promise<number>(() => undefined);
    process.stderr.write(`demo failed: ${errorMessage(err)}\n`);
    await cleanups.run();
    return 1;
  }
}

export async function until(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

const guestAnswer = z.looseObject({
  os: z.looseObject({ prettyName: z.string().optional(), kernelRelease: z.string().optional() }).optional(),
  hostname: z.string().optional(),
  items: z
    .array(z.looseObject({ userName: z.string().optional(), mountPoint: z.string().optional(), fileSystemType: z.string().optional() }))
    .optional(),
});

/** One line of what the handler answered; the whole JSON with --json. */
function summarize(sub: 'guestosinfo' | 'userlist' | 'filesystemlist', body: string): string {
  const parsed = guestAnswer.safeParse(JSON.parse(body));
  if (!parsed.success) return `unexpected answer (${parsed.error.issues[0]?.message ?? 'invalid'})`;
  const a = parsed.data;
  const items = a.items ?? [];
  if (sub === 'guestosinfo') return `${a.os?.prettyName ?? '?'}, kernel ${a.os?.kernelRelease ?? '?'}, hostname ${a.hostname ?? '?'}`;
  if (sub === 'userlist') return `${items.length} logged in (${items.map((u) => u.userName).join(', ')})`;
  return items.map((fs) => `${fs.mountPoint} (${fs.fileSystemType})`).join(', ');
}

const indent = (text: string) =>
  `${text
    .trimEnd()
    .split('\n')
    .map((l) => (l ? `          ${l}` : ''))
    .join('\n')}\n`;

export type ClientTLS = { ca: string; cert: string; key: string };

function request(baseURL: string, tls: ClientTLS, method: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(urlPath, baseURL), { method, ...tls, checkServerIdentity: () => undefined }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs one shell command on the serial console through the handler's websocket; returns its output. */
async function consoleCommand(baseURL: string, tls: ClientTLS, urlPath: string, command: string): Promise<string> {
  // ws types checkServerIdentity as returning boolean; tls takes undefined as "identity fine"
  const options = { ...tls, checkServerIdentity: () => undefined } as unknown as WebSocket.ClientOptions;
  const ws = new WebSocket(new URL(urlPath, baseURL.replace(/^https:/, 'wss:')), 'plain.kubevirt.io', options);
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
    const lines = out
      .replaceAll('\r', '')
      .replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '')
      .split('\n');
    return lines.filter((l) => l.trim() && !l.includes(end) && !l.includes(command) && !/^\s*~ #\s*$/.test(l)).join('\n');
  } finally {
    ws.close();
  }
}

if (import.meta.main) main().then((code) => process.exit(code));
