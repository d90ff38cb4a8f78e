//! What the pages read: one workspace's incidents (filtered, newest first, a page at a time),
//! an incident by its number, its draft versions and a page of its channel log. Every query
//! is bound to the viewer's workspace.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::sessions::Viewer;
use crate::domain::incident::{Severity, Status};
use crate::domain::TeamId;
use crate::store::from_millis;
use crate::store::incidents::{self, Incident};
use crate::store::record::CachedUser;

/// Incidents per page of the list.
pub const PAGE_SIZE: i64 = 25;
/// Messages per page of the channel log on the incident page.
pub const LOG_PAGE_SIZE: i64 = 200;

/// The list's filters and page (1-based).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<Status>,
    pub severity: Option<Severity>,
    pub page: i64,
}

/// One line of the incidents list.
#[derive(Debug, Clone)]
pub struct Listed {
    pub number: i64,
    pub title: Option<String>,
    pub status: String,
    pub severity: Option<String>,
    pub commander: Option<String>,
    pub declared_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub open_actions: i64,
    /// A private incident's channel: only its members see the incident.
    pub private_channel: Option<String>,
}

/// A line of the list as the query returns it.
#[derive(sqlx::FromRow)]
struct ListedRow {
    number: i64,
    title: Option<String>,
    status: String,
    severity: Option<String>,
    declared_at: i64,
    resolved_at: Option<i64>,
    private: i64,
    channel_id: Option<String>,
    commander: Option<String>,
    open_actions: i64,
}

/// Up to `limit` of a workspace's incidents numbered below `below` (all, if `None`), newest
/// first. The page is made by the caller, which alone knows whom each private incident shows to.
#[tracing::instrument(name = "Listing incidents", skip(conn))]
pub async fn list(
    conn: &mut AnyConnection,
    team: &TeamId,
    filter: &Filter,
    below: Option<i64>,
    limit: i64,
) -> anyhow::Result<Vec<Listed>> {
    let rows = sqlx::query_as::<_, ListedRow>(
        "SELECT i.number, i.title, i.status, i.severity, i.declared_at, i.resolved_at, i.private,
            i.channel_id,
            (SELECT r.user_id FROM role_assignments r
              WHERE r.team_id = i.team_id AND r.incident_id = i.id AND r.role = 'commander'
                AND r.unassigned_at IS NULL
              ORDER BY r.assigned_at DESC LIMIT 1) AS commander,
            (SELECT COUNT(*) FROM action_items a
              WHERE a.team_id = i.team_id AND a.incident_id = i.id AND a.status = 'open') AS open_actions
         FROM incidents i
         WHERE i.team_id = $1 AND ($2 = '' OR i.status = $2) AND ($3 = '' OR i.severity = $3)
           AND i.number < $4
         ORDER BY i.number DESC LIMIT $5",
    )
    .bind(team.to_string())
    .bind(filter.status.map(Status::as_str).unwrap_or("").to_string())
    .bind(filter.severity.map(Severity::as_str).unwrap_or("").to_string())
    .bind(below.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
    .context("Failed to list incidents")?;
    let names = names(conn, team).await?;
    Ok(rows
        .into_iter()
        .map(|r| Listed {
            number: r.number,
            title: r.title,
            status: r.status,
            severity: r.severity,
            commander: r.commander.map(|u| names.get(&u).cloned().unwrap_or(u)),
            declared_at: from_millis(r.declared_at),
            resolved_at: r.resolved_at.map(from_millis),
            open_actions: r.open_actions,
            // A private incident whose channel is not there yet is seen by nobody.
            private_channel: (r.private != 0).then(|| r.channel_id.unwrap_or_default()),
        })
        .collect())
}

/// User ID → the name to show, for one workspace.
pub async fn names(
    conn: &mut AnyConnection,
    team: &TeamId,
) -> anyhow::Result<HashMap<String, String>> {
    let rows: Vec<CachedUser> =
        sqlx::query_as("SELECT user_id, display_name, real_name FROM users WHERE team_id = $1")
            .bind(team.to_string())
            .fetch_all(conn)
            .await
            .context("Failed to load user names")?;
    Ok(rows.into_iter().filter_map(CachedUser::name).collect())
}

/// The name to show for the signed-in person (their Slack ID until hereby has seen them).
pub async fn viewer_name(conn: &mut AnyConnection, viewer: &Viewer) -> anyhow::Result<String> {
    /// The names Slack gave.
    #[derive(sqlx::FromRow)]
    struct Names {
        display_name: Option<String>,
        real_name: Option<String>,
    }
    let row = sqlx::query_as::<_, Names>(
        "SELECT display_name, real_name FROM users WHERE team_id = $1 AND user_id = $2",
    )
    .bind(viewer.team.to_string())
    .bind(viewer.user.to_string())
    .fetch_optional(conn)
    .await
    .context("Failed to look up the viewer's name")?;
    let name = row.and_then(|r| r.display_name.filter(|n| !n.is_empty()).or(r.real_name));
    Ok(name.unwrap_or_else(|| viewer.user.to_string()))
}

/// The workspace's incident with this number.
pub async fn by_number(
    conn: &mut AnyConnection,
    team: &TeamId,
    number: i64,
) -> anyhow::Result<Option<Incident>> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM incidents WHERE team_id = $1 AND number = $2")
            .bind(team.to_string())
            .bind(number)
            .fetch_optional(&mut *conn)
            .await
            .context("Failed to look up an incident by number")?;
    match id {
        Some(id) => Ok(Some(incidents::get(conn, team, id).await?)),
        None => Ok(None),
    }
}

/// A stored version of the post-mortem draft.
#[derive(Debug, Clone)]
pub struct Version {
    pub version: i64,
    pub markdown: String,
    pub created_at: DateTime<Utc>,
}

/// A `postmortems` row as the page reads it.
#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i64,
    markdown: String,
    created_at: i64,
}

/// Every stored draft version of an incident, newest first.
pub async fn versions(
    conn: &mut AnyConnection,
    incident: &Incident,
) -> anyhow::Result<Vec<Version>> {
    let rows = sqlx::query_as::<_, VersionRow>(
        "SELECT version, markdown, created_at FROM postmortems
         WHERE team_id = $1 AND incident_id = $2 ORDER BY version DESC",
    )
    .bind(incident.team.to_string())
    .bind(incident.id)
    .fetch_all(conn)
    .await
    .context("Failed to load the draft versions")?;
    Ok(rows
        .into_iter()
        .map(|r| Version {
            version: r.version,
            markdown: r.markdown,
            created_at: from_millis(r.created_at),
        })
        .collect())
}

/// One message of the channel log.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub ts: String,
    pub reply: bool,
    pub at: DateTime<Utc>,
    pub author: String,
    pub text: Option<String>,
    pub files: Vec<String>,
    pub edited: bool,
    pub highlighted: bool,
}

/// A `messages` row as the log reads it.
#[derive(sqlx::FromRow)]
struct LogRow {
    ts: String,
    thread_ts: Option<String>,
    user_id: Option<String>,
    author_name: Option<String>,
    text: Option<String>,
    files: Option<String>,
    posted_at: i64,
    edited_at: Option<i64>,
    highlighted: i64,
}

/// A page of the channel log: each thread's parent followed by its replies, in time order.
pub async fn log_page(
    conn: &mut AnyConnection,
    incident: &Incident,
    names: &HashMap<String, String>,
    page: i64,
) -> anyhow::Result<(Vec<LogLine>, i64)> {
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) AS n FROM messages WHERE team_id = $1 AND incident_id = $2",
    )
    .bind(incident.team.to_string())
    .bind(incident.id)
    .fetch_one(&mut *conn)
    .await
    .context("Failed to count messages")?;
    let rows = sqlx::query_as::<_, LogRow>(
        "SELECT ts, thread_ts, user_id, author_name, text, files, posted_at, edited_at, highlighted
         FROM messages WHERE team_id = $1 AND incident_id = $2
         ORDER BY COALESCE(thread_ts, ts), posted_at, id LIMIT $3 OFFSET $4",
    )
    .bind(incident.team.to_string())
    .bind(incident.id)
    .bind(LOG_PAGE_SIZE)
    .bind((page.max(1) - 1) * LOG_PAGE_SIZE)
    .fetch_all(conn)
    .await
    .context("Failed to load a page of messages")?;
    let lines = rows
        .into_iter()
        .map(|r| {
            let author = r
                .user_id
                .as_ref()
                .map(|u| names.get(u).cloned().unwrap_or_else(|| u.clone()))
                .or(r.author_name)
                .unwrap_or_else(|| "an app".into());
            let files = r
                .files
                .and_then(|f| serde_json::from_str::<serde_json::Value>(&f).ok())
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|f| {
                    f.get("name")
                        .or_else(|| f.get("title"))
                        .and_then(|n| n.as_str())
                        .map(String::from)
                })
                .collect();
            LogLine {
                reply: r.thread_ts.as_ref().is_some_and(|t| *t != r.ts),
                ts: r.ts,
                at: from_millis(r.posted_at),
                author,
                text: r.text,
                files,
                edited: r.edited_at.is_some(),
                highlighted: r.highlighted != 0,
            }
        })
        .collect();
    Ok((lines, total))
}
