//! Parameter decoding that names the parameter at fault.
//!
//! jsonrpsee's generated decoders report "Invalid params" without saying which one; wallets
//! deserve better. Parameters are accepted by position (the documented form) or by name.

use jsonrpsee::types::Params;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ErrorCode, RpcError, rpc_error};

/// The parameters of one call.
#[derive(Debug)]
pub struct RpcParams {
    positional: Vec<Value>,
    named: Option<Map<String, Value>>,
}

impl RpcParams {
    /// Reads the raw parameters: absent, an array, or an object.
    ///
    /// # Errors
    /// -32602 if `params` is JSON but neither an array nor an object.
    pub fn new(params: &Params<'_>) -> Result<Self, RpcError> {
        match params.as_str() {
            None => Ok(RpcParams {
                positional: Vec::new(),
                named: None,
            }),
            Some(raw) => match serde_json::from_str::<Value>(raw) {
                Ok(value) => RpcParams::from_value(value),
                // The request parsed, so this is serde_json's nesting limit (128).
                Err(e) => Err(rpc_error(
                    ErrorCode::InvalidParams,
                    format!("params cannot be decoded: {e}"),
                )),
            },
        }
    }

    /// The parameters of a request whose `params` member is `value`.
    ///
    /// # Errors
    /// -32602 if `value` is neither an array, an object nor null.
    pub fn from_value(value: Value) -> Result<Self, RpcError> {
        match value {
            Value::Array(positional) => Ok(RpcParams {
                positional,
                named: None,
            }),
            Value::Object(named) => Ok(RpcParams {
                positional: Vec::new(),
                named: Some(named),
            }),
            Value::Null => Ok(RpcParams {
                positional: Vec::new(),
                named: None,
            }),
            _ => Err(rpc_error(
                ErrorCode::InvalidParams,
                "params must be an array or an object",
            )),
        }
    }

    fn raw(&self, index: usize, name: &str) -> Option<&Value> {
        match &self.named {
            Some(map) => map.get(name),
            None => self.positional.get(index),
        }
        .filter(|v| !v.is_null())
    }

    /// The required parameter at `index` (or named `name`).
    ///
    /// # Errors
    /// -32602 naming `name` if it is missing or does not decode as `T`.
    pub fn required<T: DeserializeOwned>(&self, index: usize, name: &str) -> Result<T, RpcError> {
        let raw = self.raw(index, name).ok_or_else(|| {
            rpc_error(
                ErrorCode::InvalidParams,
                format!("missing parameter `{name}` (position {index})"),
            )
        })?;
        decode(raw, name)
    }

    /// The optional parameter at `index` (or named `name`); `null` counts as absent.
    ///
    /// # Errors
    /// -32602 naming `name` if it is present but does not decode as `T`.
    pub fn optional<T: DeserializeOwned>(
        &self,
        index: usize,
        name: &str,
    ) -> Result<Option<T>, RpcError> {
        self.raw(index, name)
            .map(|raw| decode(raw, name))
            .transpose()
    }

    /// Rejects calls with more parameters than the method takes (by position) or with
    /// unknown names (by name).
    ///
    /// # Errors
    /// -32602 naming the surplus.
    pub fn finish(&self, names: &[&str]) -> Result<(), RpcError> {
        if let Some(map) = &self.named {
            if let Some(unknown) = map.keys().find(|k| !names.contains(&k.as_str())) {
                return Err(rpc_error(
                    ErrorCode::InvalidParams,
                    format!("unknown parameter `{unknown}`"),
                ));
            }
        } else if self.positional.len() > names.len() {
            return Err(rpc_error(
                ErrorCode::InvalidParams,
                format!(
                    "expected at most {} parameters, got {}",
                    names.len(),
                    self.positional.len()
                ),
            ));
        }
        Ok(())
    }
}

fn decode<T: DeserializeOwned>(raw: &Value, name: &str) -> Result<T, RpcError> {
    T::deserialize(raw).map_err(|e| {
        rpc_error(
            ErrorCode::InvalidParams,
            format!("invalid parameter `{name}`: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(raw: &str) -> RpcParams {
        RpcParams::new(&Params::new(Some(raw))).unwrap()
    }

    #[test]
    fn positional_and_named_forms_decode_alike() {
        let p = params("[7, \"x\"]");
        assert_eq!(p.required::<u64>(0, "height").unwrap(), 7);
        assert_eq!(
            p.optional::<String>(1, "label").unwrap().as_deref(),
            Some("x")
        );
        assert_eq!(p.optional::<u64>(2, "extra").unwrap(), None);
        let p = params("{\"height\": 7}");
        assert_eq!(p.required::<u64>(0, "height").unwrap(), 7);
        assert!(p.finish(&["height"]).is_ok());
    }

    #[test]
    fn errors_name_the_parameter() {
        let p = params("[\"seven\"]");
        let e = p.required::<u64>(0, "height").unwrap_err();
        assert_eq!(e.code(), -32602);
        assert!(e.message().contains("`height`"), "{}", e.message());
        let e = params("[]").required::<u64>(0, "height").unwrap_err();
        assert!(
            e.message().contains("missing parameter `height`"),
            "{}",
            e.message()
        );
        let e = params("[1, 2]").finish(&["height"]).unwrap_err();
        assert!(e.message().contains("at most 1"), "{}", e.message());
        let e = params("{\"hieght\": 1}").finish(&["height"]).unwrap_err();
        assert!(e.message().contains("`hieght`"), "{}", e.message());
        assert!(RpcParams::new(&Params::new(Some("5"))).is_err());
    }

    #[test]
    fn huge_numbers_are_rejected_not_truncated() {
        let e = params("[18446744073709551616]")
            .required::<u64>(0, "amount")
            .unwrap_err();
        assert!(e.message().contains("`amount`"), "{}", e.message());
        let e = params("[-1]").required::<u64>(0, "amount").unwrap_err();
        assert_eq!(e.code(), -32602);
    }
}
