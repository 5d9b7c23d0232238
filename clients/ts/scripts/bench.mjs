// SDK signing throughput: `npm run build && node scripts/bench.mjs`. Signs a 1,000-input
// P2PKH transaction (one signature hash and one ECDSA signature per input, as a wallet does)
// and a signing request of 100 inputs, five runs each; prints the median rates. A measurement,
// not a test: nothing here asserts a speed.
import { performance } from 'node:perf_hooks';

import {
  HdWallet,
  SigningRequest,
  mnemonicFromEntropy,
  p2pkhScriptForPubkey,
  signP2pkhTransaction,
} from '../dist/src/index.js';

const wallet = HdWallet.fromMnemonic(mnemonicFromEntropy(new Uint8Array(32)));
const key = wallet.key(0);
const chainId = '11'.repeat(32);
const script = p2pkhScriptForPubkey(key.publicKey);

function transaction(inputs) {
  return {
    version: 2,
    inputs: Array.from({ length: inputs }, (_, i) => ({
      prevout: { txid: i.toString(16).padStart(64, '0'), index: 0 },
      scriptSig: new Uint8Array(0),
      sequence: 0xffff_ffff,
    })),
    outputs: [{ value: 1_000n * BigInt(inputs), scriptPubkey: script }],
    lockTime: 0,
    payload: null,
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function rate(runs, n, body) {
  body(); // warm-up
  const times = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    body();
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  return { ms, perSecond: Math.round((n / ms) * 1000) };
}

const tx = transaction(1_000);
const spent = tx.inputs.map(() => ({ value: 2_000n, scriptPubkey: script }));
const direct = rate(5, 1_000, () => signP2pkhTransaction(tx, chainId, spent, [key.secretKey]));
console.log(
  `signP2pkhTransaction, 1,000 inputs: median ${direct.ms.toFixed(1)} ms = ${direct.perSecond} signed inputs/s`,
);

const small = transaction(100);
const unsigned = SigningRequest.create(
  chainId,
  small,
  small.inputs.map(() => ({
    spent: { value: 2_000n, scriptPubkey: script },
    hashType: 1,
    redeemScript: null,
    keys: [],
    signatures: [],
  })),
  [{ change: false, keys: [] }],
).toText();
// Decode (every check), sign every input, encode: what an offline signer does with a request.
const viaRequest = rate(5, 100, () => {
  const r = SigningRequest.fromText(unsigned);
  r.signWith(key.secretKey);
  r.toText();
});
console.log(
  `signing request, 100 inputs (decode, sign, encode): median ${viaRequest.ms.toFixed(1)} ms = ${viaRequest.perSecond} signed inputs/s`,
);
