//! Slack's Block Kit limits, checked on the JSON hereby builds before Slack ever sees it: a
//! layout Slack would refuse (`invalid_blocks`) is a bug found by a unit test, not by a
//! responder in the middle of an incident.
//!
//! The figures are Slack's documented maxima (Block Kit reference, "Blocks" and "Block
//! elements"): 50 blocks in a message and 100 in a view, 3,000 characters of section text,
//! 150 of a header, 10 fields and 10 context elements, 25 elements in an actions block, 75
//! characters of button text, 255 of an `action_id` or `block_id`, 2,000 of a button's value,
//! 24 of a view's title and buttons.

use serde_json::Value;

/// Where a layout goes: a message and a view (modal, home tab) differ in how many blocks they
/// may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Message,
    View,
}

fn chars(v: Option<&Value>) -> usize {
    v.and_then(Value::as_str).map_or(0, |s| s.chars().count())
}

/// The text of a text object (`{"type": "mrkdwn", "text": …}`) or of a plain string.
fn text_len(v: Option<&Value>) -> usize {
    match v {
        Some(Value::String(s)) => s.chars().count(),
        Some(obj) => chars(obj.get("text")),
        None => 0,
    }
}

struct Check {
    problems: Vec<String>,
}

impl Check {
    fn at_most(&mut self, what: &str, len: usize, max: usize) {
        if len > max {
            self.problems
                .push(format!("{what} is {len} long, Slack allows {max}"));
        }
    }

    fn element(&mut self, at: &str, e: &Value) {
        self.at_most(&format!("{at}: action_id"), chars(e.get("action_id")), 255);
        match e.get("type").and_then(Value::as_str) {
            Some("button") => {
                self.at_most(&format!("{at}: button text"), text_len(e.get("text")), 75);
                self.at_most(&format!("{at}: button value"), chars(e.get("value")), 2000);
                self.at_most(&format!("{at}: button url"), chars(e.get("url")), 3000);
            }
            Some("static_select" | "multi_static_select") => {
                let options = e.get("options").and_then(Value::as_array);
                self.at_most(&format!("{at}: options"), options.map_or(0, Vec::len), 100);
                for (i, o) in options.into_iter().flatten().enumerate() {
                    self.at_most(
                        &format!("{at}: option {i} text"),
                        text_len(o.get("text")),
                        75,
                    );
                    self.at_most(
                        &format!("{at}: option {i} value"),
                        chars(o.get("value")),
                        150,
                    );
                }
            }
            Some("plain_text_input") => {
                self.at_most(
                    &format!("{at}: initial value"),
                    chars(e.get("initial_value")),
                    3000,
                );
                self.at_most(
                    &format!("{at}: placeholder"),
                    text_len(e.get("placeholder")),
                    150,
                );
            }
            _ => {}
        }
    }

    fn block(&mut self, i: usize, b: &Value) {
        let at = format!("block {i}");
        self.at_most(&format!("{at}: block_id"), chars(b.get("block_id")), 255);
        match b.get("type").and_then(Value::as_str) {
            Some("section") => {
                self.at_most(
                    &format!("{at}: section text"),
                    text_len(b.get("text")),
                    3000,
                );
                let fields = b.get("fields").and_then(Value::as_array);
                self.at_most(&format!("{at}: fields"), fields.map_or(0, Vec::len), 10);
                for (f, field) in fields.into_iter().flatten().enumerate() {
                    self.at_most(&format!("{at}: field {f}"), text_len(Some(field)), 2000);
                }
                if let Some(e) = b.get("accessory") {
                    self.element(&format!("{at} accessory"), e);
                }
            }
            Some("header") => {
                self.at_most(&format!("{at}: header text"), text_len(b.get("text")), 150);
            }
            Some("context") => {
                let elements = b.get("elements").and_then(Value::as_array);
                self.at_most(&format!("{at}: elements"), elements.map_or(0, Vec::len), 10);
                for (n, e) in elements.into_iter().flatten().enumerate() {
                    self.at_most(&format!("{at} element {n}"), text_len(Some(e)), 3000);
                }
            }
            Some("actions") => {
                let elements = b.get("elements").and_then(Value::as_array);
                self.at_most(&format!("{at}: elements"), elements.map_or(0, Vec::len), 25);
                for (n, e) in elements.into_iter().flatten().enumerate() {
                    self.element(&format!("{at} element {n}"), e);
                }
            }
            Some("input") => {
                self.at_most(&format!("{at}: label"), text_len(b.get("label")), 2000);
                self.at_most(&format!("{at}: hint"), text_len(b.get("hint")), 2000);
                if let Some(e) = b.get("element") {
                    self.element(&format!("{at} element"), e);
                }
            }
            _ => {}
        }
    }
}

/// What in `blocks` (a Block Kit array) Slack would refuse on `surface`; empty when nothing.
pub fn problems(blocks: &Value, surface: Surface) -> Vec<String> {
    let mut check = Check {
        problems: Vec::new(),
    };
    let Some(blocks) = blocks.as_array() else {
        return vec!["blocks are not an array".into()];
    };
    let max = match surface {
        Surface::Message => 50,
        Surface::View => 100,
    };
    check.at_most("the layout", blocks.len(), max);
    for (i, b) in blocks.iter().enumerate() {
        check.block(i, b);
    }
    check.problems
}

/// What in a view (a modal) Slack would refuse: its blocks, title and buttons.
pub fn view_problems(view: &Value) -> Vec<String> {
    let mut out = problems(view.get("blocks").unwrap_or(&Value::Null), Surface::View);
    for key in ["title", "submit", "close"] {
        let len = text_len(view.get(key));
        if len > 24 {
            out.push(format!("the view's {key} is {len} long, Slack allows 24"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_layout_within_every_limit_has_no_problems() {
        let blocks = json!([
            {"type": "header", "text": {"type": "plain_text", "text": "Incident #1"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "x".repeat(3000)}},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Take Scribe"},
                 "action_id": "take_role", "value": "scribe"}
            ]}
        ]);
        assert_eq!(problems(&blocks, Surface::Message), Vec::<String>::new());
    }

    #[test]
    fn every_limit_slack_enforces_is_named_when_crossed() {
        let mut blocks: Vec<Value> = (0..51).map(|_| json!({"type": "divider"})).collect();
        blocks
            .push(json!({"type": "section", "text": {"type": "mrkdwn", "text": "x".repeat(3001)}}));
        blocks.push(
            json!({"type": "header", "text": {"type": "plain_text", "text": "h".repeat(151)}}),
        );
        blocks.push(json!({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "b".repeat(76)},
             "action_id": "a".repeat(256)}
        ]}));
        let found = problems(&Value::Array(blocks), Surface::Message);
        for expected in [
            "the layout is 54 long, Slack allows 50",
            "block 51: section text is 3001 long",
            "block 52: header text is 151 long",
            "block 53 element 0: button text is 76 long",
            "block 53 element 0: action_id is 256 long",
        ] {
            assert!(
                found.iter().any(|p| p.starts_with(expected)),
                "{expected} not in {found:?}"
            );
        }
        assert!(problems(&json!(Value::Array(Vec::new())), Surface::View).is_empty());
    }

    #[test]
    fn a_view_title_longer_than_slack_allows_is_named() {
        let view = json!({"type": "modal", "title": {"type": "plain_text", "text": "t".repeat(25)}, "blocks": []});
        assert_eq!(
            view_problems(&view),
            vec!["the view's title is 25 long, Slack allows 24".to_string()]
        );
    }
}
