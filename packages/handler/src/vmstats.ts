// The vmstats server (cmd/virt-handler runVMStatsServer, pkg/virt-handler/rest/vmstats.go, --vmstats-server-port
// 8187): GET /v1/vmstats asks every launcher of the node's VMIs for the stats categories the query marks
// (GetVMStats) and answers a JSON map "namespace/name" → {stats} or {error}. TLS with the handler's server
// certificate; clients present a certificate of the KubeVirt CA with CommonName kubevirt.io:system:client:monitoring.
// Only with the VMStatsCollector feature gate.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CmdClient, cmdv1 } from '@kubevirt-ts/proto';
import { errorMessage, forObject, withReason, type Logger, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { launcherCommandError } from './rest/common.ts';
import { enforceClientCertificate, secureContextOptions, type ServerTLS } from './rest/tls.ts';

/** The feature gate that turns the endpoint on (VMStatsCollectorEnabled). */
export const VMStatsCollectorFeatureGate = 'VMStatsCollector';
/** The CommonName a vmstats client presents (SetupTLSForVirtHandlerServer with cnTypes ["monitoring"]). */
export const VMSTATS_CLIENT_CN = 'kubevirt.io:system:client:monitoring';
/** collector.CollectionTimeout and StatsMaxAge */
export const CollectionTimeout = 10_000;
export const StatsMaxAge = CollectionTimeout + 2000;

/** Query parameter (=true) → VMStatsRequest field, as buildVMStatsRequestFromQuery. */
const QUERY_FIELDS = [
  'domainStats',
  'dirtyRate',
  'guestGetLoad',
  'guestGetCpuStats',
  'guestGetDiskStats',
  'guestGetTime',
  'guestGetVcpus',
  'guestGetMemoryBlockInfo',
  'guestGetUsers',
  'guestGetOsInfo',
  'guestGetDisks',
  'guestGetHostName',
  'guestGetTimezone',
  'guestNetworkGetRoute',
  'guestNetworkGetInterfaces',
  'guestGetMemoryBlocks',
] as const;

/** stats.VMStats: Go field names (the struct has no json tags). */
const AGENT_RESULT_FIELDS: Array<[string, keyof cmdv1.VMStatsResponse__Output]> = [
  ['GuestAgentVersion', 'guestAgentVersion'],
  ['GuestGetLoad', 'guestGetLoad'],
  ['GuestGetCpuStats', 'guestGetCpuStats'],
  ['GuestGetDiskStats', 'guestGetDiskStats'],
  ['GuestGetTime', 'guestGetTime'],
  ['GuestGetVcpus', 'guestGetVcpus'],
  ['GuestGetMemoryBlockInfo', 'guestGetMemoryBlockInfo'],
  ['GuestGetUsers', 'guestGetUsers'],
  ['GuestGetOsInfo', 'guestGetOsInfo'],
  ['GuestGetDisks', 'guestGetDisks'],
  ['GuestGetHostName', 'guestGetHostName'],
  ['GuestGetTimezone', 'guestGetTimezone'],
  ['GuestNetworkGetRoute', 'guestNetworkGetRoute'],
  ['GuestNetworkGetInterfaces', 'guestNetworkGetInterfaces'],
  ['GuestGetMemoryBlocks', 'guestGetMemoryBlocks'],
];

export interface VMStatsResult {
  stats?: Record<string, unknown>;
  error?: string;
}

/** The request the query asks for, or undefined when it asks for nothing. */
export function vmStatsRequestFromQuery(query: URLSearchParams): cmdv1.VMStatsRequest | undefined {
  const request: Record<string, object> = {};
  for (const field of QUERY_FIELDS) if (query.get(field) === 'true') request[field] = {};
  return Object.keys(request).length === 0 ? undefined : (request as cmdv1.VMStatsRequest);
}

/** cmd-client GetVMStats: the launcher's answer as stats.VMStats. */
export function vmStatsFromResponse(r: cmdv1.VMStatsResponse__Output): Record<string, unknown> {
  const domainStats = r.domainStats?.domainStats ? (JSON.parse(r.domainStats.domainStats) as unknown) : {};
  const out: Record<string, unknown> = {
    DomainStats: domainStats,
    DirtyRateMbps: r.dirtyRateStats ? Number(r.dirtyRateStats.dirtyRateMbs) : null,
  };
  for (const [goName, field] of AGENT_RESULT_FIELDS) {
    const part = r[field] as { message?: string } | null | undefined;
    out[goName] = part?.message ?? '';
  }
  return out;
}

export interface VMStatsDeps {
  logger: Logger;
  /** The node's VMIs (the source informer's store). */
  vmis(): VirtualMachineInstance[];
  launcherClient(vmi: VirtualMachineInstance): Promise<CmdClient>;
  featureGateEnabled(): boolean;
  /** --max-metric-requests: launchers asked at once (collector.NewConcurrentCollector). */
  maxRequests: number;
}

/** GetVMStats: every VMI's result, those not answered within the collection timeout marked so. */
export async function collectVMStats(deps: VMStatsDeps, request: cmdv1.VMStatsRequest): Promise<Record<string, VMStatsResult>> {
  const vmis = deps.vmis();
  const results: Record<string, VMStatsResult> = {};
  const key = (vmi: VirtualMachineInstance) => `${vmi.metadata.namespace}/${vmi.metadata.name}`;
  let next = 0;
  const scrape = async (vmi: VirtualMachineInstance) => {
    const started = Date.now();
    const log = forObject(deps.logger, { kind: 'VirtualMachineInstance', ...vmi });
    let client: CmdClient;
    try {
      client = await deps.launcherClient(vmi);
    } catch (err) {
      withReason(log, err).error('Failed to connect to cmd client socket');
      results[key(vmi)] = { error: errorMessage(err) };
      return;
    }
    let response: cmdv1.VMStatsResponse__Output;
    try {
      response = await client.GetVMStats(request, { timeoutMs: CollectionTimeout });
      const failure = launcherCommandError('GetVMStats', undefined, response.response);
      if (failure) throw failure;
    } catch (err) {
      const e = launcherCommandError('GetVMStats', err) ?? err;
      withReason(log, e).error('Failed to get VM stats');
      results[key(vmi)] = { error: errorMessage(e) };
      return;
    }
    const elapsed = Date.now() - started;
    if (elapsed > StatsMaxAge) {
      results[key(vmi)] = { error: `stats collection took too long (${elapsed / 1000}s), exceeded max age` };
      return;
    }
    try {
      results[key(vmi)] = { stats: vmStatsFromResponse(response) };
    } catch (err) {
      results[key(vmi)] = { error: errorMessage(err) };
    }
  };
  const worker = async () => {
    while (next < vmis.length) await scrape(vmis[next++]!);
  };
  const workers = Promise.all(Array.from({ length: Math.min(Math.max(1, deps.maxRequests), vmis.length) }, worker));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([workers, new Promise<void>((resolve) => (timer = setTimeout(resolve, CollectionTimeout)))]);
  clearTimeout(timer);
  const answer: Record<string, VMStatsResult> = { ...results };
  for (const vmi of vmis) answer[key(vmi)] ??= { error: 'stats not available: VMI socket not found or busy' };
  return answer;
}

export interface VMStatsServer {
  port: number;
  updateTLS(tls: ServerTLS): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startVMStatsServer(deps: VMStatsDeps, opts: { host: string; port: number; tls: ServerTLS }): Promise<VMStatsServer> {
  let externallyManaged = opts.tls.externallyManaged ?? false;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    if (url.pathname !== '/v1/vmstats') return send(res, 404, 'text/plain; charset=utf-8', '404: Page Not Found');
    if (req.method !== 'GET') return send(res, 405, 'text/plain; charset=utf-8', '405: Method Not Allowed');
    // go-restful's WriteError: the status and the error's text
    if (!deps.featureGateEnabled()) return send(res, 403, 'text/plain; charset=utf-8', 'VMStatsCollector feature gate is not enabled');
    const request = vmStatsRequestFromQuery(url.searchParams);
    if (!request) return send(res, 400, 'text/plain; charset=utf-8', 'at least one stats category must be requested via query parameters');
    const results = await collectVMStats(deps, request);
    return send(res, 200, 'application/json', JSON.stringify(results));
  };
  const server = https.createServer({ ...secureContextOptions(opts.tls), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      withReason(deps.logger, err).error('vmstats request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', errorMessage(err));
      else res.destroy();
    });
  });
  enforceClientCertificate(server, deps.logger, () => ({ externallyManaged, commonName: VMSTATS_CLIENT_CN }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  deps.logger.info(`vmstats server listening on ${opts.host}:${port}`);
  return {
    port,
    updateTLS(tls) {
      externallyManaged = tls.externallyManaged ?? false;
      server.setSecureContext(secureContextOptions(tls));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
