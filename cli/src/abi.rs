//! Contract ABIs as the SDK's `entry_points!` embeds them (custom section `i8o8i_abi`, one
//! `name(arg: Type, …) -> Type` per line, the constructor as `deploy name(…)`), and SCALE
//! encoding of command-line arguments / decoding of return data by those types, so a user calls
//! `transfer ti8o1… 100` instead of hand-encoding SCALE.
//!
//! Types understood: `u8` `u16` `u32` `u64` `u128` `i32` `i64` `bool` `String` `Account` (a
//! bech32 address, encoded as its script, or `contract:<address hex>` for a contract's account
//! `OP_RETURN <address>`) `Vec<u8>` (hex) `Address` / `[u8; 32]` (hex) and tuples of these
//! (results only).

use i8o8i_primitives::ContractAddress;
use i8o8i_primitives::address::{Address, Network};
use i8o8i_primitives::contract::{contract_of_script, contract_script};
use parity_scale_codec::{Decode, Encode};
use serde_json::{Value, json};

/// One method of an ABI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    /// Whether it is the constructor.
    pub deploy: bool,
    /// Whether it is the migration (`migrate`, run when an admin migrates to this code).
    pub migrate: bool,
    /// Name.
    pub name: String,
    /// (argument name, type).
    pub args: Vec<(String, String)>,
    /// Result type (`()` when none).
    pub result: String,
}

/// What is wrong with an ABI, an argument or return data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbiError {
    /// A line that is not `name(args) -> Type`.
    #[error("malformed ABI line `{0}`")]
    Malformed(String),
    /// The method is not in the ABI.
    #[error("no method `{0}` (the contract has: {1})")]
    NoMethod(String, String),
    /// Wrong number of arguments.
    #[error("`{method}` takes {expected} arguments ({signature}), got {got}")]
    Arity {
        /// Method.
        method: String,
        /// Expected count.
        expected: usize,
        /// Given count.
        got: usize,
        /// Its signature.
        signature: String,
    },
    /// An argument that does not parse as its type.
    #[error("argument `{name}` ({ty}): {why}")]
    BadArg {
        /// Argument name.
        name: String,
        /// Its type.
        ty: String,
        /// Why.
        why: String,
    },
    /// A type this tool cannot encode or decode.
    #[error("unsupported type `{0}`")]
    Unsupported(String),
    /// Return data that does not decode as the result type.
    #[error("return data does not decode as `{0}`")]
    BadReturn(String),
}

/// An event an ABI declares (`event Name(topic field: Type, field: Type)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDef {
    /// Name (also the first topic, zero-padded).
    pub name: String,
    /// (field name, type, carried as a topic rather than in the data), in order.
    pub fields: Vec<(String, String, bool)>,
}

/// Parses the events of an ABI text.
///
/// # Errors
/// [`AbiError::Malformed`].
pub fn parse_events(text: &str) -> Result<Vec<EventDef>, AbiError> {
    text.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("event "))
        .map(|line| {
            let bad = || AbiError::Malformed(format!("event {line}"));
            let (name, rest) = line.split_once('(').ok_or_else(bad)?;
            let inner = rest.strip_suffix(')').ok_or_else(bad)?;
            let fields = inner
                .split(", ")
                .map(|f| f.trim().trim_end_matches(','))
                .filter(|f| !f.is_empty())
                .map(|f| {
                    let (topic, f) = match f.strip_prefix("topic ") {
                        Some(rest) => (true, rest),
                        None => (false, f),
                    };
                    let (n, t) = f.split_once(':').ok_or_else(bad)?;
                    Ok((n.trim().to_owned(), t.trim().to_owned(), topic))
                })
                .collect::<Result<Vec<_>, AbiError>>()?;
            Ok(EventDef {
                name: name.trim().to_owned(),
                fields,
            })
        })
        .collect()
}

/// The event `topics` / `data` are, decoded with `events`: `{"event": name, field: value, …}`;
/// `None` when no declared event has the first topic, or the rest does not fit its
/// declaration (then the raw form is all there is).
pub fn decode_event(
    events: &[EventDef],
    topics: &[[u8; 32]],
    data: &[u8],
    network: Network,
) -> Option<Value> {
    let (first, mut rest) = topics.split_first()?;
    let def = events
        .iter()
        .find(|e| name_topic(&e.name) == Some(*first))?;
    let mut out = serde_json::Map::new();
    out.insert("event".into(), json!(def.name));
    let mut input = data;
    for (name, ty, topic) in &def.fields {
        let value = if *topic {
            let (t, tail) = rest.split_first()?;
            rest = tail;
            topic_value(ty, t, network)
        } else {
            decode_one(ty, &mut input, network).ok()?
        };
        out.insert(name.clone(), value);
    }
    (rest.is_empty() && input.is_empty()).then_some(Value::Object(out))
}

/// The SDK's `topic(name)`: the name zero-padded to 32 bytes.
fn name_topic(name: &str) -> Option<[u8; 32]> {
    let bytes = name.as_bytes();
    let mut t = [0u8; 32];
    t.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(t)
}

/// A topic field as JSON: an `Account` topic is its script zero-padded (null when all zero:
/// no account, as for a mint) or, for scripts over 32 bytes, a hash; anything else is hex.
fn topic_value(ty: &str, topic: &[u8; 32], network: Network) -> Value {
    if ty == "Account" {
        if topic.iter().all(|b| *b == 0) {
            return Value::Null;
        }
        // Standard scripts end in a non-zero opcode, so the padding is what trails.
        let len = topic.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        let script = i8o8i_script_vm::Script::from_bytes(&topic[..len]);
        if let Some(a) = Address::from_script(network, script) {
            return json!(a.to_string());
        }
    }
    json!(hex::encode(topic))
}

/// Parses an ABI text (its methods; `event` lines are [`parse_events`]'s).
///
/// # Errors
/// [`AbiError::Malformed`].
pub fn parse(text: &str) -> Result<Vec<Method>, AbiError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("event "))
        .map(|line| {
            let bad = || AbiError::Malformed(line.to_owned());
            let (deploy, migrate, rest) =
                match (line.strip_prefix("deploy "), line.strip_prefix("migrate ")) {
                    (Some(r), _) => (true, false, r),
                    (None, Some(r)) => (false, true, r),
                    (None, None) => (false, false, line),
                };
            let open = rest.find('(').ok_or_else(bad)?;
            let mut depth = 0i32;
            let close = rest[open..]
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| open + i)
                .ok_or_else(bad)?;
            let name = rest[..open].trim().to_owned();
            let args = rest[open + 1..close]
                .split(", ")
                .map(|a| a.trim().trim_end_matches(','))
                .filter(|a| !a.is_empty())
                .map(|a| {
                    let (n, t) = a.split_once(':').ok_or_else(bad)?;
                    Ok((
                        n.trim().to_owned(),
                        t.trim().trim_end_matches(',').to_owned(),
                    ))
                })
                .collect::<Result<Vec<_>, AbiError>>()?;
            let result = match rest[close + 1..].trim().strip_prefix("->") {
                Some(r) => r.trim().to_owned(),
                None => "()".to_owned(),
            };
            Ok(Method {
                deploy,
                migrate,
                name,
                args,
                result,
            })
        })
        .collect()
}

impl Method {
    /// `name(a: T, b: U) -> R`.
    pub fn signature(&self) -> String {
        let args: Vec<String> = self.args.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        format!("{}({}) -> {}", self.name, args.join(", "), self.result)
    }
}

/// Finds `name` among the call methods (or the constructor, with `deploy`).
///
/// # Errors
/// [`AbiError::NoMethod`].
pub fn find<'a>(abi: &'a [Method], name: &str, deploy: bool) -> Result<&'a Method, AbiError> {
    abi.iter()
        .find(|m| !m.migrate && m.deploy == deploy && (deploy || m.name == name))
        .ok_or_else(|| {
            let names: Vec<&str> = abi
                .iter()
                .filter(|m| !m.deploy && !m.migrate)
                .map(|m| m.name.as_str())
                .collect();
            AbiError::NoMethod(name.to_owned(), names.join(", "))
        })
}

/// The migration entry point (`migrate name(…)`), if the code has one.
pub fn find_migrate(abi: &[Method]) -> Option<&Method> {
    abi.iter().find(|m| m.migrate)
}

fn encode_arg(ty: &str, raw: &str, network: Network, out: &mut Vec<u8>) -> Result<(), String> {
    fn num<T: std::str::FromStr + Encode>(raw: &str, out: &mut Vec<u8>) -> Result<(), String>
    where
        T::Err: std::fmt::Display,
    {
        raw.replace('_', "")
            .parse::<T>()
            .map_err(|e| e.to_string())?
            .encode_to(out);
        Ok(())
    }
    let hex_bytes =
        |raw: &str| hex::decode(raw.trim_start_matches("0x")).map_err(|e| e.to_string());
    match ty {
        "u8" => num::<u8>(raw, out),
        "u16" => num::<u16>(raw, out),
        "u32" => num::<u32>(raw, out),
        "u64" | "Amount" => num::<u64>(raw, out),
        "u128" => num::<u128>(raw, out),
        "i32" => num::<i32>(raw, out),
        "i64" => num::<i64>(raw, out),
        "bool" => num::<bool>(raw, out),
        "String" => {
            raw.to_owned().encode_to(out);
            Ok(())
        }
        "Account" => {
            let script = match raw.strip_prefix("contract:") {
                Some(hex_address) => {
                    let bytes: [u8; 32] = hex_bytes(hex_address)?
                        .try_into()
                        .map_err(|_| "a contract address is 32 bytes of hex".to_owned())?;
                    contract_script(&ContractAddress::from_byte_array(bytes))
                }
                None => {
                    let address = Address::parse_for(raw, network).map_err(|e| e.to_string())?;
                    address.script_pubkey().as_bytes().to_vec()
                }
            };
            script.encode_to(out);
            Ok(())
        }
        "Vec<u8>" => {
            hex_bytes(raw)?.encode_to(out);
            Ok(())
        }
        "Address" | "[u8; 32]" => {
            let bytes: [u8; 32] = hex_bytes(raw)?
                .try_into()
                .map_err(|_| "must be 32 bytes of hex".to_owned())?;
            out.extend_from_slice(&bytes);
            Ok(())
        }
        other => Err(format!("unsupported type `{other}`")),
    }
}

/// Encodes a call input: SCALE(method name, arguments…); a constructor's input is its
/// arguments alone.
///
/// # Errors
/// [`AbiError`] for a wrong count or an argument that does not parse.
pub fn encode_call(
    method: &Method,
    args: &[String],
    network: Network,
) -> Result<Vec<u8>, AbiError> {
    if args.len() != method.args.len() {
        return Err(AbiError::Arity {
            method: method.name.clone(),
            expected: method.args.len(),
            got: args.len(),
            signature: method.signature(),
        });
    }
    let mut out = Vec::new();
    // A call names its method; a constructor's or migration's input is its arguments alone.
    if !method.deploy && !method.migrate {
        method.name.encode_to(&mut out);
    }
    for ((name, ty), raw) in method.args.iter().zip(args) {
        encode_arg(ty, raw, network, &mut out).map_err(|why| AbiError::BadArg {
            name: name.clone(),
            ty: ty.clone(),
            why,
        })?;
    }
    Ok(out)
}

fn split_tuple(ty: &str) -> Option<Vec<&str>> {
    let inner = ty.strip_prefix('(')?.strip_suffix(')')?;
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in inner.char_indices() {
        match c {
            '(' | '<' | '[' => depth += 1,
            ')' | '>' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = inner[start..].trim();
    if !last.is_empty() {
        parts.push(last);
    }
    Some(parts)
}

fn decode_one(ty: &str, input: &mut &[u8], network: Network) -> Result<Value, AbiError> {
    let bad = || AbiError::BadReturn(ty.to_owned());
    Ok(match ty {
        "()" => Value::Null,
        "u8" => json!(u8::decode(input).map_err(|_| bad())?),
        "u16" => json!(u16::decode(input).map_err(|_| bad())?),
        "u32" => json!(u32::decode(input).map_err(|_| bad())?),
        "u64" | "Amount" => json!(u64::decode(input).map_err(|_| bad())?),
        // JSON numbers lose precision past 2^53: u128 is a decimal string.
        "u128" => json!(u128::decode(input).map_err(|_| bad())?.to_string()),
        "i32" => json!(i32::decode(input).map_err(|_| bad())?),
        "i64" => json!(i64::decode(input).map_err(|_| bad())?),
        "bool" => json!(bool::decode(input).map_err(|_| bad())?),
        "String" => json!(String::decode(input).map_err(|_| bad())?),
        "Vec<u8>" => json!(hex::encode(Vec::<u8>::decode(input).map_err(|_| bad())?)),
        "Address" | "[u8; 32]" => json!(hex::encode(<[u8; 32]>::decode(input).map_err(|_| bad())?)),
        "Account" => {
            let script = Vec::<u8>::decode(input).map_err(|_| bad())?;
            match Address::from_script(network, i8o8i_script_vm::Script::from_bytes(&script)) {
                Some(a) => json!(a.to_string()),
                None => match contract_of_script(&script) {
                    Some(contract) => json!(format!("contract:{contract}")),
                    None => json!(hex::encode(script)),
                },
            }
        }
        other => match split_tuple(other) {
            Some(parts) => Value::Array(
                parts
                    .into_iter()
                    .map(|p| decode_one(p, input, network))
                    .collect::<Result<_, _>>()?,
            ),
            None => return Err(AbiError::Unsupported(other.to_owned())),
        },
    })
}

/// Decodes return data as `ty`, as JSON.
///
/// # Errors
/// [`AbiError::BadReturn`] / [`AbiError::Unsupported`].
pub fn decode_return(ty: &str, data: &[u8], network: Network) -> Result<Value, AbiError> {
    let mut input = data;
    let value = decode_one(ty, &mut input, network)?;
    if !input.is_empty() {
        return Err(AbiError::BadReturn(ty.to_owned()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The last line keeps the trailing separator older SDK builds wrote; it still parses.
    const TOKEN: &str = "deploy init(name: String, symbol: String, supply: u128)\n\
                         balance_of(owner: Account) -> u128\n\
                         transfer(to: Account, amount: u128)\n\
                         info() -> (Account, u64, u64)\n\
                         burn(amount: u128, )\n";

    #[test]
    fn parses_the_sdk_format() {
        let abi = parse(TOKEN).unwrap();
        assert_eq!(abi.len(), 5);
        assert_eq!(abi[4].args, [("amount".to_owned(), "u128".to_owned())]);
        assert!(abi[0].deploy);
        assert_eq!(abi[1].args, [("owner".to_owned(), "Account".to_owned())]);
        assert_eq!(abi[1].result, "u128");
        assert_eq!(abi[2].result, "()");
        assert_eq!(abi[3].args, []);
    }

    #[test]
    fn encodes_name_then_arguments() {
        let abi = parse(TOKEN).unwrap();
        let to = Address::from_pubkey(Network::Dev, &[2; 33]);
        let input = encode_call(
            find(&abi, "transfer", false).unwrap(),
            &[to.to_string(), "1_000".into()],
            Network::Dev,
        )
        .unwrap();
        let expected = (
            "transfer".to_owned(),
            to.script_pubkey().as_bytes().to_vec(),
            1_000u128,
        )
            .encode();
        assert_eq!(input, expected);
        let ctor = encode_call(
            find(&abi, "", true).unwrap(),
            &["Seed".into(), "SEED".into(), "5".into()],
            Network::Dev,
        )
        .unwrap();
        assert_eq!(ctor, ("Seed".to_owned(), "SEED".to_owned(), 5u128).encode());
    }

    #[test]
    fn refuses_bad_arguments_with_their_names() {
        let abi = parse(TOKEN).unwrap();
        let transfer = find(&abi, "transfer", false).unwrap();
        assert!(matches!(
            encode_call(transfer, &["x".into()], Network::Dev),
            Err(AbiError::Arity {
                expected: 2,
                got: 1,
                ..
            })
        ));
        let to = Address::from_pubkey(Network::Dev, &[2; 33]).to_string();
        let err = encode_call(transfer, &[to, "-1".into()], Network::Dev).unwrap_err();
        assert!(matches!(err, AbiError::BadArg { ref name, .. } if name == "amount"));
        assert!(matches!(
            find(&abi, "steal", false),
            Err(AbiError::NoMethod(..))
        ));
    }

    #[test]
    fn decodes_declared_events_and_leaves_the_rest_raw() {
        let text = format!(
            "{TOKEN}event Transfer(topic from: Account, topic to: Account, amount: u128)\n"
        );
        assert_eq!(
            parse(&text).unwrap().len(),
            5,
            "event lines are not methods"
        );
        let events = parse_events(&text).unwrap();
        assert_eq!(
            events,
            [EventDef {
                name: "Transfer".into(),
                fields: vec![
                    ("from".into(), "Account".into(), true),
                    ("to".into(), "Account".into(), true),
                    ("amount".into(), "u128".into(), false),
                ],
            }]
        );
        let to = Address::from_pubkey(Network::Dev, &[2; 33]);
        let mut to_topic = [0u8; 32];
        let script = to.script_pubkey();
        to_topic[..script.len()].copy_from_slice(script.as_bytes());
        let mut name = [0u8; 32];
        name[..8].copy_from_slice(b"Transfer");
        let data = 250u128.encode();
        assert_eq!(
            decode_event(&events, &[name, [0; 32], to_topic], &data, Network::Dev),
            Some(json!({"event": "Transfer", "from": null, "to": to.to_string(), "amount": "250"}))
        );
        // An undeclared name, a missing topic, data left over: not decoded.
        let mut other = [0u8; 32];
        other[..5].copy_from_slice(b"Other");
        assert_eq!(decode_event(&events, &[other], &data, Network::Dev), None);
        assert_eq!(
            decode_event(&events, &[name, [0; 32]], &data, Network::Dev),
            None
        );
        assert_eq!(
            decode_event(
                &events,
                &[name, [0; 32], to_topic],
                &[data, vec![0]].concat(),
                Network::Dev
            ),
            None
        );
        assert!(parse_events("event Broken(from Account)").is_err());
    }

    #[test]
    fn decodes_results_including_tuples() {
        let script = Address::from_pubkey(Network::Dev, &[2; 33]).script_pubkey();
        let data = (script.as_bytes().to_vec(), 7u64, 9u64).encode();
        let v = decode_return("(Account, u64, u64)", &data, Network::Dev).unwrap();
        assert_eq!(v[1], json!(7));
        assert!(v[0].as_str().unwrap().starts_with("ti8o1"));
        assert_eq!(
            decode_return("u128", &5u128.encode(), Network::Dev).unwrap(),
            json!("5")
        );
        assert!(decode_return("u128", &[1, 2], Network::Dev).is_err());
    }

    #[test]
    fn a_contract_account_is_written_contract_colon_its_address() {
        let address = "ab".repeat(32);
        let method = Method {
            deploy: false,
            migrate: false,
            name: "approve".into(),
            args: vec![
                ("spender".into(), "Account".into()),
                ("amount".into(), "u128".into()),
            ],
            result: "()".into(),
        };
        let input = encode_call(
            &method,
            &[format!("contract:{address}"), "5".into()],
            Network::Dev,
        )
        .unwrap();
        let script: Vec<u8> = [vec![0x6a, 0x20], vec![0xab; 32]].concat();
        assert_eq!(
            input,
            ("approve".to_owned(), script.clone(), 5u128).encode()
        );
        assert_eq!(
            decode_return("Account", &script.encode(), Network::Dev).unwrap(),
            json!(format!("contract:{address}"))
        );
        let short = encode_call(&method, &["contract:abcd".into(), "5".into()], Network::Dev);
        assert!(short.is_err());
    }
}
