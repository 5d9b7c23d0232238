//! A constant-product exchange (Uniswap v1's design) between one token — an `i8o8i-token`
//! contract — and I8O, the chain's coin. It holds both reserves: the coins in its own
//! balance, the tokens in the token contract under its account ([`Account::contract`]), and
//! it moves tokens by calling the token contract (`transfer_from` to pull what a trader
//! approved, `transfer` to pay out).
//!
//! A swap of `x` in against reserves `(X, Y)` pays out `⌊x·997·Y / (X·1000 + x·997)⌋`: the
//! product `X·Y` never falls, and the 0.3 % fee stays in the pool for its liquidity
//! providers, whose shares are minted in proportion to the coins they add.
//!
//! Before selling tokens or adding liquidity, approve the exchange's account on the token:
//! `approve(<exchange account>, amount)`.
//!
//! Events: `LiquidityAdded` / `LiquidityRemoved` — topics `[name, provider]`, data
//! SCALE(coins: u64, tokens: u128, shares: u128); `Swap` — topics `[name, trader]`, data
//! SCALE(coins_in: u64, tokens_in: u128, coins_out: u64, tokens_out: u128).

#![no_std]

extern crate alloc;

use alloc::format;

use i8o8i_contract_sdk::storage::{Item, Map};
use i8o8i_contract_sdk::{
    Account, Address, Amount, Call, Encode, account_topic, address, caller, emit_event,
    entry_points, require, revert, revert_owned, topic, transfer, value_received,
};

static TOKEN: Item<Address> = Item::new(b"t");
static COINS: Item<Amount> = Item::new(b"c");
static TOKENS: Item<u128> = Item::new(b"r");
static TOTAL_SHARES: Item<u128> = Item::new(b"s");
static SHARES: Map<Account, u128> = Map::new(b"h");

const ADDED: [u8; 32] = topic("LiquidityAdded");
const REMOVED: [u8; 32] = topic("LiquidityRemoved");
const SWAP: [u8; 32] = topic("Swap");

entry_points! {
    deploy fn init(token: Address);
    fn token() -> Address;
    fn reserves() -> (u64, u128);
    fn total_shares() -> u128;
    fn shares_of(owner: Account) -> u128;
    fn quote_coins_for_tokens(coins: u64) -> u128;
    fn quote_tokens_for_coins(tokens: u128) -> u64;
    fn add_liquidity(max_tokens: u128) -> u128;
    fn remove_liquidity(shares: u128) -> (u64, u128);
    fn swap_coins_for_tokens(min_tokens: u128) -> u128;
    fn swap_tokens_for_coins(tokens: u128, min_coins: u64) -> u64;
    event LiquidityAdded(#[topic] provider: Account, coins: u64, tokens: u128, shares: u128);
    event LiquidityRemoved(#[topic] provider: Account, coins: u64, tokens: u128, shares: u128);
    event Swap(#[topic] trader: Account, coins_in: u64, tokens_in: u128, coins_out: u64, tokens_out: u128);
}

/// Constructor: the token contract this exchange trades.
pub fn init(token: Address) {
    TOKEN.set(&token);
}

/// The token contract's address.
pub fn token() -> Address {
    TOKEN.get().unwrap_or_else(|| revert("not initialised"))
}

/// The pool: coins (base units) and tokens.
pub fn reserves() -> (u64, u128) {
    (COINS.get_or_default(), TOKENS.get_or_default())
}

/// Liquidity shares in existence.
pub fn total_shares() -> u128 {
    TOTAL_SHARES.get_or_default()
}

/// `owner`'s liquidity shares.
pub fn shares_of(owner: Account) -> u128 {
    SHARES.get_or_default(&owner)
}

/// What selling `coins` would pay in tokens now.
pub fn quote_coins_for_tokens(coins: u64) -> u128 {
    let (coin_reserve, token_reserve) = reserves();
    output(u128::from(coins), u128::from(coin_reserve), token_reserve)
}

/// What selling `tokens` would pay in coins now.
pub fn quote_tokens_for_coins(tokens: u128) -> u64 {
    let (coin_reserve, token_reserve) = reserves();
    to_coins(output(tokens, token_reserve, u128::from(coin_reserve)))
}

/// Adds the coins sent with the call and the matching tokens (at most `max_tokens`, pulled
/// from the caller's approval) to the pool; returns the shares minted. The first provider
/// sets the price with `max_tokens`.
pub fn add_liquidity(max_tokens: u128) -> u128 {
    let coins = value_received();
    require(coins > 0, "send coins with the call");
    let (coin_reserve, token_reserve) = reserves();
    let total = total_shares();
    let (tokens, shares) = if total == 0 {
        require(
            max_tokens > 0,
            "the first provider sets the price: max_tokens > 0",
        );
        (max_tokens, u128::from(coins))
    } else {
        // Round the tokens up and the shares down: the pool never loses to a provider.
        let tokens = mul_div(u128::from(coins), token_reserve, u128::from(coin_reserve)) + 1;
        require(
            tokens <= max_tokens,
            "the pool's price needs more than max_tokens",
        );
        (
            tokens,
            mul_div(u128::from(coins), total, u128::from(coin_reserve)),
        )
    };
    let provider = caller();
    pull_tokens(&provider, tokens);
    COINS.set(&checked(u128::from(coin_reserve) + u128::from(coins)));
    TOKENS.set(&checked_add(token_reserve, tokens));
    TOTAL_SHARES.set(&checked_add(total, shares));
    SHARES.insert(&provider, &checked_add(shares_of(provider.clone()), shares));
    emit_event(
        &[ADDED, account_topic(&provider)],
        &(coins, tokens, shares).encode(),
    );
    shares
}

/// Burns `shares` of the caller's and pays out their part of both reserves.
pub fn remove_liquidity(shares: u128) -> (u64, u128) {
    let provider = caller();
    let held = shares_of(provider.clone());
    require(shares > 0 && shares <= held, "not that many shares");
    let (coin_reserve, token_reserve) = reserves();
    let total = total_shares();
    let coins = to_coins(mul_div(shares, u128::from(coin_reserve), total));
    let tokens = mul_div(shares, token_reserve, total);
    SHARES.insert(&provider, &(held - shares));
    TOTAL_SHARES.set(&(total - shares));
    COINS.set(&(coin_reserve - coins));
    TOKENS.set(&(token_reserve - tokens));
    pay_coins(&provider, coins);
    pay_tokens(&provider, tokens);
    emit_event(
        &[REMOVED, account_topic(&provider)],
        &(coins, tokens, shares).encode(),
    );
    (coins, tokens)
}

/// Sells the coins sent with the call for at least `min_tokens`; returns the tokens paid.
pub fn swap_coins_for_tokens(min_tokens: u128) -> u128 {
    let coins = value_received();
    require(coins > 0, "send coins with the call");
    let (coin_reserve, token_reserve) = reserves();
    let tokens = output(u128::from(coins), u128::from(coin_reserve), token_reserve);
    if tokens < min_tokens {
        revert_owned(format!(
            "slippage: {tokens} tokens is below the minimum {min_tokens}"
        ));
    }
    COINS.set(&checked(u128::from(coin_reserve) + u128::from(coins)));
    TOKENS.set(&(token_reserve - tokens));
    let trader = caller();
    pay_tokens(&trader, tokens);
    emit_event(
        &[SWAP, account_topic(&trader)],
        &(coins, 0u128, 0u64, tokens).encode(),
    );
    tokens
}

/// Sells `tokens` (pulled from the caller's approval) for at least `min_coins`; returns the
/// coins paid.
pub fn swap_tokens_for_coins(tokens: u128, min_coins: u64) -> u64 {
    require(tokens > 0, "sell at least one token");
    let (coin_reserve, token_reserve) = reserves();
    let coins = to_coins(output(tokens, token_reserve, u128::from(coin_reserve)));
    if coins < min_coins {
        revert_owned(format!(
            "slippage: {coins} coins is below the minimum {min_coins}"
        ));
    }
    let trader = caller();
    pull_tokens(&trader, tokens);
    COINS.set(&(coin_reserve - coins));
    TOKENS.set(&checked_add(token_reserve, tokens));
    pay_coins(&trader, coins);
    emit_event(
        &[SWAP, account_topic(&trader)],
        &(0u64, tokens, coins, 0u128).encode(),
    );
    coins
}

/// The constant-product output for `amount` in, with the 0.3 % fee.
fn output(amount: u128, reserve_in: u128, reserve_out: u128) -> u128 {
    require(reserve_in > 0 && reserve_out > 0, "the pool is empty");
    let with_fee = amount
        .checked_mul(997)
        .unwrap_or_else(|| revert("amount too large"));
    let numerator = with_fee
        .checked_mul(reserve_out)
        .unwrap_or_else(|| revert("amount too large"));
    let denominator = reserve_in
        .checked_mul(1000)
        .and_then(|d| d.checked_add(with_fee))
        .unwrap_or_else(|| revert("amount too large"));
    numerator / denominator
}

/// `a·b / c`, rounded down, reverting on overflow.
fn mul_div(a: u128, b: u128, c: u128) -> u128 {
    require(c > 0, "the pool is empty");
    a.checked_mul(b)
        .unwrap_or_else(|| revert("amount too large"))
        / c
}

fn checked_add(a: u128, b: u128) -> u128 {
    a.checked_add(b)
        .unwrap_or_else(|| revert("amount too large"))
}

fn checked(coins: u128) -> Amount {
    Amount::try_from(coins).unwrap_or_else(|_| revert("amount too large"))
}

fn to_coins(amount: u128) -> Amount {
    checked(amount)
}

/// Moves `tokens` from `from` to this exchange against `from`'s approval.
fn pull_tokens(from: &Account, tokens: u128) {
    let me = Account::contract(&address());
    Call::new(token(), "transfer_from")
        .arg(from)
        .arg(&me)
        .arg(&tokens)
        .invoke::<()>()
        .unwrap_or_else(|e| revert_owned(format!("token transfer_from: {e}")));
}

fn pay_tokens(to: &Account, tokens: u128) {
    if tokens > 0 {
        Call::new(token(), "transfer")
            .arg(to)
            .arg(&tokens)
            .invoke::<()>()
            .unwrap_or_else(|e| revert_owned(format!("token transfer: {e}")));
    }
}

fn pay_coins(to: &Account, coins: Amount) {
    if coins > 0 && transfer(to, coins).is_err() {
        revert("the pool's coins are short");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use i8o8i_contract_sdk::Decode;
    use i8o8i_contract_sdk::testing::{self, TestEnv};

    const TOKEN_CONTRACT: Address = [0x70; 32];

    fn account(n: u8) -> Account {
        Account(alloc::vec![0x76, 0xa9, 0x14, n])
    }

    /// A token that accepts every `transfer` / `transfer_from` (the node runs the real one).
    fn token_ok(input: &[u8], _value: Amount) -> Result<Vec<u8>, alloc::string::String> {
        let method = alloc::string::String::decode(&mut &input[..]).map_err(|_| "method")?;
        match method.as_str() {
            "transfer" | "transfer_from" => Ok(Vec::new()),
            other => Err(format!("unexpected {other}")),
        }
    }

    fn token_refuses(_: &[u8], _: Amount) -> Result<Vec<u8>, alloc::string::String> {
        Err("transfer amount exceeds allowance".into())
    }

    fn pool(coins: Amount, tokens: u128) {
        testing::reset(TestEnv::default().with_caller(account(1)));
        testing::mock_contract(TOKEN_CONTRACT, token_ok);
        init(TOKEN_CONTRACT);
        testing::receive(coins);
        assert_eq!(add_liquidity(tokens), u128::from(coins));
    }

    #[test]
    fn the_first_provider_sets_the_price_and_later_ones_follow_it() {
        pool(1_000_000, 5_000_000);
        assert_eq!(reserves(), (1_000_000, 5_000_000));
        testing::set_caller(account(2));
        testing::receive(100_000);
        // 100,000 coins at 5 tokens each, rounded up; 10 % more shares.
        assert_eq!(
            testing::expect_revert(|| add_liquidity(500_000)),
            "the pool's price needs more than max_tokens"
        );
        testing::receive(100_000);
        assert_eq!(add_liquidity(500_001), 100_000);
        assert_eq!(reserves(), (1_100_000, 5_500_001));
        assert_eq!(
            (total_shares(), shares_of(account(2))),
            (1_100_000, 100_000)
        );
    }

    #[test]
    fn swaps_keep_the_product_and_respect_the_minimum() {
        pool(1_000_000, 5_000_000);
        let quoted = quote_coins_for_tokens(10_000);
        // 10,000·997·5,000,000 / (1,000,000·1000 + 10,000·997) = 49,357.8…
        assert_eq!(quoted, 49_357);
        testing::set_caller(account(3));
        testing::receive(10_000);
        assert_eq!(
            testing::expect_revert(|| swap_coins_for_tokens(49_358)),
            "slippage: 49357 tokens is below the minimum 49358"
        );
        testing::receive(10_000);
        assert_eq!(swap_coins_for_tokens(49_357), 49_357);
        let (c, t) = reserves();
        assert!(u128::from(c) * t >= 1_000_000u128 * 5_000_000);
        assert_eq!(swap_tokens_for_coins(49_357, 0), 9_940);
    }

    #[test]
    fn a_refusing_token_reverts_the_trade() {
        pool(1_000_000, 5_000_000);
        testing::mock_contract(TOKEN_CONTRACT, token_refuses);
        assert_eq!(
            testing::expect_revert(|| swap_tokens_for_coins(1_000, 0)),
            "token transfer_from: the callee reverted: transfer amount exceeds allowance"
        );
        assert_eq!(reserves(), (1_000_000, 5_000_000));
    }

    /// The exchange and the real token (not a mock) run together natively: the same trades
    /// and prices as the chain's (`exchange_gas_is_recorded_and_must_not_change` buys 45,330
    /// tokens for 1 I8O against the same pool), a failing token call undone.
    #[test]
    fn the_real_token_and_the_exchange_trade_together_in_a_world() {
        use alloc::borrow::ToOwned;
        use testing::{Contract, Failure, World};
        const POOL: Address = [0xe0; 32];
        const COIN: Amount = 100_000_000;
        let method = |name: &str, args: &dyn Fn(&mut Vec<u8>)| {
            let mut input = name.to_owned().encode();
            args(&mut input);
            input
        };
        let u128_of = |data: Vec<u8>| u128::decode(&mut &data[..]).unwrap();
        let mut world = World::new();
        let token_code = Contract::new(i8o8i_token::call_entry).deploy(i8o8i_token::deploy_entry);
        let init = ("Seed".to_owned(), "SEED".to_owned(), 1_000_000u128).encode();
        world
            .deploy(TOKEN_CONTRACT, token_code, account(1), init)
            .unwrap();
        let exchange_code = Contract::new(call_entry).deploy(deploy_entry);
        world
            .deploy(POOL, exchange_code, account(1), TOKEN_CONTRACT.encode())
            .unwrap();
        let pool_account = Account::contract(&POOL);
        let balance_of = |world: &World, who: &Account| {
            let input = method("balance_of", &|i| who.encode_to(i));
            u128_of(world.query(account(9), TOKEN_CONTRACT, input).unwrap())
        };

        let approve = method("approve", &|i| {
            (pool_account.clone(), 500_000u128).encode_to(i)
        });
        world.call(account(1), TOKEN_CONTRACT, approve, 0).unwrap();
        let add = method("add_liquidity", &|i| 500_000u128.encode_to(i));
        let shares = world.call(account(1), POOL, add, 10 * COIN).unwrap();
        assert_eq!(u128_of(shares), u128::from(10 * COIN));
        assert_eq!(world.balance(&POOL), 10 * COIN);
        assert_eq!(balance_of(&world, &pool_account), 500_000);
        assert_eq!(balance_of(&world, &account(1)), 500_000);

        let before = world.events().len();
        let buy = method("swap_coins_for_tokens", &|i| 45_330u128.encode_to(i));
        let bought = world.call(account(2), POOL, buy, COIN).unwrap();
        assert_eq!(u128_of(bought), 45_330);
        assert_eq!(balance_of(&world, &account(2)), 45_330);
        assert_eq!(balance_of(&world, &pool_account), 500_000 - 45_330);
        assert_eq!(world.balance(&POOL), 11 * COIN);
        let emitted: Vec<Address> = world.events()[before..]
            .iter()
            .map(|e| e.contract)
            .collect();
        assert_eq!(
            emitted,
            [TOKEN_CONTRACT, POOL],
            "the token's Transfer, then Swap"
        );

        // Selling without an approval: the token's transfer_from reverts inside, the
        // exchange reverts with it, and nothing of either moved.
        let events = world.events().len();
        let sell = method("swap_tokens_for_coins", &|i| (1_000u128, 0u64).encode_to(i));
        assert_eq!(
            world.call(account(2), POOL, sell, 0),
            Err(Failure::Reverted(
                "token transfer_from: the callee reverted: transfer amount exceeds allowance"
                    .into()
            ))
        );
        assert_eq!(balance_of(&world, &account(2)), 45_330);
        assert_eq!(world.balance(&POOL), 11 * COIN);
        assert_eq!(world.events().len(), events);
    }
}
