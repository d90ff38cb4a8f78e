//! Hostile people typing into hereby: nothing they write makes hereby ping a channel, show a
//! link that opens somewhere else, or reorder text; what they type stays out of `info` logs;
//! and a slow database does not keep them waiting past Slack's 3 s.

use serde_json::Value;

use crate::fake_slack::FakeSlack;
use crate::helpers::*;
use crate::process::{database_url, until, Hereby};

/// Everything that once went through hereby unchanged.
const HOSTILE: &str = "<!channel> <!here> <!everyone> <!subteam^S123|@oncall> see <https://evil.example/login|https://bank.example/login> \u{202E}gnp.exe\u{200B}";

fn unsafe_parts(text: &str) -> Vec<&'static str> {
    [
        "<!channel",
        "<!here",
        "<!everyone",
        "<!subteam",
        "<https://evil.example/login|",
        "\u{202E}",
        "\u{200B}",
    ]
    .into_iter()
    .filter(|bad| text.contains(bad))
    .collect()
}

/// Every string anywhere in a JSON value that Slack reads as mrkdwn (plain_text objects, such
/// as a header, show `<!channel>` as it is and ping nobody).
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("plain_text") => {}
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn hostile_text_in_every_kind_of_message_reaches_slack_without_pinging_or_disguising_a_link()
{
    let app = spawn_app().await;
    let c = app.declared(&format!("outage {HOSTILE}")).await;
    let mut said: Vec<Value> = Vec::new();
    for command in [
        format!("note {HOSTILE}"),
        format!("docs {HOSTILE}"),
        format!("update {HOSTILE}"),
        format!("tried {HOSTILE} -> failed"),
        format!("action {HOSTILE} <@W111> due 2099-01-01"),
        "tried".to_string(),
        "actions".to_string(),
        "summary".to_string(),
        "roles".to_string(),
        format!("severity {HOSTILE}"),
        format!("role {HOSTILE} me"),
        format!("role comms {HOSTILE}"),
        format!("status {HOSTILE}"),
        format!("frobnicate {HOSTILE}"),
        format!("rename {HOSTILE} again"),
        "resolve".to_string(),
    ] {
        said.push(app.command(&c, "W111", &command).await);
    }
    app.eventually(
        "every note, notice and the resolution reach the channel",
        |s| {
            let texts: Vec<String> = s.messages_in(&c).into_iter().map(|m| m.text).collect();
            [
                "Note from",
                "documentation trouble",
                "resolved the incident",
                "Fix #1",
            ]
            .iter()
            .all(|needle| texts.iter().any(|t| t.contains(needle)))
        },
    )
    .await;
    app.eventually(
        "the topic and the announcement follow the resolution",
        |s| {
            s.channels()
                .iter()
                .any(|ch| ch.id == c && ch.topic.contains("resolved"))
                && s.messages_in("CANNOUNCE")
                    .iter()
                    .any(|m| m.text.contains("resolved"))
        },
    )
    .await;

    let mut everything: Vec<String> = Vec::new();
    for reply in &said {
        strings(reply, &mut everything);
    }
    for call in app.slack.calls() {
        strings(&call.params, &mut everything);
    }
    for ch in app.slack.channels() {
        everything.push(ch.topic);
    }
    let bad: Vec<(&String, Vec<&str>)> = everything
        .iter()
        .map(|t| (t, unsafe_parts(t)))
        .filter(|(_, b)| !b.is_empty())
        .collect();
    assert!(bad.is_empty(), "hereby posted {bad:#?}");
    let notes: Vec<String> = app
        .slack
        .messages_in(&c)
        .into_iter()
        .map(|m| m.text)
        .filter(|t| t.contains("Note from"))
        .collect();
    assert!(
        notes.iter().any(|t| t.contains("@channel")
            && t.contains("<https://evil.example/login>")
            && t.contains("[U+202E]")),
        "the note is shown, defused: {notes:?}"
    );
}

/// The log is read from the real binary's own output: a subscriber set for one test inside
/// the test process shares tracing's global caches with every other test running beside it,
/// and may miss lines.
#[tokio::test]
async fn what_people_type_into_commands_is_logged_at_debug_never_at_info() {
    let dir = tempfile::tempdir().unwrap();
    let slack = FakeSlack::start().await;
    let hereby = Hereby::start(&database_url(&dir).await, &slack).await;
    let client = reqwest::Client::new();
    let phrase = message_event(
        "EvLogging",
        "C111",
        "W111",
        &ts(1),
        "I hereby declare this an incident: logging",
    );
    assert_eq!(hereby.post(&client, &phrase.to_string(), None).await, 200);
    let name = format!("incident-{}-logging", today());
    until(&slack, "the incident channel has its welcome", |s| {
        s.channel_named(&name).is_some_and(|c| !c.pins.is_empty())
    })
    .await;
    let c = slack.channel_named(&name).unwrap().id;
    let secret = "customer jane.doe@example.com card 4111-1111";
    for (channel, text) in [
        (c.as_str(), format!("tried refund for {secret} -> failed")),
        (c.as_str(), format!("frobnicate {secret}")),
        ("C111", format!("declare {secret}")),
    ] {
        let status = hereby
            .command(&client, &slack, channel, "W111", &text)
            .await;
        assert_eq!(status, 200);
    }
    until(
        &slack,
        "the fix is said and the second incident has its channel",
        |s| s.messages_in(&c).iter().any(|m| m.text.contains("Fix #1")) && s.channels().len() == 2,
    )
    .await;
    let (_, logged) = hereby.terminate().await;
    let logged = logged.join("\n");
    assert!(
        logged.contains("Incident declared"),
        "the logs were captured: {logged}"
    );
    for typed in ["refund for", "frobnicate", "declare customer", "jane.doe"] {
        assert!(!logged.contains(typed), "command text at info:\n{logged}");
    }
}

/// `/incident <text>` with a `response_url` that the fake Slack answers.
async fn command_with_response_url(app: &TestApp, channel: &str, text: &str) -> Value {
    let response_url = app.slack.response_url();
    let r = app
        .post_command([
            ("team_id", TEAM),
            ("channel_id", channel),
            ("user_id", "W111"),
            ("command", "/incident"),
            ("text", text),
            ("response_url", response_url.as_str()),
        ])
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_command_gets_a_busy_answer_in_time_while_the_database_is_locked_and_its_real_answer_later(
) {
    if std::env::var("HEREBY_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        println!("skipped: this drill holds SQLite's write lock");
        return;
    }
    let app = spawn_app().await;
    let c = app.declared("slow database").await;
    let store = app.store().await;
    let lock = store.pool().begin_with("BEGIN EXCLUSIVE").await.unwrap();

    let answer = command_with_response_url(&app, &c, "note the database is slow").await;
    assert_eq!(answer["text"], hereby::inbound::dispatch::BUSY, "{answer}");

    lock.rollback().await.unwrap();
    app.eventually("the real answer arrives through the response_url", |s| {
        s.responses().iter().any(|(_, r)| {
            r["text"] == "Noted in the timeline." && r["response_type"] == "ephemeral"
        })
    })
    .await;
    app.eventually("the note is said in the channel once", |s| {
        s.messages_in(&c)
            .iter()
            .filter(|m| m.text.contains("the database is slow"))
            .count()
            == 1
    })
    .await;
}
