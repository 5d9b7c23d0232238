//! `GET /`: a small page for a person who opens the node's URL in a browser — which node,
//! which chain, how far it is — with links to the API's documentation and document. (The web
//! app will take this place.) Other `GET` paths that serve nothing answer 404.

/// What the page says about the node, from the node (the RPC crate does not see the chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSummary {
    /// Software and version, e.g. `i8o8icoin 0.1.0`.
    pub software: String,
    /// Chain name from the chain spec.
    pub chain: String,
    /// Height of the tip.
    pub height: u64,
    /// Hash of the tip (hex).
    pub best_hash: String,
    /// Connected peers, if the network runs.
    pub peers: Option<usize>,
}

/// Produces the summary when the page is asked for.
pub type SummaryFn = std::sync::Arc<dyn Fn() -> NodeSummary + Send + Sync>;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page (self-contained: no scripts, styles or images from elsewhere).
pub fn render(summary: Option<&NodeSummary>) -> String {
    let facts = match summary {
        Some(s) => {
            let peers = s
                .peers
                .map_or_else(|| "network off".to_owned(), |n| n.to_string());
            format!(
                "<dl><dt>Node</dt><dd>{}</dd><dt>Chain</dt><dd>{}</dd><dt>Height</dt><dd>{}</dd>\
                 <dt>Best block</dt><dd><code>{}</code></dd><dt>Peers</dt><dd>{}</dd></dl>",
                escape(&s.software),
                escape(&s.chain),
                s.height,
                escape(&s.best_hash),
                escape(&peers)
            )
        }
        None => String::new(),
    };
    let title = summary.map_or_else(
        || "I8o8iCoin node".to_owned(),
        |s| format!("I8o8iCoin node · {}", escape(&s.chain)),
    );
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:40rem;\
         margin:3rem auto;padding:0 1rem;line-height:1.5}}dt{{font-weight:600}}\
         dd{{margin:0 0 .5rem}}code{{word-break:break-all}}</style></head><body>\
         <h1>{title}</h1>{facts}<p>This is a node's JSON-RPC endpoint: the API is JSON-RPC 2.0 \
         over <code>POST /</code> and WebSocket on this port.</p><ul>\
         <li><a href=\"/apidocs\">API documentation</a> (every method, with a form to call it)</li>\
         <li><a href=\"/openrpc.json\">OpenRPC document</a></li>\
         <li><a href=\"/metrics\">Prometheus metrics</a></li></ul></body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_the_node_reports() {
        let page = render(Some(&NodeSummary {
            software: "i8o8icoin 0.1.0".into(),
            chain: "<script>alert(1)</script>".into(),
            height: 7,
            best_hash: "ab".repeat(32),
            peers: None,
        }));
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("<dd>7</dd>"));
        assert!(page.contains("network off"));
        assert!(page.contains("href=\"/apidocs\""));
    }
}
