//! Action items, post-mortem drafts and the follow-up schedule; and loading everything the
//! draft is built from.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AnyConnection, Row};

use super::incidents::{self, IncidentRecord};
use super::record::CachedUser;
use super::{from_millis, opt_text, to_millis};
use crate::domain::actions::{ActionStatus, NewAction};
use crate::domain::fixes::Outcome;
use crate::domain::postmortem::{
    ActionRow, Entry, FixRow, IncidentFacts, LinkRow, LoggedMessage, Record, RoleSpan,
};
use crate::domain::roles::Role;
use crate::domain::{TeamId, UserId};

/// An `action_items` row as stored.
#[derive(sqlx::FromRow)]
struct ActionItem {
    number: i64,
    text: String,
    owner: Option<String>,
    due: Option<String>,
    status: String,
}

impl From<ActionItem> for ActionRow {
    fn from(r: ActionItem) -> ActionRow {
        ActionRow {
            number: r.number,
            text: r.text,
            owner: r.owner.map(UserId::new),
            due: r
                .due
                .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
            status: ActionStatus::from_key(&r.status),
        }
    }
}

/// Adds an action item under the incident's next number.
pub async fn add_action(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    a: &NewAction,
    by: &UserId,
    now: DateTime<Utc>,
) -> anyhow::Result<ActionRow> {
    let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 AS next FROM action_items WHERE team_id = $1 AND incident_id = $2")
        .bind(team.to_string())
        .bind(incident)
        .fetch_one(&mut *conn)
        .await
        .context("Failed to number an action item")?;
    sqlx::query(
        "INSERT INTO action_items (team_id, incident_id, number, text, owner, due, status, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8)",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(next)
    .bind(a.text.clone())
    .bind(a.owner.as_ref().map(|u| u.to_string()))
    .bind(a.due.map(|d| d.to_string()))
    .bind(by.to_string())
    .bind(to_millis(now))
    .execute(conn)
    .await
    .context("Failed to add an action item")?;
    Ok(ActionRow {
        number: next,
        text: a.text.clone(),
        owner: a.owner.clone(),
        due: a.due,
        status: ActionStatus::Open,
    })
}

/// Closes an action item as done or won't-fix; `None` if there is no such item.
pub async fn close_action(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    number: i64,
    status: ActionStatus,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<ActionRow>> {
    sqlx::query("UPDATE action_items SET status = $1, closed_at = $2 WHERE team_id = $3 AND incident_id = $4 AND number = $5")
        .bind(status.key())
        .bind(to_millis(now))
        .bind(team.to_string())
        .bind(incident)
        .bind(number)
        .execute(&mut *conn)
        .await
        .context("Failed to close an action item")?;
    let row = sqlx::query_as::<_, ActionItem>(
        "SELECT * FROM action_items WHERE team_id = $1 AND incident_id = $2 AND number = $3",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(number)
    .fetch_optional(conn)
    .await
    .context("Failed to load an action item")?;
    Ok(row.map(ActionRow::from))
}

/// An incident's action items, in order.
pub async fn actions(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
) -> anyhow::Result<Vec<ActionRow>> {
    let rows = sqlx::query_as::<_, ActionItem>(
        "SELECT * FROM action_items WHERE team_id = $1 AND incident_id = $2 ORDER BY number",
    )
    .bind(team.to_string())
    .bind(incident)
    .fetch_all(conn)
    .await
    .context("Failed to load action items")?;
    Ok(rows.into_iter().map(ActionRow::from).collect())
}

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

/// Every message of the incident.
const ALL_MESSAGES: &str = "SELECT ts, thread_ts, user_id, author_kind, author_name, text, files, posted_at, edited_at, highlighted FROM messages WHERE team_id = $1 AND incident_id = $2 ORDER BY posted_at, id";

/// Only the first message (when the incident started) and the highlighted ones.
const KEY_MESSAGES: &str = "SELECT ts, thread_ts, user_id, author_kind, author_name, text, files, posted_at, edited_at, highlighted FROM messages WHERE team_id = $1 AND incident_id = $2 AND (highlighted <> 0 OR id = (SELECT m.id FROM messages m WHERE m.team_id = $1 AND m.incident_id = $2 ORDER BY m.posted_at, m.id LIMIT 1)) ORDER BY posted_at, id";

/// Everything the draft of an incident is built from.
pub async fn load_record(
    conn: &mut AnyConnection,
    incident: &IncidentRecord,
) -> anyhow::Result<Record> {
    load(conn, incident, ALL_MESSAGES).await
}

/// The record without the channel log: only the first message and the highlights (the web
/// view pages through the log instead of holding all of it).
pub async fn load_record_without_log(
    conn: &mut AnyConnection,
    incident: &IncidentRecord,
) -> anyhow::Result<Record> {
    load(conn, incident, KEY_MESSAGES).await
}

/// A `role_assignments` row: who held a role, from when, until when.
#[derive(sqlx::FromRow)]
struct RoleHeld {
    role: String,
    user_id: String,
    assigned_by: String,
    assigned_at: i64,
    unassigned_at: Option<i64>,
}

/// A `messages` row as the draft reads it.
#[derive(sqlx::FromRow)]
struct Message {
    ts: String,
    thread_ts: Option<String>,
    user_id: Option<String>,
    author_kind: String,
    author_name: Option<String>,
    text: Option<String>,
    files: Option<String>,
    posted_at: i64,
    edited_at: Option<i64>,
    highlighted: i64,
}

/// A `links` row.
#[derive(sqlx::FromRow)]
struct Link {
    url: String,
    label: Option<String>,
    first_by: Option<String>,
    first_at: i64,
    mentions: i64,
}

/// A `participants` row.
#[derive(sqlx::FromRow)]
struct Participant {
    user_id: String,
    first_seen_at: i64,
}

#[tracing::instrument(name = "Loading an incident's record", skip_all, fields(incident = incident.id))]
async fn load(
    conn: &mut AnyConnection,
    incident: &IncidentRecord,
    messages_sql: &'static str,
) -> anyhow::Result<Record> {
    let team = incident.team.to_string();
    let id = incident.id;
    let q = |sql: &'static str| sqlx::query(sql).bind(team.clone()).bind(id);

    let roles = sqlx::query_as("SELECT role, user_id, assigned_by, assigned_at, unassigned_at FROM role_assignments WHERE team_id = $1 AND incident_id = $2 ORDER BY assigned_at, id").bind(team.clone()).bind(id)
        .fetch_all(&mut *conn)
        .await
        .context("Failed to load role history")?
        .into_iter()
        .map(|r: RoleHeld| RoleSpan {
            role: Role::parse(&r.role, &[]).map(|r| r.display_name()).unwrap_or_else(|| r.role.replace(['-', '_'], " ")),
            user: UserId::new(r.user_id),
            by: UserId::new(r.assigned_by),
            from: from_millis(r.assigned_at),
            until: r.unassigned_at.map(from_millis),
        })
        .collect();
    let entries = q("SELECT kind, actor, occurred_at, detail FROM timeline_entries WHERE team_id = $1 AND incident_id = $2 ORDER BY occurred_at, id")
        .fetch_all(&mut *conn)
        .await
        .context("Failed to load the timeline")?
        .iter()
        .map(|r| {
            Ok(Entry {
                at: from_millis(r.try_get("occurred_at")?),
                kind: r.try_get("kind")?,
                actor: opt_text(r, "actor")?.map(UserId::new),
                detail: serde_json::from_str(&r.try_get::<String, _>("detail")?).unwrap_or_default(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let messages = sqlx::query_as(messages_sql)
        .bind(team.clone())
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .context("Failed to load messages")?
        .into_iter()
        .map(|r: Message| LoggedMessage {
            ts: r.ts,
            thread_ts: r.thread_ts,
            at: from_millis(r.posted_at),
            user: r.user_id.map(UserId::new),
            author_name: r.author_name,
            from_app: r.author_kind == "app",
            text: r.text,
            files: r.files.and_then(|f| serde_json::from_str(&f).ok()),
            edited: r.edited_at.is_some(),
            highlighted: r.highlighted != 0,
        })
        .collect();
    let links = sqlx::query_as("SELECT url, label, first_by, first_at, mentions FROM links WHERE team_id = $1 AND incident_id = $2 ORDER BY first_at, id").bind(team.clone()).bind(id)
        .fetch_all(&mut *conn)
        .await
        .context("Failed to load links")?
        .into_iter()
        .map(|r: Link| LinkRow {
            url: r.url,
            label: r.label,
            by: r.first_by.map(UserId::new),
            at: from_millis(r.first_at),
            mentions: r.mentions,
        })
        .collect();
    let fixes = crate::store::fixes::fixes(conn, &incident.team, id)
        .await?
        .into_iter()
        .map(|f| FixRow {
            number: f.number,
            what: f.description,
            by: f.tried_by,
            at: f.tried_at,
            outcome: f.outcome,
            outcome_at: f.outcome_at.filter(|_| f.outcome != Outcome::Unknown),
            message_ts: f.message_ts,
        })
        .collect();
    let participants = sqlx::query_as("SELECT user_id, first_seen_at FROM participants WHERE team_id = $1 AND incident_id = $2 ORDER BY first_seen_at").bind(team.clone()).bind(id)
        .fetch_all(&mut *conn)
        .await
        .context("Failed to load participants")?
        .into_iter()
        .map(|r: Participant| (UserId::new(r.user_id), from_millis(r.first_seen_at)))
        .collect();
    let names: HashMap<String, String> =
        sqlx::query_as("SELECT user_id, display_name, real_name FROM users WHERE team_id = $1")
            .bind(team.clone())
            .fetch_all(&mut *conn)
            .await
            .context("Failed to load user names")?
            .into_iter()
            .filter_map(|u: CachedUser| Some((u.user_id, u.display_name.or(u.real_name)?)))
            .collect();
    let actions = actions(conn, &incident.team, id).await?;
    Ok(Record {
        incident: IncidentFacts {
            number: incident.number,
            title: incident.title.as_ref().map(|t| t.as_str().to_string()),
            severity: incident.severity.map(|s| s.as_str().to_string()),
            declared_at: incident.declared_at,
            declared_by: incident.declared_by.clone(),
            resolved_at: incident.resolved_at,
            description: incident.description.clone(),
            channel_name: incident.channel.as_ref().map(|c| c.name.clone()),
            postmortem_status: incident.postmortem_status,
            postmortem_owner: incident.postmortem_owner.clone(),
        },
        roles,
        entries,
        messages,
        links,
        fixes,
        actions,
        participants,
        names,
    })
}

/// Finds an incident by number (in any workspace, or in `team`) or by channel name, for the
/// command line.
pub async fn find_incident(
    conn: &mut AnyConnection,
    key: &str,
    team: Option<&str>,
) -> anyhow::Result<Vec<IncidentRecord>> {
    let key = key.trim().trim_start_matches('#');
    /// An incident found, by its workspace and ID.
    #[derive(sqlx::FromRow)]
    struct Found {
        team_id: String,
        id: i64,
    }
    let rows: Vec<Found> = match key.parse::<i64>() {
        Ok(n) => {
            sqlx::query_as("SELECT team_id, id FROM incidents WHERE number = $1")
                .bind(n)
                .fetch_all(&mut *conn)
                .await
        }
        Err(_) => {
            sqlx::query_as("SELECT team_id, id FROM incidents WHERE channel_name = $1")
                .bind(key.to_string())
                .fetch_all(&mut *conn)
                .await
        }
    }
    .context("Failed to look up an incident")?;
    let mut out = Vec::new();
    for r in rows {
        if team.is_some_and(|want| want != r.team_id) {
            continue;
        }
        out.push(incidents::get(conn, &TeamId::new(r.team_id), r.id).await?);
    }
    Ok(out)
}
