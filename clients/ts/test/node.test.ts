// The SDK against a real node (runs only with I8O8I_RPC_URL): keys derived here receive mined
// coins; the node funds signing requests (tx_fund) that are decoded, signed and finalised here,
// and the node must agree (tx_finalize gives the same bytes, tx_submit accepts them, the
// recipient's balance is exact). A new-heads subscription sees the blocks arrive.
//
//   I8O8I_RPC_URL     http://127.0.0.1:5077 (a dev chain: mining_generate must work)
//   I8O8I_RPC_TOKEN   a bearer JWT for the private methods (valid about a minute), or
//   I8O8I_JWT_SECRET  the node's jwt.hex file, to mint a fresh token per call instead
//   I8O8I_CLI, I8O8I_COSIGNER_KEYSTORE, I8O8I_COSIGNER_PASSWORD_FILE (optional): the
//                     i8o8icoin binary and a wallet file with its password; one multisig
//                     signer is then that wallet's first key, signing with the CLI offline
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';

import {
  COIN,
  HdWallet,
  type Network,
  RpcClient,
  RpcErrorCode,
  RpcError,
  SigningRequest,
  type TokenSource,
  Policy,
  WsClient,
  addressFromRedeemScript,
  addressToScript,
  bytesEqual,
  combineRequests,
  encodeTransactionHex,
  fromHex,
  generateMnemonic,
  jwtToken,
  multisigScript,
  toHex,
  txid,
} from '../src/index.js';

const url = process.env['I8O8I_RPC_URL'];

/** A fixed phrase: the payer is the same key on every run (BIP39's all-zero 256-bit entropy). */
const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon ' +
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art';

function tokenSource(): TokenSource | undefined {
  const secretFile = process.env['I8O8I_JWT_SECRET'];
  if (secretFile) {
    const secret = readFileSync(secretFile, 'utf8');
    return () => jwtToken(secret);
  }
  return process.env['I8O8I_RPC_TOKEN'];
}

if (!url) {
  test('against a running node', (t) => {
    t.skip('set I8O8I_RPC_URL (and I8O8I_RPC_TOKEN or I8O8I_JWT_SECRET) to run the SDK against a dev node');
  });
} else {
  const client = new RpcClient(url, { token: tokenSource(), timeoutMs: 120_000 });
  const wsUrl = url.replace(/^http/, 'ws');
  const wallet = HdWallet.fromMnemonic(MNEMONIC);
  const payer = wallet.key(0);
  // Fresh recipients each run, so their balances are exactly what this run sent.
  const run = randomInt(1_000, 1_000_000_000);

  let network: Network = 'dev';
  let chainId = '';

  /** Mines `count` blocks to `address`, returning their hashes. */
  const mine = (count: number, address: string) => client.call('mining_generate', [count, address]);

  test('chain info and the payer\'s first coins', async () => {
    const info = await client.call('chain_getInfo', []);
    network = info.chain === 'mainnet' ? 'mainnet' : 'dev';
    chainId = info.genesis;
    const hashes = await mine(101, payer.address(network));
    assert.equal(hashes.length, 101);
    const balance = await client.call('address_getBalance', [payer.address(network)]);
    assert.ok(balance.confirmed > 0, 'the payer was paid by the coinbases');
  });

  test('fund via the node, sign and finalise here, submit: 10 coins arrive', async () => {
    const recipient = wallet.key(run);
    const miner = wallet.key(run + 1);
    const ws = await WsClient.connect(wsUrl, { WebSocket, timeoutMs: 60_000 });
    try {
      const heads = await ws.subscribe('chain_subscribeNewHeads', []);
      const { minFeeRate } = await client.call('mempool_getInfo', []);

      const funded = await client.call('tx_fund', [
        [{ address: recipient.address(network), amount: Number(10n * COIN) }],
        { addresses: [payer.address(network)] },
        { feeRate: minFeeRate },
      ]);
      const request = SigningRequest.fromText(funded.request);
      assert.equal(request.chainId, chainId);
      assert.equal(request.fee(), BigInt(funded.fee));
      assert.ok(request.tx.outputs.some((o) => o.value === 10n * COIN && bytesEqual(o.scriptPubkey, recipient.scriptPubkey)));
      const described = await client.call('tx_decodeRequest', [funded.request]);
      assert.equal(described.unsignedTxid, request.unsignedTxid());
      assert.equal(described.complete, false);

      // Signed here, with the key derived here: the node never sees it.
      assert.equal(request.signWith(recipient.secretKey), 0);
      assert.ok(request.signWith(payer.secretKey) >= 1);
      assert.ok(request.isComplete());
      const tx = request.finalize();
      const hex = encodeTransactionHex(tx);

      const rpcFinal = await client.call('tx_finalize', [request.toText()]);
      assert.equal(rpcFinal.hex, hex, 'the node finalises the request signed here to the same bytes');
      assert.equal(rpcFinal.txid, txid(tx));
      assert.equal((await client.call('tx_decodeRequest', [request.toText()])).complete, true);

      assert.equal(await client.call('tx_submit', [hex]), txid(tx));
      const [block] = await mine(1, miner.address(network));
      const status = await client.call('tx_get', [txid(tx)]);
      assert.equal(status.status.state, 'confirmed');
      const balance = await client.call('address_getBalance', [recipient.address(network)]);
      assert.deepEqual(balance, { confirmed: Number(10n * COIN), unconfirmed: 0 });

      // The block arrives as a notification (skipping blocks anyone else mined meanwhile).
      for (;;) {
        const head = await heads.next(30_000);
        if (head.hash === block) {
          assert.ok(head.txCount >= 1);
          break;
        }
      }
      assert.equal(await heads.unsubscribe(), true);
    } finally {
      ws.close();
    }
  });

  test('a node-hosted 2-of-3 multisig wallet: addresses derived here, signed by two SDK wallets', async () => {
    // Three signers with their own phrases; the first one's account is fresh each run.
    const signers = [wallet, HdWallet.fromMnemonic(generateMnemonic()), HdWallet.fromMnemonic(generateMnemonic())];
    const accounts = [run, 0, 0];
    const cosigners = signers.map((w, i) => ({ xpub: w.accountXpub(accounts[i]), path: `m/44'/8088'/${accounts[i]}'` }));
    const name = `vault${run}`;
    const created = await client.call('wallet_createMultisig', [name, 2, cosigners]);
    assert.equal(created.kind, 'watchOnly');
    assert.equal(created.threshold, 2);
    assert.deepEqual(created.cosigners, cosigners);
    const policy = Policy.multisig(2, cosigners);
    const vault = await client.call('wallet_newAddress', [name]);
    assert.equal(vault, policy.addressText(network, 0, 0), 'the node derives the address derived here');

    // Fill the vault from the payer.
    const miner = wallet.key(run + 4);
    const fill = SigningRequest.fromText(
      (await client.call('tx_fund', [[{ address: vault, amount: Number(5n * COIN) }], { addresses: [payer.address(network)] }])).request,
    );
    fill.signWith(payer.secretKey);
    await client.call('tx_submit', [encodeTransactionHex(fill.finalize())]);
    await mine(1, miner.address(network));
    const filled = await client.call('wallet_getBalance', [name]);
    assert.equal(filled.confirmed, Number(5n * COIN));
    assert.equal(filled.watchOnly, true);

    // The node funds from its watch-only wallet; change goes to the vault's change chain.
    const recipient = wallet.key(run + 5);
    const funded = await client.call('tx_fund', [[{ address: recipient.address(network), amount: Number(4n * COIN) }], { wallet: name }]);
    const request = SigningRequest.fromText(funded.request);
    assert.notEqual(funded.changeIndex, null);
    const change = request.tx.outputs[funded.changeIndex!]!;
    assert.ok(bytesEqual(change.scriptPubkey, policy.address(1, 0).scriptPubkey), 'change to the vault');
    const byFirst = request.clone();
    assert.equal(byFirst.signWithWallet(signers[0]!), 1);
    assert.deepEqual(byFirst.status(), [{ have: 1, need: 2 }]);
    const bySecond = request.clone();
    assert.equal(bySecond.signWithWallet(signers[1]!), 1);
    const tx = combineRequests(byFirst, bySecond).finalize();
    assert.equal(await client.call('tx_submit', [encodeTransactionHex(tx)]), txid(tx));
    await mine(1, miner.address(network));
    assert.deepEqual(await client.call('address_getBalance', [recipient.address(network)]), {
      confirmed: Number(4n * COIN),
      unconfirmed: 0,
    });
    const left = await client.call('wallet_getBalance', [name]);
    assert.equal(BigInt(left.confirmed), 5n * COIN - 4n * COIN - request.fee());
  });

  test('a 2-of-3 P2SH multisig coin: signed apart, combined here and by the node', async () => {
    const [k1, k2, k3] = [wallet.key(run + 10), wallet.key(run + 11), wallet.key(run + 12)];
    // With a CLI and a wallet file, the first signer is that wallet's first key and the CLI
    // signs for it offline (no node URL): one signer with the CLI, one with the SDK.
    const cli = process.env['I8O8I_CLI'];
    const keystore = process.env['I8O8I_COSIGNER_KEYSTORE'];
    const passwordFile = process.env['I8O8I_COSIGNER_PASSWORD_FILE'];
    const withCli = cli !== undefined && keystore !== undefined && passwordFile !== undefined;
    const firstKey = withCli
      ? fromHex((JSON.parse(readFileSync(keystore, 'utf8')) as { receive_pubkeys: string[] }).receive_pubkeys[0]!)
      : k1!.publicKey;
    const redeem = multisigScript(2, [firstKey, k2!.publicKey, k3!.publicKey]);
    const vault = addressFromRedeemScript(network, redeem);
    const recipient = wallet.key(run + 2);
    const miner = wallet.key(run + 3);

    // Fill the vault from the payer.
    const fill = SigningRequest.fromText(
      (await client.call('tx_fund', [[{ address: vault, amount: Number(5n * COIN) }], { addresses: [payer.address(network)] }])).request,
    );
    fill.signWith(payer.secretKey);
    await client.call('tx_submit', [encodeTransactionHex(fill.finalize())]);
    await mine(1, miner.address(network));

    // Spend it: the node funds from the P2SH address with its redeem script.
    const funded = await client.call('tx_fund', [
      [{ address: recipient.address(network), amount: Number(4n * COIN) }],
      { addresses: [vault], redeemScripts: [toHex(redeem)] },
    ]);
    const base = SigningRequest.fromText(funded.request);
    assert.ok(bytesEqual(base.inputs[0]!.spent.scriptPubkey, addressToScript(vault, network)));
    assert.deepEqual(base.status(), base.inputs.map(() => ({ have: 0, need: 2 })));
    const byK3 = base.clone();
    assert.ok(byK3.signWith(k3!.secretKey) >= 1);
    let byK1 = base.clone();
    if (withCli) {
      const signed = execFileSync(
        cli,
        ['tx', 'sign', base.toText(), '--keystore', keystore, '--password-file', passwordFile, '--rpc-url', 'http://127.0.0.1:9'],
        { encoding: 'utf8' },
      );
      byK1 = SigningRequest.fromText(signed.trim());
      assert.deepEqual(byK1.status(), base.inputs.map(() => ({ have: 1, need: 2 })));
    } else {
      assert.ok(byK1.signWith(k1!.secretKey) >= 1);
    }
    assert.equal(byK1.isComplete(), false);
    await assert.rejects(client.call('tx_finalize', [byK1.toText()]), (e: unknown) => e instanceof RpcError && e.code === RpcErrorCode.SigningRequestIncomplete);

    const combined = combineRequests(byK3, byK1);
    const rpcCombined = await client.call('tx_combine', [[byK3.toText(), byK1.toText()]]);
    assert.equal(rpcCombined, combined.toText(), 'the node combines to the same request');
    const tx = combined.finalize();
    assert.equal((await client.call('tx_finalize', [combined.toText()])).hex, encodeTransactionHex(tx));
    assert.equal(await client.call('tx_submit', [encodeTransactionHex(tx)]), txid(tx));
    await mine(1, miner.address(network));
    const balance = await client.call('address_getBalance', [recipient.address(network)]);
    assert.deepEqual(balance, { confirmed: Number(4n * COIN), unconfirmed: 0 });
  });
}
