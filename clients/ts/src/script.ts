/**
 * Standard scripts, byte for byte as script-vm/src/templates.rs builds and recognises them:
 * P2PKH, P2SH, bare multisig and null data locking scripts, and the unlocking scripts that
 * spend them. Pushes use the shortest length prefix (Bitcoin Core's `CScript << vector`), small
 * integers use `OP_0` / `OP_1`..`OP_16`.
 */
import { I8o8iError } from './errors.js';
import { concatBytes, hash160, toHex } from './bytes.js';

export const OP_0 = 0x00;
export const OP_PUSHDATA1 = 0x4c;
export const OP_PUSHDATA2 = 0x4d;
export const OP_PUSHDATA4 = 0x4e;
export const OP_1NEGATE = 0x4f;
export const OP_1 = 0x51;
export const OP_16 = 0x60;
export const OP_RETURN = 0x6a;
export const OP_DUP = 0x76;
export const OP_EQUAL = 0x87;
export const OP_EQUALVERIFY = 0x88;
export const OP_HASH160 = 0xa9;
export const OP_CHECKSIG = 0xac;
export const OP_CHECKMULTISIG = 0xae;

/** Most keys a multisig script built here may have (OP_N encodes at most 16). */
export const MAX_MULTISIG_KEYS = 16;
/** Most keys CHECKMULTISIG accepts; `classifyScript` recognises up to this many. */
const MAX_PUBKEYS_PER_MULTISIG = 20;

/** Why a template could not be built (Rust's `TemplateError`). */
export class TemplateError extends I8o8iError<'MultisigRange' | 'HashLength'> {}

/** A push of `data` with the shortest length prefix (an empty push is `OP_0`). */
export function pushData(data: Uint8Array): Uint8Array {
  const len = data.length;
  let prefix: Uint8Array;
  if (len < OP_PUSHDATA1) prefix = Uint8Array.of(len);
  else if (len <= 0xff) prefix = Uint8Array.of(OP_PUSHDATA1, len);
  else if (len <= 0xffff) prefix = Uint8Array.of(OP_PUSHDATA2, len & 0xff, len >>> 8);
  else prefix = Uint8Array.of(OP_PUSHDATA4, len & 0xff, (len >>> 8) & 0xff, (len >>> 16) & 0xff, len >>> 24);
  return concatBytes(prefix, data);
}

/** A small integer 0..=16 as `OP_0` / `OP_1`..`OP_16`. */
function pushSmallInt(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 16) throw new RangeError(`small int ${n} out of range`);
  return Uint8Array.of(n === 0 ? OP_0 : 0x50 + n);
}

function check20(hash: Uint8Array, what: string): void {
  if (hash.length !== 20) throw new TemplateError('HashLength', `${what} must be 20 bytes, got ${hash.length}`);
}

/** `DUP HASH160 <pubkeyHash> EQUALVERIFY CHECKSIG`. */
export function p2pkhScript(pubkeyHash: Uint8Array): Uint8Array {
  check20(pubkeyHash, 'pubkey hash');
  return concatBytes(Uint8Array.of(OP_DUP, OP_HASH160), pushData(pubkeyHash), Uint8Array.of(OP_EQUALVERIFY, OP_CHECKSIG));
}

/** The P2PKH script of a (compressed) public key. */
export function p2pkhScriptForPubkey(pubkey: Uint8Array): Uint8Array {
  return p2pkhScript(hash160(pubkey));
}

/** `HASH160 <scriptHash> EQUAL` (BIP16). */
export function p2shScript(scriptHash: Uint8Array): Uint8Array {
  check20(scriptHash, 'script hash');
  return concatBytes(Uint8Array.of(OP_HASH160), pushData(scriptHash), Uint8Array.of(OP_EQUAL));
}

/** The P2SH script paying to `redeemScript`. */
export function p2shScriptFor(redeemScript: Uint8Array): Uint8Array {
  return p2shScript(hash160(redeemScript));
}

/**
 * `<m> <pubkey>... <n> CHECKMULTISIG`. Throws {@link TemplateError} `MultisigRange` unless
 * `1 <= required <= pubkeys.length <= 16`.
 */
export function multisigScript(required: number, pubkeys: readonly Uint8Array[]): Uint8Array {
  if (!Number.isInteger(required) || required === 0 || required > pubkeys.length || pubkeys.length > MAX_MULTISIG_KEYS) {
    throw new TemplateError(
      'MultisigRange',
      `multisig ${required}-of-${pubkeys.length} is out of range (1 <= m <= n <= 16)`,
      { required, keys: pubkeys.length },
    );
  }
  return concatBytes(pushSmallInt(required), ...pubkeys.map(pushData), pushSmallInt(pubkeys.length), Uint8Array.of(OP_CHECKMULTISIG));
}

/** `RETURN <data>`: a provably unspendable output carrying data. */
export function nullDataScript(data: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(OP_RETURN), pushData(data));
}

/** `<sig> <pubkey>`: unlocks P2PKH. */
export function p2pkhScriptSig(signature: Uint8Array, pubkey: Uint8Array): Uint8Array {
  return concatBytes(pushData(signature), pushData(pubkey));
}

/** `0 <sig>...`: unlocks bare multisig (the leading empty item feeds CHECKMULTISIG's extra pop). */
export function multisigScriptSig(signatures: readonly Uint8Array[]): Uint8Array {
  return concatBytes(Uint8Array.of(OP_0), ...signatures.map(pushData));
}

/** The redeem script's arguments followed by a push of the redeem script: a P2SH scriptSig. */
export function p2shScriptSig(redeemArgs: Uint8Array, redeemScript: Uint8Array): Uint8Array {
  return concatBytes(redeemArgs, pushData(redeemScript));
}

/** One parsed instruction: a data push (with its opcode) or any other opcode. */
export type Instruction = { push: true; opcode: number; data: Uint8Array } | { push: false; opcode: number };

/**
 * The instructions of a script, or `null` if a push runs past the end (the script-vm's
 * non-minimal parser: any push form is accepted).
 */
export function parseScript(script: Uint8Array): Instruction[] | null {
  const out: Instruction[] = [];
  let pc = 0;
  while (pc < script.length) {
    const op = script[pc++] as number;
    if (op > OP_PUSHDATA4) {
      out.push({ push: false, opcode: op });
      continue;
    }
    let len: number;
    if (op === OP_PUSHDATA1) {
      if (pc + 1 > script.length) return null;
      len = script[pc] as number;
      pc += 1;
    } else if (op === OP_PUSHDATA2) {
      if (pc + 2 > script.length) return null;
      len = (script[pc] as number) | ((script[pc + 1] as number) << 8);
      pc += 2;
    } else if (op === OP_PUSHDATA4) {
      if (pc + 4 > script.length) return null;
      len = new DataView(script.buffer, script.byteOffset + pc, 4).getUint32(0, true);
      pc += 4;
    } else {
      len = op;
    }
    if (pc + len > script.length) return null;
    out.push({ push: true, opcode: op, data: script.slice(pc, pc + len) });
    pc += len;
  }
  return out;
}

/** A recognised locking script (the part of Rust's `Template` this SDK needs). */
export type ScriptTemplate =
  | { type: 'p2pkh'; pubkeyHash: Uint8Array }
  | { type: 'p2sh'; scriptHash: Uint8Array }
  | { type: 'multisig'; required: number; pubkeys: Uint8Array[] }
  | { type: 'nullData'; data: Uint8Array[] }
  /** Anything else, including the timelocked P2PKH and HTLC templates, which this SDK does not build. */
  | { type: 'nonStandard' };

/** BIP16 pay-to-script-hash: exactly `HASH160 <20 bytes> EQUAL`, 23 bytes. */
export function isP2sh(script: Uint8Array): boolean {
  return script.length === 23 && script[0] === OP_HASH160 && script[1] === 0x14 && script[22] === OP_EQUAL;
}

/** The integer of `OP_1NEGATE`, `OP_0`, `OP_1`..`OP_16`, as the script-vm's `small_int`. */
function smallInt(op: number): number | null {
  if (op === OP_0) return 0;
  if (op === OP_1NEGATE) return -1;
  if (op >= OP_1 && op <= OP_16) return op - 0x50;
  return null;
}

/** STRICTENC public key: 33 bytes starting 02/03 or 65 bytes starting 04. */
function isPubkeyEncoding(key: Uint8Array): boolean {
  if (key[0] === 0x04) return key.length === 65;
  if (key[0] === 0x02 || key[0] === 0x03) return key.length === 33;
  return false;
}

/** Recognises a locking script as the node's `templates::classify` does. */
export function classifyScript(script: Uint8Array): ScriptTemplate {
  if (isP2sh(script)) return { type: 'p2sh', scriptHash: script.slice(2, 22) };
  const ins = parseScript(script);
  if (ins === null) return { type: 'nonStandard' };
  const [a, b, c, d, e] = ins;
  if (
    ins.length === 5 &&
    a && !a.push && a.opcode === OP_DUP &&
    b && !b.push && b.opcode === OP_HASH160 &&
    c && c.push && c.data.length === 20 &&
    d && !d.push && d.opcode === OP_EQUALVERIFY &&
    e && !e.push && e.opcode === OP_CHECKSIG
  ) {
    return { type: 'p2pkh', pubkeyHash: c.data };
  }
  if (a && !a.push && a.opcode === OP_RETURN) {
    const data: Uint8Array[] = [];
    for (const i of ins.slice(1)) {
      if (!i.push) return { type: 'nonStandard' };
      data.push(i.data);
    }
    return { type: 'nullData', data };
  }
  const last = ins[ins.length - 1];
  const nIns = ins[ins.length - 2];
  if (ins.length >= 3 && a && !a.push && nIns && !nIns.push && last && !last.push && last.opcode === OP_CHECKMULTISIG) {
    const m = smallInt(a.opcode);
    const n = smallInt(nIns.opcode);
    if (m === null || n === null) return { type: 'nonStandard' };
    const pubkeys: Uint8Array[] = [];
    for (const k of ins.slice(1, -2)) {
      if (!k.push || !isPubkeyEncoding(k.data)) return { type: 'nonStandard' };
      pubkeys.push(k.data);
    }
    if (m >= 1 && m <= n && n === pubkeys.length && n <= MAX_PUBKEYS_PER_MULTISIG) {
      return { type: 'multisig', required: m, pubkeys };
    }
  }
  return { type: 'nonStandard' };
}

/**
 * Names of opcodes 0x50..=0xba without `OP_`, as script-vm/src/opcodes.rs names them
 * (0xff is `OP_INVALIDOPCODE`; anything else unnamed prints as `OP_UNKNOWN_0x..`).
 */
const OPCODE_NAMES: readonly string[] = [
  'RESERVED', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14', '15',
  '16', 'NOP', 'VER', 'IF', 'NOTIF', 'VERIF', 'VERNOTIF', 'ELSE', 'ENDIF', 'VERIFY', 'RETURN',
  'TOALTSTACK', 'FROMALTSTACK', '2DROP', '2DUP', '3DUP', '2OVER', '2ROT', '2SWAP', 'IFDUP',
  'DEPTH', 'DROP', 'DUP', 'NIP', 'OVER', 'PICK', 'ROLL', 'ROT', 'SWAP', 'TUCK', 'CAT', 'SUBSTR',
  'LEFT', 'RIGHT', 'SIZE', 'INVERT', 'AND', 'OR', 'XOR', 'EQUAL', 'EQUALVERIFY', 'RESERVED1',
  'RESERVED2', '1ADD', '1SUB', '2MUL', '2DIV', 'NEGATE', 'ABS', 'NOT', '0NOTEQUAL', 'ADD', 'SUB',
  'MUL', 'DIV', 'MOD', 'LSHIFT', 'RSHIFT', 'BOOLAND', 'BOOLOR', 'NUMEQUAL', 'NUMEQUALVERIFY',
  'NUMNOTEQUAL', 'LESSTHAN', 'GREATERTHAN', 'LESSTHANOREQUAL', 'GREATERTHANOREQUAL', 'MIN', 'MAX',
  'WITHIN', 'RIPEMD160', 'SHA1', 'SHA256', 'HASH160', 'HASH256', 'CODESEPARATOR', 'CHECKSIG',
  'CHECKSIGVERIFY', 'CHECKMULTISIG', 'CHECKMULTISIGVERIFY', 'NOP1', 'CHECKLOCKTIMEVERIFY',
  'CHECKSEQUENCEVERIFY', 'NOP4', 'NOP5', 'NOP6', 'NOP7', 'NOP8', 'NOP9', 'NOP10', 'CHECKSIGADD',
];

/** A push of at most 4 bytes as a script number (little-endian, sign bit in the last byte). */
function scriptNum(data: Uint8Array): string {
  if (data.length === 0) return '0';
  let n = 0n;
  data.forEach((b, i) => {
    n |= BigInt(i === data.length - 1 ? b & 0x7f : b) << BigInt(8 * i);
  });
  return ((data[data.length - 1]! & 0x80) !== 0 ? -n : n).toString();
}

/**
 * `OP_`-style assembly as Bitcoin Core's `ScriptToAsmStr` (`decodescript`) and the Rust
 * `Script::to_asm` print it: pushes of up to 4 bytes as decimal numbers, longer ones as hex,
 * `OP_1NEGATE` and `OP_1`..`OP_16` as numbers, a malformed tail as `[error]`.
 */
export function scriptToAsm(script: Uint8Array): string {
  const words: string[] = [];
  let pc = 0;
  while (pc < script.length) {
    const op = script[pc++]!;
    if (op <= OP_PUSHDATA4) {
      const width = op === OP_PUSHDATA1 ? 1 : op === OP_PUSHDATA2 ? 2 : op === OP_PUSHDATA4 ? 4 : 0;
      let len = op;
      if (width) {
        if (pc + width > script.length) {
          words.push('[error]');
          break;
        }
        len = 0;
        for (let i = width - 1; i >= 0; i--) len = len * 256 + script[pc + i]!;
        pc += width;
      }
      if (pc + len > script.length) {
        words.push('[error]');
        break;
      }
      const data = script.subarray(pc, pc + len);
      pc += len;
      words.push(data.length <= 4 ? scriptNum(data) : toHex(data));
    } else if (op === OP_1NEGATE) {
      words.push('-1');
    } else if (op >= OP_1 && op <= OP_16) {
      words.push(String(op - 0x50));
    } else {
      const name = op === 0xff ? 'INVALIDOPCODE' : OPCODE_NAMES[op - 0x50];
      words.push(name ? `OP_${name}` : `OP_UNKNOWN_0x${op.toString(16).padStart(2, '0')}`);
    }
  }
  return words.join(' ');
}
