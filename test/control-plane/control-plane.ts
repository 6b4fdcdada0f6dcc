// The Kubernetes control plane of the test bed and the demo: etcd + kube-apiserver (built from Debian's
// kubernetes source by scripts/build-kube-apiserver) with KubeVirt's CRDs, or, when KUBECONFIG is set,
// any other cluster. One per test run: kube-apiserver alone takes ~300 MB.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ApiException, CoreV1Api, KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import { startEtcd, type Etcd } from './etcd.ts';
import { startKubeApiserver, type KubeApiserver } from './kube-apiserver.ts';
import { makePki } from './pki.ts';
import { applyCRDs, deleteCRDs } from './crds.ts';

const BUILD_SCRIPT = path.join(import.meta.dirname, '..', '..', 'scripts', 'build-kube-apiserver');
/** Every namespace made by createNamespace carries it, so a foreign cluster can be swept by hand. */
const TEST_LABEL = 'kubevirt-ts.io/test';

export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

export interface ControlPlane {
  /** kube-apiserver's URL. */
  readonly url: string;
  /** The CA that signed kube-apiserver's serving certificate (PEM), if the kubeconfig names one. */
  readonly ca: string | undefined;
  /** A bearer token in system:masters (on another cluster: the kubeconfig user's token, if it has one). */
  readonly adminToken: string | undefined;
  /** A kubeconfig for the admin: for daemons, kubectl and client-node alike. */
  readonly kubeconfigPath: string;
  /** True when this process started etcd and kube-apiserver; false for a cluster given by KUBECONFIG. */
  readonly owned: boolean;
  /** What another process needs to use this control plane through startControlPlane(): KUBECONFIG. */
  readonly env: Readonly<Record<string, string>>;
  /** A client-node KubeConfig for the admin, or for the given bearer token. */
  kubeConfig(token?: string): KubeConfig;
  /** A token for the service account (created if missing) from the TokenRequest API. */
  tokenFor(serviceAccount: ServiceAccountRef, opts?: { expirationSeconds?: number }): Promise<string>;
  /** A fresh namespace for a test; stop() deletes it on a cluster this process did not start. */
  createNamespace(prefix?: string): Promise<string>;
  /**
   * Owned only: stops kube-apiserver (its PID) and starts it again on the same port, etcd and
   * certificates, resolving once it is ready; every watch and connection of its clients is cut.
   */
  restartApiserver(): Promise<void>;
  /**
   * Owned: stops kube-apiserver and etcd (only the PIDs it started) and removes their directory.
   * Otherwise: deletes only what this handle created (namespaces, service accounts, CRDs).
   */
  stop(): Promise<void>;
}

/** Connects to $KUBECONFIG's cluster when set; otherwise starts etcd + kube-apiserver on loopback. */
export async function startControlPlane(): Promise<ControlPlane> {
  const kubeconfig = process.env.KUBECONFIG;
  return kubeconfig ? connectCluster(kubeconfig) : launchControlPlane();
}

async function launchControlPlane(): Promise<ControlPlane> {
  const bins = await binaries();
  const dir = mkdtempSync(path.join(tmpdir(), 'kubevirt-ts-control-plane-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  // The daemons die with this process (pdeathsig); their directory must not outlive it either.
  process.once('exit', removeDir);
  let etcd: Etcd | undefined;
  let apiserver: KubeApiserver | undefined;
  const shutdown = async () => {
    await apiserver?.stop();
    await etcd?.stop();
    removeDir();
    process.off('exit', removeDir);
  };
  try {
    const pki = await makePki(dir);
    etcd = await startEtcd(bins.etcd, dir);
    apiserver = await startKubeApiserver(bins.kubeApiserver, dir, etcd.url, pki);
    const kubeconfigPath = path.join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfigPath, apiserver.url, pki.ca, apiserver.adminToken);
    const kc = loadKubeConfig(kubeconfigPath);
    await applyCRDs(kc);
    await createDefaultServiceAccount(kc.makeApiClient(CoreV1Api), 'default');
    const restartApiserver = () => apiserver!.restart();
    return handle(kc, kubeconfigPath, { owned: true, shutdown, restartApiserver });
  } catch (err) {
    await shutdown();
    throw err;
  }
}

/** Uses the cluster of a kubeconfig; applies the CRDs it lacks (and removes them again on stop). */
export async function connectCluster(kubeconfigPath: string): Promise<ControlPlane> {
  const kc = loadKubeConfig(kubeconfigPath);
  const createdCRDs = await applyCRDs(kc);
  return handle(kc, kubeconfigPath, { owned: false, shutdown: () => deleteCRDs(kc, createdCRDs) });
}

function handle(
  kc: KubeConfig,
  kubeconfigPath: string,
  opts: { owned: boolean; shutdown: () => Promise<void>; restartApiserver?: () => Promise<void> },
): ControlPlane {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`${kubeconfigPath}: no current cluster`);
  const core = kc.makeApiClient(CoreV1Api);
  // What stop() removes from a cluster this process did not start, newest first.
  const namespaces: string[] = [];
  const serviceAccounts: ServiceAccountRef[] = [];

  const createServiceAccount = async (sa: ServiceAccountRef) => {
    try {
      await core.createNamespacedServiceAccount({ namespace: sa.namespace, body: { metadata: { name: sa.name } } });
      // One in a namespace of this handle's goes with the namespace.
      if (!namespaces.includes(sa.namespace)) serviceAccounts.push(sa);
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409)) throw err;
    }
  };
  const requestToken = (sa: ServiceAccountRef, expirationSeconds: number) =>
    core.createNamespacedServiceAccountToken({
      ...sa,
      body: { spec: { audiences: [], expirationSeconds } },
    });

  return {
    url: cluster.server,
    ca: cluster.caData
      ? Buffer.from(cluster.caData, 'base64').toString()
      : cluster.caFile
        ? readFileSync(cluster.caFile, 'utf8')
        : undefined,
    adminToken: kc.getCurrentUser()?.token,
    kubeconfigPath,
    owned: opts.owned,
    env: { KUBECONFIG: kubeconfigPath },
    kubeConfig(token?: string) {
      if (token === undefined) return kc;
      const forToken = new KubeConfig();
      forToken.loadFromOptions({
        clusters: [cluster],
        users: [{ name: 'token', token }],
        contexts: [{ name: 'token', cluster: cluster.name, user: 'token' }],
        currentContext: 'token',
      });
      return forToken;
    },
    async tokenFor(sa, { expirationSeconds = 3600 } = {}) {
      let issued;
      try {
        issued = await requestToken(sa, expirationSeconds);
      } catch (err) {
        if (!(err instanceof ApiException && err.code === 404)) throw err;
        await createServiceAccount(sa);
        issued = await requestToken(sa, expirationSeconds);
      }
      const token = issued.status?.token;
      if (!token) throw new Error(`TokenRequest for ${sa.namespace}/${sa.name} returned no token`);
      return token;
    },
    async createNamespace(prefix = 'kvts-test') {
      const ns: V1Namespace = await core.createNamespace({
        body: { metadata: { generateName: `${prefix}-`, labels: { [TEST_LABEL]: '' } } },
      });
      const name = ns.metadata?.name;
      if (!name) throw new Error('namespace created without a name');
      namespaces.push(name);
      await createDefaultServiceAccount(core, name);
      return name;
    },
    async restartApiserver() {
      if (!opts.restartApiserver) throw new Error(`${cluster.server} was not started here: its kube-apiserver cannot be restarted`);
      await opts.restartApiserver();
    },
    async stop() {
      if (!opts.owned) {
        // Without a controller-manager a deleted namespace stays Terminating: harmless on a cluster that
        // is about to go, and the only reason this is skipped when the cluster is ours.
        for (const sa of serviceAccounts.reverse()) {
          await core.deleteNamespacedServiceAccount(sa).catch(ignoreNotFound);
        }
        for (const name of namespaces.reverse()) {
          await core.deleteNamespace({ name }).catch(ignoreNotFound);
        }
      }
      await opts.shutdown();
    },
  };
}

/**
 * The controller-manager's job on a real cluster (none runs here): without a `default` service account,
 * ServiceAccount admission rejects every pod in the namespace. Nor is there a token controller to give it
 * a token secret, which 1.20's admission wants for mounting: this one asks for no token to be mounted.
 */
async function createDefaultServiceAccount(core: CoreV1Api, namespace: string): Promise<void> {
  const body = { metadata: { name: 'default' }, automountServiceAccountToken: false };
  await core.createNamespacedServiceAccount({ namespace, body }).catch((err: unknown) => {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  });
}

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof ApiException && err.code === 404)) throw err;
}

function loadKubeConfig(kubeconfigPath: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

export function writeKubeconfig(file: string, server: string, ca: string, token: string): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kubevirt-ts', cluster: { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'kubevirt-ts', context: { cluster: 'kubevirt-ts', user: 'admin' } }],
    'current-context': 'kubevirt-ts',
  };
  writeFileSync(file, stringify(config), { mode: 0o600 });
}

/**
 * kube-apiserver from scripts/build-kube-apiserver (cached after the first build; it also honours
 * KUBEBUILDER_ASSETS); etcd from beside it (envtest's layout) or else Debian's etcd-server.
 */
async function binaries(): Promise<{ kubeApiserver: string; etcd: string }> {
  const { stdout } = await promisify(execFile)(BUILD_SCRIPT, { maxBuffer: 1 << 20 });
  const kubeApiserver = stdout.trim().split('\n').at(-1) ?? '';
  const besideIt = path.join(path.dirname(kubeApiserver), 'etcd');
  return { kubeApiserver, etcd: isExecutable(besideIt) ? besideIt : 'etcd' };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
