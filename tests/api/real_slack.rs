//! What a real workspace demands that a forgiving fake would hide: catching up that cannot
//! miss and always finishes under Tier-3 limits, Slack Connect, channels hereby is not in,
//! refusals told to a person, work that stops after bounded attempts, names in drafts, and
//! each Slack step done once across lost answers.

use std::time::Duration;

use hereby::store::Store;
use serde_json::json;
use sqlx::Row;

use crate::fake_slack::Failure;
use crate::helpers::*;

/// The `ts` of every recorded message of incident 1.
async fn recorded(app: &TestApp) -> Vec<String> {
    let store = app.store().await;
    sqlx::query("SELECT ts FROM messages WHERE incident_id = 1 ORDER BY posted_at, id")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("ts"))
        .collect()
}

/// Waits (a bounded while) until incident 1 has `n` recorded messages.
async fn wait_for_recorded(app: &TestApp, n: usize) {
    for _ in 0..600 {
        if recorded(app).await.len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "only {} of {n} messages were recorded",
        recorded(app).await.len()
    );
}

async fn failed_steps(store: &Store) -> Vec<(String, String)> {
    store
        .failed_effects()
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.step, f.error))
        .collect()
}

/// Waits until a step has been given up (polling the store), then lists what was.
async fn steps_given_up(app: &TestApp) -> Vec<(String, String)> {
    let store = app.store().await;
    for _ in 0..200 {
        if !failed_steps(&store).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    failed_steps(&store).await
}

/// Declares `title` with the phrase in C111, as W111.
async fn declare_with_the_phrase(app: &TestApp, event_id: &str, title: &str) {
    let payload = message_event(
        event_id,
        "C111",
        "W111",
        &ts(3),
        &format!("I hereby declare this an incident: {title}"),
    );
    assert_eq!(app.post_event(&payload).await.status(), 200);
}

#[tokio::test]
async fn replies_to_old_threads_and_messages_between_recorded_ones_are_recovered() {
    let app = spawn_app().await;
    let c = app.declared("old threads").await;
    let (parent, later, between, old_reply) = (ts(100), ts(300), ts(200), ts(400));
    // Two messages were delivered; the thread under the older one grew while hereby was down,
    // and a message between them was never delivered.
    app.slack
        .add_user_message(&c, &parent, None, "W222", "the parent");
    app.slack
        .add_user_message(&c, &later, None, "W333", "later");
    deliver(&app, "EvOld1", say(&c, "W222", &parent, "the parent")).await;
    deliver(&app, "EvOld2", say(&c, "W333", &later, "later")).await;
    wait_for_recorded(&app, 2).await;
    app.slack
        .add_user_message(&c, &between, None, "W444", "in between, never delivered");
    app.slack.add_user_message(
        &c,
        &old_reply,
        Some(&parent),
        "W444",
        "a reply to the old thread",
    );

    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    let got = recorded(&app).await;
    assert!(got.contains(&between), "{got:?}");
    assert!(got.contains(&old_reply), "{got:?}");
    let draft = &app.slack.shared_files()[0].content;
    assert!(draft.contains("a reply to the old thread"), "{draft}");
}

#[tokio::test]
async fn catching_up_on_many_threads_stays_within_tier_3_resumes_after_a_429_and_costs_history_pages_only_when_complete(
) {
    let app = spawn_app().await;
    let c = app.declared("many threads").await;
    app.slack.set_page_size(40);
    // 120 threads, each with one reply hereby never saw: more replies calls than Tier 3 allows
    // in one window.
    for n in 0..120u64 {
        let parent = ts(1_000 + n * 10);
        app.slack
            .add_user_message(&c, &parent, None, "W222", &format!("parent {n}"));
        app.slack.add_user_message(
            &c,
            &ts(1_000 + n * 10 + 5),
            Some(&parent),
            "W333",
            &format!("reply {n}"),
        );
    }
    // One replies call is refused mid-way with Retry-After.
    let mut failures = vec![Failure::Pass; 30];
    failures.push(Failure::RateLimited {
        retry_after_secs: 1,
    });
    app.slack.fail_next("conversations.replies", failures);

    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    assert_eq!(recorded(&app).await.len(), 240);
    let history = app.slack.calls_to("conversations.history").len();
    let replies = app.slack.calls_to("conversations.replies").len();
    let top_level = app
        .slack
        .messages_in(&c)
        .iter()
        .filter(|m| m.thread_ts.is_none())
        .count();
    assert_eq!(history, top_level.div_ceil(40), "each page of 40 read once");
    assert_eq!(
        replies, 121,
        "each thread once, and the refused call once more"
    );
    assert_eq!(
        app.slack.rate_limited_calls(),
        0,
        "paced by the tier, hereby never went over it"
    );

    // Catching up again on a complete record reads history pages only.
    app.command(&c, "W111", "reopen").await;
    app.command(&c, "W111", "resolve").await;
    app.eventually("the second draft is shared", |s| {
        s.shared_files().len() == 2
    })
    .await;
    assert!(app.slack.calls_to("conversations.history").len() > history);
    assert_eq!(
        app.slack.calls_to("conversations.replies").len(),
        replies,
        "no thread is read again"
    );
}

#[tokio::test]
async fn a_message_in_a_slack_connect_channel_is_recorded_under_the_installing_workspace() {
    let app = spawn_app().await;
    let c = app.declared("shared channel").await;
    let mut shared = envelope(
        "EvConnect",
        say(&c, "WPARTNER", &ts(500), "hello from the partner org"),
    );
    shared["team_id"] = "TPARTNER".into();
    shared["event"]["team"] = "TPARTNER".into();
    assert_eq!(app.post_event(&shared).await.status(), 200);
    wait_for_recorded(&app, 1).await;
    let store = app.store().await;
    let team: String = sqlx::query("SELECT team_id FROM messages")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("team_id");
    assert_eq!(team, TEAM);
}

#[tokio::test]
async fn a_refused_channel_creation_is_told_to_the_declarer_and_can_be_retried_after_the_fix() {
    let app = spawn_app().await;
    app.slack.fail_next(
        "conversations.create",
        [Failure::Error("restricted_action")],
    );
    let payload = message_event(
        "EvRestricted",
        "C111",
        "W111",
        &ts(1),
        "I hereby declare this an incident: admins only",
    );
    assert_eq!(app.post_event(&payload).await.status(), 200);
    app.eventually("the declarer hears why", |s| {
        s.ephemerals().iter().any(|(channel, user, text)| {
            channel == "C111"
                && user == "W111"
                && text.contains("could not create the incident channel")
                && text.contains("restricted_action")
                && text.contains("admin")
        })
    })
    .await;
    let store = app.store().await;
    assert_eq!(
        failed_steps(&store).await,
        vec![(
            "create_channel".to_string(),
            "restricted_action".to_string()
        )]
    );

    let listed = app.cli(&["outbox", "failed"]);
    assert!(
        listed.contains("create_channel") && listed.contains("restricted_action"),
        "{listed}"
    );

    // The admin allows it; `hereby outbox retry --all` puts it back.
    let retried = app.cli(&["outbox", "retry", "--all"]);
    assert!(retried.starts_with("1 effect queued again"), "{retried}");
    app.eventually("the channel is created after all", |s| {
        s.channels().iter().any(|c| !c.pins.is_empty())
    })
    .await;
    assert!(failed_steps(&store).await.is_empty());
}

#[tokio::test]
async fn a_missing_scope_is_told_to_the_commander_in_the_incident_channel() {
    let app = spawn_app().await;
    app.slack.revoke_scope("pins:write");
    let payload = message_event(
        "EvNoPins",
        "C111",
        "W111",
        &ts(2),
        "I hereby declare this an incident: no pins",
    );
    assert_eq!(app.post_event(&payload).await.status(), 200);
    app.eventually("the commander hears what to change", |s| {
        s.messages().iter().any(|m| {
            m.channel.starts_with('C')
                && m.channel != "C111"
                && m.text.starts_with("<@W111>")
                && m.text.contains("pin the welcome message")
                && m.text.contains("missing_scope")
                && m.text.contains("manifest.yml")
        })
    })
    .await;
}

#[tokio::test]
async fn a_declaration_from_a_private_channel_hereby_is_not_in_is_answered_where_it_was_typed() {
    let app = spawn_app().await;
    let private = app.slack.add_private_channel("secret-team", &["W111"]);
    app.command(&private, "W111", "declare Private trouble")
        .await;
    app.eventually("the command is answered with a link to the channel", |s| {
        s.responses().iter().any(|(_, body)| {
            let text = body["text"].as_str().unwrap_or("");
            text.contains("<#C") && text.contains("Private trouble")
        })
    })
    .await;
    assert!(
        app.slack.messages_in(&private).is_empty(),
        "nothing is posted where hereby cannot post"
    );
    let store = app.store().await;
    assert!(failed_steps(&store).await.is_empty());
}

#[tokio::test]
async fn when_the_response_url_has_expired_the_declarer_gets_the_link_directly() {
    let app = spawn_app().await;
    let private = app.slack.add_private_channel("secret-team", &["W111"]);
    let expired = app.slack.expired_response_url();
    let fields = [
        ("team_id", TEAM),
        ("channel_id", private.as_str()),
        ("user_id", "W111"),
        ("command", "/incident"),
        ("text", "declare Late pointer"),
        ("response_url", expired.as_str()),
    ];
    assert_eq!(app.post_command(fields).await.status(), 200);
    app.eventually("the declarer gets the link in a direct message", |s| {
        s.messages().iter().any(|m| {
            m.channel == "W111" && m.text.contains("<#C") && m.text.contains("Late pointer")
        })
    })
    .await;
}

#[tokio::test]
async fn without_public_posting_a_refused_announcement_is_told_to_the_commander() {
    let app = spawn_app().await;
    app.slack.revoke_scope("chat:write.public");
    let c = app.declared("quiet announcement").await;
    app.eventually("the commander hears to invite hereby", |s| {
        s.messages_in(&c).iter().any(|m| {
            m.text.contains("post in the announcement channel")
                && m.text.contains("not_in_channel")
                && m.text.contains("/invite @hereby")
        })
    })
    .await;
}

#[tokio::test]
async fn a_slack_outage_delays_a_step_past_its_attempts_and_never_drops_it() {
    let app = spawn_app_with(Options {
        env: vec![("HEREBY_MAX_ATTEMPTS", "2".into())],
        ..Options::default()
    })
    .await;
    app.slack.fail_next(
        "conversations.setTopic",
        [
            Failure::Status(500),
            Failure::Status(500),
            Failure::Status(500),
            Failure::Status(500),
        ],
    );
    declare_with_the_phrase(&app, "EvTopic", "flaky topic").await;
    app.eventually("the topic is set once Slack answers again", |s| {
        s.channels().iter().any(|c| c.topic.contains("Commander"))
    })
    .await;
    assert_eq!(app.slack.calls_to("conversations.setTopic").len(), 5);
    let store = app.store().await;
    assert!(failed_steps(&store).await.is_empty());
}

#[tokio::test]
async fn waiting_out_slacks_rate_limit_uses_up_none_of_a_steps_attempts() {
    let app = spawn_app().await;
    let limited = || Failure::RateLimited {
        retry_after_secs: 0,
    };
    app.slack
        .fail_next("conversations.setTopic", [limited(), limited(), limited()]);
    let c = app.declared("rate limited topic").await;
    app.eventually("the topic is set", |s| {
        s.channels()
            .iter()
            .any(|ch| ch.id == c && ch.topic.contains("Commander"))
    })
    .await;
    let store = app.store().await;
    let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM outbox WHERE step = 'set_topic'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(attempts, 1, "only the call that went through counts");
}

#[tokio::test]
async fn a_draft_slack_refuses_to_share_is_given_up_once_not_uploaded_again_and_again() {
    let app = spawn_app().await;
    let c = app.declared("archived too soon").await;
    app.slack.fail_next(
        "files.completeUploadExternal",
        [Failure::Error("is_archived")],
    );
    app.command(&c, "W111", "resolve").await;
    let failed = steps_given_up(&app).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].1.contains("archived"), "{failed:?}");
    assert_eq!(app.slack.calls_to("files.getUploadURLExternal").len(), 1);
}

#[tokio::test]
async fn a_post_refused_because_the_channel_is_archived_is_told_to_the_commander_directly() {
    let app = spawn_app().await;
    let c = app.declared("archived channel").await;
    app.settle().await;
    app.slack
        .fail_next("chat.postMessage", [Failure::Error("is_archived")]);
    app.slack
        .fail_next("chat.postEphemeral", [Failure::Error("is_archived")]);
    app.command(&c, "W111", "severity sev2").await;
    app.eventually("the commander hears of it in a direct message", |s| {
        s.messages_in("W111")
            .iter()
            .any(|m| m.text.contains("archived"))
    })
    .await;
}

#[tokio::test]
async fn an_http_client_error_is_a_refusal_told_at_once_not_an_outage_waited_out() {
    let app = spawn_app().await;
    app.slack
        .fail_next("conversations.setTopic", [Failure::Status(403)]);
    declare_with_the_phrase(&app, "EvForbidden", "forbidden topic").await;
    let failed = steps_given_up(&app).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0], ("set_topic".to_string(), "http_403".to_string()));
    assert_eq!(app.slack.calls_to("conversations.setTopic").len(), 1);
}

#[tokio::test]
async fn a_step_slack_refuses_shows_in_metrics_and_can_be_retried() {
    let app = spawn_app().await;
    app.slack.fail_next(
        "conversations.setTopic",
        [Failure::Error("restricted_action")],
    );
    declare_with_the_phrase(&app, "EvTopic", "refused topic").await;
    let failed = steps_given_up(&app).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "set_topic");
    let metrics = app
        .client
        .get(format!("{}/metrics", app.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("hereby_outbox_failed 1"), "{metrics}");

    let store = app.store().await;
    store.retry_failed(None, chrono::Utc::now()).await.unwrap();
    app.eventually("the topic is set after the retry", |s| {
        s.channels().iter().any(|c| c.topic.contains("Commander"))
    })
    .await;
}

#[tokio::test]
async fn a_rate_limited_post_waits_and_is_posted_once() {
    let app = spawn_app().await;
    app.slack
        .fail_next("chat.postMessage", [Failure::Error("rate_limited")]);
    let c = app.declared("rate limited post").await;
    app.eventually("the welcome is posted", |s| !s.messages_in(&c).is_empty())
        .await;
    let store = app.store().await;
    assert!(failed_steps(&store).await.is_empty());
}

#[tokio::test]
async fn the_message_shortcut_opens_the_form_before_asking_slack_for_the_link() {
    let app = spawn_app().await;
    // Slack takes longer than the trigger lives to answer the permalink.
    app.slack
        .fail_next("chat.getPermalink", [Failure::Hang(Duration::from_secs(4))]);
    let shortcut = json!({"type": "message_action", "callback_id": "declare_from_message", "trigger_id": app.slack.trigger_id(),
        "team": {"id": TEAM}, "user": {"id": "W111"}, "channel": {"id": "C111"},
        "message": {"type": "message", "user": "W222", "ts": "1790000000.000300", "text": "Search is down"}});
    assert_eq!(app.interaction(&shortcut).await.status(), 200);
    let views = app.slack.views();
    assert_eq!(views.len(), 1, "the form opened");
    assert!(views[0]["blocks"].to_string().contains("Search is down"));
    let order: Vec<String> = app
        .slack
        .calls()
        .into_iter()
        .map(|c| c.method)
        .filter(|m| m == "views.open" || m == "chat.getPermalink")
        .collect();
    assert_eq!(order, ["views.open", "chat.getPermalink"]);
}

#[tokio::test]
async fn a_shortcut_whose_form_slack_will_not_open_tells_the_person_why_and_what_to_type() {
    let app = spawn_app().await;
    let shortcut = json!({"type": "message_action", "callback_id": "declare_from_message", "trigger_id": app.slack.trigger_id(),
        "team": {"id": TEAM}, "user": {"id": "W111"}, "channel": {"id": "C111"},
        "message": {"type": "message", "user": "W222", "ts": "1790000000.000300", "text": "Search is down"}});
    assert_eq!(app.interaction(&shortcut).await.status(), 200);
    // The same click again: its trigger was used, and Slack will not open a second form.
    assert_eq!(app.interaction(&shortcut).await.status(), 200);
    assert_eq!(app.slack.views().len(), 1);
    app.eventually("the person is told why, where they clicked", |s| {
        s.ephemerals().iter().any(|(channel, user, text)| {
            channel == "C111"
                && user == "W111"
                && text.contains("did not open")
                && text.contains("/incident declare <title>")
        })
    })
    .await;
}

#[tokio::test]
async fn a_form_slack_will_not_open_for_an_expired_trigger_gets_a_helpful_answer() {
    let app = spawn_app().await;
    // A click whose trigger has already been used (or expired) cannot open a form.
    let trigger = app.slack.trigger_id();
    let fields = [
        ("team_id", TEAM),
        ("channel_id", "C111"),
        ("user_id", "W111"),
        ("command", "/incident"),
        ("text", "declare"),
        ("trigger_id", trigger.as_str()),
    ];
    let first = app.post_command(fields).await;
    assert_eq!(first.status(), 200);
    assert_eq!(app.slack.views().len(), 1, "a fresh trigger opens the form");
    let again: serde_json::Value = app.post_command(fields).await.json().await.unwrap();
    assert!(
        again["text"]
            .as_str()
            .unwrap_or("")
            .contains("/incident declare <title>"),
        "{again}"
    );
    assert_eq!(app.slack.views().len(), 1);
}

#[tokio::test]
async fn the_draft_shows_names_even_while_name_look_ups_are_rate_limited() {
    let app = spawn_app().await;
    let c = app.declared("names").await;
    app.slack.fail_next(
        "users.info",
        [
            Failure::RateLimited {
                retry_after_secs: 1,
            },
            Failure::RateLimited {
                retry_after_secs: 1,
            },
        ],
    );
    deliver(&app, "EvName", say(&c, "W777", &ts(600), "I am here")).await;
    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    let draft = &app.slack.shared_files()[0].content;
    assert!(draft.contains("disp-w777"), "{draft}");
    assert!(!draft.contains("W777 "), "no raw user ID: {draft}");
}

#[tokio::test]
async fn a_draft_whose_share_answer_was_lost_is_shared_exactly_once() {
    let app = spawn_app().await;
    let c = app.declared("lost share").await;
    // Slack shares the file, but the answer never arrives in time.
    app.slack.fail_next(
        "files.completeUploadExternal",
        [Failure::Hang(Duration::from_secs(3))],
    );
    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    app.eventually("hereby checked where the file is", |s| {
        !s.calls_to("files.info").is_empty()
    })
    .await;
    app.settle().await;
    assert_eq!(app.slack.shared_files().len(), 1);
    assert_eq!(app.slack.calls_to("files.getUploadURLExternal").len(), 1);
    let store = app.store().await;
    let file: Option<String> = sqlx::query("SELECT file_id FROM postmortems")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("file_id");
    assert_eq!(
        file.as_deref(),
        Some(app.slack.shared_files()[0].id.as_str())
    );
}

#[tokio::test]
async fn adopting_a_channel_an_interrupted_create_made_resumes_its_search_after_a_rate_limit() {
    let app = spawn_app().await;
    // Many channels before ours: the search pages through conversations.list.
    for n in 0..12 {
        app.slack.add_channel(&format!("team-{n}"), "W000");
    }
    app.slack.fail_next(
        "conversations.create",
        [Failure::Hang(Duration::from_secs(3))],
    );
    app.slack.fail_next(
        "conversations.list",
        [
            Failure::Pass,
            Failure::RateLimited {
                retry_after_secs: 1,
            },
        ],
    );
    let payload = message_event(
        "EvAdopt",
        "C111",
        "W111",
        &ts(4),
        "I hereby declare this an incident: adopt me",
    );
    assert_eq!(app.post_event(&payload).await.status(), 200);
    app.eventually("the welcome is pinned", |s| {
        s.channels().iter().any(|c| !c.pins.is_empty())
    })
    .await;
    let ours: Vec<String> = app
        .slack
        .channels()
        .into_iter()
        .map(|c| c.name)
        .filter(|n| n.contains("adopt-me"))
        .collect();
    assert_eq!(ours.len(), 1, "adopted, not duplicated: {ours:?}");
    // 13 channels in pages of 3: five pages, one of them asked twice (the 429).
    assert_eq!(app.slack.calls_to("conversations.list").len(), 6);
}

#[tokio::test]
async fn a_canvas_whose_answer_was_lost_is_not_created_twice() {
    let app = spawn_app_with(Options {
        env: vec![("HEREBY_POSTMORTEM_CANVAS", "true".into())],
        ..Options::default()
    })
    .await;
    app.slack
        .fail_next("canvases.create", [Failure::Hang(Duration::from_secs(3))]);
    let c = app.declared("one canvas").await;
    app.command(&c, "W111", "resolve").await;
    app.eventually("hereby looked for the canvas", |s| {
        !s.calls_to("files.list").is_empty()
    })
    .await;
    app.settle().await;
    assert_eq!(app.slack.canvases().len(), 1);
}
