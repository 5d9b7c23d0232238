//! A JSON-RPC client for the node's API that signs every request with a fresh JWT when it has
//! the secret: the CLI, the tests and the load tools use it (feature `client`).

use std::time::Duration;

use crate::JwtSecret;
use crate::auth::{Bearer, BearerLayer};
use jsonrpsee::http_client::{HttpBackend, HttpClient, HttpClientBuilder, RpcLogger, RpcService};

/// The client type.
pub type RpcClient = HttpClient<RpcLogger<RpcService<Bearer<HttpBackend>>>>;

/// The largest answer a client accepts.
pub const MAX_RESPONSE_BYTES: u32 = 256 * 1024 * 1024;

/// A client of `url`, signing with `secret` if given.
///
/// # Errors
/// A malformed URL.
pub fn connect(
    url: &str,
    secret: Option<JwtSecret>,
    timeout: Option<Duration>,
) -> Result<RpcClient, jsonrpsee::core::client::Error> {
    // The node bounds its answers (`rpc.max_response_bytes`, 10 MiB by default but raised by
    // operators who serve whole large blocks); the client takes what such a node sends.
    let mut builder = HttpClientBuilder::default().max_response_size(MAX_RESPONSE_BYTES);
    if let Some(t) = timeout {
        builder = builder.request_timeout(t);
    }
    builder
        .set_http_middleware(tower::ServiceBuilder::new().layer(BearerLayer::new(secret)))
        .build(url)
}

/// Why a typed call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The node answered with a JSON-RPC error.
    #[error("{message} (code {code})")]
    Rpc {
        /// The error code (see [`crate::ErrorCode`]).
        code: i32,
        /// The node's message.
        message: String,
    },
    /// The call did not get an answer (connection, timeout, an undecodable reply).
    #[error("{method}: {source}")]
    Transport {
        /// The method called.
        method: &'static str,
        /// What went wrong.
        source: jsonrpsee::core::client::Error,
    },
    /// The parameters could not be encoded.
    #[error("{method}: cannot encode parameters: {source}")]
    Params {
        /// The method called.
        method: &'static str,
        /// The encoder's complaint.
        source: serde_json::Error,
    },
}

/// Calls method `M` with its typed parameters and decodes its typed result: the client side of
/// the method's one definition ([`crate::rpc_api!`]).
///
/// # Errors
/// [`CallError`]: the node's refusal with its code, or a transport failure.
pub async fn call<M>(client: &RpcClient, params: M::Params) -> Result<M::Result, CallError>
where
    M: crate::Method,
    M::Result: serde::de::DeserializeOwned,
{
    use jsonrpsee::core::client::ClientT;

    let method = M::SPEC.name;
    let mut array = jsonrpsee::core::params::ArrayParams::new();
    match serde_json::to_value(&params).map_err(|source| CallError::Params { method, source })? {
        serde_json::Value::Array(values) => {
            for v in values {
                array
                    .insert(v)
                    .map_err(|source| CallError::Params { method, source })?;
            }
        }
        serde_json::Value::Null => {}
        single => array
            .insert(single)
            .map_err(|source| CallError::Params { method, source })?,
    }
    client
        .request::<M::Result, _>(method, array)
        .await
        .map_err(|e| match e {
            jsonrpsee::core::client::Error::Call(obj) => CallError::Rpc {
                code: obj.code(),
                message: obj.message().to_owned(),
            },
            source => CallError::Transport { method, source },
        })
}
