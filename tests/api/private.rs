//! Private incidents: `/incident declare --private` opens a private channel, is announced
//! without its title, points only its declarer at the channel, keeps its updates out of the
//! announcement channel, and the web view shows it only to its channel's members.

use crate::helpers::*;
use crate::web::{get_as, signed_in};

#[tokio::test]
async fn a_private_incident_gets_a_private_channel_and_is_not_announced_by_title() {
    let app = spawn_app().await;
    app.command("C111", "W111", "declare --private Payroll export leaked")
        .await;
    app.eventually("the private channel has its welcome", |s| {
        s.channels()
            .iter()
            .any(|c| c.private && c.name.contains("payroll-export-leaked") && !c.pins.is_empty())
    })
    .await;
    app.eventually("the announcement is made", |s| {
        !s.messages_in("CANNOUNCE").is_empty()
    })
    .await;
    let c = app
        .slack
        .channels()
        .into_iter()
        .find(|c| c.private)
        .unwrap()
        .id;
    app.eventually("the declarer is pointed at the channel", |s| {
        s.responses().iter().any(|(_, r)| {
            r["text"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("<#{c}>"))
        })
    })
    .await;
    let announced: Vec<String> = app
        .slack
        .messages_in("CANNOUNCE")
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert!(
        announced
            .iter()
            .all(|t| !t.contains("Payroll") && !t.contains(&c)),
        "{announced:?}"
    );
    assert!(
        app.slack.messages_in("C111").is_empty(),
        "nothing about it in the channel it was declared from"
    );

    // Its updates stay in its channel, and the reply says so.
    let reply = app
        .command(&c, "W111", "update Access revoked, auditing exports")
        .await;
    assert_eq!(reply["text"], "Update posted here.");
    app.eventually("the update is said in the channel", |s| {
        s.messages_in(&c)
            .iter()
            .any(|m| m.text.contains("auditing exports"))
    })
    .await;
    app.settle().await;
    assert!(app
        .slack
        .messages_in("CANNOUNCE")
        .iter()
        .all(|m| !m.text.contains("auditing exports")));
}

#[tokio::test]
async fn the_phrase_written_in_a_private_channel_declares_a_private_incident() {
    let app = spawn_app().await;
    let mut payload = message_event(
        "EvPrivatePhrase",
        "C111",
        "W111",
        &format!("{}.000100", now_secs()),
        "I hereby declare this an incident: Payroll admin credentials leaked",
    );
    payload["event"]["channel_type"] = "group".into();
    assert_eq!(app.post_event(&payload).await.status(), 200);
    app.eventually("a private channel is opened for it", |s| {
        s.channels()
            .iter()
            .any(|c| c.private && c.name.contains("payroll-admin") && !c.pins.is_empty())
    })
    .await;
    app.eventually("the announcement is made", |s| {
        !s.messages_in("CANNOUNCE").is_empty()
    })
    .await;
    assert!(
        app.slack
            .messages_in("CANNOUNCE")
            .iter()
            .all(|m| !m.text.contains("Payroll")),
        "the title stays out of the announcement channel"
    );
}

#[tokio::test]
async fn the_web_view_shows_a_private_incident_only_to_its_channels_members() {
    let app = spawn_app().await;
    app.command("C111", "W111", "declare --private Secret rotation")
        .await;
    app.eventually("the private channel exists", |s| {
        s.channels().iter().any(|c| c.private && !c.pins.is_empty())
    })
    .await;
    let member = signed_in(&app, "W111", TEAM).await;
    let outsider = signed_in(&app, "W999", TEAM).await;

    assert_eq!(get_as(&app, &member, "/incidents/1").await.status(), 200);
    let list = get_as(&app, &member, "/").await.text().await.unwrap();
    assert!(list.contains("Secret rotation"), "{list}");

    assert_eq!(get_as(&app, &outsider, "/incidents/1").await.status(), 404);
    let list = get_as(&app, &outsider, "/").await.text().await.unwrap();
    assert!(!list.contains("Secret rotation"), "{list}");
}

#[tokio::test]
async fn the_declare_form_opened_with_private_starts_ticked_and_declares_a_private_incident() {
    let app = spawn_app().await;
    let r = app.command_raw("C111", "W111", "declare --private").await;
    assert_eq!(r.status(), 200);
    let view = app.slack.views().pop().expect("the form opened");
    let blocks = view["blocks"].to_string();
    assert!(blocks.contains("initial_options"), "{blocks}");

    let submission = serde_json::json!({"type": "view_submission", "team": {"id": TEAM}, "user": {"id": "W111"},
        "view": {"callback_id": "declare_incident", "private_metadata": view["private_metadata"], "state": {"values": {
            "title": {"title": {"value": "Quiet breach"}}, "severity": {"severity": {"selected_option": null}},
            "description": {"description": {"value": null}},
            "private": {"private": {"selected_options": [{"value": "private"}]}}}}}});
    assert_eq!(app.interaction(&submission).await.status(), 200);
    app.eventually("a private channel is opened", |s| {
        s.channels()
            .iter()
            .any(|c| c.private && c.name.contains("quiet-breach"))
    })
    .await;
}

#[tokio::test]
async fn a_page_of_the_list_counts_only_the_incidents_its_viewer_may_see() {
    let app = spawn_app().await;
    // Numbers 7 to 36 are private incidents whose channels no one here is in.
    for n in 1..=56 {
        if (7..=36).contains(&n) {
            app.insert_incident(&format!("Hidden number {n:02}"), true)
                .await;
        } else {
            app.insert_incident(&format!("Outage number {n:02}"), false)
                .await;
        }
    }
    let viewer = signed_in(&app, "W999", TEAM).await;

    let first = get_as(&app, &viewer, "/").await.text().await.unwrap();
    assert!(!first.contains("Hidden number"), "{first}");
    assert_eq!(
        first.matches(r#"class="incident""#).count(),
        25,
        "a full page of what the viewer may see: {first}"
    );
    assert!(first.contains("Outage number 56") && first.contains("Outage number 02"));
    assert!(first.contains(r#"rel="next""#), "one more is older");

    let second = get_as(&app, &viewer, "/?page=2")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(second.matches(r#"class="incident""#).count(), 1, "{second}");
    assert!(second.contains("Outage number 01"));
    assert!(!second.contains(r#"rel="next""#), "nothing older to see");
}
