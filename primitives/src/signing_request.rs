//! Signing requests: a transaction not yet signed, with everything a signer that has no node
//! needs to check and sign it, and the signatures collected so far. Bitcoin's PSBT (BIP174) is
//! the model; the encoding is SCALE, like everything else on this chain.
//!
//! The flow: a node (or anyone with the UTXO set) *funds* a request (`tx_fund`): it picks coins
//! and fills in, per input, the output it spends (value and script, which the signature hash
//! commits to), the hash type to sign with, the redeem script of a P2SH coin and the keys that
//! can sign with their derivation paths; per output, whether it is change. Signers add
//! signatures ([`SigningRequest::sign_with`]) offline; requests signed by different signers
//! are *combined* ([`SigningRequest::combine`]); once every input has enough signatures the
//! request is *finalised* ([`SigningRequest::finalize`]) into a transaction to submit.
//!
//! Byte format (version 1): the five bytes [`MAGIC`] (`i8sr` 0xff, after PSBT's `psbt` 0xff),
//! the version byte [`VERSION`], then the SCALE encoding of [`SigningRequest`] — the chain id,
//! the unsigned transaction (every `script_sig` empty), one [`RequestInput`] per input and one
//! [`RequestOutput`] per output, in order. As text it is standard base64 with padding
//! ([`SigningRequest::to_text`]). A request is checked when decoded: counts that match the
//! transaction, no `script_sig`, defined hash types, a redeem script that hashes to the coin's
//! script, and every signature valid for its key — so whatever a signer or a combiner is handed
//! is either a well-formed request or a [`RequestError`].
//!
//! Scripts a request can complete: P2PKH (one signature by the key whose hash it names) and
//! P2SH over a bare multisig redeem script (`m` signatures by its keys, put in the order of the
//! keys, as `CHECKMULTISIG` needs). A key is named by its compressed public key and, where the
//! funder knows it, its BIP32 path from the wallet's master key; a signer derives each listed
//! path and signs where the derived key is the listed one (there is no master-key fingerprint:
//! the public key is the check).

use base64::Engine;
use i8o8i_script_vm::templates::{self, Template, hash160};
use i8o8i_script_vm::{SIGHASH_ALL, Script, ScriptBuf};
use parity_scale_codec::{Decode, Encode};
use secp256k1::{Message, PublicKey, SecretKey, ecdsa};
use thiserror::Error;

use crate::amount::Amount;
use crate::decode::{DecodeError, decode_strict};
use crate::hash::{Hash256, Txid};
use crate::sighash::{SighashCache, SighashError};
use crate::transaction::{MAX_TX_SIZE, Transaction, TxOut};

/// The first bytes of every encoded request.
pub const MAGIC: [u8; 5] = *b"i8sr\xff";
/// The format version this code writes and reads.
pub const VERSION: u8 = 1;
/// The largest encoded request accepted: a transaction at its limit, its spent outputs, and up
/// to 16 signatures and key paths per input.
pub const MAX_REQUEST_SIZE: usize = 4 * MAX_TX_SIZE;

/// A key that can sign: its compressed public key and, if known, its BIP32 path.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct KeyOrigin {
    /// The compressed public key.
    pub pubkey: [u8; 33],
    /// Its derivation path from the wallet's master key (each step as BIP32 encodes it:
    /// hardened steps have the top bit set); empty when unknown.
    pub path: Vec<u32>,
}

/// A signature collected for one input.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct PartialSignature {
    /// The key that made it.
    pub pubkey: [u8; 33],
    /// The DER signature followed by the hash-type byte, as it goes into a script.
    pub signature: Vec<u8>,
}

/// What a signer needs to know about one input, and its signatures so far.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct RequestInput {
    /// The output this input spends (its value and script are signed over).
    pub spent: TxOut,
    /// The hash type to sign with (`SIGHASH_ALL` unless the funder says otherwise).
    pub hash_type: u8,
    /// For a P2SH coin: the script it hashes.
    pub redeem_script: Option<ScriptBuf>,
    /// The keys that can sign, with their paths where known.
    pub keys: Vec<KeyOrigin>,
    /// Signatures so far, one per key, sorted by public key.
    pub signatures: Vec<PartialSignature>,
}

/// What a signer is told about one output.
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode)]
pub struct RequestOutput {
    /// Whether it pays back to the funder's own wallet (change), so a signer's display can
    /// leave it out of what is being sent.
    pub change: bool,
    /// The keys behind it, with their paths, where the funder knows them.
    pub keys: Vec<KeyOrigin>,
}

/// A transaction to be signed, with its signing data (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct SigningRequest {
    /// The chain the transaction is for (its genesis hash; the signature hash commits to it).
    pub chain_id: Hash256,
    /// The transaction, every `script_sig` empty.
    pub tx: Transaction,
    /// One per input of `tx`, in order.
    pub inputs: Vec<RequestInput>,
    /// One per output of `tx`, in order.
    pub outputs: Vec<RequestOutput>,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// Not base64.
    #[error("a signing request is base64 text: {0}")]
    Base64(String),
    /// The bytes do not start with [`MAGIC`].
    #[error("not a signing request (it must start with the bytes `i8sr` 0xff)")]
    BadMagic,
    /// A format version this code does not read.
    #[error("signing request version {0} is not supported (this node reads version 1)")]
    UnsupportedVersion(u8),
    /// The SCALE body does not decode.
    #[error("malformed signing request: {0}")]
    Decode(#[from] DecodeError),
    /// The per-input or per-output data does not match the transaction.
    #[error("the request describes {described} {what} but its transaction has {actual}")]
    CountMismatch {
        /// `inputs` or `outputs`.
        what: &'static str,
        /// How many the request describes.
        described: usize,
        /// How many the transaction has.
        actual: usize,
    },
    /// The transaction carries a `script_sig` already.
    #[error(
        "input {input} of the request's transaction is already signed: a request carries the unsigned transaction"
    )]
    AlreadySigned {
        /// The input.
        input: usize,
    },
    /// A hash type that is not ALL, NONE or SINGLE (with or without ANYONECANPAY).
    #[error("input {input}: {source}")]
    Sighash {
        /// The input.
        input: usize,
        /// What is wrong.
        source: SighashError,
    },
    /// The redeem script does not hash to the P2SH coin's script, or a P2SH coin has none.
    #[error("input {input}: the redeem script does not match the P2SH coin it spends")]
    RedeemScriptMismatch {
        /// The input.
        input: usize,
    },
    /// The spent script is not one a request can complete.
    #[error(
        "input {input}: the coin's script is neither P2PKH nor P2SH over a multisig script; a \
         signing request cannot complete it"
    )]
    UnsupportedScript {
        /// The input.
        input: usize,
    },
    /// A signature by a key that cannot sign this input.
    #[error("input {input}: key {pubkey} cannot sign this coin")]
    ForeignKey {
        /// The input.
        input: usize,
        /// The key, hex.
        pubkey: String,
    },
    /// A signature that does not verify.
    #[error("input {input}: the signature by key {pubkey} does not verify")]
    InvalidSignature {
        /// The input.
        input: usize,
        /// The key, hex.
        pubkey: String,
    },
    /// Signatures not sorted by key, or two by one key.
    #[error("input {input}: signatures must be sorted by key, one per key")]
    UnsortedSignatures {
        /// The input.
        input: usize,
    },
    /// Combining requests for different chains.
    #[error("the requests are for different chains")]
    DifferentChain,
    /// Combining requests for different transactions (or the same one spending coins
    /// described differently).
    #[error("the requests are for different transactions (unsigned ids {ours} and {theirs})")]
    DifferentTransaction {
        /// This request's transaction.
        ours: Txid,
        /// The other's.
        theirs: Txid,
    },
    /// Two valid but different signatures by one key for one input.
    #[error("input {input}: the requests hold different signatures by key {pubkey}")]
    ConflictingSignatures {
        /// The input.
        input: usize,
        /// The key, hex.
        pubkey: String,
    },
    /// Combining added nothing: the other request's signatures are all here already.
    #[error("nothing to combine: every signature of the other request is in this one already")]
    NothingToCombine,
    /// Finalising before an input has enough signatures.
    #[error("input {input} has {have} of the {need} signatures it needs")]
    Incomplete {
        /// The input.
        input: usize,
        /// Valid signatures present.
        have: usize,
        /// Signatures needed.
        need: usize,
    },
    /// Inputs worth less than the outputs.
    #[error("the inputs are worth less than the outputs")]
    NegativeFee,
}

/// How an input gets completed.
enum Spend<'a> {
    /// One signature by the key with this hash.
    P2pkh { pubkey_hash: [u8; 20] },
    /// `required` signatures by `pubkeys`, in their order, behind `redeem`.
    Multisig {
        required: usize,
        pubkeys: Vec<Vec<u8>>,
        redeem: &'a Script,
    },
}

impl Spend<'_> {
    fn can_sign(&self, pubkey: &[u8; 33]) -> bool {
        match self {
            Spend::P2pkh { pubkey_hash } => hash160(pubkey) == *pubkey_hash,
            Spend::Multisig { pubkeys, .. } => pubkeys.iter().any(|k| k[..] == pubkey[..]),
        }
    }

    fn needed(&self) -> usize {
        match self {
            Spend::P2pkh { .. } => 1,
            Spend::Multisig { required, .. } => *required,
        }
    }
}

/// Where one input stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputStatus {
    /// Signatures present.
    pub have: usize,
    /// Signatures needed (`None`: a script a request cannot complete).
    pub need: Option<usize>,
}

fn hex_key(pubkey: &[u8; 33]) -> String {
    hex::encode(pubkey)
}

impl SigningRequest {
    /// A request for `tx` (unsigned) on `chain_id`, checked as a decoded one is.
    ///
    /// # Errors
    /// [`RequestError`] for what [`SigningRequest::decode`] would refuse.
    pub fn new(
        chain_id: Hash256,
        tx: Transaction,
        inputs: Vec<RequestInput>,
        outputs: Vec<RequestOutput>,
    ) -> Result<Self, RequestError> {
        let request = SigningRequest {
            chain_id,
            tx,
            inputs,
            outputs,
        };
        request.check()?;
        Ok(request)
    }

    /// The byte encoding (see the module docs).
    pub fn encode_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.push(VERSION);
        self.encode_to(&mut out);
        out
    }

    /// Decodes and checks [`SigningRequest::encode_bytes`].
    ///
    /// # Errors
    /// [`RequestError`] saying what is wrong.
    pub fn decode_bytes(bytes: &[u8]) -> Result<Self, RequestError> {
        let rest = bytes
            .strip_prefix(&MAGIC[..])
            .ok_or(RequestError::BadMagic)?;
        let (&version, body) = rest.split_first().ok_or(RequestError::BadMagic)?;
        if version != VERSION {
            return Err(RequestError::UnsupportedVersion(version));
        }
        let request: SigningRequest = decode_strict(body, MAX_REQUEST_SIZE, "signing request")?;
        request.check()?;
        Ok(request)
    }

    /// The base64 text form.
    pub fn to_text(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.encode_bytes())
    }

    /// Decodes and checks the base64 text form (surrounding whitespace ignored).
    ///
    /// # Errors
    /// [`RequestError`] saying what is wrong.
    pub fn from_text(text: &str) -> Result<Self, RequestError> {
        let text = text.trim();
        if text.len() > MAX_REQUEST_SIZE.div_ceil(3) * 4 {
            return Err(RequestError::Decode(DecodeError::TooLarge {
                what: "signing request",
                got: text.len() / 4 * 3,
                max: MAX_REQUEST_SIZE,
            }));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| RequestError::Base64(e.to_string()))?;
        Self::decode_bytes(&bytes)
    }

    /// The id of the unsigned transaction, which names the request (the signed transaction's
    /// id differs: signatures are part of it, as in Bitcoin before segwit).
    pub fn unsigned_txid(&self) -> Txid {
        self.tx.txid()
    }

    /// The fee: what the spent coins are worth beyond the outputs.
    ///
    /// # Errors
    /// [`RequestError::NegativeFee`].
    pub fn fee(&self) -> Result<Amount, RequestError> {
        let spent = Amount::checked_sum(self.inputs.iter().map(|i| i.spent.value));
        let paid = Amount::checked_sum(self.tx.outputs.iter().map(|o| o.value));
        spent
            .zip(paid)
            .and_then(|(s, p)| s.checked_sub(p))
            .ok_or(RequestError::NegativeFee)
    }

    /// Per input: signatures present and needed.
    pub fn status(&self) -> Vec<InputStatus> {
        self.inputs
            .iter()
            .enumerate()
            .map(|(i, input)| InputStatus {
                have: input.signatures.len(),
                need: self.spend(i).ok().map(|s| s.needed()),
            })
            .collect()
    }

    /// Whether every input has the signatures it needs.
    pub fn is_complete(&self) -> bool {
        self.status()
            .iter()
            .all(|s| s.need.is_some_and(|need| s.have >= need))
    }

    fn spend(&self, input: usize) -> Result<Spend<'_>, RequestError> {
        let data = &self.inputs[input];
        match templates::classify(&data.spent.script_pubkey) {
            Template::P2pkh { pubkey_hash } => Ok(Spend::P2pkh { pubkey_hash }),
            Template::P2sh { script_hash } => {
                let redeem = data
                    .redeem_script
                    .as_deref()
                    .filter(|r| hash160(r.as_bytes()) == script_hash)
                    .ok_or(RequestError::RedeemScriptMismatch { input })?;
                match templates::classify(redeem) {
                    Template::Multisig { required, pubkeys } => Ok(Spend::Multisig {
                        required: required as usize,
                        pubkeys,
                        redeem,
                    }),
                    _ => Err(RequestError::UnsupportedScript { input }),
                }
            }
            _ => Err(RequestError::UnsupportedScript { input }),
        }
    }

    /// The script code the signature hash of `input` commits to.
    fn script_code(&self, input: usize, spend: &Spend<'_>) -> ScriptBuf {
        match spend {
            Spend::P2pkh { .. } => self.inputs[input].spent.script_pubkey.clone(),
            Spend::Multisig { redeem, .. } => (*redeem).to_owned(),
        }
    }

    fn sighash(
        &self,
        cache: &SighashCache<'_>,
        input: usize,
        spend: &Spend<'_>,
    ) -> Result<[u8; 32], RequestError> {
        let data = &self.inputs[input];
        cache
            .signature_hash(
                &self.chain_id,
                input,
                &self.script_code(input, spend),
                data.spent.value,
                data.hash_type,
            )
            .map_err(|source| RequestError::Sighash { input, source })
    }

    /// The checks [`SigningRequest::decode_bytes`] makes.
    fn check(&self) -> Result<(), RequestError> {
        for (what, described, actual) in [
            ("inputs", self.inputs.len(), self.tx.inputs.len()),
            ("outputs", self.outputs.len(), self.tx.outputs.len()),
        ] {
            if described != actual {
                return Err(RequestError::CountMismatch {
                    what,
                    described,
                    actual,
                });
            }
        }
        if let Some(input) = self.tx.inputs.iter().position(|i| !i.script_sig.is_empty()) {
            return Err(RequestError::AlreadySigned { input });
        }
        let cache = SighashCache::new(&self.tx);
        for (input, data) in self.inputs.iter().enumerate() {
            if data.spent.script_pubkey.is_p2sh() || data.redeem_script.is_some() {
                self.spend(input).map(drop).or_else(|e| match e {
                    RequestError::UnsupportedScript { .. } => Ok(()),
                    e => Err(e),
                })?;
            }
            if data
                .signatures
                .windows(2)
                .any(|w| w[0].pubkey >= w[1].pubkey)
            {
                return Err(RequestError::UnsortedSignatures { input });
            }
            if data.signatures.is_empty() {
                // Still catch an undefined hash type before anyone signs with it.
                cache
                    .signature_hash(
                        &self.chain_id,
                        input,
                        Script::from_bytes(&[]),
                        data.spent.value,
                        data.hash_type,
                    )
                    .map_err(|source| RequestError::Sighash { input, source })?;
                continue;
            }
            let spend = self.spend(input)?;
            let sighash = self.sighash(&cache, input, &spend)?;
            for sig in &data.signatures {
                if !spend.can_sign(&sig.pubkey) {
                    return Err(RequestError::ForeignKey {
                        input,
                        pubkey: hex_key(&sig.pubkey),
                    });
                }
                if !verify(&sig.signature, &sig.pubkey, &sighash, data.hash_type) {
                    return Err(RequestError::InvalidSignature {
                        input,
                        pubkey: hex_key(&sig.pubkey),
                    });
                }
            }
        }
        Ok(())
    }

    /// Signs, with `key`, every input it can sign and has not signed yet. Returns how many
    /// inputs it signed (0: the key has nothing to sign here).
    ///
    /// # Errors
    /// [`RequestError::Sighash`] (cannot happen on a checked request).
    pub fn sign_with(&mut self, key: &SecretKey) -> Result<usize, RequestError> {
        let pubkey = PublicKey::from_secret_key(key).serialize();
        let cache = SighashCache::new(&self.tx);
        let mut new = Vec::new();
        for input in 0..self.inputs.len() {
            let Ok(spend) = self.spend(input) else {
                continue;
            };
            let data = &self.inputs[input];
            if !spend.can_sign(&pubkey) || data.signatures.iter().any(|s| s.pubkey == pubkey) {
                continue;
            }
            let sighash = self.sighash(&cache, input, &spend)?;
            let mut signature = ecdsa::sign(Message::from_digest(sighash), key)
                .serialize_der()
                .to_vec();
            signature.push(data.hash_type);
            new.push((input, PartialSignature { pubkey, signature }));
        }
        let signed = new.len();
        for (input, sig) in new {
            self.add_signature(input, sig);
        }
        Ok(signed)
    }

    fn add_signature(&mut self, input: usize, sig: PartialSignature) {
        let sigs = &mut self.inputs[input].signatures;
        let at = sigs.partition_point(|s| s.pubkey < sig.pubkey);
        sigs.insert(at, sig);
    }

    /// Adds `other`'s signatures (and redeem scripts and key paths this one lacks) to this
    /// request. Returns how many signatures it added.
    ///
    /// # Errors
    /// Requests for different chains or transactions, two different signatures by one key, or
    /// nothing to add ([`RequestError::NothingToCombine`]: the same request combined twice).
    pub fn combine(&mut self, other: &SigningRequest) -> Result<usize, RequestError> {
        if other.chain_id != self.chain_id {
            return Err(RequestError::DifferentChain);
        }
        let (ours, theirs) = (self.unsigned_txid(), other.unsigned_txid());
        // The txid leaves out the spent outputs: those must agree as well.
        let spent_differs = self
            .inputs
            .iter()
            .zip(&other.inputs)
            .any(|(a, b)| a.spent != b.spent || a.hash_type != b.hash_type);
        if ours != theirs || spent_differs {
            return Err(RequestError::DifferentTransaction { ours, theirs });
        }
        let mut merged = self.clone();
        let mut added = 0;
        for (input, (mine, theirs)) in merged.inputs.iter_mut().zip(&other.inputs).enumerate() {
            if mine.redeem_script.is_none() {
                mine.redeem_script.clone_from(&theirs.redeem_script);
            }
            for key in &theirs.keys {
                if !mine.keys.iter().any(|k| k.pubkey == key.pubkey) {
                    mine.keys.push(key.clone());
                }
            }
            for sig in &theirs.signatures {
                match mine.signatures.iter().find(|s| s.pubkey == sig.pubkey) {
                    Some(same) if same.signature == sig.signature => {}
                    Some(_) => {
                        return Err(RequestError::ConflictingSignatures {
                            input,
                            pubkey: hex_key(&sig.pubkey),
                        });
                    }
                    None => {
                        let at = mine.signatures.partition_point(|s| s.pubkey < sig.pubkey);
                        mine.signatures.insert(at, sig.clone());
                        added += 1;
                    }
                }
            }
        }
        for (mine, theirs) in merged.outputs.iter_mut().zip(&other.outputs) {
            for key in &theirs.keys {
                if !mine.keys.iter().any(|k| k.pubkey == key.pubkey) {
                    mine.keys.push(key.clone());
                }
            }
        }
        if added == 0 {
            return Err(RequestError::NothingToCombine);
        }
        // A redeem script taken from the other side is checked like any.
        merged.check()?;
        *self = merged;
        Ok(added)
    }

    /// The signed transaction, once every input has the signatures it needs.
    ///
    /// # Errors
    /// What [`SigningRequest::decode_bytes`] would refuse (for a request built by hand);
    /// [`RequestError::Incomplete`] for the first input short of signatures;
    /// [`RequestError::UnsupportedScript`] / [`RequestError::RedeemScriptMismatch`] for one
    /// that a request cannot complete.
    pub fn finalize(&self) -> Result<Transaction, RequestError> {
        // The fields are public: a request built by hand is checked as a decoded one is.
        self.check()?;
        let mut tx = self.tx.clone();
        for (input, data) in self.inputs.iter().enumerate() {
            let spend = self.spend(input)?;
            let have = data.signatures.len();
            let need = spend.needed();
            if have < need {
                return Err(RequestError::Incomplete { input, have, need });
            }
            tx.inputs[input].script_sig = match &spend {
                Spend::P2pkh { .. } => {
                    let sig = &data.signatures[0];
                    templates::p2pkh_script_sig(&sig.signature, &sig.pubkey)
                }
                Spend::Multisig {
                    pubkeys, redeem, ..
                } => {
                    // CHECKMULTISIG matches signatures to keys in the script's order.
                    let sigs: Vec<&[u8]> = pubkeys
                        .iter()
                        .filter_map(|k| {
                            data.signatures
                                .iter()
                                .find(|s| s.pubkey[..] == k[..])
                                .map(|s| &s.signature[..])
                        })
                        .take(need)
                        .collect();
                    templates::p2sh_script_sig(&templates::multisig_script_sig(&sigs), redeem)
                }
            };
        }
        Ok(tx)
    }
}

/// Whether `signature` (DER ‖ hash type) by `pubkey` signs `sighash` with `hash_type`.
fn verify(signature: &[u8], pubkey: &[u8; 33], sighash: &[u8; 32], hash_type: u8) -> bool {
    let Some((&last, der)) = signature.split_last() else {
        return false;
    };
    let (Ok(key), Ok(sig)) = (
        PublicKey::from_slice(pubkey),
        ecdsa::Signature::from_der(der),
    ) else {
        return false;
    };
    // Only low-S signatures are standard; a signer here always makes them.
    let mut normalized = sig;
    normalized.normalize_s();
    last == hash_type
        && normalized == sig
        && ecdsa::verify(&sig, Message::from_digest(*sighash), &key).is_ok()
}

/// `SIGHASH_ALL`: the hash type funders use unless told otherwise.
pub const DEFAULT_HASH_TYPE: u8 = SIGHASH_ALL;

#[cfg(test)]
mod tests;
