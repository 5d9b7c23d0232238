/**
 * SCALE, the chain's consensus encoding (Rust's `parity-scale-codec`), as far as transactions,
 * headers and signing requests need it:
 *
 * - fixed-width integers are little endian (`u8`, `u32`, `u64`);
 * - fixed-size byte arrays (`[u8; N]`, hashes) are their raw bytes, with no length;
 * - `Vec<T>`, `String` and scripts are a compact length followed by the items;
 * - `Option<T>` is a byte 0 (None) or 1 followed by the value; `bool` is a byte 0 or 1;
 * - enums are a variant index byte (`#[codec(index)]`) followed by the fields.
 *
 * Decoding is strict as the node's `decode_strict` is: compact integers must be canonical (the
 * codec refuses a longer form than needed), booleans and option tags must be 0 or 1, and the
 * caller checks that no bytes are left over.
 */
import { I8o8iError } from './errors.js';

/** Why bytes are not the SCALE encoding of the expected value (Rust's `DecodeError`). */
export class DecodeError extends I8o8iError<'TooLarge' | 'TrailingBytes' | 'Invalid' | 'Unsupported'> {}

const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;

/** A `u64` given as a bigint or a safe integer number; checked and returned as a bigint. */
export function toU64(value: bigint | number, what = 'u64'): bigint {
  const v = typeof value === 'number' ? numberToBigint(value, what) : value;
  if (v < 0n || v > U64_MAX) throw new RangeError(`${what} ${v} is out of the u64 range`);
  return v;
}

function numberToBigint(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} ${value} is not a safe integer`);
  return BigInt(value);
}

function checkU32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new RangeError(`${what} ${value} is out of the u32 range`);
  }
  return value;
}

/** Appends SCALE encodings to a growing buffer. */
export class ScaleWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /** Raw bytes, no length prefix (fixed-size arrays, hashes). */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** A fixed-size byte array `[u8; n]`: exactly `n` raw bytes. */
  array(bytes: Uint8Array, n: number, what = 'array'): this {
    if (bytes.length !== n) throw new RangeError(`${what} must be ${n} bytes, got ${bytes.length}`);
    return this.raw(bytes);
  }

  u8(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`u8 ${value} is out of range`);
    this.reserve(1);
    this.buf[this.len++] = value;
    return this;
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  u32(value: number, what = 'u32'): this {
    checkU32(value, what);
    this.reserve(4);
    new DataView(this.buf.buffer).setUint32(this.len, value, true);
    this.len += 4;
    return this;
  }

  u64(value: bigint | number, what = 'u64'): this {
    const v = toU64(value, what);
    this.reserve(8);
    new DataView(this.buf.buffer).setBigUint64(this.len, v, true);
    this.len += 8;
    return this;
  }

  /**
   * A compact integer (`Compact<u32>`, the length prefix of vectors): one byte below 2^6, two
   * below 2^14, four below 2^30, else the byte 0b11 followed by the four bytes of the `u32`.
   */
  compact(value: number): this {
    checkU32(value, 'compact length');
    if (value < 1 << 6) return this.u8(value << 2);
    if (value < 1 << 14) {
      const v = (value << 2) | 0b01;
      return this.u8(v & 0xff).u8(v >>> 8);
    }
    if (value < 1 << 30) {
      this.reserve(4);
      new DataView(this.buf.buffer).setUint32(this.len, ((value << 2) | 0b10) >>> 0, true);
      this.len += 4;
      return this;
    }
    return this.u8(0b11).u32(value);
  }

  /** `Vec<u8>` (and `ScriptBuf`, which encodes exactly as one): compact length, then bytes. */
  bytes(bytes: Uint8Array): this {
    return this.compact(bytes.length).raw(bytes);
  }

  /** `String`: its UTF-8 bytes as a `Vec<u8>`. */
  string(text: string): this {
    return this.bytes(new TextEncoder().encode(text));
  }

  /** `Vec<T>`: compact length, then each item. */
  vec<T>(items: readonly T[], item: (w: this, value: T) => void): this {
    this.compact(items.length);
    for (const v of items) item(this, v);
    return this;
  }

  /** `Option<T>`: 0 for none (`null` or `undefined`), 1 and the value for some. */
  option<T>(value: T | null | undefined, item: (w: this, value: T) => void): this {
    if (value === null || value === undefined) return this.u8(0);
    this.u8(1);
    item(this, value);
    return this;
  }
}

/** Reads SCALE values from a byte array, front to back. */
export class ScaleReader {
  private at = 0;

  /** `what` names the value being decoded, for error messages. */
  constructor(
    private readonly data: Uint8Array,
    private readonly what = 'value',
  ) {}

  /** Bytes not read yet. */
  get remaining(): number {
    return this.data.length - this.at;
  }

  /** Throws {@link DecodeError} `Invalid` with the codec's wording. */
  fail(message: string): never {
    throw new DecodeError('Invalid', `invalid ${this.what} encoding: ${message}`, { what: this.what, message });
  }

  /** Throws `TrailingBytes` unless every byte was read (the node's `decode_strict`). */
  finish(): void {
    if (this.remaining !== 0) {
      throw new DecodeError('TrailingBytes', `${this.what} is followed by ${this.remaining} trailing bytes`, {
        what: this.what,
        count: this.remaining,
      });
    }
  }

  /** The next `n` raw bytes (a copy). */
  raw(n: number): Uint8Array {
    if (n > this.remaining) this.fail('Not enough data to fill buffer');
    const out = this.data.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u8(): number {
    if (this.remaining < 1) this.fail('Not enough data to fill buffer');
    return this.data[this.at++] as number;
  }

  bool(): boolean {
    const b = this.u8();
    if (b > 1) this.fail('Invalid boolean representation');
    return b === 1;
  }

  u32(): number {
    const b = this.raw(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }

  u64(): bigint {
    const b = this.raw(8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }

  /** A canonical `Compact<u32>`: a value encoded in a longer mode than needed is refused. */
  compact(): number {
    const prefix = this.u8();
    switch (prefix & 0b11) {
      case 0:
        return prefix >>> 2;
      case 1: {
        const v = (prefix | (this.u8() << 8)) >>> 2;
        if (v < 1 << 6) this.fail('out of range decoding Compact<u32>');
        return v;
      }
      case 2: {
        const rest = this.raw(3);
        const v = ((prefix | ((rest[0] as number) << 8) | ((rest[1] as number) << 16) | ((rest[2] as number) << 24)) >>> 2) >>> 0;
        if (v < 1 << 14) this.fail('out of range decoding Compact<u32>');
        return v;
      }
      default: {
        // Big-integer mode: the upper six bits give the byte count minus four; a u32 has
        // exactly four, and must need them.
        if (prefix >>> 2 !== 0) this.fail('unexpected prefix decoding Compact<u32>');
        const v = this.u32();
        if (v < 2 ** 30) this.fail('out of range decoding Compact<u32>');
        return v;
      }
    }
  }

  /** `Vec<u8>` / `ScriptBuf`. */
  bytes(): Uint8Array {
    return this.raw(this.compact());
  }

  /** `String`: UTF-8, refused if invalid. */
  string(): string {
    const b = this.bytes();
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      return this.fail('Invalid utf8 sequence');
    }
  }

  /** `Vec<T>`. */
  vec<T>(item: (r: this) => T): T[] {
    const n = this.compact();
    const out: T[] = [];
    for (let i = 0; i < n; i++) {
      // Each item takes at least a byte, which bounds the loop by the input on junk lengths.
      if (this.remaining === 0) this.fail('Not enough data to fill buffer');
      out.push(item(this));
    }
    return out;
  }

  /** `Option<T>`, as `null` for none. */
  option<T>(item: (r: this) => T): T | null {
    const tag = this.u8();
    if (tag === 0) return null;
    if (tag !== 1) this.fail('unexpected first byte decoding Option');
    return item(this);
  }
}

/**
 * Decodes exactly one value from all of `bytes` (the node's `decode_strict`): refuses inputs over
 * `max` bytes before reading them and reports leftover bytes as `TrailingBytes`.
 */
export function decodeStrict<T>(bytes: Uint8Array, max: number, what: string, read: (r: ScaleReader) => T): T {
  if (bytes.length > max) {
    throw new DecodeError('TooLarge', `${what} of ${bytes.length} bytes exceeds the limit of ${max} bytes`, {
      what,
      got: bytes.length,
      max,
    });
  }
  const reader = new ScaleReader(bytes, what);
  const value = read(reader);
  reader.finish();
  return value;
}
