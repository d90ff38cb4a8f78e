//! Keeps the table of deliveries from growing without end: a processed delivery whose payload
//! was erased (it was said outside any incident) is deleted once Slack can no longer redeliver
//! it. What is kept on purpose stays: an incident channel's raw deliveries, and the payload of a
//! delivery that failed.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::Outcome;
use crate::store::Store;

/// How long a processed delivery is kept for recognising a redelivery. Slack retries a
/// delivery three times within about an hour and a half; a week leaves room for a replay of
/// an outage's deliveries, and for looking into one.
pub const KEEP_DELIVERIES: Duration = Duration::from_secs(7 * 24 * 3600);

/// How many ids one step looks at: one short write, so that the writer (on SQLite the only
/// one) is held up for no longer than a batch of deliveries would be.
const CHUNK: i64 = 1000;

/// How often to look again once everything old enough is swept.
const EVERY: Duration = Duration::from_secs(3600);

pub struct SweepWorker {
    store: Store,
    keep: Duration,
    /// The id swept up to; from 0 again after a restart, to pick up what was skipped while
    /// it waited.
    after: AtomicI64,
}

impl SweepWorker {
    pub fn new(store: Store, keep: Duration) -> Self {
        SweepWorker {
            store,
            keep,
            after: AtomicI64::new(0),
        }
    }

    /// Sweeps the next range of old deliveries; idle once the rest are younger than `keep`.
    pub async fn run_once(&self) -> anyhow::Result<Outcome> {
        let cutoff = chrono::Utc::now()
            - chrono::Duration::from_std(self.keep).unwrap_or(chrono::Duration::MAX);
        let after = self.after.load(Ordering::Relaxed);
        let Some((last, deleted)) = self.store.sweep_deliveries(after, CHUNK, cutoff).await? else {
            return Ok(Outcome::Idle);
        };
        self.after.fetch_max(last, Ordering::Relaxed);
        if deleted > 0 {
            tracing::debug!(deleted, up_to = last, "Deleted old processed deliveries");
            metrics::counter!("hereby_deliveries_swept_total").increment(deleted);
        }
        Ok(Outcome::Worked)
    }

    /// Works until shutdown.
    pub async fn run(self, shutdown: tokio::sync::watch::Receiver<bool>) {
        let never = tokio::sync::Notify::new();
        super::run_until_stopped("sweep", &never, EVERY, shutdown, || self.run_once()).await
    }
}
