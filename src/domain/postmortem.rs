//! The post-mortem draft: built from the record (plain values in), rendered to Markdown through
//! a template. The default template is embedded; teams can replace it. What the template gets
//! is [`Draft`]; README.md documents it for template authors.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use super::actions;
use super::fixes::{self, Outcome};
use super::markdown;
use super::mrkdwn;
use super::timeline::TimelineEntry;
use super::UserId;

/// The template used unless `HEREBY_POSTMORTEM_TEMPLATE` names another.
pub const DEFAULT_TEMPLATE: &str = include_str!("../../templates/postmortem.md");

pub use super::review::ReviewStatus;
pub use model::*;

struct Fmt<'a> {
    tz: Tz,
    names: &'a HashMap<String, String>,
}

impl Fmt<'_> {
    fn time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz)
            .format("%Y-%m-%d %H:%M:%S %Z (UTC%:z)")
            .to_string()
    }

    fn who(&self, u: &UserId) -> String {
        markdown::line(&mrkdwn::name(u.as_str(), None, self.names))
    }

    fn md(&self, text: &str) -> String {
        mrkdwn::to_markdown(text, self.names)
    }
}

/// Table cells: one line (`|` is already escaped in every piece of user text).
fn cell(s: &str) -> String {
    s.replace('\n', " ")
}

/// "2 h 5 min".
pub fn duration(d: chrono::Duration) -> String {
    let mins = d.num_minutes().max(0);
    match (mins / 1440, (mins % 1440) / 60, mins % 60) {
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, m) => format!("{d} d {h} h {m} min"),
    }
}

fn file_names(files: &Option<Value>) -> Vec<String> {
    let Some(Value::Array(files)) = files else {
        return vec![];
    };
    files
        .iter()
        .map(|f| {
            let name = f
                .get("title")
                .or_else(|| f.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("file");
            match f.get("permalink").and_then(Value::as_str) {
                Some(link) => markdown::link(name, link),
                None => markdown::line(name),
            }
        })
        .collect()
}

/// Builds the draft from the record; `today` judges action items' due dates.
pub fn build(r: &Record, tz: Tz, today: chrono::NaiveDate) -> Draft {
    let f = Fmt {
        tz,
        names: &r.names,
    };
    let i = &r.incident;
    let live: Vec<&LoggedMessage> = r.messages.iter().filter(|m| m.text.is_some()).collect();
    let started = live
        .iter()
        .map(|m| m.at)
        .chain([i.declared_at])
        .min()
        .unwrap_or(i.declared_at);
    let worked = r
        .fixes
        .iter()
        .filter(|x| x.outcome == Outcome::Worked)
        .min_by_key(|x| x.outcome_at.unwrap_or(x.at));
    let mitigated = worked.map(|x| x.outcome_at.unwrap_or(x.at));
    let owner = i
        .postmortem_owner
        .as_ref()
        .map(|u| f.who(u))
        .unwrap_or_else(|| {
            r.roles
                .iter()
                .filter(|s| s.role == "incident commander" && s.until.is_none())
                .map(|s| f.who(&s.user))
                .next()
                .unwrap_or_else(|| f.who(&i.declared_by))
        });

    let mut roles_of: HashMap<&str, Vec<String>> = HashMap::new();
    for s in &r.roles {
        let v = roles_of.entry(s.user.as_str()).or_default();
        let role = markdown::line(&s.role);
        if !v.contains(&role) {
            v.push(role);
        }
    }
    let mut people: Vec<(UserId, DateTime<Utc>)> = r.participants.clone();
    for s in &r.roles {
        if !people.iter().any(|(u, _)| *u == s.user) {
            people.push((s.user.clone(), s.from));
        }
    }
    people.sort_by_key(|(_, at)| *at);

    let actions: Vec<Action> = r
        .actions
        .iter()
        .map(|a| Action {
            number: a.number,
            text: cell(&f.md(&a.text)),
            owner: a
                .owner
                .as_ref()
                .map(|u| f.who(u))
                .unwrap_or_else(|| "—".into()),
            due: a.due.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
            status: a.status.as_str(),
            flags: if a.status.is_open() {
                actions::flags(&a.text, a.owner.as_ref(), a.due, today)
            } else {
                vec![]
            },
        })
        .collect();

    let open_actions = actions.iter().filter(|a| a.status == "open").count();
    let summary = summary::paragraph(&summary::Facts {
        number: i.number,
        title: i.title.as_deref().map(markdown::line),
        declared_by: f.who(&i.declared_by),
        declared_at: f.time(i.declared_at),
        severity: i
            .severity
            .as_deref()
            .map(|s| markdown::line(&s.to_uppercase())),
        mitigated_after: mitigated.map(|t| duration(t - started)),
        worked: worked.map(|x| (x.number, cell(&f.md(&x.what)), f.who(&x.by))),
        resolved_after: i.resolved_at.map(|t| duration(t - started)),
        people: people.len(),
        open_actions,
    });

    Draft {
        summary,
        title: i
            .title
            .as_deref()
            .map(markdown::line)
            .unwrap_or_else(|| format!("Incident #{}", i.number)),
        number: i.number,
        owner,
        status: i.postmortem_status.label(),
        severity: i
            .severity
            .as_deref()
            .map(|s| markdown::line(&s.to_uppercase()))
            .unwrap_or_else(|| "not set".into()),
        channel: i.channel_name.as_deref().map(markdown::line),
        timezone: tz.name().to_string(),
        description: i.description.as_deref().map(markdown::text),
        times: KeyTimes {
            started: f.time(started),
            declared: f.time(i.declared_at),
            mitigated: mitigated.map(|t| f.time(t)),
            resolved: i.resolved_at.map(|t| f.time(t)),
            duration: i.resolved_at.map(|t| duration(t - started)),
            time_to_mitigate: mitigated.map(|t| duration(t - started)),
        },
        participants: people
            .iter()
            .map(|(u, at)| Participant {
                name: f.who(u),
                roles: roles_of.get(u.as_str()).cloned().unwrap_or_default(),
                first_seen: f.time(*at),
            })
            .collect(),
        handovers: r
            .roles
            .iter()
            .map(|s| Handover {
                at: f.time(s.from),
                role: markdown::line(&s.role),
                to: f.who(&s.user),
                by: f.who(&s.by),
            })
            .collect(),
        timeline: timeline::timeline(&r.entries, &live, &r.messages, &f),
        possible_fixes: possible_fixes(r, &live, &f),
        fixes: r
            .fixes
            .iter()
            .map(|x| Fix {
                number: x.number,
                what: cell(&f.md(&x.what)),
                who: f.who(&x.by),
                when: f.time(x.at),
                outcome: x.outcome.as_str(),
            })
            .collect(),
        docs: notes_of(&r.entries, &f, |e| {
            let TimelineEntry::Docs { text } = e else {
                return None;
            };
            Some(text)
        }),
        notes: notes_of(&r.entries, &f, |e| {
            let TimelineEntry::Note { text } = e else {
                return None;
            };
            Some(text)
        }),
        counts: Counts {
            messages: live.len(),
            deleted: r.messages.len() - live.len(),
            participants: people.len(),
            links: r.links.len(),
            fixes: r.fixes.len(),
            open_actions,
        },
        actions,
        links: r
            .links
            .iter()
            .map(|l| LinkItem {
                url: markdown::target(&l.url),
                label: markdown::line(l.label.as_deref().unwrap_or(&l.url)),
                by: l
                    .by
                    .as_ref()
                    .map(|u| f.who(u))
                    .unwrap_or_else(|| "—".into()),
                at: f.time(l.at),
                mentions: l.mentions,
            })
            .collect(),
        log: log(&live, &r.messages, &f),
    }
}

/// Who wrote a message, as Markdown; apps are marked `(app)`.
fn author(m: &LoggedMessage, f: &Fmt) -> String {
    match (&m.user, &m.author_name, m.from_app) {
        (_, Some(name), true) => format!("{} (app)", markdown::line(name)),
        (Some(u), _, app) => format!("{}{}", f.who(u), if app { " (app)" } else { "" }),
        (None, Some(name), _) => markdown::line(name),
        // Many alerting and CI integrations post with only a `bot_id`.
        (None, None, true) => "an app (app)".into(),
        (None, None, false) => "unknown".into(),
    }
}

/// The entries whose text `pick` takes, as notes.
fn notes_of(
    entries: &[Entry],
    f: &Fmt,
    pick: impl Fn(&TimelineEntry) -> Option<&String>,
) -> Vec<Note> {
    entries
        .iter()
        .filter_map(|e| {
            Some(Note {
                at: f.time(e.at),
                who: e.actor.as_ref().map(|u| f.who(u)).unwrap_or_default(),
                text: f.md(pick(&e.what)?),
            })
        })
        .collect()
}

/// The channel log: top-level messages in order, each thread's replies under its parent.
fn log(live: &[&LoggedMessage], all: &[LoggedMessage], f: &Fmt) -> Vec<LogEntry> {
    let entry = |m: &LoggedMessage| LogEntry {
        at: f.time(m.at),
        author: author(m, f),
        text: f.md(m.text.as_deref().unwrap_or("")),
        edited: m.edited,
        from_app: m.from_app,
        files: file_names(&m.files),
        replies: vec![],
    };
    // Keyed by time and `ts`: stored times keep milliseconds, a `ts` keeps microseconds.
    let mut top: Vec<((DateTime<Utc>, &str), LogEntry)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut orphans: Vec<&LoggedMessage> = Vec::new();
    for m in live {
        let is_reply = m.thread_ts.as_deref().is_some_and(|t| t != m.ts);
        if is_reply {
            orphans.push(m);
        } else {
            index.insert(m.ts.as_str(), top.len());
            top.push(((m.at, m.ts.as_str()), entry(m)));
        }
    }
    let mut kept_apart = false;
    for m in orphans {
        match m.thread_ts.as_deref().and_then(|t| index.get(t)) {
            Some(&i) => top[i].1.replies.push(entry(m)),
            // The parent was deleted (Slack leaves a tombstone), or never recorded (hereby's own
            // posts are not): the reply stays, at its time.
            None => {
                let mut e = entry(m);
                let parent = m.thread_ts.as_deref().unwrap_or_default();
                let said = if all.iter().any(|p| p.ts == parent) {
                    "in reply to a deleted message"
                } else {
                    timeline::NOT_RECORDED
                };
                e.text = format!("_({said})_ {}", e.text);
                top.push(((m.at, m.ts.as_str()), e));
                kept_apart = true;
            }
        }
    }
    if kept_apart {
        top.sort_by_key(|(key, _)| *key);
    }
    top.into_iter().map(|(_, e)| e).collect()
}

/// Messages that sound like someone tried a fix, for people to confirm; never those already
/// recorded as fix attempts.
fn possible_fixes(r: &Record, live: &[&LoggedMessage], f: &Fmt) -> Vec<PossibleFix> {
    let by_ts: HashMap<&str, &LoggedMessage> =
        r.messages.iter().map(|m| (m.ts.as_str(), m)).collect();
    live.iter()
        .filter(|m| !m.from_app)
        .filter(|m| {
            !r.fixes
                .iter()
                .any(|x| x.message_ts.as_deref() == Some(m.ts.as_str()))
        })
        .filter_map(|m| {
            let phrase = fixes::mentioned_fix(m.text.as_deref()?)?;
            let context = timeline::replying_to(m, &by_ts, f)
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            Some(PossibleFix {
                at: f.time(m.at),
                who: author(m, f),
                text: format!("{}{context}", timeline::quote(m.text.as_deref()?, f)),
                phrase,
            })
        })
        .take(MAX_POSSIBLE_FIXES)
        .collect()
}

/// The most possible fix attempts a draft lists.
const MAX_POSSIBLE_FIXES: usize = 50;

/// Why a template could not render.
#[derive(Debug, thiserror::Error)]
#[error("the post-mortem template failed: {0}")]
pub struct TemplateError(String);

/// Renders a draft with a template (Jinja syntax; see README.md for the fields and the
/// `plural` filter: `{{ counts.links|plural("link") }}` gives "1 link" or "3 links", and
/// `{{ counts.participants|plural("person", "people") }}` "3 people").
pub fn render(draft: &Draft, template: &str) -> Result<String, TemplateError> {
    let mut env = minijinja::Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("plural", |n: usize, one: String, many: Option<String>| {
        super::words::counted(n, &one, &many.unwrap_or_else(|| format!("{one}s")))
    });
    env.render_str(template, draft)
        .map_err(|e| TemplateError(format!("{e:#}")))
}

mod model;

mod skeleton;
#[cfg(test)]
mod structure_tests;
mod summary;
#[cfg(test)]
mod tests;
mod timeline;
#[cfg(test)]
mod timeline_tests;
