#!/usr/bin/env node
// Generates src/generated/methods.ts from the node's OpenRPC document, so the SDK's RPC types
// are the node's and cannot drift: the Rust test suite runs `--check` against the document the
// node serves now.
//
//   node scripts/generate.mjs <openrpc.json | ->            writes src/generated/methods.ts
//   node scripts/generate.mjs --check <openrpc.json | ->    exits 1 if the committed file differs
//   --out <file>                                            writes (or checks) another file
//
// Plain Node (ESM, no dependencies, no TypeScript). It converts the JSON Schema subset the
// document uses (draft 07 as schemars writes it): $ref to #/components/schemas/…, type (also as
// an array, for nullable values), object with properties / required / additionalProperties,
// array with items, string / integer / number / boolean / null, const, enum, oneOf / anyOf
// (unions), allOf (intersections). Keywords that only constrain values (pattern, minimum,
// maximum, format, default, examples) do not change the TypeScript type. Output is
// deterministic: component schemas and object properties are sorted by name; methods keep the
// document's order.

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REF_PREFIX = '#/components/schemas/';
const here = dirname(fileURLToPath(import.meta.url));
const DEFAULT_OUT = resolve(here, '..', 'src', 'generated', 'methods.ts');

// ---------- small helpers ----------

/** JSON with object keys sorted, to compare schemas structurally. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A valid TypeScript identifier for a schema name. */
function ident(name) {
  let id = String(name).replace(/[^A-Za-z0-9_$]/g, '_');
  if (/^[0-9]/.test(id)) id = `_${id}`;
  return id;
}

/** A property key: bare when it is an identifier, else quoted. */
function propKey(name) {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

/** JSDoc lines for a description (indented), or nothing. */
function doc(description, indent) {
  if (typeof description !== 'string' || description.trim() === '') return '';
  const lines = description.replace(/\*\//g, '*\\/').trimEnd().split('\n');
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} *${l ? ` ${l}` : ''}`).join('\n')}\n${indent} */\n`;
}

// ---------- schema → TypeScript ----------

// Rendered types carry a precedence so they are parenthesised only where needed:
// 0 = union, 1 = intersection, 2 = atom.
const UNION = 0;
const INTERSECTION = 1;
const ATOM = 2;

const atom = (text) => ({ text, prec: ATOM });

function wrap(t, min) {
  return t.prec < min ? `(${t.text})` : t.text;
}

function union(members) {
  const seen = new Set();
  const uniq = [];
  for (const m of members) {
    if (m.text === 'never') continue;
    if (!seen.has(m.text)) {
      seen.add(m.text);
      uniq.push(m);
    }
  }
  if (uniq.length === 0) return atom('never');
  if (uniq.length === 1) return uniq[0];
  return { text: uniq.map((m) => wrap(m, INTERSECTION)).join(' | '), prec: UNION };
}

function intersection(members) {
  const uniq = [];
  const seen = new Set();
  for (const m of members) {
    if (m.text === 'unknown') continue;
    if (!seen.has(m.text)) {
      seen.add(m.text);
      uniq.push(m);
    }
  }
  if (uniq.length === 0) return atom('unknown');
  if (uniq.length === 1) return uniq[0];
  return { text: uniq.map((m) => wrap(m, ATOM)).join(' & '), prec: INTERSECTION };
}

class Converter {
  constructor(schemas) {
    this.schemas = schemas;
    this.missing = new Set();
  }

  /** The TypeScript type of `schema`; `indent` is the indentation of the line it starts on. */
  type(schema, indent) {
    if (schema === true || schema === undefined) return atom('unknown');
    if (schema === false) return atom('never');
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return atom('unknown');

    if (typeof schema.$ref === 'string') {
      // draft 07: keywords beside $ref are ignored.
      if (!schema.$ref.startsWith(REF_PREFIX)) return atom('unknown');
      const name = schema.$ref.slice(REF_PREFIX.length);
      if (!(name in this.schemas)) {
        this.missing.add(name);
        return atom('unknown');
      }
      return atom(ident(name));
    }

    const parts = [];
    // The schema's own shape (type / properties / items / const / enum) …
    const own = this.ownType(schema, indent);
    if (own) parts.push(own);
    // … intersected with allOf, and with the union of oneOf / anyOf.
    if (Array.isArray(schema.allOf)) parts.push(...schema.allOf.map((s) => this.type(s, indent)));
    for (const key of ['oneOf', 'anyOf']) {
      if (Array.isArray(schema[key])) parts.push(union(schema[key].map((s) => this.type(s, indent))));
    }
    return parts.length === 0 ? atom('unknown') : intersection(parts);
  }

  /** The type from `const`, `enum`, `type`, `properties`, `items`, or null if none applies. */
  ownType(schema, indent) {
    if ('const' in schema) return atom(JSON.stringify(schema.const));
    if (Array.isArray(schema.enum)) return union(schema.enum.map((v) => atom(JSON.stringify(v))));
    let types = schema.type;
    if (types === undefined) {
      if (schema.properties || schema.required || schema.additionalProperties !== undefined) types = 'object';
      else if (schema.items) types = 'array';
      else return null;
    }
    if (!Array.isArray(types)) types = [types];
    return union(types.map((t) => this.simple(t, schema, indent)));
  }

  simple(type, schema, indent) {
    switch (type) {
      case 'string':
        return atom('string');
      case 'integer':
      case 'number':
        return atom('number');
      case 'boolean':
        return atom('boolean');
      case 'null':
        return atom('null');
      case 'array':
        return this.array(schema, indent);
      case 'object':
        return this.object(schema, indent);
      default:
        return atom('unknown');
    }
  }

  array(schema, indent) {
    const items = schema.items;
    if (Array.isArray(items)) {
      return atom(`[${items.map((s) => this.type(s, indent).text).join(', ')}]`);
    }
    if (items === undefined) return atom('unknown[]');
    return atom(`${wrap(this.type(items, indent), ATOM)}[]`);
  }

  object(schema, indent) {
    const props = schema.properties && typeof schema.properties === 'object' ? schema.properties : {};
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    const names = Object.keys(props).sort();
    for (const r of [...required].sort()) if (!(r in props)) names.push(r);
    const inner = `${indent}  `;
    const lines = [];
    for (const name of names) {
      const prop = props[name];
      const t = prop === undefined ? atom('unknown') : this.type(prop, inner);
      const optional = required.has(name) ? '' : '?';
      lines.push(`${doc(prop?.description, inner)}${inner}${propKey(name)}${optional}: ${t.text};`);
    }
    const ap = schema.additionalProperties;
    if (ap !== undefined && ap !== false) {
      // An index signature must admit every named property too; `unknown` does.
      const t = ap === true || names.length > 0 ? atom('unknown') : this.type(ap, inner);
      lines.push(`${inner}[key: string]: ${t.text};`);
    } else if (ap === undefined && Object.keys(props).length === 0) {
      // No declared properties: an open object (JSON Schema allows any property by default).
      if (names.length === 0) return atom('{ [key: string]: unknown }');
      lines.push(`${inner}[key: string]: unknown;`);
    }
    if (lines.length === 0) return atom('Record<string, never>');
    return atom(`{\n${lines.join('\n')}\n${indent}}`);
  }
}

/** `schema` with every $ref into `defs` replaced by the definition, as the node inlines a
 * notification's schema (openrpc.rs `inline`: recursion stops at depth 16 with an open object). */
function inline(schema, defs, depth) {
  if (Array.isArray(schema)) return schema.map((v) => inline(v, defs, depth));
  if (schema !== null && typeof schema === 'object') {
    const ref = schema.$ref;
    if (typeof ref === 'string' && ref.startsWith(REF_PREFIX)) {
      const def = defs[ref.slice(REF_PREFIX.length)];
      return def !== undefined && depth < 16 ? inline(def, defs, depth + 1) : { type: 'object' };
    }
    return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v, defs, depth)]));
  }
  return schema;
}

// ---------- document → file ----------

export function generate(document) {
  if (!document || typeof document !== 'object' || !Array.isArray(document.methods)) {
    throw new Error('not an OpenRPC document: no `methods` array');
  }
  const schemas = document.components?.schemas ?? {};
  const conv = new Converter(schemas);
  const out = [];
  const title = document.info?.title ?? 'OpenRPC document';
  out.push(`// GENERATED by scripts/generate.mjs from the node's OpenRPC document (${title}).`);
  out.push('// Do not edit: run `node scripts/generate.mjs <openrpc.json>` (see README.md).');
  out.push('');

  // Component schemas, sorted by name.
  out.push('// ---- component schemas (#/components/schemas) ----');
  out.push('');
  for (const name of Object.keys(schemas).sort()) {
    const schema = schemas[name];
    out.push(`${doc(schema?.description, '')}export type ${ident(name)} = ${conv.type(schema, '').text};`);
    out.push('');
  }

  // Notification payloads are written out whole (no $ref) in the document; name the
  // component they expand from when there is one, so the payload type is e.g. `NewHead`.
  const expanded = Object.keys(schemas)
    .sort()
    .map((name) => [canonical(inline(schemas[name], schemas, 1)), name]);
  const payloadType = (schema, indent) => {
    const key = canonical(schema);
    const match = expanded.find(([k]) => k === key);
    return match ? ident(match[1]) : conv.type(schema, indent).text;
  };

  const methods = document.methods.filter((m) => m && typeof m.name === 'string');
  out.push('// ---- methods ----');
  out.push('');
  out.push('/**');
  out.push(' * Every method of the node: positional `params` (optional ones marked `?`) and the `result`.');
  out.push(' * Subscription methods return their subscription id here; see {@link Subscriptions}.');
  out.push(' */');
  out.push('export interface Methods {');
  for (const m of methods) {
    const params = Array.isArray(m.params) ? m.params : [];
    // A required parameter after an optional one cannot be an optional tuple element.
    let lastRequired = -1;
    params.forEach((p, i) => {
      if (p.required === true) lastRequired = i;
    });
    const elems = params.map((p, i) => {
      const t = conv.type(p.schema, '    ').text;
      const label = propKey(ident(p.name ?? `arg${i}`));
      if (p.required === true) return `${label}: ${t}`;
      if (i < lastRequired) return `${label}: ${t} | undefined`;
      return `${label}?: ${t}`;
    });
    const access = m['x-access'] === 'private' ? ' (private: needs a bearer token)' : '';
    const summary = `${m.summary ?? ''}${access}`.trim();
    out.push(doc(summary, '  ').trimEnd());
    out.push(`  ${JSON.stringify(m.name)}: {`);
    out.push(`    params: [${elems.join(', ')}];`);
    out.push(`    result: ${conv.type(m.result?.schema, '    ').text};`);
    out.push('  };');
  }
  out.push('}');
  out.push('');

  out.push('/** The subscriptions (WebSocket only): each notification\'s method, payload and unsubscribe method. */');
  out.push('export interface Subscriptions {');
  for (const m of methods) {
    const n = m['x-notification'];
    if (!n || typeof n !== 'object') continue;
    out.push(`  ${JSON.stringify(m.name)}: {`);
    out.push(`    notification: ${JSON.stringify(String(n.method))};`);
    out.push(`    unsubscribe: ${JSON.stringify(String(n.unsubscribe))};`);
    out.push(`    payload: ${payloadType(n.schema, '    ')};`);
    out.push('  };');
  }
  out.push('}');
  out.push('');

  const names = (pred) => {
    const list = methods.filter(pred).map((m) => JSON.stringify(m.name));
    return list.length ? list.join(' | ') : 'never';
  };
  out.push('/** Method names. */');
  out.push('export type MethodName = keyof Methods;');
  out.push('/** Subscription method names. */');
  out.push('export type SubscriptionName = keyof Subscriptions;');
  out.push('/** Methods that need `Authorization: Bearer <JWT>` (x-access: private). */');
  out.push(`export type PrivateMethodName = ${names((m) => m['x-access'] === 'private')};`);
  out.push('');
  if (conv.missing.size > 0) {
    throw new Error(`the document refers to schemas it does not define: ${[...conv.missing].sort().join(', ')}`);
  }
  return out.join('\n');
}

function main(argv) {
  let check = false;
  let outPath = DEFAULT_OUT;
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') check = true;
    else if (a === '--out') outPath = resolve(argv[++i] ?? '');
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node scripts/generate.mjs [--check] [--out FILE] <openrpc.json | ->\n');
      return 0;
    } else files.push(a);
  }
  if (files.length !== 1) {
    process.stderr.write('usage: node scripts/generate.mjs [--check] [--out FILE] <openrpc.json | ->\n');
    return 2;
  }
  const source = files[0];
  let document;
  try {
    document = JSON.parse(readFileSync(source === '-' ? 0 : source, 'utf8'));
  } catch (e) {
    process.stderr.write(`cannot read the OpenRPC document ${source}: ${e.message}\n`);
    return 2;
  }
  let text;
  try {
    text = generate(document);
  } catch (e) {
    process.stderr.write(`cannot generate from ${source}: ${e.message}\n`);
    return 2;
  }
  const shown = relative(process.cwd(), outPath) || outPath;
  if (check) {
    let current = null;
    try {
      current = readFileSync(outPath, 'utf8');
    } catch {
      // A missing file differs.
    }
    if (current === text) return 0;
    const a = (current ?? '').split('\n');
    const b = text.split('\n');
    let line = 0;
    while (line < a.length && line < b.length && a[line] === b[line]) line++;
    process.stderr.write(
      `${shown} is out of date with the OpenRPC document ${source}` +
        (current === null ? ' (the file is missing)' : ` (first difference at line ${line + 1})`) +
        `.\n  committed: ${JSON.stringify(a[line] ?? '<end of file>')}\n  generated: ${JSON.stringify(b[line] ?? '<end of file>')}\n` +
        `Regenerate it: node ${relative(process.cwd(), fileURLToPath(import.meta.url))} ${source}\n`,
    );
    return 1;
  }
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, text);
  process.stdout.write(`wrote ${shown}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
