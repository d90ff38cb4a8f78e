//! The post-mortem's own status and owner, kept on the incident.

use anyhow::Context;
use sqlx::AnyConnection;

use crate::domain::review::ReviewStatus;
use crate::domain::{TeamId, UserId};

/// Sets where the post-mortem stands.
#[tracing::instrument(name = "Setting the post-mortem's status", skip(conn))]
pub async fn set_status(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    status: ReviewStatus,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE incidents SET postmortem_status = $1 WHERE team_id = $2 AND id = $3")
        .bind(status.as_str())
        .bind(team.to_string())
        .bind(incident)
        .execute(conn)
        .await
        .context("Failed to set the post-mortem's status")?;
    Ok(())
}

/// Names who owns the post-mortem.
#[tracing::instrument(name = "Setting the post-mortem's owner", skip(conn))]
pub async fn set_owner(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    owner: &UserId,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE incidents SET postmortem_owner = $1 WHERE team_id = $2 AND id = $3")
        .bind(owner.to_string())
        .bind(team.to_string())
        .bind(incident)
        .execute(conn)
        .await
        .context("Failed to set the post-mortem's owner")?;
    Ok(())
}
