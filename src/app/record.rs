//! Recording an incident channel: messages, thread replies, edits, deletions, files, links,
//! highlights, fix reactions and participants. Messages elsewhere are never recorded.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::effect::{queue_again, Effect};
use super::Settings;
use crate::domain::links;
use crate::domain::slack_ts::to_time as ts_to_time;
use crate::domain::{ChannelId, TeamId, UserId};
use crate::slack::events::{ChangedMessage, Event, PostedMessage};
use crate::store::incidents::{self, Incident};
use crate::store::record::{self, NewMessage};

/// What recording an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The event is not about an incident channel: nothing of it is kept.
    Elsewhere,
    /// Kept in the record (or already there).
    Kept(&'static str),
}

/// The incidents of the channels a batch of deliveries speaks of, each looked up once per
/// batch: nothing a delivery records changes which incident a channel belongs to (a channel is
/// linked to its incident by the outbox, in a transaction of its own).
#[derive(Default)]
pub struct ChannelIncidents(HashMap<(TeamId, ChannelId), Option<Incident>>);

impl ChannelIncidents {
    async fn get(
        &mut self,
        conn: &mut AnyConnection,
        team: &TeamId,
        channel: &ChannelId,
    ) -> anyhow::Result<Option<Incident>> {
        let key = (team.clone(), channel.clone());
        if let Some(found) = self.0.get(&key) {
            return Ok(found.clone());
        }
        let found = incidents::by_channel(conn, team, channel).await?;
        self.0.insert(key, found.clone());
        Ok(found)
    }
}

/// Records one event if it belongs to an incident channel.
pub async fn apply(
    conn: &mut AnyConnection,
    event: &Event,
    settings: &Settings,
    now: DateTime<Utc>,
    channels: &mut ChannelIncidents,
) -> anyhow::Result<Recorded> {
    let (team, channel) = match event {
        Event::MessagePosted(m) => (&m.team, &m.channel),
        Event::MessageChanged(c) => (&c.team, &c.channel),
        Event::MessageDeleted { team, channel, .. }
        | Event::Reaction { team, channel, .. }
        | Event::Pin { team, channel, .. }
        | Event::MemberJoined { team, channel, .. } => (team, channel),
        Event::Other(_) => return Ok(Recorded::Elsewhere),
    };
    let Some(incident) = channels.get(conn, team, channel).await? else {
        return Ok(Recorded::Elsewhere);
    };
    let at = |ts: &str| ts_to_time(ts).unwrap_or(now);
    Ok(Recorded::Kept(match event {
        Event::MessagePosted(m) => message(conn, &incident, m, "event", now).await?,
        Event::MessageChanged(c) => changed(conn, &incident, c, now).await?,
        Event::MessageDeleted { ts, event_ts, .. } => {
            record::delete_message(conn, team, channel, ts, at(event_ts)).await?;
            "deletion"
        }
        Event::Reaction {
            ts,
            reaction,
            added,
            user,
            ..
        } => {
            if *reaction == settings.highlight_reaction {
                record::set_highlight(conn, team, channel, ts, *added).await?;
                "highlight"
            } else if let Some(meaning) = settings.fix_reactions.meaning(reaction) {
                super::fix_reactions::apply(conn, &incident, ts, user, meaning, *added, now).await?
            } else {
                "reaction (neither a highlight nor a fix)"
            }
        }
        Event::Pin { ts, added, .. } => {
            record::set_highlight(conn, team, channel, ts, *added).await?;
            "highlight"
        }
        Event::MemberJoined { user, event_ts, .. } => {
            participant(conn, &incident, user, at(event_ts), now).await?;
            "participant"
        }
        Event::Other(_) => "nothing",
    }))
}

/// Records a posted message (from an event or from history) once, with its links and author.
pub async fn message(
    conn: &mut AnyConnection,
    incident: &Incident,
    m: &PostedMessage,
    source: &'static str,
    now: DateTime<Utc>,
) -> anyhow::Result<&'static str> {
    if m.from_self {
        // hereby's own messages are already in the timeline as what they announce.
        return Ok("hereby's own message");
    }
    let posted_at = ts_to_time(&m.ts).unwrap_or(now);
    // An app that posts with only its bot ID is named by that ID until Slack tells its name.
    let unnamed_app = match (&m.user, &m.author_name, &m.bot_id) {
        (None, None, Some(bot)) if m.from_bot => Some(UserId::new(bot.clone())),
        _ => None,
    };
    let new = NewMessage {
        channel: &m.channel,
        ts: &m.ts,
        thread_ts: m.thread_ts.as_deref(),
        user: m.user.as_ref().or(unnamed_app.as_ref()),
        from_app: m.from_bot,
        author_name: m.author_name.as_deref(),
        subtype: m.subtype.as_deref(),
        text: &m.text,
        files: m.files.clone(),
        posted_at,
        source,
    };
    if !record::add_message(conn, &incident.team, incident.id, &new).await? {
        // Known already; history may show an edit that was never delivered.
        if let Some(edited) = &m.edited_ts {
            let edited_at = ts_to_time(edited).unwrap_or(now);
            record::edit_message(conn, &incident.team, &m.channel, &m.ts, &m.text, edited_at)
                .await?;
        }
        return Ok("message already recorded");
    }
    for link in links::extract(&m.text, m.blocks.as_ref(), m.attachments.as_ref()) {
        record::add_link(
            conn,
            &incident.team,
            incident.id,
            &link,
            m.user.as_ref(),
            posted_at,
            Some(&m.ts),
        )
        .await?;
    }
    if let (Some(user), false) = (&m.user, m.from_bot) {
        participant(conn, incident, user, posted_at, now).await?;
    }
    if let Some(bot) = unnamed_app {
        if !record::user_known(conn, &incident.team, &bot).await? {
            queue_again(
                conn,
                incident,
                &[Effect::LookUpBot {
                    bot: bot.to_string(),
                }],
                bot.as_str(),
                now,
            )
            .await?;
        }
    }
    Ok("message")
}

async fn changed(
    conn: &mut AnyConnection,
    incident: &Incident,
    c: &ChangedMessage,
    now: DateTime<Utc>,
) -> anyhow::Result<&'static str> {
    let at = ts_to_time(&c.event_ts).unwrap_or(now);
    if c.tombstone {
        record::delete_message(conn, &incident.team, &c.channel, &c.ts, at).await?;
        return Ok("deletion (thread parent tombstone)");
    }
    if c.from_self {
        return Ok("hereby's own message");
    }
    let before = previous_links(conn, &incident.team, &c.channel, &c.ts).await?;
    if !record::edit_message(conn, &incident.team, &c.channel, &c.ts, &c.text, at).await? {
        return Ok("edit without change");
    }
    for link in links::extract(&c.text, c.blocks.as_ref(), c.attachments.as_ref()) {
        if !before.contains(&link.url) {
            record::add_link(
                conn,
                &incident.team,
                incident.id,
                &link,
                None,
                at,
                Some(&c.ts),
            )
            .await?;
        }
    }
    Ok("edit")
}

async fn previous_links(
    conn: &mut AnyConnection,
    team: &TeamId,
    channel: &ChannelId,
    ts: &str,
) -> anyhow::Result<Vec<String>> {
    let text: Option<String> = sqlx::query_scalar(
        "SELECT text FROM messages WHERE team_id = $1 AND channel_id = $2 AND ts = $3",
    )
    .bind(team.to_string())
    .bind(channel.to_string())
    .bind(ts.to_string())
    .fetch_optional(conn)
    .await?
    .flatten();
    Ok(links::extract(text.as_deref().unwrap_or(""), None, None)
        .into_iter()
        .map(|l| l.url)
        .collect())
}

/// Notes a participant, and asks Slack for their name the first time hereby sees them.
pub async fn participant(
    conn: &mut AnyConnection,
    incident: &Incident,
    user: &UserId,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if record::add_participant(conn, &incident.team, incident.id, user, at).await?
        && !record::user_known(conn, &incident.team, user).await?
    {
        queue_again(
            conn,
            incident,
            &[Effect::LookUpUser {
                user: user.to_string(),
            }],
            user.as_str(),
            now,
        )
        .await?;
    }
    Ok(())
}
