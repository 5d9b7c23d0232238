// scripts/generate.mjs: the committed src/generated/methods.ts is what the committed
// openrpc.json snapshot generates, `--check` catches drift, and each JSON Schema construct the
// node's document uses converts to the expected TypeScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const script = join(root, 'scripts', 'generate.mjs');
const snapshot = join(root, 'openrpc.json');

function run(args: string[]) {
  return spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
}

test('the committed methods.ts matches the committed OpenRPC snapshot', () => {
  const r = run(['--check', snapshot]);
  assert.equal(r.status, 0, r.stderr);
});

test('--check fails with a message when the file differs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'i8o8i-gen-'));
  const out = join(dir, 'methods.ts');
  writeFileSync(out, readFileSync(join(root, 'src', 'generated', 'methods.ts'), 'utf8').replace('export interface Methods', 'export interface Methodz'));
  const r = run(['--check', '--out', out, snapshot]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /out of date/);
  assert.match(r.stderr, /Methodz/);
  assert.equal(run(['--check', '--out', join(dir, 'missing.ts'), snapshot]).status, 1);
  // Writing then checking agrees; output is deterministic.
  execFileSync(process.execPath, [script, '--out', out, snapshot]);
  const first = readFileSync(out, 'utf8');
  assert.equal(run(['--check', '--out', out, snapshot]).status, 0);
  execFileSync(process.execPath, [script, '--out', out, snapshot]);
  assert.equal(readFileSync(out, 'utf8'), first);
  assert.equal(run(['--check', join(dir, 'nope.json')]).status, 2);
});

test('each schema construct converts as expected', () => {
  const doc = {
    openrpc: '1.3.2',
    info: { title: 'test', version: '0' },
    methods: [
      {
        name: 'a_get',
        summary: 'Gets.',
        params: [
          { name: 'first', required: true, schema: { type: 'integer' } },
          { name: 'skipped', required: false, schema: { $ref: '#/components/schemas/Kind' } },
          { name: 'last', required: true, schema: { type: 'array', items: { type: ['string', 'null'] } } },
          { name: 'opt', required: false, schema: { type: 'boolean' } },
        ],
        result: { name: 'r', schema: { $ref: '#/components/schemas/Thing' } },
        'x-access': 'private',
      },
      {
        name: 'a_subscribe',
        params: [],
        result: { name: 'subscriptionId', schema: { type: 'string' } },
        'x-notification': {
          method: 'a_event',
          unsubscribe: 'a_unsubscribe',
          schema: { type: 'object', properties: { kind: { type: 'string', enum: ['x', 'y'] } }, required: ['kind'] },
        },
      },
      {
        name: 'rpc.discover',
        params: [],
        result: { name: 'd', schema: { type: 'object', required: ['openrpc'] } },
      },
    ],
    components: {
      schemas: {
        Thing: {
          description: 'A thing.\n\nTwo lines.',
          type: 'object',
          properties: {
            z: { description: 'Last.', allOf: [{ $ref: '#/components/schemas/Kind' }] },
            a: { type: ['integer', 'null'] },
            'weird-key': { const: 'c' },
            map: { type: 'object', additionalProperties: { type: 'number' } },
            tuple: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }] },
            nested: { anyOf: [{ $ref: '#/components/schemas/Kind' }, { type: 'null' }] },
          },
          required: ['z', 'weird-key'],
          oneOf: [
            { type: 'object', properties: { t: { const: 1 } }, required: ['t'] },
            { type: 'object', properties: { t: { const: 2 } }, required: ['t'], additionalProperties: false },
          ],
        },
        Kind: { type: 'object', properties: { kind: { type: 'string', enum: ['x', 'y'] } }, required: ['kind'] },
        Empty: { type: 'object', additionalProperties: false },
        Anything: {},
      },
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'i8o8i-gen-'));
  const docPath = join(dir, 'doc.json');
  const out = join(dir, 'out.ts');
  writeFileSync(docPath, JSON.stringify(doc));
  execFileSync(process.execPath, [script, '--out', out, docPath]);
  const ts = readFileSync(out, 'utf8');
  const expect = (snippet: string) => assert.ok(ts.includes(snippet), `missing:\n${snippet}\n--- in ---\n${ts}`);
  expect('export type Anything = unknown;');
  expect('export type Empty = Record<string, never>;');
  expect('export type Kind = {\n  kind: "x" | "y";\n};');
  expect('/**\n * A thing.\n *\n * Two lines.\n */\nexport type Thing = {\n  a?: number | null;\n');
  expect('  map?: {\n    [key: string]: number;\n  };\n');
  expect('  nested?: Kind | null;\n');
  expect('  tuple?: [string, number];\n');
  expect('  "weird-key": "c";\n');
  expect('  /** Last. */\n  z: Kind;\n} & ({\n  t: 1;\n} | {\n  t: 2;\n});');
  expect('  /** Gets. (private: needs a bearer token) */\n  "a_get": {\n    params: [first: number, skipped: Kind | undefined, last: (string | null)[], opt?: boolean];\n    result: Thing;\n  };');
  expect('  "rpc.discover": {\n    params: [];\n    result: {\n      openrpc: unknown;\n      [key: string]: unknown;\n    };\n  };');
  // The notification payload names the component it expands from.
  expect('  "a_subscribe": {\n    notification: "a_event";\n    unsubscribe: "a_unsubscribe";\n    payload: Kind;\n  };');
  expect('export type PrivateMethodName = "a_get";');
  // A reference to an undefined schema is an error, not a silent `unknown`.
  const broken = { ...doc, methods: [{ name: 'b', params: [], result: { name: 'r', schema: { $ref: '#/components/schemas/Nope' } } }] };
  writeFileSync(docPath, JSON.stringify(broken));
  const r = run(['--out', out, docPath]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Nope/);
});
