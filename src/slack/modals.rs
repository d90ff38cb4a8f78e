//! The "declare an incident" modal: built for `views.open`, read back from `view_submission`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::domain::incident::{Severity, Title};

/// The modal's `callback_id`.
pub const DECLARE_CALLBACK: &str = "declare_incident";

/// Where the modal was opened from, carried in `private_metadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclareContext {
    /// The channel the command or shortcut was used in.
    pub channel: String,
    /// The message a shortcut was used on; the pointer is posted in its thread.
    #[serde(default)]
    pub message_ts: Option<String>,
    #[serde(default)]
    pub thread_ts: Option<String>,
    /// Opened by `declare --private`: the "Private incident" box starts ticked.
    #[serde(default)]
    pub private: bool,
}

/// The declare modal, prefilled with a title and description if given.
pub fn declare_modal(
    ctx: &DeclareContext,
    title: Option<&str>,
    description: Option<&str>,
) -> Value {
    let mut title_input = json!({"type": "plain_text_input", "action_id": "title", "max_length": Title::MAX_CHARS,
        "placeholder": {"type": "plain_text", "text": "Checkout payments failing"}});
    if let Some(t) = title {
        title_input["initial_value"] = json!(t.chars().take(Title::MAX_CHARS).collect::<String>());
    }
    let mut description_input = json!({"type": "plain_text_input", "action_id": "description", "multiline": true, "max_length": 3000});
    if let Some(d) = description {
        description_input["initial_value"] = json!(d.chars().take(3000).collect::<String>());
    }
    let private_option = json!({"text": {"type": "plain_text", "text": "Private incident"},
        "description": {"type": "plain_text", "text": "A private channel, not announced by title"},
        "value": "private"});
    let mut private_box =
        json!({"type": "checkboxes", "action_id": "private", "options": [private_option.clone()]});
    if ctx.private {
        private_box["initial_options"] = json!([private_option]);
    }
    let options: Vec<Value> = Severity::ALL
        .iter()
        .map(|s| json!({"text": {"type": "plain_text", "text": severity_label(*s)}, "value": s.as_str()}))
        .collect();
    json!({
        "type": "modal",
        "callback_id": DECLARE_CALLBACK,
        "private_metadata": serde_json::to_string(ctx).unwrap_or_default(),
        "title": {"type": "plain_text", "text": "Declare an incident"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "Title"}, "element": title_input},
            {"type": "input", "block_id": "severity", "optional": true, "label": {"type": "plain_text", "text": "Severity"},
             "element": {"type": "static_select", "action_id": "severity", "options": options,
                         "placeholder": {"type": "plain_text", "text": "Not sure yet"}}},
            {"type": "input", "block_id": "description", "optional": true, "label": {"type": "plain_text", "text": "What is happening?"}, "element": description_input},
            {"type": "input", "block_id": "private", "optional": true, "label": {"type": "plain_text", "text": "Visibility"},
             "element": private_box},
        ]
    })
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Sev1 => "SEV1 — critical, customers badly affected",
        Severity::Sev2 => "SEV2 — major, many affected",
        Severity::Sev3 => "SEV3 — minor, some affected",
        Severity::Sev4 => "SEV4 — low, little or no impact",
    }
}

/// What someone submitted in the declare modal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclareSubmission {
    pub title: Result<Title, String>,
    pub severity: Option<Severity>,
    pub description: Option<String>,
    /// "Private incident" was ticked.
    pub private: bool,
    pub context: DeclareContext,
}

/// Reads a `view_submission` payload's view.
pub fn read_declare_submission(view: &Value) -> DeclareSubmission {
    let values = &view["state"]["values"];
    let text =
        |block: &str, action: &str| values[block][action]["value"].as_str().map(str::to_string);
    let title = Title::parse(&text("title", "title").unwrap_or_default())
        .map_err(|_| "Give the incident a title: a few words on what is broken.".to_string());
    let severity = values["severity"]["severity"]["selected_option"]["value"]
        .as_str()
        .and_then(Severity::parse);
    let description = text("description", "description")
        .map(|d| super::events::without_nul(&d))
        .filter(|d| !d.trim().is_empty());
    let context = view["private_metadata"]
        .as_str()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default();
    let private = values["private"]["private"]["selected_options"]
        .as_array()
        .is_some_and(|o| o.iter().any(|o| o["value"] == "private"));
    DeclareSubmission {
        title,
        severity,
        description,
        private,
        context,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_reads_back_what_the_modal_asked() {
        let ctx = DeclareContext {
            channel: "C1".into(),
            message_ts: Some("1.2".into()),
            thread_ts: None,
            private: false,
        };
        let mut view = declare_modal(&ctx, Some("db down"), None);
        view["state"] = json!({"values": {
            "title": {"title": {"type": "plain_text_input", "value": "  DB down  "}},
            "severity": {"severity": {"type": "static_select", "selected_option": {"value": "sev2"}}},
            "description": {"description": {"type": "plain_text_input", "value": null}},
        }});
        let s = read_declare_submission(&view);
        assert_eq!(s.title.unwrap().as_str(), "DB down");
        assert_eq!(s.severity, Some(Severity::Sev2));
        assert_eq!(s.description, None);
        assert_eq!(s.context, ctx);
    }

    #[test]
    fn the_declare_form_is_within_slacks_limits_even_for_a_very_long_message() {
        let ctx = DeclareContext {
            channel: "C1".into(),
            message_ts: Some("1.2".into()),
            thread_ts: Some("1.1".into()),
            private: true,
        };
        let long = "é<!here>".repeat(2000);
        let view = declare_modal(&ctx, Some(&long), Some(&long));
        assert_eq!(
            crate::slack::limits::view_problems(&view),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_empty_title_is_an_error_for_the_form() {
        let view = json!({"state": {"values": {"title": {"title": {"value": "  "}}}}, "private_metadata": ""});
        assert!(read_declare_submission(&view).title.is_err());
    }
}
