// KubeVirt's hooks Manager (pkg/hooks/manager.go): finds the hook sidecars' sockets under
// /var/run/kubevirt-hooks/<container>/, asks each its Info, and calls their callbacks at the hook
// points: OnDefineDomain (the domain XML before define), PreCloudInitIso (the cloud-init data before
// the ISO) and Shutdown (after QEMU exited).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as grpc from '@grpc/grpc-js';
import * as z from 'zod/mini';
import {
  HOOK_VERSIONS,
  HookSocketsSharedDirectory,
  HooksCallbacksClients,
  HooksInfoClient,
  OnDefineDomainHookPointName,
  PreCloudInitIsoHookPointName,
  ShutdownHookPointName,
  callUnary,
  dialUnix,
  isServiceError,
  status,
  type HookVersion,
} from '@kubevirt-ts/proto';
import type { Logger, VirtualMachineInstance } from '@kubevirt-ts/shared';
import { domainSpecFromXML } from '../api/index.ts';

/** collectSideCarSockets' ticker. */
const COLLECT_INTERVAL_MS = 300;
/** grpcutil.DialSocketWithTimeout(socket, 1) and the Info call's context. */
const DIAL_TIMEOUT_MS = 1_000;
const INFO_TIMEOUT_MS = 1_000;
/** The callbacks' context: a minute each. */
const CALLBACK_TIMEOUT_MS = 60_000;

const bytes = z.custom<Buffer>((v) => Buffer.isBuffer(v), 'expected bytes');

const hookPoint = z.object({ name: z.string(), priority: z.number().check(z.int()) });
const infoResult = z.object({ name: z.string(), hookPoints: z.array(hookPoint), versions: z.array(z.string()) });
const onDefineDomainResult = z.object({ domainXML: bytes });
const preCloudInitIsoResult = z.object({ cloudInitNoCloudSource: bytes, cloudInitData: bytes });

/** pkg/cloud-init CloudInitData as its JSON (Go field names: the struct has no json tags). */
export const cloudInitData = z.looseObject({
  DataSource: z.string(),
  NoCloudMetaData: z.optional(z.nullable(z.looseObject({}))),
  ConfigDriveMetaData: z.optional(z.nullable(z.looseObject({}))),
  UserData: z._default(z.string(), ''),
  NetworkData: z._default(z.string(), ''),
  DevicesData: z.optional(z.nullable(z.array(z.unknown()))),
  VolumeName: z._default(z.string(), ''),
});
export type CloudInitData = z.infer<typeof cloudInitData>;
/** v1.CloudInitNoCloudSource, the legacy form of PreCloudInitIso's data. */
const noCloudSource = z.looseObject({ userData: z.optional(z.string()), networkData: z.optional(z.string()) });

interface CallbackClient {
  socketPath: string;
  version: HookVersion;
  hookName: string;
  subscribedHookPoints: { name: string; priority: number }[];
}

/** Go's status error text (`rpc error: code = Unknown desc = …`), as a hook's error reaches KubeVirt's Sync. */
function grpcErrorText(err: unknown): string {
  if (!isServiceError(err)) return err instanceof Error ? err.message : String(err);
  const name = err.code === status.CANCELLED ? 'Canceled' : (status[err.code] ?? String(err.code));
  const goName = name === 'OK' ? name : name.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
  return `rpc error: code = ${goName} desc = ${err.details}`;
}

function parseReply<T>(schema: z.ZodMiniType<T>, reply: unknown, what: string): T {
  const r = z.safeParse(schema, reply);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new Error(`${what}: invalid reply: ${issue ? `${issue.path.join('.') || 'reply'}: ${issue.message}` : 'does not parse'}`);
}

export interface HooksManagerOptions {
  logger: Logger;
  /** HookSocketsSharedDirectory unless a test puts its sockets elsewhere. */
  socketDir?: string;
}

export class HooksManager {
  readonly #log: Logger;
  readonly #dir: string;
  /** CallbacksPerHookPoint, each list in calling order. */
  #callbacksPerHookPoint = new Map<string, CallbackClient[]>();

  constructor(opts: HooksManagerOptions) {
    this.#log = opts.logger;
    this.#dir = opts.socketDir ?? HookSocketsSharedDirectory;
  }

  /** The sockets each hook point calls, in order (what Collect found). */
  callbacks(hookPoint: string): readonly string[] {
    return (this.#callbacksPerHookPoint.get(hookPoint) ?? []).map((c) => c.socketPath);
  }

  /**
   * Blocks until `count` sidecar sockets answered Info, or fails after `timeoutMs`. A socket that does
   * not accept a connection yet is tried again; one that answers Info badly fails the collection.
   */
  async collect(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const processed = new Set<string>();
    const found: CallbackClient[] = [];
    while (processed.size < count) {
      for (const sub of readdirSync(this.#dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (!sub.isDirectory()) continue;
        const subPath = path.join(this.#dir, sub.name);
        for (const entry of readdirSync(subPath, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
          const socketPath = path.join(subPath, entry.name);
          if (entry.isDirectory() || processed.has(socketPath)) continue;
          const callback = await this.#processSidecarSocket(socketPath);
          if (callback === undefined) {
            this.#log.info(`Sidecar server might not be ready yet: ${socketPath}`);
            continue;
          }
          found.push(callback);
          processed.add(socketPath);
        }
      }
      if (processed.size >= count) break;
      if (Date.now() >= deadline) throw new Error('Failed to collect all expected sidecar hook sockets within given timeout');
      await sleep(COLLECT_INTERVAL_MS);
    }
    this.#log.info('Collected all requested hook sidecar sockets');
    const perHookPoint = new Map<string, CallbackClient[]>();
    for (const callback of found) {
      for (const point of callback.subscribedHookPoints) perHookPoint.set(point.name, [...(perHookPoint.get(point.name) ?? []), callback]);
    }
    // Higher priority first; equal priorities keep the sockets' discovery order (directory, then file name).
    for (const [point, callbacks] of perHookPoint) {
      const priority = (c: CallbackClient) => c.subscribedHookPoints.find((p) => p.name === point)?.priority ?? 0;
      callbacks.sort((a, b) => priority(b) - priority(a));
    }
    this.#callbacksPerHookPoint = perHookPoint;
    const summary = [...perHookPoint].map(([point, cbs]) => `${point}: [${cbs.map((c) => c.socketPath).join(' ')}]`).join(', ');
    this.#log.info(`Sorted all collected sidecar sockets per hook point based on their priority and name: ${summary}`);
  }

  /** processSideCarSocket: undefined while the socket does not accept connections yet. */
  async #processSidecarSocket(socketPath: string): Promise<CallbackClient | undefined> {
    let client: grpc.Client;
    try {
      client = await dialUnix(HooksInfoClient, socketPath, DIAL_TIMEOUT_MS);
    } catch (err) {
      this.#log.info({ reason: String(err) }, `Failed to Dial hook socket: ${socketPath}`);
      return undefined;
    }
    let info;
    try {
      const reply = await callUnary(client, 'Info', {}, INFO_TIMEOUT_MS).catch((err: unknown) => {
        throw new Error(grpcErrorText(err));
      });
      info = parseReply(infoResult, reply, `hook sidecar ${socketPath} Info`);
    } catch (err) {
      this.#log.info({ reason: String(err) }, `Failed to process sidecar socket: ${socketPath}`);
      throw err;
    } finally {
      client.close();
    }
    const version = HOOK_VERSIONS.find((v) => info.versions.includes(v));
    if (version === undefined) {
      throw new Error(
        `Hook sidecar does not expose a supported version. Exposed versions: [${info.versions.join(' ')}], supported versions: [${HOOK_VERSIONS.join(' ')}]`,
      );
    }
    return { socketPath, version, hookName: info.name, subscribedHookPoints: info.hookPoints };
  }

  async #call<T>(callback: CallbackClient, rpc: string, req: object, schema: z.ZodMiniType<T>): Promise<T> {
    let client: grpc.Client;
    try {
      client = await dialUnix(HooksCallbacksClients[callback.version], callback.socketPath, DIAL_TIMEOUT_MS);
    } catch (err) {
      this.#log.error({ reason: String(err) }, `Failed to Dial hook socket: ${callback.socketPath}`);
      throw new Error(`Failed to Dial hook socket: ${callback.socketPath}: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      const reply = await callUnary(client, rpc, req, CALLBACK_TIMEOUT_MS).catch((err: unknown) => {
        const text = grpcErrorText(err);
        this.#log.error({ reason: text }, `Failed to call ${rpc}`);
        throw new Error(text);
      });
      return parseReply(schema, reply, `hook sidecar ${callback.hookName} (${callback.socketPath}) ${rpc}`);
    } finally {
      client.close();
    }
  }

  /** The domain XML after every OnDefineDomain hook, each given the previous one's result and the VMI. */
  async onDefineDomain(domainXML: string, vmi: VirtualMachineInstance): Promise<string> {
    const callbacks = this.#callbacksPerHookPoint.get(OnDefineDomainHookPointName);
    if (callbacks === undefined) return domainXML;
    const vmiJSON = Buffer.from(JSON.stringify(vmi));
    let xml: Buffer = Buffer.from(domainXML);
    for (const callback of callbacks) {
      const result = await this.#call(callback, 'OnDefineDomain', { domainXML: xml, vmi: vmiJSON }, onDefineDomainResult);
      if (result.domainXML.length === 0) {
        throw new Error(`hook sidecar ${callback.hookName} (${callback.socketPath}) OnDefineDomain returned an empty domainXML`);
      }
      xml = result.domainXML;
    }
    return xml.toString('utf8');
  }

  /**
   * The cloud-init data after the first PreCloudInitIso hook of version v1alpha2 or later. A reply
   * without valid CloudInitData (user data and metadata) is read as the legacy CloudInitNoCloudSource.
   */
  async preCloudInitIso(vmi: VirtualMachineInstance, data: CloudInitData): Promise<CloudInitData> {
    const callbacks = this.#callbacksPerHookPoint.get(PreCloudInitIsoHookPointName);
    if (callbacks === undefined) return data;
    const req = {
      cloudInitData: Buffer.from(JSON.stringify(data)),
      cloudInitNoCloudSource: Buffer.from(JSON.stringify({ userData: data.UserData, networkData: data.NetworkData })),
      vmi: Buffer.from(JSON.stringify(vmi)),
    };
    for (const callback of callbacks) {
      if (callback.version === 'v1alpha1') {
        this.#log.error(`Unsupported callback version: ${callback.version}`);
        continue;
      }
      const what = `hook sidecar ${callback.hookName} (${callback.socketPath}) PreCloudInitIso`;
      const result = await this.#call(callback, 'PreCloudInitIso', req, preCloudInitIsoResult);
      const json = parseJSON(result.cloudInitData, `${what}: cloudInitData`);
      const parsed = json === null ? undefined : parseReply(cloudInitData, json, `${what}: cloudInitData`);
      if (parsed && parsed.UserData !== '' && (parsed.NoCloudMetaData != null || parsed.ConfigDriveMetaData != null)) return parsed;
      const legacy = parseReply(
        noCloudSource,
        parseJSON(result.cloudInitNoCloudSource, `${what}: cloudInitNoCloudSource`),
        `${what}: cloudInitNoCloudSource`,
      );
      return { DataSource: data.DataSource, UserData: legacy.userData ?? '', NetworkData: legacy.networkData ?? '', VolumeName: '' };
    }
    return data;
  }

  /** Tells the v1alpha3 Shutdown subscribers the VM is gone. */
  async shutdown(): Promise<void> {
    for (const callback of this.#callbacksPerHookPoint.get(ShutdownHookPointName) ?? []) {
      if (callback.version !== 'v1alpha3') {
        this.#log.error(`Unsupported callback version: ${callback.version}`);
        continue;
      }
      await this.#call(callback, 'Shutdown', {}, z.object({}));
    }
  }
}

/** Go's json.Unmarshal of a reply's bytes into a pointer: `null` and an empty reply mean nothing set. */
function parseJSON(buf: Buffer, what: string): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * ApplySidecarHooks (virtwrap/util): the hooks' domain XML, which must still be a domain spec
 * virt-launcher can read, else the define fails with the parse error.
 */
export function applySidecarHooks(
  manager: Pick<HooksManager, 'onDefineDomain'>,
): (domainXML: string, vmi: VirtualMachineInstance) => Promise<string> {
  return async (domainXML, vmi) => {
    const xml = await manager.onDefineDomain(domainXML, vmi);
    try {
      domainSpecFromXML(xml);
    } catch (err) {
      throw new Error(`the hook sidecars' domain XML does not parse: ${err instanceof Error ? err.message : String(err)}`);
    }
    return xml;
  };
}
