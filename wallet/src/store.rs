//! A directory of wallet files, and the unlocked [`Wallet`] that derives keys.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use secp256k1::{PublicKey, SecretKey};

use i8o8i_primitives::signing_request::{KeyOrigin, SigningRequest};

use crate::error::{Result, WalletError};
use crate::hd::{
    self, ACCOUNT, COIN_TYPE, Chain, ChildNumber, DerivationPath, ExtendedPrivKey, ExtendedPubKey,
    HARDENED, PURPOSE,
};
use crate::keystore::{
    ChainXpub, Document, KdfParams, KeystoreFile, read_bytes, validate_name, write_atomic,
};
use crate::mnemonic::Mnemonic;
use crate::watch::{Policy, WalletAddress, WatchOnlyInfo};

/// A wallet file of either kind.
enum WalletFile {
    /// An HD wallet with its seed encrypted.
    Encrypted(Box<KeystoreFile>),
    /// A watch-only wallet ([`crate::watch`]).
    WatchOnly(WatchOnlyInfo),
}

impl WalletFile {
    /// Reads and parses the file of wallet `name` at `path`, of either kind.
    ///
    /// # Errors
    /// As [`KeystoreFile::read`], but a watch-only file is read too.
    fn read(path: &Path, name: &str) -> Result<Self> {
        Ok(match Document::parse(path, &read_bytes(path, name)?)? {
            Document::Encrypted(value) => {
                Self::Encrypted(Box::new(KeystoreFile::from_value(path, value, name)?))
            }
            Document::WatchOnly(value) => {
                Self::WatchOnly(WatchOnlyInfo::from_json(path, value, name)?)
            }
        })
    }
}

/// Extension of wallet files in a [`WalletStore`] directory.
const FILE_EXTENSION: &str = "json";

/// Held across every read-modify-write of a wallet file in this process, so that two updates
/// never interleave. Updates are rare and short (one small file written and synced), so one lock
/// for all files is simpler than a lock per file and costs little.
static FILE_UPDATES: Mutex<()> = Mutex::new(());

fn lock_file_updates() -> MutexGuard<'static, ()> {
    // The lock guards no data, so a panic while it was held leaves nothing inconsistent.
    FILE_UPDATES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A directory of wallet files, one `<name>.json` per wallet.
///
/// Within one process, every update of a wallet file ([`Wallet::next_key`],
/// [`Wallet::advance_to`], [`WalletStore::next_address`] and their shorthands) reads the file,
/// changes it and writes it back under one lock, so unlocked [`Wallet`]s and the locked
/// [`WalletStore::next_address`] can hand out addresses of the same wallet side by side: no index
/// is handed out twice and none is dropped from the file. There is no lock between processes:
/// let one process at a time own a store directory.
#[derive(Clone, Debug)]
pub struct WalletStore {
    dir: PathBuf,
}

impl WalletStore {
    /// A store in `dir`. The directory is created (mode 0700 on Unix) when the first wallet is.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of wallet `name`: `<dir>/<name>.json`.
    ///
    /// # Errors
    /// [`WalletError::InvalidName`].
    pub fn path_of(&self, name: &str) -> Result<PathBuf> {
        validate_name(name)?;
        Ok(self.dir.join(format!("{name}.{FILE_EXTENSION}")))
    }

    /// Whether a wallet named `name` exists.
    ///
    /// # Errors
    /// [`WalletError::InvalidName`]; [`WalletError::Io`] if the directory cannot be read.
    pub fn exists(&self, name: &str) -> Result<bool> {
        let path = self.path_of(name)?;
        path.try_exists().map_err(|e| WalletError::io(path, e))
    }

    /// The names of the wallets in the store, sorted. A missing directory holds no wallets; files
    /// whose names are not `<valid name>.json` are ignored.
    ///
    /// # Errors
    /// [`WalletError::Io`] if the directory cannot be read.
    pub fn list(&self) -> Result<Vec<String>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(WalletError::io(&self.dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| WalletError::io(&self.dir, e))?;
            let file_name = entry.file_name();
            let Some(name) = file_name
                .to_str()
                .and_then(|f| f.strip_suffix(FILE_EXTENSION))
                .and_then(|f| f.strip_suffix('.'))
            else {
                continue;
            };
            let is_file = entry
                .file_type()
                .map_err(|e| WalletError::io(entry.path(), e))?
                .is_file();
            if is_file && validate_name(name).is_ok() {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Creates wallet `name` from a fresh 24-word mnemonic, encrypted under `password` with
    /// Argon2id parameters `kdf`. Returns the unlocked wallet and the mnemonic, which the caller
    /// must show to the user once, for backup: the file holds only its encrypted entropy.
    ///
    /// # Errors
    /// [`WalletError::InvalidName`], [`WalletError::EmptyPassword`],
    /// [`WalletError::InvalidKdfParams`], [`WalletError::WalletExists`], [`WalletError::Io`],
    /// [`WalletError::Randomness`].
    pub fn create(&self, name: &str, password: &str, kdf: KdfParams) -> Result<(Wallet, Mnemonic)> {
        let mnemonic = Mnemonic::generate()?;
        let wallet = self.create_from(name, password, &mnemonic, kdf)?;
        Ok((wallet, mnemonic))
    }

    /// Creates wallet `name` from an existing mnemonic `phrase`, encrypted under `password` with
    /// Argon2id parameters `kdf`. Its indexes start at zero; a caller that scans the chain for
    /// used addresses records them with [`Wallet::advance_to`].
    ///
    /// # Errors
    /// As [`WalletStore::create`], and the mnemonic errors of [`Mnemonic::parse`].
    pub fn restore(
        &self,
        name: &str,
        password: &str,
        phrase: &str,
        kdf: KdfParams,
    ) -> Result<Wallet> {
        let mnemonic = Mnemonic::parse(phrase)?;
        self.create_from(name, password, &mnemonic, kdf)
    }

    fn create_from(
        &self,
        name: &str,
        password: &str,
        mnemonic: &Mnemonic,
        kdf: KdfParams,
    ) -> Result<Wallet> {
        let path = self.path_of(name)?;
        // Fail before the slow key derivation; the final link below is the race-free check.
        if self.exists(name)? {
            return Err(WalletError::WalletExists {
                name: name.to_owned(),
            });
        }
        let created_at = now();
        let (account, [receive_chain, change_chain]) = account_chains(mnemonic)?;
        let xpubs = [&receive_chain, &change_chain].map(|c| ChainXpub::of(&c.to_extended_pub()));
        let file =
            KeystoreFile::encrypt(name, password, kdf, &mnemonic.entropy(), created_at, xpubs)?;
        let wallet = Wallet {
            path,
            file,
            account,
            receive_chain,
            change_chain,
        };
        self.create_dir()?;
        let json = wallet
            .file
            .to_json()
            .map_err(|e| WalletError::io(&wallet.path, e.into()))?;
        write_atomic(&wallet.path, &json, true).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => WalletError::WalletExists {
                name: name.to_owned(),
            },
            _ => WalletError::io(&wallet.path, e),
        })?;
        Ok(wallet)
    }

    fn create_dir(&self) -> Result<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.dir)
            .map_err(|e| WalletError::io(&self.dir, e))
    }

    /// Unlocks wallet `name` with `password`.
    ///
    /// Argon2id runs once with the file's parameters (50 to 100 ms with the defaults on a 2-core
    /// x86-64 machine), then the extended public keys and the public keys stored in the file are
    /// checked against the keys the decrypted entropy derives.
    ///
    /// # Errors
    /// [`WalletError::InvalidName`], [`WalletError::WalletNotFound`],
    /// [`WalletError::WrongPassword`], [`WalletError::Corrupt`], [`WalletError::Io`].
    pub fn open(&self, name: &str, password: &str) -> Result<Wallet> {
        let path = self.path_of(name)?;
        let file = KeystoreFile::read(&path, name)?;
        let entropy = file.decrypt(&path, password)?;
        let mnemonic = Mnemonic::from_entropy(&entropy).map_err(|_| {
            WalletError::corrupt(
                &path,
                format!("decrypted entropy is {} bytes", entropy.len()),
            )
        })?;
        let (account, [receive_chain, change_chain]) = account_chains(&mnemonic)?;
        let wallet = Wallet {
            path,
            file,
            account,
            receive_chain,
            change_chain,
        };
        wallet.check_stored_keys()?;
        Ok(wallet)
    }

    /// The public view of wallet `name`, read without the password: its indexes and the public
    /// key of every address handed out so far.
    ///
    /// These keys are public data stored in clear and not authenticated until the wallet is
    /// opened: a process that can write the file can change them.
    ///
    /// # Errors
    /// [`WalletError::InvalidName`], [`WalletError::WalletNotFound`], [`WalletError::Corrupt`],
    /// [`WalletError::Io`].
    pub fn info(&self, name: &str) -> Result<WalletInfo> {
        let path = self.path_of(name)?;
        Ok(WalletInfo::of(&KeystoreFile::read(&path, name)?))
    }

    /// Hands out the next address on `chain` of wallet `name` without its password (the
    /// watch-only counterpart of [`Wallet::next_key`]): derives the public key at the chain's next
    /// index from the extended public key stored in the file (BIP32 public derivation), records it
    /// and the bumped index in the file, and returns it. It is the key that [`Wallet::next_key`]
    /// would have handed out. If the file cannot be written, the error is returned and nothing is
    /// handed out.
    ///
    /// Like [`WalletStore::info`], this trusts the public data in the file, which is not
    /// authenticated until the wallet is opened: a process that can write the file can make this
    /// hand out keys that are not the wallet's. [`WalletStore::open`] then fails with
    /// [`WalletError::Corrupt`].
    ///
    /// # Errors
    /// [`WalletError::InvalidName`], [`WalletError::WalletNotFound`], [`WalletError::Corrupt`],
    /// [`WalletError::Io`]; [`WalletError::IndexOutOfRange`] once all 2^31 indexes are used;
    /// [`WalletError::UnusableChildKey`] in the negligible case that the next index gives an
    /// invalid key (the unlocked wallet fails on it the same way).
    pub fn next_address(&self, name: &str, chain: Chain) -> Result<AddressKey> {
        let path = self.path_of(name)?;
        let _update = lock_file_updates();
        let mut file = KeystoreFile::read(&path, name)?;
        next_encrypted_address(&path, &mut file, chain)
    }

    /// Hands out the next address on `chain` of wallet `name`, of either kind: for an encrypted
    /// wallet what [`WalletStore::next_address`] hands out, for a watch-only wallet the next
    /// address of its [`Policy`], recorded in its file before it is returned.
    ///
    /// # Errors
    /// As [`WalletStore::next_address`], without [`WalletError::WatchOnly`].
    pub fn next_wallet_address(&self, name: &str, chain: Chain) -> Result<WalletAddress> {
        let path = self.path_of(name)?;
        let _update = lock_file_updates();
        match WalletFile::read(&path, name)? {
            WalletFile::Encrypted(mut file) => {
                Ok(next_encrypted_address(&path, &mut file, chain)?.wallet_address())
            }
            WalletFile::WatchOnly(mut info) => {
                let index = info.next_index(chain);
                let address = info.policy.address(chain, index)?;
                *info.next_index_mut(chain) += 1;
                write_json(&path, info.to_json(), false)?;
                Ok(address)
            }
        }
    }

    /// Creates watch-only wallet `name` for `policy`, with the addresses below `next_receive`
    /// and `next_change` already handed out (those a scan of the chain found used).
    ///
    /// # Errors
    /// [`WalletError::InvalidName`], [`WalletError::WalletExists`], [`WalletError::Io`];
    /// [`WalletError::IndexOutOfRange`] for an index above 2^31.
    pub fn import_watch_only(
        &self,
        name: &str,
        policy: Policy,
        next_receive: u32,
        next_change: u32,
    ) -> Result<WatchOnlyInfo> {
        let path = self.path_of(name)?;
        for next in [next_receive, next_change] {
            if next > HARDENED {
                return Err(WalletError::IndexOutOfRange { index: next.into() });
            }
        }
        let info = WatchOnlyInfo {
            name: name.to_owned(),
            created_at: now(),
            policy,
            next_receive_index: next_receive,
            next_change_index: next_change,
        };
        self.create_dir()?;
        write_json(&path, info.to_json(), true).map_err(|e| match e {
            WalletError::Io { source, .. } if source.kind() == io::ErrorKind::AlreadyExists => {
                WalletError::WalletExists {
                    name: name.to_owned(),
                }
            }
            other => other,
        })?;
        Ok(info)
    }

    /// What can be known of wallet `name` without a password, of either kind.
    ///
    /// # Errors
    /// [`WalletError::InvalidName`], [`WalletError::WalletNotFound`], [`WalletError::Corrupt`],
    /// [`WalletError::Io`].
    pub fn view(&self, name: &str) -> Result<WalletView> {
        let path = self.path_of(name)?;
        Ok(match WalletFile::read(&path, name)? {
            WalletFile::Encrypted(file) => WalletView::Encrypted(WalletInfo::of(&file)),
            WalletFile::WatchOnly(info) => WalletView::WatchOnly(info),
        })
    }

    /// [`WalletStore::next_address`] on the receive chain: a fresh address to give to a payer,
    /// without the password (as Bitcoin Core's `getnewaddress`).
    ///
    /// # Errors
    /// As [`WalletStore::next_address`].
    pub fn next_receive_address(&self, name: &str) -> Result<AddressKey> {
        self.next_address(name, Chain::Receive)
    }

    /// [`WalletStore::next_address`] on the change chain, without the password.
    ///
    /// # Errors
    /// As [`WalletStore::next_address`].
    pub fn next_change_address(&self, name: &str) -> Result<AddressKey> {
        self.next_address(name, Chain::Change)
    }
}

/// The number of keys handed out on a chain as its next index. Counts stay below 2^31; a larger
/// one saturates, and the derivation then fails with [`WalletError::IndexOutOfRange`].
fn index_of_count(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// The public key at `index` below a chain's extended public key (BIP32 `CKDpub`).
fn public_address_key(chain_xpub: &ChainXpub, index: u32) -> Result<PublicKey> {
    let (public_key, _chain_code) = hd::ckd_pub(
        &chain_xpub.public_key,
        &chain_xpub.chain_code,
        ChildNumber::normal(index)?,
    )?;
    Ok(public_key)
}

/// Hands out the next address on `chain` of the encrypted wallet `file` (see
/// [`WalletStore::next_address`]). Called with the file-update lock held.
fn next_encrypted_address(
    path: &Path,
    file: &mut KeystoreFile,
    chain: Chain,
) -> Result<AddressKey> {
    let index = index_of_count(file.pubkeys(chain).len());
    let public_key = public_address_key(file.xpub(chain), index)?.serialize();
    file.pubkeys_mut(chain).push(public_key);
    persist(path, file)?;
    Ok(AddressKey {
        chain,
        index,
        public_key,
    })
}

/// Writes `file` over `path` atomically.
fn persist(path: &Path, file: &KeystoreFile) -> Result<()> {
    write_json(path, file.to_json(), false)
}

/// Writes a file's JSON to `path` atomically, over an existing file or (with `create_new`)
/// only where none exists.
fn write_json(path: &Path, json: serde_json::Result<Vec<u8>>, create_new: bool) -> Result<()> {
    let json = json.map_err(|e| WalletError::io(path, e.into()))?;
    write_atomic(path, &json, create_new).map_err(|e| WalletError::io(path, e))
}

/// Seconds since the Unix epoch, for a new file's `created_at` (0 if the clock is before it).
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The account's extended public key `m/44'/8088'/0'`, and its receive and change chain keys,
/// `m/44'/8088'/0'/0` and `m/44'/8088'/0'/1`.
fn account_chains(mnemonic: &Mnemonic) -> Result<(ExtendedPubKey, [ExtendedPrivKey; 2])> {
    // Wallets use the empty BIP39 passphrase: the password protects the file, not the seed.
    let seed = mnemonic.to_seed("");
    let account = ExtendedPrivKey::new_master(seed.as_bytes())?
        .derive_path(&DerivationPath::account(ACCOUNT)?)?;
    Ok((
        account.to_extended_pub(),
        [
            account.derive_child(ChildNumber::normal(Chain::Receive.index())?)?,
            account.derive_child(ChildNumber::normal(Chain::Change.index())?)?,
        ],
    ))
}

/// An unlocked wallet: it holds the account's private chain keys in memory (wiped on drop) and
/// derives address keys on `m/44'/8088'/0'/<change>/<index>`.
pub struct Wallet {
    path: PathBuf,
    file: KeystoreFile,
    account: ExtendedPubKey,
    receive_chain: ExtendedPrivKey,
    change_chain: ExtendedPrivKey,
}

impl Wallet {
    fn chain_key(&self, chain: Chain) -> &ExtendedPrivKey {
        match chain {
            Chain::Receive => &self.receive_chain,
            Chain::Change => &self.change_chain,
        }
    }

    /// Checks the public data of the file against the keys derived from the decrypted seed.
    fn check_stored_keys(&self) -> Result<()> {
        for chain in [Chain::Receive, Chain::Change] {
            if *self.file.xpub(chain) != ChainXpub::of(&self.chain_key(chain).to_extended_pub()) {
                return Err(WalletError::corrupt(
                    &self.path,
                    format!("stored {chain:?} extended public key is not this wallet's key"),
                ));
            }
            self.check_keys(chain, 0, self.file.pubkeys(chain))?;
        }
        Ok(())
    }

    /// Checks that `keys` are this wallet's public keys at indexes `start..` on `chain`.
    fn check_keys(&self, chain: Chain, start: usize, keys: &[[u8; 33]]) -> Result<()> {
        for (index, stored) in (start..).zip(keys) {
            let index = index_of_count(index);
            if self.key(chain, index)?.public_key_bytes() != *stored {
                return Err(WalletError::corrupt(
                    &self.path,
                    format!("stored {chain:?} public key {index} is not this wallet's key"),
                ));
            }
        }
        Ok(())
    }

    /// Re-reads the file and adopts the public keys that another writer (the locked
    /// [`WalletStore::next_address`], or another `Wallet` of the same file) recorded since this
    /// wallet last read or wrote it, after checking them against this wallet's own keys, so that
    /// the update that follows neither hands them out again nor drops them. Called with the
    /// file-update lock held.
    fn refresh(&mut self) -> Result<()> {
        let on_disk = match KeystoreFile::read(&self.path, &self.file.name) {
            Ok(file) => file,
            // Nothing to adopt: the write that follows recreates the file or reports why not.
            Err(WalletError::WalletNotFound { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        if !on_disk.same_wallet(&self.file) {
            return Err(WalletError::corrupt(
                &self.path,
                "the file no longer holds the wallet that was opened from it",
            ));
        }
        let mut adopt = Vec::new();
        for chain in [Chain::Receive, Chain::Change] {
            let (known, stored) = (self.file.pubkeys(chain), on_disk.pubkeys(chain));
            let common = known.len().min(stored.len());
            if known[..common] != stored[..common] {
                // A key in the file differs from one this wallet checked or derived: find which.
                self.check_keys(chain, 0, &stored[..common])?;
            }
            if stored.len() > known.len() {
                self.check_keys(chain, common, &stored[common..])?;
                adopt.push((chain, stored[common..].to_vec()));
            }
            // A shorter list in the file lost keys to a stale writer: the write that follows
            // restores them from this wallet's list.
        }
        for (chain, keys) in adopt {
            self.file.pubkeys_mut(chain).extend(keys);
        }
        Ok(())
    }

    /// The wallet's name.
    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// The wallet's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When the wallet was created, in seconds since the Unix epoch.
    pub fn created_at(&self) -> u64 {
        self.file.created_at
    }

    /// The Argon2id parameters the file is encrypted with.
    pub fn kdf_params(&self) -> KdfParams {
        self.file.kdf
    }

    /// The index the next address on `chain` will have: one more than the last handed out, as of
    /// this wallet's last read or write of its file. If [`WalletStore::next_address`] handed out
    /// addresses since, [`Wallet::next_key`] sees them and continues after them.
    pub fn next_index(&self, chain: Chain) -> u32 {
        // Stored counts stay below 2^31 (see `advance_to`), so this never saturates.
        index_of_count(self.file.pubkeys(chain).len())
    }

    /// [`Wallet::next_index`] of the receive chain.
    pub fn next_receive_index(&self) -> u32 {
        self.next_index(Chain::Receive)
    }

    /// [`Wallet::next_index`] of the change chain.
    pub fn next_change_index(&self) -> u32 {
        self.next_index(Chain::Change)
    }

    /// The key at `index` on `chain`, whether or not it was handed out.
    ///
    /// # Errors
    /// [`WalletError::IndexOutOfRange`] if `index >= 2^31`.
    pub fn key(&self, chain: Chain, index: u32) -> Result<DerivedKey> {
        let xprv = self
            .chain_key(chain)
            .derive_child(ChildNumber::normal(index)?)?;
        Ok(DerivedKey {
            chain,
            index,
            secret_key: *xprv.secret_key(),
            public_key: xprv.public_key(),
        })
    }

    /// The receive key at `index`: `m/44'/8088'/0'/0/<index>`.
    ///
    /// # Errors
    /// [`WalletError::IndexOutOfRange`] if `index >= 2^31`.
    pub fn receive_key(&self, index: u32) -> Result<DerivedKey> {
        self.key(Chain::Receive, index)
    }

    /// The change key at `index`: `m/44'/8088'/0'/1/<index>`.
    ///
    /// # Errors
    /// [`WalletError::IndexOutOfRange`] if `index >= 2^31`.
    pub fn change_key(&self, index: u32) -> Result<DerivedKey> {
        self.key(Chain::Change, index)
    }

    /// Hands out the next key on `chain`: derives it, records its public key and the bumped index
    /// in the file, and returns it. If the file cannot be written, the key is not handed out and
    /// the error is returned, so an address is never handed out without being recorded.
    ///
    /// The file is re-read first: keys that [`WalletStore::next_address`] handed out meanwhile
    /// are checked against this wallet's derivation, adopted, and not handed out again.
    ///
    /// # Errors
    /// [`WalletError::IndexOutOfRange`] once all 2^31 indexes are used; [`WalletError::Io`];
    /// [`WalletError::Corrupt`] if the file now holds keys that are not this wallet's, or another
    /// wallet.
    pub fn next_key(&mut self, chain: Chain) -> Result<DerivedKey> {
        let _update = lock_file_updates();
        self.refresh()?;
        let index = self.next_index(chain);
        let key = self.key(chain, index)?;
        self.file.pubkeys_mut(chain).push(key.public_key_bytes());
        if let Err(e) = self.persist() {
            self.file.pubkeys_mut(chain).pop();
            return Err(e);
        }
        Ok(key)
    }

    /// [`Wallet::next_key`] on the receive chain: a fresh address to give to a payer.
    ///
    /// # Errors
    /// As [`Wallet::next_key`].
    pub fn next_receive(&mut self) -> Result<DerivedKey> {
        self.next_key(Chain::Receive)
    }

    /// [`Wallet::next_key`] on the change chain: a fresh key for a transaction's change output.
    ///
    /// # Errors
    /// As [`Wallet::next_key`].
    pub fn next_change(&mut self) -> Result<DerivedKey> {
        self.next_key(Chain::Change)
    }

    /// The keys at indexes `0..end` on `chain`, for scanning the chain (for example a gap-limit
    /// scan after [`WalletStore::restore`]). Nothing is recorded.
    ///
    /// # Errors
    /// [`WalletError::IndexOutOfRange`] if `end > 2^31`.
    pub fn keys_up_to(&self, chain: Chain, end: u32) -> Result<Vec<DerivedKey>> {
        if end > HARDENED {
            return Err(WalletError::IndexOutOfRange { index: end.into() });
        }
        (0..end).map(|index| self.key(chain, index)).collect()
    }

    /// Records every index below `next_index` on `chain` as handed out (storing their public
    /// keys), for instance after a scan found index `next_index - 1` used. Never lowers the index.
    /// Like [`Wallet::next_key`], it first adopts keys handed out meanwhile by
    /// [`WalletStore::next_address`].
    ///
    /// # Errors
    /// [`WalletError::IndexOutOfRange`] if `next_index > 2^31`; [`WalletError::Io`] (the indexes
    /// are then not advanced); [`WalletError::Corrupt`] as for [`Wallet::next_key`].
    pub fn advance_to(&mut self, chain: Chain, next_index: u32) -> Result<()> {
        if next_index > HARDENED {
            return Err(WalletError::IndexOutOfRange {
                index: next_index.into(),
            });
        }
        let _update = lock_file_updates();
        self.refresh()?;
        let old = self.next_index(chain);
        if next_index <= old {
            return Ok(());
        }
        let mut new_keys = Vec::new();
        for index in old..next_index {
            new_keys.push(self.key(chain, index)?.public_key_bytes());
        }
        self.file.pubkeys_mut(chain).extend(new_keys);
        if let Err(e) = self.persist() {
            self.file.pubkeys_mut(chain).truncate(old as usize);
            return Err(e);
        }
        Ok(())
    }

    /// The account's extended public key, `m/44'/8088'/0'`: what a cosigner's watch-only or
    /// multisig wallet imports ([`crate::Cosigner`]). It spends nothing but links every address
    /// of the wallet, past and future.
    pub fn account_xpub(&self) -> &ExtendedPubKey {
        &self.account
    }

    /// The public view: what [`WalletStore::info`] reads without the password, as of this
    /// wallet's last read or write of its file.
    pub fn info(&self) -> WalletInfo {
        WalletInfo::of(&self.file)
    }

    /// Signs what this wallet can sign of `request`: the inputs whose listed keys are this
    /// account's (the path names the key, the derived public key must be the listed one), and
    /// those locked by a key the wallet has handed out, whether or not the funder listed it
    /// (a P2PKH coin's key hash, a multisig coin's keys). Returns the signatures added.
    ///
    /// # Errors
    /// [`WalletError::Sign`] for a request asking for any hash type but `SIGHASH_ALL` (nothing
    /// signed), or whose signature hash cannot be computed; [`WalletError::Corrupt`] if
    /// deriving a key fails (a damaged file).
    pub fn sign_request(&self, request: &mut SigningRequest) -> Result<usize> {
        // The funder chose the hash types: any but ALL would let someone else change what
        // the signature pays (NONE: every output; SINGLE, ANYONECANPAY: the rest). A wallet
        // that does not trust its funder signs ALL only, as Bitcoin Core's signer defaults.
        if let Some((input, data)) = request
            .inputs
            .iter()
            .enumerate()
            .find(|(_, i)| i.hash_type != i8o8i_script_vm::SIGHASH_ALL)
        {
            return Err(WalletError::Sign(format!(
                "input {input} asks for signature hash type {:#04x}; this wallet signs \
                 SIGHASH_ALL only, which commits to every input and output",
                data.hash_type
            )));
        }
        let account = DerivationPath::account(ACCOUNT)?;
        let handed_out = self.info();
        let mut keys: Vec<(Chain, u32)> = Vec::new();
        for input in &request.inputs {
            for origin in &input.keys {
                let path = DerivationPath::from_raw(&origin.path)?;
                if let [prefix @ .., chain, index] = path.as_slice()
                    && prefix == account.as_slice()
                    && !index.is_hardened()
                {
                    let chain = match chain.to_raw() {
                        0 => Chain::Receive,
                        1 => Chain::Change,
                        _ => continue,
                    };
                    let key = self.key(chain, index.index())?;
                    if key.public_key_bytes() == origin.pubkey {
                        keys.push((chain, index.index()));
                    }
                }
            }
            let script = &input.spent.script_pubkey;
            for known in handed_out.keys() {
                let listed = input.keys.iter().any(|o| o.pubkey == known.public_key());
                let pays = *script == i8o8i_script_vm::templates::p2pkh(&known.pubkey_hash());
                let in_redeem = input.redeem_script.as_ref().is_some_and(|r| {
                    r.as_bytes()
                        .windows(33)
                        .any(|w| w == known.public_key().as_slice())
                });
                if listed || pays || in_redeem {
                    keys.push((known.chain(), known.index()));
                }
            }
        }
        keys.sort();
        keys.dedup();
        let mut signed = 0;
        for (chain, index) in keys {
            let key = self.key(chain, index)?;
            signed += request
                .sign_with(key.secret_key())
                .map_err(|e| WalletError::Sign(e.to_string()))?;
        }
        Ok(signed)
    }

    fn persist(&self) -> Result<()> {
        persist(&self.path, &self.file)
    }
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wallet")
            .field("name", &self.file.name)
            .field("path", &self.path)
            .field("next_receive_index", &self.next_receive_index())
            .field("next_change_index", &self.next_change_index())
            .finish_non_exhaustive()
    }
}

/// An address key derived by an unlocked [`Wallet`]: its secret key (wiped on drop, best effort)
/// and public key.
pub struct DerivedKey {
    chain: Chain,
    index: u32,
    secret_key: SecretKey,
    public_key: PublicKey,
}

impl DerivedKey {
    /// The chain the key is on.
    pub fn chain(&self) -> Chain {
        self.chain
    }

    /// The key's index on its chain.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The full path: `m/44'/8088'/0'/<change>/<index>`.
    pub fn path(&self) -> DerivationPath {
        address_path(self.chain, self.index)
    }

    /// The secret key, for signing.
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret_key
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.public_key
    }

    /// The 33-byte compressed public key.
    pub fn public_key_bytes(&self) -> [u8; 33] {
        self.public_key.serialize()
    }

    /// HASH160 (RIPEMD-160 of SHA-256) of the compressed public key: the P2PKH key hash.
    pub fn pubkey_hash(&self) -> [u8; 20] {
        i8o8i_script_vm::templates::hash160(&self.public_key_bytes())
    }

    /// The public part alone.
    pub fn address_key(&self) -> AddressKey {
        AddressKey {
            chain: self.chain,
            index: self.index,
            public_key: self.public_key_bytes(),
        }
    }
}

impl Drop for DerivedKey {
    fn drop(&mut self) {
        self.secret_key.non_secure_erase();
    }
}

impl fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DerivedKey")
            .field("path", &self.path().to_string())
            .field("public_key", &hex::encode(self.public_key_bytes()))
            .finish_non_exhaustive()
    }
}

/// The public key of one of a wallet's addresses, with where it sits in the account.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressKey {
    chain: Chain,
    index: u32,
    public_key: [u8; 33],
}

impl AddressKey {
    /// The chain the key is on.
    pub fn chain(&self) -> Chain {
        self.chain
    }

    /// The key's index on its chain.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The full path: `m/44'/8088'/0'/<change>/<index>`.
    pub fn path(&self) -> DerivationPath {
        address_path(self.chain, self.index)
    }

    /// The 33-byte compressed public key.
    pub fn public_key(&self) -> [u8; 33] {
        self.public_key
    }

    /// HASH160 of the compressed public key: the P2PKH key hash.
    pub fn pubkey_hash(&self) -> [u8; 20] {
        i8o8i_script_vm::templates::hash160(&self.public_key)
    }

    /// The key and its path, as a signing request names it.
    pub fn origin(&self) -> KeyOrigin {
        KeyOrigin {
            pubkey: self.public_key,
            path: self.path().to_raw(),
        }
    }

    /// Its P2PKH address, with the key as signer.
    pub fn wallet_address(&self) -> WalletAddress {
        WalletAddress::p2pkh(self.chain, self.index, self.origin())
    }
}

impl fmt::Debug for AddressKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AddressKey({} {})",
            self.path(),
            hex::encode(self.public_key)
        )
    }
}

/// What can be known of a wallet without its password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletInfo {
    name: String,
    created_at: u64,
    kdf: KdfParams,
    keys: Vec<AddressKey>,
    next_receive_index: u32,
    next_change_index: u32,
}

impl WalletInfo {
    fn of(file: &KeystoreFile) -> Self {
        let chain_keys = |chain: Chain, keys: &[[u8; 33]]| {
            (0u32..)
                .zip(keys)
                .map(move |(index, key)| AddressKey {
                    chain,
                    index,
                    public_key: *key,
                })
                .collect::<Vec<_>>()
        };
        let mut keys = chain_keys(Chain::Receive, &file.receive_pubkeys);
        keys.extend(chain_keys(Chain::Change, &file.change_pubkeys));
        Self {
            name: file.name.clone(),
            created_at: file.created_at,
            kdf: file.kdf,
            keys,
            next_receive_index: index_of_count(file.receive_pubkeys.len()),
            next_change_index: index_of_count(file.change_pubkeys.len()),
        }
    }

    /// The wallet's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When the wallet was created, in seconds since the Unix epoch.
    pub fn created_at(&self) -> u64 {
        self.created_at
    }

    /// The Argon2id parameters the file is encrypted with.
    pub fn kdf_params(&self) -> KdfParams {
        self.kdf
    }

    /// The next receive index (the number of receive addresses handed out).
    pub fn next_receive_index(&self) -> u32 {
        self.next_receive_index
    }

    /// The next change index (the number of change keys handed out).
    pub fn next_change_index(&self) -> u32 {
        self.next_change_index
    }

    /// Every address key handed out: receive keys by index, then change keys by index.
    pub fn keys(&self) -> &[AddressKey] {
        &self.keys
    }

    /// The P2PKH key hashes of [`WalletInfo::keys`], in the same order.
    pub fn pubkey_hashes(&self) -> Vec<[u8; 20]> {
        self.keys.iter().map(AddressKey::pubkey_hash).collect()
    }
}

/// What can be known of a wallet of either kind without a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalletView {
    /// An HD wallet whose seed the file keeps encrypted: it can sign once unlocked.
    Encrypted(WalletInfo),
    /// A watch-only wallet: it can only watch, hand out addresses and fund requests.
    WatchOnly(WatchOnlyInfo),
}

impl WalletView {
    /// Every address handed out: receive addresses by index, then change addresses.
    ///
    /// # Errors
    /// [`WalletError::UnusableChildKey`] in the negligible case that a watched key is invalid.
    pub fn addresses(&self) -> Result<Vec<WalletAddress>> {
        match self {
            Self::Encrypted(info) => {
                Ok(info.keys().iter().map(AddressKey::wallet_address).collect())
            }
            Self::WatchOnly(info) => info.addresses(),
        }
    }

    /// The next index on `chain`.
    pub fn next_index(&self, chain: Chain) -> u32 {
        match (self, chain) {
            (Self::Encrypted(info), Chain::Receive) => info.next_receive_index(),
            (Self::Encrypted(info), Chain::Change) => info.next_change_index(),
            (Self::WatchOnly(info), chain) => info.next_index(chain),
        }
    }
}

fn address_path(chain: Chain, index: u32) -> DerivationPath {
    // Indexes of derived keys are below 2^31 by construction, so every step is a valid child.
    DerivationPath::from_children(vec![
        ChildNumber::from_raw(PURPOSE | HARDENED),
        ChildNumber::from_raw(COIN_TYPE | HARDENED),
        ChildNumber::from_raw(ACCOUNT | HARDENED),
        ChildNumber::from_raw(chain.index()),
        ChildNumber::from_raw(index),
    ])
}

#[cfg(test)]
mod tests;
