//! Recording an incident channel: messages, thread replies, edits, deletions, files, links,
//! highlights, fix reactions and participants. Messages elsewhere are never recorded.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::effect::{queue_again, Effect};
use super::Settings;
use crate::domain::incident::IncidentChannel;
use crate::domain::links;
use crate::domain::slack_ts::to_time as ts_to_time;
use crate::domain::timeline::TimelineEntry;
use crate::domain::{ChannelId, TeamId, UserId};
use crate::slack::events::{ChangedMessage, Event, Huddle, PostedMessage};
use crate::store::incidents::{self, Incident};
use crate::store::record::{self, LinkMention, NewMessage};

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
pub struct ChannelIncidents(HashMap<(TeamId, ChannelId), Option<Arc<Incident>>>);

impl ChannelIncidents {
    /// The incident whose channel this is, if any.
    pub(super) async fn get(
        &mut self,
        conn: &mut AnyConnection,
        team: &TeamId,
        channel: &ChannelId,
    ) -> anyhow::Result<Option<Arc<Incident>>> {
        let key = (team.clone(), channel.clone());
        if let Some(found) = self.0.get(&key) {
            return Ok(found.clone());
        }
        let found = incidents::by_channel(conn, team, channel)
            .await?
            .map(Arc::new);
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
        | Event::MemberJoined { team, channel, .. }
        | Event::ChannelNamed { team, channel, .. }
        | Event::Removed { team, channel, .. }
        | Event::Rejoined { team, channel, .. }
        | Event::Huddle { team, channel, .. } => (team, channel),
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
                let by = record::MarkedBy::Reaction(user);
                record::set_highlight(conn, team, channel, ts, by, *added).await?;
                "highlight"
            } else if let Some(meaning) = settings.fix_reactions.meaning(reaction) {
                super::fix_reactions::apply(conn, &incident, ts, user, meaning, *added, now).await?
            } else {
                "reaction (neither a highlight nor a fix)"
            }
        }
        Event::Pin { ts, added, .. } => {
            record::set_highlight(conn, team, channel, ts, record::MarkedBy::Pin, *added).await?;
            "highlight"
        }
        Event::MemberJoined { user, event_ts, .. } => {
            participant(conn, &incident, user, at(event_ts), now).await?;
            "participant"
        }
        Event::ChannelNamed {
            name,
            user,
            event_ts,
            ..
        } => {
            let named = IncidentChannel {
                id: channel.clone(),
                name: name.clone(),
            };
            incidents::set_channel(conn, team, incident.id, &named).await?;
            let entry = TimelineEntry::ChannelRenamed {
                channel: channel.clone(),
                name: name.clone(),
            };
            incidents::add_timeline(conn, team, incident.id, &entry, Some(user), at(event_ts))
                .await?;
            "channel renamed"
        }
        Event::Removed { by, event_ts, .. } if incident.status.is_open() => {
            let effect = Effect::TellRemoved {
                by: by.as_ref().map(UserId::to_string),
            };
            queue_again(conn, &incident, &[effect], event_ts, now).await?;
            tracing::warn!(
                incident = incident.number,
                "hereby was removed from an open incident's channel; nothing said there is recorded until it is invited back"
            );
            "hereby removed from the incident channel"
        }
        Event::Rejoined { event_ts, .. } if incident.status.is_open() => {
            // What was said while hereby was out is read back. Slack tells of one join twice
            // (a `channel_join` message and `member_joined_channel`): one catch-up a second.
            let second = event_ts.split('.').next().unwrap_or_default();
            let tag = format!("rejoined-{second}");
            queue_again(conn, &incident, &[Effect::CatchUp], tag, now).await?;
            "hereby back in the incident channel"
        }
        Event::Removed { .. } | Event::Rejoined { .. } => {
            "hereby's membership of a resolved incident's channel"
        }
        Event::Huddle { huddle, .. } => huddle_seen(conn, &incident, huddle, now).await?,
        Event::Other(_) => "nothing",
    }))
}

/// Records a huddle in the incident channel: once as it starts (so that a draft made while it
/// goes on tells of it), and once when it has ended (when it ran, who started it and who
/// joined), however often Slack tells of either; everyone who joined takes part.
pub async fn huddle_seen(
    conn: &mut AnyConnection,
    incident: &Incident,
    huddle: &Huddle,
    now: DateTime<Utc>,
) -> anyhow::Result<&'static str> {
    let (team, started_by) = (&incident.team, huddle.started_by.as_ref());
    let ended = huddle.ended.is_some();
    if !record::note_huddle(conn, team, incident.id, &huddle.room, ended).await? {
        return Ok("huddle already recorded");
    }
    let (entry, what) = match huddle.ended {
        Some(ended) => (
            TimelineEntry::Huddle {
                room: huddle.room.clone(),
                ended,
                participants: huddle.participants.iter().map(UserId::to_string).collect(),
            },
            "huddle",
        ),
        None => (
            TimelineEntry::HuddleStarted {
                room: huddle.room.clone(),
            },
            "huddle started",
        ),
    };
    incidents::add_timeline(conn, team, incident.id, &entry, started_by, huddle.started).await?;
    let seen: Vec<(&UserId, DateTime<Utc>)> = huddle
        .participants
        .iter()
        .map(|u| (u, huddle.started))
        .collect();
    participants(conn, incident, &seen, now).await?;
    Ok(what)
}

/// What [`messages`] says of a message that was recorded before.
const KNOWN: &str = "message already recorded";

/// Records a posted message (from an event or from history) once, with its links and author.
pub async fn message(
    conn: &mut AnyConnection,
    incident: &Incident,
    m: &PostedMessage,
    source: &'static str,
    now: DateTime<Utc>,
) -> anyhow::Result<&'static str> {
    let mut what = messages(conn, incident, &[m], source, now).await?;
    Ok(what.pop().unwrap_or("nothing"))
}

/// Records posted messages of one incident, as [`message`] would one after another, in a few
/// statements however many there are; what became of each, in order.
pub async fn messages(
    conn: &mut AnyConnection,
    incident: &Incident,
    posted: &[&PostedMessage],
    source: &'static str,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<&'static str>> {
    let mut what = vec!["message"; posted.len()];
    let at = |m: &PostedMessage| ts_to_time(&m.ts).unwrap_or(now);
    // An app that posts with only its bot ID is named by that ID until Slack tells its name.
    let unnamed_apps: Vec<Option<UserId>> = posted
        .iter()
        .map(|m| match (&m.user, &m.author_name, &m.bot_id) {
            (None, None, Some(bot)) if m.from_bot => Some(UserId::new(bot.clone())),
            _ => None,
        })
        .collect();
    // The first of each message goes in; a second copy is known already, as it would be later.
    let mut first = HashSet::new();
    let (mut indices, mut rows) = (Vec::new(), Vec::new());
    for (i, m) in posted.iter().enumerate() {
        if m.from_self {
            // hereby's own messages are already in the timeline as what they announce.
            what[i] = "hereby's own message";
        } else if first.insert((m.channel.as_str(), m.ts.as_str())) {
            indices.push(i);
            rows.push(NewMessage {
                channel: &m.channel,
                ts: &m.ts,
                thread_ts: m.thread_ts.as_deref(),
                user: m.user.as_ref().or(unnamed_apps[i].as_ref()),
                from_app: m.from_bot,
                author_name: m.author_name.as_deref(),
                subtype: m.subtype.as_deref(),
                text: &m.text,
                files: m.files.clone(),
                posted_at: at(m),
                source,
            });
        } else {
            what[i] = KNOWN;
        }
    }
    let new = record::add_messages(conn, &incident.team, incident.id, &rows).await?;
    let mut added = Vec::new();
    for i in indices {
        let m = posted[i];
        if new.contains(&(m.channel.to_string(), m.ts.clone())) {
            added.push(i);
        } else {
            what[i] = KNOWN;
        }
    }
    for (i, m) in posted.iter().enumerate() {
        // Known already; history may show an edit that was never delivered.
        // (Slack also sends an edited message that mentions @hereby again as `app_mention`.)
        if let (KNOWN, Some(edited)) = (what[i], &m.edited_ts) {
            let edited_at = ts_to_time(edited).unwrap_or(now);
            let edit = Edit {
                channel: &m.channel,
                ts: &m.ts,
                text: &m.text,
                blocks: m.blocks.as_ref(),
                attachments: m.attachments.as_ref(),
                at: edited_at,
            };
            edit_with_links(conn, incident, &edit).await?;
        }
    }
    let links: Vec<(usize, Vec<links::Link>)> = added
        .iter()
        .map(|&i| {
            let m = posted[i];
            (
                i,
                links::extract(&m.text, m.blocks.as_ref(), m.attachments.as_ref()),
            )
        })
        .collect();
    let mentions: Vec<LinkMention> = links
        .iter()
        .flat_map(|(i, found)| {
            let m = posted[*i];
            found.iter().map(move |link| LinkMention {
                link,
                by: m.user.as_ref(),
                at: at(m),
                ts: Some(&m.ts),
            })
        })
        .collect();
    record::add_links(conn, &incident.team, incident.id, &mentions).await?;
    let people: Vec<(&UserId, DateTime<Utc>)> = added
        .iter()
        .filter_map(|&i| match (&posted[i].user, posted[i].from_bot) {
            (Some(user), false) => Some((user, at(posted[i]))),
            _ => None,
        })
        .collect();
    participants(conn, incident, &people, now).await?;
    let mut apps: Vec<&UserId> = added
        .iter()
        .filter_map(|&i| unnamed_apps[i].as_ref())
        .collect();
    let mut once = HashSet::new();
    apps.retain(|bot| once.insert(bot.as_str()));
    let known = record::known_users(conn, &incident.team, &apps).await?;
    for bot in apps.into_iter().filter(|b| !known.contains(b.as_str())) {
        let effect = Effect::LookUpBot {
            bot: bot.to_string(),
        };
        queue_again(conn, incident, &[effect], bot.as_str(), now).await?;
    }
    Ok(what)
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
    let edit = Edit {
        channel: &c.channel,
        ts: &c.ts,
        text: &c.text,
        blocks: c.blocks.as_ref(),
        attachments: c.attachments.as_ref(),
        at,
    };
    Ok(if edit_with_links(conn, incident, &edit).await? {
        "edit"
    } else {
        "edit without change"
    })
}

/// A recorded message's new text, as an edit event or a later copy of the message shows it.
struct Edit<'a> {
    channel: &'a ChannelId,
    ts: &'a str,
    text: &'a str,
    blocks: Option<&'a serde_json::Value>,
    attachments: Option<&'a serde_json::Value>,
    at: DateTime<Utc>,
}

/// Applies an edit and records the links it added; `false` if the text had not changed.
async fn edit_with_links(
    conn: &mut AnyConnection,
    incident: &Incident,
    e: &Edit<'_>,
) -> anyhow::Result<bool> {
    let before = previous_links(conn, &incident.team, e.channel, e.ts).await?;
    if !record::edit_message(conn, &incident.team, e.channel, e.ts, e.text, e.at).await? {
        return Ok(false);
    }
    let found = links::extract(e.text, e.blocks, e.attachments);
    let mentions: Vec<LinkMention> = found
        .iter()
        .filter(|link| !before.contains(&link.url))
        .map(|link| LinkMention {
            link,
            by: None,
            at: e.at,
            ts: Some(e.ts),
        })
        .collect();
    record::add_links(conn, &incident.team, incident.id, &mentions).await?;
    Ok(true)
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
    participants(conn, incident, &[(user, at)], now).await
}

/// Notes participants, each seen at a time, and asks Slack for the names of those hereby sees
/// for the first time.
pub async fn participants(
    conn: &mut AnyConnection,
    incident: &Incident,
    seen: &[(&UserId, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let new = record::add_participants(conn, &incident.team, incident.id, seen).await?;
    let new: Vec<&UserId> = new.iter().collect();
    let known = record::known_users(conn, &incident.team, &new).await?;
    for user in new.into_iter().filter(|u| !known.contains(u.as_str())) {
        let effect = Effect::LookUpUser {
            user: user.to_string(),
        };
        queue_again(conn, incident, &[effect], user.as_str(), now).await?;
    }
    Ok(())
}
