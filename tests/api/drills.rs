//! Drills for the worst hour: hereby killed mid-stream, Slack failing in every way during
//! declarations, a locked database, the command line beside a busy writer, and hostile or
//! broken input.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use sqlx::Row;

use crate::fake_slack::{Failure, FakeSlack};
use crate::helpers::*;

#[tokio::test]
async fn slack_failing_in_every_way_during_declarations_delays_but_completes_each_once() {
    let app = spawn_app().await;
    let s = &app.slack;
    s.fail_next(
        "conversations.create",
        [
            Failure::Status(500),
            Failure::RateLimited {
                retry_after_secs: 1,
            },
            Failure::Hang(Duration::from_secs(3)),
        ],
    );
    s.fail_next(
        "chat.postMessage",
        [
            Failure::Status(502),
            Failure::Hang(Duration::from_secs(3)),
            Failure::RateLimited {
                retry_after_secs: 1,
            },
            Failure::Error("internal_error"),
        ],
    );
    s.fail_next(
        "conversations.invite",
        [
            Failure::RateLimited {
                retry_after_secs: 1,
            },
            Failure::Status(503),
        ],
    );
    s.fail_next(
        "conversations.setTopic",
        [Failure::Hang(Duration::from_secs(3))],
    );
    s.fail_next("pins.add", [Failure::Status(500)]);
    const INCIDENTS: usize = 4;
    for i in 0..INCIDENTS {
        let payload = message_event(
            &format!("EvOutage{i}"),
            "C111",
            "W111",
            &ts(500 + i as u64),
            &format!("I hereby declare this an incident: outage drill {i}"),
        );
        assert_eq!(
            app.post_event(&payload).await.status(),
            200,
            "acknowledged at once, whatever Slack does"
        );
    }
    let complete = |s: &FakeSlack| {
        let channels = s.channels();
        channels.len() == INCIDENTS
            && channels.iter().all(|c| {
                !c.pins.is_empty()
                    && c.members.contains(&"W111".to_string())
                    && c.topic.contains("Commander")
            })
            && s.messages_in("C111").len() == INCIDENTS
            && s.messages_in("CANNOUNCE").len() == INCIDENTS
    };
    for _ in 0..600 {
        if complete(s) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        complete(s),
        "incidents incomplete after the outage: {:#?}",
        s.channels()
    );
    app.settle().await;
    let mut names: Vec<String> = s.channels().into_iter().map(|c| c.name).collect();
    names.sort();
    let expected: Vec<String> = (0..INCIDENTS)
        .map(|i| format!("incident-{}-outage-drill-{i}", today()))
        .collect();
    assert_eq!(names, expected, "no channel twice, no -2");
    for c in s.channels() {
        assert_eq!(s.messages_in(&c.id).len(), 1, "one welcome in {}", c.name);
    }
}

#[tokio::test]
async fn a_locked_database_gets_503_and_an_unhealthy_healthz_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("locked.db").display());
    let app = spawn_app_with(Options {
        env: vec![("DATABASE_URL", db.clone())],
        ..Options::default()
    })
    .await;
    let store = app.store().await;
    let lock = store.pool().begin_with("BEGIN EXCLUSIVE").await.unwrap();

    let payload = message_event(
        "EvLocked",
        "C111",
        "W111",
        &ts(1),
        "I hereby declare this an incident: locked",
    )
    .to_string();
    let r = app
        .post_signed_at(
            "/slack/events",
            &payload,
            "application/json",
            now_secs(),
            &[],
        )
        .await;
    assert_eq!(r.status(), 503, "never 200-and-lost");
    let health = app
        .client
        .get(format!("{}/healthz", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 503);

    lock.rollback().await.unwrap();
    // Slack retries; on a busy machine the first retry may still meet the writer catching up.
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(app.deliver_as_slack(&payload).await, 200);
    // A load balancer polls /healthz: it is healthy again within a few polls (each probe
    // waits up to 2 s for the database, so a busy machine may fail one).
    let mut polls = Vec::new();
    while polls.len() < 5 && polls.last() != Some(&200) {
        let health = app.client.get(format!("{}/healthz", app.addr)).send();
        polls.push(health.await.unwrap().status().as_u16());
    }
    assert_eq!(
        polls.last(),
        Some(&200),
        "/healthz once the lock is gone: {polls:?}"
    );
    app.eventually("the incident is declared after all", |s| {
        !s.channels().is_empty()
    })
    .await;
}

#[tokio::test]
async fn hostile_or_broken_input_gets_a_4xx_or_a_helpful_answer_and_stores_nothing() {
    let app = spawn_app().await;
    let post = |path: &'static str, body: Vec<u8>, ct: &'static str| {
        let app = &app;
        async move {
            let url = format!("{}{path}", app.addr);
            signed_post(&app.client, &url, ct, &body, now_secs())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let cases: Vec<(&'static str, Vec<u8>, &'static str, u16)> = vec![
        ("/slack/events", b"{\"type\":\"event_callback\",".to_vec(), "application/json", 400),
        ("/slack/events", b"not json at all".to_vec(), "text/plain", 400),
        ("/slack/events", b"{\"type\":\"event_callback\",\"team_id\":\"T111\"}".to_vec(), "application/json", 400),
        ("/slack/events", b"{\"type\":\"url_verification\"}".to_vec(), "application/json", 400),
        ("/slack/events", vec![0xff, 0xfe, 0x00, 0x7b], "application/json", 401),
        ("/slack/events", json!({"type": "event_callback", "team_id": "T111", "event_id": "Ev\u{0}\u{7}", "event": 42}).to_string().into_bytes(), "application/json", 400),
        ("/slack/events", json!({"type": "event_callback", "team_id": "T111", "event_id": "EvOdd1", "event": {"type": "\u{0}x", "text": "\u{0}"}}).to_string().into_bytes(), "application/json", 200),
        ("/slack/commands", b"text=declare+x".to_vec(), "application/x-www-form-urlencoded", 400),
        ("/slack/commands", b"%%%".to_vec(), "application/x-www-form-urlencoded", 400),
        ("/slack/interactions", b"payload=%7Bnot-json".to_vec(), "application/x-www-form-urlencoded", 400),
        ("/slack/interactions", b"nopayload=1".to_vec(), "application/x-www-form-urlencoded", 400),
        ("/slack/interactions", b"payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A5%7D".to_vec(), "application/x-www-form-urlencoded", 200),
    ];
    for (path, body, ct, expected) in cases {
        let got = post(path, body.clone(), ct).await;
        assert_eq!(got, expected, "{path} {:?}", String::from_utf8_lossy(&body));
    }
    // The one syntactically valid event with a nonsense body is kept as delivered but does
    // nothing; nothing else was stored.
    app.settle().await;
    assert_eq!(app.count("deliveries").await, 1);
    assert_eq!(app.count("incidents").await, 0);

    // Control characters and a 10,000-character title: a clean title, a channel name that fits.
    let long = format!("db\u{0}\u{7}\t{}", "x".repeat(10_000));
    let reply = app.command("C222", "W111", "note \u{0}nul in a note").await;
    assert!(
        reply["text"].as_str().unwrap().contains("incident channel"),
        "{reply}"
    );
    let reply = app
        .command("C222", "W111", &format!("declare {long}"))
        .await;
    assert_eq!(reply["response_type"], "ephemeral");
    app.eventually("the channel exists", |s| !s.channels().is_empty())
        .await;
    let name = app.slack.channels()[0].name.clone();
    assert!(
        name.len() <= 80
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "{name}"
    );
    let store = app.store().await;
    let title: String = sqlx::query("SELECT title FROM incidents")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("title");
    assert!(
        title.chars().count() <= 120 && !title.chars().any(char::is_control),
        "{title:?}"
    );
}

#[tokio::test]
async fn a_nul_character_in_a_message_is_dropped_not_a_poison_delivery() {
    let app = spawn_app().await;
    let c = app.declared("nul bytes").await;
    deliver(&app, "EvNul", say(&c, "W222", &ts(3), "before\u{0}after")).await;
    app.wait_processed().await;
    let store = app.store().await;
    let text: String = sqlx::query("SELECT text FROM messages")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("text");
    assert_eq!(text, "beforeafter");
}

#[tokio::test]
async fn the_command_line_answers_while_hereby_records_a_burst() {
    let app = spawn_app().await;
    let c = app.declared("busy database").await;
    // The command line opens the same database while the server's writer commits batch after
    // batch: each of its statements waits its turn rather than failing as "locked".
    let url = app.db_url.clone();
    let commands = tokio::task::spawn_blocking(move || {
        let mut failures = Vec::new();
        let commands: [&[&str]; 2] = [&["outbox", "retry", "--all"], &["postmortem", "1"]];
        for args in commands.iter().cycle().take(6) {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_hereby"))
                .args(*args)
                .env_clear()
                .env("DATABASE_URL", &url)
                .output()
                .unwrap();
            if !out.status.success() {
                failures.push(String::from_utf8_lossy(&out.stderr).into_owned());
            }
        }
        failures
    });
    let burst = (0..400u64).map(|n| {
        let app = &app;
        let c = &c;
        async move {
            let event = say(c, "W222", &ts(1_000 + n), &format!("burst {n}"));
            deliver(app, &format!("EvBurst{n}"), event).await;
        }
    });
    futures_util::stream::iter(burst)
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    let failures = commands.await.unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
    app.wait_processed().await;
    assert_eq!(
        app.count_where("messages", "text LIKE 'burst %'").await,
        400
    );
}
