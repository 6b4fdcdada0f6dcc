import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readTypedParams, typedParamsToRecord, writeTypedParams, XdrError, XdrReader, XdrWriter, type TypedParam } from '../src/xdr.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('XDR codec', () => {
  it('encodes words big-endian and reads them back', () => {
    const w = new XdrWriter().int(-2).uint(0xffff_ffff).bool(true).bool(false);
    assert.equal(hex(w.finish()), 'fffffffe' + 'ffffffff' + '00000001' + '00000000');
    const r = new XdrReader(w.finish());
    assert.equal(r.int(), -2);
    assert.equal(r.uint(), 0xffff_ffff);
    assert.equal(r.bool(), true);
    assert.equal(r.bool(), false);
    r.done();
  });

  it('round-trips hypers as BigInt across their whole range', () => {
    const values = [0n, 1n, -1n, -(2n ** 63n), 2n ** 63n - 1n, 1_795_425_290_123_456n];
    const uvalues = [0n, 2n ** 64n - 1n, 2n ** 53n + 1n];
    const w = new XdrWriter();
    for (const v of values) w.hyper(v);
    for (const v of uvalues) w.uhyper(v);
    const r = new XdrReader(w.finish());
    for (const v of values) assert.equal(r.hyper(), v);
    for (const v of uvalues) assert.equal(r.uhyper(), v);
    r.done();
    assert.equal(hex(new XdrWriter().uhyper(2n ** 64n - 2n).finish()), 'fffffffffffffffe');
  });

  it('rejects values outside a type', () => {
    assert.throws(() => new XdrWriter().int(2 ** 31), XdrError);
    assert.throws(() => new XdrWriter().uint(-1), XdrError);
    assert.throws(() => new XdrWriter().uint(1.5), XdrError);
    assert.throws(() => new XdrWriter().hyper(2n ** 63n), XdrError);
    assert.throws(() => new XdrWriter().uhyper(-1n), XdrError);
  });

  it('round-trips doubles', () => {
    const r = new XdrReader(new XdrWriter().double(0.1).double(-1e300).finish());
    assert.equal(r.double(), 0.1);
    assert.equal(r.double(), -1e300);
  });

  it('pads strings and opaques to 4 bytes with zeros', () => {
    assert.equal(hex(new XdrWriter().string('abc').finish()), '00000003' + '61626300');
    assert.equal(hex(new XdrWriter().string('abcd').finish()), '00000004' + '61626364');
    assert.equal(hex(new XdrWriter().string('').finish()), '00000000');
    for (let n = 0; n <= 9; n++) {
      const data = Buffer.alloc(n, 0xab);
      const enc = new XdrWriter().opaque(data).finish();
      assert.equal(enc.length, 4 + Math.ceil(n / 4) * 4, `opaque of ${n}`);
      assert.ok(
        enc.subarray(4 + n).every((b) => b === 0),
        'padding is zero',
      );
      const r = new XdrReader(enc);
      assert.deepEqual(r.opaque(), data);
      r.done();
    }
  });

  it('measures strings in UTF-8 bytes', () => {
    const s = 'dömäin-ü-😀';
    const enc = new XdrWriter().string(s).finish();
    assert.equal(enc.readUInt32BE(0), Buffer.byteLength(s));
    assert.equal(new XdrReader(enc).string(), s);
  });

  it('writes fixed opaques without a length word', () => {
    const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const enc = new XdrWriter().fixedOpaque(uuid, 16).finish();
    assert.equal(hex(enc), hex(uuid));
    assert.deepEqual(new XdrReader(enc).fixedOpaque(16), uuid);
    assert.throws(() => new XdrWriter().fixedOpaque(uuid, 8), XdrError);
    assert.equal(hex(new XdrWriter().fixedOpaque(Buffer.from([1, 2, 3]), 3).finish()), '01020300');
  });

  it('encodes optionals as a bool word then the value', () => {
    const w = new XdrWriter();
    w.optional('x', (x, v) => x.string(v)).optional(null, (x, v: string) => x.string(v));
    assert.equal(hex(w.finish()), '00000001' + '00000001' + '78000000' + '00000000');
    const r = new XdrReader(w.finish());
    assert.equal(
      r.optional((x) => x.string()),
      'x',
    );
    assert.equal(
      r.optional((x) => x.string()),
      null,
    );
    r.done();
  });

  it('encodes arrays as a count then the items', () => {
    const w = new XdrWriter().array(['a', 'bb', 'ccc'], (x, v) => x.string(v)).array([], (x, v: number) => x.int(v));
    const r = new XdrReader(w.finish());
    assert.deepEqual(
      r.array((x) => x.string()),
      ['a', 'bb', 'ccc'],
    );
    assert.deepEqual(
      r.array((x) => x.int()),
      [],
    );
    r.done();
  });

  it('grows its buffer across many writes', () => {
    const w = new XdrWriter(8);
    for (let i = 0; i < 1000; i++) w.int(i).hyper(BigInt(i)).string(`s${i}`);
    const r = new XdrReader(w.finish());
    for (let i = 0; i < 1000; i++) {
      assert.equal(r.int(), i);
      assert.equal(r.hyper(), BigInt(i));
      assert.equal(r.string(), `s${i}`);
    }
    r.done();
  });

  it('refuses truncated input, oversized counts and trailing bytes', () => {
    assert.throws(() => new XdrReader(Buffer.from('0000', 'hex')).int(), XdrError);
    assert.throws(() => new XdrReader(Buffer.from('00000008616263', 'hex')).string(), XdrError);
    assert.throws(() => new XdrReader(Buffer.from('7fffffff', 'hex')).array((r) => r.int()), XdrError);
    assert.throws(() => new XdrReader(Buffer.from('00000005', 'hex')).bool(), XdrError);
    const r = new XdrReader(new XdrWriter().int(1).int(2).finish());
    r.int();
    assert.throws(() => r.done(), XdrError);
  });

  it('round-trips every typed parameter type', () => {
    const params: TypedParam[] = [
      { field: 'i', type: 'int', value: -5 },
      { field: 'u', type: 'uint', value: 4_000_000_000 },
      { field: 'l', type: 'llong', value: -(2n ** 40n) },
      { field: 'ul', type: 'ullong', value: 2n ** 64n - 1n },
      { field: 'd', type: 'double', value: 3.25 },
      { field: 'b', type: 'boolean', value: true },
      { field: 's', type: 'string', value: 'page-sampling' },
    ];
    const w = new XdrWriter();
    writeTypedParams(w, params);
    const r = new XdrReader(w.finish());
    assert.deepEqual(readTypedParams(r), params);
    r.done();
    assert.deepEqual(typedParamsToRecord(params), {
      i: -5,
      u: 4_000_000_000,
      l: -(2n ** 40n),
      ul: 2n ** 64n - 1n,
      d: 3.25,
      b: true,
      s: 'page-sampling',
    });
  });

  it('lays out a typed parameter as field, discriminant, value', () => {
    const w = new XdrWriter();
    writeTypedParams(w, [{ field: 'ab', type: 'uint', value: 7 }]);
    assert.equal(hex(w.finish()), '00000001' + '00000002' + '61620000' + '00000002' + '00000007');
  });

  it('refuses an unknown typed parameter discriminant', () => {
    const w = new XdrWriter().uint(1).string('x').int(99).int(0);
    assert.throws(() => readTypedParams(new XdrReader(w.finish())), /unknown typed parameter type 99/);
  });
});
