//! The incident's timeline as a type: every kind of moment hereby records, with typed fields,
//! and how an entry is stored as a `kind` and a JSON `detail` (the shape rows have always had).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::actions::ActionStatus;
use super::fixes::Outcome;
use super::incident::{Severity, Status, Title};
use super::review::ReviewStatus;
use super::roles::Role;
use super::{ChannelId, UserId};

/// One moment of an incident. Who did it and when are stored beside it.
///
/// Stored as the variant's name in snake case (the `kind` column) and its fields as a JSON
/// object (the `detail` column); [`TimelineEntry::stored`] and [`TimelineEntry::from_stored`]
/// convert. Every reader matches on it exhaustively, so a new kind has to be rendered
/// everywhere before it can be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimelineEntry {
    /// Someone declared the incident (the first entry).
    Declared {
        #[serde(with = "text::opt", default)]
        title: Option<Title>,
        /// Where it was declared.
        #[serde(with = "text")]
        origin_channel: ChannelId,
    },
    /// The description given in the declare form.
    Described { text: String },
    /// hereby opened the incident channel.
    ChannelCreated {
        #[serde(with = "text")]
        channel: ChannelId,
        name: String,
    },
    /// The incident channel got a new name: from hereby after the title (no actor), or from
    /// someone in Slack.
    ChannelRenamed {
        #[serde(with = "text")]
        channel: ChannelId,
        name: String,
    },
    /// Someone was given (or took) a role.
    RoleAssigned {
        #[serde(with = "text")]
        role: Role,
        #[serde(with = "text")]
        user: UserId,
        #[serde(with = "text::opt", default)]
        previous: Option<UserId>,
    },
    /// A role was left unfilled.
    RoleUnassigned {
        #[serde(with = "text")]
        role: Role,
        #[serde(with = "text")]
        previous: UserId,
    },
    SeverityChanged {
        #[serde(with = "text::opt", default)]
        from: Option<Severity>,
        #[serde(with = "text")]
        to: Severity,
    },
    /// The status changed between open statuses.
    StatusChanged {
        #[serde(with = "text")]
        from: Status,
        #[serde(with = "text")]
        to: Status,
    },
    /// The incident was resolved.
    Resolved {
        #[serde(with = "text")]
        from: Status,
    },
    /// A resolved incident was opened again.
    Reopened {
        #[serde(with = "text")]
        to: Status,
    },
    /// `/incident update`: a status update, also announced.
    #[serde(rename = "update")]
    UpdatePosted { text: String },
    /// The incident got a new title.
    Renamed {
        #[serde(with = "text::opt", default)]
        from: Option<Title>,
        #[serde(with = "text")]
        to: Title,
    },
    /// A fix attempt, by command or by a reaction on a message (`message_ts`).
    FixTried {
        number: i64,
        what: String,
        #[serde(with = "text")]
        outcome: Outcome,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_ts: Option<String>,
    },
    /// A fix attempt's outcome set or changed.
    FixOutcome {
        number: i64,
        what: String,
        #[serde(with = "text")]
        outcome: Outcome,
    },
    /// `/incident note`: something said outside the chat.
    Note { text: String },
    /// A huddle (Slack's call) held in the incident channel; its start is the entry's time and
    /// whoever started it its actor.
    Huddle {
        /// Slack's room ID.
        room: String,
        #[serde(with = "chrono::serde::ts_seconds")]
        ended: chrono::DateTime<chrono::Utc>,
        /// Everyone who joined it, by user ID, in Slack's order.
        participants: Vec<String>,
    },
    /// A huddle started in the incident channel (who started it is the actor). The draft tells
    /// it by this entry only while no [`TimelineEntry::Huddle`] says it ended.
    HuddleStarted {
        /// Slack's room ID.
        room: String,
    },
    /// `/incident docs`: documentation that got in the way.
    Docs { text: String },
    ActionAdded {
        number: i64,
        text: String,
        #[serde(with = "text::opt", default)]
        owner: Option<UserId>,
        #[serde(default)]
        due: Option<NaiveDate>,
    },
    /// An action item done or dropped; `text` is absent from rows written before it was kept.
    ActionClosed {
        number: i64,
        #[serde(with = "text")]
        status: ActionStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// An open action item given to someone else (`owner`) or moved to another date (`due`).
    ActionChanged {
        number: i64,
        #[serde(with = "text::opt", default, skip_serializing_if = "Option::is_none")]
        owner: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// The post-mortem's own status changed.
    PostmortemStatus {
        #[serde(with = "text")]
        to: ReviewStatus,
    },
    /// Someone was named the post-mortem's owner.
    PostmortemOwner {
        #[serde(with = "text")]
        user: UserId,
    },
    /// A stored entry this version cannot read: a kind written by a newer version, or a detail
    /// that does not fit its kind. Kept as stored; readers show nothing for it.
    #[serde(skip)]
    Unknown { kind: String, detail: Value },
}

impl TimelineEntry {
    /// The stored `kind` and `detail`.
    pub fn stored(&self) -> (String, Value) {
        if let TimelineEntry::Unknown { kind, detail } = self {
            return (kind.clone(), detail.clone());
        }
        match serde_json::to_value(self) {
            Ok(Value::Object(mut fields)) => {
                let kind = match fields.remove("kind") {
                    Some(Value::String(kind)) => kind,
                    _ => String::new(),
                };
                (kind, Value::Object(fields))
            }
            // Every known variant is an object with a kind: the text conversions cannot fail.
            _ => (String::new(), Value::Object(Map::new())),
        }
    }

    /// An entry from its stored `kind` and `detail`; [`TimelineEntry::Unknown`] when they do
    /// not make a known entry.
    pub fn from_stored(kind: &str, detail: Value) -> TimelineEntry {
        let unknown = |detail: Value| TimelineEntry::Unknown {
            kind: kind.to_string(),
            detail,
        };
        let Value::Object(mut fields) = detail else {
            return unknown(detail);
        };
        if fields.contains_key("kind") {
            return unknown(Value::Object(fields));
        }
        fields.insert("kind".into(), Value::String(kind.to_string()));
        match serde_json::from_value::<TimelineEntry>(Value::Object(fields.clone())) {
            Ok(entry) => entry,
            Err(_) => {
                fields.remove("kind");
                unknown(Value::Object(fields))
            }
        }
    }
}

/// Values written as the same text hereby stores them as elsewhere (`sev1`, `commander`, …).
mod text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::domain::actions::ActionStatus;
    use crate::domain::fixes::Outcome;
    use crate::domain::incident::{Severity, Status, Title};
    use crate::domain::review::ReviewStatus;
    use crate::domain::roles::Role;
    use crate::domain::{ChannelId, UserId};

    pub trait Text: Sized {
        fn text(&self) -> &str;
        fn from_text(raw: String) -> Option<Self>;
    }

    impl Text for UserId {
        fn text(&self) -> &str {
            self.as_str()
        }
        fn from_text(raw: String) -> Option<Self> {
            Some(UserId::new(raw))
        }
    }

    impl Text for ChannelId {
        fn text(&self) -> &str {
            self.as_str()
        }
        fn from_text(raw: String) -> Option<Self> {
            Some(ChannelId::new(raw))
        }
    }

    impl Text for Role {
        fn text(&self) -> &str {
            self.key()
        }
        fn from_text(raw: String) -> Option<Self> {
            // Stored keys are exact: a custom role named like a built-in alias stays custom.
            Some(
                Role::BUILT_IN
                    .into_iter()
                    .find(|r| r.key() == raw)
                    .unwrap_or(Role::Custom(raw)),
            )
        }
    }

    impl Text for Status {
        fn text(&self) -> &str {
            self.as_str()
        }
        fn from_text(raw: String) -> Option<Self> {
            Status::parse(&raw)
        }
    }

    impl Text for Severity {
        fn text(&self) -> &str {
            self.as_str()
        }
        fn from_text(raw: String) -> Option<Self> {
            Severity::parse(&raw)
        }
    }

    impl Text for Title {
        fn text(&self) -> &str {
            self.as_str()
        }
        fn from_text(raw: String) -> Option<Self> {
            Title::parse(&raw).ok()
        }
    }

    impl Text for Outcome {
        fn text(&self) -> &str {
            self.as_str()
        }
        fn from_text(raw: String) -> Option<Self> {
            Outcome::parse(&raw)
        }
    }

    impl Text for ActionStatus {
        fn text(&self) -> &str {
            self.key()
        }
        fn from_text(raw: String) -> Option<Self> {
            Some(ActionStatus::from_key(&raw))
        }
    }

    impl Text for ReviewStatus {
        fn text(&self) -> &str {
            self.as_str()
        }
        fn from_text(raw: String) -> Option<Self> {
            ReviewStatus::parse(&raw)
        }
    }

    fn read<'de, T: Text, D: Deserializer<'de>>(raw: String) -> Result<T, D::Error> {
        let shown = raw.clone();
        T::from_text(raw).ok_or_else(|| serde::de::Error::custom(format!("unknown value {shown}")))
    }

    pub fn serialize<T: Text, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.text())
    }

    pub fn deserialize<'de, T: Text, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        read::<T, D>(String::deserialize(d)?)
    }

    pub mod opt {
        use serde::{Deserialize, Deserializer, Serializer};

        use super::Text;

        pub fn serialize<T: Text, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_str(v.text()),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, T: Text, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<T>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(super::read::<T, D>)
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn u(id: &str) -> UserId {
        UserId::new(id)
    }

    /// Rows as hereby has written them, kind and detail, one of each kind.
    fn rows() -> Vec<(&'static str, Value)> {
        vec![
            (
                "declared",
                json!({"title": "db down", "origin_channel": "CGEN"}),
            ),
            ("described", json!({"text": "checkout fails"})),
            (
                "channel_created",
                json!({"channel": "CINC", "name": "incident-1"}),
            ),
            (
                "channel_renamed",
                json!({"channel": "CINC", "name": "incident-1-db"}),
            ),
            (
                "role_assigned",
                json!({"role": "ops", "user": "UBOB", "previous": null}),
            ),
            (
                "role_unassigned",
                json!({"role": "scribe", "previous": "UCAROL"}),
            ),
            ("severity_changed", json!({"from": null, "to": "sev1"})),
            (
                "status_changed",
                json!({"from": "investigating", "to": "identified"}),
            ),
            ("resolved", json!({"from": "monitoring", "to": "resolved"})),
            (
                "reopened",
                json!({"from": "resolved", "to": "investigating"}),
            ),
            ("update", json!({"text": "still down"})),
            ("renamed", json!({"from": null, "to": "db is down"})),
            (
                "fix_tried",
                json!({"number": 1, "what": "restart", "outcome": "unknown", "message_ts": "1.2"}),
            ),
            (
                "fix_outcome",
                json!({"number": 1, "what": "restart", "outcome": "worked"}),
            ),
            ("note", json!({"text": "call with the vendor"})),
            ("docs", json!({"text": "runbook is stale"})),
            (
                "action_added",
                json!({"number": 2, "text": "alert on pool", "owner": "UBOB", "due": "2026-12-01"}),
            ),
            ("action_closed", json!({"number": 2, "status": "wontfix"})),
            (
                "action_changed",
                json!({"number": 2, "owner": "UDAN", "text": "alert on pool"}),
            ),
            ("action_changed", json!({"number": 2, "due": "2026-12-10"})),
            ("postmortem_status", json!({"to": "in-review"})),
            ("postmortem_owner", json!({"user": "UCAROL"})),
            (
                "huddle",
                json!({"room": "R1", "ended": 1_790_000_600, "participants": ["UBOB", "UCAROL"]}),
            ),
            ("huddle_started", json!({"room": "R1"})),
        ]
    }

    #[test]
    fn every_kind_hereby_has_written_reads_back_as_a_known_entry() {
        for (kind, detail) in rows() {
            let entry = TimelineEntry::from_stored(kind, detail.clone());
            assert!(
                !matches!(entry, TimelineEntry::Unknown { .. }),
                "{kind} {detail} did not read"
            );
            assert_eq!(entry.stored().0, kind);
        }
    }

    #[test]
    fn a_stored_entry_keeps_the_shape_rows_have_always_had() {
        let (kind, detail) = TimelineEntry::RoleAssigned {
            role: Role::Ops,
            user: u("UBOB"),
            previous: Some(u("UALICE")),
        }
        .stored();
        assert_eq!(kind, "role_assigned");
        assert_eq!(
            detail,
            json!({"role": "ops", "user": "UBOB", "previous": "UALICE"})
        );
        let (kind, detail) = TimelineEntry::ActionAdded {
            number: 3,
            text: "add an alert".into(),
            owner: None,
            due: NaiveDate::from_ymd_opt(2026, 12, 1),
        }
        .stored();
        assert_eq!(kind, "action_added");
        assert_eq!(
            detail,
            json!({"number": 3, "text": "add an alert", "owner": null, "due": "2026-12-01"})
        );
        let (kind, detail) = TimelineEntry::UpdatePosted {
            text: "better".into(),
        }
        .stored();
        assert_eq!(
            (kind.as_str(), detail),
            ("update", json!({"text": "better"}))
        );
    }

    #[test]
    fn typed_fields_read_from_their_stored_text() {
        assert_eq!(
            TimelineEntry::from_stored("severity_changed", json!({"from": "sev3", "to": "sev1"})),
            TimelineEntry::SeverityChanged {
                from: Some(Severity::Sev3),
                to: Severity::Sev1
            }
        );
        assert_eq!(
            TimelineEntry::from_stored("action_closed", json!({"number": 4, "status": "done"})),
            TimelineEntry::ActionClosed {
                number: 4,
                status: ActionStatus::Done,
                text: None
            }
        );
        assert_eq!(
            TimelineEntry::from_stored("role_assigned", json!({"role": "on-call", "user": "U1"})),
            TimelineEntry::RoleAssigned {
                role: Role::Custom("on-call".into()),
                user: u("U1"),
                previous: None
            }
        );
    }

    #[test]
    fn every_entry_round_trips_through_its_stored_form() {
        for (kind, detail) in rows() {
            let entry = TimelineEntry::from_stored(kind, detail);
            let (kind, detail) = entry.stored();
            assert_eq!(TimelineEntry::from_stored(&kind, detail), entry);
        }
    }

    #[test]
    fn a_kind_from_a_newer_version_is_kept_as_unknown_and_stored_as_it_was() {
        let detail = json!({"pager": "PD123"});
        let entry = TimelineEntry::from_stored("paged", detail.clone());
        assert_eq!(
            entry,
            TimelineEntry::Unknown {
                kind: "paged".into(),
                detail: detail.clone()
            }
        );
        assert_eq!(entry.stored(), ("paged".to_string(), detail));
    }

    #[test]
    fn a_detail_that_does_not_fit_its_kind_is_unknown_rather_than_an_error() {
        for (kind, detail) in [
            ("severity_changed", json!({"to": "sev9"})),
            ("update", json!({})),
            ("note", Value::Null),
            ("note", json!({"kind": "docs", "text": "x"})),
            ("unknown", json!({})),
        ] {
            assert!(
                matches!(
                    TimelineEntry::from_stored(kind, detail.clone()),
                    TimelineEntry::Unknown { .. }
                ),
                "{kind} {detail}"
            );
        }
    }
}
