//! Huddles (Slack's calls) held in an incident channel: one timeline entry each, saying when
//! it ran, who started it and who joined, whether Slack tells of its end by event (more than
//! once) or hereby reads it from the channel's history after missing it.

use serde_json::{json, Value};

use crate::helpers::*;

/// Slack's `huddle_thread` message for room `room` in `channel`: the fields hereby reads, in
/// the shape Slack posts them (its text is empty; `room` changes as the huddle goes on).
fn huddle_thread(channel: &str, ts: &str, room: &str, span: (i64, i64), ended: bool) -> Value {
    json!({"type": "message", "subtype": "huddle_thread", "user": "USLACKBOT", "text": "",
        "ts": ts, "channel": channel, "team": TEAM, "no_notifications": true,
        "room": {"id": room, "call_family": "huddle", "created_by": "W222", "channels": [channel],
            "date_start": span.0, "date_end": if ended { span.1 } else { 0 }, "has_ended": ended,
            "participants": if ended { json!([]) } else { json!(["W222", "W333"]) },
            "participant_history": ["W222", "W333"], "is_dm_call": false,
            "thread_root_ts": ts}})
}

/// The `message_changed` event Slack sends as the huddle's message changes.
fn huddle_changed(channel: &str, message: Value) -> Value {
    json!({"type": "message", "subtype": "message_changed", "hidden": true, "channel": channel,
        "channel_type": "channel", "message": message, "event_ts": ts_now(), "ts": ts_now()})
}

async fn huddle_entries(app: &TestApp) -> usize {
    let store = app.store().await;
    let mut conn = store.conn().await.unwrap();
    let kinds =
        hereby::store::incidents::timeline_kinds(&mut conn, &hereby::domain::TeamId::new(TEAM), 1)
            .await
            .unwrap();
    kinds.iter().filter(|k| *k == "huddle").count()
}

#[tokio::test]
async fn a_huddle_in_the_incident_channel_is_in_the_draft_with_when_it_ran_and_who_joined() {
    let app = spawn_app().await;
    let c = app.declared("huddle up").await;
    let start = now_secs() + 5;
    let span = (start, start + 33 * 60);
    let at = ts(20);
    // Running: Slack changes the message as people join; nothing is recorded yet.
    let running = huddle_changed(&c, huddle_thread(&c, &at, "R0HUDDLE1", span, false));
    deliver(&app, "EvHuddle1", running).await;
    // Ended, told twice.
    for id in ["EvHuddle2", "EvHuddle3"] {
        let ended = huddle_changed(&c, huddle_thread(&c, &at, "R0HUDDLE1", span, true));
        deliver(&app, id, ended).await;
    }
    app.wait_processed().await;
    assert_eq!(huddle_entries(&app).await, 1, "one entry for one huddle");

    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    let md = app.slack.shared_files().remove(0).content;
    assert!(
        md.contains("Huddle in the channel, started by disp-w222 with disp-w222, disp-w333, until")
            && md.contains("(33 min)"),
        "{md}"
    );
    assert!(md.contains("disp-w333"), "who joined took part: {md}");
}

#[tokio::test]
async fn a_huddle_hereby_missed_is_read_from_the_channels_history() {
    let app = spawn_app().await;
    let c = app.declared("missed huddle").await;
    let start = now_secs() + 5;
    // Posted after the channel opened, as Slack's message about a huddle in it is.
    let at = ts_now();
    let message = huddle_thread(&c, &at, "R0HUDDLE2", (start, start + 12 * 60), true);
    app.slack.add_slack_message(&c, &at, message);
    // Catching up (as at resolution) finds it in the history; catching up again does not
    // add it twice.
    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    app.command(&c, "W111", "reopen").await;
    app.command(&c, "W111", "resolve").await;
    app.settle().await;
    assert_eq!(huddle_entries(&app).await, 1);
    let md = app.slack.shared_files().remove(0).content;
    assert!(md.contains("(12 min)"), "{md}");
}
