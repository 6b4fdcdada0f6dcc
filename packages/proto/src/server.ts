import fs from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  cmdInfoService,
  cmdService,
  notifyInfoService,
  notifyService,
  type CmdDefinition,
  type CmdInfoDefinition,
  type MethodName,
  type NotifyDefinition,
  type NotifyInfoDefinition,
  type ServerRequest,
  type ServerResponse,
} from './definitions.ts';
import { CMD_VERSION, NOTIFY_VERSION } from './version.ts';

/**
 * A unary RPC implementation. Throwing answers a gRPC error status like grpc-go does for a
 * returned error: the error's numeric `code` if it carries one, else UNKNOWN, with its message.
 */
export type Handler<M> = (request: ServerRequest<M>) => ServerResponse<M> | Promise<ServerResponse<M>>;

/** Implementations of a service's RPCs; an omitted RPC answers UNIMPLEMENTED. */
export type ServiceHandlers<D> = { [K in MethodName<D>]?: Handler<D[K]> };

export type CmdHandlers = ServiceHandlers<CmdDefinition>;
export type NotifyHandlers = ServiceHandlers<NotifyDefinition>;
/** Cmd RPCs plus an optional CmdInfo.Info override (default answers [CMD_VERSION]). */
export type CmdServerImpl = CmdHandlers & ServiceHandlers<CmdInfoDefinition>;
/** Notify RPCs plus an optional NotifyInfo.Info override (default answers [NOTIFY_VERSION]). */
export type NotifyServerImpl = NotifyHandlers & ServiceHandlers<NotifyInfoDefinition>;

type UntypedHandler = (request: object) => object | Promise<object>;
type UntypedHandlers = { readonly [rpc: string]: UntypedHandler | undefined };

const GRPC_CODES = new Set<number>(Object.values(grpc.status).filter((v) => typeof v === 'number'));

/**
 * The details travel percent-encoded in the grpc-message trailer: an error echoing a multi-MiB request
 * field would exceed the peer's header-list limit (64 KiB in Node's http2) and break the whole
 * connection, every call on it, not just this one. 4096 characters stay below it even when each is
 * a 4-byte UTF-8 sequence (12 characters encoded).
 */
const MAX_DETAILS_CHARS = 4096;

function toServerError(err: unknown): Partial<grpc.StatusObject> {
  const code =
    err instanceof Error && 'code' in err && typeof err.code === 'number' && GRPC_CODES.has(err.code) ? err.code : grpc.status.UNKNOWN;
  let details = !(err instanceof Error) ? String(err) : 'details' in err && typeof err.details === 'string' ? err.details : err.message;
  if (details.length > MAX_DETAILS_CHARS)
    details = `${details.slice(0, MAX_DETAILS_CHARS)}... (${details.length - MAX_DETAILS_CHARS} more characters)`;
  return { code, details };
}

function addUnaryService(server: grpc.Server, def: grpc.ServiceDefinition, impl: UntypedHandlers): void {
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const rpc of Object.keys(def)) {
    const handleCall: grpc.handleUnaryCall<object, object> =
      impl[rpc] === undefined
        ? // grpc-go's Unimplemented<Service>Server text, so callers see what KubeVirt would send.
          (_call, callback) => callback({ code: grpc.status.UNIMPLEMENTED, details: `method ${rpc} not implemented` })
        : (call, callback) => {
            Promise.resolve()
              .then(() => impl[rpc]!(call.request))
              .then(
                (response) => callback(null, response),
                (err: unknown) => callback(toServerError(err)),
              );
          };
    handlers[rpc] = handleCall;
  }
  server.addService(def, handlers);
}

/**
 * virt-launcher's command server (cmd-server RunServer): CmdInfo and Cmd on one gRPC server.
 */
export function createCmdServer(impl: CmdServerImpl): grpc.Server {
  const server = new grpc.Server();
  const info: ServiceHandlers<CmdInfoDefinition> = { Info: () => ({ supportedCmdVersions: [CMD_VERSION] }) };
  addUnaryService(server, cmdInfoService, (impl.Info === undefined ? info : impl) as UntypedHandlers);
  addUnaryService(server, cmdService, impl as UntypedHandlers);
  return server;
}

/**
 * virt-handler's domain notify server (notify-server RunServer): NotifyInfo and Notify on one gRPC server.
 */
export function createNotifyServer(impl: NotifyServerImpl): grpc.Server {
  const server = new grpc.Server();
  const info: ServiceHandlers<NotifyInfoDefinition> = { Info: () => ({ supportedNotifyVersions: [NOTIFY_VERSION] }) };
  addUnaryService(server, notifyInfoService, (impl.Info === undefined ? info : impl) as UntypedHandlers);
  addUnaryService(server, notifyService, impl as UntypedHandlers);
  return server;
}

/**
 * Serves connections accepted elsewhere (a launcher's notify pipe) on `server`, as if they had been
 * dialled to its socket: no second socket and no copying through one.
 */
export function connectionInjector(server: grpc.Server): grpc.ConnectionInjector {
  return server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
}

export interface ListenOptions {
  /** chmod the socket after binding; KubeVirt keeps the process umask's default, so unset by default. */
  mode?: number;
}

/**
 * KubeVirt's CreateSocket + Serve: remove whatever is at the path, mkdir -p its parent, bind the unix
 * socket; resolves once the server is accepting connections.
 */
export async function listenUnix(server: grpc.Server, socketPath: string, options: ListenOptions = {}): Promise<void> {
  const absolute = path.resolve(socketPath);
  await fs.rm(absolute, { recursive: true, force: true });
  await fs.mkdir(path.dirname(absolute), { recursive: true, mode: 0o755 });
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${absolute}`, grpc.ServerCredentials.createInsecure(), (err) => (err === null ? resolve() : reject(err)));
  });
  if (options.mode !== undefined) await fs.chmod(absolute, options.mode);
}

/** Graceful stop that gives up after graceMs and cancels in-flight calls (launcher stops within 1 s). */
export async function stopServer(server: grpc.Server, graceMs = 1000): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
