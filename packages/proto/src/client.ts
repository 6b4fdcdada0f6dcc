import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  cmdInfoService,
  cmdService,
  notifyInfoService,
  notifyService,
  type ClientRequest,
  type ClientResponse,
  type CmdDefinition,
  type CmdMethod,
  type MethodName,
  type NotifyDefinition,
  type NotifyMethod,
} from './definitions.ts';
import { negotiateVersion, SUPPORTED_CMD_VERSIONS, SUPPORTED_NOTIFY_VERSIONS } from './version.ts';

/** grpcutil.CONNECT_TIMEOUT_SECONDS: blocking dial of the unix socket. */
/** cmdv1.VMI as KubeVirt's cmd-client sends it: the VMI marshalled to JSON. */
export function vmiRequest(vmi: object): { vmi: { vmiJson: Buffer } } {
  return { vmi: { vmiJson: Buffer.from(JSON.stringify(vmi)) } };
}

export const CONNECT_TIMEOUT_MS = 2_000;
/** cmdclient.NewClient / notify-client negotiateVersion: the Info call before anything else. */
export const INFO_TIMEOUT_MS = 5_000;

// cmd-client's shortTimeout, longTimeout and extendedTimeout.
const SHORT = 5_000;
const LONG = 20_000;
const EXTENDED = 60_000;

/**
 * Default deadline of each Cmd RPC as virt-handler's cmd-client sets it. Exec and GuestPing wait
 * for the request's own timeoutSeconds plus this value.
 */
export const CMD_CALL_TIMEOUTS_MS: Readonly<Record<CmdMethod, number>> = {
  SyncVirtualMachine: LONG,
  PauseVirtualMachine: LONG,
  UnpauseVirtualMachine: LONG,
  FreezeVirtualMachine: EXTENDED, // Windows VSS may take up to 60 s
  UnfreezeVirtualMachine: LONG,
  ResetVirtualMachine: LONG,
  SoftRebootVirtualMachine: LONG,
  ShutdownVirtualMachine: LONG,
  KillVirtualMachine: LONG,
  DeleteVirtualMachine: LONG,
  MigrateVirtualMachine: LONG,
  SyncMigrationTarget: LONG,
  CancelVirtualMachineMigration: LONG,
  SignalTargetPodCleanup: LONG,
  FinalizeVirtualMachineMigration: LONG,
  HotplugHostDevices: LONG,
  GetDomain: SHORT,
  GetDomainStats: SHORT,
  GetGuestInfo: SHORT,
  GetUsers: SHORT,
  GetFilesystems: SHORT,
  Ping: SHORT,
  Exec: SHORT,
  GuestPing: SHORT,
  VirtualMachineMemoryDump: LONG,
  GetQemuVersion: SHORT,
  SyncVirtualMachineCPUs: LONG,
  SyncVirtualMachineMemory: LONG,
  GetSEVInfo: SHORT,
  GetLaunchMeasurement: SHORT,
  InjectLaunchSecret: LONG,
  GetDomainDirtyRateStats: LONG, // the launcher measures for 1 s
  GetScreenshot: SHORT,
  BackupVirtualMachine: LONG,
  RedefineCheckpoint: LONG,
  GetVMStats: SHORT,
};

/** virt-launcher notify-client's per-send timeout. */
export const NOTIFY_CALL_TIMEOUTS_MS: Readonly<Record<NotifyMethod, number>> = {
  HandleDomainEvent: SHORT,
  HandleK8sEvent: SHORT,
};

export interface CallOptions {
  /** Overrides the RPC's default deadline from the timeout table. */
  timeoutMs?: number;
}

/** Promise-returning unary calls named as the RPCs are on the wire. */
export type PromiseClient<D> = {
  readonly [K in MethodName<D>]: (request: ClientRequest<D[K]>, options?: CallOptions) => Promise<ClientResponse<D[K]>>;
};

export interface Connection {
  /** Version agreed with the server's Info answer. */
  readonly version: number;
  close(): void;
}

export type CmdClient = PromiseClient<CmdDefinition> & Connection;
export type NotifyClient = PromiseClient<NotifyDefinition> & Connection;

interface UnaryCodec<Req, Res> {
  path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(bytes: Buffer): Res;
}

function unary<Req, Res>(conn: grpc.Client, method: UnaryCodec<Req, Res>, request: Req, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    conn.makeUnaryRequest(
      method.path,
      (value: Req) => method.requestSerialize(value),
      (bytes: Buffer) => method.responseDeserialize(bytes),
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, response) => {
        if (err) reject(err);
        else if (response === undefined) reject(new Error(`${method.path}: empty response`));
        else resolve(response);
      },
    );
  });
}

function promiseClient<D extends grpc.ServiceDefinition>(
  conn: grpc.Client,
  def: D,
  defaultTimeoutMs: (rpc: string, request: object) => number,
): PromiseClient<D> {
  const methods: Record<string, (request: object, options?: CallOptions) => Promise<object>> = {};
  for (const [rpc, method] of Object.entries(def)) {
    const codec: UnaryCodec<object, object> = method;
    methods[rpc] = (request, options = {}) => unary(conn, codec, request, options.timeoutMs ?? defaultTimeoutMs(rpc, request));
  }
  // Built at runtime from the same definition the generated interface D describes.
  return methods as unknown as PromiseClient<D>;
}

/** Dials like grpcutil.DialSocket: insecure, authority "localhost", blocking with a 2 s connect timeout. */
async function dial(socketPath: string): Promise<grpc.Client> {
  const conn = new grpc.Client(`unix://${path.resolve(socketPath)}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': 'localhost',
  });
  try {
    await new Promise<void>((resolve, reject) => {
      conn.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (err) => (err ? reject(err) : resolve()));
    });
  } catch (err) {
    conn.close();
    throw err;
  }
  return conn;
}

async function askVersion(info: () => Promise<readonly number[]>, client: readonly number[]): Promise<number> {
  let server: readonly number[];
  try {
    server = await info();
  } catch (err) {
    // Both KubeVirt clients (cmd and notify) word it this way.
    throw new Error(`could not check cmd server version: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // Only version 1 exists, so the negotiated version always has an implementation here.
  return negotiateVersion(server, client);
}

/** Default deadline of one Cmd call: the table value, plus the guest wait for Exec and GuestPing. */
export function cmdCallTimeoutMs(rpc: string, request: object): number {
  const base = CMD_CALL_TIMEOUTS_MS[rpc as CmdMethod];
  const waitsForGuest = rpc === 'Exec' || rpc === 'GuestPing';
  const seconds = 'timeoutSeconds' in request && typeof request.timeoutSeconds === 'number' ? request.timeoutSeconds : 0;
  return waitsForGuest ? base + seconds * 1000 : base;
}

/**
 * cmdclient.NewClient: dial the launcher's command socket, negotiate the Cmd version via
 * CmdInfo.Info (5 s), then expose the Cmd RPCs with cmd-client's deadlines.
 */
export async function cmdClient(socketPath: string): Promise<CmdClient> {
  const conn = await dial(socketPath);
  try {
    const version = await askVersion(
      async () => (await unary(conn, cmdInfoService.Info, {}, INFO_TIMEOUT_MS)).supportedCmdVersions,
      SUPPORTED_CMD_VERSIONS,
    );
    return Object.assign(promiseClient(conn, cmdService, cmdCallTimeoutMs), { version, close: () => conn.close() });
  } catch (err) {
    conn.close();
    throw err;
  }
}

/**
 * notify-client connect: dial the handler's notify socket (or the pipe proxying to it), negotiate
 * via NotifyInfo.Info (5 s), then expose the Notify RPCs with the launcher's 5 s send timeout.
 */
export async function notifyClient(socketPath: string): Promise<NotifyClient> {
  const conn = await dial(socketPath);
  try {
    const version = await askVersion(
      async () => (await unary(conn, notifyInfoService.Info, {}, INFO_TIMEOUT_MS)).supportedNotifyVersions,
      SUPPORTED_NOTIFY_VERSIONS,
    );
    const timeouts = (rpc: string) => NOTIFY_CALL_TIMEOUTS_MS[rpc as NotifyMethod];
    return Object.assign(promiseClient(conn, notifyService, timeouts), { version, close: () => conn.close() });
  } catch (err) {
    conn.close();
    throw err;
  }
}

/** A failed call's error as grpc-js reports it (status code + details). */
export function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && 'code' in err && typeof err.code === 'number' && 'details' in err;
}
