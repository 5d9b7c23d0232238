// A standard js-libp2p node (TCP, WebSocket, noise, yamux, identify, ping, gossipsub,
// Kademlia) dials an I8o8iCoin node, subscribes to its blocks topic and asks its DHT. Prints
// one JSON line: whether it stayed connected, how many blocks arrived by gossip, whether the
// node answered a Kademlia query, and what the node's identify said.
//
// Versions matter: @chainsafe/libp2p-gossipsub 14 is built for libp2p 2; under libp2p 3 its
// peer-connected handler throws (multiaddr 13 has no `tuples()`), which stops libp2p from
// telling the DHT about the peer as well — no gossip and no DHT, with nothing logged unless
// DEBUG=libp2p:registrar* is set. libp2p 3's gossipsub is @libp2p/gossipsub.
// Usage: node check-libp2p.mjs MULTIADDR BLOCKS_TOPIC MILLISECONDS
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { ping } from "@libp2p/ping";
import { gossipsub } from "@libp2p/gossipsub";
import { kadDHT, passthroughMapper } from "@libp2p/kad-dht";
import { multiaddr } from "@multiformats/multiaddr";

// libp2p 3 uses Promise.withResolvers (Node.js 22); the README's Node.js is 20, where this
// is the whole of it.
Promise.withResolvers ??= function withResolvers() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

// Browsers and Node.js 22 have a global WebSocket, which @libp2p/websockets dials with;
// Node.js 20 has it only behind a flag.
globalThis.WebSocket ??= (await import("ws")).WebSocket;

const [address, topic, millis] = process.argv.slice(2);
const target = multiaddr(address);
const node = await createLibp2p({
  transports: [tcp(), webSockets()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    ping: ping(),
    pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }),
    // The test node listens on 127.0.0.1: keep private addresses (the default mapper drops
    // them, as a public DHT should).
    dht: kadDHT({ protocol: "/i8o8i/kad/1", clientMode: true, peerInfoMapper: passthroughMapper }),
  },
});

let blocks = 0;
let disconnected = false;
node.services.pubsub.addEventListener("message", (e) => {
  if (e.detail.topic === topic) blocks += 1;
});
node.addEventListener("peer:disconnect", () => {
  disconnected = true;
});
node.services.pubsub.subscribe(topic);

const identified = new Promise((resolve) => {
  node.addEventListener("peer:identify", (e) => resolve(e.detail.peerId));
});
const connection = await node.dial(target);
const remote = connection.remotePeer;
const deadline = Date.now() + Number(millis);

// The DHT asks only peers in its routing table, which a peer joins once identify has said it
// speaks the DHT's protocol: ask after that, or the query has nobody to ask.
await Promise.race([identified, new Promise((r) => setTimeout(r, Number(millis) / 4))]);
await new Promise((r) => setTimeout(r, 200));

// Kademlia: ask the node for the peers closest to a key; its answer is a PEER_RESPONSE.
let kad = false;
try {
  const signal = AbortSignal.timeout(Math.max(1000, Number(millis) / 2));
  for await (const event of node.services.dht.getClosestPeers(new TextEncoder().encode("i8o8i"), { signal })) {
    if (event.name === "PEER_RESPONSE" && event.from.equals(remote)) kad = true;
  }
} catch (e) {
  // A timeout after the answer is fine; without an answer `kad` stays false.
}

while (Date.now() < deadline && blocks < 2 && !disconnected) {
  await new Promise((r) => setTimeout(r, 100));
}
const info = await node.peerStore.get(remote).catch(() => undefined);
const agent = info?.metadata?.get("AgentVersion");
console.log(
  JSON.stringify({
    stayed: !disconnected && node.getConnections(remote).length > 0,
    blocks,
    kad,
    agent: agent ? new TextDecoder().decode(agent) : null,
  }),
);
await node.stop();
process.exit(0);
