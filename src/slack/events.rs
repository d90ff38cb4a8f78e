//! Decoding Events API payloads into hereby's own types, at the edge.
//!
//! Decoding is lenient: Slack adds fields and subtypes over time, so only what hereby uses is
//! read, and anything unrecognised becomes [`Event::Other`] rather than an error. The raw
//! payload is kept in the database regardless.

use serde::Deserialize;
use serde_json::Value;

use crate::domain::{ChannelId, TeamId, UserId};

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
}

/// Who the event was delivered for; for a bot install this is the bot user.
#[derive(Debug, Deserialize)]
pub struct Authorization {
    pub user_id: Option<String>,
    #[serde(default)]
    pub is_bot: bool,
}

impl Envelope {
    /// The event's `type`, or `unknown`.
    pub fn event_type(&self) -> &str {
        self.event
            .as_ref()
            .and_then(|e| e.get("type"))
            .and_then(Value::as_str)
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
}

/// What hereby understood from one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    MessagePosted(PostedMessage),
    /// Anything hereby does not act on; the string is the event type (and subtype).
    Other(String),
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

/// Decodes a stored Events API payload.
pub fn decode(payload: &str) -> Result<Event, DecodeError> {
    let envelope: Envelope = serde_json::from_str(payload)?;
    let event = envelope.event.as_ref().ok_or(DecodeError::NoEvent)?;
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let kind = str_of(event, "type").unwrap_or_default();
    let subtype = str_of(event, "subtype");
    let team = str_of(event, "team")
        .or_else(|| envelope.team_id.clone())
        .unwrap_or_default();

    if kind == "message"
        && subtype
            .as_deref()
            .is_none_or(|s| SPOKEN_SUBTYPES.contains(&s))
    {
        let (Some(channel), Some(ts)) = (str_of(event, "channel"), str_of(event, "ts")) else {
            return Ok(Event::Other("message without channel or ts".into()));
        };
        let bot_user = envelope
            .authorizations
            .iter()
            .find(|a| a.is_bot)
            .and_then(|a| a.user_id.clone());
        let user = str_of(event, "user");
        let from_bot = event.get("bot_id").is_some_and(|b| !b.is_null())
            || subtype.as_deref() == Some("bot_message")
            || (user.is_some() && user == bot_user);
        return Ok(Event::MessagePosted(PostedMessage {
            team: TeamId::new(envelope.team_id.clone().unwrap_or(team)),
            channel: ChannelId::new(channel),
            user: user.map(UserId::new),
            text: str_of(event, "text").unwrap_or_default(),
            ts,
            thread_ts: str_of(event, "thread_ts"),
            from_bot,
        }));
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
    fn joins_and_edits_are_not_posted_messages() {
        let join = HUMAN.replace(
            r#""type":"message","#,
            r#""type":"message","subtype":"channel_join","#,
        );
        assert_eq!(
            decode(&join).unwrap(),
            Event::Other("message/channel_join".into())
        );
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
