// A real Kubernetes node on this machine, for tests that run our images as KubeVirt would: etcd and
// kube-apiserver (listening on the node's bridge, so pods reach it), kube-scheduler and
// kube-controller-manager, containerd + runc + CNI, and kubelet, with the images of scripts/build-images
// imported. One per machine (kubelet and containerd hard-code a few host paths): hold
// /tmp/kvts-heavy.lock. stop() leaves the host as it was (see host.ts).
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { writeKubeconfig } from '../control-plane/control-plane.ts';
import { applyCRDs } from '../control-plane/crds.ts';
import { startEtcd, type Etcd } from '../control-plane/etcd.ts';
import { startKubeApiserver, type KubeApiserver } from '../control-plane/kube-apiserver.ts';
import { makePki } from '../control-plane/pki.ts';
import type { Daemon } from '../control-plane/daemon.ts';
import { NODE_BASE, NODE_IP, prepareHost, teardownHost } from './host.ts';
import { startContainerd, type Containerd } from './containerd.ts';
import { nodeBinaries, startControllers, startKubelet } from './kubelet.ts';

const run = promisify(execFile);
const ROOT = path.join(import.meta.dirname, '..', '..');

export const NODE_NAME = 'kvts-node';

export interface RealNode {
  readonly nodeName: string;
  readonly kc: KubeConfig;
  readonly kubeconfigPath: string;
  /** Where pods reach kube-apiserver: for KUBERNETES_SERVICE_HOST/PORT (10.96.0.1 routes nowhere here). */
  readonly apiserverHost: string;
  readonly apiserverPort: number;
  /** kube-apiserver's serving certificate (PEM). */
  readonly apiserverCA: string;
  readonly containerd: Containerd;
  /** Every process the node started, by name. */
  readonly daemons: ReadonlyMap<string, Daemon>;
  /** The images imported, by name (`docker.io/kubevirt-ts/virt-handler:latest`, …). */
  readonly images: readonly string[];
  readonly logDir: string;
  /** How long each start-up step took, in ms, in order. */
  readonly timings: ReadonlyMap<string, number>;
  /** Stops kubelet (its pods keep running) and starts it again, as a node upgrade or crash would. */
  restartKubelet(): Promise<void>;
  stop(): Promise<void>;
}

/** `<name> <archive>` lines of scripts/build-images (it builds what its cache lacks). */
export async function builtImages(): Promise<Array<{ name: string; archive: string }>> {
  const { stdout } = await run(path.join(ROOT, 'scripts', 'build-images'), { cwd: ROOT, maxBuffer: 1 << 20 });
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [name, archive] = line.split(' ');
      if (!name || !archive) throw new Error(`scripts/build-images: unexpected line ${JSON.stringify(line)}`);
      return { name, archive };
    });
}

async function apiserverBinary(): Promise<string> {
  const { stdout } = await run(path.join(ROOT, 'scripts', 'build-kube-apiserver'), { maxBuffer: 1 << 20 });
  return stdout.trim().split('\n').at(-1) ?? '';
}

export async function startRealNode(): Promise<RealNode> {
  const timings = new Map<string, number>();
  let mark = Date.now();
  const step = (what: string) => {
    const now = Date.now();
    timings.set(what, now - mark);
    mark = now;
  };
  const [bins, apiserverBin, built] = await Promise.all([nodeBinaries(), apiserverBinary(), builtImages()]);
  // The Dockerfiles' base is only a build input: no pod runs it.
  const images = built.filter((i) => i.name.startsWith('docker.io/kubevirt-ts/'));
  step('binaries and images (cached builds)');
  const logDir = path.join(NODE_BASE, 'logs');
  const cpDir = path.join(NODE_BASE, 'control-plane');

  const daemons = new Map<string, Daemon>();
  let etcd: Etcd | undefined;
  let apiserver: KubeApiserver | undefined;
  let containerd: Containerd | undefined;
  const stop = async () => {
    // kubelet first (it leaves pods running when it exits), then what still runs in containerd, then the
    // controllers and the control plane; the host last, once no process of the node is left.
    await daemons.get('kubelet')?.stop(30_000);
    await containerd?.stop();
    for (const name of ['kube-controller-manager', 'kube-scheduler']) await daemons.get(name)?.stop(30_000);
    await apiserver?.stop();
    await etcd?.stop();
    await teardownHost();
  };
  try {
    // inside the try: a Ctrl-C reaches the mount and ip commands, and a half-prepared host is torn down too
    await prepareHost();
    step('host: bridge, cgroups, shared mount');
    mkdirSync(logDir, { recursive: true });
    mkdirSync(cpDir, { recursive: true });
    const pki = await makePki(cpDir, [NODE_IP]);
    etcd = await startEtcd('etcd', cpDir);
    daemons.set('etcd', etcd.daemon);
    apiserver = await startKubeApiserver(apiserverBin, cpDir, etcd.url, pki, {
      address: NODE_IP,
      // kubelet's InternalIP, not a DNS lookup of the node's name, for logs and exec
      extraArgs: ['--kubelet-preferred-address-types=InternalIP'],
    });
    daemons.set('kube-apiserver', apiserver.daemon);
    const kubeconfigPath = path.join(cpDir, 'kubeconfig');
    writeKubeconfig(kubeconfigPath, apiserver.url, pki.ca, apiserver.adminToken);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    await applyCRDs(kc);
    step('etcd, kube-apiserver, CRDs');

    containerd = await startContainerd(logDir);
    daemons.set('containerd', containerd.daemon);
    step('containerd');
    for (const image of images) await containerd.importImage(image.archive);
    step('images imported');

    for (const d of await startControllers({
      bins,
      kubeconfigPath,
      rootCAFile: pki.servingCertPath,
      serviceAccountKeyFile: pki.serviceAccountKeyPath,
      logDir,
    })) {
      daemons.set(d.name, d);
    }
    step('kube-scheduler, kube-controller-manager');
    const kubeletOptions = { bin: bins.kubelet, nodeName: NODE_NAME, kubeconfigPath, runtimeEndpoint: containerd.endpoint, logDir };
    daemons.set('kubelet', await startKubelet(kubeletOptions));
    step('kubelet healthy');
    const port = Number(new URL(apiserver.url).port);
    const restartKubelet = async () => {
      await daemons.get('kubelet')?.stop(30_000);
      daemons.set('kubelet', await startKubelet(kubeletOptions));
    };
    return {
      restartKubelet,
      nodeName: NODE_NAME,
      kc,
      kubeconfigPath,
      apiserverHost: NODE_IP,
      apiserverPort: port,
      apiserverCA: pki.ca,
      containerd,
      daemons,
      images: images.map((i) => i.name),
      logDir,
      timings,
      stop,
    };
  } catch (err) {
    await stop().catch((stopErr: unknown) => console.error('real node: stop after a failed start:', stopErr));
    throw err;
  }
}

/** Polls until the node reports Ready=True; fails with kubelet's log tail. */
export async function waitNodeReady(node: RealNode, timeoutMs = 180_000): Promise<void> {
  const core = node.kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + timeoutMs;
  let last = 'no Node object yet';
  for (;;) {
    try {
      const n = await core.readNode({ name: node.nodeName });
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status === 'True') return;
      last = `Ready=${ready?.status ?? 'absent'} (${ready?.reason ?? ''}: ${ready?.message ?? ''})`;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(`node ${node.nodeName} not Ready after ${timeoutMs} ms: ${last}\n${node.daemons.get('kubelet')?.logTail(40)}`);
    }
    await sleep(500);
  }
}

/** Resident memory of a process (VmRSS), in MiB. */
export function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb ? Number(kb) / 1024 : NaN;
}
