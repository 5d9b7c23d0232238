// Reads a node's OpenRPC document the way generated clients do — parse, validate and
// dereference with @open-rpc/schema-utils-js — then runs every method's example parameters
// through its MethodCallValidator. Prints one JSON line: the method count, the methods whose
// valid parameters were refused (with the validator's errors), and `$ref`s left unresolved.
// Usage: node check-openrpc.mjs http://HOST:PORT
import { parseOpenRPCDocument, MethodCallValidator } from "@open-rpc/schema-utils-js";

const url = process.argv[2];
const response = await fetch(`${url}/openrpc.json`);
if (!response.ok) {
  console.error(`GET /openrpc.json answered ${response.status}`);
  process.exit(2);
}
const raw = await response.json();
const doc = await parseOpenRPCDocument(raw, { dereference: true, validate: true });

const refs = [];
(function walk(value, path) {
  if (Array.isArray(value)) {
    value.forEach((v, i) => walk(v, `${path}[${i}]`));
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref") refs.push(path);
      else walk(v, `${path}.${k}`);
    }
  }
})(doc, "$");

const validator = new MethodCallValidator(doc);
const refused = [];
for (const method of doc.methods) {
  const example = (method.examples ?? [])[0];
  const params = (example?.params ?? []).map((p) => p.value);
  let result;
  try {
    result = validator.validate(method.name, params);
  } catch (e) {
    // ajv throws on a schema it cannot compile (an unknown "format", say).
    result = [e];
  }
  // Valid: an empty list of errors; a method it cannot find: one error object.
  const errors = Array.isArray(result) ? result : [result];
  if (errors.length) {
    refused.push({ method: method.name, errors: errors.map((e) => String(e.message ?? e)) });
  }
}
console.log(JSON.stringify({ methods: doc.methods.length, refused, refs }));
process.exit(refused.length || refs.length ? 1 : 0);
