//! `GET /apidocs`: one self-contained HTML page (no CDN, no network access) rendered in the
//! browser from the OpenRPC document embedded in it: methods grouped by namespace, parameters,
//! results, errors, examples, and a form per method that sends the call and shows the reply.

const TEMPLATE: &str = include_str!("apidocs.html");

/// The page for `document` (OpenRPC JSON text).
pub fn render(document: &str) -> String {
    // Inside <script>, only `</` can end the element early; JSON allows `<\/` for it.
    TEMPLATE.replace("__OPENRPC__", &document.replace("</", "<\\/"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_cannot_close_the_script_element() {
        let page = super::render(r#"{"info":"</script><script>alert(1)</script>"}"#);
        assert!(!page.contains("</script><script>alert"));
        assert!(page.contains(r#"<\/script>"#));
    }
}
