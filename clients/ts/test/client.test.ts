// The JSON-RPC clients against a local stand-in server: request shape, bearer tokens, error
// mapping, and WebSocket subscriptions with jsonrpsee's notification format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

import { RpcClient, RpcError, RpcErrorCode, WsClient, jwtToken, type WebSocketConstructor } from '../src/index.js';

interface Seen {
  body: { jsonrpc: string; id: number; method: string; params: unknown[] };
  auth: string | undefined;
}

async function withServer(
  answer: (seen: Seen) => { status?: number; body: string },
  run: (url: string, seen: Seen[]) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const s = { body: JSON.parse(data), auth: req.headers['authorization'] };
      seen.push(s);
      const { status = 200, body } = answer(s);
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '3' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

test('calls are positional JSON-RPC 2.0 with typed results', async () => {
  await withServer(
    ({ body }) => ({ body: JSON.stringify({ jsonrpc: '2.0', id: body.id, result: { confirmed: 5, unconfirmed: -1 } }) }),
    async (url, seen) => {
      const client = new RpcClient(url);
      const balance = await client.call('address_getBalance', ['ti8o1xyz']);
      assert.equal(balance.confirmed + balance.unconfirmed, 4);
      // Omitted trailing optional parameters are not sent.
      await client.call('address_getUtxos', ['ti8o1xyz', undefined, 10]);
      await client.call('address_getUtxos', ['ti8o1xyz', undefined, undefined]);
      assert.deepEqual(seen.map((s) => s.body.params), [['ti8o1xyz'], ['ti8o1xyz', null, 10], ['ti8o1xyz']]);
      assert.equal(seen[0]!.body.jsonrpc, '2.0');
      assert.equal(seen[0]!.body.method, 'address_getBalance');
      assert.equal(seen[0]!.auth, undefined);
    },
  );
});

test('a bearer token is sent, fresh from a function each call', async () => {
  let n = 0;
  await withServer(
    ({ body }) => ({ body: JSON.stringify({ jsonrpc: '2.0', id: body.id, result: [] }) }),
    async (url, seen) => {
      await new RpcClient(url, { token: 'abc' }).call('mining_generate', [1]);
      const fresh = new RpcClient(url, { token: async () => `t${++n}` });
      await fresh.call('wallet_list', []);
      await fresh.call('wallet_list', []);
      assert.deepEqual(seen.map((s) => s.auth), ['Bearer abc', 'Bearer t1', 'Bearer t2']);
    },
  );
});

test('errors are typed', async () => {
  await withServer(
    ({ body }) =>
      body.method === 'chain_getBlockHash'
        ? { body: JSON.stringify({ jsonrpc: '2.0', id: body.id, error: { code: -32001, message: 'no block at height 9', data: { h: 9 } } }) }
        : body.method === 'mempool_getInfo'
          ? { status: 429, body: 'slow down' }
          : { body: 'not json' },
    async (url) => {
      const client = new RpcClient(url);
      await assert.rejects(client.call('chain_getBlockHash', [9]), (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.equal(e.kind, 'JsonRpc');
        assert.equal(e.code, RpcErrorCode.NotFound);
        assert.equal(e.message, 'no block at height 9');
        assert.deepEqual(e.data, { h: 9 });
        assert.equal(e.method, 'chain_getBlockHash');
        return true;
      });
      await assert.rejects(client.call('mempool_getInfo', []), (e: unknown) => e instanceof RpcError && e.kind === 'Http' && e.code === 429);
      await assert.rejects(client.call('node_getInfo', []), (e: unknown) => e instanceof RpcError && e.kind === 'InvalidResponse');
    },
  );
  await assert.rejects(new RpcClient('http://127.0.0.1:1').call('node_getInfo', []), (e: unknown) => e instanceof RpcError && e.kind === 'Transport');
});

test('jwtToken is an HS256 JWT with iat', () => {
  const secret = '11'.repeat(32);
  const token = jwtToken(secret, 1_700_000_000);
  const [h, c, s] = token.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h!, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' });
  assert.deepEqual(JSON.parse(Buffer.from(c!, 'base64url').toString()), { iat: 1_700_000_000 });
  const expected = createHmac('sha256', Buffer.from(secret, 'hex')).update(`${h}.${c}`).digest('base64url');
  assert.equal(s, expected);
  assert.equal(jwtToken(`0x${secret}\n`, 1_700_000_000), token);
});

test('WebSocket calls and subscriptions route by id', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const headers: (string | undefined)[] = [];
  wss.on('connection', (socket, req) => {
    headers.push(req.headers['authorization']);
    socket.on('message', (raw) => {
      const msg = JSON.parse(String(raw));
      const reply = (m: unknown) => socket.send(JSON.stringify(m));
      if (msg.method === 'chain_subscribeNewHeads') {
        reply({ jsonrpc: '2.0', id: msg.id, result: 4242 });
        // Notifications right behind the answer must not be lost.
        for (const height of [1, 2, 3]) {
          reply({ jsonrpc: '2.0', method: 'chain_newHead', params: { subscription: 4242, result: { hash: 'h', height, txCount: 1, header: {} } } });
        }
      } else if (msg.method === 'mempool_subscribePending') {
        reply({ jsonrpc: '2.0', id: msg.id, result: 'abc' });
        reply({ jsonrpc: '2.0', method: 'mempool_pendingTx', params: { subscription: 'abc', error: 'Subscription dropped: too slow' } });
      } else if (msg.method === 'chain_unsubscribeNewHeads') {
        reply({ jsonrpc: '2.0', id: msg.id, result: msg.params[0] === 4242 });
      } else if (msg.method === 'chain_getInfo') {
        reply({ jsonrpc: '2.0', id: msg.id, result: { height: 7 } });
      } else {
        reply({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'Method not found' } });
      }
    });
  });
  await new Promise((r) => wss.once('listening', r));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const Ws: WebSocketConstructor = WebSocket;
  try {
    const client = await WsClient.connect(url, { WebSocket: Ws, token: 'tok', timeoutMs: 5000 });
    assert.equal(headers[0], 'Bearer tok');
    const info = await client.call('chain_getInfo', []);
    assert.equal(info.height, 7);
    await assert.rejects(client.call('net_peers', []), (e: unknown) => e instanceof RpcError && e.code === RpcErrorCode.MethodNotFound);

    const seenByHandler: number[] = [];
    const heads = await client.subscribe('chain_subscribeNewHeads', [], (head) => seenByHandler.push(head.height));
    assert.equal(heads.id, 4242);
    const buffered = await client.subscribe('chain_subscribeNewHeads', []);
    assert.equal((await buffered.next(2000)).height, 1);
    assert.equal((await buffered.next(2000)).height, 2);
    assert.equal((await buffered.next(2000)).height, 3);
    assert.deepEqual(seenByHandler, [1, 2, 3]);
    assert.equal(await heads.unsubscribe(), true);

    let ended: RpcError | undefined;
    const pending = await client.subscribe('mempool_subscribePending', [], undefined, (e) => (ended = e));
    await assert.rejects(pending.next(2000), (e: unknown) => e instanceof RpcError && /too slow/.test(e.message));
    assert.ok(ended);

    client.close();
    assert.equal(client.isOpen, false);
    await assert.rejects(client.call('chain_getInfo', []), (e: unknown) => e instanceof RpcError && e.kind === 'Transport');
    await assert.rejects(WsClient.connect('ws://127.0.0.1:1', { WebSocket: Ws }), (e: unknown) => e instanceof RpcError && e.kind === 'Transport');
    // No global WebSocket on Node 20 and none given: a clear error.
    if (!(globalThis as { WebSocket?: unknown }).WebSocket) {
      await assert.rejects(WsClient.connect(url), /no WebSocket implementation/);
    }
  } finally {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  }
});
