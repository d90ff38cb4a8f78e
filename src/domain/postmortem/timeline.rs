//! The draft's timeline: the moments that matter (declaration, roles, severity and status,
//! updates, highlighted messages in full, fixes, notes, docs, action items, resolution) with
//! the conversation between them condensed into activity lines (see [`super::skeleton`]).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::skeleton::{self, Activity};
use super::{Entry, Fmt, LoggedMessage, TimelineItem};
use crate::domain::markdown;
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
    let mut moments: Vec<(DateTime<Utc>, TimelineItem)> = entries
        .iter()
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
        _ => "in reply to a deleted message".into(),
    })
}

fn entry_item(e: &Entry, f: &Fmt) -> Option<TimelineItem> {
    let who = e
        .actor
        .as_ref()
        .map(|u| f.who(u))
        .unwrap_or_else(|| "hereby".into());
    let raw = |k: &str| {
        e.detail
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    // Plain text as recorded (a title, a name); `f.md` for what was typed as mrkdwn.
    let d = |k: &str| markdown::line(&raw(k));
    let user = |k: &str| f.who(&UserId::new(raw(k)));
    let (kind, text) = match e.kind.as_str() {
        "declared" => (
            "declaration",
            format!(
                "Incident declared by {who}{}",
                if d("title").is_empty() {
                    String::new()
                } else {
                    format!(": \"{}\"", d("title"))
                }
            ),
        ),
        "channel_created" => ("channel", format!("Channel #{} opened", d("name"))),
        "channel_renamed" => ("channel", format!("Channel renamed to #{}", d("name"))),
        "role_assigned" => (
            "role",
            format!("{who} made {} {}", user("user"), role_name(&raw("role"))),
        ),
        "role_unassigned" => (
            "role",
            format!(
                "{who} left the {} role unfilled (was {})",
                role_name(&raw("role")),
                user("previous")
            ),
        ),
        "severity_changed" => (
            "severity",
            format!("{who} set severity to {}", d("to").to_uppercase()),
        ),
        "status_changed" => ("status", format!("{who} set status to {}", d("to"))),
        "resolved" => ("resolution", format!("{who} resolved the incident")),
        "reopened" => ("reopened", format!("{who} reopened the incident")),
        "update" => ("update", format!("Update by {who}: {}", f.md(&raw("text")))),
        "renamed" => (
            "rename",
            format!("{who} renamed the incident to \"{}\"", d("to")),
        ),
        "described" => (
            "note",
            format!("Description by {who}: {}", f.md(&raw("text"))),
        ),
        "fix_tried" => (
            "fix",
            format!(
                "Fix #{} tried by {who}: {} ({})",
                e.detail.get("number").and_then(Value::as_i64).unwrap_or(0),
                f.md(&raw("what")),
                d("outcome")
            ),
        ),
        "fix_outcome" => (
            "fix",
            format!(
                "Fix #{} ({}) marked {} by {who}",
                e.detail.get("number").and_then(Value::as_i64).unwrap_or(0),
                f.md(&raw("what")),
                d("outcome")
            ),
        ),
        "note" => (
            "note",
            format!("Note by {who} (outside the chat): {}", f.md(&raw("text"))),
        ),
        "docs" => (
            "docs",
            format!(
                "Documentation trouble noted by {who}: {}",
                f.md(&raw("text"))
            ),
        ),
        "action_added" => (
            "action",
            format!(
                "Action item #{} added by {who}: {}",
                e.detail.get("number").and_then(Value::as_i64).unwrap_or(0),
                f.md(&raw("text"))
            ),
        ),
        _ => return None,
    };
    Some(TimelineItem {
        at: f.time(e.at),
        kind,
        text,
    })
}

fn role_name(key: &str) -> String {
    markdown::line(
        &crate::domain::roles::Role::parse(key, &[])
            .map(|r| r.display_name())
            .unwrap_or_else(|| key.replace(['-', '_'], " ")),
    )
}
