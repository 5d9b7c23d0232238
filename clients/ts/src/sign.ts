/**
 * ECDSA signing and verification as the node does it (primitives/src/signing.rs): RFC 6979
 * deterministic nonces with no extra entropy and low-S normalisation — exactly what
 * libsecp256k1's `ecdsa::sign` produces, so a signature made here is byte-identical to the
 * node's — DER-encoded and followed by the hash-type byte, as it goes into a script.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';

import { type HashLike, bytesEqual, concatBytes, hash160 } from './bytes.js';
import { publicKeyOf } from './keys.js';
import { classifyScript, p2pkhScriptForPubkey, p2pkhScriptSig } from './script.js';
import { SIGHASH_ALL, SighashCache } from './sighash.js';
import type { Transaction, TxOut } from './tx.js';

/** The DER signature of a 32-byte digest (no hash-type byte). */
export function signDigest(digest: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (digest.length !== 32) throw new RangeError(`a digest to sign is 32 bytes, got ${digest.length}`);
  // prehash: false — the digest is already the signature hash; extraEntropy: false — pure
  // RFC 6979, as libsecp256k1's default nonce function; lowS — as libsecp256k1 always does.
  return secp256k1.sign(digest, secretKey, { prehash: false, lowS: true, extraEntropy: false, format: 'der' });
}

/** `DER ‖ hashType`: a signature as a script pushes it and a signing request stores it. */
export function signWithHashType(digest: Uint8Array, secretKey: Uint8Array, hashType: number = SIGHASH_ALL): Uint8Array {
  return concatBytes(signDigest(digest, secretKey), Uint8Array.of(hashType));
}

/**
 * Whether `signature` (DER ‖ hash type) by `pubkey` signs `digest` with `hashType`, by the node's
 * signing-request rules: the last byte must be `hashType`, the DER must parse, S must be low.
 */
export function verifySignature(signature: Uint8Array, pubkey: Uint8Array, digest: Uint8Array, hashType: number): boolean {
  if (signature.length === 0 || signature[signature.length - 1] !== hashType) return false;
  const der = signature.subarray(0, signature.length - 1);
  try {
    const sig = secp256k1.Signature.fromBytes(der, 'der');
    if (sig.hasHighS()) return false;
    return secp256k1.verify(der, digest, pubkey, { prehash: false, lowS: true, format: 'der' });
  } catch {
    return false;
  }
}

/**
 * The `script_sig` spending a P2PKH output of `secretKey`'s compressed public key from input
 * `inputIndex` of the cache's transaction: `<DER ‖ hashType> <pubkey>`, the signature covering the
 * signature hash with the P2PKH script as script code.
 */
export function p2pkhScriptSigFor(
  cache: SighashCache,
  chainId: HashLike,
  inputIndex: number,
  secretKey: Uint8Array,
  spentValue: bigint | number,
  hashType: number = SIGHASH_ALL,
  // The key's public key when the caller has it: deriving it costs as much as the signature.
  pubkey: Uint8Array = publicKeyOf(secretKey),
): Uint8Array {
  const digest = cache.signatureHash(chainId, inputIndex, p2pkhScriptForPubkey(pubkey), spentValue, hashType);
  return p2pkhScriptSig(signWithHashType(digest, secretKey, hashType), pubkey);
}

/**
 * A copy of `tx` with input `index` — which spends a P2PKH output of `secretKey`'s key worth
 * `spentValue` — signed (its `scriptSig` set). Throws `SighashError`.
 */
export function signP2pkhInput(
  tx: Transaction,
  index: number,
  secretKey: Uint8Array,
  spentValue: bigint | number,
  chainId: HashLike,
  hashType: number = SIGHASH_ALL,
): Transaction {
  const scriptSig = p2pkhScriptSigFor(new SighashCache(tx), chainId, index, secretKey, spentValue, hashType);
  return { ...tx, inputs: tx.inputs.map((input, i) => (i === index ? { ...input, scriptSig } : input)) };
}

/** What {@link signP2pkhTransaction} did. */
export interface SignedTransaction {
  /** The transaction with the signable inputs' script_sigs set. */
  tx: Transaction;
  /** Indexes of the inputs signed. */
  signed: number[];
  /** Indexes of the inputs no given key could sign (not P2PKH, or another key's). */
  unsigned: number[];
}

/**
 * Signs every input of `tx` that spends a P2PKH output of one of `secretKeys`. `spent[i]` is
 * the output input `i` spends (its value and script are what the signature commits to and how
 * the key is found). The signature hashes are computed before any script_sig is set (they do
 * not cover script_sigs), in one linear pass.
 */
export function signP2pkhTransaction(
  tx: Transaction,
  chainId: HashLike,
  spent: readonly TxOut[],
  secretKeys: readonly Uint8Array[],
  hashType: number = SIGHASH_ALL,
): SignedTransaction {
  if (spent.length !== tx.inputs.length) {
    throw new RangeError(`spent outputs: ${spent.length} given for ${tx.inputs.length} inputs`);
  }
  const keys = secretKeys.map((sk) => {
    const pubkey = publicKeyOf(sk);
    return { sk, pubkey, pubkeyHash: hash160(pubkey) };
  });
  const cache = new SighashCache(tx);
  const signed: number[] = [];
  const unsigned: number[] = [];
  const scriptSigs = tx.inputs.map((input, i) => {
    const coin = spent[i] as TxOut;
    const template = classifyScript(coin.scriptPubkey);
    const key = template.type === 'p2pkh' ? keys.find((k) => bytesEqual(k.pubkeyHash, template.pubkeyHash)) : undefined;
    if (!key) {
      unsigned.push(i);
      return input.scriptSig;
    }
    signed.push(i);
    return p2pkhScriptSigFor(cache, chainId, i, key.sk, coin.value, hashType, key.pubkey);
  });
  return {
    tx: { ...tx, inputs: tx.inputs.map((input, i) => ({ ...input, scriptSig: scriptSigs[i] as Uint8Array })) },
    signed,
    unsigned,
  };
}
