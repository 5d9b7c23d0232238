//! `GET /`: the web app — dashboard and explorer over this node's JSON-RPC API — built from
//! `clients/web` into `clients/web/dist` and embedded in the binary, so a node serves it with
//! nothing fetched from elsewhere (no CDN, no external fonts). The test suite rebuilds the app
//! and fails if the committed `dist/` is not exactly that build (`cli/tests/it/webapp.rs`).

use http::{HeaderValue, StatusCode, header};
use jsonrpsee::server::{HttpBody, HttpResponse};

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../../clients/web/dist/index.html"),
    },
    Asset {
        path: "/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../clients/web/dist/app.js"),
    },
    Asset {
        path: "/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../clients/web/dist/app.css"),
    },
];

/// The app's own code only; calls may go to any node the user points it at (and the page's
/// WebSocket), images only from itself or `data:` URLs (QR codes).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; connect-src 'self' http: https: ws: wss:; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The web app's file at `path` (`/`, `/index.html`, `/app.js`, `/app.css`), if it is one.
pub(crate) fn serve(path: &str) -> Option<HttpResponse> {
    let path = if path == "/index.html" { "/" } else { path };
    let asset = ASSETS.iter().find(|a| a.path == path)?;
    let mut response = http::Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, asset.content_type)
        // Served again after an upgrade of the node, never a stale copy.
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(HttpBody::new(http_body_util::Full::from(asset.body)))
        .expect("static headers are valid");
    if asset.path == "/" {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_its_script_and_style_from_this_node_only() {
        let page = std::str::from_utf8(ASSETS[0].body).unwrap();
        assert!(page.contains(r#"<script type="module" src="app.js"></script>"#));
        assert!(page.contains(r#"<link rel="stylesheet" href="app.css">"#));
        assert!(!page.contains("http://") && !page.contains("https://"));
        for path in ["/", "/index.html", "/app.js", "/app.css"] {
            let r = serve(path).unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
        }
        assert!(serve("/app.js.map").is_none() && serve("/other").is_none());
        let csp = serve("/").unwrap();
        assert!(
            csp.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .starts_with("default-src 'self'")
        );
    }
}
