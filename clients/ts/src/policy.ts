/**
 * Watch-only signing policies, as a node's watch-only and multisig wallets hold them
 * (wallet/src/watch.rs): one or more cosigners' account `xpub`s and a threshold. One cosigner
 * gives P2PKH addresses — the same as that wallet's; several give P2SH `m`-of-`n` multisig with
 * the keys sorted (BIP67), so every cosigner derives the same address whatever order it lists
 * the others in. Each address names its keys with their full paths from their signers' master
 * keys, which is how a signer finds its key in a request ({@link SigningRequest.signWithWallet}).
 */
import { HDKey } from '@scure/bip32';

import { compareBytes } from './bytes.js';
import { KeyError, HARDENED, PURPOSE, COIN_TYPE, WALLET_ACCOUNT, formatPath, parsePath } from './keys.js';
import { type Network, addressFromScript } from './address.js';
import { multisigScript, p2pkhScriptForPubkey, p2shScriptFor } from './script.js';
import type { KeyOrigin } from './request.js';

/** Most cosigners of a multisig policy (a P2SH redeem script is one push of ≤ 520 bytes). */
export const MAX_COSIGNERS = 15;

/** A cosigner: its account `xpub` and that key's path (default `m/44'/8088'/0'`). */
export interface Cosigner {
  xpub: string;
  path?: string;
}

/** One address of a policy: its locking script, the redeem script of a P2SH one, its keys. */
export interface PolicyAddress {
  scriptPubkey: Uint8Array;
  redeemScript: Uint8Array | null;
  /** The keys that sign for it with their full paths (sorted by key for multisig). */
  keys: KeyOrigin[];
}

interface Parsed {
  /** Receive (0) and change (1) chain keys below the account key. */
  chains: [HDKey, HDKey];
  path: number[];
}

function parseCosigner(cosigner: Cosigner): Parsed {
  let key: HDKey;
  try {
    key = HDKey.fromExtendedKey(cosigner.xpub.trim());
  } catch (e) {
    throw new KeyError('InvalidXpub', `invalid xpub: ${(e as Error).message}`);
  }
  if (key.privateKey) {
    throw new KeyError('InvalidXpub', 'this is an extended private key (xprv); give its xpub, which cannot spend');
  }
  const path = parsePath(cosigner.path ?? `m/${PURPOSE}'/${COIN_TYPE}'/${WALLET_ACCOUNT}'`);
  if (path.length !== key.depth) {
    throw new KeyError('InvalidXpub', `the xpub is at depth ${key.depth} but its path ${formatPath(path)} has ${path.length} levels`);
  }
  const last = path[path.length - 1];
  if (last !== undefined && last !== key.index) {
    const child = key.index >= HARDENED ? `${key.index - HARDENED}'` : String(key.index);
    throw new KeyError('InvalidXpub', `the xpub is child ${child} of its parent but its path ${formatPath(path)} ends in ${formatPath([last]).slice(2)}`);
  }
  return { chains: [key.deriveChild(0), key.deriveChild(1)], path };
}

/** Who must sign for a watch-only wallet's coins: `threshold` of its cosigners. */
export class Policy {
  readonly threshold: number;
  private readonly cosigners: Parsed[];

  private constructor(threshold: number, cosigners: Parsed[]) {
    this.threshold = threshold;
    this.cosigners = cosigners;
  }

  /** One signer: P2PKH addresses, those of the wallet that exported the xpub. */
  static single(cosigner: Cosigner): Policy {
    return new Policy(1, [parseCosigner(cosigner)]);
  }

  /** `threshold` of 2 to 15 `cosigners` (each xpub once): P2SH multisig, keys sorted. */
  static multisig(threshold: number, cosigners: readonly Cosigner[]): Policy {
    const n = cosigners.length;
    if (n < 2 || n > MAX_COSIGNERS) throw new KeyError('InvalidPolicy', `${n} cosigners; a multisig wallet has 2 to ${MAX_COSIGNERS}`);
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > n) {
      throw new KeyError('InvalidPolicy', `threshold ${threshold} of ${n}; it must be 1 to ${n}`);
    }
    const parsed = cosigners.map(parseCosigner);
    const seen = cosigners.map((c) => HDKey.fromExtendedKey(c.xpub.trim()).publicExtendedKey);
    seen.forEach((x, i) => {
      const j = seen.indexOf(x);
      if (j !== i) throw new KeyError('InvalidPolicy', `cosigners ${j} and ${i} are the same xpub`);
    });
    return new Policy(threshold, parsed);
  }

  /** The address at `index` on `chain` (0 receive, 1 change). */
  address(chain: 0 | 1, index: number): PolicyAddress {
    if (!Number.isInteger(index) || index < 0 || index >= HARDENED) {
      throw new KeyError('InvalidPath', `address index ${index} is not below 2^31`);
    }
    const keys: KeyOrigin[] = this.cosigners.map(({ chains, path }) => {
      const child = chains[chain].deriveChild(index);
      return { pubkey: child.publicKey as Uint8Array, path: [...path, chain, index] };
    });
    if (keys.length === 1) {
      return { scriptPubkey: p2pkhScriptForPubkey(keys[0]!.pubkey), redeemScript: null, keys };
    }
    keys.sort((a, b) => compareBytes(a.pubkey, b.pubkey));
    const redeemScript = multisigScript(this.threshold, keys.map((k) => k.pubkey));
    return { scriptPubkey: p2shScriptFor(redeemScript), redeemScript, keys };
  }

  /** The address text at `index` on `chain` for `network`. */
  addressText(network: Network, chain: 0 | 1, index: number): string {
    const text = addressFromScript(network, this.address(chain, index).scriptPubkey);
    if (text === null) throw new KeyError('InvalidPolicy', 'a policy address is P2PKH or P2SH');
    return text;
  }
}
