/**
 * Addresses, as primitives/src/address.rs defines them: `hrp` + `1` + bech32m of
 * `[kind] ++ program`, where the human-readable part is `i8o` on mainnet and `ti8o` on testnet
 * and dev chains, `kind` is 0 for pay-to-pubkey-hash and 1 for pay-to-script-hash, and the
 * program is the 20-byte HASH160.
 */
import { bech32m } from '@scure/base';

import { I8o8iError } from './errors.js';
import { hash160 } from './bytes.js';
import { classifyScript, p2pkhScript, p2shScript } from './script.js';

/** Which network an address (or a chain) belongs to. Testnet and dev share the `ti8o` prefix. */
export type Network = 'mainnet' | 'testnet' | 'dev';

/** The bech32 human-readable part of a network's addresses. */
export function networkHrp(network: Network): 'i8o' | 'ti8o' {
  return network === 'mainnet' ? 'i8o' : 'ti8o';
}

/** Why a string is not a valid address (Rust's `AddressError`). */
export class AddressError extends I8o8iError<'Encoding' | 'UnknownPrefix' | 'WrongNetwork' | 'Program'> {}

/** A decoded address. */
export interface Address {
  /** Whether it is a mainnet (`i8o1…`) address; otherwise testnet / dev (`ti8o1…`). */
  mainnet: boolean;
  /** `p2pkh` pays to a public-key hash, `p2sh` to a script hash. */
  type: 'p2pkh' | 'p2sh';
  /** The 20-byte HASH160. */
  hash: Uint8Array;
}

/** Encodes an address. */
export function encodeAddress(address: Address): string {
  if (address.hash.length !== 20) {
    throw new AddressError('Program', `unsupported address program (${address.hash.length} bytes)`, {
      kind: address.type === 'p2pkh' ? 0 : 1,
      len: address.hash.length,
    });
  }
  const data = new Uint8Array(21);
  data[0] = address.type === 'p2pkh' ? 0 : 1;
  data.set(address.hash, 1);
  return bech32m.encode(address.mainnet ? 'i8o' : 'ti8o', bech32m.toWords(data), false);
}

/** The P2PKH address of a 20-byte public-key hash. */
export function p2pkhAddress(network: Network, pubkeyHash: Uint8Array): string {
  return encodeAddress({ mainnet: network === 'mainnet', type: 'p2pkh', hash: pubkeyHash });
}

/** The P2SH address of a 20-byte script hash. */
export function p2shAddress(network: Network, scriptHash: Uint8Array): string {
  return encodeAddress({ mainnet: network === 'mainnet', type: 'p2sh', hash: scriptHash });
}

/** The P2PKH address of a serialized (compressed) public key. */
export function addressFromPubkey(network: Network, pubkey: Uint8Array): string {
  return p2pkhAddress(network, hash160(pubkey));
}

/** The P2SH address of a redeem script. */
export function addressFromRedeemScript(network: Network, redeemScript: Uint8Array): string {
  return p2shAddress(network, hash160(redeemScript));
}

/**
 * 5-bit groups to bytes as the Rust `bech32` crate's `byte_iter` does: leftover padding bits
 * at the end are dropped without further checks.
 */
function wordsToBytes(words: readonly number[]): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const w of words) {
    acc = ((acc << 5) | w) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >>> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

/** Parses an address of any network. Throws {@link AddressError}. */
export function decodeAddress(text: string): Address {
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32m.decode(text as `${string}1${string}`, false);
  } catch (e) {
    throw new AddressError('Encoding', `invalid bech32m address: ${(e as Error).message}`, {}, { cause: e });
  }
  const hrp = decoded.prefix.toLowerCase();
  let mainnet: boolean;
  if (hrp === 'i8o') mainnet = true;
  else if (hrp === 'ti8o') mainnet = false;
  else throw new AddressError('UnknownPrefix', `unknown address prefix \`${hrp}\` (expected i8o or ti8o)`, { prefix: hrp });
  const data = wordsToBytes(decoded.words);
  if (data.length === 0) throw new AddressError('Program', 'unsupported address program (kind 0, 0 bytes)', { kind: 0, len: 0 });
  const kind = data[0] as number;
  const program = data.slice(1);
  if (program.length !== 20) {
    throw new AddressError('Program', `unsupported address program (kind ${kind}, ${program.length} bytes)`, {
      kind,
      len: program.length,
    });
  }
  if (kind > 1) throw new AddressError('Program', `unsupported address program (kind ${kind}, 20 bytes)`, { kind, len: 20 });
  return { mainnet, type: kind === 0 ? 'p2pkh' : 'p2sh', hash: program };
}

/**
 * Parses an address and checks that it belongs to `network` (the node's `Address::parse_for`).
 * Throws {@link AddressError}, `WrongNetwork` for an address of another network.
 */
export function parseAddress(text: string, network: Network): Address {
  const address = decodeAddress(text);
  const expected = networkHrp(network);
  const got = address.mainnet ? 'i8o' : 'ti8o';
  if (got !== expected) {
    throw new AddressError('WrongNetwork', `address is for ${got} but this chain uses ${expected} addresses`, { got, expected });
  }
  return address;
}

/** The locking script of outputs paying `address` (a string is parsed for `network`). */
export function addressToScript(address: Address | string, network?: Network): Uint8Array {
  const a = typeof address === 'string' ? (network ? parseAddress(address, network) : decodeAddress(address)) : address;
  return a.type === 'p2pkh' ? p2pkhScript(a.hash) : p2shScript(a.hash);
}

/** The address of a standard locking script (P2PKH or P2SH), or `null`. */
export function addressFromScript(network: Network, script: Uint8Array): string | null {
  const t = classifyScript(script);
  if (t.type === 'p2pkh') return p2pkhAddress(network, t.pubkeyHash);
  if (t.type === 'p2sh') return p2shAddress(network, t.scriptHash);
  return null;
}
