//! Sync driven by hand: a chain on maps, made-up peers, no sockets.

use i8o8i_primitives::{BlockHash, Header, U256};

use super::*;
use crate::testing::{TestChain, block, branch, genesis, header};

fn tip_of(headers: &[Header]) -> PeerTip {
    let last = headers.last().expect("a branch");
    PeerTip {
        hash: last.hash(),
        height: last.height,
        work: U256::from(last.height + 1),
        lowest_block: 0,
    }
}

fn hashes(headers: &[Header]) -> Vec<BlockHash> {
    headers.iter().map(Header::hash).collect()
}

#[test]
fn nothing_is_requested_when_no_peer_is_ahead() {
    let chain = TestChain::new();
    let mut sync = Sync::new();
    let peer = PeerId::random();
    let ours = PeerTip {
        hash: chain.tip().hash,
        height: 0,
        work: chain.tip().work,
        lowest_block: 0,
    };
    assert_eq!(sync.poll(&chain, &[(peer, ours)], Instant::now()), vec![]);
    assert_eq!(sync.poll(&chain, &[], Instant::now()), vec![]);
}

#[test]
fn headers_are_asked_of_the_heaviest_peer_ahead_once() {
    let chain = TestChain::new();
    let g = chain.tip_header();
    let (light, heavy) = (PeerId::random(), PeerId::random());
    let peers = [
        (light, tip_of(&branch(&g, 3, 1))),
        (heavy, tip_of(&branch(&g, 5, 2))),
    ];
    let mut sync = Sync::new();
    let now = Instant::now();
    assert_eq!(
        sync.poll(&chain, &peers, now),
        vec![SyncAction::RequestHeaders {
            peer: heavy,
            locator: vec![g.hash()],
            max: MAX_HEADERS,
        }]
    );
    assert_eq!(sync.headers_from(), Some(heavy));
    assert_eq!(
        sync.poll(&chain, &peers, now),
        vec![],
        "one round at a time"
    );
}

#[test]
fn a_round_downloads_bodies_and_imports_them_in_chain_order() {
    let chain = TestChain::new();
    let g = chain.tip_header();
    let theirs = branch(&g, 3, 1);
    let peer = PeerId::random();
    let peers = [(peer, tip_of(&theirs))];
    let mut sync = Sync::new();
    let now = Instant::now();
    sync.poll(&chain, &peers, now);

    // A short answer ends the header round and queues the headers.
    assert_eq!(
        sync.on_headers(&chain, peer, MAX_HEADERS, theirs.clone(), now),
        vec![]
    );
    assert_eq!(sync.queued(), 3);
    assert_eq!(sync.headers_from(), None);

    assert_eq!(
        sync.poll(&chain, &peers, now),
        vec![SyncAction::RequestBlocks {
            peer,
            hashes: hashes(&theirs),
        }]
    );
    assert!(sync.is_downloading(&peer));
    assert_eq!(
        sync.poll(&chain, &peers, now),
        vec![],
        "one request per peer"
    );

    // Bodies arrive out of order: nothing is imported until the first one is there.
    let asked = hashes(&theirs);
    assert_eq!(
        sync.on_blocks(
            peer,
            &asked,
            vec![block(&theirs[2]), block(&theirs[1])],
            now
        ),
        vec![]
    );
    assert!(sync.next_import(now).is_none());
    assert!(!sync.is_downloading(&peer));
    // The missing one is asked for again.
    assert_eq!(
        sync.poll(&chain, &peers, now),
        vec![SyncAction::RequestBlocks {
            peer,
            hashes: vec![theirs[0].hash()],
        }]
    );
    sync.on_blocks(peer, &[theirs[0].hash()], vec![block(&theirs[0])], now);
    let order: Vec<u64> = std::iter::from_fn(|| sync.next_import(now))
        .map(|(from, b)| {
            assert_eq!(from, peer);
            b.header.height
        })
        .collect();
    assert_eq!(order, vec![1, 2, 3]);
    assert_eq!(sync.importing(), 3);
    assert_eq!(sync.queued(), 0);
}

#[test]
fn a_full_headers_answer_continues_from_the_queue_back() {
    let chain = TestChain::new();
    let g = chain.tip_header();
    let theirs = branch(&g, MAX_HEADERS as usize + 10, 1);
    let peer = PeerId::random();
    let mut sync = Sync::new();
    let now = Instant::now();
    sync.poll(&chain, &[(peer, tip_of(&theirs))], now);
    let first = theirs[..MAX_HEADERS as usize].to_vec();
    assert_eq!(
        sync.on_headers(&chain, peer, MAX_HEADERS, first, now),
        vec![SyncAction::RequestHeaders {
            peer,
            locator: vec![theirs[MAX_HEADERS as usize - 1].hash(), g.hash()],
            max: MAX_HEADERS,
        }]
    );
    let rest = theirs[MAX_HEADERS as usize..].to_vec();
    assert_eq!(
        sync.on_headers(&chain, peer, MAX_HEADERS, rest, now),
        vec![]
    );
    assert_eq!(sync.queued(), MAX_HEADERS as usize + 10);
}

#[test]
fn a_peer_that_answers_its_claim_with_nothing_is_penalised_and_another_is_asked() {
    let chain = TestChain::new();
    let g = chain.tip_header();
    let (liar, honest) = (PeerId::random(), PeerId::random());
    let mut claim = tip_of(&branch(&g, 4, 1));
    claim.work = U256::MAX;
    let peers = [(liar, claim), (honest, tip_of(&branch(&g, 3, 2)))];
    let mut sync = Sync::new();
    let now = Instant::now();
    assert!(matches!(
        sync.poll(&chain, &peers, now).as_slice(),
        [SyncAction::RequestHeaders { peer, .. }] if *peer == liar
    ));
    assert_eq!(
        sync.on_headers(&chain, liar, MAX_HEADERS, Vec::new(), now),
        vec![SyncAction::Report {
            peer: liar,
            action: PeerAction::UndeliveredClaim
        }]
    );
    assert_eq!(sync.headers_from(), None);
    assert!(sync.is_resting(&liar, now));
    assert!(matches!(
        sync.poll(&chain, &peers, now).as_slice(),
        [SyncAction::RequestHeaders { peer, .. }] if *peer == honest
    ));
    // The rest ends: the liar may be asked again (and pays again).
    assert!(!sync.is_resting(&liar, now + CLAIM_COOLDOWN));
}

#[test]
fn an_empty_answer_to_a_claim_we_have_meanwhile_costs_nothing() {
    let chain = TestChain::new();
    let g = chain.tip_header();
    let theirs = branch(&g, 2, 1);
    let peer = PeerId::random();
    let peers = [(peer, tip_of(&theirs))];
    let mut sync = Sync::new();
    let now = Instant::now();
    sync.poll(&chain, &peers, now);
    // Their blocks reached us by gossip before the answer.
    for h in &theirs {
        chain.headers.lock().unwrap().insert(h.hash(), h.clone());
    }
    assert_eq!(
        sync.on_headers(&chain, peer, MAX_HEADERS, Vec::new(), now),
        vec![]
    );
    assert!(!sync.is_resting(&peer, now));
}

#[test]
fn a_peer_that_does_not_answer_headers_rests() {
    let chain = TestChain::new();
    let g = chain.tip_header();
    let peer = PeerId::random();
    let peers = [(peer, tip_of(&branch(&g, 4, 1)))];
    let mut sync = Sync::new();
    let now = Instant::now();
    sync.poll(&chain, &peers, now);
    sync.headers_failed(peer, now);
    assert_eq!(sync.poll(&chain, &peers, now), vec![]);
    assert!(matches!(
        sync.poll(&chain, &peers, now + CLAIM_COOLDOWN).as_slice(),
        [SyncAction::RequestHeaders { .. }]
    ));
}

#[test]
fn bad_answers_are_reported_and_end_the_round() {
    let g = genesis();
    let peer = PeerId::random();
    let now = Instant::now();
    let theirs = branch(&g, 5, 1);
    let peers = [(peer, tip_of(&theirs))];
    let report = |action| vec![SyncAction::Report { peer, action }];

    // Headers that hang off nothing we know.
    let chain = TestChain::new();
    let mut sync = Sync::new();
    sync.poll(&chain, &peers, now);
    let orphans = theirs[2..].to_vec();
    assert_eq!(
        sync.on_headers(&chain, peer, MAX_HEADERS, orphans, now),
        report(PeerAction::InvalidHeaders)
    );
    assert_eq!((sync.queued(), sync.headers_from()), (0, None));

    // Headers that fail the chain's checks.
    let chain = TestChain {
        bad_from: Some(3),
        ..TestChain::new()
    };
    let mut sync = Sync::new();
    sync.poll(&chain, &peers, now);
    assert_eq!(
        sync.on_headers(&chain, peer, MAX_HEADERS, theirs.clone(), now),
        report(PeerAction::InvalidHeaders)
    );
    assert_eq!(sync.queued(), 0);

    // More headers than asked for.
    let chain = TestChain::new();
    let mut sync = Sync::new();
    sync.poll(&chain, &peers, now);
    assert_eq!(
        sync.on_headers(&chain, peer, 2, theirs.clone(), now),
        report(PeerAction::Malformed)
    );

    // An answer from a peer we did not ask is ignored.
    let stranger = PeerId::random();
    assert_eq!(
        sync.on_headers(&chain, stranger, MAX_HEADERS, theirs.clone(), now),
        vec![]
    );

    // A block we did not ask for.
    let mut sync = Sync::new();
    sync.poll(&chain, &peers, now);
    sync.on_headers(&chain, peer, MAX_HEADERS, theirs.clone(), now);
    sync.poll(&chain, &peers, now);
    let unasked = header(&g, 99);
    assert_eq!(
        sync.on_blocks(peer, &hashes(&theirs), vec![block(&unasked)], now),
        [
            report(PeerAction::Malformed),
            report(PeerAction::MissingBlocks)
        ]
        .concat()
    );
}

#[test]
fn a_departed_peers_downloads_go_to_another_peer() {
    let chain = TestChain::new();
    let g = chain.tip_header();
    let theirs = branch(&g, 3, 1);
    let (a, b) = (PeerId::random(), PeerId::random());
    let mut sync = Sync::new();
    let now = Instant::now();
    sync.poll(&chain, &[(a, tip_of(&theirs))], now);
    sync.on_headers(&chain, a, MAX_HEADERS, theirs.clone(), now);
    sync.poll(&chain, &[(a, tip_of(&theirs))], now);
    sync.peer_gone(a);
    assert_eq!(
        sync.poll(&chain, &[(b, tip_of(&theirs))], now),
        vec![SyncAction::RequestBlocks {
            peer: b,
            hashes: hashes(&theirs),
        }]
    );
    // A peer is only asked for blocks up to its own height.
    let mut sync = Sync::new();
    sync.poll(&chain, &[(a, tip_of(&theirs))], now);
    sync.on_headers(&chain, a, MAX_HEADERS, theirs.clone(), now);
    assert_eq!(
        sync.poll(&chain, &[(b, tip_of(&theirs[..1]))], now),
        vec![SyncAction::RequestBlocks {
            peer: b,
            hashes: vec![theirs[0].hash()],
        }]
    );
}

#[test]
fn a_peer_that_sends_none_of_the_blocks_it_claims_rests_and_others_download_them() {
    let chain = TestChain::new();
    let g = chain.tip_header();
    let theirs = branch(&g, 3, 1);
    let (liar, honest) = (PeerId::random(), PeerId::random());
    let mut sync = Sync::new();
    let now = Instant::now();
    sync.poll(&chain, &[(honest, tip_of(&theirs))], now);
    sync.on_headers(&chain, honest, MAX_HEADERS, theirs.clone(), now);
    // The liar is idle first and gets the queue's front.
    assert_eq!(
        sync.poll(&chain, &[(liar, tip_of(&theirs))], now),
        vec![SyncAction::RequestBlocks {
            peer: liar,
            hashes: hashes(&theirs),
        }]
    );
    assert_eq!(
        sync.on_blocks(liar, &hashes(&theirs), Vec::new(), now),
        vec![SyncAction::Report {
            peer: liar,
            action: PeerAction::MissingBlocks
        }]
    );
    // Idle again, but resting: the front goes to the honest peer.
    let peers = [(liar, tip_of(&theirs)), (honest, tip_of(&theirs))];
    assert_eq!(
        sync.poll(&chain, &peers, now),
        vec![SyncAction::RequestBlocks {
            peer: honest,
            hashes: hashes(&theirs),
        }]
    );
}

#[test]
fn a_stalled_round_is_detected_and_an_invalid_import_resets_it() {
    let chain = TestChain::new();
    let g = chain.tip_header();
    let theirs = branch(&g, 3, 1);
    let peer = PeerId::random();
    let mut sync = Sync::new();
    let start = Instant::now();
    assert!(!sync.stalled(start), "no round, no stall");
    sync.poll(&chain, &[(peer, tip_of(&theirs))], start);
    sync.on_headers(&chain, peer, MAX_HEADERS, theirs.clone(), start);
    assert!(!sync.stalled(start + SYNC_STALL));
    assert!(sync.stalled(start + SYNC_STALL + Duration::from_secs(1)));

    sync.poll(&chain, &[(peer, tip_of(&theirs))], start);
    sync.on_blocks(
        peer,
        &hashes(&theirs),
        theirs.iter().map(block).collect(),
        start,
    );
    assert!(sync.next_import(start).is_some());
    sync.imported(false);
    assert_eq!((sync.queued(), sync.importing()), (0, 0));
    assert!(sync.next_import(start).is_none());
}

#[test]
fn an_invalid_import_keeps_outstanding_downloads_so_no_peer_is_asked_twice_at_once() {
    let chain = TestChain::new();
    let g = chain.tip_header();
    let theirs = branch(&g, 40, 1);
    let (x, y) = (PeerId::random(), PeerId::random());
    let peers = [(x, tip_of(&theirs)), (y, tip_of(&theirs))];
    let mut sync = Sync::new();
    let now = Instant::now();
    sync.poll(&chain, &peers, now);
    let a = sync.headers_from().expect("a header round");
    let b = if a == x { y } else { x };
    sync.on_headers(&chain, a, MAX_HEADERS, theirs.clone(), now);
    // Both peers get a batch, a the first one; a answers, b's request is still out.
    let ordered = [(a, tip_of(&theirs)), (b, tip_of(&theirs))];
    let requests = sync.poll(&chain, &ordered, now);
    assert_eq!(requests.len(), 2);
    let asked_of_a = requests
        .iter()
        .find_map(|r| match r {
            SyncAction::RequestBlocks { peer, hashes } if *peer == a => Some(hashes.clone()),
            _ => None,
        })
        .expect("a batch for a");
    let bodies: Vec<Block> = theirs
        .iter()
        .filter(|h| asked_of_a.contains(&h.hash()))
        .map(block)
        .collect();
    sync.on_blocks(a, &asked_of_a, bodies, now);
    assert!(sync.next_import(now).is_some());
    sync.imported(false);
    assert!(sync.is_downloading(&b));
    assert!(!sync.is_downloading(&a));
    assert_eq!(sync.queued(), 0);
}

#[test]
fn a_delivered_claim_whose_blocks_did_not_become_ours_is_not_fetched_again_at_once() {
    let chain = TestChain::new();
    let g = chain.tip_header();
    let theirs = branch(&g, 2, 1);
    let peer = PeerId::random();
    let peers = [(peer, tip_of(&theirs))];
    let mut sync = Sync::new();
    let now = Instant::now();
    sync.poll(&chain, &peers, now);
    sync.on_headers(&chain, peer, MAX_HEADERS, theirs.clone(), now);
    // The importer refuses the first block without a verdict on the peer (below our final
    // block, say): the queue is dropped, the claim is still not ours.
    sync.poll(&chain, &peers, now);
    sync.on_blocks(
        peer,
        &hashes(&theirs),
        theirs.iter().map(block).collect(),
        now,
    );
    while sync.next_import(now).is_some() {
        sync.imported(true);
    }
    assert_eq!(sync.queued(), 0);
    assert_eq!(
        sync.poll(&chain, &peers, now),
        vec![],
        "no header round loop"
    );
    // A new claim, or the same one later, is fetched.
    assert!(matches!(
        sync.poll(&chain, &peers, now + CLAIM_COOLDOWN).as_slice(),
        [SyncAction::RequestHeaders { .. }]
    ));
}

#[test]
fn a_pruned_peer_is_asked_only_for_the_blocks_it_keeps() {
    let chain = TestChain::new();
    let g = chain.tip_header();
    let theirs = branch(&g, 6, 1);
    let (archival, pruned) = (PeerId::random(), PeerId::random());
    let pruned_tip = PeerTip {
        lowest_block: 4,
        ..tip_of(&theirs)
    };
    let mut sync = Sync::new();
    let now = Instant::now();
    sync.poll(&chain, &[(pruned, pruned_tip)], now);
    sync.on_headers(&chain, pruned, MAX_HEADERS, theirs.clone(), now);
    // Heights 1..=6 are queued; the pruned peer keeps 4..=6 only.
    assert_eq!(
        sync.poll(&chain, &[(pruned, pruned_tip)], now),
        vec![SyncAction::RequestBlocks {
            peer: pruned,
            hashes: hashes(&theirs[3..]),
        }]
    );
    assert_eq!(
        sync.poll(
            &chain,
            &[(pruned, pruned_tip), (archival, tip_of(&theirs))],
            now
        ),
        vec![SyncAction::RequestBlocks {
            peer: archival,
            hashes: hashes(&theirs[..3]),
        }]
    );
}
