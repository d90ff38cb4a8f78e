//! Group commit for deliveries: requests that arrive together are stored in one transaction,
//! so that one `fsync` makes many of them durable. Each request is answered only once the
//! transaction holding it has committed (nothing is acknowledged before it is durable), and
//! with the same error as the rest of its batch if that transaction fails, so Slack retries
//! each of them.
//!
//! A lone request is not made to wait: the writer commits as soon as a request arrives, and
//! gathers only what queued up while the previous commit was under way (up to a bound).

use anyhow::Context;
use chrono::Utc;
use tokio::sync::{mpsc, oneshot};

use super::deliveries::{OwnedDelivery, Recorded};
use super::Store;

/// The most deliveries one transaction stores.
pub const MAX_BATCH: usize = 256;

/// How many requests may wait for the writer before senders wait too.
const QUEUE: usize = 4096;

struct Request {
    delivery: OwnedDelivery,
    stored: oneshot::Sender<Result<Recorded, String>>,
}

/// Hands deliveries to the one task that commits them in groups; cheap to clone.
#[derive(Clone)]
pub struct DeliveryWriter {
    requests: mpsc::Sender<Request>,
}

impl DeliveryWriter {
    /// Starts the writer task on `store`; it ends when the last `DeliveryWriter` is dropped.
    pub fn start(store: Store) -> Self {
        let (requests, queue) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, queue));
        DeliveryWriter { requests }
    }

    /// Stores a delivery durably; returns once the transaction holding it has committed.
    pub async fn record(&self, delivery: OwnedDelivery) -> anyhow::Result<Recorded> {
        let (stored, answer) = oneshot::channel();
        self.requests
            .send(Request { delivery, stored })
            .await
            .map_err(|_| anyhow::anyhow!("the delivery writer has stopped"))?;
        answer
            .await
            .context("the delivery writer stopped before committing")?
            .map_err(|e| anyhow::anyhow!(e))
    }
}

async fn write_batches(store: Store, mut queue: mpsc::Receiver<Request>) {
    let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let deliveries: Vec<OwnedDelivery> = batch.iter().map(|r| r.delivery.clone()).collect();
        metrics::histogram!("hereby_delivery_batch_size").record(deliveries.len() as f64);
        match store.record_deliveries(&deliveries, Utc::now()).await {
            Ok(recorded) => {
                for (request, recorded) in batch.drain(..).zip(recorded) {
                    let _ = request.stored.send(Ok(recorded));
                }
            }
            Err(e) => {
                let error = format!("{e:#}");
                tracing::error!(%error, deliveries = batch.len(), "Could not store a batch of deliveries; each is refused so that Slack retries it");
                for request in batch.drain(..) {
                    let _ = request.stored.send(Err(error.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        (dir, store)
    }

    fn delivery(event_id: &str) -> OwnedDelivery {
        OwnedDelivery {
            team_id: "T1".into(),
            event_id: event_id.into(),
            event_type: "message".into(),
            payload: format!("{{\"event_id\":\"{event_id}\"}}"),
            retry_num: None,
        }
    }

    #[tokio::test]
    async fn deliveries_that_arrive_together_are_committed_in_one_transaction_each_answered() {
        let (_dir, store) = store().await;
        let writer = DeliveryWriter::start(store.clone());
        // Ten requests at once, one of them a redelivery of another.
        let mut ids: Vec<String> = (0..9).map(|n| format!("Ev{n}")).collect();
        ids.push("Ev3".into());
        let answers =
            futures_util::future::join_all(ids.iter().map(|id| writer.record(delivery(id)))).await;
        let answers: Vec<Recorded> = answers.into_iter().map(|a| a.unwrap()).collect();
        assert_eq!(answers.iter().filter(|a| **a == Recorded::New).count(), 9);
        assert_eq!(answers[9], Recorded::Duplicate);
        let rows = sqlx::query(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT received_at) AS commits FROM deliveries",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(rows.get::<i64, _>("n"), 9);
        assert_eq!(rows.get::<i64, _>("commits"), 1, "one transaction for all");
    }

    #[tokio::test]
    async fn a_batch_that_cannot_be_stored_refuses_each_of_its_deliveries() {
        let (_dir, store) = store().await;
        let writer = DeliveryWriter::start(store.clone());
        store.close().await;
        let answers = futures_util::future::join_all(
            ["EvA", "EvB", "EvC"].map(|id| writer.record(delivery(id))),
        )
        .await;
        assert!(answers.iter().all(|a| a.is_err()), "{answers:?}");
    }
}
