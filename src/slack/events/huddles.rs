//! What Slack's message about a huddle (its call in a channel, subtype `huddle_thread`) says:
//! its room, who started it and when, who has joined, and whether and when it ended. Slack
//! posts that message as the huddle starts and changes it as the huddle goes on.

use serde_json::Value;

use crate::domain::UserId;

/// A huddle (Slack's call in a channel), as its `huddle_thread` message tells of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Huddle {
    /// Slack's room ID (`R…`).
    pub room: String,
    pub started_by: Option<UserId>,
    pub started: chrono::DateTime<chrono::Utc>,
    /// When it ended; `None` while it is still going.
    pub ended: Option<chrono::DateTime<chrono::Utc>>,
    /// Everyone who has joined it so far.
    pub participants: Vec<UserId>,
}

/// The huddle a `huddle_thread` message tells of, running or ended (`room.has_ended`): from
/// the message Slack posts when it starts, an event that changes that message, or the
/// channel's history.
pub fn huddle(message: &Value) -> Option<Huddle> {
    let room = message.get("room")?;
    let at = |k: &str| {
        room.get(k)
            .and_then(Value::as_i64)
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
    };
    let started = at("date_start")?;
    let ended = if room.get("has_ended").and_then(Value::as_bool) == Some(true) {
        Some(at("date_end")?.max(started))
    } else {
        None
    };
    let participants = room
        .get("participant_history")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(Value::as_str)
                .map(UserId::new)
                .collect()
        })
        .unwrap_or_default();
    Some(Huddle {
        room: room.get("id").and_then(Value::as_str)?.to_string(),
        started_by: room
            .get("created_by")
            .and_then(Value::as_str)
            .map(UserId::new),
        started,
        ended,
        participants,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{decode, Event};
    use crate::domain::{ChannelId, UserId};

    #[test]
    fn a_huddle_is_decoded_with_when_and_who_while_it_runs_and_once_it_has_ended() {
        let changed = |has_ended: bool| {
            serde_json::json!({"type": "event_callback", "team_id": "T111", "event_id": "Ev3",
                "authorizations": [{"team_id": "T111", "user_id": "UB111", "is_bot": true}],
                "event": {"type": "message", "subtype": "message_changed", "hidden": true,
                    "channel": "C1", "channel_type": "channel", "ts": "1759867394.232700",
                    "message": {"type": "message", "subtype": "huddle_thread", "user": "USLACKBOT",
                        "text": "", "ts": "1759867369.537409",
                        "room": {"id": "R1", "created_by": "W222", "date_start": 1759867369,
                            "date_end": if has_ended { 1759867394 } else { 0 },
                            "has_ended": has_ended, "participants": [],
                            "participant_history": ["W222", "W333"]}}}})
            .to_string()
        };
        let Event::Huddle { huddle, .. } = decode(&changed(false)).unwrap() else {
            panic!("expected a huddle")
        };
        assert_eq!((huddle.room.as_str(), huddle.ended), ("R1", None));
        let Event::Huddle {
            huddle, channel, ..
        } = decode(&changed(true)).unwrap()
        else {
            panic!("expected a huddle")
        };
        assert_eq!(channel, ChannelId::new("C1"));
        assert_eq!(huddle.room, "R1");
        assert_eq!(huddle.started_by, Some(UserId::new("W222")));
        let ended = huddle.ended.expect("ended");
        assert_eq!((ended - huddle.started).num_seconds(), 25);
        assert_eq!(
            huddle.participants,
            [UserId::new("W222"), UserId::new("W333")]
        );
    }

    #[test]
    fn the_message_slack_posts_as_a_huddle_starts_is_a_running_huddle() {
        let posted = serde_json::json!({"type": "event_callback", "team_id": "T111",
            "event_id": "Ev4",
            "authorizations": [{"team_id": "T111", "user_id": "UB111", "is_bot": true}],
            "event": {"type": "message", "subtype": "huddle_thread", "user": "USLACKBOT",
                "text": "", "ts": "1759867369.537409", "channel": "C1", "channel_type": "channel",
                "room": {"id": "R1", "created_by": "W222", "date_start": 1759867369,
                    "date_end": 0, "has_ended": false, "participants": ["W222"],
                    "participant_history": ["W222"]}}})
        .to_string();
        let Event::Huddle { huddle, .. } = decode(&posted).unwrap() else {
            panic!("expected a huddle")
        };
        assert_eq!(huddle.ended, None);
        assert_eq!(huddle.started_by, Some(UserId::new("W222")));
        assert_eq!(huddle.participants, [UserId::new("W222")]);
    }

    #[test]
    fn a_huddle_whose_message_slack_takes_away_ended_then() {
        let deleted = serde_json::json!({"type": "event_callback", "team_id": "T111",
            "event_id": "Ev5",
            "authorizations": [{"team_id": "T111", "user_id": "UB111", "is_bot": true}],
            "event": {"type": "message", "subtype": "message_deleted", "hidden": true,
                "channel": "C1", "channel_type": "channel", "ts": "1759867969.000100",
                "deleted_ts": "1759867369.537409",
                "previous_message": {"type": "message", "subtype": "huddle_thread",
                    "user": "USLACKBOT", "text": "", "ts": "1759867369.537409",
                    "room": {"id": "R1", "created_by": "W222", "date_start": 1759867369,
                        "date_end": 0, "has_ended": false, "participants": [],
                        "participant_history": ["W222", "W333"]}}}})
        .to_string();
        let Event::Huddle { huddle, .. } = decode(&deleted).unwrap() else {
            panic!("expected a huddle")
        };
        let ended = huddle.ended.expect("ended when its message went");
        assert_eq!((ended - huddle.started).num_seconds(), 600);
        assert_eq!(huddle.participants.len(), 2);
    }
}
