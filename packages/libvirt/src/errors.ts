// The one error type of this package. Errors from the daemon keep libvirt's virErrorNumber,
// virErrorDomain and level; failures on our side of the socket (lost connection, timeout, abort)
// use the codes libvirt's own client reports for them, so code that branches on codes (as
// KubeVirt's checkConnectionLost does) behaves the same.
import { ErrorDomain, ErrorLevel, ErrorNumber, type ErrorNumberName } from './constants.ts';
import type { XdrReader } from './xdr.ts';

/** Where the error was raised: by the daemon, or by this client. */
export type ErrorOrigin = 'daemon' | 'connection-lost' | 'timeout' | 'aborted' | 'protocol';

const errorNames = new Map<number, ErrorNumberName>(Object.entries(ErrorNumber).map(([name, code]) => [code, name as ErrorNumberName]));

export interface LibvirtErrorFields {
  code: number;
  domain: number;
  message: string;
  level?: number;
  str1?: string | null;
  str2?: string | null;
  str3?: string | null;
  int1?: number;
  int2?: number;
  origin?: ErrorOrigin;
  cause?: unknown;
}

export class LibvirtError extends Error {
  override name = 'LibvirtError';
  /** virErrorNumber */
  readonly code: number;
  /** virErrorDomain */
  readonly domain: number;
  /** virErrorLevel */
  readonly level: number;
  readonly str1: string | null;
  readonly str2: string | null;
  readonly str3: string | null;
  readonly int1: number;
  readonly int2: number;
  readonly origin: ErrorOrigin;

  constructor(f: LibvirtErrorFields) {
    super(f.message, f.cause === undefined ? undefined : { cause: f.cause });
    this.code = f.code;
    this.domain = f.domain;
    this.level = f.level ?? ErrorLevel.ERROR;
    this.str1 = f.str1 ?? null;
    this.str2 = f.str2 ?? null;
    this.str3 = f.str3 ?? null;
    this.int1 = f.int1 ?? 0;
    this.int2 = f.int2 ?? 0;
    this.origin = f.origin ?? 'daemon';
  }

  /** The virErrorNumber's name without its VIR_ERR_ prefix, e.g. NO_DOMAIN. */
  get codeName(): ErrorNumberName | `UNKNOWN_${number}` {
    return errorNames.get(this.code) ?? `UNKNOWN_${this.code}`;
  }
}

/** Decodes remote_error, the body of every REPLY with status ERROR. */
export function readRemoteError(r: XdrReader): LibvirtError {
  const code = r.int();
  const domain = r.int();
  const message = r.optional((x) => x.string());
  const level = r.int();
  r.optional(readNonnullDomainSkip);
  const str1 = r.optional((x) => x.string());
  const str2 = r.optional((x) => x.string());
  const str3 = r.optional((x) => x.string());
  const int1 = r.int();
  const int2 = r.int();
  r.optional((x) => {
    x.string();
    x.fixedOpaque(16);
  });
  return new LibvirtError({
    code,
    domain,
    message: message ?? `libvirt error ${code}`,
    level,
    str1,
    str2,
    str3,
    int1,
    int2,
  });
}

function readNonnullDomainSkip(r: XdrReader): void {
  r.string();
  r.fixedOpaque(16);
  r.int();
}

export function connectionLostError(message: string, cause?: unknown): LibvirtError {
  return new LibvirtError({
    code: ErrorNumber.SYSTEM_ERROR,
    domain: ErrorDomain.RPC,
    message,
    origin: 'connection-lost',
    cause,
  });
}

export function timeoutError(message: string): LibvirtError {
  return new LibvirtError({ code: ErrorNumber.OPERATION_TIMEOUT, domain: ErrorDomain.RPC, message, origin: 'timeout' });
}

export function abortedError(message: string, cause?: unknown): LibvirtError {
  return new LibvirtError({
    code: ErrorNumber.OPERATION_ABORTED,
    domain: ErrorDomain.RPC,
    message,
    origin: 'aborted',
    cause,
  });
}

export function protocolError(message: string, cause?: unknown): LibvirtError {
  return new LibvirtError({ code: ErrorNumber.RPC, domain: ErrorDomain.RPC, message, origin: 'protocol', cause });
}

export function isLibvirtError(err: unknown): err is LibvirtError {
  return err instanceof LibvirtError;
}

export function hasErrorCode(err: unknown, code: number): boolean {
  return err instanceof LibvirtError && err.code === code;
}

/** The domain does not exist (VIR_ERR_NO_DOMAIN). */
export function isNotFound(err: unknown): boolean {
  return hasErrorCode(err, ErrorNumber.NO_DOMAIN);
}

/** The operation does not apply in the domain's current state (VIR_ERR_OPERATION_INVALID). */
export function isInvalidOperation(err: unknown): boolean {
  return hasErrorCode(err, ErrorNumber.OPERATION_INVALID);
}

/** The guest agent is not connected or did not answer (VIR_ERR_AGENT_UNRESPONSIVE). */
export function isAgentUnresponsive(err: unknown): boolean {
  return hasErrorCode(err, ErrorNumber.AGENT_UNRESPONSIVE);
}

/** The requested metadata element is absent (VIR_ERR_NO_DOMAIN_METADATA). */
export function isNoDomainMetadata(err: unknown): boolean {
  return hasErrorCode(err, ErrorNumber.NO_DOMAIN_METADATA);
}

/** The driver or the guest does not support the operation. */
export function isUnsupported(err: unknown): boolean {
  return (
    hasErrorCode(err, ErrorNumber.NO_SUPPORT) ||
    hasErrorCode(err, ErrorNumber.OPERATION_UNSUPPORTED) ||
    hasErrorCode(err, ErrorNumber.ARGUMENT_UNSUPPORTED)
  );
}

/** The connection to the daemon is gone (socket closed, keepalive timeout, or not connected). */
export function isConnectionLost(err: unknown): boolean {
  return err instanceof LibvirtError && err.origin === 'connection-lost';
}

/** The call's own deadline passed; the daemon may still complete it. */
export function isTimeout(err: unknown): boolean {
  return err instanceof LibvirtError && err.origin === 'timeout';
}

/** The caller's AbortSignal fired. */
export function isAborted(err: unknown): boolean {
  return err instanceof LibvirtError && err.origin === 'aborted';
}
