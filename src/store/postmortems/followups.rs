//! The follow-up schedule: when an incident's open action items are next reviewed, claimed by
//! one worker at a time.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use crate::domain::TeamId;
use crate::store::lease::LeaseQueue;
use crate::store::to_millis;

/// Follow-ups wait until their date, earliest first.
const QUEUE: LeaseQueue = LeaseQueue {
    table: "followups",
    key: &["team_id", "incident_id"],
    due: "next_at <= $3",
    order: "next_at",
    counts_attempts: false,
};

/// Schedules (or keeps) the follow-up review of an incident.
pub async fn schedule_followup(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO followups (team_id, incident_id, next_at) VALUES ($1, $2, $3)
         ON CONFLICT (team_id, incident_id) DO NOTHING",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(to_millis(at))
    .execute(conn)
    .await
    .context("Failed to schedule a follow-up")?;
    Ok(())
}

/// A follow-up that is due, claimed for `lease`: (team, incident).
pub async fn claim_followup(
    pool: &sqlx::AnyPool,
    worker: &str,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> anyhow::Result<Option<(TeamId, i64)>> {
    let row: Option<IncidentKey> = QUEUE
        .claim("team_id, incident_id", worker, now, lease, 1)
        .fetch_optional(pool)
        .await
        .context("Failed to claim a follow-up")?;
    Ok(row.map(|r| (TeamId::new(r.team_id), r.incident_id)))
}

/// Moves a claimed follow-up to its next date.
pub async fn reschedule_followup(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    worker: &str,
    next: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let sql = QUEUE.held_sql(
        "next_at = $1, reminders_sent = reminders_sent + 1, claimed_until = NULL",
        2,
        None,
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(to_millis(next))
        .bind(team.to_string())
        .bind(incident)
        .bind(worker.to_string())
        .execute(conn)
        .await
        .context("Failed to reschedule a follow-up")?;
    Ok(done.rows_affected() == 1)
}

/// Ends an incident's follow-ups (every action item is closed).
pub async fn end_followups(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM followups WHERE team_id = $1 AND incident_id = $2")
        .bind(team.to_string())
        .bind(incident)
        .execute(conn)
        .await
        .context("Failed to end follow-ups")?;
    Ok(())
}

/// Which incident of which workspace.
#[derive(sqlx::FromRow)]
struct IncidentKey {
    team_id: String,
    incident_id: i64,
}
