/** The dashboard: where the chain stands, the pool, recent blocks and transactions, live. */
import { amount, bytes, facts, feeRate, fill, h, link, problem, short, table, when } from '../ui.js';
import { call, explain, live } from '../node.js';

/** Blocks listed. */
const RECENT = 10;

export function dashboard(main: HTMLElement): () => void {
  const summary = h('section', { 'aria-label': 'Chain' });
  const pool = h('section', { 'aria-label': 'Mempool' });
  const blocks = h('section', { 'aria-label': 'Recent blocks' });
  const txs = h('section', { 'aria-label': 'Recent transactions' });
  fill(main, h('h1', {}, 'Dashboard'), h('div', { class: 'grid' }, summary, pool), blocks, txs);

  let stale = false;
  let busy = false;
  const refresh = async () => {
    if (busy) {
      stale = true;
      return;
    }
    busy = true;
    try {
      const [info, consensus, net, mempool, fee] = await Promise.all([
        call('chain_getInfo'),
        call('consensus_getInfo'),
        call('net_getInfo').catch(() => null),
        call('mempool_getInfo'),
        call('fee_estimate', 2),
      ]);
      const from = Math.max(0, info.height - RECENT + 1);
      const recent = (await call('chain_getBlocks', from, info.height - from + 1)).reverse();
      const position = [
        consensus.slot != null ? `slot ${consensus.slot}` : null,
        consensus.round != null ? `round ${consensus.round}` : null,
        consensus.epoch != null ? `epoch ${consensus.epoch}` : null,
      ].filter(Boolean).join(', ');
      fill(
        summary,
        h('h2', {}, `Chain ${info.chain}`),
        facts([
          ['Height', h('span', { 'data-testid': 'height' }, info.height)],
          ['Best block', link(`block/${info.bestHash}`, short(info.bestHash, 12), info.bestHash)],
          ['Engine', `${consensus.engine}${position ? ` (${position})` : ''}${consensus.nextEngine !== consensus.engine ? `, then ${consensus.nextEngine}` : ''}`],
          ['Final', consensus.lastIrreversible ? link(`block/${consensus.lastIrreversible.hash}`, `#${consensus.lastIrreversible.height}`) : 'no finality under this engine'],
          ['Difficulty', info.difficulty.toLocaleString('en-US')],
          ['Peers', net ? String(net.peers) : 'networking off'],
        ]),
      );
      fill(
        pool,
        h('h2', {}, 'Mempool'),
        facts([
          ['Transactions', h('span', { 'data-testid': 'mempool-size' }, mempool.size)],
          ['Size', `${bytes(mempool.bytes)} of ${bytes(mempool.maxBytes)}`],
          ['Fees', amount(mempool.totalFee)],
          ['Fee for 2 blocks', `${feeRate(fee.feeRate)} (${fee.basis})`],
          ['Minimum', feeRate(mempool.minFeeRate)],
        ]),
      );
      fill(
        blocks,
        h('h2', {}, 'Recent blocks'),
        table(
          ['Height', 'Hash', 'Time', 'Transactions', 'Size'],
          recent.map((b) => [link(`block/${b.hash}`, String(b.height)), link(`block/${b.hash}`, short(b.hash), b.hash), when(b.header.time), b.transactions.length, bytes(b.size)]),
        ),
      );
      const latest = recent.flatMap((b) => b.transactions.map((tx) => ({ tx, block: b }))).slice(0, RECENT);
      fill(
        txs,
        h('h2', {}, 'Recent transactions'),
        table(
          ['Transaction', 'Block', 'Outputs', 'Value out'],
          latest.map(({ tx, block }) => [
            link(`tx/${tx.txid}`, short(tx.txid), tx.txid),
            link(`block/${block.hash}`, String(block.height)),
            tx.outputs.length,
            amount(tx.outputs.reduce((sum, o) => sum + BigInt(o.value), 0n)),
          ]),
        ),
      );
    } catch (error) {
      fill(summary, h('h2', {}, 'Chain'), problem(explain(error)));
    } finally {
      busy = false;
      if (stale) {
        stale = false;
        void refresh();
      }
    }
  };
  void refresh();
  const stopHeads = live.onHead(() => void refresh());
  const stopPending = live.onPoolChange(() => void refresh());
  return () => {
    stopHeads();
    stopPending();
  };
}
