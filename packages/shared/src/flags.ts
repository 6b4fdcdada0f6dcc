// Command-line flags the way KubeVirt's binaries (Go pflag) take them, declared as a zod object:
// keys are camelCase (`qemuTimeout` is `--qemu-timeout`), `.describe()` is the usage text.
import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { describeProblem, ValidationError } from './validation.ts';

/** Bad command line (exit code 2), or `--help` (exit code 0, message = usage), as pflag's ErrHelp. */
export class FlagError extends ValidationError {
  override readonly name: string = 'FlagError';
  /** `--qemu-timeout`, or '' when the problem is not one flag's. */
  readonly flag: string;
  readonly exitCode: 0 | 2;

  constructor(message: string, options: { flag?: string; exitCode?: 0 | 2 } = {}) {
    super(message, { path: options.flag ?? '' });
    this.flag = options.flag ?? '';
    this.exitCode = options.exitCode ?? 2;
  }
}

// --- Go durations -------------------------------------------------------------------------------

const durationUnitsMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5
  μs: 1e-3, // U+03BC
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration, in milliseconds; undefined when `text` is not a Go duration. */
export function parseGoDuration(text: string): number | undefined {
  const match = /^([-+]?)(.*)$/s.exec(text);
  if (!match) return undefined;
  const sign = match[1] === '-' ? -1 : 1;
  const body = match[2] ?? '';
  if (body === '0') return 0;
  if (body === '') return undefined;
  const part = /(\d*(?:\.\d*)?)([a-z\u00b5\u03bc]+)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = part.exec(body); m !== null; m = part.exec(body)) {
    const [whole, number = '', unit = ''] = m;
    const perUnit = durationUnitsMs[unit];
    if (perUnit === undefined || number === '' || number === '.') return undefined;
    total += Number(number) * perUnit;
    consumed += whole.length;
  }
  return consumed === body.length ? sign * total : undefined;
}

function trimNumber(value: number): string {
  return String(Number(value.toFixed(9)));
}

/** Go's Duration.String for a millisecond count: `4m0s`, `1h30m0s`, `300ms`, `1.5s`. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1) return rest * 1000 >= 1 ? `${sign}${trimNumber(rest * 1000)}µs` : `${sign}${trimNumber(rest * 1e6)}ns`;
  if (rest < 1000) return `${sign}${trimNumber(rest)}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  let out = sign;
  if (hours > 0) out += `${hours}h`;
  if (hours > 0 || minutes > 0) out += `${minutes}m`;
  return `${out}${trimNumber(rest / 1000)}s`;
}

const DURATION_PROBLEM = 'expected a duration like 5m or 30s';

// Marks schemas made by goDuration(); registries follow clones, so `z.describe()` keeps the mark.
const durationSchemas = z.registry<{ goDuration: true }>();

/**
 * A Go duration flag (`5m`, `30s`, `1h30m`, `250ms`) parsed to milliseconds. Give its default in
 * Go's spelling with `z.prefault(goDuration(), '5m')`, or in milliseconds with `z._default(goDuration(), 300_000)`.
 */
export function goDuration() {
  const schema = z.pipe(
    z.string(),
    z.transform((text, ctx) => {
      const ms = parseGoDuration(text);
      if (ms === undefined) {
        ctx.issues.push({ code: 'custom', message: DURATION_PROBLEM, input: text });
        return z.NEVER;
      }
      return ms;
    }),
  );
  durationSchemas.add(schema, { goDuration: true });
  return schema;
}

// --- schema introspection -----------------------------------------------------------------------

type FlagKind = 'boolean' | 'number' | 'string' | 'duration' | 'enum' | 'list';

interface FlagSpec {
  key: string;
  name: string;
  kind: FlagKind;
  /** element kind of a list */
  element: 'number' | 'string';
  /** a number flag that only takes integers (help says `int`) */
  integer: boolean;
  /** the choices of an enum flag */
  choices: string[];
  description: string;
  defaultValue: unknown;
  required: boolean;
  envName: string | undefined;
}

type AnySchema = z.core.$ZodType;

function defOf(schema: AnySchema): Record<string, unknown> & { type: string } {
  return schema._zod.def as unknown as Record<string, unknown> & { type: string };
}

const wrapperTypes = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

const integerFormats = new Set(['safeint', 'int32', 'uint32']);

/** zod/mini: `z.int()` as the schema, or as a check of a `z.coerce.number()` (the classic API has `isInt`). */
function hasIntegerFormat(def: Record<string, unknown>): boolean {
  if (integerFormats.has(def['format'] as string)) return true;
  const checks = (def['checks'] ?? []) as Array<{ _zod: { def: { check?: string; format?: string } } }>;
  return checks.some((c) => c._zod.def.check === 'number_format' && integerFormats.has(c._zod.def.format ?? ''));
}

function describeFlag(key: string, schema: AnySchema, envPrefix: string | undefined, literalNames: boolean): FlagSpec {
  const name = literalNames || key.includes('-') ? key : key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
  const spec: FlagSpec = {
    key,
    name,
    kind: 'string',
    element: 'string',
    integer: false,
    choices: [],
    description: '',
    defaultValue: undefined,
    required: true,
    envName: envPrefix === undefined ? undefined : `${envPrefix}${name.replace(/-/g, '_').toUpperCase()}`,
  };
  let current: AnySchema = schema;
  for (;;) {
    const description = z.globalRegistry.get(current)?.description;
    if (spec.description === '' && description) spec.description = description;
    if (durationSchemas.get(current)) {
      spec.kind = 'duration';
      break;
    }
    const def = defOf(current);
    if ((def.type === 'default' || def.type === 'prefault') && spec.defaultValue === undefined) {
      spec.defaultValue = def['defaultValue'];
    }
    if (wrapperTypes.has(def.type)) {
      if (def.type !== 'nonoptional') spec.required = false;
      current = def['innerType'] as AnySchema;
      continue;
    }
    if (def.type === 'pipe') {
      current = def['in'] as AnySchema;
      continue;
    }
    if (def.type === 'boolean' || def.type === 'number' || def.type === 'enum') spec.kind = def.type;
    if (def.type === 'number') spec.integer = (current as { isInt?: boolean }).isInt === true || hasIntegerFormat(def);
    if (def.type === 'enum') spec.choices = Object.values(def['entries'] as Record<string, string>);
    if (def.type === 'array') {
      spec.kind = 'list';
      const element = defOf(def['element'] as AnySchema);
      if (element.type === 'number') spec.element = 'number';
    }
    break;
  }
  return spec;
}

function flagSpecs(schema: z.core.$ZodObject, envPrefix: string | undefined, literalNames = false): FlagSpec[] {
  return Object.entries(schema._zod.def.shape).map(([key, field]) => describeFlag(key, field as AnySchema, envPrefix, literalNames));
}

// --- usage --------------------------------------------------------------------------------------

const typeNames: Record<FlagKind, string> = {
  boolean: '',
  number: 'number',
  string: 'string',
  duration: 'duration',
  enum: 'string',
  list: 'strings',
};

function formatDefault(spec: FlagSpec): string {
  const value = spec.defaultValue;
  if (value === undefined || value === false || value === 0 || value === '' || (Array.isArray(value) && value.length === 0)) {
    return '';
  }
  if (spec.kind === 'duration') {
    const ms = typeof value === 'string' ? parseGoDuration(value) : value;
    if (typeof ms === 'number') return ` (default ${formatGoDuration(ms)})`;
  }
  if (typeof value === 'string') return ` (default ${JSON.stringify(value)})`;
  if (Array.isArray(value)) return ` (default [${value.join(',')}])`;
  return ` (default ${String(value)})`;
}

export interface FlagUsageOptions {
  /** Program name for the first line, e.g. `virt-launcher`. */
  program?: string;
  /** Environment variables named `<envPrefix><FLAG_NAME>` fill flags not given on the command line. */
  envPrefix?: string;
  /** Flag names are the keys as written, camelCase kept (virt-probe's `--domainName`). */
  literalNames?: boolean;
}

/** pflag-style usage text generated from the schema's `.describe()` texts. */
export function flagUsage(schema: z.core.$ZodObject, options: FlagUsageOptions = {}): string {
  const rows = flagSpecs(schema, options.envPrefix, options.literalNames).map((spec) => {
    const names = spec.name.length === 1 ? `  -${spec.name}, --${spec.name}` : `      --${spec.name}`;
    const typeName = spec.integer ? 'int' : typeNames[spec.kind];
    const left = `${names}${typeName === '' ? '' : ` ${typeName}`}`;
    let right = spec.description;
    if (spec.kind === 'enum') right += ` (one of ${spec.choices.join(', ')})`;
    right += formatDefault(spec);
    if (spec.required) right += ' (required)';
    if (spec.envName !== undefined) right += ` [$${spec.envName}]`;
    return [left, right.trim()] as const;
  });
  rows.push(['  -h, --help', 'show this help']);
  const width = Math.max(...rows.map(([left]) => left.length));
  const lines = rows.map(([left, right]) => `${left.padEnd(width)}   ${right}`.trimEnd());
  return [`Usage of ${options.program ?? 'this program'}:`, ...lines].join('\n');
}

// --- parsing ------------------------------------------------------------------------------------

export interface ParseFlagsOptions extends FlagUsageOptions {
  /** Consulted only when given (usually `process.env`); the command line wins over it. */
  env?: Record<string, string | undefined>;
}

interface RawValue {
  text: string;
  source: string; // how to point at it in an error: '' for argv, ' (from $VAR)' for env
}

// Go's strconv.ParseBool
function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

function invalid(spec: FlagSpec, raw: RawValue, problem: string): FlagError {
  return new FlagError(`invalid value ${JSON.stringify(raw.text)} for flag --${spec.name}${raw.source}: ${problem}`, {
    flag: `--${spec.name}`,
  });
}

function convert(spec: FlagSpec, raws: RawValue[]): unknown {
  const last = raws[raws.length - 1] as RawValue;
  switch (spec.kind) {
    case 'boolean': {
      const value = parseGoBool(last.text);
      if (value === undefined) throw invalid(spec, last, 'expected true or false');
      return value;
    }
    case 'number':
      return toNumber(spec, last);
    case 'list':
      return raws.flatMap((raw) =>
        raw.text.split(',').map((item) => (spec.element === 'number' ? toNumber(spec, { ...raw, text: item }) : item)),
      );
    default:
      return last.text;
  }
}

function toNumber(spec: FlagSpec, raw: RawValue): number {
  const value = raw.text.trim() === '' ? Number.NaN : Number(raw.text);
  if (Number.isNaN(value)) throw invalid(spec, raw, 'expected a number');
  return value;
}

/** Splits argv the way pflag reads it and rewrites each flag as `--name=value` for util.parseArgs. */
function canonicalArgs(argv: readonly string[], specs: Map<string, FlagSpec>, usage: () => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      const extra = argv[i + 1];
      if (extra !== undefined) throw new FlagError(`unexpected argument ${JSON.stringify(extra)}`);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
    const dashes = arg.startsWith('--') ? '--' : '-';
    const body = arg.slice(dashes.length);
    const eq = body.indexOf('=');
    let name = eq === -1 ? body : body.slice(0, eq);
    let inline = eq === -1 ? undefined : body.slice(eq + 1);
    if (name === 'help' || (name === 'h' && !specs.has('h'))) throw new FlagError(usage(), { exitCode: 0 });
    let spec = specs.get(name);
    // pflag shorthand with the value attached: -v3
    const short = specs.get(name.charAt(0));
    if (!spec && dashes === '-' && inline === undefined && short?.name.length === 1 && short.kind !== 'boolean') {
      spec = short;
      inline = name.slice(1);
      name = short.name;
    }
    if (!spec) throw new FlagError(`unknown flag: ${dashes}${name}`, { flag: `${dashes}${name}` });
    if (spec.kind === 'boolean') {
      const text = inline ?? 'true';
      const value = parseGoBool(text);
      if (value === undefined) throw invalid(spec, { text, source: '' }, 'expected true or false');
      out.push(value ? `--${spec.name}` : `--no-${spec.name}`);
      continue;
    }
    if (inline === undefined) {
      // pflag takes the next argument as the value even when it starts with a dash (`--offset -1`)
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: --${spec.name}`, { flag: `--${spec.name}` });
      inline = argv[++i] as string;
    }
    out.push(`--${spec.name}=${inline}`);
  }
  return out;
}

/**
 * Parses `argv` (without the node and script paths) against a zod object of flags; values missing
 * from argv come from `env`, then from the schema's defaults. Throws FlagError with a one-line message.
 */
export function parseFlags<S extends z.core.$ZodObject>(schema: S, argv: readonly string[], options: ParseFlagsOptions = {}): z.output<S> {
  const specs = flagSpecs(schema, options.env === undefined ? undefined : (options.envPrefix ?? ''), options.literalNames);
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const args = canonicalArgs(argv, byName, () => flagUsage(schema, options));

  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    allowNegative: true,
    options: Object.fromEntries(
      specs.map((spec) => [spec.name, { type: spec.kind === 'boolean' ? 'boolean' : 'string', multiple: spec.kind === 'list' }]),
    ),
  });

  const raws = new Map<string, RawValue[]>();
  const input: Record<string, unknown> = {};
  for (const spec of specs) {
    const given = values[spec.name];
    if (given !== undefined) {
      if (typeof given === 'boolean') {
        input[spec.key] = given;
        continue;
      }
      raws.set(
        spec.key,
        (Array.isArray(given) ? given : [given]).map((text) => ({ text: String(text), source: '' })),
      );
    } else if (spec.envName !== undefined && options.env?.[spec.envName] !== undefined) {
      raws.set(spec.key, [{ text: options.env[spec.envName] as string, source: ` (from $${spec.envName})` }]);
    }
    const specRaws = raws.get(spec.key);
    if (specRaws) input[spec.key] = convert(spec, specRaws);
  }

  const result = z.safeParse(schema, input, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const spec = specs.find((s) => s.key === issue.path[0]);
  if (!spec) throw new FlagError(issue.message);
  const specRaws = raws.get(spec.key);
  if (!specRaws) throw new FlagError(`missing required flag --${spec.name}`, { flag: `--${spec.name}` });
  const item = issue.path[1];
  const raw =
    spec.kind === 'list' && typeof item === 'number'
      ? { text: String((input[spec.key] as unknown[])[item]), source: (specRaws[0] as RawValue).source }
      : (specRaws[specRaws.length - 1] as RawValue);
  throw invalid(spec, raw, describeProblem(issue));
}

export interface ExitIO {
  write(line: string): void;
  exit(code: number): never;
}

const processIO: ExitIO = {
  write: (line) => process.stderr.write(line),
  exit: (code) => process.exit(code),
};

/** Runs `fn`; a FlagError is printed to stderr and ends the process (2, or 0 for --help), like pflag. */
export function exitOnFlagError<T>(fn: () => T, io: ExitIO = processIO): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    io.write(`${err.message}\n`);
    return io.exit(err.exitCode);
  }
}
