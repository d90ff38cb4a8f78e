//! Socket Mode: the same behaviour as HTTP over a WebSocket hereby opens — deliveries stored
//! before they are acknowledged, duplicates ignored, commands and interactions answered in the
//! acknowledgement, and a reconnect whenever Slack asks.

use serde_json::json;

use crate::fake_slack::{Failure, APP_TOKEN};
use crate::fake_socket::FakeSocket;
use crate::helpers::*;

async fn socket_app() -> (TestApp, FakeSocket) {
    socket_app_with(vec![]).await
}

async fn socket_app_with(extra: Vec<(&'static str, String)>) -> (TestApp, FakeSocket) {
    let socket = FakeSocket::start().await;
    let mut env = vec![("SLACK_APP_TOKEN", APP_TOKEN.to_string())];
    env.extend(extra);
    let app = spawn_app_with(Options {
        env,
        without: vec!["SLACK_SIGNING_SECRET"],
        ..Options::default()
    })
    .await;
    app.slack.set_socket_url(&socket.url);
    for _ in 0..200 {
        if socket.connections() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (app, socket)
}

fn events_api(envelope_id: &str, retry: i64, payload: serde_json::Value) -> serde_json::Value {
    json!({"envelope_id": envelope_id, "payload": payload, "type": "events_api", "accepts_response_payload": false, "retry_attempt": retry, "retry_reason": if retry > 0 { "timeout" } else { "" }})
}

#[tokio::test]
async fn a_declaration_over_socket_mode_is_acknowledged_and_opens_the_channel() {
    let (app, socket) = socket_app().await;
    assert!(
        socket.connections() >= 1,
        "hereby connects with the app-level token"
    );
    let payload = message_event(
        "EvSock1",
        "C111",
        "W111",
        &ts(1),
        "I hereby declare this an incident: socket mode",
    );
    socket.send(events_api("env-1", 0, payload.clone()));
    assert_eq!(
        socket.ack_of("env-1").await,
        json!({"envelope_id": "env-1"})
    );
    let name = format!("incident-{}-socket-mode", today());
    app.eventually("the channel exists", |s| s.channel_named(&name).is_some())
        .await;

    // A redelivery is acknowledged and changes nothing.
    socket.send(events_api("env-2", 1, payload));
    socket.ack_of("env-2").await;
    app.settle().await;
    assert_eq!(app.count("deliveries").await, 1);
    assert_eq!(app.slack.calls_to("conversations.create").len(), 1);
}

#[tokio::test]
async fn a_slash_command_is_answered_in_its_acknowledgement() {
    let (_app, socket) = socket_app().await;
    socket.send(json!({"envelope_id": "env-cmd", "type": "slash_commands", "accepts_response_payload": true,
        "payload": {"token": "t", "team_id": TEAM, "team_domain": "test", "channel_id": "C111", "channel_name": "general",
                    "user_id": "W111", "user_name": "alice", "command": "/incident", "text": "sevrity 1",
                    "response_url": "https://hooks.slack.com/commands/T111/1/x", "trigger_id": "1.2.3"}}));
    let ack = socket.ack_of("env-cmd").await;
    assert_eq!(ack["payload"]["response_type"], "ephemeral");
    assert!(
        ack["payload"]["text"]
            .as_str()
            .unwrap()
            .starts_with("`sevrity` is not an /incident command."),
        "{ack}"
    );
}

#[tokio::test]
async fn interactions_are_acknowledged_with_their_answer() {
    let (app, socket) = socket_app().await;
    socket.send(json!({"envelope_id": "env-view", "type": "interactive", "accepts_response_payload": true,
        "payload": {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": "W111"},
                    "view": {"callback_id": "declare_incident", "private_metadata": "{\"channel\":\"C111\"}",
                             "state": {"values": {"title": {"title": {"value": ""}}}}}}}));
    let ack = socket.ack_of("env-view").await;
    assert_eq!(ack["payload"]["response_action"], "errors", "{ack}");
    assert_eq!(app.count("incidents").await, 0);
}

/// Waits (a bounded while) until `check` holds for the fake socket.
async fn until(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn when_slack_announces_a_refresh_the_next_socket_opens_before_the_old_one_closes() {
    let (app, socket) = socket_app().await;
    socket.send(json!({"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "applink-111-xxx"}}));
    until("a second connection", || socket.connections() >= 2).await;
    assert_eq!(
        socket.max_open(),
        2,
        "the new socket opened while the old one was still open"
    );
    let payload = message_event(
        "EvSock9",
        "C111",
        "W111",
        &ts(9),
        "I hereby declare this an incident: after reconnect",
    );
    socket.send(events_api("env-9", 0, payload));
    socket.ack_of("env-9").await;
    let name = format!("incident-{}-after-reconnect", today());
    app.eventually("the channel exists", |s| s.channel_named(&name).is_some())
        .await;
}

#[tokio::test]
async fn a_connection_slack_rate_limits_is_opened_again_no_sooner_than_slack_asks() {
    let (app, socket) = socket_app().await;
    let opened_before = app.slack.calls_to("apps.connections.open").len();
    app.slack.fail_next(
        "apps.connections.open",
        [Failure::RateLimited {
            retry_after_secs: 3,
        }],
    );
    socket.send(json!({"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "applink-111-xxx"}}));
    until("a second connection", || socket.connections() >= 2).await;
    let opens = app.slack.calls_to("apps.connections.open");
    let (refused, next) = (&opens[opened_before], &opens[opened_before + 1]);
    // Without Slack's Retry-After, the first back-off would be about a second.
    assert!(
        next.at - refused.at >= std::time::Duration::from_secs(3),
        "asked again after {:?}",
        next.at - refused.at
    );
}

#[tokio::test]
async fn a_half_open_connection_is_noticed_by_its_missing_pongs_and_replaced() {
    let (app, socket) = socket_app_with(vec![("HEREBY_SOCKET_PING_MS", "100".into())]).await;
    socket.go_silent();
    until("hereby opens a new connection", || {
        socket.connections() >= 2
    })
    .await;
    socket.speak_again();
    until("the silent connection is gone", || socket.open() == 1).await;
    let payload = message_event(
        "EvSilent",
        "C111",
        "W111",
        &ts(10),
        "I hereby declare this an incident: after silence",
    );
    socket.send(events_api("env-10", 0, payload));
    socket.ack_of("env-10").await;
    let name = format!("incident-{}-after-silence", today());
    app.eventually("the channel exists", |s| s.channel_named(&name).is_some())
        .await;
}

#[tokio::test]
async fn without_a_signing_secret_http_delivery_is_off() {
    let (app, _socket) = socket_app().await;
    let r = app
        .post_event(&json!({"type": "url_verification", "challenge": "x"}))
        .await;
    assert_eq!(r.status(), 404);
    let health = app
        .client
        .get(format!("{}/healthz", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
