/**
 * A browser wallet's coins and payments: the coins of its addresses read from the node
 * (`address_getUtxos`, `address_getBalance`), coins chosen and the payment built and signed
 * here (`signP2pkhTransaction`), then submitted (`tx_submit`). Change goes to a fresh change
 * address. Like the node's wallet it spends confirmed, mature coins only.
 */
import {
  COIN,
  type HdWallet,
  type KeyPair,
  type Network,
  SEQUENCE_FINAL,
  type Transaction,
  addressToScript,
  encodeTransaction,
  encodeTransactionHex,
  parseAddress,
  signP2pkhTransaction,
} from '@i8o8icoin/sdk';
import { call } from '../node.js';
import { amount as format } from '../ui.js';
import { type StoredWallet, WalletError, saveWallet } from './vault.js';

const RECEIVE = 0;
const CHANGE = 1;

/** A coin the wallet may spend, with the key that unlocks it. */
interface Coin {
  txid: string;
  index: number;
  value: bigint;
  key: KeyPair;
}

/** What a wallet holds. */
export interface Funds {
  /** Confirmed and mature, not spent by a pooled transaction. */
  spendable: bigint;
  /** Coinbase outputs not yet mature. */
  immature: bigint;
  /** Pooled transactions' net effect on its addresses. */
  pending: bigint;
  coins: Coin[];
}

/** The keys of the addresses handed out so far. */
function keysOf(keys: HdWallet, wallet: StoredWallet): KeyPair[] {
  const out: KeyPair[] = [];
  for (let i = 0; i < wallet.receive; i++) out.push(keys.key(i, RECEIVE));
  for (let i = 0; i < wallet.change; i++) out.push(keys.key(i, CHANGE));
  return out;
}

export async function funds(keys: HdWallet, wallet: StoredWallet, network: Network): Promise<Funds> {
  const per = await Promise.all(
    keysOf(keys, wallet).map(async (key) => {
      const address = key.address(network);
      const [utxos, balance] = await Promise.all([call('address_getUtxos', address), call('address_getBalance', address)]);
      return { key, utxos, balance };
    }),
  );
  const result: Funds = { spendable: 0n, immature: 0n, pending: 0n, coins: [] };
  for (const { key, utxos, balance } of per) {
    result.pending += BigInt(balance.unconfirmed);
    for (const u of utxos) {
      if (!u.mature) {
        result.immature += BigInt(u.value);
      } else if (!u.spentInMempool) {
        result.spendable += BigInt(u.value);
        result.coins.push({ txid: u.txid, index: u.index, value: BigInt(u.value), key });
      }
    }
  }
  return result;
}

/** `text` (I8O, up to 8 decimals) in base units; throws {@link WalletError}. */
export function parseAmount(text: string): bigint {
  const match = /^\s*(\d{1,11})(?:\.(\d{1,8}))?\s*$/.exec(text);
  if (!match) throw new WalletError('An amount is a number of I8O with at most 8 decimals, like 12.5.');
  const units = BigInt(match[1]!) * COIN + BigInt((match[2] ?? '').padEnd(8, '0'));
  if (units === 0n) throw new WalletError('The amount must be more than zero.');
  return units;
}

/** A payment signed and sent. */
export interface Sent {
  txid: string;
  fee: bigint;
}

/**
 * Pays `amount` to `to` at `feeRate` base units per byte from the wallet's spendable coins,
 * change to a new change address; signs here and submits. Throws {@link WalletError} for a
 * malformed address, too little money, or the node's refusal.
 */
export async function pay(
  keys: HdWallet,
  wallet: StoredWallet,
  network: Network,
  chainId: string,
  to: string,
  amount: bigint,
  feeRate: number,
): Promise<Sent> {
  try {
    parseAddress(to.trim(), network);
  } catch (error) {
    throw new WalletError(`That is not an address of this chain: ${(error as Error).message}.`);
  }
  const payee = addressToScript(to.trim(), network);
  const available = await funds(keys, wallet, network);
  // Largest first: the fewest inputs, so the smallest fee.
  const coins = [...available.coins].sort((a, b) => (b.value > a.value ? 1 : b.value < a.value ? -1 : 0));
  const change = keys.key(wallet.change, CHANGE);
  const rate = BigInt(Math.ceil(feeRate));
  let fee = 0n;
  for (let round = 0; round < 10; round++) {
    const chosen: Coin[] = [];
    let total = 0n;
    for (const coin of coins) {
      if (total >= amount + fee) break;
      chosen.push(coin);
      total += coin.value;
    }
    if (total < amount + fee) {
      throw new WalletError(
        `Not enough to send ${format(amount)} plus its fee: ${format(available.spendable)} spendable` +
          (available.immature > 0n ? ` (${format(available.immature)} more once mined coins mature)` : '') +
          '.',
      );
    }
    const rest = total - amount - fee;
    // Change worth less than what spending it would cost is left to the fee.
    const withChange = rest > rate * 150n;
    const tx: Transaction = {
      version: 2,
      inputs: chosen.map((c) => ({ prevout: { txid: c.txid, index: c.index }, scriptSig: new Uint8Array(), sequence: SEQUENCE_FINAL })),
      outputs: [{ value: amount, scriptPubkey: payee }, ...(withChange ? [{ value: rest, scriptPubkey: change.scriptPubkey }] : [])],
      lockTime: 0,
      payload: null,
    };
    const signed = signP2pkhTransaction(
      tx,
      chainId,
      chosen.map((c) => ({ value: c.value, scriptPubkey: c.key.scriptPubkey })),
      chosen.map((c) => c.key.secretKey),
    ).tx;
    const needed = rate * BigInt(encodeTransaction(signed).length);
    if (needed > fee) {
      fee = needed;
      continue;
    }
    const txid = await call('tx_submit', encodeTransactionHex(signed)).catch((error: unknown) => {
      throw new WalletError(`The node refused the payment: ${(error as Error).message}`);
    });
    if (withChange) wallet.change += 1;
    wallet.sent.push({ txid, to: to.trim(), amount: Number(amount), fee: Number(total - amount - (withChange ? rest : 0n)), time: Math.floor(Date.now() / 1000) });
    await saveWallet(wallet);
    return { txid, fee: total - amount - (withChange ? rest : 0n) };
  }
  throw new WalletError('The fee did not settle; try again.');
}
