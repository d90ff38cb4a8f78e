//! Post-mortem drafts as HTML: CommonMark with tables, through pulldown-cmark, with raw HTML
//! shown as text and links limited to web and mail addresses.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

/// Renders Markdown as safe HTML: whatever HTML the text holds is escaped, never interpreted.
pub fn to_html(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// Renders one line of Markdown (a draft's field: a timeline entry, a fix, a name) as safe
/// inline HTML, without the paragraph around it.
pub fn inline_html(markdown: &str) -> String {
    let html = to_html(markdown);
    let inner = html
        .trim_end()
        .strip_prefix("<p>")
        .and_then(|h| h.strip_suffix("</p>"));
    match inner {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html,
    }
}

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let allowed = ["http://", "https://", "mailto:", "#", "/"]
        .iter()
        .any(|p| lower.starts_with(p));
    if allowed {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drafts_field_becomes_inline_html_with_its_escapes_undone_once() {
        assert_eq!(
            inline_html(
                r"★ **carol**: p95 &gt; 2s &amp; rising, restart \[db\] [graph](https://g.example/d?a=1&b=2)"
            ),
            r#"★ <strong>carol</strong>: p95 &gt; 2s &amp; rising, restart [db] <a href="https://g.example/d?a=1&amp;b=2">graph</a>"#
        );
        assert_eq!(
            inline_html("<script>x</script>"),
            "&lt;script&gt;x&lt;/script&gt;"
        );
    }

    #[test]
    fn headings_lists_and_tables_become_html() {
        let html = to_html("# Summary\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h1>Summary</h1>"));
        assert!(html.contains("<li>one</li>"));
        assert!(html.contains("<table>"));
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = to_html("hello <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n");
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;script&gt;"));
    }

    #[test]
    fn script_links_lead_nowhere() {
        let html = to_html("[click](javascript:alert(1)) and [ok](https://example.com)");
        assert!(!html.contains("javascript:"));
        assert!(html.contains(r#"href="https://example.com""#));
    }
}
