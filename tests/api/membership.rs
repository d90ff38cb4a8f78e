//! hereby removed from an incident channel, and invited back: the commander hears of it at
//! once, and what was said while hereby was out is read back from the channel's history.

use serde_json::json;
use sqlx::Row;

use crate::fake_slack::BOT_USER;
use crate::helpers::*;

/// The texts recorded for the first incident.
async fn recorded(app: &TestApp) -> Vec<String> {
    let store = app.store().await;
    sqlx::query("SELECT text FROM messages WHERE incident_id = 1 ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .filter_map(|r| r.get::<Option<String>, _>("text"))
        .collect()
}

/// The direct messages `user` got from hereby about its removal.
fn told_removed(app: &TestApp, user: &str) -> Vec<String> {
    app.slack
        .messages_in(user)
        .into_iter()
        .map(|m| m.text)
        .filter(|t| t.contains("hereby was removed from"))
        .collect()
}

#[tokio::test]
async fn removed_from_the_channel_hereby_tells_the_commander_and_once_back_reads_what_it_missed() {
    let app = spawn_app().await;
    let c = app.declared("kicked out").await;
    app.settle().await;

    app.slack.remove_member(&c, BOT_USER);
    let left =
        json!({"type": "channel_left", "channel": c, "actor_id": "W222", "event_ts": ts_now()});
    deliver(&app, "EvLeft", left).await;
    let told = app
        .eventually_some("the commander hears directly", |_| {
            told_removed(&app, "W111").into_iter().next()
        })
        .await;
    assert!(
        told.contains(&format!("<#{c}>")) && told.contains("by <@W222>"),
        "{told}"
    );
    assert!(told.contains("/invite @hereby"), "says what to do: {told}");

    // Slack delivers nothing of a channel hereby is not in.
    app.slack
        .add_user_message(&c, &ts(10), None, "W333", "said while hereby was out");
    app.slack.add_member(&c, BOT_USER);
    // One join, told twice: as a member_joined_channel event and as a channel_join message.
    let at = ts_now();
    let joined = json!({"type": "member_joined_channel", "user": BOT_USER, "channel": c,
        "channel_type": "C", "team": TEAM, "inviter": "W111", "event_ts": at});
    deliver(&app, "EvBack1", joined).await;
    let join_message = json!({"type": "message", "subtype": "channel_join", "user": BOT_USER,
        "channel": c, "text": "<@UHEREBY> has joined the channel", "ts": at, "event_ts": at,
        "channel_type": "channel", "team": TEAM});
    deliver(&app, "EvBack2", join_message).await;
    app.wait_processed().await;
    app.settle().await;
    assert_eq!(recorded(&app).await, ["said while hereby was out"]);
    assert_eq!(
        app.slack.calls_to("conversations.history").len(),
        1,
        "the history is read once for the one join"
    );
    assert_eq!(told_removed(&app, "W111").len(), 1, "told once");
}

#[tokio::test]
async fn removed_from_a_resolved_incidents_channel_hereby_tells_nobody() {
    let app = spawn_app().await;
    let c = app.declared("all done").await;
    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    app.settle().await;
    app.slack.remove_member(&c, BOT_USER);
    let left =
        json!({"type": "channel_left", "channel": c, "actor_id": "W111", "event_ts": ts_now()});
    deliver(&app, "EvLeftAfter", left).await;
    app.wait_processed().await;
    app.settle().await;
    assert!(told_removed(&app, "W111").is_empty());
}
