/**
 * Keys as the node's wallet derives them (wallet/src/mnemonic.rs, hd.rs, store.rs): a BIP39
 * English mnemonic, its seed with the *empty* passphrase (the wallet's password protects the
 * file, not the seed), BIP32 from that seed, and address keys at
 * `m/44'/8088'/<account>'/<chain>/<index>` (chain 0 receive, 1 change; the wallet uses account
 * 0). A key here is the same key, pubkey and address the node's wallet shows for that path.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import { entropyToMnemonic, generateMnemonic as bip39Generate, mnemonicToEntropy, mnemonicToSeedSync } from '@scure/bip39';
import { wordlist as english } from '@scure/bip39/wordlists/english.js';

import { I8o8iError } from './errors.js';
import { bytesEqual, hash160, toHex } from './bytes.js';
import { addressFromPubkey, type Network } from './address.js';
import { p2pkhScript } from './script.js';

/** BIP44 purpose. */
export const PURPOSE = 44;
/** I8o8iCoin's BIP44 coin type (chosen by the project, not registered in SLIP-0044). */
export const COIN_TYPE = 8088;
/** The first hardened child index, 2^31. */
export const HARDENED = 0x8000_0000;
/** The account the node's wallet uses. */
export const WALLET_ACCOUNT = 0;
/** Receive (0) and change (1) chains. */
export const RECEIVE = 0;
export const CHANGE = 1;

/** Why a mnemonic, seed, path or key is unusable (kinds follow Rust's `WalletError`). */
export class KeyError extends I8o8iError<
  | 'MnemonicWordCount'
  | 'MnemonicUnknownWord'
  | 'MnemonicChecksum'
  | 'EntropyLength'
  | 'SeedLength'
  | 'InvalidPath'
  | 'PathTooDeep'
  | 'InvalidSecretKey'
  | 'InvalidPublicKey'
  | 'InvalidXpub'
  | 'InvalidPolicy'
> {}

/**
 * The canonical form of a phrase: lowercase (the node accepts a capital or caps lock), NFKD as
 * BIP39 requires, words separated by single spaces. Throws {@link KeyError} for a wrong word
 * count, an unknown word (position is 1-based) or a bad checksum.
 */
export function normalizeMnemonic(phrase: string): string {
  const words = phrase.toLowerCase().normalize('NFKD').trim().split(/\s+/).filter((w) => w.length > 0);
  if (![12, 15, 18, 21, 24].includes(words.length)) {
    throw new KeyError('MnemonicWordCount', `a mnemonic has 12, 15, 18, 21 or 24 words, got ${words.length}`, {
      got: words.length,
    });
  }
  const known = new Set(english);
  const unknown = words.findIndex((w) => !known.has(w));
  if (unknown >= 0) {
    throw new KeyError('MnemonicUnknownWord', `word ${unknown + 1} of the mnemonic is not in the BIP39 English list`, {
      position: unknown + 1,
    });
  }
  const canonical = words.join(' ');
  try {
    mnemonicToEntropy(canonical, english);
  } catch (e) {
    throw new KeyError('MnemonicChecksum', 'the mnemonic checksum does not match', {}, { cause: e });
  }
  return canonical;
}

/** Whether `phrase` is a valid BIP39 English mnemonic. */
export function isValidMnemonic(phrase: string): boolean {
  try {
    normalizeMnemonic(phrase);
    return true;
  } catch {
    return false;
  }
}

/** A new 24-word mnemonic from 32 bytes of randomness, as the node's wallet generates. */
export function generateMnemonic(): string {
  return bip39Generate(english, 256);
}

/** The mnemonic of 16, 20, 24, 28 or 32 bytes of entropy. */
export function mnemonicFromEntropy(entropy: Uint8Array): string {
  if (![16, 20, 24, 28, 32].includes(entropy.length)) {
    throw new KeyError('EntropyLength', `entropy must be 16, 20, 24, 28 or 32 bytes, got ${entropy.length}`, {
      got: entropy.length,
    });
  }
  return entropyToMnemonic(entropy, english);
}

/**
 * The 64-byte BIP39 seed: PBKDF2-HMAC-SHA512 (2048 rounds) of the phrase, salt `"mnemonic" +
 * passphrase`. The node's wallets use the empty passphrase, the default here.
 */
export function mnemonicToSeed(phrase: string, passphrase = ''): Uint8Array {
  return mnemonicToSeedSync(normalizeMnemonic(phrase), passphrase.normalize('NFKD'));
}

/**
 * Parses a BIP32 path such as `m/44'/8088'/0'/0/5` into raw child numbers (hardened ones with
 * the top bit set, as a signing request's `KeyOrigin.path` stores them). Hardened steps may be
 * marked `'`, `h` or `H`; indexes are plain digits below 2^31; at most 255 steps.
 */
export function parsePath(path: string): number[] {
  const parts = path.split('/');
  if (parts[0] !== 'm') throw new KeyError('InvalidPath', `a path starts with \`m\`: ${path}`, { path });
  if (parts.length - 1 > 255) throw new KeyError('PathTooDeep', `a path has at most 255 steps`, { depth: parts.length - 1 });
  return parts.slice(1).map((part) => {
    const hardened = /['hH]$/.test(part);
    const digits = hardened ? part.slice(0, -1) : part;
    if (!/^[0-9]+$/.test(digits)) throw new KeyError('InvalidPath', `invalid path step \`${part}\` in ${path}`, { path });
    const index = Number(digits);
    if (!Number.isSafeInteger(index) || index >= HARDENED) {
      throw new KeyError('InvalidPath', `path index ${digits} is not below 2^31`, { path });
    }
    return hardened ? (index | HARDENED) >>> 0 : index;
  });
}

/** Formats raw child numbers as a path (`m/44'/8088'/0'/0/3`), hardened steps marked `'`. */
export function formatPath(path: readonly number[]): string {
  return ['m', ...path.map((c) => (c >= HARDENED ? `${c - HARDENED}'` : String(c)))].join('/');
}

/** The path of a wallet address key: `m/44'/8088'/<account>'/<chain>/<index>`. */
export function walletPath(chain: number, index: number, account = WALLET_ACCOUNT): string {
  for (const [what, v] of [['account', account], ['chain', chain], ['index', index]] as const) {
    if (!Number.isInteger(v) || v < 0 || v >= HARDENED) throw new KeyError('InvalidPath', `${what} ${v} is not below 2^31`);
  }
  return `m/${PURPOSE}'/${COIN_TYPE}'/${account}'/${chain}/${index}`;
}

/** The compressed (33-byte) public key of a secret key. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== 32 || !secp256k1.utils.isValidSecretKey(secretKey)) {
    throw new KeyError('InvalidSecretKey', 'a secret key is 32 bytes, nonzero and below the curve order');
  }
  return secp256k1.getPublicKey(secretKey, true);
}

/** A derived (or imported) signing key with what the node shows for it. */
export class KeyPair {
  /** The 32-byte secp256k1 secret key. */
  readonly secretKey: Uint8Array;
  /** The 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  /** Where it was derived, if it was (`m/44'/8088'/0'/0/0`). */
  readonly path: string | null;

  constructor(secretKey: Uint8Array, path: string | null = null) {
    this.publicKey = publicKeyOf(secretKey);
    this.secretKey = Uint8Array.from(secretKey);
    this.path = path;
  }

  /** HASH160 of the public key: the P2PKH program. */
  get pubkeyHash(): Uint8Array {
    return hash160(this.publicKey);
  }

  /** The P2PKH locking script of this key. */
  get scriptPubkey(): Uint8Array {
    return p2pkhScript(this.pubkeyHash);
  }

  /** The raw child numbers of `path` (empty when unknown), as a signing request lists them. */
  get rawPath(): number[] {
    return this.path === null ? [] : parsePath(this.path);
  }

  /** The P2PKH address on `network`. */
  address(network: Network): string {
    return addressFromPubkey(network, this.publicKey);
  }

  /** Hex of the public key. */
  get publicKeyHex(): string {
    return toHex(this.publicKey);
  }
}

/** A BIP32 key tree from a mnemonic (or a seed), deriving keys as the node's wallet does. */
export class HdWallet {
  private readonly root: HDKey;

  private constructor(root: HDKey) {
    this.root = root;
  }

  /** From a BIP39 phrase; the passphrase is empty for the node's wallets. */
  static fromMnemonic(phrase: string, passphrase = ''): HdWallet {
    return HdWallet.fromSeed(mnemonicToSeed(phrase, passphrase));
  }

  /** From a 16- to 64-byte seed (BIP32 master key generation, key "Bitcoin seed"). */
  static fromSeed(seed: Uint8Array): HdWallet {
    if (seed.length < 16 || seed.length > 64) {
      throw new KeyError('SeedLength', `a seed is 16 to 64 bytes, got ${seed.length}`, { got: seed.length });
    }
    return new HdWallet(HDKey.fromMasterSeed(seed));
  }

  /** The key at a path (a string, or raw child numbers). */
  derive(path: string | readonly number[]): KeyPair {
    const text = typeof path === 'string' ? formatPath(parsePath(path)) : formatPath(path);
    const node = this.root.derive(text);
    if (!node.privateKey) throw new KeyError('InvalidSecretKey', `no private key at ${text}`);
    return new KeyPair(node.privateKey, text);
  }

  /**
   * The account's extended public key `m/44'/8088'/<account>'` as an `xpub…` string: what a
   * node's watch-only or multisig wallet imports (`wallet_importXpub`, `wallet_createMultisig`,
   * {@link Policy}). It spends nothing but links every address of the account.
   */
  accountXpub(account = WALLET_ACCOUNT): string {
    return this.root.derive(`m/${PURPOSE}'/${COIN_TYPE}'/${account}'`).publicExtendedKey;
  }

  /**
   * The key at `origin.path` if it is this wallet's: derived here, its public key must be
   * `origin.pubkey` (a request may list other signers' keys with paths of their own wallets).
   */
  keyFor(origin: { pubkey: Uint8Array; path: readonly number[] }): KeyPair | null {
    if (origin.path.length === 0) return null;
    const key = this.derive(origin.path);
    return bytesEqual(key.publicKey, origin.pubkey) ? key : null;
  }

  /** The wallet's address key `m/44'/8088'/<account>'/<chain>/<index>` (receive chain by default). */
  key(index: number, chain: number = RECEIVE, account = WALLET_ACCOUNT): KeyPair {
    return this.derive(walletPath(chain, index, account));
  }
}
