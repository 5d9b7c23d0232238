/**
 * The node the app talks to: the one serving it unless the user chose another (kept in
 * localStorage). Calls go over HTTP; live updates over one WebSocket, reopened after a drop,
 * whose new-head and pending-transaction notifications fan out to the pages listening, and
 * which carries each open contract page's event stream (resumed from where it stopped).
 */
import { RpcClient, RpcError, WsClient, jwtToken, type MethodName, type Network, type ParamsOf, type PayloadOf, type ResultOf, type Subscription } from '@i8o8icoin/sdk';

/** One event of `contract_subscribeEvents`. */
export type ContractEvent = PayloadOf<'contract_subscribeEvents'>;

/** A contract page's event stream ({@link Live.onEvents}). */
interface EventStream {
  address: string;
  /** The height to (re)subscribe from: the last event's, once one came. */
  from: number;
  /** Before a resubscription from `from`: what was shown from that height on comes again. */
  resume: (from: number) => void;
  deliver: (event: ContractEvent) => void;
  /** The node refused the subscription: the stream is over. */
  failed: (error: unknown) => void;
  subscription: Subscription<'contract_subscribeEvents'> | null;
  /** The connection it is subscribed on. */
  socket: WsClient | null;
}

const STORED = 'i8o8i.node';
/** The node's access secret, for this tab only (sessionStorage): whoever holds it runs the node. */
const SECRET = 'i8o8i.secret';

/** Whether the user gave the node's access secret (private methods are open to the page). */
export function hasAccess(): boolean {
  return sessionStorage.getItem(SECRET) !== null;
}

/**
 * Keeps the node's access secret (the 64 hex digits of its `jwt.hex`) for this tab, so the
 * page can mint the short-lived tokens private methods need; an empty one forgets it. Throws
 * a message for anything but 64 hex digits.
 */
export function setAccess(secret: string): void {
  const text = secret.trim().replace(/^0x/, '');
  if (!text) sessionStorage.removeItem(SECRET);
  else if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error('The access secret is the 64 hex digits of the node\'s jwt.hex file.');
  else sessionStorage.setItem(SECRET, text.toLowerCase());
  rpc = client();
}

function client(): RpcClient {
  const secret = sessionStorage.getItem(SECRET);
  return new RpcClient(nodeUrl(), secret ? { token: () => jwtToken(secret) } : {});
}

/** The node's base URL (no trailing slash). */
export function nodeUrl(): string {
  return localStorage.getItem(STORED) ?? location.origin;
}

/**
 * Points the app at `url` (or back at the serving node with an empty one). Throws a message
 * for anything but an http(s) URL.
 */
export function setNodeUrl(url: string): void {
  const text = url.trim();
  if (!text) {
    localStorage.removeItem(STORED);
  } else {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      throw new Error(`"${text}" is not a URL; enter one like http://127.0.0.1:8332`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(`a node URL starts with http:// or https://, not ${parsed.protocol}`);
    }
    localStorage.setItem(STORED, parsed.origin);
  }
  rpc = client();
  network = null;
  live.restart();
}

let rpc = client();

/** Calls `method` on the node. Throws {@link RpcError}. */
export function call<M extends MethodName>(method: M, ...params: ParamsOf<M>): Promise<ResultOf<M>> {
  return rpc.call(method, params);
}

/** The chain's address prefix, learnt from the node (`chain_getInfo`'s chain name). */
let network: Promise<Network> | null = null;
export function chainNetwork(): Promise<Network> {
  network ??= call('chain_getInfo').then((info) => (info.chain === 'mainnet' ? 'mainnet' : 'testnet'));
  network.catch(() => {
    network = null;
  });
  return network;
}

/** Words for a failed call that say what to do. */
export function explain(error: unknown): string {
  if (error instanceof RpcError) {
    if (error.kind === 'Transport') return `The node at ${nodeUrl()} does not answer (${error.message}). Is it running, and is the URL right?`;
    if (error.code === -32070) {
      return hasAccess()
        ? `The node refused the access secret given (${error.message}). Is it this node's jwt.hex?`
        : 'This needs the node\'s access secret: paste its jwt.hex under "Node access" at the foot of the page.';
    }
    if (error.code === -32071) return 'The node is rate-limiting this app; wait a moment and try again.';
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}


/** Live notifications: one socket, reopened with back-off while anyone listens. */
class Live {
  private socket: WsClient | null = null;
  private opening = false;
  private retry = 500;
  private generation = 0;
  private readonly heads = new Set<() => void>();
  private readonly pending = new Set<() => void>();
  private readonly status = new Set<(connected: boolean) => void>();
  private readonly streams = new Set<EventStream>();

  /**
   * Calls `f` on every new best block, and each time the live connection opens (blocks may
   * have come while it was not), until the returned function is called.
   */
  onHead(f: () => void): () => void {
    this.heads.add(f);
    this.ensure();
    return () => this.heads.delete(f);
  }

  /**
   * Calls `f` after the node's pool accepts transactions: at most once a second however many
   * come (a busy pool sends thousands; each listener re-reads what it shows).
   */
  onPoolChange(f: () => void): () => void {
    this.pending.add(f);
    this.ensure();
    return () => this.pending.delete(f);
  }

  /**
   * Streams the events of contract `address` from block `fromHeight` on (stored ones first,
   * then live; `removed: true` for those of a block a reorganisation took back). After a
   * dropped connection it resubscribes from the last event's height, calling `resume` first
   * with that height: the events shown from it on are sent again. `failed` hears a refusal.
   */
  onEvents(
    address: string,
    fromHeight: number,
    deliver: (event: ContractEvent) => void,
    resume: (from: number) => void,
    failed: (error: unknown) => void,
  ): () => void {
    const stream: EventStream = { address, from: fromHeight, resume, deliver, failed, subscription: null, socket: null };
    this.streams.add(stream);
    if (this.socket) void this.subscribeEvents(this.socket, stream);
    else this.ensure();
    return () => {
      this.streams.delete(stream);
      void stream.subscription?.unsubscribe().catch(() => false);
    };
  }

  /** Subscribes `stream` on `socket` unless it already is; after a drop, resumes it. */
  private async subscribeEvents(socket: WsClient, stream: EventStream): Promise<void> {
    if (stream.socket === socket) return;
    if (stream.socket) stream.resume(stream.from);
    stream.socket = socket;
    let subscription: Subscription<'contract_subscribeEvents'>;
    try {
      subscription = await socket.subscribe('contract_subscribeEvents', [stream.address, undefined, stream.from], (event) => {
        if (!event.removed) stream.from = Math.max(stream.from, event.height);
        stream.deliver(event);
      });
    } catch (error) {
      // Refused (too many stored events to send, say): this stream ends, the connection
      // and the other listeners go on — unless the connection itself is what failed.
      if (!socket.isOpen) throw error;
      this.streams.delete(stream);
      stream.failed(error);
      return;
    }
    stream.subscription = subscription;
    // Closed while subscribing: nobody listens any more.
    if (!this.streams.has(stream)) void subscription.unsubscribe().catch(() => false);
  }

  private poolTimer: ReturnType<typeof setTimeout> | null = null;

  private poolChanged(): void {
    this.poolTimer ??= setTimeout(() => {
      this.poolTimer = null;
      this.pending.forEach((f) => f());
    }, 1000);
  }

  /** Calls `f` when the live connection opens or drops. */
  onStatus(f: (connected: boolean) => void): () => void {
    this.status.add(f);
    f(this.socket?.isOpen ?? false);
    return () => this.status.delete(f);
  }

  restart(): void {
    this.generation += 1;
    this.socket?.close();
    this.socket = null;
    this.opening = false;
    this.ensure();
  }

  private ensure(): void {
    if (this.socket || this.opening) return;
    this.opening = true;
    const generation = this.generation;
    const url = nodeUrl().replace(/^http/, 'ws');
    let opened: WsClient | null = null;
    let over = false;
    // Once per attempt, however many subscriptions report the same closed connection.
    const dropped = () => {
      if (over || generation !== this.generation) return;
      over = true;
      // A connection whose subscriptions failed is closed, not left open beside the next one.
      opened?.close();
      this.socket = null;
      this.opening = false;
      this.status.forEach((f) => f(false));
      setTimeout(() => this.ensure(), this.retry);
      this.retry = Math.min(this.retry * 2, 10_000);
    };
    WsClient.connect(url)
      .then(async (socket) => {
        if (generation !== this.generation) return socket.close();
        opened = socket;
        this.socket = socket;
        this.opening = false;
        await socket.subscribe('chain_subscribeNewHeads', [], () => this.heads.forEach((f) => f()), dropped);
        await socket.subscribe('mempool_subscribePending', [], () => this.poolChanged(), dropped);
        await Promise.all([...this.streams].map((stream) => this.subscribeEvents(socket, stream)));
        this.retry = 500;
        this.status.forEach((f) => f(true));
        // Whatever happened before the subscriptions: the listeners look again.
        this.heads.forEach((f) => f());
      })
      .catch(dropped);
  }
}

export const live = new Live();
