//! Decoding Events API payloads into hereby's own types, at the edge.
//!
//! Decoding is lenient: Slack adds fields and subtypes over time, so only what hereby uses is
//! read, and anything unrecognised becomes [`Event::Other`] rather than an error. The raw
//! payload is kept in the database regardless.

use serde::Deserialize;
use serde_json::Value;

use crate::domain::{ChannelId, TeamId, UserId};

mod huddles;
pub use huddles::{huddle, Huddle};

/// The outer JSON of every Events API request.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(rename = "type")]
    pub kind: String,
    /// Set on `url_verification`.
    pub challenge: Option<String>,
    pub team_id: Option<String>,
    pub event_id: Option<String>,
    pub event: Option<Value>,
    #[serde(default)]
    pub authorizations: Vec<Authorization>,
    /// Set on `app_rate_limited`: the minute (seconds since the epoch) from which Slack held
    /// back this workspace's deliveries.
    pub minute_rate_limited: Option<i64>,
}

/// Who the event was delivered for; for a bot install this is the bot user.
#[derive(Debug, Deserialize)]
pub struct Authorization {
    /// The workspace that installed the app: in a Slack Connect channel the envelope's
    /// `team_id` may be the other organisation's, this one is ours.
    pub team_id: Option<String>,
    pub user_id: Option<String>,
    #[serde(default)]
    pub is_bot: bool,
}

impl Envelope {
    /// The workspace that installed hereby (`authorizations[0].team_id`, as Bolt reads it),
    /// else the envelope's `team_id`.
    pub fn installing_team(&self) -> Option<&str> {
        self.authorizations
            .first()
            .and_then(|a| a.team_id.as_deref())
            .or(self.team_id.as_deref())
    }

    /// The event's `type`, or `unknown` (also for anything that is not a plain name).
    pub fn event_type(&self) -> &str {
        self.event
            .as_ref()
            .and_then(|e| e.get("type"))
            .and_then(Value::as_str)
            .filter(|t| {
                t.len() <= 64
                    && t.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            })
            .unwrap_or("unknown")
    }
}

/// A message someone posted (not an edit or deletion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedMessage {
    pub team: TeamId,
    pub channel: ChannelId,
    /// The author; `None` for messages without a user (some integrations).
    pub user: Option<UserId>,
    pub text: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    /// Posted by an app or integration (hereby itself included), not a person.
    pub from_bot: bool,
    /// Posted by hereby itself.
    pub from_self: bool,
    pub subtype: Option<String>,
    /// The app's or integration's name, for messages from apps.
    pub author_name: Option<String>,
    /// The posting app's bot ID: for many integrations all that names them.
    pub bot_id: Option<String>,
    pub blocks: Option<Value>,
    pub attachments: Option<Value>,
    /// Shared files' metadata: name, type, title, permalink.
    pub files: Option<Value>,
    /// Said in a private channel, a group DM or a DM (the event's `channel_type`): a matter
    /// declared there stays private.
    pub private_conversation: bool,
    /// When it was last edited (messages read back from history).
    pub edited_ts: Option<String>,
}

/// A message was edited (or, as a `tombstone`, a thread parent deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedMessage {
    pub team: TeamId,
    pub channel: ChannelId,
    /// The edited message's own `ts`.
    pub ts: String,
    pub text: String,
    pub blocks: Option<Value>,
    pub attachments: Option<Value>,
    /// When the edit happened (the event's `ts`).
    pub event_ts: String,
    /// A thread parent was deleted: Slack leaves a tombstone in its place.
    pub tombstone: bool,
    pub from_self: bool,
    /// The message's author, and whether an app (hereby included) posted it.
    pub user: Option<UserId>,
    pub from_bot: bool,
    pub thread_ts: Option<String>,
    /// Edited in a private channel, a group DM or a DM.
    pub private_conversation: bool,
    /// The text before the edit, when Slack sends it (`previous_message`).
    pub previous_text: Option<String>,
}

/// What hereby understood from one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    MessagePosted(PostedMessage),
    MessageChanged(ChangedMessage),
    MessageDeleted {
        team: TeamId,
        channel: ChannelId,
        ts: String,
        event_ts: String,
    },
    /// A reaction added to (or removed from) a message.
    Reaction {
        team: TeamId,
        channel: ChannelId,
        ts: String,
        reaction: String,
        user: UserId,
        added: bool,
    },
    /// A message pinned (or unpinned).
    Pin {
        team: TeamId,
        channel: ChannelId,
        ts: String,
        added: bool,
    },
    /// Someone joined a channel.
    MemberJoined {
        team: TeamId,
        channel: ChannelId,
        user: UserId,
        event_ts: String,
    },
    /// Someone other than hereby renamed a channel (Slack's `channel_name` message).
    ChannelNamed {
        team: TeamId,
        channel: ChannelId,
        name: String,
        user: UserId,
        event_ts: String,
    },
    /// hereby was removed from a channel (Slack's `channel_left`, `group_left`), by `by`.
    Removed {
        team: TeamId,
        channel: ChannelId,
        by: Option<UserId>,
        event_ts: String,
    },
    /// hereby joined a channel: invited into it, or back after being removed.
    Rejoined {
        team: TeamId,
        channel: ChannelId,
        event_ts: String,
    },
    /// A huddle in a channel: started (Slack posts its message), changed as people join and
    /// leave, or ended.
    Huddle {
        team: TeamId,
        channel: ChannelId,
        huddle: Huddle,
    },
    /// Anything hereby does not act on; the string is the event type (and subtype).
    Other(String),
}

/// Whether `message` (the one an event changes or deletes) is Slack's message about a huddle.
fn is_huddle_message(message: Option<&Value>) -> bool {
    message.is_some_and(|m| m.get("subtype").and_then(Value::as_str) == Some("huddle_thread"))
}

fn huddle_event(team: TeamId, channel: ChannelId, huddle: Option<Huddle>) -> Event {
    match huddle {
        Some(huddle) => Event::Huddle {
            team,
            channel,
            huddle,
        },
        None => Event::Other("a huddle message without its room".into()),
    }
}

/// Why a stored delivery could not be decoded at all.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the payload is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("the delivery has no event")]
    NoEvent,
}

/// Message subtypes that are a person or app saying something (others are joins, topics, …).
const SPOKEN_SUBTYPES: [&str; 4] = [
    "thread_broadcast",
    "file_share",
    "me_message",
    "bot_message",
];

/// Text as hereby keeps it: NUL characters, which no database column can hold everywhere
/// (PostgreSQL refuses them), are dropped.
pub fn without_nul(text: &str) -> String {
    text.replace('\0', "")
}

/// Whether a message of this subtype is someone saying something.
pub fn is_spoken(subtype: Option<&str>) -> bool {
    subtype.is_none_or(|s| SPOKEN_SUBTYPES.contains(&s))
}

/// The metadata hereby keeps of shared files: never the bytes, nor private download URLs.
fn file_metadata(files: Option<&Value>) -> Option<Value> {
    let files = files?.as_array()?;
    let kept: Vec<Value> = files
        .iter()
        .map(|f| {
            serde_json::json!({
                "id": f.get("id"), "name": f.get("name"), "title": f.get("title"),
                "filetype": f.get("filetype"), "mimetype": f.get("mimetype"), "permalink": f.get("permalink"),
            })
        })
        .collect();
    (!kept.is_empty()).then_some(Value::Array(kept))
}

/// Whether an event happened in a private channel, a group DM or a DM (its `channel_type`).
fn is_private(event: &Value) -> bool {
    matches!(
        event.get("channel_type").and_then(Value::as_str),
        Some("group" | "mpim" | "im")
    )
}

/// Whether a message was posted by an app (hereby included), and whether by hereby itself.
fn posted_by_app(m: &Value, bot_user: Option<&str>) -> (bool, bool) {
    let user = m.get("user").and_then(Value::as_str);
    let from_self = user.is_some() && user == bot_user;
    let from_app = m.get("bot_id").is_some_and(|b| !b.is_null())
        || m.get("subtype").and_then(Value::as_str) == Some("bot_message")
        || from_self;
    (from_app, from_self)
}

/// A message as Slack shows it (in an event, or in `conversations.history`), as hereby reads
/// it; `bot_user` is hereby's own user ID.
pub fn posted_from(
    m: &Value,
    team: TeamId,
    channel: ChannelId,
    bot_user: Option<&str>,
) -> Option<PostedMessage> {
    let str_of = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    let subtype = str_of("subtype");
    let user = str_of("user");
    let (from_bot, from_self) = posted_by_app(m, bot_user);
    let author_name = m
        .get("bot_profile")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .or_else(|| m.get("username").and_then(Value::as_str))
        .map(str::to_string);
    Some(PostedMessage {
        team,
        channel,
        user: user.map(UserId::new),
        text: without_nul(&str_of("text").unwrap_or_default()),
        ts: str_of("ts")?,
        thread_ts: str_of("thread_ts"),
        from_bot,
        from_self,
        subtype,
        author_name,
        bot_id: str_of("bot_id"),
        blocks: m.get("blocks").cloned(),
        attachments: m.get("attachments").cloned(),
        files: file_metadata(m.get("files")),
        private_conversation: is_private(m),
        edited_ts: m
            .get("edited")
            .and_then(|e| e.get("ts"))
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// Decodes a stored Events API payload.
pub fn decode(payload: &str) -> Result<Event, DecodeError> {
    let envelope: Envelope = serde_json::from_str(payload)?;
    let event = envelope.event.as_ref().ok_or(DecodeError::NoEvent)?;
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let kind = str_of(event, "type").unwrap_or_default();
    let subtype = str_of(event, "subtype");
    // The workspace that installed hereby; in shared channels the envelope's `team_id` and
    // `event.team` may be another organisation's.
    let team = TeamId::new(
        envelope
            .installing_team()
            .map(str::to_string)
            .or_else(|| str_of(event, "team"))
            .unwrap_or_default(),
    );
    let bot_user = envelope
        .authorizations
        .iter()
        .find(|a| a.is_bot)
        .and_then(|a| a.user_id.clone());
    let channel = str_of(event, "channel").map(ChannelId::new);

    // A message that mentions @hereby arrives as `app_mention` too; both arrivals are keyed by
    // the message, so the second changes nothing.
    let spoken = is_spoken(subtype.as_deref());
    // Slack marks what it tells about a message as `hidden`; one such notice, that a thread got
    // a reply (`message_replied`), can arrive without its subtype. It is nobody speaking.
    if spoken && event.get("hidden").and_then(Value::as_bool) == Some(true) {
        return Ok(Event::Other(format!("{kind}/hidden")));
    }
    if (kind == "message" || kind == "app_mention") && spoken {
        let Some(channel) = channel else {
            return Ok(Event::Other("message without channel".into()));
        };
        return Ok(
            match posted_from(event, team, channel, bot_user.as_deref()) {
                Some(m) => Event::MessagePosted(m),
                None => Event::Other("message without ts".into()),
            },
        );
    }
    match (kind.as_str(), subtype.as_deref(), channel) {
        ("message", Some("message_changed"), Some(channel))
            if is_huddle_message(event.get("message")) =>
        {
            // Slack's message about a huddle changes as it goes; once it has ended, it says
            // when it ran and who joined.
            let message = event.get("message").unwrap_or(&Value::Null);
            return Ok(huddle_event(team, channel, huddle(message)));
        }
        ("message", Some("huddle_thread"), Some(channel)) => {
            // Posted by Slack as the huddle starts.
            return Ok(huddle_event(team, channel, huddle(event)));
        }
        ("message", Some("message_changed"), Some(channel)) => {
            let message = event.get("message").unwrap_or(&Value::Null);
            let Some(ts) = str_of(message, "ts") else {
                return Ok(Event::Other("message_changed without ts".into()));
            };
            let user = str_of(message, "user");
            let (from_bot, from_self) = posted_by_app(message, bot_user.as_deref());
            return Ok(Event::MessageChanged(ChangedMessage {
                team,
                channel,
                ts,
                text: without_nul(&str_of(message, "text").unwrap_or_default()),
                blocks: message.get("blocks").cloned(),
                attachments: message.get("attachments").cloned(),
                event_ts: str_of(event, "ts")
                    .or_else(|| str_of(event, "event_ts"))
                    .unwrap_or_default(),
                tombstone: str_of(message, "subtype").as_deref() == Some("tombstone"),
                from_self,
                from_bot,
                user: user.map(UserId::new),
                thread_ts: str_of(message, "thread_ts"),
                private_conversation: is_private(event),
                previous_text: event
                    .get("previous_message")
                    .and_then(|p| str_of(p, "text")),
            }));
        }
        ("message", Some("message_deleted"), Some(channel))
            if is_huddle_message(event.get("previous_message")) =>
        {
            // Slack takes a huddle's message away once everyone has left (unless someone replied
            // in its thread or it had a topic): that is its end, if the message does not say.
            let previous = event.get("previous_message").unwrap_or(&Value::Null);
            let deleted = str_of(event, "ts").and_then(|ts| crate::domain::slack_ts::to_time(&ts));
            let ended_then = |mut h: Huddle| {
                h.ended = h.ended.or(deleted.map(|at| at.max(h.started)));
                h
            };
            return Ok(huddle_event(
                team,
                channel,
                huddle(previous).map(ended_then),
            ));
        }
        ("message", Some("message_deleted"), Some(channel)) => {
            if let Some(ts) = str_of(event, "deleted_ts") {
                let event_ts = str_of(event, "ts").unwrap_or_else(|| ts.clone());
                return Ok(Event::MessageDeleted {
                    team,
                    channel,
                    ts,
                    event_ts,
                });
            }
        }
        // hereby joining a channel is not someone taking part in the incident.
        ("message", Some("channel_join"), Some(channel))
        | ("member_joined_channel", _, Some(channel))
            if str_of(event, "user").is_some() && str_of(event, "user") == bot_user =>
        {
            return Ok(Event::Rejoined {
                team,
                channel,
                event_ts: str_of(event, "event_ts")
                    .or_else(|| str_of(event, "ts"))
                    .unwrap_or_default(),
            });
        }
        // Sent only to the one who left: hereby.
        ("channel_left" | "group_left", _, Some(channel)) => {
            return Ok(Event::Removed {
                team,
                channel,
                by: str_of(event, "actor_id").map(UserId::new),
                event_ts: str_of(event, "event_ts").unwrap_or_default(),
            });
        }
        ("message", Some("channel_join"), Some(channel)) => {
            if let (Some(user), Some(ts)) = (str_of(event, "user"), str_of(event, "ts")) {
                return Ok(Event::MemberJoined {
                    team,
                    channel,
                    user: UserId::new(user),
                    event_ts: ts,
                });
            }
        }
        ("message", Some("channel_name"), Some(channel)) => {
            // hereby's own renames are recorded as it makes them.
            if let (Some(name), Some(user)) = (str_of(event, "name"), str_of(event, "user")) {
                if Some(user.as_str()) != bot_user.as_deref() {
                    return Ok(Event::ChannelNamed {
                        team,
                        channel,
                        name,
                        user: UserId::new(user),
                        event_ts: str_of(event, "ts").unwrap_or_default(),
                    });
                }
            }
        }
        ("member_joined_channel", _, Some(channel)) => {
            if let Some(user) = str_of(event, "user") {
                let event_ts = str_of(event, "event_ts").unwrap_or_default();
                return Ok(Event::MemberJoined {
                    team,
                    channel,
                    user: UserId::new(user),
                    event_ts,
                });
            }
        }
        ("reaction_added" | "reaction_removed", _, _) => {
            let item = event.get("item").unwrap_or(&Value::Null);
            if let (Some(channel), Some(ts), Some(reaction), Some(user)) = (
                str_of(item, "channel"),
                str_of(item, "ts"),
                str_of(event, "reaction"),
                str_of(event, "user"),
            ) {
                return Ok(Event::Reaction {
                    team,
                    channel: ChannelId::new(channel),
                    ts,
                    reaction,
                    user: UserId::new(user),
                    added: kind == "reaction_added",
                });
            }
        }
        ("pin_added" | "pin_removed", _, _) => {
            let item = event.get("item").unwrap_or(&Value::Null);
            let channel = str_of(event, "channel_id").or_else(|| str_of(item, "channel"));
            let ts = item.get("message").and_then(|m| str_of(m, "ts"));
            if let (Some(channel), Some(ts)) = (channel, ts) {
                return Ok(Event::Pin {
                    team,
                    channel: ChannelId::new(channel),
                    ts,
                    added: kind == "pin_added",
                });
            }
        }
        _ => {}
    }
    Ok(Event::Other(match subtype {
        Some(s) => format!("{kind}/{s}"),
        None => kind,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUMAN: &str = r#"{"type":"event_callback","team_id":"T111","event_id":"Ev1","event":{"type":"message","channel":"C1","user":"W222","text":"hi","ts":"1610261539.000900","channel_type":"channel"},"authorizations":[{"user_id":"UB111","is_bot":true}]}"#;

    #[test]
    fn a_human_message_is_decoded() {
        let Event::MessagePosted(m) = decode(HUMAN).unwrap() else {
            panic!("expected a message")
        };
        assert_eq!(m.user, Some(UserId::new("W222")));
        assert_eq!(m.team, TeamId::new("T111"));
        assert!(!m.from_bot);
    }

    #[test]
    fn messages_from_apps_and_from_hereby_itself_are_marked_as_bot() {
        let app = HUMAN.replace(r#""user":"W222""#, r#""user":"UB9","bot_id":"B999""#);
        let own = HUMAN.replace(r#""user":"W222""#, r#""user":"UB111""#);
        for payload in [app, own] {
            let Event::MessagePosted(m) = decode(&payload).unwrap() else {
                panic!("expected a message")
            };
            assert!(m.from_bot, "{payload}");
        }
    }

    #[test]
    fn a_thread_reply_notice_without_its_subtype_is_not_a_message() {
        // As Slack documents `message_replied` arriving over the Events API.
        let notice = r#"{"type":"event_callback","team_id":"T111","event_id":"Ev2","event":{"type":"message","hidden":true,"message":{"user":"W222","thread_ts":"1.1","reply_count":1,"ts":"1.1"},"channel":"C1","event_ts":"2.2","ts":"2.2"},"authorizations":[{"user_id":"UB111","is_bot":true}]}"#;
        assert!(matches!(decode(notice).unwrap(), Event::Other(_)));
    }

    #[test]
    fn a_channel_renamed_by_someone_is_decoded_and_one_renamed_by_hereby_is_not() {
        let renamed = HUMAN.replace(
            r#""type":"message","#,
            r#""type":"message","subtype":"channel_name","old_name":"incident-2026-11-21-db","name":"db-outage","#,
        );
        let Event::ChannelNamed { name, user, .. } = decode(&renamed).unwrap() else {
            panic!("expected a rename")
        };
        assert_eq!((name.as_str(), user), ("db-outage", UserId::new("W222")));
        let own = renamed.replace(r#""user":"W222""#, r#""user":"UB111""#);
        assert!(matches!(decode(&own).unwrap(), Event::Other(_)));
    }

    #[test]
    fn joins_are_members_joining_not_posted_messages() {
        let join = HUMAN.replace(
            r#""type":"message","#,
            r#""type":"message","subtype":"channel_join","#,
        );
        assert!(matches!(decode(&join).unwrap(), Event::MemberJoined { .. }));
    }

    #[test]
    fn herebys_own_join_is_not_someone_taking_part_but_hereby_back_in_the_channel() {
        let own_join = HUMAN
            .replace(
                r#""type":"message","#,
                r#""type":"message","subtype":"channel_join","#,
            )
            .replace(r#""user":"W222""#, r#""user":"UB111""#);
        assert_eq!(
            decode(&own_join).unwrap(),
            Event::Rejoined {
                team: TeamId::new("T111"),
                channel: ChannelId::new("C1"),
                event_ts: "1610261539.000900".into(),
            }
        );
    }

    #[test]
    fn hereby_removed_from_a_channel_is_decoded_with_who_removed_it() {
        // Slack's shape (channel_left as delivered to a bot, with the remover as `actor_id`).
        let left = r#"{"token":"aaaa","team_id":"T111","api_app_id":"A1","event":{"type":"channel_left","channel":"C1","actor_id":"W222","event_ts":"1664827321.000300"},"type":"event_callback","event_id":"Ev2","event_time":1664827321,"authorizations":[{"enterprise_id":null,"team_id":"T111","user_id":"UB111","is_bot":true,"is_enterprise_install":false}],"is_ext_shared_channel":false}"#;
        assert_eq!(
            decode(left).unwrap(),
            Event::Removed {
                team: TeamId::new("T111"),
                channel: ChannelId::new("C1"),
                by: Some(UserId::new("W222")),
                event_ts: "1664827321.000300".into(),
            }
        );
        let private = left.replace("channel_left", "group_left");
        assert!(matches!(decode(&private).unwrap(), Event::Removed { .. }));
    }

    #[test]
    fn a_slack_connect_event_belongs_to_the_installing_workspace() {
        let shared = HUMAN
            .replace(r#""team_id":"T111""#, r#""team_id":"TOTHERORG""#)
            .replace(
                r#""user_id":"UB111""#,
                r#""team_id":"T111","user_id":"UB111""#,
            );
        let Event::MessagePosted(m) = decode(&shared).unwrap() else {
            panic!("expected a message")
        };
        assert_eq!(m.team.as_str(), "T111");
        let topic = HUMAN.replace(
            r#""type":"message","#,
            r#""type":"message","subtype":"channel_topic","#,
        );
        assert_eq!(
            decode(&topic).unwrap(),
            Event::Other("message/channel_topic".into())
        );
    }

    #[test]
    fn a_thread_parent_tombstone_is_a_change_marked_tombstone() {
        let payload = r#"{"type":"event_callback","team_id":"T111","event_id":"Ev9","event":{"type":"message","subtype":"message_changed","hidden":true,"message":{"type":"message","subtype":"tombstone","text":"This message was deleted.","user":"USLACKBOT","hidden":true,"thread_ts":"1626774922.004400","ts":"1626774922.004400"},"channel":"C111","event_ts":"1626774940.004700","ts":"1626774940.004700","channel_type":"channel"}}"#;
        let Event::MessageChanged(c) = decode(payload).unwrap() else {
            panic!("expected a change")
        };
        assert!(c.tombstone);
        assert_eq!(c.ts, "1626774922.004400");
    }

    #[test]
    fn reactions_and_pins_name_the_message() {
        let reaction = r#"{"type":"event_callback","team_id":"T111","event_id":"Ev1","event":{"type":"reaction_added","user":"W2","item":{"type":"message","channel":"C111","ts":"1599529504.000400"},"reaction":"pushpin","item_user":"W1","event_ts":"1599616881.000800"}}"#;
        assert!(
            matches!(decode(reaction).unwrap(), Event::Reaction { added: true, ref ts, .. } if ts == "1599529504.000400")
        );
        let pin = r#"{"type":"event_callback","team_id":"T111","event_id":"Ev2","event":{"type":"pin_added","user":"W2","channel_id":"C111","item":{"type":"message","channel":"C111","message":{"ts":"1.2"}},"event_ts":"1.3"}}"#;
        assert!(matches!(
            decode(pin).unwrap(),
            Event::Pin { added: true, .. }
        ));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode("{").is_err());
        assert!(matches!(
            decode(r#"{"type":"event_callback"}"#),
            Err(DecodeError::NoEvent)
        ));
    }
}
