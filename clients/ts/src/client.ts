/**
 * JSON-RPC clients for the node, typed by the method table generated from its OpenRPC document
 * (src/generated/methods.ts): {@link RpcClient} over HTTP (`fetch`) and {@link WsClient} over a
 * WebSocket, which also carries subscriptions (`chain_subscribeNewHeads` → `chain_newHead`
 * notifications, `mempool_subscribePending`, `contract_subscribeEvents`). Private methods need
 * `Authorization: Bearer <JWT>`: pass a token, or a function minting one per request (the node
 * accepts a token only within a minute of its `iat`, see {@link jwtToken}).
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad } from '@scure/base';

import { I8o8iError } from './errors.js';
import { fromHex } from './bytes.js';
import type { MethodName, Methods, SubscriptionName, Subscriptions } from './generated/methods.js';

export type { MethodName, Methods, SubscriptionName, Subscriptions } from './generated/methods.js';

/** The positional parameters of `M`. */
export type ParamsOf<M extends MethodName> = Methods[M]['params'];
/** The result of `M`. */
export type ResultOf<M extends MethodName> = Methods[M]['result'];
/** The notification payload of subscription `S`. */
export type PayloadOf<S extends SubscriptionName> = Subscriptions[S]['payload'];

/** The node's JSON-RPC error codes (rpc/src/error.rs `ErrorCode`). */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  NotFound: -32001,
  TxRejected: -32010,
  TxAlreadyKnown: -32011,
  BlockRejected: -32012,
  WalletNotFound: -32020,
  WalletExists: -32021,
  WrongPassword: -32022,
  InsufficientFunds: -32023,
  SigningRequestInvalid: -32024,
  SigningRequestIncomplete: -32025,
  WatchOnlyWallet: -32026,
  InvalidAddress: -32030,
  MiningUnavailable: -32040,
  NetworkUnavailable: -32050,
  DialFailed: -32051,
  ContractFailed: -32060,
  Unauthorized: -32070,
  RateLimited: -32071,
} as const;

/**
 * A failed call. `kind` says where it failed: `JsonRpc` — the node answered with a JSON-RPC
 * error (`code`, `message`, `data` are its error object); `Http` — a non-2xx answer without one
 * (`code` is the HTTP status); `Transport` — no answer (network error, timeout, closed socket);
 * `InvalidResponse` — an answer that is not JSON-RPC.
 */
export class RpcError extends I8o8iError<'JsonRpc' | 'Http' | 'Transport' | 'InvalidResponse'> {
  /** The JSON-RPC error code (see {@link RpcErrorCode}), the HTTP status, or 0. */
  readonly code: number;
  /** The error object's `data`, if any. */
  readonly data: unknown;
  /** The method called, if known. */
  readonly method: string | undefined;

  constructor(
    kind: RpcError['kind'],
    code: number,
    message: string,
    data?: unknown,
    method?: string,
    options?: { cause?: unknown },
  ) {
    super(kind, message, { code, data, method }, options);
    this.code = code;
    this.data = data;
    this.method = method;
  }
}

/** A bearer token, or a function returning a fresh one for each request. */
export type TokenSource = string | (() => string | Promise<string>);

async function resolveToken(token: TokenSource | undefined): Promise<string | undefined> {
  if (token === undefined) return undefined;
  return typeof token === 'string' ? token : await token();
}

/**
 * An HS256 JWT for the node's private methods: header `{"alg":"HS256","typ":"JWT"}`, claims
 * `{"iat": <seconds>}`, keyed by the node's 32-byte secret (its `jwt.hex`). The node accepts it
 * while `iat` is within 60 s of its clock, so mint one per request (`token: () => jwtToken(s)`).
 */
export function jwtToken(secret: Uint8Array | string, iat: number = Math.floor(Date.now() / 1000)): string {
  const key = typeof secret === 'string' ? fromHex(secret.trim().replace(/^0x/, '')) : secret;
  const enc = new TextEncoder();
  const header = base64urlnopad.encode(enc.encode('{"alg":"HS256","typ":"JWT"}'));
  const claims = base64urlnopad.encode(enc.encode(JSON.stringify({ iat })));
  const signature = base64urlnopad.encode(hmac(sha256, key, enc.encode(`${header}.${claims}`)));
  return `${header}.${claims}.${signature}`;
}

/** Positional params as sent: trailing omitted (undefined) optional parameters are dropped. */
function wireParams(params: readonly unknown[]): unknown[] {
  const out = [...params];
  while (out.length > 0 && out[out.length - 1] === undefined) out.pop();
  return out.map((p) => (p === undefined ? null : p));
}

interface JsonRpcResponse {
  jsonrpc?: string;
  id?: number | string | null;
  result?: unknown;
  error?: { code?: unknown; message?: unknown; data?: unknown };
}

function errorFrom(response: JsonRpcResponse, method: string | undefined): RpcError {
  const e = response.error ?? {};
  const code = typeof e.code === 'number' ? e.code : 0;
  const message = typeof e.message === 'string' ? e.message : 'JSON-RPC error';
  return new RpcError('JsonRpc', code, message, e.data, method);
}

function isResponse(value: unknown): value is JsonRpcResponse {
  return typeof value === 'object' && value !== null && ('result' in value || 'error' in value);
}

/** Options of {@link RpcClient}. */
export interface RpcClientOptions {
  /** Bearer token (or a function minting one per request) for private methods. */
  token?: TokenSource;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
  /** Extra HTTP headers. */
  headers?: Record<string, string>;
  /** Abort a call after this many milliseconds (default: no limit). */
  timeoutMs?: number;
}

/** A JSON-RPC client over HTTP POST. */
export class RpcClient {
  readonly url: string;
  private readonly options: RpcClientOptions;
  private nextId = 1;

  constructor(url: string, options: RpcClientOptions = {}) {
    this.url = url;
    this.options = options;
  }

  /**
   * Calls `method` with positional `params` and returns its typed result. Throws
   * {@link RpcError}.
   */
  async call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const id = this.nextId++;
    const body = JSON.stringify({ jsonrpc: '2.0', id, method, params: wireParams(params as readonly unknown[]) });
    const headers: Record<string, string> = { 'content-type': 'application/json', ...this.options.headers };
    const token = await resolveToken(this.options.token);
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    const doFetch = this.options.fetch ?? globalThis.fetch;
    let res: Response;
    let text: string;
    try {
      res = await doFetch(this.url, {
        method: 'POST',
        headers,
        body,
        ...(this.options.timeoutMs !== undefined ? { signal: AbortSignal.timeout(this.options.timeoutMs) } : {}),
      });
      text = await res.text();
    } catch (e) {
      throw new RpcError('Transport', 0, `${method}: ${(e as Error).message}`, undefined, method, { cause: e });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (isResponse(parsed) && parsed.error !== undefined) throw errorFrom(parsed, method);
    if (!res.ok) {
      const retryAfter = res.headers.get('retry-after');
      throw new RpcError('Http', res.status, `${method}: HTTP ${res.status} ${text.slice(0, 200)}`.trim(), retryAfter ? { retryAfter } : undefined, method);
    }
    if (!isResponse(parsed)) {
      throw new RpcError('InvalidResponse', 0, `${method}: the answer is not a JSON-RPC response`, text.slice(0, 200), method);
    }
    return parsed.result as ResultOf<M>;
  }
}

// ---- WebSocket ----

/**
 * The part of the WebSocket API used here (browsers, Node 22's global, the `ws` package). Event
 * parameters are `any` so that each implementation's own event types fit.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
}

/** A WebSocket constructor. The second argument carries headers where supported (`ws`, undici). */
export type WebSocketConstructor = new (url: string, options?: any) => WebSocketLike;

/** Options of {@link WsClient.connect}. */
export interface WsClientOptions {
  /**
   * The WebSocket implementation (default: `globalThis.WebSocket`; Node 20 has none, pass
   * `WebSocket` from the `ws` package).
   */
  WebSocket?: WebSocketConstructor;
  /** Bearer token sent at the handshake (needs a WebSocket that can send headers, e.g. `ws`). */
  token?: TokenSource;
  /** Abort a call after this many milliseconds (default: no limit). */
  timeoutMs?: number;
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: RpcError) => void;
  /** Runs when the result arrives, before any later message is handled (subscriptions register here). */
  onResult?: (value: unknown) => unknown;
  timer?: ReturnType<typeof setTimeout>;
}

/** An open subscription: notifications go to the handler and are also buffered for {@link next}. */
export class Subscription<S extends SubscriptionName> {
  /** The subscription id the node assigned. */
  readonly id: string | number;
  /** The subscribe method. */
  readonly method: S;
  private closedWith: RpcError | null = null;
  private readonly queue: PayloadOf<S>[] = [];
  private readonly waiters: { resolve: (v: PayloadOf<S>) => void; reject: (e: RpcError) => void }[] = [];

  /** @internal */
  constructor(
    private readonly client: WsClient,
    method: S,
    id: string | number,
    private readonly unsubscribeMethod: string,
    private readonly handler?: (payload: PayloadOf<S>) => void,
    private readonly onError?: (error: RpcError) => void,
  ) {
    this.method = method;
    this.id = id;
  }

  /** @internal A notification arrived. */
  deliver(payload: PayloadOf<S>): void {
    this.handler?.(payload);
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(payload);
    else if (!this.handler) this.queue.push(payload);
  }

  /** @internal The node ended the subscription, or the connection closed (`notify`: tell `onError`). */
  end(error: RpcError, notify = true): void {
    if (this.closedWith) return;
    this.closedWith = error;
    for (const w of this.waiters.splice(0)) w.reject(error);
    if (notify) this.onError?.(error);
  }

  /**
   * The next notification (buffered ones first when there is no handler). Rejects with an
   * {@link RpcError} if the subscription ends or `timeoutMs` passes first.
   */
  next(timeoutMs?: number): Promise<PayloadOf<S>> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.waiters.push(waiter);
      if (timeoutMs !== undefined) {
        const timer = setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new RpcError('Transport', 0, `no ${this.method} notification within ${timeoutMs} ms`, undefined, this.method));
        }, timeoutMs);
        const settle = <T>(f: (v: T) => void) => (v: T) => {
          clearTimeout(timer);
          f(v);
        };
        waiter.resolve = settle(resolve);
        waiter.reject = settle(reject);
      }
    });
  }

  /** Ends the subscription on the node; false if it was not open there. */
  async unsubscribe(): Promise<boolean> {
    this.client.forget(this.id);
    // Asked for: pending `next()` calls end, `onError` is not told.
    this.end(new RpcError('Transport', 0, 'unsubscribed', undefined, this.method), false);
    if (!this.client.isOpen) return false;
    return (await this.client.rawCall(this.unsubscribeMethod, [this.id])) as boolean;
  }
}

/** A JSON-RPC client over one WebSocket connection: calls and subscriptions. */
export class WsClient {
  private readonly socket: WebSocketLike;
  private readonly options: WsClientOptions;
  private readonly pending = new Map<number, Pending>();
  private readonly subscriptions = new Map<string, Subscription<any>>();
  private nextId = 1;
  private closed: RpcError | null = null;

  private constructor(socket: WebSocketLike, options: WsClientOptions) {
    this.socket = socket;
    this.options = options;
  }

  /** Opens a connection to `url` (`ws://host:port`). Throws {@link RpcError} `Transport`. */
  static async connect(url: string, options: WsClientOptions = {}): Promise<WsClient> {
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) {
      throw new RpcError('Transport', 0, 'no WebSocket implementation: pass options.WebSocket (e.g. from the `ws` package) on Node 20');
    }
    const token = await resolveToken(options.token);
    // Browsers take no options object: only pass one when there is a header to send.
    const socket = token !== undefined ? new Ctor(url, { headers: { authorization: `Bearer ${token}` } }) : new Ctor(url);
    const client = new WsClient(socket, options);
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = (event?: { message?: string }) => {
        const message = event?.message ?? 'WebSocket error';
        reject(new RpcError('Transport', 0, `cannot connect to ${url}: ${message}`));
      };
      socket.onclose = (event?: { code?: number; reason?: string }) =>
        reject(new RpcError('Transport', event?.code ?? 0, `connection to ${url} closed: ${event?.reason ?? ''}`.trim()));
    });
    socket.onmessage = (event: { data: unknown }) => client.onMessage(event.data);
    socket.onclose = (event?: { code?: number; reason?: string }) => client.onClose(event?.code ?? 0, event?.reason ?? '');
    socket.onerror = () => {
      // The close event that follows carries the outcome.
    };
    return client;
  }

  /** Whether the connection is open. */
  get isOpen(): boolean {
    return this.closed === null && this.socket.readyState === 1;
  }

  /** Calls `method` over the socket. Throws {@link RpcError}. */
  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    return this.rawCall(method, params as readonly unknown[]) as Promise<ResultOf<M>>;
  }

  /**
   * Subscribes: `handler` gets each notification's payload (or read them with
   * {@link Subscription.next}); `onError` hears when the node ends the subscription (a too slow
   * subscriber is dropped) or the connection closes.
   */
  async subscribe<S extends SubscriptionName>(
    method: S,
    params: ParamsOf<S>,
    handler?: (payload: PayloadOf<S>) => void,
    onError?: (error: RpcError) => void,
  ): Promise<Subscription<S>> {
    const unsubscribe = UNSUBSCRIBE[method];
    let subscription: Subscription<S> | undefined;
    await this.rawCall(method, params as readonly unknown[], (id) => {
      if (typeof id !== 'string' && typeof id !== 'number') {
        throw new RpcError('InvalidResponse', 0, `${method}: the subscription id is not a string or number`, id, method);
      }
      subscription = new Subscription<S>(this, method, id, unsubscribe, handler, onError);
      // Registered before the next message is read, so no notification is missed.
      this.subscriptions.set(String(id), subscription);
      return id;
    });
    return subscription as Subscription<S>;
  }

  /** Closes the connection; pending calls and subscriptions end with an `RpcError`. */
  close(): void {
    this.socket.close(1000, 'client closed');
    this.onClose(1000, 'client closed');
  }

  /** @internal */
  forget(id: string | number): void {
    this.subscriptions.delete(String(id));
  }

  /** @internal An untyped call. */
  rawCall(method: string, params: readonly unknown[], onResult?: (value: unknown) => unknown): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const entry: Pending = { method, resolve, reject, ...(onResult ? { onResult } : {}) };
      if (this.options.timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new RpcError('Transport', 0, `${method}: no answer within ${this.options.timeoutMs} ms`, undefined, method));
        }, this.options.timeoutMs);
      }
      this.pending.set(id, entry);
      try {
        this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params: wireParams(params) }));
      } catch (e) {
        this.pending.delete(id);
        if (entry.timer) clearTimeout(entry.timer);
        reject(new RpcError('Transport', 0, `${method}: ${(e as Error).message}`, undefined, method, { cause: e }));
      }
    });
  }

  private onMessage(data: unknown): void {
    let msg: unknown;
    try {
      msg = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data as Uint8Array));
    } catch {
      return; // Not JSON: nothing to route it to.
    }
    for (const m of Array.isArray(msg) ? msg : [msg]) this.route(m);
  }

  private route(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as JsonRpcResponse & { method?: unknown; params?: { subscription?: unknown; result?: unknown; error?: unknown } };
    if (typeof m.method === 'string' && m.params && typeof m.params === 'object' && 'subscription' in m.params) {
      const sub = this.subscriptions.get(String(m.params.subscription));
      if (!sub) return;
      if ('error' in m.params && m.params.error !== undefined) {
        // jsonrpsee's close notification: the node ended this subscription.
        this.subscriptions.delete(String(m.params.subscription));
        const e = m.params.error as { code?: number; message?: string } | string;
        const message = typeof e === 'string' ? e : (e?.message ?? 'subscription closed by the node');
        sub.end(new RpcError('JsonRpc', typeof e === 'object' && typeof e?.code === 'number' ? e.code : 0, message, e, sub.method));
      } else {
        sub.deliver(m.params.result as never);
      }
      return;
    }
    if (typeof m.id !== 'number') return;
    const entry = this.pending.get(m.id);
    if (!entry) return;
    this.pending.delete(m.id);
    if (entry.timer) clearTimeout(entry.timer);
    if (m.error !== undefined) {
      entry.reject(errorFrom(m, entry.method));
      return;
    }
    try {
      entry.resolve(entry.onResult ? entry.onResult(m.result) : m.result);
    } catch (e) {
      entry.reject(e instanceof RpcError ? e : new RpcError('InvalidResponse', 0, String(e), undefined, entry.method));
    }
  }

  private onClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = new RpcError('Transport', code, `connection closed${reason ? `: ${reason}` : ''}`);
    for (const [, entry] of this.pending) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.reject(this.closed);
    }
    this.pending.clear();
    for (const sub of this.subscriptions.values()) sub.end(this.closed);
    this.subscriptions.clear();
  }
}

/** Each subscription's unsubscribe method (the document's `x-notification.unsubscribe`). */
const UNSUBSCRIBE: { [S in SubscriptionName]: Subscriptions[S]['unsubscribe'] } = {
  chain_subscribeNewHeads: 'chain_unsubscribeNewHeads',
  mempool_subscribePending: 'mempool_unsubscribePending',
  contract_subscribeEvents: 'contract_unsubscribeEvents',
};
