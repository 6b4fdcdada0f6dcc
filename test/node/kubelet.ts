// kubelet, kube-scheduler and kube-controller-manager (scripts/build-kube-node) for one node. kubelet runs
// pods through containerd, with cgroupfs under the node's own cgroup root, its own root dir, and every
// listener on loopback or the node's bridge. It is built providerless and still runs with
// AWS_EC2_METADATA_DISABLED: no code path may ask the EC2 metadata address anything.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { freePort, startDaemon, waitUntilReady, type Daemon } from '../control-plane/daemon.ts';
import { CGROUP_ROOT, KUBELET_ROOT, NODE_BASE, NODE_IP } from './host.ts';
import { PAUSE_IMAGE } from './containerd.ts';

const BUILD_SCRIPT = path.join(import.meta.dirname, '..', '..', 'scripts', 'build-kube-node');

export interface NodeBinaries {
  kubelet: string;
  kubeScheduler: string;
  kubeControllerManager: string;
}

/** The binaries from scripts/build-kube-node (built once, then cached). */
export async function nodeBinaries(): Promise<NodeBinaries> {
  const { stdout } = await promisify(execFile)(BUILD_SCRIPT, { maxBuffer: 1 << 20 });
  const dir = stdout.trim().split('\n').at(-1) ?? '';
  return {
    kubelet: path.join(dir, 'kubelet'),
    kubeScheduler: path.join(dir, 'kube-scheduler'),
    kubeControllerManager: path.join(dir, 'kube-controller-manager'),
  };
}

export interface KubeletOptions {
  bin: string;
  nodeName: string;
  kubeconfigPath: string;
  /** containerd's unix:// endpoint */
  runtimeEndpoint: string;
  logDir: string;
}

export async function startKubelet(o: KubeletOptions): Promise<Daemon> {
  const healthzPort = await freePort();
  const port = await freePort();
  for (const d of ['pki', 'volume-plugins', 'manifests']) mkdirSync(path.join(NODE_BASE, d), { recursive: true });
  const args = [
    '--container-runtime=remote',
    `--container-runtime-endpoint=${o.runtimeEndpoint}`,
    `--image-service-endpoint=${o.runtimeEndpoint}`,
    '--runtime-request-timeout=5m',
    `--pod-infra-container-image=${PAUSE_IMAGE}`,
    '--cgroup-driver=cgroupfs',
    `--cgroup-root=/${CGROUP_ROOT}`,
    '--fail-swap-on=false',
    // root lacks CAP_SYS_RESOURCE here: kubelet's default -999 for itself fails
    '--oom-score-adj=0',
    '--make-iptables-util-chains=false',
    `--root-dir=${KUBELET_ROOT}`,
    `--cert-dir=${path.join(NODE_BASE, 'pki')}`,
    `--volume-plugin-dir=${path.join(NODE_BASE, 'volume-plugins')}`,
    `--pod-manifest-path=${path.join(NODE_BASE, 'manifests')}`,
    `--hostname-override=${o.nodeName}`,
    `--node-ip=${NODE_IP}`,
    `--address=${NODE_IP}`,
    `--port=${port}`,
    '--read-only-port=0',
    '--healthz-bind-address=127.0.0.1',
    `--healthz-port=${healthzPort}`,
    '--node-status-update-frequency=2s',
    `--kubeconfig=${o.kubeconfigPath}`,
    // The images were imported, never pulled: no garbage collection may remove them, and a busy shared
    // disk must not evict the node's pods.
    '--image-gc-high-threshold=100',
    '--image-gc-low-threshold=99',
    '--eviction-hard=memory.available<50Mi,nodefs.available<1%,imagefs.available<1%',
    '--v=1',
  ];
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', AWS_EC2_METADATA_DISABLED: 'true' };
  const daemon = startDaemon('kubelet', o.bin, args, path.join(o.logDir, 'kubelet.log'), { env });
  await waitUntilReady(daemon, async () => (await httpGet(`http://127.0.0.1:${healthzPort}/healthz`)) === 'ok', 120_000);
  return daemon;
}

export interface ControllerOptions {
  bins: NodeBinaries;
  kubeconfigPath: string;
  /** kube-apiserver's serving certificate: the root CA put into service-account token secrets. */
  rootCAFile: string;
  /** The key kube-apiserver verifies service-account tokens with. */
  serviceAccountKeyFile: string;
  logDir: string;
}

/** kube-scheduler (places the DaemonSet's pods) and kube-controller-manager (DaemonSets, service accounts, tokens). */
export async function startControllers(o: ControllerOptions): Promise<Daemon[]> {
  const common = (port: number) => [
    `--kubeconfig=${o.kubeconfigPath}`,
    `--authentication-kubeconfig=${o.kubeconfigPath}`,
    `--authorization-kubeconfig=${o.kubeconfigPath}`,
    '--leader-elect=false',
    '--port=0',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    '--v=1',
  ];
  const schedulerPort = await freePort();
  const cmPort = await freePort();
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  const scheduler = startDaemon('kube-scheduler', o.bins.kubeScheduler, common(schedulerPort), path.join(o.logDir, 'kube-scheduler.log'), {
    env,
  });
  const cm = startDaemon(
    'kube-controller-manager',
    o.bins.kubeControllerManager,
    [
      ...common(cmPort),
      `--service-account-private-key-file=${o.serviceAccountKeyFile}`,
      `--root-ca-file=${o.rootCAFile}`,
      '--use-service-account-credentials=false',
      `--cert-dir=${path.join(NODE_BASE, 'controller-manager')}`,
    ],
    path.join(o.logDir, 'kube-controller-manager.log'),
    { env },
  );
  await waitUntilReady(scheduler, async () => (await httpsGet(`https://127.0.0.1:${schedulerPort}/healthz`)) === 'ok', 120_000);
  await waitUntilReady(cm, async () => (await httpsGet(`https://127.0.0.1:${cmPort}/healthz`)) === 'ok', 120_000);
  return [scheduler, cm];
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body : `${res.statusCode}: ${body}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** /healthz of a controller's self-signed serving port (always authorized). */
function httpsGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { timeout: 2_000, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body : `${res.statusCode}: ${body}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
