/**
 * Byte helpers shared by every module: hex in the node's spelling (lowercase, natural byte
 * order), the chain's hash functions, and 32-byte hash parsing with the node's rules.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { hex } from '@scure/base';

import { I8o8iError } from './errors.js';

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return hex.encode(bytes);
}

/** Bytes of a hex string (either case, even length). Throws {@link HexError}. */
export function fromHex(text: string): Uint8Array {
  if (text.length % 2 !== 0) {
    throw new HexError('OddLength', `hex string has an odd number of digits (${text.length})`);
  }
  if (!/^[0-9a-fA-F]*$/.test(text)) {
    throw new HexError('InvalidHex', 'invalid hex digit');
  }
  return hex.decode(text.toLowerCase());
}

/** A string that is not hex. */
export class HexError extends I8o8iError<'OddLength' | 'InvalidHex'> {}

/** Concatenation of byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Whether two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bytewise (lexicographic) comparison, as Rust orders `[u8; N]` and `Vec<u8>`. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** SHA-256. */
export function sha256Hash(data: Uint8Array): Uint8Array {
  return sha256(data);
}

/** Double SHA-256: the hash of transactions, headers, merkle nodes and signature hashes. */
export function sha256d(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}

/** RIPEMD-160 of SHA-256: the 20-byte hash in P2PKH and P2SH scripts and addresses. */
export function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}

/** Why a string is not a 32-byte hash (Rust's `ParseHashError`). */
export class ParseHashError extends I8o8iError<'InvalidLength' | 'InvalidHex' | 'Uppercase'> {}

/**
 * Parses a txid, block hash or chain id: exactly 64 lowercase hex digits in natural byte order
 * (the first byte of the digest is the first two digits; unlike Bitcoin nothing is reversed).
 * Uppercase is refused, as the node refuses it, so one hash has one spelling.
 */
export function parseHash(text: string): Uint8Array {
  if (text.length !== 64) {
    throw new ParseHashError('InvalidLength', `a hash is 64 hex digits, got ${text.length} characters`, {
      got: text.length,
    });
  }
  if (/[A-Z]/.test(text)) {
    throw new ParseHashError('Uppercase', 'hashes are lowercase hex; found an uppercase digit');
  }
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new ParseHashError('InvalidHex', 'invalid hex digit in hash');
  }
  return hex.decode(text);
}

/** 32 bytes, or a hash as {@link parseHash} reads it. */
export type HashLike = string | Uint8Array;

/** The 32 bytes of a hash given as bytes or as the node's hex. */
export function hashBytes(value: HashLike, what = 'hash'): Uint8Array {
  if (typeof value === 'string') return parseHash(value);
  if (value.length !== 32) {
    throw new ParseHashError('InvalidLength', `${what} must be 32 bytes, got ${value.length}`, { got: value.length });
  }
  return value;
}
