//! What the fuzz targets (`network/fuzz`) run on each input, and the test suite on a few
//! thousand generated ones: bytes a peer can send, through the same decoding and the same
//! sync state machine the service uses. Nothing may panic; what decodes is canonical.

use std::time::Instant;

use i8o8i_primitives::{Block, Header, Transaction, U256};
use libp2p::PeerId;
use libp2p::identity::Keypair;
use parity_scale_codec::Encode;

use crate::protocol::{MAX_HEADERS, Request, Response};
use crate::sync::{PeerTip, Sync};
use crate::testing::TestChain;
use crate::topics::Topic;

fn peer() -> PeerId {
    let mut seed = [7u8; 32];
    let key = Keypair::ed25519_from_bytes(&mut seed).expect("32 bytes make a key");
    key.public().to_peer_id()
}

/// A sync message from a peer: decoded as a request and as a response (canonical when it
/// decodes), and a decoded headers or blocks answer fed to a sync round that asked that peer.
pub fn sync_message(data: &[u8]) {
    if let Ok(request) = Request::decode_bytes(data) {
        assert_eq!(
            request.encode(),
            data,
            "a request decoded from non-canonical bytes"
        );
    }
    let Ok(response) = Response::decode_bytes(data) else {
        return;
    };
    assert_eq!(
        response.encode(),
        data,
        "a response decoded from non-canonical bytes"
    );
    answer(response);
}

/// `response` as the answer of a peer claiming far more work than we have.
fn answer(response: Response) {
    let chain = TestChain::new();
    let peer = peer();
    let claim = PeerTip {
        hash: chain.tip_header().hash(),
        height: 1_000_000,
        work: U256::MAX >> 1,
        lowest_block: 0,
    };
    let now = Instant::now();
    let mut sync = Sync::new();
    let _ = sync.poll(&chain, &[(peer, claim)], now);
    match response {
        Response::Headers(headers) => {
            let _ = sync.on_headers(&chain, peer, MAX_HEADERS, headers, now);
            let _ = sync.poll(&chain, &[(peer, claim)], now);
        }
        Response::Blocks(blocks) => {
            let asked: Vec<_> = blocks.iter().map(|b| b.header.hash()).collect();
            let _ = sync.on_blocks(peer, &asked, blocks, now);
            while let Some((_, block)) = sync.next_import(now) {
                use crate::chain_access::ChainAccess;
                let _ = chain.import_block(block);
                sync.imported(true);
            }
        }
        _ => {}
    }
}

/// A gossip payload: decoded as a compact block (rebuilt from nothing and from its own
/// prefilled transactions), a block and a transaction (canonical when it decodes, and the
/// values derived from it compute), and read as a topic name.
pub fn gossip_message(data: &[u8]) {
    if let Ok(compact) = crate::compact::CompactBlock::decode_bytes(data) {
        assert_eq!(
            compact.encode(),
            data,
            "a compact block decoded from non-canonical bytes"
        );
        let partial = compact.rebuild(compact.prefilled.iter().map(|p| p.tx.clone()).collect());
        if let Some(first) = compact.prefilled.first() {
            let missing = partial.missing().len();
            let _ = partial.complete(vec![first.tx.clone(); missing]);
        }
    }
    if let Ok(block) = Block::decode_strict(data) {
        assert_eq!(
            block.encode(),
            data,
            "a block decoded from non-canonical bytes"
        );
        let _ = block.header.hash();
        let _ = block.compute_tx_root();
    }
    if let Ok(tx) = Transaction::decode_strict(data) {
        assert_eq!(
            tx.encode(),
            data,
            "a transaction decoded from non-canonical bytes"
        );
        let _ = tx.txid();
    }
    if let Ok(header) = Header::decode_strict(data) {
        let _ = header.hash();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = text.parse::<Topic>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few thousand inputs per target: random bytes, and valid messages with random bytes
    /// overwritten (which get past the first decoding step far more often).
    fn inputs() -> Vec<Vec<u8>> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let g = crate::testing::genesis();
        let headers = crate::testing::branch(&g, 5, 1);
        let seeds = [
            Response::Headers(headers.clone()).encode(),
            Response::Blocks(headers.iter().map(crate::testing::block).collect()).encode(),
            Request::Headers {
                locator: vec![g.hash()],
                max: 10,
            }
            .encode(),
            crate::testing::block(&headers[0]).encode(),
        ];
        let mut out = Vec::new();
        for i in 0..3_000 {
            let mut bytes = if i % 2 == 0 {
                seeds[i % seeds.len()].clone()
            } else {
                (0..(next() % 300) as usize).map(|_| next() as u8).collect()
            };
            for _ in 0..(next() % 4) {
                if !bytes.is_empty() {
                    let at = (next() % bytes.len() as u64) as usize;
                    bytes[at] = next() as u8;
                }
            }
            out.push(bytes);
        }
        out
    }

    #[test]
    fn sync_and_gossip_messages_never_panic() {
        for input in inputs() {
            sync_message(&input);
            gossip_message(&input);
        }
    }
}
