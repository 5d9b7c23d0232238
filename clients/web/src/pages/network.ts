/**
 * The network: this node's peer id and addresses, its peers with their scores, and — with the
 * node's access secret — dialling, disconnecting and banning peers. Under proof of work on a
 * dev chain, mining blocks on demand.
 */
import { facts, fill, h, problem, short, table } from '../ui.js';
import { field, form } from '../forms.js';
import { call, explain, hasAccess, live } from '../node.js';

export function network(main: HTMLElement): () => void {
  const peers = h('section', { 'aria-label': 'Peers' });
  const mining = h('section', { 'aria-label': 'Mining' });
  const refresh = async () => {
    try {
      const [net, list] = await Promise.all([call('net_getInfo'), call('net_peers')]);
      fill(
        peers,
        h('h2', {}, 'This node'),
        facts([
          ['Peer id', h('code', {}, net.peerId)],
          ['Listening on', net.listenAddresses.length ? h('ul', {}, net.listenAddresses.map((a) => h('li', {}, h('code', {}, a)))) : 'nothing'],
          ['Peers', h('span', { 'data-testid': 'peer-count' }, net.peers)],
          ['Known peers', String(net.knownPeers)],
        ]),
        h('h2', {}, 'Connected peers'),
        table(
          ['Peer', 'Address', 'Direction', 'Agent', 'Best height', 'Score'],
          list.map((p) => [h('code', { title: p.id }, short(p.id, 10)), h('code', {}, p.address), p.direction, p.agent ?? '', p.bestHeight ?? '', p.score.toFixed(1)]),
          'No peers connected.',
        ),
      );
    } catch (error) {
      fill(peers, h('h2', {}, 'Peers'), problem(explain(error)));
    }
    try {
      const info = await call('mining_getInfo');
      fill(
        mining,
        h('h2', {}, 'Mining'),
        facts([
          ['Mining', info.mining ? `yes, ${info.threads} thread(s)` : 'no'],
          ['Height', String(info.height)],
          ['Difficulty', info.difficulty.toLocaleString('en-US')],
          ['Pooled transactions', String(info.pooledTx)],
        ]),
      );
    } catch (error) {
      fill(mining, h('h2', {}, 'Mining'), problem(explain(error)));
    }
  };

  const actions = h('div', { class: 'grid' });
  if (hasAccess()) {
    const [addrLabel, addr] = field('Peer address (multiaddr)', { name: 'multiaddr', placeholder: '/ip4/127.0.0.1/tcp/30333/p2p/12D3Koo…', spellcheck: 'false', required: 'true' });
    const done = h('p', { 'aria-live': 'polite' });
    const dial = form([addrLabel], 'Connect', async () => {
      await call('net_addPeer', addr.value.trim());
      done.textContent = `Dialling ${addr.value.trim()}.`;
      setTimeout(() => void refresh(), 1500);
    });
    const [idLabel, id] = field('Peer id', { name: 'peer', spellcheck: 'false', required: 'true' });
    const [secondsLabel, seconds] = field('Ban for (seconds)', { name: 'seconds', inputmode: 'numeric', value: '86400' });
    const ban = form([idLabel, secondsLabel], 'Ban', async () => {
      const s = Number(seconds.value);
      if (!Number.isInteger(s) || s < 1) throw new Error('Ban for a whole number of seconds, 1 or more.');
      await call('net_ban', id.value.trim(), s);
      done.textContent = `Banned ${id.value.trim()} for ${s} s.`;
      await refresh();
    });
    const [countLabel, count] = field('Blocks', { name: 'count', inputmode: 'numeric', value: '1' });
    const [toLabel, to] = field('Paid to (address; empty: the node\'s own)', { name: 'to', spellcheck: 'false' });
    const mined = h('p', { 'aria-live': 'polite', 'data-testid': 'mined' });
    const mine = form([countLabel, toLabel], 'Mine', async () => {
      const n = Number(count.value);
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error('Mine 1 to 1,000 blocks at a time.');
      const hashes = await call('mining_generate', n, to.value.trim() || undefined);
      mined.textContent = `Mined ${hashes.length} block(s).`;
      await refresh();
    });
    actions.append(
      h('section', {}, h('h2', {}, 'Dial a peer'), dial, h('h2', {}, 'Ban a peer'), ban, done),
      h('section', {}, h('h2', {}, 'Mine now (dev chains)'), mine, mined),
    );
  } else {
    actions.append(h('p', { class: 'muted' }, 'With the node\'s access secret (at the foot of the page) this page can dial and ban peers and mine blocks on a dev chain.'));
  }
  fill(main, h('h1', {}, 'Network'), h('div', { class: 'grid' }, peers, mining), actions);
  void refresh();
  return live.onHead(() => void refresh());
}
