/**
 * Browser wallets kept in this browser only: the recovery phrase encrypted with the user's
 * password — Argon2id with the node keystore's parameters (OWASP's 19 MiB, 2 passes; the SDK's
 * `argon2idKey`) makes an AES-256-GCM key for WebCrypto — in IndexedDB. Neither the phrase nor
 * a key is ever sent to the node; the node sees addresses and signed transactions.
 *
 * Wallets stored before Argon2id (no `kdf` field) were sealed with WebCrypto's PBKDF2-SHA256 at
 * 600,000 iterations; they still open, and are sealed again with Argon2id when they do.
 */
import { ARGON2_OWASP, type Argon2Params, HdWallet, argon2idKey, normalizeMnemonic } from '@i8o8icoin/sdk';

const DB = 'i8o8icoin';
const STORE = 'wallets';
/** PBKDF2 iterations of wallets stored before Argon2id. */
const PBKDF2_ITERATIONS = 600_000;

/** A wallet as stored: public facts in the clear, the phrase sealed. */
export interface StoredWallet {
  name: string;
  /** The chain it belongs to (`chain_getInfo`'s genesis). */
  genesis: string;
  /** Receive / change addresses handed out (indexes below these are the wallet's). */
  receive: number;
  change: number;
  /** How the password became the key (absent: PBKDF2-SHA256, see above). */
  kdf?: { algorithm: 'argon2id' } & Argon2Params;
  salt: Uint8Array;
  iv: Uint8Array;
  sealed: Uint8Array;
  /** Transactions this browser sent, newest last. */
  sent: { txid: string; to: string; amount: number; fee: number; time: number }[];
}

/** Why a wallet operation was refused, in words for the user. */
export class WalletError extends Error {}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'name' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new WalletError(`this browser's storage cannot be opened: ${request.error?.message ?? 'unknown error'}`));
  });
}

async function run<T>(mode: IDBTransactionMode, f: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = f(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(new WalletError(`this browser's storage failed: ${request.error?.message ?? 'unknown error'}`));
    });
  } finally {
    db.close();
  }
}

/** The wallets of chain `genesis`, by name. */
export async function listWallets(genesis: string): Promise<StoredWallet[]> {
  const all = await run('readonly', (s) => s.getAll() as IDBRequest<StoredWallet[]>);
  return all.filter((w) => w.genesis === genesis).sort((a, b) => a.name.localeCompare(b.name));
}

export async function loadWallet(name: string): Promise<StoredWallet> {
  const found = await run('readonly', (s) => s.get(name) as IDBRequest<StoredWallet | undefined>);
  if (!found) throw new WalletError(`There is no wallet "${name}" in this browser.`);
  return found;
}

export function saveWallet(wallet: StoredWallet): Promise<IDBValidKey> {
  return run('readwrite', (s) => s.put(wallet));
}

/** The AES-GCM key `password` makes for `wallet`'s salt and key derivation. */
async function keyFor(password: string, wallet: Pick<StoredWallet, 'kdf' | 'salt'>): Promise<CryptoKey> {
  if (wallet.kdf) {
    const raw = await argon2idKey(password, wallet.salt, wallet.kdf);
    return crypto.subtle.importKey('raw', raw as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt']);
  }
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: wallet.salt as BufferSource, iterations: PBKDF2_ITERATIONS },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** `phrase` sealed under `password` with a fresh salt and nonce and today's key derivation. */
async function seal(password: string, phrase: string): Promise<Pick<StoredWallet, 'kdf' | 'salt' | 'iv' | 'sealed'>> {
  const fresh = { kdf: { algorithm: 'argon2id' as const, ...ARGON2_OWASP }, salt: crypto.getRandomValues(new Uint8Array(16)) };
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: iv as BufferSource }, await keyFor(password, fresh), new TextEncoder().encode(phrase)));
  return { ...fresh, iv, sealed };
}

/** Checks a new wallet's name and password; throws {@link WalletError}. */
function checkNew(name: string, password: string): void {
  if (!/^[\w.-]{1,40}$/.test(name)) throw new WalletError('A wallet name is 1 to 40 letters, digits, dots, dashes or underscores.');
  if (password.length < 8) throw new WalletError('Use a password of at least 8 characters: it is all that protects the keys in this browser.');
}

/**
 * Seals `phrase` under `password` and stores a new wallet `name` of chain `genesis`. Throws
 * {@link WalletError} for a bad name, a short password, a phrase that is not BIP39, or a name
 * already taken.
 */
export async function createWallet(name: string, password: string, phrase: string, genesis: string): Promise<StoredWallet> {
  checkNew(name, password);
  let normalized: string;
  try {
    normalized = normalizeMnemonic(phrase);
    HdWallet.fromMnemonic(normalized);
  } catch {
    throw new WalletError('That is not a valid recovery phrase: check each word and the word count (12, 15, 18, 21 or 24).');
  }
  const existing = await run('readonly', (s) => s.get(name) as IDBRequest<StoredWallet | undefined>);
  if (existing) throw new WalletError(`A wallet named "${name}" already exists in this browser.`);
  const wallet: StoredWallet = { name, genesis, receive: 1, change: 0, ...(await seal(password, normalized)), sent: [] };
  await saveWallet(wallet);
  return wallet;
}

/** The wallet's keys, if `password` is its password; throws {@link WalletError} otherwise. */
export async function unlock(wallet: StoredWallet, password: string): Promise<HdWallet> {
  const key = await keyFor(password, wallet).catch((error: unknown) => {
    throw new WalletError(`This wallet's stored key settings are damaged (${(error as Error).message}); restore it from its recovery phrase.`);
  });
  let phrase: ArrayBuffer;
  try {
    phrase = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: wallet.iv as BufferSource }, key, wallet.sealed as BufferSource);
  } catch {
    throw new WalletError('Wrong password.');
  }
  const text = new TextDecoder().decode(phrase);
  if (!wallet.kdf) {
    // Sealed before Argon2id: sealed again with it, now that the password is known.
    Object.assign(wallet, await seal(password, text));
    await saveWallet(wallet);
  }
  return HdWallet.fromMnemonic(text);
}

export function deleteWallet(name: string): Promise<undefined> {
  return run('readwrite', (s) => s.delete(name) as IDBRequest<undefined>);
}
