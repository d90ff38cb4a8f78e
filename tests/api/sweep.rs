//! Old deliveries: once Slack can no longer redeliver them, those with nothing kept are
//! deleted, and what an incident keeps stays.

use std::time::Duration;

use hereby::jobs::{deliveries::DeliveryWorker, sweep::SweepWorker, Outcome};

use crate::helpers::*;

async fn deliveries_named(app: &TestApp, event_id: &str) -> i64 {
    app.count_where("deliveries", &format!("event_id = '{event_id}'"))
        .await
}

#[tokio::test]
async fn a_week_old_delivery_said_outside_incidents_is_deleted_and_an_incident_s_is_kept() {
    let mut app = spawn_app().await;
    let c = app.declared("kept for good").await;
    app.stop().await;
    let store = app.store().await;
    let week_ago = chrono::Utc::now() - chrono::Duration::days(8);
    store
        .record_deliveries(
            &[
                stored_message("EvOldElsewhere", "C0ELSEWHERE", 100, "lunch?"),
                stored_message("EvOldIncident", &c, 101, "the database is down"),
            ],
            week_ago,
        )
        .await
        .unwrap();
    store
        .record_deliveries(
            &[stored_message(
                "EvNewElsewhere",
                "C0ELSEWHERE",
                102,
                "coffee?",
            )],
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let worker = DeliveryWorker::new(app.app.clone(), Duration::from_millis(10));
    while worker.run_once().await.unwrap() == Outcome::Worked {}
    assert_eq!(
        app.count_where("deliveries", "processed_at IS NULL").await,
        0
    );

    let sweep = SweepWorker::new(store.clone(), hereby::jobs::sweep::KEEP_DELIVERIES);
    let mut steps = 0;
    while sweep.run_once().await.unwrap() == Outcome::Worked {
        steps += 1;
        assert!(steps < 100, "the sweep ends");
    }
    assert_eq!(deliveries_named(&app, "EvOldElsewhere").await, 0);
    assert_eq!(
        deliveries_named(&app, "EvOldIncident").await,
        1,
        "an incident's raw delivery is kept for good"
    );
    assert_eq!(
        deliveries_named(&app, "EvNewElsewhere").await,
        1,
        "Slack may still redeliver it"
    );
    let texts: Vec<String> =
        sqlx::query_scalar("SELECT text FROM messages WHERE incident_id = 1 ORDER BY ts")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(texts, ["the database is down"], "the record is untouched");
}

#[tokio::test]
async fn the_sweep_passes_over_ids_already_deleted_and_stops_at_deliveries_too_young_to_delete() {
    let mut app = spawn_app().await;
    app.stop().await;
    let store = app.store().await;
    let long_ago = chrono::Utc::now() - chrono::Duration::days(30);
    // Two thousand and more old ids with nothing kept, then one too young.
    let old: Vec<_> = (0..2100)
        .map(|n| stored_message(&format!("EvOld{n}"), "C0ELSEWHERE", n, "chatter"))
        .collect();
    store.record_deliveries(&old, long_ago).await.unwrap();
    store
        .record_deliveries(
            &[stored_message("EvYoung", "C0ELSEWHERE", 3000, "chatter")],
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let worker = DeliveryWorker::new(app.app.clone(), Duration::from_millis(10));
    while worker.run_once().await.unwrap() == Outcome::Worked {}

    let sweep = SweepWorker::new(store.clone(), hereby::jobs::sweep::KEEP_DELIVERIES);
    while sweep.run_once().await.unwrap() == Outcome::Worked {}
    assert_eq!(
        app.count_where("deliveries", "event_id LIKE 'EvOld%'")
            .await,
        0
    );
    assert_eq!(deliveries_named(&app, "EvYoung").await, 1);
    // A sweep after a restart starts from the first id again, over the gap it left.
    let again = SweepWorker::new(store.clone(), hereby::jobs::sweep::KEEP_DELIVERIES);
    assert_eq!(again.run_once().await.unwrap(), Outcome::Idle);
    assert_eq!(deliveries_named(&app, "EvYoung").await, 1);
}
