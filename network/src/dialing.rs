//! How often a peer that does not answer is dialled again: exponentially less often, then not
//! at all. Without this a node that went away was dialled twice every 5 s for as long as the
//! dialler ran, and stayed in the Kademlia table that other peers are handed.
//!
//! The schedule is libp2p's usual shape (and Ethereum clients'): after the n-th failed dial in
//! a row the next waits `first × 2ⁿ⁻¹`, at most [`MAX_DELAY`]; after `forget_after` failures in
//! a row the peer is forgotten — out of the routing table and the remembered addresses — and
//! even if another peer mentions it again it waits [`MAX_DELAY`] before a new try. A connection
//! (either way) clears its record.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// The longest wait between two dials of one peer.
pub const MAX_DELAY: Duration = Duration::from_secs(600);

/// Most peers whose failures are remembered (the oldest records go first beyond it).
const MAX_RECORDS: usize = 4_096;

/// The redial schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedialPolicy {
    /// The wait after the first failed dial.
    pub first: Duration,
    /// Failed dials in a row after which a peer is forgotten.
    pub forget_after: u32,
}

impl Default for RedialPolicy {
    fn default() -> Self {
        RedialPolicy {
            first: Duration::from_secs(5),
            forget_after: 8,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    next: Instant,
}

/// What a failed dial leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Dial again after this wait.
    Retry(Duration),
    /// Forget the peer.
    Forget,
}

/// Failed dials per peer.
#[derive(Debug)]
pub struct Backoff {
    policy: RedialPolicy,
    records: HashMap<PeerId, Record>,
}

impl Backoff {
    /// No failures yet.
    pub fn new(policy: RedialPolicy) -> Backoff {
        Backoff {
            policy,
            records: HashMap::new(),
        }
    }

    /// Whether `peer` may be dialled at `now`.
    pub fn may_dial(&self, peer: &PeerId, now: Instant) -> bool {
        self.records.get(peer).is_none_or(|r| now >= r.next)
    }

    /// Records a failed dial of `peer` at `now`.
    pub fn failed(&mut self, peer: PeerId, now: Instant) -> AfterFailure {
        if self.records.len() >= MAX_RECORDS && !self.records.contains_key(&peer) {
            let oldest = self
                .records
                .iter()
                .min_by_key(|(_, r)| r.next)
                .map(|(p, _)| *p);
            if let Some(oldest) = oldest {
                self.records.remove(&oldest);
            }
        }
        let record = self.records.entry(peer).or_insert(Record {
            failures: 0,
            next: now,
        });
        record.failures = record.failures.saturating_add(1);
        if record.failures >= self.policy.forget_after {
            record.next = now + MAX_DELAY;
            return AfterFailure::Forget;
        }
        let doubling = 1u32 << (record.failures - 1).min(16);
        let delay = self.policy.first.saturating_mul(doubling).min(MAX_DELAY);
        record.next = now + delay;
        AfterFailure::Retry(delay)
    }

    /// `peer` connected: its failures are over.
    pub fn connected(&mut self, peer: &PeerId) {
        self.records.remove(peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_the_peer_is_forgotten_after_the_limit() {
        let mut backoff = Backoff::new(RedialPolicy::default());
        let peer = PeerId::random();
        let start = Instant::now();
        assert!(backoff.may_dial(&peer, start));
        let waits: Vec<AfterFailure> = (0..8).map(|_| backoff.failed(peer, start)).collect();
        let secs = |s| AfterFailure::Retry(Duration::from_secs(s));
        assert_eq!(
            waits,
            vec![
                secs(5),
                secs(10),
                secs(20),
                secs(40),
                secs(80),
                secs(160),
                secs(320),
                AfterFailure::Forget
            ]
        );
        // Forgotten, and not dialled again before the longest wait even if heard of again.
        assert!(!backoff.may_dial(&peer, start + Duration::from_secs(599)));
        assert!(backoff.may_dial(&peer, start + MAX_DELAY));
        // A connection clears the record.
        backoff.connected(&peer);
        assert_eq!(backoff.failed(peer, start), secs(5));
    }

    #[test]
    fn a_peer_waits_between_dials_and_others_are_not_held_up() {
        let mut backoff = Backoff::new(RedialPolicy {
            first: Duration::from_secs(1),
            forget_after: 3,
        });
        let (a, b) = (PeerId::random(), PeerId::random());
        let t = Instant::now();
        backoff.failed(a, t);
        assert!(!backoff.may_dial(&a, t + Duration::from_millis(999)));
        assert!(backoff.may_dial(&a, t + Duration::from_secs(1)));
        assert!(backoff.may_dial(&b, t));
        assert_eq!(
            backoff.failed(a, t),
            AfterFailure::Retry(Duration::from_secs(2))
        );
        assert_eq!(backoff.failed(a, t), AfterFailure::Forget);
    }
}
