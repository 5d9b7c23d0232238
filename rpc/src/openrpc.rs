//! The OpenRPC 1.3 document: built from the method table (names, summaries, parameter
//! schemas, errors, access) and the result types of the handlers actually registered, so what
//! `rpc.discover` describes is what the server serves.

use schemars::generate::SchemaSettings;
use schemars::{Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::methods::{Access, MethodSpec, MethodTable, SchemaFn};

/// The OpenRPC version the document follows.
pub const OPENRPC_VERSION: &str = "1.3.2";

/// What registration learnt about one method.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Registered {
    pub(crate) name: &'static str,
    /// The schema of the result (for a subscription: of each notification's payload).
    pub(crate) result: SchemaFn,
}

/// The result of `rpc.discover`, for its own schema.
pub(crate) struct Document;

impl schemars::JsonSchema for Document {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OpenrpcDocument".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "type": "object",
            "description": "An OpenRPC 1.3 document (https://spec.open-rpc.org)",
            "required": ["openrpc", "info", "methods"]
        })
    }
}

fn generator() -> SchemaGenerator {
    SchemaSettings::draft07()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator()
}

/// `subschema_for` leaves inline schemas in schemars' native dialect; the draft-07 transforms
/// are applied here as they are to the collected definitions.
fn draft07(generator: &mut SchemaGenerator, f: SchemaFn) -> Value {
    let mut schema: Schema = f(generator);
    for t in generator.transforms_mut() {
        t.transform(&mut schema);
    }
    schema.to_value()
}

/// Builds the document for the registered methods, in table order.
pub(crate) fn document(table: &MethodTable, registered: &[Registered]) -> Value {
    let mut generator = generator();
    let mut methods = Vec::new();
    for spec in table.methods().iter().copied() {
        let Some(reg) = registered.iter().find(|r| r.name == spec.name) else {
            continue;
        };
        methods.push(method(&mut generator, spec, reg));
    }
    let schemas = Value::Object(generator.take_definitions(true));
    let mut doc = json!({
        "openrpc": OPENRPC_VERSION,
        "info": {
            "title": "I8o8iCoin node JSON-RPC API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "HTTP POST and WebSocket on one port. Private methods (x-access: \
                private) need `Authorization: Bearer <JWT>` (HS256 with the node's jwt.hex; \
                `i8o8icoin auth token` prints one). Server limits answer with jsonrpsee's codes: \
                -32007 request too big, -32008 response too big, -32010 batch too long, \
                -32006 too many subscriptions; HTTP 429 (Retry-After) over the per-IP rate.",
            "license": { "name": "MIT" }
        },
        "methods": methods,
        "components": { "schemas": schemas }
    });
    standard_formats(&mut doc);
    // Examples are derived from the schemas, so they need the definitions to resolve `$ref`s.
    let defs = doc["components"]["schemas"].clone();
    if let Some(methods) = doc["methods"].as_array_mut() {
        for m in methods {
            let params: Vec<Value> = m["params"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["required"] == json!(true))
                .map(|p| json!({"name": p["name"], "value": example(&p["schema"], &defs, 0)}))
                .collect();
            let result = json!({"name": m["result"]["name"], "value": example(&m["result"]["schema"], &defs, 0)});
            m["examples"] = json!([{ "name": "example", "params": params, "result": result }]);
            // OpenRPC tools dereference the fields the specification defines, not extensions:
            // a notification's schema is written out whole.
            if let Some(schema) = m
                .get_mut("x-notification")
                .and_then(|n| n.get_mut("schema"))
            {
                *schema = inline(schema, &defs, 0);
            }
        }
    }
    doc
}

/// schemars marks Rust integer widths with `format`s (`uint64`, `int32`, `uint`, …) that are
/// not JSON Schema formats: validators refuse them (ajv: `unknown format "uint64"`). Each is
/// replaced by the range it means; `float` / `double` are dropped.
fn standard_formats(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let range: Option<(Value, Value)> = match map.get("format").and_then(Value::as_str) {
                Some("uint8") => Some((json!(0), json!(u8::MAX))),
                Some("uint16") => Some((json!(0), json!(u16::MAX))),
                Some("uint32") => Some((json!(0), json!(u32::MAX))),
                Some("uint64" | "uint") => Some((json!(0), json!(u64::MAX))),
                Some("int8") => Some((json!(i8::MIN), json!(i8::MAX))),
                Some("int16") => Some((json!(i16::MIN), json!(i16::MAX))),
                Some("int32") => Some((json!(i32::MIN), json!(i32::MAX))),
                Some("int64" | "int") => Some((json!(i64::MIN), json!(i64::MAX))),
                Some("float" | "double") => Some((Value::Null, Value::Null)),
                _ => None,
            };
            if let Some((min, max)) = range {
                map.remove("format");
                if !min.is_null() {
                    map.entry("minimum").or_insert(min);
                    map.entry("maximum").or_insert(max);
                }
            }
            for v in map.values_mut() {
                standard_formats(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(standard_formats),
        _ => {}
    }
}

/// `schema` with every `$ref` into `defs` replaced by the definition (recursive types stop
/// at a depth, as an open object).
fn inline(schema: &Value, defs: &Value, depth: usize) -> Value {
    match schema {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                return match defs.get(name) {
                    Some(def) if depth < 16 => inline(def, defs, depth + 1),
                    _ => json!({"type": "object"}),
                };
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), inline(v, defs, depth)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| inline(v, defs, depth)).collect()),
        other => other.clone(),
    }
}

fn method(generator: &mut SchemaGenerator, spec: &MethodSpec, reg: &Registered) -> Value {
    let params: Vec<Value> = spec
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "description": p.doc,
                "required": !p.optional,
                "schema": draft07(generator, p.schema),
            })
        })
        .collect();
    let errors: Vec<Value> = spec
        .all_errors()
        .into_iter()
        .map(|e| json!({"code": e.code(), "message": e.meaning()}))
        .collect();
    let mut m = Map::new();
    m.insert("name".into(), json!(spec.name));
    m.insert("summary".into(), json!(spec.summary));
    m.insert("tags".into(), json!([{ "name": spec.namespace() }]));
    m.insert("paramStructure".into(), json!("either"));
    m.insert("params".into(), json!(params));
    let result = draft07(generator, reg.result);
    match spec.subscription {
        Some(sub) => {
            m.insert(
                "result".into(),
                json!({
                    "name": "subscriptionId",
                    "description": format!("Id of the subscription; notifications `{}` carry it \
                        with the payload schema of x-notification", sub.notification),
                    "schema": {"type": "string"}
                }),
            );
            m.insert(
                "x-notification".into(),
                json!({"method": sub.notification, "unsubscribe": sub.unsubscribe, "schema": result}),
            );
        }
        None => {
            m.insert(
                "result".into(),
                json!({"name": format!("{}Result", spec.name.replace('.', "_")), "schema": result}),
            );
        }
    }
    m.insert("errors".into(), json!(errors));
    m.insert(
        "x-access".into(),
        json!(match spec.access {
            Access::Public => "public",
            Access::Private => "private",
        }),
    );
    Value::Object(m)
}

/// A value that fits `schema`: its first `examples` entry if it has one, else the simplest
/// value of its type.
fn example(schema: &Value, defs: &Value, depth: u32) -> Value {
    if depth > 8 {
        return Value::Null;
    }
    if let Some(first) = schema["examples"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or_default();
        return example(&defs[name], defs, depth + 1);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema[key].as_array().and_then(|a| a.first()) {
            return example(first, defs, depth + 1);
        }
    }
    if let Some(values) = schema["enum"].as_array().and_then(|e| e.first()) {
        return values.clone();
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    let ty = match &schema["type"] {
        Value::String(t) => t.as_str(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ => "",
    };
    match ty {
        "integer" | "number" => schema["minimum"].as_u64().map_or(json!(0), |m| json!(m)),
        "string" => json!("text"),
        "boolean" => json!(true),
        "null" => Value::Null,
        "array" => match &schema["items"] {
            Value::Object(_) => json!([example(&schema["items"], defs, depth + 1)]),
            _ => json!([]),
        },
        "object" => {
            let mut out = Map::new();
            if let Some(props) = schema["properties"].as_object() {
                for (k, v) in props {
                    out.insert(k.clone(), example(v, defs, depth + 1));
                }
            }
            Value::Object(out)
        }
        _ => Value::Null,
    }
}
