//! Integration tests of `i8o8i-wallet` through its public API only, in one binary.

mod wallet_store;
