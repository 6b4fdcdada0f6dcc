import { existsSync } from 'node:fs';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import type { CmdInfoDefinition } from './generated/kubevirt/cmd/info/CmdInfo.ts';
import type { CmdDefinition } from './generated/kubevirt/cmd/v1/Cmd.ts';
import type { NotifyInfoDefinition } from './generated/kubevirt/notify/info/NotifyInfo.ts';
import type { NotifyDefinition } from './generated/kubevirt/notify/v1/Notify.ts';

export const PACKAGE_ROOT = path.resolve(import.meta.dirname, '..');
// In a bundle (scripts/build.ts) this module is part of dist/<daemon>.mjs and the .proto files are copied beside it.
const besideBundle = path.join(import.meta.dirname, 'proto');
export const PROTO_ROOT = existsSync(besideBundle) ? besideBundle : path.join(PACKAGE_ROOT, 'proto');

/** KubeVirt's pkg/handler-launcher-com/ protos, relative to PROTO_ROOT. */
export const PROTO_FILES = [
  'kubevirt/cmd/info/info.proto',
  'kubevirt/cmd/v1/cmd.proto',
  'kubevirt/notify/info/info.proto',
  'kubevirt/notify/v1/notify.proto',
] as const;

/**
 * The single source of the message mapping; the gen script derives the generator flags from it so
 * the checked-in types describe exactly what the loader produces. 64-bit integers become decimal
 * strings (no precision loss), bytes stay Buffers, absent fields get their proto3 defaults.
 */
export const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const;

export const packageDefinition: protoLoader.PackageDefinition = protoLoader.loadSync([...PROTO_FILES], {
  ...LOADER_OPTIONS,
  includeDirs: [PROTO_ROOT],
});

/** Unary method definition as proto-loader builds it, typed by the generated interfaces. */
export type UnaryMethod<Req, Res, ReqOut, ResOut> = protoLoader.MethodDefinition<Req, Res, ReqOut, ResOut>;

/** RPC names of a generated service definition (drops the inherited index signature). */
export type MethodName<D> = keyof { [K in keyof D as string extends K ? never : K]: D[K] } & string;

/** Client-side request (permissive) and response (as decoded) of one RPC. */
export type ClientRequest<M> = M extends UnaryMethod<infer Req, infer _Res, infer _ReqOut, infer _ResOut> ? Req : never;
export type ClientResponse<M> = M extends UnaryMethod<infer _Req, infer _Res, infer _ReqOut, infer ResOut> ? ResOut : never;
/** Server-side request (as decoded) and response (permissive) of one RPC. */
export type ServerRequest<M> = M extends UnaryMethod<infer _Req, infer _Res, infer ReqOut, infer _ResOut> ? ReqOut : never;
export type ServerResponse<M> = M extends UnaryMethod<infer _Req, infer Res, infer _ReqOut, infer _ResOut> ? Res : never;

function service<D>(fullName: string): D {
  const def = packageDefinition[fullName];
  if (def === undefined || 'format' in def) {
    throw new Error(`${fullName} is not a service in ${PROTO_FILES.join(', ')}`);
  }
  return def as D;
}

export const cmdInfoService = service<CmdInfoDefinition>('kubevirt.cmd.info.CmdInfo');
export const cmdService = service<CmdDefinition>('kubevirt.cmd.v1.Cmd');
export const notifyInfoService = service<NotifyInfoDefinition>('kubevirt.notify.info.NotifyInfo');
export const notifyService = service<NotifyDefinition>('kubevirt.notify.v1.Notify');

export type { CmdInfoDefinition, CmdDefinition, NotifyInfoDefinition, NotifyDefinition };

function methodPaths<D extends object>(def: D): Readonly<Record<MethodName<D>, string>> {
  const paths: Record<string, string> = {};
  for (const [name, method] of Object.entries(def)) {
    paths[name] = (method as UnaryMethod<object, object, object, object>).path;
  }
  return Object.freeze(paths) as Record<MethodName<D>, string>;
}

/** Full gRPC method paths (`/<package>.<Service>/<Rpc>`), e.g. CMD_METHODS.SyncVirtualMachine. */
export const CMD_INFO_METHODS = methodPaths(cmdInfoService);
export const CMD_METHODS = methodPaths(cmdService);
export const NOTIFY_INFO_METHODS = methodPaths(notifyInfoService);
export const NOTIFY_METHODS = methodPaths(notifyService);

export type CmdMethod = MethodName<CmdDefinition>;
export type NotifyMethod = MethodName<NotifyDefinition>;
