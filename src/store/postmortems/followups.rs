//! The follow-up schedule: when an incident's open action items are next reviewed, claimed by
//! one worker at a time.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use crate::domain::TeamId;
use crate::store::to_millis;

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
    let row = sqlx::query_as::<_, IncidentKey>(
        "UPDATE followups SET claimed_by = $1, claimed_until = $2
         WHERE (team_id, incident_id) = (SELECT team_id, incident_id FROM followups
                                         WHERE next_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3)
                                         ORDER BY next_at LIMIT 1)
           AND next_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3)
         RETURNING team_id, incident_id",
    )
    .bind(worker.to_string())
    .bind(to_millis(now + lease))
    .bind(to_millis(now))
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
    let done = sqlx::query(
        "UPDATE followups SET next_at = $1, reminders_sent = reminders_sent + 1, claimed_until = NULL
         WHERE team_id = $2 AND incident_id = $3 AND claimed_by = $4",
    )
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
