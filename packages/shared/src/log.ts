// KubeVirt's structured log lines (`kubevirt.io/client-go/log`) on top of pino:
// {"component":"virt-handler","level":"info","msg":"…","pos":"vm.ts:123","timestamp":"…",
//  "kind":"VirtualMachineInstance","name":"…","namespace":"…","uid":"…","reason":"…"}
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getCallSites } from 'node:util';
import pino from 'pino';

export type Logger = pino.Logger;
export type Component = 'virt-launcher' | 'virt-handler' | (string & {});

export interface LoggerOptions {
  component: Component;
  /** klog-style verbosity, the daemons' `-v` (0..9; KubeVirt's default is 2). */
  verbosity?: number;
  /** A pino level instead of a verbosity, e.g. `silent` in tests. */
  level?: pino.LevelWithSilent;
  /** Where lines go; stderr (synchronously, so nothing is lost on exit) by default, as in KubeVirt. */
  destination?: pino.DestinationStream;
}

/** KubeVirt's default `-v`: plain `Info` logs at V(2). */
export const DEFAULT_VERBOSITY = 2;

/**
 * klog verbosity → pino level. KubeVirt's `Info` is V(2), so `logger.info` is V(2), `logger.debug`
 * stands for V(3)/V(4) and `logger.trace` for V(5) and up; below 2 only warnings and errors remain.
 */
export function verbosityToLevel(verbosity: number): pino.Level {
  if (!Number.isInteger(verbosity) || verbosity < 0) {
    throw new RangeError(`verbosity must be a non-negative integer, got ${verbosity}`);
  }
  if (verbosity < 2) return 'warn';
  if (verbosity === 2) return 'info';
  if (verbosity <= 4) return 'debug';
  return 'trace';
}

// KubeVirt knows only these four level names; every verbosity of info is "info".
function kubevirtLevelName(value: number): string {
  if (value >= 60) return 'fatal';
  if (value >= 50) return 'error';
  if (value >= 40) return 'warning';
  return 'info';
}

// Go layout "2006-01-02T15:04:05.000000Z": UTC, microseconds (ours end in 000).
function kubevirtTimestamp(): string {
  return new Date().toISOString().replace(/Z$/, '000Z');
}

const thisFile = import.meta.url;

// KubeVirt's "pos" is the caller's file:line; the first frame outside pino and this module.
function callerPosition(): string {
  for (const site of getCallSites(16).slice(1)) {
    const script = site.scriptName;
    if (script === thisFile || script.includes('/node_modules/pino/') || script.startsWith('node:')) continue;
    const file = script.startsWith('file:') ? fileURLToPath(script) : script;
    return `${basename(file)}:${site.lineNumber}`;
  }
  return '';
}

/**
 * Keys whose values never reach a log line, at any depth up to five levels. Name a work-queue key
 * `vmiKey` (or put it in the message): a field called `key` is redacted too.
 */
export const REDACTED_KEYS = [
  'token',
  'bearerToken',
  'password',
  'passwd',
  'secret',
  'key',
  'privateKey',
  'authorization',
  'Authorization',
] as const;

export const REDACT_CENSOR = '[REDACTED]';

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of REDACTED_KEYS) {
    for (let depth = 0; depth <= 4; depth++) paths.push(`${'*.'.repeat(depth)}${key}`);
  }
  return paths;
}

/**
 * The project's one way to turn a caught value into text: an Error's message, anything else
 * stringified. Log lines put the caught value itself in `reason` (`logger.warn({ reason: err }, …)`
 * or `withReason(logger, err)`): the logger's serializer calls this.
 */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? verbosityToLevel(options.verbosity ?? DEFAULT_VERBOSITY);
  return pino(
    {
      level,
      base: { component: options.component },
      messageKey: 'msg',
      // An Error passed first (`logger.error(err, 'msg')`) becomes KubeVirt's `reason` field.
      errorKey: 'reason',
      serializers: { reason: errorMessage },
      timestamp: () => `,"timestamp":"${kubevirtTimestamp()}"`,
      formatters: { level: (_label, value) => ({ level: kubevirtLevelName(value) }) },
      mixin: () => ({ pos: callerPosition() }),
      redact: { paths: redactPaths(), censor: REDACT_CENSOR },
    },
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  );
}

interface ObjectMetaLike {
  name?: string | undefined;
  namespace?: string | undefined;
  uid?: string | undefined;
}

/** A k8s object (`metadata`) or a KubeVirt Domain (`ObjectMeta`). */
export interface LoggableObject {
  kind?: string | undefined;
  metadata?: ObjectMetaLike | undefined;
  ObjectMeta?: ObjectMetaLike | undefined;
}

/** KubeVirt's `log.Log.Object(obj)`: namespace (when set), name, kind and uid on every line. */
export function forObject(logger: Logger, obj: LoggableObject): Logger {
  const meta = obj.metadata ?? obj.ObjectMeta ?? {};
  const bindings: Record<string, string> = {};
  if (meta.namespace) bindings['namespace'] = meta.namespace;
  bindings['name'] = meta.name ?? '';
  bindings['kind'] = obj.kind ?? '';
  bindings['uid'] = meta.uid ?? '';
  return logger.child(bindings);
}

/** KubeVirt's `log.Log.Reason(err)`: the error's message as `reason` on every line. */
export function withReason(logger: Logger, err: unknown): Logger {
  return logger.child({ reason: err });
}
