// The web app in headless Chromium against a real node, run by cli/tests/it/webapp.rs, which
// starts the node, confirms a payment of 1.5 I8O and passes what it made in the environment.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through cli/tests/it/webapp.rs`);
  return value;
};
const NODE = env('I8O8I_NODE_URL');
const SHOTS = env('I8O8I_SCREENSHOTS');
const MINER = env('I8O8I_MINER');
const PAYEE = env('I8O8I_PAYEE');
const PAYMENT = env('I8O8I_PAYMENT');
const PAYMENT_BLOCK = env('I8O8I_PAYMENT_BLOCK');
const TOKEN_WASM = env('I8O8I_TOKEN_WASM');
const JWT_SECRET = Buffer.from(readFileSync(env('I8O8I_JWT_SECRET'), 'utf8').trim(), 'hex');

/** An HS256 token for the node's private methods (as the SDK's `jwtToken`). */
function token() {
  const part = (json) => Buffer.from(JSON.stringify(json)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iat: Math.floor(Date.now() / 1000) })}`;
  return `${body}.${createHmac('sha256', JWT_SECRET).update(body).digest('base64url')}`;
}

/** A call made beside the page, as another client of the node would. */
async function rpc(method, params = []) {
  const response = await fetch(NODE, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

let browser;
let page;
const errors = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: env('I8O8I_CHROMIUM'),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
});

after(async () => {
  await browser?.close();
});

const shot = (name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

async function search(text) {
  await page.getByRole('searchbox').fill(text);
  await page.getByRole('button', { name: 'Search' }).click();
}

test('the dashboard shows the tip and follows new blocks live', async () => {
  const info = await rpc('chain_getInfo');
  await page.goto(NODE);
  await assert.doesNotReject(page.getByText('● live').waitFor());
  const height = page.getByTestId('height');
  await page.waitForFunction((h) => document.querySelector('[data-testid=height]')?.textContent === String(h), info.height);
  assert.equal(await height.textContent(), String(info.height));
  assert.equal(await page.getByRole('heading', { level: 2, name: 'Chain dev' }).count(), 1);
  // Mined elsewhere (over RPC, not through the page): the page hears of it and shows it.
  const [hash] = await rpc('mining_generate', [1, MINER]);
  await page.waitForFunction((h) => document.querySelector('[data-testid=height]')?.textContent === String(h), info.height + 1);
  await page.getByRole('link', { name: hash.slice(0, 12) }).first().waitFor();
  await shot('dashboard');
  assert.deepEqual(errors, []);
});

test('the explorer finds the payment, its block and the address it paid', async () => {
  await page.goto(`${NODE}/#/`);
  await search(PAYMENT);
  await page.waitForURL(`**/#/tx/${PAYMENT}`);
  const status = page.getByTestId('tx-status');
  await status.waitFor();
  assert.match(await status.textContent(), /^confirmed in block 102 \(\d+ confirmations\)$/);
  // The payee's output: 1.5 I8O to its address, P2PKH in assembly.
  const row = page.getByRole('row').filter({ hasText: PAYEE });
  assert.match(await row.textContent(), /1\.5 I8O/);
  assert.match(await row.textContent(), /OP_DUP OP_HASH160 [0-9a-f]{40} OP_EQUALVERIFY OP_CHECKSIG/);
  await shot('transaction');

  await status.getByRole('link', { name: '102' }).click();
  await page.waitForURL(`**/#/block/${PAYMENT_BLOCK}`);
  await page.getByRole('heading', { name: 'Transactions (2)' }).waitFor();
  assert.equal(await page.getByRole('link', { name: PAYMENT.slice(0, 12) }).count(), 1);
  await shot('block');

  await page.goto(`${NODE}/#/tx/${PAYMENT}`);
  await page.getByRole('link', { name: PAYEE }).first().click();
  await page.waitForURL(`**/#/address/${PAYEE}`);
  const confirmed = page.getByTestId('confirmed');
  await confirmed.waitFor();
  assert.equal(await confirmed.textContent(), '1.5 I8O');
  assert.equal(await page.getByRole('heading', { name: 'Unspent outputs (1)' }).count(), 1);
  // Its history: the one payment, in block 102.
  const history = page.getByTestId('history').getByRole('row').filter({ hasText: PAYMENT.slice(0, 8) });
  assert.equal(await history.count(), 1);
  assert.match(await history.textContent(), /^[0-9a-f]{8}…[0-9a-f]{8}1021\.5 I8O1\.5 I8O$/);
  assert.deepEqual(await page.getByTestId('history-net').allTextContents(), ['1.5 I8O']);
  await shot('address');
  assert.deepEqual(errors, []);
});

test('keyboard alone: the skip link, a search sent with Enter, focus on the page it opens', async () => {
  // Loaded afresh, so keyboard focus starts at the top of the document.
  await page.goto(`${NODE}/#/`);
  await page.reload();
  await page.getByRole('heading', { name: 'Recent blocks' }).waitFor();
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}:${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40)}`;
  });
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'a:Skip to content');
  // Shown while focused (it sits off-screen otherwise).
  assert.ok((await page.getByRole('link', { name: 'Skip to content' }).boundingBox()).x >= 0);
  await page.keyboard.press('Enter');
  assert.match(await focused(), /^main#main:/);

  // From the top, Tab reaches the search box after the skip link, the brand and the six
  // sections; typing and Enter search.
  await page.reload();
  await page.getByRole('heading', { name: 'Recent blocks' }).waitFor();
  for (let i = 0; i < 9; i++) await page.keyboard.press('Tab');
  assert.equal(await focused(), 'input:Search by block height or hash, transact');
  await page.keyboard.type(PAYMENT);
  await page.keyboard.press('Enter');
  await page.waitForURL(`**/#/tx/${PAYMENT}`);
  assert.match(await focused(), /^main#main:/);
  // Once it has loaded, the next Tab goes into the page, not back to the header.
  await page.getByTestId('tx-status').waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.querySelector('main').contains(document.activeElement)), true);
  assert.deepEqual(errors, []);
});

test('a search that finds nothing says why, in words', async () => {
  await page.goto(`${NODE}/#/`);
  await search('hello');
  const alert = page.locator('.search-error [role=alert]');
  await alert.waitFor();
  assert.equal(await alert.textContent(), '"hello" is not a block height or hash, a transaction id or an address.');
  await search('99999');
  await page.waitForFunction(() => document.querySelector('.search-error [role=alert]')?.textContent?.startsWith('There is no block 99999'));
  await search('ab'.repeat(32));
  await page.waitForFunction(() => document.querySelector('.search-error [role=alert]')?.textContent === 'No block, transaction or contract has the id abababab…abababab.');
  // A malformed address: bech32 with a broken checksum.
  const broken = PAYEE.slice(0, -1) + (PAYEE.endsWith('q') ? 'p' : 'q');
  await search(broken);
  await page.waitForFunction(
    () => document.querySelector('.search-error [role=alert]')?.textContent === 'This is not a valid address: a character is wrong or missing (its checksum does not match).',
  );
  // A node URL that is not one.
  await page.getByLabel('Node URL').fill('ftp://example');
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByText('a node URL starts with http:// or https://, not ftp:').waitFor();
});

/** `units` as the app prints amounts: `137.49999773 I8O`. */
function i8o(units) {
  if (units < 0n) return `-${i8o(-units)}`;
  const frac = (units % 100_000_000n).toString().padStart(8, '0').replace(/0+$/, '');
  return `${(units / 100_000_000n).toLocaleString('en-US')}${frac ? `.${frac}` : ''} I8O`;
}

async function createWallet(page, name, password) {
  await page.goto(`${NODE}/#/wallets`);
  const form = page.locator('section').filter({ hasText: 'New wallet' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByLabel('Password again').fill(password);
  await form.getByRole('button', { name: 'Create wallet' }).click();
  const phrase = (await page.getByTestId('phrase').textContent()).trim();
  await page.getByRole('link', { name: `Open ${name}` }).click();
  const address = (await page.getByTestId('receive-address').textContent()).trim();
  return { phrase, address };
}

/** Waits until the element `id` says `expected`; on a timeout, fails with what it says. */
async function text(page, id, expected) {
  try {
    await page.waitForFunction(([id, expected]) => document.querySelector(`[data-testid=${id}]`)?.textContent === expected, [id, expected], { timeout: 15_000 });
  } catch {
    assert.equal(await page.getByTestId(id).first().textContent({ timeout: 1000 }).catch(() => '(absent)'), expected, id);
  }
}

test('a wallet made in the page receives mined coins, pays another browser\'s wallet, and both see it confirm live', async () => {
  // Two browser profiles: two separate IndexedDBs, as on two machines.
  const alicePage = await (await browser.newContext()).newPage();
  const bobPage = await (await browser.newContext()).newPage();
  for (const p of [alicePage, bobPage]) p.on('pageerror', (error) => errors.push(error.message));
  const alice = await createWallet(alicePage, 'alice', 'alice password');
  assert.equal(alice.phrase.split(' ').length, 24);
  assert.match(alice.address, /^ti8o1/);
  const bob = await createWallet(bobPage, 'bob', 'bob password');

  // What the node says alice's address holds, mature (the next block may spend it) or not.
  const held = async () => {
    const utxos = await rpc('address_getUtxos', [alice.address]);
    const sum = (mature) => utxos.filter((u) => u.mature === mature).reduce((s, u) => s + BigInt(u.value), 0n);
    return { mature: sum(true), immature: sum(false) };
  };
  // 101 blocks to alice: the next block may spend her first two coinbases (maturity 100).
  await rpc('mining_generate', [101, alice.address]);
  const before = await held();
  assert.equal(before.mature, 10_000_000_000n);
  await text(alicePage, 'spendable', '100 I8O');
  await alicePage.screenshot({ path: join(SHOTS, 'wallet.png'), fullPage: true });

  // Bad input first: a broken address, a malformed amount, too much.
  const send = alicePage.locator('section').filter({ hasText: 'Send' });
  const alert = send.getByRole('alert');
  await send.getByLabel('To address').fill(bob.address.slice(0, -2));
  await send.getByLabel('Amount (I8O)').fill('12.5');
  await send.getByRole('button', { name: 'Send' }).click();
  await alert.waitFor();
  assert.match(await alert.textContent(), /^That is not an address of this chain: invalid bech32m address/);
  await send.getByLabel('To address').fill(bob.address);
  await send.getByLabel('Amount (I8O)').fill('1.123456789');
  await send.getByRole('button', { name: 'Send' }).click();
  const refusal = async (startsWith) => {
    await alicePage.waitForFunction((s) => [...document.querySelectorAll('[role=alert]')].some((a) => a.textContent.startsWith(s)), startsWith);
    return alert.textContent();
  };
  assert.equal(await refusal('An amount'), 'An amount is a number of I8O with at most 8 decimals, like 12.5.');
  await send.getByLabel('Amount (I8O)').fill('5000');
  await send.getByRole('button', { name: 'Send' }).click();
  assert.equal(await refusal('Not enough'), `Not enough to send 5,000 I8O plus its fee: 100 I8O spendable (${i8o(before.immature)} more once mined coins mature).`);

  await send.getByLabel('Amount (I8O)').fill('12.5');
  await send.getByRole('button', { name: 'Send' }).click();
  const sent = alicePage.getByTestId('sent');
  await sent.waitFor();
  const [, txid, fee] = /^Sent: ([0-9a-f]{64}) \(fee ([\d.]+) I8O\)$/.exec(await sent.textContent());
  const feeUnits = BigInt(Math.round(Number(fee) * 1e8));
  assert.ok(feeUnits > 0n && feeUnits < 100_000n, fee);
  // Bob's page hears of the pooled payment without a reload.
  await text(bobPage, 'pending', '12.5 I8O');
  await text(bobPage, 'history-status', 'in the mempool');
  await text(bobPage, 'history-amount', '12.5 I8O');
  await text(alicePage, 'history-status', 'in the mempool');
  // Alice's history nets the change she paid herself: out went 12.5 and the fee.
  await text(alicePage, 'history-amount', i8o(-1_250_000_000n - feeUnits));

  // Stuck at 1 unit per byte: bumped to 10 from the page (replace-by-fee, from the change).
  const history = alicePage.locator('table').filter({ hasText: 'Bump fee' });
  await history.getByLabel('New fee rate').fill('10');
  await history.getByRole('button', { name: 'Bump fee' }).click();
  await alicePage.waitForFunction((old) => {
    const a = document.querySelector('table tbody tr a');
    return a && !a.getAttribute('href').endsWith(old);
  }, txid);
  const bumped = (await alicePage.locator('table tbody tr a').first().getAttribute('href')).split('/').pop();
  await assert.rejects(rpc('tx_get', [txid]), /no transaction/);
  const replacement = await rpc('tx_get', [bumped]);
  assert.equal(replacement.status.state, 'mempool');
  const size = BigInt(replacement.transaction.size);
  const bumpedFee = 5_000_000_000n - BigInt(replacement.transaction.outputs[0].value) - BigInt(replacement.transaction.outputs[1].value);
  // 10 units per byte of the replacement (its signatures may have come out a byte shorter
  // than those the fee was reckoned on).
  assert.ok(bumpedFee >= 10n * size && bumpedFee <= 10n * (size + 2n), `${bumpedFee} for ${size} bytes`);
  await text(alicePage, 'sent-fee', i8o(bumpedFee));
  await text(alicePage, 'history-amount', i8o(-1_250_000_000n - bumpedFee));
  await text(bobPage, 'pending', '12.5 I8O');

  // Mined elsewhere: both pages see it confirmed.
  await rpc('mining_generate', [1, MINER]);
  await text(bobPage, 'spendable', '12.5 I8O');
  await text(bobPage, 'pending', '0 I8O');
  // Alice: her mature coinbases but the one spent, and the change (50 - 12.5 - the fee).
  const onChain = await rpc('tx_get', [bumped]);
  assert.equal(onChain.status.state, 'confirmed');
  await text(alicePage, 'history-status', `confirmed in block ${onChain.status.height}`);
  await text(bobPage, 'history-status', `confirmed in block ${onChain.status.height}`);
  // Bob's history is that one payment; alice's the payment and her 101 coinbases.
  assert.deepEqual(await bobPage.getByTestId('history-amount').allTextContents(), ['12.5 I8O']);
  assert.equal(await alicePage.getByTestId('history-amount').count(), 50);
  assert.equal(await alicePage.getByRole('heading', { name: 'History (the latest 50)' }).count(), 1);
  const change = BigInt(onChain.transaction.outputs[1].value);
  assert.equal(change, 3_750_000_000n - bumpedFee);
  const aliceNow = (await held()).mature + change;
  await text(alicePage, 'spendable', i8o(aliceNow));
  await bobPage.screenshot({ path: join(SHOTS, 'wallet-receiver.png'), fullPage: true });

  // Locked, a wrong password is refused; the right one opens it again.
  await alicePage.getByRole('button', { name: 'Lock' }).click();
  await alicePage.getByLabel('Password').fill('not her password');
  await alicePage.getByRole('button', { name: 'Unlock' }).click();
  await alicePage.getByText('Wrong password.').waitFor();
  await alicePage.getByLabel('Password').fill('alice password');
  await alicePage.getByRole('button', { name: 'Unlock' }).click();
  await text(alicePage, 'spendable', i8o(aliceNow));

  // Alice's phrase restored in Bob's browser finds her coins.
  await bobPage.goto(`${NODE}/#/wallets`);
  const restore = bobPage.locator('section').filter({ hasText: 'Restore from a recovery phrase' });
  await restore.getByLabel('Name').fill('alice-copy');
  await restore.getByLabel('Recovery phrase').fill('not a phrase at all');
  await restore.getByLabel('New password').fill('another password');
  await restore.getByRole('button', { name: 'Restore wallet' }).click();
  await bobPage.getByText('That is not a valid recovery phrase: check each word and the word count (12, 15, 18, 21 or 24).').waitFor();
  await restore.getByLabel('Recovery phrase').fill(alice.phrase);
  await restore.getByRole('button', { name: 'Restore wallet' }).click();
  await bobPage.waitForURL('**/#/wallet/alice-copy');
  await text(bobPage, 'spendable', i8o(aliceNow));
  // Her change address was found too (the history's net counts the change back).
  await text(bobPage, 'history-amount', i8o(-1_250_000_000n - bumpedFee));
  assert.deepEqual(errors, []);
});

test('a wallet sealed before Argon2id still opens, and is sealed again with Argon2id', async () => {
  const old = await (await browser.newContext()).newPage();
  old.on('pageerror', (error) => errors.push(error.message));
  await old.goto(`${NODE}/#/wallets`);
  await old.getByRole('heading', { name: 'New wallet' }).waitFor();
  const { genesis } = await rpc('chain_getInfo');
  // The record as the app wrote it before: PBKDF2-SHA256, 600,000 rounds, AES-256-GCM.
  const stored = await old.evaluate(async ({ genesis }) => {
    const phrase = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const base = await crypto.subtle.importKey('raw', new TextEncoder().encode('old password'), 'PBKDF2', false, ['deriveKey']);
    const key = await crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 600_000 }, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt']);
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(phrase)));
    const record = { name: 'legacy', genesis, receive: 1, change: 0, salt, iv, sealed, sent: [] };
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('i8o8icoin', 1);
      r.onupgradeneeded = () => r.result.createObjectStore('wallets', { keyPath: 'name' });
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    await new Promise((resolve, reject) => {
      const t = db.transaction('wallets', 'readwrite');
      t.objectStore('wallets').put(record);
      t.oncomplete = resolve;
      t.onerror = () => reject(t.error);
    });
    db.close();
    return Array.from(sealed);
  }, { genesis });
  const readRecord = () =>
    old.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const r = indexedDB.open('i8o8icoin', 1);
          r.onsuccess = () => {
            const get = r.result.transaction('wallets').objectStore('wallets').get('legacy');
            get.onsuccess = () => resolve({ kdf: get.result.kdf ?? null, sealed: Array.from(get.result.sealed) });
            get.onerror = () => reject(get.error);
          };
          r.onerror = () => reject(r.error);
        }),
    );
  const unlockWith = async (password) => {
    await old.goto(`${NODE}/#/wallet/legacy`);
    await old.getByRole('button', { name: 'Unlock' }).waitFor();
    await old.getByLabel('Password').fill(password);
    await old.getByRole('button', { name: 'Unlock' }).click();
  };
  await unlockWith('wrong password');
  await old.getByText('Wrong password.').waitFor();
  assert.equal((await readRecord()).kdf, null, 'a wrong password changes nothing');
  await unlockWith('old password');
  const address = old.getByTestId('receive-address');
  await address.waitFor();
  const first = (await address.textContent()).trim();
  assert.match(first, /^ti8o1/);
  const now = await readRecord();
  assert.deepEqual(now.kdf, { algorithm: 'argon2id', mCost: 19_456, tCost: 2, pCost: 1 });
  assert.notDeepEqual(now.sealed, stored);
  // Sealed anew, the same password opens the same wallet (a fresh page: nothing cached).
  await old.reload();
  await unlockWith('old password');
  await address.waitFor();
  assert.equal((await address.textContent()).trim(), first);
  assert.deepEqual(errors, []);
});

test('a token deployed and called from the page, signed by a browser wallet, with its events', async () => {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  // The page's WebSockets pass through the test, which cuts them below.
  let cut = false;
  const sockets = [];
  await page.routeWebSocket(/.*/, (ws) => {
    if (cut) return ws.close({ code: 1001, reason: 'cut by the test' });
    sockets.push(ws);
    ws.connectToServer();
  });
  const carol = await createWallet(page, 'carol', 'carol password');
  await rpc('mining_generate', [101, carol.address]);
  // Her first two coinbases are mature (whatever the subsidy at this height).
  const mature = (await rpc('address_getUtxos', [carol.address])).filter((u) => u.mature);
  assert.equal(mature.length, 2);
  await text(page, 'spendable', i8o(mature.reduce((s, u) => s + BigInt(u.value), 0n)));

  await page.goto(`${NODE}/#/contracts`);
  await page.getByLabel('Contract module (.wasm)').setInputFiles(TOKEN_WASM);
  await page.getByText('Constructor: init(name: String, symbol: String, supply: u128) -> ()').waitFor();
  await page.getByLabel('name (String)').fill('Seed Token');
  await page.getByLabel('symbol (String)').fill('SEED');
  await page.getByLabel('supply (u128)').fill('1000000');
  await page.getByRole('button', { name: 'Deploy' }).click();
  await page.getByText(/^Deployment sent: /).waitFor();
  await rpc('mining_generate', [1, MINER]);
  const deployed = page.getByTestId('deployed');
  await deployed.waitFor();
  const token = (await deployed.getByRole('link').textContent()).trim();
  assert.match(token, /^[0-9a-f]{64}$/);

  await deployed.getByRole('link').click();
  await page.waitForURL(`**/#/contract/${token}`);
  const transfer = page.locator('details').filter({ hasText: 'transfer(to: Account, amount: u128) -> ()' }).first();
  await transfer.locator('summary').click();
  await transfer.getByLabel('to (Account)').fill(PAYEE);
  await transfer.getByLabel('amount (u128)').fill('250');
  await transfer.getByRole('button', { name: 'Send as a transaction' }).click();
  await transfer.getByText(/^Sent \(estimated gas [\d,]+, limit [\d,]+\): /).waitFor();
  await rpc('mining_generate', [1, MINER]);
  await transfer.getByTestId('receipt-transfer').getByText(/^Done, gas [\d,]+: receipt$/).waitFor();

  // Queried from the page, decoded by the ABI: the deployer kept the rest.
  const balanceOf = page.locator('details').filter({ hasText: 'balance_of(owner: Account) -> u128' });
  await balanceOf.locator('summary').click();
  await balanceOf.getByLabel('owner (Account)').fill(carol.address);
  await balanceOf.getByRole('button', { name: 'Query' }).click();
  await balanceOf.getByText(/^Returned "999750" \(gas [\d,]+\)$/).waitFor();
  await balanceOf.getByLabel('owner (Account)').fill('not an address');
  await balanceOf.getByRole('button', { name: 'Query' }).click();
  await balanceOf.getByRole('alert').getByText(/^argument `owner` \(Account\): /).waitFor();

  // The events the node has for it, all listed on its page (which followed the blocks).
  const events = await rpc('contract_getEvents', [token]);
  assert.ok(events.length >= 2, JSON.stringify(events));
  const rows = page.locator('table').filter({ hasText: 'Topics' }).locator('tbody tr');
  await page.waitForFunction((n) => document.querySelectorAll('table tbody tr').length >= n, events.length);
  assert.equal(await rows.count(), events.length);
  // Decoded by the ABI the module embeds: the transfer of 250, newest first.
  assert.match(await rows.first().textContent(), /\{"event":"Transfer",.*"amount":"250"\}/);
  await page.screenshot({ path: join(SHOTS, 'contract.png'), fullPage: true });

  // The event stream outlives its connection: a transfer confirmed while the page's socket is
  // cut appears once the page reconnects (resumed from the last height it saw), and no event
  // shows twice.
  cut = true;
  await Promise.all(sockets.splice(0).map((ws) => ws.close({ code: 1001, reason: 'cut by the test' })));
  await page.getByText('○ offline').waitFor();
  await transfer.getByLabel('amount (u128)').fill('100');
  await transfer.getByRole('button', { name: 'Send as a transaction' }).click();
  // (The first transfer's line is its receipt by now; this is the second's.)
  await transfer.getByText(/^Sent \(/).waitFor();
  await rpc('mining_generate', [1, MINER]);
  const after = await rpc('contract_getEvents', [token]);
  assert.ok(after.length > events.length, JSON.stringify(after));
  // Still cut: the page has not heard of it.
  assert.equal(await rows.count(), events.length);
  cut = false;
  await page.getByText('● live').waitFor({ timeout: 30_000 });
  await page.waitForFunction((n) => document.querySelectorAll('table tbody tr').length >= n, after.length);
  assert.equal(await rows.count(), after.length);
  assert.match(await rows.first().textContent(), /\{"event":"Transfer",.*"amount":"100"\}/);
  await transfer.getByTestId('receipt-transfer').getByText(/^Done, gas [\d,]+: receipt$/).waitFor();
  assert.deepEqual(errors, []);
});

test('a browser wallet bonds, registers as a delegate, votes and unbonds, signed in the page', async () => {
  const carolPage = await (await browser.newContext()).newPage();
  carolPage.on('pageerror', (error) => errors.push(error.message));
  const carol = await createWallet(carolPage, 'carol', 'carol password');
  // 101 blocks to her first address, which stakes: the next block may spend two of its
  // coinbases, and each block mined to her below matures one more (the key's authorisation).
  await rpc('mining_generate', [101, carol.address]);
  const confirm = () => rpc('mining_generate', [1, carol.address]);
  await carolPage.goto(`${NODE}/#/staking`);
  const forms = carolPage.getByRole('region', { name: 'From a browser wallet' });
  await forms.getByTestId('staking-key').getByText(carol.address).waitFor();
  const [, key] = /^Stakes with key ([0-9a-f]{66}) of address /.exec(await forms.getByTestId('staking-key').textContent());
  const done = forms.getByTestId('browser-staking-done');
  const alert = forms.getByRole('alert');
  // Inputs − outputs of a pooled transaction: what it locked or burnt plus its fee.
  const paidBy = async (txid) => {
    const { transaction } = await rpc('tx_get', [txid]);
    const spent = await Promise.all(transaction.inputs.map(async (i) => BigInt((await rpc('tx_get', [i.prevout.txid])).transaction.outputs[i.prevout.index].value)));
    return spent.reduce((a, b) => a + b, 0n) - transaction.outputs.reduce((a, o) => a + BigInt(o.value), 0n);
  };
  // Sends with `button`, checks the page's fee against the chain's, and confirms the transaction.
  const act = async (button, what, locked) => {
    await forms.getByRole('button', { name: button, exact: true }).click();
    await done.getByText(new RegExp(`^${what}`)).waitFor();
    const txid = (await done.getByRole('link').getAttribute('href')).split('/').pop();
    assert.equal((await rpc('tx_get', [txid])).status.state, 'mempool');
    const [, fee] = / \(fee ([\d.]+) I8O\)$/.exec(await done.textContent());
    assert.equal(await paidBy(txid), locked + BigInt(Math.round(Number(fee) * 1e8)));
    await confirm();
    assert.equal((await rpc('tx_get', [txid])).status.state, 'confirmed');
  };

  // Nothing bonded yet: the node's refusal, in its words.
  await forms.getByLabel('Amount (I8O)').fill('1');
  await forms.getByRole('button', { name: 'Unbond' }).click();
  await alert.getByText(/^The node refused the transaction: /).waitFor();
  assert.equal(await alert.textContent(), 'The node refused the transaction: transaction rejected: staking: unbond of 1.00000000 I8O exceeds the bonded 0.00000000 I8O');

  await forms.getByLabel('Amount (I8O)').fill('10');
  await act('Bond', 'Bonded', 1_000_000_000n);
  assert.equal((await rpc('staking_getInfo', [carol.address])).bonded, 1_000_000_000);

  await forms.getByLabel('Delegate name').fill('carol!');
  await forms.getByRole('button', { name: 'Register as delegate' }).click();
  await alert.getByText('A delegate name is 1 to 32 letters, digits, "_" or "-".').waitFor();
  await forms.getByLabel('Delegate name').fill('carol');
  // The registration fee of the scheduled DPoS engine (1 I8O) is burnt.
  await act('Register as delegate', 'Registered \\(1 I8O burnt\\)', 100_000_000n);
  const carolDelegate = async () => (await rpc('dpos_getDelegates')).find((d) => d.name === 'carol');
  assert.deepEqual({ ...(await carolDelegate()), produced: 0, missed: 0 }, { name: 'carol', key, address: carol.address, votes: 0, active: false, genesis: false, produced: 0, missed: 0 });

  await forms.getByLabel(/^Vote for/).fill('02abc');
  await forms.getByRole('button', { name: 'Vote' }).click();
  await alert.getByText('"02abc" is not a delegate key (66 hex digits starting 02 or 03).').waitFor();
  await forms.getByLabel(/^Vote for/).fill(key);
  await act('Vote', 'Voted', 0n);
  assert.equal((await carolDelegate()).votes, 1_000_000_000);

  await forms.getByLabel('Amount (I8O)').fill('4');
  await act('Unbond', 'Unbonding', 0n);
  const height = (await rpc('chain_getInfo')).height;
  const stake = await rpc('staking_getInfo', [carol.address]);
  assert.equal(stake.bonded, 600_000_000);
  assert.deepEqual(stake.unbonding, [{ amount: 400_000_000, releaseHeight: height + 20 }]);
  assert.equal(stake.delegate, 'carol');
  assert.equal((await carolDelegate()).votes, 600_000_000);

  // The delegate table followed the blocks: she is listed with her stake's votes, and the
  // unbond she typed is still in its field. The page's lookup says what the node said.
  await carolPage.getByRole('row').filter({ hasText: 'carol' }).getByText('6 I8O').waitFor();
  assert.equal(await forms.getByLabel('Amount (I8O)').inputValue(), '4');
  const lookup = carolPage.locator('section').filter({ hasText: 'Stake of an address' });
  await lookup.getByLabel('Address').fill(carol.address);
  await lookup.getByRole('button', { name: 'Show its stake' }).click();
  await text(carolPage, 'bonded', '6 I8O');
  await carolPage.setViewportSize({ width: 1280, height: 900 });
  await carolPage.screenshot({ path: join(SHOTS, 'staking.png'), fullPage: true });
  assert.deepEqual(errors, []);
});

test('with the node\'s access secret the page mines; without it, it says what is missing', async () => {
  await page.goto(`${NODE}/#/network`);
  // This node runs without networking: said in words, and mining still shows.
  await page.getByRole('heading', { name: 'Mining' }).waitFor();
  await page.getByText(/With the node's access secret/).waitFor();
  const access = page.getByLabel('Node access secret (jwt.hex)');
  await access.fill('not a secret');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText("The access secret is the 64 hex digits of the node's jwt.hex file.").waitFor();
  await access.fill(JWT_SECRET.toString('hex'));
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('private methods open to this tab').waitFor();
  const height = (await rpc('chain_getInfo')).height;
  const mine = page.locator('section').filter({ hasText: 'Mine now' });
  await mine.getByLabel('Blocks').fill('2');
  await mine.getByLabel(/^Paid to/).fill(MINER);
  await mine.getByRole('button', { name: 'Mine' }).click();
  await page.getByTestId('mined').getByText('Mined 2 block(s).').waitFor();
  assert.equal((await rpc('chain_getInfo')).height, height + 2);
  await mine.getByLabel('Blocks').fill('0');
  await mine.getByRole('button', { name: 'Mine' }).click();
  await mine.getByText('Mine 1 to 1,000 blocks at a time.').waitFor();
  await shot('network');

  await page.goto(`${NODE}/#/staking`);
  const schedule = page.locator('section').filter({ hasText: 'Schedule' });
  await schedule.getByRole('row').filter({ hasText: 'running' }).waitFor();
  const lookup = page.locator('section').filter({ hasText: 'Stake of an address' });
  await lookup.getByLabel('Address').fill(MINER);
  await lookup.getByRole('button', { name: 'Show its stake' }).click();
  await page.getByTestId('bonded').waitFor();
  assert.equal(await page.getByTestId('bonded').textContent(), '0 I8O');

  // The node's own wallets: listed, paid from with the password, a stuck payment bumped.
  await page.goto(`${NODE}/#/wallets`);
  await page.getByRole('heading', { name: 'On the node' }).waitFor();
  await page.getByRole('link', { name: 'miner', exact: true }).click();
  await page.waitForURL('**/#/node-wallet/miner');
  const minerBalance = await rpc('wallet_getBalance', ['miner']);
  await text(page, 'node-confirmed', i8o(BigInt(minerBalance.confirmed)));
  await page.getByLabel('Wallet password').fill('pw');
  await page.getByLabel('To address').fill(PAYEE);
  await page.getByLabel('Amount (I8O)').fill('2');
  await page.getByRole('button', { name: 'Send (signed by the node)' }).click();
  const nodeSent = page.getByTestId('node-sent');
  await nodeSent.getByText(/^Sent: /).waitFor();
  const first = (await nodeSent.getByRole('link').getAttribute('href')).split('/').pop();
  assert.equal((await rpc('tx_get', [first])).status.state, 'mempool');
  await page.getByLabel('New fee rate (units per byte)').fill('5');
  await page.getByRole('button', { name: 'Bump the fee' }).click();
  await nodeSent.getByText(/^Replaced by a payment paying [\d.]+ I8O: /).waitFor();
  const second = (await nodeSent.getByRole('link').getAttribute('href')).split('/').pop();
  assert.notEqual(second, first);
  const replacement = await rpc('tx_get', [second]);
  assert.equal(replacement.status.state, 'mempool');
  assert.equal(replacement.transaction.outputs.find((o) => o.value === 200_000_000) !== undefined, true);
  await assert.rejects(rpc('tx_get', [first]), /no transaction/);

  // Forgotten: read-only again.
  await access.fill('');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('read-only').waitFor();
  assert.deepEqual(errors, []);
});

test('on a phone-sized screen the dashboard fits the width', async () => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  await phone.goto(NODE);
  await phone.getByTestId('height').waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
  await phone.screenshot({ path: join(SHOTS, 'phone.png'), fullPage: true });
  await phone.close();
});
