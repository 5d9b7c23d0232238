// Transactions: SCALE layout field by field, txid, strict decoding, payloads and the JSON form.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  DecodeError,
  type Payload,
  type Transaction,
  decodeTransaction,
  encodeTransaction,
  encodeTransactionHex,
  fromHex,
  isCoinbase,
  parseHash,
  ParseHashError,
  sha256d,
  toHex,
  txFromJson,
  txToJson,
  txid,
} from '../src/index.js';

const TXID = 'ab00000000000000000000000000000000000000000000000000000000000001';

function sample(payload: Payload | null = null): Transaction {
  return {
    version: 2,
    inputs: [{ prevout: { txid: TXID, index: 3 }, scriptSig: Uint8Array.of(0x51), sequence: 0xfffffffe }],
    outputs: [{ value: 5_000_000_000n, scriptPubkey: Uint8Array.of(0x76, 0xa9) }],
    lockTime: 7,
    payload,
  };
}

test('sha256d of the empty input is the known digest', () => {
  assert.equal(toHex(sha256d(new Uint8Array())), '5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456');
});

test('a transaction encodes its fields in declaration order', () => {
  const expected =
    '02000000' + // version
    '04' + // one input
    TXID + // prevout txid, natural byte order (not reversed)
    '03000000' + // prevout index
    '0451' + // script_sig
    'feffffff' + // sequence
    '04' + // one output
    '00f2052a01000000' + // 5_000_000_000
    '0876a9' + // script_pubkey
    '07000000' + // lock_time
    '00'; // no payload
  assert.equal(encodeTransactionHex(sample()), expected);
  assert.deepEqual(decodeTransaction(expected), sample());
  assert.equal(txid(sample()), toHex(sha256d(fromHex(expected))));
});

test('hashes parse as the node parses them', () => {
  assert.equal(toHex(parseHash(TXID)), TXID);
  const kind = (s: string) => {
    try {
      parseHash(s);
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof ParseHashError);
      return e.kind;
    }
  };
  assert.equal(kind('00'), 'InvalidLength');
  assert.equal(kind('0'.repeat(63) + 'A'), 'Uppercase');
  assert.equal(kind('0'.repeat(63) + 'g'), 'InvalidHex');
});

test('every payload variant round-trips with its codec index', () => {
  const key = new Uint8Array(33).fill(2);
  const header = {
    version: 1,
    parent: '11'.repeat(32),
    height: 9n,
    time: 1_700_000_000n,
    txRoot: '22'.repeat(32),
    stateRoot: '33'.repeat(32),
    seal: { type: 'producer' as const, slot: 4n, pubkey: key, signature: Uint8Array.of(1, 2, 3) },
  };
  const payloads: [number, Payload][] = [
    [0, { type: 'deploy', code: Uint8Array.of(0, 0x61, 0x73, 0x6d), initInput: Uint8Array.of(1), salt: new Uint8Array(32).fill(5), gasLimit: 100_000n, admin: null }],
    [1, { type: 'call', contract: '44'.repeat(32), input: Uint8Array.of(9, 9), value: 12n, gasLimit: (1n << 64n) - 1n }],
    [2, { type: 'bond', stakingKey: key, value: 1n }],
    [3, { type: 'unbond', stakingKey: key, value: 2n }],
    [4, { type: 'registerDelegate', name: 'alice ✓', key }],
    [5, { type: 'vote', voterKey: key, delegates: [key, new Uint8Array(33).fill(3)] }],
    [6, { type: 'instantiate', codeHash: '55'.repeat(32), initInput: new Uint8Array(), salt: new Uint8Array(32), gasLimit: 7n, admin: Uint8Array.of(0x51) }],
    [7, { type: 'evidence', first: header, second: { ...header, seal: { type: 'pow', bits: 0x207fffff, nonce: 42n } } }],
    [8, { type: 'migrate', contract: '66'.repeat(32), codeHash: '77'.repeat(32), input: Uint8Array.of(4, 2), gasLimit: 9n }],
    [9, { type: 'setAdmin', contract: '66'.repeat(32), admin: null }],
  ];
  for (const [index, payload] of payloads) {
    const tx = sample(payload);
    const bytes = encodeTransaction(tx);
    const plain = encodeTransaction(sample());
    // Option tag 1, then the variant index, right after the lock time.
    assert.equal(bytes[plain.length - 1], 1, payload.type);
    assert.equal(bytes[plain.length], index, payload.type);
    assert.deepEqual(decodeTransaction(bytes), tx, payload.type);
    if (payload.type === 'call') {
      // u64::MAX gas does not fit a JSON number: refused rather than rounded.
      assert.throws(() => txToJson(tx), RangeError);
    } else {
      assert.deepEqual(txFromJson(txToJson(tx)), tx, `${payload.type} JSON`);
    }
  }
});

test('decoding is strict', () => {
  const bytes = encodeTransaction(sample());
  const kind = (b: Uint8Array) => {
    try {
      decodeTransaction(b);
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof DecodeError);
      return e.kind;
    }
  };
  assert.equal(kind(bytes), 'ok');
  assert.equal(kind(Uint8Array.from([...bytes, 0])), 'TrailingBytes');
  assert.equal(kind(bytes.subarray(0, bytes.length - 1)), 'Invalid');
  const badTag = Uint8Array.from(bytes);
  badTag[badTag.length - 1] = 1; // Some(...) with nothing after it
  assert.equal(kind(badTag), 'Invalid');
  assert.equal(kind(Uint8Array.from([...bytes.subarray(0, bytes.length - 1), 1, 8])), 'Invalid'); // unknown variant 8
  assert.equal(kind(new Uint8Array(1_000_001)), 'TooLarge');
});

test('the JSON form is the node\'s', () => {
  const json = txToJson(sample());
  assert.deepEqual(json, {
    version: 2,
    inputs: [{ prevout: { txid: TXID, index: 3 }, scriptSig: '51', sequence: 0xfffffffe }],
    outputs: [{ value: 5_000_000_000, scriptPubkey: '76a9' }],
    lockTime: 7,
    payload: null,
  });
  // What tx_get returns carries txid and size too: ignored.
  assert.deepEqual(txFromJson({ ...json, txid: TXID, size: 60 }), sample());
});

test('a coinbase spends the null outpoint', () => {
  const cb = sample();
  cb.inputs = [{ prevout: { txid: '00'.repeat(32), index: 0xffffffff }, scriptSig: new Uint8Array(), sequence: 0xffffffff }];
  assert.ok(isCoinbase(cb));
  assert.ok(!isCoinbase(sample()));
});
