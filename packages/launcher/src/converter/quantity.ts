// k8s resource.Quantity (k8s.io/apimachinery/pkg/api/resource) as far as the converter reads it, on
// shared's exact parse: rounded as KubeVirt rounds, refused with the field's path.
import { parseQuantity, roundUp, type Quantity, type Rational } from '@kubevirt-ts/shared';
import { ConversionError } from './errors.ts';

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
  return Number(roundUp(mustParse(q, path)));
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
