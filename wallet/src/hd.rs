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
mod tests {
    use super::*;
    use crate::mnemonic::Mnemonic;
    use crate::mnemonic::tests::english_vectors;

    /// BIP32 test vectors 1 and 2, from the "Test Vectors" section of
    /// https://github.com/bitcoin/bips/blob/master/bip-0032.mediawiki: (path, xpub, xprv).
    const VECTOR_1_SEED: &str = "000102030405060708090a0b0c0d0e0f";
    const VECTOR_1: &[(&str, &str, &str)] = &[
        (
            "m",
            "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8",
            "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi",
        ),
        (
            "m/0'",
            "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw",
            "xprv9uHRZZhk6KAJC1avXpDAp4MDc3sQKNxDiPvvkX8Br5ngLNv1TxvUxt4cV1rGL5hj6KCesnDYUhd7oWgT11eZG7XnxHrnYeSvkzY7d2bhkJ7",
        ),
        (
            "m/0'/1",
            "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ",
            "xprv9wTYmMFdV23N2TdNG573QoEsfRrWKQgWeibmLntzniatZvR9BmLnvSxqu53Kw1UmYPxLgboyZQaXwTCg8MSY3H2EU4pWcQDnRnrVA1xe8fs",
        ),
        (
            "m/0'/1/2'",
            "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5",
            "xprv9z4pot5VBttmtdRTWfWQmoH1taj2axGVzFqSb8C9xaxKymcFzXBDptWmT7FwuEzG3ryjH4ktypQSAewRiNMjANTtpgP4mLTj34bhnZX7UiM",
        ),
        (
            "m/0'/1/2'/2",
            "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV",
            "xprvA2JDeKCSNNZky6uBCviVfJSKyQ1mDYahRjijr5idH2WwLsEd4Hsb2Tyh8RfQMuPh7f7RtyzTtdrbdqqsunu5Mm3wDvUAKRHSC34sJ7in334",
        ),
        (
            "m/0'/1/2'/2/1000000000",
            "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy",
            "xprvA41z7zogVVwxVSgdKUHDy1SKmdb533PjDz7J6N6mV6uS3ze1ai8FHa8kmHScGpWmj4WggLyQjgPie1rFSruoUihUZREPSL39UNdE3BBDu76",
        ),
    ];

    const VECTOR_2_SEED: &str = "fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a8784817e7b7875726f6c696663605d5a5754514e4b484542";
    const VECTOR_2: &[(&str, &str, &str)] = &[
        (
            "m",
            "xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB",
            "xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqPqm55Qn3LqFtT2emdEXVYsCzC2U",
        ),
        (
            "m/0",
            "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH",
            "xprv9vHkqa6EV4sPZHYqZznhT2NPtPCjKuDKGY38FBWLvgaDx45zo9WQRUT3dKYnjwih2yJD9mkrocEZXo1ex8G81dwSM1fwqWpWkeS3v86pgKt",
        ),
        (
            "m/0/2147483647'",
            "xpub6ASAVgeehLbnwdqV6UKMHVzgqAG8Gr6riv3Fxxpj8ksbH9ebxaEyBLZ85ySDhKiLDBrQSARLq1uNRts8RuJiHjaDMBU4Zn9h8LZNnBC5y4a",
            "xprv9wSp6B7kry3Vj9m1zSnLvN3xH8RdsPP1Mh7fAaR7aRLcQMKTR2vidYEeEg2mUCTAwCd6vnxVrcjfy2kRgVsFawNzmjuHc2YmYRmagcEPdU9",
        ),
        (
            "m/0/2147483647'/1",
            "xpub6DF8uhdarytz3FWdA8TvFSvvAh8dP3283MY7p2V4SeE2wyWmG5mg5EwVvmdMVCQcoNJxGoWaU9DCWh89LojfZ537wTfunKau47EL2dhHKon",
            "xprv9zFnWC6h2cLgpmSA46vutJzBcfJ8yaJGg8cX1e5StJh45BBciYTRXSd25UEPVuesF9yog62tGAQtHjXajPPdbRCHuWS6T8XA2ECKADdw4Ef",
        ),
        (
            "m/0/2147483647'/1/2147483646'",
            "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL",
            "xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc",
        ),
        (
            "m/0/2147483647'/1/2147483646'/2",
            "xpub6FnCn6nSzZAw5Tw7cgR9bi15UV96gLZhjDstkXXxvCLsUXBGXPdSnLFbdpq8p9HmGsApME5hQTZ3emM2rnY5agb9rXpVGyy3bdW6EEgAtqt",
            "xprvA2nrNbFZABcdryreWet9Ea4LvTJcGsqrMzxHx98MMrotbir7yrKCEXw7nadnHM8Dq38EGfSh6dqA9QWTyefMLEcBYJUuekgW4BYPJcr9E7j",
        ),
    ];

    fn check_vector(seed_hex: &str, chain: &[(&str, &str, &str)]) {
        let master = ExtendedPrivKey::new_master(&hex::decode(seed_hex).unwrap()).unwrap();
        for &(path, xpub, xprv) in chain {
            let path: DerivationPath = path.parse().unwrap();
            let key = master.derive_path(&path).unwrap();
            assert_eq!(key.to_xprv().as_str(), xprv, "xprv at {path}");
            // The last 33 bytes of a serialised xpub are the compressed public key.
            let xpub = bs58::decode(xpub).with_check(None).into_vec().unwrap();
            assert_eq!(xpub.len(), 78);
            assert_eq!(
                key.public_key().serialize().as_slice(),
                &xpub[45..],
                "pubkey at {path}"
            );
            assert_eq!(key.depth() as usize, path.len());
            assert_eq!(
                key.to_extended_pub().to_xpub(),
                bs58::encode(&xpub).with_check().into_string(),
                "xpub at {path}"
            );
        }
    }

    /// Parses a published `xpub` string (test helper: the crate itself never reads one).
    fn parse_xpub(text: &str) -> ExtendedPubKey {
        let data = bs58::decode(text).with_check(None).into_vec().unwrap();
        assert_eq!(data.len(), 78);
        assert_eq!(data[0..4], XPUB_VERSION);
        ExtendedPubKey {
            depth: data[4],
            parent_fingerprint: data[5..9].try_into().unwrap(),
            child_number: ChildNumber::from_raw(u32::from_be_bytes(
                data[9..13].try_into().unwrap(),
            )),
            chain_code: data[13..45].try_into().unwrap(),
            public_key: PublicKey::from_slice(&data[45..]).unwrap(),
        }
    }

    /// For every normal step of a test vector chain: the published parent xpub, derived publicly,
    /// gives the published child xpub and the public key of the private derivation.
    fn check_public_derivation(seed_hex: &str, chain: &[(&str, &str, &str)]) -> usize {
        let master = ExtendedPrivKey::new_master(&hex::decode(seed_hex).unwrap()).unwrap();
        let mut checked = 0;
        for pair in chain.windows(2) {
            let ((_, parent_xpub, _), (child_path, child_xpub, _)) = (pair[0], pair[1]);
            let child_path: DerivationPath = child_path.parse().unwrap();
            let step = *child_path.as_slice().last().unwrap();
            let parent = parse_xpub(parent_xpub);
            if step.is_hardened() {
                assert!(matches!(
                    parent.derive_child(step),
                    Err(WalletError::HardenedFromPublic { .. })
                ));
                continue;
            }
            let public = parent.derive_child(step).unwrap();
            let private = master.derive_path(&child_path).unwrap();
            assert_eq!(public.public_key, private.public_key(), "{child_path}");
            assert_eq!(public, private.to_extended_pub(), "{child_path}");
            assert_eq!(public.to_xpub(), child_xpub, "{child_path}");
            checked += 1;
        }
        checked
    }

    #[test]
    fn bip32_test_vector_1_public_derivation_matches_private_derivation() {
        // m/0'/1, m/0'/1/2'/2 and m/0'/1/2'/2/1000000000 are normal steps.
        assert_eq!(check_public_derivation(VECTOR_1_SEED, VECTOR_1), 3);
    }

    #[test]
    fn bip32_test_vector_2_public_derivation_matches_private_derivation() {
        // m/0, m/0/2147483647'/1 and m/0/2147483647'/1/2147483646'/2 are normal steps.
        assert_eq!(check_public_derivation(VECTOR_2_SEED, VECTOR_2), 3);
    }

    #[test]
    fn hardened_children_cannot_be_derived_from_a_public_key() {
        let master = ExtendedPrivKey::new_master(&hex::decode(VECTOR_1_SEED).unwrap()).unwrap();
        let xpub = master.to_extended_pub();
        for index in [0, 1, HARDENED - 1] {
            let err = xpub
                .derive_child(ChildNumber::hardened(index).unwrap())
                .unwrap_err();
            match err {
                WalletError::HardenedFromPublic { child } => assert_eq!(child, format!("{index}'")),
                other => panic!("{index}: {other:?}"),
            }
        }
    }

    #[test]
    fn public_derivation_stops_at_depth_255() {
        let master = ExtendedPrivKey::new_master(&hex::decode(VECTOR_1_SEED).unwrap()).unwrap();
        let mut xpub = master.to_extended_pub();
        xpub.depth = 255;
        assert!(matches!(
            xpub.derive_child(ChildNumber::normal(0).unwrap()),
            Err(WalletError::PathTooDeep { depth: 256 })
        ));
        xpub.depth = 254;
        assert_eq!(
            xpub.derive_child(ChildNumber::normal(0).unwrap())
                .unwrap()
                .depth,
            255
        );
    }

    #[test]
    fn extended_public_key_debug_shows_its_public_fields() {
        let master = ExtendedPrivKey::new_master(&hex::decode(VECTOR_1_SEED).unwrap()).unwrap();
        let shown = format!("{:?}", master.to_extended_pub());
        assert!(
            shown.contains(&hex::encode(master.public_key().serialize())),
            "{shown}"
        );
        assert!(
            !shown.contains(&hex::encode(master.secret_key().as_secret_bytes())),
            "{shown}"
        );
    }

    proptest::proptest! {
        #[test]
        fn public_and_private_derivation_agree_on_normal_children(
            seed in proptest::collection::vec(proptest::prelude::any::<u8>(), 16..=64),
            indexes in proptest::collection::vec(0..HARDENED, 1..8),
        ) {
            let master = ExtendedPrivKey::new_master(&seed).unwrap();
            // A master key, a hardened child and a wallet's receive chain key as parents.
            let parents = [
                master.clone(),
                master.derive_child(ChildNumber::hardened(7).unwrap()).unwrap(),
                master
                    .derive_path(
                        &DerivationPath::account(0)
                            .unwrap()
                            .child(ChildNumber::normal(Chain::Receive.index()).unwrap())
                            .unwrap(),
                    )
                    .unwrap(),
            ];
            for parent in &parents {
                let xpub = parent.to_extended_pub();
                for &index in &indexes {
                    let child = ChildNumber::normal(index).unwrap();
                    let private = parent.derive_child(child).unwrap();
                    let public = xpub.derive_child(child).unwrap();
                    proptest::prop_assert_eq!(private.public_key(), public.public_key);
                    proptest::prop_assert_eq!(private.to_extended_pub(), public);
                }
            }
        }
    }

    #[test]
    fn bip32_test_vector_1_derives_the_published_keys() {
        check_vector(VECTOR_1_SEED, VECTOR_1);
    }

    #[test]
    fn bip32_test_vector_2_derives_the_published_keys() {
        check_vector(VECTOR_2_SEED, VECTOR_2);
    }

    #[test]
    fn derivation_one_step_at_a_time_matches_derivation_by_path() {
        let master = ExtendedPrivKey::new_master(&hex::decode(VECTOR_1_SEED).unwrap()).unwrap();
        let stepwise = master
            .derive_child(ChildNumber::hardened(0).unwrap())
            .unwrap()
            .derive_child(ChildNumber::normal(1).unwrap())
            .unwrap();
        let by_path = master.derive_path(&"m/0h/1".parse().unwrap()).unwrap();
        assert_eq!(stepwise.to_xprv(), by_path.to_xprv());
        assert_eq!(
            stepwise.parent_fingerprint(),
            master
                .derive_child(ChildNumber::hardened(0).unwrap())
                .unwrap()
                .fingerprint()
        );
    }

    #[test]
    fn bip39_vectors_give_the_published_root_xprv() {
        for (_, phrase, _, xprv) in english_vectors() {
            let seed = Mnemonic::parse(&phrase).unwrap().to_seed("TREZOR");
            let master = ExtendedPrivKey::new_master(seed.as_bytes()).unwrap();
            assert_eq!(master.to_xprv().as_str(), xprv, "{phrase}");
        }
    }

    #[test]
    fn seeds_outside_16_to_64_bytes_are_rejected() {
        assert!(matches!(
            ExtendedPrivKey::new_master(&[1; 15]),
            Err(WalletError::SeedLength { got: 15 })
        ));
        assert!(matches!(
            ExtendedPrivKey::new_master(&[1; 65]),
            Err(WalletError::SeedLength { got: 65 })
        ));
        assert!(ExtendedPrivKey::new_master(&[1; 16]).is_ok());
        assert!(ExtendedPrivKey::new_master(&[1; 64]).is_ok());
    }

    #[test]
    fn paths_round_trip_through_display_and_parse() {
        for text in ["m", "m/0", "m/44'/8088'/0'/0/5", "m/2147483647'/0"] {
            let path: DerivationPath = text.parse().unwrap();
            assert_eq!(path.to_string(), text);
        }
        let h: DerivationPath = "m/44h/8088H/0'".parse().unwrap();
        assert_eq!(h.to_string(), "m/44'/8088'/0'");
        assert_eq!(h, DerivationPath::account(0).unwrap());
        assert_eq!(
            DerivationPath::address(0, Chain::Change, 7)
                .unwrap()
                .to_string(),
            "m/44'/8088'/0'/1/7"
        );
    }

    #[test]
    fn malformed_paths_are_rejected_with_typed_errors() {
        for missing in ["", "44'/0", "M/0", "/m/0", "n/1"] {
            let err = missing.parse::<DerivationPath>().unwrap_err();
            assert!(
                matches!(err, WalletError::PathMissingMaster { .. }),
                "{missing}: {err:?}"
            );
        }
        for (text, component) in [
            ("m/", ""),
            ("m//1", ""),
            ("m/x", "x"),
            ("m/-1", "-1"),
            ("m/+1", "+1"),
            ("m/1''", "1''"),
            ("m/ 1", " 1"),
            ("m/2147483648", "2147483648"),
            ("m/2147483648'", "2147483648'"),
            ("m/99999999999", "99999999999"),
            ("m/0x10", "0x10"),
        ] {
            let err = text.parse::<DerivationPath>().unwrap_err();
            match err {
                WalletError::PathComponent {
                    path,
                    component: got,
                } => {
                    assert_eq!(path, text);
                    assert_eq!(got, component);
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn paths_deeper_than_255_levels_are_rejected() {
        let ok = format!("m{}", "/0".repeat(255));
        assert_eq!(ok.parse::<DerivationPath>().unwrap().len(), 255);
        let deep = format!("m{}", "/0".repeat(256));
        let err = deep.parse::<DerivationPath>().unwrap_err();
        assert!(
            matches!(err, WalletError::PathTooDeep { depth: 256 }),
            "{err:?}"
        );
        let full: DerivationPath = ok.parse().unwrap();
        assert!(matches!(
            full.child(ChildNumber::normal(0).unwrap()),
            Err(WalletError::PathTooDeep { depth: 256 })
        ));
    }

    #[test]
    fn child_numbers_at_or_above_2_pow_31_are_rejected() {
        assert!(ChildNumber::normal(HARDENED - 1).is_ok());
        assert!(matches!(
            ChildNumber::normal(HARDENED),
            Err(WalletError::IndexOutOfRange { index: 0x8000_0000 })
        ));
        assert!(ChildNumber::hardened(HARDENED).is_err());
        let c = ChildNumber::hardened(5).unwrap();
        assert!(c.is_hardened());
        assert_eq!((c.index(), c.to_raw()), (5, HARDENED | 5));
    }

    #[test]
    fn debug_output_does_not_show_the_secret_key() {
        let master = ExtendedPrivKey::new_master(&hex::decode(VECTOR_1_SEED).unwrap()).unwrap();
        let shown = format!("{master:?}");
        let secret = hex::encode(master.secret_key().as_secret_bytes());
        let chain_code = hex::encode(master.chain_code());
        assert!(
            !shown.contains(&secret) && !shown.contains(&chain_code),
            "{shown}"
        );
    }
}
