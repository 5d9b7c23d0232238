// Signing requests: the byte format, signing, combining, finalising and every refusal, as
// primitives/src/signing_request.rs defines them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';

import {
  HdWallet,
  REQUEST_MAGIC,
  RequestError,
  SIGHASH_ALL,
  SIGHASH_SINGLE,
  SigningRequest,
  type RequestInput,
  type Transaction,
  combineRequests,
  concatBytes,
  encodeTransaction,
  fromHex,
  hash160,
  multisigScript,
  multisigScriptSig,
  p2pkhScriptSig,
  p2shScriptFor,
  p2shScriptSig,
  parsePath,
  pushData,
  signatureHash,
  toHex,
  txid,
} from '../src/index.js';
import { base64 } from '@scure/base';

const CHAIN = '1c404c3c25ed45f420c25b8b949d223e40c1f1c85b5b160d178c6643a286abcf';
const wallet = HdWallet.fromMnemonic('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about');
const alice = wallet.key(0);
const bob = wallet.key(1);
const [k1, k2, k3] = [wallet.key(10), wallet.key(11), wallet.key(12)] as const;
const redeem = multisigScript(2, [k1.publicKey, k2.publicKey, k3.publicKey]);

function unsignedTx(): Transaction {
  return {
    version: 2,
    inputs: [
      { prevout: { txid: 'aa'.repeat(32), index: 0 }, scriptSig: new Uint8Array(), sequence: 0xffffffff },
      { prevout: { txid: 'bb'.repeat(32), index: 1 }, scriptSig: new Uint8Array(), sequence: 0xffffffff },
    ],
    outputs: [
      { value: 7_000n, scriptPubkey: bob.scriptPubkey },
      { value: 2_000n, scriptPubkey: alice.scriptPubkey },
    ],
    lockTime: 0,
    payload: null,
  };
}

function inputs(): RequestInput[] {
  return [
    {
      spent: { value: 4_000n, scriptPubkey: alice.scriptPubkey },
      hashType: SIGHASH_ALL,
      redeemScript: null,
      keys: [{ pubkey: alice.publicKey, path: alice.rawPath }],
      signatures: [],
    },
    {
      spent: { value: 6_000n, scriptPubkey: p2shScriptFor(redeem) },
      hashType: SIGHASH_ALL,
      redeemScript: redeem,
      keys: [k1, k2, k3].map((k) => ({ pubkey: k.publicKey, path: [] })),
      signatures: [],
    },
  ];
}

function request(): SigningRequest {
  return SigningRequest.create(CHAIN, unsignedTx(), inputs(), [
    { change: false, keys: [] },
    { change: true, keys: [{ pubkey: alice.publicKey, path: parsePath("m/44'/8088'/0'/0/0") }] },
  ]);
}

/** The kind of the RequestError `f` throws. */
function kind(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof RequestError, `not a RequestError: ${String(e)}`);
    return e.kind;
  }
}

/** Re-decodes `r` after `mutate` (which bypasses the checks `create` makes). */
function tampered(mutate: (r: SigningRequest) => void): () => SigningRequest {
  const r = request();
  mutate(r);
  const bytes = r.encodeBytes();
  return () => SigningRequest.decodeBytes(bytes);
}

test('the byte format is magic, version, SCALE body; text is padded base64', () => {
  const r = request();
  const bytes = r.encodeBytes();
  assert.equal(toHex(bytes.subarray(0, 6)), '69387372ff01');
  assert.equal(toHex(bytes.subarray(6, 38)), CHAIN);
  const txBytes = encodeTransaction(r.tx);
  assert.deepEqual(bytes.subarray(38, 38 + txBytes.length), txBytes);
  // Then Vec<RequestInput>: 2 inputs; the first: TxOut, hash type, None, one KeyOrigin, no signatures.
  const rest = bytes.subarray(38 + txBytes.length);
  const firstInput = concatBytes(
    Uint8Array.of(0x08),
    fromHex('a00f000000000000'),
    Uint8Array.of(25 << 2),
    alice.scriptPubkey,
    Uint8Array.of(SIGHASH_ALL, 0, 0x04),
    alice.publicKey,
    Uint8Array.of(5 << 2),
    ...alice.rawPath.map((c) => fromHex(c.toString(16).padStart(8, '0')).reverse()),
    Uint8Array.of(0),
  );
  assert.equal(toHex(rest.subarray(0, firstInput.length)), toHex(firstInput));
  // The outputs close the body: Vec of 2 { change: bool, keys }.
  const outputsTail = concatBytes(Uint8Array.of(0x08, 0, 0, 1, 0x04), alice.publicKey, Uint8Array.of(5 << 2));
  assert.equal(toHex(bytes.subarray(bytes.length - outputsTail.length - 20, bytes.length - 20)), toHex(outputsTail));
  const text = r.toText();
  assert.equal(text, base64.encode(bytes));
  const back = SigningRequest.fromText(`  ${text}\n`);
  assert.deepEqual(back, r);
  assert.equal(back.unsignedTxid(), txid(unsignedTx()));
  assert.equal(back.fee(), 1_000n);
});

test('signing, status, finalising a P2PKH and a P2SH 2-of-3 input', () => {
  const r = request();
  assert.deepEqual(r.status(), [{ have: 0, need: 1 }, { have: 0, need: 2 }]);
  assert.equal(r.signWith(bob.secretKey), 0);
  assert.equal(r.signWith(alice.secretKey), 1);
  assert.equal(r.signWith(alice.secretKey), 0); // already signed
  assert.equal(r.signWith(k3.secretKey), 1);
  assert.equal(kind(() => r.finalize()), 'Incomplete');
  assert.equal(r.isComplete(), false);
  assert.equal(r.signWith(k1.secretKey), 1);
  assert.deepEqual(r.status(), [{ have: 1, need: 1 }, { have: 2, need: 2 }]);
  assert.ok(r.isComplete());
  // Signatures sorted by public key.
  const keys = r.inputs[1]!.signatures.map((s) => toHex(s.pubkey));
  assert.deepEqual(keys, [...keys].sort());
  // The text form survives the checks (every signature verifies).
  const again = SigningRequest.fromText(r.toText());
  const signed = again.finalize();
  const sig = (k: typeof k1, input: number) =>
    r.inputs[input]!.signatures.find((s) => toHex(s.pubkey) === k.publicKeyHex)!.signature;
  assert.deepEqual(signed.inputs[0]!.scriptSig, p2pkhScriptSig(sig(alice, 0), alice.publicKey));
  // CHECKMULTISIG order: the redeem script's key order, k1 before k3.
  assert.deepEqual(
    signed.inputs[1]!.scriptSig,
    p2shScriptSig(multisigScriptSig([sig(k1, 1), sig(k3, 1)]), redeem),
  );
  // The signatures are over the documented sighash with the right script codes.
  const digest = signatureHash(unsignedTx(), CHAIN, 1, redeem, 6_000n, SIGHASH_ALL);
  assert.ok(secp256k1.verify(sig(k1, 1).subarray(0, -1), digest, k1.publicKey, { prehash: false, format: 'der' }));
  // The request's transaction stays unsigned.
  assert.equal(r.tx.inputs[0]!.scriptSig.length, 0);
  assert.notEqual(txid(signed), r.unsignedTxid());
});

test('a request signs with its hash type', () => {
  const r = request();
  r.inputs[0]!.hashType = SIGHASH_SINGLE;
  const single = SigningRequest.decodeBytes(r.encodeBytes());
  assert.equal(single.signWith(alice.secretKey), 1);
  const sig = single.inputs[0]!.signatures[0]!.signature;
  assert.equal(sig[sig.length - 1], SIGHASH_SINGLE);
  SigningRequest.fromText(single.toText());
});

test('combining merges signatures made apart', () => {
  const a = request();
  const b = request();
  a.signWith(k1.secretKey);
  b.signWith(k2.secretKey);
  b.signWith(alice.secretKey);
  const merged = combineRequests(a, b);
  assert.deepEqual(merged.status(), [{ have: 1, need: 1 }, { have: 2, need: 2 }]);
  assert.equal(a.inputs[1]!.signatures.length, 1); // combineRequests copies
  assert.equal(a.combine(b), 2);
  assert.deepEqual(a.toText(), merged.toText());
  assert.equal(kind(() => a.combine(b)), 'NothingToCombine');
  // Key origins a side lacks are taken from the other.
  const c = request();
  c.inputs[1]!.keys = [];
  const d = request();
  d.signWith(k2.secretKey);
  assert.equal(c.combine(d), 1);
  assert.deepEqual(c.inputs[1]!.keys.map((k) => toHex(k.pubkey)), [k1, k2, k3].map((k) => k.publicKeyHex));
});

test('combining refuses other chains, transactions and conflicting signatures', () => {
  const a = request();
  const otherChain = SigningRequest.create('00'.repeat(32), unsignedTx(), inputs(), request().outputs);
  otherChain.signWith(alice.secretKey);
  assert.equal(kind(() => a.combine(otherChain)), 'DifferentChain');
  const tx2 = unsignedTx();
  tx2.lockTime = 1;
  const otherTx = SigningRequest.create(CHAIN, tx2, inputs(), request().outputs);
  otherTx.signWith(alice.secretKey);
  assert.equal(kind(() => a.combine(otherTx)), 'DifferentTransaction');
  // A second valid signature by the same key (other nonce): a conflict.
  a.signWith(alice.secretKey);
  const b = request();
  const digest = signatureHash(unsignedTx(), CHAIN, 0, alice.scriptPubkey, 4_000n, SIGHASH_ALL);
  const other = secp256k1.sign(digest, alice.secretKey, { prehash: false, format: 'der', extraEntropy: true });
  b.inputs[0]!.signatures = [{ pubkey: alice.publicKey, signature: concatBytes(other, Uint8Array.of(SIGHASH_ALL)) }];
  const decoded = SigningRequest.decodeBytes(b.encodeBytes());
  assert.equal(kind(() => a.combine(decoded)), 'ConflictingSignatures');
  assert.equal(a.inputs[0]!.signatures.length, 1); // unchanged
});

test('decoding refuses what the node refuses', () => {
  const good = request().encodeBytes();
  assert.equal(kind(() => SigningRequest.decodeBytes(good)), 'ok');
  assert.equal(kind(() => SigningRequest.decodeBytes(new Uint8Array())), 'BadMagic');
  assert.equal(kind(() => SigningRequest.decodeBytes(REQUEST_MAGIC)), 'BadMagic');
  assert.equal(kind(() => SigningRequest.decodeBytes(fromHex('70736274ff01'))), 'BadMagic');
  const v2 = Uint8Array.from(good);
  v2[5] = 2;
  assert.equal(kind(() => SigningRequest.decodeBytes(v2)), 'UnsupportedVersion');
  assert.equal(kind(() => SigningRequest.decodeBytes(concatBytes(good, Uint8Array.of(0)))), 'Decode');
  assert.equal(kind(() => SigningRequest.decodeBytes(good.subarray(0, good.length - 1))), 'Decode');
  assert.equal(kind(() => SigningRequest.fromText('not base64!')), 'Base64');
  // Standard base64 with canonical padding only (the node's base64 STANDARD engine).
  const withPadding = good.length % 3 === 0 ? concatBytes(good, Uint8Array.of(0)) : good;
  const unpadded = base64.encode(withPadding).replace(/=+$/, '');
  assert.notEqual(unpadded, base64.encode(withPadding));
  assert.equal(kind(() => SigningRequest.fromText(unpadded)), 'Base64');
  assert.equal(kind(() => SigningRequest.fromText(base64.encode(good).replace(/\+/g, '-').replace(/\//g, '_'))), base64.encode(good).match(/[+/]/) ? 'Base64' : 'ok');
  assert.equal(kind(tampered((r) => r.inputs.pop())), 'CountMismatch');
  assert.equal(kind(tampered((r) => r.outputs.push({ change: false, keys: [] }))), 'CountMismatch');
  assert.equal(kind(tampered((r) => (r.tx.inputs[1]!.scriptSig = Uint8Array.of(0x51)))), 'AlreadySigned');
  assert.equal(kind(tampered((r) => (r.inputs[0]!.hashType = 4))), 'Sighash');
  assert.equal(kind(tampered((r) => (r.inputs[1]!.hashType = 0x83 + 1))), 'Sighash');
  assert.equal(kind(tampered((r) => (r.inputs[1]!.redeemScript = multisigScript(1, [k1.publicKey])))), 'RedeemScriptMismatch');
  assert.equal(kind(tampered((r) => (r.inputs[1]!.redeemScript = null))), 'RedeemScriptMismatch');
  // A redeem script that is not multisig is fine until someone signs it.
  const notMultisig = pushData(Uint8Array.of(1));
  assert.equal(kind(tampered((r) => {
    r.inputs[1]!.redeemScript = notMultisig;
    r.inputs[1]!.spent.scriptPubkey = p2shScriptFor(notMultisig);
  })), 'ok');
  const signedBy = (k: typeof alice, input = 0) => {
    const r = request();
    r.signWith(k.secretKey);
    return r.inputs[input]!.signatures;
  };
  assert.equal(kind(tampered((r) => {
    r.inputs[0]!.spent.scriptPubkey = fromHex('51');
    r.inputs[0]!.signatures = signedBy(alice);
  })), 'UnsupportedScript');
  assert.equal(kind(tampered((r) => {
    const sig = signedBy(alice)[0]!;
    r.inputs[0]!.signatures = [{ pubkey: bob.publicKey, signature: sig.signature }];
  })), 'ForeignKey');
  assert.equal(kind(tampered((r) => {
    const sig = signedBy(alice)[0]!;
    const bad = Uint8Array.from(sig.signature);
    bad[10]! ^= 1;
    r.inputs[0]!.signatures = [{ pubkey: alice.publicKey, signature: bad }];
  })), 'InvalidSignature');
  assert.equal(kind(tampered((r) => {
    const sig = signedBy(alice)[0]!;
    r.inputs[0]!.signatures = [{ pubkey: alice.publicKey, signature: concatBytes(sig.signature.subarray(0, -1), Uint8Array.of(SIGHASH_SINGLE)) }];
  })), 'InvalidSignature');
  assert.equal(kind(tampered((r) => {
    const a = signedBy(k1, 1)[0]!;
    const b = signedBy(k3, 1)[0]!;
    const sorted = [a, b].sort((x, y) => (toHex(x.pubkey) < toHex(y.pubkey) ? -1 : 1));
    r.inputs[1]!.signatures = [sorted[1]!, sorted[0]!];
  })), 'UnsortedSignatures');
  assert.equal(kind(tampered((r) => {
    const a = signedBy(k1, 1)[0]!;
    r.inputs[1]!.signatures = [a, a];
  })), 'UnsortedSignatures');
});

test('fees and finalising what cannot be completed', () => {
  const r = request();
  r.tx.outputs[0]!.value = 9_000n;
  assert.equal(kind(() => r.fee()), 'NegativeFee');
  const odd = request();
  odd.inputs[0]!.spent.scriptPubkey = fromHex('51');
  const decoded = SigningRequest.decodeBytes(odd.encodeBytes());
  assert.deepEqual(decoded.status()[0], { have: 0, need: null });
  assert.equal(decoded.isComplete(), false);
  assert.equal(decoded.signWith(alice.secretKey), 0);
  assert.equal(kind(() => decoded.finalize()), 'UnsupportedScript');
  assert.equal(hash160(redeem).length, 20);
});
