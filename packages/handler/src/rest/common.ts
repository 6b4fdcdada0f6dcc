// What every route of the console server shares, as pkg/virt-handler/rest/common.go and go-restful do it:
// the VMI lookup in the informer cache, go-restful's error and entity writers, and the wording of
// launcher failures as virt-handler's cmd-client words them.
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod/mini';
import { status as grpcStatus, isServiceError, type CmdClient } from '@kubevirt-ts/proto';
import { errorMessage, forObject, withReason, type Logger, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import type { HandlerMetrics } from '../metrics.ts';

export interface ConsoleServerDeps {
  logger: Logger;
  /** the handler's VMI informer cache */
  vmiStore: { get(namespace: string, name: string): VirtualMachineInstance | undefined };
  /**
   * A connected cmd client of the VMI's launcher; throws an Error whose message is the 500 body. The
   * server never closes it: the provider owns it (cache it per VMI, as launcher-clients does).
   */
  launcherClient(vmi: VirtualMachineInstance): Promise<CmdClient>;
  /**
   * Host-visible path of a unix socket inside the VMI's launcher mount namespace, e.g.
   * pathInLauncher=serialConsoleSocketPath(uid) → '/proc/<pid>/root/run/kubevirt-private/<uid>/virt-serial0';
   * throws when the launcher cannot be found.
   */
  launcherSocketPath(vmi: VirtualMachineInstance, pathInLauncher: string): Promise<string>;
  recorder: { event(vmi: VirtualMachineInstance, type: 'Normal' | 'Warning', reason: string, message: string): void };
  metrics?: HandlerMetrics;
}

/** An error that go-restful's WriteError sends as `status` + plain-text `message`. */
export class RestError extends Error {
  override readonly name: string = 'RestError';
  readonly statusCode: number;

  constructor(statusCode: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.statusCode = statusCode;
  }
}

// apimachinery's IsDNS1123Label / IsDNS1123Subdomain, messages included.
const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123Label = new RegExp(`^${dns1123LabelFmt}$`);
const dns1123Subdomain = new RegExp(`^${dns1123SubdomainFmt}$`);
const labelProblem = `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${dns1123LabelFmt}')`;
const subdomainProblem = `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${dns1123SubdomainFmt}')`;

/** Namespaces are DNS-1123 labels and VMI names DNS-1123 subdomains, as the API server admits them. */
export const vmiParams = z.object({
  namespace: z.string().check(z.maxLength(63, 'must be no more than 63 characters'), z.regex(dns1123Label, labelProblem)),
  name: z.string().check(z.maxLength(253, 'must be no more than 253 characters'), z.regex(dns1123Subdomain, subdomainProblem)),
});
export type VMIParams = z.infer<typeof vmiParams>;

/** The path parameters, or a 400 naming the bad one; nothing is looked up before this passes. */
export function parseVMIParams(params: unknown): VMIParams {
  const parsed = vmiParams.safeParse(params);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = String(issue?.path[0] ?? 'name');
  const value = params !== null && typeof params === 'object' && field in params ? String((params as Record<string, unknown>)[field]) : '';
  throw new RestError(400, `invalid ${field} ${JSON.stringify(value)}: ${issue?.message ?? 'invalid'}`);
}

/** rest/common.go getVMI: the VMI from the informer cache, 404 when it is not there. */
export function getVMI(deps: ConsoleServerDeps, params: VMIParams): VirtualMachineInstance {
  const vmi = deps.vmiStore.get(params.namespace, params.name);
  if (vmi === undefined) throw new RestError(404, `VMI ${params.namespace}/${params.name} does not exist`);
  return vmi;
}

/** go-restful WriteError: the status and the error's text, nothing else. */
export function writeError(reply: FastifyReply, statusCode: number, message: string): FastifyReply {
  return reply.code(statusCode).type('text/plain; charset=utf-8').send(message);
}

// Go's encoding/json escapes these even inside strings; JSON.stringify leaves them alone.
const goEscapes: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/** go-restful WriteEntity with PrettyPrintResponses: 200, application/json, indented by one space. */
export function writeEntity(reply: FastifyReply, entity: unknown): FastifyReply {
  const body = JSON.stringify(entity, null, 1).replace(/[<>&\u2028\u2029]/g, (c) => goEscapes[c] ?? c);
  // bytes, so fastify leaves the content type as go-restful writes it (no charset)
  return reply.code(200).header('content-type', 'application/json').send(Buffer.from(body));
}

// grpc-go's codes.Code.String().
const goCodeNames: Record<number, string> = {
  [grpcStatus.OK]: 'OK',
  [grpcStatus.CANCELLED]: 'Canceled',
  [grpcStatus.UNKNOWN]: 'Unknown',
  [grpcStatus.INVALID_ARGUMENT]: 'InvalidArgument',
  [grpcStatus.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [grpcStatus.NOT_FOUND]: 'NotFound',
  [grpcStatus.ALREADY_EXISTS]: 'AlreadyExists',
  [grpcStatus.PERMISSION_DENIED]: 'PermissionDenied',
  [grpcStatus.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [grpcStatus.FAILED_PRECONDITION]: 'FailedPrecondition',
  [grpcStatus.ABORTED]: 'Aborted',
  [grpcStatus.OUT_OF_RANGE]: 'OutOfRange',
  [grpcStatus.UNIMPLEMENTED]: 'Unimplemented',
  [grpcStatus.INTERNAL]: 'Internal',
  [grpcStatus.UNAVAILABLE]: 'Unavailable',
  [grpcStatus.DATA_LOSS]: 'DataLoss',
  [grpcStatus.UNAUTHENTICATED]: 'Unauthenticated',
};

function goStatusText(code: number, details: string): string {
  return `rpc error: code = ${goCodeNames[code] ?? `Code(${code})`} desc = ${details}`;
}

/**
 * cmd-client handleError: a failed call or an in-band `success:false`, worded as virt-handler words it;
 * undefined when the command succeeded.
 */
export function launcherCommandError(
  cmdName: string,
  callError: unknown,
  response?: { success: boolean; message: string } | null,
): Error | undefined {
  if (callError !== undefined) {
    if (isServiceError(callError)) {
      const text = goStatusText(callError.code, callError.details);
      // disconnects and UNIMPLEMENTED are passed on as they are
      if (callError.code === grpcStatus.CANCELLED || callError.code === grpcStatus.UNIMPLEMENTED)
        return new Error(text, { cause: callError });
      return new Error(`unknown error encountered sending command ${cmdName}: ${text}`, { cause: callError });
    }
    if (callError instanceof Error && 'code' in callError && callError.code === 'ECONNRESET') return callError;
    const text = errorMessage(callError);
    return new Error(`unknown error encountered sending command ${cmdName}: ${text}`, { cause: callError });
  }
  if (response && !response.success) return new Error(`server error. command ${cmdName} failed: ${goQuote(response.message)}`);
  return undefined;
}

/** Go's %q for the strings launchers send: a double-quoted literal with Go's escapes. */
export function goQuote(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Runs one launcher RPC and turns any failure into KubeVirt's error text. */
export async function callLauncher<R>(
  cmdName: string,
  call: () => Promise<R>,
  responseOf: (r: R) => { success: boolean; message: string } | null,
): Promise<R> {
  let result: R;
  try {
    result = await call();
  } catch (err) {
    throw launcherCommandError(cmdName, err) ?? err;
  }
  const failure = launcherCommandError(cmdName, undefined, responseOf(result));
  if (failure) throw failure;
  return result;
}

/** Route context: the validated params, the VMI and a logger bound to it. */
export interface VMIContext {
  params: VMIParams;
  vmi: VirtualMachineInstance;
  log: Logger;
}

/** Validates the path, looks the VMI up (400/404 as RestError), and binds the logger to it. */
export function vmiContext(deps: ConsoleServerDeps, request: FastifyRequest): VMIContext {
  const params = parseVMIParams(request.params);
  const vmi = getVMI(deps, params);
  return { params, vmi, log: forObject(deps.logger, { kind: 'VirtualMachineInstance', ...vmi }) };
}

/** KubeVirt logs every failure with the VMI and reason before writing it out. */
export function logFailure(log: Logger, err: unknown, what: string): void {
  withReason(log, err).error(what);
}
