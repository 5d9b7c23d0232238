// The signature hash (its layout, what each hash type commits to, its errors) and ECDSA
// signing (deterministic RFC 6979, low S, DER ‖ hash type), as the node computes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';

import {
  HdWallet,
  SIGHASH_ALL,
  SIGHASH_ANYONECANPAY,
  SIGHASH_NONE,
  SIGHASH_SINGLE,
  ScaleWriter,
  SighashCache,
  SighashError,
  type Transaction,
  classifyScript,
  concatBytes,
  decodeTransaction,
  encodeTransaction,
  fromHex,
  p2pkhScriptSigFor,
  sha256d,
  signDigest,
  signP2pkhInput,
  signP2pkhTransaction,
  signWithHashType,
  signatureHash,
  toHex,
  verifySignature,
} from '../src/index.js';

const CHAIN = '1c404c3c25ed45f420c25b8b949d223e40c1f1c85b5b160d178c6643a286abcf';
const wallet = HdWallet.fromMnemonic('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about');
const alice = wallet.key(0);
const bob = wallet.key(1);

function tx(): Transaction {
  return {
    version: 2,
    inputs: [
      { prevout: { txid: '01'.repeat(32), index: 0 }, scriptSig: new Uint8Array(), sequence: 0xffffffff },
      { prevout: { txid: '02'.repeat(32), index: 5 }, scriptSig: new Uint8Array(), sequence: 7 },
    ],
    outputs: [
      { value: 1_000n, scriptPubkey: bob.scriptPubkey },
      { value: 2_000n, scriptPubkey: alice.scriptPubkey },
    ],
    lockTime: 0,
    payload: null,
  };
}

test('the preimage is the documented SCALE sequence', () => {
  const t = tx();
  const code = alice.scriptPubkey;
  const d = (w: ScaleWriter) => sha256d(w.finish());
  const prevouts = d(new ScaleWriter().compact(2).raw(fromHex('01'.repeat(32))).u32(0).raw(fromHex('02'.repeat(32))).u32(5));
  const sequences = d(new ScaleWriter().compact(2).u32(0xffffffff).u32(7));
  const outputs = d(new ScaleWriter().compact(2).u64(1000).bytes(bob.scriptPubkey).u64(2000).bytes(alice.scriptPubkey));
  const payload = sha256d(Uint8Array.of(0));
  const preimage = new ScaleWriter()
    .raw(new TextEncoder().encode('I8O8I-SIGHASH-V1'))
    .raw(fromHex(CHAIN))
    .u32(2)
    .raw(prevouts)
    .raw(sequences)
    .raw(fromHex('02'.repeat(32)))
    .u32(5)
    .bytes(code)
    .u64(12_345)
    .u32(7)
    .raw(outputs)
    .u32(0)
    .raw(payload)
    .u32(SIGHASH_ALL)
    .finish();
  assert.equal(toHex(signatureHash(t, CHAIN, 1, code, 12_345n, SIGHASH_ALL)), toHex(sha256d(preimage)));
});

test('hash types commit to what they say', () => {
  const base = tx();
  const code = alice.scriptPubkey;
  const h = (t: Transaction, type: number, index = 0) => toHex(signatureHash(t, CHAIN, index, code, 5000n, type));
  const otherOutput: Transaction = { ...base, outputs: [base.outputs[0]!, { ...base.outputs[1]!, value: 1n }] };
  const otherInput: Transaction = { ...base, inputs: [base.inputs[0]!, { ...base.inputs[1]!, sequence: 1 }] };
  const fewerInputs: Transaction = { ...base, inputs: [base.inputs[0]!] };
  assert.notEqual(h(base, SIGHASH_ALL), h(otherOutput, SIGHASH_ALL));
  assert.equal(h(base, SIGHASH_NONE), h(otherOutput, SIGHASH_NONE));
  assert.equal(h(base, SIGHASH_SINGLE), h(otherOutput, SIGHASH_SINGLE)); // output 1 is not input 0's
  assert.notEqual(h(base, SIGHASH_SINGLE, 1), h(otherOutput, SIGHASH_SINGLE, 1));
  assert.notEqual(h(base, SIGHASH_ALL), h(otherInput, SIGHASH_ALL)); // sequences
  assert.equal(h(base, SIGHASH_NONE), h(otherInput, SIGHASH_NONE));
  assert.equal(h(base, SIGHASH_ALL | SIGHASH_ANYONECANPAY), h(fewerInputs, SIGHASH_ALL | SIGHASH_ANYONECANPAY));
  assert.notEqual(h(base, SIGHASH_ALL), h(fewerInputs, SIGHASH_ALL));
  // The chain id and the payload are committed.
  assert.notEqual(h(base, SIGHASH_ALL), toHex(signatureHash(base, '00'.repeat(32), 0, code, 5000n, SIGHASH_ALL)));
  const withPayload: Transaction = { ...base, payload: { type: 'bond', stakingKey: alice.publicKey, value: 1n } };
  assert.notEqual(h(base, SIGHASH_NONE), h(withPayload, SIGHASH_NONE));
});

test('sighash errors are the node\'s', () => {
  const t = tx();
  const kind = (index: number, type: number, outputs = 2) => {
    try {
      signatureHash({ ...t, outputs: t.outputs.slice(0, outputs) }, CHAIN, index, new Uint8Array(), 1n, type);
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof SighashError);
      return e.kind;
    }
  };
  assert.equal(kind(2, SIGHASH_ALL), 'InputIndexOutOfRange');
  assert.equal(kind(0, 0), 'UndefinedHashType');
  assert.equal(kind(0, 4), 'UndefinedHashType');
  assert.equal(kind(0, 0x84), 'UndefinedHashType');
  assert.equal(kind(0, 0x81), 'ok');
  assert.equal(kind(1, SIGHASH_SINGLE, 1), 'SingleWithoutOutput');
  assert.equal(kind(0, SIGHASH_SINGLE | SIGHASH_ANYONECANPAY, 1), 'ok');
});

test('signatures are deterministic RFC 6979, low S, DER', () => {
  // The classic vector (bitcoinjs-lib / python-ecdsa): key 1, sha256("Satoshi Nakamoto").
  const one = fromHex('00'.repeat(31) + '01');
  const digest = sha256(new TextEncoder().encode('Satoshi Nakamoto'));
  assert.equal(
    toHex(signDigest(digest, one)),
    '3045022100934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d802202442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5',
  );
  for (let i = 0; i < 32; i++) {
    const dg = sha256(Uint8Array.of(i));
    const der = signDigest(dg, alice.secretKey);
    assert.deepEqual(der, signDigest(dg, alice.secretKey));
    assert.ok(!secp256k1.Signature.fromBytes(der, 'der').hasHighS());
    const sig = signWithHashType(dg, alice.secretKey, SIGHASH_SINGLE);
    assert.equal(sig[sig.length - 1], SIGHASH_SINGLE);
    assert.ok(verifySignature(sig, alice.publicKey, dg, SIGHASH_SINGLE));
    assert.ok(!verifySignature(sig, alice.publicKey, dg, SIGHASH_ALL));
    assert.ok(!verifySignature(sig, bob.publicKey, dg, SIGHASH_SINGLE));
    // The high-S twin verifies mathematically but is refused, as the node refuses it.
    const parsed = secp256k1.Signature.fromBytes(der, 'der');
    const high = new secp256k1.Signature(parsed.r, secp256k1.Point.CURVE().n - parsed.s);
    assert.ok(!verifySignature(concatBytes(high.toBytes('der'), Uint8Array.of(SIGHASH_SINGLE)), alice.publicKey, dg, SIGHASH_SINGLE));
  }
});

test('P2PKH inputs are signed with the P2PKH script as script code', () => {
  const t = tx();
  const spent = [
    { value: 5_000n, scriptPubkey: alice.scriptPubkey },
    { value: 6_000n, scriptPubkey: bob.scriptPubkey },
  ];
  const { tx: signed, signed: done, unsigned } = signP2pkhTransaction(t, CHAIN, spent, [alice.secretKey]);
  assert.deepEqual(done, [0]);
  assert.deepEqual(unsigned, [1]);
  assert.equal(signed.inputs[1]!.scriptSig.length, 0);
  const expected = p2pkhScriptSigFor(new SighashCache(t), CHAIN, 0, alice.secretKey, 5_000n, SIGHASH_ALL);
  assert.deepEqual(signed.inputs[0]!.scriptSig, expected);
  assert.deepEqual(signP2pkhInput(t, 0, alice.secretKey, 5_000n, CHAIN).inputs[0]!.scriptSig, expected);
  // <sig> <pubkey>, and the signature verifies over the sighash.
  const script = signed.inputs[0]!.scriptSig;
  const sigLen = script[0]!;
  const sig = script.subarray(1, 1 + sigLen);
  assert.deepEqual(script.subarray(2 + sigLen), alice.publicKey);
  const digest = signatureHash(t, CHAIN, 0, alice.scriptPubkey, 5_000n, SIGHASH_ALL);
  assert.ok(verifySignature(sig, alice.publicKey, digest, SIGHASH_ALL));
  // Signing does not touch the input transaction, and the result round-trips.
  assert.equal(t.inputs[0]!.scriptSig.length, 0);
  assert.deepEqual(decodeTransaction(encodeTransaction(signed)), signed);
  const both = signP2pkhTransaction(t, CHAIN, spent, [alice.secretKey, bob.secretKey]);
  assert.deepEqual(both.signed, [0, 1]);
  assert.equal(classifyScript(spent[1]!.scriptPubkey).type, 'p2pkh');
});
