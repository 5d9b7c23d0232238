//! An escrow of tokens (an `i8o8i-token` contract's) rather than of coins: the depositor
//! moves tokens in with `deposit` (the token's `transfer_from`, against an approval of this
//! escrow's account), and the arbiter sends everything held to the beneficiary (`release`) or
//! back to the depositor (`refund`) with the token's `transfer`. The tokens sit in the token
//! contract under this escrow's account ([`Account::contract`]).
//!
//! Events: `Deposited` — topics `[name, from]`, data SCALE(amount: u128); `Released` /
//! `Refunded` — topics `[name, to]`, data SCALE(amount: u128).

#![no_std]

extern crate alloc;

use alloc::format;

use i8o8i_contract_sdk::storage::Item;
use i8o8i_contract_sdk::{
    Account, Address, Call, Encode, account_topic, address, caller, emit_event, entry_points,
    require, revert, revert_owned, topic,
};

static TOKEN: Item<Address> = Item::new(b"t");
static ARBITER: Item<Account> = Item::new(b"a");
static BENEFICIARY: Item<Account> = Item::new(b"b");
static DEPOSITOR: Item<Account> = Item::new(b"d");
static HELD: Item<u128> = Item::new(b"h");

entry_points! {
    deploy fn init(token: Address, arbiter: Account, beneficiary: Account);
    fn deposit(amount: u128);
    fn release();
    fn refund();
    fn held() -> u128;
    event Deposited(#[topic] from: Account, amount: u128);
    event Released(#[topic] to: Account, amount: u128);
    event Refunded(#[topic] to: Account, amount: u128);
}

fn get<T: i8o8i_contract_sdk::Decode + Encode>(item: &Item<T>) -> T {
    item.get().unwrap_or_else(|| revert("not initialised"))
}

/// Constructor: the token held, who decides, and who is paid on release.
pub fn init(token: Address, arbiter: Account, beneficiary: Account) {
    TOKEN.set(&token);
    ARBITER.set(&arbiter);
    BENEFICIARY.set(&beneficiary);
}

/// Moves `amount` of the caller's tokens into the escrow (approve this escrow's account on
/// the token first). One depositor: the first one's later deposits add up, others are refused.
pub fn deposit(amount: u128) {
    require(amount > 0, "deposit at least one token");
    let from = caller();
    match DEPOSITOR.get() {
        Some(depositor) => require(depositor == from, "another account has deposited"),
        None => DEPOSITOR.set(&from),
    }
    Call::new(get(&TOKEN), "transfer_from")
        .arg(&from)
        .arg(&Account::contract(&address()))
        .arg(&amount)
        .invoke::<()>()
        .unwrap_or_else(|e| revert_owned(format!("token transfer_from: {e}")));
    let held = HELD
        .get_or_default()
        .checked_add(amount)
        .unwrap_or_else(|| revert("amount too large"));
    HELD.set(&held);
    emit_event(
        &[topic("Deposited"), account_topic(&from)],
        &amount.encode(),
    );
}

/// The arbiter pays everything held to the beneficiary.
pub fn release() {
    let to = get(&BENEFICIARY);
    pay_out(&to, topic("Released"));
}

/// The arbiter returns everything held to the depositor.
pub fn refund() {
    let to = DEPOSITOR
        .get()
        .unwrap_or_else(|| revert("nothing deposited"));
    pay_out(&to, topic("Refunded"));
}

/// Tokens held.
pub fn held() -> u128 {
    HELD.get_or_default()
}

fn pay_out(to: &Account, name: [u8; 32]) {
    require(caller() == get(&ARBITER), "only the arbiter may pay out");
    let amount = held();
    require(amount > 0, "nothing held");
    HELD.set(&0);
    Call::new(get(&TOKEN), "transfer")
        .arg(to)
        .arg(&amount)
        .invoke::<()>()
        .unwrap_or_else(|e| revert_owned(format!("token transfer: {e}")));
    emit_event(&[name, account_topic(to)], &amount.encode());
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use i8o8i_contract_sdk::testing::{self, TestEnv};

    const TOKEN_CONTRACT: Address = [0x70; 32];

    fn account(n: u8) -> Account {
        Account(alloc::vec![0x76, 0xa9, 0x14, n])
    }

    fn token_ok(_: &[u8], _: u64) -> Result<Vec<u8>, alloc::string::String> {
        Ok(Vec::new())
    }

    #[test]
    fn deposits_add_up_and_only_the_arbiter_pays_out() {
        testing::reset(TestEnv::default().with_caller(account(1)));
        testing::mock_contract(TOKEN_CONTRACT, token_ok);
        init(TOKEN_CONTRACT, account(2), account(3));
        deposit(100);
        deposit(50);
        assert_eq!(held(), 150);
        testing::set_caller(account(4));
        assert_eq!(
            testing::expect_revert(|| deposit(1)),
            "another account has deposited"
        );
        assert_eq!(
            testing::expect_revert(release),
            "only the arbiter may pay out"
        );
        testing::set_caller(account(2));
        release();
        assert_eq!(held(), 0);
        assert_eq!(testing::expect_revert(refund), "nothing held");
    }
}
