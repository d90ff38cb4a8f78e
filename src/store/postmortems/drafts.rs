//! Stored versions of the post-mortem draft and the Slack files they were shared as.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use crate::domain::TeamId;
use crate::store::to_millis;

/// A stored draft version.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredDraft {
    pub version: i64,
    pub markdown: String,
    pub file_id: Option<String>,
}

/// The draft an effect already made, if it made one.
pub async fn draft_by_source(
    conn: &mut AnyConnection,
    team: &TeamId,
    source_key: &str,
) -> anyhow::Result<Option<StoredDraft>> {
    sqlx::query_as(
        "SELECT version, markdown, file_id FROM postmortems WHERE team_id = $1 AND source_key = $2",
    )
    .bind(team.to_string())
    .bind(source_key.to_string())
    .fetch_optional(conn)
    .await
    .context("Failed to look up a draft")
}

/// Stores a rendered draft as the incident's next version; returns the version.
pub async fn save_draft(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    markdown: &str,
    source_key: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let version: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 AS v FROM postmortems WHERE team_id = $1 AND incident_id = $2")
        .bind(team.to_string())
        .bind(incident)
        .fetch_one(&mut *conn)
        .await
        .context("Failed to number a draft")?;
    sqlx::query("INSERT INTO postmortems (team_id, incident_id, version, markdown, created_at, source_key) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(team.to_string())
        .bind(incident)
        .bind(version)
        .bind(markdown.to_string())
        .bind(to_millis(now))
        .bind(source_key.to_string())
        .execute(conn)
        .await
        .context("Failed to store a draft")?;
    Ok(version)
}

/// Records the Slack file a draft version was shared as.
pub async fn set_draft_file(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    version: i64,
    file_id: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE postmortems SET file_id = $1 WHERE team_id = $2 AND incident_id = $3 AND version = $4")
        .bind(file_id.to_string())
        .bind(team.to_string())
        .bind(incident)
        .bind(version)
        .execute(conn)
        .await
        .context("Failed to record a draft's file")?;
    Ok(())
}
