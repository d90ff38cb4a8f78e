//! The pure core of hereby: incidents, roles, the `/incident` grammar, the declaration phrase
//! and channel naming. Nothing here does I/O or reads a clock; the shell passes times in.

pub mod actions;
pub mod channel_name;
pub mod command;
pub mod emoji;
pub mod fixes;
pub mod incident;
pub mod invisible;
pub mod links;
pub mod markdown;
pub mod mrkdwn;
pub mod plan;
pub mod postmortem;
pub mod review;
pub mod roles;
pub mod slack_ts;
pub mod timeline;
pub mod transitions;
pub mod trigger;
pub mod words;

macro_rules! slack_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn new(raw: impl Into<String>) -> Self {
                Self(raw.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slack_id!(
    /// A Slack workspace (`T…`). Every incident and every stored row belongs to one.
    TeamId
);
slack_id!(
    /// A Slack user (`U…` or `W…`).
    UserId
);
slack_id!(
    /// A Slack conversation (`C…` public, `G…` private).
    ChannelId
);
