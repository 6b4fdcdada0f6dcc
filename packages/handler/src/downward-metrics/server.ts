// The DownwardMetrics virtio-serial server (downwardmetrics/virtio-serial) and its manager
// (virt-handler's DownwardMetricsManager): for each running VMI with the downwardMetrics device, the
// handler dials the channel socket QEMU listens on in the launcher pod and answers the guest's
// `GET /metrics/XML` (a line, then a blank one) with the metrics document, once a second at most.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DownwardMetricsChannelSocket, errorMessage, forObject, type Logger, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { EMPTY_METRICS, metricsXML, type Metric } from './metrics.ts';

const INVALID_REQUEST = 'INVALID REQUEST\n\n';
/** maxConnectAttempts; the waits double from a second */
const MAX_CONNECT_ATTEMPTS = 6;
/** maxRequestsPerSecond, burst 1 */
const MIN_REQUEST_INTERVAL_MS = 1000;
/** What the guest may send before its request ends; more is refused and dropped (the guest is not trusted). */
const MAX_REQUEST_BYTES = 4096;

/** parseRequest: `GET <uri>` whose path is /metrics/XML. */
export function checkRequest(line: string): void {
  const space = line.indexOf(' ');
  if (space < 0) throw new Error(`malformed request: ${JSON.stringify(line)}`);
  const method = line.slice(0, space);
  if (method !== 'GET') throw new Error(`invalid method: ${JSON.stringify(method)}`);
  const uri = line.slice(space + 1);
  let pathname: string;
  try {
    if (!uri.startsWith('/') && !/^[a-z][a-z0-9+.-]*:/i.test(uri)) throw new Error('not an absolute URI or path');
    pathname = new URL(uri, 'http://guest').pathname;
  } catch (err) {
    throw new Error(`parse ${JSON.stringify(uri)}: invalid URI for request`, { cause: err });
  }
  if (pathname !== '/metrics/XML') throw new Error(`invalid request: ${JSON.stringify(pathname)}`);
}

/** One guest's server: serves until QEMU closes the channel or `signal` aborts. */
export async function serveDownwardMetrics(
  socketPath: string,
  report: () => Promise<Metric[]>,
  logger: Logger,
  signal: AbortSignal,
  backoffMs = 1000,
): Promise<void> {
  const conn = await connect(socketPath, signal, backoffMs);
  const onAbort = () => conn.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  let buffered = '';
  let lastRequest = 0;
  let busy = Promise.resolve();
  conn.setEncoding('utf8');
  conn.on('data', (chunk: string) => {
    buffered += chunk;
    // a request is a line followed by a blank one (textproto.ReadLine twice)
    if (buffered.length > MAX_REQUEST_BYTES && buffered.search(/\r?\n\r?\n/) < 0) {
      buffered = '';
      logger.warn({ reason: `more than ${MAX_REQUEST_BYTES} bytes without a request's end` }, 'virtio-serial socket read failed');
      conn.write(INVALID_REQUEST);
      return;
    }
    for (let end = buffered.search(/\r?\n\r?\n/); end >= 0; end = buffered.search(/\r?\n\r?\n/)) {
      const request = buffered.slice(0, end).replace(/\r$/, '');
      buffered = buffered.slice(end).replace(/^\r?\n\r?\n/, '');
      busy = busy.then(async () => {
        const wait = lastRequest + MIN_REQUEST_INTERVAL_MS - Date.now();
        if (wait > 0) await sleep(wait);
        lastRequest = Date.now();
        conn.write(await answer(request, report, logger));
      });
    }
  });
  await new Promise<void>((resolve) => {
    conn.on('close', () => resolve());
    conn.on('error', (err) => logger.warn({ reason: err.message }, 'virtio-serial socket read failed'));
  });
  signal.removeEventListener('abort', onAbort);
}

async function answer(request: string, report: () => Promise<Metric[]>, logger: Logger): Promise<string> {
  try {
    // a line break inside means the blank line was missing
    if (request.includes('\n')) throw new Error('malformed request missing blank line');
    checkRequest(request);
  } catch (err) {
    logger.error({ reason: errorMessage(err) }, 'failed to process the request');
    return INVALID_REQUEST;
  }
  try {
    return `${metricsXML(await report())}\n\n`;
  } catch (err) {
    logger.error({ reason: errorMessage(err) }, 'failed to collect the metrics');
    return `${EMPTY_METRICS}\n\n`;
  }
}

/** connect: the socket appears when QEMU starts; refused or missing, tried again after 1, 2, 4 … s. */
async function connect(socketPath: string, signal: AbortSignal, backoffMs: number): Promise<net.Socket> {
  let wait = backoffMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(socketPath, () => resolve(s));
        s.once('error', reject);
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ECONNREFUSED' && code !== 'ENOENT') || attempt >= MAX_CONNECT_ATTEMPTS) throw err;
    }
    await sleep(wait, undefined, { signal });
    wait *= 2;
  }
}

export interface DownwardMetricsManagerOptions {
  logger: Logger;
  /** The channel socket as the handler reaches it in the VMI's launcher pod. */
  pathInLauncher(vmiUID: string, podPath: string): string;
  /** The guest's metrics now (Report). */
  report(vmi: VirtualMachineInstance): Promise<Metric[]>;
}

/** DownwardMetricsManager: a server per running VMI that has the device, stopped with the VMI. */
export class DownwardMetricsManager {
  readonly #o: DownwardMetricsManagerOptions;
  readonly #servers = new Map<string, AbortController>();

  constructor(o: DownwardMetricsManagerOptions) {
    this.#o = o;
  }

  /** StartServer: once per VMI, while it runs. */
  startServer(vmi: VirtualMachineInstance): void {
    const uid = vmi.metadata.uid;
    if (!vmi.spec.domain.devices?.downwardMetrics || vmi.status?.phase !== 'Running' || this.#servers.has(uid)) return;
    const controller = new AbortController();
    this.#servers.set(uid, controller);
    const log = forObject(this.#o.logger, { kind: 'VirtualMachineInstance', ...vmi });
    const socket = this.#o.pathInLauncher(uid, DownwardMetricsChannelSocket);
    serveDownwardMetrics(socket, () => this.#o.report(vmi), log, controller.signal)
      .catch((err) => {
        if (!controller.signal.aborted) log.error({ reason: errorMessage(err) }, 'failed to connect to virtio-serial socket');
      })
      .finally(() => {
        if (this.#servers.get(uid) === controller) this.#servers.delete(uid);
      });
  }

  /** StopServer */
  stopServer(vmiUID: string): void {
    this.#servers.get(vmiUID)?.abort();
    this.#servers.delete(vmiUID);
  }

  stop(): void {
    for (const uid of [...this.#servers.keys()]) this.stopServer(uid);
  }
}
