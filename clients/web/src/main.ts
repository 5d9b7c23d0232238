/**
 * The node's web app: a header with the search box and the node it talks to, and the page the
 * location's hash names (`#/block/<hash or height>`, `#/tx/<txid>`, `#/address/<address>`,
 * `#/contract/<address>`, `#/contracts`, `#/wallets`, `#/wallet/<name>`, `#/node-wallet/<name>`, `#/staking`,
 * `#/network`; the
 * dashboard otherwise). Served by the node at `/`
 * (rpc/src/webapp.rs); everything it shows comes from the node's JSON-RPC API.
 */
import { fill, h, problem } from './ui.js';
import { hasAccess, live, nodeUrl, setAccess, setNodeUrl } from './node.js';
import { dashboard } from './pages/dashboard.js';
import { address, block, contract, resolve, transaction } from './pages/explorer.js';
import { wallet, wallets } from './pages/wallet.js';
import { network } from './pages/network.js';
import { staking } from './pages/staking.js';
import { contracts } from './pages/contracts.js';
import { nodeWallets } from './pages/nodewallets.js';

const main = h('main', { id: 'main', tabindex: '-1' });
const searchInput = h('input', {
  type: 'search',
  name: 'q',
  placeholder: 'Block, transaction or address',
  'aria-label': 'Search by block height or hash, transaction id or address',
  autocomplete: 'off',
  spellcheck: 'false',
});
const searchError = h('div', { class: 'search-error', 'aria-live': 'assertive' });
const search = h('form', { role: 'search', class: 'search' }, searchInput, h('button', { type: 'submit' }, 'Search'));
search.addEventListener('submit', (event) => {
  event.preventDefault();
  fill(searchError);
  resolve(searchInput.value)
    .then((route) => {
      searchInput.value = '';
      location.hash = `#/${route}`;
    })
    .catch((error: unknown) => fill(searchError, problem(error instanceof Error ? error.message : String(error))));
});

const status = h('span', { class: 'status', title: 'Live updates' });
live.onStatus((connected) => {
  status.textContent = connected ? '● live' : '○ offline';
  status.className = connected ? 'status on' : 'status';
});

const nodeForm = h('form', { class: 'node' });
const nodeInput = h('input', { name: 'node', value: nodeUrl(), 'aria-label': 'Node URL', spellcheck: 'false' });
const nodeError = h('div', { 'aria-live': 'assertive' });
nodeForm.append(h('label', {}, 'Node ', nodeInput), h('button', { type: 'submit' }, 'Connect'), status, nodeError);
nodeForm.addEventListener('submit', (event) => {
  event.preventDefault();
  try {
    setNodeUrl(nodeInput.value);
    nodeInput.value = nodeUrl();
    fill(nodeError);
    route();
  } catch (error) {
    fill(nodeError, problem(error instanceof Error ? error.message : String(error)));
  }
});

const accessForm = h('form', { class: 'node' });
const accessInput = h('input', { name: 'secret', type: 'password', autocomplete: 'off', 'aria-label': 'Node access secret (jwt.hex)', placeholder: hasAccess() ? 'given for this tab' : '64 hex digits of jwt.hex' });
const accessState = h('span', { class: 'muted' });
const accessError = h('div', { 'aria-live': 'assertive' });
const showAccess = () => {
  accessState.textContent = hasAccess() ? 'private methods open to this tab' : 'read-only';
};
showAccess();
accessForm.append(h('label', {}, 'Node access ', accessInput), h('button', { type: 'submit' }, 'Save'), accessState, accessError);
accessForm.addEventListener('submit', (event) => {
  event.preventDefault();
  try {
    setAccess(accessInput.value);
    accessInput.value = '';
    fill(accessError);
    showAccess();
    route();
  } catch (error) {
    fill(accessError, problem(error instanceof Error ? error.message : String(error)));
  }
});

document.body.append(
  h('a', { class: 'skip', href: '#main', onclick: (e: Event) => (e.preventDefault(), main.focus()) }, 'Skip to content'),
  h('header', {}, h('a', { class: 'brand', href: '#/' }, 'I8o8iCoin'), h('nav', { 'aria-label': 'Sections' }, h('a', { href: '#/' }, 'Dashboard'), h('a', { href: '#/wallets' }, 'Wallets'), h('a', { href: '#/contracts' }, 'Contracts'), h('a', { href: '#/staking' }, 'Staking'), h('a', { href: '#/network' }, 'Network'), h('a', { href: '/apidocs' }, 'API')), search, searchError),
  main,
  h('footer', {}, nodeForm, accessForm, h('p', { class: 'muted' }, 'The access secret lets this tab mine, manage peers and use node-hosted wallets; it stays in this tab (sessionStorage) and only short-lived tokens made from it go to the node. An empty one forgets it.')),
);

/** The pages by the first part of the hash; each may return what stops its live updates. */
const ROUTES: Record<string, (main: HTMLElement, arg: string) => (() => void) | void> = {
  '': (m) => dashboard(m),
  block,
  tx: transaction,
  address,
  contract,
  contracts: (m) => contracts(m),
  wallets: (m) => wallets(m),
  wallet,
  'node-wallet': nodeWallets,
  staking: (m) => staking(m),
  network: (m) => network(m),
};

let leave: (() => void) | void;
function route(): void {
  leave?.();
  leave = undefined;
  const [page = '', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const show = ROUTES[page];
  if (!show) {
    fill(main, h('h1', {}, 'Not found'), problem(`This app has no page "${page}".`), h('p', {}, h('a', { href: '#/' }, 'Back to the dashboard')));
    return;
  }
  leave = show(main, decodeURIComponent(rest.join('/')));
}
window.addEventListener('hashchange', () => {
  route();
  // A keyboard or screen-reader user lands on the new page, not on the link they left.
  main.focus();
});
route();
