//! The draft's timeline: the moments that matter (declaration, roles, severity and status,
//! updates, highlighted messages in full, fixes, notes, docs, action items added and closed,
//! resolution, the post-mortem's own status and owner) with
//! the conversation between them condensed into activity lines (see [`super::skeleton`]).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::skeleton::{self, Activity};
use super::{Entry, Fmt, LoggedMessage, TimelineItem};
use crate::domain::fixes::tried_outcome;
use crate::domain::markdown;
use crate::domain::roles::Role;
use crate::domain::timeline::TimelineEntry;
use crate::domain::UserId;

/// How long a quoted first line may be, about: enough to keep the point.
pub const QUOTE_CHARS: usize = 200;

/// The timeline, in time order: `live` are the messages not deleted, in time order; `all`
/// every recorded message (a reply's deleted parent is still known to have been there).
pub(super) fn timeline(
    entries: &[Entry],
    live: &[&LoggedMessage],
    all: &[LoggedMessage],
    f: &Fmt,
) -> Vec<TimelineItem> {
    let by_ts: HashMap<&str, &LoggedMessage> = all.iter().map(|m| (m.ts.as_str(), m)).collect();
    // A huddle that ended is told once, by its end (which says when it started); one still
    // going, or whose end hereby never heard of, by its start.
    let ended: HashSet<&str> = entries
        .iter()
        .filter_map(|e| match &e.what {
            TimelineEntry::Huddle { room, .. } => Some(room.as_str()),
            _ => None,
        })
        .collect();
    let mut moments: Vec<(DateTime<Utc>, TimelineItem)> = entries
        .iter()
        .filter(|e| {
            !matches!(&e.what, TimelineEntry::HuddleStarted { room } if ended.contains(room.as_str()))
        })
        .filter_map(|e| entry_item(e, f).map(|item| (e.at, item)))
        .collect();
    for m in live.iter().filter(|m| m.highlighted) {
        let context = replying_to(m, &by_ts, f)
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        let text = f.md(m.text.as_deref().unwrap_or("")).replace('\n', " ");
        moments.push((
            m.at,
            TimelineItem {
                at: f.time(m.at),
                kind: "highlight",
                text: format!("★ **{}**{context}: {text}", super::author(m, f)),
            },
        ));
    }
    moments.sort_by_key(|(at, _)| *at);

    let talk: Vec<&LoggedMessage> = live.iter().copied().filter(|m| !m.highlighted).collect();
    let times: Vec<DateTime<Utc>> = talk.iter().map(|m| m.at).collect();
    let moment_times: Vec<DateTime<Utc>> = moments.iter().map(|(at, _)| *at).collect();
    let stretches = skeleton::stretches(&times, &moment_times, skeleton::MAX_ACTIVITY_LINES);

    // Moments first among equals: a stretch starts after the moment of its first instant.
    let mut items: Vec<(DateTime<Utc>, u8, TimelineItem)> = moments
        .into_iter()
        .map(|(at, item)| (at, 0, item))
        .collect();
    for range in stretches {
        let said = &talk[range];
        let (Some(first), Some(last)) = (said.first(), said.last()) else {
            continue;
        };
        items.push((
            first.at,
            1,
            activity(said, &by_ts, f).item(first.at, last.at, f),
        ));
    }
    items.sort_by_key(|(at, rank, _)| (*at, *rank));
    items.into_iter().map(|(_, _, item)| item).collect()
}

struct Stretch {
    activity: Activity,
}

impl Stretch {
    fn item(mut self, from: DateTime<Utc>, to: DateTime<Utc>, f: &Fmt) -> TimelineItem {
        let (from_local, to_local) = (from.with_timezone(&f.tz), to.with_timezone(&f.tz));
        self.activity.from = from_local.format("%H:%M").to_string();
        self.activity.to = if from_local.date_naive() == to_local.date_naive() {
            to_local.format("%H:%M").to_string()
        } else {
            to_local.format("%b %d %H:%M").to_string()
        };
        TimelineItem {
            at: f.time(from),
            kind: "activity",
            text: self.activity.line(),
        }
    }
}

fn activity(said: &[&LoggedMessage], by_ts: &HashMap<&str, &LoggedMessage>, f: &Fmt) -> Stretch {
    let mut people: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut threads: HashSet<&str> = HashSet::new();
    for m in said {
        if let Some(t) = m.thread_ts.as_deref() {
            threads.insert(t);
        }
        let who = super::author(m, f);
        if seen.insert(who.clone()) {
            people.push(who);
        }
    }
    let has_text = |m: &&&LoggedMessage| m.text.as_deref().is_some_and(|t| !t.trim().is_empty());
    let quoted = said
        .iter()
        .filter(has_text)
        .find(|m| !m.from_app)
        .or_else(|| said.iter().find(has_text));
    let quote = quoted.map(|m| {
        let line = quote(m.text.as_deref().unwrap_or(""), f);
        match replying_to(m, by_ts, f) {
            Some(context) => format!("{line}\" ({context})"),
            None => line,
        }
    });
    Stretch {
        activity: Activity {
            from: String::new(),
            to: String::new(),
            messages: said.len(),
            threads: threads.len(),
            files: said
                .iter()
                .map(|m| match &m.files {
                    Some(Value::Array(files)) => files.len(),
                    _ => 0,
                })
                .sum(),
            people,
            quote,
        },
    }
}

/// A message's first line, cut where the thought ends, as Markdown on one line.
pub(super) fn quote(text: &str, f: &Fmt) -> String {
    f.md(&crate::domain::mrkdwn::first_line(text, QUOTE_CHARS))
        .replace('\n', " ")
}

/// For a reply quoted outside its thread: what it replies to.
pub(super) fn replying_to(
    m: &LoggedMessage,
    by_ts: &HashMap<&str, &LoggedMessage>,
    f: &Fmt,
) -> Option<String> {
    let parent = m.thread_ts.as_deref().filter(|t| *t != m.ts)?;
    Some(match by_ts.get(parent) {
        Some(p) if p.text.is_some() => format!(
            "in reply to {}: \"{}\"",
            super::author(p, f),
            quote(p.text.as_deref().unwrap_or(""), f)
        ),
        Some(_) => "in reply to a deleted message".into(),
        None => NOT_RECORDED.into(),
    })
}

/// What a reply is said to answer when its parent was never recorded: hereby's own posts
/// (its welcome, notices and fix attempts) are not, and a thread may start before recording did.
pub(super) const NOT_RECORDED: &str =
    "in reply to a message not in the record, such as one of hereby's";

fn entry_item(e: &Entry, f: &Fmt) -> Option<TimelineItem> {
    let who = e
        .actor
        .as_ref()
        .map(|u| f.who(u))
        .unwrap_or_else(|| "hereby".into());
    // Plain text as recorded (a title, a name) goes through `markdown::line`; what was typed
    // as mrkdwn through `f.md`.
    let role = |r: &Role| markdown::line(&r.display_name());
    let (kind, text) = match &e.what {
        TimelineEntry::Declared { title, .. } => (
            "declaration",
            format!(
                "Incident declared by {who}{}",
                title
                    .as_ref()
                    .map(|t| format!(": \"{}\"", markdown::line(t.as_str())))
                    .unwrap_or_default()
            ),
        ),
        TimelineEntry::ChannelCreated { name, .. } => (
            "channel",
            format!("Channel #{} opened", markdown::line(name)),
        ),
        TimelineEntry::ChannelRenamed { name, .. } => (
            "channel",
            format!("Channel renamed to #{}", markdown::line(name)),
        ),
        TimelineEntry::RoleAssigned { role: r, user, .. } => {
            ("role", format!("{who} made {} {}", f.who(user), role(r)))
        }
        TimelineEntry::RoleUnassigned { role: r, previous } => (
            "role",
            format!(
                "{who} left the {} role unfilled (was {})",
                role(r),
                f.who(previous)
            ),
        ),
        TimelineEntry::SeverityChanged { to, .. } => (
            "severity",
            format!("{who} set severity to {}", to.as_str().to_uppercase()),
        ),
        TimelineEntry::StatusChanged { to, .. } => {
            ("status", format!("{who} set status to {}", to.as_str()))
        }
        TimelineEntry::Resolved { .. } => ("resolution", format!("{who} resolved the incident")),
        TimelineEntry::Reopened { .. } => ("reopened", format!("{who} reopened the incident")),
        TimelineEntry::UpdatePosted { text } => {
            ("update", format!("Update by {who}: {}", f.md(text)))
        }
        TimelineEntry::Renamed { to, .. } => (
            "rename",
            format!(
                "{who} renamed the incident to \"{}\"",
                markdown::line(to.as_str())
            ),
        ),
        TimelineEntry::Described { text } => {
            ("note", format!("Description by {who}: {}", f.md(text)))
        }
        TimelineEntry::FixTried {
            number,
            what,
            outcome,
            ..
        } => (
            "fix",
            format!(
                "Fix #{number} tried by {who}: {}{}",
                f.md(what),
                tried_outcome(*outcome)
            ),
        ),
        TimelineEntry::FixOutcome {
            number,
            what,
            outcome,
        } => (
            "fix",
            format!(
                "Fix #{number} ({}) marked {} by {who}",
                f.md(what),
                outcome.as_str()
            ),
        ),
        TimelineEntry::Note { text } => (
            "note",
            format!("Note by {who} (outside the chat): {}", f.md(text)),
        ),
        TimelineEntry::Huddle {
            ended,
            participants,
            ..
        } => {
            let minutes = (*ended - e.at).num_minutes().max(0);
            let with = if participants.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = participants
                    .iter()
                    .map(|p| f.who(&UserId::new(p.clone())))
                    .collect();
                format!(" with {}", names.join(", "))
            };
            (
                "call",
                format!(
                    "Huddle in the channel, started by {who}{with}, until {} ({minutes} min)",
                    f.time(*ended),
                ),
            )
        }
        TimelineEntry::HuddleStarted { .. } => (
            "call",
            format!("Huddle in the channel, started by {who}, with no end recorded yet"),
        ),
        TimelineEntry::Docs { text } => (
            "docs",
            format!("Documentation trouble noted by {who}: {}", f.md(text)),
        ),
        TimelineEntry::ActionAdded { number, text, .. } => (
            "action",
            format!("Action item #{number} added by {who}: {}", f.md(text)),
        ),
        TimelineEntry::ActionClosed {
            number,
            status,
            text,
        } => (
            "action",
            format!(
                "Action item #{number} closed as {} by {who}{}",
                status.as_str(),
                text.as_deref()
                    .map(|t| format!(": {}", f.md(t)))
                    .unwrap_or_default()
            ),
        ),
        TimelineEntry::ActionChanged {
            number,
            owner,
            due,
            text,
        } => {
            let what = text
                .as_deref()
                .map(|t| format!(" ({})", f.md(t)))
                .unwrap_or_default();
            let change = match (owner, due) {
                (Some(owner), _) => format!("given to {}", f.who(owner)),
                (None, Some(due)) => format!("now due {due}"),
                (None, None) => "changed".into(),
            };
            (
                "action",
                format!("Action item #{number}{what} {change} by {who}"),
            )
        }
        TimelineEntry::PostmortemStatus { to } => (
            "postmortem",
            format!("{who} set the post-mortem's status to {}", to.label()),
        ),
        TimelineEntry::PostmortemOwner { user } => (
            "postmortem",
            format!("{who} made {} the post-mortem's owner", f.who(user)),
        ),
        // Written by a newer version or unreadable: nothing to say about it.
        TimelineEntry::Unknown { .. } => return None,
    };
    Some(TimelineItem {
        at: f.time(e.at),
        kind,
        text,
    })
}
