//! Loading everything the post-mortem draft is built from, and finding an incident for the
//! command line; action items, stored drafts and the follow-up schedule are in the submodules.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use sqlx::AnyConnection;

use super::from_millis;
use super::incidents::{self, Incident};
use super::record::CachedUser;
use crate::domain::fixes::Outcome;
use crate::domain::postmortem::{
    Entry, FixRow, IncidentFacts, LinkRow, LoggedMessage, Record, RoleSpan,
};
use crate::domain::roles::Role;
use crate::domain::timeline::TimelineEntry;
use crate::domain::{TeamId, UserId};

/// A `timeline_entries` row as stored: the kind and its JSON detail, read into a
/// [`TimelineEntry`].
#[derive(sqlx::FromRow)]
struct TimelineRow {
    kind: String,
    actor: Option<String>,
    occurred_at: i64,
    detail: String,
}

mod action_items;
mod drafts;
mod followups;

pub use action_items::{
    actions, add_action, change_action, close_action, next_due_reminder, open_actions_owned_by,
    take_due_reminder, ItemUpdate,
};
pub use drafts::{draft_by_source, save_draft, set_draft_file, StoredDraft};
pub use followups::{claim_followup, end_followups, reschedule_followup, schedule_followup};

/// Every message of the incident.
const ALL_MESSAGES: &str = "SELECT ts, thread_ts, user_id, author_kind, author_name, text, files, posted_at, edited_at, highlighted FROM messages WHERE team_id = $1 AND incident_id = $2 ORDER BY posted_at, id";

/// Only the first message (when the incident started) and the highlighted ones.
const KEY_MESSAGES: &str = "SELECT ts, thread_ts, user_id, author_kind, author_name, text, files, posted_at, edited_at, highlighted FROM messages WHERE team_id = $1 AND incident_id = $2 AND (highlighted <> 0 OR id = (SELECT m.id FROM messages m WHERE m.team_id = $1 AND m.incident_id = $2 ORDER BY m.posted_at, m.id LIMIT 1)) ORDER BY posted_at, id";

/// Everything the draft of an incident is built from.
pub async fn load_record(conn: &mut AnyConnection, incident: &Incident) -> anyhow::Result<Record> {
    load(conn, incident, ALL_MESSAGES).await
}

/// The record without the channel log: only the first message and the highlights (the web
/// view pages through the log instead of holding all of it).
pub async fn load_record_without_log(
    conn: &mut AnyConnection,
    incident: &Incident,
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
    incident: &Incident,
    messages_sql: &'static str,
) -> anyhow::Result<Record> {
    let team = incident.team.to_string();
    let id = incident.id;

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
    let entries = sqlx::query_as("SELECT kind, actor, occurred_at, detail FROM timeline_entries WHERE team_id = $1 AND incident_id = $2 ORDER BY occurred_at, id")
        .bind(team.clone())
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .context("Failed to load the timeline")?
        .into_iter()
        .map(|r: TimelineRow| {
            let detail = serde_json::from_str(&r.detail).unwrap_or_default();
            Entry {
                at: from_millis(r.occurred_at),
                actor: r.actor.map(UserId::new),
                what: TimelineEntry::from_stored(&r.kind, detail),
            }
        })
        .collect::<Vec<_>>();
    // Entries a newer version wrote (after a downgrade): one line per load, not one per entry.
    let mut unreadable: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in &entries {
        if let TimelineEntry::Unknown { kind, .. } = &entry.what {
            *unreadable.entry(kind.as_str()).or_default() += 1;
        }
    }
    if !unreadable.is_empty() {
        tracing::warn!(kinds = ?unreadable, "Timeline entries this version cannot read are left out");
    }
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
            .filter_map(CachedUser::name)
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
) -> anyhow::Result<Vec<Incident>> {
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
