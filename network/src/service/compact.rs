//! Compact block relay on the service: rebuilding announced blocks from the pool, asking the
//! relaying peer for what is missing (or for the whole block), and serving those requests.

use super::*;
use crate::chain_access::CompactOutcome;
use crate::compact::{CompactBlock, PartialBlock, Rebuilt};
use crate::protocol::MAX_BLOCK_TXS_REQUEST;

/// Compact blocks waiting for transactions or a whole block at once; more are ignored (sync
/// fetches what gossip could not deliver).
const MAX_COMPACT_PENDING: usize = 16;

/// A block announced compactly and not yet complete.
pub(super) struct CompactPending {
    peer: PeerId,
    message_id: MessageId,
    partial: PartialBlock,
}

impl Service {
    pub(super) fn on_compact_block(
        &mut self,
        source: PeerId,
        message_id: MessageId,
        compact: CompactBlock,
    ) {
        let header = &compact.header;
        let hash = header.hash();
        if self.chain.known_header(&hash).is_some()
            || self.compact.contains_key(&hash)
            || self.compact.len() >= MAX_COMPACT_PENDING
        {
            self.ignore(&message_id, source);
            return;
        }
        let (Some(parent), Some(parent_work)) = (
            self.chain.known_header(&header.parent),
            self.chain.known_work(&header.parent),
        ) else {
            // We are behind this peer: ask where it is, sync fetches the blocks whole.
            self.ignore(&message_id, source);
            self.send(source, Request::Status, Pending::Status);
            return;
        };
        let added = match self
            .chain
            .check_headers(&parent, std::slice::from_ref(header))
        {
            Ok(added) => added,
            Err((_, reason)) => {
                // A bad seal: nothing is rebuilt or asked for on its account.
                tracing::debug!(peer = %source, %hash, %reason, "compact block with an invalid header");
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(
                        &message_id,
                        &source,
                        MessageAcceptance::Reject,
                    );
                self.report(source, PeerAction::InvalidBlock);
                return;
            }
        };
        // A block that would end a chain lighter than ours or than the chain's minimum work is
        // not imported (so not stored), no fault of the sender: Bitcoin Core does not process
        // unrequested blocks with less work than its tip either.
        let work = parent_work.saturating_add(added);
        if work < self.chain.tip().work || work < self.chain.min_chain_work() {
            self.chain.saw_unimported_header(header);
            self.ignore(&message_id, source);
            return;
        }
        let pool = if compact.short_ids.is_empty() {
            Vec::new()
        } else {
            let wanted = compact.wanted();
            let key = compact.key();
            self.chain
                .pool_matching(&|txid| wanted.contains(&key.short_id(txid)))
        };
        let partial = compact.rebuild(pool);
        let pending = CompactPending {
            peer: source,
            message_id,
            partial,
        };
        let missing = pending.partial.missing().to_vec();
        if missing.is_empty() {
            self.complete_compact(pending, Vec::new(), CompactOutcome::Complete);
        } else if missing.len() > MAX_BLOCK_TXS_REQUEST {
            self.fetch_whole(pending);
        } else {
            self.send(
                source,
                Request::BlockTxs {
                    block: hash,
                    indexes: missing,
                },
                Pending::BlockTxs(hash),
            );
            self.compact.insert(hash, pending);
        }
    }

    /// Fills what was missing; imports the block if it matches its header, else asks for it
    /// whole.
    fn complete_compact(
        &mut self,
        pending: CompactPending,
        txs: Vec<Transaction>,
        outcome: CompactOutcome,
    ) {
        match pending.partial.clone().complete(txs) {
            Ok(Rebuilt::Block(block)) => {
                self.chain.compact_block(outcome);
                self.import_gossip(pending.peer, pending.message_id, *block);
            }
            Ok(Rebuilt::Mismatch) => self.fetch_whole(pending),
            Err(e) => {
                tracing::debug!(peer = %pending.peer, error = %e, "bad transactions for a compact block");
                self.ignore(&pending.message_id, pending.peer);
                self.report(pending.peer, PeerAction::Malformed);
            }
        }
    }

    fn fetch_whole(&mut self, pending: CompactPending) {
        let hash = pending.partial.hash();
        self.send(
            pending.peer,
            Request::Blocks(vec![hash]),
            Pending::WholeBlock(hash),
        );
        self.compact.insert(hash, pending);
    }

    /// The transactions a peer sent for a compact block.
    pub(super) fn on_block_txs(&mut self, hash: BlockHash, txs: Vec<Transaction>) {
        if let Some(pending) = self.compact.remove(&hash) {
            self.complete_compact(pending, txs, CompactOutcome::Fetched);
        }
    }

    /// The whole block asked for after a compact one could not be rebuilt.
    pub(super) fn on_whole_block(&mut self, hash: BlockHash, mut blocks: Vec<Block>) {
        let Some(pending) = self.compact.remove(&hash) else {
            return;
        };
        match blocks.pop() {
            Some(block) if blocks.is_empty() && block.header.hash() == hash => {
                self.chain.compact_block(CompactOutcome::Whole);
                self.import_gossip(pending.peer, pending.message_id, block);
            }
            // It does not have it (any more): no fault; sync catches up.
            None => self.ignore(&pending.message_id, pending.peer),
            Some(_) => {
                self.ignore(&pending.message_id, pending.peer);
                self.report(pending.peer, PeerAction::Malformed);
            }
        }
    }

    /// A compact block's request failed or was refused.
    pub(super) fn compact_failed(&mut self, hash: BlockHash) {
        if let Some(pending) = self.compact.remove(&hash) {
            self.ignore(&pending.message_id, pending.peer);
        }
    }

    /// Hands a block that arrived by gossip to the importer; its verdict decides the message.
    pub(super) fn import_gossip(&mut self, peer: PeerId, message_id: MessageId, block: Block) {
        let job = ImportJob {
            peer,
            block,
            gossip: Some(message_id.clone()),
        };
        if self.imports.try_send(job).is_err() {
            // The importer is busy syncing; the block will come through sync.
            self.ignore(&message_id, peer);
        }
    }

    fn ignore(&mut self, message_id: &MessageId, peer: PeerId) {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(message_id, &peer, MessageAcceptance::Ignore);
    }

    /// Answers [`Request::BlockTxs`] off the event loop, charged to the peer's upload window.
    pub(super) fn serve_block_txs(
        &mut self,
        peer: PeerId,
        hash: BlockHash,
        indexes: Vec<u32>,
        channel: ResponseChannel<Bytes>,
    ) {
        if indexes.len() > MAX_BLOCK_TXS_REQUEST {
            self.report(peer, PeerAction::Malformed);
            self.respond(
                channel,
                Response::Refused(format!("over {MAX_BLOCK_TXS_REQUEST} transactions")),
            );
            return;
        }
        let Some((left, channel)) = self.upload_budget(peer, channel) else {
            return;
        };
        let chain = self.chain.clone();
        let answers = self.answers_tx.clone();
        tokio::task::spawn_blocking(move || {
            let (response, bytes) = match chain.block(&hash) {
                Ok(Some(block)) => {
                    let txs: Option<Vec<Transaction>> = indexes
                        .iter()
                        .map(|i| block.transactions.get(*i as usize).cloned())
                        .collect();
                    match txs {
                        Some(txs) => {
                            let bytes = txs.iter().map(|tx| tx.encoded_size()).sum::<usize>();
                            if bytes > left.min(MAX_RESPONSE_BYTES - 1024) {
                                (Response::Refused("over the response cap".into()), 0)
                            } else {
                                (Response::BlockTxs(txs), bytes)
                            }
                        }
                        None => (Response::Refused("index beyond the block".into()), 0),
                    }
                }
                Ok(None) => (Response::Refused("unknown block".into()), 0),
                Err(e) => (Response::Refused(format!("storage: {e}")), 0),
            };
            let _ = answers.send(Answer {
                peer,
                channel,
                response,
                bytes,
            });
        });
    }
}
