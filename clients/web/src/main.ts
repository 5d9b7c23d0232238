/**
 * The node's web app: a header with the search box and the node it talks to, and the page the
 * location's hash names (`#/block/<hash or height>`, `#/tx/<txid>`, `#/address/<address>`,
 * `#/contract/<address>`, `#/wallets`, `#/wallet/<name>`; the dashboard otherwise). Served by the node at `/`
 * (rpc/src/webapp.rs); everything it shows comes from the node's JSON-RPC API.
 */
import { fill, h, problem } from './ui.js';
import { live, nodeUrl, setNodeUrl } from './node.js';
import { dashboard } from './pages/dashboard.js';
import { address, block, contract, resolve, transaction } from './pages/explorer.js';
import { wallet, wallets } from './pages/wallet.js';

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

document.body.append(
  h('a', { class: 'skip', href: '#main', onclick: (e: Event) => (e.preventDefault(), main.focus()) }, 'Skip to content'),
  h('header', {}, h('a', { class: 'brand', href: '#/' }, 'I8o8iCoin'), h('nav', { 'aria-label': 'Sections' }, h('a', { href: '#/' }, 'Dashboard'), h('a', { href: '#/wallets' }, 'Wallets'), h('a', { href: '/apidocs' }, 'API')), search, searchError),
  main,
  h('footer', {}, nodeForm),
);

let leave: (() => void) | void;
function route(): void {
  leave?.();
  leave = undefined;
  const [page = '', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const arg = decodeURIComponent(rest.join('/'));
  switch (page) {
    case '':
      leave = dashboard(main);
      break;
    case 'block':
      block(main, arg);
      break;
    case 'tx':
      transaction(main, arg);
      break;
    case 'address':
      address(main, arg);
      break;
    case 'contract':
      contract(main, arg);
      break;
    case 'wallets':
      wallets(main);
      break;
    case 'wallet':
      leave = wallet(main, arg);
      break;
    default:
      fill(main, h('h1', {}, 'Not found'), problem(`This app has no page "${page}".`), h('p', {}, h('a', { href: '#/' }, 'Back to the dashboard')));
  }
}
window.addEventListener('hashchange', route);
route();
