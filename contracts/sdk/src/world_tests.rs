//! The native [`World`](crate::testing::World) against the chain's call rules: depth,
//! reentrancy, rollback of a failed callee, read-only queries, value and credits.

use crate::testing::{Contract, Failure, World};
use crate::{Account, Address, Decode, Encode};
use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

/// One contract's code for every rule: `hop` calls the next address of `rest` with the
/// others (saying how far it got, or which error stopped it), `probe` queries `hop` at an
/// address (whose write then fails the frame), `pay` calls with value, `fail` writes
/// and reverts, `forward` pays a contract's account.
#[allow(unreachable_pub, dead_code)]
mod hopper {
    use crate::storage::Item;
    use crate::{Account, Address, Amount, Call, CallError, revert, transfer};
    use alloc::string::String;
    use alloc::vec::Vec;

    static HITS: Item<u32> = Item::new(b"h");

    crate::entry_points! {
        fn hop(rest: Vec<Address>) -> u32;
        fn probe(to: Address) -> String;
        fn pay(to: Address, value: u64) -> String;
        fn fail();
        fn try_fail(to: Address) -> String;
        fn forward(to: Address, value: u64);
    }

    pub fn hop(rest: Vec<Address>) -> u32 {
        HITS.set(&(HITS.get().unwrap_or(0) + 1));
        let Some((next, others)) = rest.split_first() else {
            return 0;
        };
        match Call::new(*next, "hop")
            .arg(&others.to_vec())
            .invoke::<u32>()
        {
            Ok(n) => n + 1,
            Err(CallError::DepthExceeded) => 1_000,
            Err(CallError::Reentrancy) => 2_000,
            Err(_) => 3_000,
        }
    }

    pub fn probe(to: Address) -> String {
        match Call::new(to, "hop")
            .arg(&Vec::<Address>::new())
            .query::<u32>()
        {
            Ok(n) => alloc::format!("ok {n}"),
            Err(e) => alloc::format!("{e}"),
        }
    }

    pub fn pay(to: Address, value: Amount) -> String {
        match Call::new(to, "hop")
            .arg(&Vec::<Address>::new())
            .value(value)
            .invoke::<u32>()
        {
            Ok(n) => alloc::format!("ok {n}"),
            Err(e) => alloc::format!("{e}"),
        }
    }

    pub fn fail() {
        HITS.set(&99);
        revert("on purpose");
    }

    pub fn try_fail(to: Address) -> String {
        HITS.set(&7);
        match Call::new(to, "fail").invoke::<()>() {
            Ok(()) => "ok".into(),
            Err(e) => alloc::format!("{e}"),
        }
    }

    pub fn forward(to: Address, value: Amount) {
        if transfer(&Account::contract(&to), value).is_err() {
            revert("short");
        }
    }
}

fn world(n: u8) -> (World, Vec<Address>) {
    let mut world = World::new();
    let addresses: Vec<Address> = (1..=n).map(|i| [i; 32]).collect();
    for a in &addresses {
        world
            .deploy(*a, Contract::new(hopper::call_entry), user(), Vec::new())
            .unwrap();
    }
    (world, addresses)
}

fn user() -> Account {
    Account(alloc::vec![0x76, 0xa9, 0x14, 1])
}

fn input(method: &str, args: impl Encode) -> Vec<u8> {
    [method.to_owned().encode(), args.encode()].concat()
}

fn hits(world: &World, a: &Address) -> Option<u32> {
    world
        .storage(a, b"h")
        .map(|v| u32::decode(&mut &v[..]).unwrap())
}

#[test]
fn a_world_caps_depth_and_refuses_reentrancy_as_the_chain_does() {
    let (mut world, a) = world(10);
    // Eight frames run; the eighth's call is refused: 1,000 + 7 hops back up.
    let out = world
        .call(user(), a[0], input("hop", a[1..].to_vec()), 0)
        .unwrap();
    assert_eq!(u32::decode(&mut &out[..]).unwrap(), 1_007);
    assert_eq!(hits(&world, &a[7]), Some(1));
    assert_eq!(hits(&world, &a[8]), None, "the ninth never ran");
    // a[1] calling a[0], which is running: refused.
    let out = world
        .call(user(), a[0], input("hop", alloc::vec![a[1], a[0]]), 0)
        .unwrap();
    assert_eq!(u32::decode(&mut &out[..]).unwrap(), 2_001);
}

#[test]
fn a_world_rolls_back_a_failed_callee_and_keeps_queries_read_only() {
    let (mut world, a) = world(2);
    let out = world
        .call(user(), a[0], input("try_fail", a[1]), 0)
        .unwrap();
    assert_eq!(
        String::decode(&mut &out[..]).unwrap(),
        "the callee reverted: on purpose"
    );
    assert_eq!(hits(&world, &a[0]), Some(7), "the caller's write stays");
    assert_eq!(hits(&world, &a[1]), None, "the callee's is undone");
    // `hop` writes: in a query that fails its frame, and nothing stays.
    let out = world.call(user(), a[0], input("probe", a[1]), 0).unwrap();
    assert_eq!(
        String::decode(&mut &out[..]).unwrap(),
        "the callee failed: a storage write in a read-only query"
    );
    assert_eq!(hits(&world, &a[1]), None);
    // A top-level revert keeps nothing either.
    assert_eq!(
        world.call(user(), a[0], input("fail", ()), 0),
        Err(Failure::Reverted("on purpose".into()))
    );
    assert_eq!(hits(&world, &a[0]), Some(7));
    assert_eq!(
        world.call(user(), [9; 32], Vec::new(), 0),
        Err(Failure::NoContract)
    );
}

#[test]
fn a_world_moves_value_with_calls_and_credits_contract_accounts() {
    let (mut world, a) = world(2);
    world
        .call(user(), a[0], input("hop", Vec::<Address>::new()), 500)
        .unwrap();
    assert_eq!(world.balance(&a[0]), 500);
    let out = world
        .call(user(), a[0], input("pay", (a[1], 600u64)), 0)
        .unwrap();
    assert_eq!(
        String::decode(&mut &out[..]).unwrap(),
        "balance below the value"
    );
    let out = world
        .call(user(), a[0], input("pay", (a[1], 200u64)), 0)
        .unwrap();
    assert_eq!(String::decode(&mut &out[..]).unwrap(), "ok 0");
    assert_eq!((world.balance(&a[0]), world.balance(&a[1])), (300, 200));
    // A transfer to a contract's account is a credit, not a payment out.
    world
        .call(user(), a[1], input("forward", (a[0], 50u64)), 0)
        .unwrap();
    assert_eq!((world.balance(&a[0]), world.balance(&a[1])), (350, 150));
    assert!(world.transfers().is_empty());
}
