//! Events API deliveries: stored before they are acknowledged, then claimed and processed.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{to_millis, Store, Tx};

/// What storing a delivery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// First time this `event_id` arrived: stored, to be processed.
    New,
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

/// A new delivery, as it arrived.
pub struct NewDelivery<'a> {
    pub team_id: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub payload: &'a str,
    pub retry_num: Option<i64>,
}

impl Store {
    /// Commits a delivery; a second delivery of the same `event_id` is reported, not stored.
    #[tracing::instrument(name = "Storing a delivery", skip(self, d), fields(event_id = d.event_id))]
    pub async fn record_delivery(
        &self,
        d: &NewDelivery<'_>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Recorded> {
        let done = sqlx::query(
            "INSERT INTO deliveries (team_id, event_id, event_type, payload, retry_num, received_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (team_id, event_id) DO NOTHING",
        )
        .bind(d.team_id.to_string())
        .bind(d.event_id.to_string())
        .bind(d.event_type.to_string())
        .bind(d.payload.to_string())
        .bind(d.retry_num)
        .bind(to_millis(now))
        .execute(self.pool())
        .await
        .context("Failed to store a delivery")?;
        Ok(if done.rows_affected() == 1 {
            Recorded::New
        } else {
            Recorded::Duplicate
        })
    }

    /// Takes the oldest unprocessed delivery that no live worker holds, for `lease`.
    #[tracing::instrument(name = "Claiming a delivery", skip(self))]
    pub async fn claim_delivery(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> anyhow::Result<Option<PendingDelivery>> {
        // The conditions are repeated outside the subquery so that, when two workers race for
        // the same row, the second one's UPDATE re-checks them and matches nothing.
        let row = sqlx::query(
            "UPDATE deliveries SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1
             WHERE id = (SELECT id FROM deliveries
                         WHERE processed_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3)
                         ORDER BY id LIMIT 1)
               AND processed_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3)
             RETURNING id, team_id, event_id, payload, attempts, received_at",
        )
        .bind(worker.to_string())
        .bind(to_millis(now + lease))
        .bind(to_millis(now))
        .fetch_optional(self.pool())
        .await
        .context("Failed to claim a delivery")?;
        row.map(|r| {
            Ok(PendingDelivery {
                id: r.try_get("id")?,
                team_id: r.try_get("team_id")?,
                event_id: r.try_get("event_id")?,
                payload: r.try_get("payload")?,
                attempts: r.try_get("attempts")?,
                received_at: super::from_millis(r.try_get("received_at")?),
            })
        })
        .transpose()
    }

    /// Marks a delivery processed inside the transaction that holds its effects; `false` when
    /// this worker no longer holds it (its lease lapsed and another took over). Unless
    /// `keep_payload`, the raw payload is erased: hereby keeps nothing said outside incidents.
    pub async fn finish_delivery(
        tx: &mut Tx,
        id: i64,
        worker: &str,
        now: DateTime<Utc>,
        note: Option<&str>,
        keep_payload: bool,
    ) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE deliveries SET processed_at = $1, claimed_until = NULL, last_error = $2,
                                   payload = CASE WHEN $5 = 1 THEN payload ELSE '' END
             WHERE id = $3 AND claimed_by = $4 AND processed_at IS NULL",
        )
        .bind(to_millis(now))
        .bind(note.map(str::to_string))
        .bind(id)
        .bind(worker.to_string())
        .bind(i64::from(keep_payload))
        .execute(&mut **tx)
        .await
        .context("Failed to mark a delivery processed")?;
        Ok(done.rows_affected() == 1)
    }

    /// How many of a workspace's deliveries received up to `until` are not processed yet.
    pub async fn unprocessed_deliveries(
        &self,
        team: &str,
        until: DateTime<Utc>,
    ) -> anyhow::Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM deliveries WHERE team_id = $1 AND processed_at IS NULL AND received_at <= $2")
            .bind(team.to_string())
            .bind(to_millis(until))
            .fetch_one(self.pool())
            .await
            .context("Failed to count unprocessed deliveries")?;
        Ok(row.try_get("n")?)
    }

    /// Gives a delivery back after a failure, to be retried from `retry_at`.
    pub async fn release_delivery(
        &self,
        id: i64,
        worker: &str,
        retry_at: DateTime<Utc>,
        error: &str,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE deliveries SET claimed_until = $1, last_error = $2 WHERE id = $3 AND claimed_by = $4",
        )
        .bind(to_millis(retry_at))
        .bind(error.to_string())
        .bind(id)
        .bind(worker.to_string())
        .execute(self.pool())
        .await
        .context("Failed to release a delivery")?;
        Ok(())
    }
}
