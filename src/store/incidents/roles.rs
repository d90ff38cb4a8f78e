//! Who holds which role in an incident, with the history of who held it before.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use crate::domain::roles::{Role, RoleAssignment};
use crate::domain::{TeamId, UserId};
use crate::store::to_millis;

/// Leaves a role unfilled from `at`; its history stays.
pub async fn unassign_role(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    role: &Role,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE role_assignments SET unassigned_at = $1
         WHERE team_id = $2 AND incident_id = $3 AND role = $4 AND unassigned_at IS NULL",
    )
    .bind(to_millis(at))
    .bind(team.to_string())
    .bind(incident)
    .bind(role.key().to_string())
    .execute(conn)
    .await
    .context("Failed to unassign a role")?;
    Ok(())
}

/// Hands a role to someone; the history of who held it stays.
pub async fn assign_role(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    a: &RoleAssignment,
) -> anyhow::Result<()> {
    unassign_role(conn, team, incident, &a.role, a.at).await?;
    sqlx::query(
        "INSERT INTO role_assignments (team_id, incident_id, role, user_id, assigned_by, assigned_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(a.role.key().to_string())
    .bind(a.user.to_string())
    .bind(a.assigned_by.to_string())
    .bind(to_millis(a.at))
    .execute(conn)
    .await
    .context("Failed to assign a role")?;
    Ok(())
}

/// Who holds which role now.
pub async fn current_roles(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    custom: &[String],
) -> anyhow::Result<Vec<(Role, UserId)>> {
    /// A role held now.
    #[derive(sqlx::FromRow)]
    struct Held {
        role: String,
        user_id: String,
    }
    let rows = sqlx::query_as::<_, Held>(
        "SELECT role, user_id FROM role_assignments
         WHERE team_id = $1 AND incident_id = $2 AND unassigned_at IS NULL ORDER BY id",
    )
    .bind(team.to_string())
    .bind(incident)
    .fetch_all(conn)
    .await
    .context("Failed to load an incident's roles")?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let role = Role::parse(&r.role, custom).unwrap_or(Role::Custom(r.role));
            (role, UserId::new(r.user_id))
        })
        .collect())
}
