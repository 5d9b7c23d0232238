//! `i8o8i-adversary`: a peer that misbehaves on command, for the consensus-safety tests and for
//! anyone checking a running network, in the spirit of Bitcoin Core's functional-test P2P node.
//!
//! It speaks the node's own protocols (it builds the network crate's libp2p behaviour) but
//! answers and publishes what it is told to: a status claiming work it does not have, empty
//! header answers, a branch of cheap proof-of-work headers, two blocks for one slot, a branch
//! of slot blocks signed by a key that owns no slot, undecodable bytes. `README.md` says what
//! each attack is and what the network must do about it.
//!
//! - [`peer`]: the libp2p peer, driven through commands and reporting events.
//! - [`forge`]: building the blocks the attacks send.
//! - [`bomb`]: transactions as costly to verify as relay policy allows, invalid at the end.
//! - [`chaos`]: real node processes under load, killed, partitioned and lied to; then checked.
//! - [`throughput`]: real node processes under pre-signed load at rising rates; confirmed
//!   transactions per second, latency, block propagation and bytes measured.
//! - `procs` (private): starting and killing node processes, the load's wallet.
//!
//! The node binary never links this crate; the end-to-end tests and the `i8o8i-adversary`
//! binary do.

pub mod bomb;
pub mod chaos;
pub mod forge;
pub mod peer;
mod procs;
pub mod throughput;

pub use peer::{AdversaryError, Event, HeadersAnswer, Peer, Served};
