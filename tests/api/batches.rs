//! Recording in batches: deliveries are processed many to a transaction, in the order they
//! arrived, and one that can never be processed neither blocks its batch nor is retried
//! forever.

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
