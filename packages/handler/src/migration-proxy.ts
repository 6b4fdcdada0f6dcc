// The migration proxy (pkg/virt-handler/migration-proxy): a migration's streams cross nodes between
// the two handlers, not between the launcher pods.
//   source pod (unix socket) ⇄ source handler (TLS client) ⇄ target handler (TLS server) ⇄ target pod (unix socket)
// The target handler listens on a random port per stream and tells the source (through the VMI's
// migration state) which port leads to which of the target pod's sockets; the source handler then
// creates, in the source pod, the sockets libvirt and QEMU use (`migrationproxy/<uid>[-<port>]-source.sock`).
import { chownSync, mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { connect as tlsConnect, createServer as createTLSServer, type TLSSocket } from 'node:tls';
import { migrationPorts, migrationProxyKey, migrationSourceUnixFile, QEMU_UID, type Logger } from '@kubevirt-ts/shared';
import { clientCertificateProblem, peerCertificateProblem, secureContextOptions, type ServerTLS } from './rest/tls.ts';

/** The CommonName of a handler's server certificate, which the source checks (SetupTLSForVirtHandlerClients). */
export const HANDLER_NODE_CN = 'kubevirt.io:system:node:virt-handler';

export interface MigrationTLS {
  /** The target's listener: the node certificate; clients of the CA whose CN is one of `--migration-cn-types`. */
  server: ServerTLS & { cnTypes: readonly string[] };
  /** The source's dial: the migration client certificate; the server's is checked against the CA. */
  client: { cert: string; key: string; ca: string; externallyManaged?: boolean };
}

/** net.JoinHostPort: an IPv6 host in brackets. */
const joinHostPort = (host: string, port: number | string) => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/** Pipes one accepted connection to its outbound leg until either side ends. */
function pipe(inbound: Socket, outbound: Socket, log: Logger): void {
  const close = () => {
    inbound.destroy();
    outbound.destroy();
  };
  outbound.on('error', (err) => {
    log.error({ reason: err.message }, 'unable to create outbound leg of proxy to host');
    close();
  });
  inbound.on('error', close);
  inbound.on('close', close);
  outbound.on('close', close);
  inbound.pipe(outbound);
  outbound.pipe(inbound);
}

interface Proxy {
  server: Server;
  /** the target's TCP port, or the source's socket file */
  port: number;
  unixSocketPath: string;
  /** where it dials: a unix socket (target) or host:port (source) */
  targetAddress: string;
}

export class MigrationProxyManager {
  readonly #tls: () => MigrationTLS | undefined;
  readonly #log: Logger;
  readonly #source = new Map<string, Proxy[]>();
  readonly #target = new Map<string, Proxy[]>();
  #shuttingDown = false;

  /**
   * `tls` is read for each new listener (certificates and CA bundle rotate); undefined: the cluster's
   * migration configuration disables TLS.
   */
  constructor(opts: { tls: () => MigrationTLS | undefined; logger: Logger }) {
    this.#tls = opts.tls;
    this.#log = opts.logger;
  }

  /** StartTargetListener: a TCP listener on a random port of every address for each of the target pod's sockets. */
  async startTargetListener(key: string, targetUnixFiles: readonly string[]): Promise<void> {
    if (this.#shuttingDown) throw new Error('unable to process new migration connections during virt-handler shutdown');
    const current = this.#target.get(key);
    if (current) {
      const same = current.length === targetUnixFiles.length && current.every((p) => targetUnixFiles.includes(p.targetAddress));
      if (same) return;
      this.stopTargetListener(key);
    }
    const proxies: Proxy[] = [];
    try {
      for (const file of targetUnixFiles) proxies.push(await this.#listenTCP(key, file));
    } catch (err) {
      for (const p of proxies) p.server.close();
      throw err;
    }
    this.#target.set(key, proxies);
  }

  /** GetTargetListenerPorts: each listening port, and the migration port its socket stands for (0: libvirt's). */
  getTargetListenerPorts(key: string): Record<string, number> {
    const ports: Record<string, number> = {};
    for (const p of this.#target.get(key) ?? []) {
      ports[String(p.port)] = migrationPorts(true).find((port) => p.targetAddress.includes(migrationProxyKey(key, port))) ?? 0;
    }
    return ports;
  }

  stopTargetListener(key: string): void {
    for (const p of this.#target.get(key) ?? []) p.server.close();
    this.#target.delete(key);
  }

  /**
   * StartSourceListener: in the source pod's `baseDir`, a socket for each of the target's ports,
   * each dialling the target handler at `targetAddress`.
   */
  async startSourceListener(key: string, targetAddress: string, destSrcPortMap: Record<string, number>, baseDir: string): Promise<void> {
    if (this.#shuttingDown) throw new Error('unable to process new migration connections during virt-handler shutdown');
    const wanted = Object.keys(destSrcPortMap).map((dest) => joinHostPort(targetAddress, dest));
    const current = this.#source.get(key);
    if (current) {
      if (current.length === wanted.length && current.every((p) => wanted.includes(p.targetAddress))) return;
      this.stopSourceListener(key);
    }
    const proxies: Proxy[] = [];
    try {
      for (const [dest, srcPort] of Object.entries(destSrcPortMap)) {
        const file = migrationSourceUnixFile(baseDir, migrationProxyKey(key, srcPort));
        proxies.push(await this.#listenUnix(key, file, targetAddress, Number(dest)));
      }
    } catch (err) {
      for (const p of proxies) p.server.close();
      throw err;
    }
    this.#source.set(key, proxies);
  }

  getSourceListenerFiles(key: string): string[] {
    return (this.#source.get(key) ?? []).map((p) => p.unixSocketPath);
  }

  stopSourceListener(key: string): void {
    for (const p of this.#source.get(key) ?? []) {
      p.server.close();
      rmSync(p.unixSocketPath, { force: true });
    }
    this.#source.delete(key);
  }

  openListenerCount(): number {
    return this.#source.size + this.#target.size;
  }

  /** No new listeners once the handler is going down; the open ones finish their migrations. */
  initiateGracefulShutdown(): void {
    this.#shuttingDown = true;
  }

  async #listenTCP(key: string, unixFile: string): Promise<Proxy> {
    const log = this.#log.child({ uid: key, outbound: path.basename(unixFile) });
    const tls = this.#tls()?.server;
    const onConnection = (inbound: Socket) => pipe(inbound, createConnection(unixFile), log);
    let server: Server;
    if (tls) {
      const s = createTLSServer({ ...secureContextOptions(tls), requestCert: true, rejectUnauthorized: true });
      s.on('secureConnection', (socket: TLSSocket) => {
        const problem = clientCertificateProblem(socket, {
          externallyManaged: tls.externallyManaged ?? false,
          commonName: tls.cnTypes.map((t) => `kubevirt.io:system:client:${t}`),
        });
        if (problem !== undefined) {
          log.warn({ reason: problem, remoteAddress: socket.remoteAddress }, 'TLS client certificate refused');
          socket.destroy();
          return;
        }
        onConnection(socket);
      });
      s.on('tlsClientError', (err) => log.warn({ reason: err.message }, 'TLS handshake refused'));
      server = s;
    } else {
      server = createServer(onConnection);
    }
    // every address, as KubeVirt's zero address: the source dials the pod's (or migration network's) IP
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    log.info({ listening: `:${port}` }, 'Manager created proxy on target');
    return { server, port, unixSocketPath: '', targetAddress: unixFile };
  }

  async #listenUnix(key: string, file: string, host: string, port: number): Promise<Proxy> {
    const log = this.#log.child({ uid: key, listening: path.basename(file), outbound: `${host}:${port}` });
    const tls = this.#tls()?.client;
    const dial = (): Socket => {
      if (!tls) return createConnection({ host, port });
      const socket = tlsConnect({
        host,
        port,
        cert: tls.cert,
        key: tls.key,
        ca: tls.ca,
        minVersion: 'TLSv1.2',
        // no IP or DNS names on KubeVirt's certificates: the CA, the usage and the CommonName are checked
        checkServerIdentity: (_host, cert) => {
          const problem = peerCertificateProblem(cert, {
            usage: 'serverAuth',
            externallyManaged: tls.externallyManaged ?? false,
            commonName: [HANDLER_NODE_CN],
          });
          return problem === undefined ? undefined : new Error(problem);
        },
      });
      return socket;
    };
    rmSync(file, { force: true });
    mkdirSync(path.dirname(file), { recursive: true });
    const server = createServer((inbound) => pipe(inbound, dial(), log));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => resolve());
    });
    // UnsafeSetFileOwnership: a non-root launcher's QEMU (the qemu user) connects to it too
    try {
      chownSync(file, QEMU_UID, QEMU_UID);
    } catch (err) {
      server.close();
      log.error({ reason: String(err) }, 'failed to change ownership on migration unix socket');
      throw err;
    }
    log.info('Manager created proxy on source node');
    return { server, port, unixSocketPath: file, targetAddress: joinHostPort(host, port) };
  }
}
