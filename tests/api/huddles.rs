//! Huddles (Slack's calls) held in an incident channel: one timeline entry as each starts and
//! one when it has ended, saying when it ran, who started it and who joined, whether Slack
//! tells of it by event (more than once) or hereby reads it from the channel's history after
//! missing it; a huddle whose message Slack takes away has ended then; a draft made while one
//! goes on says a call is under way.

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

/// How many timeline entries of `kind` the first incident has.
async fn entries_of(app: &TestApp, kind: &str) -> usize {
    let store = app.store().await;
    let mut conn = store.conn().await.unwrap();
    let kinds =
        hereby::store::incidents::timeline_kinds(&mut conn, &hereby::domain::TeamId::new(TEAM), 1)
            .await
            .unwrap();
    kinds.iter().filter(|k| *k == kind).count()
}

async fn huddle_entries(app: &TestApp) -> usize {
    entries_of(app, "huddle").await
}

/// Resolves the incident of channel `c` and returns the draft it shares.
async fn resolved_draft(app: &TestApp, c: &str) -> String {
    app.command(c, "W111", "resolve").await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    app.slack.shared_files().remove(0).content
}

const NO_END_YET: &str = "started by disp-w222, with no end recorded yet";

#[tokio::test]
async fn a_huddle_in_the_incident_channel_is_in_the_draft_with_when_it_ran_and_who_joined() {
    let app = spawn_app().await;
    let c = app.declared("huddle up").await;
    let start = now_secs() + 5;
    let span = (start, start + 33 * 60);
    let at = ts(20);
    // Running: Slack changes the message as people join; its start is noted.
    let running = huddle_changed(&c, huddle_thread(&c, &at, "R0HUDDLE1", span, false));
    deliver(&app, "EvHuddle1", running).await;
    // Ended, told twice.
    for id in ["EvHuddle2", "EvHuddle3"] {
        let ended = huddle_changed(&c, huddle_thread(&c, &at, "R0HUDDLE1", span, true));
        deliver(&app, id, ended).await;
    }
    app.wait_processed().await;
    assert_eq!(huddle_entries(&app).await, 1, "one entry for one huddle");
    assert_eq!(entries_of(&app, "huddle_started").await, 1);

    let md = resolved_draft(&app, &c).await;
    assert!(
        md.contains("Huddle in the channel, started by disp-w222 with disp-w222, disp-w333, until")
            && md.contains("(33 min)"),
        "{md}"
    );
    assert!(md.contains("disp-w333"), "who joined took part: {md}");
    assert!(
        !md.contains(NO_END_YET),
        "its start is told by its end: {md}"
    );
}

#[tokio::test]
async fn a_draft_made_while_a_huddle_goes_on_says_a_call_is_under_way_and_its_end_comes_later() {
    let app = spawn_app().await;
    let c = app.declared("call still going").await;
    let start = now_secs() + 5;
    let span = (start, start + 40 * 60);
    let at = ts(20);
    // Slack posts the huddle's message as it starts, then changes it as people join.
    let mut posted = huddle_thread(&c, &at, "R0HUDDLE3", span, false);
    posted["event_ts"] = json!(at);
    posted["channel_type"] = json!("channel");
    deliver(&app, "EvHuddleStart", posted).await;
    let joined = huddle_changed(&c, huddle_thread(&c, &at, "R0HUDDLE3", span, false));
    deliver(&app, "EvHuddleJoin", joined).await;
    app.wait_processed().await;
    assert_eq!(entries_of(&app, "huddle_started").await, 1, "noted once");
    assert_eq!(huddle_entries(&app).await, 0, "not ended yet");

    // Resolved on the call, as teams do.
    let first = resolved_draft(&app, &c).await;
    assert!(first.contains(NO_END_YET), "{first}");
    assert!(
        first.contains("disp-w333"),
        "who joined so far took part: {first}"
    );

    // The call ends after the draft; the record has it, and the next version tells it whole.
    let ended = huddle_changed(&c, huddle_thread(&c, &at, "R0HUDDLE3", span, true));
    deliver(&app, "EvHuddleEnd", ended).await;
    app.wait_processed().await;
    assert_eq!(huddle_entries(&app).await, 1);
    app.command(&c, "W111", "reopen").await;
    app.command(&c, "W111", "resolve").await;
    app.eventually("the second version is shared", |s| {
        s.shared_files().len() == 2
    })
    .await;
    let second = app.slack.shared_files().remove(1).content;
    assert!(second.contains("(40 min)"), "{second}");
    assert!(!second.contains(NO_END_YET), "{second}");
}

#[tokio::test]
async fn a_huddle_going_on_that_hereby_missed_is_found_in_the_history_at_resolution() {
    let app = spawn_app().await;
    let c = app.declared("missed the start").await;
    let start = now_secs() + 5;
    let at = ts_now();
    let message = huddle_thread(&c, &at, "R0HUDDLE4", (start, start + 60), false);
    app.slack.add_slack_message(&c, &at, message);
    let md = resolved_draft(&app, &c).await;
    assert!(md.contains(NO_END_YET), "{md}");
    assert_eq!(entries_of(&app, "huddle_started").await, 1);
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

#[tokio::test]
async fn a_huddle_whose_message_slack_takes_away_has_ended_at_that_moment() {
    let app = spawn_app().await;
    let c = app.declared("short call").await;
    let start = now_secs() + 5;
    let at = ts(20);
    let running = huddle_thread(&c, &at, "R0HUDDLE5", (start, start), false);
    deliver(&app, "EvShortStart", huddle_changed(&c, running.clone())).await;
    // Everyone left and nobody replied in its thread: Slack deletes the huddle's message.
    let gone = format!("{}.000300", start + 9 * 60);
    let deleted = json!({"type": "message", "subtype": "message_deleted", "hidden": true,
        "channel": c, "channel_type": "channel", "ts": gone, "event_ts": gone,
        "deleted_ts": at, "previous_message": running});
    deliver(&app, "EvShortGone", deleted).await;
    app.wait_processed().await;
    assert_eq!(huddle_entries(&app).await, 1);

    let md = resolved_draft(&app, &c).await;
    assert!(md.contains("(9 min)"), "{md}");
    assert!(!md.contains(NO_END_YET), "{md}");
}
