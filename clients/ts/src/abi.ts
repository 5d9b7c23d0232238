/**
 * Contract ABIs as the contract SDK's `entry_points!` embeds them in a module (custom section
 * `i8o8i_abi`): one `name(arg: Type, …) -> Type` per line, the constructor as `deploy name(…)`,
 * the migration as `migrate name(…)`, events as `event Name(topic field: Type, field: Type)`.
 * Arguments given as text are SCALE-encoded by their types, return data and events decoded —
 * byte for byte as the CLI does it (cli/src/abi.rs; golden vectors in test/vectors.json).
 *
 * Types: `u8` `u16` `u32` `u64` (`Amount`) `u128` `i32` `i64` `bool` `String` `Account` (a
 * bech32 address, encoded as its script, or `contract:<address hex>` for a contract's account
 * `OP_RETURN <address>`) `Vec<u8>` (hex) `Address` / `[u8; 32]` (hex), and tuples of these in
 * results.
 */
import { I8o8iError } from './errors.js';
import { fromHex, toHex } from './bytes.js';
import { ScaleReader, ScaleWriter } from './scale.js';
import { type Network, addressFromScript, addressToScript } from './address.js';
import { OP_RETURN, pushData } from './script.js';

/** What is wrong with an ABI, an argument or return data (Rust's `AbiError`). */
export class AbiError extends I8o8iError<'Malformed' | 'NoMethod' | 'Arity' | 'BadArg' | 'Unsupported' | 'BadReturn'> {}

/** One method of an ABI. */
export interface AbiMethod {
  deploy: boolean;
  migrate: boolean;
  name: string;
  /** (argument name, type). */
  args: [string, string][];
  /** `()` when none. */
  result: string;
}

/** An event an ABI declares. */
export interface AbiEvent {
  name: string;
  /** (field name, type, carried as a topic rather than in the data). */
  fields: [string, string, boolean][];
}

/** A parsed ABI. */
export interface Abi {
  methods: AbiMethod[];
  events: AbiEvent[];
}

/** The custom section a module carries its ABI in. */
export const ABI_SECTION = 'i8o8i_abi';

/**
 * The ABI text embedded in a Wasm module (its `i8o8i_abi` custom section), or `null` if it has
 * none. Throws {@link AbiError} `Malformed` for bytes that are not a Wasm module.
 */
export function abiOfModule(module: Uint8Array): string | null {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (module.length < 8 || magic.some((b, i) => module[i] !== b)) throw new AbiError('Malformed', 'not a WebAssembly module (no \\0asm version 1 header)');
  let pos = 8;
  const leb = (): number => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = module[pos++];
      if (byte === undefined) throw new AbiError('Malformed', 'a truncated WebAssembly module');
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new AbiError('Malformed', 'a malformed WebAssembly module');
  };
  while (pos < module.length) {
    const id = module[pos++];
    const size = leb();
    const end = pos + size;
    if (end > module.length) throw new AbiError('Malformed', 'a truncated WebAssembly module');
    if (id === 0) {
      const nameLength = leb();
      const name = new TextDecoder().decode(module.subarray(pos, pos + nameLength));
      if (name === ABI_SECTION) return new TextDecoder().decode(module.subarray(pos + nameLength, end));
    }
    pos = end;
  }
  return null;
}

function splitTop(inner: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '(' || c === '<' || c === '[') depth++;
    else if (c === ')' || c === '>' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(inner.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = inner.slice(start).trim();
  if (last) parts.push(last);
  return parts;
}

/** Parses an ABI text. Throws {@link AbiError} `Malformed`. */
export function parseAbi(text: string): Abi {
  const methods: AbiMethod[] = [];
  const events: AbiEvent[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const bad = () => new AbiError('Malformed', `malformed ABI line \`${line}\``, { line });
    if (line.startsWith('event ')) {
      const body = line.slice(6);
      const open = body.indexOf('(');
      if (open < 0 || !body.endsWith(')')) throw bad();
      const fields = splitTop(body.slice(open + 1, -1)).map((f): [string, string, boolean] => {
        const topic = f.startsWith('topic ');
        const rest = topic ? f.slice(6) : f;
        const colon = rest.indexOf(':');
        if (colon < 0) throw bad();
        return [rest.slice(0, colon).trim(), rest.slice(colon + 1).trim(), topic];
      });
      events.push({ name: body.slice(0, open).trim(), fields });
      continue;
    }
    const deploy = line.startsWith('deploy ');
    const migrate = !deploy && line.startsWith('migrate ');
    const rest = deploy ? line.slice(7) : migrate ? line.slice(8) : line;
    const open = rest.indexOf('(');
    if (open < 0) throw bad();
    let depth = 0;
    let close = -1;
    for (let i = open; i < rest.length; i++) {
      if (rest[i] === '(') depth++;
      else if (rest[i] === ')' && --depth === 0) {
        close = i;
        break;
      }
    }
    if (close < 0) throw bad();
    const args = splitTop(rest.slice(open + 1, close)).map((a): [string, string] => {
      const colon = a.indexOf(':');
      if (colon < 0) throw bad();
      return [a.slice(0, colon).trim(), a.slice(colon + 1).trim()];
    });
    const tail = rest.slice(close + 1).trim();
    methods.push({ deploy, migrate, name: rest.slice(0, open).trim(), args, result: tail.startsWith('->') ? tail.slice(2).trim() : '()' });
  }
  return { methods, events };
}

/** `name(a: T, b: U) -> R`. */
export function methodSignature(m: AbiMethod): string {
  return `${m.name}(${m.args.map(([n, t]) => `${n}: ${t}`).join(', ')}) -> ${m.result}`;
}

/** A contract's account script: `OP_RETURN <address>`. */
function contractScript(addressHex: string): Uint8Array {
  const bytes = fromHex(addressHex);
  if (bytes.length !== 32) throw new Error('a contract address is 32 bytes of hex');
  return Uint8Array.of(OP_RETURN, ...pushData(bytes));
}

/** `raw` as Rust's `str::parse` reads an integer of `bits` (`_` separators removed first). */
function integer(raw: string, bits: number, signed: boolean): bigint {
  const text = raw.replaceAll('_', '');
  if (!text) throw new Error('cannot parse integer from empty string');
  if (!(signed ? /^[+-]?\d+$/ : /^\+?\d+$/).test(text)) throw new Error('invalid digit found in string');
  const n = BigInt(text);
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (n < min || n > max) throw new Error(n < min ? 'number too small to fit in target type' : 'number too large to fit in target type');
  return n;
}

function littleEndian(n: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = BigInt.asUintN(bytes * 8, n);
  for (let i = 0; i < bytes; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function hexArg(raw: string): Uint8Array {
  return fromHex(raw.startsWith('0x') ? raw.slice(2) : raw);
}

const WIDTHS: Record<string, [number, boolean]> = { u8: [8, false], u16: [16, false], u32: [32, false], u64: [64, false], Amount: [64, false], u128: [128, false], i32: [32, true], i64: [64, true] };

function encodeArg(ty: string, raw: string, network: Network, w: ScaleWriter): void {
  const width = WIDTHS[ty];
  if (width) {
    w.raw(littleEndian(integer(raw, width[0], width[1]), width[0] / 8));
    return;
  }
  switch (ty) {
    case 'bool':
      if (raw !== 'true' && raw !== 'false') throw new Error('provided string was not `true` or `false`');
      w.bool(raw === 'true');
      return;
    case 'String':
      w.string(raw);
      return;
    case 'Account':
      w.bytes(raw.startsWith('contract:') ? contractScript(raw.slice(9)) : addressToScript(raw, network));
      return;
    case 'Vec<u8>':
      w.bytes(hexArg(raw));
      return;
    case 'Address':
    case '[u8; 32]': {
      const bytes = hexArg(raw);
      if (bytes.length !== 32) throw new Error('must be 32 bytes of hex');
      w.raw(bytes);
      return;
    }
    default:
      throw new Error(`unsupported type \`${ty}\``);
  }
}

/**
 * A call's input: SCALE(method name, arguments…); a constructor's or migration's input is its
 * arguments alone. Throws {@link AbiError} `Arity` / `BadArg`.
 */
export function encodeCall(method: AbiMethod, args: readonly string[], network: Network): Uint8Array {
  if (args.length !== method.args.length) {
    throw new AbiError('Arity', `\`${method.name}\` takes ${method.args.length} arguments (${methodSignature(method)}), got ${args.length}`, {
      expected: method.args.length,
      got: args.length,
    });
  }
  const w = new ScaleWriter();
  if (!method.deploy && !method.migrate) w.string(method.name);
  method.args.forEach(([name, ty], i) => {
    try {
      encodeArg(ty, args[i]!, network, w);
    } catch (error) {
      throw new AbiError('BadArg', `argument \`${name}\` (${ty}): ${(error as Error).message}`, { name, ty });
    }
  });
  return w.finish();
}

/** A decoded value: JSON-like (u128 as a decimal string, bytes as hex, accounts as addresses). */
export type AbiValue = null | boolean | number | string | AbiValue[];

function decodeOne(ty: string, r: ScaleReader, network: Network): AbiValue {
  const width = WIDTHS[ty];
  if (width) {
    const bytes = r.raw(width[0] / 8);
    let n = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
    if (width[1]) n = BigInt.asIntN(width[0], n);
    // JSON numbers lose precision past 2^53: u128 is a decimal string, as the CLI prints it.
    return ty === 'u128' ? n.toString() : Number(n);
  }
  switch (ty) {
    case '()':
      return null;
    case 'bool':
      return r.bool();
    case 'String':
      return r.string();
    case 'Vec<u8>':
      return toHex(r.bytes());
    case 'Address':
    case '[u8; 32]':
      return toHex(r.raw(32));
    case 'Account': {
      const script = r.bytes();
      const address = addressFromScript(network, script);
      if (address) return address;
      if (script.length === 34 && script[0] === OP_RETURN && script[1] === 32) return `contract:${toHex(script.subarray(2))}`;
      return toHex(script);
    }
    default: {
      if (ty.startsWith('(') && ty.endsWith(')')) return splitTop(ty.slice(1, -1)).map((part) => decodeOne(part, r, network));
      throw new AbiError('Unsupported', `unsupported type \`${ty}\``, { ty });
    }
  }
}

/** Return data decoded as `ty`. Throws {@link AbiError} `BadReturn` / `Unsupported`. */
export function decodeReturn(ty: string, data: Uint8Array, network: Network): AbiValue {
  const r = new ScaleReader(data, 'return data');
  try {
    const value = decodeOne(ty, r, network);
    r.finish();
    return value;
  } catch (error) {
    if (error instanceof AbiError) throw error;
    throw new AbiError('BadReturn', `return data does not decode as \`${ty}\``, { ty });
  }
}

/** The topic of an event name: the name's bytes zero-padded to 32. */
export function nameTopic(name: string): Uint8Array | null {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length > 32) return null;
  const t = new Uint8Array(32);
  t.set(bytes);
  return t;
}

/**
 * An event decoded with the ABI's declarations: `{event: name, field: value, …}`, or `null`
 * when no declared event has the first topic or the rest does not fit its declaration.
 */
export function decodeEvent(events: readonly AbiEvent[], topics: readonly string[], data: Uint8Array, network: Network): Record<string, AbiValue> | null {
  const [first, ...rest] = topics;
  if (first === undefined) return null;
  const def = events.find((e) => {
    const t = nameTopic(e.name);
    return t !== null && toHex(t) === first;
  });
  if (!def) return null;
  const out: Record<string, AbiValue> = { event: def.name };
  const r = new ScaleReader(data, 'event data');
  try {
    for (const [name, ty, topic] of def.fields) {
      if (topic) {
        const t = rest.shift();
        if (t === undefined) return null;
        out[name] = topicValue(ty, fromHex(t), network);
      } else {
        out[name] = decodeOne(ty, r, network);
      }
    }
    if (rest.length || r.remaining) return null;
  } catch {
    return null;
  }
  return out;
}

/** An `Account` topic is its script zero-padded (null when all zero); anything else is hex. */
function topicValue(ty: string, topic: Uint8Array, network: Network): AbiValue {
  if (ty === 'Account') {
    if (topic.every((b) => b === 0)) return null;
    let len = topic.length;
    while (len > 0 && topic[len - 1] === 0) len--;
    const address = addressFromScript(network, topic.subarray(0, len));
    if (address) return address;
  }
  return toHex(topic);
}
