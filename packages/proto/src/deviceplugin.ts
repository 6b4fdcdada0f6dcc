// The kubelet's device plugin API v1beta1 (proto/deviceplugin/v1beta1/api.proto): the Registration service
// the kubelet serves on kubelet.sock and the DevicePlugin service each plugin serves on its own socket.
// Messages carry the .proto's field names (keepCase), as the rest of this package.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import descriptor from './generated/deviceplugin-descriptor.json' with { type: 'json' };
import { serviceDefinition } from './definitions.ts';

export declare namespace v1beta1 {
  export type Empty = Record<string, never>;
  export interface DevicePluginOptions {
    pre_start_required?: boolean;
  }
  export interface RegisterRequest {
    version?: string;
    endpoint?: string;
    resource_name?: string;
    options?: DevicePluginOptions | null;
  }
  export interface NUMANode {
    ID?: string | number;
  }
  export interface TopologyInfo {
    node?: NUMANode | null;
  }
  export interface Device {
    ID?: string;
    health?: string;
    topology?: TopologyInfo | null;
  }
  export interface ListAndWatchResponse {
    devices?: Device[];
  }
  export interface PreStartContainerRequest {
    devicesIDs?: string[];
  }
  export type PreStartContainerResponse = Record<string, never>;
  export interface ContainerAllocateRequest {
    devicesIDs?: string[];
  }
  export interface AllocateRequest {
    container_requests?: ContainerAllocateRequest[];
  }
  export interface Mount {
    container_path?: string;
    host_path?: string;
    read_only?: boolean;
  }
  export interface DeviceSpec {
    container_path?: string;
    host_path?: string;
    permissions?: string;
  }
  export interface ContainerAllocateResponse {
    envs?: Record<string, string>;
    mounts?: Mount[];
    devices?: DeviceSpec[];
    annotations?: Record<string, string>;
  }
  export interface AllocateResponse {
    container_responses?: ContainerAllocateResponse[];
  }
}

/** deviceplugin/v1beta1 constants.go */
export const DEVICE_PLUGIN_VERSION = 'v1beta1';
export const Healthy = 'Healthy';
export const Unhealthy = 'Unhealthy';
/** The kubelet's registration socket, in the device-plugins directory under the kubelet root. */
export const KUBELET_SOCKET = 'kubelet.sock';
export const DEVICE_PLUGINS_DIR = 'device-plugins';

const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
root.resolveAll();

export const registrationService: grpc.ServiceDefinition = serviceDefinition(root, 'v1beta1.Registration');
export const devicePluginService: grpc.ServiceDefinition = serviceDefinition(root, 'v1beta1.DevicePlugin');

export const RegistrationClient = grpc.makeGenericClientConstructor(registrationService, 'Registration');
export const DevicePluginClient = grpc.makeGenericClientConstructor(devicePluginService, 'DevicePlugin');

/** Implementation of a DevicePlugin server; the unary ones may be async, ListAndWatch writes to its call. */
export interface DevicePluginImpl {
  GetDevicePluginOptions(req: v1beta1.Empty): v1beta1.DevicePluginOptions | Promise<v1beta1.DevicePluginOptions>;
  ListAndWatch(call: grpc.ServerWritableStream<v1beta1.Empty, v1beta1.ListAndWatchResponse>): void;
  Allocate(req: v1beta1.AllocateRequest): v1beta1.AllocateResponse | Promise<v1beta1.AllocateResponse>;
  PreStartContainer(req: v1beta1.PreStartContainerRequest): v1beta1.PreStartContainerResponse | Promise<v1beta1.PreStartContainerResponse>;
}

function unary<Req, Res>(fn: (req: Req) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback({ code: grpc.status.UNKNOWN, details: err instanceof Error ? err.message : String(err) }),
      );
  };
}

export function createDevicePluginServer(impl: DevicePluginImpl): grpc.Server {
  const server = new grpc.Server();
  server.addService(devicePluginService, {
    GetDevicePluginOptions: unary((req: v1beta1.Empty) => impl.GetDevicePluginOptions(req)),
    ListAndWatch: (call: grpc.ServerWritableStream<v1beta1.Empty, v1beta1.ListAndWatchResponse>) => impl.ListAndWatch(call),
    Allocate: unary((req: v1beta1.AllocateRequest) => impl.Allocate(req)),
    PreStartContainer: unary((req: v1beta1.PreStartContainerRequest) => impl.PreStartContainer(req)),
  });
  return server;
}

/** What a kubelet does with a plugin's registration (the test kubelet implements it). */
export interface RegistrationImpl {
  Register(req: v1beta1.RegisterRequest): v1beta1.Empty | Promise<v1beta1.Empty>;
}

export function createRegistrationServer(impl: RegistrationImpl): grpc.Server {
  const server = new grpc.Server();
  server.addService(registrationService, { Register: unary((req: v1beta1.RegisterRequest) => impl.Register(req)) });
  return server;
}

/** A unary call on a generic client as a promise. */
export function callUnary<Req, Res>(client: grpc.Client, method: string, req: Req, deadlineMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (
      client as unknown as Record<string, (r: Req, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void>
    )[method];
    if (fn === undefined) {
      reject(new Error(`no method ${method}`));
      return;
    }
    fn.call(client, req, { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res as Res)));
  });
}

/** Binds `server` to a unix socket whose directory must exist (net.Listen, no mkdir: the kubelet owns it). */
export function bindUnixSocket(server: grpc.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) =>
    server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
}

/** A client of a unix socket, once connected (KubeVirt's gRPCConnect with its timeout). */
export async function dialUnix<C extends grpc.Client>(
  ctor: new (address: string, creds: grpc.ChannelCredentials) => C,
  socketPath: string,
  timeoutMs: number,
): Promise<C> {
  const client = new ctor(`unix://${socketPath}`, grpc.credentials.createInsecure());
  try {
    await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())));
  } catch (err) {
    client.close();
    throw err;
  }
  return client;
}
