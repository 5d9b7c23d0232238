//! Prometheus metrics of the RPC server, and the `/metrics` exposition that appends the node's
//! own ([`MetricsSource`]). Everything is named `i8o8i_*`, encoded as OpenMetrics text for a
//! client that asks for it (`Accept: application/openmetrics-text`, as Prometheus sends) and
//! as the classic text format (0.0.4) otherwise ([`to_classic`]).

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

/// Content type of the OpenMetrics exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Content type of the classic Prometheus text format the exposition is also served in.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Whether a request's `Accept` header asks for OpenMetrics (as Prometheus's scraper does);
/// anything else — no header, `text/plain`, `*/*` — gets the classic text format.
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',').any(|part| {
            let mut fields = part.split(';').map(str::trim);
            let media = fields.next().unwrap_or_default();
            let refused = fields.any(|f| f.replace(' ', "") == "q=0");
            media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
        })
    })
}

/// The classic text format (version 0.0.4, what `promtool check metrics` and pre-OpenMetrics
/// scrapers read) of an OpenMetrics exposition: counters are named with their `_total`
/// suffix in `# HELP` / `# TYPE`, `_created` samples, `# UNIT` lines, exemplars and `# EOF`
/// go, and OpenMetrics-only types become their classic equivalents.
pub fn to_classic(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut help: Option<(&str, &str)> = None;
    let mut family_type = "";
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            help = Some(rest.split_once(' ').unwrap_or((rest, "")));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "unknown"));
            family_type = kind;
            let (classic_name, classic_type) = match kind {
                "counter" => (format!("{name}_total"), "counter"),
                "info" => (format!("{name}_info"), "gauge"),
                "stateset" => (name.to_owned(), "gauge"),
                "gaugehistogram" => (name.to_owned(), "histogram"),
                "unknown" => (name.to_owned(), "untyped"),
                other => (name.to_owned(), other),
            };
            if let Some((help_name, text)) = help.take()
                && help_name == name
            {
                out.push_str(&format!("# HELP {classic_name} {text}\n"));
            }
            out.push_str(&format!("# TYPE {classic_name} {classic_type}\n"));
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            // `# UNIT`, `# EOF` and any other comment.
            continue;
        }
        // An exemplar follows the value as ` # {labels} value`; ` # ` alone may be inside a
        // quoted label value.
        let sample = line.split(" # {").next().unwrap_or(line);
        let name = sample.split(['{', ' ']).next().unwrap_or_default();
        if name.ends_with("_created")
            && matches!(
                family_type,
                "counter" | "histogram" | "summary" | "gaugehistogram"
            )
        {
            continue;
        }
        out.push_str(sample);
        out.push('\n');
    }
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_is_served_only_when_asked_for() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(wants_openmetrics(Some(prometheus)));
        assert!(wants_openmetrics(Some("Application/OpenMetrics-Text")));
        assert!(!wants_openmetrics(None));
        assert!(!wants_openmetrics(Some("text/plain")));
        assert!(!wants_openmetrics(Some("*/*")));
        assert!(!wants_openmetrics(Some(
            "application/openmetrics-text; q=0, text/plain"
        )));
    }

    #[test]
    fn the_classic_format_names_counters_with_their_suffix_and_drops_openmetrics_only_lines() {
        let open = "\
# HELP i8o8i_calls Calls.
# TYPE i8o8i_calls counter
i8o8i_calls_total{method=\"a # b\"} 3
i8o8i_calls_created{method=\"a\"} 1.7e9
# HELP i8o8i_wait Wait.
# TYPE i8o8i_wait histogram
# UNIT i8o8i_wait seconds
i8o8i_wait_bucket{le=\"+Inf\"} 1 # {trace=\"x\"} 0.5
i8o8i_wait_sum 0.5
i8o8i_wait_count 1
# HELP i8o8i_build Build.
# TYPE i8o8i_build info
i8o8i_build_info{version=\"1\"} 1
# TYPE i8o8i_odd unknown
i8o8i_odd 2
# EOF
";
        assert_eq!(
            to_classic(open),
            "\
# HELP i8o8i_calls_total Calls.
# TYPE i8o8i_calls_total counter
i8o8i_calls_total{method=\"a # b\"} 3
# HELP i8o8i_wait Wait.
# TYPE i8o8i_wait histogram
i8o8i_wait_bucket{le=\"+Inf\"} 1
i8o8i_wait_sum 0.5
i8o8i_wait_count 1
# HELP i8o8i_build_info Build.
# TYPE i8o8i_build_info gauge
i8o8i_build_info{version=\"1\"} 1
# TYPE i8o8i_odd untyped
i8o8i_odd 2
"
        );
    }
}
