/**
 * Contracts from the browser: deploy a `.wasm` with a form generated from the ABI it embeds,
 * and on a contract's page query it and call it with forms generated from its ABI — gas
 * estimated first, the transaction signed by a wallet unlocked in this page.
 */
import {
  type AbiMethod,
  type Network,
  abiOfModule,
  decodeReturn,
  encodeCall,
  fromHex,
  methodSignature,
  parseAbi,
  toHex,
} from '@i8o8icoin/sdk';
import { amount, fill, h, link, problem, short } from '../ui.js';
import { field, form } from '../forms.js';
import { call, chainNetwork, live } from '../node.js';
import { unlockedWallets, walletChoice } from './wallet.js';
import { loadWallet, WalletError } from '../wallet/vault.js';
import { parseAmount, sendContract } from '../wallet/funds.js';

/** The gas a deployment may use unless told (the CLI's default). */
const DEPLOY_GAS = 2_000_000n;

/** One input per argument of `method`. */
function argumentFields(method: AbiMethod): [HTMLElement[], () => string[]] {
  const inputs = method.args.map(([name, ty]) => field(`${name} (${ty})`, { name, autocomplete: 'off', spellcheck: 'false' }));
  return [inputs.map(([label]) => label), () => inputs.map(([, input]) => input.value.trim())];
}

/**
 * Waits for `txid`'s receipt (its block), checking at each new block while `shownIn` is on
 * the page: once the user has navigated away, it stops listening (and never resolves).
 */
function receiptOf(txid: string, shownIn: Element): Promise<Awaited<ReturnType<typeof call<'tx_getReceipt'>>>> {
  return new Promise((resolve) => {
    const stop = live.onHead(() => {
      if (!shownIn.isConnected) {
        stop();
        return;
      }
      call('tx_getReceipt', txid)
        .then((r) => {
          stop();
          resolve(r);
        })
        .catch(() => {});
    });
  });
}

export function contracts(main: HTMLElement): void {
  const [walletLabel, chosenWallet] = walletChoice();
  const file = h('input', { type: 'file', accept: '.wasm,application/wasm', name: 'module', 'aria-label': 'Contract module (.wasm)' });
  const ctorArea = h('div', { class: 'stack' });
  const outcome = h('div', { 'aria-live': 'polite' });
  let module: Uint8Array | null = null;
  let readArgs: () => string[] = () => [];
  let ctor: AbiMethod | undefined;
  file.addEventListener('change', () => {
    fill(ctorArea);
    fill(outcome);
    const picked = file.files?.[0];
    if (!picked) return;
    void picked.arrayBuffer().then((buffer) => {
      try {
        module = new Uint8Array(buffer);
        const text = abiOfModule(module);
        if (text === null) {
          fill(ctorArea, h('p', { class: 'muted' }, 'This module embeds no ABI: it is deployed with an empty constructor input.'));
          ctor = undefined;
          readArgs = () => [];
          return;
        }
        const abi = parseAbi(text);
        ctor = abi.methods.find((m) => m.deploy);
        const [labels, read] = ctor ? argumentFields(ctor) : [[], () => []];
        readArgs = read;
        fill(ctorArea, h('p', {}, ctor ? `Constructor: ${methodSignature(ctor)}` : 'No constructor arguments.'), ...labels);
      } catch (error) {
        module = null;
        fill(ctorArea, problem(error instanceof Error ? error.message : String(error)));
      }
    });
  });
  const [gasLabel, gas] = field('Gas limit', { name: 'gas', inputmode: 'numeric', value: String(DEPLOY_GAS) });
  const deploy = form([h('label', { class: 'field' }, h('span', {}, 'Module (.wasm)'), file), ctorArea, gasLabel, walletLabel], 'Deploy', async () => {
    if (!module) throw new WalletError('Choose a .wasm module first.');
    const network = await chainNetwork();
    const initInput = ctor ? encodeCall(ctor, readArgs(), network) : new Uint8Array();
    const gasLimit = BigInt(gas.value.trim() || '0');
    if (gasLimit < 1n || gasLimit > 50_000_000n) throw new WalletError('The gas limit is 1 to 50,000,000.');
    const [name, keys] = chosenWallet();
    const stored = await loadWallet(name);
    const info = await call('chain_getInfo');
    const fee = await call('fee_estimate', 6);
    const salt = crypto.getRandomValues(new Uint8Array(32));
    const sent = await sendContract(keys, stored, network, info.genesis, { type: 'deploy', code: module, initInput, salt, gasLimit, admin: null }, fee.feeRate);
    fill(outcome, h('p', {}, 'Deployment sent: ', link(`tx/${sent.txid}`, short(sent.txid, 12), sent.txid), '. Waiting for a block…'));
    const receipt = await receiptOf(sent.txid, outcome);
    fill(
      outcome,
      receipt.status === 'success'
        ? h('p', { 'data-testid': 'deployed' }, 'Deployed: ', link(`contract/${receipt.contract}`, receipt.contract), ` (gas ${receipt.gasUsed.toLocaleString('en-US')})`)
        : problem(`The deployment failed: ${receipt.status}${'reason' in receipt ? `: ${receipt.reason}` : ''}.`),
    );
  });
  fill(
    main,
    h('h1', {}, 'Contracts'),
    h('section', {}, h('h2', {}, 'Deploy a contract'), h('p', { class: 'muted' }, 'The module is read here; its embedded ABI gives the constructor\'s fields. The deployment is signed in this page.'), deploy, outcome),
    h('p', {}, 'A deployed contract\'s page (search its address) has forms to query and call it.'),
  );
}

/** Query and call forms for each method of a deployed contract's ABI. */
export function contractMethods(address: string, abiText: string, network: Network): HTMLElement {
  const abi = parseAbi(abiText);
  const [walletLabel, chosenWallet] = walletChoice();
  const sections = abi.methods
    .filter((m) => !m.deploy && !m.migrate)
    .map((method) => {
      const [labels, read] = argumentFields(method);
      const [valueLabel, value] = field('Value sent (I8O)', { name: 'value', inputmode: 'decimal', value: '0' });
      const result = h('div', { 'aria-live': 'polite', 'data-testid': `result-${method.name}` });
      const caller = () => {
        const wallets = unlockedWallets();
        const name = wallets[0];
        return name ? name[1].key(0).address(network) : undefined;
      };
      const query = form([...labels], 'Query', async () => {
        fill(result);
        const input = toHex(encodeCall(method, read(), network));
        const answer = await call('contract_query', address, input, caller());
        const decoded = decodeReturn(method.result, fromHex(answer.returnData), network);
        fill(result, h('p', {}, 'Returned ', h('code', {}, JSON.stringify(decoded)), ` (gas ${answer.gasUsed.toLocaleString('en-US')})`));
      });
      const send = form([valueLabel], 'Send as a transaction', async () => {
        fill(result);
        const input = encodeCall(method, read(), network);
        const units = value.value.trim() === '0' || !value.value.trim() ? 0n : parseAmount(value.value);
        const [name, keys] = chosenWallet();
        const from = keys.key(0).address(network);
        const estimate = await call('contract_estimateGas', address, toHex(input), from, Number(units));
        // The estimate with a margin: state can change between the estimate and the block.
        const gasLimit = BigInt(Math.ceil(estimate.gasUsed * 1.2) + 10_000);
        const stored = await loadWallet(name);
        const info = await call('chain_getInfo');
        const fee = await call('fee_estimate', 6);
        const sent = await sendContract(keys, stored, network, info.genesis, { type: 'call', contract: address, input, value: units, gasLimit }, fee.feeRate);
        fill(result, h('p', {}, `Sent (estimated gas ${estimate.gasUsed.toLocaleString('en-US')}, limit ${gasLimit.toLocaleString('en-US')}${units ? `, value ${amount(units)}` : ''}): `, link(`tx/${sent.txid}`, short(sent.txid, 12), sent.txid)));
        const receipt = await receiptOf(sent.txid, result);
        fill(
          result,
          h('p', { 'data-testid': `receipt-${method.name}` }, `${receipt.status === 'success' ? 'Done' : `Failed (${receipt.status}${'reason' in receipt ? `: ${receipt.reason}` : ''})`}, gas ${receipt.gasUsed.toLocaleString('en-US')}: `, link(`tx/${sent.txid}`, 'receipt')),
        );
      });
      return h('details', { class: 'method' }, h('summary', {}, h('code', {}, methodSignature(method))), h('div', { class: 'row' }, query, send), result);
    });
  return h('div', {}, walletLabel, ...sections);
}
