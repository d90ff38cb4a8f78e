//! The real `hereby` binary as separate processes: JSON logs, a clean exit on SIGTERM, and two
//! replicas sharing one database and one Slack, each side effect happening once.

use std::time::Duration;

use sqlx::Row;

use crate::fake_slack::{FakeSlack, BOT_TOKEN};
use crate::helpers::*;
use crate::process::{database_url, Hereby as Replica};

#[tokio::test]
async fn json_logs_and_a_clean_exit_on_sigterm_with_nothing_acknowledged_lost() {
    let dir = tempfile::tempdir().unwrap();
    let slack = FakeSlack::start().await;
    let db = database_url(&dir).await;
    let replica = Replica::start(&db, &slack).await;
    let client = reqwest::Client::new();
    let body = message_event(
        "EvTerm",
        "C111",
        "W111",
        &ts(1),
        "I hereby declare this an incident: sigterm",
    )
    .to_string();
    assert_eq!(replica.post(&client, &body, None).await, 200);
    let (status, logs) = replica.terminate().await;
    assert!(status.success(), "exit status {status:?}");
    assert!(
        logs.iter()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "every log line is JSON: {logs:?}"
    );
    assert!(logs.iter().any(|l| l.contains("Shutting down")), "{logs:?}");
    assert!(
        logs.iter()
            .all(|l| !l.contains(SIGNING_SECRET) && !l.contains(BOT_TOKEN)),
        "secrets never reach the log"
    );

    // Whatever the first process did not finish, the next one does.
    let replica = Replica::start(&db, &slack).await;
    let name = format!("incident-{}-sigterm", today());
    for _ in 0..200 {
        if slack
            .channel_named(&name)
            .is_some_and(|c| !c.pins.is_empty())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        slack
            .channel_named(&name)
            .is_some_and(|c| !c.pins.is_empty()),
        "{:#?}",
        slack.calls()
    );
    drop(replica);
}

#[tokio::test]
async fn two_replicas_on_one_database_do_every_side_effect_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let slack = FakeSlack::start().await;
    let db = database_url(&dir).await;
    let a = Replica::start(&db, &slack).await;
    let b = Replica::start(&db, &slack).await;
    let client = reqwest::Client::new();
    const INCIDENTS: usize = 8;
    for i in 0..INCIDENTS {
        let body = message_event(
            &format!("EvRep{i}"),
            "C111",
            "W111",
            &ts(100 + i as u64),
            &format!("I hereby declare this an incident: replica drill {i}"),
        )
        .to_string();
        // Slack retries reach whichever replica the load balancer picks: send each twice.
        let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        assert_eq!(first.post(&client, &body, None).await, 200);
        assert_eq!(second.post(&client, &body, Some("1")).await, 200);
    }
    let complete = |s: &FakeSlack| {
        s.channels()
            .iter()
            .filter(|c| !c.pins.is_empty() && c.topic.contains("Commander"))
            .count()
            == INCIDENTS
            && s.messages_in("CANNOUNCE").len() >= INCIDENTS
            && s.messages_in("C111").len() >= INCIDENTS
    };
    for _ in 0..400 {
        if complete(&slack) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        complete(&slack),
        "not every incident completed: {:#?}",
        slack.channels()
    );
    // Every effect either replica queued is done before counting what reached Slack.
    let store = hereby::store::Store::connect(&db).await.unwrap();
    let mut pending = -1;
    for _ in 0..400 {
        pending =
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pending, 0, "the replicas' outbox emptied");
    assert_eq!(slack.channels().len(), INCIDENTS, "no channel twice");
    assert_eq!(slack.calls_to("conversations.create").len(), INCIDENTS);
    assert_eq!(slack.calls_to("pins.add").len(), INCIDENTS);
    assert_eq!(slack.calls_to("conversations.invite").len(), INCIDENTS);
    assert_eq!(
        slack.messages_in("CANNOUNCE").len(),
        INCIDENTS,
        "each announcement once"
    );
    assert_eq!(
        slack.messages_in("C111").len(),
        INCIDENTS,
        "each pointer once"
    );
    let mut names: Vec<String> = slack.channels().into_iter().map(|c| c.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), INCIDENTS);
    drop((a, b));
}

#[tokio::test]
async fn sigkill_mid_stream_loses_no_acknowledged_delivery_and_processes_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let slack = FakeSlack::start().await;
    let db = database_url(&dir).await;
    let first = Replica::start(&db, &slack).await;
    let client = reqwest::Client::new();
    let declare = message_event(
        "EvCrash0",
        "C111",
        "W111",
        &ts(1),
        "I hereby declare this an incident: crash drill",
    )
    .to_string();
    assert_eq!(first.post(&client, &declare, None).await, 200);
    let name = format!("incident-{}-crash-drill", today());
    for _ in 0..200 {
        if slack
            .channel_named(&name)
            .is_some_and(|c| !c.pins.is_empty())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let channel = slack
        .channel_named(&name)
        .expect("the incident channel exists")
        .id;

    // Stream messages into the incident channel; kill -9 the process part-way through.
    let addr = first.addr.clone();
    let pid = first.child.id();
    let sender = tokio::spawn({
        let channel = channel.clone();
        async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let mut acked = Vec::new();
            for i in 0..300u64 {
                let body = envelope(
                    &format!("EvStream{i}"),
                    say(
                        &channel,
                        "W222",
                        &ts(10_000 + i),
                        &format!("step {i} <https://logs.example.com/{i}|log {i}>"),
                    ),
                )
                .to_string();
                let url = format!("{addr}/slack/events");
                let json = "application/json";
                let status = signed_post(&client, &url, json, body.as_bytes(), now_secs())
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                if status == 200 {
                    acked.push(i);
                }
            }
            acked
        }
    });
    let store = hereby::store::Store::connect(&db).await.unwrap();
    for _ in 0..400 {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM deliveries")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get("n");
        if n >= 80 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
    let acked = sender.await.unwrap();
    drop(first);
    assert!(
        !acked.is_empty() && acked.len() < 300,
        "the kill landed mid-stream ({} acked)",
        acked.len()
    );

    let second = Replica::start(&db, &slack).await;
    // What the dead process had claimed comes back when its lease lapses (10 s).
    for _ in 0..600 {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM deliveries WHERE processed_at IS NULL")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get("n");
        if n == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for i in &acked {
        let row = sqlx::query("SELECT processed_at FROM deliveries WHERE event_id = $1")
            .bind(format!("EvStream{i}"))
            .fetch_optional(store.pool())
            .await
            .unwrap();
        let processed: Option<i64> = row.as_ref().and_then(|r| r.get("processed_at"));
        assert!(
            processed.is_some(),
            "acknowledged delivery {i} was not processed"
        );
        let mentions: i64 = sqlx::query("SELECT mentions FROM links WHERE url = $1")
            .bind(format!("https://logs.example.com/{i}"))
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get("mentions");
        assert_eq!(mentions, 1, "delivery {i} was processed more than once");
    }
    let recorded: i64 = sqlx::query("SELECT COUNT(*) AS n FROM messages WHERE text LIKE 'step %'")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("n");
    assert!(recorded as usize >= acked.len());
    drop(second);
}
