//! "I hereby declare this an incident" and `/incident declare`: the channel and everything
//! around it, also when Slack misbehaves or hereby restarts.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use hereby::store::deliveries::OwnedDelivery;

use crate::fake_slack::{Failure, BOT_USER};
use crate::helpers::*;

fn channel_name(slug: &str) -> String {
    format!("incident-{}-{slug}", today())
}

async fn declare_by_message(app: &TestApp, event_id: &str, text: &str) -> String {
    let ts = ts(event_id.len() as u64 * 7);
    let r = app
        .post_event(&message_event(event_id, "C111", "W111", &ts, text))
        .await;
    assert_eq!(r.status(), 200);
    ts
}

/// No two messages hereby posted are the same message in the same place.
fn assert_no_duplicate_posts(app: &TestApp) {
    let mut seen = HashSet::new();
    for m in app.slack.messages() {
        let key = (m.channel, m.thread_ts, m.text);
        assert!(seen.insert(key.clone()), "posted twice: {key:?}");
    }
}

#[tokio::test]
async fn the_phrase_opens_a_dated_channel_with_commander_welcome_pointer_and_announcement() {
    let app = spawn_app().await;
    let declared_ts = declare_by_message(
        &app,
        "EvDeclare",
        "I hereby declare this an incident: Checkout payments failing",
    )
    .await;

    app.eventually("every step of the declaration is done", |s| {
        s.channels()
            .iter()
            .any(|c| !c.pins.is_empty() && c.topic.contains("Commander") && c.members.len() > 1)
            && !s.messages_in("CANNOUNCE").is_empty()
            && !s.messages_in("C111").is_empty()
    })
    .await;

    let channel = app
        .slack
        .channel_named(&channel_name("checkout-payments-failing"))
        .expect("the incident channel exists");
    // The declarer is in it.
    assert!(channel.members.contains(&"W111".to_string()), "{channel:?}");
    // Its topic names the title and the commander.
    assert!(
        channel.topic.contains("Checkout payments failing"),
        "{}",
        channel.topic
    );
    assert!(
        channel.topic.contains("Commander: <@W111>"),
        "{}",
        channel.topic
    );
    // A welcome message with blocks, pinned.
    let welcome = app.slack.messages_in(&channel.id);
    assert_eq!(welcome.len(), 1);
    assert_eq!(channel.pins, vec![welcome[0].ts.clone()]);
    let post = app
        .slack
        .calls_to("chat.postMessage")
        .into_iter()
        .find(|c| c.params["channel"] == channel.id.as_str())
        .unwrap();
    let blocks = post.params["blocks"].to_string();
    assert!(
        blocks.contains("Incident #1: Checkout payments failing"),
        "{blocks}"
    );
    assert!(blocks.contains("<@W111>"), "{blocks}");
    assert!(blocks.contains("/incident"), "{blocks}");
    // A threaded reply under the declaring message links the channel.
    let pointer = app.slack.messages_in("C111");
    assert_eq!(pointer.len(), 1);
    assert_eq!(pointer[0].thread_ts.as_deref(), Some(declared_ts.as_str()));
    assert!(
        pointer[0].text.contains(&format!("<#{}>", channel.id)),
        "{}",
        pointer[0].text
    );
    // The announcement channel hears of it.
    let announcement = app.slack.messages_in("CANNOUNCE");
    assert_eq!(announcement.len(), 1);
    assert!(announcement[0].text.contains("Checkout payments failing"));

    // Exactly one of each call a declaration makes.
    for method in [
        "conversations.create",
        "conversations.invite",
        "conversations.setTopic",
        "pins.add",
    ] {
        assert_eq!(app.slack.calls_to(method).len(), 1, "{method}");
    }
    assert_eq!(app.slack.calls_to("chat.postMessage").len(), 3);
    let create = &app.slack.calls_to("conversations.create")[0];
    assert_eq!(create.params["is_private"], false);
}

#[tokio::test]
async fn the_declarer_is_stored_as_commander() {
    let app = spawn_app().await;
    declare_by_message(
        &app,
        "EvCmdr",
        "I hereby declare this an incident: search slow",
    )
    .await;
    app.eventually("the channel exists", |s| !s.channels().is_empty())
        .await;
    let store = app.store().await;
    let mut conn = store.pool().acquire().await.unwrap();
    let team = hereby::domain::TeamId::new(TEAM);
    let roles = hereby::store::incidents::current_roles(&mut conn, &team, 1, &[])
        .await
        .unwrap();
    assert_eq!(
        roles,
        vec![(
            hereby::domain::roles::Role::Commander,
            hereby::domain::UserId::new("W111")
        )]
    );
}

#[tokio::test]
async fn hereby_ignores_its_own_messages_and_other_bots() {
    let app = spawn_app().await;
    let mut own = message_event(
        "EvOwn",
        "C111",
        BOT_USER,
        &ts(1),
        "I hereby declare this an incident: loop",
    );
    own["event"]["bot_id"] = "BHEREBY".into();
    let mut other: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/bot_message_event.json")).unwrap();
    other["event"]["text"] = "I hereby declare this an incident: alert fired".into();
    for payload in [own, other] {
        assert_eq!(app.post_event(&payload).await.status(), 200);
    }
    app.settle().await;
    assert_eq!(app.count("deliveries").await, 2, "both deliveries are kept");
    assert_eq!(app.count("incidents").await, 0);
    assert!(app.slack.calls_to("conversations.create").is_empty());
}

#[tokio::test]
async fn messages_without_the_phrase_declare_nothing() {
    let app = spawn_app().await;
    declare_by_message(
        &app,
        "EvNope",
        "should I declare this an incident? probably not",
    )
    .await;
    app.settle().await;
    assert_eq!(app.count("incidents").await, 0);
}

#[tokio::test]
async fn bold_shouted_phrases_with_accents_and_emoji_get_a_clean_slug() {
    let app = spawn_app().await;
    declare_by_message(
        &app,
        "EvCafe",
        "*i HEREBY   declare this an incident* — Café down ☕🔥!!",
    )
    .await;
    let expected = channel_name("cafe-down");
    app.eventually("the channel exists", |s| {
        s.channel_named(&expected).is_some()
    })
    .await;
}

#[tokio::test]
async fn a_person_mentioned_in_the_title_is_named_as_hereby_knows_them() {
    use hereby::domain::{TeamId, UserId};
    let app = spawn_app().await;
    let store = app.store().await;
    let mut conn = store.conn().await.unwrap();
    hereby::store::record::save_user(
        &mut conn,
        &TeamId::new(TEAM),
        &UserId::new("W222"),
        Some("bob"),
        Some("Bob Jones"),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    // Message events carry a mention without a name.
    declare_by_message(
        &app,
        "EvMention",
        "I hereby declare this an incident: <@W222> locked out of <@W333>'s VPN",
    )
    .await;
    let expected = channel_name("bob-locked-out-of-w333s-vpn");
    app.eventually("the channel is named with the name hereby knows", |s| {
        s.channel_named(&expected)
            .is_some_and(|c| c.topic.contains("@bob locked out of @W333's VPN"))
    })
    .await;
}

#[tokio::test]
async fn a_200_character_title_fits_in_80_characters() {
    let app = spawn_app().await;
    let title = "database ".repeat(25);
    declare_by_message(
        &app,
        "EvLong",
        &format!("I hereby declare this an incident: {title}"),
    )
    .await;
    app.eventually("the channel exists", |s| !s.channels().is_empty())
        .await;
    let name = app.slack.channels()[0].name.clone();
    assert!(name.len() <= 80, "{name}");
    assert!(name.ends_with("-database"), "{name}");
}

#[tokio::test]
async fn a_taken_name_gets_the_next_free_suffix() {
    let app = spawn_app().await;
    app.slack.add_channel(&channel_name("db-down"), "USOMEONE");
    app.slack
        .add_channel(&channel_name("db-down-2"), "USOMEONE");
    declare_by_message(
        &app,
        "EvTaken",
        "I hereby declare this an incident: DB down",
    )
    .await;
    let expected = channel_name("db-down-3");
    app.eventually("the -3 channel exists", |s| {
        s.channel_named(&expected).is_some()
    })
    .await;
    assert_eq!(app.slack.calls_to("conversations.create").len(), 3);
}

#[tokio::test]
async fn two_incidents_with_the_same_title_never_share_a_channel() {
    let app = spawn_app().await;
    declare_by_message(
        &app,
        "EvSame1",
        "I hereby declare this an incident: API errors",
    )
    .await;
    declare_by_message(
        &app,
        "EvSame22",
        "I hereby declare this an incident: API errors",
    )
    .await;
    let (a, b) = (channel_name("api-errors"), channel_name("api-errors-2"));
    app.eventually("both channels exist", |s| {
        s.channel_named(&a).is_some() && s.channel_named(&b).is_some()
    })
    .await;
}

#[tokio::test]
async fn slack_rate_limiting_delays_the_channel_without_duplicating_it() {
    let app = spawn_app().await;
    app.slack.fail_next(
        "conversations.create",
        [Failure::RateLimited {
            retry_after_secs: 1,
        }],
    );
    declare_by_message(
        &app,
        "Ev429",
        "I hereby declare this an incident: rate limited",
    )
    .await;
    app.eventually("the welcome is pinned", |s| {
        s.channels().iter().any(|c| !c.pins.is_empty())
    })
    .await;
    assert_eq!(app.slack.channels().len(), 1);
    assert_eq!(app.slack.calls_to("conversations.create").len(), 2);
    assert!(app
        .slack
        .channel_named(&channel_name("rate-limited"))
        .is_some());
}

#[tokio::test]
async fn a_slack_500_is_retried_without_a_duplicate_channel() {
    let app = spawn_app().await;
    app.slack
        .fail_next("conversations.create", [Failure::Status(500)]);
    app.slack.fail_next(
        "chat.postMessage",
        [Failure::Status(503), Failure::Error("internal_error")],
    );
    declare_by_message(
        &app,
        "Ev500",
        "I hereby declare this an incident: flaky slack",
    )
    .await;
    app.eventually("all three messages are posted", |s| {
        s.channels().iter().any(|c| !c.pins.is_empty())
            && !s.messages_in("CANNOUNCE").is_empty()
            && !s.messages_in("C111").is_empty()
    })
    .await;
    app.settle().await;
    assert_eq!(app.slack.channels().len(), 1);
    assert_no_duplicate_posts(&app);
}

#[tokio::test]
async fn a_create_that_succeeded_but_timed_out_is_adopted_not_duplicated() {
    let app = spawn_app().await;
    app.slack.fail_next(
        "conversations.create",
        [Failure::Hang(Duration::from_secs(3))],
    );
    declare_by_message(
        &app,
        "EvHang",
        "I hereby declare this an incident: slow slack",
    )
    .await;
    app.eventually("the welcome is pinned", |s| {
        s.channels().iter().any(|c| !c.pins.is_empty())
    })
    .await;
    let names: Vec<String> = app.slack.channels().into_iter().map(|c| c.name).collect();
    assert_eq!(names, vec![channel_name("slow-slack")]);
}

#[tokio::test]
async fn a_post_that_succeeded_but_timed_out_is_not_posted_twice() {
    let app = spawn_app().await;
    app.slack.fail_next(
        "chat.postMessage",
        [
            Failure::Hang(Duration::from_secs(3)),
            Failure::Hang(Duration::from_secs(3)),
        ],
    );
    declare_by_message(
        &app,
        "EvHangPost",
        "I hereby declare this an incident: lost replies",
    )
    .await;
    app.eventually("all three messages are posted", |s| {
        s.channels().iter().any(|c| !c.pins.is_empty())
            && !s.messages_in("CANNOUNCE").is_empty()
            && !s.messages_in("C111").is_empty()
    })
    .await;
    app.settle().await;
    assert_eq!(app.slack.messages().len(), 3, "{:#?}", app.slack.messages());
    assert_no_duplicate_posts(&app);
}

#[tokio::test]
async fn a_delivery_stored_before_a_restart_is_processed_at_the_next_start() {
    let mut app = spawn_app().await;
    app.stop().await;
    // Stored and acknowledged, then the process died before processing it.
    let payload = message_event(
        "EvOrphan",
        "C111",
        "W111",
        &ts(9),
        "I hereby declare this an incident: orphaned delivery",
    )
    .to_string();
    let store = app.store().await;
    store
        .record_deliveries(
            &[OwnedDelivery {
                team_id: TEAM.into(),
                event_id: "EvOrphan".into(),
                event_type: "message".into(),
                payload,
                retry_num: None,
            }],
            Utc::now(),
        )
        .await
        .unwrap();
    let app = app.restart().await;
    let expected = channel_name("orphaned-delivery");
    app.eventually("the channel exists", |s| {
        s.channel_named(&expected).is_some()
    })
    .await;
}

#[tokio::test]
async fn the_slash_command_declares_from_any_channel() {
    let app = spawn_app().await;
    let reply = app
        .command("C222", "W333", "declare Login broken for SSO users")
        .await;
    assert_eq!(reply["response_type"], "ephemeral");
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .contains("Incident #1: Login broken for SSO users"),
        "{reply}"
    );
    let expected = channel_name("login-broken-for-sso-users");
    app.eventually("the pointer is posted", |s| {
        s.channel_named(&expected).is_some() && !s.messages_in("C222").is_empty()
    })
    .await;
    let channel = app.slack.channel_named(&expected).unwrap();
    assert!(channel.members.contains(&"W333".to_string()));
    let pointer = &app.slack.messages_in("C222")[0];
    assert_eq!(pointer.thread_ts, None);
    assert!(pointer.text.contains(&format!("<#{}>", channel.id)));
}

#[tokio::test]
async fn a_declaration_without_a_title_is_named_by_number_and_asks_for_a_title() {
    let app = spawn_app().await;
    declare_by_message(&app, "EvUntitled", "I hereby declare this an incident!").await;
    let expected = channel_name("no-1");
    app.eventually("the pointer is posted", |s| {
        s.channel_named(&expected).is_some() && !s.messages_in("C111").is_empty()
    })
    .await;
    assert!(app.slack.messages_in("C111")[0]
        .text
        .contains("/incident rename"));
    let channel = app.slack.channel_named(&expected).unwrap();

    let reply = app
        .command(&channel.id, "W111", "rename Payments &amp; refunds failing")
        .await;
    assert_eq!(reply["text"], "Renamed to Payments &amp; refunds failing.");
    app.eventually("the topic carries the new title", |s| {
        s.channel_named(&expected)
            .is_some_and(|c| c.topic.contains("Payments &amp; refunds failing"))
    })
    .await;
}

#[tokio::test]
async fn a_typo_gets_an_ephemeral_reply_with_the_valid_commands() {
    let app = spawn_app().await;
    let reply = app.command("C111", "W111", "delcare db down").await;
    assert_eq!(reply["response_type"], "ephemeral");
    let text = reply["text"].as_str().unwrap();
    assert!(
        text.starts_with("`delcare` is not an /incident command."),
        "{text}"
    );
    assert!(
        text.contains("/incident declare [--private] [title]"),
        "{text}"
    );
    assert_eq!(app.count("incidents").await, 0);
}

#[tokio::test]
async fn rename_outside_an_incident_channel_says_how_to_declare() {
    let app = spawn_app().await;
    let reply = app.command("C111", "W111", "rename something").await;
    let text = reply["text"].as_str().unwrap();
    assert!(text.contains("not one"), "{text}");
    assert!(text.contains("/incident declare"), "{text}");
}

#[tokio::test]
async fn another_workspace_cannot_act_on_this_workspaces_incident() {
    let app = spawn_app().await;
    declare_by_message(
        &app,
        "EvTeamA",
        "I hereby declare this an incident: team a outage",
    )
    .await;
    let expected = channel_name("team-a-outage");
    app.eventually("the channel exists", |s| {
        s.channel_named(&expected).is_some()
    })
    .await;
    let channel = app.slack.channel_named(&expected).unwrap();

    // The same channel ID, but a command from another workspace: it is not their incident.
    let form = format!(
        "team_id=T222&channel_id={}&user_id=W999&command=%2Fincident&text=rename+hijacked",
        channel.id
    );
    let r = app
        .post_signed_at(
            "/slack/commands",
            &form,
            "application/x-www-form-urlencoded",
            now_secs(),
            &[],
        )
        .await;
    let reply: serde_json::Value = r.json().await.unwrap();
    assert!(
        reply["text"].as_str().unwrap().contains("not one"),
        "{reply}"
    );
    app.settle().await;
    let topic = app.slack.channel_named(&expected).unwrap().topic;
    assert!(!topic.contains("hijacked"), "{topic}");

    // Their events naming that channel ID are not recorded into this workspace's incident.
    let mut foreign = message_event(
        "EvForeign",
        &channel.id,
        "W999",
        &ts(55),
        "a message from another workspace",
    );
    foreign["team_id"] = "T222".into();
    foreign["event"]["team"] = "T222".into();
    foreign["authorizations"][0]["team_id"] = "T222".into();
    assert_eq!(app.post_event(&foreign).await.status(), 200);
    app.settle().await;
    assert_eq!(app.count("messages").await, 0, "nothing crosses workspaces");

    // Their own first incident is their #1.
    let mut other = message_event(
        "EvTeamB",
        "C999",
        "W999",
        &ts(77),
        "I hereby declare this an incident: team b outage",
    );
    other["team_id"] = "T222".into();
    other["event"]["team"] = "T222".into();
    other["authorizations"][0]["team_id"] = "T222".into();
    assert_eq!(app.post_event(&other).await.status(), 200);
    let b = channel_name("team-b-outage");
    app.eventually("team B's channel has its welcome", |s| {
        s.channel_named(&b)
            .is_some_and(|c| !s.messages_in(&c.id).is_empty())
    })
    .await;
    let b_welcome = app
        .slack
        .calls_to("chat.postMessage")
        .into_iter()
        .find(|c| c.params["channel"] == app.slack.channel_named(&b).unwrap().id.as_str())
        .unwrap();
    assert!(
        b_welcome.params["text"]
            .as_str()
            .unwrap()
            .contains("Incident #1"),
        "{:?}",
        b_welcome.params
    );
}

/// Slack's `message_changed` for `ts` in C111: `before` edited into `after`.
fn edit(ts: &str, before: &str, after: &str) -> serde_json::Value {
    serde_json::json!({"type": "message", "subtype": "message_changed", "hidden": true, "channel": "C111",
        "message": {"type": "message", "user": "W111", "text": after, "edited": {"user": "W111", "ts": ts}, "ts": ts},
        "previous_message": {"type": "message", "user": "W111", "text": before, "ts": ts},
        "event_ts": ts, "ts": ts, "channel_type": "channel"})
}

#[tokio::test]
async fn fixing_a_typo_in_the_phrase_declares_the_incident() {
    let app = spawn_app().await;
    let t = format!("{}.000100", Utc::now().timestamp());
    let (typo, fixed) = (
        "I hereby declare this an incidnet: search is down",
        "I hereby declare this an incident: search is down",
    );
    let posted = message_event("EvTypo", "C111", "W111", &t, typo);
    assert_eq!(app.post_event(&posted).await.status(), 200);
    app.wait_processed().await;
    assert_eq!(app.count("incidents").await, 0);
    assert_eq!(
        app.post_event(&envelope("EvFixed", edit(&t, typo, fixed)))
            .await
            .status(),
        200
    );
    let name = format!("incident-{}-search-is-down", today());
    app.eventually("the incident's channel is opened", |s| {
        s.channel_named(&name).is_some()
    })
    .await;
    // Slack also sends a message_changed for an unfurl or a later edit: no second incident.
    assert_eq!(
        app.post_event(&envelope("EvUnfurl", edit(&t, fixed, fixed)))
            .await
            .status(),
        200
    );
    app.wait_processed().await;
    assert_eq!(app.count("incidents").await, 1);
}

#[tokio::test]
async fn fixing_the_typo_after_declaring_with_the_command_declares_no_second_incident() {
    let app = spawn_app().await;
    let t = format!("{}.000100", Utc::now().timestamp());
    let typo = "I hereby declare this an incidnet: search is down";
    let posted = message_event("EvTypo2", "C111", "W111", &t, typo);
    assert_eq!(app.post_event(&posted).await.status(), 200);
    app.command("C111", "W111", "declare search is down").await;
    app.wait_processed().await;
    assert_eq!(app.count("incidents").await, 1);
    let fixed = "I hereby declare this an incident: search is down";
    assert_eq!(
        app.post_event(&envelope("EvFixed2", edit(&t, typo, fixed)))
            .await
            .status(),
        200
    );
    app.wait_processed().await;
    assert_eq!(app.count("incidents").await, 1);
}
