// Keys, addresses and scripts: BIP39 / BIP32 as the node's wallet derives them, bech32m
// addresses with the node's checks, and the standard script templates byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

import {
  AddressError,
  HdWallet,
  KeyError,
  TemplateError,
  addressFromScript,
  addressToScript,
  classifyScript,
  decodeAddress,
  encodeAddress,
  formatPath,
  fromHex,
  hash160,
  mnemonicFromEntropy,
  mnemonicToSeed,
  multisigScript,
  multisigScriptSig,
  normalizeMnemonic,
  p2pkhAddress,
  p2pkhScript,
  p2pkhScriptSig,
  p2shScript,
  p2shScriptFor,
  p2shScriptSig,
  parseAddress,
  parsePath,
  pushData,
  toHex,
  walletPath,
} from '../src/index.js';
import { bech32, bech32m } from '@scure/base';

// The node's `--dev` wallet phrase (node/src/launch.rs DEV_MNEMONIC): BIP39's first vector.
const DEV_MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

test('BIP39 English vectors give the expected words and seeds (wallet/tests/data)', (t) => {
  const file = new URL('../../../../wallet/tests/data/bip39_vectors.json', import.meta.url);
  if (!existsSync(file)) {
    t.skip('wallet/tests/data/bip39_vectors.json not found (SDK outside the node repository)');
    return;
  }
  const vectors = JSON.parse(readFileSync(file, 'utf8')).english as [string, string, string, string][];
  assert.equal(vectors.length, 24);
  for (const [entropy, phrase, seed] of vectors) {
    assert.equal(mnemonicFromEntropy(fromHex(entropy)), phrase);
    assert.equal(toHex(mnemonicToSeed(phrase, 'TREZOR')), seed, phrase);
  }
});

test('the dev wallet key matches the node (its mining address)', () => {
  const key = HdWallet.fromMnemonic(DEV_MNEMONIC).key(0);
  assert.equal(key.path, "m/44'/8088'/0'/0/0");
  // Checked against a running `i8o8icoin node --dev`: the address its coinbases pay.
  assert.equal(key.publicKeyHex, '025c72973f8fa49fa1a586bcb31e4d7e8497065856f333cce4dc8a9a2a72d3eef5');
  assert.equal(key.address('dev'), 'ti8o1qrg3ajq299d7qxsc5fx8duhrpgxe0tk5vyavr6qr');
  assert.equal(key.address('testnet'), key.address('dev'));
  assert.ok(key.address('mainnet').startsWith('i8o1'));
  assert.deepEqual(key.scriptPubkey, p2pkhScript(hash160(key.publicKey)));
});

test('mnemonics are normalised and checked like the node does', () => {
  const messy = '  Abandon abandon ABANDON abandon abandon abandon\tabandon abandon abandon abandon abandon about \n';
  assert.equal(normalizeMnemonic(messy), DEV_MNEMONIC);
  assert.deepEqual(mnemonicToSeed(messy), mnemonicToSeed(DEV_MNEMONIC));
  const kind = (phrase: string) => {
    try {
      normalizeMnemonic(phrase);
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof KeyError);
      return `${e.kind}${e.details['position'] ?? ''}`;
    }
  };
  assert.equal(kind('abandon abandon abandon'), 'MnemonicWordCount');
  assert.equal(kind(DEV_MNEMONIC.replace('about', 'zzzz')), 'MnemonicUnknownWord12');
  assert.equal(kind(DEV_MNEMONIC.replace('about', 'abandon')), 'MnemonicChecksum');
});

test('paths parse and format as BIP32 child numbers', () => {
  assert.deepEqual(parsePath("m/44'/8088'/0'/1/5"), [0x8000002c, 0x80001f98, 0x80000000, 1, 5]);
  assert.deepEqual(parsePath('m/44h/8088H/0'), [0x8000002c, 0x80001f98, 0]);
  assert.deepEqual(parsePath('m'), []);
  assert.equal(formatPath([0x8000002c, 0x80001f98, 0x80000000, 1, 5]), "m/44'/8088'/0'/1/5");
  assert.equal(walletPath(1, 7), "m/44'/8088'/0'/1/7");
  for (const bad of ['44/0', 'm/x', "m/2147483648'", 'm/+1', 'm//1']) {
    assert.throws(() => parsePath(bad), KeyError, bad);
  }
  const w = HdWallet.fromMnemonic(DEV_MNEMONIC);
  assert.deepEqual(w.derive(parsePath("m/44'/8088'/0'/0/0")).publicKey, w.key(0).publicKey);
  assert.notDeepEqual(w.key(0, 1).publicKey, w.key(0).publicKey);
});

test('addresses are bech32m of kind and program', () => {
  for (const network of ['mainnet', 'testnet', 'dev'] as const) {
    for (const type of ['p2pkh', 'p2sh'] as const) {
      const hash = new Uint8Array(20).fill(type === 'p2pkh' ? 7 : 9);
      const text = encodeAddress({ mainnet: network === 'mainnet', type, hash });
      assert.ok(text.startsWith(network === 'mainnet' ? 'i8o1' : 'ti8o1'), text);
      assert.deepEqual(parseAddress(text, network), { mainnet: network === 'mainnet', type, hash });
      assert.equal(addressFromScript(network, addressToScript(text, network)), text);
      assert.deepEqual(decodeAddress(text.toUpperCase()), decodeAddress(text));
    }
  }
});

test('bad addresses fail with the node\'s error kinds', () => {
  const kind = (f: () => unknown) => {
    try {
      f();
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof AddressError, String(e));
      return e.kind;
    }
  };
  const main = p2pkhAddress('mainnet', new Uint8Array(20).fill(1));
  assert.equal(kind(() => parseAddress(main, 'dev')), 'WrongNetwork');
  assert.equal(kind(() => decodeAddress('bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr')), 'UnknownPrefix');
  assert.equal(kind(() => decodeAddress('')), 'Encoding');
  assert.equal(kind(() => decodeAddress('ti8o1')), 'Encoding');
  const text = p2pkhAddress('testnet', new Uint8Array(20).fill(1));
  const i = text.length - 3;
  const typo = text.slice(0, i) + (text[i] === 'q' ? 'p' : 'q') + text.slice(i + 1);
  assert.equal(kind(() => decodeAddress(typo)), 'Encoding');
  // Bech32 (not bech32m) of a valid program is refused by the checksum.
  const legacy = bech32.encode('ti8o', bech32.toWords(Uint8Array.from([0, ...new Uint8Array(20).fill(3)])));
  assert.equal(kind(() => decodeAddress(legacy)), 'Encoding');
  // An unknown kind byte, or a program that is not 20 bytes.
  const enc = (bytes: number[]) => bech32m.encode('ti8o', bech32m.toWords(Uint8Array.from(bytes)));
  assert.equal(kind(() => decodeAddress(enc([2, ...new Uint8Array(20)]))), 'Program');
  assert.equal(kind(() => decodeAddress(enc([0, ...new Uint8Array(19)]))), 'Program');
  assert.equal(kind(() => decodeAddress(enc([]))), 'Program');
});

test('script templates are byte for byte the node\'s', () => {
  const h = new Uint8Array(20).fill(0xab);
  assert.equal(toHex(p2pkhScript(h)), `76a914${'ab'.repeat(20)}88ac`);
  assert.equal(toHex(p2shScript(h)), `a914${'ab'.repeat(20)}87`);
  assert.deepEqual(classifyScript(p2pkhScript(h)), { type: 'p2pkh', pubkeyHash: h });
  assert.deepEqual(classifyScript(p2shScript(h)), { type: 'p2sh', scriptHash: h });
  const keys = [1, 2, 3].map((i) => HdWallet.fromMnemonic(DEV_MNEMONIC).key(i).publicKey);
  const redeem = multisigScript(2, keys);
  assert.equal(toHex(redeem), `52${keys.map((k) => `21${toHex(k)}`).join('')}53ae`);
  assert.deepEqual(classifyScript(redeem), { type: 'multisig', required: 2, pubkeys: keys });
  assert.deepEqual(p2shScriptFor(redeem), p2shScript(hash160(redeem)));
  assert.throws(() => multisigScript(0, keys), (e: unknown) => e instanceof TemplateError && e.kind === 'MultisigRange');
  assert.throws(() => multisigScript(4, keys), TemplateError);
  // Pushes take the shortest prefix.
  assert.equal(toHex(pushData(new Uint8Array(75))).slice(0, 2), '4b');
  assert.equal(toHex(pushData(new Uint8Array(76))).slice(0, 4), '4c4c');
  assert.equal(toHex(pushData(new Uint8Array(256))).slice(0, 6), '4d0001');
  assert.equal(toHex(pushData(new Uint8Array(0))), '00');
  const sig = Uint8Array.of(0x30, 1, 2, 1);
  assert.equal(toHex(p2pkhScriptSig(sig, keys[0]!)), `0430010201` + `21${toHex(keys[0]!)}`);
  assert.equal(toHex(multisigScriptSig([sig, sig])), '00' + '0430010201'.repeat(2));
  assert.equal(toHex(p2shScriptSig(multisigScriptSig([sig]), redeem)), `000430010201` + `4c${redeem.length.toString(16)}${toHex(redeem)}`);
  for (const junk of ['', '51', '0501', '6a61']) {
    assert.equal(classifyScript(fromHex(junk)).type, 'nonStandard', junk);
  }
  assert.deepEqual(classifyScript(fromHex('6a0568656c6c6f')), { type: 'nullData', data: [fromHex('68656c6c6f')] });
});
