//! The record of an incident channel: everything said there, edits and deletions honoured,
//! files, links, highlights, fixes, notes, participants — and nothing from anywhere else.

use serde_json::{json, Value};
use sqlx::Row;

use crate::fake_slack::Failure;
use crate::helpers::*;

/// Rows of (ts, thread_ts, user_id, author_kind, text, deleted) for incident 1, in order.
async fn messages(
    app: &TestApp,
) -> Vec<(
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    bool,
)> {
    let store = app.store().await;
    let rows = sqlx::query("SELECT ts, thread_ts, user_id, author_kind, text, deleted_at FROM messages WHERE incident_id = 1 ORDER BY posted_at, id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.get("ts"),
                r.get("thread_ts"),
                r.get("user_id"),
                r.get("author_kind"),
                r.get("text"),
                r.get::<Option<i64>, _>("deleted_at").is_some(),
            )
        })
        .collect()
}

async fn wait_for_messages(app: &TestApp, n: usize) {
    for _ in 0..200 {
        if messages(app).await.len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "expected {n} recorded messages, have {:?}",
        messages(app).await
    );
}

#[tokio::test]
async fn messages_thread_replies_and_app_messages_are_recorded_but_not_herebys_own() {
    let app = spawn_app().await;
    let c = app.declared("checkout").await;
    let (t1, t2, t3, t4) = (ts(100), ts(200), ts(300), ts(400));
    deliver(&app, "EvM1", say(&c, "W222", &t1, "error rate at 40%")).await;
    let mut reply = say(&c, "W333", &t2, "looking at the db");
    reply["thread_ts"] = json!(t1);
    deliver(&app, "EvM2", reply).await;
    let mut alert: Value =
        serde_json::from_str(include_str!("../fixtures/bot_message_event.json")).unwrap();
    alert["event"]["channel"] = json!(c);
    alert["event"]["ts"] = json!(t3);
    alert["event"]["text"] = json!("[FIRING] checkout 5xx > 5%");
    alert["event_id"] = json!("EvM3");
    assert_eq!(app.post_event(&alert).await.status(), 200);
    let mut own = say(&c, "UHEREBY", &t4, "hereby's notice");
    own["bot_id"] = json!("BHEREBY");
    deliver(&app, "EvM4", own).await;
    app.wait_processed().await;

    let m = messages(&app).await;
    assert_eq!(m.len(), 3, "{m:?}");
    assert_eq!(
        m[0],
        (
            t1.clone(),
            None,
            Some("W222".into()),
            "person".into(),
            Some("error rate at 40%".into()),
            false
        )
    );
    assert_eq!(
        m[1].1.as_deref(),
        Some(t1.as_str()),
        "the reply is linked to its parent"
    );
    assert_eq!(m[2].3, "app", "the alert is kept and marked as from an app");
}

#[tokio::test]
async fn messages_in_other_channels_are_never_stored() {
    let app = spawn_app().await;
    app.declared("elsewhere").await;
    deliver(
        &app,
        "EvOther",
        say(
            "CRANDOM",
            "W222",
            &ts(5),
            "lunch anyone? https://food.example.com",
        ),
    )
    .await;
    app.wait_processed().await;
    assert_eq!(app.count("messages").await, 0);
    assert_eq!(app.count("links").await, 0);
    let store = app.store().await;
    let payload: String = sqlx::query("SELECT payload FROM deliveries WHERE event_id = 'EvOther'")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("payload");
    assert_eq!(payload, "", "the raw delivery is erased once processed");
}

#[tokio::test]
async fn an_edit_keeps_its_history_and_a_deletion_keeps_only_the_fact() {
    let app = spawn_app().await;
    let c = app.declared("edits").await;
    let t = ts(10);
    deliver(&app, "EvE1", say(&c, "W222", &t, "the cache is fine")).await;
    wait_for_messages(&app, 1).await;
    // Shape of Slack's message_changed (java-slack-sdk MessageChangedEventTest).
    let edit = json!({"type": "message", "subtype": "message_changed", "hidden": true, "channel": c,
        "message": {"type": "message", "text": "the cache is NOT fine", "user": "W222", "team": TEAM,
                    "edited": {"user": "W222", "ts": ts(20)}, "ts": t},
        "previous_message": {"type": "message", "text": "the cache is fine", "user": "W222", "ts": t},
        "event_ts": ts(20), "ts": ts(20), "channel_type": "channel"});
    deliver(&app, "EvE2", edit).await;
    app.wait_processed().await;
    assert_eq!(
        messages(&app).await[0].4.as_deref(),
        Some("the cache is NOT fine")
    );
    let store = app.store().await;
    let previous: String = sqlx::query("SELECT previous_text FROM message_edits")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("previous_text");
    assert_eq!(previous, "the cache is fine");

    let deletion = json!({"type": "message", "subtype": "message_deleted", "hidden": true, "deleted_ts": t, "channel": c,
        "previous_message": {"type": "message", "text": "the cache is NOT fine", "user": "W222", "ts": t},
        "event_ts": ts(30), "ts": ts(30), "channel_type": "channel"});
    deliver(&app, "EvE3", deletion).await;
    app.wait_processed().await;
    let m = messages(&app).await;
    assert_eq!((m[0].4.clone(), m[0].5), (None, true), "{m:?}");
    assert_eq!(
        app.count("message_edits").await,
        0,
        "the edit history of a deleted message goes too"
    );
}

#[tokio::test]
async fn deleting_a_thread_parent_arrives_as_a_tombstone_and_is_honoured() {
    let app = spawn_app().await;
    let c = app.declared("tombstones").await;
    let parent = ts(10);
    deliver(&app, "EvP1", say(&c, "W222", &parent, "need help with VPN")).await;
    let mut reply = say(&c, "W333", &ts(11), "on it");
    reply["thread_ts"] = json!(parent);
    deliver(&app, "EvP2", reply).await;
    wait_for_messages(&app, 2).await;
    // Shape of Slack's tombstone (java-slack-sdk MessageChangedEventTest json_3).
    let tombstone = json!({"type": "message", "subtype": "message_changed", "hidden": true, "channel": c,
        "message": {"type": "message", "subtype": "tombstone", "text": "This message was deleted.", "user": "USLACKBOT",
                    "hidden": true, "thread_ts": parent, "reply_count": 1, "ts": parent},
        "previous_message": {"type": "message", "text": "need help with VPN", "user": "W222", "ts": parent, "thread_ts": parent},
        "event_ts": ts(40), "ts": ts(40), "channel_type": "channel"});
    deliver(&app, "EvP3", tombstone).await;
    app.wait_processed().await;
    let m = messages(&app).await;
    assert!(m[0].5 && m[0].4.is_none(), "the parent is deleted: {m:?}");
    assert_eq!(m[1].4.as_deref(), Some("on it"), "its reply stays");
}

#[tokio::test]
async fn a_shared_file_keeps_its_name_type_title_and_link_not_its_bytes() {
    let app = spawn_app().await;
    let c = app.declared("files").await;
    // Shape of Slack's file_share message (bolt-python test_message_file_share).
    let share = json!({"type": "message", "subtype": "file_share", "text": "Hi there!", "user": "W111", "ts": ts(50), "channel": c, "upload": false,
        "files": [{"id": "F111", "created": 1652227642, "name": "grafana.png", "title": "error spike", "mimetype": "image/png", "filetype": "png",
                   "url_private": "https://files.slack.com/files-pri/T111-F111/file.png", "permalink": "https://xxx.slack.com/files/U111/F111/file.png"}],
        "event_ts": ts(50), "channel_type": "channel"});
    deliver(&app, "EvF1", share).await;
    wait_for_messages(&app, 1).await;
    let store = app.store().await;
    let files: String = sqlx::query("SELECT files FROM messages")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("files");
    let files: Value = serde_json::from_str(&files).unwrap();
    assert_eq!(files[0]["name"], "grafana.png");
    assert_eq!(files[0]["title"], "error spike");
    assert_eq!(files[0]["filetype"], "png");
    assert_eq!(
        files[0]["permalink"],
        "https://xxx.slack.com/files/U111/F111/file.png"
    );
    assert!(files[0].get("url_private").is_none());
}

#[tokio::test]
async fn links_are_kept_once_per_incident_with_the_first_label_and_a_count() {
    let app = spawn_app().await;
    let c = app.declared("links").await;
    deliver(&app, "EvL1", say(&c, "W222", &ts(1), "dashboard: <https://grafana.example.com/d/1|error dashboard> cc <@W333|carol> in <#C999|ops>")).await;
    let mut rich = say(&c, "W333", &ts(2), "same <https://grafana.example.com/d/1>");
    rich["blocks"] = json!([{"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
        {"type": "link", "url": "https://grafana.example.com/d/1"}, {"type": "link", "url": "https://runbooks.example.com/db", "text": "db runbook"}]}]}]);
    deliver(&app, "EvL2", rich).await;
    app.wait_processed().await;
    let links = links(&app).await;
    assert_eq!(
        links,
        vec![
            (
                "https://grafana.example.com/d/1".into(),
                Some("error dashboard".into()),
                Some("W222".into()),
                2
            ),
            (
                "https://runbooks.example.com/db".into(),
                Some("db runbook".into()),
                Some("W333".into()),
                1
            ),
        ]
    );
}

/// The incident's links: (url, label, first author, mentions), in order.
async fn links(app: &TestApp) -> Vec<(String, Option<String>, Option<String>, i64)> {
    let store = app.store().await;
    sqlx::query("SELECT url, label, first_by, mentions FROM links ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get("url"),
                r.get("label"),
                r.get("first_by"),
                r.get("mentions"),
            )
        })
        .collect()
}

fn deletion(channel: &str, deleted: &str, at: u64) -> serde_json::Value {
    json!({"type": "message", "subtype": "message_deleted", "hidden": true, "deleted_ts": deleted,
        "channel": channel, "event_ts": ts(at), "ts": ts(at), "channel_type": "channel"})
}

/// The incident's links once message `deleted` is deleted.
async fn links_after_deleting(
    app: &TestApp,
    channel: &str,
    deleted: &str,
    at: u64,
) -> Vec<(String, Option<String>, Option<String>, i64)> {
    deliver(app, &format!("EvDel{at}"), deletion(channel, deleted, at)).await;
    app.wait_processed().await;
    links(app).await
}

#[tokio::test]
async fn deleting_a_links_first_mention_hands_it_to_the_next_and_deleting_the_last_forgets_it() {
    let app = spawn_app().await;
    let c = app.declared("link mentions").await;
    let url = "https://grafana.example.com/d/1";
    // Taken once: `ts` reads the clock, and a second may pass between two calls.
    let (t1, t2, t3) = (ts(1), ts(2), ts(3));
    deliver(
        &app,
        "EvD1",
        say(&c, "W222", &t1, &format!("<{url}|secret board name>")),
    )
    .await;
    deliver(
        &app,
        "EvD2",
        say(&c, "W333", &t2, &format!("<{url}|error dashboard>")),
    )
    .await;
    deliver(
        &app,
        "EvD3",
        say(&c, "W444", &t3, &format!("again <{url}>")),
    )
    .await;
    app.wait_processed().await;
    assert_eq!(links(&app).await[0].3, 3);

    let dashboard = |mentions: i64| {
        vec![(
            url.to_string(),
            Some("error dashboard".to_string()),
            Some("W333".to_string()),
            mentions,
        )]
    };
    // The first mention is deleted: its words go, the next mention's take its place.
    assert_eq!(links_after_deleting(&app, &c, &t1, 10).await, dashboard(2));
    // A later mention is deleted: one fewer, the first stays.
    assert_eq!(links_after_deleting(&app, &c, &t3, 11).await, dashboard(1));
    assert!(
        links_after_deleting(&app, &c, &t2, 12).await.is_empty(),
        "no message mentions it any more"
    );
}

#[tokio::test]
async fn an_app_post_edited_twice_counts_its_attachment_link_once_and_its_deletion_takes_it() {
    let app = spawn_app().await;
    let c = app.declared("alert links").await;
    let t = ts(5);
    let attachments =
        json!([{"title": "Checkout 5xx", "title_link": "https://alerts.example.com/a/7"}]);
    let mut post = say(&c, "W222", &t, "[FIRING] checkout 5xx");
    post["bot_id"] = json!("B777");
    post["attachments"] = attachments.clone();
    deliver(&app, "EvA1", post).await;
    for (n, text) in [
        (2, "[FIRING] checkout 5xx (2)"),
        (3, "[RESOLVED] checkout 5xx"),
    ] {
        let edit = json!({"type": "message", "subtype": "message_changed", "hidden": true, "channel": c,
            "message": {"type": "message", "text": text, "user": "W222", "bot_id": "B777", "team": TEAM,
                        "attachments": attachments, "edited": {"user": "W222", "ts": ts(20 + n)}, "ts": t},
            "event_ts": ts(20 + n), "ts": ts(20 + n), "channel_type": "channel"});
        deliver(&app, &format!("EvA{n}"), edit).await;
    }
    app.wait_processed().await;
    let l = links(&app).await;
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(
        (l[0].0.as_str(), l[0].3),
        ("https://alerts.example.com/a/7", 1)
    );

    assert!(links_after_deleting(&app, &c, &t, 30).await.is_empty());
}

async fn highlighted(app: &TestApp) -> Vec<String> {
    let store = app.store().await;
    let rows = sqlx::query("SELECT ts FROM messages WHERE highlighted = 1 ORDER BY ts")
        .fetch_all(store.pool())
        .await
        .unwrap();
    rows.iter().map(|r| r.get::<String, _>("ts")).collect()
}

#[tokio::test]
async fn a_pushpin_or_a_pin_marks_a_key_event_and_removing_it_unmarks() {
    let app = spawn_app().await;
    let c = app.declared("highlights").await;
    let (a, b) = (ts(1), ts(2));
    deliver(
        &app,
        "EvH1",
        say(&c, "W222", &a, "root cause: expired cert"),
    )
    .await;
    deliver(&app, "EvH2", say(&c, "W222", &b, "cert renewed")).await;
    wait_for_messages(&app, 2).await;
    let reaction = |added: bool, item_ts: &str| {
        json!({"type": if added { "reaction_added" } else { "reaction_removed" }, "user": "W333",
        "item": {"type": "message", "channel": c, "ts": item_ts}, "reaction": "pushpin", "item_user": "W222", "event_ts": ts(9)})
    };
    deliver(&app, "EvH3", reaction(true, &a)).await;
    deliver(&app, "EvH4", json!({"type": "pin_added", "user": "W333", "channel_id": c, "item": {"type": "message", "channel": c, "message": {"type": "message", "ts": b, "text": "cert renewed"}}, "event_ts": ts(10)})).await;
    deliver(&app, "EvH5", json!({"type": "reaction_added", "user": "W333", "item": {"type": "message", "channel": c, "ts": b}, "reaction": "tada", "event_ts": ts(11)})).await;
    app.wait_processed().await;
    assert_eq!(highlighted(&app).await, vec![a.clone(), b.clone()]);
    deliver(&app, "EvH6", reaction(false, &a)).await;
    app.wait_processed().await;
    assert_eq!(highlighted(&app).await, vec![b]);
}

#[tokio::test]
async fn a_link_added_in_an_edit_is_recorded_when_the_mention_of_hereby_arrives_first() {
    let app = spawn_app().await;
    let c = app.declared("edited mention").await;
    let t = ts(10);
    deliver(&app, "EvM1", say(&c, "W222", &t, "<@UHEREBY> what now?")).await;
    wait_for_messages(&app, 1).await;
    // Slack sends an edited message that mentions the app as `app_mention` again, and it may
    // be processed before the `message_changed` of the same edit.
    let text = "<@UHEREBY> see <https://status.example.com/inc/42|the status page>";
    let mention = json!({"type": "app_mention", "user": "W222", "text": text, "ts": t,
        "edited": {"user": "W222", "ts": ts(20)}, "channel": c, "event_ts": ts(20), "team": TEAM});
    deliver(&app, "EvM2", mention).await;
    let edit = json!({"type": "message", "subtype": "message_changed", "hidden": true, "channel": c,
        "message": {"type": "message", "text": text, "user": "W222", "team": TEAM,
                    "edited": {"user": "W222", "ts": ts(20)}, "ts": t},
        "event_ts": ts(21), "ts": ts(21), "channel_type": "channel"});
    deliver(&app, "EvM3", edit).await;
    app.wait_processed().await;
    let store = app.store().await;
    let urls: Vec<String> = sqlx::query_scalar("SELECT url FROM links")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(urls, ["https://status.example.com/inc/42"]);
}

#[tokio::test]
async fn a_key_event_stays_marked_while_anyone_still_marks_it() {
    let app = spawn_app().await;
    let c = app.declared("highlights kept").await;
    let a = ts(1);
    deliver(
        &app,
        "EvK1",
        say(&c, "W222", &a, "root cause: expired cert"),
    )
    .await;
    wait_for_messages(&app, 1).await;
    let reaction = |added: bool, user: &str| {
        json!({"type": if added { "reaction_added" } else { "reaction_removed" }, "user": user,
        "item": {"type": "message", "channel": c, "ts": a}, "reaction": "pushpin", "event_ts": ts(9)})
    };
    let pin = |added: bool| {
        json!({"type": if added { "pin_added" } else { "pin_removed" }, "user": "W444", "channel_id": c,
        "item": {"type": "message", "channel": c, "message": {"type": "message", "ts": a, "text": "root cause: expired cert"}}, "event_ts": ts(10)})
    };
    deliver(&app, "EvK2", reaction(true, "W333")).await;
    deliver(&app, "EvK3", reaction(true, "W555")).await;
    deliver(&app, "EvK4", pin(true)).await;
    deliver(&app, "EvK5", reaction(false, "W333")).await;
    app.wait_processed().await;
    assert_eq!(
        highlighted(&app).await,
        vec![a.clone()],
        "W555's pushpin and the pin remain"
    );
    deliver(&app, "EvK6", pin(false)).await;
    app.wait_processed().await;
    assert_eq!(
        highlighted(&app).await,
        vec![a.clone()],
        "W555's pushpin remains"
    );
    deliver(&app, "EvK7", reaction(false, "W555")).await;
    app.wait_processed().await;
    assert!(highlighted(&app).await.is_empty(), "no mark is left");
}

#[tokio::test]
async fn fixes_notes_and_confusing_docs_are_recorded_with_author_and_outcome() {
    let app = spawn_app().await;
    let c = app.declared("fixes").await;
    let r = app
        .command(&c, "W222", "tried restart the checkout pods -> failed")
        .await;
    assert_eq!(
        r["text"],
        "Recorded fix #1 (failed). Set or change its outcome with the buttons in the channel."
    );
    let r = app.command(&c, "W333", "tried roll back to v41").await;
    assert_eq!(
        r["text"],
        "Recorded fix #2 (unknown). Set or change its outcome with the buttons in the channel."
    );
    app.eventually("fix #2 is posted with buttons", |s| {
        s.messages_in(&c).iter().any(|m| {
            m.text.contains("*Fix #2*")
                && m.blocks
                    .as_ref()
                    .is_some_and(|b| b.to_string().contains("fix_outcome:2:worked"))
        })
    })
    .await;
    let press = json!({"type": "block_actions", "team": {"id": TEAM}, "user": {"id": "W111"}, "channel": {"id": c},
        "actions": [{"action_id": "fix_outcome:2:worked", "value": "2:worked", "type": "button"}]});
    assert_eq!(app.interaction(&press).await.status(), 200);
    app.eventually("the outcome is said", |s| {
        s.messages_in(&c).iter().any(|m| {
            m.text
                .contains("marked fix #2 (roll back to v41) as *worked*")
        })
    })
    .await;

    let list = app.command(&c, "W444", "tried").await;
    let list = list["text"].as_str().unwrap();
    assert!(
        list.contains(":x: *#1* restart the checkout pods — <@W222>, failed"),
        "{list}"
    );
    assert!(
        list.contains(":white_check_mark: *#2* roll back to v41 — <@W333>, worked"),
        "{list}"
    );

    assert_eq!(
        app.command(
            &c,
            "W222",
            "note Call with the payment provider: their API is degraded"
        )
        .await["text"],
        "Noted in the timeline."
    );
    assert_eq!(
        app.command(
            &c,
            "W222",
            "docs <https://wiki.example.com/checkout|checkout runbook> still names the old cluster"
        )
        .await["text"],
        "Noted for the post-mortem's documentation section."
    );
    let kinds = app.timeline().await;
    for kind in ["fix_tried", "fix_outcome", "note", "docs"] {
        assert!(
            kinds.contains(&kind.to_string()),
            "{kind} missing from {kinds:?}"
        );
    }
    assert_eq!(app.count("links").await, 1, "the runbook link is kept");
}

#[tokio::test]
async fn participants_are_kept_with_first_seen_time_and_names_from_slack() {
    let app = spawn_app().await;
    let c = app.declared("people").await;
    deliver(&app, "EvJ1", json!({"type": "member_joined_channel", "user": "W555", "channel": c, "channel_type": "C", "team": TEAM, "event_ts": ts(1)})).await;
    deliver(&app, "EvJ2", say(&c, "W555", &ts(2), "hi")).await;
    deliver(&app, "EvJ3", say(&c, "W666", &ts(3), "also here")).await;
    app.wait_processed().await;
    let store = app.store().await;
    let mut users: Vec<String> =
        sqlx::query("SELECT user_id FROM participants WHERE incident_id = 1")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("user_id"))
            .collect();
    users.sort();
    assert_eq!(
        users,
        vec!["W111", "W555", "W666"],
        "the declarer, who joined, who wrote"
    );
    app.eventually("names are looked up", |s| {
        s.calls_to("users.info").len() >= 2
    })
    .await;
    for _ in 0..100 {
        if app.count("users").await >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let name: String = sqlx::query("SELECT display_name FROM users WHERE user_id = 'W555'")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("display_name");
    assert_eq!(name, "disp-w555");
}

#[tokio::test]
async fn what_was_never_delivered_is_recovered_at_resolve_exactly_once() {
    let app = spawn_app().await;
    let c = app.declared("lost deliveries").await;
    let (a, b, r1, r2) = (ts(100), ts(200), ts(250), ts(260));
    // Slack has four messages, a thread among them; only the first was delivered to hereby.
    app.slack
        .add_user_message(&c, &a, None, "W222", "delivered");
    deliver(&app, "EvR1", say(&c, "W222", &a, "delivered")).await;
    wait_for_messages(&app, 1).await;
    app.slack.add_user_message(
        &c,
        &b,
        Some(&b),
        "W333",
        "never delivered <https://status.example.com|status>",
    );
    app.slack
        .add_user_message(&c, &r1, Some(&b), "W444", "reply one, never delivered");
    app.slack
        .add_user_message(&c, &r2, Some(&b), "W222", "reply two, never delivered");
    for n in 0..5 {
        app.slack.add_user_message(
            &c,
            &ts(300 + n),
            None,
            "W555",
            &format!("later message {n}"),
        );
    }

    app.command(&c, "W111", "resolve").await;
    wait_for_messages(&app, 9).await;
    app.settle().await;
    let m = messages(&app).await;
    assert_eq!(m.len(), 9, "{m:#?}");
    let mut tss: Vec<&String> = m.iter().map(|x| &x.0).collect();
    tss.dedup();
    assert_eq!(tss.len(), 9, "no message twice");
    assert!(
        m.iter()
            .any(|x| x.0 == r2 && x.1.as_deref() == Some(b.as_str())),
        "thread replies are recovered under their parent"
    );
    assert!(
        app.slack.calls_to("conversations.history").len() >= 2,
        "history is read page by page"
    );
    assert_eq!(app.count("links").await, 1);

    // Catching up again finds nothing new.
    app.command(&c, "W111", "reopen").await;
    app.command(&c, "W111", "resolve").await;
    app.settle().await;
    assert_eq!(messages(&app).await.len(), 9);
}

#[tokio::test]
async fn what_was_said_while_hereby_was_down_is_recovered_at_start() {
    let app = spawn_app().await;
    let c = app.declared("downtime").await;
    let mut app = app;
    app.stop().await;
    app.slack
        .add_user_message(&c, &ts(700), None, "W222", "said while hereby was down");
    let app = app.restart().await;
    wait_for_messages(&app, 1).await;
    assert_eq!(
        messages(&app).await[0].4.as_deref(),
        Some("said while hereby was down")
    );
}

/// The catch-ups queued for the minute `minute` (seconds): how many, and when the first is due
/// (milliseconds).
async fn held_back_catch_ups(app: &TestApp, minute: i64) -> (i64, Option<i64>) {
    let store = app.store().await;
    let rows = sqlx::query("SELECT not_before FROM outbox WHERE dedupe_key LIKE $1")
        .bind(format!("%:catch_up:held-back-{minute}"))
        .fetch_all(store.pool())
        .await
        .unwrap();
    let first = rows.first().map(|r| r.get::<i64, _>("not_before"));
    (rows.len() as i64, first)
}

#[tokio::test]
async fn what_slack_held_back_while_rate_limited_is_read_from_history_once_the_minute_is_over() {
    let app = spawn_app().await;
    let c = app.declared("held back").await;
    app.settle().await;
    // Slack held back deliveries from a minute now over: this message never came as an event.
    app.slack
        .add_user_message(&c, &ts(800), None, "W222", "said while Slack held it back");
    let held = |minute: i64| {
        json!({"token": "unused", "type": "app_rate_limited", "team_id": TEAM,
            "minute_rate_limited": minute, "api_app_id": "A0HEREBY"})
    };
    let over = (now_secs() / 60 - 2) * 60;
    assert_eq!(app.post_event(&held(over)).await.status(), 200);
    assert_eq!(app.post_event(&held(over)).await.status(), 200);
    wait_for_messages(&app, 1).await;
    assert_eq!(
        messages(&app).await[0].4.as_deref(),
        Some("said while Slack held it back")
    );
    assert_eq!(
        held_back_catch_ups(&app, over).await.0,
        1,
        "told twice about one minute, hereby reads the history once"
    );

    // A minute still running: its catch-up waits until the minute is over.
    let running = now_secs() / 60 * 60;
    assert_eq!(app.post_event(&held(running)).await.status(), 200);
    let (queued, due) = held_back_catch_ups(&app, running).await;
    assert_eq!(queued, 1);
    assert!(
        due.is_some_and(|due| due >= (running + 60) * 1000),
        "due {due:?}, the minute ends at {}",
        (running + 60) * 1000
    );

    // Not a payload Slack sends: refused, nothing queued.
    let broken = json!({"type": "app_rate_limited", "team_id": TEAM});
    assert_eq!(app.post_event(&broken).await.status(), 400);
}

#[tokio::test]
async fn a_catch_up_interrupted_by_a_rate_limit_resumes_where_it_started() {
    let app = spawn_app().await;
    let c = app.declared("rate limited catch up").await;
    // Seven messages Slack has and hereby never saw: three pages of history.
    for n in 0..7u64 {
        app.slack
            .add_user_message(&c, &ts(900 + n), None, "W222", &format!("missed {n}"));
    }
    // The first page comes through; the second is refused once with Retry-After.
    app.slack.fail_next(
        "conversations.history",
        [
            Failure::Pass,
            Failure::RateLimited {
                retry_after_secs: 1,
            },
        ],
    );
    app.command(&c, "W111", "resolve").await;
    wait_for_messages(&app, 7).await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    let m = messages(&app).await;
    assert_eq!(m.len(), 7, "{m:#?}");
    assert!(
        app.slack.shared_files()[0].content.contains("missed 0"),
        "the oldest missed message is in the draft"
    );
}

#[tokio::test]
async fn a_channel_renamed_by_someone_in_slack_is_known_by_its_new_name_in_the_draft() {
    let app = spawn_app().await;
    let c = app.declared("db down").await;
    app.settle().await;
    let ts = format!("{}.000300", now_secs());
    let renamed = json!({"type": "message", "subtype": "channel_name", "channel": c, "user": "W333",
        "old_name": "incident-x", "name": "db-outage-eu", "text": "<@W333> renamed the channel from “incident-x” to “db-outage-eu”",
        "ts": ts, "event_ts": ts, "channel_type": "channel", "team": TEAM});
    deliver(&app, "EvRENAMED", renamed).await;
    app.wait_processed().await;
    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared in the channel", |s| {
        !s.shared_files().is_empty()
    })
    .await;
    let md = app.slack.shared_files().remove(0).content;
    assert!(md.contains("| **Channel** | #db-outage-eu |"), "{md}");
    assert!(md.contains("Channel renamed to #db-outage-eu"), "{md}");
}
