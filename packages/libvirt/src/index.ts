// @kubevirt-ts/libvirt: a client of libvirt's own RPC protocol over its unix socket, in the manner
// of digitalocean/go-libvirt.
export {
  connect,
  Connection,
  defaultSocketPaths,
  type ConnectOptions,
  type ConnectionCloseEvent,
  type ConnectionEvents,
  type ReconnectOptions,
} from './connection.ts';
export type { CallOptions, KeepaliveOptions } from './transport.ts';
export {
  procedures,
  uuidFromBytes,
  uuidToBytes,
  type Domain,
  type DomainBlockInfo,
  type DomainBlockStats,
  type DomainControlInfo,
  type DomainDiskError,
  type DomainFSInfo,
  type DomainInfo,
  type DomainInterface,
  type DomainInterfaceStats,
  type DomainIPAddress,
  type DomainJobInfo,
  type DomainJobStats,
  type DomainMemoryStat,
  type DomainScreenshot,
  type DomainStatsRecord,
  type NodeInfo,
  type ProcedureArgs,
  type ProcedureName,
  type ProcedureResult,
  type VcpuInfo,
} from './procedures.ts';
export {
  DOMAIN_EVENT_NAMES,
  type DomainAgentLifecycleEvent,
  type DomainDeviceEvent,
  type DomainEventName,
  type DomainEventPayloads,
  type DomainJobCompletedEvent,
  type DomainLifecycleEvent,
  type DomainMemoryDeviceSizeChangeEvent,
  type DomainMigrationIterationEvent,
  type DomainRebootEvent,
} from './events.ts';
export {
  abortedError,
  connectionLostError,
  hasErrorCode,
  isAborted,
  isAgentUnresponsive,
  isConnectionLost,
  isInvalidOperation,
  isLibvirtError,
  isNoDomainMetadata,
  isNotFound,
  isTimeout,
  isUnsupported,
  LibvirtError,
  timeoutError,
  type ErrorOrigin,
} from './errors.ts';
export { typedParamsToRecord, type TypedParam, type TypedParamValue } from './xdr.ts';
export * from './constants.ts';
