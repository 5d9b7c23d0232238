//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in key management and in the wallet files.
///
/// Messages never contain secret material: a mnemonic error names the position of a bad word, not
/// the word; a decryption failure says nothing about the plaintext.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// A mnemonic phrase does not have 12, 15, 18, 21 or 24 words.
    #[error("mnemonic has {got} words; expected 12, 15, 18, 21 or 24")]
    MnemonicWordCount {
        /// How many words the phrase had.
        got: usize,
    },
    /// A word of a mnemonic phrase is not in the BIP39 English word list.
    #[error("mnemonic word {position} is not in the BIP39 English word list")]
    MnemonicUnknownWord {
        /// 1-based position of the first unknown word.
        position: usize,
    },
    /// The words of a mnemonic phrase are all known, but its checksum does not match: a word is
    /// wrong or the words are out of order.
    #[error("mnemonic checksum does not match: a word is wrong or out of order")]
    MnemonicChecksum,
    /// BIP39 entropy must be 16, 20, 24, 28 or 32 bytes.
    #[error("BIP39 entropy is {got} bytes; expected 16, 20, 24, 28 or 32")]
    EntropyLength {
        /// Length of the entropy given, in bytes.
        got: usize,
    },
    /// The operating system's random number generator failed.
    #[error("operating system randomness unavailable: {reason}")]
    Randomness {
        /// The error the OS reported.
        reason: String,
    },
    /// A BIP32 seed must be 16 to 64 bytes.
    #[error("BIP32 seed is {got} bytes; expected 16 to 64")]
    SeedLength {
        /// Length of the seed given, in bytes.
        got: usize,
    },
    /// The seed gives an invalid BIP32 master key (probability below 2^-127): use another seed.
    #[error("seed gives an invalid BIP32 master key; use another seed")]
    UnusableMasterKey,
    /// BIP32 derivation of a child gives an invalid key (probability below 2^-127); BIP32 says to
    /// use the next index instead.
    #[error("BIP32 child {child} gives an invalid key; use the next index")]
    UnusableChildKey {
        /// The child number, in path notation (`5` or `44'`).
        child: String,
    },
    /// A hardened child was asked of an extended public key: hardened derivation needs the
    /// parent's secret key.
    #[error("BIP32 child {child} is hardened and cannot be derived from a public key")]
    HardenedFromPublic {
        /// The child number, in path notation (`44'`).
        child: String,
    },
    /// A derivation path does not start with `m`.
    #[error("derivation path {path:?} must start with \"m\"")]
    PathMissingMaster {
        /// The path as given.
        path: String,
    },
    /// A component of a derivation path is not a decimal index below 2^31, optionally followed by
    /// `'`, `h` or `H` for a hardened child.
    #[error(
        "derivation path {path:?}: component {component:?} is not an index below 2^31 \
         (optionally followed by ' or h)"
    )]
    PathComponent {
        /// The path as given.
        path: String,
        /// The offending component.
        component: String,
    },
    /// A derivation path is deeper than BIP32's 255 levels.
    #[error("derivation path has {depth} levels; BIP32 allows at most 255")]
    PathTooDeep {
        /// Number of levels in the path.
        depth: usize,
    },
    /// An address index is at or above 2^31 (the hardened range), or would overflow.
    #[error("address index {index} is out of range; indexes are below 2^31")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
    },
    /// A wallet name is not 1 to 64 characters from `A-Z a-z 0-9 _ -`.
    #[error("wallet name {name:?} is invalid: use 1 to 64 characters from A-Z, a-z, 0-9, _ and -")]
    InvalidName {
        /// The name as given.
        name: String,
    },
    /// A wallet of this name already exists in the store.
    #[error("wallet {name:?} already exists")]
    WalletExists {
        /// The wallet's name.
        name: String,
    },
    /// No wallet of this name exists in the store.
    #[error("wallet {name:?} not found")]
    WalletNotFound {
        /// The wallet's name.
        name: String,
    },
    /// A new wallet's password is empty.
    #[error("wallet password must not be empty")]
    EmptyPassword,
    /// The password does not decrypt the wallet.
    ///
    /// An authenticated cipher cannot tell a wrong password from a ciphertext (or salt, nonce or
    /// name) that was modified after writing; both end here.
    #[error("wrong password for wallet (or its encrypted data was modified)")]
    WrongPassword,
    /// Key-derivation parameters for a new wallet are outside what this crate accepts.
    #[error("invalid key-derivation parameters: {reason}")]
    InvalidKdfParams {
        /// What is wrong with them.
        reason: String,
    },
    /// A wallet file cannot be understood: malformed JSON, bad hex, an unknown version or
    /// algorithm, inconsistent fields.
    #[error("wallet file {} is corrupt: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing a wallet file or the wallet directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An extended public key string is malformed or not an `xpub`.
    #[error("invalid xpub: {reason}")]
    InvalidXpub {
        /// What is wrong with it.
        reason: String,
    },

    /// A watch-only wallet was asked to do what takes its keys (unlock, sign, send).
    #[error(
        "wallet {name:?} is watch-only: it holds extended public keys and cannot sign; \
         fund a signing request (`tx_fund`) and have its signers sign it"
    )]
    WatchOnly {
        /// The wallet.
        name: String,
    },

    /// A watch-only wallet's signing policy is not one this wallet can hold.
    #[error("invalid signing policy: {reason}")]
    InvalidPolicy {
        /// What is wrong with it.
        reason: String,
    },

    /// A signing request could not be signed (its signature hash failed to compute).
    #[error("signing request: {0}")]
    Sign(String),
}

impl WalletError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = WalletError> = std::result::Result<T, E>;
