//! Events API deliveries: stored before they are acknowledged, then claimed and processed.

use super::lease::LeaseQueue;
use super::{from_millis, to_millis, Store, Tx};

/// Deliveries wait until processed, oldest first.
const QUEUE: LeaseQueue = LeaseQueue {
    table: "deliveries",
    key: &["id"],
    due: "processed_at IS NULL",
    order: "id",
    counts_attempts: true,
};

/// The same queue from past a known id on: the claim seeks straight to rows after it instead
/// of stepping over the index entries that rows already processed leave behind until they are
/// vacuumed (PostgreSQL), which otherwise makes every claim slower as a burst is worked off.
const QUEUE_AFTER: LeaseQueue = LeaseQueue {
    table: "deliveries",
    key: &["id"],
    due: "processed_at IS NULL AND id > $5",
    order: "id",
    counts_attempts: true,
};

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Utc};

/// What storing a delivery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// First time this `event_id` arrived: stored, to be processed.
    New,
    /// First time this `event_id` arrived: stored and processed in the same transaction.
    Processed,
    /// Slack delivered this `event_id` before: nothing stored.
    Duplicate,
}

/// A delivery waiting to be processed.
#[derive(Debug, Clone)]
pub struct PendingDelivery {
    pub id: i64,
    pub team_id: String,
    pub event_id: String,
    pub payload: String,
    pub attempts: i64,
    pub received_at: DateTime<Utc>,
}

/// A claimed `deliveries` row as stored.
#[derive(sqlx::FromRow)]
struct Claimed {
    id: i64,
    team_id: String,
    event_id: String,
    payload: String,
    attempts: i64,
    received_at: i64,
}

impl From<Claimed> for PendingDelivery {
    fn from(r: Claimed) -> PendingDelivery {
        PendingDelivery {
            id: r.id,
            team_id: r.team_id,
            event_id: r.event_id,
            payload: r.payload,
            attempts: r.attempts,
            received_at: from_millis(r.received_at),
        }
    }
}

/// A delivery's key: Slack's `event_id` within its workspace.
#[derive(sqlx::FromRow)]
struct DeliveryKey {
    id: i64,
    team_id: String,
    event_id: String,
}

/// A new delivery, owned, as it waits in a group commit.
#[derive(Debug, Clone)]
pub struct OwnedDelivery {
    pub team_id: String,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    pub retry_num: Option<i64>,
}

impl Store {
    /// Commits a batch of deliveries in one transaction (one `fsync` for all of them); for
    /// each, in order, whether it was new or a redelivery (also of an earlier one in the same
    /// batch). Nothing is stored if the transaction fails.
    pub async fn record_deliveries(
        &self,
        batch: &[OwnedDelivery],
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Recorded>> {
        let mut tx = self.begin_write().await?;
        let ids = Store::store_deliveries(&mut tx, batch, now).await?;
        tx.commit()
            .await
            .context("Failed to commit stored deliveries")?;
        Ok(ids
            .iter()
            .map(|id| match id {
                Some(_) => Recorded::New,
                None => Recorded::Duplicate,
            })
            .collect())
    }

    /// Stores a batch of deliveries inside `tx` with multi-row inserts; for each, in order,
    /// its id if it is new, `None` for a redelivery (also of an earlier one in the batch).
    #[tracing::instrument(name = "Storing deliveries together", skip_all, fields(deliveries = batch.len()))]
    pub async fn store_deliveries(
        tx: &mut Tx,
        batch: &[OwnedDelivery],
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Option<i64>>> {
        let mut inserted: HashMap<(String, String), i64> = HashMap::new();
        for chunk in batch.chunks(super::rows_per_statement(6)) {
            let sql = format!(
                "INSERT INTO deliveries (team_id, event_id, event_type, payload, retry_num, received_at)
                 VALUES {} ON CONFLICT (team_id, event_id) DO NOTHING RETURNING id, team_id, event_id",
                super::value_rows(chunk.len(), 6, 1)
            );
            let mut q = sqlx::query_as::<_, DeliveryKey>(sqlx::AssertSqlSafe(sql));
            for d in chunk {
                q = q
                    .bind(d.team_id.clone())
                    .bind(d.event_id.clone())
                    .bind(d.event_type.clone())
                    .bind(d.payload.clone())
                    .bind(d.retry_num)
                    .bind(to_millis(now));
            }
            for r in q
                .fetch_all(&mut **tx)
                .await
                .context("Failed to store deliveries")?
            {
                inserted.insert((r.team_id, r.event_id), r.id);
            }
        }
        // The first of each event_id that went in is new; everything else was there already.
        Ok(batch
            .iter()
            .map(|d| inserted.remove(&(d.team_id.clone(), d.event_id.clone())))
            .collect())
    }

    /// Whether a delivery older than `id` waits to be processed (or is being processed).
    pub async fn unprocessed_before(tx: &mut Tx, id: i64) -> anyhow::Result<bool> {
        let older: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM deliveries WHERE processed_at IS NULL AND id < $1 LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .context("Failed to look for older deliveries")?;
        Ok(older.is_some())
    }

    /// Takes up to `limit` of the oldest unprocessed deliveries that no live worker holds, for
    /// `lease`, in the order they arrived; only those after id `after`, when given (a hint:
    /// the caller looks without it now and then, for deliveries given back to be retried).
    #[tracing::instrument(name = "Claiming deliveries", skip(self))]
    pub async fn claim_deliveries(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: i64,
        after: Option<i64>,
    ) -> anyhow::Result<Vec<PendingDelivery>> {
        let returning = "id, team_id, event_id, payload, attempts, received_at";
        let queue = if after.is_some() {
            &QUEUE_AFTER
        } else {
            &QUEUE
        };
        if !queue.has_due(self.pool(), now, after).await? {
            return Ok(Vec::new());
        }
        let mut claim = queue.claim(returning, worker, now, lease, limit);
        if let Some(after) = after {
            claim = claim.bind(after);
        }
        let rows: Vec<Claimed> = claim
            .fetch_all(self.writer())
            .await
            .context("Failed to claim deliveries")?;
        let mut claimed: Vec<PendingDelivery> =
            rows.into_iter().map(PendingDelivery::from).collect();
        claimed.sort_by_key(|d| d.id);
        Ok(claimed)
    }

    /// Marks deliveries processed inside the transaction that holds their effects, one
    /// statement for up to 66 of them: `(id, note, keep_payload)` each. `worker` is the worker
    /// that claimed them, `None` for deliveries processed in the transaction that stores them.
    /// `false` when this worker no longer holds every one of them (a lease lapsed and another
    /// worker took over). Unless `keep_payload`,
    /// the raw payload is erased: hereby keeps nothing said outside incidents.
    pub async fn finish_deliveries(
        tx: &mut Tx,
        worker: Option<&str>,
        now: DateTime<Utc>,
        done: &[(i64, String, bool)],
    ) -> anyhow::Result<bool> {
        let mut marked = 0;
        for chunk in done.chunks(super::rows_per_statement(3)) {
            // VALUES names its columns column1, column2, … on both engines.
            let sql = format!(
                "UPDATE deliveries SET processed_at = $1, claimed_until = NULL, last_error = v.column2,
                        payload = CASE WHEN v.column3 = 1 THEN deliveries.payload ELSE '' END
                 FROM (VALUES {}) AS v
                 WHERE deliveries.id = v.column1 AND deliveries.claimed_by IS NOT DISTINCT FROM $2
                   AND deliveries.processed_at IS NULL",
                super::value_rows(chunk.len(), 3, 3)
            );
            // Only placeholders are formatted into the text; every value is bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(to_millis(now))
                .bind(worker.map(str::to_string));
            for (id, note, keep) in chunk {
                q = q.bind(*id).bind(note.clone()).bind(i64::from(*keep));
            }
            marked += q
                .execute(&mut **tx)
                .await
                .context("Failed to mark deliveries processed")?
                .rows_affected();
        }
        Ok(marked == done.len() as u64)
    }

    /// How many of a workspace's deliveries received up to `until` are not processed yet.
    pub async fn unprocessed_deliveries(
        &self,
        team: &str,
        until: DateTime<Utc>,
    ) -> anyhow::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) AS n FROM deliveries WHERE team_id = $1 AND processed_at IS NULL AND received_at <= $2")
            .bind(team.to_string())
            .bind(to_millis(until))
            .fetch_one(self.pool())
            .await
            .context("Failed to count unprocessed deliveries")
    }

    /// Gives a delivery back after a failure, to be retried from `retry_at`.
    pub async fn release_delivery(
        &self,
        id: i64,
        worker: &str,
        retry_at: DateTime<Utc>,
        error: &str,
    ) -> anyhow::Result<()> {
        let sql = QUEUE.held_sql("claimed_until = $1, last_error = $2", 3, None);
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(retry_at))
            .bind(error.to_string())
            .bind(id)
            .bind(worker.to_string())
            .execute(self.writer())
            .await
            .context("Failed to release a delivery")?;
        Ok(())
    }
}
