//! Incidents, their roles and their timeline: the record itself and its changes here, role
//! assignments in `roles`, the stored row in `row`.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::to_millis;
use crate::domain::incident::{DeclareIncident, Origin, Severity, Status, Title};
use crate::domain::timeline::TimelineEntry;
use crate::domain::{ChannelId, TeamId, UserId};

mod roles;
mod row;

pub use roles::{assign_role, current_roles, unassign_role};
use row::IncidentRow;

pub use crate::domain::incident::{Incident, IncidentChannel};

const COLUMNS: &str = "id, team_id, number, title, status, severity, declared_by, declared_at, \
                       origin_channel, origin_ts, origin_thread, channel_id, channel_name, welcome_ts, private, \
                       latest_update, resolved_at, description, postmortem_status, postmortem_owner";

/// The incident a message declared, if that message already declared one.
pub async fn find_by_origin(
    conn: &mut AnyConnection,
    team: &TeamId,
    origin: &Origin,
) -> anyhow::Result<Option<i64>> {
    let Origin::Message { channel, ts, .. } = origin else {
        return Ok(None);
    };
    sqlx::query_scalar(
        "SELECT id FROM incidents WHERE team_id = $1 AND origin_channel = $2 AND origin_ts = $3",
    )
    .bind(team.to_string())
    .bind(channel.to_string())
    .bind(ts.clone())
    .fetch_optional(conn)
    .await
    .context("Failed to look up the incident a message declared")
}

/// Stores a new incident under the workspace's next number.
#[tracing::instrument(name = "Storing a new incident", skip_all)]
pub async fn insert(
    conn: &mut AnyConnection,
    d: &DeclareIncident,
    now: DateTime<Utc>,
) -> anyhow::Result<Incident> {
    let number: i64 = sqlx::query_scalar(
        "INSERT INTO team_counters (team_id, last_number) VALUES ($1, 1)
         ON CONFLICT (team_id) DO UPDATE SET last_number = team_counters.last_number + 1
         RETURNING last_number",
    )
    .bind(d.team.to_string())
    .fetch_one(&mut *conn)
    .await
    .context("Failed to number a new incident")?;
    let (origin_ts, origin_thread) = match &d.origin {
        Origin::Message { ts, thread_ts, .. } => (Some(ts.clone()), thread_ts.clone()),
        Origin::Command { .. } => (None, None),
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO incidents (team_id, number, title, status, severity, declared_by, declared_at,
                                origin_channel, origin_ts, origin_thread, created_at, private)
         VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, $8, $9, $10, $11)
         RETURNING id",
    )
    .bind(d.team.to_string())
    .bind(number)
    .bind(d.title.as_ref().map(|t| t.as_str().to_string()))
    .bind(Status::Investigating.as_str())
    .bind(d.declarer.to_string())
    .bind(to_millis(d.at))
    .bind(d.origin.channel().to_string())
    .bind(origin_ts)
    .bind(origin_thread)
    .bind(to_millis(now))
    .bind(i64::from(d.private))
    .fetch_one(&mut *conn)
    .await
    .context("Failed to store a new incident")?;
    get(conn, &d.team, id).await
}

/// One incident of a workspace.
pub async fn get(conn: &mut AnyConnection, team: &TeamId, id: i64) -> anyhow::Result<Incident> {
    find(conn, team, id)
        .await?
        .with_context(|| format!("There is no incident {id} in workspace {team}"))
}

/// One incident of a workspace, if the workspace has it (a button pressed in another
/// organisation's view of a shared channel names this one's row).
pub async fn find(
    conn: &mut AnyConnection,
    team: &TeamId,
    id: i64,
) -> anyhow::Result<Option<Incident>> {
    let sql = format!("SELECT {COLUMNS} FROM incidents WHERE team_id = $1 AND id = $2");
    sqlx::query_as::<_, IncidentRow>(sqlx::AssertSqlSafe(sql))
        .bind(team.to_string())
        .bind(id)
        .fetch_optional(conn)
        .await
        .with_context(|| format!("Failed to load incident {id}"))?
        .map(Incident::try_from)
        .transpose()
}

/// The incident whose channel this is, if any.
pub async fn by_channel(
    conn: &mut AnyConnection,
    team: &TeamId,
    channel: &ChannelId,
) -> anyhow::Result<Option<Incident>> {
    let sql = format!("SELECT {COLUMNS} FROM incidents WHERE team_id = $1 AND channel_id = $2");
    let row = sqlx::query_as::<_, IncidentRow>(sqlx::AssertSqlSafe(sql))
        .bind(team.to_string())
        .bind(channel.to_string())
        .fetch_optional(conn)
        .await
        .context("Failed to look up an incident by channel")?;
    row.map(TryInto::try_into).transpose()
}

/// Every open incident that has its channel, in every workspace (for the start-up catch-up,
/// which then works on each in its own workspace).
pub async fn open_with_channel(conn: &mut AnyConnection) -> anyhow::Result<Vec<Incident>> {
    let sql = format!("SELECT {COLUMNS} FROM incidents WHERE status <> 'resolved' AND channel_id IS NOT NULL ORDER BY id");
    let rows = sqlx::query_as::<_, IncidentRow>(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .context("Failed to list open incidents")?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Whether `user` declared an incident in `team` at or after `since`.
pub async fn declared_by_since(
    conn: &mut AnyConnection,
    team: &TeamId,
    user: &UserId,
    since: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM incidents WHERE team_id = $1 AND declared_by = $2 AND declared_at >= $3 LIMIT 1",
    )
    .bind(team.to_string())
    .bind(user.to_string())
    .bind(super::to_millis(since))
    .fetch_optional(conn)
    .await
    .context("Failed to look for incidents declared since")?;
    Ok(found.is_some())
}

/// Records the channel Slack created for an incident.
pub async fn set_channel(
    conn: &mut AnyConnection,
    team: &TeamId,
    id: i64,
    channel: &IncidentChannel,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE incidents SET channel_id = $1, channel_name = $2 WHERE team_id = $3 AND id = $4",
    )
    .bind(channel.id.to_string())
    .bind(channel.name.clone())
    .bind(team.to_string())
    .bind(id)
    .execute(conn)
    .await
    .context("Failed to record an incident's channel")?;
    Ok(())
}

/// Changes an incident's title.
pub async fn set_title(
    conn: &mut AnyConnection,
    team: &TeamId,
    id: i64,
    title: &Title,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE incidents SET title = $1 WHERE team_id = $2 AND id = $3")
        .bind(title.as_str().to_string())
        .bind(team.to_string())
        .bind(id)
        .execute(conn)
        .await
        .context("Failed to retitle an incident")?;
    Ok(())
}

/// Sets the severity.
pub async fn set_severity(
    conn: &mut AnyConnection,
    team: &TeamId,
    id: i64,
    severity: Severity,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE incidents SET severity = $1 WHERE team_id = $2 AND id = $3")
        .bind(severity.as_str())
        .bind(team.to_string())
        .bind(id)
        .execute(conn)
        .await
        .context("Failed to set an incident's severity")?;
    Ok(())
}

/// Sets the status; `resolved_at` is set on resolution and cleared on reopening.
pub async fn set_status(
    conn: &mut AnyConnection,
    team: &TeamId,
    id: i64,
    status: Status,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let resolved_at = (status == Status::Resolved).then(|| to_millis(at));
    sqlx::query(
        "UPDATE incidents SET status = $1, resolved_at = $2 WHERE team_id = $3 AND id = $4",
    )
    .bind(status.as_str())
    .bind(resolved_at)
    .bind(team.to_string())
    .bind(id)
    .execute(conn)
    .await
    .context("Failed to set an incident's status")?;
    Ok(())
}

/// Keeps the latest stakeholder update for the live summary.
pub async fn set_latest_update(
    conn: &mut AnyConnection,
    team: &TeamId,
    id: i64,
    text: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE incidents SET latest_update = $1 WHERE team_id = $2 AND id = $3")
        .bind(text.to_string())
        .bind(team.to_string())
        .bind(id)
        .execute(conn)
        .await
        .context("Failed to store an update")?;
    Ok(())
}

/// Stores what the declare form said about the incident.
pub async fn set_description(
    conn: &mut AnyConnection,
    team: &TeamId,
    id: i64,
    text: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE incidents SET description = $1 WHERE team_id = $2 AND id = $3")
        .bind(text.to_string())
        .bind(team.to_string())
        .bind(id)
        .execute(conn)
        .await
        .context("Failed to store a description")?;
    Ok(())
}

/// Counts a change to the incident and returns its number.
pub async fn next_revision(
    conn: &mut AnyConnection,
    team: &TeamId,
    id: i64,
) -> anyhow::Result<i64> {
    sqlx::query_scalar("UPDATE incidents SET revision = revision + 1 WHERE team_id = $1 AND id = $2 RETURNING revision")
        .bind(team.to_string())
        .bind(id)
        .fetch_one(conn)
        .await
        .context("Failed to count a change")
}

/// Records the pinned welcome message.
pub async fn set_welcome_ts(
    conn: &mut AnyConnection,
    team: &TeamId,
    id: i64,
    ts: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE incidents SET welcome_ts = $1 WHERE team_id = $2 AND id = $3")
        .bind(ts.to_string())
        .bind(team.to_string())
        .bind(id)
        .execute(conn)
        .await
        .context("Failed to record an incident's welcome message")?;
    Ok(())
}

/// Appends to an incident's timeline.
pub async fn add_timeline(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    entry: &TimelineEntry,
    actor: Option<&UserId>,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (kind, detail) = entry.stored();
    sqlx::query(
        "INSERT INTO timeline_entries (team_id, incident_id, kind, actor, occurred_at, detail)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(kind)
    .bind(actor.map(|a| a.to_string()))
    .bind(to_millis(at))
    .bind(detail.to_string())
    .execute(conn)
    .await
    .context("Failed to add to an incident's timeline")?;
    Ok(())
}

/// The timeline kinds of an incident, in order (for tests, which check what was recorded).
pub async fn timeline_kinds(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT kind FROM timeline_entries WHERE team_id = $1 AND incident_id = $2 ORDER BY occurred_at, id",
    )
    .bind(team.to_string())
    .bind(incident)
    .fetch_all(conn)
    .await
    .context("Failed to load an incident's timeline")
}
