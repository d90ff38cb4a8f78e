//! What a delivered event means to hereby: for now, a person's message that declares an
//! incident. Runs inside the transaction that marks the delivery processed.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::declare::{declare, Declared};
use super::record::{self, Recorded};
use super::Settings;
use crate::domain::incident::{DeclareIncident, Origin};
use crate::domain::slack_ts;
use crate::domain::trigger::find_declaration;
use crate::slack::events::{Event, PostedMessage};

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

/// Applies one decoded event: records it if it belongs to an incident channel, and declares an
/// incident if a person wrote the phrase anywhere else.
pub async fn apply(
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
        _ => Ok(Outcome::Elsewhere("not about an incident channel")),
    }
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
    let Some(declaration) = find_declaration(&m.text) else {
        return Ok(Outcome::Elsewhere("no declaration"));
    };
    let d = DeclareIncident {
        private: false,
        team: m.team.clone(),
        declarer: user.clone(),
        title: declaration.title,
        origin: Origin::Message {
            channel: m.channel.clone(),
            ts: m.ts.clone(),
            thread_ts: m.thread_ts.clone(),
        },
        at: slack_ts::to_time(&m.ts).unwrap_or(now),
    };
    Ok(match declare(conn, &d, None, now).await? {
        Declared::New(i) => Outcome::Declared { number: i.number },
        Declared::Already(_) => Outcome::AlreadyDeclared,
    })
}
