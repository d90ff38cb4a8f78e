//! An incident: its number, title, status, severity and who declared it, and the declaration
//! that starts one. Pure values: times come in as arguments.

use chrono::{DateTime, Utc};

use super::review::ReviewStatus;
use super::roles::{Role, RoleAssignment};
use super::{ChannelId, TeamId, UserId};

/// An incident's title, as people typed it: trimmed, one line, at most [`Title::MAX_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// Longer titles are cut at a word boundary: a title has to fit a channel topic (250
    /// characters, with the commander and status beside it) and a notification.
    pub const MAX_CHARS: usize = 120;

    /// A title from free text; `Err` when nothing printable is left.
    pub fn parse(raw: &str) -> Result<Title, TitleError> {
        let one_line: String = raw
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if one_line.is_empty() {
            return Err(TitleError::Empty);
        }
        if one_line.chars().count() <= Self::MAX_CHARS {
            return Ok(Title(one_line));
        }
        let hard: String = one_line.chars().take(Self::MAX_CHARS - 1).collect();
        let cut = match hard.rfind(' ') {
            Some(i) if i > Self::MAX_CHARS / 2 => hard[..i].to_string(),
            _ => hard,
        };
        Ok(Title(format!("{}…", cut.trim_end())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Title {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TitleError {
    #[error("the title is empty")]
    Empty,
}

/// Where an incident stands, as responders say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Something is wrong and the cause is not known yet.
    Investigating,
    /// The cause is known and a fix is being worked on.
    Identified,
    /// A fix is in place and its effect is being watched.
    Monitoring,
    /// The incident is over.
    Resolved,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Investigating,
        Status::Identified,
        Status::Monitoring,
        Status::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Investigating => "investigating",
            Status::Identified => "identified",
            Status::Monitoring => "monitoring",
            Status::Resolved => "resolved",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        let raw = raw.trim().to_ascii_lowercase();
        Status::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn is_open(self) -> bool {
        self != Status::Resolved
    }
}

/// How bad it is; `Sev1` is the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
    Sev4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "sev1",
            Severity::Sev2 => "sev2",
            Severity::Sev3 => "sev3",
            Severity::Sev4 => "sev4",
        }
    }

    /// Accepts `sev1`, `SEV-1`, `s1` and a bare `1`.
    pub fn parse(raw: &str) -> Option<Severity> {
        let raw = raw.trim().to_ascii_lowercase().replace(['-', ' '], "");
        let digits = raw
            .strip_prefix("sev")
            .or_else(|| raw.strip_prefix('s'))
            .unwrap_or(&raw);
        match digits {
            "1" => Some(Severity::Sev1),
            "2" => Some(Severity::Sev2),
            "3" => Some(Severity::Sev3),
            "4" => Some(Severity::Sev4),
            _ => None,
        }
    }
}

/// Where a declaration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A message containing the phrase; hereby replies in its thread.
    Message {
        channel: ChannelId,
        ts: String,
        /// The thread the message was a reply in, if it was one.
        thread_ts: Option<String>,
    },
    /// `/incident declare` typed in a channel; hereby points that channel at the new one.
    Command { channel: ChannelId },
}

impl Origin {
    /// Where a reply to the declaration goes: the message's thread.
    pub fn reply_thread(&self) -> Option<&str> {
        match self {
            Origin::Message { ts, thread_ts, .. } => Some(thread_ts.as_deref().unwrap_or(ts)),
            Origin::Command { .. } => None,
        }
    }

    pub fn channel(&self) -> &ChannelId {
        match self {
            Origin::Message { channel, .. } | Origin::Command { channel } => channel,
        }
    }
}

/// Someone declared an incident: everything needed to open one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclareIncident {
    pub team: TeamId,
    pub declarer: UserId,
    pub title: Option<Title>,
    pub origin: Origin,
    /// When it was declared: the declaring message's time, or when the command arrived.
    pub at: DateTime<Utc>,
    /// A private incident (`declare --private`): a private channel, not announced by title.
    pub private: bool,
}

impl DeclareIncident {
    /// The declarer holds the commander role until they hand it on.
    pub fn initial_roles(&self) -> Vec<RoleAssignment> {
        vec![RoleAssignment {
            role: Role::Commander,
            user: self.declarer.clone(),
            assigned_by: self.declarer.clone(),
            at: self.at,
        }]
    }
}

/// An incident: what use cases load, change and store, and what views show.
#[derive(Debug, Clone)]
pub struct Incident {
    pub id: i64,
    pub team: TeamId,
    /// Counts up per workspace: "incident #12".
    pub number: i64,
    pub title: Option<Title>,
    pub status: Status,
    pub severity: Option<Severity>,
    pub declared_by: UserId,
    pub declared_at: DateTime<Utc>,
    pub origin: Origin,
    /// The incident channel, once Slack created it.
    pub channel: Option<IncidentChannel>,
    /// The pinned welcome message in the incident channel, kept current as the live summary.
    pub welcome_ts: Option<String>,
    /// The latest stakeholder update's text.
    pub latest_update: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// What the declare form said about it.
    pub description: Option<String>,
    /// A private incident: private channel, not announced by title, shown only to members.
    pub private: bool,
    /// The post-mortem's own progress.
    pub postmortem_status: ReviewStatus,
    /// Who owns the post-mortem, if someone was named (else the incident commander does).
    pub postmortem_owner: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentChannel {
    pub id: ChannelId,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_one_trimmed_line() {
        assert_eq!(Title::parse("  a\n b\t c ").unwrap().as_str(), "a b c");
        assert_eq!(Title::parse(" \n\u{7} "), Err(TitleError::Empty));
    }

    #[test]
    fn long_titles_are_cut_at_a_word_with_an_ellipsis() {
        let t = Title::parse(&"word ".repeat(100)).unwrap();
        assert!(t.as_str().chars().count() <= Title::MAX_CHARS);
        assert!(t.as_str().ends_with("word…"), "{t}");
    }

    #[test]
    fn severities_accept_common_spellings() {
        for raw in ["sev1", "SEV1", "Sev-1", "s1", "1"] {
            assert_eq!(Severity::parse(raw), Some(Severity::Sev1), "{raw}");
        }
        assert_eq!(Severity::parse("sev5"), None);
        assert_eq!(Severity::parse("critical"), None);
    }

    #[test]
    fn statuses_are_case_insensitive() {
        assert_eq!(Status::parse("Monitoring"), Some(Status::Monitoring));
        assert_eq!(Status::parse("fixed"), None);
        assert!(!Status::Resolved.is_open());
    }

    #[test]
    fn the_declarer_starts_as_commander() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let d = DeclareIncident {
            private: false,
            team: TeamId::new("T1"),
            declarer: UserId::new("U1"),
            title: None,
            origin: Origin::Command {
                channel: ChannelId::new("C1"),
            },
            at,
        };
        let roles = d.initial_roles();
        assert_eq!(roles.len(), 1);
        assert_eq!(roles[0].role, Role::Commander);
        assert_eq!(roles[0].user, UserId::new("U1"));
    }
}
