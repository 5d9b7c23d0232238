//! Watch-only wallets: addresses derived from other signers' extended public keys.
//!
//! A watch-only wallet holds a [`Policy`]: one or more cosigners' account `xpub`s and how many of
//! them must sign. With one cosigner its addresses are P2PKH, exactly the addresses of the wallet
//! that exported the `xpub` (the same `<change>/<index>` below the account key); with `n` of them
//! they are P2SH `m`-of-`n` multisig with the keys sorted (BIP67, Bitcoin Core's `sortedmulti`),
//! so every cosigner derives the same address whatever order it lists the others in. Such a
//! wallet tracks balances, hands out addresses and funds signing requests, whose inputs name each
//! key with its full path from its signer's master key, so each signer finds its own key.
//! It never signs.
//!
//! The file sits beside the encrypted wallets in a [`crate::WalletStore`] and has no secret:
//!
//! ```json
//! {
//!   "version": 2,
//!   "kind": "watch-only",
//!   "name": "treasury",
//!   "created_at": 1767225600,
//!   "threshold": 2,
//!   "cosigners": [
//!     { "xpub": "xpub6C…", "path": "m/44'/8088'/0'" },
//!     { "xpub": "xpub6D…", "path": "m/44'/8088'/0'" },
//!     { "xpub": "xpub6E…", "path": "m/44'/8088'/0'" }
//!   ],
//!   "next_receive_index": 3,
//!   "next_change_index": 1
//! }
//! ```
//!
//! Like the public part of an encrypted wallet file it is privacy-sensitive (it links every
//! address of the policy) and unauthenticated (whoever can write it can change where payments
//! go), so the store's directory is private to its owner.

use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use i8o8i_primitives::signing_request::KeyOrigin;
use i8o8i_script_vm::ScriptBuf;
use i8o8i_script_vm::templates::{self, hash160};

use crate::error::{Result, WalletError};
use crate::hd::{ACCOUNT, Chain, ChildNumber, DerivationPath, ExtendedPubKey};
use crate::keystore::{FILE_VERSION, WATCH_ONLY_KIND};

/// Most cosigners of a multisig policy: a P2SH redeem script is one push of at most 520 bytes,
/// and 15 compressed keys are the most that fit (as in Bitcoin Core).
pub const MAX_COSIGNERS: usize = 15;

/// One signer of a watch-only wallet: its account's extended public key and that key's path from
/// the signer's master key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosigner {
    xpub: ExtendedPubKey,
    path: DerivationPath,
    /// The account's receive and change chain keys, derived once.
    chains: [ExtendedPubKey; 2],
}

impl Cosigner {
    /// A cosigner from its account `xpub` and the path the `xpub` was derived at, by default
    /// this project's account `m/44'/8088'/0'` (what `i8o8icoin wallet xpub` exports). The path
    /// goes into signing requests so that the signer finds its key; it must agree with the
    /// `xpub`'s depth and child number.
    ///
    /// # Errors
    /// [`WalletError::InvalidXpub`] if the path does not fit the key; derivation errors in the
    /// negligible case that a chain key is invalid.
    pub fn new(xpub: ExtendedPubKey, path: Option<DerivationPath>) -> Result<Self> {
        let path = match path {
            Some(path) => path,
            None => DerivationPath::account(ACCOUNT)?,
        };
        if path.len() != usize::from(xpub.depth) {
            return Err(WalletError::InvalidXpub {
                reason: format!(
                    "the xpub is at depth {} but its path {path} has {} levels",
                    xpub.depth,
                    path.len()
                ),
            });
        }
        if let Some(last) = path.as_slice().last()
            && *last != xpub.child_number
        {
            return Err(WalletError::InvalidXpub {
                reason: format!(
                    "the xpub is child {} of its parent but its path {path} ends in {last}",
                    xpub.child_number
                ),
            });
        }
        let chains = [Chain::Receive, Chain::Change]
            .map(|chain| xpub.derive_child(ChildNumber::from_raw(chain.index())));
        let [receive, change] = chains;
        Ok(Self {
            xpub,
            path,
            chains: [receive?, change?],
        })
    }

    /// [`Cosigner::new`] from an `xpub…` string and an optional path string.
    ///
    /// # Errors
    /// [`WalletError::InvalidXpub`], and the errors of parsing a [`DerivationPath`].
    pub fn parse(xpub: &str, path: Option<&str>) -> Result<Self> {
        let path = path.map(DerivationPath::from_str).transpose()?;
        Self::new(ExtendedPubKey::from_xpub(xpub)?, path)
    }

    /// The account's extended public key.
    pub fn xpub(&self) -> &ExtendedPubKey {
        &self.xpub
    }

    /// The path of [`Cosigner::xpub`] from the signer's master key.
    pub fn path(&self) -> &DerivationPath {
        &self.path
    }

    /// The key at `index` on `chain`, with its full path.
    fn key(&self, chain: Chain, index: u32) -> Result<KeyOrigin> {
        let chain_key = &self.chains[chain.index() as usize];
        let key = chain_key.derive_child(ChildNumber::normal(index)?)?;
        let mut path = self.path.to_raw();
        path.extend([chain.index(), index]);
        Ok(KeyOrigin {
            pubkey: key.public_key.serialize(),
            path,
        })
    }
}

/// Who must sign for a watch-only wallet's coins: `threshold` of its cosigners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    threshold: usize,
    cosigners: Vec<Cosigner>,
}

impl Policy {
    /// One signer: P2PKH addresses, those of the wallet that exported the `xpub`.
    pub fn single(cosigner: Cosigner) -> Self {
        Self {
            threshold: 1,
            cosigners: vec![cosigner],
        }
    }

    /// `threshold` of `cosigners` (2 to 15 of them, each account once): P2SH multisig
    /// addresses with the keys sorted.
    ///
    /// # Errors
    /// [`WalletError::InvalidPolicy`] for a threshold of 0 or above the number of cosigners,
    /// fewer than 2 or more than [`MAX_COSIGNERS`] cosigners, or one `xpub` listed twice.
    pub fn multisig(threshold: usize, cosigners: Vec<Cosigner>) -> Result<Self> {
        let invalid = |reason: String| Err(WalletError::InvalidPolicy { reason });
        let n = cosigners.len();
        if !(2..=MAX_COSIGNERS).contains(&n) {
            return invalid(format!(
                "{n} cosigners; a multisig wallet has 2 to {MAX_COSIGNERS}"
            ));
        }
        if threshold == 0 || threshold > n {
            return invalid(format!("threshold {threshold} of {n}; it must be 1 to {n}"));
        }
        for (i, a) in cosigners.iter().enumerate() {
            if let Some(j) = cosigners[..i].iter().position(|b| b.xpub == a.xpub) {
                return invalid(format!("cosigners {j} and {i} are the same xpub"));
            }
        }
        Ok(Self {
            threshold,
            cosigners,
        })
    }

    /// How many signatures a coin needs.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// The signers, in the order given.
    pub fn cosigners(&self) -> &[Cosigner] {
        &self.cosigners
    }

    /// Whether addresses are P2SH multisig (more than one cosigner).
    pub fn is_multisig(&self) -> bool {
        self.cosigners.len() > 1
    }

    /// The address at `index` on `chain`.
    ///
    /// # Errors
    /// [`WalletError::IndexOutOfRange`] if `index >= 2^31`; [`WalletError::UnusableChildKey`]
    /// in the negligible case that a cosigner's key at this index is invalid.
    pub fn address(&self, chain: Chain, index: u32) -> Result<WalletAddress> {
        let mut keys = self
            .cosigners
            .iter()
            .map(|c| c.key(chain, index))
            .collect::<Result<Vec<_>>>()?;
        if !self.is_multisig() {
            let script_pubkey = templates::p2pkh(&hash160(&keys[0].pubkey));
            return Ok(WalletAddress {
                chain,
                index,
                script_pubkey,
                redeem_script: None,
                keys,
            });
        }
        // BIP67: the same keys give the same script whatever order the cosigners are listed in.
        keys.sort_by_key(|k| k.pubkey);
        let pubkeys: Vec<&[u8]> = keys.iter().map(|k| k.pubkey.as_slice()).collect();
        let redeem_script = templates::multisig(self.threshold, &pubkeys)
            // Checked at construction: 1 <= threshold <= n <= 15.
            .map_err(|e| WalletError::InvalidPolicy {
                reason: e.to_string(),
            })?;
        Ok(WalletAddress {
            chain,
            index,
            script_pubkey: templates::p2sh_for(&redeem_script),
            redeem_script: Some(redeem_script),
            keys,
        })
    }
}

/// One address of a wallet, of any kind: its locking script and what signs for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletAddress {
    chain: Chain,
    index: u32,
    script_pubkey: ScriptBuf,
    redeem_script: Option<ScriptBuf>,
    keys: Vec<KeyOrigin>,
}

impl WalletAddress {
    /// The P2PKH address of one key of an encrypted wallet.
    pub(crate) fn p2pkh(chain: Chain, index: u32, key: KeyOrigin) -> Self {
        Self {
            chain,
            index,
            script_pubkey: templates::p2pkh(&hash160(&key.pubkey)),
            redeem_script: None,
            keys: vec![key],
        }
    }

    /// The chain the address is on.
    pub fn chain(&self) -> Chain {
        self.chain
    }

    /// Its index on the chain.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The locking script coins paid to this address carry.
    pub fn script_pubkey(&self) -> &ScriptBuf {
        &self.script_pubkey
    }

    /// The multisig script a P2SH address hashes; `None` for P2PKH.
    pub fn redeem_script(&self) -> Option<&ScriptBuf> {
        self.redeem_script.as_ref()
    }

    /// The keys that sign for it, with their paths (sorted by key for multisig).
    pub fn keys(&self) -> &[KeyOrigin] {
        &self.keys
    }
}

/// What can be known of a watch-only wallet: all of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchOnlyInfo {
    pub(crate) name: String,
    pub(crate) created_at: u64,
    pub(crate) policy: Policy,
    pub(crate) next_receive_index: u32,
    pub(crate) next_change_index: u32,
}

impl WatchOnlyInfo {
    /// The wallet's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When it was imported, in seconds since the Unix epoch.
    pub fn created_at(&self) -> u64 {
        self.created_at
    }

    /// Its signing policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The next index on `chain` (the number of addresses handed out there).
    pub fn next_index(&self, chain: Chain) -> u32 {
        match chain {
            Chain::Receive => self.next_receive_index,
            Chain::Change => self.next_change_index,
        }
    }

    /// Every address handed out: receive addresses by index, then change addresses.
    ///
    /// # Errors
    /// [`WalletError::UnusableChildKey`] in the negligible case that a key is invalid.
    pub fn addresses(&self) -> Result<Vec<WalletAddress>> {
        [Chain::Receive, Chain::Change]
            .into_iter()
            .flat_map(|chain| (0..self.next_index(chain)).map(move |i| (chain, i)))
            .map(|(chain, index)| self.policy.address(chain, index))
            .collect()
    }

    pub(crate) fn next_index_mut(&mut self, chain: Chain) -> &mut u32 {
        match chain {
            Chain::Receive => &mut self.next_receive_index,
            Chain::Change => &mut self.next_change_index,
        }
    }

    /// The file's JSON text.
    pub(crate) fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        let file = WatchFile {
            version: FILE_VERSION,
            kind: WATCH_ONLY_KIND.to_owned(),
            name: self.name.clone(),
            created_at: self.created_at,
            threshold: self.policy.threshold,
            cosigners: self
                .policy
                .cosigners
                .iter()
                .map(|c| CosignerSection {
                    xpub: c.xpub.to_xpub(),
                    path: c.path.to_string(),
                })
                .collect(),
            next_receive_index: self.next_receive_index,
            next_change_index: self.next_change_index,
        };
        let mut json = serde_json::to_vec_pretty(&file)?;
        json.push(b'\n');
        Ok(json)
    }

    /// Parses and checks a watch-only file (its version and kind already read) of wallet
    /// `expected_name`.
    ///
    /// # Errors
    /// [`WalletError::Corrupt`] for anything this crate would not have written.
    pub(crate) fn from_json(
        path: &Path,
        value: serde_json::Value,
        expected_name: &str,
    ) -> Result<Self> {
        let corrupt = |reason: String| WalletError::corrupt(path, reason);
        let file: WatchFile = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
        if file.name != expected_name {
            return Err(corrupt(format!(
                "file is for wallet {:?}, not {expected_name:?}",
                file.name
            )));
        }
        let cosigners = file
            .cosigners
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Cosigner::parse(&c.xpub, Some(&c.path))
                    .map_err(|e| corrupt(format!("cosigner {i}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let policy = match <[Cosigner; 1]>::try_from(cosigners) {
            Ok([one]) if file.threshold == 1 => Policy::single(one),
            Ok(_) => return Err(corrupt(format!("threshold {} of 1", file.threshold))),
            Err(many) => {
                Policy::multisig(file.threshold, many).map_err(|e| corrupt(e.to_string()))?
            }
        };
        for (chain, next) in [
            ("receive", file.next_receive_index),
            ("change", file.next_change_index),
        ] {
            if next > crate::hd::HARDENED {
                return Err(corrupt(format!("next_{chain}_index {next} is above 2^31")));
            }
        }
        Ok(Self {
            name: file.name,
            created_at: file.created_at,
            policy,
            next_receive_index: file.next_receive_index,
            next_change_index: file.next_change_index,
        })
    }
}

/// The JSON layout of a watch-only file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchFile {
    version: u32,
    kind: String,
    name: String,
    created_at: u64,
    threshold: usize,
    cosigners: Vec<CosignerSection>,
    next_receive_index: u32,
    next_change_index: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CosignerSection {
    xpub: String,
    path: String,
}

#[cfg(test)]
mod tests;
