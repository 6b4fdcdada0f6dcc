// A stand-in for virt-api's subresource API (pkg/virt-api/rest/subresource.go, streamer.go) on one node:
// it holds virt-handler's client certificate and forwards the console and VNC websockets, pause,
// unpause and guestosinfo to the handler's HTTPS API, as virt-api does for virtctl. It also serves the
// VM's page — serial console (xterm.js), VNC screen (noVNC), phase, guest OS info, Pause/Unpause —
// which is what the OpenShift console gives KubeVirt users. Plain HTTP on loopback: a demo, not a server.
import https from 'node:https';
import type { PeerCertificate } from 'node:tls';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import staticFiles from '@fastify/static';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import WebSocket, { type RawData } from 'ws';
import { z } from 'zod';
import { HANDLER_SERVER_CN } from '../bed/handler-pki.ts';

/** The subprotocol of KubeVirt's console and VNC streams (kubecli.NewUpgrader). */
const PLAIN_STREAM_PROTOCOL = 'plain.kubevirt.io';
const SUBRESOURCES = '/apis/subresources.kubevirt.io/v1/namespaces/:namespace/virtualmachineinstances/:name';
const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;

const PAGE_DIR = path.join(import.meta.dirname, 'page');
const XTERM_DIR = path.dirname(fileURLToPath(import.meta.resolve('@xterm/xterm/package.json')));
// @novnc/novnc exports only core/rfb.js, whose modules import their siblings and vendor/pako
const NOVNC_DIR = path.resolve(fileURLToPath(import.meta.resolve('@novnc/novnc')), '..', '..');

// Above this many bytes queued towards one side of a stream the other side stops being read.
const HIGH_WATER_MARK = 1 << 20;
const LOW_WATER_MARK = 1 << 18;
/** How long a stream dialled to the handler waits for the client's upgrade to finish. */
const JOIN_TIMEOUT_MS = 30_000;

const dns1123Label = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label');
const dns1123Subdomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a DNS-1123 subdomain');
const vmiParams = z.object({ namespace: dns1123Label, name: dns1123Subdomain });
type VMIParams = z.infer<typeof vmiParams>;

const vmiSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.string() }),
  status: z
    .looseObject({
      phase: z.string().optional(),
      nodeName: z.string().optional(),
      conditions: z
        .array(z.looseObject({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional() }))
        .optional(),
      guestOSInfo: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});
type VMIObject = z.infer<typeof vmiSchema>;

/** A failure answered as a Kubernetes Status, as virt-api writes its errors. */
class StatusError extends Error {
  readonly statusCode: number;

  constructor(statusCode: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.statusCode = statusCode;
  }
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  404: 'NotFound',
  409: 'Conflict',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

function writeStatus(reply: FastifyReply, code: number, message: string): FastifyReply {
  return reply
    .code(code)
    .type('application/json')
    .send({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? 'Unknown', code });
}

export interface VirtApiOptions {
  /** virt-handler's HTTPS API, e.g. https://127.0.0.1:8186 */
  handlerURL: string;
  /** the KubeVirt CA and virt-api's client certificate for the handler, as PEM */
  tls: { ca: string; cert: string; key: string };
  /** where the VMIs are read from */
  kubeConfig: KubeConfig;
  /** on 127.0.0.1; 0 (the default) takes a free one */
  port?: number;
}

export interface VirtApi {
  /** http://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

/**
 * virt-api verifies the handler's chain against the KubeVirt CA and its common name, not a host name:
 * handlers are dialled by pod IP (pkg/util/tls SetupTLSForVirtHandlerClients).
 */
function handlerIdentity(_host: string, cert: PeerCertificate): Error | undefined {
  const cn = cert.subject?.CN;
  return cn === HANDLER_SERVER_CN ? undefined : new Error(`common name is invalid, expected ${HANDLER_SERVER_CN}, but got ${String(cn)}`);
}

export async function startVirtApi(o: VirtApiOptions): Promise<VirtApi> {
  const vmis = o.kubeConfig.makeApiClient(CustomObjectsApi);
  const handlerTLS = { ...o.tls, checkServerIdentity: handlerIdentity };
  const agent = new https.Agent({ ...handlerTLS, keepAlive: true });
  const handlerPath = ({ namespace, name }: VMIParams, sub: string) => `/v1/namespaces/${namespace}/virtualmachineinstances/${name}/${sub}`;
  // the streams dialled before an upgrade, for the websocket handler of the same request
  const dialled = new WeakMap<FastifyRequest['raw'], HandlerStream>();

  async function getVMI({ namespace, name }: VMIParams): Promise<VMIObject> {
    try {
      return vmiSchema.parse(await vmis.getNamespacedCustomObject({ ...VMI, namespace, name }));
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) {
        throw new StatusError(404, `virtualmachineinstance.kubevirt.io "${name}" not found`, { cause: err });
      }
      throw err;
    }
  }

  /** The VMI, which must be running (virt-api answers 409 Conflict otherwise). */
  async function runningVMI(params: VMIParams): Promise<VMIObject> {
    const vmi = await getVMI(params);
    if (vmi.status?.phase !== 'Running')
      throw new StatusError(
        409,
        `Operation cannot be fulfilled on virtualmachineinstance.kubevirt.io "${params.name}": VMI is not running`,
      );
    return vmi;
  }

  const app = Fastify({ logger: false });
  // route schemas are zod schemas; a failed parse is a 400 from the one error handler
  app.setValidatorCompiler<z.ZodType>(({ schema }) => (data) => {
    const r = schema.safeParse(data);
    return r.success ? { value: r.data } : { error: r.error };
  });
  app.setErrorHandler((err: FastifyError | Error, _request, reply) => {
    if (err instanceof StatusError) return writeStatus(reply, err.statusCode, err.message);
    if (err instanceof z.ZodError) return writeStatus(reply, 400, err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const statusCode = 'statusCode' in err && typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    return writeStatus(reply, statusCode, err.message);
  });
  app.setNotFoundHandler((request, reply) =>
    writeStatus(reply, 404, `the server could not find the requested resource (${request.method} ${request.url})`),
  );

  await app.register(websocket);
  await app.register(staticFiles, { root: PAGE_DIR, prefix: '/page/' });
  await app.register(staticFiles, { root: XTERM_DIR, prefix: '/static/xterm/', decorateReply: false });
  await app.register(staticFiles, { root: NOVNC_DIR, prefix: '/static/novnc/', decorateReply: false });

  // --- the subresources virt-api serves ------------------------------------------------------------

  for (const kind of ['console', 'vnc'] as const) {
    app.route({
      method: 'GET',
      url: `${SUBRESOURCES}/${kind}`,
      schema: { params: vmiParams },
      // as streamer.go does: the handler is dialled first, so its refusal is this request's answer
      preHandler: async (request) => {
        if (!request.ws) throw new StatusError(400, 'websocket: the client is not using the websocket protocol');
        const params = request.params as VMIParams;
        await runningVMI(params);
        const query = request.raw.url?.split('?')[1];
        const target = new URL(`${handlerPath(params, kind)}${query ? `?${query}` : ''}`, o.handlerURL.replace(/^https:/, 'wss:'));
        dialled.set(request.raw, await dialHandler(target, handlerTLS));
      },
      handler: async (_request, reply) => writeStatus(reply, 400, 'websocket: the client is not using the websocket protocol'),
      wsHandler: (client, request) => {
        const upstream = dialled.get(request.raw);
        if (upstream) upstream.join(client);
        else client.close(1011, 'no stream to virt-handler');
      },
    });
  }

  const forward = async (request: FastifyRequest, reply: FastifyReply, method: 'GET' | 'PUT', sub: string) => {
    const params = request.params as VMIParams;
    const vmi = await runningVMI(params);
    const paused = vmi.status?.conditions?.some((c) => c.type === 'Paused' && c.status === 'True') ?? false;
    if (sub === 'pause' && paused) throw new StatusError(409, 'VMI is already paused');
    if (sub === 'unpause' && !paused) throw new StatusError(409, 'VMI is not paused');
    const body = method === 'PUT' ? JSON.stringify(request.body ?? {}) : undefined;
    const r = await handlerRequest(agent, new URL(handlerPath(params, sub), o.handlerURL), method, body);
    if (r.status >= 400) throw new StatusError(r.status, r.body.trim() || `virt-handler answered ${r.status}`);
    // virt-api answers a lifecycle call the handler accepted with 200 and no body
    return method === 'PUT'
      ? reply.code(200).send()
      : reply
          .code(r.status)
          .type(r.contentType ?? 'application/json')
          .send(r.body);
  };
  app.put(`${SUBRESOURCES}/pause`, { schema: { params: vmiParams } }, (request, reply) => forward(request, reply, 'PUT', 'pause'));
  app.put(`${SUBRESOURCES}/unpause`, { schema: { params: vmiParams } }, (request, reply) => forward(request, reply, 'PUT', 'unpause'));
  app.get(`${SUBRESOURCES}/guestosinfo`, { schema: { params: vmiParams } }, (request, reply) =>
    forward(request, reply, 'GET', 'guestosinfo'),
  );

  // --- the page ------------------------------------------------------------------------------------

  app.get('/', async (_request, reply) => {
    const list = (await vmis.listClusterCustomObject({ ...VMI })) as { items: VMIObject[] };
    const items = list.items.map((v) => vmiSchema.parse(v).metadata);
    // names are DNS-1123 (lower-case letters, digits, '-', '.'): nothing to escape
    const links = items.map((m) => `<li><a href="/vmi/${m.namespace}/${m.name}">${m.namespace}/${m.name}</a></li>`).join('');
    return reply
      .type('text/html')
      .send(`<!doctype html><title>VirtualMachineInstances</title><h1>VirtualMachineInstances</h1><ul>${links || '<li>none</li>'}</ul>`);
  });
  app.get('/vmi/:namespace/:name', { schema: { params: vmiParams } }, async (_request, reply) => reply.sendFile('index.html'));
  app.get('/api/vmi/:namespace/:name', { schema: { params: vmiParams } }, async (request) => {
    const vmi = await getVMI(request.params as VMIParams);
    const status = vmi.status ?? {};
    return {
      namespace: vmi.metadata.namespace,
      name: vmi.metadata.name,
      phase: status.phase ?? '',
      nodeName: status.nodeName ?? '',
      conditions: status.conditions ?? [],
      guestOSInfo: status.guestOSInfo ?? {},
    };
  });

  await app.listen({ host: '127.0.0.1', port: o.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      agent.destroy();
    },
  };
}

function handlerRequest(
  agent: https.Agent,
  url: URL,
  method: string,
  body: string | undefined,
): Promise<{ status: number; contentType: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = https.request(url, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: text }));
    });
    req.on('error', (err) => reject(new StatusError(500, `virt-handler: ${err.message}`, { cause: err })));
    req.end(body);
  });
}

/** A websocket to the handler, open before the client's upgrade; keeps what arrives until joined. */
interface HandlerStream {
  join(client: WebSocket): void;
}

function dialHandler(url: URL, tls: https.RequestOptions): Promise<HandlerStream> {
  return new Promise((resolve, reject) => {
    // ws types checkServerIdentity as returning boolean; tls takes undefined as "identity fine"
    const upstream = new WebSocket(url, PLAIN_STREAM_PROTOCOL, tls as WebSocket.ClientOptions);
    upstream.on('error', (err) => reject(new StatusError(500, `dialing virt-handler: ${err.message}`, { cause: err })));
    upstream.once('unexpected-response', (req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        reject(new StatusError(res.statusCode ?? 500, text.trim() || `virt-handler answered ${res.statusCode}`));
        req.destroy();
      });
    });
    upstream.once('open', () => {
      // QEMU's VNC server speaks first (its RFB version), before the client's upgrade is done
      const early: Buffer[] = [];
      let closed: { code: number; reason: Buffer } | undefined;
      const keep = (data: RawData) => early.push(toBuffer(data));
      const remember = (code: number, reason: Buffer) => (closed = { code, reason });
      upstream.on('message', keep);
      upstream.once('close', remember);
      const abandon = setTimeout(() => upstream.terminate(), JOIN_TIMEOUT_MS).unref();
      resolve({
        join(client) {
          clearTimeout(abandon);
          upstream.off('message', keep);
          upstream.off('close', remember);
          for (const bytes of early) client.send(bytes, { binary: true });
          if (closed) {
            closeLike(client, closed.code, closed.reason);
            return;
          }
          relay(upstream, client);
          relay(client, upstream);
        },
      });
    });
  });
}

/** One direction of a stream: binary frames, as virt-api copies them; a slow reader pauses the writer. */
function relay(from: WebSocket, to: WebSocket): void {
  let queued = 0;
  from.on('message', (data: RawData) => {
    const bytes = toBuffer(data);
    if (to.readyState !== WebSocket.OPEN) return;
    queued += bytes.length;
    if (queued > HIGH_WATER_MARK) from.pause();
    to.send(bytes, { binary: true }, () => {
      queued -= bytes.length;
      if (from.isPaused && queued <= LOW_WATER_MARK) from.resume();
    });
  });
  from.on('close', (code, reason) => closeLike(to, code, reason));
  from.on('error', () => to.terminate());
}

/** Ends `ws` as the other side ended, where that close code may be sent on. */
function closeLike(ws: WebSocket, code: number, reason: Buffer): void {
  if (ws.readyState === WebSocket.CONNECTING) {
    ws.terminate();
    return;
  }
  if (ws.readyState !== WebSocket.OPEN) return;
  // 1005 (no code) and 1006 (abnormal) are only ever observed, never sent
  try {
    if (code === 1005) ws.close(1000);
    else if (code === 1006) ws.close(1011, 'the other side of the stream went away');
    else ws.close(code, reason);
  } catch {
    ws.terminate(); // a code ws will not send (e.g. 1015)
  }
}

function toBuffer(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}
