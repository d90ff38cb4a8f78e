//! Notes responders record by hand — from calls and meetings held outside the chat, and
//! documentation that got in the way — and the links in what they record.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::effect::{queue_for_change, Effect};
use crate::domain::links;
use crate::domain::timeline::TimelineEntry;
use crate::domain::UserId;
use crate::store::incidents::{self, Incident};
use crate::store::record::{self, LinkMention};

/// What a hand-written note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// `/incident note`: something said outside the chat.
    Note,
    /// `/incident docs`: documentation that got in the way.
    Docs,
}

/// `/incident note` and `/incident docs`: a timeline entry, said in the channel.
pub async fn note(
    conn: &mut AnyConnection,
    incident: &Incident,
    kind: NoteKind,
    text: &str,
    by: &UserId,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let entry = match kind {
        NoteKind::Note => TimelineEntry::Note { text: text.into() },
        NoteKind::Docs => TimelineEntry::Docs { text: text.into() },
    };
    incidents::add_timeline(conn, &incident.team, incident.id, &entry, Some(by), now).await?;
    links_in(conn, incident, text, by, now).await?;
    let (notice, reply) = match kind {
        NoteKind::Docs => (
            format!(
                ":books: <@{by}> noted documentation trouble: {}",
                crate::domain::mrkdwn::safe(text)
            ),
            "Noted for the post-mortem's documentation section.",
        ),
        NoteKind::Note => (
            format!(
                ":memo: Note from <@{by}>: {}",
                crate::domain::mrkdwn::safe(text)
            ),
            "Noted in the timeline.",
        ),
    };
    queue_for_change(conn, incident, &[Effect::Notice { text: notice }], now).await?;
    Ok(reply.to_string())
}

pub(super) async fn links_in(
    conn: &mut AnyConnection,
    incident: &Incident,
    text: &str,
    by: &UserId,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let found = links::extract(text, None, None);
    let mentions: Vec<LinkMention> = found
        .iter()
        .map(|link| LinkMention {
            link,
            by: Some(by),
            at: now,
            ts: None,
        })
        .collect();
    record::add_links(conn, &incident.team, incident.id, &mentions).await?;
    Ok(())
}
