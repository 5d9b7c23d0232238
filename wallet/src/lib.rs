//! The I8o8iCoin wallet: key management and transaction building, independent of the node's
//! storage and networking.
//!
//! - [`mnemonic`]: BIP39 English mnemonics (24 words from 32 bytes of OS randomness; 12 to 24
//!   words accepted on restore) and the seeds they give.
//! - [`hd`]: BIP32 derivation for secp256k1 (private, and public from an [`ExtendedPubKey`]),
//!   [`DerivationPath`]s, `xprv` / `xpub` serialisation. Wallets use the BIP44 layout
//!   `m/44'/8088'/0'/<change>/<index>`; 8088 is I8o8iCoin's own, unregistered coin type.
//! - [`keystore`]: the wallet file, which keeps the BIP39 entropy encrypted at rest
//!   (Argon2id + XChaCha20-Poly1305, parameters in the file) beside public data in clear: the
//!   public keys handed out and the chain keys' extended public keys (watch-only material).
//! - [`build`]: coin selection, fee, change and signing of a wallet transaction from the
//!   spendable coins the caller supplies.
//! - [`watch`]: watch-only wallets, which hold other signers' account `xpub`s and a threshold
//!   ([`Policy`]): one key's P2PKH addresses, or m-of-n P2SH multisig with sorted keys.
//! - [`WalletStore`]: a directory of wallet files of both kinds, which also hands out new
//!   addresses without the password; [`Wallet`]: an unlocked wallet that derives and hands out
//!   keys, signs requests and exports its account `xpub`.
//!
//! ```no_run
//! use i8o8i_wallet::{KdfParams, WalletStore};
//!
//! # fn main() -> Result<(), i8o8i_wallet::WalletError> {
//! let store = WalletStore::new("/var/lib/i8o8icoin/wallets");
//! let (mut wallet, mnemonic) = store.create("main", "correct horse", KdfParams::default())?;
//! println!("write these words down: {}", mnemonic.phrase().as_str());
//! let key = wallet.next_receive()?; // recorded in the file before it is returned
//! println!("pay to key hash {}", hex::encode(key.pubkey_hash()));
//! drop(wallet);
//! // Later, without the password: a new address, and the key hashes to watch for.
//! let next = store.next_receive_address("main")?; // index 1, recorded in the file too
//! let hashes = store.info("main")?.pubkey_hashes();
//! # let _ = (next, hashes);
//! # Ok(())
//! # }
//! ```
//!
//! The crate has no feature flags.

pub mod build;
mod error;
pub mod hd;
pub mod keystore;
pub mod mnemonic;
mod store;
pub mod watch;

pub use error::{Result, WalletError};
pub use hd::{ACCOUNT, Chain, ChildNumber, DerivationPath, ExtendedPrivKey, ExtendedPubKey};
pub use keystore::KdfParams;
pub use mnemonic::{Mnemonic, Seed};
pub use store::{AddressKey, DerivedKey, Wallet, WalletInfo, WalletStore, WalletView};
pub use watch::{Cosigner, Policy, WalletAddress, WatchOnlyInfo};
