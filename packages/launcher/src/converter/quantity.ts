// k8s resource.Quantity (k8s.io/apimachinery/pkg/api/resource) as far as the converter reads it:
// parsed exactly, as a fraction, so 1.5Gi or 100m lose nothing before KubeVirt rounds them.
import type { Quantity } from '@kubevirt-ts/shared';
import { ConversionError } from './errors.ts';

/** A quantity's exact value: numerator / denominator, denominator > 0. */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

// <signedNumber><suffix>; suffix: binary SI, decimal SI (n u m "" k M G T P E), or e/E<signedNumber>
const QUANTITY = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

const BINARY: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** resource.ParseQuantity; undefined when the text is not a quantity. */
export function parseQuantity(q: Quantity): Rational | undefined {
  const text = typeof q === 'number' ? numberText(q) : q;
  if (text === undefined) return undefined;
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const [, sign = '', whole = '', fraction = '', suffix = ''] = m;
  if (whole === '' && fraction === '') return undefined;
  let num = BigInt(`${whole || '0'}${fraction}`);
  let den = 10n ** BigInt(fraction.length);
  if (sign === '-') num = -num;
  let exp10 = 0;
  const binary = BINARY[suffix];
  if (binary !== undefined) num *= 2n ** binary;
  else if (suffix.startsWith('e') || suffix.startsWith('E')) {
    if (suffix.length > 1) exp10 = Number(suffix.slice(1));
    else exp10 = DECIMAL.E as number;
  } else if (suffix !== '') exp10 = DECIMAL[suffix] as number;
  if (exp10 >= 0) num *= 10n ** BigInt(exp10);
  else den *= 10n ** BigInt(-exp10);
  return { num, den };
}

function numberText(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  // JSON numbers are quantities too; write them without exponent so the grammar above applies
  return Number.isInteger(n) ? BigInt(n).toString() : String(n).includes('e') ? n.toFixed(20) : String(n);
}

function mustParse(q: Quantity | undefined, path: string): Rational {
  const r = q === undefined ? undefined : parseQuantity(q);
  if (!r) throw new ConversionError(path, `${JSON.stringify(q)} is not a valid quantity (e.g. 128Mi, 1Gi, 512M)`);
  return r;
}

/**
 * vcpu.QuantityToByte: the byte count of a memory quantity; a fractional value rounds down (Go's
 * `Value() - 1` of a rounded-up value), a negative one is an error.
 */
export function quantityToBytes(q: Quantity | undefined, path: string): number {
  const r = mustParse(q, path);
  if (r.num < 0n) throw new ConversionError(path, `Memory size '${String(q)}' must be greater than or equal to 0`);
  const bytes = r.num / r.den;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConversionError(path, `${String(q)} is too large`);
  return Number(bytes);
}

/** Quantity.Value(): the value rounded up to an integer (how a CPU request of 500m becomes 1). */
export function quantityValue(q: Quantity | undefined, path: string): number {
  const r = mustParse(q, path);
  const floor = r.num / r.den - (r.num % r.den < 0n ? 1n : 0n);
  const ceil = r.num % r.den === 0n ? floor : floor + 1n;
  return Number(ceil);
}

/** Exact comparison, as Quantity.Cmp. */
export function compareQuantities(a: Rational, b: Rational): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function mustParseQuantity(q: Quantity | undefined, path: string): Rational {
  return mustParse(q, path);
}
