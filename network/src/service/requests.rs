//! The sync protocol's request-response traffic: serving peers' requests (status, headers,
//! blocks, pool transactions) within the protocol's limits, and handing the answers to our own
//! requests to the sync state machine.

use super::*;

/// How often one peer may have our pool.
const POOL_REQUEST_INTERVAL: Duration = Duration::from_secs(60);
/// The upload window over which a peer's served block bytes are counted.
pub(super) const UPLOAD_WINDOW: Duration = Duration::from_secs(60);
/// Block bytes one peer may be served per window: 256 MB a minute (about 4 MB/s, which
/// keeps a syncing honest peer busy without letting one peer take the node's bandwidth).
const MAX_UPLOAD_PER_WINDOW: usize = 256 * 1024 * 1024;

impl Service {
    pub(super) fn on_sync_event(&mut self, event: request_response::Event<Bytes, Bytes>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => self.on_request(peer, &request, channel),
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let Some((_, pending)) = self.requests.remove(&request_id) else {
                    return;
                };
                match Response::decode_bytes(&response) {
                    Ok(response) => self.on_response(peer, pending, response),
                    Err(e) => {
                        tracing::debug!(%peer, error = %e, "undecodable sync response");
                        self.undo_pending(peer, pending);
                        self.report(peer, PeerAction::Malformed);
                    }
                }
            }
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some((_, pending)) = self.requests.remove(&request_id) {
                    tracing::debug!(%peer, %error, "sync request failed");
                    self.undo_pending(peer, pending);
                    if matches!(error, request_response::OutboundFailure::Timeout) {
                        self.report(peer, PeerAction::Timeout);
                    }
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "inbound sync request failed");
                if matches!(error, request_response::InboundFailure::Io(_)) {
                    // Oversized or cut-off request.
                    self.report(peer, PeerAction::Malformed);
                }
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    pub(super) fn undo_pending(&mut self, peer: PeerId, pending: Pending) {
        match pending {
            Pending::Status | Pending::Mempool => {}
            Pending::Headers { .. } => self.sync.headers_failed(peer, Instant::now()),
            Pending::Blocks(hashes) => self.sync.blocks_failed(peer, &hashes),
            Pending::BlockTxs(hash) | Pending::WholeBlock(hash) => self.compact_failed(hash),
        }
    }

    pub(super) fn respond(&mut self, channel: ResponseChannel<Bytes>, response: Response) {
        let _ = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, response.encode());
    }

    pub(super) fn on_request(
        &mut self,
        peer: PeerId,
        bytes: &[u8],
        channel: ResponseChannel<Bytes>,
    ) {
        let request = match Request::decode_bytes(bytes) {
            Ok(r) => r,
            Err(e) => {
                self.respond(channel, Response::Refused(e.to_string()));
                self.report(peer, PeerAction::Malformed);
                return;
            }
        };
        let chain = self.chain.clone();
        let response = match request {
            Request::Status => Response::Status(self.our_status()),
            Request::Headers { locator, max } => {
                if locator.len() > MAX_LOCATOR {
                    self.report(peer, PeerAction::Malformed);
                    Response::Refused(format!("locator over {MAX_LOCATOR} hashes"))
                } else {
                    match chain.headers_after(&locator, max.min(MAX_HEADERS)) {
                        Ok(h) => Response::Headers(h),
                        Err(e) => Response::Refused(format!("storage: {e}")),
                    }
                }
            }
            Request::Blocks(hashes) => {
                if hashes.len() > MAX_BLOCKS_PER_REQUEST {
                    self.report(peer, PeerAction::Malformed);
                    Response::Refused(format!("over {MAX_BLOCKS_PER_REQUEST} blocks"))
                } else {
                    return self.serve_blocks(peer, hashes, channel);
                }
            }
            Request::BlockTxs { block, indexes } => {
                return self.serve_block_txs(peer, block, indexes, channel);
            }
            Request::MempoolTxs => {
                let now = Instant::now();
                if self
                    .pool_served
                    .get(&peer)
                    .is_some_and(|last| now.duration_since(*last) < POOL_REQUEST_INTERVAL)
                {
                    Response::Refused("pool already served to you this minute".into())
                } else {
                    self.pool_served.insert(peer, now);
                    let answers = self.answers_tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let txs =
                            chain.pool_transactions(MAX_MEMPOOL_TXS, MAX_RESPONSE_BYTES - 1024);
                        let _ = answers.send(Answer {
                            peer,
                            channel,
                            response: Response::Txs(txs),
                            bytes: 0,
                        });
                    });
                    return;
                }
            }
        };
        self.respond(channel, response);
    }

    /// Block bytes `peer` may still be served in its current upload window, with the channel
    /// to answer on; `None` once the request is refused because nothing is left.
    pub(super) fn upload_budget(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<Bytes>,
    ) -> Option<(usize, ResponseChannel<Bytes>)> {
        let now = Instant::now();
        let window = self.uploads.entry(peer).or_insert((now, 0));
        if now.duration_since(window.0) >= UPLOAD_WINDOW {
            *window = (now, 0);
        }
        let left = MAX_UPLOAD_PER_WINDOW.saturating_sub(window.1);
        if left == 0 {
            self.respond(
                channel,
                Response::Refused("upload budget for this minute used up".into()),
            );
            return None;
        }
        Some((left, channel))
    }

    /// Answers a blocks request off the event loop: each hash once (a request repeating one
    /// big block must not multiply the answer), stopping at the response cap and at what is
    /// left of the peer's upload window; blocks the node found invalid are never served.
    fn serve_blocks(
        &mut self,
        peer: PeerId,
        hashes: Vec<BlockHash>,
        channel: ResponseChannel<Bytes>,
    ) {
        let Some((left, channel)) = self.upload_budget(peer, channel) else {
            return;
        };
        let mut seen = std::collections::HashSet::new();
        let hashes: Vec<BlockHash> = hashes.into_iter().filter(|h| seen.insert(*h)).collect();
        let chain = self.chain.clone();
        let answers = self.answers_tx.clone();
        tokio::task::spawn_blocking(move || {
            let cap = left.min(MAX_RESPONSE_BYTES - 1024);
            let mut blocks = Vec::new();
            let mut size = 0usize;
            for h in hashes {
                match chain.block(&h) {
                    Ok(Some(b)) => {
                        let next = size + b.encoded_size();
                        if next > cap && !blocks.is_empty() {
                            break;
                        }
                        size = next;
                        blocks.push(b);
                    }
                    _ => break,
                }
            }
            let _ = answers.send(Answer {
                peer,
                channel,
                response: Response::Blocks(blocks),
                bytes: size,
            });
        });
    }

    /// Sends an answer prepared off the event loop and charges its bytes to the peer.
    pub(super) fn on_answer(&mut self, answer: Answer) {
        if answer.bytes > 0
            && let Some(window) = self.uploads.get_mut(&answer.peer)
        {
            window.1 = window.1.saturating_add(answer.bytes);
        }
        self.respond(answer.channel, answer.response);
    }

    pub(super) fn on_response(&mut self, peer: PeerId, pending: Pending, response: Response) {
        match (pending, response) {
            (Pending::Status, Response::Status(status)) => {
                if status.genesis != self.genesis {
                    tracing::info!(%peer, "peer is on another chain; disconnecting");
                    let _ = self.swarm.disconnect_peer_id(peer);
                    return;
                }
                let caught_up = self.chain.tip().work >= status.work();
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.status = Some(status);
                    if caught_up && !p.mempool_asked {
                        p.mempool_asked = true;
                        self.send(peer, Request::MempoolTxs, Pending::Mempool);
                    }
                }
            }
            (Pending::Mempool, Response::Txs(txs)) => {
                if txs.len() > MAX_MEMPOOL_TXS {
                    self.report(peer, PeerAction::Malformed);
                    return;
                }
                // Submitted like gossip, off the event loop; refusals are normal (already
                // known, spent meanwhile) and cost the peer nothing.
                let chain = self.chain.clone();
                tokio::task::spawn_blocking(move || {
                    let accepted = txs
                        .into_iter()
                        .filter(|tx| chain.import_transaction(tx.clone()) == TxVerdict::Accepted)
                        .count();
                    tracing::debug!(%peer, accepted, "pool transactions from a peer");
                });
            }
            (Pending::Headers { max }, Response::Headers(headers)) => {
                self.on_headers(peer, max, headers);
            }
            (Pending::BlockTxs(hash), Response::BlockTxs(txs)) => self.on_block_txs(hash, txs),
            (Pending::WholeBlock(hash), Response::Blocks(blocks)) => {
                self.on_whole_block(hash, blocks);
            }
            (Pending::Blocks(asked), Response::Blocks(blocks)) => {
                let actions = self.sync.on_blocks(peer, &asked, blocks, Instant::now());
                self.apply(actions);
            }
            (pending, Response::Refused(reason)) => {
                tracing::debug!(%peer, %reason, "sync request refused");
                self.undo_pending(peer, pending);
            }
            (pending, _) => {
                self.undo_pending(peer, pending);
                self.report(peer, PeerAction::Malformed);
            }
        }
    }

    pub(super) fn on_headers(&mut self, peer: PeerId, max: u32, headers: Vec<Header>) {
        let actions = self
            .sync
            .on_headers(&*self.chain, peer, max, headers, Instant::now());
        self.apply(actions);
    }

    /// Sends what sync asked for and applies its peer reports.
    pub(super) fn apply(&mut self, actions: Vec<SyncAction>) {
        for action in actions {
            match action {
                SyncAction::RequestHeaders { peer, locator, max } => {
                    self.send(
                        peer,
                        Request::Headers { locator, max },
                        Pending::Headers { max },
                    );
                }
                SyncAction::RequestBlocks { peer, hashes } => {
                    self.send(
                        peer,
                        Request::Blocks(hashes.clone()),
                        Pending::Blocks(hashes),
                    );
                }
                SyncAction::Report { peer, action } => self.report(peer, action),
            }
        }
    }

    /// Starts header rounds, hands out body downloads, feeds the importer.
    pub(super) fn drive_sync(&mut self) {
        let now = Instant::now();
        let peers: Vec<(PeerId, PeerTip)> = self
            .peers
            .iter()
            .filter_map(|(id, p)| {
                p.status.as_ref().map(|s| {
                    (
                        *id,
                        PeerTip {
                            hash: s.best_hash,
                            height: s.best_height,
                            work: s.work(),
                            lowest_block: s.lowest_block,
                        },
                    )
                })
            })
            .collect();
        let actions = self.sync.poll(&*self.chain, &peers, now);
        self.apply(actions);
        // Imports, strictly in chain order.
        while let Some((peer, block)) = self.sync.next_import(now) {
            let job = ImportJob {
                peer,
                block,
                gossip: None,
            };
            match self.imports.try_send(job) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(job)) => {
                    self.sync.unimported(job.peer, job.block);
                    break;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            }
        }
        self.log_progress(self.chain.tip().height);
    }

    pub(super) fn log_progress(&mut self, height: u64) {
        let now = std::time::Instant::now();
        let last = *self.last_log.get_or_insert(now);
        let elapsed = now.duration_since(last);
        if elapsed >= Duration::from_secs(5) && self.imported_since_log > 0 {
            let target = self
                .peers
                .values()
                .filter_map(|p| p.status.as_ref().map(|s| s.best_height))
                .max()
                .unwrap_or(height)
                .max(height);
            let rate = self.imported_since_log * 1000 / (elapsed.as_millis().max(1) as u64);
            tracing::info!(height, target, blocks_per_sec = rate, "syncing");
            self.imported_since_log = 0;
            self.last_log = Some(now);
        }
    }
}
