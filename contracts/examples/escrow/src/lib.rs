//! An escrow holding coins of the chain itself: the depositor funds it with `deposit` (value
//! sent with the call), the arbiter may `release` everything to the beneficiary, and from
//! `reclaim_height` on the depositor may `reclaim` it. Payouts are transfer outputs of the
//! calling transaction.
//!
//! Events: `Deposited` — topics `[topic("Deposited"), from]`, data SCALE(amount: u64);
//! `Released` / `Reclaimed` — topics `[name, to]`, data SCALE(amount: u64).

#![no_std]

extern crate alloc;

use i8o8i_contract_sdk::storage::Item;
use i8o8i_contract_sdk::{
    Account, Amount, Encode, account_topic, balance, block_height, caller, emit_event,
    entry_points, require, revert, topic, transfer, value_received,
};

static DEPOSITOR: Item<Account> = Item::new(b"d");
static ARBITER: Item<Account> = Item::new(b"a");
static BENEFICIARY: Item<Account> = Item::new(b"b");
static RECLAIM_HEIGHT: Item<u64> = Item::new(b"h");

entry_points! {
    deploy fn init(arbiter: Account, beneficiary: Account, reclaim_height: u64);
    fn deposit();
    fn release();
    fn reclaim();
    fn info() -> (Account, Account, Account, u64, u64);
    event Deposited(#[topic] from: Account, amount: u64);
    event Released(#[topic] to: Account, amount: u64);
    event Reclaimed(#[topic] to: Account, amount: u64);
}

fn get(item: &Item<Account>) -> Account {
    item.get().unwrap_or_else(|| revert("not initialised"))
}

/// Constructor: the deployer is the depositor.
pub fn init(arbiter: Account, beneficiary: Account, reclaim_height: u64) {
    DEPOSITOR.set(&caller());
    ARBITER.set(&arbiter);
    BENEFICIARY.set(&beneficiary);
    RECLAIM_HEIGHT.set(&reclaim_height);
}

/// Adds the value sent with the call to the escrow.
pub fn deposit() {
    let amount = value_received();
    require(amount > 0, "send value with deposit");
    emit_event(
        &[topic("Deposited"), account_topic(&caller())],
        &amount.encode(),
    );
}

/// Pays everything held to the beneficiary; only the arbiter may.
pub fn release() {
    require(caller() == get(&ARBITER), "only the arbiter may release");
    pay_out(&get(&BENEFICIARY), topic("Released"));
}

/// Pays everything held back to the depositor, once the reclaim height is reached.
pub fn reclaim() {
    let depositor = get(&DEPOSITOR);
    require(caller() == depositor, "only the depositor may reclaim");
    let at = RECLAIM_HEIGHT.get_or_default();
    if block_height() < at {
        revert("too early to reclaim");
    }
    pay_out(&depositor, topic("Reclaimed"));
}

/// (depositor, arbiter, beneficiary, reclaim height, balance held).
pub fn info() -> (Account, Account, Account, u64, Amount) {
    (
        get(&DEPOSITOR),
        get(&ARBITER),
        get(&BENEFICIARY),
        RECLAIM_HEIGHT.get_or_default(),
        balance(),
    )
}

fn pay_out(to: &Account, event: [u8; 32]) {
    let amount = balance();
    require(amount > 0, "nothing to pay out");
    if transfer(to, amount).is_err() {
        revert("balance changed during the call");
    }
    emit_event(&[event, account_topic(to)], &amount.encode());
}

#[cfg(test)]
mod tests {
    use super::*;
    use i8o8i_contract_sdk::testing::{self, TestEnv};

    fn account(n: u8) -> Account {
        Account(alloc::vec![0x76, 0xa9, 0x14, n])
    }
    const DEPOSITOR_N: u8 = 1;
    const ARBITER_N: u8 = 2;
    const BENEFICIARY_N: u8 = 3;

    fn funded() {
        testing::reset(TestEnv::default().with_caller(account(DEPOSITOR_N)));
        testing::set_block(10, 0);
        init(account(ARBITER_N), account(BENEFICIARY_N), 100);
        testing::receive(5_000);
        deposit();
    }

    #[test]
    fn arbiter_releases_to_beneficiary() {
        funded();
        testing::set_caller(account(BENEFICIARY_N));
        assert_eq!(
            testing::expect_revert(release),
            "only the arbiter may release"
        );
        testing::set_caller(account(ARBITER_N));
        release();
        assert_eq!(testing::transfers(), [(account(BENEFICIARY_N), 5_000)]);
        assert_eq!(balance(), 0);
    }

    #[test]
    fn depositor_reclaims_only_after_the_height() {
        funded();
        assert_eq!(testing::expect_revert(reclaim), "too early to reclaim");
        testing::set_block(100, 0);
        reclaim();
        assert_eq!(testing::transfers(), [(account(DEPOSITOR_N), 5_000)]);
        assert_eq!(testing::expect_revert(reclaim), "nothing to pay out");
    }

    #[test]
    fn deposit_needs_value() {
        funded();
        testing::receive(0);
        assert_eq!(testing::expect_revert(deposit), "send value with deposit");
    }
}
