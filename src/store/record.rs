//! The record of an incident channel: messages with their edits and deletions, links,
//! participants and cached user names (fix attempts are in [`super::fixes`]). Every write is an append or a keyed
//! update, so a long incident costs no more per message than a short one.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use std::collections::{HashMap, HashSet};

use super::{places, rows_per_statement, to_millis, value_rows};
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

impl CachedUser {
    /// The name to show: the display name, else the real name.
    pub fn name(self) -> Option<(String, String)> {
        let name = self
            .display_name
            .filter(|n| !n.is_empty())
            .or(self.real_name)?;
        Some((self.user_id, name))
    }
}

/// Records a message once; `true` when it was new.
pub async fn add_message(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    m: &NewMessage<'_>,
) -> anyhow::Result<bool> {
    let new = add_messages(conn, team, incident, std::slice::from_ref(m)).await?;
    Ok(!new.is_empty())
}

/// Records messages once each, with one statement for up to 15 of them; the `(channel, ts)`
/// of those that were new.
pub async fn add_messages(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    messages: &[NewMessage<'_>],
) -> anyhow::Result<HashSet<(String, String)>> {
    let mut new = HashSet::new();
    for chunk in messages.chunks(rows_per_statement(13)) {
        let sql = format!(
            "INSERT INTO messages (team_id, incident_id, channel_id, ts, thread_ts, user_id, author_kind, author_name,
                                   subtype, text, files, posted_at, source)
             VALUES {} ON CONFLICT (team_id, channel_id, ts) DO NOTHING RETURNING channel_id, ts",
            value_rows(chunk.len(), 13, 1)
        );
        let mut q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
        for m in chunk {
            q = q
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
                .bind(m.source);
        }
        new.extend(
            q.fetch_all(&mut *conn)
                .await
                .context("Failed to record messages")?,
        );
    }
    Ok(new)
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
    forget_mentions(conn, team, incident, ts).await?;
    Ok(true)
}

/// Who marks a message as a key event.
#[derive(Debug, Clone, Copy)]
pub enum MarkedBy<'a> {
    /// Someone's highlight reaction.
    Reaction(&'a UserId),
    /// The channel's pin.
    Pin,
}

/// Adds or takes back one mark of a message as a key event; the message stays highlighted
/// while any mark is left. `false` if the message is not recorded.
pub async fn set_highlight(
    conn: &mut AnyConnection,
    team: &TeamId,
    channel: &ChannelId,
    ts: &str,
    by: MarkedBy<'_>,
    on: bool,
) -> anyhow::Result<bool> {
    let by = match by {
        MarkedBy::Reaction(user) => user.to_string(),
        MarkedBy::Pin => "pin".to_string(),
    };
    let mark = if on {
        "INSERT INTO highlights (team_id, channel_id, ts, marked_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (team_id, channel_id, ts, marked_by) DO NOTHING"
    } else {
        // A mark from before marks were told apart (migration 0010) goes with any removal.
        "DELETE FROM highlights WHERE team_id = $1 AND channel_id = $2 AND ts = $3
           AND marked_by IN ($4, 'before-0010')"
    };
    sqlx::query(mark)
        .bind(team.to_string())
        .bind(channel.to_string())
        .bind(ts.to_string())
        .bind(by)
        .execute(&mut *conn)
        .await
        .context("Failed to mark a highlight")?;
    let done = sqlx::query(
        "UPDATE messages SET highlighted = CASE WHEN EXISTS (SELECT 1 FROM highlights h
             WHERE h.team_id = $1 AND h.channel_id = $2 AND h.ts = $3) THEN 1 ELSE 0 END
         WHERE team_id = $1 AND channel_id = $2 AND ts = $3 AND deleted_at IS NULL",
    )
    .bind(team.to_string())
    .bind(channel.to_string())
    .bind(ts.to_string())
    .execute(conn)
    .await
    .context("Failed to mark a highlight")?;
    Ok(done.rows_affected() == 1)
}

/// One mention of a link: by whom, when, and in which message.
#[derive(Debug, Clone)]
pub struct LinkMention<'a> {
    pub link: &'a Link,
    pub by: Option<&'a UserId>,
    pub at: DateTime<Utc>,
    pub ts: Option<&'a str>,
}

/// Records links mentioned in this order: the first mention of each keeps its label, author
/// and time; later ones count. A message's mention of a link counts once, however often the
/// message or its edit arrives (`link_mentions`); a mention outside any message (a note) always
/// counts. One statement for up to 25 different links.
pub async fn add_links(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    mentions: &[LinkMention<'_>],
) -> anyhow::Result<()> {
    let mut new = new_mentions(conn, team, incident, mentions).await?;
    // A message's mention counts the first time it is kept, once (taken out of `new` as it is).
    let counted = mentions.iter().filter(|m| match m.ts {
        None => true,
        Some(ts) => new.remove(&(m.link.url.clone(), ts.to_string())),
    });
    // One row per link (a statement may not upsert a row twice): its first mention, counted.
    let mut first: Vec<(&LinkMention, i64)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for m in counted {
        match index.get(m.link.url.as_str()) {
            Some(&i) => first[i].1 += 1,
            None => {
                index.insert(&m.link.url, first.len());
                first.push((m, 1));
            }
        }
    }
    for chunk in first.chunks(rows_per_statement(8)) {
        let sql = format!(
            "INSERT INTO links (team_id, incident_id, url, label, first_by, first_at, first_ts, mentions)
             VALUES {}
             ON CONFLICT (team_id, incident_id, url) DO UPDATE SET mentions = links.mentions + excluded.mentions",
            value_rows(chunk.len(), 8, 1)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (m, mentions) in chunk {
            q = q
                .bind(team.to_string())
                .bind(incident)
                .bind(m.link.url.clone())
                .bind(m.link.label.clone())
                .bind(m.by.map(|u| u.to_string()))
                .bind(to_millis(m.at))
                .bind(m.ts.map(str::to_string))
                .bind(*mentions);
        }
        q.execute(&mut *conn)
            .await
            .context("Failed to record links")?;
    }
    Ok(())
}

/// Keeps which message mentioned which link; the `(url, ts)` pairs not kept before.
async fn new_mentions(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    mentions: &[LinkMention<'_>],
) -> anyhow::Result<HashSet<(String, String)>> {
    let mut once = HashSet::new();
    let in_messages: Vec<(&LinkMention, &str)> = mentions
        .iter()
        .filter_map(|m| Some((m, m.ts?)))
        .filter(|(m, ts)| once.insert((m.link.url.as_str(), *ts)))
        .collect();
    let mut new = HashSet::new();
    for chunk in in_messages.chunks(rows_per_statement(7)) {
        let sql = format!(
            "INSERT INTO link_mentions (team_id, incident_id, url, ts, label, mentioned_by, mentioned_at)
             VALUES {}
             ON CONFLICT (team_id, incident_id, url, ts) DO NOTHING
             RETURNING url, ts",
            value_rows(chunk.len(), 7, 1)
        );
        let mut q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
        for (m, ts) in chunk {
            q = q
                .bind(team.to_string())
                .bind(incident)
                .bind(m.link.url.clone())
                .bind(ts.to_string())
                .bind(m.link.label.clone())
                .bind(m.by.map(|u| u.to_string()))
                .bind(to_millis(m.at));
        }
        new.extend(
            q.fetch_all(&mut *conn)
                .await
                .context("Failed to record which message mentioned a link")?,
        );
    }
    Ok(new)
}

/// Takes away the mentions of links message `ts` made: each link counts one fewer; a link
/// whose first mention it was takes its label, author and time from the next mention, or has
/// them cleared when only mentions from before `link_mentions` remain; a link no message
/// mentions any more goes.
async fn forget_mentions(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    ts: &str,
) -> anyhow::Result<()> {
    #[derive(sqlx::FromRow)]
    struct Mention {
        ts: String,
        label: Option<String>,
        mentioned_by: Option<String>,
        mentioned_at: i64,
    }
    let urls: Vec<String> = sqlx::query_scalar(
        "DELETE FROM link_mentions WHERE team_id = $1 AND incident_id = $2 AND ts = $3 RETURNING url",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(ts.to_string())
    .fetch_all(&mut *conn)
    .await
    .context("Failed to forget a deleted message's mentions of links")?;
    for url in urls {
        let next: Option<Mention> = sqlx::query_as(
            "SELECT ts, label, mentioned_by, mentioned_at FROM link_mentions
             WHERE team_id = $1 AND incident_id = $2 AND url = $3
             ORDER BY mentioned_at, ts LIMIT 1",
        )
        .bind(team.to_string())
        .bind(incident)
        .bind(url.clone())
        .fetch_optional(&mut *conn)
        .await
        .context("Failed to find a link's next mention")?;
        let q = match next {
            Some(n) => sqlx::query(
                "UPDATE links SET
                    mentions = CASE WHEN mentions > 1 THEN mentions - 1 ELSE 1 END,
                    label = CASE WHEN first_ts = $4 THEN $5 ELSE label END,
                    first_by = CASE WHEN first_ts = $4 THEN $6 ELSE first_by END,
                    first_at = CASE WHEN first_ts = $4 THEN $7 ELSE first_at END,
                    first_ts = CASE WHEN first_ts = $4 THEN $8 ELSE first_ts END
                 WHERE team_id = $1 AND incident_id = $2 AND url = $3",
            )
            .bind(team.to_string())
            .bind(incident)
            .bind(url.clone())
            .bind(ts.to_string())
            .bind(n.label)
            .bind(n.mentioned_by)
            .bind(n.mentioned_at)
            .bind(n.ts),
            None => sqlx::query(
                "UPDATE links SET
                    mentions = mentions - 1,
                    label = CASE WHEN first_ts = $4 THEN NULL ELSE label END,
                    first_by = CASE WHEN first_ts = $4 THEN NULL ELSE first_by END,
                    first_ts = CASE WHEN first_ts = $4 THEN NULL ELSE first_ts END
                 WHERE team_id = $1 AND incident_id = $2 AND url = $3",
            )
            .bind(team.to_string())
            .bind(incident)
            .bind(url.clone())
            .bind(ts.to_string()),
        };
        q.execute(&mut *conn)
            .await
            .context("Failed to count a link's mentions down")?;
        sqlx::query(
            "DELETE FROM links WHERE team_id = $1 AND incident_id = $2 AND url = $3 AND mentions <= 0",
        )
        .bind(team.to_string())
        .bind(incident)
        .bind(url)
        .execute(&mut *conn)
        .await
        .context("Failed to forget a link no message mentions")?;
    }
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
    let new = add_participants(conn, team, incident, &[(user, at)]).await?;
    Ok(!new.is_empty())
}

/// Notes a huddle in the incident's channel, running or `ended`: `true` if that is news (the
/// huddle was not noted before, or its end was not), `false` if it was noted before.
pub async fn note_huddle(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    room: &str,
    ended: bool,
) -> anyhow::Result<bool> {
    let noted = sqlx::query(
        "INSERT INTO huddles (team_id, incident_id, room_id, ended) VALUES ($1, $2, $3, $4)
         ON CONFLICT (team_id, incident_id, room_id) DO UPDATE SET ended = 1
         WHERE $4 = 1 AND huddles.ended = 0",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(room)
    .bind(i64::from(ended))
    .execute(conn)
    .await
    .context("Failed to note a huddle")?;
    Ok(noted.rows_affected() == 1)
}

/// Notes that people took part, each seen at a time; keeps the earliest time seen for each.
/// Returns those new to the incident, in the order first seen.
pub async fn add_participants(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    seen: &[(&UserId, DateTime<Utc>)],
) -> anyhow::Result<Vec<UserId>> {
    let mut earliest: Vec<(&UserId, i64)> = Vec::new();
    for (user, at) in seen {
        let at = to_millis(*at);
        match earliest.iter_mut().find(|(u, _)| u == user) {
            Some((_, first)) => *first = (*first).min(at),
            None => earliest.push((user, at)),
        }
    }
    let mut new = Vec::new();
    for chunk in earliest.chunks(rows_per_statement(4)) {
        let sql = format!(
            "SELECT user_id, first_seen_at FROM participants
             WHERE team_id = $1 AND incident_id = $2 AND user_id IN ({})",
            places(chunk.len(), 3)
        );
        let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql))
            .bind(team.to_string())
            .bind(incident);
        for (user, _) in chunk {
            q = q.bind(user.to_string());
        }
        let known: HashMap<String, i64> = q
            .fetch_all(&mut *conn)
            .await
            .context("Failed to look up participants")?
            .into_iter()
            .collect();
        for (user, at) in chunk {
            if known.get(user.as_str()).is_some_and(|first| first > at) {
                sqlx::query("UPDATE participants SET first_seen_at = $4 WHERE team_id = $1 AND incident_id = $2 AND user_id = $3")
                    .bind(team.to_string())
                    .bind(incident)
                    .bind(user.to_string())
                    .bind(*at)
                    .execute(&mut *conn)
                    .await
                    .context("Failed to record a participant")?;
            }
        }
        let unseen: Vec<(&UserId, i64)> = chunk
            .iter()
            .filter(|(u, _)| !known.contains_key(u.as_str()))
            .copied()
            .collect();
        if unseen.is_empty() {
            continue;
        }
        let sql = format!(
            "INSERT INTO participants (team_id, incident_id, user_id, first_seen_at) VALUES {}",
            value_rows(unseen.len(), 4, 1)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (user, at) in &unseen {
            q = q
                .bind(team.to_string())
                .bind(incident)
                .bind(user.to_string())
                .bind(*at);
        }
        q.execute(&mut *conn)
            .await
            .context("Failed to record participants")?;
        new.extend(unseen.into_iter().map(|(u, _)| u.clone()));
    }
    Ok(new)
}

/// Whether a user's name is cached.
pub async fn user_known(
    conn: &mut AnyConnection,
    team: &TeamId,
    user: &UserId,
) -> anyhow::Result<bool> {
    Ok(!known_users(conn, team, &[user]).await?.is_empty())
}

/// Which of these users' names are cached.
pub async fn known_users(
    conn: &mut AnyConnection,
    team: &TeamId,
    users: &[&UserId],
) -> anyhow::Result<HashSet<String>> {
    let users: Vec<&str> = users.iter().map(|u| u.as_str()).collect();
    Ok(cached_users(conn, team, &users)
        .await?
        .into_iter()
        .map(|u| u.user_id)
        .collect())
}

/// The cached names of these users (user ID → display name, else real name); users not
/// cached are left out.
pub async fn names_of(
    conn: &mut AnyConnection,
    team: &TeamId,
    users: &[&str],
) -> anyhow::Result<HashMap<String, String>> {
    Ok(cached_users(conn, team, users)
        .await?
        .into_iter()
        .filter_map(CachedUser::name)
        .collect())
}

/// The cached rows of these users.
async fn cached_users(
    conn: &mut AnyConnection,
    team: &TeamId,
    users: &[&str],
) -> anyhow::Result<Vec<CachedUser>> {
    let mut cached = Vec::new();
    for chunk in users.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT user_id, display_name, real_name FROM users WHERE team_id = $1 AND user_id IN ({})",
            places(chunk.len(), 2)
        );
        let mut q =
            sqlx::query_as::<_, CachedUser>(sqlx::AssertSqlSafe(sql)).bind(team.to_string());
        for u in chunk {
            q = q.bind(u.to_string());
        }
        cached.extend(
            q.fetch_all(&mut *conn)
                .await
                .context("Failed to look up cached users")?,
        );
    }
    Ok(cached)
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
