// KubeVirt's hook sidecar API (pkg/hooks, proto/kubevirt/hooks/): the Info service every hook sidecar
// serves on its socket, and the Callbacks service in its versions v1alpha1..v1alpha3. virt-launcher is
// the client; a sidecar (or a test bed's) is the server. Messages carry the .proto's field names.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import descriptor from './generated/hooks-descriptor.json' with { type: 'json' };
import { serviceDefinition } from './definitions.ts';

export declare namespace hooksinfo {
  export type InfoParams = Record<string, never>;
  export interface HookPoint {
    name?: string;
    priority?: number;
  }
  export interface InfoResult {
    name?: string;
    hookPoints?: HookPoint[];
    versions?: string[];
  }
}

/** The Callbacks messages; v1alpha1 has OnDefineDomain only, v1alpha2 adds PreCloudInitIso, v1alpha3 Shutdown. */
export declare namespace hooksv1alpha3 {
  export interface OnDefineDomainParams {
    domainXML?: Buffer | Uint8Array | string;
    vmi?: Buffer | Uint8Array | string;
  }
  export interface OnDefineDomainResult {
    domainXML?: Buffer | Uint8Array | string;
  }
  export interface PreCloudInitIsoParams {
    cloudInitNoCloudSource?: Buffer | Uint8Array | string;
    vmi?: Buffer | Uint8Array | string;
    cloudInitData?: Buffer | Uint8Array | string;
  }
  export interface PreCloudInitIsoResult {
    cloudInitNoCloudSource?: Buffer | Uint8Array | string;
    cloudInitData?: Buffer | Uint8Array | string;
  }
  export type ShutdownParams = Record<string, never>;
  export type ShutdownResult = Record<string, never>;
}

/** pkg/hooks/v1alpha{1,2,3} Version, newest first: the order virt-launcher picks a sidecar's version in. */
export const HOOK_VERSIONS = ['v1alpha3', 'v1alpha2', 'v1alpha1'] as const;
export type HookVersion = (typeof HOOK_VERSIONS)[number];

/** pkg/hooks/info: the hook point names. */
export const OnDefineDomainHookPointName = 'OnDefineDomain';
export const PreCloudInitIsoHookPointName = 'PreCloudInitIso';
export const ShutdownHookPointName = 'Shutdown';

/** pkg/hooks HookSocketsSharedDirectory: each sidecar's socket is in a subdirectory of it. */
export const HookSocketsSharedDirectory = '/var/run/kubevirt-hooks';

const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
root.resolveAll();

/** The decoded form of a reply: bytes as Buffers, absent fields defaulted (LOADER_OPTIONS). */
export const hooksInfoService: grpc.ServiceDefinition = serviceDefinition(root, 'kubevirt.hooks.info.Info');
export const hooksCallbacksServices: Readonly<Record<HookVersion, grpc.ServiceDefinition>> = {
  v1alpha1: serviceDefinition(root, 'kubevirt.hooks.v1alpha1.Callbacks'),
  v1alpha2: serviceDefinition(root, 'kubevirt.hooks.v1alpha2.Callbacks'),
  v1alpha3: serviceDefinition(root, 'kubevirt.hooks.v1alpha3.Callbacks'),
};

export const HooksInfoClient = grpc.makeGenericClientConstructor(hooksInfoService, 'Info');
export const HooksCallbacksClients: Readonly<Record<HookVersion, grpc.ServiceClientConstructor>> = {
  v1alpha1: grpc.makeGenericClientConstructor(hooksCallbacksServices.v1alpha1, 'Callbacks'),
  v1alpha2: grpc.makeGenericClientConstructor(hooksCallbacksServices.v1alpha2, 'Callbacks'),
  v1alpha3: grpc.makeGenericClientConstructor(hooksCallbacksServices.v1alpha3, 'Callbacks'),
};

/** A hook sidecar's implementation: its Info and those callbacks it serves (the others answer UNIMPLEMENTED). */
export interface HookSidecarImpl {
  version: HookVersion;
  Info(req: hooksinfo.InfoParams): hooksinfo.InfoResult | Promise<hooksinfo.InfoResult>;
  OnDefineDomain?(req: {
    domainXML: Buffer;
    vmi: Buffer;
  }): hooksv1alpha3.OnDefineDomainResult | Promise<hooksv1alpha3.OnDefineDomainResult>;
  PreCloudInitIso?(req: {
    cloudInitNoCloudSource: Buffer;
    vmi: Buffer;
    cloudInitData: Buffer;
  }): hooksv1alpha3.PreCloudInitIsoResult | Promise<hooksv1alpha3.PreCloudInitIsoResult>;
  Shutdown?(req: hooksv1alpha3.ShutdownParams): hooksv1alpha3.ShutdownResult | Promise<hooksv1alpha3.ShutdownResult>;
}

function unary(fn: ((req: never) => unknown) | undefined, rpc: string): grpc.handleUnaryCall<object, object> {
  return (call, callback) => {
    if (fn === undefined) {
      callback({ code: grpc.status.UNIMPLEMENTED, details: `method ${rpc} not implemented` });
      return;
    }
    Promise.resolve()
      .then(() => fn(call.request as never))
      .then(
        (res) => callback(null, res as object),
        (err: unknown) => callback({ code: grpc.status.UNKNOWN, details: err instanceof Error ? err.message : String(err) }),
      );
  };
}

/** A hook sidecar's gRPC server: Info and the Callbacks service of its version. */
export function createHookSidecarServer(impl: HookSidecarImpl): grpc.Server {
  const server = new grpc.Server();
  server.addService(hooksInfoService, { Info: unary(impl.Info.bind(impl), 'Info') });
  const callbacks: grpc.UntypedServiceImplementation = {};
  for (const rpc of Object.keys(hooksCallbacksServices[impl.version])) {
    const fn = impl[rpc as 'OnDefineDomain' | 'PreCloudInitIso' | 'Shutdown'];
    callbacks[rpc] = unary(fn?.bind(impl) as ((req: never) => unknown) | undefined, rpc);
  }
  server.addService(hooksCallbacksServices[impl.version], callbacks);
  return server;
}
