// virt-handler's health and metrics server (--port 8185): GET /healthz and GET /metrics over TLS; a
// client certificate is verified when one is given (VerifyClientCertIfGiven) but none is required.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '@kubevirt-ts/shared';
import { secureContextOptions } from './tls.ts';
import { ProfilerError, type ProfileManager } from '../profiler.ts';

export interface HealthServerOptions {
  host: string;
  port: number;
  tls: { cert: string; key: string; ca: string };
  registry: Registry;
  /** the handler is healthy (its informers synced and its servers up) */
  ready(): boolean;
  /** refreshes on-demand series (domain stats) before /metrics renders */
  collect?(): Promise<void>;
  /** /start-profiler, /stop-profiler, /dump-profiler */
  profiler?: ProfileManager;
  logger: Logger;
}

export interface HealthServer {
  port: number;
  updateTLS(tls: { cert: string; key: string; ca: string }): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, statusCode: number, contentType: string, body: string): void {
  res.writeHead(statusCode, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const { registry, logger } = opts;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'https://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n');
    if (path === '/healthz') {
      return opts.ready() ? send(res, 200, 'text/plain; charset=utf-8', 'ok') : send(res, 500, 'text/plain; charset=utf-8', 'not ready');
    }
    if (path === '/metrics') {
      try {
        await opts.collect?.();
      } catch (err) {
        logger.warn({ reason: err }, 'collecting metrics failed');
      }
      return send(res, 200, registry.contentType, await registry.metrics());
    }
    const profiler = opts.profiler;
    if (profiler && (path === '/start-profiler' || path === '/stop-profiler' || path === '/dump-profiler')) {
      try {
        if (path === '/start-profiler') await profiler.start();
        else if (path === '/stop-profiler') await profiler.stop();
        else return send(res, 200, 'application/json', JSON.stringify(profiler.dump()));
        return send(res, 200, 'text/plain; charset=utf-8', '');
      } catch (err) {
        if (err instanceof ProfilerError) return send(res, err.statusCode, 'text/plain; charset=utf-8', err.message);
        throw err;
      }
    }
    return send(res, 404, 'text/plain; charset=utf-8', '404 page not found\n');
  };

  const server = https.createServer({ ...secureContextOptions(opts.tls), requestCert: true, rejectUnauthorized: false }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ reason: err }, 'health server request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error');
      else res.destroy();
    });
  });
  // VerifyClientCertIfGiven: a certificate that is presented must verify; none at all is fine.
  server.prependListener('secureConnection', (socket) => {
    const peer = socket.getPeerCertificate();
    const presented = peer !== null && Object.keys(peer).length > 0;
    if (presented && !socket.authorized) {
      logger.warn({ reason: String(socket.authorizationError) }, 'health server: client certificate refused');
      socket.destroy();
    }
  });
  server.keepAliveTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger.info(`health server listening on ${opts.host}:${port}`);

  return {
    port,
    updateTLS(tls) {
      server.setSecureContext(secureContextOptions(tls));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
