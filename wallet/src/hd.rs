//! BIP32 hierarchical deterministic keys for secp256k1: master key from a seed, private child
//! derivation (hardened and normal), public child derivation (normal only, from an
//! [`ExtendedPubKey`], without any secret), derivation paths, and `xprv` / `xpub` serialisation.
//!
//! Implements [BIP32](https://github.com/bitcoin/bips/blob/master/bip-0032.mediawiki); the account
//! layout follows [BIP44](https://github.com/bitcoin/bips/blob/master/bip-0044.mediawiki) with
//! coin type [`COIN_TYPE`]: `m/44'/8088'/<account>'/<change>/<index>`.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, KeyInit, Mac};
use secp256k1::{PublicKey, Scalar, SecretKey};
use sha2::Sha512;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Result, WalletError};

/// The first hardened child index, 2^31.
pub const HARDENED: u32 = 0x8000_0000;

/// The BIP44 account every wallet uses: `m/44'/8088'/0'`.
pub const ACCOUNT: u32 = 0;

/// BIP44 purpose field.
pub const PURPOSE: u32 = 44;

/// I8o8iCoin's BIP44 coin type, 8088: chosen by this project and not registered in SLIP-0044.
/// It keeps I8o8iCoin keys apart from those of any coin that shares a mnemonic.
pub const COIN_TYPE: u32 = 8088;

/// Version bytes of a mainnet extended private key (`xprv`).
pub const XPRV_VERSION: [u8; 4] = [0x04, 0x88, 0xAD, 0xE4];

/// Version bytes of a mainnet extended public key (`xpub`).
pub const XPUB_VERSION: [u8; 4] = [0x04, 0x88, 0xB2, 0x1E];

/// BIP32's key for the master HMAC.
const MASTER_HMAC_KEY: &[u8] = b"Bitcoin seed";

/// Deepest path an extended key can record (its depth is one byte).
const MAX_DEPTH: usize = 255;

/// One step of a derivation path: an index below 2^31, hardened or not.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildNumber(u32);

impl ChildNumber {
    /// A normal (non-hardened) child.
    ///
    /// # Errors
    /// [`WalletError::IndexOutOfRange`] if `index >= 2^31`.
    pub fn normal(index: u32) -> Result<Self> {
        if index >= HARDENED {
            return Err(WalletError::IndexOutOfRange {
                index: index.into(),
            });
        }
        Ok(Self(index))
    }

    /// A hardened child, written `index'`.
    ///
    /// # Errors
    /// [`WalletError::IndexOutOfRange`] if `index >= 2^31`.
    pub fn hardened(index: u32) -> Result<Self> {
        if index >= HARDENED {
            return Err(WalletError::IndexOutOfRange {
                index: index.into(),
            });
        }
        Ok(Self(index | HARDENED))
    }

    /// The child from its 32-bit encoding (hardened children have the top bit set).
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw)
    }

    /// The 32-bit encoding, as hashed by BIP32 and stored in an extended key.
    pub const fn to_raw(self) -> u32 {
        self.0
    }

    /// Whether this is a hardened child.
    pub const fn is_hardened(self) -> bool {
        self.0 & HARDENED != 0
    }

    /// The index without the hardened flag.
    pub const fn index(self) -> u32 {
        self.0 & !HARDENED
    }
}

impl fmt::Display for ChildNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_hardened() {
            write!(f, "{}'", self.index())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl fmt::Debug for ChildNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Which chain of an account an address is on (BIP44's `change` level).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Chain {
    /// External chain (`0`): addresses given out to receive payments.
    Receive,
    /// Internal chain (`1`): change outputs of the wallet's own transactions.
    Change,
}

impl Chain {
    /// The path component: 0 for [`Chain::Receive`], 1 for [`Chain::Change`].
    pub const fn index(self) -> u32 {
        match self {
            Self::Receive => 0,
            Self::Change => 1,
        }
    }
}

/// A BIP32 derivation path such as `m/44'/8088'/0'/0/5`.
///
/// Parsed from strings that start with `m`, followed by `/`-separated decimal indexes below 2^31,
/// each optionally marked hardened with `'`, `h` or `H`. Displayed with `'`.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct DerivationPath(Vec<ChildNumber>);

impl DerivationPath {
    /// The empty path `m`: the master key itself.
    pub fn master() -> Self {
        Self(Vec::new())
    }

    /// The path of an I8o8iCoin account: `m/44'/8088'/<account>'`.
    ///
    /// # Errors
    /// [`WalletError::IndexOutOfRange`] if `account >= 2^31`.
    pub fn account(account: u32) -> Result<Self> {
        Ok(Self(vec![
            ChildNumber::hardened(PURPOSE)?,
            ChildNumber::hardened(COIN_TYPE)?,
            ChildNumber::hardened(account)?,
        ]))
    }

    /// The path of an I8o8iCoin address key: `m/44'/8088'/<account>'/<change>/<index>`.
    ///
    /// # Errors
    /// [`WalletError::IndexOutOfRange`] if `account` or `index` is at least 2^31.
    pub fn address(account: u32, chain: Chain, index: u32) -> Result<Self> {
        let mut path = Self::account(account)?;
        path.0.push(ChildNumber::normal(chain.index())?);
        path.0.push(ChildNumber::normal(index)?);
        Ok(path)
    }

    /// This path extended by one child.
    ///
    /// # Errors
    /// [`WalletError::PathTooDeep`] past 255 levels.
    pub fn child(&self, child: ChildNumber) -> Result<Self> {
        if self.0.len() >= MAX_DEPTH {
            return Err(WalletError::PathTooDeep {
                depth: self.0.len() + 1,
            });
        }
        let mut path = self.clone();
        path.0.push(child);
        Ok(path)
    }

    /// A path from children known to number at most 255.
    pub(crate) fn from_children(children: Vec<ChildNumber>) -> Self {
        debug_assert!(children.len() <= MAX_DEPTH);
        Self(children)
    }

    /// The path of raw BIP32 child numbers (hardened ones with the top bit set), as signing
    /// requests carry it.
    ///
    /// # Errors
    /// [`WalletError::PathTooDeep`] past 255 levels.
    pub fn from_raw(steps: &[u32]) -> Result<Self> {
        if steps.len() > MAX_DEPTH {
            return Err(WalletError::PathTooDeep { depth: steps.len() });
        }
        Ok(Self(
            steps
                .iter()
                .map(|&raw| ChildNumber::from_raw(raw))
                .collect(),
        ))
    }

    /// The raw BIP32 child numbers (see [`DerivationPath::from_raw`]).
    pub fn to_raw(&self) -> Vec<u32> {
        self.0.iter().map(|c| c.to_raw()).collect()
    }

    /// The children from the master key down.
    pub fn as_slice(&self) -> &[ChildNumber] {
        &self.0
    }

    /// Number of levels below the master key.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether this is the master path `m`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for DerivationPath {
    type Err = WalletError;

    fn from_str(path: &str) -> Result<Self> {
        let mut parts = path.split('/');
        if parts.next() != Some("m") {
            return Err(WalletError::PathMissingMaster {
                path: path.to_owned(),
            });
        }
        let mut children = Vec::new();
        for component in parts {
            if children.len() >= MAX_DEPTH {
                return Err(WalletError::PathTooDeep {
                    depth: path.split('/').count() - 1,
                });
            }
            let bad = || WalletError::PathComponent {
                path: path.to_owned(),
                component: component.to_owned(),
            };
            let (digits, hardened) = match component.strip_suffix(['\'', 'h', 'H']) {
                Some(digits) => (digits, true),
                None => (component, false),
            };
            // `u32::from_str` would accept a leading '+'; a path index is plain digits.
            if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(bad());
            }
            let index: u32 = digits.parse().map_err(|_| bad())?;
            let child = if hardened {
                ChildNumber::hardened(index)
            } else {
                ChildNumber::normal(index)
            };
            children.push(child.map_err(|_| bad())?);
        }
        Ok(Self(children))
    }
}

impl fmt::Display for DerivationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("m")?;
        for child in &self.0 {
            write!(f, "/{child}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DerivationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DerivationPath({self})")
    }
}

/// A BIP32 extended private key: a secp256k1 secret key, its chain code, and where it sits in
/// the tree.
///
/// Secret key and chain code are overwritten when it is dropped (best effort: the secp256k1
/// `SecretKey` type is `Copy`, so copies made by the compiler may survive). `Debug` does not show
/// them.
#[derive(Clone)]
pub struct ExtendedPrivKey {
    depth: u8,
    parent_fingerprint: [u8; 4],
    child_number: ChildNumber,
    chain_code: Zeroizing<[u8; 32]>,
    secret_key: SecretKey,
    /// Cached: every derivation needs the parent's public key for its fingerprint.
    public_key: PublicKey,
}

impl ExtendedPrivKey {
    /// The master key of a seed (BIP32 "master key generation").
    ///
    /// # Errors
    /// [`WalletError::SeedLength`] unless the seed is 16 to 64 bytes;
    /// [`WalletError::UnusableMasterKey`] in the negligible case that the seed gives an invalid key.
    pub fn new_master(seed: &[u8]) -> Result<Self> {
        if !(16..=64).contains(&seed.len()) {
            return Err(WalletError::SeedLength { got: seed.len() });
        }
        let (il, ir) = hmac_sha512(MASTER_HMAC_KEY, &[seed]);
        let secret_key =
            SecretKey::from_secret_bytes(*il).map_err(|_| WalletError::UnusableMasterKey)?;
        Ok(Self {
            depth: 0,
            parent_fingerprint: [0; 4],
            child_number: ChildNumber::from_raw(0),
            chain_code: Zeroizing::new(*ir),
            public_key: PublicKey::from_secret_key(&secret_key),
            secret_key,
        })
    }

    /// The private child key `CKDpriv((k, c), child)`.
    ///
    /// # Errors
    /// [`WalletError::PathTooDeep`] below depth 255; [`WalletError::UnusableChildKey`] in the
    /// negligible case that this child's key is invalid.
    pub fn derive_child(&self, child: ChildNumber) -> Result<Self> {
        let depth = self.depth.checked_add(1).ok_or(WalletError::PathTooDeep {
            depth: MAX_DEPTH + 1,
        })?;
        let index = child.to_raw().to_be_bytes();
        let (il, ir) = if child.is_hardened() {
            // 0x00 || ser256(k_par) || ser32(i)
            hmac_sha512(
                &self.chain_code[..],
                &[&[0], self.secret_key.as_secret_bytes(), &index],
            )
        } else {
            // serP(point(k_par)) || ser32(i)
            hmac_sha512(
                &self.chain_code[..],
                &[&self.public_key.serialize(), &index],
            )
        };
        let unusable = || WalletError::UnusableChildKey {
            child: child.to_string(),
        };
        // parse256(I_L) must be below the curve order, and k_i = I_L + k_par must not be zero.
        let tweak = Scalar::from_be_bytes(*il).map_err(|_| unusable())?;
        let secret_key = self.secret_key.add_tweak(&tweak).map_err(|_| unusable())?;
        Ok(Self {
            depth,
            parent_fingerprint: self.fingerprint(),
            child_number: child,
            chain_code: Zeroizing::new(*ir),
            public_key: PublicKey::from_secret_key(&secret_key),
            secret_key,
        })
    }

    /// The key at `path` below this one (normally called on the master key).
    ///
    /// # Errors
    /// As [`ExtendedPrivKey::derive_child`].
    pub fn derive_path(&self, path: &DerivationPath) -> Result<Self> {
        let mut key = self.clone();
        for &child in path.as_slice() {
            key = key.derive_child(child)?;
        }
        Ok(key)
    }

    /// The extended public key of this key, BIP32's `N((k, c))`: same public key, chain code and
    /// position in the tree, no secret. It derives the public keys of all normal children below
    /// this key (see [`ExtendedPubKey`] for what that exposes).
    pub fn to_extended_pub(&self) -> ExtendedPubKey {
        ExtendedPubKey {
            public_key: self.public_key,
            chain_code: *self.chain_code,
            depth: self.depth,
            parent_fingerprint: self.parent_fingerprint,
            child_number: self.child_number,
        }
    }

    /// The secp256k1 secret key.
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret_key
    }

    /// The secp256k1 public key.
    pub fn public_key(&self) -> PublicKey {
        self.public_key
    }

    /// The chain code.
    pub fn chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }

    /// Depth in the tree: 0 for the master key.
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// The first four bytes of HASH160 of the parent's public key (zero for the master key).
    pub fn parent_fingerprint(&self) -> [u8; 4] {
        self.parent_fingerprint
    }

    /// The child number this key was derived with (zero for the master key).
    pub fn child_number(&self) -> ChildNumber {
        self.child_number
    }

    /// This key's fingerprint: the first four bytes of HASH160 of its compressed public key.
    pub fn fingerprint(&self) -> [u8; 4] {
        let h = i8o8i_script_vm::templates::hash160(&self.public_key.serialize());
        [h[0], h[1], h[2], h[3]]
    }

    /// The BIP32 serialisation as an `xprv…` Base58Check string (mainnet version bytes
    /// `0x0488ADE4`). This is secret: it spends everything below this key.
    pub fn to_xprv(&self) -> Zeroizing<String> {
        let mut data = Zeroizing::new([0u8; 78]);
        data[0..4].copy_from_slice(&XPRV_VERSION);
        data[4] = self.depth;
        data[5..9].copy_from_slice(&self.parent_fingerprint);
        data[9..13].copy_from_slice(&self.child_number.to_raw().to_be_bytes());
        data[13..45].copy_from_slice(&self.chain_code[..]);
        data[45] = 0;
        data[46..78].copy_from_slice(self.secret_key.as_secret_bytes());
        Zeroizing::new(bs58::encode(&data[..]).with_check().into_string())
    }
}

impl Drop for ExtendedPrivKey {
    fn drop(&mut self) {
        self.secret_key.non_secure_erase();
    }
}

impl fmt::Debug for ExtendedPrivKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtendedPrivKey")
            .field("depth", &self.depth)
            .field("parent_fingerprint", &hex::encode(self.parent_fingerprint))
            .field("child_number", &self.child_number)
            .finish_non_exhaustive()
    }
}

/// A BIP32 extended public key: a secp256k1 public key, its chain code, and where it sits in the
/// tree.
///
/// It is watch-only material, the content of an `xpub`: it derives the public key (and so the
/// address) of every normal child below it, but cannot sign. It is not secret in the sense that
/// it spends nothing, yet it is privacy-sensitive: whoever holds it can link all those addresses.
/// And together with the secret key of any one normal child it gives the parent's secret key, so
/// never publish it next to a child private key.
///
/// The fields are public: any `(public_key, chain_code)` pair is a valid extended key. `depth`,
/// `parent_fingerprint` and `child_number` are metadata that [`ExtendedPubKey::derive_child`]
/// carries along (and [`ExtendedPubKey::to_xpub`] serialises); derivation itself uses only the
/// public key, the chain code and the depth (which must stay below 255).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtendedPubKey {
    /// The secp256k1 public key, `K`.
    pub public_key: PublicKey,
    /// The chain code, `c`.
    pub chain_code: [u8; 32],
    /// Depth in the tree: 0 for the master key.
    pub depth: u8,
    /// The first four bytes of HASH160 of the parent's public key (zero for the master key).
    pub parent_fingerprint: [u8; 4],
    /// The child number this key was derived with (zero for the master key).
    pub child_number: ChildNumber,
}

impl ExtendedPubKey {
    /// The public child key `CKDpub((K, c), child)` of a normal (non-hardened) child. Its public
    /// key equals that of [`ExtendedPrivKey::derive_child`] on the matching private key.
    ///
    /// # Errors
    /// [`WalletError::HardenedFromPublic`] if `child` is hardened (a hardened child needs the
    /// parent's secret key); [`WalletError::PathTooDeep`] below depth 255;
    /// [`WalletError::UnusableChildKey`] in the negligible case that this child's key is invalid
    /// (as for the private derivation of the same child).
    pub fn derive_child(&self, child: ChildNumber) -> Result<Self> {
        if child.is_hardened() {
            return Err(WalletError::HardenedFromPublic {
                child: child.to_string(),
            });
        }
        let depth = self.depth.checked_add(1).ok_or(WalletError::PathTooDeep {
            depth: MAX_DEPTH + 1,
        })?;
        let (public_key, chain_code) = ckd_pub(&self.public_key, &self.chain_code, child)?;
        Ok(Self {
            public_key,
            chain_code,
            depth,
            parent_fingerprint: self.fingerprint(),
            child_number: child,
        })
    }

    /// This key's fingerprint: the first four bytes of HASH160 of its compressed public key.
    pub fn fingerprint(&self) -> [u8; 4] {
        let h = i8o8i_script_vm::templates::hash160(&self.public_key.serialize());
        [h[0], h[1], h[2], h[3]]
    }

    /// The BIP32 serialisation as an `xpub…` Base58Check string (mainnet version bytes
    /// `0x0488B21E`). Watch-only, but privacy-sensitive: see [`ExtendedPubKey`].
    pub fn to_xpub(&self) -> String {
        let mut data = [0u8; 78];
        data[0..4].copy_from_slice(&XPUB_VERSION);
        data[4] = self.depth;
        data[5..9].copy_from_slice(&self.parent_fingerprint);
        data[9..13].copy_from_slice(&self.child_number.to_raw().to_be_bytes());
        data[13..45].copy_from_slice(&self.chain_code);
        data[45..78].copy_from_slice(&self.public_key.serialize());
        bs58::encode(&data[..]).with_check().into_string()
    }

    /// Parses an `xpub…` string (BIP32 serialisation, mainnet public version bytes), as
    /// [`ExtendedPubKey::to_xpub`] writes it and other BIP32 wallets export it.
    ///
    /// # Errors
    /// [`WalletError::InvalidXpub`] saying what is wrong: not Base58Check, not 78 bytes, a
    /// private key (`xprv`, refused so that a secret is never stored as watch-only data), other
    /// version bytes, a master key with a parent, or a point not on the curve.
    pub fn from_xpub(text: &str) -> Result<Self> {
        let invalid = |reason: &str| WalletError::InvalidXpub {
            reason: reason.to_owned(),
        };
        let data = bs58::decode(text.trim())
            .with_check(None)
            .into_vec()
            .map_err(|e| invalid(&format!("not Base58Check: {e}")))?;
        let data: [u8; 78] = data
            .as_slice()
            .try_into()
            .map_err(|_| invalid(&format!("{} bytes; an extended key has 78", data.len())))?;
        match [data[0], data[1], data[2], data[3]] {
            XPUB_VERSION => {}
            XPRV_VERSION => {
                return Err(invalid(
                    "this is an extended private key (xprv); give its xpub, which cannot spend",
                ));
            }
            other => {
                return Err(invalid(&format!(
                    "version bytes {} are not a mainnet xpub's (0488b21e)",
                    hex::encode(other)
                )));
            }
        }
        let depth = data[4];
        let parent_fingerprint = [data[5], data[6], data[7], data[8]];
        let child_number =
            ChildNumber::from_raw(u32::from_be_bytes([data[9], data[10], data[11], data[12]]));
        if depth == 0 && (parent_fingerprint != [0; 4] || child_number.to_raw() != 0) {
            return Err(invalid(
                "a master key (depth 0) with a parent fingerprint or child number",
            ));
        }
        let mut chain_code = [0u8; 32];
        chain_code.copy_from_slice(&data[13..45]);
        let mut key = [0u8; 33];
        key.copy_from_slice(&data[45..78]);
        let public_key = PublicKey::from_byte_array_compressed(key)
            .map_err(|_| invalid("its key is not a compressed secp256k1 point"))?;
        Ok(Self {
            public_key,
            chain_code,
            depth,
            parent_fingerprint,
            child_number,
        })
    }
}

impl fmt::Debug for ExtendedPubKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtendedPubKey")
            .field("public_key", &hex::encode(self.public_key.serialize()))
            .field("chain_code", &hex::encode(self.chain_code))
            .field("depth", &self.depth)
            .field("parent_fingerprint", &hex::encode(self.parent_fingerprint))
            .field("child_number", &self.child_number)
            .finish()
    }
}

/// BIP32 `CKDpub` for a normal `child` (the caller checks that it is not hardened): the child's
/// public key `point(parse256(I_L)) + K_par` and chain code `I_R`, where
/// `I = HMAC-SHA512(c_par, serP(K_par) || ser32(i))`.
///
/// # Errors
/// [`WalletError::UnusableChildKey`] if `parse256(I_L)` is not below the curve order or the sum
/// is the point at infinity (BIP32: proceed with the next index).
pub(crate) fn ckd_pub(
    parent: &PublicKey,
    chain_code: &[u8; 32],
    child: ChildNumber,
) -> Result<(PublicKey, [u8; 32])> {
    debug_assert!(!child.is_hardened());
    let (il, ir) = hmac_sha512(
        chain_code,
        &[&parent.serialize(), &child.to_raw().to_be_bytes()],
    );
    let unusable = || WalletError::UnusableChildKey {
        child: child.to_string(),
    };
    let tweak = Scalar::from_be_bytes(*il).map_err(|_| unusable())?;
    // add_exp_tweak fails exactly when tweak·G + K_par is the point at infinity.
    let public_key = parent.add_exp_tweak(&tweak).map_err(|_| unusable())?;
    Ok((public_key, *ir))
}

/// HMAC-SHA512 of the concatenated `parts` under `key` (at most 128 bytes), split into its left
/// and right 32-byte halves (BIP32's `I_L` and `I_R`).
fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    // HMAC zero-pads a key shorter than the hash's 128-byte block, so passing the padded block
    // is the same MAC, and avoids a fallible constructor. BIP32's keys are 12 or 32 bytes.
    debug_assert!(key.len() <= 128);
    let mut block = Zeroizing::new([0u8; 128]);
    block[..key.len()].copy_from_slice(key);
    let mut mac = Hmac::<Sha512>::new((&*block).into());
    for part in parts {
        mac.update(part);
    }
    let mut tag = mac.finalize().into_bytes();
    let mut left = Zeroizing::new([0u8; 32]);
    let mut right = Zeroizing::new([0u8; 32]);
    left.copy_from_slice(&tag[..32]);
    right.copy_from_slice(&tag[32..]);
    tag.as_mut_slice().zeroize();
    (left, right)
}

#[cfg(test)]
mod tests;
