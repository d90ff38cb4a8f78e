//! The record of an incident channel: messages with their edits and deletions, links,
//! participants and cached user names (fix attempts are in [`super::fixes`]). Every write is an append or a keyed
//! update, so a long incident costs no more per message than a short one.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::to_millis;
use crate::domain::links::Link;
use crate::domain::{ChannelId, TeamId, UserId};

/// A message to record.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub channel: &'a ChannelId,
    pub ts: &'a str,
    pub thread_ts: Option<&'a str>,
    pub user: Option<&'a UserId>,
    /// `true` for apps and integrations.
    pub from_app: bool,
    pub author_name: Option<&'a str>,
    pub subtype: Option<&'a str>,
    pub text: &'a str,
    pub files: Option<serde_json::Value>,
    pub posted_at: DateTime<Utc>,
    /// `event` or `history`.
    pub source: &'static str,
}

/// A cached user's names, as stored in `users`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct CachedUser {
    pub user_id: String,
    pub display_name: Option<String>,
    pub real_name: Option<String>,
}

/// Records a message once; `true` when it was new.
pub async fn add_message(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    m: &NewMessage<'_>,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO messages (team_id, incident_id, channel_id, ts, thread_ts, user_id, author_kind, author_name,
                               subtype, text, files, posted_at, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (team_id, channel_id, ts) DO NOTHING",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(m.channel.to_string())
    .bind(m.ts.to_string())
    .bind(m.thread_ts.map(str::to_string))
    .bind(m.user.map(|u| u.to_string()))
    .bind(if m.from_app { "app" } else { "person" })
    .bind(m.author_name.map(str::to_string))
    .bind(m.subtype.map(str::to_string))
    .bind(m.text.to_string())
    .bind(m.files.as_ref().map(|f| f.to_string()))
    .bind(to_millis(m.posted_at))
    .bind(m.source)
    .execute(conn)
    .await
    .context("Failed to record a message")?;
    Ok(done.rows_affected() == 1)
}

/// Applies an edit, keeping the previous text in the history; `false` if the message is not
/// recorded (or is deleted) or the text did not change.
pub async fn edit_message(
    conn: &mut AnyConnection,
    team: &TeamId,
    channel: &ChannelId,
    ts: &str,
    text: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    /// The message as it reads now.
    #[derive(sqlx::FromRow)]
    struct Current {
        id: i64,
        text: Option<String>,
    }
    let row: Option<Current> = sqlx::query_as("SELECT id, text FROM messages WHERE team_id = $1 AND channel_id = $2 AND ts = $3 AND deleted_at IS NULL")
        .bind(team.to_string())
        .bind(channel.to_string())
        .bind(ts.to_string())
        .fetch_optional(&mut *conn)
        .await
        .context("Failed to look up an edited message")?;
    let Some(Current { id, text: previous }) = row else {
        return Ok(false);
    };
    if previous.as_deref() == Some(text) {
        return Ok(false);
    }
    sqlx::query("INSERT INTO message_edits (team_id, message_id, previous_text, edited_at) VALUES ($1, $2, $3, $4)")
        .bind(team.to_string())
        .bind(id)
        .bind(previous)
        .bind(to_millis(at))
        .execute(&mut *conn)
        .await
        .context("Failed to keep an edit's history")?;
    sqlx::query("UPDATE messages SET text = $1, edited_at = $2 WHERE id = $3")
        .bind(text.to_string())
        .bind(to_millis(at))
        .bind(id)
        .execute(conn)
        .await
        .context("Failed to apply an edit")?;
    Ok(true)
}

/// Honours a deletion: the text, files, edit history and links only it mentioned are removed;
/// the fact that a message was deleted stays. `false` if it is not recorded.
pub async fn delete_message(
    conn: &mut AnyConnection,
    team: &TeamId,
    channel: &ChannelId,
    ts: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    /// The message and its incident.
    #[derive(sqlx::FromRow)]
    struct Recorded {
        id: i64,
        incident_id: i64,
    }
    let row: Option<Recorded> = sqlx::query_as(
        "SELECT id, incident_id FROM messages WHERE team_id = $1 AND channel_id = $2 AND ts = $3",
    )
    .bind(team.to_string())
    .bind(channel.to_string())
    .bind(ts.to_string())
    .fetch_optional(&mut *conn)
    .await
    .context("Failed to look up a deleted message")?;
    let Some(Recorded {
        id,
        incident_id: incident,
    }) = row
    else {
        return Ok(false);
    };
    sqlx::query("UPDATE messages SET text = NULL, files = NULL, deleted_at = $1, highlighted = 0 WHERE id = $2")
        .bind(to_millis(at))
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("Failed to mark a message deleted")?;
    sqlx::query("DELETE FROM message_edits WHERE message_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("Failed to forget a deleted message's edits")?;
    for sql in [
        "DELETE FROM links WHERE team_id = $1 AND incident_id = $2 AND first_ts = $3 AND mentions = 1",
        "UPDATE links SET mentions = mentions - 1 WHERE team_id = $1 AND incident_id = $2 AND first_ts = $3 AND mentions > 1",
    ] {
        sqlx::query(sql)
            .bind(team.to_string())
            .bind(incident)
            .bind(ts.to_string())
            .execute(&mut *conn)
            .await
            .context("Failed to forget a deleted message's links")?;
    }
    Ok(true)
}

/// Marks or unmarks a message as a key event; `false` if it is not recorded.
pub async fn set_highlight(
    conn: &mut AnyConnection,
    team: &TeamId,
    channel: &ChannelId,
    ts: &str,
    on: bool,
) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE messages SET highlighted = $1 WHERE team_id = $2 AND channel_id = $3 AND ts = $4 AND deleted_at IS NULL")
        .bind(i64::from(on))
        .bind(team.to_string())
        .bind(channel.to_string())
        .bind(ts.to_string())
        .execute(conn)
        .await
        .context("Failed to mark a highlight")?;
    Ok(done.rows_affected() == 1)
}

/// Records a link: the first mention keeps its label, author and time; later ones count.
pub async fn add_link(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    link: &Link,
    by: Option<&UserId>,
    at: DateTime<Utc>,
    ts: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO links (team_id, incident_id, url, label, first_by, first_at, first_ts)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (team_id, incident_id, url) DO UPDATE SET mentions = links.mentions + 1",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(link.url.clone())
    .bind(link.label.clone())
    .bind(by.map(|u| u.to_string()))
    .bind(to_millis(at))
    .bind(ts.map(str::to_string))
    .execute(conn)
    .await
    .context("Failed to record a link")?;
    Ok(())
}

/// Notes that someone took part; keeps the earliest time seen. `true` if they are new.
pub async fn add_participant(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    user: &UserId,
    at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let known: Option<i64> = sqlx::query_scalar("SELECT first_seen_at FROM participants WHERE team_id = $1 AND incident_id = $2 AND user_id = $3")
        .bind(team.to_string())
        .bind(incident)
        .bind(user.to_string())
        .fetch_optional(&mut *conn)
        .await
        .context("Failed to look up a participant")?;
    let sql = match known {
        Some(first_seen_at) if first_seen_at <= to_millis(at) => return Ok(false),
        Some(_) => "UPDATE participants SET first_seen_at = $4 WHERE team_id = $1 AND incident_id = $2 AND user_id = $3",
        None => "INSERT INTO participants (team_id, incident_id, user_id, first_seen_at) VALUES ($1, $2, $3, $4)",
    };
    sqlx::query(sql)
        .bind(team.to_string())
        .bind(incident)
        .bind(user.to_string())
        .bind(to_millis(at))
        .execute(conn)
        .await
        .context("Failed to record a participant")?;
    Ok(known.is_none())
}

/// Whether a user's name is cached.
pub async fn user_known(
    conn: &mut AnyConnection,
    team: &TeamId,
    user: &UserId,
) -> anyhow::Result<bool> {
    let row = sqlx::query("SELECT 1 AS one FROM users WHERE team_id = $1 AND user_id = $2")
        .bind(team.to_string())
        .bind(user.to_string())
        .fetch_optional(conn)
        .await
        .context("Failed to look up a cached user")?;
    Ok(row.is_some())
}

/// Caches a user's names.
pub async fn save_user(
    conn: &mut AnyConnection,
    team: &TeamId,
    user: &UserId,
    display: Option<&str>,
    real: Option<&str>,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO users (team_id, user_id, display_name, real_name, fetched_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (team_id, user_id) DO UPDATE SET display_name = $3, real_name = $4, fetched_at = $5",
    )
    .bind(team.to_string())
    .bind(user.to_string())
    .bind(display.map(str::to_string))
    .bind(real.map(str::to_string))
    .bind(to_millis(at))
    .execute(conn)
    .await
    .context("Failed to cache a user")?;
    Ok(())
}

/// For each thread of the incident, the `ts` of its latest recorded reply: how far catching
/// up must read it.
pub async fn latest_replies(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
) -> anyhow::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT thread_ts, MAX(ts) AS latest FROM messages
         WHERE team_id = $1 AND incident_id = $2 AND thread_ts IS NOT NULL AND ts <> thread_ts
         GROUP BY thread_ts",
    )
    .bind(team.to_string())
    .bind(incident)
    .fetch_all(conn)
    .await
    .context("Failed to find how far each thread is recorded")
}
