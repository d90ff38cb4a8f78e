//! The outbox: Slack side effects that must happen, stored with the change that calls for them
//! and carried out (and retried) by a worker until done.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

use super::{to_millis, Store};
use crate::domain::TeamId;

/// An effect to queue.
#[derive(Debug, Clone)]
pub struct NewEffect {
    pub team: TeamId,
    pub incident: Option<i64>,
    /// Names the effect; queuing the same key twice queues it once.
    pub dedupe_key: String,
    /// The effect's JSON form (see `app::effects::Effect`).
    pub effect: serde_json::Value,
}

/// An effect a worker has claimed.
#[derive(Debug, Clone)]
pub struct ClaimedEffect {
    pub id: i64,
    pub team: TeamId,
    pub incident: Option<i64>,
    pub dedupe_key: String,
    pub effect: serde_json::Value,
    /// What earlier attempts recorded.
    pub progress: serde_json::Value,
    pub attempts: i64,
}

/// Queues an effect, inside the transaction of the change that calls for it.
pub async fn enqueue(
    conn: &mut AnyConnection,
    e: &NewEffect,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let step = e
        .effect
        .get("step")
        .and_then(|s| s.as_str())
        .unwrap_or("unknown")
        .to_string();
    sqlx::query(
        "INSERT INTO outbox (team_id, incident_id, dedupe_key, step, payload, not_before, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (team_id, dedupe_key) DO NOTHING",
    )
    .bind(e.team.to_string())
    .bind(e.incident)
    .bind(e.dedupe_key.clone())
    .bind(step)
    .bind(e.effect.to_string())
    .bind(to_millis(now))
    .execute(conn)
    .await
    .with_context(|| format!("Failed to queue effect {}", e.dedupe_key))?;
    Ok(())
}

impl Store {
    /// Takes the oldest due effect that no live worker holds, for `lease`.
    pub async fn claim_effect(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> anyhow::Result<Option<ClaimedEffect>> {
        let row = sqlx::query(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1
             WHERE id = (SELECT id FROM outbox
                         WHERE status = 'pending' AND not_before <= $3
                           AND (claimed_until IS NULL OR claimed_until < $3)
                         ORDER BY not_before, id LIMIT 1)
               AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $3)
             RETURNING id, team_id, incident_id, dedupe_key, payload, progress, attempts",
        )
        .bind(worker.to_string())
        .bind(to_millis(now + lease))
        .bind(to_millis(now))
        .fetch_optional(self.pool())
        .await
        .context("Failed to claim an outbox effect")?;
        let Some(r) = row else { return Ok(None) };
        let payload: String = r.try_get("payload")?;
        let progress: String = r.try_get("progress")?;
        Ok(Some(ClaimedEffect {
            id: r.try_get("id")?,
            team: TeamId::new(r.try_get::<String, _>("team_id")?),
            incident: r.try_get("incident_id")?,
            dedupe_key: r.try_get("dedupe_key")?,
            effect: serde_json::from_str(&payload).context("Stored effect is not JSON")?,
            progress: serde_json::from_str(&progress).unwrap_or(serde_json::json!({})),
            attempts: r.try_get("attempts")?,
        }))
    }

    /// Saves what an attempt is about to do, before it calls Slack, so that a crash or timeout
    /// leaves a trace the next attempt can act on.
    pub async fn save_progress(
        &self,
        id: i64,
        worker: &str,
        progress: &serde_json::Value,
    ) -> anyhow::Result<()> {
        sqlx::query("UPDATE outbox SET progress = $1 WHERE id = $2 AND claimed_by = $3")
            .bind(progress.to_string())
            .bind(id)
            .bind(worker.to_string())
            .execute(self.pool())
            .await
            .context("Failed to save an effect's progress")?;
        Ok(())
    }

    /// Puts an effect back to be tried again from `not_before`.
    pub async fn retry_effect(
        &self,
        id: i64,
        worker: &str,
        not_before: DateTime<Utc>,
        error: &str,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE outbox SET not_before = $1, claimed_until = NULL, last_error = $2
             WHERE id = $3 AND claimed_by = $4",
        )
        .bind(to_millis(not_before))
        .bind(error.to_string())
        .bind(id)
        .bind(worker.to_string())
        .execute(self.pool())
        .await
        .context("Failed to reschedule an effect")?;
        Ok(())
    }

    /// Gives up on an effect Slack refuses for good; it stays visible with its error.
    pub async fn fail_effect(
        &self,
        id: i64,
        worker: &str,
        now: DateTime<Utc>,
        error: &str,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE outbox SET status = 'failed', done_at = $1, claimed_until = NULL, last_error = $2
             WHERE id = $3 AND claimed_by = $4",
        )
        .bind(to_millis(now))
        .bind(error.to_string())
        .bind(id)
        .bind(worker.to_string())
        .execute(self.pool())
        .await
        .context("Failed to mark an effect failed")?;
        Ok(())
    }

    /// How many effects are waiting.
    pub async fn outbox_depth(&self) -> anyhow::Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'")
            .fetch_one(self.pool())
            .await
            .context("Failed to count the outbox")?;
        Ok(r.try_get("n")?)
    }
}

/// Marks an effect done, in the transaction that records its result; `false` when this worker
/// no longer holds it.
pub async fn complete(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'done', done_at = $1, claimed_until = NULL
         WHERE id = $2 AND claimed_by = $3 AND status = 'pending'",
    )
    .bind(to_millis(now))
    .bind(id)
    .bind(worker.to_string())
    .execute(conn)
    .await
    .context("Failed to mark an effect done")?;
    Ok(done.rows_affected() == 1)
}
