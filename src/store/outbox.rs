//! The outbox: Slack side effects that must happen, stored with the change that calls for them
//! and carried out (and retried) by a worker until done.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::lease::LeaseQueue;
use super::{from_millis, to_millis, Store};

/// Effects wait until done or given up on, in the order they are due.
const QUEUE: LeaseQueue = LeaseQueue {
    table: "outbox",
    key: &["id"],
    due: "status = 'pending' AND not_before <= $3",
    order: "not_before, id",
    counts_attempts: true,
};
use crate::domain::TeamId;

/// How long a claimed effect stays with its worker without news from it: long enough for a few
/// Slack calls with their time limits; saving progress renews it.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(120);

/// An effect to queue.
#[derive(Debug, Clone)]
pub struct NewEffect {
    pub team: TeamId,
    pub incident: Option<i64>,
    /// Names the effect; queuing the same key twice queues it once.
    pub dedupe_key: String,
    /// The effect's JSON form (see `app::effect::Effect`).
    pub effect: serde_json::Value,
}

/// An effect given up on.
#[derive(Debug, Clone)]
pub struct FailedEffect {
    pub id: i64,
    pub team: TeamId,
    pub incident: Option<i64>,
    pub step: String,
    pub attempts: i64,
    /// Slack's refusal or the last error.
    pub error: String,
    pub failed_at: Option<DateTime<Utc>>,
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

/// A claimed `outbox` row as stored.
#[derive(sqlx::FromRow)]
struct Claimed {
    id: i64,
    team_id: String,
    incident_id: Option<i64>,
    dedupe_key: String,
    payload: String,
    progress: String,
    attempts: i64,
}

impl TryFrom<Claimed> for ClaimedEffect {
    type Error = anyhow::Error;

    fn try_from(r: Claimed) -> anyhow::Result<ClaimedEffect> {
        Ok(ClaimedEffect {
            id: r.id,
            team: TeamId::new(r.team_id),
            incident: r.incident_id,
            dedupe_key: r.dedupe_key,
            effect: serde_json::from_str(&r.payload).context("Stored effect is not JSON")?,
            progress: serde_json::from_str(&r.progress).unwrap_or(serde_json::json!({})),
            attempts: r.attempts,
        })
    }
}

/// A failed `outbox` row as stored.
#[derive(sqlx::FromRow)]
struct Failed {
    id: i64,
    team_id: String,
    incident_id: Option<i64>,
    step: String,
    attempts: i64,
    last_error: Option<String>,
    done_at: Option<i64>,
}

impl From<Failed> for FailedEffect {
    fn from(r: Failed) -> FailedEffect {
        FailedEffect {
            id: r.id,
            team: TeamId::new(r.team_id),
            incident: r.incident_id,
            step: r.step,
            attempts: r.attempts,
            error: r.last_error.unwrap_or_default(),
            failed_at: r.done_at.map(from_millis),
        }
    }
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
        if !QUEUE.has_due(self.pool(), now, None).await? {
            return Ok(None);
        }
        let row: Option<Claimed> = QUEUE
            .claim(
                "id, team_id, incident_id, dedupe_key, payload, progress, attempts",
                worker,
                now,
                lease,
                1,
            )
            .fetch_optional(self.writer())
            .await
            .context("Failed to claim an outbox effect")?;
        row.map(ClaimedEffect::try_from).transpose()
    }

    /// Saves what an attempt is about to do, before it calls Slack, so that a crash or timeout
    /// leaves a trace the next attempt can act on. Saving also renews the worker's lease, so a
    /// long walk through a channel's history keeps the effect for as long as it makes progress;
    /// a worker that lost its lease is told so and stops.
    pub async fn save_progress(
        &self,
        id: i64,
        worker: &str,
        progress: &serde_json::Value,
    ) -> anyhow::Result<()> {
        let until = to_millis(Utc::now() + LEASE);
        let sql = QUEUE.held_sql(
            "progress = $1, claimed_until = $2",
            3,
            Some("status = 'pending'"),
        );
        let saved = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(progress.to_string())
            .bind(until)
            .bind(id)
            .bind(worker.to_string())
            .execute(self.writer())
            .await
            .context("Failed to save an effect's progress")?;
        anyhow::ensure!(
            saved.rows_affected() == 1,
            "another worker took this effect over"
        );
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
        self.put_back(id, worker, not_before, error, "").await
    }

    /// Puts an effect back until `not_before` without counting the claim as an attempt: Slack
    /// asked to wait (rate limit), which says nothing about whether the effect can succeed.
    pub async fn wait_effect(
        &self,
        id: i64,
        worker: &str,
        not_before: DateTime<Utc>,
        error: &str,
    ) -> anyhow::Result<()> {
        let uncounted = ", attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END";
        self.put_back(id, worker, not_before, error, uncounted)
            .await
    }

    async fn put_back(
        &self,
        id: i64,
        worker: &str,
        not_before: DateTime<Utc>,
        error: &str,
        also: &str,
    ) -> anyhow::Result<()> {
        let set = format!("not_before = $1, claimed_until = NULL, last_error = $2{also}");
        QUEUE
            .end_hold(self.writer(), id, worker, &set, not_before, error)
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
        QUEUE
            .end_hold(
                self.writer(),
                id,
                worker,
                "status = 'failed', done_at = $1, claimed_until = NULL, last_error = $2",
                now,
                error,
            )
            .await
            .context("Failed to mark an effect failed")?;
        Ok(())
    }

    /// How many of an incident's participants' names are still being asked of Slack.
    pub async fn pending_name_lookups(
        &self,
        incident: &crate::store::incidents::Incident,
    ) -> anyhow::Result<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) AS n FROM outbox
             WHERE team_id = $1 AND incident_id = $2 AND step = 'look_up_user' AND status = 'pending'",
        )
        .bind(incident.team.to_string())
        .bind(incident.id)
        .fetch_one(self.pool())
        .await
        .context("Failed to count pending name look-ups")
    }

    /// Effects given up on, newest first: what `hereby outbox failed` lists.
    pub async fn failed_effects(&self) -> anyhow::Result<Vec<FailedEffect>> {
        let rows = sqlx::query_as::<_, Failed>(
            "SELECT id, team_id, incident_id, step, attempts, last_error, done_at FROM outbox
             WHERE status = 'failed' ORDER BY done_at DESC, id DESC",
        )
        .fetch_all(self.pool())
        .await
        .context("Failed to list failed effects")?;
        Ok(rows.into_iter().map(FailedEffect::from).collect())
    }

    /// Puts failed effects back in the queue to be tried again from now, with a fresh count of
    /// attempts: one by `id`, or all of them. Returns how many.
    pub async fn retry_failed(&self, id: Option<i64>, now: DateTime<Utc>) -> anyhow::Result<u64> {
        let query = match id {
            Some(_) => {
                "UPDATE outbox SET status = 'pending', attempts = 0, not_before = $1, done_at = NULL,
                        claimed_until = NULL
                 WHERE status = 'failed' AND id = $2"
            }
            None => {
                "UPDATE outbox SET status = 'pending', attempts = 0, not_before = $1, done_at = NULL,
                        claimed_until = NULL
                 WHERE status = 'failed'"
            }
        };
        let mut q = sqlx::query(query).bind(to_millis(now));
        if let Some(id) = id {
            q = q.bind(id);
        }
        let r = q
            .execute(self.writer())
            .await
            .context("Failed to put failed effects back in the queue")?;
        Ok(r.rows_affected())
    }

    /// How many effects have been given up on.
    pub async fn outbox_failed(&self) -> anyhow::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) AS n FROM outbox WHERE status = 'failed'")
            .fetch_one(self.pool())
            .await
            .context("Failed to count failed effects")
    }

    /// How many effects are waiting.
    pub async fn outbox_depth(&self) -> anyhow::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'")
            .fetch_one(self.pool())
            .await
            .context("Failed to count the outbox")
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
    let sql = QUEUE.held_sql(
        "status = 'done', done_at = $1, claimed_until = NULL",
        2,
        Some("status = 'pending'"),
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(to_millis(now))
        .bind(id)
        .bind(worker.to_string())
        .execute(conn)
        .await
        .context("Failed to mark an effect done")?;
    Ok(done.rows_affected() == 1)
}
