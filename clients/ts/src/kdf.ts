/**
 * Password hashing for wallets that keep their keys: Argon2id (RFC 9106), the function and the
 * parameters the node's own keystore uses (`wallet/src/keystore.rs`: OWASP's 19 MiB, 2 passes,
 * 1 lane, a 32-byte key), so a key sealed here costs a password guesser what a node wallet
 * does. The key then seals the secret with an AEAD (the web app uses WebCrypto's AES-256-GCM).
 */
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { I8o8iError } from './errors.js';

/** Unusable Argon2id inputs (`InvalidKdfParams`, as the Rust keystore's error). */
export class KdfError extends I8o8iError<'InvalidKdfParams'> {}

/** Argon2id cost parameters, stored beside what they seal so they can be raised later. */
export interface Argon2Params {
  /** Memory in KiB. */
  mCost: number;
  /** Passes. */
  tCost: number;
  /** Lanes. */
  pCost: number;
}

/** OWASP's Argon2id recommendation, the node keystore's default. */
export const ARGON2_OWASP: Readonly<Argon2Params> = Object.freeze({ mCost: 19_456, tCost: 2, pCost: 1 });

/** The largest parameters accepted from storage (the node keystore's limits): more is corruption, not a reason to exhaust memory. */
const MAX: Readonly<Argon2Params> = Object.freeze({ mCost: 4 * 1024 * 1024, tCost: 100, pCost: 64 });

/**
 * The 32-byte Argon2id key of `password` (UTF-8) and `salt` (at least 8 bytes). Yields to the
 * event loop while it works, so a page stays responsive. Throws {@link KdfError} for parameters outside Argon2's minimums or the keystore's maximums.
 */
export async function argon2idKey(password: string, salt: Uint8Array, params: Argon2Params = ARGON2_OWASP): Promise<Uint8Array> {
  const { mCost, tCost, pCost } = params;
  const whole = (n: number, lo: number, hi: number) => Number.isInteger(n) && n >= lo && n <= hi;
  if (!whole(pCost, 1, MAX.pCost) || !whole(tCost, 1, MAX.tCost) || !whole(mCost, 8 * pCost, MAX.mCost)) {
    throw new KdfError('InvalidKdfParams', `argon2id parameters out of range: m_cost ${mCost} KiB, t_cost ${tCost}, p_cost ${pCost}`);
  }
  if (salt.length < 8) throw new KdfError('InvalidKdfParams', `an argon2id salt is at least 8 bytes, not ${salt.length}`);
  return argon2idAsync(new TextEncoder().encode(password), salt, { m: mCost, t: tCost, p: pCost, dkLen: 32, maxmem: 2 ** 32 - 1 });
}
