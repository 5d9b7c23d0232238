//! A JSON-RPC client for the node's API that signs every request with a fresh JWT when it has
//! the secret: the CLI, the tests and the load tools use it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use i8o8i_rpc::auth::{Bearer, BearerLayer};
use i8o8i_rpc::{JwtSecret, auth::SecretError};
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

/// The JWT secret of a node whose data directory is `data_dir`.
///
/// # Errors
/// The file is missing or malformed.
pub fn secret_in(data_dir: &Path) -> Result<JwtSecret, SecretError> {
    JwtSecret::read(&data_dir.join(crate::launch::JWT_FILE))
}

/// Where a chain's node keeps its secret by default (`$HOME/.i8o8icoin/<chain>/jwt.hex`).
pub fn default_secret_path(chain: &str) -> PathBuf {
    crate::launch::default_data_dir(chain).join(crate::launch::JWT_FILE)
}
