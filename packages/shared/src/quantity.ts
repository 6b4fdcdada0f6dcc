// k8s resource.Quantity (k8s.io/apimachinery/pkg/api/resource) parsed exactly, as a fraction, so 1.5Gi
// or 100m lose nothing before KubeVirt rounds them.
import type { Quantity } from './vmi.ts';

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

/** Quantity.Value(): the value rounded up to a whole number (a CPU request of 500m is 1). */
export function roundUp(r: Rational): bigint {
  const floor = r.num / r.den - (r.num % r.den < 0n ? 1n : 0n);
  return r.num % r.den === 0n ? floor : floor + 1n;
}

/** Quantity.Value(): rounded up to a whole number; undefined when the text is not a quantity. */
export function quantityValue(q: Quantity): number | undefined {
  const r = parseQuantity(q);
  return r ? Number(roundUp(r)) : undefined;
}
