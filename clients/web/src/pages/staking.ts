/**
 * Staking and consensus: the engine schedule and where the chain is in it, the producers of
 * the running stake engine, DPoS delegates with their votes, any address's stake, rewards and
 * unbonding queue; bonding, unbonding, registering as a delegate and voting from a browser
 * wallet (signed in the page) and, with the node's access secret, from a node-hosted wallet.
 */
import { fromHex, toHex } from '@i8o8icoin/sdk';
import { amount, facts, fill, h, link, problem, short, table } from '../ui.js';
import { field, form } from '../forms.js';
import { call, chainNetwork, explain, hasAccess, live } from '../node.js';
import { type StakingPayload, parseAmount, sendStaking, stakingKey } from '../wallet/funds.js';
import { WalletError, loadWallet } from '../wallet/vault.js';
import { walletChoice } from './wallet.js';

/** A schedule entry as `consensus_getSchedule` gives it. */
interface ScheduleEntry {
  fromHeight: number;
  engine: string;
  params: Record<string, unknown>;
  current: boolean;
}

/**
 * The delegate registration fee that applies now: the running DPoS engine's, else the next
 * scheduled one's, else the last one's (the chain's `StakingRules::at`); `null` when the
 * schedule has no DPoS.
 */
function registrationFee(schedule: ScheduleEntry[]): bigint | null {
  const now = Math.max(0, schedule.findIndex((e) => e.current));
  const dpos = (e: ScheduleEntry | undefined) => e?.engine === 'dpos';
  const entry = dpos(schedule[now]) ? schedule[now] : (schedule.slice(now + 1).find(dpos) ?? schedule.slice(0, now).reverse().find(dpos));
  const fee = entry?.params['registrationFee'];
  return entry ? BigInt(typeof fee === 'number' || typeof fee === 'string' ? fee : 0) : null;
}

export function staking(main: HTMLElement): () => void {
  fill(main, h('h1', {}, 'Staking and consensus'), h('p', { class: 'muted' }, 'Loading…'));
  // The consensus, producer and delegate tables follow new blocks; the forms below them
  // stay as typed.
  const overview = h('div');
  let latest = 0;
  const draw = async () => {
    const generation = ++latest;
    const [consensus, schedule, validators, delegates] = await Promise.all([
      call('consensus_getInfo'),
      call('consensus_getSchedule'),
      call('staking_getValidators').catch(() => null),
      call('dpos_getDelegates').catch(() => []),
    ]);
    if (generation !== latest) return schedule;
    const producers = (title: string, list: { address: string; weight: number; produced: number; missed: number }[]) => [
      h('h3', {}, title),
      table(
        ['Producer', 'Weight', 'Produced', 'Missed'],
        list.map((p) => [link(`address/${p.address}`, p.address), amount(p.weight), p.produced, p.missed]),
        'None.',
      ),
    ];
    fill(
      overview,
      h(
        'section',
        {},
        h('h2', {}, 'Consensus'),
        facts([
          ['Engine now', consensus.engine],
          ['Next block', consensus.nextEngine],
          ['Slot', consensus.slot != null ? `${consensus.slot}${consensus.slotProducer ? `, producer ${short(consensus.slotProducer, 10)}` : ''}` : '—'],
          ['Epoch / round', [consensus.epoch, consensus.round].map((v) => (v == null ? '—' : String(v))).join(' / ')],
          ['Final', consensus.lastIrreversible ? link(`block/${consensus.lastIrreversible.hash}`, `#${consensus.lastIrreversible.height}`) : 'no finality under this engine'],
        ]),
        h('h3', {}, 'Schedule'),
        table(
          ['From height', 'Engine', 'Parameters', ''],
          schedule.map((e) => [String(e.fromHeight), e.engine, h('code', {}, JSON.stringify(e.params)), e.current ? 'running' : '']),
        ),
      ),
      h('section', {}, h('h2', {}, 'Producers'), validators ? [...producers('This epoch / round', validators.active), ...producers('Next', validators.next)] : h('p', { class: 'muted' }, 'No stake engine runs yet.')),
      h(
        'section',
        {},
        h('h2', {}, 'Delegates (DPoS)'),
        table(
          ['Name', 'Address', 'Votes', 'In the round', 'Produced', 'Missed'],
          delegates.map((d) => [d.name, link(`address/${d.address}`, short(d.address, 10), d.address), amount(d.votes), d.active ? 'yes' : 'no', d.produced, d.missed]),
          'No delegates registered.',
        ),
      ),
    );
    return schedule;
  };
  const stop = live.onHead(() => void draw().catch(() => {}));
  void (async () => {
    const schedule = await draw();
    const [lookupLabel, lookupInput] = field('Address', { name: 'address', spellcheck: 'false', required: 'true' });
    const stake = h('div', { 'aria-live': 'polite' });
    const lookup = form([lookupLabel], 'Show its stake', async () => {
      const s = await call('staking_getInfo', lookupInput.value.trim());
      fill(
        stake,
        facts([
          ['Bonded', h('span', { 'data-testid': 'bonded' }, amount(s.bonded))],
          ['Rewards', amount(s.rewards)],
          ['Unbonding', s.unbonding.length ? s.unbonding.map((u) => `${amount(u.amount)} at height ${u.releaseHeight}`).join('; ') : 'nothing'],
          ['Delegate', s.delegate ?? 'not registered'],
          ['Votes for', s.votes.length ? s.votes.join(', ') : 'nobody'],
          ['Blocks produced / missed', `${s.produced} / ${s.missed}`],
        ]),
      );
    });
    fill(
      main,
      h('h1', {}, 'Staking and consensus'),
      overview,
      h('section', {}, h('h2', {}, 'Stake of an address'), lookup, stake),
      browserActions(registrationFee(schedule as ScheduleEntry[])),
      hasAccess() ? walletActions() : h('p', { class: 'muted' }, 'With the node\'s access secret (at the foot of the page) this page can bond, unbond, register delegates and vote from the node\'s wallets.'),
    );
  })().catch((error: unknown) => fill(main, h('h1', {}, 'Staking and consensus'), problem(explain(error))));
  return stop;
}

/** Staking transactions of a node-hosted wallet (signed by the node: it holds those keys). */
function walletActions(): HTMLElement {
  const [walletLabel, wallet] = field('Node wallet', { name: 'wallet', autocomplete: 'off', required: 'true' });
  const [pwLabel, password] = field('Its password', { name: 'password', type: 'password', autocomplete: 'off', required: 'true' });
  const [amountLabel, amountInput] = field('Amount (I8O)', { name: 'amount', inputmode: 'decimal', autocomplete: 'off' });
  const [nameLabel, delegateName] = field('Delegate name', { name: 'delegate', autocomplete: 'off' });
  const [votesLabel, votes] = field('Vote for (delegate keys, comma-separated; empty withdraws)', { name: 'votes', spellcheck: 'false' });
  const done = h('p', { 'aria-live': 'polite', 'data-testid': 'staking-done' });
  const sent = (what: string) => (txid: string) => {
    fill(done, `${what}: `, link(`tx/${txid}`, short(txid, 12), txid));
  };
  const units = () => Number(parseAmount(amountInput.value));
  const bond = form([], 'Bond', async () => sent('Bonded')(await call('staking_bond', wallet.value, password.value, units())));
  const unbond = form([], 'Unbond', async () => sent('Unbonding')(await call('staking_unbond', wallet.value, password.value, units())));
  const register = form([], 'Register as delegate', async () => sent('Registered')(await call('dpos_registerDelegate', wallet.value, password.value, delegateName.value.trim())));
  const vote = form([], 'Vote', async () => {
    const keys = votes.value.split(',').map((k) => k.trim()).filter(Boolean);
    sent('Voted')(await call('dpos_vote', wallet.value, password.value, keys));
  });
  return h(
    'section',
    { 'aria-label': 'From a node wallet' },
    h('h2', {}, 'From a node wallet'),
    h('div', { class: 'stack' }, walletLabel, pwLabel),
    h('div', { class: 'grid' }, h('div', {}, amountLabel, h('div', { class: 'row' }, bond, unbond)), h('div', {}, nameLabel, register), h('div', {}, votesLabel, vote)),
    done,
  );
}

/** Whether `text` is 33 bytes of hex: a compressed public key, as delegates are named by. */
function delegateKey(text: string): Uint8Array {
  if (!/^(02|03)[0-9a-fA-F]{64}$/.test(text)) throw new WalletError(`"${short(text, 12)}" is not a delegate key (66 hex digits starting 02 or 03).`);
  return fromHex(text);
}

/**
 * Staking transactions of a browser wallet, signed in this page: its first receive key stakes
 * (as a node wallet's does), so a phrase restored in the node's wallet stakes the same key.
 */
function browserActions(fee: bigint | null): HTMLElement {
  const [walletLabel, chosen, select] = walletChoice();
  const keyLine = h('p', { 'data-testid': 'staking-key' });
  const showKey = () => {
    void chainNetwork().then((network) => {
      const [, keys] = chosen();
      const key = stakingKey(keys);
      const address = key.address(network);
      fill(keyLine, 'Stakes with key ', h('code', {}, toHex(key.publicKey)), ' of address ', link(`address/${address}`, address));
    }).catch(() => fill(keyLine));
  };
  select.addEventListener('change', showKey);
  showKey();
  const [amountLabel, amountInput] = field('Amount (I8O)', { name: 'amount', inputmode: 'decimal', autocomplete: 'off' });
  const [nameLabel, delegateName] = field('Delegate name', { name: 'delegate', autocomplete: 'off' });
  const [votesLabel, votes] = field('Vote for (delegate keys, comma-separated; empty withdraws)', { name: 'votes', spellcheck: 'false' });
  const done = h('p', { 'aria-live': 'polite', 'data-testid': 'browser-staking-done' });
  const send = async (what: string, locked: bigint, payloadOf: (key: Uint8Array) => StakingPayload) => {
    const [name, keys] = chosen();
    const [stored, network, info, estimate] = await Promise.all([loadWallet(name), chainNetwork(), call('chain_getInfo'), call('fee_estimate', 6)]);
    const sent = await sendStaking(keys, stored, network, info.genesis, payloadOf(stakingKey(keys).publicKey), locked, estimate.feeRate);
    fill(done, `${what}: `, link(`tx/${sent.txid}`, short(sent.txid, 12), sent.txid), ` (fee ${amount(sent.fee)})`);
  };
  const bond = form([], 'Bond', async () => {
    const value = parseAmount(amountInput.value);
    await send('Bonded', value, (stakingKey) => ({ type: 'bond', stakingKey, value }));
  });
  const unbond = form([], 'Unbond', async () => {
    const value = parseAmount(amountInput.value);
    await send('Unbonding', 0n, (stakingKey) => ({ type: 'unbond', stakingKey, value }));
  });
  const register = form([], 'Register as delegate', async () => {
    const name = delegateName.value.trim();
    if (fee === null) throw new WalletError('This chain schedules no delegated proof of stake: there are no delegates to register as.');
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) throw new WalletError('A delegate name is 1 to 32 letters, digits, "_" or "-".');
    await send(`Registered (${amount(fee)} burnt)`, fee, (key) => ({ type: 'registerDelegate', name, key }));
  });
  const vote = form([], 'Vote', async () => {
    const delegates = votes.value.split(',').map((k) => k.trim()).filter(Boolean).map(delegateKey);
    await send('Voted', 0n, (voterKey) => ({ type: 'vote', voterKey, delegates }));
  });
  return h(
    'section',
    { 'aria-label': 'From a browser wallet' },
    h('h2', {}, 'From a browser wallet'),
    h('p', { class: 'muted' }, 'Signed in this page. Unbonding, registering and voting spend a coin of the staking address: that is how the chain knows its key holder sent them.'),
    walletLabel,
    keyLine,
    h('div', { class: 'grid' }, h('div', {}, amountLabel, h('div', { class: 'row' }, bond, unbond)), h('div', {}, nameLabel, register), h('div', {}, votesLabel, vote)),
    done,
  );
}
