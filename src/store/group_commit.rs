//! Group commit for deliveries: requests that arrive together are stored in one transaction,
//! so that one `fsync` makes many of them durable. Each request is answered only once the
//! transaction holding it has committed (nothing is acknowledged before it is durable), and
//! with the same error as the rest of its batch if that transaction fails, so Slack retries
//! each of them.
//!
//! A lone request is not made to wait: the writer commits as soon as a request arrives, and
//! gathers only what queued up while the previous commit was under way (up to a bound). A
//! batch that one `INSERT` can hold is stored by that statement alone, a transaction of its
//! own, unless the batch is also processed.
//!
//! Given a [`RecordStored`] (on SQLite, where writers take turns anyway), the writer also
//! processes a batch in the transaction that stores it, behind a savepoint, whenever no older
//! delivery waits; otherwise, or if that fails, the delivery worker takes the batch, in order.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use tokio::sync::{mpsc, oneshot};

use super::deliveries::{OwnedDelivery, Recorded, DELIVERIES_PER_STATEMENT};
use super::{Store, Tx};

/// The most deliveries one transaction stores.
pub const MAX_BATCH: usize = 256;

/// How many requests may wait for the writer before senders wait too.
const QUEUE: usize = 4096;

/// What a delivery's processing left to keep: `(id, note, keep_payload)`, as
/// [`Store::finish_deliveries`] takes it.
pub type Processed = Vec<(i64, String, bool)>;

/// What [`RecordStored::record`] returns: the processing, still to be awaited.
pub type Recording<'a> = Pin<Box<dyn Future<Output = anyhow::Result<Processed>> + Send + 'a>>;

/// Records stored deliveries inside a transaction: the one that stores them (here) or the one
/// that takes them (the delivery worker). Implemented by the use cases above the store; gets
/// `(id, payload)` of each delivery, in arrival order.
pub trait RecordStored: Send + Sync {
    fn record<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        stored: &'a [(i64, &'a str)],
        now: DateTime<Utc>,
    ) -> Recording<'a>;
}

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
    /// With `at_once`, the deliveries of a batch are processed in the transaction that stores
    /// them whenever nothing older waits to be processed (else the delivery worker takes them,
    /// in order); a batch whose processing fails is stored all the same and left to the worker.
    pub fn start(store: Store, at_once: Option<Arc<dyn RecordStored>>) -> Self {
        let (requests, queue) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, at_once, queue));
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

async fn write_batches(
    store: Store,
    at_once: Option<Arc<dyn RecordStored>>,
    mut queue: mpsc::Receiver<Request>,
) {
    let mut deliveries: Vec<OwnedDelivery> = Vec::with_capacity(MAX_BATCH);
    let mut answers: Vec<oneshot::Sender<Result<Recorded, String>>> = Vec::with_capacity(MAX_BATCH);
    // Until a look at the queue says otherwise, older deliveries may wait (an earlier run's).
    let mut behind = true;
    while let Some(first) = queue.recv().await {
        let mut next = Some(first);
        while let Some(Request { delivery, stored }) = next {
            deliveries.push(delivery);
            answers.push(stored);
            next = if deliveries.len() < MAX_BATCH {
                queue.try_recv().ok()
            } else {
                None
            };
        }
        metrics::histogram!("hereby_delivery_batch_size").record(deliveries.len() as f64);
        let at_once = at_once.as_deref();
        // A bug that panics while processing must not stop the writer (and with it every
        // acknowledgement): the batch is refused like a failed one, and Slack retries it.
        let written = crate::telemetry::unless_it_panics(
            "storing the batch",
            write_batch(&store, at_once, &mut behind, &deliveries),
        )
        .await
        .unwrap_or_else(|panic| {
            behind = true;
            Err(panic)
        });
        match written {
            Ok(recorded) => {
                for (stored, recorded) in answers.drain(..).zip(recorded) {
                    let _ = stored.send(Ok(recorded));
                }
            }
            Err(e) => {
                let error = format!("{e:#}");
                tracing::error!(%error, deliveries = deliveries.len(), "Could not store a batch of deliveries; each is refused so that Slack retries it");
                for stored in answers.drain(..) {
                    let _ = stored.send(Err(error.clone()));
                }
            }
        }
        deliveries.clear();
    }
}

/// Stores one batch, and processes it in the same transaction when it may.
async fn write_batch(
    store: &Store,
    at_once: Option<&dyn RecordStored>,
    behind: &mut bool,
    deliveries: &[OwnedDelivery],
) -> anyhow::Result<Vec<Recorded>> {
    let now = Utc::now();
    let (ids, processed) = match at_once {
        Some(at_once) => store_and_process(store, at_once, behind, deliveries, now).await?,
        None => (store_only(store, deliveries, now).await?, false),
    };
    Ok(ids
        .iter()
        .map(|id| match id {
            Some(_) if processed => Recorded::Processed,
            Some(_) => Recorded::New,
            None => Recorded::Duplicate,
        })
        .collect())
}

/// Stores a batch for the delivery worker: its new deliveries' ids, in order.
async fn store_only(
    store: &Store,
    deliveries: &[OwnedDelivery],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Option<i64>>> {
    if deliveries.len() <= DELIVERIES_PER_STATEMENT {
        // One statement is a transaction of its own, committed (durably) before it answers:
        // no `BEGIN` and `COMMIT` round trips, which under a steady stream are most of the
        // wait on PostgreSQL.
        let mut conn = store
            .writer()
            .acquire()
            .await
            .context("Failed to reach the database")?;
        return Store::store_deliveries(&mut conn, deliveries, now).await;
    }
    let mut tx = store.begin_write().await?;
    let ids = Store::store_deliveries(&mut tx, deliveries, now).await?;
    tx.commit()
        .await
        .context("Failed to commit stored deliveries")?;
    Ok(ids)
}

/// Stores a batch and, while no older delivery waits, processes it in the same transaction:
/// its new deliveries' ids, in order, and whether they were processed.
async fn store_and_process(
    store: &Store,
    at_once: &dyn RecordStored,
    behind: &mut bool,
    deliveries: &[OwnedDelivery],
    now: DateTime<Utc>,
) -> anyhow::Result<(Vec<Option<i64>>, bool)> {
    let mut tx = store.begin_write().await?;
    let ids = Store::store_deliveries(&mut tx, deliveries, now).await?;
    let new: Vec<(i64, &str)> = deliveries
        .iter()
        .zip(&ids)
        .filter_map(|(d, id)| id.map(|id| (id, d.payload.as_str())))
        .collect();
    let mut processed = false;
    if let Some((first, _)) = new.first() {
        // Processing stays in arrival order: while older deliveries wait, the worker has them.
        if *behind {
            *behind = Store::unprocessed_before(&mut tx, *first).await?;
        }
        if !*behind {
            processed = process_at_once(&mut tx, at_once, &new, now).await?;
            *behind = !processed;
        }
    }
    tx.commit()
        .await
        .context("Failed to commit stored deliveries")?;
    if processed {
        let took = (Utc::now() - now).to_std().unwrap_or_default();
        for _ in &new {
            metrics::histogram!("hereby_delivery_processing_seconds").record(took.as_secs_f64());
        }
        // At a quiet hour every delivery is a batch of its own: a line each would flood the log.
        tracing::debug!(deliveries = new.len(), "Deliveries stored and processed");
    }
    Ok((ids, processed))
}

/// Processes stored deliveries behind a savepoint: `false`, with nothing of it kept, if that
/// failed (the deliveries stay stored for the worker, which isolates one that always fails).
async fn process_at_once(
    tx: &mut Tx,
    at_once: &dyn RecordStored,
    new: &[(i64, &str)],
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let savepoint = |sql: &'static str| sqlx::query(sql);
    savepoint("SAVEPOINT at_once")
        .execute(&mut **tx)
        .await
        .context("Failed to set a savepoint")?;
    let processed = async {
        let done = at_once.record(tx, new, now).await?;
        if !Store::finish_deliveries(tx, None, now, &done).await? {
            anyhow::bail!("a delivery was processed by a worker meanwhile");
        }
        anyhow::Ok(())
    }
    .await;
    let (sql, done) = match &processed {
        Ok(()) => ("RELEASE SAVEPOINT at_once", true),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), deliveries = new.len(), "Could not process deliveries as they were stored; the delivery worker takes them over");
            ("ROLLBACK TO SAVEPOINT at_once", false)
        }
    };
    savepoint(sql)
        .execute(&mut **tx)
        .await
        .context("Failed to end a savepoint")?;
    Ok(done)
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
        let writer = DeliveryWriter::start(store.clone(), None);
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
        let writer = DeliveryWriter::start(store.clone(), None);
        store.close().await;
        let answers = futures_util::future::join_all(
            ["EvA", "EvB", "EvC"].map(|id| writer.record(delivery(id))),
        )
        .await;
        assert!(answers.iter().all(|a| a.is_err()), "{answers:?}");
    }

    /// Processes what it is given (or fails, when told to), noting the ids in order.
    #[derive(Default)]
    struct Recorder {
        fail: std::sync::atomic::AtomicBool,
        seen: std::sync::Mutex<Vec<i64>>,
    }

    impl RecordStored for Recorder {
        fn record<'a>(
            &'a self,
            conn: &'a mut AnyConnection,
            stored: &'a [(i64, &'a str)],
            _now: DateTime<Utc>,
        ) -> Recording<'a> {
            Box::pin(async move {
                // A write that the savepoint must take back when processing fails.
                sqlx::query("UPDATE deliveries SET last_error = 'touched'")
                    .execute(&mut *conn)
                    .await?;
                if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
                    anyhow::bail!("the record refused it");
                }
                self.seen
                    .lock()
                    .unwrap()
                    .extend(stored.iter().map(|(id, _)| *id));
                Ok(stored
                    .iter()
                    .map(|(id, _)| (*id, "recorded".to_string(), true))
                    .collect())
            })
        }
    }

    async fn unprocessed(store: &Store) -> Vec<String> {
        sqlx::query_scalar("SELECT event_id FROM deliveries WHERE processed_at IS NULL ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_delivery_is_processed_in_the_transaction_that_stores_it_when_nothing_older_waits() {
        let (_dir, store) = store().await;
        let recorder = Arc::new(Recorder::default());
        let writer = DeliveryWriter::start(store.clone(), Some(recorder.clone()));
        assert_eq!(
            writer.record(delivery("EvA")).await.unwrap(),
            Recorded::Processed
        );
        assert_eq!(
            writer.record(delivery("EvA")).await.unwrap(),
            Recorded::Duplicate
        );
        assert!(unprocessed(&store).await.is_empty());
        assert_eq!(*recorder.seen.lock().unwrap(), [1]);
        let note: String = sqlx::query_scalar("SELECT last_error FROM deliveries")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(note, "recorded");
    }

    #[tokio::test]
    async fn while_an_older_delivery_waits_new_ones_are_left_to_the_worker_in_order() {
        let (_dir, store) = store().await;
        // An earlier run stored this one and stopped before processing it.
        store
            .record_deliveries(&[delivery("EvOld")], Utc::now())
            .await
            .unwrap();
        let recorder = Arc::new(Recorder::default());
        let writer = DeliveryWriter::start(store.clone(), Some(recorder.clone()));
        assert_eq!(writer.record(delivery("EvB")).await.unwrap(), Recorded::New);
        assert_eq!(unprocessed(&store).await, ["EvOld", "EvB"]);
        // The worker catches up; from then on deliveries are processed as they are stored.
        sqlx::query("UPDATE deliveries SET processed_at = 1")
            .execute(store.writer())
            .await
            .unwrap();
        assert_eq!(
            writer.record(delivery("EvC")).await.unwrap(),
            Recorded::Processed
        );
        assert_eq!(*recorder.seen.lock().unwrap(), [3]);
    }

    #[tokio::test]
    async fn a_batch_whose_processing_fails_is_stored_all_the_same_with_nothing_of_its_processing()
    {
        let (_dir, store) = store().await;
        let recorder = Arc::new(Recorder::default());
        recorder
            .fail
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let writer = DeliveryWriter::start(store.clone(), Some(recorder.clone()));
        assert_eq!(
            writer.record(delivery("EvPoison")).await.unwrap(),
            Recorded::New
        );
        assert_eq!(unprocessed(&store).await, ["EvPoison"]);
        let touched: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE last_error IS NOT NULL")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(touched, 0, "the savepoint took processing's writes back");
        // It still waits for the worker, so the next one is not processed before it.
        recorder
            .fail
            .store(false, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            writer.record(delivery("EvNext")).await.unwrap(),
            Recorded::New
        );
        assert!(recorder.seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_panic_while_processing_refuses_that_batch_and_the_writer_goes_on() {
        struct Panics;
        impl RecordStored for Panics {
            fn record<'a>(
                &'a self,
                _conn: &'a mut AnyConnection,
                stored: &'a [(i64, &'a str)],
                _now: DateTime<Utc>,
            ) -> Recording<'a> {
                Box::pin(async move {
                    if stored.iter().any(|(_, payload)| payload.contains("EvBug")) {
                        panic!("a bug in processing");
                    }
                    Ok(stored
                        .iter()
                        .map(|(id, _)| (*id, "recorded".into(), true))
                        .collect())
                })
            }
        }
        let (_dir, store) = store().await;
        let writer = DeliveryWriter::start(store.clone(), Some(Arc::new(Panics)));
        assert!(writer.record(delivery("EvBug")).await.is_err());
        assert!(
            unprocessed(&store).await.is_empty(),
            "nothing of it was kept"
        );
        assert_eq!(
            writer.record(delivery("EvFine")).await.unwrap(),
            Recorded::Processed
        );
    }
}
