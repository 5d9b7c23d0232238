//! Prometheus metrics of the RPC server, and the `/metrics` exposition that appends the node's
//! own ([`MetricsSource`]). Everything is named `i8o8i_*` and encoded as OpenMetrics text.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::methods::MethodTable;

/// Content type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Something that appends its metric families to the exposition.
pub trait MetricsSource: Send + Sync {
    /// Writes its families (no `# EOF`).
    fn encode(&self, out: &mut String) -> std::fmt::Result;
}

/// How a call ended: `ok`, or its JSON-RPC error code.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Outcome {
    /// A result.
    Ok,
    /// An error with this code.
    Error(i32),
}

impl EncodeLabelValue for Outcome {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> std::fmt::Result {
        use std::fmt::Write;
        match self {
            Outcome::Ok => encoder.write_str("ok"),
            Outcome::Error(code) => write!(encoder, "{code}"),
        }
    }
}

/// Labels of a call. Static strings: recording a call allocates nothing.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// Method name (`unknown` for names outside the table, so clients cannot grow the label
    /// set without bound).
    pub method: &'static str,
    /// `ok`, or the JSON-RPC error code.
    pub outcome: Outcome,
}

/// Labels of a method.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabel {
    /// Method name, as in [`CallLabels`].
    pub method: &'static str,
}

/// The RPC server's metrics.
pub struct RpcMetrics {
    table: Arc<MethodTable>,
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    latency: Family<MethodLabel, Histogram>,
    pub(crate) subscriptions_open: Gauge,
    pub(crate) subscriptions_dropped: Counter,
    pub(crate) http_rate_limited: Counter,
    pub(crate) connections_rejected: Counter,
    pub(crate) connections_open: Gauge,
}

impl std::fmt::Debug for RpcMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RpcMetrics")
    }
}

impl RpcMetrics {
    /// The metrics of a server of `table`'s methods (calls of other names count as
    /// `unknown`, so a client cannot grow the label set).
    pub fn new(table: Arc<MethodTable>) -> Self {
        let mut registry = Registry::with_prefix("i8o8i");
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "rpc_calls",
            "JSON-RPC calls by method and outcome",
            calls.clone(),
        );
        let latency = Family::<MethodLabel, Histogram>::new_with_constructor(|| {
            // 20 µs .. ~5 s.
            Histogram::new(exponential_buckets(0.000_02, 2.5, 14))
        });
        registry.register(
            "rpc_call_duration_seconds",
            "Time to answer a JSON-RPC call",
            latency.clone(),
        );
        let subscriptions_open = Gauge::default();
        registry.register(
            "rpc_subscriptions_open",
            "Open WebSocket subscriptions",
            subscriptions_open.clone(),
        );
        let subscriptions_dropped = Counter::default();
        registry.register(
            "rpc_subscriptions_dropped",
            "Subscriptions closed by the node because the subscriber was too slow",
            subscriptions_dropped.clone(),
        );
        let http_rate_limited = Counter::default();
        registry.register(
            "rpc_http_rate_limited",
            "HTTP requests answered 429 by the per-IP limit",
            http_rate_limited.clone(),
        );
        let connections_rejected = Counter::default();
        registry.register(
            "rpc_connections_rejected",
            "TCP connections closed at once because max_connections were open",
            connections_rejected.clone(),
        );
        let connections_open = Gauge::default();
        registry.register(
            "rpc_connections_open",
            "Open TCP connections to the RPC port",
            connections_open.clone(),
        );
        RpcMetrics {
            table,
            registry,
            calls,
            latency,
            subscriptions_open,
            subscriptions_dropped,
            http_rate_limited,
            connections_rejected,
            connections_open,
        }
    }
}

impl RpcMetrics {
    /// Records one answered call.
    pub fn record_call(&self, method: &str, error_code: Option<i32>, elapsed: Duration) {
        let method = self.table.find(method).map_or("unknown", |spec| spec.name);
        let outcome = error_code.map_or(Outcome::Ok, Outcome::Error);
        self.latency
            .get_or_create(&MethodLabel { method })
            .observe(elapsed.as_secs_f64());
        self.calls
            .get_or_create(&CallLabels { method, outcome })
            .inc();
    }

    /// The full exposition: these metrics, then each source's, then `# EOF`.
    pub fn render(&self, sources: &[Arc<dyn MetricsSource>]) -> String {
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let _ = encode_registry(&mut out, &self.registry);
        for s in sources {
            let _ = s.encode(&mut out);
        }
        let _ = encode_eof(&mut out);
        out
    }
}
