// The one error type for bad input at this layer (flags, VMI JSON, Domain JSON), and the zod glue that
// turns a zod failure into a single line naming the field.
import * as z from 'zod/mini';

export type FieldPath = readonly PropertyKey[];

export class ValidationError extends Error {
  override readonly name: string = 'ValidationError';
  /** Dotted path of the first offending field, '' for the document itself. */
  readonly path: string;
  /** Every problem found, first one first; `message` carries the first. */
  readonly problems: readonly string[];

  constructor(message: string, options: { path?: string; problems?: readonly string[] } = {}) {
    super(message);
    this.path = options.path ?? '';
    this.problems = options.problems ?? [message];
  }
}

/** `spec.domain.devices.disks[0].name`, `metadata.labels["kubevirt.io/nodeName"]`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'symbol') out += `[${segment.toString()}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

const article: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  record: 'an object',
  null: 'null',
};

/** One zod issue as a short phrase: `expected a number`, `is required`, `expected one of "a", "b"`. */
export function describeProblem(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      // z.int() reports "int" for any input; only a number that is not whole deserves "an integer"
      if (issue.expected === 'int' && typeof issue.input !== 'number') return 'expected a number';
      return `expected ${article[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}`
        : `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${String(issue.minimum)}`;
    case 'too_big':
      return `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}

function problemOf(issue: z.core.$ZodIssue): { path: string; line: string } {
  const path = formatPath(issue.path);
  const problem = describeProblem(issue);
  return { path, line: path === '' ? problem : `${path}: ${problem}` };
}

/**
 * Validates `input` against `schema`; on failure throws a ValidationError naming the first bad field.
 * The offending values themselves stay out of the error: a VMI may carry secrets (cloud-init userData).
 */
export function validate<S extends z.core.$ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = z.safeParse(schema, input, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map(problemOf);
  const first = problems[0] ?? { path: '', line: `invalid ${what}` };
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  throw new ValidationError(`${first.line}${more}`, {
    path: first.path,
    problems: problems.map((p) => p.line),
  });
}

/** Accepts what arrives on the wire (a JSON string or bytes) or an already-decoded value. */
export function decodeJSON(json: unknown, what: string): unknown {
  if (typeof json !== 'string' && !(json instanceof Uint8Array)) return json;
  const text = typeof json === 'string' ? json : new TextDecoder().decode(json);
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8 quotes the start of the text in some messages; the text may hold secrets
    const reason = (err as Error).message.replace(/,? ".*" is not valid JSON$/s, '');
    throw new ValidationError(`invalid ${what} JSON: ${reason}`);
  }
}

/**
 * The modelled part of a loose schema's output: the `[key: string]: unknown` a loose object adds is
 * dropped (so a misspelt field is a type error and plain interfaces are assignable), while maps such
 * as labels, which have no named keys, keep theirs. Unmodelled keys are still there at runtime.
 */
export type Known<T> = T extends readonly (infer Item)[]
  ? Known<Item>[]
  : T extends object
    ? [NamedKeys<T>] extends [never]
      ? T
      : { [K in keyof T as string extends K ? never : number extends K ? never : K]: Known<T[K]> }
    : T;

type NamedKeys<T> = keyof { [K in keyof T as string extends K ? never : number extends K ? never : K]: 0 };

/**
 * A string field whose known values form a union, but which — like Go's string-typed constants —
 * accepts any other string a newer peer may send.
 */
export function openEnum<const T extends readonly string[]>(_known: T) {
  return z.string() as unknown as z.ZodMiniType<T[number] | (string & {}), string>;
}

/** decodeJSON + validate: the one way a wire document becomes a typed value. */
export function parseWith<S extends z.core.$ZodType>(schema: S, json: unknown, what: string): z.output<S> {
  return validate(schema, decodeJSON(json, what), what);
}
