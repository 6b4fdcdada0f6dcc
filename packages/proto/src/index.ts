// @kubevirt-ts/proto: KubeVirt's handler <-> launcher gRPC contracts. The only package that knows
// the .proto files (as descriptor.json); everyone else uses these typed servers, clients and message types.
export { status, type ClientReadableStream, type ServiceError, type Server, type ServerWritableStream } from '@grpc/grpc-js';

export {
  CMD_INFO_METHODS,
  CMD_METHODS,
  NOTIFY_INFO_METHODS,
  NOTIFY_METHODS,
  type CmdMethod,
  type NotifyMethod,
} from './definitions.ts';
export {
  CMD_VERSION,
  NOTIFY_VERSION,
  SUPPORTED_CMD_VERSIONS,
  SUPPORTED_NOTIFY_VERSIONS,
  negotiateVersion,
} from './version.ts';
export {
  connectionInjector,
  createCmdServer,
  createNotifyServer,
  listenUnix,
  stopServer,
  type CmdHandlers,
  type CmdServerImpl,
  type Handler,
  type ListenOptions,
  type NotifyHandlers,
  type NotifyServerImpl,
} from './server.ts';
export {
  CMD_CALL_TIMEOUTS_MS,
  CONNECT_TIMEOUT_MS,
  INFO_TIMEOUT_MS,
  NOTIFY_CALL_TIMEOUTS_MS,
  cmdClient,
  isServiceError,
  notifyClient,
  vmiRequest,
  type CallOptions,
  type CmdClient,
  type NotifyClient,
} from './client.ts';

// Message types per proto package, e.g. cmdv1.VMIRequest (what a client sends) and
// cmdv1.VMIRequest__Output (what a server receives, defaults filled in).
export type * as cmdinfo from './generated/kubevirt/cmd/info/index.ts';
export type * as cmdv1 from './generated/kubevirt/cmd/v1/index.ts';
export type * as notifyinfo from './generated/kubevirt/notify/info/index.ts';
export type * as notifyv1 from './generated/kubevirt/notify/v1/index.ts';
export {
  DEVICE_PLUGIN_VERSION,
  DEVICE_PLUGINS_DIR,
  DevicePluginClient,
  Healthy,
  KUBELET_SOCKET,
  RegistrationClient,
  Unhealthy,
  bindUnixSocket,
  callUnary,
  dialUnix,
  createDevicePluginServer,
  createRegistrationServer,
  devicePluginService,
  registrationService,
  type DevicePluginImpl,
  type RegistrationImpl,
  type v1beta1,
} from './deviceplugin.ts';
export {
  HOOK_VERSIONS,
  HookSocketsSharedDirectory,
  HooksCallbacksClients,
  HooksInfoClient,
  OnDefineDomainHookPointName,
  PreCloudInitIsoHookPointName,
  ShutdownHookPointName,
  createHookSidecarServer,
  hooksCallbacksServices,
  hooksInfoService,
  type HookSidecarImpl,
  type HookVersion,
  type hooksinfo,
  type hooksv1alpha3,
} from './hooks.ts';
