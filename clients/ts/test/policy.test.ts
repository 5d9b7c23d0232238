// Watch-only policies: refusals say what is wrong, as the node's wallet does (the addresses
// themselves are checked against Rust's in vectors.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { HDKey } from '@scure/bip32';

import { HdWallet, KeyError, Policy, SigningRequest } from '../src/index.js';

const wallet = HdWallet.fromMnemonic(
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
);
const xpubs = [0, 1, 2].map((a) => ({ xpub: wallet.accountXpub(a), path: `m/44'/8088'/${a}'` }));

function refused(f: () => unknown, kind: string, message: string | RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof KeyError, String(e));
    assert.equal(e.kind, kind);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('policies out of range are refused with the reason', () => {
  refused(() => Policy.multisig(1, xpubs.slice(0, 1)), 'InvalidPolicy', '1 cosigners; a multisig wallet has 2 to 15');
  refused(() => Policy.multisig(0, xpubs), 'InvalidPolicy', 'threshold 0 of 3; it must be 1 to 3');
  refused(() => Policy.multisig(4, xpubs), 'InvalidPolicy', 'threshold 4 of 3; it must be 1 to 3');
  refused(() => Policy.multisig(2, [xpubs[0]!, xpubs[1]!, xpubs[0]!]), 'InvalidPolicy', 'cosigners 0 and 2 are the same xpub');
  refused(() => Policy.single({ xpub: 'xpub0' }), 'InvalidXpub', /^invalid xpub: /);
  const xprv = HDKey.fromMasterSeed(new Uint8Array(32).fill(7)).privateExtendedKey;
  refused(() => Policy.single({ xpub: xprv }), 'InvalidXpub', 'this is an extended private key (xprv); give its xpub, which cannot spend');
  refused(
    () => Policy.single({ xpub: xpubs[1]!.xpub }),
    'InvalidXpub',
    "the xpub is child 1' of its parent but its path m/44'/8088'/0' ends in 0'",
  );
  refused(
    () => Policy.single({ xpub: xpubs[0]!.xpub, path: "m/44'/8088'" }),
    'InvalidXpub',
    "the xpub is at depth 3 but its path m/44'/8088' has 2 levels",
  );
  refused(() => Policy.single(xpubs[0]!).address(0, 2 ** 31), 'InvalidPath', 'address index 2147483648 is not below 2^31');
});

test('a wallet finds its keys in a policy address by path, and only its own', () => {
  const address = Policy.multisig(2, xpubs).address(0, 5);
  const found = address.keys.map((k) => wallet.keyFor(k)?.publicKeyHex ?? null);
  assert.equal(found.filter((k) => k !== null).length, 3, 'all three accounts are this phrase');
  const stranger = HdWallet.fromMnemonic(
    'legal winner thank year wave sausage worth useful legal winner thank yellow',
  );
  assert.deepEqual(
    address.keys.map((k) => stranger.keyFor(k)),
    [null, null, null],
  );
  assert.equal(typeof SigningRequest.prototype.signWithWallet, 'function');
});
