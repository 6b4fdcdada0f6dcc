// Runs virt-handler as a DaemonSet pod would, but on the host: its share and private dirs in a temp
// dir, the kubelet pods dir of the test bed's pod sandboxes, a kubeconfig for the test bed's API server.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const HANDLER_MAIN = path.resolve(import.meta.dirname, '../../packages/handler/src/main.ts');

export interface HandlerOptions {
  nodeName: string;
  kubeconfigPath: string;
  shareDir: string;
  privateDir: string;
  podsBaseDir: string;
  consoleServerPort: number;
  port: number;
  tls: { certFile: string; keyFile: string; caFile: string };
  /** --migration-client-cert-file/--migration-client-key-file: the certificate the migration proxy dials with. */
  migrationClient?: { certFile: string; keyFile: string };
  /** --pod-ip-address: where another node's handler reaches this one's migration listeners (default loopback). */
  podIPAddress?: string;
  watchdogTimeout?: string;
  /** --kubelet-root (device-plugins/ in it); default `kubelet/` beside the private dir, never the host's. */
  kubeletRoot?: string;
  /** --node-labeller-dir; default `node-labeller/` beside the private dir. */
  nodeLabellerDir?: string;
  /** --vmstats-server-port; default 0 (any free port). */
  vmStatsServerPort?: number;
  extraArgs?: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** The TS source (default, run by this node) or a built bundle, run as the image runs it (its shebang's node flags). */
  entry?: string;
}

export interface RunningHandler {
  readonly process: ChildProcess;
  logs(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startHandler(o: HandlerOptions, opts: { readyTimeoutMs?: number } = {}): Promise<RunningHandler> {
  const args = [
    '--hostname-override',
    o.nodeName,
    '--kubeconfig',
    o.kubeconfigPath,
    '--kubevirt-share-dir',
    o.shareDir,
    '--kubevirt-private-dir',
    o.privateDir,
    '--pods-base-dir',
    o.podsBaseDir,
    // the pods' directories are the same path for the handler and the node, as on a real node
    '--kubelet-pods-dir',
    o.podsBaseDir,
    '--console-server-port',
    String(o.consoleServerPort),
    '--port',
    String(o.port),
    '--listen',
    '127.0.0.1',
    '--tls-cert-file',
    o.tls.certFile,
    '--tls-key-file',
    o.tls.keyFile,
    '--ca-bundle-file',
    o.tls.caFile,
    '--watchdog-timeout',
    o.watchdogTimeout ?? '30s',
    '--kubelet-root',
    o.kubeletRoot ?? path.join(path.dirname(o.privateDir), 'kubelet'),
    '--node-labeller-dir',
    o.nodeLabellerDir ?? path.join(path.dirname(o.privateDir), 'node-labeller'),
    '--vmstats-server-port',
    String(o.vmStatsServerPort ?? 0),
    '--pod-ip-address',
    o.podIPAddress ?? '127.0.0.1',
    ...(o.migrationClient
      ? ['--migration-client-cert-file', o.migrationClient.certFile, '--migration-client-key-file', o.migrationClient.keyFile]
      : []),
    // a stopped test's handler waits this long (not KubeVirt's 5 min) for migration listeners to close
    '--graceful-shutdown-seconds',
    '10',
    '-v',
    '3',
    ...(o.extraArgs ?? []),
  ];
  const [command, commandArgs] = o.entry === undefined ? [process.execPath, [HANDLER_MAIN, ...args]] : [o.entry, args];
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // a terminal's Ctrl-C is for the demo or test, which stops the handler in order
    // VIRT_IN_CONTAINER: PID 1 of this machine is not the node's (its root is not ours to read); the
    // handler's parent, this test, is in the node's mount namespace
    env: { ...process.env, POD_NAMESPACE: 'kubevirt', VIRT_IN_CONTAINER: 'true', ...o.env },
  });
  let logs = '';
  const keep = (d: Buffer) => {
    logs += d.toString();
    if (logs.length > 4_000_000) logs = logs.slice(-2_000_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (!logs.includes('virt-handler is ready')) {
    if (child.exitCode !== null) throw new Error(`virt-handler exited (${child.exitCode}) before it was ready:\n${logs}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`virt-handler not ready within ${opts.readyTimeoutMs ?? 60_000} ms:\n${logs.slice(-5000)}`);
    }
    await sleep(50);
  }
  return {
    process: child,
    logs: () => logs,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface ClientTLS {
  ca: string;
  cert?: string | undefined;
  key?: string | undefined;
}

/** One call to the handler's HTTPS API as virt-api makes it (client certificate, no hostname check). */
export function handlerRequest(
  port: number,
  tls: ClientTLS,
  method: string,
  urlPath: string,
  host = '127.0.0.1',
): Promise<{ status: number; body: string; type?: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host, port, method, path: urlPath, ...tls, checkServerIdentity: () => undefined, timeout: 15_000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}
