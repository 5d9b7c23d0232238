//! A JSON-RPC client for the node's API that signs every request with a fresh JWT when it has
//! the secret: the CLI, the tests and the load tools use it (feature `client`).

use std::time::Duration;

use crate::JwtSecret;
use crate::auth::{Bearer, BearerLayer};
use jsonrpsee::http_client::{HttpBackend, HttpClient, HttpClientBuilder, RpcLogger, RpcService};

/// The client type.
pub type RpcClient = HttpClient<RpcLogger<RpcService<Bearer<HttpBackend>>>>;

/// A client of `url`, signing with `secret` if given.
///
/// # Errors
/// A malformed URL.
pub fn connect(
    url: &str,
    secret: Option<JwtSecret>,
    timeout: Option<Duration>,
) -> Result<RpcClient, jsonrpsee::core::client::Error> {
    let mut builder = HttpClientBuilder::default();
    if let Some(t) = timeout {
        builder = builder.request_timeout(t);
    }
    builder
        .set_http_middleware(tower::ServiceBuilder::new().layer(BearerLayer::new(secret)))
        .build(url)
}
