/**
 * The node's own wallets, for a user who gave the page the node's access secret: their
 * balances, a new receive address, payments signed by the node with the wallet's password,
 * and fee bumps of a stuck payment (full replace-by-fee, `wallet_bumpFee`).
 */
import { amount, facts, fill, h, link, problem, short } from '../ui.js';
import { field, form } from '../forms.js';
import { call, explain, hasAccess, live } from '../node.js';
import { parseAmount } from '../wallet/funds.js';
import { WalletError } from '../wallet/vault.js';

export function nodeWallets(main: HTMLElement, name: string): () => void {
  if (!hasAccess()) {
    fill(main, h('h1', {}, `Node wallet ${name}`), problem('Node-hosted wallets need the node\'s access secret: paste its jwt.hex under "Node access" at the foot of the page.'));
    return () => {};
  }
  const balance = h('div', { 'aria-live': 'polite' });
  // Refreshes overlap when blocks come fast: only the latest one's answer is shown.
  let latest = 0;
  const refresh = async () => {
    const generation = ++latest;
    try {
      const b = await call('wallet_getBalance', name);
      if (generation !== latest) return;
      fill(
        balance,
        facts([
          ['Confirmed', h('span', { 'data-testid': 'node-confirmed' }, amount(b.confirmed))],
          ['Pending', amount(b.unconfirmed)],
          ['Immature', amount(b.immature)],
          ['Addresses', String(b.addresses.length)],
          ['Kind', b.watchOnly ? 'watch-only' : 'keys held by the node, encrypted'],
        ]),
      );
    } catch (error) {
      fill(balance, problem(explain(error)));
    }
  };
  const address = h('p', { 'aria-live': 'polite' });
  const next = form([], 'New receive address', async () => {
    fill(address, h('code', { 'data-testid': 'node-address' }, await call('wallet_newAddress', name)));
  });
  const [pwLabel, password] = field('Wallet password', { name: 'password', type: 'password', autocomplete: 'off', required: 'true' });
  const [toLabel, to] = field('To address', { name: 'to', spellcheck: 'false', autocomplete: 'off', required: 'true' });
  const [amountLabel, amountInput] = field('Amount (I8O)', { name: 'amount', inputmode: 'decimal', autocomplete: 'off', required: 'true' });
  const outcome = h('div', { 'aria-live': 'polite' });
  const showSent = (txid: string, what: string) => {
    const [rateLabel, rate] = field('New fee rate (units per byte)', { name: 'rate', inputmode: 'numeric', required: 'true' });
    const bump = form([rateLabel], 'Bump the fee', async () => {
      const r = Number(rate.value);
      if (!Number.isInteger(r) || r < 1) throw new WalletError('A fee rate is a whole number of base units per byte, 1 or more.');
      const bumped = await call('wallet_bumpFee', name, password.value, txid, r);
      showSent(bumped.txid, `Replaced by a payment paying ${amount(bumped.fee)}`);
    });
    fill(outcome, h('p', { 'data-testid': 'node-sent' }, `${what}: `, link(`tx/${txid}`, short(txid, 12), txid)), h('p', { class: 'muted' }, 'Stuck in the mempool? Pay more:'), bump);
  };
  const send = form([toLabel, amountLabel], 'Send (signed by the node)', async () => {
    const units = parseAmount(amountInput.value);
    const txid = await call('wallet_send', name, password.value, to.value.trim(), Number(units));
    showSent(txid, 'Sent');
    await refresh();
  });
  fill(
    main,
    h('h1', {}, `Node wallet ${name}`),
    h('p', { class: 'muted' }, 'This wallet lives on the node: the node holds its encrypted keys and signs with the password you type here.'),
    balance,
    h('div', { class: 'grid' }, h('section', {}, h('h2', {}, 'Receive'), next, address), h('section', {}, h('h2', {}, 'Send'), pwLabel, send, outcome)),
  );
  void refresh();
  return live.onHead(() => void refresh());
}

/** The node's wallets, listed on the Wallets page when the page has the access secret. */
export async function nodeWalletList(): Promise<HTMLElement> {
  if (!hasAccess()) return h('p', { class: 'muted' }, 'With the node\'s access secret (at the foot of the page) the node\'s own wallets are listed here too.');
  try {
    const names = await call('wallet_list');
    return h('div', {}, h('h2', {}, 'On the node'), names.length ? h('ul', { class: 'wallets' }, names.map((n) => h('li', {}, link(`node-wallet/${encodeURIComponent(n)}`, n)))) : h('p', {}, 'The node has no wallets.'));
  } catch (error) {
    return problem(explain(error));
  }
}
