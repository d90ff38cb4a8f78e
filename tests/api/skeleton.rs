//! The post-mortem draft on real payload shapes: fixes recorded by reactions, replies to a
//! deleted thread parent, app posts with only a `bot_id`, and Slack code blocks.

use serde_json::{json, Value};

use crate::helpers::*;

/// The current draft of incident 1, as `hereby postmortem 1` prints it.
fn draft(app: &TestApp) -> String {
    app.cli(&["postmortem", "1"])
}

fn reaction(channel: &str, user: &str, item_ts: &str, name: &str, added: bool) -> Value {
    json!({"type": if added { "reaction_added" } else { "reaction_removed" }, "user": user,
        "item": {"type": "message", "channel": channel, "ts": item_ts}, "reaction": name,
        "item_user": "W222", "event_ts": ts_now()})
}

async fn fix_list(app: &TestApp, channel: &str) -> String {
    app.command(channel, "W444", "tried").await["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_wrench_records_a_message_as_a_fix_by_its_author_and_check_marks_set_and_unset_its_outcome(
) {
    let app = spawn_app().await;
    let c = app.declared("gateway timeouts").await;
    let m = ts_now();
    deliver(
        &app,
        "EvFr1",
        say(&c, "W222", &m, "Rolling back deploy 4512 now"),
    )
    .await;
    app.wait_for_rows("messages", 1).await;
    deliver(&app, "EvFr2", reaction(&c, "W333", &m, "wrench", true)).await;
    app.wait_processed().await;
    assert!(
        fix_list(&app, &c)
            .await
            .contains("*#1* Rolling back deploy 4512 now — <@W222>, unknown"),
        "the author, not the person who reacted, tried it"
    );

    deliver(
        &app,
        "EvFr3",
        reaction(&c, "W111", &m, "white_check_mark", true),
    )
    .await;
    app.wait_processed().await;
    assert!(fix_list(&app, &c).await.contains(":white_check_mark: *#1*"));
    let md = draft(&app);
    assert!(
        md.contains("| 1 | Rolling back deploy 4512 now | ") && md.contains("| worked |"),
        "{md}"
    );
    assert!(
        !md.contains("Possible fix attempts mentioned in chat"),
        "a recorded fix is not also a candidate:\n{md}"
    );

    deliver(
        &app,
        "EvFr4",
        reaction(&c, "W111", &m, "white_check_mark", false),
    )
    .await;
    app.wait_processed().await;
    assert!(fix_list(&app, &c).await.contains(", unknown"));
    deliver(&app, "EvFr5", reaction(&c, "W111", &m, "x", true)).await;
    deliver(&app, "EvFr6", reaction(&c, "W333", &m, "wrench", true)).await;
    app.wait_processed().await;
    let list = fix_list(&app, &c).await;
    assert!(
        list.contains(":x: *#1*") && !list.contains("*#2*"),
        "{list}"
    );
}

#[tokio::test]
async fn chat_that_sounds_like_a_fix_is_offered_as_a_candidate_not_recorded() {
    let app = spawn_app().await;
    let c = app.declared("cache stampede").await;
    deliver(
        &app,
        "EvPf1",
        say(&c, "W222", &ts_now(), "restarting the cache nodes"),
    )
    .await;
    app.wait_for_rows("messages", 1).await;
    let md = draft(&app);
    assert!(
        md.contains("Possible fix attempts mentioned in chat"),
        "{md}"
    );
    assert!(
        md.contains(": restarting the cache nodes _(says \"restarting\")_"),
        "{md}"
    );
    assert!(md.contains("0 fix attempts"), "{md}");
}

#[tokio::test]
async fn replies_to_a_deleted_thread_parent_stay_in_time_order() {
    let app = spawn_app().await;
    let c = app.declared("tombstone").await;
    let (parent, first, top, second) = (ts_now(), ts_now(), ts_now(), ts_now());
    deliver(
        &app,
        "EvTb1",
        say(&c, "W222", &parent, "is the gateway down?"),
    )
    .await;
    let mut reply = say(&c, "W333", &first, "first reply");
    reply["thread_ts"] = json!(parent);
    deliver(&app, "EvTb2", reply).await;
    deliver(
        &app,
        "EvTb3",
        say(&c, "W444", &top, "meanwhile at top level"),
    )
    .await;
    let mut reply = say(&c, "W333", &second, "second reply");
    reply["thread_ts"] = json!(parent);
    deliver(&app, "EvTb4", reply).await;
    app.wait_for_rows("messages", 4).await;
    // The parent is deleted: Slack sends a tombstone in its place.
    let mut tombstone: Value =
        serde_json::from_str(include_str!("../fixtures/message_changed_tombstone.json")).unwrap();
    tombstone["channel"] = json!(c);
    tombstone["message"]["ts"] = json!(parent);
    tombstone["ts"] = json!(ts_now());
    tombstone["event_ts"] = tombstone["ts"].clone();
    deliver(&app, "EvTb5", tombstone).await;
    app.wait_processed().await;

    let md = draft(&app);
    let log = &md[md.find("## Appendix B").unwrap_or(0)..];
    assert!(!log.contains("is the gateway down?"), "{log}");
    let at = |s: &str| {
        log.find(s)
            .unwrap_or_else(|| panic!("{s} missing from {log}"))
    };
    assert!(at("first reply") < at("meanwhile at top level"), "{log}");
    assert!(at("meanwhile at top level") < at("second reply"), "{log}");
    assert!(
        log.contains("_(in reply to a deleted message)_ second reply"),
        "{log}"
    );
}

#[tokio::test]
async fn an_app_post_with_only_a_bot_id_is_named_from_bots_info_and_marked_as_from_an_app() {
    let app = spawn_app().await;
    let c = app.declared("ci failures").await;
    let mut post: Value =
        serde_json::from_str(include_str!("../fixtures/bot_message_bot_id_only.json")).unwrap();
    post["channel"] = json!(c);
    post["team"] = json!(TEAM);
    post["ts"] = json!(ts_now());
    post["event_ts"] = post["ts"].clone();
    deliver(&app, "EvBot1", post).await;
    app.wait_for_rows("messages", 1).await;
    app.eventually("Slack is asked the app's name", |s| {
        s.calls_to("bots.info")
            .iter()
            .any(|call| call.params["bot"] == "BB12033")
    })
    .await;
    for _ in 0..200 {
        if app.count_where("users", "user_id = 'BB12033'").await > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let md = draft(&app);
    assert!(
        md.contains("app-bb12033 (app): Pushing is the answer"),
        "{md}"
    );
    assert!(
        md.contains("· app-bb12033 (app) · \"Pushing is the answer\""),
        "{md}"
    );
    assert!(!md.contains("unknown"), "{md}");
}

#[tokio::test]
async fn an_app_post_whose_name_slack_will_not_tell_is_still_marked_as_from_an_app() {
    let app = spawn_app().await;
    app.slack.revoke_scope("users:read");
    let c = app.declared("ci failures").await;
    let mut post: Value =
        serde_json::from_str(include_str!("../fixtures/bot_message_bot_id_only.json")).unwrap();
    post["channel"] = json!(c);
    post["team"] = json!(TEAM);
    post["ts"] = json!(ts_now());
    post["event_ts"] = post["ts"].clone();
    deliver(&app, "EvBot2", post).await;
    app.wait_for_rows("messages", 1).await;
    let md = draft(&app);
    assert!(md.contains("BB12033 (app): Pushing is the answer"), "{md}");
}

#[tokio::test]
async fn a_code_block_with_text_on_its_fence_lines_keeps_every_line_and_its_links_as_typed() {
    let app = spawn_app().await;
    let c = app.declared("julia depot").await;
    // As Slack sends what was typed: text right after the fences, the URL wrapped as a link.
    let text = "try ```rm -rf ~/.julia\ncurl <https://pkg.example.com/registry>``` then";
    deliver(&app, "EvCode1", say(&c, "W222", &ts_now(), text)).await;
    app.wait_for_rows("messages", 1).await;
    let md = draft(&app);
    let log = &md[md.find("## Appendix B").unwrap_or(0)..];
    assert!(log.contains("try ` rm -rf ~/.julia `"), "{log}");
    assert!(
        log.contains("` curl https://pkg.example.com/registry ` then"),
        "{log}"
    );
    assert!(
        !log.contains("](https://pkg.example.com/registry)"),
        "{log}"
    );
    assert!(
        md.contains("· \"try ` rm -rf ~/.julia ` …\""),
        "a first line cut inside code stays code:\n{md}"
    );
}

#[tokio::test]
async fn the_postmortem_status_and_owner_are_set_by_command_and_shown_in_the_draft_and_the_live_summary(
) {
    let app = spawn_app().await;
    let c = app.declared("review me").await;
    let shown = app.command(&c, "W222", "postmortem").await;
    assert!(
        shown["text"]
            .as_str()
            .unwrap_or_default()
            .contains("*Draft*, owned by the incident commander"),
        "{shown}"
    );
    let set = app
        .command(
            &c,
            "W111",
            "postmortem status in-review owner <@W333|carol>",
        )
        .await;
    assert!(
        set["text"]
            .as_str()
            .unwrap_or_default()
            .contains("*In review*, owned by <@W333>"),
        "{set}"
    );
    app.eventually("the live summary shows the post-mortem's status", |s| {
        s.messages_in(&c).iter().any(|m| {
            m.blocks.as_ref().is_some_and(|b| {
                b.to_string()
                    .contains("*Post-mortem*\\nIn review, owned by <@W333>")
            })
        })
    })
    .await;
    let md = draft(&app);
    assert!(md.contains("| **Status** | In review |"), "{md}");
    let owner = md
        .lines()
        .find(|l| l.starts_with("| **Owner** |"))
        .unwrap_or_default();
    assert!(owner.to_lowercase().contains("w333"), "{owner}");
    let summary = app.command(&c, "W444", "summary").await;
    assert!(
        summary["text"]
            .as_str()
            .unwrap_or_default()
            .contains("*Post-mortem*: In review"),
        "{summary}"
    );
    assert!(
        app.command(&c, "W111", "postmortem status shipped").await["text"]
            .as_str()
            .unwrap_or_default()
            .contains("draft, in-review, final")
    );
}
