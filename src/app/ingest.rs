//! What a delivered event means to hereby: for now, a person's message that declares an
//! incident. Runs inside the transaction that marks the delivery processed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::declare::{declare, Declared};
use super::record::{self, Recorded};
use super::Settings;
use crate::domain::incident::{DeclareIncident, Incident, Origin};
use crate::domain::slack_ts;
use crate::domain::trigger::{find_declaration, find_declaration_named};
use crate::domain::{ChannelId, TeamId, UserId};
use crate::slack::events::{self, ChangedMessage, Event, PostedMessage};
use crate::store::group_commit::{Processed, RecordStored, Recording};

/// What processing an event did, for the log and the delivery's note.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Declared {
        number: i64,
    },
    AlreadyDeclared,
    /// Kept in an incident's record.
    Recorded(&'static str),
    /// Not about an incident: the delivery's payload is not kept.
    Elsewhere(&'static str),
}

impl Outcome {
    /// Whether the raw delivery may stay stored: only what concerns an incident does.
    pub fn keeps_payload(&self) -> bool {
        !matches!(self, Outcome::Elsewhere(_))
    }
}

/// Processes stored deliveries in order: decodes each and applies what decodes. For each,
/// `(id, note, keep_payload)`: what processing did, and whether the raw payload may stay.
pub async fn apply_stored(
    conn: &mut AnyConnection,
    stored: &[(i64, &str)],
    settings: &Settings,
    now: DateTime<Utc>,
) -> anyhow::Result<Processed> {
    let decoded: Vec<_> = stored.iter().map(|(_, p)| events::decode(p)).collect();
    let readable: Vec<&Event> = decoded.iter().filter_map(|e| e.as_ref().ok()).collect();
    let mut outcomes = apply_all(conn, &readable, settings, now).await?.into_iter();
    let mut done = Vec::with_capacity(stored.len());
    for ((id, _), event) in stored.iter().zip(&decoded) {
        let (note, keep) = match (event, outcomes.next()) {
            (Ok(_), Some(outcome)) => (format!("{outcome:?}"), outcome.keeps_payload()),
            (Ok(_), None) => anyhow::bail!("an event was applied without an outcome"),
            (Err(e), _) => (format!("undecodable: {e}"), false),
        };
        done.push((*id, note, keep));
    }
    Ok(done)
}

/// Records stored deliveries by applying them: in the transaction that stores them (SQLite's
/// group commit) or the one the delivery worker takes them in.
pub struct Recorder {
    settings: Arc<Settings>,
}

impl Recorder {
    pub fn new(settings: Arc<Settings>) -> Self {
        Recorder { settings }
    }
}

impl RecordStored for Recorder {
    fn record<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        stored: &'a [(i64, &'a str)],
        now: DateTime<Utc>,
    ) -> Recording<'a> {
        Box::pin(apply_stored(conn, stored, &self.settings, now))
    }
}

/// Applies decoded events in order, as if one at a time; what each did. The messages posted
/// into incident channels between two other events are recorded together, a few statements
/// for all of them.
pub async fn apply_all(
    conn: &mut AnyConnection,
    events: &[&Event],
    settings: &Settings,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Outcome>> {
    let mut channels = record::ChannelIncidents::default();
    let mut outcomes = Vec::with_capacity(events.len());
    let mut waiting: Vec<(usize, Arc<Incident>, &PostedMessage)> = Vec::new();
    for event in events {
        if let Event::MessagePosted(m) = event {
            if let Some(incident) = channels.get(conn, &m.team, &m.channel).await? {
                waiting.push((outcomes.len(), incident, m));
                outcomes.push(Outcome::Recorded("message"));
                continue;
            }
        }
        record_together(conn, &mut waiting, &mut outcomes, now).await?;
        outcomes.push(apply(conn, event, settings, now, &mut channels).await?);
    }
    record_together(conn, &mut waiting, &mut outcomes, now).await?;
    Ok(outcomes)
}

/// Records the waiting messages, incident by incident.
async fn record_together(
    conn: &mut AnyConnection,
    waiting: &mut Vec<(usize, Arc<Incident>, &PostedMessage)>,
    outcomes: &mut [Outcome],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    while let Some((_, incident, _)) = waiting.first() {
        let incident = incident.clone();
        let (same, rest): (Vec<_>, Vec<_>) =
            waiting.drain(..).partition(|(_, i, _)| i.id == incident.id);
        *waiting = rest;
        let posted: Vec<&PostedMessage> = same.iter().map(|(_, _, m)| *m).collect();
        let what = record::messages(conn, &incident, &posted, "event", now).await?;
        for ((i, _, _), what) in same.iter().zip(what) {
            outcomes[*i] = Outcome::Recorded(what);
        }
    }
    Ok(())
}

/// Applies one decoded event: records it if it belongs to an incident channel, and declares an
/// incident if a person wrote the phrase anywhere else.
async fn apply(
    conn: &mut AnyConnection,
    event: &Event,
    settings: &Settings,
    now: DateTime<Utc>,
    channels: &mut record::ChannelIncidents,
) -> anyhow::Result<Outcome> {
    if let Recorded::Kept(what) = record::apply(conn, event, settings, now, channels).await? {
        return Ok(Outcome::Recorded(what));
    }
    match event {
        Event::MessagePosted(m) => message_posted(conn, m, now).await,
        Event::MessageChanged(c) => message_edited(conn, c, now).await,
        _ => Ok(Outcome::Elsewhere("not about an incident channel")),
    }
}

/// How long after posting a message an edit that adds the phrase still declares.
const EDIT_DECLARES_WITHIN_MINUTES: i64 = 15;

/// A message someone wrote (or edited) outside any incident channel, declaring an incident.
struct Said<'a> {
    team: &'a TeamId,
    channel: &'a ChannelId,
    user: &'a UserId,
    ts: &'a str,
    thread_ts: Option<&'a str>,
    private: bool,
    /// When it was said: the post, or the edit.
    at: DateTime<Utc>,
}

/// Declares the incident a message's `text` declares (once per message). Message events carry
/// a mention as `<@U1>`, without a name: the title reads it as the name hereby has cached.
async fn declared_in(
    conn: &mut AnyConnection,
    said: &Said<'_>,
    text: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    let mentioned = crate::domain::mrkdwn::mentioned_users(text);
    let names = if mentioned.is_empty() {
        Default::default()
    } else {
        crate::store::record::names_of(conn, said.team, &mentioned).await?
    };
    let Some(declaration) = find_declaration_named(text, &names) else {
        return Ok(Outcome::Elsewhere("no declaration"));
    };
    let d = DeclareIncident {
        // What is declared in a private conversation is not announced by title, nor given a
        // public channel.
        private: said.private,
        team: said.team.clone(),
        declarer: said.user.clone(),
        title: declaration.title,
        origin: Origin::Message {
            channel: said.channel.clone(),
            ts: said.ts.to_string(),
            thread_ts: said.thread_ts.map(str::to_string),
        },
        at: said.at,
    };
    Ok(match declare(conn, &d, None, now).await? {
        Declared::New(i) => Outcome::Declared { number: i.number },
        Declared::Already(_) => Outcome::AlreadyDeclared,
    })
}

async fn message_posted(
    conn: &mut AnyConnection,
    m: &PostedMessage,
    now: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    // Bots (hereby included) see their own messages as events: acting on them would loop.
    if m.from_bot {
        return Ok(Outcome::Elsewhere("message from a bot"));
    }
    let Some(user) = &m.user else {
        return Ok(Outcome::Elsewhere("message without an author"));
    };
    if find_declaration(&m.text).is_none() {
        return Ok(Outcome::Elsewhere("no declaration"));
    }
    let said = Said {
        team: &m.team,
        channel: &m.channel,
        user,
        ts: &m.ts,
        thread_ts: m.thread_ts.as_deref(),
        private: m.private_conversation,
        at: slack_ts::to_time(&m.ts).unwrap_or(now),
    };
    declared_in(conn, &said, &m.text, now).await
}

/// Fixing a typo in the phrase soon after writing it declares as writing it right would have;
/// not an edit of an old message, nor one that did not add the phrase, nor one whose author
/// has declared since (say with `/incident declare`).
async fn message_edited(
    conn: &mut AnyConnection,
    c: &ChangedMessage,
    now: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    if c.from_bot || c.tombstone {
        return Ok(Outcome::Elsewhere("edit by a bot, or a deletion"));
    }
    let Some(user) = &c.user else {
        return Ok(Outcome::Elsewhere("edit without an author"));
    };
    // Most edits anywhere declare nothing: that is settled before the database is asked.
    if find_declaration(&c.text).is_none() {
        return Ok(Outcome::Elsewhere("no declaration"));
    }
    let at = slack_ts::to_time(&c.event_ts).unwrap_or(now);
    let Some(posted) = slack_ts::to_time(&c.ts) else {
        return Ok(Outcome::Elsewhere("edit of a message without a time"));
    };
    let added = c
        .previous_text
        .as_deref()
        .is_some_and(|before| find_declaration(before).is_none());
    if !added || at - posted > chrono::Duration::minutes(EDIT_DECLARES_WITHIN_MINUTES) {
        return Ok(Outcome::Elsewhere("edit that does not newly declare"));
    }
    if crate::store::incidents::declared_by_since(conn, &c.team, user, posted).await? {
        return Ok(Outcome::Elsewhere("edit by someone who declared since"));
    }
    let said = Said {
        team: &c.team,
        channel: &c.channel,
        user,
        ts: &c.ts,
        thread_ts: c.thread_ts.as_deref(),
        private: c.private_conversation,
        at,
    };
    declared_in(conn, &said, &c.text, now).await
}
