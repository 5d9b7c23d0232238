//! BIP39 mnemonic phrases (English word list) and the seeds they give.
//!
//! Implements [BIP39](https://github.com/bitcoin/bips/blob/master/bip-0039.mediawiki) through the
//! `bip39` crate: entropy ↔ words with a checksum, and seed = PBKDF2-HMAC-SHA512 (2048 rounds) of
//! the phrase with the salt `"mnemonic" + passphrase`.

use std::fmt;
use std::str::FromStr;

use zeroize::Zeroizing;

use crate::error::{Result, WalletError};

/// Entropy of a newly generated mnemonic: 32 bytes, 24 words.
pub const GENERATED_ENTROPY_LEN: usize = 32;

/// A valid BIP39 English mnemonic: 12, 15, 18, 21 or 24 words with a matching checksum.
///
/// The words are wiped from memory when it is dropped. `Debug` does not show them; ask for
/// [`Mnemonic::phrase`] to show the phrase to its owner.
#[derive(Clone, PartialEq, Eq)]
pub struct Mnemonic(bip39::Mnemonic);

/// A 64-byte BIP39 seed, the input of BIP32 master-key generation. Wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Seed(Zeroizing<[u8; 64]>);

impl Mnemonic {
    /// Generates a 24-word mnemonic from 32 bytes of operating-system randomness.
    ///
    /// # Errors
    /// [`WalletError::Randomness`] if the OS random number generator fails.
    pub fn generate() -> Result<Self> {
        let mut entropy = Zeroizing::new([0u8; GENERATED_ENTROPY_LEN]);
        getrandom::fill(entropy.as_mut_slice()).map_err(|e| WalletError::Randomness {
            reason: e.to_string(),
        })?;
        Self::from_entropy(entropy.as_slice())
    }

    /// The mnemonic that encodes `entropy` (16, 20, 24, 28 or 32 bytes).
    ///
    /// # Errors
    /// [`WalletError::EntropyLength`] for any other length.
    pub fn from_entropy(entropy: &[u8]) -> Result<Self> {
        bip39::Mnemonic::from_entropy(entropy)
            .map(Self)
            .map_err(|_| WalletError::EntropyLength { got: entropy.len() })
    }

    /// Parses and validates a phrase: words separated by whitespace, case-insensitive, Unicode
    /// normalised (NFKD) as BIP39 requires.
    ///
    /// # Errors
    /// [`WalletError::MnemonicWordCount`], [`WalletError::MnemonicUnknownWord`] or
    /// [`WalletError::MnemonicChecksum`].
    pub fn parse(phrase: &str) -> Result<Self> {
        // The English list is lower case; accept what a user types with a capital or caps lock.
        let lower = Zeroizing::new(phrase.to_lowercase());
        bip39::Mnemonic::parse_in(bip39::Language::English, lower.as_str())
            .map(Self)
            .map_err(|e| match e {
                bip39::Error::BadWordCount(got) => WalletError::MnemonicWordCount { got },
                bip39::Error::UnknownWord(i) => WalletError::MnemonicUnknownWord {
                    position: i.saturating_add(1),
                },
                bip39::Error::BadEntropyBitCount(bits) => {
                    WalletError::EntropyLength { got: bits / 8 }
                }
                // Only English is enabled, so no phrase is ambiguous; a checksum error is all that
                // remains.
                bip39::Error::InvalidChecksum | bip39::Error::AmbiguousLanguages(_) => {
                    WalletError::MnemonicChecksum
                }
            })
    }

    /// The phrase: the words separated by single spaces.
    pub fn phrase(&self) -> Zeroizing<String> {
        let mut phrase = Zeroizing::new(String::with_capacity(24 * 9));
        for (i, word) in self.0.words().enumerate() {
            if i > 0 {
                phrase.push(' ');
            }
            phrase.push_str(word);
        }
        phrase
    }

    /// The words, in order.
    pub fn words(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.words()
    }

    /// Number of words: 12, 15, 18, 21 or 24.
    pub fn word_count(&self) -> usize {
        self.0.word_count()
    }

    /// The entropy the words encode (16 to 32 bytes).
    pub fn entropy(&self) -> Zeroizing<Vec<u8>> {
        let (mut array, len) = self.0.to_entropy_array();
        let entropy = Zeroizing::new(array[..len].to_vec());
        zeroize::Zeroize::zeroize(&mut array);
        entropy
    }

    /// The BIP39 seed: PBKDF2-HMAC-SHA512 of the phrase, 2048 rounds, salt
    /// `"mnemonic" + passphrase` (NFKD-normalised). Pass `""` for no passphrase.
    pub fn to_seed(&self, passphrase: &str) -> Seed {
        Seed(Zeroizing::new(self.0.to_seed(passphrase)))
    }
}

impl FromStr for Mnemonic {
    type Err = WalletError;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Debug for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mnemonic({} words, redacted)", self.word_count())
    }
}

impl Seed {
    /// The seed bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed(redacted)")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The English vectors of trezor/python-mnemonic: (entropy hex, phrase, seed hex, xprv).
    pub(crate) fn english_vectors() -> Vec<(String, String, String, String)> {
        let text = include_str!("../tests/data/bip39_vectors.json");
        let all: serde_json::Value = serde_json::from_str(text).expect("vector file is JSON");
        let english = all["english"].as_array().expect("an english array");
        english
            .iter()
            .map(|v| {
                let field = |i: usize| v[i].as_str().expect("string field").to_owned();
                (field(0), field(1), field(2), field(3))
            })
            .collect()
    }

    #[test]
    fn english_vectors_give_the_expected_words_entropy_and_seed() {
        let vectors = english_vectors();
        assert_eq!(vectors.len(), 24);
        for (entropy_hex, phrase, seed_hex, _) in vectors {
            let entropy = hex::decode(&entropy_hex).unwrap();
            let from_entropy = Mnemonic::from_entropy(&entropy).unwrap();
            assert_eq!(from_entropy.phrase().as_str(), phrase);

            let parsed = Mnemonic::parse(&phrase).unwrap();
            assert_eq!(parsed, from_entropy);
            assert_eq!(parsed.entropy().as_slice(), entropy.as_slice());
            assert_eq!(
                hex::encode(parsed.to_seed("TREZOR").as_bytes()),
                seed_hex,
                "{phrase}"
            );
        }
    }

    #[test]
    fn generated_mnemonics_have_24_words_and_differ() {
        let a = Mnemonic::generate().unwrap();
        let b = Mnemonic::generate().unwrap();
        assert_eq!(a.word_count(), 24);
        assert_eq!(a.entropy().len(), 32);
        assert_ne!(a, b);
        assert_eq!(Mnemonic::parse(&a.phrase()).unwrap(), a);
    }

    #[test]
    fn parsing_tolerates_capitals_and_extra_whitespace() {
        let phrase = "  Abandon abandon ABANDON abandon abandon abandon\tabandon abandon abandon \
                      abandon abandon about \n";
        let m = Mnemonic::parse(phrase).unwrap();
        assert_eq!(m.entropy().as_slice(), [0u8; 16].as_slice());
    }

    #[test]
    fn a_wrong_word_count_is_rejected_with_the_count() {
        let err = Mnemonic::parse("abandon abandon abandon").unwrap_err();
        assert!(
            matches!(err, WalletError::MnemonicWordCount { got: 3 }),
            "{err:?}"
        );
        let err = Mnemonic::parse("").unwrap_err();
        assert!(
            matches!(err, WalletError::MnemonicWordCount { got: 0 }),
            "{err:?}"
        );
    }

    #[test]
    fn an_unknown_word_is_rejected_with_its_position_not_the_word() {
        let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                      abandon bitcoinz about";
        let err = Mnemonic::parse(phrase).unwrap_err();
        assert!(
            matches!(err, WalletError::MnemonicUnknownWord { position: 11 }),
            "{err:?}"
        );
        assert!(!err.to_string().contains("bitcoinz"));
    }

    #[test]
    fn a_bad_checksum_is_rejected() {
        // Twelve times "abandon": valid words, wrong checksum word.
        let phrase = ["abandon"; 12].join(" ");
        let err = Mnemonic::parse(&phrase).unwrap_err();
        assert!(matches!(err, WalletError::MnemonicChecksum), "{err:?}");
    }

    #[test]
    fn entropy_of_a_bad_length_is_rejected() {
        let err = Mnemonic::from_entropy(&[0u8; 15]).unwrap_err();
        assert!(
            matches!(err, WalletError::EntropyLength { got: 15 }),
            "{err:?}"
        );
        let err = Mnemonic::from_entropy(&[0u8; 36]).unwrap_err();
        assert!(
            matches!(err, WalletError::EntropyLength { got: 36 }),
            "{err:?}"
        );
    }

    #[test]
    fn debug_output_does_not_show_the_words() {
        let m = Mnemonic::from_entropy(&[0u8; 16]).unwrap();
        let shown = format!("{m:?} {:?}", m.to_seed(""));
        assert!(!shown.contains("abandon"), "{shown}");
        assert!(!shown.contains("about"), "{shown}");
    }
}
