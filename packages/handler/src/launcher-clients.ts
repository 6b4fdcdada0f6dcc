// KubeVirt's launcher clients (pkg/virt-handler/launcher-clients + isolation + cmd-client's socket
// helpers): where a VMI's launcher socket is, which process holds its mount namespace, a cached cmd
// client per VMI, the notify pipe planted in the launcher's share dir, and the ghost record that lets a
// restarted handler find the launcher again.
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as z from 'zod/mini';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import {
  StandardInitLauncherSocketFileName,
  assertSocketPathLength,
  domainNotifyPipeSocketPath,
  ghostRecordDir,
  ghostRecordPath,
  launcherSocketPath,
  launcherUnresponsivePath,
  pathInProcRoot,
  socketDirectoryOnHost,
  socketFilePathOnHost,
  withReason,
  type Logger,
  type VirtualMachineInstance,
} from '@kubevirt-ts/shared';

/** The checkpoint of a first contact: survives handler restarts (`<private>/ghost-records/<uid>`). */
export const ghostRecordSchema = z.object({
  name: z.string().check(z.minLength(1)),
  namespace: z.string().check(z.minLength(1)),
  socketFile: z.string().check(z.minLength(1)),
  uid: z.string().check(z.minLength(1)),
});
export type GhostRecord = z.infer<typeof ghostRecordSchema>;

export interface LauncherClientsOptions {
  logger: Logger;
  /** Where the kubelet pods dir is mounted in the handler (`--pods-base-dir`). */
  podsBaseDir: string;
  /** The handler's private dir (ghost records). */
  privateDir: string;
  /** The launcher's share dir as the launcher sees it (the pipe goes there). */
  launcherShareDir: string;
  /** Serves a connection accepted on a launcher's notify pipe as one to the handler's notify socket. */
  notifyConnection: (socket: net.Socket) => void;
  host: string;
}

interface LauncherEntry {
  record: GhostRecord;
  client?: CmdClient;
  pipe?: net.Server;
  /** A process in the launcher's mount namespace (for /proc/<pid>/root paths). */
  pid?: number;
  /** The VMI runs as KubeVirt's non-root user (status.runtimeUser ≠ 0): its notify pipe is handed to 107. */
  nonRoot?: boolean;
}

/** KubeVirt's util.NonRootUID / NonRootGID: the non-root launcher's qemu user. */
const NON_ROOT_ID = 107;

/** KubeVirt's socketDialTimeout (5 s). */
const SOCKET_DIAL_TIMEOUT_MS = 5_000;

export class LauncherClients {
  readonly #o: LauncherClientsOptions;
  /** By VMI UID. */
  readonly #entries = new Map<string, LauncherEntry>();

  constructor(opts: LauncherClientsOptions) {
    this.#o = opts;
    mkdirSync(ghostRecordDir(opts.privateDir), { recursive: true, mode: 0o700 });
    this.#loadGhostRecords();
  }

  /** InitializeGhostRecordCache: a restarted handler's memory of its launchers; bad files are logged and skipped. */
  #loadGhostRecords(): void {
    const dir = ghostRecordDir(this.#o.privateDir);
    for (const file of readdirSync(dir)) {
      try {
        const record = ghostRecordSchema.parse(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
        if (!this.#entries.has(record.uid)) this.#entries.set(record.uid, { record });
      } catch (err) {
        withReason(this.#o.logger, err).error(`ignoring unreadable ghost record ${file}`);
      }
    }
  }

  /** Every known launcher: ghost records loaded at start and those remembered since (kept on disk too). */
  ghostRecords(): GhostRecord[] {
    return [...this.#entries.values()].map((e) => e.record);
  }

  record(uid: string): GhostRecord | undefined {
    return this.#entries.get(uid)?.record;
  }

  /**
   * FindSocket: the launcher socket of the VMI's active pod on this node, or undefined while the launcher
   * is still starting (only launcher-init-sock, or nothing yet).
   */
  findSocket(vmi: VirtualMachineInstance): { socket?: string; initializing: boolean } {
    const known = this.#entries.get(vmi.metadata.uid)?.record.socketFile;
    if (known && existsSync(known)) return { socket: known, initializing: false };
    let initializing = false;
    for (const [podUID, node] of Object.entries(vmi.status?.activePods ?? {})) {
      if (node !== this.#o.host || !/^[0-9a-zA-Z-]+$/.test(podUID)) continue;
      const socket = socketFilePathOnHost(podUID, this.#o.podsBaseDir);
      if (existsSync(socket)) return { socket, initializing: false };
      if (existsSync(path.join(socketDirectoryOnHost(podUID, this.#o.podsBaseDir), StandardInitLauncherSocketFileName))) {
        initializing = true;
      }
    }
    return { initializing };
  }

  /** The VMI's launcher: known already, or found on this node now (and remembered); undefined while not there. */
  discover(vmi: VirtualMachineInstance): GhostRecord | undefined {
    const known = this.record(vmi.metadata.uid);
    if (known) return known;
    const socket = this.findSocket(vmi).socket;
    return socket ? this.remember(vmi, socket) : undefined;
  }

  /** First contact: checkpoint the ghost record (0600) before anything else talks to the launcher. */
  remember(vmi: VirtualMachineInstance, socketFile: string): GhostRecord {
    const record: GhostRecord = {
      name: vmi.metadata.name,
      namespace: vmi.metadata.namespace,
      socketFile,
      uid: vmi.metadata.uid,
    };
    const entry = this.#entries.get(record.uid);
    const nonRoot = (vmi.status?.runtimeUser ?? 0) !== 0;
    if (entry?.record.socketFile === socketFile) {
      entry.nonRoot = nonRoot;
      return entry.record;
    }
    writeFileSync(ghostRecordPath(record.uid, this.#o.privateDir), JSON.stringify(record), { mode: 0o600 });
    this.#entries.set(record.uid, { ...entry, record, nonRoot });
    return record;
  }

  /** The VMI's cmd client, dialled (and its notify pipe started) on first use. */
  async client(uid: string): Promise<CmdClient> {
    const entry = this.#entries.get(uid);
    if (!entry) throw new Error(`no launcher known for VMI ${uid}`);
    if (!entry.pipe) await this.#startNotifyPipe(entry);
    entry.client ??= await cmdClient(entry.record.socketFile);
    return entry.client;
  }

  /** Drops a client that failed, so the next call dials again. */
  resetClient(uid: string): void {
    const entry = this.#entries.get(uid);
    entry?.client?.close();
    if (entry) entry.client = undefined;
  }

  /** A path inside the launcher's mount namespace, reachable from here. */
  pathInLauncher(uid: string, p: string): string {
    const entry = this.#entries.get(uid);
    if (!entry) throw new Error(`no launcher known for VMI ${uid}`);
    return pathInProcRoot(this.#launcherPid(entry), p);
  }

  /** The PID of a process in the VMI's launcher pod (its namespaces: mount, network). */
  launcherPid(uid: string): number {
    const entry = this.#entries.get(uid);
    if (!entry) throw new Error(`no launcher known for VMI ${uid}`);
    return this.#launcherPid(entry);
  }

  /** IsSocketUnresponsive: the watchdog marked it, or the socket is gone. */
  isUnresponsive(socketFile: string): boolean {
    return existsSync(launcherUnresponsivePath(socketFile)) || !existsSync(socketFile);
  }

  /** The watchdog's liveness check (handleStaleSocketConnections): something accepts on the socket. */
  isAlive(socketFile: string): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect(socketFile);
      const done = (alive: boolean) => {
        socket.destroy();
        resolve(alive);
      };
      socket.setTimeout(SOCKET_DIAL_TIMEOUT_MS, () => done(false));
      socket.once('connect', () => done(true)).once('error', () => done(false));
    });
  }

  /** MarkSocketUnresponsive: touch `launcher-unresponsive` beside the socket. */
  markUnresponsive(socketFile: string): void {
    if (existsSync(path.dirname(socketFile))) writeFileSync(launcherUnresponsivePath(socketFile), '');
  }

  /** Forget a launcher: close its client and pipe, delete its ghost record. */
  close(uid: string): void {
    const entry = this.#entries.get(uid);
    entry?.client?.close();
    entry?.pipe?.close();
    this.#entries.delete(uid);
    rmSync(ghostRecordPath(uid, this.#o.privateDir), { force: true });
  }

  /** Closes every client and pipe; ghost records stay for the next handler. */
  closeAll(): void {
    for (const entry of this.#entries.values()) {
      entry.client?.close();
      entry.pipe?.close();
    }
    this.#entries.clear();
  }

  /**
   * KubeVirt's isolation detector reads the launcher's PID from the socket's peer credentials; Node
   * cannot, so find a process whose root sees the very same socket inode at the launcher's path.
   */
  #launcherPid(entry: LauncherEntry): number {
    if (entry.pid !== undefined && sameFile(pathInProcRoot(entry.pid, this.#socketInLauncher()), entry.record.socketFile)) {
      return entry.pid;
    }
    const want = lstatSync(entry.record.socketFile);
    const key = `${want.dev}:${want.ino}`;
    // one /proc walk serves every launcher that existed when it began; walk again for a newer socket, or
    // when the process found for this inode no longer sees it there (a gone launcher's inode, reused)
    let pid = this.#pidBySocket.get(key);
    const stale = pid !== undefined && !sameFile(pathInProcRoot(pid, this.#socketInLauncher()), want);
    if (stale || (pid === undefined && this.#indexedAt <= want.ctimeMs)) {
      this.#indexLaunchers();
      pid = this.#pidBySocket.get(key);
    }
    if (pid === undefined) throw new Error(`no process found in the launcher's mount namespace for ${entry.record.socketFile}`);
    entry.pid = pid;
    return pid;
  }

  /** socket (dev:ino) → a process of the mount namespace that has it as its launcher socket. */
  readonly #pidBySocket = new Map<string, number>();
  #indexedAt = 0;

  #indexLaunchers(): void {
    this.#indexedAt = Date.now();
    this.#pidBySocket.clear();
    const namespaces = new Set<string>([readlinkOrEmpty('/proc/self/ns/mnt')]);
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const ns = readlinkOrEmpty(`/proc/${name}/ns/mnt`);
      if (!ns || namespaces.has(ns)) continue;
      namespaces.add(ns);
      try {
        const st = lstatSync(pathInProcRoot(Number(name), this.#socketInLauncher()));
        this.#pidBySocket.set(`${st.dev}:${st.ino}`, Number(name));
      } catch {
        // no launcher socket in that namespace
      }
    }
  }

  #socketInLauncher(): string {
    return launcherSocketPath(this.#o.launcherShareDir);
  }

  /**
   * The launcher dials domain-notify-pipe.sock in its own share dir: listen there (through /proc/<pid>/root)
   * and serve each connection as the handler's notify server (KubeVirt splices it to the notify socket).
   */
  async #startNotifyPipe(entry: LauncherEntry): Promise<void> {
    const pipePath = pathInProcRoot(this.#launcherPid(entry), domainNotifyPipeSocketPath(this.#o.launcherShareDir));
    assertSocketPathLength(pipePath);
    rmSync(pipePath, { force: true });
    const logger = this.#o.logger.child({
      kind: 'VirtualMachineInstance',
      name: entry.record.name,
      namespace: entry.record.namespace,
      uid: entry.record.uid,
    });
    const server = net.createServer((launcher) => {
      launcher.on('error', (err) => logger.warn({ reason: err }, 'notify pipe: connection failed'));
      this.#o.notifyConnection(launcher);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(pipePath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => logger.error({ reason: err }, 'notify pipe failed'));
    // as KubeVirt's InjectNotify: a non-root launcher (uid 107) must be able to dial the pipe
    if (entry.nonRoot) chownSync(pipePath, NON_ROOT_ID, NON_ROOT_ID);
    entry.pipe = server;
    logger.info(`notify pipe listening at ${pipePath}`);
  }
}

function sameFile(p: string, want: string | Stats): boolean {
  try {
    const a = lstatSync(p);
    const b = typeof want === 'string' ? lstatSync(want) : want;
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

function readlinkOrEmpty(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}
