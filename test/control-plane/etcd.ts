// A one-member etcd on loopback with its own data directory.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { freePort, startDaemon, waitUntilReady, type Daemon } from './daemon.ts';

export interface Etcd {
  /** Client URL, for kube-apiserver's --etcd-servers. */
  readonly url: string;
  readonly daemon: Daemon;
  stop(): Promise<void>;
}

export async function startEtcd(bin: string, dir: string): Promise<Etcd> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peerURL = `http://127.0.0.1:${peerPort}`;
  const dataDir = path.join(dir, 'etcd');
  mkdirSync(dataDir, { mode: 0o700 });
  const daemon = startDaemon(
    'etcd',
    bin,
    [
      '--name=default',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerURL}`,
      `--initial-advertise-peer-urls=${peerURL}`,
      `--initial-cluster=default=${peerURL}`,
      '--log-level=warn',
      '--logger=zap',
    ],
    path.join(dir, 'etcd.log'),
  );
  await waitUntilReady(
    daemon,
    async () => {
      const res = await fetch(`${url}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    },
    30_000,
  );

  return { url, daemon, stop: () => daemon.stop() };
}
