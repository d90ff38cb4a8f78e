//! Processes stored deliveries after they were acknowledged, oldest first, each exactly once:
//! their effects and the "processed" marks commit in one transaction per batch. On SQLite most
//! deliveries are processed as they are stored (`store::group_commit`); this worker takes what
//! that left: an earlier run's deliveries, and any batch whose processing failed there.
//!
//! New deliveries are taken inside the transaction that processes them, with no lease: one
//! statement fewer per delivery and one commit fewer per batch. Everything else (what was
//! stored before the worker first looked, deliveries given back to be retried, the deliveries
//! of a batch that failed) is claimed with a lease that counts attempts, so a delivery that
//! keeps failing, even one that brings the whole process down, is given up in the end.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use tracing::Instrument;

use super::{backoff, later, Outcome};
use crate::app::{ingest, App};
use crate::store::deliveries::PendingDelivery;
use crate::store::group_commit::{Processed, RecordStored};
use crate::store::Store;
use crate::telemetry::unless_it_panics;

/// How long a claimed delivery stays with one worker before another may take it: processing
/// is a few database statements, so a worker that died is replaced quickly.
const LEASE_SECS: i64 = 10;

/// The most deliveries processed in one transaction.
const BATCH: i64 = 512;

/// One look in this many turns to deliveries left over before new ones.
const LEFT_OVER_EVERY: u64 = 32;

/// The longest a delivery waits between attempts.
const DATABASE_RETRY_MAX: Duration = Duration::from_secs(5);

pub struct DeliveryWorker {
    app: App,
    id: String,
    retry_base: Duration,
    /// New deliveries are those after this one, and left-over ones those up to it: the last
    /// this worker took, or the newest stored when it first looked or last found nothing new
    /// (-1 until it first looked).
    after: AtomicI64,
    looks: AtomicU64,
    recorder: Arc<dyn RecordStored>,
}

impl DeliveryWorker {
    pub fn new(app: App, retry_base: Duration) -> Self {
        DeliveryWorker {
            recorder: Arc::new(ingest::Recorder::new(app.settings.clone())),
            app,
            id: super::worker_id("deliveries"),
            retry_base,
            after: AtomicI64::new(-1),
            looks: AtomicU64::new(0),
        }
    }

    /// Records deliveries with `recorder` instead of the use cases' ingest (in tests, one
    /// with a bug in it).
    pub fn recording_with(mut self, recorder: Arc<dyn RecordStored>) -> Self {
        self.recorder = recorder;
        self
    }

    /// Records `deliveries` in order inside `tx`. A bug that panics is an error of this
    /// batch like any other: the batch is retried one delivery at a time, and the delivery
    /// that panics is given up after its attempts, while the worker goes on.
    async fn apply(
        &self,
        tx: &mut crate::store::Tx,
        deliveries: &[PendingDelivery],
        now: chrono::DateTime<Utc>,
    ) -> anyhow::Result<Processed> {
        let stored: Vec<(i64, &str)> = deliveries
            .iter()
            .map(|d| (d.id, d.payload.as_str()))
            .collect();
        unless_it_panics("recording deliveries", async {
            self.recorder.record(tx, &stored, now).await
        })
        .await
        .and_then(|recorded| recorded)
    }

    /// Processes the oldest waiting deliveries, up to `BATCH` of them in arrival order and
    /// in one transaction (one `fsync` for the batch): new ones as they are taken, and every
    /// so often, or when no new one waits, those left over.
    pub async fn run_once(&self) -> anyhow::Result<Outcome> {
        let looks = self.looks.fetch_add(1, Ordering::Relaxed);
        // Under a steady stream new deliveries are always waiting: the ones left over (to be
        // retried) get their turn all the same.
        if looks.is_multiple_of(LEFT_OVER_EVERY) && self.work_left_over().await? == Outcome::Worked
        {
            return Ok(Outcome::Worked);
        }
        match self.take_new().await? {
            Outcome::Idle => self.work_left_over().await,
            took => Ok(took),
        }
    }

    /// Takes new deliveries inside the transaction that processes them. A batch that fails is
    /// not taken this way again: it is left over, to be claimed with its attempts counted.
    async fn take_new(&self) -> anyhow::Result<Outcome> {
        let store = &self.app.store;
        let after = self.known().await?;
        if !store.has_new_deliveries(after).await? {
            // Whatever waits up to the newest delivery is left over (tried by another replica,
            // say): the claim for left-over deliveries reaches that far from now on.
            self.after
                .fetch_max(store.last_delivery_id().await?, Ordering::Relaxed);
            return Ok(Outcome::Idle);
        }
        let now = Utc::now();
        let mut tx = store.begin_write().await?;
        let taken = store.take_deliveries(&mut tx, after, BATCH).await?;
        let Some(last) = taken.last().map(|d| d.id) else {
            // Another replica has them.
            return Ok(Outcome::Idle);
        };
        self.after.fetch_max(last, Ordering::Relaxed);
        let span = tracing::info_span!("Processing deliveries together", deliveries = taken.len());
        match self
            .process_batch(tx, &taken, None, now)
            .instrument(span)
            .await
        {
            Ok(()) => {
                self.app.effects_waiting.notify_one();
                // A batch short of full took every new delivery there was: the next is
                // announced by a wake (the one for each delivery stored since is kept).
                if taken.len() < BATCH as usize {
                    return Ok(Outcome::Drained);
                }
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), deliveries = taken.len(), "A batch of new deliveries failed; they are retried with their attempts counted");
            }
        }
        Ok(Outcome::Worked)
    }

    /// The last delivery known not to be new: the last taken, or the newest stored when this
    /// worker first looked (what was stored before may be what brought an earlier run down:
    /// it is left over, so that its attempts are counted).
    async fn known(&self) -> anyhow::Result<i64> {
        let after = self.after.load(Ordering::Relaxed);
        if after >= 0 {
            return Ok(after);
        }
        let last = self.app.store.last_delivery_id().await?;
        Ok(self.after.fetch_max(last, Ordering::Relaxed).max(last))
    }

    /// Claims deliveries left over (an earlier run's, those given back to be retried, those of
    /// a batch that failed) with a lease that counts an attempt. If they fail as a batch, each
    /// is processed on its own, so one that cannot be processed never holds up the others.
    async fn work_left_over(&self) -> anyhow::Result<Outcome> {
        let now = Utc::now();
        let lease = chrono::Duration::seconds(LEASE_SECS);
        let up_to = self.known().await?;
        let claimed = self
            .app
            .store
            .claim_deliveries(&self.id, now, lease, BATCH, up_to)
            .await?;
        if claimed.is_empty() {
            return Ok(Outcome::Idle);
        }
        if claimed.len() > 1 {
            let span =
                tracing::info_span!("Processing deliveries together", deliveries = claimed.len());
            let tx = self.app.store.begin_write().await?;
            match self
                .process_batch(tx, &claimed, Some(&self.id), now)
                .instrument(span)
                .await
            {
                Ok(()) => {
                    self.app.effects_waiting.notify_one();
                    return Ok(Outcome::Worked);
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "A batch of deliveries failed; processing them one at a time");
                }
            }
        }
        for d in &claimed {
            self.process_one(d).await?;
        }
        Ok(Outcome::Worked)
    }

    /// Applies every delivery of a batch and marks them processed, in `tx`: those `worker`
    /// claimed, or (`None`) those taken in `tx`.
    async fn process_batch(
        &self,
        mut tx: crate::store::Tx,
        batch: &[PendingDelivery],
        worker: Option<&str>,
        now: chrono::DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let done = self.apply(&mut tx, batch, now).await?;
        if !Store::finish_deliveries(&mut tx, worker, Utc::now(), &done).await? {
            anyhow::bail!("another worker took some of these deliveries over");
        }
        tx.commit()
            .await
            .context("Failed to commit processed deliveries")?;
        let finished = Utc::now();
        for (d, (_, note, _)) in batch.iter().zip(done) {
            let took = (finished - d.received_at).to_std().unwrap_or_default();
            metrics::histogram!("hereby_delivery_processing_seconds").record(took.as_secs_f64());
            tracing::debug!(event_id = %d.event_id, outcome = %note, "Delivery processed");
        }
        tracing::info!(deliveries = batch.len(), "Deliveries processed");
        Ok(())
    }

    /// Processes one claimed delivery in its own transaction; a failure is retried later, and
    /// a delivery that keeps failing is marked failed.
    async fn process_one(&self, d: &PendingDelivery) -> anyhow::Result<()> {
        let now = Utc::now();
        let span = tracing::info_span!("Processing a delivery", event_id = %d.event_id, attempt = d.attempts);
        let result = async {
            let mut tx = self.app.store.begin_write().await?;
            let done = self.apply(&mut tx, std::slice::from_ref(d), now).await?;
            if Store::finish_deliveries(&mut tx, Some(&self.id), Utc::now(), &done).await? {
                tx.commit()
                    .await
                    .context("Failed to commit a processed delivery")?;
                let took = (Utc::now() - d.received_at).to_std().unwrap_or_default();
                metrics::histogram!("hereby_delivery_processing_seconds")
                    .record(took.as_secs_f64());
                for (_, note, _) in &done {
                    tracing::info!(outcome = %note, "Delivery processed");
                }
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
                if Store::finish_deliveries(
                    &mut tx,
                    Some(&self.id),
                    Utc::now(),
                    &[(d.id, note, true)],
                )
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
        Ok(())
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
