//! The wallet file: BIP39 entropy encrypted at rest, plus public bookkeeping in clear.
//!
//! The entropy (never the phrase text) is encrypted with XChaCha20-Poly1305 under a 32-byte key
//! that Argon2id derives from the password, a random 16-byte salt and the [`KdfParams`] stored in
//! the file; the nonce is a random 24 bytes. The associated data is
//! `"i8o8i-wallet v<version> <name>"`, so a file copied under another wallet's name does not
//! decrypt. A version 2 file is JSON:
//!
//! ```json
//! {
//!   "version": 2,
//!   "name": "alice",
//!   "kdf": { "algorithm": "argon2id", "m_cost": 19456, "t_cost": 2, "p_cost": 1, "salt": "<16 bytes hex>" },
//!   "cipher": { "algorithm": "xchacha20poly1305", "nonce": "<24 bytes hex>" },
//!   "ciphertext": "<entropy + 16-byte tag, hex>",
//!   "next_receive_index": 2,
//!   "next_change_index": 0,
//!   "created_at": 1767225600,
//!   "receive_xpub": { "public_key": "<33-byte compressed key hex>", "chain_code": "<32 bytes hex>" },
//!   "change_xpub": { "public_key": "<33-byte compressed key hex>", "chain_code": "<32 bytes hex>" },
//!   "receive_pubkeys": ["<33-byte compressed key hex, index 0>", "<index 1>"],
//!   "change_pubkeys": []
//! }
//! ```
//!
//! `receive_pubkeys` / `change_pubkeys` hold the public key of every address handed out so far
//! (one per index below the matching `next_*_index`), so balances can be looked up without the
//! password.
//!
//! `receive_xpub` / `change_xpub` are the extended public keys (public key and chain code, as in
//! an `xpub`) of the account's chain keys `m/44'/8088'/0'/0` and `m/44'/8088'/0'/1`. With them a
//! locked wallet derives new addresses ([`crate::WalletStore::next_receive_address`]). They are
//! watch-only material: they cannot spend, but whoever reads the file can derive every address
//! the wallet will ever use, on both chains, and so link its payments. Treat the file as
//! privacy-sensitive even though the seed in it is encrypted.
//!
//! None of the public fields is authenticated by the cipher: a process that can write the file
//! can change them, and a locked reader cannot tell. Unlocking a wallet re-derives the extended
//! public keys and every stored public key from the decrypted seed and reports any mismatch as
//! [`WalletError::Corrupt`].
//!
//! Version 1 files (without the extended public keys) are not read: this crate reads and writes
//! version 2 only. A version 2 file with `"kind": "watch-only"` is a watch-only wallet
//! ([`crate::watch`]), which has no seed; an encrypted wallet's file has no `kind`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Version};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use secp256k1::PublicKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Result, WalletError};
use crate::hd::{Chain, ExtendedPubKey};

/// The file format version this crate reads and writes.
pub const FILE_VERSION: u32 = 2;

/// Longest wallet name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Largest wallet file this crate will read (it is mostly public keys: about 76 bytes each).
const MAX_FILE_LEN: u64 = 64 * 1024 * 1024;

const KDF_ALGORITHM: &str = "argon2id";
const CIPHER_ALGORITHM: &str = "xchacha20poly1305";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const PUBKEY_LEN: usize = 33;
const CHAIN_CODE_LEN: usize = 32;

/// Argon2id cost parameters, stored in each wallet file so they can be raised for new wallets
/// without breaking old ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub m_cost: u32,
    /// Number of passes.
    pub t_cost: u32,
    /// Degree of parallelism (lanes).
    pub p_cost: u32,
}

impl KdfParams {
    /// The OWASP Password Storage Cheat Sheet's Argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    pub const OWASP: Self = Self {
        m_cost: 19_456,
        t_cost: 2,
        p_cost: 1,
    };

    /// Most memory a wallet file may ask for: 4 GiB, in KiB. A larger value in a file is treated
    /// as corruption rather than an invitation to exhaust memory.
    pub const MAX_M_COST: u32 = 4 * 1024 * 1024;

    /// Most passes a wallet file may ask for.
    pub const MAX_T_COST: u32 = 100;

    /// Most lanes a wallet file may ask for.
    pub const MAX_P_COST: u32 = 64;

    /// The cheapest parameters Argon2 accepts (8 KiB, 1 pass, 1 lane), for unit tests only: a
    /// wallet encrypted with them falls to a password guesser at once.
    pub const fn insecure_for_tests() -> Self {
        Self {
            m_cost: 8,
            t_cost: 1,
            p_cost: 1,
        }
    }

    /// Checks the parameters against Argon2's minimums and this crate's maximums.
    fn argon2_params(&self) -> std::result::Result<argon2::Params, String> {
        if self.m_cost > Self::MAX_M_COST {
            return Err(format!(
                "m_cost {} KiB exceeds {} KiB",
                self.m_cost,
                Self::MAX_M_COST
            ));
        }
        if self.t_cost > Self::MAX_T_COST {
            return Err(format!(
                "t_cost {} exceeds {}",
                self.t_cost,
                Self::MAX_T_COST
            ));
        }
        if self.p_cost > Self::MAX_P_COST {
            return Err(format!(
                "p_cost {} exceeds {}",
                self.p_cost,
                Self::MAX_P_COST
            ));
        }
        argon2::Params::new(self.m_cost, self.t_cost, self.p_cost, Some(32)).map_err(|e| {
            format!(
                "argon2id rejects m_cost {} KiB, t_cost {}, p_cost {}: {e}",
                self.m_cost, self.t_cost, self.p_cost
            )
        })
    }
}

impl Default for KdfParams {
    /// [`KdfParams::OWASP`].
    fn default() -> Self {
        Self::OWASP
    }
}

/// Checks that `name` can name a wallet: 1 to 64 characters from `A-Z a-z 0-9 _ -`. Names become
/// file names, so anything that could leave the wallet directory (`..`, `/`) is refused.
///
/// # Errors
/// [`WalletError::InvalidName`].
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(WalletError::InvalidName {
            name: name.to_owned(),
        })
    }
}

/// The public key and chain code of one of the account's chain keys, as stored in the file:
/// watch-only material that derives every address on that chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChainXpub {
    pub(crate) public_key: PublicKey,
    pub(crate) chain_code: [u8; CHAIN_CODE_LEN],
}

impl ChainXpub {
    /// The stored part of an extended public key (its depth, parent fingerprint and child number
    /// are fixed by the account layout and not stored).
    pub(crate) fn of(xpub: &ExtendedPubKey) -> Self {
        Self {
            public_key: xpub.public_key,
            chain_code: xpub.chain_code,
        }
    }
}

/// A parsed, checked wallet file.
#[derive(Clone)]
pub(crate) struct KeystoreFile {
    pub(crate) name: String,
    pub(crate) kdf: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
    pub(crate) created_at: u64,
    pub(crate) receive_xpub: ChainXpub,
    pub(crate) change_xpub: ChainXpub,
    pub(crate) receive_pubkeys: Vec<[u8; PUBKEY_LEN]>,
    pub(crate) change_pubkeys: Vec<[u8; PUBKEY_LEN]>,
}

/// The JSON layout of a version 2 file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileV2 {
    version: u32,
    name: String,
    kdf: KdfSection,
    cipher: CipherSection,
    ciphertext: String,
    next_receive_index: u32,
    next_change_index: u32,
    created_at: u64,
    receive_xpub: XpubSection,
    change_xpub: XpubSection,
    receive_pubkeys: Vec<String>,
    change_pubkeys: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct XpubSection {
    public_key: String,
    chain_code: String,
}

impl XpubSection {
    fn of(xpub: &ChainXpub) -> Self {
        Self {
            public_key: hex::encode(xpub.public_key.serialize()),
            chain_code: hex::encode(xpub.chain_code),
        }
    }

    fn decode(&self, chain: &str) -> std::result::Result<ChainXpub, String> {
        let key = decode_fixed::<PUBKEY_LEN>(&self.public_key)
            .map_err(|e| format!("{chain}_xpub public key: {e}"))?;
        let public_key = PublicKey::from_byte_array_compressed(key)
            .map_err(|_| format!("{chain}_xpub public key is not a compressed secp256k1 point"))?;
        let chain_code = decode_fixed::<CHAIN_CODE_LEN>(&self.chain_code)
            .map_err(|e| format!("{chain}_xpub chain code: {e}"))?;
        Ok(ChainXpub {
            public_key,
            chain_code,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfSection {
    algorithm: String,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CipherSection {
    algorithm: String,
    nonce: String,
}

fn associated_data(name: &str) -> Vec<u8> {
    format!("i8o8i-wallet v{FILE_VERSION} {name}").into_bytes()
}

fn derive_key(
    password: &str,
    salt: &[u8; SALT_LEN],
    kdf: &KdfParams,
) -> std::result::Result<Zeroizing<[u8; 32]>, String> {
    let params = kdf.argon2_params()?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, key.as_mut_slice())
        .map_err(|e| format!("argon2id failed: {e}"))?;
    Ok(key)
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| WalletError::Randomness {
        reason: e.to_string(),
    })?;
    Ok(bytes)
}

impl KeystoreFile {
    /// Encrypts `entropy` for wallet `name` under `password`, with a fresh salt and nonce, beside
    /// the chain keys' extended public keys (which the caller derives from the same entropy).
    pub(crate) fn encrypt(
        name: &str,
        password: &str,
        kdf: KdfParams,
        entropy: &[u8],
        created_at: u64,
        [receive_xpub, change_xpub]: [ChainXpub; 2],
    ) -> Result<Self> {
        validate_name(name)?;
        if password.is_empty() {
            return Err(WalletError::EmptyPassword);
        }
        let salt = random_bytes::<SALT_LEN>()?;
        let nonce = random_bytes::<NONCE_LEN>()?;
        let key = derive_key(password, &salt, &kdf)
            .map_err(|reason| WalletError::InvalidKdfParams { reason })?;
        let cipher = XChaCha20Poly1305::new((&*key).into());
        let aad = associated_data(name);
        let ciphertext = cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: entropy,
                    aad: &aad,
                },
            )
            // XChaCha20-Poly1305 fails only on messages of 256 GiB and more.
            .map_err(|_| WalletError::EntropyLength { got: entropy.len() })?;
        Ok(Self {
            name: name.to_owned(),
            kdf,
            salt,
            nonce,
            ciphertext,
            created_at,
            receive_xpub,
            change_xpub,
            receive_pubkeys: Vec::new(),
            change_pubkeys: Vec::new(),
        })
    }

    /// The stored extended public key of `chain`.
    pub(crate) fn xpub(&self, chain: Chain) -> &ChainXpub {
        match chain {
            Chain::Receive => &self.receive_xpub,
            Chain::Change => &self.change_xpub,
        }
    }

    /// The public keys handed out on `chain`, by index.
    pub(crate) fn pubkeys(&self, chain: Chain) -> &Vec<[u8; PUBKEY_LEN]> {
        match chain {
            Chain::Receive => &self.receive_pubkeys,
            Chain::Change => &self.change_pubkeys,
        }
    }

    /// [`KeystoreFile::pubkeys`], mutably.
    pub(crate) fn pubkeys_mut(&mut self, chain: Chain) -> &mut Vec<[u8; PUBKEY_LEN]> {
        match chain {
            Chain::Receive => &mut self.receive_pubkeys,
            Chain::Change => &mut self.change_pubkeys,
        }
    }

    /// Whether `other` holds the same wallet: everything but the handed-out public keys agrees.
    pub(crate) fn same_wallet(&self, other: &Self) -> bool {
        self.name == other.name
            && self.kdf == other.kdf
            && self.salt == other.salt
            && self.nonce == other.nonce
            && self.ciphertext == other.ciphertext
            && self.created_at == other.created_at
            && self.receive_xpub == other.receive_xpub
            && self.change_xpub == other.change_xpub
    }

    /// Decrypts the entropy.
    ///
    /// # Errors
    /// [`WalletError::WrongPassword`] if the cipher rejects it (wrong password or modified data);
    /// [`WalletError::Corrupt`] if the parameters cannot be used.
    pub(crate) fn decrypt(&self, path: &Path, password: &str) -> Result<Zeroizing<Vec<u8>>> {
        let key = derive_key(password, &self.salt, &self.kdf)
            .map_err(|reason| WalletError::corrupt(path, reason))?;
        let cipher = XChaCha20Poly1305::new((&*key).into());
        let aad = associated_data(&self.name);
        cipher
            .decrypt(
                (&self.nonce).into(),
                Payload {
                    msg: &self.ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| WalletError::WrongPassword)
    }

    /// The file's JSON text.
    pub(crate) fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        let hex_keys = |keys: &[[u8; PUBKEY_LEN]]| keys.iter().map(hex::encode).collect();
        let file = FileV2 {
            version: FILE_VERSION,
            name: self.name.clone(),
            kdf: KdfSection {
                algorithm: KDF_ALGORITHM.to_owned(),
                m_cost: self.kdf.m_cost,
                t_cost: self.kdf.t_cost,
                p_cost: self.kdf.p_cost,
                salt: hex::encode(self.salt),
            },
            cipher: CipherSection {
                algorithm: CIPHER_ALGORITHM.to_owned(),
                nonce: hex::encode(self.nonce),
            },
            ciphertext: hex::encode(&self.ciphertext),
            next_receive_index: index_of_len(self.receive_pubkeys.len()),
            next_change_index: index_of_len(self.change_pubkeys.len()),
            created_at: self.created_at,
            receive_xpub: XpubSection::of(&self.receive_xpub),
            change_xpub: XpubSection::of(&self.change_xpub),
            receive_pubkeys: hex_keys(&self.receive_pubkeys),
            change_pubkeys: hex_keys(&self.change_pubkeys),
        };
        let mut json = serde_json::to_vec_pretty(&file)?;
        json.push(b'\n');
        Ok(json)
    }

    /// Parses and checks the file at `path`, which must belong to wallet `expected_name`.
    ///
    /// # Errors
    /// [`WalletError::Corrupt`] for anything this crate would not have written.
    pub(crate) fn from_json(path: &Path, bytes: &[u8], expected_name: &str) -> Result<Self> {
        match Document::parse(path, bytes)? {
            Document::Encrypted(value) => Self::from_value(path, value, expected_name),
            Document::WatchOnly(_) => Err(WalletError::WatchOnly {
                name: expected_name.to_owned(),
            }),
        }
    }

    /// [`KeystoreFile::from_json`] of a parsed version 2 document without a `kind`.
    pub(crate) fn from_value(
        path: &Path,
        value: serde_json::Value,
        expected_name: &str,
    ) -> Result<Self> {
        let corrupt = |reason: String| WalletError::corrupt(path, reason);
        let file: FileV2 = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
        if file.name != expected_name {
            return Err(corrupt(format!(
                "file is for wallet {:?}, not {expected_name:?}",
                file.name
            )));
        }
        if file.kdf.algorithm != KDF_ALGORITHM {
            return Err(corrupt(format!(
                "unknown kdf algorithm {:?}",
                file.kdf.algorithm
            )));
        }
        if file.cipher.algorithm != CIPHER_ALGORITHM {
            return Err(corrupt(format!(
                "unknown cipher algorithm {:?}",
                file.cipher.algorithm
            )));
        }
        let kdf = KdfParams {
            m_cost: file.kdf.m_cost,
            t_cost: file.kdf.t_cost,
            p_cost: file.kdf.p_cost,
        };
        kdf.argon2_params().map_err(corrupt)?;
        let salt =
            decode_fixed::<SALT_LEN>(&file.kdf.salt).map_err(|e| corrupt(format!("salt: {e}")))?;
        let nonce = decode_fixed::<NONCE_LEN>(&file.cipher.nonce)
            .map_err(|e| corrupt(format!("nonce: {e}")))?;
        let ciphertext =
            hex::decode(&file.ciphertext).map_err(|e| corrupt(format!("ciphertext: {e}")))?;
        if !matches!(
            ciphertext.len().checked_sub(TAG_LEN),
            Some(16 | 20 | 24 | 28 | 32)
        ) {
            return Err(corrupt(format!(
                "ciphertext is {} bytes; expected 16 to 32 bytes of entropy plus a 16-byte tag",
                ciphertext.len()
            )));
        }
        let receive_xpub = file.receive_xpub.decode("receive").map_err(corrupt)?;
        let change_xpub = file.change_xpub.decode("change").map_err(corrupt)?;
        let receive_pubkeys =
            decode_pubkeys(&file.receive_pubkeys, file.next_receive_index, "receive")
                .map_err(corrupt)?;
        let change_pubkeys = decode_pubkeys(&file.change_pubkeys, file.next_change_index, "change")
            .map_err(corrupt)?;
        Ok(Self {
            name: file.name,
            kdf,
            salt,
            nonce,
            ciphertext,
            created_at: file.created_at,
            receive_xpub,
            change_xpub,
            receive_pubkeys,
            change_pubkeys,
        })
    }

    /// Reads and parses the encrypted wallet `name` at `path`.
    ///
    /// # Errors
    /// [`WalletError::WalletNotFound`] if there is no such file; [`WalletError::WatchOnly`] if
    /// it is a watch-only wallet's; [`WalletError::Io`]; [`WalletError::Corrupt`].
    pub(crate) fn read(path: &Path, name: &str) -> Result<Self> {
        Self::from_json(path, &read_bytes(path, name)?, name)
    }
}

/// The `kind` of a watch-only wallet's file ([`crate::watch`]); an encrypted wallet's has none.
pub(crate) const WATCH_ONLY_KIND: &str = "watch-only";

/// A wallet file's JSON with its version checked, by kind.
pub(crate) enum Document {
    /// No `kind`: an HD wallet with its seed encrypted ([`KeystoreFile`]).
    Encrypted(serde_json::Value),
    /// `"kind": "watch-only"` ([`crate::watch`]).
    WatchOnly(serde_json::Value),
}

impl Document {
    /// Parses `bytes` as JSON of this crate's file version and tells the kinds apart.
    ///
    /// # Errors
    /// [`WalletError::Corrupt`]: not JSON, another version, an unknown kind.
    pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let corrupt = |reason: String| WalletError::corrupt(path, reason);
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not JSON: {e}")))?;
        match value.get("version").map(serde_json::Value::as_u64) {
            Some(Some(v)) if v == u64::from(FILE_VERSION) => {}
            Some(Some(v)) => return Err(corrupt(format!("unsupported wallet file version {v}"))),
            Some(None) => return Err(corrupt("version is not a number".to_owned())),
            None => return Err(corrupt("no version field".to_owned())),
        }
        match value.get("kind").map(serde_json::Value::as_str) {
            None => Ok(Self::Encrypted(value)),
            Some(Some(WATCH_ONLY_KIND)) => Ok(Self::WatchOnly(value)),
            Some(kind) => Err(corrupt(format!("unknown wallet kind {kind:?}"))),
        }
    }
}

/// The bytes of wallet `name`'s file at `path`, at most [`MAX_FILE_LEN`] of them.
pub(crate) fn read_bytes(path: &Path, name: &str) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => WalletError::WalletNotFound {
            name: name.to_owned(),
        },
        _ => WalletError::io(path, e),
    })?;
    let mut bytes = Vec::new();
    // Read one byte past the limit to tell a file at the limit from a longer one.
    file.take(MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| WalletError::io(path, e))?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(WalletError::corrupt(
            path,
            format!("larger than {MAX_FILE_LEN} bytes"),
        ));
    }
    Ok(bytes)
}

/// A public-key count as a `next_*_index` (counts never reach 2^31: indexes stop below it).
fn index_of_len(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn decode_fixed<const N: usize>(text: &str) -> std::result::Result<[u8; N], String> {
    let bytes = hex::decode(text).map_err(|e| e.to_string())?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{} bytes; expected {N}", bytes.len()))
}

fn decode_pubkeys(
    keys: &[String],
    next_index: u32,
    chain: &str,
) -> std::result::Result<Vec<[u8; PUBKEY_LEN]>, String> {
    if keys.len() != next_index as usize {
        return Err(format!(
            "next_{chain}_index is {next_index} but {} {chain} public keys are stored",
            keys.len()
        ));
    }
    keys.iter()
        .enumerate()
        .map(|(i, text)| {
            let key = decode_fixed::<PUBKEY_LEN>(text)
                .map_err(|e| format!("{chain} public key {i}: {e}"))?;
            PublicKey::from_byte_array_compressed(key).map_err(|_| {
                format!("{chain} public key {i} is not a compressed secp256k1 point")
            })?;
            Ok(key)
        })
        .collect()
}

/// Writes `bytes` to `dest` atomically: a sibling `<dest>.tmp` is written (mode 0600 on Unix),
/// synced, then renamed over `dest` (or, with `create_new`, linked to `dest` only if `dest` does
/// not exist, which fails with [`io::ErrorKind::AlreadyExists`] otherwise). A crash leaves either
/// the old file or the new one, never a mix.
pub(crate) fn write_atomic(dest: &Path, bytes: &[u8], create_new: bool) -> io::Result<()> {
    // A temporary file of this writer alone: with one shared name, two concurrent writers of
    // one wallet removed or linked each other's file (a created wallet could hold the other
    // creator's seed).
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut tmp = dest.as_os_str().to_owned();
    tmp.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let tmp = PathBuf::from(tmp);
    #[cfg(test)]
    if tests::FAIL_NEXT_WRITE.with(|f| f.replace(false)) {
        return Err(io::Error::other("injected write failure"));
    }
    let result = write_tmp(&tmp, bytes).and_then(|()| {
        if create_new {
            link_new(&tmp, dest)
        } else {
            fs::rename(&tmp, dest)
        }
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_parent(dest)
}

fn write_tmp(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(tmp)?;
    // The umask can only clear bits; set the mode exactly anyway.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Moves `tmp` to `dest` unless `dest` exists, atomically where hard links are supported.
fn link_new(tmp: &Path, dest: &Path) -> io::Result<()> {
    match fs::hard_link(tmp, dest) {
        Ok(()) => fs::remove_file(tmp),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        // No hard links on this file system: check, then rename (racy only between processes).
        Err(_) => {
            if dest.try_exists()? {
                Err(io::Error::from(io::ErrorKind::AlreadyExists))
            } else {
                fs::rename(tmp, dest)
            }
        }
    }
}

/// Syncs the directory holding `path`, so a rename survives a power cut (Unix only).
fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
