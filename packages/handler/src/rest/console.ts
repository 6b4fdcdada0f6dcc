// pkg/virt-handler/rest/console.go: the serial console and VNC websockets. Each is upgraded first and
// then joined to the unix socket QEMU serves inside the launcher (virt-serial0, virt-vnc), raw bytes in
// binary frames both ways. One session per VMI and kind: a new one ends the one before it, unless a
// VNC client asks to preserve the session that is already open.
import { stat } from 'node:fs/promises';
import net from 'node:net';
import { basename } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import * as z from 'zod/mini';
import {
  errorMessage,
  serialConsoleSocketPath,
  UsbClientPassthroughMaxNumberOf,
  usbRedirSocketPath,
  vncSocketPath,
  type Logger,
  type VirtualMachineInstance,
} from '@kubevirt-ts/shared';
import { logFailure, RestError, vmiContext, writeError, type ConsoleServerDeps, type VMIContext } from './common.ts';
import { VMI_PATH } from './lifecycle.ts';

/** The subprotocol virt-api and virtctl speak (kubecli.NewUpgrader). */
export const PLAIN_STREAM_PROTOCOL = 'plain.kubevirt.io';

// Above this many bytes queued towards the websocket the unix socket stops being read.
const HIGH_WATER_MARK = 1 << 20;
const LOW_WATER_MARK = 1 << 18;

const CLOSE_NORMAL = 1000;
const CLOSE_GOING_AWAY = 1001;
const CLOSE_INTERNAL_ERROR = 1011;

/** The open sessions of one kind, by VMI UID (KubeVirt's serialStopChans / vncStopChans). */
class Sessions {
  readonly #open = new Map<string, WebSocket>();
  readonly #kind: string;

  constructor(kind: string) {
    this.#kind = kind;
  }

  active(uid: string): boolean {
    return this.#open.has(uid);
  }

  /** newStopChan: ends the VMI's current session, if any, and makes `ws` the current one. */
  start(uid: string, ws: WebSocket): void {
    const previous = this.#open.get(uid);
    this.#open.set(uid, ws);
    previous?.close(CLOSE_GOING_AWAY, `a new ${this.#kind} session was opened for this VMI`);
  }

  /** deleteStopChan: forgets `ws` unless a newer session has already replaced it. */
  end(uid: string, ws: WebSocket): void {
    if (this.#open.get(uid) === ws) this.#open.delete(uid);
  }

  closeAll(): void {
    for (const ws of this.#open.values()) ws.close(CLOSE_GOING_AWAY, 'virt-handler is shutting down');
    this.#open.clear();
  }
}

// strconv.ParseBool
const goBool = z.pipe(
  z.enum(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']),
  z.transform((v) => ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)),
);
const vncQuery = z.looseObject({ preserveSession: z.optional(goBool) });

interface StreamTarget extends VMIContext {
  socketPath: string;
}

/** The host path of one of the VMI's QEMU sockets; 400 when the launcher or the socket is missing. */
async function unixSocketPath(deps: ConsoleServerDeps, ctx: VMIContext, pathInLauncher: string, what: string): Promise<string> {
  try {
    const path = await deps.launcherSocketPath(ctx.vmi, pathInLauncher);
    try {
      await stat(path);
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'ENOENT') throw new Error(`stat ${path}: no such file or directory`);
    }
    return path;
  } catch (err) {
    logFailure(ctx.log, err, `Failed finding unix socket for ${what}`);
    throw new RestError(400, errorMessage(err), { cause: err });
  }
}

interface StreamRoute {
  path: string;
  sessions: Sessions;
  socketName: (vmi: VirtualMachineInstance) => string;
  what: string;
  /** refuses a request before the upgrade (throws RestError) */
  admit?: (request: FastifyRequest, ctx: VMIContext) => void;
}

export interface ConsoleRoutes {
  /** closes every open console and VNC session */
  closeAll(): void;
}

export function consoleRoutes(app: FastifyInstance, deps: ConsoleServerDeps): ConsoleRoutes {
  const serial = new Sessions('console');
  const vnc = new Sessions('VNC');
  // what the pre-upgrade checks found, for the websocket handler of the same request
  const targets = new WeakMap<IncomingMessage, StreamTarget>();

  const routes: StreamRoute[] = [
    { path: 'console', sessions: serial, socketName: (vmi) => serialConsoleSocketPath(vmi.metadata.uid), what: 'serial console' },
    {
      path: 'vnc',
      sessions: vnc,
      socketName: (vmi) => vncSocketPath(vmi.metadata.uid),
      what: 'VNC console',
      admit: (request, ctx) => {
        const query = vncQuery.safeParse(request.query);
        if (!query.success) throw new RestError(400, `invalid preserveSession: ${query.error.issues[0]?.message ?? 'not a boolean'}`);
        if (query.data.preserveSession === true && vnc.active(ctx.vmi.metadata.uid)) {
          ctx.log.info('Active VNC connection. Request denied.');
          throw new RestError(503, 'Active VNC connection. Request denied.');
        }
      },
    },
  ];

  for (const route of routes) {
    app.route({
      method: 'GET',
      url: `${VMI_PATH}/${route.path}`,
      preHandler: async (request) => {
        const ctx = vmiContext(deps, request);
        route.admit?.(request, ctx);
        const socketPath = await unixSocketPath(deps, ctx, route.socketName(ctx.vmi), route.what);
        targets.set(request.raw, { ...ctx, socketPath });
      },
      // a plain GET: gorilla's Upgrade refuses it
      handler: async (_request, reply: FastifyReply) =>
        writeError(
          reply,
          400,
          "websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header",
        ),
      wsHandler: (ws, request) => {
        const target = targets.get(request.raw);
        if (!target) {
          ws.close(CLOSE_INTERNAL_ERROR, 'no stream target');
          return;
        }
        const uid = target.vmi.metadata.uid;
        route.sessions.start(uid, ws);
        ws.once('close', () => route.sessions.end(uid, ws));
        target.log.info('Websocket connection upgraded');
        stream(ws, target.socketPath, target.log);
      },
    });
  }

  // usbredir: each connection takes the VMI's first free slot, its own socket (USBRedirHandler)
  const usbSlots = new Map<string, Map<number, WebSocket>>();
  const usbTargets = new WeakMap<IncomingMessage, StreamTarget & { slot: number }>();
  app.route({
    method: 'GET',
    url: `${VMI_PATH}/usbredir`,
    preHandler: async (request) => {
      const ctx = vmiContext(deps, request);
      const used = usbSlots.get(ctx.vmi.metadata.uid);
      let slot = 0;
      while (slot < UsbClientPassthroughMaxNumberOf && used?.has(slot)) slot++;
      if (slot === UsbClientPassthroughMaxNumberOf) {
        ctx.log.error('All USB devices are in use.');
        throw new RestError(503, '');
      }
      const socketPath = await unixSocketPath(deps, ctx, usbRedirSocketPath(ctx.vmi.metadata.uid, slot), 'usbredir');
      usbTargets.set(request.raw, { ...ctx, socketPath, slot });
    },
    handler: async (_request, reply: FastifyReply) =>
      writeError(reply, 400, "websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header"),
    wsHandler: (ws, request) => {
      const target = usbTargets.get(request.raw);
      if (!target) {
        ws.close(CLOSE_INTERNAL_ERROR, 'no stream target');
        return;
      }
      const uid = target.vmi.metadata.uid;
      const slots = usbSlots.get(uid) ?? new Map<number, WebSocket>();
      usbSlots.set(uid, slots);
      if (slots.has(target.slot)) {
        ws.close(CLOSE_INTERNAL_ERROR, 'usbredir slot taken');
        return;
      }
      slots.set(target.slot, ws);
      ws.once('close', () => {
        slots.delete(target.slot);
        if (slots.size === 0) usbSlots.delete(uid);
      });
      target.log.info('Websocket connection upgraded');
      stream(ws, target.socketPath, target.log);
    },
  });

  return {
    closeAll: () => {
      serial.closeAll();
      vnc.closeAll();
      for (const slots of usbSlots.values()) for (const ws of slots.values()) ws.close(CLOSE_GOING_AWAY, 'virt-handler is shutting down');
      usbSlots.clear();
    },
  };
}

/**
 * Joins the websocket and the unix socket until either ends. Flow control both ways: a slow unix peer
 * pauses the websocket, a slow websocket client pauses the unix socket.
 */
function stream(ws: WebSocket, socketPath: string, log: Logger): void {
  log.info(`Connecting to ${socketPath}`);
  const unix = net.connect(socketPath);
  let queued = 0;

  unix.once('connect', () => log.info(`Connected to ${socketPath}`));
  unix.on('error', (err) => {
    logFailure(log, err, `failed to dial unix socket ${socketPath}`);
    const code = 'code' in err && typeof err.code === 'string' ? err.code : err.message;
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
      ws.close(CLOSE_INTERNAL_ERROR, `unix socket ${basename(socketPath)}: ${code}`.slice(0, 123));
    }
  });
  unix.on('data', (chunk: Buffer) => {
    queued += chunk.length;
    if (queued > HIGH_WATER_MARK) unix.pause();
    ws.send(chunk, { binary: true }, () => {
      queued -= chunk.length;
      if (unix.isPaused() && queued <= LOW_WATER_MARK) unix.resume();
    });
  });
  unix.on('end', () => {
    log.info('unix socket closed the stream');
    ws.close(CLOSE_NORMAL);
  });
  unix.on('drain', () => ws.resume());

  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (!isBinary || unix.destroyed) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (!unix.write(bytes)) ws.pause();
  });
  ws.on('close', () => {
    log.info('websocket closed the stream');
    unix.destroy();
  });
}
