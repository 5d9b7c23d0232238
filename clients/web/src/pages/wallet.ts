/**
 * Wallets in this browser: create (a new recovery phrase, shown once) or restore one, unlock
 * with the password, receive (an address and its QR code), send with the node's fee estimate,
 * and what this browser sent. Keys never leave the page (`wallet/vault.ts`).
 */
import { type HdWallet, generateMnemonic } from '@i8o8icoin/sdk';
import { amount, fill, h, link, problem, short, table, when } from '../ui.js';
import { field, form } from '../forms.js';
import { call, chainNetwork, explain, live } from '../node.js';
import { type StoredWallet, WalletError, createWallet, listWallets, loadWallet, saveWallet, unlock } from '../wallet/vault.js';
import { HISTORY_DEPTH, bumpFee, everUsed, funds, history, parseAmount, pay } from '../wallet/funds.js';
import { qrSvg } from '../qr.js';
import { nodeWalletList } from './nodewallets.js';

/** Unlocked wallets of this page, until it is closed or they are locked. */
const unlocked = new Map<string, HdWallet>();

/** The wallets unlocked in this page, by name: what can sign contract transactions. */
export function unlockedWallets(): [string, HdWallet][] {
  return [...unlocked.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** A choice of the wallets unlocked in this page: its label, the chosen one, and the `<select>`. */
export function walletChoice(): [HTMLElement, () => [string, HdWallet], HTMLSelectElement] {
  const wallets = unlockedWallets();
  const select = h('select', { name: 'wallet', 'aria-label': 'Signing wallet' }, wallets.map(([name]) => h('option', { value: name }, name)));
  const label = wallets.length
    ? h('label', { class: 'field' }, h('span', {}, 'Signed by wallet'), select)
    : h('p', { class: 'muted' }, 'To sign, unlock a wallet on the ', link('wallets', 'Wallets'), ' page first.');
  const chosen = (): [string, HdWallet] => {
    const found = wallets.find(([name]) => name === select.value);
    if (!found) throw new WalletError('Unlock a wallet on the Wallets page to sign this.');
    return found;
  };
  return [label, chosen, select];
}

export function wallets(main: HTMLElement): void {
  fill(main, h('h1', {}, 'Wallets'), h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    const info = await call('chain_getInfo');
    const list = await listWallets(info.genesis);
    const [nameLabel, name] = field('Name', { name: 'name', autocomplete: 'off', required: 'true' });
    const [pwLabel, password] = field('Password', { name: 'password', type: 'password', autocomplete: 'new-password', required: 'true' });
    const [againLabel, again] = field('Password again', { name: 'again', type: 'password', autocomplete: 'new-password', required: 'true' });
    const shown = h('div');
    const create = form([nameLabel, pwLabel, againLabel], 'Create wallet', async () => {
      if (password.value !== again.value) throw new WalletError('The two passwords differ.');
      const phrase = generateMnemonic();
      const stored = await createWallet(name.value.trim(), password.value, phrase, info.genesis);
      unlocked.set(stored.name, await unlock(stored, password.value));
      fill(
        shown,
        h('h2', {}, 'Write down the recovery phrase'),
        h('p', {}, 'These 24 words restore the wallet anywhere. They are shown this once; anyone who has them can spend its coins.'),
        h('p', { class: 'phrase', 'data-testid': 'phrase' }, phrase),
        h('p', {}, link(`wallet/${encodeURIComponent(stored.name)}`, `Open ${stored.name}`)),
      );
      create.reset();
    });
    const [rNameLabel, rName] = field('Name', { name: 'name', autocomplete: 'off', required: 'true' });
    const [phraseLabel, phrase] = field('Recovery phrase', { name: 'phrase', autocomplete: 'off', spellcheck: 'false', required: 'true' });
    const [rPwLabel, rPassword] = field('New password', { name: 'password', type: 'password', autocomplete: 'new-password', required: 'true' });
    const restore = form([rNameLabel, phraseLabel, rPwLabel], 'Restore wallet', async () => {
      const stored = await createWallet(rName.value.trim(), rPassword.value, phrase.value, info.genesis);
      const keys = await unlock(stored, rPassword.value);
      unlocked.set(stored.name, keys);
      await discover(keys, stored);
      location.hash = `#/wallet/${encodeURIComponent(stored.name)}`;
    });
    fill(
      main,
      h('h1', {}, 'Wallets'),
      h('p', { class: 'muted' }, 'Wallets here live in this browser: their keys are encrypted with your password and never sent to the node.'),
      h('h2', {}, 'In this browser'),
      list.length
        ? h('ul', { class: 'wallets' }, list.map((w) => h('li', {}, link(`wallet/${encodeURIComponent(w.name)}`, w.name))))
        : h('p', {}, 'No wallet in this browser yet.'),
      await nodeWalletList(),
      h('div', { class: 'grid' }, h('section', {}, h('h2', {}, 'New wallet'), create, shown), h('section', {}, h('h2', {}, 'Restore from a recovery phrase'), restore)),
    );
  })().catch((error: unknown) => fill(main, h('h1', {}, 'Wallets'), problem(explain(error))));
}

/**
 * After a restore: the receive and change addresses up to the last one any transaction
 * touched (the node's address history, so an address whose coins were all spent counts),
 * looking 20 past it (BIP44's gap limit).
 */
async function discover(keys: HdWallet, stored: StoredWallet): Promise<void> {
  const network = await chainNetwork();
  const used = async (chain: number): Promise<number> => {
    let count = 0;
    for (let i = 0; i < count + 20; i++) if (await everUsed(keys.key(i, chain).address(network))) count = i + 1;
    return count;
  };
  stored.receive = Math.max(1, await used(0));
  stored.change = await used(1);
  await saveWallet(stored);
}

export function wallet(main: HTMLElement, name: string): () => void {
  let stop = () => {};
  const render = async () => {
    const stored = await loadWallet(name);
    const keys = unlocked.get(name);
    if (!keys) {
      const [pwLabel, password] = field('Password', { name: 'password', type: 'password', autocomplete: 'current-password', required: 'true' });
      fill(
        main,
        h('h1', {}, `Wallet ${name}`),
        form([pwLabel], 'Unlock', async () => {
          unlocked.set(name, await unlock(stored, password.value));
          await render();
        }),
      );
      return;
    }
    const network = await chainNetwork();
    const info = await call('chain_getInfo');
    const receive = keys.key(stored.receive - 1, 0).address(network);
    const balance = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Reading balances…'));
    const historyBox = h('div');
    let shownHistory = '';
    const fee = await call('fee_estimate', 6);
    // Refreshes overlap when blocks come fast: only the latest one's answers are shown.
    let latest = 0;
    const refresh = async () => {
      const generation = ++latest;
      const f = await funds(keys, stored, network);
      if (generation !== latest) return;
      fill(
        balance,
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'Spendable'),
          h('dd', { 'data-testid': 'spendable' }, amount(f.spendable)),
          h('dt', {}, 'Pending'),
          h('dd', { 'data-testid': 'pending' }, amount(f.pending)),
          h('dt', {}, 'Immature'),
          h('dd', {}, amount(f.immature)),
        ),
      );
      const moves = await history(keys, stored, network);
      if (generation !== latest) return;
      // Re-drawn only when something changed: a half-typed fee rate survives new blocks.
      const drawn = JSON.stringify(moves, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + JSON.stringify(stored.sent.map((s) => s.txid));
      if (drawn === shownHistory) return;
      shownHistory = drawn;
      const sentHere = new Map(stored.sent.map((s) => [s.txid, s]));
      const rows = moves.map((m) => {
        const mine = sentHere.get(m.txid);
        // Stuck? Pay more (replace-by-fee), from the change.
        let bump: HTMLElement | null = null;
        if (m.height === null && mine) {
          const [rateLabel, rate] = field('New fee rate', { name: 'rate', inputmode: 'numeric', value: String(Math.max(2, fee.feeRate * 2)) });
          bump = form([rateLabel], 'Bump fee', async () => {
            const r = Number(rate.value);
            if (!Number.isInteger(r) || r < 1) throw new WalletError('A fee rate is a whole number of base units per byte, 1 or more.');
            await bumpFee(keys, stored, network, info.genesis, m.txid, r);
            await refresh();
          });
        }
        return [
          link(`tx/${m.txid}`, short(m.txid), m.txid),
          h('span', { 'data-testid': 'history-status' }, m.height === null ? 'in the mempool' : `confirmed in block ${m.height}`),
          h('span', { 'data-testid': 'history-amount' }, amount(m.net)),
          mine ? h('span', { 'data-testid': 'sent-fee' }, amount(mine.fee)) : '',
          mine ? mine.to : '',
          m.time === null ? '' : when(m.time),
          bump,
        ];
      });
      fill(
        historyBox,
        h('h2', {}, moves.length === HISTORY_DEPTH ? `History (the latest ${HISTORY_DEPTH})` : 'History'),
        table(['Transaction', 'Status', 'Amount', 'Fee', 'To', 'Pending since', ''], rows, 'No transactions yet.'),
      );
    };
    const [toLabel, to] = field('To address', { name: 'to', autocomplete: 'off', spellcheck: 'false', required: 'true' });
    const [amountLabel, amountInput] = field('Amount (I8O)', { name: 'amount', inputmode: 'decimal', autocomplete: 'off', required: 'true' });
    const [rateLabel, rate] = field('Fee rate (units per byte)', { name: 'rate', inputmode: 'numeric', value: String(fee.feeRate) });
    const outcome = h('div', { 'aria-live': 'polite' });
    const send = form([toLabel, amountLabel, rateLabel], 'Send', async () => {
      const units = parseAmount(amountInput.value);
      const feeRate = Number(rate.value);
      if (!Number.isFinite(feeRate) || feeRate < 1 || feeRate > 1_000_000) throw new WalletError('The fee rate is a number of base units per byte, 1 or more.');
      const sent = await pay(keys, stored, network, info.genesis, to.value, units, feeRate);
      fill(outcome, h('p', { 'data-testid': 'sent' }, 'Sent: ', link(`tx/${sent.txid}`, sent.txid), ` (fee ${amount(sent.fee)})`));
      send.reset();
      rate.value = String(fee.feeRate);
      await refresh();
    });
    const next = h('button', { type: 'button' }, 'New address');
    next.addEventListener('click', () => {
      stored.receive += 1;
      void saveWallet(stored).then(render);
    });
    const lock = h('button', { type: 'button', class: 'secondary' }, 'Lock');
    lock.addEventListener('click', () => {
      unlocked.delete(name);
      void render();
    });
    fill(
      main,
      h('h1', {}, `Wallet ${name}`, ' ', lock),
      balance,
      h(
        'div',
        { class: 'grid' },
        h('section', {}, h('h2', {}, 'Receive'), h('p', {}, h('code', { 'data-testid': 'receive-address' }, receive)), h('div', { class: 'qr', role: 'img', 'aria-label': `QR code of ${receive}` }, qrSvg(receive)), next),
        h('section', {}, h('h2', {}, 'Send'), h('p', { class: 'muted' }, `The node estimates ${fee.feeRate} units per byte for confirmation within 6 blocks.`), send, outcome),
      ),
      historyBox,
    );
    // Listening before the first read: a block that comes during it is not missed.
    stop();
    const stopHeads = live.onHead(() => void refresh().catch(() => {}));
    const stopPending = live.onPoolChange(() => void refresh().catch(() => {}));
    stop = () => {
      stopHeads();
      stopPending();
    };
    await refresh();
  };
  render().catch((error: unknown) => fill(main, h('h1', {}, `Wallet ${name}`), problem(explain(error))));
  return () => stop();
}
