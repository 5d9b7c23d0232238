//! Addresses: bech32m strings for the two standard output kinds.
//!
//! An address is `hrp` + `1` + bech32m of `[kind] ++ program`, where the human-readable part is
//! `i8o` on mainnet and `ti8o` on testnet and dev chains, `kind` is 0 for pay-to-pubkey-hash and 1
//! for pay-to-script-hash, and the program is the 20-byte HASH160. Bech32m (BIP350) catches every
//! error of up to four characters, and the network prefix keeps test coins out of main wallets.

use core::fmt;
use core::str::FromStr;

use bech32::{Bech32m, Hrp};
use i8o8i_script_vm::{Script, ScriptBuf, templates};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which network an address (or a chain) belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// The main network: addresses start `i8o1`.
    Mainnet,
    /// The public test network: addresses start `ti8o1`.
    Testnet,
    /// Local development chains: addresses start `ti8o1`, like testnet.
    Dev,
}

impl Network {
    /// The bech32 human-readable part of this network's addresses.
    pub const fn hrp(self) -> &'static str {
        match self {
            Network::Mainnet => "i8o",
            Network::Testnet | Network::Dev => "ti8o",
        }
    }
}

/// What an address pays to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Payload {
    /// `DUP HASH160 <hash> EQUALVERIFY CHECKSIG`.
    PubkeyHash([u8; 20]),
    /// `HASH160 <hash> EQUAL` (BIP16).
    ScriptHash([u8; 20]),
}

/// A payment address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    mainnet: bool,
    payload: Payload,
}

/// Why a string is not a valid address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not bech32m, or a bad checksum.
    #[error("invalid bech32m address: {0}")]
    Encoding(String),
    /// A human-readable part that is neither `i8o` nor `ti8o`.
    #[error("unknown address prefix `{0}` (expected i8o or ti8o)")]
    UnknownPrefix(String),
    /// An address of another network.
    #[error("address is for {got} but this chain uses {expected} addresses")]
    WrongNetwork {
        /// The address's prefix.
        got: String,
        /// The chain's prefix.
        expected: String,
    },
    /// Unknown kind byte or wrong program length.
    #[error("unsupported address program (kind {kind}, {len} bytes)")]
    Program {
        /// The kind byte (0 = P2PKH, 1 = P2SH).
        kind: u8,
        /// Program length.
        len: usize,
    },
}

impl Address {
    /// A P2PKH address.
    pub const fn p2pkh(network: Network, pubkey_hash: [u8; 20]) -> Address {
        Address {
            mainnet: matches!(network, Network::Mainnet),
            payload: Payload::PubkeyHash(pubkey_hash),
        }
    }

    /// A P2SH address.
    pub const fn p2sh(network: Network, script_hash: [u8; 20]) -> Address {
        Address {
            mainnet: matches!(network, Network::Mainnet),
            payload: Payload::ScriptHash(script_hash),
        }
    }

    /// The P2PKH address of a serialized public key.
    pub fn from_pubkey(network: Network, pubkey: &[u8]) -> Address {
        Address::p2pkh(network, templates::hash160(pubkey))
    }

    /// What the address pays to.
    pub const fn payload(&self) -> Payload {
        self.payload
    }

    /// Whether this is a mainnet address.
    pub const fn is_mainnet(&self) -> bool {
        self.mainnet
    }

    /// The locking script for outputs paying this address.
    pub fn script_pubkey(&self) -> ScriptBuf {
        match &self.payload {
            Payload::PubkeyHash(h) => templates::p2pkh(h),
            Payload::ScriptHash(h) => templates::p2sh(h),
        }
    }

    /// The address of a standard locking script (P2PKH or P2SH), if it is one.
    pub fn from_script(network: Network, script: &Script) -> Option<Address> {
        match templates::classify(script) {
            templates::Template::P2pkh { pubkey_hash } => {
                Some(Address::p2pkh(network, pubkey_hash))
            }
            templates::Template::P2sh { script_hash } => Some(Address::p2sh(network, script_hash)),
            _ => None,
        }
    }

    /// Parses an address and checks that it belongs to `network`.
    ///
    /// # Errors
    /// [`AddressError`] if `s` is not an address, or is one of another network.
    pub fn parse_for(s: &str, network: Network) -> Result<Address, AddressError> {
        let addr: Address = s.parse()?;
        let expected = network.hrp();
        let got = if addr.mainnet {
            Network::Mainnet.hrp()
        } else {
            Network::Testnet.hrp()
        };
        if got != expected {
            return Err(AddressError::WrongNetwork {
                got: got.into(),
                expected: expected.into(),
            });
        }
        Ok(addr)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = if self.mainnet {
            Network::Mainnet.hrp()
        } else {
            Network::Testnet.hrp()
        };
        let (kind, program) = match &self.payload {
            Payload::PubkeyHash(h) => (0u8, h),
            Payload::ScriptHash(h) => (1u8, h),
        };
        let mut data = [0u8; 21];
        data[0] = kind;
        data[1..].copy_from_slice(program);
        let hrp = Hrp::parse_unchecked(hrp);
        bech32::encode_lower_to_fmt::<Bech32m, _>(f, hrp, &data).map_err(|_| fmt::Error)
    }
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let checked = bech32::primitives::decode::CheckedHrpstring::new::<Bech32m>(s)
            .map_err(|e| AddressError::Encoding(e.to_string()))?;
        let hrp = checked.hrp().to_lowercase();
        let mainnet = match hrp.as_str() {
            "i8o" => true,
            "ti8o" => false,
            _ => return Err(AddressError::UnknownPrefix(hrp)),
        };
        let data: Vec<u8> = checked.byte_iter().collect();
        let (kind, program) = data
            .split_first()
            .ok_or(AddressError::Program { kind: 0, len: 0 })?;
        let program: [u8; 20] = program.try_into().map_err(|_| AddressError::Program {
            kind: *kind,
            len: program.len(),
        })?;
        let payload = match kind {
            0 => Payload::PubkeyHash(program),
            1 => Payload::ScriptHash(program),
            _ => {
                return Err(AddressError::Program {
                    kind: *kind,
                    len: 20,
                });
            }
        };
        Ok(Address { mainnet, payload })
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text_and_script() {
        for network in [Network::Mainnet, Network::Testnet, Network::Dev] {
            for addr in [
                Address::p2pkh(network, [7; 20]),
                Address::p2sh(network, [9; 20]),
            ] {
                let text = addr.to_string();
                assert!(text.starts_with(&format!("{}1", network.hrp())), "{text}");
                assert_eq!(text.parse::<Address>().unwrap(), addr);
                assert_eq!(Address::parse_for(&text, network).unwrap(), addr);
                assert_eq!(
                    Address::from_script(network, &addr.script_pubkey()),
                    Some(addr)
                );
            }
        }
    }

    #[test]
    fn a_typo_is_caught_by_the_checksum() {
        let text = Address::p2pkh(Network::Testnet, [1; 20]).to_string();
        let mut chars: Vec<char> = text.chars().collect();
        let i = chars.len() - 3;
        chars[i] = if chars[i] == 'q' { 'p' } else { 'q' };
        let typo: String = chars.into_iter().collect();
        assert!(matches!(
            typo.parse::<Address>(),
            Err(AddressError::Encoding(_))
        ));
    }

    #[test]
    fn other_networks_and_prefixes_are_rejected() {
        let main = Address::p2pkh(Network::Mainnet, [1; 20]).to_string();
        assert_eq!(
            Address::parse_for(&main, Network::Dev),
            Err(AddressError::WrongNetwork {
                got: "i8o".into(),
                expected: "ti8o".into()
            })
        );
        let btc = "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr";
        assert!(matches!(btc.parse::<Address>(), Err(AddressError::UnknownPrefix(p)) if p == "bc"));
        assert!("".parse::<Address>().is_err());
        assert!("ti8o1".parse::<Address>().is_err());
    }

    #[test]
    fn bech32_without_m_is_rejected() {
        let mut data = vec![0u8];
        data.extend_from_slice(&[3; 20]);
        let legacy = bech32::encode::<bech32::Bech32>(Hrp::parse_unchecked("ti8o"), &data).unwrap();
        assert!(matches!(
            legacy.parse::<Address>(),
            Err(AddressError::Encoding(_))
        ));
    }
}
