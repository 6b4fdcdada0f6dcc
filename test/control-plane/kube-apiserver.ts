// kube-apiserver on loopback, in front of one etcd: token authentication (an admin in system:masters),
// RBAC, and service-account tokens signed with a key of its own. No controller-manager runs beside it:
// nothing reconciles endpoints, namespaces or service-account secrets.
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { randomBytes } from 'node:crypto';
import { freePort, startDaemon, waitUntilReady, type Daemon } from './daemon.ts';
import type { Pki } from './pki.ts';

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface KubeApiserver {
  readonly url: string;
  readonly adminToken: string;
  /** The running process (a new one after restart()). */
  readonly daemon: Daemon;
  /** Stops the process and starts it again on the same port, etcd, certificates and tokens. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface KubeApiserverOptions {
  /** Where it listens and what it advertises (default 127.0.0.1); the serving certificate must name it. */
  address?: string;
  /** More flags, after the defaults. */
  extraArgs?: readonly string[];
}

export async function startKubeApiserver(
  bin: string,
  dir: string,
  etcdURL: string,
  pki: Pki,
  opts: KubeApiserverOptions = {},
): Promise<KubeApiserver> {
  const address = opts.address ?? '127.0.0.1';
  const port = await freePort();
  const url = `https://${address}:${port}`;
  const adminToken = randomBytes(24).toString('hex');
  const tokenFile = path.join(dir, 'tokens.csv');
  writeFileSync(tokenFile, `${adminToken},admin,admin,"system:masters"\n`, { mode: 0o600 });
  const args = [
    `--etcd-servers=${etcdURL}`,
    `--bind-address=${address}`,
    `--advertise-address=${address}`,
    `--secure-port=${port}`,
    `--tls-cert-file=${pki.servingCertPath}`,
    `--tls-private-key-file=${pki.servingKeyPath}`,
    `--token-auth-file=${tokenFile}`,
    '--authorization-mode=RBAC',
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-signing-key-file=${pki.serviceAccountKeyPath}`,
    `--service-account-key-file=${pki.serviceAccountKeyPath}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    // No kubelets and no kube-proxy: the kubernetes service needs no endpoints.
    '--endpoint-reconciler-type=none',
    '--allow-privileged=true',
    '--profiling=false',
    ...(opts.extraArgs ?? []),
  ];
  const start = async () => {
    const daemon = startDaemon('kube-apiserver', bin, args, path.join(dir, 'kube-apiserver.log'));
    await waitUntilReady(daemon, async () => (await get(url, '/readyz', adminToken, pki.ca)) === 'ok', 60_000);
    return daemon;
  };
  let daemon = await start();
  return {
    url,
    adminToken,
    get daemon() {
      return daemon;
    },
    async restart() {
      await daemon.stop();
      daemon = await start();
    },
    stop: () => daemon.stop(),
  };
}

function get(url: string, urlPath: string, token: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${urlPath}`, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body : `${res.statusCode}: ${body}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
