//! The seed's token as a Wasm contract: a fixed owner who may mint, balances, transfers,
//! burning, and ERC-20-style allowances, with `Transfer` and `Approval` events.
//!
//! Build: `i8o8icoin contract build contracts/examples/token` (see the README). Events:
//! `Transfer` — topics `[topic("Transfer"), from, to]` (an empty account for mint / burn),
//! data SCALE(amount: u128); `Approval` — topics `[topic("Approval"), owner, spender]`, data
//! SCALE(amount: u128).

#![no_std]

extern crate alloc;

use alloc::string::String;

use i8o8i_contract_sdk::storage::{Item, Map};
use i8o8i_contract_sdk::{
    Account, Encode, account_topic, caller, emit_event, entry_points, require, revert, topic,
};

static NAME: Item<String> = Item::new(b"n");
static SYMBOL: Item<String> = Item::new(b"y");
static OWNER: Item<Account> = Item::new(b"o");
static SUPPLY: Item<u128> = Item::new(b"s");
static BALANCES: Map<Account, u128> = Map::new(b"b");
static ALLOWANCES: Map<(Account, Account), u128> = Map::new(b"a");

const TRANSFER: [u8; 32] = topic("Transfer");
const APPROVAL: [u8; 32] = topic("Approval");

entry_points! {
    deploy fn init(name: String, symbol: String, supply: u128);
    fn name() -> String;
    fn symbol() -> String;
    fn owner() -> Account;
    fn total_supply() -> u128;
    fn balance_of(owner: Account) -> u128;
    fn transfer(to: Account, amount: u128);
    fn mint(to: Account, amount: u128);
    fn burn(amount: u128);
    fn approve(spender: Account, amount: u128);
    fn allowance(owner: Account, spender: Account) -> u128;
    fn transfer_from(from: Account, to: Account, amount: u128);
    event Transfer(#[topic] from: Account, #[topic] to: Account, amount: u128);
    event Approval(#[topic] owner: Account, #[topic] spender: Account, amount: u128);
}

/// Constructor: the deployer becomes the owner and receives `supply`.
pub fn init(name: String, symbol: String, supply: u128) {
    let owner = caller();
    NAME.set(&name);
    SYMBOL.set(&symbol);
    OWNER.set(&owner);
    SUPPLY.set(&0);
    mint_to(&owner, supply);
}

/// The token's name.
pub fn name() -> String {
    NAME.get_or_default()
}

/// The token's ticker symbol.
pub fn symbol() -> String {
    SYMBOL.get_or_default()
}

/// The account allowed to mint.
pub fn owner() -> Account {
    OWNER.get().unwrap_or_else(|| revert("not initialised"))
}

/// Tokens in existence.
pub fn total_supply() -> u128 {
    SUPPLY.get_or_default()
}

/// `owner`'s balance.
pub fn balance_of(owner: Account) -> u128 {
    BALANCES.get_or_default(&owner)
}

/// Moves `amount` from the caller to `to`.
pub fn transfer(to: Account, amount: u128) {
    move_tokens(&caller(), &to, amount);
}

/// Creates `amount` new tokens for `to`; only the owner may.
pub fn mint(to: Account, amount: u128) {
    require(caller() == owner(), "only the owner may mint");
    mint_to(&to, amount);
}

/// Destroys `amount` of the caller's tokens.
pub fn burn(amount: u128) {
    let from = caller();
    let balance = BALANCES.get_or_default(&from);
    require(balance >= amount, "burn amount exceeds balance");
    BALANCES.insert(&from, &(balance - amount));
    // The supply is at least any balance, so this cannot underflow.
    SUPPLY.set(&(SUPPLY.get_or_default() - amount));
    emit_transfer(&from, &Account(alloc::vec::Vec::new()), amount);
}

/// Lets `spender` move up to `amount` of the caller's tokens (replacing any earlier allowance).
pub fn approve(spender: Account, amount: u128) {
    let owner = caller();
    ALLOWANCES.insert(&(owner.clone(), spender.clone()), &amount);
    emit_event(
        &[APPROVAL, account_topic(&owner), account_topic(&spender)],
        &amount.encode(),
    );
}

/// What `spender` may still move of `owner`'s tokens.
pub fn allowance(owner: Account, spender: Account) -> u128 {
    ALLOWANCES.get_or_default(&(owner, spender))
}

/// Moves `amount` from `from` to `to` against the caller's allowance from `from`.
pub fn transfer_from(from: Account, to: Account, amount: u128) {
    let spender = caller();
    let key = (from.clone(), spender);
    let allowed = ALLOWANCES.get_or_default(&key);
    require(allowed >= amount, "transfer amount exceeds allowance");
    ALLOWANCES.insert(&key, &(allowed - amount));
    move_tokens(&from, &to, amount);
}

fn move_tokens(from: &Account, to: &Account, amount: u128) {
    let from_balance = BALANCES.get_or_default(from);
    require(from_balance >= amount, "transfer amount exceeds balance");
    BALANCES.insert(from, &(from_balance - amount));
    // Balances sum to the supply, which is a u128, so no single balance can overflow.
    let to_balance = BALANCES.get_or_default(to);
    BALANCES.insert(to, &(to_balance + amount));
    emit_transfer(from, to, amount);
}

fn mint_to(to: &Account, amount: u128) {
    let supply = SUPPLY
        .get_or_default()
        .checked_add(amount)
        .unwrap_or_else(|| revert("supply overflow"));
    SUPPLY.set(&supply);
    BALANCES.insert(to, &(BALANCES.get_or_default(to) + amount));
    emit_transfer(&Account(alloc::vec::Vec::new()), to, amount);
}

fn emit_transfer(from: &Account, to: &Account, amount: u128) {
    emit_event(
        &[TRANSFER, account_topic(from), account_topic(to)],
        &amount.encode(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use i8o8i_contract_sdk::testing::{self, TestEnv};

    fn account(n: u8) -> Account {
        Account(alloc::vec![0x76, 0xa9, 0x14, n])
    }

    fn setup() {
        testing::reset(TestEnv::default().with_caller(account(1)));
        init("Seed".into(), "SEED".into(), 1_000);
    }

    #[test]
    fn deployer_owns_the_initial_supply() {
        setup();
        assert_eq!(total_supply(), 1_000);
        assert_eq!(balance_of(account(1)), 1_000);
        assert_eq!(owner(), account(1));
        assert_eq!((name().as_str(), symbol().as_str()), ("Seed", "SEED"));
    }

    #[test]
    fn transfer_moves_balance_and_emits() {
        setup();
        transfer(account(2), 300);
        assert_eq!(balance_of(account(1)), 700);
        assert_eq!(balance_of(account(2)), 300);
        let events = testing::events();
        let last = events.last().unwrap();
        assert_eq!(last.0[0], TRANSFER);
        assert_eq!(last.0[2], account_topic(&account(2)));
        assert_eq!(last.1, 300u128.encode());
        assert_eq!(
            testing::expect_revert(|| transfer(account(2), 701)),
            "transfer amount exceeds balance"
        );
        assert_eq!(balance_of(account(1)), 700);
    }

    #[test]
    fn only_the_owner_mints() {
        setup();
        testing::set_caller(account(2));
        assert_eq!(
            testing::expect_revert(|| mint(account(2), 5)),
            "only the owner may mint"
        );
        testing::set_caller(account(1));
        mint(account(2), 5);
        assert_eq!((total_supply(), balance_of(account(2))), (1_005, 5));
    }

    #[test]
    fn allowances_limit_transfer_from() {
        setup();
        approve(account(2), 100);
        assert_eq!(allowance(account(1), account(2)), 100);
        testing::set_caller(account(2));
        transfer_from(account(1), account(3), 60);
        assert_eq!(allowance(account(1), account(2)), 40);
        assert_eq!(balance_of(account(3)), 60);
        assert_eq!(
            testing::expect_revert(|| transfer_from(account(1), account(3), 41)),
            "transfer amount exceeds allowance"
        );
    }

    #[test]
    fn burn_reduces_supply() {
        setup();
        burn(400);
        assert_eq!((total_supply(), balance_of(account(1))), (600, 600));
        assert_eq!(
            testing::expect_revert(|| burn(601)),
            "burn amount exceeds balance"
        );
    }

    #[test]
    fn dispatch_decodes_scale_input() {
        setup();
        let out = testing::call(call_entry, ("balance_of", account(1)).encode());
        assert_eq!(out, 1_000u128.encode());
        let reason = testing::expect_revert(|| testing::call(call_entry, ("steal",).encode()));
        assert_eq!(reason, "unknown method `steal`");
        let reason =
            testing::expect_revert(|| testing::call(call_entry, ("transfer", account(2)).encode()));
        assert_eq!(reason, "invalid argument `amount`");
        assert!(
            ABI.contains("\ntransfer(to: Account, amount: u128)\n")
                && ABI.ends_with(
                    "\nevent Transfer(topic from: Account, topic to: Account, amount: u128)\n\
                     event Approval(topic owner: Account, topic spender: Account, amount: u128)\n"
                ),
            "{ABI}"
        );
        assert!(ABI.starts_with("deploy init(name: String, symbol: String, supply: u128)\n"));
    }
}
