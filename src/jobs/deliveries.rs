//! Processes stored deliveries after they were acknowledged, oldest first, each exactly once:
//! its effects and the "processed" mark commit in one transaction.

use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use tracing::Instrument;

use super::{backoff, later, Outcome};
use crate::app::{ingest, App};
use crate::slack::events;
use crate::store::Store;

/// How long a claimed delivery stays with one worker before another may take it: processing
/// is a few database statements, so a worker that died is replaced quickly.
const LEASE_SECS: i64 = 10;

/// The longest a delivery waits between attempts.
const DATABASE_RETRY_MAX: Duration = Duration::from_secs(5);

pub struct DeliveryWorker {
    app: App,
    id: String,
    retry_base: Duration,
}

impl DeliveryWorker {
    pub fn new(app: App, retry_base: Duration) -> Self {
        DeliveryWorker {
            app,
            id: super::worker_id("deliveries"),
            retry_base,
        }
    }

    /// Processes the oldest waiting delivery, if any.
    pub async fn run_once(&self) -> anyhow::Result<Outcome> {
        let now = Utc::now();
        let Some(d) = self
            .app
            .store
            .claim_delivery(&self.id, now, chrono::Duration::seconds(LEASE_SECS))
            .await?
        else {
            return Ok(Outcome::Idle);
        };
        let span = tracing::info_span!("Processing a delivery", event_id = %d.event_id, attempt = d.attempts);
        let result = async {
            let mut tx = self.app.store.begin_write().await?;
            let (note, keep) = match events::decode(&d.payload) {
                Ok(event) => {
                    let outcome = ingest::apply(&mut tx, &event, &self.app.settings, now).await?;
                    (format!("{outcome:?}"), outcome.keeps_payload())
                }
                Err(e) => (format!("undecodable: {e}"), false),
            };
            if Store::finish_delivery(&mut tx, d.id, &self.id, Utc::now(), Some(&note), keep)
                .await?
            {
                tx.commit()
                    .await
                    .context("Failed to commit a processed delivery")?;
                let took = (Utc::now() - d.received_at).to_std().unwrap_or_default();
                metrics::histogram!("hereby_delivery_processing_seconds")
                    .record(took.as_secs_f64());
                tracing::info!(outcome = %note, "Delivery processed");
            }
            anyhow::Ok(())
        }
        .instrument(span)
        .await;
        match result {
            Ok(()) => self.app.effects_waiting.notify_one(),
            Err(e) if d.attempts >= self.app.settings.max_attempts => {
                // A poison delivery: keep its payload and the error, stop trying.
                tracing::error!(error = ?e, event_id = %d.event_id, attempts = d.attempts, "A delivery kept failing; marking it failed");
                metrics::counter!("hereby_deliveries_failed_total").increment(1);
                let note = format!("failed after {} attempts: {e:#}", d.attempts);
                let mut tx = self.app.store.begin_write().await?;
                if Store::finish_delivery(&mut tx, d.id, &self.id, Utc::now(), Some(&note), true)
                    .await?
                {
                    tx.commit()
                        .await
                        .context("Failed to mark a delivery failed")?;
                }
            }
            Err(e) => {
                tracing::error!(error = ?e, event_id = %d.event_id, "Processing a delivery failed; it will be retried");
                // Processing fails for the database's reasons (a full disk, a lost server), not
                // the delivery's: it is tried again within seconds once the database is back.
                let retry_at = later(backoff(self.retry_base, d.attempts).min(DATABASE_RETRY_MAX));
                self.app
                    .store
                    .release_delivery(d.id, &self.id, retry_at, &format!("{e:#}"))
                    .await?;
            }
        }
        Ok(Outcome::Worked)
    }

    /// Works until shutdown; also picks up what an earlier run stored but never processed.
    pub async fn run(self, shutdown: tokio::sync::watch::Receiver<bool>) {
        let wake = self.app.deliveries_waiting.clone();
        super::run_until_stopped(
            "deliveries",
            &wake,
            Duration::from_secs(1),
            shutdown,
            || self.run_once(),
        )
        .await
    }
}
