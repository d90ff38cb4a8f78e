//! The post-mortem's data: what the record holds (the builder's input) and what a template
//! receives (the [`Draft`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::domain::actions::ActionStatus;
use crate::domain::fixes::Outcome;
use crate::domain::timeline::TimelineEntry;
use crate::domain::UserId;

// ---- What the record holds (inputs) ----

/// The incident itself.
#[derive(Debug, Clone)]
pub struct IncidentFacts {
    pub number: i64,
    pub title: Option<String>,
    pub severity: Option<String>,
    pub declared_at: DateTime<Utc>,
    pub declared_by: UserId,
    pub resolved_at: Option<DateTime<Utc>>,
    pub description: Option<String>,
    pub channel_name: Option<String>,
    /// The post-mortem's own progress.
    pub postmortem_status: super::ReviewStatus,
    /// Who owns the post-mortem, when someone was named (else the incident commander).
    pub postmortem_owner: Option<UserId>,
}

/// Someone held a role from `from` until `until`.
#[derive(Debug, Clone)]
pub struct RoleSpan {
    pub role: String,
    pub user: UserId,
    pub by: UserId,
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

/// A timeline entry: what happened, when and by whom (`None`: hereby itself).
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub what: TimelineEntry,
}

/// A recorded message.
#[derive(Debug, Clone)]
pub struct LoggedMessage {
    pub ts: String,
    pub thread_ts: Option<String>,
    pub at: DateTime<Utc>,
    pub user: Option<UserId>,
    pub author_name: Option<String>,
    pub from_app: bool,
    /// `None` once deleted.
    pub text: Option<String>,
    pub files: Option<Value>,
    pub edited: bool,
    pub highlighted: bool,
}

#[derive(Debug, Clone)]
pub struct LinkRow {
    pub url: String,
    pub label: Option<String>,
    pub by: Option<UserId>,
    pub at: DateTime<Utc>,
    pub mentions: i64,
}

#[derive(Debug, Clone)]
pub struct FixRow {
    pub number: i64,
    pub what: String,
    pub by: UserId,
    pub at: DateTime<Utc>,
    pub outcome: Outcome,
    pub outcome_at: Option<DateTime<Utc>>,
    /// The message it was recorded from (a reaction), if any.
    pub message_ts: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ActionRow {
    pub number: i64,
    pub text: String,
    pub owner: Option<UserId>,
    pub due: Option<chrono::NaiveDate>,
    pub status: ActionStatus,
}

/// Everything the draft is built from.
#[derive(Debug, Clone)]
pub struct Record {
    pub incident: IncidentFacts,
    pub roles: Vec<RoleSpan>,
    pub entries: Vec<Entry>,
    pub messages: Vec<LoggedMessage>,
    pub links: Vec<LinkRow>,
    pub fixes: Vec<FixRow>,
    pub actions: Vec<ActionRow>,
    /// (user, first seen).
    pub participants: Vec<(UserId, DateTime<Utc>)>,
    /// User ID → the name to show.
    pub names: HashMap<String, String>,
}

// ---- What the template gets (output) ----

/// The draft handed to the template. Times are strings in the configured time zone with the
/// UTC offset ("2026-11-21 14:03:05 CET (UTC+01:00)"); text is Markdown; table cells have `|`
/// escaped.
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    /// The executive summary's first paragraph, prefilled from the record for people to edit.
    pub summary: String,
    pub title: String,
    pub number: i64,
    /// The post-mortem's owner: the one named with `/incident postmortem owner`, else the
    /// incident commander.
    pub owner: String,
    /// "Draft", "In review" or "Final" (`/incident postmortem status`).
    pub status: &'static str,
    pub severity: String,
    pub channel: Option<String>,
    pub timezone: String,
    pub description: Option<String>,
    pub times: KeyTimes,
    pub participants: Vec<Participant>,
    pub handovers: Vec<Handover>,
    /// The skeleton: moments in full, the conversation between them as activity lines.
    pub timeline: Vec<TimelineItem>,
    pub fixes: Vec<Fix>,
    /// Messages that sound like a fix attempt, for people to confirm (not recorded fixes).
    pub possible_fixes: Vec<PossibleFix>,
    pub docs: Vec<Note>,
    pub notes: Vec<Note>,
    pub actions: Vec<Action>,
    pub links: Vec<LinkItem>,
    pub log: Vec<LogEntry>,
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyTimes {
    /// The first message or the declaration, whichever came first.
    pub started: String,
    pub declared: String,
    /// When the first fix that worked was marked as working.
    pub mitigated: Option<String>,
    pub resolved: Option<String>,
    /// From started to resolved ("2 h 5 min").
    pub duration: Option<String>,
    pub time_to_mitigate: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Participant {
    pub name: String,
    pub roles: Vec<String>,
    pub first_seen: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Handover {
    pub at: String,
    pub role: String,
    pub to: String,
    pub by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineItem {
    pub at: String,
    /// declaration, role, severity, status, update, rename, highlight, activity (condensed
    /// conversation), fix, note, docs, action, resolution, reopened, channel
    pub kind: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    pub number: i64,
    pub what: String,
    pub who: String,
    pub when: String,
    pub outcome: &'static str,
}

/// A message that mentions something like a fix ("rolling back", "that fixed it").
#[derive(Debug, Clone, Serialize)]
pub struct PossibleFix {
    pub at: String,
    pub who: String,
    /// Its first line, and what it replies to.
    pub text: String,
    /// The phrase that suggested it.
    pub phrase: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub at: String,
    pub who: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Action {
    pub number: i64,
    pub text: String,
    pub owner: String,
    pub due: String,
    pub status: &'static str,
    /// Why the item is weak (vague, no owner, no due date); empty when it is fine.
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkItem {
    pub url: String,
    pub label: String,
    pub by: String,
    pub at: String,
    pub mentions: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub at: String,
    pub author: String,
    pub text: String,
    pub edited: bool,
    pub from_app: bool,
    pub files: Vec<String>,
    pub replies: Vec<LogEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    pub messages: usize,
    pub deleted: usize,
    pub participants: usize,
    pub links: usize,
    pub fixes: usize,
    pub open_actions: usize,
}
