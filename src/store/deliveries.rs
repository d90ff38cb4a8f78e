//! Events API deliveries: stored before they are acknowledged, then taken (or, when left
//! over, claimed) and processed.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::lease::LeaseQueue;
use super::{from_millis, to_millis, Backend, Store, Tx};

/// Deliveries left over, oldest first: waiting, and up to id `$5`, the last delivery the
/// worker knows is not new. Bounded so, a claim reads only what was left over (and the index
/// entries of deliveries processed since the last vacuum), never a backlog of new deliveries:
/// PostgreSQL, guessing from statistics taken while nothing waited, once joined every waiting
/// delivery with the claim's own subquery, and a claim during a burst took five seconds.
const LEFT_OVER: LeaseQueue = LeaseQueue {
    table: "deliveries",
    key: &["id"],
    due: "processed_at IS NULL AND id <= $5",
    order: "id",
    counts_attempts: true,
};

/// The most deliveries one `INSERT` stores.
pub(crate) const DELIVERIES_PER_STATEMENT: usize = super::rows_per_statement(6);

/// A delivery after id `$1` that no worker has tried: never claimed, so never given back.
const NEW: &str = "processed_at IS NULL AND id > $1 AND attempts = 0 AND claimed_until IS NULL";

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
    /// batch). Nothing is stored if the transaction fails. The server stores through the
    /// group-commit writer; this is for seeding a store (the tests do).
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

    /// Stores a batch of deliveries on `conn` (in a transaction, unless one statement takes
    /// them all) with multi-row inserts; for each, in order, its id if it is new, `None` for a
    /// redelivery (also of an earlier one in the batch).
    #[tracing::instrument(name = "Storing deliveries together", skip_all, fields(deliveries = batch.len()))]
    pub async fn store_deliveries(
        conn: &mut sqlx::AnyConnection,
        batch: &[OwnedDelivery],
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Option<i64>>> {
        let mut inserted: HashMap<(String, String), i64> = HashMap::new();
        for chunk in batch.chunks(DELIVERIES_PER_STATEMENT) {
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
                .fetch_all(&mut *conn)
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

    /// The newest delivery stored so far (0 when there is none): a worker that starts takes
    /// what was stored up to here as left over, with its attempts counted.
    pub async fn last_delivery_id(&self) -> anyhow::Result<i64> {
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM deliveries")
            .fetch_one(self.pool())
            .await
            .context("Failed to look up the last delivery")
    }

    /// Whether a delivery after id `after` waits that no worker has tried yet, asked on a
    /// reader (an idle worker looks every second, and on SQLite a write transaction would wait
    /// for the writer).
    pub async fn has_new_deliveries(&self, after: i64) -> anyhow::Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM deliveries WHERE {NEW} LIMIT 1"
        )))
        .bind(after)
        .fetch_optional(self.pool())
        .await
        .context("Failed to look for new deliveries")?;
        Ok(found.is_some())
    }

    /// Takes, inside `tx` (which then processes them and marks them processed), up to `limit`
    /// deliveries after id `after` that no worker has tried yet, in the order they arrived.
    ///
    /// No lease is written: on PostgreSQL the rows stay locked until `tx` ends, and other
    /// workers pass over them (`SKIP LOCKED`); on SQLite `tx` holds the only write lock. So
    /// taking a batch costs no `UPDATE` of its rows and no commit of its own, and if the
    /// process dies the rows are free again at once. Nothing counts this first attempt: a
    /// batch that fails is left to [`Store::claim_deliveries`], which does.
    pub async fn take_deliveries(
        &self,
        tx: &mut Tx,
        after: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<PendingDelivery>> {
        let postgres = self.backend == Backend::Postgres;
        let lock = if postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, team_id, event_id, payload, attempts, received_at FROM deliveries
             WHERE {NEW} ORDER BY id LIMIT $2{lock}"
        );
        // Read in the index's order, never gathered and sorted: PostgreSQL, guessing from
        // statistics taken while nothing waited, would otherwise at times read and sort every
        // waiting delivery to take the first 512, at every batch of a backlog.
        let sorting = |on: bool| {
            sqlx::query(if on {
                "SET LOCAL enable_sort = DEFAULT"
            } else {
                "SET LOCAL enable_sort = off"
            })
        };
        if postgres {
            sorting(false)
                .execute(&mut **tx)
                .await
                .context("Failed to turn sorting off")?;
        }
        let rows: Vec<Claimed> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(limit)
            .fetch_all(&mut **tx)
            .await
            .context("Failed to take new deliveries")?;
        if postgres {
            sorting(true)
                .execute(&mut **tx)
                .await
                .context("Failed to turn sorting back on")?;
        }
        Ok(rows.into_iter().map(PendingDelivery::from).collect())
    }

    /// Claims, for `lease` and counting an attempt, up to `limit` of the oldest unprocessed
    /// deliveries up to id `up_to` that no live worker holds, in the order they arrived: those
    /// left over (an earlier run's, those given back to be retried, those of a batch that
    /// failed).
    #[tracing::instrument(name = "Claiming deliveries", skip(self))]
    pub async fn claim_deliveries(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: i64,
        up_to: i64,
    ) -> anyhow::Result<Vec<PendingDelivery>> {
        if !LEFT_OVER.has_due(self.pool(), now, Some(up_to)).await? {
            return Ok(Vec::new());
        }
        let rows: Vec<Claimed> = LEFT_OVER
            .claim(
                "id, team_id, event_id, payload, attempts, received_at",
                worker,
                now,
                lease,
                limit,
            )
            .bind(up_to)
            .fetch_all(self.writer())
            .await
            .context("Failed to claim deliveries")?;
        let mut claimed: Vec<PendingDelivery> =
            rows.into_iter().map(PendingDelivery::from).collect();
        claimed.sort_by_key(|d| d.id);
        Ok(claimed)
    }

    /// Marks deliveries processed inside the transaction that holds their effects:
    /// `(id, note, keep_payload)` each. `worker` is the worker that claimed them, `None` for
    /// deliveries processed in the transaction that stores or takes them.
    /// `false` when this worker no longer holds every one of them (a lease lapsed and another
    /// worker took over). Unless `keep_payload`,
    /// the raw payload is erased: hereby keeps nothing said outside incidents.
    pub async fn finish_deliveries(
        tx: &mut Tx,
        worker: Option<&str>,
        now: DateTime<Utc>,
        done: &[(i64, String, bool)],
    ) -> anyhow::Result<bool> {
        // A batch's notes are a handful ("Recorded(\"message\")", …): one statement per note
        // and choice, naming its deliveries in an `IN` list. Joined to a `VALUES` list of
        // (id, note, keep) instead, PostgreSQL ran a nested loop that evaluated every row of
        // the list for every delivery: half of the statement's time, and the costliest
        // statement hereby sent.
        let mut groups: Vec<(&str, bool, Vec<i64>)> = Vec::new();
        for (id, note, keep) in done {
            match groups
                .iter_mut()
                .find(|(n, k, _)| *n == note.as_str() && k == keep)
            {
                Some((_, _, ids)) => ids.push(*id),
                None => groups.push((note, *keep, vec![*id])),
            }
        }
        let mut marked = 0;
        for (note, keep, ids) in &groups {
            for chunk in ids.chunks(FINISHED_PER_STATEMENT) {
                marked += mark_processed(tx, worker, now, note, *keep, chunk).await?;
            }
        }
        Ok(marked == done.len() as u64)
    }

    /// Deletes, among the deliveries after id `after` (up to `chunk` ids on from the first),
    /// those received before `cutoff`, processed, and whose payload was erased: once Slack can
    /// no longer redeliver them they tell nothing. What is kept (an incident channel's raw
    /// deliveries, a failed delivery's payload) and what waits stays. Returns the id swept up
    /// to and how many were deleted; `None` when nothing after `after` is that old.
    pub async fn sweep_deliveries(
        &self,
        after: i64,
        chunk: i64,
        cutoff: DateTime<Utc>,
    ) -> anyhow::Result<Option<(i64, u64)>> {
        // Ranges of ids, read through the primary key: no index on what was erased is needed,
        // and the sweep never reads past the rows young enough to keep.
        let first: Option<i64> = sqlx::query_scalar("SELECT MIN(id) FROM deliveries WHERE id > $1")
            .bind(after)
            .fetch_one(self.pool())
            .await
            .context("Failed to find deliveries to sweep")?;
        let Some(first) = first else {
            return Ok(None);
        };
        let old_enough: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(id) FROM deliveries WHERE id >= $1 AND id < $2 AND received_at < $3",
        )
        .bind(first)
        .bind(first.saturating_add(chunk))
        .bind(to_millis(cutoff))
        .fetch_one(self.pool())
        .await
        .context("Failed to find deliveries to sweep")?;
        let Some(last) = old_enough else {
            return Ok(None);
        };
        let deleted = sqlx::query(
            "DELETE FROM deliveries WHERE id >= $1 AND id <= $2 AND received_at < $3
               AND processed_at IS NOT NULL AND payload = ''",
        )
        .bind(first)
        .bind(last)
        .bind(to_millis(cutoff))
        .execute(&mut *self.write_conn().await?)
        .await
        .context("Failed to delete old deliveries")?
        .rows_affected();
        Ok(Some((last, deleted)))
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
        LEFT_OVER
            .end_hold(
                self.writer(),
                id,
                worker,
                "claimed_until = $1, last_error = $2",
                retry_at,
                error,
            )
            .await
            .context("Failed to release a delivery")?;
        Ok(())
    }
}

/// How many deliveries one statement marks processed: with its three other values, within
/// the 200 a statement of hereby's takes (`super::rows_per_statement`).
const FINISHED_PER_STATEMENT: usize = 196;

/// The `IN` lists of [`mark_processed`] come in these lengths, the last id repeated to fill
/// one: a few shapes of statement, each prepared once per connection, rather than one per
/// length.
const FINISHED_SHAPES: [usize; 6] = [8, 16, 32, 64, 128, FINISHED_PER_STATEMENT];

/// Marks `ids` (at most [`FINISHED_PER_STATEMENT`]) processed with `note`, keeping their
/// payloads or erasing them; returns how many it marked.
async fn mark_processed(
    tx: &mut Tx,
    worker: Option<&str>,
    now: DateTime<Utc>,
    note: &str,
    keep: bool,
    ids: &[i64],
) -> anyhow::Result<u64> {
    let Some(&last) = ids.last() else {
        return Ok(0);
    };
    let length = FINISHED_SHAPES
        .into_iter()
        .find(|&n| n >= ids.len())
        .unwrap_or(ids.len());
    let payload = if keep { "" } else { ", payload = ''" };
    // "Not processed yet" is written so that the index of waiting deliveries cannot serve
    // it: the ids, on the primary key, are the way in.
    let sql = format!(
        "UPDATE deliveries SET processed_at = $1, claimed_until = NULL, last_error = $2{payload}
         WHERE id IN ({}) AND claimed_by IS NOT DISTINCT FROM $3
           AND COALESCE(processed_at, 0) = 0",
        super::places(length, 4)
    );
    // Only placeholders are formatted into the text; every value is bound.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(to_millis(now))
        .bind(note.to_string())
        .bind(worker.map(str::to_string));
    for i in 0..length {
        q = q.bind(ids.get(i).copied().unwrap_or(last));
    }
    Ok(q.execute(&mut **tx)
        .await
        .context("Failed to mark deliveries processed")?
        .rows_affected())
}
