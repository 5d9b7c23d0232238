//! Headers-first sync as a state machine: it is told what peers said and what the importer did,
//! and answers with the requests it wants sent ([`SyncAction`]); the service turns those into
//! libp2p requests. Nothing here touches a socket, so sync is unit tested with a map-based
//! [`ChainAccess`] and made-up peers (Lighthouse's `TestRig` is the model).
//!
//! One round: ask the heaviest peer ahead of us for headers after our locator, check them
//! ([`ChainAccess::check_headers`]) and queue them; hand out body downloads (at most
//! [`MAX_BLOCKS_PER_REQUEST`] per request, one outstanding request per peer, within
//! [`DOWNLOAD_WINDOW`] of the queue's front, only to peers that have them); release arrived
//! bodies to the importer strictly in chain order. A full headers answer continues the round
//! from the queue's back. A round without progress for [`SYNC_STALL`] is dropped and starts
//! again from the tip.
//!
//! Bodies are downloaded only once the queued headers prove more work than our chain and at
//! least the chain's minimum work (Bitcoin Core's headers pre-sync is the model): a long branch
//! of cheap headers stays in bounded memory ([`MAX_QUEUED_HEADERS`]) and is dropped, and
//! nothing of it reaches the store. What a peer delivers is checked against what it claimed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use i8o8i_primitives::{Block, BlockHash, Header, U256};
use libp2p::PeerId;

use crate::chain_access::ChainAccess;
use crate::peers::PeerAction;
use crate::protocol::{MAX_BLOCKS_PER_REQUEST, MAX_HEADERS, MAX_LOCATOR};

/// How far past the queue's front bodies are downloaded: bounds the memory held by bodies that
/// arrived out of order.
pub const DOWNLOAD_WINDOW: usize = 1_024;

/// A sync that has made no progress for this long is dropped and started again from the tip:
/// its queue may wait on bodies no connected peer can serve any more (a peer that left, a
/// branch everybody abandoned), and while the queue is not empty no new header round starts.
pub const SYNC_STALL: Duration = Duration::from_secs(20);

/// Most headers queued at once. A branch that has not proved more work than our chain within
/// this many headers is dropped; one that has waits for its bodies before more are asked.
pub const MAX_QUEUED_HEADERS: usize = 100_000;

/// How long a peer that did not deliver the chain it claimed (or did not answer a headers
/// request) is left out of header rounds, so that another peer is asked.
pub const CLAIM_COOLDOWN: Duration = Duration::from_secs(60);

/// What a peer last told us of its best chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerTip {
    /// Its best block.
    pub hash: BlockHash,
    /// Its height.
    pub height: u64,
    /// Its cumulative work.
    pub work: U256,
    /// The lowest height whose block it serves (it pruned the older ones).
    pub lowest_block: u64,
}

/// What sync wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncAction {
    /// Ask `peer` for at most `max` best-chain headers after the first hash of `locator` it
    /// knows.
    RequestHeaders {
        /// The peer.
        peer: PeerId,
        /// Our locator (the queue's back first while a round continues).
        locator: Vec<BlockHash>,
        /// How many.
        max: u32,
    },
    /// Ask `peer` for these blocks.
    RequestBlocks {
        /// The peer.
        peer: PeerId,
        /// The hashes, in chain order.
        hashes: Vec<BlockHash>,
    },
    /// Score `peer` for what it sent.
    Report {
        /// The peer.
        peer: PeerId,
        /// What it did.
        action: PeerAction,
    },
}

/// Headers-first sync state.
#[derive(Debug, Default)]
pub struct Sync {
    /// The peer we are fetching headers from, if a round is running.
    headers_from: Option<PeerId>,
    /// What that peer claimed when the round started: its answers are checked against it.
    claim: Option<PeerTip>,
    /// Peers left out of header rounds and downloads until the instant given: they claimed a
    /// chain they did not deliver, did not answer, or sent none of the blocks asked.
    resting: HashMap<PeerId, Instant>,
    /// The tip each peer last delivered the headers of, and until when that claim is not
    /// fetched again: if its blocks did not become ours (invalid, below our final block,
    /// early on our clock) asking again at once would loop.
    fetched: HashMap<PeerId, (BlockHash, Instant)>,
    /// Checked headers whose blocks are not yet imported, in chain order.
    queue: VecDeque<Header>,
    /// The cumulative work of the chain ending at the queue's back.
    queue_work: U256,
    /// Bodies asked for, and from whom.
    requested: HashMap<BlockHash, PeerId>,
    /// Peers with an outstanding blocks request (one per peer at a time).
    downloading: HashSet<PeerId>,
    /// Bodies received, waiting for their turn to be imported.
    arrived: HashMap<BlockHash, (PeerId, Block)>,
    /// Blocks handed to the importer and not yet reported back.
    importing: usize,
    /// When headers or bodies last arrived or a block went to the importer.
    last_progress: Option<Instant>,
}

impl Sync {
    /// A sync with nothing to do.
    pub fn new() -> Sync {
        Sync::default()
    }

    /// Headers queued for download and import.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Blocks handed to the importer and not yet reported back.
    pub fn importing(&self) -> usize {
        self.importing
    }

    /// The peer of the running header round.
    pub fn headers_from(&self) -> Option<PeerId> {
        self.headers_from
    }

    /// Whether `peer` has a blocks request outstanding.
    pub fn is_downloading(&self, peer: &PeerId) -> bool {
        self.downloading.contains(peer)
    }

    fn progressed(&mut self, now: Instant) {
        self.last_progress = Some(now);
    }

    /// Whether `peer` is left out of header rounds at `now`.
    pub fn is_resting(&self, peer: &PeerId, now: Instant) -> bool {
        self.resting.get(peer).is_some_and(|until| *until > now)
    }

    fn rest(&mut self, peer: PeerId, now: Instant) {
        self.resting.insert(peer, now + CLAIM_COOLDOWN);
    }

    /// Ends the header round with `peer`: if what it delivered does not include the tip it
    /// claimed, it rests (another peer is asked next), and `empty` answers are penalised —
    /// a peer claiming more work than us that has nothing to show for it is lying (an honest
    /// peer whose tip we have learned meanwhile is not: its claim is then known).
    fn end_round(
        &mut self,
        chain: &dyn ChainAccess,
        peer: PeerId,
        empty: bool,
        now: Instant,
    ) -> Vec<SyncAction> {
        self.headers_from = None;
        let Some(claim) = self.claim.take() else {
            return Vec::new();
        };
        if !self.queue.is_empty() && !self.proven(chain) {
            // A branch that does not outweigh ours (or the chain's minimum): not one body of
            // it is fetched. Claiming more work than it carries is a lie.
            tracing::info!(%peer, headers = self.queue.len(), "branch without enough work dropped");
            self.clear_queue();
            self.rest(peer, now);
            if claim.work > self.queue_work {
                return vec![SyncAction::Report {
                    peer,
                    action: PeerAction::UndeliveredClaim,
                }];
            }
            return Vec::new();
        }
        let delivered = chain.known_header(&claim.hash).is_some()
            || self.queue.iter().any(|h| h.hash() == claim.hash);
        if delivered {
            self.fetched
                .insert(peer, (claim.hash, now + CLAIM_COOLDOWN));
            return Vec::new();
        }
        self.rest(peer, now);
        if empty {
            tracing::info!(%peer, claimed_height = claim.height, "peer did not deliver the chain it claimed");
            vec![SyncAction::Report {
                peer,
                action: PeerAction::UndeliveredClaim,
            }]
        } else {
            Vec::new()
        }
    }

    /// Whether the queued branch carries more work than our chain and at least the chain's
    /// minimum: until it does, none of its bodies is downloaded.
    fn proven(&self, chain: &dyn ChainAccess) -> bool {
        self.queue_work > chain.tip().work && self.queue_work >= chain.min_chain_work()
    }

    fn clear_queue(&mut self) {
        self.queue.clear();
        self.queue_work = U256::zero();
        self.requested.clear();
        self.arrived.clear();
    }

    /// What to ask for now: a header round from the heaviest peer ahead of us that is not
    /// resting (if none runs and the queue is empty), and the next body batch for every idle
    /// peer that has it.
    pub fn poll(
        &mut self,
        chain: &dyn ChainAccess,
        peers: &[(PeerId, PeerTip)],
        now: Instant,
    ) -> Vec<SyncAction> {
        let mut actions = Vec::new();
        if self.headers_from.is_none() && self.queue.is_empty() {
            let tip = chain.tip();
            let best = peers
                .iter()
                .filter(|(id, p)| {
                    p.work > tip.work
                        && !self.is_resting(id, now)
                        && !self
                            .fetched
                            .get(id)
                            .is_some_and(|(hash, until)| *hash == p.hash && *until > now)
                        && chain.known_header(&p.hash).is_none()
                })
                .max_by(|a, b| a.1.work.cmp(&b.1.work).then(b.0.cmp(&a.0)));
            if let Some((peer, claim)) = best {
                self.headers_from = Some(*peer);
                self.claim = Some(*claim);
                self.progressed(now);
                actions.push(SyncAction::RequestHeaders {
                    peer: *peer,
                    locator: chain.locator(MAX_LOCATOR).unwrap_or_default(),
                    max: MAX_HEADERS,
                });
            }
        }
        if !self.proven(chain) {
            return actions;
        }
        for (peer, tip) in peers {
            if self.downloading.contains(peer) || self.is_resting(peer, now) {
                continue;
            }
            let batch: Vec<BlockHash> = self
                .queue
                .iter()
                .take(DOWNLOAD_WINDOW)
                .filter(|h| (tip.lowest_block..=tip.height).contains(&h.height))
                .map(Header::hash)
                .filter(|h| !self.requested.contains_key(h) && !self.arrived.contains_key(h))
                .take(MAX_BLOCKS_PER_REQUEST)
                .collect();
            if batch.is_empty() {
                continue;
            }
            for h in &batch {
                self.requested.insert(*h, *peer);
            }
            self.downloading.insert(*peer);
            actions.push(SyncAction::RequestBlocks {
                peer: *peer,
                hashes: batch,
            });
        }
        actions
    }

    /// The next arrived block in chain order, for the importer. A caller whose importer is
    /// full gives it back with [`Sync::unimported`].
    pub fn next_import(&mut self, now: Instant) -> Option<(PeerId, Block)> {
        let hash = self.queue.front()?.hash();
        let (peer, block) = self.arrived.remove(&hash)?;
        self.queue.pop_front();
        self.importing += 1;
        self.progressed(now);
        Some((peer, block))
    }

    /// Gives back a block [`Sync::next_import`] returned that the importer could not take.
    pub fn unimported(&mut self, peer: PeerId, block: Block) {
        self.importing = self.importing.saturating_sub(1);
        self.queue.push_front(block.header.clone());
        self.arrived.insert(block.header.hash(), (peer, block));
    }

    /// `peer` answered our headers request (for at most `max`) with `headers`.
    pub fn on_headers(
        &mut self,
        chain: &dyn ChainAccess,
        peer: PeerId,
        max: u32,
        headers: Vec<Header>,
        now: Instant,
    ) -> Vec<SyncAction> {
        if self.headers_from != Some(peer) {
            return Vec::new();
        }
        let report = |action| vec![SyncAction::Report { peer, action }];
        if headers.len() as u64 > u64::from(max) {
            self.headers_from = None;
            return report(PeerAction::Malformed);
        }
        let full = max > 0 && headers.len() as u64 == u64::from(max);
        // Skip what we already have; the rest must hang off a known block or our queue.
        let fresh: Vec<Header> = headers
            .into_iter()
            .skip_while(|h| chain.known_header(&h.hash()).is_some())
            .collect();
        let Some(first) = fresh.first() else {
            return self.end_round(chain, peer, true, now);
        };
        let parent = match self.queue.back() {
            Some(back) if back.hash() == first.parent => Some((back.clone(), self.queue_work)),
            _ => chain.known_header(&first.parent).map(|parent| {
                // A new branch: what was queued belongs to another one.
                self.clear_queue();
                let work = chain.known_work(&first.parent).unwrap_or_default();
                (parent, work)
            }),
        };
        let Some((parent, parent_work)) = parent else {
            self.headers_from = None;
            return report(PeerAction::InvalidHeaders);
        };
        let added = match chain.check_headers(&parent, &fresh) {
            Ok(added) => added,
            Err((index, error)) => {
                tracing::warn!(%peer, index, %error, "invalid headers");
                self.headers_from = None;
                return report(PeerAction::InvalidHeaders);
            }
        };
        self.queue_work = parent_work.saturating_add(added);
        tracing::info!(
            from = fresh[0].height,
            to = fresh[fresh.len() - 1].height,
            "headers received"
        );
        self.queue.extend(fresh);
        self.progressed(now);
        if !full {
            return self.end_round(chain, peer, false, now);
        }
        if self.queue.len() >= MAX_QUEUED_HEADERS {
            if self.proven(chain) {
                // Enough to work on: the round continues once the bodies drain the queue.
                self.headers_from = None;
                self.claim = None;
                return Vec::new();
            }
            return self.end_round(chain, peer, false, now);
        }
        let mut locator: Vec<BlockHash> = self.queue.back().map(Header::hash).into_iter().collect();
        locator.extend(chain.locator(MAX_LOCATOR - 1).unwrap_or_default());
        vec![SyncAction::RequestHeaders {
            peer,
            locator,
            max: MAX_HEADERS,
        }]
    }

    /// `peer` answered our request for `asked` with `blocks`. A block we did not ask for is
    /// malformed; what it left out may be asked of others. A peer that sends none of them —
    /// though its claimed height covers them — rests and pays: otherwise a peer answering
    /// every blocks request with nothing, always idle first, would be handed the queue's
    /// front again and again while the import waits on it.
    pub fn on_blocks(
        &mut self,
        peer: PeerId,
        asked: &[BlockHash],
        blocks: Vec<Block>,
        now: Instant,
    ) -> Vec<SyncAction> {
        self.downloading.remove(&peer);
        let asked_set: HashSet<&BlockHash> = asked.iter().collect();
        let mut actions = Vec::new();
        let mut got = HashSet::new();
        for block in blocks {
            let hash = block.header.hash();
            if !asked_set.contains(&hash) {
                actions.push(SyncAction::Report {
                    peer,
                    action: PeerAction::Malformed,
                });
                continue;
            }
            got.insert(hash);
            if self.requested.remove(&hash).is_some() {
                self.arrived.insert(hash, (peer, block));
                self.progressed(now);
            }
        }
        for h in asked {
            if !got.contains(h) && self.requested.get(h) == Some(&peer) {
                self.requested.remove(h);
            }
        }
        if got.is_empty() && !asked.is_empty() {
            self.rest(peer, now);
            actions.push(SyncAction::Report {
                peer,
                action: PeerAction::MissingBlocks,
            });
        }
        actions
    }

    /// A headers request to `peer` failed or was refused: the round ends and the peer rests.
    pub fn headers_failed(&mut self, peer: PeerId, now: Instant) {
        if self.headers_from == Some(peer) {
            self.headers_from = None;
            self.claim = None;
            self.rest(peer, now);
        }
    }

    /// A blocks request to `peer` for `hashes` failed or was refused: they may be asked of
    /// others.
    pub fn blocks_failed(&mut self, peer: PeerId, hashes: &[BlockHash]) {
        for h in hashes {
            if self.requested.get(h) == Some(&peer) {
                self.requested.remove(h);
            }
        }
        self.downloading.remove(&peer);
    }

    /// `peer` disconnected: whatever it was asked is open again.
    pub fn peer_gone(&mut self, peer: PeerId) {
        self.requested.retain(|_, p| *p != peer);
        self.downloading.remove(&peer);
        self.resting.remove(&peer);
        self.fetched.remove(&peer);
        if self.headers_from == Some(peer) {
            self.headers_from = None;
            self.claim = None;
        }
    }

    /// The importer reported a block sync handed it; an invalid one ends the round (the rest
    /// of that branch is built on it).
    pub fn imported(&mut self, valid: bool) {
        self.importing = self.importing.saturating_sub(1);
        if !valid {
            // Requests still out stay counted: their peers are not asked twice at once.
            self.headers_from = None;
            self.claim = None;
            self.clear_queue();
        }
    }

    /// Whether a round is running that has not moved for [`SYNC_STALL`].
    pub fn stalled(&mut self, now: Instant) -> bool {
        if self.queue.is_empty() && self.headers_from.is_none() {
            return false;
        }
        match self.last_progress {
            Some(t) => now.saturating_duration_since(t) > SYNC_STALL,
            None => {
                self.progressed(now);
                false
            }
        }
    }

    /// Forgets the round, outstanding requests included (a stalled round's requests will not
    /// be answered); blocks already with the importer stay counted.
    pub fn reset(&mut self) {
        self.headers_from = None;
        self.claim = None;
        self.clear_queue();
        self.downloading.clear();
        self.last_progress = None;
    }
}

#[cfg(test)]
mod tests;
