// SCALE primitives against the codec's documented encodings and strictness rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { DecodeError, ScaleReader, ScaleWriter, decodeStrict, fromHex, toHex } from '../src/index.js';

const compactCases: [number, string][] = [
  [0, '00'],
  [1, '04'],
  [42, 'a8'],
  [63, 'fc'],
  [64, '0101'],
  [69, '1501'],
  [16383, 'fdff'],
  [16384, '02000100'],
  [2 ** 30 - 1, 'feffffff'],
  [2 ** 30, '0300000040'],
  [0xffff_ffff, '03ffffffff'],
];

test('compact integers encode as parity-scale-codec does', () => {
  for (const [value, hex] of compactCases) {
    assert.equal(toHex(new ScaleWriter().compact(value).finish()), hex, `compact ${value}`);
    assert.equal(new ScaleReader(fromHex(hex)).compact(), value, `decode ${hex}`);
  }
});

test('non-canonical compact integers are refused', () => {
  for (const hex of ['0100', '02000000', '03ffffff3f', '0700000000', '07ffffffffff']) {
    assert.throws(() => new ScaleReader(fromHex(hex)).compact(), (e: unknown) => e instanceof DecodeError && e.kind === 'Invalid', hex);
  }
});

test('a script encodes as a byte vector', () => {
  // script-vm/src/scale.rs: ScriptBuf [0x76, 0xa9, 0x14] encodes as 0c76a914.
  assert.equal(toHex(new ScaleWriter().bytes(Uint8Array.of(0x76, 0xa9, 0x14)).finish()), '0c76a914');
  assert.throws(() => new ScaleReader(fromHex('0c76a9')).bytes(), DecodeError);
});

test('integers are little endian', () => {
  const w = new ScaleWriter().u32(0x01020304).u64(0x0102030405060708n).u64(5);
  assert.equal(toHex(w.finish()), '04030201' + '0807060504030201' + '0500000000000000');
  assert.throws(() => new ScaleWriter().u32(-1), RangeError);
  assert.throws(() => new ScaleWriter().u64(1n << 64n), RangeError);
  assert.throws(() => new ScaleWriter().u64(2 ** 53), RangeError);
});

test('booleans and options take only 0 or 1', () => {
  assert.equal(new ScaleReader(Uint8Array.of(1)).bool(), true);
  assert.throws(() => new ScaleReader(Uint8Array.of(2)).bool(), DecodeError);
  assert.equal(new ScaleReader(Uint8Array.of(0)).option((r) => r.u8()), null);
  assert.equal(new ScaleReader(Uint8Array.of(1, 7)).option((r) => r.u8()), 7);
  assert.throws(() => new ScaleReader(Uint8Array.of(2, 7)).option((r) => r.u8()), DecodeError);
  assert.equal(toHex(new ScaleWriter().option(null, (w, v: number) => w.u8(v)).option(9, (w, v) => w.u8(v)).finish()), '000109');
});

test('strict decoding reports size, truncation and trailing bytes', () => {
  const kind = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof DecodeError);
      return e.kind;
    }
    return 'ok';
  };
  assert.equal(kind(() => decodeStrict(new Uint8Array(3), 2, 'thing', (r) => r.u8())), 'TooLarge');
  assert.equal(kind(() => decodeStrict(new Uint8Array(2), 8, 'thing', (r) => r.u8())), 'TrailingBytes');
  assert.equal(kind(() => decodeStrict(new Uint8Array(2), 8, 'thing', (r) => r.u32())), 'Invalid');
  // A length prefix far beyond the input fails on the missing bytes, without allocating.
  assert.equal(kind(() => decodeStrict(fromHex('03ffffffff'), 8, 'thing', (r) => r.vec((r2) => r2.u8()))), 'Invalid');
  assert.equal(kind(() => decodeStrict(fromHex('08c328'), 8, 'thing', (r) => r.string())), 'Invalid');
});
