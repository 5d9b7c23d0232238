//! Gossip: validating what peers relay (blocks through the importer, transactions through
//! the per-peer queues of [`crate::verifier`]) before gossipsub forwards it, and scoring the
//! sender by the verdict.

use super::*;
use crate::compact::CompactBlock;

impl Service {
    pub(super) fn on_gossip(
        &mut self,
        source: PeerId,
        message_id: MessageId,
        message: libp2p::gossipsub::Message,
    ) {
        let kind = message
            .topic
            .as_str()
            .parse::<Topic>()
            .ok()
            .filter(|t| t.genesis == self.genesis)
            .map(|t| t.kind);
        let gossip = &mut self.swarm.behaviour_mut().gossipsub;
        match kind {
            Some(TopicKind::Blocks) => match CompactBlock::decode_bytes(&message.data) {
                Ok(compact) => self.on_compact_block(source, message_id, compact),
                Err(e) => {
                    tracing::debug!(peer = %source, error = %e, "undecodable gossip block");
                    gossip.report_message_validation_result(
                        &message_id,
                        &source,
                        MessageAcceptance::Reject,
                    );
                    self.report(source, PeerAction::Malformed);
                }
            },
            Some(TopicKind::Transactions) => match Transaction::decode_strict(&message.data) {
                Ok(tx) => {
                    let job = Job {
                        peer: source,
                        message_id,
                        tx,
                        bytes: message.data.len(),
                    };
                    if let Err(job) = self.verifier.push(job) {
                        // Its queue is full: dropped unverified, and the peer pays a little
                        // for each (an honest relayer stays far below the bound; a flood is
                        // banned after 50 drops).
                        gossip.report_message_validation_result(
                            &job.message_id,
                            &source,
                            MessageAcceptance::Ignore,
                        );
                        self.chain.gossip_tx(GossipTx::Dropped);
                        self.report(source, PeerAction::Flooding);
                    }
                }
                Err(e) => {
                    tracing::debug!(peer = %source, error = %e, "undecodable gossip transaction");
                    gossip.report_message_validation_result(
                        &message_id,
                        &source,
                        MessageAcceptance::Reject,
                    );
                    self.report(source, PeerAction::Malformed);
                }
            },
            None => {
                gossip.report_message_validation_result(
                    &message_id,
                    &source,
                    MessageAcceptance::Reject,
                );
            }
        }
    }

    pub(super) fn on_tx_result(&mut self, r: Verified) {
        let (acceptance, outcome) = match &r.verdict {
            TxVerdict::Accepted => (MessageAcceptance::Accept, GossipTx::Accepted),
            TxVerdict::Ignored(_) => (MessageAcceptance::Ignore, GossipTx::Ignored),
            TxVerdict::Invalid(reason) => {
                tracing::debug!(peer = %r.peer, %reason, "invalid gossip transaction");
                (MessageAcceptance::Reject, GossipTx::Invalid)
            }
        };
        self.chain.gossip_tx(outcome);
        if acceptance == MessageAcceptance::Reject {
            self.report(r.peer, PeerAction::InvalidTransaction);
        }
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&r.message_id, &r.peer, acceptance);
    }

    pub(super) fn on_import_result(&mut self, r: ImportResult) {
        let (acceptance, action) = match &r.verdict {
            BlockVerdict::Invalid(reason) => {
                tracing::debug!(peer = %r.peer, hash = %r.hash, %reason, "invalid block from peer");
                (MessageAcceptance::Reject, Some(PeerAction::InvalidBlock))
            }
            BlockVerdict::AlreadyKnown | BlockVerdict::Early | BlockVerdict::Stale => {
                (MessageAcceptance::Ignore, None)
            }
            BlockVerdict::Connected | BlockVerdict::Stored => {
                if r.from_sync {
                    self.imported_since_log += 1;
                }
                let useful = r.verdict == BlockVerdict::Connected;
                (
                    MessageAcceptance::Accept,
                    useful.then_some(PeerAction::UsefulBlock),
                )
            }
            BlockVerdict::UnknownParent => {
                // We are behind this peer: ask where it is, sync follows.
                self.send(r.peer, Request::Status, Pending::Status);
                (MessageAcceptance::Ignore, None)
            }
            BlockVerdict::Failed(e) => {
                tracing::error!(error = %e, "storage failure importing a block");
                (MessageAcceptance::Ignore, None)
            }
        };
        if let Some(id) = &r.gossip {
            self.swarm
                .behaviour_mut()
                .gossipsub
                .report_message_validation_result(id, &r.peer, acceptance);
        }
        if r.from_sync {
            let valid = acceptance != MessageAcceptance::Reject;
            if !valid {
                tracing::warn!(peer = %r.peer, hash = %r.hash, height = r.height, "synced block invalid");
            }
            self.sync.imported(valid);
        }
        if let Some(action) = action {
            self.report(r.peer, action);
        }
    }
}
