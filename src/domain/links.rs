//! URLs in Slack messages: `<url|label>` and `<url>` in mrkdwn, `link` elements of rich_text
//! blocks, and attachment links. Mentions (`<@U…>`, `<#C…>`, `<!here>`) are not links.

use serde_json::Value;

/// A link as it appeared in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    /// What the link was shown as, if not the URL itself.
    pub label: Option<String>,
}

/// Every distinct link in a message, in order of appearance.
pub fn extract(text: &str, blocks: Option<&Value>, attachments: Option<&Value>) -> Vec<Link> {
    let mut out: Vec<Link> = Vec::new();
    let mut push = |url: &str, label: Option<&str>| {
        let url = super::trigger::unescape_mrkdwn(url.trim());
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2000 {
            return;
        }
        let label = label
            .map(|l| super::trigger::unescape_mrkdwn(l.trim()))
            .filter(|l| !l.is_empty() && *l != url);
        match out.iter_mut().find(|l| l.url == url) {
            Some(existing) if existing.label.is_none() => existing.label = label,
            Some(_) => {}
            None => out.push(Link { url, label }),
        }
    };
    for (url, label) in mrkdwn_links(text) {
        push(url, label);
    }
    if let Some(blocks) = blocks {
        walk_rich_text(blocks, &mut |url, label| push(url, label));
    }
    if let Some(Value::Array(attachments)) = attachments {
        for a in attachments {
            for key in ["title_link", "from_url", "original_url"] {
                if let Some(url) = a.get(key).and_then(Value::as_str) {
                    push(url, a.get("title").and_then(Value::as_str));
                }
            }
        }
    }
    out
}

/// `(url, label)` for every `<…>` in mrkdwn text that is a URL.
fn mrkdwn_links(text: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    text.split('<').skip(1).filter_map(|chunk| {
        let inner = &chunk[..chunk.find('>')?];
        let (url, label) = match inner.split_once('|') {
            Some((u, l)) => (u, Some(l)),
            None => (inner, None),
        };
        (url.starts_with("http://") || url.starts_with("https://")).then_some((url, label))
    })
}

fn walk_rich_text(v: &Value, found: &mut dyn FnMut(&str, Option<&str>)) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| walk_rich_text(i, found)),
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("link") {
                if let Some(url) = o.get("url").and_then(Value::as_str) {
                    found(url, o.get("text").and_then(Value::as_str));
                }
            }
            if let Some(elements) = o.get("elements") {
                walk_rich_text(elements, found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn urls(links: &[Link]) -> Vec<(&str, Option<&str>)> {
        links
            .iter()
            .map(|l| (l.url.as_str(), l.label.as_deref()))
            .collect()
    }

    #[test]
    fn mrkdwn_links_with_and_without_labels() {
        let text = "see <https://grafana.example.com/d/abc|the dashboard> and <https://status.example.com>";
        assert_eq!(
            urls(&extract(text, None, None)),
            vec![
                ("https://grafana.example.com/d/abc", Some("the dashboard")),
                ("https://status.example.com", None)
            ]
        );
    }

    #[test]
    fn mentions_and_specials_are_not_links() {
        let text = "<@U123|bob> in <#C456|incidents> <!here> <mailto:a@b.c|mail> <@W1>";
        assert!(extract(text, None, None).is_empty());
    }

    #[test]
    fn rich_text_link_elements_and_attachments_count_once() {
        let blocks = json!([{"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
            {"type": "text", "text": "runbook: "},
            {"type": "link", "url": "https://wiki.example.com/runbook", "text": "runbook"},
            {"type": "link", "url": "https://status.example.com"}
        ]}]}]);
        let attachments =
            json!([{"title": "PR 42", "title_link": "https://git.example.com/pr/42"}]);
        let text = "<https://status.example.com> <https://wiki.example.com/runbook|runbook>";
        assert_eq!(
            urls(&extract(text, Some(&blocks), Some(&attachments))),
            vec![
                ("https://status.example.com", None),
                ("https://wiki.example.com/runbook", Some("runbook")),
                ("https://git.example.com/pr/42", Some("PR 42")),
            ]
        );
    }

    #[test]
    fn escaped_ampersands_in_urls_are_restored() {
        let links = extract("<https://x.example.com/?a=1&amp;b=2|q>", None, None);
        assert_eq!(links[0].url, "https://x.example.com/?a=1&b=2");
    }

    #[test]
    fn unclosed_brackets_are_ignored() {
        assert!(extract("a <https://broken", None, None).is_empty());
    }
}
