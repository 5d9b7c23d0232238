//! JSON Schemas of the serde forms that are not plain derives: hex strings, hashes,
//! addresses and amounts. The RPC's OpenRPC document is generated from them.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use std::borrow::Cow;

/// A hex string of whole bytes (the serde form of scripts, code, contract data).
#[derive(Debug)]
pub struct Hex;

impl JsonSchema for Hex {
    fn schema_name() -> Cow<'static, str> {
        "Hex".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^([0-9a-fA-F]{2})*$",
            "description": "Bytes as hex digits, two per byte.",
            "examples": ["76a914"]
        })
    }
}

/// Amounts are a named schema (not inlined as a bare integer), so that a client can tell an
/// amount from another number — the CLI shows them in I8O by it.
impl JsonSchema for crate::Amount {
    fn schema_name() -> Cow<'static, str> {
        "Amount".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "minimum": 0,
            "maximum": u64::MAX,
            "description": "An amount in base units: 100,000,000 per I8O.",
            "examples": [150_000_000u64]
        })
    }
}

/// The schema of a 32-byte hash in display order.
pub fn hash32() -> Schema {
    json_schema!({
        "type": "string",
        "pattern": "^[0-9a-f]{64}$",
        "description": "32-byte hash, 64 lowercase hex digits.",
        "examples": ["5f2b8a3c0d4e6f718293a4b5c6d7e8f90112233445566778899aabbccddeeff0"]
    })
}

impl JsonSchema for crate::address::Address {
    fn schema_name() -> Cow<'static, str> {
        "Address".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^t?i8o1[02-9ac-hj-np-z]{6,}$",
            "description": "Bech32m address: `i8o1…` on mainnet, `ti8o1…` on testnet and dev chains.",
            "examples": ["ti8o1qq3n7jqyfgnnwhksenh3p72ed9emd8mdn50hkq46"]
        })
    }
}
