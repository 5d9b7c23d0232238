//! What the fuzz target `rpc/fuzz` runs on each input, and the test suite on generated ones:
//! a request's `params` as any JSON, decoded for every method the way the server does before
//! calling a handler. Decoding never panics and refuses only with -32602 (invalid params).

use serde_json::Value;

use crate::ErrorCode;
use crate::api::{METHODS, decode_params};
use crate::params::RpcParams;

/// `data` as the `params` of a call to every method.
pub fn params(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    each_method(value);
}

/// `value` as the `params` of a call to every method.
pub fn each_method(value: Value) {
    let params = match RpcParams::from_value(value) {
        Ok(p) => p,
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::InvalidParams as i32);
            return;
        }
    };
    for method in METHODS {
        let decoded = decode_params(method.name, &params).expect("every listed method decodes");
        if let Err(e) = decoded {
            assert_eq!(
                e.code(),
                ErrorCode::InvalidParams as i32,
                "{}: {}",
                method.name,
                e.message()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Values of every JSON shape with the edge cases decoders trip on.
    fn values(next: &mut impl FnMut() -> u64, depth: u32) -> Value {
        match next() % if depth == 0 { 6 } else { 8 } {
            0 => Value::Null,
            1 => json!(next().is_multiple_of(2)),
            2 => match next() % 6 {
                0 => json!(-1),
                1 => json!(u64::MAX),
                2 => json!(1.5),
                3 => json!(0),
                4 => json!(i64::MIN),
                _ => json!(next() % 1_000),
            },
            3 => json!("0".repeat((next() % 70) as usize)),
            4 => json!(
                ["dev1", "ab", "zz", "", "0x00", "\u{0}", "1:2", "tdev1qqqq"]
                    [(next() % 8) as usize]
            ),
            5 => json!(format!("{:064x}", next())),
            6 => Value::Array((0..next() % 5).map(|_| values(next, depth - 1)).collect()),
            _ => Value::Object(
                (0..next() % 4)
                    .map(|i| {
                        (
                            ["address", "height", "count", "txid", "x"][i as usize % 5].to_owned(),
                            values(next, depth - 1),
                        )
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn every_method_decodes_any_params_to_a_value_or_invalid_params() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2_000 {
            let arity = next() % 5;
            let positional: Vec<Value> = (0..arity).map(|_| values(&mut next, 2)).collect();
            each_method(Value::Array(positional));
            each_method(values(&mut next, 3));
        }
        params(b"[1, \"x\", {\"a\": [null]}]");
        params(b"not json");
    }
}
