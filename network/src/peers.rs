//! The peer manager's bookkeeping: an application score per peer, decaying toward zero, and
//! bans with an expiry. Pure state with the clock passed in (`now`, UNIX seconds), so scoring is
//! testable without waiting; the network service persists bans and good addresses in RocksDB.
//!
//! Gossipsub keeps its own score of mesh behaviour (see `behaviour.rs`); this one judges what
//! peers *say*: invalid blocks and transactions, malformed messages, unanswered requests, and
//! useful blocks.

use std::collections::BTreeMap;

use libp2p::PeerId;

/// Scores are kept in thousandths of a point so that decay stays in integers.
const MILLI: i64 = 1_000;
/// A peer at or below this score is banned.
pub const BAN_THRESHOLD: i64 = -100;
/// Scores never rise above this, so a long-lived peer cannot bank credit for misbehaviour.
pub const MAX_SCORE: i64 = 100;
/// How long a ban lasts unless the operator says otherwise.
pub const DEFAULT_BAN_SECS: u64 = 3_600;
/// Every whole minute a score loses 1/16 of its distance to zero (half-life about 11 minutes).
const DECAY_PERIOD_SECS: u64 = 60;

/// Something a peer did, for better or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerAction {
    /// Sent a block that breaks a consensus rule: banned at once.
    InvalidBlock,
    /// Sent a transaction that breaks a consensus rule (not merely one we already have, or one
    /// that conflicts with our pool: those are honest races).
    InvalidTransaction,
    /// Sent bytes that do not decode, or a request that breaks the protocol's limits.
    Malformed,
    /// Sent headers that do not connect or are not valid proof of work.
    InvalidHeaders,
    /// Claimed more work than we have, then answered our headers request with nothing.
    UndeliveredClaim,
    /// Answered a blocks request with none of the blocks its status said it has.
    MissingBlocks,
    /// Did not answer a request in time.
    Timeout,
    /// Sent gossip transactions faster than we verify them, beyond its queue.
    Flooding,
    /// Gave us a block we did not have that became part of our chain.
    UsefulBlock,
}

impl PeerAction {
    /// Score change in points.
    pub fn delta(self) -> i64 {
        match self {
            PeerAction::InvalidBlock => BAN_THRESHOLD * 2,
            PeerAction::InvalidHeaders | PeerAction::UndeliveredClaim => -50,
            PeerAction::Malformed => -20,
            PeerAction::InvalidTransaction | PeerAction::MissingBlocks => -10,
            PeerAction::Timeout => -5,
            PeerAction::Flooding => -2,
            PeerAction::UsefulBlock => 1,
        }
    }
}

/// What a report led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to do.
    Keep,
    /// The peer crossed [`BAN_THRESHOLD`]: disconnect it and refuse it until `until`.
    Ban {
        /// UNIX seconds the ban ends.
        until: u64,
    },
}

#[derive(Debug, Clone, Copy)]
struct Score {
    milli: i64,
    updated: u64,
}

impl Score {
    fn decay_to(&mut self, now: u64) {
        let periods = now.saturating_sub(self.updated) / DECAY_PERIOD_SECS;
        // After 200 periods (> 3 h) any score has decayed to zero.
        for _ in 0..periods.min(200) {
            self.milli -= self.milli / 16;
            if self.milli.abs() < 16 {
                self.milli = 0;
                break;
            }
        }
        if periods > 0 {
            self.updated += periods * DECAY_PERIOD_SECS;
        }
    }
}

/// Scores and bans.
#[derive(Debug, Default)]
pub struct PeerBook {
    scores: BTreeMap<PeerId, Score>,
    bans: BTreeMap<PeerId, u64>,
}

impl PeerBook {
    /// An empty book.
    pub fn new() -> PeerBook {
        PeerBook::default()
    }

    /// The score of `peer` in points at `now` (0 for a peer never reported).
    pub fn score(&mut self, peer: &PeerId, now: u64) -> i64 {
        match self.scores.get_mut(peer) {
            Some(s) => {
                s.decay_to(now);
                s.milli / MILLI
            }
            None => 0,
        }
    }

    /// Records `action` by `peer` at `now`.
    pub fn report(&mut self, peer: PeerId, action: PeerAction, now: u64) -> Verdict {
        let score = self.scores.entry(peer).or_insert(Score {
            milli: 0,
            updated: now,
        });
        score.decay_to(now);
        score.milli = (score.milli + action.delta() * MILLI).min(MAX_SCORE * MILLI);
        if score.milli <= BAN_THRESHOLD * MILLI {
            let until = now.saturating_add(DEFAULT_BAN_SECS);
            self.ban(peer, until);
            Verdict::Ban { until }
        } else {
            Verdict::Keep
        }
    }

    /// Bans `peer` until `until` (UNIX seconds), whatever its score.
    pub fn ban(&mut self, peer: PeerId, until: u64) {
        let entry = self.bans.entry(peer).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Lifts a ban.
    pub fn unban(&mut self, peer: &PeerId) {
        self.bans.remove(peer);
        self.scores.remove(peer);
    }

    /// Whether `peer` is banned at `now`.
    pub fn is_banned(&self, peer: &PeerId, now: u64) -> bool {
        self.bans.get(peer).is_some_and(|until| *until > now)
    }

    /// Drops expired bans and fully decayed scores; returns the peers whose ban ended.
    pub fn update_at(&mut self, now: u64) -> Vec<PeerId> {
        let ended: Vec<PeerId> = self
            .bans
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(p, _)| *p)
            .collect();
        for p in &ended {
            self.bans.remove(p);
            self.scores.remove(p);
        }
        self.scores.retain(|_, s| {
            s.decay_to(now);
            s.milli != 0
        });
        ended
    }

    /// Current bans: (peer, until).
    pub fn bans(&self) -> impl Iterator<Item = (PeerId, u64)> + '_ {
        self.bans.iter().map(|(p, u)| (*p, *u))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_block_bans_at_once_and_the_ban_expires() {
        let mut book = PeerBook::new();
        let p = PeerId::random();
        assert_eq!(
            book.report(p, PeerAction::InvalidBlock, 1_000),
            Verdict::Ban {
                until: 1_000 + DEFAULT_BAN_SECS
            }
        );
        assert!(book.is_banned(&p, 1_001));
        assert!(book.update_at(1_000 + DEFAULT_BAN_SECS - 1).is_empty());
        assert_eq!(book.update_at(1_000 + DEFAULT_BAN_SECS), vec![p]);
        assert!(!book.is_banned(&p, 1_000 + DEFAULT_BAN_SECS));
        assert_eq!(book.score(&p, 1_000 + DEFAULT_BAN_SECS), 0, "a fresh start");
    }

    #[test]
    fn small_offences_add_up_to_a_ban_unless_they_decay_first() {
        let mut book = PeerBook::new();
        let p = PeerId::random();
        for i in 0..9 {
            assert_eq!(
                book.report(p, PeerAction::InvalidTransaction, 0),
                Verdict::Keep,
                "{i}"
            );
        }
        assert_eq!(book.score(&p, 0), -90);
        assert!(matches!(
            book.report(p, PeerAction::InvalidTransaction, 0),
            Verdict::Ban { .. }
        ));

        // Spread out over hours, the same offences never reach the threshold.
        let q = PeerId::random();
        for hour in 0..20 {
            assert_eq!(
                book.report(q, PeerAction::InvalidTransaction, hour * 3_600),
                Verdict::Keep
            );
        }
        // Decay: -10 points lose 1/16 a minute; after an hour they are below one point.
        let mut book = PeerBook::new();
        book.report(q, PeerAction::InvalidTransaction, 0);
        assert_eq!(book.score(&q, 59), -10);
        assert_eq!(book.score(&q, 60), -9, "9.375 truncates toward zero");
        assert_eq!(book.score(&q, 3_600), 0);
        assert!(book.update_at(4 * 3_600).is_empty());
    }

    #[test]
    fn good_behaviour_is_capped_and_cannot_buy_a_pass_for_an_invalid_block() {
        let mut book = PeerBook::new();
        let p = PeerId::random();
        for _ in 0..1_000 {
            book.report(p, PeerAction::UsefulBlock, 0);
        }
        assert_eq!(book.score(&p, 0), MAX_SCORE);
        assert!(matches!(
            book.report(p, PeerAction::InvalidBlock, 0),
            Verdict::Ban { .. }
        ));
    }

    #[test]
    fn an_operator_ban_keeps_the_later_expiry() {
        let mut book = PeerBook::new();
        let p = PeerId::random();
        book.ban(p, 500);
        book.ban(p, 100);
        assert!(book.is_banned(&p, 499));
        book.unban(&p);
        assert!(!book.is_banned(&p, 0));
    }
}
