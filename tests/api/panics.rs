//! A bug in hereby that panics stops nothing else: the delivery or effect that brings it out is
//! retried, then given up after its attempts and told, while recording and the outbox go on.

use std::sync::Arc;
use std::time::Duration;

use hereby::app::effect::{Effect, EffectError};
use hereby::jobs::effects::{CarryOut, Execute};
use hereby::jobs::outbox::OutboxWorker;
use hereby::store::outbox::ClaimedEffect;
use sqlx::Row;

use crate::helpers::*;

/// Records deliveries as hereby does, except that one whose payload holds `trigger` panics,
/// as a bug would.
struct PanicsOn {
    trigger: &'static str,
    ingest: hereby::app::ingest::Recorder,
}

impl hereby::store::group_commit::RecordStored for PanicsOn {
    fn record<'a>(
        &'a self,
        conn: &'a mut sqlx::AnyConnection,
        stored: &'a [(i64, &'a str)],
        now: chrono::DateTime<chrono::Utc>,
    ) -> hereby::store::group_commit::Recording<'a> {
        if stored
            .iter()
            .any(|(_, payload)| payload.contains(self.trigger))
        {
            panic!("a bug that only this delivery brings out");
        }
        self.ingest.record(conn, stored, now)
    }
}

#[tokio::test]
async fn a_bug_that_panics_on_one_delivery_does_not_stop_recording_and_that_delivery_is_marked_failed(
) {
    let mut app = spawn_app_with(Options {
        env: vec![("HEREBY_MAX_ATTEMPTS", "3".into())],
        ..Options::default()
    })
    .await;
    let c = app.declared("a bug").await;
    app.stop().await;
    let store = app.store().await;
    let batch = [
        stored_message("EvBefore", &c, 300, "before the bug"),
        stored_message("EvBug", &c, 301, "brings out the bug"),
        stored_message("EvAfter", &c, 302, "after the bug"),
    ];
    store
        .record_deliveries(&batch, chrono::Utc::now())
        .await
        .unwrap();
    let worker =
        hereby::jobs::deliveries::DeliveryWorker::new(app.app.clone(), Duration::from_millis(10))
            .recording_with(Arc::new(PanicsOn {
                trigger: "brings out the bug",
                ingest: hereby::app::ingest::Recorder::new(app.app.settings.clone()),
            }));
    // The worker is stepped until nothing waits: every step returns, none panics.
    let waiting = "processed_at IS NULL";
    for _ in 0..500 {
        worker.run_once().await.unwrap();
        if app.count_where("deliveries", waiting).await == 0 {
            break;
        }
        // A delivery given back waits out its retry time before it can be claimed again.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(app.count_where("deliveries", waiting).await, 0);
    let texts: Vec<String> =
        sqlx::query_scalar("SELECT text FROM messages WHERE incident_id = 1 ORDER BY ts")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(texts, ["before the bug", "after the bug"]);
    let failed =
        sqlx::query("SELECT attempts, last_error FROM deliveries WHERE event_id = 'EvBug'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(failed.get::<i64, _>("attempts"), 3);
    let error: String = failed.get("last_error");
    assert!(
        error.starts_with("failed after 3 attempts") && error.contains("panicked"),
        "{error}"
    );
}

/// Carries out effects as hereby does, except that setting the topic panics, as a bug would.
struct PanicsSettingTheTopic;

impl CarryOut for PanicsSettingTheTopic {
    fn carry_out<'a>(
        &'a self,
        app: &'a hereby::app::App,
        claimed: &'a ClaimedEffect,
        worker: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<(), EffectError>> {
        if claimed.effect["step"] == "set_topic" {
            panic!("a bug that only setting the topic brings out");
        }
        Execute.carry_out(app, claimed, worker)
    }
}

#[tokio::test]
async fn an_effect_that_panics_is_given_up_after_its_attempts_and_told_to_the_commander() {
    let mut app = spawn_app_with(Options {
        env: vec![("HEREBY_MAX_ATTEMPTS", "3".into())],
        ..Options::default()
    })
    .await;
    let c = app.declared("a bug in the outbox").await;
    app.settle().await;
    app.stop().await;
    let store = app.store().await;
    let mut conn = store.conn().await.unwrap();
    let team = hereby::domain::TeamId::new(TEAM);
    let incident = hereby::store::incidents::get(&mut conn, &team, 1)
        .await
        .unwrap();
    hereby::app::effect::queue_again(
        &mut conn,
        &incident,
        &[Effect::SetTopic],
        "after a rename",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    drop(conn);

    let worker = OutboxWorker::new(app.app.clone(), Duration::from_millis(10))
        .carrying_out_with(Arc::new(PanicsSettingTheTopic));
    // The worker is stepped until the commander has been told: every step returns, none
    // panics, and a step finds nothing due while the effect waits out its retry time.
    let told = |app: &TestApp| {
        app.slack
            .messages_in(&c)
            .iter()
            .any(|m| m.text.contains("could not set the channel topic"))
    };
    for _ in 0..500 {
        worker.run_once().await.unwrap();
        if told(&app) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let failed = store.failed_effects().await.unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].step, "set_topic");
    assert_eq!(failed[0].attempts, 3);
    assert!(
        failed[0].error.starts_with("gave up after 3 attempts")
            && failed[0].error.contains("panicked (a bug in hereby)"),
        "{}",
        failed[0].error
    );
    let report = app
        .slack
        .messages_in(&c)
        .into_iter()
        .find(|m| m.text.contains("could not set the channel topic"));
    let report = report.map(|m| m.text).unwrap_or_default();
    assert!(
        report.starts_with("<@W111>")
            && report.contains("gave up after 3 attempts")
            && report.contains("This is a bug in hereby"),
        "the commander is told, with the error: {report:?}"
    );
}
