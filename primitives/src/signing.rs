//! Wallet-side signing of pay-to-public-key-hash inputs.

use i8o8i_script_vm::ScriptBuf;
use i8o8i_script_vm::templates::{hash160, p2pkh, p2pkh_script_sig};
use secp256k1::{Message, PublicKey, SecretKey, ecdsa};

use crate::amount::Amount;
use crate::hash::Hash256;
use crate::sighash::{SighashCache, SighashError};
use crate::transaction::Transaction;

/// The `script_sig` that spends a P2PKH output of `secret_key`'s compressed public key from input
/// `input_index` of the cache's transaction: `<DER signature ‖ hash_type> <pubkey>`. The
/// signature is low-S (libsecp256k1 always produces low S) and covers the signature hash with the
/// P2PKH script as script code.
///
/// Taking a [`SighashCache`] lets a wallet sign every input of a transaction in linear time, then
/// assign the script_sigs (they are not covered by the signature hash).
///
/// # Errors
/// The [`SighashError`] of [`SighashCache::signature_hash`].
pub fn p2pkh_script_sig_for(
    cache: &SighashCache<'_>,
    chain_id: &Hash256,
    input_index: usize,
    secret_key: &SecretKey,
    spent_value: Amount,
    hash_type: u8,
) -> Result<ScriptBuf, SighashError> {
    let pubkey = PublicKey::from_secret_key(secret_key).serialize();
    let script_code = p2pkh(&hash160(&pubkey));
    let sighash =
        cache.signature_hash(chain_id, input_index, &script_code, spent_value, hash_type)?;
    let signature = ecdsa::sign(Message::from_digest(sighash), secret_key);
    let mut sig = signature.serialize_der().to_vec();
    sig.push(hash_type);
    Ok(p2pkh_script_sig(&sig, &pubkey))
}

/// Signs input `index` of `tx`, which spends a P2PKH output of `secret_key`'s compressed public
/// key worth `spent_value`, and sets its `script_sig` (see [`p2pkh_script_sig_for`]).
///
/// Recomputes the transaction-wide hashes on every call; to sign many inputs use
/// [`p2pkh_script_sig_for`] with one [`SighashCache`].
///
/// # Errors
/// The [`SighashError`] of [`SighashCache::signature_hash`]; `tx` is unchanged then.
pub fn sign_p2pkh_input(
    tx: &mut Transaction,
    index: usize,
    secret_key: &SecretKey,
    spent_value: Amount,
    chain_id: &Hash256,
    hash_type: u8,
) -> Result<(), SighashError> {
    let script_sig = p2pkh_script_sig_for(
        &SighashCache::new(tx),
        chain_id,
        index,
        secret_key,
        spent_value,
        hash_type,
    )?;
    // signature_hash succeeded, so `index` is in range.
    if let Some(input) = tx.inputs.get_mut(index) {
        input.script_sig = script_sig;
    }
    Ok(())
}
