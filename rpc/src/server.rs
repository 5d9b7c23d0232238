//! The server: one port for HTTP and WebSocket. Our own accept loop knows each connection's
//! address, which the per-IP rate limit needs (jsonrpsee's built-in server does not expose
//! it); in front of jsonrpsee sit, in order: the per-IP limit (429), bearer-token checking
//! (401, also at the WebSocket handshake), CORS, and the plain-HTTP routes (`/metrics`,
//! `/openrpc.json`, `/apidocs`, `/health`, the REST aliases). Inside jsonrpsee, `CallGuard`
//! sees every call, including each element of a batch and each WebSocket message: it applies
//! the per-connection call limit and the access level of the method, and records metrics.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use i8o8i_config::RpcConfig;
use jsonrpsee::core::middleware::{Batch, BatchEntry, Notification, RpcServiceT};
use jsonrpsee::server::middleware::rpc::RpcServiceBuilder;
use jsonrpsee::server::{
    BatchRequestConfig, HttpBody, HttpRequest, HttpResponse, ServerConfig, ServerHandle,
    serve_with_graceful_shutdown, stop_channel,
};
use jsonrpsee::types::Request;
use jsonrpsee::{BatchResponseBuilder, Extensions, MethodResponse};
use tokio::sync::Semaphore;
use tower::Service;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::JwtSecret;
use crate::error::{ErrorCode, RpcError, rpc_error};
use crate::methods::{Access, MethodTable};
use crate::metrics::{MetricsSource, RpcMetrics};
use crate::registry::RpcApi;
use crate::reply::{error_body, response};
use crate::rest;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Kernel send buffer of an RPC connection. Linux would otherwise grow it to megabytes for a
/// client that stops reading; fixed, the bound on what a slow subscriber can hold up is this
/// plus `rpc.subscription_buffer` messages, and its drop comes that much sooner.
const SOCKET_SEND_BUFFER: usize = 256 * 1024;

/// What the server needs besides the API and the configuration.
#[derive(Default)]
pub struct ServerOptions {
    /// The JWT secret; `None` when `rpc.auth.enabled` is false.
    pub secret: Option<JwtSecret>,
    /// More metric families for `/metrics` (the node's).
    pub metrics_sources: Vec<Arc<dyn MetricsSource>>,
}

/// A request that carried a valid bearer token (or came while auth is off).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Authenticated;

/// Whether a call came over plain HTTP (no subscriptions there) or a WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// An HTTP request.
    Http,
    /// A message on a WebSocket connection.
    WebSocket,
}

/// The remote address of the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct RemoteAddr(pub SocketAddr);

struct Shared {
    config: RpcConfig,
    secret: Option<JwtSecret>,
    document: Arc<str>,
    apidocs: String,
    metrics: Arc<RpcMetrics>,
    table: Arc<MethodTable>,
    sources: Vec<Arc<dyn MetricsSource>>,
    ip_limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

/// A running server.
#[derive(Debug)]
pub struct RpcServer {
    handle: ServerHandle,
    addr: SocketAddr,
}

fn quota(per_second: u32, burst: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(per_second)?;
    Some(Quota::per_second(rate).allow_burst(NonZeroU32::new(burst).unwrap_or(rate)))
}

impl RpcServer {
    /// Binds `config.addr` (port 0 picks a free port) and serves `api` over HTTP and
    /// WebSocket with the configured limits.
    ///
    /// # Errors
    /// The I/O error if the address cannot be bound.
    pub async fn start<Ctx: Send + Sync + 'static>(
        config: &RpcConfig,
        api: RpcApi<Ctx>,
        options: ServerOptions,
    ) -> std::io::Result<RpcServer> {
        let cors = cors_layer(&config.cors_origins)?;
        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        if options.secret.is_none() && !addr.ip().is_loopback() {
            tracing::warn!(%addr, "RPC authentication is OFF on a non-loopback address: anyone who reaches it can spend from the node's wallets");
        }
        let server_config = ServerConfig::builder()
            .max_request_body_size(config.max_request_bytes)
            .max_response_body_size(config.max_response_bytes)
            .max_connections(config.max_connections)
            .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
            .set_message_buffer_capacity(config.subscription_buffer.max(1))
            .set_batch_request_config(BatchRequestConfig::Limit(config.max_batch_len))
            .build();
        let shared = Arc::new(Shared {
            apidocs: crate::apidocs::render(&api.document),
            config: config.clone(),
            secret: options.secret,
            document: api.document,
            metrics: api.metrics.clone(),
            table: api.table.clone(),
            sources: options.metrics_sources,
            ip_limiter: quota(
                config.rate_limit.per_ip_per_second,
                config.rate_limit.per_ip_burst,
            )
            .map(RateLimiter::keyed),
        });
        let methods: jsonrpsee::Methods = api.module.into();
        let (stop_handle, handle) = stop_channel();
        let builder = jsonrpsee::server::Server::builder()
            .set_config(server_config)
            .to_service_builder();
        let connections = Arc::new(Semaphore::new(config.max_connections as usize));
        let call_quota = quota(
            config.rate_limit.per_connection_calls_per_second,
            config.rate_limit.per_connection_burst,
        );
        let max_response = config.max_response_bytes as usize;
        let stop = stop_handle.clone();
        tokio::spawn(async move {
            let mut sweep = tokio::time::interval(Duration::from_secs(60));
            loop {
                let (socket, remote) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::debug!(error = %e, "RPC accept failed");
                            continue;
                        }
                    },
                    _ = sweep.tick() => {
                        if let Some(l) = &shared.ip_limiter {
                            l.retain_recent();
                        }
                        continue;
                    }
                    _ = stop.clone().shutdown() => break,
                };
                if let Err(e) =
                    socket2::SockRef::from(&socket).set_send_buffer_size(SOCKET_SEND_BUFFER)
                {
                    tracing::debug!(error = %e, "cannot size an RPC socket's send buffer");
                }
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    shared.metrics.connections_rejected.inc();
                    drop(socket);
                    continue;
                };
                let guard = CallGuardShared {
                    metrics: shared.metrics.clone(),
                    table: shared.table.clone(),
                    auth_required: shared.secret.is_some(),
                    limiter: call_quota.map(|q| Arc::new(RateLimiter::direct(q))),
                    max_response,
                };
                let rpc = builder
                    .clone()
                    .set_rpc_middleware(RpcServiceBuilder::new().layer_fn(move |inner| CallGuard {
                        inner,
                        shared: guard.clone(),
                    }))
                    .build(methods.clone(), stop.clone());
                let front = tower::ServiceBuilder::new()
                    .option_layer(cors.clone())
                    .service(Front {
                        shared: shared.clone(),
                        rpc,
                        remote,
                    });
                let stopped = stop.clone().shutdown();
                let metrics = shared.metrics.clone();
                tokio::spawn(async move {
                    metrics.connections_open.inc();
                    if let Err(e) = serve_with_graceful_shutdown(socket, front, stopped).await {
                        tracing::debug!(error = %e, %remote, "RPC connection ended");
                    }
                    metrics.connections_open.dec();
                    drop(permit);
                });
            }
        });
        tracing::info!(%addr, "JSON-RPC server listening (HTTP and WebSocket)");
        Ok(RpcServer { handle, addr })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(self) {
        let _ = self.handle.stop();
        self.handle.stopped().await;
    }
}

/// The CORS layer for `rpc.cors_origins`; `None` when it is empty.
///
/// # Errors
/// An entry that is neither `*` nor an `http://` / `https://` origin usable as a header value.
fn cors_layer(origins: &[String]) -> std::io::Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let mut values = Vec::with_capacity(origins.len());
        for o in origins {
            let value = HeaderValue::from_str(o)
                .ok()
                .filter(|_| o.starts_with("http://") || o.starts_with("https://"))
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!(
                            "rpc.cors_origins: {o:?} is not an origin (\"*\" or scheme://host[:port])"
                        ),
                    )
                })?;
            values.push(value);
        }
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
            .max_age(Duration::from_secs(3600)),
    ))
}

/// The per-connection HTTP front: rate limit, auth, plain routes, then jsonrpsee.
#[derive(Clone)]
struct Front<S> {
    shared: Arc<Shared>,
    rpc: S,
    remote: SocketAddr,
}

/// A JSON-RPC error object with `id: null`, as the body of a refused HTTP request.
impl<S> Service<HttpRequest<Incoming>> for Front<S>
where
    S: Service<HttpRequest<HttpBody>, Response = HttpResponse, Error = BoxError>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpResponse, BoxError>> + Send>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: HttpRequest<Incoming>) -> Self::Future {
        let shared = self.shared.clone();
        let mut rpc = self.rpc.clone();
        let remote = self.remote;
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            if let Some(limiter) = &shared.ip_limiter
                && let Err(not_until) = limiter.check_key(&remote.ip())
            {
                shared.metrics.http_rate_limited.inc();
                let wait = not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ));
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let mut rp = response(
                    StatusCode::TOO_MANY_REQUESTS,
                    "application/json",
                    error_body(
                        ErrorCode::RateLimited.code(),
                        "rate limited: too many requests from this address",
                    ),
                );
                rp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
                return Ok(rp);
            }
            parts.extensions.insert(RemoteAddr(remote));
            let upgrade = parts
                .headers
                .get(header::UPGRADE)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
            parts.extensions.insert(if upgrade {
                Transport::WebSocket
            } else {
                Transport::Http
            });
            match &shared.secret {
                None => {
                    if let Some(host) = foreign_host(&parts.headers, &shared.config.allowed_hosts) {
                        return Ok(response(
                            StatusCode::FORBIDDEN,
                            "application/json",
                            error_body(
                                -32600,
                                &format!(
                                    "host {host:?} is not allowed: with auth disabled, requests \
                                     must name an IP address, localhost or one of \
                                     rpc.allowed_hosts"
                                ),
                            ),
                        ));
                    }
                    parts.extensions.insert(Authenticated);
                }
                Some(secret) => {
                    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
                        if let Err(e) = secret.check_header(value.as_bytes()) {
                            let mut rp = response(
                                StatusCode::UNAUTHORIZED,
                                "application/json",
                                error_body(ErrorCode::Unauthorized.code(), &e.to_string()),
                            );
                            rp.headers_mut().insert(
                                header::WWW_AUTHENTICATE,
                                HeaderValue::from_static("Bearer"),
                            );
                            return Ok(rp);
                        }
                        parts.extensions.insert(Authenticated);
                    }
                }
            }
            // A WebSocket handshake (a GET with `Upgrade: websocket`) goes to the JSON-RPC
            // server whatever its path, as before.
            let upgrade = parts
                .headers
                .get(header::UPGRADE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
            // JSON-RPC posts to `/` skip the route table.
            if !upgrade && (parts.method != Method::POST || parts.uri.path() != "/") {
                let path = parts.uri.path().to_owned();
                match (&parts.method, path.as_str()) {
                    (&Method::GET | &Method::HEAD, path)
                        if let Some(app) = crate::webapp::serve(path) =>
                    {
                        return Ok(app);
                    }
                    (&Method::GET, "/metrics") => {
                        let text = shared.metrics.render(&shared.sources);
                        let accept = parts
                            .headers
                            .get(header::ACCEPT)
                            .and_then(|v| v.to_str().ok());
                        return Ok(if crate::metrics::wants_openmetrics(accept) {
                            response(StatusCode::OK, crate::metrics::CONTENT_TYPE, text)
                        } else {
                            response(
                                StatusCode::OK,
                                crate::metrics::CONTENT_TYPE_TEXT,
                                crate::metrics::to_classic(&text),
                            )
                        });
                    }
                    (&Method::GET, "/openrpc.json") => {
                        return Ok(response(
                            StatusCode::OK,
                            "application/json",
                            shared.document.to_string(),
                        ));
                    }
                    (&Method::GET, "/apidocs" | "/apidocs/") => {
                        return Ok(response(
                            StatusCode::OK,
                            "text/html; charset=utf-8",
                            shared.apidocs.clone(),
                        ));
                    }
                    _ => {}
                }
                let target = parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| path.clone(), |p| p.as_str().to_owned());
                if let Some(route) = rest::route(&parts.method, &target) {
                    let limit = shared.config.max_request_bytes as usize;
                    let body = match http_body_util::Limited::new(body, limit).collect().await {
                        Ok(b) => b.to_bytes(),
                        Err(_) => {
                            return Ok(response(
                                StatusCode::PAYLOAD_TOO_LARGE,
                                "application/json",
                                error_body(-32007, "request body too large"),
                            ));
                        }
                    };
                    return Ok(rest::serve(route, parts, &body, &mut rpc).await);
                }
                if matches!(parts.method, Method::GET | Method::HEAD) {
                    return Ok(response(
                        StatusCode::NOT_FOUND,
                        "text/plain; charset=utf-8",
                        format!(
                            "Nothing at {path}. This node's JSON-RPC API is POST / (and WebSocket); \
                             its documentation is at /apidocs.\n"
                        ),
                    ));
                }
            }
            let request = http::Request::from_parts(parts, HttpBody::new(body));
            rpc.call(request).await
        })
    }
}

/// State of one connection's `CallGuard`.
#[derive(Clone)]
struct CallGuardShared {
    metrics: Arc<RpcMetrics>,
    table: Arc<MethodTable>,
    auth_required: bool,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    max_response: usize,
}

/// RPC middleware: per-connection call limit, access control, metrics.
#[derive(Clone)]
struct CallGuard<S> {
    inner: S,
    shared: CallGuardShared,
}

impl<S> CallGuard<S> {
    fn refuse(&self, method: &str, extensions: &Extensions) -> Option<RpcError> {
        if let Some(limiter) = &self.shared.limiter
            && limiter.check().is_err()
        {
            return Some(rpc_error(
                ErrorCode::RateLimited,
                "rate limited: too many calls on this connection",
            ));
        }
        let spec = self.shared.table.find(method);
        if extensions.get::<Transport>() == Some(&Transport::Http)
            && self.shared.table.is_subscription_method(method)
        {
            return Some(rpc_error(
                ErrorCode::InvalidRequest,
                format!("{method} needs a WebSocket connection (ws://host:port)"),
            ));
        }
        let private = spec.is_some_and(|m| m.access == Access::Private);
        if private && self.shared.auth_required && extensions.get::<Authenticated>().is_none() {
            return Some(rpc_error(
                ErrorCode::Unauthorized,
                format!(
                    "unauthorized: {method} is a private method; send Authorization: Bearer <JWT> (`i8o8icoin auth token` prints one)"
                ),
            ));
        }
        None
    }
}

impl<S> RpcServiceT for CallGuard<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Clone
        + Send
        + Sync
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl std::future::Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        async move {
            let started = Instant::now();
            let method = request.method_name().to_owned();
            let rp = match this.refuse(&method, request.extensions()) {
                Some(err) => MethodResponse::error(request.id().into_owned(), err),
                None => this.inner.call(request).await,
            };
            this.shared
                .metrics
                .record_call(&method, rp.as_error_code(), started.elapsed());
            rp
        }
    }

    fn batch<'a>(
        &self,
        batch: Batch<'a>,
    ) -> impl std::future::Future<Output = MethodResponse> + Send + 'a {
        // Re-implements jsonrpsee's batch loop so that `call` (limits, access, metrics) runs
        // for every element.
        let this = self.clone();
        async move {
            let mut out = BatchResponseBuilder::new_with_limit(this.shared.max_response);
            let mut notifications = false;
            for entry in batch {
                let rp = match entry {
                    Ok(BatchEntry::Call(request)) => this.call(request).await,
                    Ok(BatchEntry::Notification(n)) => {
                        notifications = true;
                        this.notification(n).await;
                        continue;
                    }
                    Err(err) => {
                        let (err, id) = err.into_parts();
                        MethodResponse::error(id, err)
                    }
                };
                if let Err(too_big) = out.append(rp) {
                    return too_big;
                }
            }
            if out.is_empty() && notifications {
                MethodResponse::notification()
            } else {
                MethodResponse::from_batch(out.finish())
            }
        }
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl std::future::Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        async move {
            if this.refuse(&n.method, &n.extensions).is_some() {
                return MethodResponse::notification();
            }
            this.inner.notification(n).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins_must_be_origins() {
        assert!(cors_layer(&[]).unwrap().is_none());
        assert!(cors_layer(&["*".into()]).unwrap().is_some());
        assert!(
            cors_layer(&["https://wallet.example:8443".into()])
                .unwrap()
                .is_some()
        );
        for bad in ["wallet.example", "https://a\nb", "ftp://x"] {
            let err = cors_layer(&[bad.to_owned()]).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("rpc.cors_origins"), "{err}");
        }
    }
}

/// The `Host` header's name if it is neither an IP address, `localhost`, nor in `allowed`:
/// with auth disabled, such a request may come from a web page whose domain was rebound to
/// this machine (DNS rebinding). No `Host` header (HTTP/1.0 tools) is allowed.
fn foreign_host(headers: &http::HeaderMap, allowed: &[String]) -> Option<String> {
    let value = headers.get(header::HOST)?.to_str().unwrap_or("?");
    let name = match value.strip_prefix('[') {
        // [IPv6]:port
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => value.rsplit_once(':').map_or(value, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                value
            }
        }),
    };
    let name = name.trim_end_matches('.');
    let ok = name.parse::<std::net::IpAddr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || allowed.iter().any(|a| a.eq_ignore_ascii_case(name));
    (!ok).then(|| value.to_owned())
}

#[cfg(test)]
mod host_tests {
    use super::*;

    fn host(value: &str, allowed: &[&str]) -> Option<String> {
        let mut headers = http::HeaderMap::new();
        headers.insert(header::HOST, value.parse().unwrap());
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        foreign_host(&headers, &allowed)
    }

    #[test]
    fn only_addresses_localhost_and_allowed_names_pass_without_auth() {
        for ok in [
            "127.0.0.1:5000",
            "127.0.0.1",
            "[::1]:5000",
            "localhost:5000",
            "LOCALHOST.",
        ] {
            assert_eq!(host(ok, &[]), None, "{ok}");
        }
        assert_eq!(host("node.example:5000", &["node.example"]), None);
        assert_eq!(
            host("evil.example:5000", &["node.example"]),
            Some("evil.example:5000".into())
        );
        assert_eq!(
            host("127.0.0.1.evil.example", &[]),
            Some("127.0.0.1.evil.example".into())
        );
        assert_eq!(foreign_host(&http::HeaderMap::new(), &[]), None);
    }
}
