//! Plain HTTP answers the front layer and the REST aliases build outside jsonrpsee.

use http::{StatusCode, header};
use jsonrpsee::server::{HttpBody, HttpResponse};
use serde_json::json;

/// A JSON-RPC error object with a null id, for refusals before dispatch.
pub(crate) fn error_body(code: i32, message: &str) -> String {
    json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": null}).to_string()
}

/// A response with `status`, `content_type` and `body`.
pub(crate) fn response(status: StatusCode, content_type: &str, body: String) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(HttpBody::from(body))
        .expect("static headers are valid")
}
