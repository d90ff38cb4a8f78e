//! Fuzz target: finding links in Slack messages (`links::extract`) and turning mrkdwn into
//! Markdown (`mrkdwn::to_markdown`).
//!
//! Input: UTF-8. When it parses as JSON, its `text`, `blocks` and `attachments` fields (or the
//! whole value) are fed as a message's parts; otherwise it is the message text.
#![no_main]

use std::collections::HashMap;

use hereby::domain::links::{extract, Link};
use hereby::domain::mrkdwn::to_markdown;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn check(links: &[Link]) {
    for (i, link) in links.iter().enumerate() {
        assert!(
            link.url.starts_with("http://") || link.url.starts_with("https://"),
            "{link:?}"
        );
        assert!(
            link.url.len() <= 2000,
            "a {}-byte URL was kept",
            link.url.len()
        );
        if let Some(label) = &link.label {
            assert!(!label.is_empty() && *label != link.url, "{link:?}");
        }
        assert!(
            links[..i].iter().all(|l| l.url != link.url),
            "{} listed twice",
            link.url
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let names: HashMap<String, String> = [
        ("U1".to_string(), "alice".to_string()),
        ("W2".to_string(), "<bob> & co".to_string()),
    ]
    .into();

    match serde_json::from_str::<Value>(input) {
        Ok(value) => {
            let text = value.get("text").and_then(Value::as_str).unwrap_or("");
            let links = extract(text, value.get("blocks"), value.get("attachments"));
            check(&links);
            check(&extract("", Some(&value), Some(&value)));
            let _ = to_markdown(text, &names);
        }
        Err(_) => {
            check(&extract(input, None, None));
            let _ = to_markdown(input, &names);
        }
    }
});
