/**
 * The signature hash: what an input's ECDSA signature commits to, exactly as
 * primitives/src/sighash.rs computes it. The digest is `sha256d(SCALE(preimage))` with the
 * preimage, in order:
 *
 * | field | value |
 * |---|---|
 * | tag | the 16 bytes `I8O8I-SIGHASH-V1` |
 * | chain id | the chain's genesis block hash (32 bytes) |
 * | version | `tx.version` (u32) |
 * | hash_prevouts | sha256d(SCALE(Vec<OutPoint>)) of all inputs; zero with ANYONECANPAY |
 * | hash_sequences | sha256d(SCALE(Vec<u32>)) of all sequences; zero with ANYONECANPAY, NONE or SINGLE |
 * | outpoint | this input's prevout |
 * | script code | the executed script as a SCALE byte vector (compact length, bytes) |
 * | spent value | the spent output's amount (u64) |
 * | sequence | this input's sequence (u32) |
 * | hash_outputs | ALL: sha256d(SCALE(Vec<TxOut>)); SINGLE: sha256d(SCALE(TxOut)) at this input's index; NONE: zero |
 * | lock time | `tx.lockTime` (u32) |
 * | hash_payload | sha256d(SCALE(Option<Payload>)), always |
 * | hash type | the hash-type byte widened to u32 |
 *
 * Unlike Bitcoin, SINGLE without a matching output and undefined base types are errors.
 */
import { I8o8iError } from './errors.js';
import { type HashLike, hashBytes, sha256d } from './bytes.js';
import { ScaleWriter } from './scale.js';
import { type Transaction, writeOptionPayload, writeOutPoint, writeTxOut } from './tx.js';

export const SIGHASH_ALL = 0x01;
export const SIGHASH_NONE = 0x02;
export const SIGHASH_SINGLE = 0x03;
export const SIGHASH_ANYONECANPAY = 0x80;

/** Domain-separation tag at the start of every preimage (version 1). */
export const SIGHASH_TAG = new TextEncoder().encode('I8O8I-SIGHASH-V1');

/** Why a signature hash cannot be computed (Rust's `SighashError`). */
export class SighashError extends I8o8iError<'InputIndexOutOfRange' | 'UndefinedHashType' | 'SingleWithoutOutput'> {}

const ZERO32 = new Uint8Array(32);

function hashOf(write: (w: ScaleWriter) => void): Uint8Array {
  const w = new ScaleWriter();
  write(w);
  return sha256d(w.finish());
}

/**
 * The per-transaction parts of the signature hash (prevouts, sequences, outputs, payload),
 * hashed once and shared by all inputs, so signing every input is linear in the size.
 */
export class SighashCache {
  readonly tx: Transaction;
  private readonly hashPrevouts: Uint8Array;
  private readonly hashSequences: Uint8Array;
  private readonly hashOutputs: Uint8Array;
  private readonly hashPayload: Uint8Array;

  constructor(tx: Transaction) {
    this.tx = tx;
    this.hashPrevouts = hashOf((w) => w.vec(tx.inputs, (w2, i) => writeOutPoint(w2, i.prevout)));
    this.hashSequences = hashOf((w) => w.vec(tx.inputs, (w2, i) => w2.u32(i.sequence, 'sequence')));
    this.hashOutputs = hashOf((w) => w.vec(tx.outputs, writeTxOut));
    this.hashPayload = hashOf((w) => writeOptionPayload(w, tx.payload));
  }

  /**
   * The signature hash of input `inputIndex` spending an output worth `spentValue`, with
   * `scriptCode` as the executed script (the P2PKH script, or a P2SH coin's redeem script), on
   * the chain whose genesis hash is `chainId`. Throws {@link SighashError}.
   */
  signatureHash(
    chainId: HashLike,
    inputIndex: number,
    scriptCode: Uint8Array,
    spentValue: bigint | number,
    hashType: number,
  ): Uint8Array {
    const tx = this.tx;
    if (!Number.isInteger(hashType) || hashType < 0 || hashType > 0xff) {
      throw new RangeError(`hash type ${hashType} is not a byte`);
    }
    const input = Number.isInteger(inputIndex) && inputIndex >= 0 ? tx.inputs[inputIndex] : undefined;
    if (input === undefined) {
      throw new SighashError(
        'InputIndexOutOfRange',
        `input index ${inputIndex} out of range: the transaction has ${tx.inputs.length} inputs`,
        { index: inputIndex, inputs: tx.inputs.length },
      );
    }
    const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
    const base = hashType & ~SIGHASH_ANYONECANPAY & 0xff;
    let hashOutputs: Uint8Array;
    if (base === SIGHASH_ALL) {
      hashOutputs = this.hashOutputs;
    } else if (base === SIGHASH_NONE) {
      hashOutputs = ZERO32;
    } else if (base === SIGHASH_SINGLE) {
      const output = tx.outputs[inputIndex];
      if (output === undefined) {
        throw new SighashError(
          'SingleWithoutOutput',
          `SIGHASH_SINGLE on input ${inputIndex} but the transaction has only ${tx.outputs.length} outputs`,
          { index: inputIndex, outputs: tx.outputs.length },
        );
      }
      hashOutputs = hashOf((w) => writeTxOut(w, output));
    } else {
      throw new SighashError('UndefinedHashType', `undefined signature hash type 0x${hashType.toString(16).padStart(2, '0')}`, {
        hashType,
      });
    }
    const hashPrevouts = anyoneCanPay ? ZERO32 : this.hashPrevouts;
    const hashSequences = anyoneCanPay || base !== SIGHASH_ALL ? ZERO32 : this.hashSequences;
    const w = new ScaleWriter()
      .raw(SIGHASH_TAG)
      .raw(hashBytes(chainId, 'chain id'))
      .u32(tx.version, 'version')
      .raw(hashPrevouts)
      .raw(hashSequences);
    writeOutPoint(w, input.prevout);
    w.bytes(scriptCode)
      .u64(spentValue, 'spent value')
      .u32(input.sequence, 'sequence')
      .raw(hashOutputs)
      .u32(tx.lockTime, 'lockTime')
      .raw(this.hashPayload)
      .u32(hashType);
    return sha256d(w.finish());
  }
}

/** One-off {@link SighashCache.signatureHash}; use a cache to sign many inputs. */
export function signatureHash(
  tx: Transaction,
  chainId: HashLike,
  inputIndex: number,
  scriptCode: Uint8Array,
  spentValue: bigint | number,
  hashType: number = SIGHASH_ALL,
): Uint8Array {
  return new SighashCache(tx).signatureHash(chainId, inputIndex, scriptCode, spentValue, hashType);
}
