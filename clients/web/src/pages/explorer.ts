/** The explorer: a block, a transaction, an address, a contract; and what the search box finds. */
import { AddressError, addressFromScript, decodeEvent, fromHex, parseAbi, parseAddress, scriptToAsm, type Network } from '@i8o8icoin/sdk';
import { amount, bytes, facts, fill, h, link, problem, short, table, when } from '../ui.js';
import { type ContractEvent, call, chainNetwork, explain, live } from '../node.js';
import { contractMethods } from './contracts.js';


/** Where a script pays: its address when it has one, else its assembly. */
function payee(script: string, net: Network): HTMLElement {
  const bytes = fromHex(script);
  const address = addressFromScript(net, bytes);
  if (address) return link(`address/${address}`, address);
  return h('code', { class: 'asm' }, scriptToAsm(bytes) || '(empty)');
}

async function page(main: HTMLElement, title: string, load: () => Promise<Node[]>): Promise<void> {
  fill(main, h('h1', {}, title), h('p', { class: 'muted' }, 'Loading…'));
  try {
    fill(main, h('h1', {}, title), ...(await load()));
  } catch (error) {
    fill(main, h('h1', {}, title), problem(explain(error)));
  }
}

export function block(main: HTMLElement, id: string): void {
  const key = /^\d+$/.test(id) ? Number(id) : id;
  void page(main, `Block ${typeof key === 'number' ? key : short(id)}`, async () => {
    const [b, net] = await Promise.all([call('chain_getBlock', key), chainNetwork()]);
    const seal = b.header.seal;
    const producer =
      seal.type === 'pow'
        ? `proof of work (bits ${seal.bits.toString(16)}, nonce ${seal.nonce})`
        : `slot ${seal.slot}, producer ${seal.pubkey}`;
    const coinbase = b.transactions[0];
    const paidTo = coinbase?.outputs[0] ? payee(coinbase.outputs[0].scriptPubkey, net) : 'nobody';
    return [
      facts([
        ['Hash', h('code', {}, b.hash)],
        ['Height', String(b.height)],
        ['Confirmations', b.confirmations ? String(b.confirmations) : 'not on the best chain'],
        ['Time', when(b.header.time)],
        ['Parent', b.height > 0 ? link(`block/${b.header.parent}`, b.header.parent) : 'none (genesis)'],
        ['Sealed by', producer],
        ['Reward to', paidTo],
        ['Transaction root', h('code', {}, b.header.txRoot)],
        ['State root', h('code', {}, b.header.stateRoot)],
        ['Size', bytes(b.size)],
      ]),
      h('h2', {}, `Transactions (${b.transactions.length})`),
      table(
        ['#', 'Transaction', 'Inputs', 'Outputs', 'Value out'],
        b.transactions.map((tx, i) => [
          i,
          link(`tx/${tx.txid}`, short(tx.txid, 12), tx.txid),
          i === 0 ? 'coinbase' : tx.inputs.length,
          tx.outputs.length,
          amount(tx.outputs.reduce((sum, o) => sum + BigInt(o.value), 0n)),
        ]),
      ),
    ];
  });
}

export function transaction(main: HTMLElement, txid: string): void {
  void page(main, `Transaction ${short(txid)}`, async () => {
    const [found, net] = await Promise.all([call('tx_get', txid), chainNetwork()]);
    const tx = found.transaction;
    const status = found.status;
    const coinbase = tx.inputs.length === 1 && /^0+$/.test(tx.inputs[0]!.prevout.txid);
    const receipt = tx.payload ? await call('tx_getReceipt', txid).catch(() => null) : null;
    return [
      facts([
        ['Transaction id', h('code', {}, tx.txid)],
        [
          'Status',
          status.state === 'confirmed'
            ? h('span', { 'data-testid': 'tx-status' }, `confirmed in block `, link(`block/${status.blockHash}`, String(status.height)), ` (${status.confirmations} confirmations)`)
            : h('span', { 'data-testid': 'tx-status' }, `waiting in the mempool, paying ${amount(status.fee)}`),
        ],
        ['Size', bytes(tx.size)],
        ['Version', String(tx.version)],
        ['Lock time', String(tx.lockTime)],
        ['Payload', tx.payload ? h('code', {}, JSON.stringify(tx.payload).slice(0, 400)) : 'none'],
      ]),
      h('h2', {}, `Inputs (${tx.inputs.length})`),
      coinbase
        ? h('p', {}, 'Coinbase: new coins and the block\'s fees.')
        : table(
            ['Spends', 'Unlocking script'],
            tx.inputs.map((input) => [
              link(`tx/${input.prevout.txid}`, `${short(input.prevout.txid)}:${input.prevout.index}`, input.prevout.txid),
              h('code', { class: 'asm' }, scriptToAsm(fromHex(input.scriptSig))),
            ]),
          ),
      h('h2', {}, `Outputs (${tx.outputs.length})`),
      table(
        ['#', 'Value', 'To', 'Locking script'],
        tx.outputs.map((output, i) => [i, amount(output.value), payee(output.scriptPubkey, net), h('code', { class: 'asm' }, scriptToAsm(fromHex(output.scriptPubkey)))]),
      ),
      ...(receipt
        ? [
            h('h2', {}, 'Contract receipt'),
            facts([
              ['Contract', link(`contract/${receipt.contract}`, receipt.contract)],
              ['Outcome', 'reason' in receipt ? `${receipt.status}: ${receipt.reason}` : receipt.status],
              ['Gas used', receipt.gasUsed.toLocaleString('en-US')],
              ['Fee', amount(receipt.fee)],
              ['Events', String(receipt.events.length)],
            ]),
            h('h3', {}, 'Gas by category'),
            table(
              ['Category', 'Gas'],
              Object.entries(receipt.gasBreakdown)
                .filter(([, gas]) => gas > 0)
                .map(([category, gas]) => [category.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`), gas.toLocaleString('en-US')]),
            ),
          ]
        : []),
    ];
  });
}

/** UTXOs listed per page. */
const UTXO_PAGE = 50;

/** History rows fetched per page. */
const HISTORY_PAGE = 25;

export function address(main: HTMLElement, addr: string): void {
  void page(main, 'Address', async () => {
    const [balance, utxos, first] = await Promise.all([
      call('address_getBalance', addr),
      call('address_getUtxos', addr, undefined, UTXO_PAGE),
      call('address_getHistory', addr, undefined, HISTORY_PAGE),
    ]);
    type Row = Parameters<typeof table>[1][number];
    const row = (txid: string, status: Node | string, received: number, sent: number): Row => [
      link(`tx/${txid}`, short(txid), txid),
      status,
      received ? amount(received) : '',
      sent ? amount(sent) : '',
      h('span', { 'data-testid': 'history-net' }, amount(BigInt(received) - BigInt(sent))),
    ];
    const rows: Row[] = [
      ...first.pending.map((p) => row(p.txid, `in the mempool since ${when(p.time)}`, p.received, p.sent)),
      ...first.confirmed.map((c) => row(c.txid, link(`block/${c.blockHash}`, String(c.height)), c.received, c.sent)),
    ];
    const historyBox = h('div', { 'data-testid': 'history' });
    let last = first.confirmed.at(-1)?.txid;
    let more = first.confirmed.length === HISTORY_PAGE;
    const draw = () => {
      const older = h('button', { type: 'button', class: 'secondary' }, 'Older transactions');
      older.addEventListener('click', () => {
        older.disabled = true;
        call('address_getHistory', addr, last, HISTORY_PAGE)
          .then((next) => {
            rows.push(...next.confirmed.map((c) => row(c.txid, link(`block/${c.blockHash}`, String(c.height)), c.received, c.sent)));
            last = next.confirmed.at(-1)?.txid ?? last;
            more = next.confirmed.length === HISTORY_PAGE;
            draw();
          })
          .catch((error: unknown) => fill(historyBox, problem(explain(error))));
      });
      fill(
        historyBox,
        table(['Transaction', 'Block', 'Received', 'Sent', 'Net'], rows, 'No transactions.'),
        more ? older : null,
        first.indexedFrom > 0 ? h('p', { class: 'muted' }, `This node keeps history from block ${first.indexedFrom} on.`) : null,
      );
    };
    draw();
    return [
      facts([
        ['Address', h('code', { 'data-testid': 'address' }, addr)],
        ['Confirmed', h('span', { 'data-testid': 'confirmed' }, amount(balance.confirmed))],
        ['Pending', amount(balance.unconfirmed)],
      ]),
      h('h2', {}, 'History'),
      historyBox,
      h('h2', {}, utxos.length === UTXO_PAGE ? `Unspent outputs (first ${UTXO_PAGE})` : `Unspent outputs (${utxos.length})`),
      table(
        ['Output', 'Value', 'Height', 'Confirmations', ''],
        utxos.map((u) => [
          link(`tx/${u.txid}`, `${short(u.txid)}:${u.index}`, u.txid),
          amount(u.value),
          String(u.height),
          String(u.confirmations),
          [u.coinbase ? 'coinbase' : '', u.spentInMempool ? ' spent in the mempool' : ''].join(''),
        ]),
        'No unspent outputs.',
      ),
    ];
  });
}

/** Events kept on a contract's page (the newest). */
const EVENTS_SHOWN = 50;
/** How far back a contract page asks for stored events (the node backfills at most 1,000 blocks). */
const EVENTS_BACK = 990;

export function contract(main: HTMLElement, addr: string): () => void {
  // The events stream in over the live connection: stored ones first, then each block's.
  const eventsBox = h('div', { 'aria-live': 'polite' });
  let stop = () => {};
  let closed = false;
  void page(main, 'Contract', async () => {
    const [info, net, chain] = await Promise.all([call('contract_getInfo', addr), chainNetwork(), call('chain_getInfo')]);
    // Events the ABI declares are shown decoded too.
    const declared = info.abi ? parseAbi(info.abi).events : [];
    const from = Math.max(info.height, chain.height - EVENTS_BACK);
    let events: ContractEvent[] = [];
    const draw = () =>
      fill(
        eventsBox,
        from > info.height ? h('p', { class: 'muted' }, `Events from block ${from} on.`) : null,
        table(
          ['Height', 'Transaction', 'Event', 'Topics', 'Data'],
          events.slice(-EVENTS_SHOWN).reverse().map((e) => {
            const decoded = declared.length ? decodeEvent(declared, e.topics, fromHex(e.data), net) : null;
            return [
              String(e.height),
              link(`tx/${e.txid}`, short(e.txid), e.txid),
              decoded ? h('code', {}, JSON.stringify(decoded)) : '',
              e.topics.map((t) => short(t)).join(' '),
              short(e.data, 16) || '(none)',
            ];
          }),
          'No events.',
        ),
      );
    draw();
    const same = (a: ContractEvent, b: ContractEvent) => a.txid === b.txid && a.height === b.height && a.data === b.data && a.topics.join() === b.topics.join();
    if (!closed) {
      stop = live.onEvents(
        addr,
        from,
        (event) => {
          if (event.removed) {
            // Taken back by a reorganisation: the last matching one goes.
            for (let at = events.length - 1; at >= 0; at--) {
              if (same(events[at]!, event)) {
                events.splice(at, 1);
                break;
              }
            }
          } else {
            events.push(event);
            if (events.length > 10 * EVENTS_SHOWN) events = events.slice(-EVENTS_SHOWN);
          }
          draw();
        },
        (resumeFrom) => {
          events = events.filter((e) => e.height < resumeFrom);
        },
        (error) => fill(eventsBox, problem(`The node would not stream this contract's events: ${explain(error)}`)),
      );
    }
    const lookup = h('form', { class: 'inline' });
    const keyInput = h('input', { name: 'key', placeholder: 'storage key, hex', 'aria-label': 'Storage key (hex)', autocomplete: 'off' });
    const answer = h('p', { 'aria-live': 'polite' });
    lookup.append(keyInput, h('button', { type: 'submit' }, 'Read'), answer);
    lookup.addEventListener('submit', (event) => {
      event.preventDefault();
      const key = keyInput.value.trim();
      if (!/^([0-9a-fA-F]{2})*$/.test(key)) {
        fill(answer, problem('A storage key is hex: pairs of 0-9 and a-f.'));
        return;
      }
      call('contract_getStorage', addr, key.toLowerCase())
        .then((value) => fill(answer, value == null ? 'No value under this key.' : h('code', {}, value)))
        .catch((error) => fill(answer, problem(explain(error))));
    });
    return [
      facts([
        ['Address', h('code', {}, info.address)],
        ['Balance', amount(info.balance)],
        ['Code hash', h('code', {}, info.codeHash)],
        ['Code size', bytes(info.codeSize)],
        ['Deployed at', link(`block/${info.height}`, String(info.height))],
        ['Deployer', info.deployerAddress ? link(`address/${info.deployerAddress}`, info.deployerAddress) : h('code', {}, info.deployer)],
        ['Admin', info.adminAddress ?? info.admin ?? 'none: the code can never change'],
        ['Code history', String(info.codeHistory.length)],
      ]),
      h('h2', {}, 'Storage'),
      lookup,
      h('h2', {}, 'Events'),
      eventsBox,
      ...(info.abi ? [h('h2', {}, 'Methods'), contractMethods(info.address, info.abi, net), h('h2', {}, 'ABI'), h('pre', {}, info.abi)] : []),
    ];
  });
  return () => {
    closed = true;
    stop();
  };
}

/**
 * Where a search leads: a height, a block hash, a transaction id, a contract or an address —
 * or why none fits.
 */
export async function resolve(query: string): Promise<string> {
  const text = query.trim();
  if (!text) throw new Error('Type a block height or hash, a transaction id or an address.');
  if (/^\d+$/.test(text)) {
    const info = await call('chain_getInfo');
    if (Number(text) > info.height) throw new Error(`There is no block ${text} yet: the chain is at height ${info.height}.`);
    return `block/${text}`;
  }
  if (/^[0-9a-fA-F]{64}$/.test(text)) {
    const hash = text.toLowerCase();
    const found = await Promise.any([
      call('chain_getBlock', hash).then(() => `block/${hash}`),
      call('tx_get', hash).then(() => `tx/${hash}`),
      call('contract_getInfo', hash).then(() => `contract/${hash}`),
    ]).catch(() => null);
    if (found) return found;
    throw new Error(`No block, transaction or contract has the id ${short(hash)}.`);
  }
  if (/^t?i8o1/i.test(text)) {
    try {
      parseAddress(text, await chainNetwork());
    } catch (error) {
      if (!(error instanceof AddressError)) throw error;
      throw new Error(
        error.kind === 'Encoding'
          ? 'This is not a valid address: a character is wrong or missing (its checksum does not match).'
          : error.kind === 'WrongNetwork'
            ? `This address is for another network: ${error.message}.`
            : `This is not an address this chain uses: ${error.message}.`,
      );
    }
    return `address/${text}`;
  }
  throw new Error(`"${text.length > 40 ? `${text.slice(0, 40)}…` : text}" is not a block height or hash, a transaction id or an address.`);
}
