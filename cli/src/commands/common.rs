//! What the client commands share: connecting (and finding the node's JWT secret), calling,
//! printing, reading passwords and coin amounts.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use i8o8i_node::launch::default_secret_path;
use i8o8i_primitives::Amount;
use i8o8i_rpc::JwtSecret;
use i8o8i_rpc::Method;
use i8o8i_rpc::api;
use i8o8i_rpc::client::{RpcClient, connect};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Args)]
pub(crate) struct RpcArgs {
    /// URL of the node's JSON-RPC server.
    #[arg(
        long,
        global = true,
        env = "I8O8I_RPC_URL",
        default_value = "http://127.0.0.1:5000"
    )]
    rpc_url: String,
    /// The node's JWT secret, to sign private calls (default: `$HOME/.i8o8icoin/<chain>/jwt.hex`
    /// of the node's chain, if it exists).
    #[arg(long, global = true, env = "I8O8I_JWT_SECRET")]
    jwt_secret: Option<PathBuf>,
    /// Print amounts as integers of base units (10^8 per I8O) instead of I8O.
    #[arg(long, global = true)]
    base_units: bool,
}

/// Whether results print amounts in base units (`--base-units`).
static BASE_UNITS: AtomicBool = AtomicBool::new(false);

#[derive(Args)]
pub(crate) struct PasswordArg {
    /// Read the wallet password from this file (first line) instead of prompting.
    #[arg(long)]
    pub(crate) password_file: Option<PathBuf>,
}

pub(crate) async fn client(rpc: &RpcArgs) -> Result<RpcClient> {
    BASE_UNITS.store(rpc.base_units, Ordering::Relaxed);
    let bad_url = || format!("bad --rpc-url {}", rpc.rpc_url);
    let secret = match &rpc.jwt_secret {
        Some(path) => Some(JwtSecret::read(path)?),
        None => {
            // Ask the node its chain (a public call) to find the default secret file.
            let anonymous = connect(&rpc.rpc_url, None, None).with_context(bad_url)?;
            match call::<api::ChainGetInfo>(&anonymous, ()).await {
                Ok(info) => {
                    let path = default_secret_path(&info.chain);
                    let secret = path.exists().then(|| JwtSecret::read(&path)).transpose()?;
                    // Another node of the same chain (its own --data-dir) has another secret:
                    // then go without, and private calls say what is missing.
                    match secret {
                        Some(s) => {
                            let signed = connect(&rpc.rpc_url, Some(s.clone()), None)
                                .with_context(bad_url)?;
                            call::<api::ChainGetInfo>(&signed, ())
                                .await
                                .is_ok()
                                .then_some(s)
                        }
                        None => None,
                    }
                }
                // Let the real call report an unreachable node.
                Err(_) => None,
            }
        }
    };
    connect(&rpc.rpc_url, secret, None).with_context(bad_url)
}

/// Calls method `M` of the node's API with typed parameters and result.
pub(crate) async fn call<M>(client: &RpcClient, params: M::Params) -> Result<M::Result>
where
    M: Method,
    M::Result: DeserializeOwned,
{
    Ok(i8o8i_rpc::client::call::<M>(client, params).await?)
}

/// Prints a result as pretty JSON, its amounts in I8O (`"12.50000000 I8O"`) unless
/// `--base-units`: the result type's JSON Schema says which numbers are amounts.
pub(crate) fn print<T: Serialize + JsonSchema>(value: &T) {
    let mut json = match serde_json::to_value(value) {
        Ok(json) => json,
        Err(e) => return eprintln!("error: cannot print the result: {e}"),
    };
    if !BASE_UNITS.load(Ordering::Relaxed) {
        let schema = schemars::SchemaGenerator::default()
            .into_root_schema_for::<T>()
            .to_value();
        let defs = schema.get("$defs").cloned().unwrap_or_default();
        amounts_in_coins(&mut json, &schema, &defs, 0);
    }
    match serde_json::to_string_pretty(&json) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: cannot print the result: {e}"),
    }
}

/// Rewrites, in `value` described by `schema`, every integer whose schema is the `Amount`
/// definition as an I8O string.
fn amounts_in_coins(value: &mut Value, schema: &Value, defs: &Value, depth: usize) {
    let Some(schema) = schema.as_object() else {
        return;
    };
    if depth > 64 {
        return;
    }
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
    {
        if name == "Amount" {
            if let Some(units) = value.as_u64() {
                *value = Value::String(format!(
                    "{} I8O",
                    Amount::from_units(units).to_coin_string()
                ));
            }
        } else if let Some(def) = defs.get(name) {
            amounts_in_coins(value, def, defs, depth + 1);
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for alternative in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            amounts_in_coins(value, alternative, defs, depth + 1);
        }
    }
    if let (Some(properties), Some(object)) = (
        schema.get("properties").and_then(Value::as_object),
        value.as_object_mut(),
    ) {
        for (name, sub) in properties {
            if let Some(v) = object.get_mut(name) {
                amounts_in_coins(v, sub, defs, depth + 1);
            }
        }
    }
    if let Some(extra) = schema.get("additionalProperties").filter(|s| s.is_object())
        && let Some(object) = value.as_object_mut()
    {
        for v in object.values_mut() {
            amounts_in_coins(v, extra, defs, depth + 1);
        }
    }
    if let Some(array) = value.as_array_mut() {
        if let Some(items) = schema.get("items").filter(|s| s.is_object()) {
            for v in array.iter_mut() {
                amounts_in_coins(v, items, defs, depth + 1);
            }
        }
        if let Some(prefix) = schema.get("prefixItems").and_then(Value::as_array) {
            for (v, sub) in array.iter_mut().zip(prefix) {
                amounts_in_coins(v, sub, defs, depth + 1);
            }
        }
    }
}

pub(crate) fn password(arg: &PasswordArg, confirm: bool) -> Result<String> {
    if let Some(path) = &arg.password_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(text.lines().next().unwrap_or_default().to_owned());
    }
    let pw = rpassword::prompt_password("Wallet password: ").context("cannot read password")?;
    if confirm
        && rpassword::prompt_password("Repeat password: ").context("cannot read password")? != pw
    {
        bail!("passwords differ");
    }
    Ok(pw)
}

pub(crate) fn coins(amount: &str) -> Result<u64> {
    Ok(Amount::from_coin_str(amount)
        .with_context(|| format!("bad amount {amount}"))?
        .to_units())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, JsonSchema)]
    struct Line {
        amount: Amount,
        height: u64,
    }

    #[derive(Serialize, JsonSchema)]
    #[serde(rename_all = "camelCase")]
    struct Shown {
        confirmed: Amount,
        fee: Option<Amount>,
        none: Option<Amount>,
        lines: Vec<Line>,
        count: u64,
    }

    #[test]
    fn amounts_print_in_i8o_and_other_numbers_stay_integers() {
        let shown = Shown {
            confirmed: Amount::from_units(10_000_000_000),
            fee: Some(Amount::from_units(1_500)),
            none: None,
            lines: vec![Line {
                amount: Amount::from_units(1),
                height: 7,
            }],
            count: 3,
        };
        let mut json = serde_json::to_value(&shown).unwrap();
        let schema = schemars::SchemaGenerator::default()
            .into_root_schema_for::<Shown>()
            .to_value();
        let defs = schema.get("$defs").cloned().unwrap_or_default();
        amounts_in_coins(&mut json, &schema, &defs, 0);
        assert_eq!(
            json,
            serde_json::json!({
                "confirmed": "100.00000000 I8O",
                "fee": "0.00001500 I8O",
                "none": null,
                "lines": [{"amount": "0.00000001 I8O", "height": 7}],
                "count": 3
            })
        );
    }
}
