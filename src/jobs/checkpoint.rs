//! Keeps SQLite's write-ahead log short: every second, what it holds is copied into the database
//! file beside the writer, so that no commit (and no acknowledgement waiting on one) pays for a
//! checkpoint. Nothing to do on PostgreSQL.

use std::time::Duration;

use super::Outcome;
use crate::store::Store;

/// How often the log is checkpointed.
const EVERY: Duration = Duration::from_secs(1);

pub struct CheckpointWorker {
    store: Store,
}

impl CheckpointWorker {
    pub fn new(store: Store) -> Self {
        CheckpointWorker { store }
    }

    /// Checkpoints once; always idle afterwards, so that the next one comes a second later.
    pub async fn run_once(&self) -> anyhow::Result<Outcome> {
        let (log, done) = self.store.checkpoint().await?;
        if done < log {
            // A long read holds back part of the log; the next checkpoint copies the rest.
            tracing::debug!(log, done, "Checkpointed part of the write-ahead log");
        }
        Ok(Outcome::Idle)
    }

    /// Works until shutdown.
    pub async fn run(self, shutdown: tokio::sync::watch::Receiver<bool>) {
        let never = tokio::sync::Notify::new();
        super::run_until_stopped("checkpoint", &never, EVERY, shutdown, || self.run_once()).await
    }
}
