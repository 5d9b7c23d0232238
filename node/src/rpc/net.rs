//! `net_*`: the peer-to-peer network's state and the operator's controls over it.

use i8o8i_rpc::{ErrorCode, Registry, RpcError, rpc_error};

use std::sync::Arc;

use super::common::invalid_param;
use crate::node::Node;
use i8o8i_rpc::api;
use i8o8i_rpc::types::*;

/// Longest ban `net_ban` accepts: a year.
pub const MAX_BAN_SECS: u64 = 365 * 24 * 3600;

fn network(node: &Node) -> Result<i8o8i_network::NetworkHandle, RpcError> {
    node.network().cloned().ok_or_else(|| {
        rpc_error(
            ErrorCode::NetworkUnavailable,
            "networking is disabled on this node (p2p.enabled is false)",
        )
    })
}

fn network_error(e: i8o8i_network::NetworkError) -> RpcError {
    use i8o8i_network::NetworkError;
    match e {
        NetworkError::Dial { .. } => rpc_error(ErrorCode::DialFailed, e.to_string()),
        NetworkError::BadAddress { .. } => invalid_param("address", e),
        _ => rpc_error(ErrorCode::NetworkUnavailable, e.to_string()),
    }
}

fn parse_peer_id(s: String) -> Result<libp2p::PeerId, RpcError> {
    s.parse()
        .map_err(|e| invalid_param("peerId", format!("not a peer id: {e}")))
}

pub(crate) fn register(registry: &mut Registry<Node>) {
    registry.method::<api::NetGetInfo, _, _>(|(), node: Arc<Node>| async move {
        let info = network(&node)?.info().await.map_err(network_error)?;
        Ok(NetInfoJson {
            peer_id: info.peer_id.to_string(),
            listen_addresses: info
                .listen_addresses
                .iter()
                .map(ToString::to_string)
                .collect(),
            peers: info.peers,
            known_peers: info.known_peers,
        })
    });

    registry.method::<api::NetPeers, _, _>(|(), node: Arc<Node>| async move {
        let peers = network(&node)?.peers().await.map_err(network_error)?;
        Ok(peers
            .into_iter()
            .map(|p| PeerJson {
                id: p.id.to_string(),
                address: p.address.to_string(),
                direction: if p.inbound { "inbound" } else { "outbound" }.to_owned(),
                score: p.score,
                agent: p.agent,
                best_height: p.best_height,
            })
            .collect::<Vec<_>>())
    });

    registry.method::<api::NetAddPeer, _, _>(|(address,), node: Arc<Node>| async move {
        let text: String = address;
        let addr = i8o8i_network::parse_multiaddr(&text).map_err(network_error)?;
        network(&node)?
            .add_peer(addr)
            .await
            .map_err(network_error)?;
        Ok(true)
    });

    registry.method::<api::NetRemovePeer, _, _>(|(peer_id,), node: Arc<Node>| async move {
        let peer = parse_peer_id(peer_id)?;
        network(&node)?
            .remove_peer(peer)
            .await
            .map_err(network_error)
    });

    registry.method::<api::NetBan, _, _>(|(peer_id, seconds), node: Arc<Node>| async move {
        let peer = parse_peer_id(peer_id)?;
        let secs: u64 = seconds;
        if !(1..=MAX_BAN_SECS).contains(&secs) {
            return Err(invalid_param(
                "seconds",
                format!("must be 1 to {MAX_BAN_SECS}"),
            ));
        }
        network(&node)?
            .ban(peer, secs)
            .await
            .map_err(network_error)?;
        Ok(true)
    });
}
