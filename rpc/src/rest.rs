//! The seed prototype's REST routes, kept as thin aliases: each becomes a JSON-RPC call that
//! goes through the same jsonrpsee service, so access rules, limits and metrics are the same.
//! A result is answered 200 with the result as the body; an error gets an HTTP status of its
//! kind and `{"error": {"code", "message"}}`. Bodies must be `application/json` (415
//! otherwise): the content types a page may post cross-site without a CORS preflight are
//! refused.
//!
//! | route | method | parameters |
//! |---|---|---|
//! | `POST /wallet/create` | `wallet_create` | body `{"name", "password"}` |
//! | `GET /wallet/balance/<address>` | `address_getBalance` | the path |
//! | `POST /transaction/send` | `wallet_send` | body `{"name", "password", "toAddress", "amount", "feeRate"?}` |
//! | `GET /blockchain/chain?fromHeight=&count=` | `chain_getBlocks` | query, default 0 and 100 |
//! | `POST /node/register` | `net_addPeer` | body `{"address"}` (a multiaddr) |
//! | `GET /health` | `chain_getInfo` | none; 200 `{"status": "ok", ...}` or 503 |

use http::request::Parts;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use serde_json::{Map, Value, json};
use tower::Service;

use crate::reply::response;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where a route's parameters come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The JSON body, as named parameters.
    Body,
    /// The rest of the path, as the one parameter named here.
    PathTail(&'static str),
    /// `chain_getBlocks`' query string.
    BlockRange,
    /// Nothing.
    None,
}

/// A matched route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    method: &'static str,
    source: Source,
    tail: String,
    query: String,
    health: bool,
}

/// Matches a REST route.
pub(crate) fn route(method: &Method, path_and_query: &str) -> Option<Route> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mk = |m: &'static str, source: Source| Route {
        method: m,
        source,
        tail: String::new(),
        query: query.to_owned(),
        health: false,
    };
    let path = path.trim_end_matches('/');
    Some(match (method, path) {
        (&Method::POST, "/wallet/create") => mk("wallet_create", Source::Body),
        (&Method::POST, "/transaction/send") => mk("wallet_send", Source::Body),
        (&Method::POST, "/node/register") => mk("net_addPeer", Source::Body),
        (&Method::GET, "/blockchain/chain") => mk("chain_getBlocks", Source::BlockRange),
        (&Method::GET, "/health") => Route {
            health: true,
            ..mk("chain_getInfo", Source::None)
        },
        (&Method::GET, p) => {
            let tail = p.strip_prefix("/wallet/balance/")?;
            if tail.is_empty() || tail.contains('/') {
                return None;
            }
            Route {
                tail: tail.to_owned(),
                ..mk("address_getBalance", Source::PathTail("address"))
            }
        }
        _ => return None,
    })
}

fn bad_request(message: &str) -> HttpResponse {
    rest_error(StatusCode::BAD_REQUEST, -32602, message)
}

fn rest_error(status: StatusCode, code: i32, message: &str) -> HttpResponse {
    response(
        status,
        "application/json",
        json!({"error": {"code": code, "message": message}}).to_string(),
    )
}

/// The HTTP status of a JSON-RPC error code.
pub(crate) fn status_of(code: i64) -> StatusCode {
    match code {
        -32700 | -32600 | -32602 | -32030 => StatusCode::BAD_REQUEST,
        -32601 | -32001 | -32020 => StatusCode::NOT_FOUND,
        -32070 => StatusCode::UNAUTHORIZED,
        -32071 => StatusCode::TOO_MANY_REQUESTS,
        -32022 => StatusCode::FORBIDDEN,
        -32021 => StatusCode::CONFLICT,
        -32007 => StatusCode::PAYLOAD_TOO_LARGE,
        -32010 | -32011 | -32012 | -32023 | -32026 | -32040 | -32060 => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        -32050 => StatusCode::SERVICE_UNAVAILABLE,
        -32051 => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn block_range(query: &str) -> Result<Value, String> {
    let (mut from, mut count) = (0u64, 100u64);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let n = v
            .parse::<u64>()
            .map_err(|_| format!("query parameter `{k}` must be a non-negative integer"))?;
        match k {
            "fromHeight" | "from" => from = n,
            "count" => count = n,
            other => return Err(format!("unknown query parameter `{other}`")),
        }
    }
    Ok(json!([from, count]))
}

/// Answers a REST route through the JSON-RPC service `rpc`.
/// Whether the request says its body is JSON (`application/json`, parameters allowed).
fn is_json(parts: &Parts) -> bool {
    parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

fn unsupported_media_type() -> HttpResponse {
    response(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "application/json",
        json!({"error": {"code": -32600, "message": "the body must be sent as application/json"}})
            .to_string(),
    )
}

pub(crate) async fn serve<S>(route: Route, parts: Parts, body: &[u8], rpc: &mut S) -> HttpResponse
where
    S: Service<HttpRequest<HttpBody>, Response = HttpResponse, Error = BoxError>,
{
    let params = match route.source {
        Source::Body => {
            // A web page can POST a form or text/plain to any origin without asking (no CORS
            // preflight): with auth off that would be a cross-site request forgery. JSON must
            // say so, which a page can only do after the CORS preflight this server answers.
            if !is_json(&parts) {
                return unsupported_media_type();
            }
            if body.iter().all(u8::is_ascii_whitespace) {
                Value::Object(Map::new())
            } else {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(map)) => Value::Object(map),
                    Ok(_) => return bad_request("the body must be a JSON object"),
                    Err(e) => return bad_request(&format!("the body is not JSON: {e}")),
                }
            }
        }
        Source::PathTail(name) => json!({ name: route.tail }),
        Source::BlockRange => match block_range(&route.query) {
            Ok(v) => v,
            Err(e) => return bad_request(&e),
        },
        Source::None => json!([]),
    };
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": route.method, "params": params});
    let mut request = http::Request::builder()
        .method(Method::POST)
        .uri("/")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(HttpBody::from(call.to_string()))
        .expect("static request parts are valid");
    *request.extensions_mut() = parts.extensions;
    let answer = match rpc.call(request).await {
        Ok(rp) => rp,
        Err(e) => return rest_error(StatusCode::INTERNAL_SERVER_ERROR, -32603, &e.to_string()),
    };
    let status = answer.status();
    let bytes = match answer.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return rest_error(StatusCode::INTERNAL_SERVER_ERROR, -32603, &e.to_string()),
    };
    let Ok(mut reply) = serde_json::from_slice::<Value>(&bytes) else {
        // Not JSON-RPC (a transport-level refusal): pass it on as it is.
        return response(
            status,
            "text/plain; charset=utf-8",
            String::from_utf8_lossy(&bytes).into_owned(),
        );
    };
    if let Some(err) = reply.get("error") {
        let code = err["code"].as_i64().unwrap_or(-32603);
        let message = err["message"].as_str().unwrap_or("error");
        if route.health {
            return rest_error(StatusCode::SERVICE_UNAVAILABLE, code as i32, message);
        }
        return rest_error(status_of(code), code as i32, message);
    }
    let result = reply["result"].take();
    let body = if route.health {
        json!({
            "status": "ok",
            "chain": result["chain"],
            "height": result["height"],
            "bestHash": result["bestHash"],
        })
    } else {
        result
    };
    response(StatusCode::OK, "application/json", body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_the_seed_paths_only() {
        let r = route(&Method::GET, "/wallet/balance/ti8o1abc").unwrap();
        assert_eq!(
            (r.method, r.tail.as_str()),
            ("address_getBalance", "ti8o1abc")
        );
        assert!(route(&Method::GET, "/wallet/balance/").is_none());
        assert!(route(&Method::GET, "/wallet/balance/a/b").is_none());
        assert_eq!(
            route(&Method::POST, "/wallet/create").unwrap().method,
            "wallet_create"
        );
        assert!(route(&Method::GET, "/wallet/create").is_none());
        let r = route(&Method::GET, "/blockchain/chain?fromHeight=5&count=2").unwrap();
        assert_eq!(block_range(&r.query).unwrap(), json!([5, 2]));
        assert!(block_range("count=-1").is_err());
        assert!(block_range("x=1").is_err());
        assert!(route(&Method::GET, "/health").unwrap().health);
        assert!(route(&Method::POST, "/").is_none());
    }

    #[test]
    fn error_codes_map_to_http_statuses() {
        assert_eq!(status_of(-32070), StatusCode::UNAUTHORIZED);
        assert_eq!(status_of(-32602), StatusCode::BAD_REQUEST);
        assert_eq!(status_of(-32001), StatusCode::NOT_FOUND);
        assert_eq!(status_of(-32023), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(status_of(-32603), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
