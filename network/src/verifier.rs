//! Verification of gossip transactions off the event loop and off the async workers: a
//! bounded queue per peer, drained round-robin by one thread per core, so that a peer
//! flooding expensive transactions delays everyone else by at most one verification per
//! round, holds at most its own queue's worth of memory, and has the rest dropped.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound::{Excluded, Unbounded};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use i8o8i_primitives::Transaction;
use libp2p::PeerId;
use libp2p::gossipsub::MessageId;
use tokio::sync::mpsc;

use crate::chain_access::{ChainAccess, TxVerdict};

/// Most gossip transactions of one peer waiting for a verifier (an honest relayer passing on
/// a burst stays far below it).
pub const MAX_QUEUED_TXS_PER_PEER: usize = 1_024;
/// Most bytes of gossip transactions of one peer waiting for a verifier.
pub const MAX_QUEUED_TX_BYTES_PER_PEER: usize = 4 * 1024 * 1024;

/// A transaction to verify and the gossip message it came in.
pub struct Job {
    /// Who sent it.
    pub peer: PeerId,
    /// Its gossip message (the verdict goes back to gossipsub).
    pub message_id: MessageId,
    /// The transaction.
    pub tx: Transaction,
    /// Its encoded size.
    pub bytes: usize,
}

/// What a verifier found.
pub struct Verified {
    /// Who sent it.
    pub peer: PeerId,
    /// Its gossip message.
    pub message_id: MessageId,
    /// The chain's verdict.
    pub verdict: TxVerdict,
}

#[derive(Default)]
struct Queues {
    /// Non-empty queues only.
    peers: BTreeMap<PeerId, PeerQueue>,
    /// The peer served last: the next job comes from the first queue after it.
    last: Option<PeerId>,
    closed: bool,
}

#[derive(Default)]
struct PeerQueue {
    jobs: VecDeque<Job>,
    bytes: usize,
}

struct Shared {
    queues: Mutex<Queues>,
    ready: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `job` behind its peer's earlier ones; gives it back if that queue is full.
    fn push(&self, job: Job) -> Result<(), Box<Job>> {
        let mut queues = self.lock();
        let queue = queues.peers.entry(job.peer).or_default();
        if queue.jobs.len() >= MAX_QUEUED_TXS_PER_PEER
            || queue.bytes + job.bytes > MAX_QUEUED_TX_BYTES_PER_PEER
        {
            if queue.jobs.is_empty() {
                queues.peers.remove(&job.peer);
            }
            return Err(Box::new(job));
        }
        queue.bytes += job.bytes;
        queue.jobs.push_back(job);
        drop(queues);
        self.ready.notify_one();
        Ok(())
    }

    /// The next job, round-robin over peers; `None` once closed.
    fn next(&self) -> Option<Job> {
        let mut queues = self.lock();
        loop {
            if queues.closed {
                return None;
            }
            let after = match queues.last {
                Some(last) => queues.peers.range((Excluded(last), Unbounded)).next(),
                None => None,
            };
            let peer = after
                .or_else(|| queues.peers.iter().next())
                .map(|(p, _)| *p);
            if let Some(peer) = peer {
                queues.last = Some(peer);
                let queue = queues.peers.get_mut(&peer).expect("listed");
                let job = queue.jobs.pop_front().expect("non-empty");
                queue.bytes -= job.bytes;
                if queue.jobs.is_empty() {
                    queues.peers.remove(&peer);
                }
                return Some(job);
            }
            queues = self.ready.wait(queues).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The queues and their verifier threads; dropping it stops the threads.
pub struct TxVerifier {
    shared: Arc<Shared>,
}

impl TxVerifier {
    /// Starts `threads` verifiers submitting to `chain` and sending verdicts to `results`.
    pub fn start(
        chain: Arc<dyn ChainAccess>,
        threads: usize,
        results: mpsc::UnboundedSender<Verified>,
    ) -> TxVerifier {
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
        });
        for n in 0..threads.max(1) {
            let shared = shared.clone();
            let chain = chain.clone();
            let results = results.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("tx-verify-{n}"))
                .spawn(move || {
                    while let Some(job) = shared.next() {
                        let verdict = chain.import_transaction(job.tx);
                        let verified = Verified {
                            peer: job.peer,
                            message_id: job.message_id,
                            verdict,
                        };
                        if results.send(verified).is_err() {
                            return;
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a transaction verifier thread");
            }
        }
        TxVerifier { shared }
    }

    /// Queues `job` behind its peer's earlier ones; gives it back if that queue is full.
    pub fn push(&self, job: Job) -> Result<(), Box<Job>> {
        self.shared.push(job)
    }
}

impl TxVerifier {
    /// Takes every job of `peer` out of its queue (a banned peer's work is not done).
    pub fn forget(&self, peer: &PeerId) -> Vec<Job> {
        self.shared
            .lock()
            .peers
            .remove(peer)
            .map(|q| q.jobs.into())
            .unwrap_or_default()
    }
}

impl Drop for TxVerifier {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use i8o8i_primitives::test_utils::sample_transaction;

    use super::*;

    fn job(peer: PeerId, n: u8, bytes: usize) -> Job {
        Job {
            peer,
            message_id: MessageId::new(&[n]),
            tx: sample_transaction(),
            bytes,
        }
    }

    fn shared() -> Shared {
        Shared {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
        }
    }

    #[test]
    fn peers_are_served_in_turn_whatever_one_of_them_queued() {
        let (a, b) = (PeerId::random(), PeerId::random());
        let (first, second) = if a < b { (a, b) } else { (b, a) };
        let queues = shared();
        for n in 0..3 {
            queues.push(job(first, n, 100)).map_err(|_| ()).unwrap();
        }
        queues.push(job(second, 10, 100)).map_err(|_| ()).unwrap();
        let order: Vec<(PeerId, MessageId)> = (0..4)
            .map(|_| queues.next().map(|j| (j.peer, j.message_id)).unwrap())
            .collect();
        assert_eq!(
            order,
            vec![
                (first, MessageId::new(&[0])),
                (second, MessageId::new(&[10])),
                (first, MessageId::new(&[1])),
                (first, MessageId::new(&[2])),
            ]
        );
        assert!(queues.lock().peers.is_empty());
    }

    #[test]
    fn a_full_queue_gives_the_job_back_and_other_peers_are_unaffected() {
        let (a, b) = (PeerId::random(), PeerId::random());
        let queues = shared();
        for n in 0..MAX_QUEUED_TXS_PER_PEER {
            queues.push(job(a, n as u8, 10)).map_err(|_| ()).unwrap();
        }
        let refused = queues.push(job(a, 0, 10)).unwrap_err();
        assert_eq!(refused.peer, a);
        queues.push(job(b, 0, 10)).map_err(|_| ()).unwrap();
        // Bytes too: one 4 MiB transaction fills a queue.
        let c = PeerId::random();
        queues
            .push(job(c, 0, MAX_QUEUED_TX_BYTES_PER_PEER))
            .map_err(|_| ())
            .unwrap();
        assert!(queues.push(job(c, 1, 1)).is_err());
        assert_eq!(queues.lock().peers[&c].bytes, MAX_QUEUED_TX_BYTES_PER_PEER);
    }

    #[test]
    fn closing_wakes_the_verifiers() {
        let queues = Arc::new(shared());
        let waiting = {
            let queues = queues.clone();
            std::thread::spawn(move || queues.next().is_none())
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        queues.lock().closed = true;
        queues.ready.notify_all();
        assert!(waiting.join().unwrap());
    }
}
