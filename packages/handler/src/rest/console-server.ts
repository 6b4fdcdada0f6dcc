// virt-handler's console server (cmd/virt-handler runServer, --console-server-port 8186): the HTTPS API
// virt-api calls for consoles, VNC, lifecycle commands and guest-agent data, over mutual TLS.
import websocket from '@fastify/websocket';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { consoleRoutes, PLAIN_STREAM_PROTOCOL } from './console.ts';
import { RestError, writeError, type ConsoleServerDeps } from './common.ts';
import { launcherFeatureRoutes, lifecycleRoutes } from './lifecycle.ts';
import { enforceClientCertificate, secureContextOptions, VIRT_HANDLER_CLIENT_CN, type ServerTLS } from './tls.ts';

export type { ConsoleServerDeps } from './common.ts';
export type { ServerTLS } from './tls.ts';

/** Go's http.Server IdleTimeout for this server. */
const IDLE_TIMEOUT_MS = 60_000;
/** The largest request body taken (a freeze request is a few dozen bytes). */
const BODY_LIMIT = 64 * 1024;
/** Lets overlong names reach validation (a 400) instead of the router's 404. */
const MAX_PARAM_LENGTH = 4096;
/** The largest websocket message read from virt-api, which sends at most its copy buffer at a time. */
const MAX_WS_PAYLOAD = 1 << 20;

export interface ConsoleServer {
  port: number;
  /** New server certificate or CA bundle (the kubevirt-ca configmap rotates); applies to new connections. */
  updateTLS(tls: ServerTLS): void;
  close(): Promise<void>;
}

/** The one error handler: every failure becomes go-restful's status + plain-text body. */
function installErrorHandling(app: FastifyInstance, deps: ConsoleServerDeps): void {
  app.setErrorHandler((err: FastifyError | RestError | Error, _request, reply) => {
    if (err instanceof RestError) return writeError(reply, err.statusCode, err.message);
    const statusCode = 'statusCode' in err && typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (statusCode === 413) return writeError(reply, 413, 'http: request body too large');
    if (statusCode >= 500) deps.logger.error({ reason: err.message }, 'console server request failed');
    return writeError(reply, statusCode, err.message);
  });
  app.setNotFoundHandler((_request, reply) => writeError(reply, 404, '404: Page Not Found'));
}

export async function startConsoleServer(
  deps: ConsoleServerDeps,
  opts: { host: string; port: number; tls: ServerTLS },
): Promise<ConsoleServer> {
  let externallyManaged = opts.tls.externallyManaged ?? false;
  const app = Fastify({
    https: { ...secureContextOptions(opts.tls), requestCert: true, rejectUnauthorized: true },
    logger: false,
    keepAliveTimeout: IDLE_TIMEOUT_MS,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  });
  enforceClientCertificate(app.server, deps.logger, () => ({ externallyManaged, commonName: VIRT_HANDLER_CLIENT_CN }));

  installErrorHandling(app, deps);
  // Bodies are read as bytes whatever their type; each route decodes its own (freeze takes JSON).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const metrics = deps.metrics;
  if (metrics) {
    app.addHook('onResponse', async (request, reply) => {
      metrics.restRequestDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  }

  await app.register(websocket, {
    options: {
      maxPayload: MAX_WS_PAYLOAD,
      handleProtocols: (protocols) => (protocols.has(PLAIN_STREAM_PROTOCOL) ? PLAIN_STREAM_PROTOCOL : false),
    },
    errorHandler: (err, ws) => {
      deps.logger.warn({ reason: err.message }, 'websocket stream failed');
      ws.terminate();
    },
  });
  let sessions: ReturnType<typeof consoleRoutes> | undefined;
  await app.register(async (scope) => {
    sessions = consoleRoutes(scope, deps);
    lifecycleRoutes(scope, deps);
    launcherFeatureRoutes(scope, deps);
  });

  await app.listen({ host: opts.host, port: opts.port });
  const { port } = app.server.address() as AddressInfo;
  deps.logger.info(`console server listening on ${opts.host}:${port}`);

  return {
    port,
    updateTLS(tls) {
      externallyManaged = tls.externallyManaged ?? false;
      app.server.setSecureContext(secureContextOptions(tls));
    },
    async close() {
      sessions?.closeAll();
      await app.close();
    },
  };
}
