// The XDR subset (RFC 4506) libvirt's RPC uses: 4-byte big-endian words, 8-byte hypers as BigInt,
// length-prefixed strings/opaques padded to 4 bytes, optionals as a bool word, counted arrays and
// the one discriminated union libvirt has (typed parameters).

export class XdrError extends Error {
  override name = 'XdrError';
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

function pad(n: number): number {
  return (4 - (n % 4)) % 4;
}

export class XdrWriter {
  #buf: Buffer;
  #len = 0;

  constructor(initialSize = 256) {
    this.#buf = Buffer.allocUnsafe(initialSize);
  }

  // Callers must take the offset before touching #buf: growing replaces it.
  #reserve(n: number): number {
    const need = this.#len + n;
    if (need > this.#buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.#buf.length * 2));
      this.#buf.copy(next, 0, 0, this.#len);
      this.#buf = next;
    }
    const at = this.#len;
    this.#len = need;
    return at;
  }

  int(v: number): this {
    if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff) throw new XdrError(`int out of range: ${v}`);
    const at = this.#reserve(4);
    this.#buf.writeInt32BE(v, at);
    return this;
  }

  uint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new XdrError(`unsigned int out of range: ${v}`);
    const at = this.#reserve(4);
    this.#buf.writeUInt32BE(v, at);
    return this;
  }

  hyper(v: bigint): this {
    if (BigInt.asIntN(64, v) !== v) rangeError('hyper', v);
    const at = this.#reserve(8);
    this.#buf.writeBigInt64BE(v, at);
    return this;
  }

  uhyper(v: bigint): this {
    if (BigInt.asUintN(64, v) !== v) rangeError('unsigned hyper', v);
    const at = this.#reserve(8);
    this.#buf.writeBigUInt64BE(v, at);
    return this;
  }

  double(v: number): this {
    const at = this.#reserve(8);
    this.#buf.writeDoubleBE(v, at);
    return this;
  }

  bool(v: boolean): this {
    return this.int(v ? 1 : 0);
  }

  opaque(data: Uint8Array): this {
    this.uint(data.length);
    return this.#bytes(data);
  }

  fixedOpaque(data: Uint8Array, size: number): this {
    if (data.length !== size) throw new XdrError(`fixed opaque needs ${size} bytes, got ${data.length}`);
    return this.#bytes(data);
  }

  string(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.uint(n);
    const at = this.#reserve(n + pad(n));
    this.#buf.write(s, at, n, 'utf8');
    this.#buf.fill(0, at + n, at + n + pad(n));
    return this;
  }

  optional<T>(v: T | null | undefined, write: (w: this, v: T) => void): this {
    if (v === null || v === undefined) return this.bool(false);
    this.bool(true);
    write(this, v);
    return this;
  }

  array<T>(items: readonly T[], write: (w: this, v: T) => void): this {
    this.uint(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  #bytes(data: Uint8Array): this {
    const at = this.#reserve(data.length + pad(data.length));
    this.#buf.set(data, at);
    this.#buf.fill(0, at + data.length, at + data.length + pad(data.length));
    return this;
  }

  get length(): number {
    return this.#len;
  }

  /** The encoded bytes (a view on the internal buffer: take it once, at the end). */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }
}

function rangeError(kind: string, v: bigint): never {
  throw new XdrError(`${kind} out of range: ${v}`);
}

export class XdrReader {
  readonly #buf: Buffer;
  #pos: number;
  readonly #end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = offset;
    this.#end = end;
  }

  #take(n: number): number {
    if (n < 0 || this.#pos + n > this.#end) {
      throw new XdrError(`XDR underflow: need ${n} bytes at ${this.#pos}, have ${this.#end - this.#pos}`);
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  int(): number {
    return this.#buf.readInt32BE(this.#take(4));
  }

  uint(): number {
    return this.#buf.readUInt32BE(this.#take(4));
  }

  hyper(): bigint {
    return this.#buf.readBigInt64BE(this.#take(8));
  }

  uhyper(): bigint {
    return this.#buf.readBigUInt64BE(this.#take(8));
  }

  double(): number {
    return this.#buf.readDoubleBE(this.#take(8));
  }

  bool(): boolean {
    const v = this.int();
    if (v !== 0 && v !== 1) throw new XdrError(`invalid XDR bool ${v}`);
    return v === 1;
  }

  opaque(max = Infinity): Buffer {
    const n = this.uint();
    if (n > max) throw new XdrError(`opaque of ${n} bytes exceeds limit ${max}`);
    const at = this.#take(n + pad(n));
    return Buffer.from(this.#buf.subarray(at, at + n));
  }

  fixedOpaque(size: number): Buffer {
    const at = this.#take(size + pad(size));
    return Buffer.from(this.#buf.subarray(at, at + size));
  }

  string(max = Infinity): string {
    const n = this.uint();
    if (n > max) throw new XdrError(`string of ${n} bytes exceeds limit ${max}`);
    const at = this.#take(n + pad(n));
    return textDecoder.decode(this.#buf.subarray(at, at + n));
  }

  optional<T>(read: (r: this) => T): T | null {
    return this.bool() ? read(this) : null;
  }

  array<T>(read: (r: this) => T, max = Infinity): T[] {
    const n = this.uint();
    if (n > max) throw new XdrError(`array of ${n} items exceeds limit ${max}`);
    // Each item takes at least 4 bytes: refuse counts the remaining bytes cannot hold.
    if (n > (this.#end - this.#pos) / 4 && n > 0) {
      throw new XdrError(`array of ${n} items cannot fit in ${this.#end - this.#pos} bytes`);
    }
    const out: T[] = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = read(this);
    return out;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  /** Fails on trailing bytes: a decoder that does not consume the whole body has the wrong layout. */
  done(): void {
    if (this.#pos !== this.#end) throw new XdrError(`${this.#end - this.#pos} trailing bytes after XDR body`);
  }
}

// --- virTypedParameter (remote_typed_param) -------------------------------------------------------

export const TypedParamType = {
  INT: 1,
  UINT: 2,
  LLONG: 3,
  ULLONG: 4,
  DOUBLE: 5,
  BOOLEAN: 6,
  STRING: 7,
} as const;

export type TypedParam =
  | { field: string; type: 'int'; value: number }
  | { field: string; type: 'uint'; value: number }
  | { field: string; type: 'llong'; value: bigint }
  | { field: string; type: 'ullong'; value: bigint }
  | { field: string; type: 'double'; value: number }
  | { field: string; type: 'boolean'; value: boolean }
  | { field: string; type: 'string'; value: string };

export type TypedParamValue = TypedParam['value'];

export function writeTypedParam(w: XdrWriter, p: TypedParam): void {
  w.string(p.field);
  switch (p.type) {
    case 'int':
      w.int(TypedParamType.INT).int(p.value);
      break;
    case 'uint':
      w.int(TypedParamType.UINT).uint(p.value);
      break;
    case 'llong':
      w.int(TypedParamType.LLONG).hyper(p.value);
      break;
    case 'ullong':
      w.int(TypedParamType.ULLONG).uhyper(p.value);
      break;
    case 'double':
      w.int(TypedParamType.DOUBLE).double(p.value);
      break;
    case 'boolean':
      w.int(TypedParamType.BOOLEAN).int(p.value ? 1 : 0);
      break;
    case 'string':
      w.int(TypedParamType.STRING).string(p.value);
      break;
  }
}

export function readTypedParam(r: XdrReader): TypedParam {
  const field = r.string();
  const type = r.int();
  switch (type) {
    case TypedParamType.INT:
      return { field, type: 'int', value: r.int() };
    case TypedParamType.UINT:
      return { field, type: 'uint', value: r.uint() };
    case TypedParamType.LLONG:
      return { field, type: 'llong', value: r.hyper() };
    case TypedParamType.ULLONG:
      return { field, type: 'ullong', value: r.uhyper() };
    case TypedParamType.DOUBLE:
      return { field, type: 'double', value: r.double() };
    case TypedParamType.BOOLEAN:
      return { field, type: 'boolean', value: r.int() !== 0 };
    case TypedParamType.STRING:
      return { field, type: 'string', value: r.string() };
    default:
      throw new XdrError(`unknown typed parameter type ${type} for field ${field}`);
  }
}

export function writeTypedParams(w: XdrWriter, params: readonly TypedParam[]): void {
  w.array(params, writeTypedParam);
}

export function readTypedParams(r: XdrReader): TypedParam[] {
  return r.array(readTypedParam);
}

/** Typed parameters as a plain record (the last value wins for repeated fields). */
export function typedParamsToRecord(params: readonly TypedParam[]): Record<string, TypedParamValue> {
  const out: Record<string, TypedParamValue> = {};
  for (const p of params) out[p.field] = p.value;
  return out;
}
