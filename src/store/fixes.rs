//! Fix attempts: recorded with `/incident tried` or from a message by a reaction, numbered per
//! incident, with their outcomes.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::{from_millis, to_millis};
use crate::domain::fixes::Outcome;
use crate::domain::{TeamId, UserId};

pub use crate::domain::fixes::FixAttempt;

/// A `fix_attempts` row as stored.
#[derive(sqlx::FromRow)]
struct FixRow {
    number: i64,
    description: String,
    outcome: String,
    tried_by: String,
    tried_at: i64,
    outcome_at: Option<i64>,
    message_ts: Option<String>,
}

impl From<FixRow> for FixAttempt {
    fn from(r: FixRow) -> FixAttempt {
        FixAttempt {
            number: r.number,
            description: r.description,
            outcome: Outcome::parse(&r.outcome).unwrap_or(Outcome::Unknown),
            tried_by: UserId::new(r.tried_by),
            tried_at: from_millis(r.tried_at),
            outcome_at: r.outcome_at.map(from_millis),
            message_ts: r.message_ts,
        }
    }
}

/// Records a fix attempt under the incident's next number.
pub async fn add_fix(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    what: &str,
    outcome: Outcome,
    by: &UserId,
    at: DateTime<Utc>,
) -> anyhow::Result<FixAttempt> {
    let number: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 AS next FROM fix_attempts WHERE team_id = $1 AND incident_id = $2")
        .bind(team.to_string())
        .bind(incident)
        .fetch_one(&mut *conn)
        .await
        .context("Failed to number a fix attempt")?;
    let outcome_at = (outcome != Outcome::Unknown).then(|| to_millis(at));
    sqlx::query(
        "INSERT INTO fix_attempts (team_id, incident_id, number, description, outcome, tried_by, tried_at, outcome_by, outcome_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(number)
    .bind(what.to_string())
    .bind(outcome.as_str())
    .bind(by.to_string())
    .bind(to_millis(at))
    .bind(outcome_at.map(|_| by.to_string()))
    .bind(outcome_at)
    .execute(conn)
    .await
    .context("Failed to record a fix attempt")?;
    Ok(FixAttempt {
        number,
        description: what.to_string(),
        outcome,
        tried_by: by.clone(),
        tried_at: at,
        outcome_at: outcome_at.map(from_millis),
        message_ts: None,
    })
}

/// Records a message as a fix attempt (a reaction asked for it) under the incident's next
/// number: by its author, at its time, its text as what was tried. `None` if that message is
/// already a fix attempt.
#[allow(clippy::too_many_arguments)]
pub async fn add_fix_from_message(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    message_ts: &str,
    what: &str,
    by: &UserId,
    at: DateTime<Utc>,
) -> anyhow::Result<Option<FixAttempt>> {
    if fix_by_message(conn, team, incident, message_ts)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let fix = add_fix(conn, team, incident, what, Outcome::Unknown, by, at).await?;
    sqlx::query("UPDATE fix_attempts SET message_ts = $1 WHERE team_id = $2 AND incident_id = $3 AND number = $4")
        .bind(message_ts.to_string())
        .bind(team.to_string())
        .bind(incident)
        .bind(fix.number)
        .execute(conn)
        .await
        .context("Failed to link a fix attempt to its message")?;
    Ok(Some(FixAttempt {
        message_ts: Some(message_ts.to_string()),
        ..fix
    }))
}

/// The fix attempt recorded from a message, if any.
pub async fn fix_by_message(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    message_ts: &str,
) -> anyhow::Result<Option<FixAttempt>> {
    let row = sqlx::query_as::<_, FixRow>(
        "SELECT * FROM fix_attempts WHERE team_id = $1 AND incident_id = $2 AND message_ts = $3",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(message_ts.to_string())
    .fetch_optional(conn)
    .await
    .context("Failed to find a message's fix attempt")?;
    Ok(row.map(FixAttempt::from))
}

/// Sets or changes a fix attempt's outcome; `None` if there is no such attempt.
pub async fn set_fix_outcome(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    number: i64,
    outcome: Outcome,
    by: &UserId,
    at: DateTime<Utc>,
) -> anyhow::Result<Option<FixAttempt>> {
    sqlx::query("UPDATE fix_attempts SET outcome = $1, outcome_by = $2, outcome_at = $3 WHERE team_id = $4 AND incident_id = $5 AND number = $6")
        .bind(outcome.as_str())
        .bind(by.to_string())
        .bind(to_millis(at))
        .bind(team.to_string())
        .bind(incident)
        .bind(number)
        .execute(&mut *conn)
        .await
        .context("Failed to set a fix's outcome")?;
    let row = sqlx::query_as::<_, FixRow>(
        "SELECT * FROM fix_attempts WHERE team_id = $1 AND incident_id = $2 AND number = $3",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(number)
    .fetch_optional(conn)
    .await
    .context("Failed to load a fix attempt")?;
    Ok(row.map(FixAttempt::from))
}

/// Every fix attempt of an incident, in order.
pub async fn fixes(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
) -> anyhow::Result<Vec<FixAttempt>> {
    let rows = sqlx::query_as::<_, FixRow>(
        "SELECT * FROM fix_attempts WHERE team_id = $1 AND incident_id = $2 ORDER BY number",
    )
    .bind(team.to_string())
    .bind(incident)
    .fetch_all(conn)
    .await
    .context("Failed to load fix attempts")?;
    Ok(rows.into_iter().map(FixAttempt::from).collect())
}

/// A recorded message as a fix attempt sees it: who wrote it, when, what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixMessage {
    pub user: Option<UserId>,
    pub text: String,
    pub posted_at: DateTime<Utc>,
}

/// A message of the incident that is recorded and not deleted.
pub async fn message(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    ts: &str,
) -> anyhow::Result<Option<FixMessage>> {
    /// The message as stored.
    #[derive(sqlx::FromRow)]
    struct Stored {
        user_id: Option<String>,
        text: String,
        posted_at: i64,
    }
    let row = sqlx::query_as::<_, Stored>(
        "SELECT user_id, text, posted_at FROM messages
         WHERE team_id = $1 AND incident_id = $2 AND ts = $3 AND text IS NOT NULL",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(ts.to_string())
    .fetch_optional(conn)
    .await
    .context("Failed to load a message for a fix attempt")?;
    Ok(row.map(|r| FixMessage {
        user: r.user_id.map(UserId::new),
        text: r.text,
        posted_at: from_millis(r.posted_at),
    }))
}
