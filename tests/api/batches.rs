//! Recording in batches: deliveries are processed many to a transaction, in the order they
//! arrived, and one that can never be processed neither blocks its batch nor is retried
//! forever; workers taking new deliveries never take the same one.

use hereby::store::deliveries::OwnedDelivery;
use sqlx::Row;

use crate::helpers::*;

/// Makes the database refuse to record any message whose text contains `poison`, as a
/// delivery that can never be processed.
async fn poison_messages(app: &TestApp) {
    let store = app.store().await;
    let statements: &[&str] = if app.db_url.starts_with("postgres") {
        &[
            "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'poisoned'; END; $$ LANGUAGE plpgsql",
            "CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW WHEN (NEW.text LIKE '%poison%') EXECUTE FUNCTION refuse_poison()",
        ]
    } else {
        &["CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.text LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned'); END"]
    };
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(*sql))
            .execute(store.pool())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_delivery_that_can_never_be_recorded_does_not_hold_up_its_batch_and_is_marked_failed() {
    let app = spawn_app_with(Options {
        env: vec![("HEREBY_MAX_ATTEMPTS", "3".into())],
        ..Options::default()
    })
    .await;
    let c = app.declared("poison").await;
    poison_messages(&app).await;
    let texts = ["first", "second", "poison pill", "fourth", "fifth"];
    let sends = texts.iter().enumerate().map(|(n, text)| {
        let event = say(&c, "W222", &ts(100 + n as u64), text);
        let app = &app;
        async move {
            let r = app
                .post_event(&envelope(&format!("EvBatch{n}"), event))
                .await;
            assert_eq!(r.status(), 200);
        }
    });
    futures_util::future::join_all(sends).await;
    app.wait_processed().await;

    let store = app.store().await;
    let recorded: Vec<String> =
        sqlx::query("SELECT text FROM messages WHERE incident_id = 1 ORDER BY posted_at")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("text"))
            .collect();
    assert_eq!(recorded, ["first", "second", "fourth", "fifth"]);
    let failed = sqlx::query(
        "SELECT attempts, last_error, payload FROM deliveries WHERE event_id = 'EvBatch2'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(failed.get::<i64, _>("attempts"), 3);
    assert!(failed
        .get::<String, _>("last_error")
        .starts_with("failed after 3 attempts"));
    assert!(
        failed.get::<String, _>("payload").contains("poison pill"),
        "the payload is kept to look at"
    );
}

async fn attempts_of(app: &TestApp, event_id: &str) -> i64 {
    sqlx::query_scalar("SELECT attempts FROM deliveries WHERE event_id = $1")
        .bind(event_id)
        .fetch_one(app.store().await.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_delivery_left_from_before_a_restart_is_retried_with_its_attempt_counted_in_case_it_brought_hereby_down(
) {
    let mut app = spawn_app().await;
    let c = app.declared("left over").await;
    app.stop().await;
    // Acknowledged, then the process died before it was processed: perhaps because of it.
    app.store()
        .await
        .record_deliveries(
            &[stored_message("EvLeft", &c, 100, "stored before the crash")],
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let app = app.restart().await;
    app.wait_processed().await;
    assert_eq!(
        attempts_of(&app, "EvLeft").await,
        1,
        "claimed, counting an attempt"
    );
    // What arrives from then on is new: taken (or recorded as it is stored) with no lease.
    let r = app
        .post_event(&envelope(
            "EvFresh",
            say(&c, "W222", &ts(101), "said after the restart"),
        ))
        .await;
    assert_eq!(r.status(), 200);
    app.wait_processed().await;
    assert_eq!(attempts_of(&app, "EvFresh").await, 0);
    let texts: Vec<String> =
        sqlx::query_scalar("SELECT text FROM messages WHERE incident_id = 1 ORDER BY ts")
            .fetch_all(app.store().await.pool())
            .await
            .unwrap();
    assert_eq!(texts, ["stored before the crash", "said after the restart"]);
}

#[tokio::test]
async fn two_workers_taking_new_deliveries_at_once_never_take_the_same_one() {
    let mut app = spawn_app().await;
    if !app.db_url.starts_with("postgres") {
        // On SQLite the transaction that takes deliveries holds the database's only write
        // lock, so a second one cannot begin until the first has ended.
        return;
    }
    let c = app.declared("two workers").await;
    app.stop().await;
    let store = app.store().await;
    let batch: Vec<OwnedDelivery> = (0..10)
        .map(|n| stored_message(&format!("EvTwo{n}"), &c, 200 + n, "twice?"))
        .collect();
    store
        .record_deliveries(&batch, chrono::Utc::now())
        .await
        .unwrap();
    let mut first = store.begin_write().await.unwrap();
    let mut second = store.begin_write().await.unwrap();
    let a = store.take_deliveries(&mut first, 0, 6).await.unwrap();
    let b = store.take_deliveries(&mut second, 0, 6).await.unwrap();
    let ids = |taken: &[hereby::store::deliveries::PendingDelivery]| -> Vec<String> {
        taken.iter().map(|d| d.event_id.clone()).collect()
    };
    assert_eq!(
        ids(&a),
        (0..6).map(|n| format!("EvTwo{n}")).collect::<Vec<_>>()
    );
    assert_eq!(
        ids(&b),
        (6..10).map(|n| format!("EvTwo{n}")).collect::<Vec<_>>(),
        "the second passes over what the first holds"
    );
    // Once the first gives its deliveries back (say it died), they can be taken again.
    first.rollback().await.unwrap();
    let mut third = store.begin_write().await.unwrap();
    let c = store.take_deliveries(&mut third, 0, 10).await.unwrap();
    assert_eq!(ids(&c), ids(&a));
}

/// The messages of one burst, in the order they arrive: links mentioned again, a person seen
/// first in a message that arrives later, a second copy of a message edited since, hereby's own
/// message, and an app that is named only by its bot ID.
fn burst(channel: &str) -> Vec<hereby::slack::events::PostedMessage> {
    use hereby::domain::{ChannelId, TeamId, UserId};
    let ts = stamp;
    let message = |user: Option<&str>, at: u64, text: &str| hereby::slack::events::PostedMessage {
        team: TeamId::new(TEAM),
        channel: ChannelId::new(channel),
        user: user.map(UserId::new),
        text: text.to_string(),
        ts: ts(at),
        thread_ts: None,
        from_bot: false,
        from_self: false,
        subtype: None,
        author_name: None,
        bot_id: None,
        blocks: None,
        attachments: None,
        files: None,
        private_conversation: false,
        edited_ts: None,
    };
    let mut edited = message(
        Some("W2"),
        101,
        "<https://a.example/> is back, see <https://c.example/>",
    );
    edited.edited_ts = Some(ts(105));
    let mut own = message(None, 102, "hereby's welcome");
    (own.from_bot, own.from_self, own.bot_id) = (true, true, Some("BHEREBY".into()));
    let app = |at: u64| {
        let mut m = message(None, at, "deploy finished");
        (m.from_bot, m.bot_id) = (true, Some("B1".into()));
        m
    };
    let mut reply = message(Some("W3"), 104, "runbook: <https://a.example/|the runbook>");
    reply.thread_ts = Some(ts(100));
    vec![
        message(
            Some("W1"),
            100,
            "errors at <https://a.example/> and <https://b.example/>",
        ),
        message(Some("W2"), 101, "<https://a.example/> again"),
        message(Some("W1"), 99, "I saw it first"),
        edited,
        own,
        app(103),
        app(106),
        reply,
    ]
}

/// A Slack ts `n` seconds into a fixed minute, so that each message has a time of its own.
fn stamp(n: u64) -> String {
    format!("{}.000100", 1_790_000_000 + n)
}

/// The parts of incident 1's record a burst touches, comparable between two databases (the
/// declarer, seen at the declaration, is left out).
async fn record_of(app: &TestApp) -> Vec<String> {
    let store = app.store().await;
    let mut out = Vec::new();
    for sql in [
        "SELECT ts, COALESCE(thread_ts, ''), COALESCE(user_id, ''), author_kind, COALESCE(text, ''), COALESCE(edited_at, 0) FROM messages WHERE incident_id = 1 ORDER BY ts",
        "SELECT url, COALESCE(label, ''), COALESCE(first_by, ''), first_at, COALESCE(first_ts, ''), mentions FROM links WHERE incident_id = 1 ORDER BY url",
        "SELECT user_id, first_seen_at FROM participants WHERE incident_id = 1 AND user_id <> 'W111' ORDER BY user_id",
        "SELECT dedupe_key FROM outbox WHERE dedupe_key LIKE '%look_up%' AND dedupe_key NOT LIKE '%W111' ORDER BY dedupe_key",
        "SELECT COALESCE(previous_text, '') FROM message_edits ORDER BY edited_at",
    ] {
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(store.pool())
            .await
            .unwrap()
        {
            let cells: Vec<String> = (0..row.len())
                .map(|i| {
                    row.try_get::<String, _>(i)
                        .or_else(|_| row.try_get::<i64, _>(i).map(|n| n.to_string()))
                        .unwrap()
                })
                .collect();
            out.push(cells.join(" | "));
        }
    }
    out
}

#[tokio::test]
async fn messages_recorded_together_read_exactly_as_if_recorded_one_at_a_time() {
    use hereby::app::record;
    use hereby::domain::{ChannelId, TeamId};
    let mut outcomes = Vec::new();
    let mut records = Vec::new();
    for together in [false, true] {
        let app = spawn_app().await;
        let channel = app.declared("burst").await;
        app.settle().await;
        let store = app.store().await;
        let mut tx = store.begin_write().await.unwrap();
        let incident = hereby::store::incidents::by_channel(
            &mut tx,
            &TeamId::new(TEAM),
            &ChannelId::new(&channel),
        )
        .await
        .unwrap()
        .unwrap();
        let burst = burst(&channel);
        let now = chrono::Utc::now();
        let what = if together {
            let all: Vec<_> = burst.iter().collect();
            record::messages(&mut tx, &incident, &all, "event", now)
                .await
                .unwrap()
        } else {
            let mut what = Vec::new();
            for m in &burst {
                what.push(
                    record::message(&mut tx, &incident, m, "event", now)
                        .await
                        .unwrap(),
                );
            }
            what
        };
        tx.commit().await.unwrap();
        outcomes.push(what);
        records.push(record_of(&app).await);
    }
    assert_eq!(outcomes[0], outcomes[1]);
    assert_eq!(records[0], records[1]);
    assert_eq!(
        outcomes[1],
        [
            "message",
            "message",
            "message",
            "message already recorded",
            "hereby's own message",
            "message",
            "message",
            "message",
        ]
    );
    let record = records[1].join("\n");
    let (ts, at) = (stamp, |n: u64| ((1_790_000_000 + n) * 1000).to_string());
    for expected in [
        // The copy's edit is applied and the first text kept in the edit history.
        format!(
            "<https://a.example/> is back, see <https://c.example/> | {}",
            at(105)
        ),
        "<https://a.example/> again".to_string(),
        // Three mentions of one link: the first keeps its author; the label comes later.
        format!("https://a.example/ |  | W1 | {} | {} | 3", at(100), ts(100)),
        format!("https://b.example/ |  | W1 | {} | {} | 1", at(100), ts(100)),
        // W1 is first seen in the message that arrived later but was posted earlier.
        format!("W1 | {}", at(99)),
        format!("W3 | {}", at(104)),
        // The app is looked up once, whatever number of its messages.
        "B1".to_string(),
    ] {
        assert!(
            record.contains(&expected),
            "{expected} missing from:\n{record}"
        );
    }
    assert_eq!(record.matches("look_up_bot").count(), 1, "{record}");
    // A link only the edit added counts once, from the copy that brought the edit (the
    // edit's own event then finds nothing changed).
    let added: Vec<&str> = record
        .lines()
        .filter(|l| l.starts_with("https://c.example"))
        .collect();
    assert_eq!(added.len(), 1, "{record}");
    assert!(added[0].ends_with(" | 1"), "{record}");
}

#[tokio::test]
async fn on_sqlite_a_message_is_in_the_record_by_the_time_its_delivery_is_acknowledged() {
    let app = spawn_app().await;
    let c = app.declared("recorded at once").await;
    app.settle().await;
    let r = app
        .post_event(&envelope(
            "EvAtOnce",
            say(&c, "W222", &ts(700), "rolling back now"),
        ))
        .await;
    assert_eq!(r.status(), 200);
    let on_sqlite = app.db_url.starts_with("sqlite");
    if !on_sqlite {
        // PostgreSQL: the worker records it beside the next batch being stored.
        app.wait_processed().await;
    }
    // On SQLite no waiting: the transaction that stored the delivery also recorded it.
    let store = app.store().await;
    let recorded: Vec<String> = sqlx::query_scalar(
        "SELECT text FROM messages WHERE incident_id = 1 AND text = 'rolling back now'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(recorded, ["rolling back now"]);
    if on_sqlite {
        // Stored and recorded in one transaction, with one reading of the clock: a worker
        // recording it afterwards would have marked it processed later.
        let (received, processed): (i64, i64) = sqlx::query_as(
            "SELECT received_at, processed_at FROM deliveries WHERE event_id = 'EvAtOnce'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(processed, received);
    }
}

#[tokio::test]
async fn one_batch_keeps_what_concerns_the_incident_erases_the_rest_and_notes_each_outcome() {
    let mut app = spawn_app().await;
    let c = app.declared("mixed batch").await;
    app.stop().await;
    let store = app.store().await;
    // More of each kind than the shortest statement names, in an order that interleaves them.
    let mut batch = Vec::new();
    for n in 0..12u64 {
        batch.push(stored_message(
            &format!("EvIn{n}"),
            &c,
            500 + n,
            "in the incident",
        ));
        if n % 2 == 0 {
            batch.push(stored_message(
                &format!("EvOut{n}"),
                "C111",
                500 + n,
                "elsewhere",
            ));
        }
    }
    let mut unreadable = stored_message("EvUnreadable", &c, 600, "x");
    unreadable.payload = "{not json".into();
    batch.push(unreadable);
    store
        .record_deliveries(&batch, chrono::Utc::now())
        .await
        .unwrap();
    let worker = hereby::jobs::deliveries::DeliveryWorker::new(
        app.app.clone(),
        std::time::Duration::from_millis(10),
    );
    for _ in 0..100 {
        worker.run_once().await.unwrap();
        if app.count_where("deliveries", "processed_at IS NULL").await == 0 {
            break;
        }
    }
    let rows = sqlx::query(
        "SELECT event_id, payload, COALESCE(last_error, '') AS note FROM deliveries
         WHERE event_id LIKE 'EvIn%' OR event_id LIKE 'EvOut%' OR event_id = 'EvUnreadable'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 19);
    for row in rows {
        let (event, payload, note): (String, String, String) =
            (row.get("event_id"), row.get("payload"), row.get("note"));
        if event.starts_with("EvIn") {
            assert!(
                payload.contains("in the incident"),
                "{event} keeps its payload"
            );
            assert!(note.starts_with("Recorded"), "{event}: {note}");
        } else if event.starts_with("EvOut") {
            assert_eq!(payload, "", "{event} is erased");
            assert!(note.starts_with("Elsewhere"), "{event}: {note}");
        } else {
            assert_eq!(payload, "", "an unreadable delivery is erased");
            assert!(note.starts_with("undecodable"), "{note}");
        }
    }
    assert_eq!(
        app.count_where("messages", "text = 'in the incident'")
            .await,
        12
    );
}
