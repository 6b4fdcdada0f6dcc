import Long from 'long';
import protobuf from 'protobufjs/light.js';
import type { MethodDefinition } from '@grpc/proto-loader';
import descriptor from './generated/descriptor.json' with { type: 'json' };
import type { CmdInfoDefinition } from './generated/kubevirt/cmd/info/CmdInfo.ts';
import type { CmdDefinition } from './generated/kubevirt/cmd/v1/Cmd.ts';
import type { NotifyInfoDefinition } from './generated/kubevirt/notify/info/NotifyInfo.ts';
import type { NotifyDefinition } from './generated/kubevirt/notify/v1/Notify.ts';
import { LOADER_OPTIONS } from './loader-options.ts';

export { LOADER_OPTIONS };

// Exact 64-bit values: protobufjs looks for `long` with a require a bundle cannot see, so hand it over.
protobuf.util.Long = Long;
protobuf.configure();

/**
 * KubeVirt's protos, parsed at build time (src/codegen.ts) into protobufjs's JSON form: loading that
 * needs neither the .proto parser nor proto-loader's descriptor reflection, which made each daemon
 * start ~50 ms slower and peak 8 MiB higher. Our own gen output, checked against the .proto files and
 * KubeVirt's field numbers by test/contract.unit.test.ts, so it is not parsed again here.
 */
export const protoDescriptor = descriptor as protobuf.INamespace;
const protoRoot = protobuf.Root.fromJSON(protoDescriptor);
protoRoot.resolveAll();

/** Unary method definition as proto-loader builds it, typed by the generated interfaces. */
export type UnaryMethod<Req, Res, ReqOut, ResOut> = MethodDefinition<Req, Res, ReqOut, ResOut>;

/** RPC names of a generated service definition (drops the inherited index signature). */
export type MethodName<D> = keyof { [K in keyof D as string extends K ? never : K]: D[K] } & string;

/** Client-side request (permissive) and response (as decoded) of one RPC. */
export type ClientRequest<M> = M extends UnaryMethod<infer Req, infer _Res, infer _ReqOut, infer _ResOut> ? Req : never;
export type ClientResponse<M> = M extends UnaryMethod<infer _Req, infer _Res, infer _ReqOut, infer ResOut> ? ResOut : never;
/** Server-side request (as decoded) and response (permissive) of one RPC. */
export type ServerRequest<M> = M extends UnaryMethod<infer _Req, infer _Res, infer ReqOut, infer _ResOut> ? ReqOut : never;
export type ServerResponse<M> = M extends UnaryMethod<infer _Req, infer Res, infer _ReqOut, infer _ResOut> ? Res : never;

/** proto-loader's codec of a message: fromObject + encode out, decode + toObject with LOADER_OPTIONS in. */
function serializer(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value))
      throw new Error(`Failed to serialize message: expected object with ${type.fullName} structure, got array instead`);
    return type.encode(type.fromObject(value)).finish() as Buffer; // a Buffer under Node
  };
}

function deserializer(type: protobuf.Type): (bytes: Buffer) => object {
  return (bytes) => type.toObject(type.decode(bytes), LOADER_OPTIONS);
}

/** The grpc-js service definition of a service, with the paths and codecs proto-loader would give it. */
export function serviceDefinition<D>(root: protobuf.Root, fullName: string): D {
  const svc = root.lookupService(fullName);
  const methods: Record<string, object> = {};
  for (const method of svc.methodsArray) {
    const req = method.resolvedRequestType;
    const res = method.resolvedResponseType;
    if (req === null || res === null) throw new Error(`${fullName}.${method.name}: unresolved message types`);
    methods[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: serializer(req),
      requestDeserialize: deserializer(req),
      responseSerialize: serializer(res),
      responseDeserialize: deserializer(res),
    };
  }
  // Built from the same .proto files the generated interface D describes.
  return methods as D;
}

function service<D>(fullName: string): D {
  return serviceDefinition<D>(protoRoot, fullName);
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
