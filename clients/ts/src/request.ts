/**
 * Signing requests, exactly as primitives/src/signing_request.rs defines them: a transaction not
 * yet signed, with what a signer that has no node needs to check and sign it, and the signatures
 * collected so far (Bitcoin's PSBT is the model; the encoding is SCALE).
 *
 * Flow: the node funds a request (`tx_fund`), signers add signatures offline
 * ({@link SigningRequest.signWith}), requests signed apart are combined
 * ({@link SigningRequest.combine}), and a complete request is finalised into a transaction
 * ({@link SigningRequest.finalize}) for `tx_submit`.
 *
 * Bytes (version 1): `i8sr` 0xff, the version byte 1, then SCALE of
 * `{ chain_id: [u8;32], tx: Transaction, inputs: Vec<RequestInput>, outputs: Vec<RequestOutput> }`;
 * as text, standard base64 with padding. Decoding checks what the node checks, so a decoded
 * request is well formed or a {@link RequestError} was thrown.
 */
import { base64 } from '@scure/base';

import { I8o8iError } from './errors.js';
import { type HashLike, bytesEqual, compareBytes, hash160, hashBytes, toHex } from './bytes.js';
import { type HdWallet, publicKeyOf } from './keys.js';
import { DecodeError, ScaleReader, ScaleWriter, decodeStrict } from './scale.js';
import { classifyScript, isP2sh, multisigScriptSig, p2pkhScriptSig, p2shScriptSig } from './script.js';
import { SIGHASH_ALL, SighashCache, SighashError } from './sighash.js';
import { signWithHashType, verifySignature } from './sign.js';
import { MAX_TX_SIZE, type Transaction, type TxOut, readTransaction, readTxOut, txid, writeTransaction, writeTxOut } from './tx.js';

/** The first bytes of every encoded request: `i8sr` 0xff. */
export const REQUEST_MAGIC = Uint8Array.of(0x69, 0x38, 0x73, 0x72, 0xff);
/** The format version this code writes and reads. */
export const REQUEST_VERSION = 1;
/** The largest encoded request body accepted. */
export const MAX_REQUEST_SIZE = 4 * MAX_TX_SIZE;
/** The hash type funders use unless told otherwise. */
export const DEFAULT_HASH_TYPE = SIGHASH_ALL;

/** A key that can sign: its compressed public key and, if known, its BIP32 path. */
export interface KeyOrigin {
  /** 33-byte compressed public key. */
  pubkey: Uint8Array;
  /** Raw BIP32 child numbers from the wallet's master key (hardened with the top bit); empty when unknown. */
  path: number[];
}

/** A signature collected for one input. */
export interface PartialSignature {
  /** The key that made it (33 bytes). */
  pubkey: Uint8Array;
  /** DER signature followed by the hash-type byte. */
  signature: Uint8Array;
}

/** What a signer needs to know about one input, and its signatures so far. */
export interface RequestInput {
  /** The output this input spends (its value and script are signed over). */
  spent: TxOut;
  /** The hash type to sign with. */
  hashType: number;
  /** For a P2SH coin: the script it hashes. */
  redeemScript: Uint8Array | null;
  /** The keys that can sign, with their paths where known. */
  keys: KeyOrigin[];
  /** Signatures so far, one per key, sorted by public key. */
  signatures: PartialSignature[];
}

/** What a signer is told about one output. */
export interface RequestOutput {
  /** Whether it pays back to the funder (change). */
  change: boolean;
  /** The keys behind it, where the funder knows them. */
  keys: KeyOrigin[];
}

/** Where one input stands. */
export interface InputStatus {
  /** Signatures present. */
  have: number;
  /** Signatures needed; `null` for a script a request cannot complete. */
  need: number | null;
}

/** Why a request is refused (the variants of Rust's `RequestError`). */
export class RequestError extends I8o8iError<
  | 'Base64'
  | 'BadMagic'
  | 'UnsupportedVersion'
  | 'Decode'
  | 'CountMismatch'
  | 'AlreadySigned'
  | 'Sighash'
  | 'RedeemScriptMismatch'
  | 'UnsupportedScript'
  | 'ForeignKey'
  | 'InvalidSignature'
  | 'UnsortedSignatures'
  | 'DifferentChain'
  | 'DifferentTransaction'
  | 'ConflictingSignatures'
  | 'NothingToCombine'
  | 'Incomplete'
  | 'NegativeFee'
> {}

/** How an input gets completed. */
type Spend =
  | { type: 'p2pkh'; pubkeyHash: Uint8Array }
  | { type: 'multisig'; required: number; pubkeys: Uint8Array[]; redeem: Uint8Array };

function canSign(spend: Spend, pubkey: Uint8Array): boolean {
  return spend.type === 'p2pkh'
    ? bytesEqual(hash160(pubkey), spend.pubkeyHash)
    : spend.pubkeys.some((k) => bytesEqual(k, pubkey));
}

function needed(spend: Spend): number {
  return spend.type === 'p2pkh' ? 1 : spend.required;
}

// ---- SCALE of the request body ----

function writeKeyOrigin(w: ScaleWriter, k: KeyOrigin): void {
  w.array(k.pubkey, 33, 'key pubkey').vec(k.path, (w2, c) => w2.u32(c, 'path step'));
}

function readKeyOrigin(r: ScaleReader): KeyOrigin {
  return { pubkey: r.raw(33), path: r.vec((r2) => r2.u32()) };
}

function writeInput(w: ScaleWriter, i: RequestInput): void {
  writeTxOut(w, i.spent);
  w.u8(i.hashType)
    .option(i.redeemScript, (w2, s) => w2.bytes(s))
    .vec(i.keys, writeKeyOrigin)
    .vec(i.signatures, (w2, s) => w2.array(s.pubkey, 33, 'signature pubkey').bytes(s.signature));
}

function readInput(r: ScaleReader): RequestInput {
  return {
    spent: readTxOut(r),
    hashType: r.u8(),
    redeemScript: r.option((r2) => r2.bytes()),
    keys: r.vec(readKeyOrigin),
    signatures: r.vec((r2) => ({ pubkey: r2.raw(33), signature: r2.bytes() })),
  };
}

function writeOutput(w: ScaleWriter, o: RequestOutput): void {
  w.bool(o.change).vec(o.keys, writeKeyOrigin);
}

function readOutput(r: ScaleReader): RequestOutput {
  return { change: r.bool(), keys: r.vec(readKeyOrigin) };
}

const keyHex = (pubkey: Uint8Array) => toHex(pubkey);

/** A transaction to be signed, with its signing data. */
export class SigningRequest {
  /** The chain the transaction is for: its genesis hash, 64 hex digits. */
  chainId: string;
  /** The transaction, every `scriptSig` empty. */
  tx: Transaction;
  /** One per input of `tx`, in order. */
  inputs: RequestInput[];
  /** One per output of `tx`, in order. */
  outputs: RequestOutput[];

  private constructor(chainId: string, tx: Transaction, inputs: RequestInput[], outputs: RequestOutput[]) {
    this.chainId = chainId;
    this.tx = tx;
    this.inputs = inputs;
    this.outputs = outputs;
  }

  /** A request for `tx` (unsigned) on `chainId`, checked as a decoded one is. */
  static create(chainId: HashLike, tx: Transaction, inputs: RequestInput[], outputs: RequestOutput[]): SigningRequest {
    const request = new SigningRequest(toHex(hashBytes(chainId, 'chain id')), tx, inputs, outputs);
    request.check();
    return request;
  }

  /** The byte encoding: magic, version, SCALE body. */
  encodeBytes(): Uint8Array {
    const w = new ScaleWriter().raw(REQUEST_MAGIC).u8(REQUEST_VERSION).raw(hashBytes(this.chainId, 'chain id'));
    writeTransaction(w, this.tx);
    w.vec(this.inputs, writeInput).vec(this.outputs, writeOutput);
    return w.finish();
  }

  /** Decodes and checks {@link SigningRequest.encodeBytes}. Throws {@link RequestError}. */
  static decodeBytes(bytes: Uint8Array): SigningRequest {
    if (bytes.length < REQUEST_MAGIC.length || !bytesEqual(bytes.subarray(0, REQUEST_MAGIC.length), REQUEST_MAGIC)) {
      throw new RequestError('BadMagic', 'not a signing request (it must start with the bytes `i8sr` 0xff)');
    }
    if (bytes.length === REQUEST_MAGIC.length) {
      throw new RequestError('BadMagic', 'not a signing request (it must start with the bytes `i8sr` 0xff)');
    }
    const version = bytes[REQUEST_MAGIC.length] as number;
    if (version !== REQUEST_VERSION) {
      throw new RequestError(
        'UnsupportedVersion',
        `signing request version ${version} is not supported (this node reads version 1)`,
        { version },
      );
    }
    const body = bytes.subarray(REQUEST_MAGIC.length + 1);
    let request: SigningRequest;
    try {
      request = decodeStrict(body, MAX_REQUEST_SIZE, 'signing request', (r) => {
        const chainId = toHex(r.raw(32));
        const tx = readTransaction(r);
        const inputs = r.vec(readInput);
        const outputs = r.vec(readOutput);
        return new SigningRequest(chainId, tx, inputs, outputs);
      });
    } catch (e) {
      if (e instanceof DecodeError) {
        throw new RequestError('Decode', `malformed signing request: ${e.message}`, { decode: e.kind, ...e.details }, { cause: e });
      }
      throw e;
    }
    request.check();
    return request;
  }

  /** The base64 text form (standard alphabet, padded). */
  toText(): string {
    return base64.encode(this.encodeBytes());
  }

  /** Decodes and checks the base64 text form (surrounding whitespace ignored). */
  static fromText(text: string): SigningRequest {
    const trimmed = text.trim();
    if (trimmed.length > Math.ceil(MAX_REQUEST_SIZE / 3) * 4) {
      const got = Math.floor(trimmed.length / 4) * 3;
      throw new RequestError('Decode', `malformed signing request: signing request of ${got} bytes exceeds the limit of ${MAX_REQUEST_SIZE} bytes`, {
        decode: 'TooLarge',
        got,
        max: MAX_REQUEST_SIZE,
      });
    }
    let bytes: Uint8Array;
    try {
      bytes = base64.decode(trimmed);
    } catch (e) {
      throw new RequestError('Base64', `a signing request is base64 text: ${(e as Error).message}`, {}, { cause: e });
    }
    return SigningRequest.decodeBytes(bytes);
  }

  /** A deep copy. */
  clone(): SigningRequest {
    return new SigningRequest(this.chainId, structuredClone(this.tx), structuredClone(this.inputs), structuredClone(this.outputs));
  }

  /** The id of the unsigned transaction, which names the request (the signed txid differs). */
  unsignedTxid(): string {
    return txid(this.tx);
  }

  /** The fee: what the spent coins are worth beyond the outputs. Throws `NegativeFee`. */
  fee(): bigint {
    const spent = this.inputs.reduce((sum, i) => sum + i.spent.value, 0n);
    const paid = this.tx.outputs.reduce((sum, o) => sum + o.value, 0n);
    const max = (1n << 64n) - 1n;
    // The node's sums are checked u64 arithmetic: an overflow is refused like a negative fee.
    if (spent > max || paid > max || spent < paid) {
      throw new RequestError('NegativeFee', 'the inputs are worth less than the outputs');
    }
    return spent - paid;
  }

  /** Per input: signatures present and needed. */
  status(): InputStatus[] {
    return this.inputs.map((input, i) => {
      let need: number | null;
      try {
        need = needed(this.spend(i));
      } catch {
        need = null;
      }
      return { have: input.signatures.length, need };
    });
  }

  /** Whether every input has the signatures it needs (`finalize` will succeed). */
  isComplete(): boolean {
    return this.status().every((s) => s.need !== null && s.have >= s.need);
  }

  private spend(input: number): Spend {
    const data = this.inputs[input] as RequestInput;
    const t = classifyScript(data.spent.scriptPubkey);
    if (t.type === 'p2pkh') return { type: 'p2pkh', pubkeyHash: t.pubkeyHash };
    if (t.type === 'p2sh') {
      const redeem = data.redeemScript;
      if (redeem === null || !bytesEqual(hash160(redeem), t.scriptHash)) {
        throw new RequestError('RedeemScriptMismatch', `input ${input}: the redeem script does not match the P2SH coin it spends`, {
          input,
        });
      }
      const r = classifyScript(redeem);
      if (r.type === 'multisig') return { type: 'multisig', required: r.required, pubkeys: r.pubkeys, redeem };
    }
    throw new RequestError(
      'UnsupportedScript',
      `input ${input}: the coin's script is neither P2PKH nor P2SH over a multisig script; a signing request cannot complete it`,
      { input },
    );
  }

  /** The script code the signature hash of `input` commits to. */
  private scriptCode(input: number, spend: Spend): Uint8Array {
    return spend.type === 'p2pkh' ? (this.inputs[input] as RequestInput).spent.scriptPubkey : spend.redeem;
  }

  private sighash(cache: SighashCache, input: number, spend: Spend): Uint8Array {
    const data = this.inputs[input] as RequestInput;
    return wrapSighash(input, () => cache.signatureHash(this.chainId, input, this.scriptCode(input, spend), data.spent.value, data.hashType));
  }

  /** The checks decoding makes (the node's `SigningRequest::check`), in the node's order. */
  private check(): void {
    const counts: [string, number, number][] = [
      ['inputs', this.inputs.length, this.tx.inputs.length],
      ['outputs', this.outputs.length, this.tx.outputs.length],
    ];
    for (const [what, described, actual] of counts) {
      if (described !== actual) {
        throw new RequestError('CountMismatch', `the request describes ${described} ${what} but its transaction has ${actual}`, {
          what,
          described,
          actual,
        });
      }
    }
    const signedInput = this.tx.inputs.findIndex((i) => i.scriptSig.length !== 0);
    if (signedInput >= 0) {
      throw new RequestError(
        'AlreadySigned',
        `input ${signedInput} of the request's transaction is already signed: a request carries the unsigned transaction`,
        { input: signedInput },
      );
    }
    const cache = new SighashCache(this.tx);
    this.inputs.forEach((data, input) => {
      if (isP2sh(data.spent.scriptPubkey) || data.redeemScript !== null) {
        try {
          this.spend(input);
        } catch (e) {
          if (!(e instanceof RequestError && e.kind === 'UnsupportedScript')) throw e;
        }
      }
      for (let k = 1; k < data.signatures.length; k++) {
        const prev = data.signatures[k - 1] as PartialSignature;
        const next = data.signatures[k] as PartialSignature;
        if (compareBytes(prev.pubkey, next.pubkey) >= 0) {
          throw new RequestError('UnsortedSignatures', `input ${input}: signatures must be sorted by key, one per key`, { input });
        }
      }
      if (data.signatures.length === 0) {
        // Still catch an undefined hash type before anyone signs with it.
        wrapSighash(input, () => cache.signatureHash(this.chainId, input, new Uint8Array(0), data.spent.value, data.hashType));
        return;
      }
      const spend = this.spend(input);
      const digest = this.sighash(cache, input, spend);
      for (const sig of data.signatures) {
        if (!canSign(spend, sig.pubkey)) {
          throw new RequestError('ForeignKey', `input ${input}: key ${keyHex(sig.pubkey)} cannot sign this coin`, {
            input,
            pubkey: keyHex(sig.pubkey),
          });
        }
        if (!verifySignature(sig.signature, sig.pubkey, digest, data.hashType)) {
          throw new RequestError('InvalidSignature', `input ${input}: the signature by key ${keyHex(sig.pubkey)} does not verify`, {
            input,
            pubkey: keyHex(sig.pubkey),
          });
        }
      }
    });
  }

  /**
   * Signs, with `secretKey`, every input it can sign and has not signed yet (P2PKH coins of its
   * key, multisig coins listing it). Returns how many inputs it signed (0: nothing to sign).
   * Signatures are kept sorted by public key.
   */
  signWith(secretKey: Uint8Array): number {
    const pubkey = publicKeyOf(secretKey);
    const cache = new SighashCache(this.tx);
    const fresh: [number, PartialSignature][] = [];
    for (let input = 0; input < this.inputs.length; input++) {
      let spend: Spend;
      try {
        spend = this.spend(input);
      } catch {
        continue;
      }
      const data = this.inputs[input] as RequestInput;
      if (!canSign(spend, pubkey) || data.signatures.some((s) => bytesEqual(s.pubkey, pubkey))) continue;
      const digest = this.sighash(cache, input, spend);
      fresh.push([input, { pubkey, signature: signWithHashType(digest, secretKey, data.hashType) }]);
    }
    for (const [input, sig] of fresh) insertSorted((this.inputs[input] as RequestInput).signatures, sig);
    return fresh.length;
  }

  /**
   * Signs with every key of `wallet` the request lists: each input key whose path derives, in
   * this wallet, to the listed public key (a multisig request from a node's multisig wallet
   * names every cosigner's key with its path). Returns how many signatures it added.
   */
  signWithWallet(wallet: HdWallet): number {
    const keys = new Map<string, Uint8Array>();
    for (const input of this.inputs) {
      for (const origin of input.keys) {
        const key = wallet.keyFor(origin);
        if (key) keys.set(key.publicKeyHex, key.secretKey);
      }
    }
    let signed = 0;
    for (const secretKey of keys.values()) signed += this.signWith(secretKey);
    return signed;
  }

  /**
   * Adds `other`'s signatures (and redeem scripts and key paths this one lacks) to this request.
   * Returns how many signatures it added. Throws `DifferentChain`, `DifferentTransaction`,
   * `ConflictingSignatures`, or `NothingToCombine` when there is nothing to add; this request is
   * unchanged then.
   */
  combine(other: SigningRequest): number {
    if (other.chainId !== this.chainId) throw new RequestError('DifferentChain', 'the requests are for different chains');
    const ours = this.unsignedTxid();
    const theirs = other.unsignedTxid();
    // The txid leaves out the spent outputs: those must agree as well.
    const n = Math.min(this.inputs.length, other.inputs.length);
    let spentDiffers = false;
    for (let i = 0; i < n; i++) {
      const a = this.inputs[i] as RequestInput;
      const b = other.inputs[i] as RequestInput;
      if (a.spent.value !== b.spent.value || !bytesEqual(a.spent.scriptPubkey, b.spent.scriptPubkey) || a.hashType !== b.hashType) {
        spentDiffers = true;
      }
    }
    if (ours !== theirs || spentDiffers) {
      throw new RequestError('DifferentTransaction', `the requests are for different transactions (unsigned ids ${ours} and ${theirs})`, {
        ours,
        theirs,
      });
    }
    const merged = this.clone();
    let added = 0;
    merged.inputs.forEach((mine, input) => {
      const their = other.inputs[input] as RequestInput;
      if (mine.redeemScript === null && their.redeemScript !== null) mine.redeemScript = Uint8Array.from(their.redeemScript);
      mergeKeys(mine.keys, their.keys);
      for (const sig of their.signatures) {
        const same = mine.signatures.find((s) => bytesEqual(s.pubkey, sig.pubkey));
        if (same) {
          if (!bytesEqual(same.signature, sig.signature)) {
            throw new RequestError(
              'ConflictingSignatures',
              `input ${input}: the requests hold different signatures by key ${keyHex(sig.pubkey)}`,
              { input, pubkey: keyHex(sig.pubkey) },
            );
          }
        } else {
          insertSorted(mine.signatures, { pubkey: Uint8Array.from(sig.pubkey), signature: Uint8Array.from(sig.signature) });
          added++;
        }
      }
    });
    merged.outputs.forEach((mine, i) => mergeKeys(mine.keys, (other.outputs[i] as RequestOutput).keys));
    if (added === 0) {
      throw new RequestError('NothingToCombine', 'nothing to combine: every signature of the other request is in this one already');
    }
    // A redeem script taken from the other side is checked like any.
    merged.check();
    this.tx = merged.tx;
    this.inputs = merged.inputs;
    this.outputs = merged.outputs;
    return added;
  }

  /**
   * The signed transaction, once every input has the signatures it needs: P2PKH gets
   * `<sig> <pubkey>`, P2SH multisig `0 <sig>... <redeem>` with the signatures in the redeem
   * script's key order (as CHECKMULTISIG needs). Throws `Incomplete` for the first input short
   * of signatures, `UnsupportedScript` / `RedeemScriptMismatch` for one a request cannot complete.
   */
  finalize(): Transaction {
    const tx = structuredClone(this.tx);
    tx.inputs.forEach((txin, input) => {
      const data = this.inputs[input] as RequestInput;
      const spend = this.spend(input);
      const have = data.signatures.length;
      const need = needed(spend);
      if (have < need) {
        throw new RequestError('Incomplete', `input ${input} has ${have} of the ${need} signatures it needs`, { input, have, need });
      }
      if (spend.type === 'p2pkh') {
        const sig = data.signatures[0] as PartialSignature;
        txin.scriptSig = p2pkhScriptSig(sig.signature, sig.pubkey);
      } else {
        // CHECKMULTISIG matches signatures to keys in the script's order.
        const sigs = spend.pubkeys
          .map((k) => data.signatures.find((s) => bytesEqual(s.pubkey, k))?.signature)
          .filter((s): s is Uint8Array => s !== undefined)
          .slice(0, need);
        txin.scriptSig = p2shScriptSig(multisigScriptSig(sigs), spend.redeem);
      }
    });
    return tx;
  }
}

function wrapSighash(input: number, f: () => Uint8Array): Uint8Array {
  try {
    return f();
  } catch (e) {
    if (e instanceof SighashError) {
      throw new RequestError('Sighash', `input ${input}: ${e.message}`, { input, sighash: e.kind, ...e.details }, { cause: e });
    }
    throw e;
  }
}

function insertSorted(sigs: PartialSignature[], sig: PartialSignature): void {
  let at = 0;
  while (at < sigs.length && compareBytes((sigs[at] as PartialSignature).pubkey, sig.pubkey) < 0) at++;
  sigs.splice(at, 0, sig);
}

function mergeKeys(mine: KeyOrigin[], theirs: readonly KeyOrigin[]): void {
  for (const key of theirs) {
    if (!mine.some((k) => bytesEqual(k.pubkey, key.pubkey))) mine.push({ pubkey: Uint8Array.from(key.pubkey), path: [...key.path] });
  }
}

/** Decodes a base64 signing request (the node's `SigningRequest::from_text`). */
export function decodeRequest(text: string): SigningRequest {
  return SigningRequest.fromText(text);
}

/** Combines requests for one transaction into a copy of the first (what `tx_combine` does). */
export function combineRequests(first: SigningRequest, ...others: SigningRequest[]): SigningRequest {
  const combined = first.clone();
  for (const other of others) combined.combine(other);
  return combined;
}
