/**
 * Transactions: the TypeScript shape of the node's `Transaction` (primitives/src/transaction.rs),
 * its SCALE encoding (the consensus form: txid, signature hash and P2P wire all use it), the
 * txid, and conversion from and to the node's JSON form (what `tx_get` and `chain_getBlock`
 * return).
 *
 * Conventions: hashes (txids, block hashes, contract addresses) are 64-digit lowercase hex in
 * natural byte order, exactly as the node prints them; scripts and byte strings are
 * `Uint8Array`; 64-bit amounts and counters are `bigint` (JavaScript numbers lose precision past
 * 2^53); 32-bit fields are numbers.
 */
import { fromHex, hashBytes, sha256d, toHex } from './bytes.js';
import { DecodeError, ScaleReader, ScaleWriter, decodeStrict, toU64 } from './scale.js';

/** Largest SCALE-encoded transaction {@link decodeTransaction} looks at (the node's `MAX_TX_SIZE`). */
export const MAX_TX_SIZE = 1_000_000;

/** Base units in one I8O. */
export const COIN = 100_000_000n;

/** `sequence` of an input that opts out of relative lock times. */
export const SEQUENCE_FINAL = 0xffff_ffff;

/** A reference to one output of an earlier transaction. */
export interface OutPoint {
  /** The transaction that created the output: 64 lowercase hex digits, as the node shows it. */
  txid: string;
  /** The output's position in that transaction's outputs. */
  index: number;
}

/** A transaction input. */
export interface TxIn {
  prevout: OutPoint;
  /** The unlocking script (empty until signed). */
  scriptSig: Uint8Array;
  /** nSequence: relative lock time (BIP68) or {@link SEQUENCE_FINAL}. */
  sequence: number;
}

/** A transaction output. */
export interface TxOut {
  /** Amount in base units. */
  value: bigint;
  /** The locking script. */
  scriptPubkey: Uint8Array;
}

/** How a block proves it may extend the chain. SCALE variant indexes: pow 0, producer 1. */
export type Seal =
  | { type: 'pow'; bits: number; nonce: bigint }
  | { type: 'producer'; slot: bigint; pubkey: Uint8Array; signature: Uint8Array };

/** A block header (only needed here inside an `evidence` payload). */
export interface Header {
  version: number;
  parent: string;
  height: bigint;
  time: bigint;
  txRoot: string;
  stateRoot: string;
  seal: Seal;
}

/**
 * The non-UTXO action a transaction carries. The SCALE variant index of each is fixed by
 * `#[codec(index)]` in Rust: deploy 0, call 1, bond 2, unbond 3, registerDelegate 4, vote 5,
 * instantiate 6, evidence 7, migrate 8, setAdmin 9. `admin` (a script, or `null`) is the
 * account that may migrate the contract.
 */
export type Payload =
  | { type: 'deploy'; code: Uint8Array; initInput: Uint8Array; salt: Uint8Array; gasLimit: bigint; admin?: Uint8Array | null }
  | { type: 'call'; contract: string; input: Uint8Array; value: bigint; gasLimit: bigint }
  | { type: 'bond'; stakingKey: Uint8Array; value: bigint }
  | { type: 'unbond'; stakingKey: Uint8Array; value: bigint }
  | { type: 'registerDelegate'; name: string; key: Uint8Array }
  | { type: 'vote'; voterKey: Uint8Array; delegates: Uint8Array[] }
  | { type: 'instantiate'; codeHash: string; initInput: Uint8Array; salt: Uint8Array; gasLimit: bigint; admin?: Uint8Array | null }
  | { type: 'evidence'; first: Header; second: Header }
  | { type: 'migrate'; contract: string; codeHash: string; input: Uint8Array; gasLimit: bigint }
  | { type: 'setAdmin'; contract: string; admin: Uint8Array | null };

/** A transaction. */
export interface Transaction {
  /** 2 or later enables relative lock times. */
  version: number;
  inputs: TxIn[];
  outputs: TxOut[];
  /** nLockTime: a height below 500,000,000, else a UNIX time. */
  lockTime: number;
  /** The non-UTXO action; `null` (or absent) for a plain transfer. */
  payload?: Payload | null;
}

const PAYLOAD_INDEX: Record<Payload['type'], number> = {
  deploy: 0,
  call: 1,
  bond: 2,
  unbond: 3,
  registerDelegate: 4,
  vote: 5,
  instantiate: 6,
  evidence: 7,
  migrate: 8,
  setAdmin: 9,
};

const writeAdmin = (w: ScaleWriter, admin: Uint8Array | null | undefined) =>
  w.option(admin, (w2, a) => w2.bytes(a));

// ---- SCALE writers (field order = Rust declaration order) ----

export function writeOutPoint(w: ScaleWriter, o: OutPoint): void {
  w.raw(hashBytes(o.txid, 'txid')).u32(o.index, 'output index');
}

export function writeTxOut(w: ScaleWriter, o: TxOut): void {
  w.u64(o.value, 'output value').bytes(o.scriptPubkey);
}

function writeTxIn(w: ScaleWriter, i: TxIn): void {
  writeOutPoint(w, i.prevout);
  w.bytes(i.scriptSig).u32(i.sequence, 'sequence');
}

function writeSeal(w: ScaleWriter, s: Seal): void {
  switch (s.type) {
    case 'pow':
      w.u8(0).u32(s.bits, 'bits').u64(s.nonce, 'nonce');
      return;
    case 'producer':
      w.u8(1).u64(s.slot, 'slot').array(s.pubkey, 33, 'producer pubkey').bytes(s.signature);
      return;
  }
}

export function writeHeader(w: ScaleWriter, h: Header): void {
  w.u32(h.version, 'header version')
    .raw(hashBytes(h.parent, 'parent'))
    .u64(h.height, 'height')
    .u64(h.time, 'time')
    .raw(hashBytes(h.txRoot, 'txRoot'))
    .raw(hashBytes(h.stateRoot, 'stateRoot'));
  writeSeal(w, h.seal);
}

/** SCALE of a `Payload` (without the `Option` tag). */
export function writePayload(w: ScaleWriter, p: Payload): void {
  const index = PAYLOAD_INDEX[p.type];
  if (index === undefined) throw new RangeError(`unknown payload type ${(p as { type: string }).type}`);
  w.u8(index);
  switch (p.type) {
    case 'deploy':
      w.bytes(p.code).bytes(p.initInput).array(p.salt, 32, 'salt').u64(p.gasLimit, 'gasLimit');
      writeAdmin(w, p.admin);
      return;
    case 'call':
      w.raw(hashBytes(p.contract, 'contract')).bytes(p.input).u64(p.value, 'value').u64(p.gasLimit, 'gasLimit');
      return;
    case 'bond':
    case 'unbond':
      w.array(p.stakingKey, 33, 'stakingKey').u64(p.value, 'value');
      return;
    case 'registerDelegate':
      w.string(p.name).array(p.key, 33, 'key');
      return;
    case 'vote':
      w.array(p.voterKey, 33, 'voterKey').vec(p.delegates, (w2, d) => w2.array(d, 33, 'delegate key'));
      return;
    case 'instantiate':
      w.raw(hashBytes(p.codeHash, 'codeHash')).bytes(p.initInput).array(p.salt, 32, 'salt').u64(p.gasLimit, 'gasLimit');
      writeAdmin(w, p.admin);
      return;
    case 'evidence':
      writeHeader(w, p.first);
      writeHeader(w, p.second);
      return;
    case 'migrate':
      w.raw(hashBytes(p.contract, 'contract')).raw(hashBytes(p.codeHash, 'codeHash')).bytes(p.input).u64(p.gasLimit, 'gasLimit');
      return;
    case 'setAdmin':
      w.raw(hashBytes(p.contract, 'contract'));
      writeAdmin(w, p.admin);
      return;
  }
}

/** SCALE of `Option<Payload>`: what the signature hash's `hash_payload` covers. */
export function writeOptionPayload(w: ScaleWriter, p: Payload | null | undefined): void {
  w.option(p, writePayload);
}

export function writeTransaction(w: ScaleWriter, tx: Transaction): void {
  w.u32(tx.version, 'version')
    .vec(tx.inputs, writeTxIn)
    .vec(tx.outputs, writeTxOut)
    .u32(tx.lockTime, 'lockTime');
  writeOptionPayload(w, tx.payload);
}

/** The SCALE encoding of `tx`: what `tx_submit` takes (as hex) and what the txid hashes. */
export function encodeTransaction(tx: Transaction): Uint8Array {
  const w = new ScaleWriter();
  writeTransaction(w, tx);
  return w.finish();
}

/** {@link encodeTransaction} as lowercase hex. */
export function encodeTransactionHex(tx: Transaction): string {
  return toHex(encodeTransaction(tx));
}

// ---- SCALE readers ----

function readHash(r: ScaleReader): string {
  return toHex(r.raw(32));
}

export function readOutPoint(r: ScaleReader): OutPoint {
  return { txid: readHash(r), index: r.u32() };
}

export function readTxOut(r: ScaleReader): TxOut {
  return { value: r.u64(), scriptPubkey: r.bytes() };
}

function readTxIn(r: ScaleReader): TxIn {
  return { prevout: readOutPoint(r), scriptSig: r.bytes(), sequence: r.u32() };
}

function readSeal(r: ScaleReader): Seal {
  const tag = r.u8();
  if (tag === 0) return { type: 'pow', bits: r.u32(), nonce: r.u64() };
  if (tag === 1) return { type: 'producer', slot: r.u64(), pubkey: r.raw(33), signature: r.bytes() };
  return r.fail(`Could not decode \`Seal\`, variant doesn't exist (index ${tag})`);
}

export function readHeader(r: ScaleReader): Header {
  return {
    version: r.u32(),
    parent: readHash(r),
    height: r.u64(),
    time: r.u64(),
    txRoot: readHash(r),
    stateRoot: readHash(r),
    seal: readSeal(r),
  };
}

export function readPayload(r: ScaleReader): Payload {
  const tag = r.u8();
  switch (tag) {
    case 0:
      return { type: 'deploy', code: r.bytes(), initInput: r.bytes(), salt: r.raw(32), gasLimit: r.u64(), admin: r.option((r2) => r2.bytes()) };
    case 1:
      return { type: 'call', contract: readHash(r), input: r.bytes(), value: r.u64(), gasLimit: r.u64() };
    case 2:
      return { type: 'bond', stakingKey: r.raw(33), value: r.u64() };
    case 3:
      return { type: 'unbond', stakingKey: r.raw(33), value: r.u64() };
    case 4:
      return { type: 'registerDelegate', name: r.string(), key: r.raw(33) };
    case 5:
      return { type: 'vote', voterKey: r.raw(33), delegates: r.vec((r2) => r2.raw(33)) };
    case 6:
      return { type: 'instantiate', codeHash: readHash(r), initInput: r.bytes(), salt: r.raw(32), gasLimit: r.u64(), admin: r.option((r2) => r2.bytes()) };
    case 7:
      return { type: 'evidence', first: readHeader(r), second: readHeader(r) };
    case 8:
      return { type: 'migrate', contract: readHash(r), codeHash: readHash(r), input: r.bytes(), gasLimit: r.u64() };
    case 9:
      return { type: 'setAdmin', contract: readHash(r), admin: r.option((r2) => r2.bytes()) };
    default:
      return r.fail(`Could not decode \`Payload\`, variant doesn't exist (index ${tag})`);
  }
}

export function readTransaction(r: ScaleReader): Transaction {
  return {
    version: r.u32(),
    inputs: r.vec(readTxIn),
    outputs: r.vec(readTxOut),
    lockTime: r.u32(),
    payload: r.option(readPayload),
  };
}

/**
 * Decodes a transaction from untrusted bytes (or hex) as the node's `Transaction::decode_strict`
 * does: at most {@link MAX_TX_SIZE} bytes, exactly one canonical encoding, no trailing bytes.
 * Throws {@link DecodeError}.
 */
export function decodeTransaction(bytes: Uint8Array | string): Transaction {
  const data = typeof bytes === 'string' ? fromHex(bytes) : bytes;
  return decodeStrict(data, MAX_TX_SIZE, 'transaction', readTransaction);
}

/** The txid: sha256d of the SCALE encoding (script_sigs included), as the node shows it. */
export function txid(tx: Transaction): string {
  return toHex(sha256d(encodeTransaction(tx)));
}

/** Size of the SCALE encoding in bytes (what fee rates are per). */
export function encodedSize(tx: Transaction): number {
  return encodeTransaction(tx).length;
}

/** Whether `tx` is a coinbase: exactly one input, spending the null outpoint. */
export function isCoinbase(tx: Transaction): boolean {
  const [only, ...rest] = tx.inputs;
  return only !== undefined && rest.length === 0 && only.prevout.index === SEQUENCE_FINAL && /^0{64}$/.test(only.prevout.txid);
}

// ---- the node's JSON form ----

/** A JSON integer as the node sends it (a number), or a bigint / decimal string. */
type JsonU64 = number | bigint | string;

/** The node's JSON of a transaction (`TxJson` without its `txid` and `size`, which are ignored). */
export interface TransactionJson {
  version: number;
  inputs: { prevout: { txid: string; index: number }; scriptSig: string; sequence: number }[];
  outputs: { value: JsonU64; scriptPubkey: string }[];
  lockTime: number;
  payload?: Record<string, unknown> | null;
}

function u64Of(v: unknown, what: string): bigint {
  if (typeof v === 'bigint' || typeof v === 'number') return toU64(v, what);
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) return toU64(BigInt(v), what);
  throw new DecodeError('Invalid', `${what} is not an integer`, { what });
}

function jsonNumber(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${v} does not fit a JSON number without losing precision`);
  }
  return Number(v);
}

function field(obj: Record<string, unknown>, key: string): unknown {
  if (!(key in obj)) throw new DecodeError('Invalid', `missing field \`${key}\``, { field: key });
  return obj[key];
}

function str(obj: Record<string, unknown>, key: string): string {
  const v = field(obj, key);
  if (typeof v !== 'string') throw new DecodeError('Invalid', `field \`${key}\` is not a string`, { field: key });
  return v;
}

function num(obj: Record<string, unknown>, key: string): number {
  const v = field(obj, key);
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new DecodeError('Invalid', `field \`${key}\` is not an integer`, { field: key });
  }
  return v;
}

function headerFromJson(h: Record<string, unknown>): Header {
  const seal = field(h, 'seal') as Record<string, unknown>;
  return {
    version: num(h, 'version'),
    parent: str(h, 'parent'),
    height: u64Of(field(h, 'height'), 'height'),
    time: u64Of(field(h, 'time'), 'time'),
    txRoot: str(h, 'txRoot'),
    stateRoot: str(h, 'stateRoot'),
    seal:
      seal['type'] === 'pow'
        ? { type: 'pow', bits: num(seal, 'bits'), nonce: u64Of(field(seal, 'nonce'), 'nonce') }
        : {
            type: 'producer',
            slot: u64Of(field(seal, 'slot'), 'slot'),
            pubkey: fromHex(str(seal, 'pubkey')),
            signature: fromHex(str(seal, 'signature')),
          },
  };
}

function headerToJson(h: Header): Record<string, unknown> {
  return {
    version: h.version,
    parent: h.parent,
    height: jsonNumber(h.height),
    time: jsonNumber(h.time),
    txRoot: h.txRoot,
    stateRoot: h.stateRoot,
    seal:
      h.seal.type === 'pow'
        ? { type: 'pow', bits: h.seal.bits, nonce: jsonNumber(h.seal.nonce) }
        : { type: 'producer', slot: jsonNumber(h.seal.slot), pubkey: toHex(h.seal.pubkey), signature: toHex(h.seal.signature) },
  };
}

/** A payload's `admin` from JSON: hex, or `null` / absent for none. */
function adminOf(p: Record<string, unknown>): Uint8Array | null {
  const admin = p['admin'];
  if (admin === null || admin === undefined) return null;
  if (typeof admin !== 'string') throw new DecodeError('Invalid', 'field `admin` is not hex or null');
  return fromHex(admin);
}

/** A payload from the node's JSON (tagged by `type`, bytes as hex). */
export function payloadFromJson(p: Record<string, unknown>): Payload {
  const b = (key: string) => fromHex(str(p, key));
  const u = (key: string) => u64Of(field(p, key), key);
  switch (p['type']) {
    case 'deploy':
      return { type: 'deploy', code: b('code'), initInput: b('initInput'), salt: b('salt'), gasLimit: u('gasLimit'), admin: adminOf(p) };
    case 'call':
      return { type: 'call', contract: str(p, 'contract'), input: b('input'), value: u('value'), gasLimit: u('gasLimit') };
    case 'bond':
    case 'unbond':
      return { type: p['type'], stakingKey: b('stakingKey'), value: u('value') };
    case 'registerDelegate':
      return { type: 'registerDelegate', name: str(p, 'name'), key: b('key') };
    case 'vote': {
      const delegates = field(p, 'delegates');
      if (!Array.isArray(delegates)) throw new DecodeError('Invalid', 'field `delegates` is not an array');
      return { type: 'vote', voterKey: b('voterKey'), delegates: delegates.map((d) => fromHex(String(d))) };
    }
    case 'instantiate':
      return { type: 'instantiate', codeHash: str(p, 'codeHash'), initInput: b('initInput'), salt: b('salt'), gasLimit: u('gasLimit'), admin: adminOf(p) };
    case 'evidence':
      return {
        type: 'evidence',
        first: headerFromJson(field(p, 'first') as Record<string, unknown>),
        second: headerFromJson(field(p, 'second') as Record<string, unknown>),
      };
    case 'migrate':
      return { type: 'migrate', contract: str(p, 'contract'), codeHash: str(p, 'codeHash'), input: b('input'), gasLimit: u('gasLimit') };
    case 'setAdmin':
      return { type: 'setAdmin', contract: str(p, 'contract'), admin: adminOf(p) };
    default:
      throw new DecodeError('Invalid', `unknown payload type ${JSON.stringify(p['type'])}`);
  }
}

/** A payload in the node's JSON form. */
export function payloadToJson(p: Payload): Record<string, unknown> {
  switch (p.type) {
    case 'deploy':
      return { type: p.type, code: toHex(p.code), initInput: toHex(p.initInput), salt: toHex(p.salt), gasLimit: jsonNumber(p.gasLimit), admin: p.admin ? toHex(p.admin) : null };
    case 'call':
      return { type: p.type, contract: p.contract, input: toHex(p.input), value: jsonNumber(p.value), gasLimit: jsonNumber(p.gasLimit) };
    case 'bond':
    case 'unbond':
      return { type: p.type, stakingKey: toHex(p.stakingKey), value: jsonNumber(p.value) };
    case 'registerDelegate':
      return { type: p.type, name: p.name, key: toHex(p.key) };
    case 'vote':
      return { type: p.type, voterKey: toHex(p.voterKey), delegates: p.delegates.map(toHex) };
    case 'instantiate':
      return { type: p.type, codeHash: p.codeHash, initInput: toHex(p.initInput), salt: toHex(p.salt), gasLimit: jsonNumber(p.gasLimit), admin: p.admin ? toHex(p.admin) : null };
    case 'evidence':
      return { type: p.type, first: headerToJson(p.first), second: headerToJson(p.second) };
    case 'migrate':
      return { type: p.type, contract: p.contract, codeHash: p.codeHash, input: toHex(p.input), gasLimit: jsonNumber(p.gasLimit) };
    case 'setAdmin':
      return { type: p.type, contract: p.contract, admin: p.admin ? toHex(p.admin) : null };
  }
}

/** A transaction from the node's JSON (e.g. the `tx` of `tx_get`); `txid` / `size` are ignored. */
export function txFromJson(json: TransactionJson | Record<string, unknown>): Transaction {
  const j = json as Record<string, unknown>;
  const inputs = field(j, 'inputs') as Record<string, unknown>[];
  const outputs = field(j, 'outputs') as Record<string, unknown>[];
  const payload = j['payload'];
  return {
    version: num(j, 'version'),
    inputs: inputs.map((i) => {
      const prevout = field(i, 'prevout') as Record<string, unknown>;
      return {
        prevout: { txid: str(prevout, 'txid'), index: num(prevout, 'index') },
        scriptSig: fromHex(str(i, 'scriptSig')),
        sequence: num(i, 'sequence'),
      };
    }),
    outputs: outputs.map((o) => ({ value: u64Of(field(o, 'value'), 'value'), scriptPubkey: fromHex(str(o, 'scriptPubkey')) })),
    lockTime: num(j, 'lockTime'),
    payload: payload === null || payload === undefined ? null : payloadFromJson(payload as Record<string, unknown>),
  };
}

/** The node's JSON form of `tx` (amounts as numbers: throws past 2^53). */
export function txToJson(tx: Transaction): TransactionJson {
  return {
    version: tx.version,
    inputs: tx.inputs.map((i) => ({
      prevout: { txid: i.prevout.txid, index: i.prevout.index },
      scriptSig: toHex(i.scriptSig),
      sequence: i.sequence,
    })),
    outputs: tx.outputs.map((o) => ({ value: jsonNumber(o.value), scriptPubkey: toHex(o.scriptPubkey) })),
    lockTime: tx.lockTime,
    payload: tx.payload ? payloadToJson(tx.payload) : null,
  };
}

/** A deep copy of `tx` (byte arrays copied too). */
export function cloneTransaction(tx: Transaction): Transaction {
  return decodeTransaction(encodeTransaction(tx));
}
