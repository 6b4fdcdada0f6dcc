// virt-handler's launcher side without the rest of the handler: LauncherClients and a DomainWatcher
// serving the notify socket in `dir`, wired as packages/handler/src/main.ts wires them.
import path from 'node:path';
import { VirtShareDir, type Logger } from '@kubevirt-ts/shared';
import { DomainWatcher, LauncherClients, type K8sEvent } from '@kubevirt-ts/handler';

export interface WatcherOptions {
  /** The handler's share dir (`share/domain-notify.sock`) and private dir (`private/`) go here. */
  dir: string;
  podsBaseDir: string;
  logger: Logger;
  host: string;
  /** virt-handler's informer lookup for HandleK8sEvent; throw for an unknown VMI. */
  recordK8sEvent?: (event: K8sEvent) => void;
  /** `--watchdog-timeout` (default 30 s: a watchdog round every 10 s). */
  watchdogTimeoutMs?: number;
}

export interface RunningWatcher {
  watcher: DomainWatcher;
  launchers: LauncherClients;
  notifySocket: string;
  stop(): Promise<void>;
}

export async function startDomainWatcher(o: WatcherOptions): Promise<RunningWatcher> {
  const notifySocket = path.join(o.dir, 'share', 'domain-notify.sock');
  const launchers = new LauncherClients({
    logger: o.logger,
    podsBaseDir: o.podsBaseDir,
    privateDir: path.join(o.dir, 'private'),
    launcherShareDir: VirtShareDir,
    notifyConnection: (socket) => watcher.serveNotifyConnection(socket),
    host: o.host,
  });
  const watcher = new DomainWatcher({
    logger: o.logger,
    notifySocket,
    launchers,
    watchdogTimeoutMs: o.watchdogTimeoutMs ?? 30_000,
    resyncPeriodMs: 300_000,
    recordK8sEvent: o.recordK8sEvent ?? (() => undefined),
  });
  await watcher.start();
  return {
    watcher,
    launchers,
    notifySocket,
    async stop() {
      await watcher.stop();
      launchers.closeAll();
    },
  };
}
