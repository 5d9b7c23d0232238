/**
 * A browser wallet's coins, history and payments: the coins of its addresses read from the
 * node (`address_getUtxos`, `address_getBalance`, `address_getHistory`), coins chosen and the payment built and signed
 * here (`signP2pkhTransaction`), then submitted (`tx_submit`). Change goes to a fresh change
 * address. Like the node's wallet it spends confirmed, mature coins only.
 */
import {
  COIN,
  type HdWallet,
  type KeyPair,
  type Network,
  type Payload,
  SEQUENCE_FINAL,
  type Transaction,
  type TxOut,
  addressToScript,
  encodeTransaction,
  encodeTransactionHex,
  parseAddress,
  signP2pkhTransaction,
  toHex,
  txFromJson,
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

/** A transaction that touched the wallet's addresses, with its net effect on them. */
export interface Movement {
  txid: string;
  /** Received minus sent over the wallet's addresses (negative: money left the wallet). */
  net: bigint;
  /** Its height, or null while it is in the mempool. */
  height: number | null;
  /** Position in its block (for the order of one block's transactions). */
  position: number;
  /** When the node received it, for pooled ones. */
  time: number | null;
}

/** Movements kept per address and shown: the newest ones. */
export const HISTORY_DEPTH = 50;

/**
 * The wallet's newest {@link HISTORY_DEPTH} movements, pooled first, from the node's history
 * of each of its addresses (`address_getHistory`): a payment between two of its own addresses
 * is one movement of minus the fee.
 */
export async function history(keys: HdWallet, wallet: StoredWallet, network: Network): Promise<Movement[]> {
  const per = await Promise.all(keysOf(keys, wallet).map((key) => call('address_getHistory', key.address(network), undefined, HISTORY_DEPTH)));
  const byTxid = new Map<string, Movement>();
  for (const h of per) {
    for (const p of h.pending) {
      const m = byTxid.get(p.txid) ?? { txid: p.txid, net: 0n, height: null, position: 0, time: p.time };
      m.net += BigInt(p.received) - BigInt(p.sent);
      byTxid.set(p.txid, m);
    }
    for (const c of h.confirmed) {
      const m = byTxid.get(c.txid) ?? { txid: c.txid, net: 0n, height: c.height, position: c.position, time: null };
      m.net += BigInt(c.received) - BigInt(c.sent);
      byTxid.set(c.txid, m);
    }
  }
  const order = (m: Movement): [number, number, number] => (m.height === null ? [1, m.time ?? 0, 0] : [0, m.height, m.position]);
  return [...byTxid.values()]
    .sort((a, b) => {
      const [x, y] = [order(a), order(b)];
      return y[0] - x[0] || y[1] - x[1] || y[2] - x[2];
    })
    .slice(0, HISTORY_DEPTH);
}

/** Whether any transaction ever paid or spent from `address` (for the gap-limit scan). */
export async function everUsed(address: string): Promise<boolean> {
  const h = await call('address_getHistory', address, undefined, 1);
  return h.pending.length > 0 || h.confirmed.length > 0;
}

/** `text` (I8O, up to 8 decimals) in base units; throws {@link WalletError}. */
export function parseAmount(text: string): bigint {
  const match = /^\s*(\d{1,11})(?:\.(\d{1,8}))?\s*$/.exec(text);
  if (!match) throw new WalletError('An amount is a number of I8O with at most 8 decimals, like 12.5.');
  const units = BigInt(match[1]!) * COIN + BigInt((match[2] ?? '').padEnd(8, '0'));
  if (units === 0n) throw new WalletError('The amount must be more than zero.');
  return units;
}

/** A transaction signed and sent. */
export interface Sent {
  txid: string;
  fee: bigint;
}

/** What a transaction pays besides its inputs' coins: outputs, a payload and what it leaves. */
interface Spend {
  outputs: TxOut[];
  payload: Payload | null;
  /** What the fee must leave on top of the byte fee: a contract call's value plus its gas reservation. */
  extra: bigint;
  /** The part of `extra` that is not fee: a call's value, a bond, a registration's burnt fee. */
  kept: bigint;
  /** What `sent` records: to whom and how much. */
  to: string;
  amount: bigint;
  /**
   * A key whose coin must be among the inputs: the chain takes spending a coin of a staking
   * key's own address as that key's authorisation (unbond, registration, vote).
   */
  authorisedBy?: KeyPair;
}

/**
 * Funds `spend` from the wallet's spendable coins (largest first) at `feeRate` base units per
 * byte, change to a new change address; signs here and submits. The first coin's key is the
 * caller a contract sees. Throws {@link WalletError} for too little money or the node's
 * refusal.
 */
async function fund(keys: HdWallet, wallet: StoredWallet, network: Network, chainId: string, spend: Spend, feeRate: number): Promise<Sent> {
  const available = await funds(keys, wallet, network);
  const coins = [...available.coins].sort((a, b) => (b.value > a.value ? 1 : b.value < a.value ? -1 : 0));
  if (spend.authorisedBy) {
    const script = toHex(spend.authorisedBy.scriptPubkey);
    const own = coins.findIndex((c) => toHex(c.key.scriptPubkey) === script);
    if (own < 0) {
      throw new WalletError(
        `The staking address ${spend.authorisedBy.address(network)} has no spendable coin: the chain takes spending one as the staking key's signature. Send it a little first.`,
      );
    }
    coins.unshift(...coins.splice(own, 1));
  }
  const change = keys.key(wallet.change, CHANGE);
  const rate = BigInt(Math.ceil(feeRate));
  const paid = spend.outputs.reduce((sum, o) => sum + o.value, 0n);
  let fee = 0n;
  for (let round = 0; round < 10; round++) {
    const chosen: Coin[] = [];
    let total = 0n;
    for (const coin of coins) {
      // At least one input, also when only the fee is paid: the chain refuses a transaction
      // without any.
      if (chosen.length > 0 && total >= paid + spend.extra + fee) break;
      chosen.push(coin);
      total += coin.value;
    }
    if (total < paid + spend.extra + fee || chosen.length === 0) {
      throw new WalletError(
        `Not enough to send ${format(paid + spend.extra)} plus its fee: ${format(available.spendable)} spendable` +
          (available.immature > 0n ? ` (${format(available.immature)} more once mined coins mature)` : '') +
          '.',
      );
    }
    const rest = total - paid - spend.extra - fee;
    // Change worth less than what spending it would cost is left to the fee.
    const withChange = rest > rate * 150n;
    const tx: Transaction = {
      version: 2,
      inputs: chosen.map((c) => ({ prevout: { txid: c.txid, index: c.index }, scriptSig: new Uint8Array(), sequence: SEQUENCE_FINAL })),
      outputs: [...spend.outputs, ...(withChange ? [{ value: rest, scriptPubkey: change.scriptPubkey }] : [])],
      lockTime: 0,
      payload: spend.payload,
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
      throw new WalletError(`The node refused the transaction: ${(error as Error).message}`);
    });
    const left = total - paid - spend.kept - (withChange ? rest : 0n);
    if (withChange) wallet.change += 1;
    wallet.sent.push({ txid, to: spend.to, amount: Number(spend.amount), fee: Number(left), time: Math.floor(Date.now() / 1000) });
    await saveWallet(wallet);
    return { txid, fee: left };
  }
  throw new WalletError('The fee did not settle; try again.');
}

/**
 * Pays `amount` to `to` at `feeRate` base units per byte. Throws {@link WalletError} for a
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
  const outputs = [{ value: amount, scriptPubkey: addressToScript(to.trim(), network) }];
  return fund(keys, wallet, network, chainId, { outputs, payload: null, extra: 0n, kept: 0n, to: to.trim(), amount }, feeRate);
}

/**
 * Sends a contract transaction (`payload`: a deploy or a call) paying its gas reservation and
 * `value` from the wallet; the fee left over after the gas used is refunded by the chain.
 */
export function sendContract(
  keys: HdWallet,
  wallet: StoredWallet,
  network: Network,
  chainId: string,
  payload: Extract<Payload, { type: 'deploy' | 'call' }>,
  feeRate: number,
): Promise<Sent> {
  const value = payload.type === 'call' ? payload.value : 0n;
  const to = payload.type === 'call' ? `contract ${payload.contract}` : 'a new contract';
  return fund(keys, wallet, network, chainId, { outputs: [], payload, extra: value + payload.gasLimit, kept: value, to, amount: value }, feeRate);
}

/** The key a wallet stakes with: its first receive key, as a node wallet's (`staking_bond`). */
export function stakingKey(keys: HdWallet): KeyPair {
  return keys.key(0, RECEIVE);
}

/** A staking action of the wallet's {@link stakingKey}. */
export type StakingPayload = Extract<Payload, { type: 'bond' | 'unbond' | 'registerDelegate' | 'vote' }>;

/**
 * Sends a staking transaction signed here. `locked` is what it moves out of the inputs besides
 * the fee: a bond's value, a delegate registration's fee (burnt). Anything but a bond spends a
 * coin of the staking address first, which is how the chain knows the key's holder sent it.
 */
export function sendStaking(
  keys: HdWallet,
  wallet: StoredWallet,
  network: Network,
  chainId: string,
  payload: StakingPayload,
  locked: bigint,
  feeRate: number,
): Promise<Sent> {
  const what = { bond: 'bond', unbond: 'unbond', registerDelegate: 'delegate registration', vote: 'vote' }[payload.type];
  const amount = payload.type === 'bond' || payload.type === 'unbond' ? payload.value : locked;
  const spend: Spend = { outputs: [], payload, extra: locked, kept: locked, to: what, amount };
  if (payload.type !== 'bond') spend.authorisedBy = stakingKey(keys);
  return fund(keys, wallet, network, chainId, spend, feeRate);
}

/**
 * Replaces a payment this wallet sent that still waits in the mempool by the same payment
 * paying `feeRate` base units per byte, the difference taken from its change (full
 * replace-by-fee: the node's pool follows Bitcoin Core's replacement rules, so the new fee
 * must also cover the replacement's own relay). Throws {@link WalletError} when it is
 * confirmed, has no change of this wallet's, or the change cannot pay.
 */
export async function bumpFee(keys: HdWallet, wallet: StoredWallet, network: Network, chainId: string, txid: string, feeRate: number): Promise<Sent> {
  const found = await call('tx_get', txid);
  if (found.status.state !== 'mempool') throw new WalletError('This payment is already confirmed: there is nothing to bump.');
  const tx = txFromJson(found.transaction);
  const ours = keysOf(keys, wallet);
  const spent = await Promise.all(
    tx.inputs.map(async (input) => {
      const parent = await call('tx_get', input.prevout.txid);
      const out = parent.transaction.outputs[input.prevout.index];
      const key = out && ours.find((k) => toHex(k.scriptPubkey) === out.scriptPubkey);
      if (!out || !key) throw new WalletError('This transaction spends coins that are not this wallet\'s.');
      return { value: BigInt(out.value), key };
    }),
  );
  const changeKeys = ours.slice(wallet.receive).map((k) => toHex(k.scriptPubkey));
  const change = tx.outputs.findIndex((o) => changeKeys.includes(toHex(o.scriptPubkey)));
  if (change < 0) throw new WalletError('This payment has no change to take a higher fee from.');
  const oldFee = spent.reduce((s, c) => s + c.value, 0n) - tx.outputs.reduce((s, o) => s + o.value, 0n);
  const minimum = BigInt((await call('mempool_getInfo')).minFeeRate);
  const changeValue = tx.outputs[change]!.value;
  // Signatures vary by a byte: the fee must cover the signed replacement's own size.
  let size = BigInt(encodeTransaction(tx).length);
  let signed: Transaction | null = null;
  let newFee = 0n;
  for (let round = 0; round < 5; round++) {
    const fee = [BigInt(Math.ceil(feeRate)) * size, oldFee + minimum * size].reduce((a, b) => (a > b ? a : b));
    if (changeValue <= fee - oldFee) throw new WalletError(`The change (${format(changeValue)}) cannot pay a fee of ${format(fee)}.`);
    const outputs = tx.outputs.map((o, i) => (i === change ? { ...o, value: changeValue - (fee - oldFee) } : o));
    const candidate = signP2pkhTransaction(
      { ...tx, outputs, inputs: tx.inputs.map((i) => ({ ...i, scriptSig: new Uint8Array() })) },
      chainId,
      spent.map((c) => ({ value: c.value, scriptPubkey: c.key.scriptPubkey })),
      spent.map((c) => c.key.secretKey),
    ).tx;
    const candidateSize = BigInt(encodeTransaction(candidate).length);
    newFee = fee;
    signed = candidate;
    // Paying for a byte the signature did not take is fine; falling short of the rate is not.
    if (candidateSize <= size) break;
    size = candidateSize;
  }
  if (!signed) throw new WalletError('The fee did not settle; try again.');
  const replacement = await call('tx_submit', encodeTransactionHex(signed)).catch((error: unknown) => {
    throw new WalletError(`The node refused the replacement: ${(error as Error).message}`);
  });
  const record = wallet.sent.find((s) => s.txid === txid);
  if (record) {
    record.txid = replacement;
    record.fee = Number(newFee);
  }
  await saveWallet(wallet);
  return { txid: replacement, fee: newFee };
}
