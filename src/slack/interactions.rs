//! Decoding interaction payloads (`payload=` JSON) into [`Interaction`]s, at the edge.

use serde_json::Value;

use super::modals::{read_declare_submission, DeclareSubmission, DECLARE_CALLBACK};
use super::views::{CLOSE_ACTION_ACTION, FIX_OUTCOME_ACTION, TAKE_ROLE_ACTION};
use crate::domain::actions::ActionStatus;
use crate::domain::fixes::Outcome;
use crate::domain::{ChannelId, TeamId, UserId};

/// An interaction hereby acts on.
#[derive(Debug, Clone)]
pub enum Interaction {
    /// A "Take `<role>`" button on the live summary.
    TakeRole {
        team: TeamId,
        channel: ChannelId,
        user: UserId,
        role: String,
    },
    /// An outcome button on a fix attempt.
    FixOutcome {
        team: TeamId,
        channel: ChannelId,
        user: UserId,
        number: i64,
        outcome: Outcome,
    },
    /// A "Done" or "Won't do" button on a follow-up reminder, pressed wherever the reminder
    /// was read (a direct message too): names its incident by row ID.
    CloseAction {
        team: TeamId,
        channel: ChannelId,
        user: UserId,
        incident: i64,
        number: i64,
        status: ActionStatus,
        /// The message pressed on, to redraw through its `response_url` (absent for an
        /// ephemeral message, which Slack does not send back).
        pressed_on: Option<PressedOn>,
    },
    /// The declare form was submitted.
    DeclareSubmitted {
        team: TeamId,
        user: UserId,
        submission: DeclareSubmission,
    },
    /// "Declare incident from this message" on a message.
    DeclareFromMessage {
        team: TeamId,
        user: UserId,
        channel: ChannelId,
        trigger_id: String,
        text: String,
        ts: String,
        thread_ts: Option<String>,
    },
}

/// A message with buttons, as a press on it arrives.
#[derive(Debug, Clone)]
pub struct PressedOn {
    pub response_url: String,
    pub text: String,
    pub blocks: Value,
}

/// The `callback_id` of the message shortcut in `manifest.yml`.
pub const DECLARE_FROM_MESSAGE: &str = "declare_from_message";

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .and_then(Value::as_str)
}

/// The interaction a payload carries, if hereby acts on it.
pub fn decode(p: &Value) -> Option<Interaction> {
    // The installing workspace: a view knows it; in a shared channel `team` may be the
    // clicking user's organisation, so the view's answer comes first.
    let team = TeamId::new(
        s(p, &["view", "app_installed_team_id"])
            .or_else(|| s(p, &["team", "id"]))
            .or_else(|| s(p, &["user", "team_id"]))?,
    );
    let user = UserId::new(s(p, &["user", "id"])?);
    match s(p, &["type"])? {
        "block_actions" => {
            let action = p.get("actions")?.as_array()?.first()?;
            let action_id = s(action, &["action_id"])?;
            let channel =
                s(p, &["channel", "id"]).or_else(|| s(p, &["container", "channel_id"]))?;
            if action_id.starts_with(FIX_OUTCOME_ACTION) {
                let (number, outcome) = s(action, &["value"])?.split_once(':')?;
                return Some(Interaction::FixOutcome {
                    team,
                    channel: ChannelId::new(channel),
                    user,
                    number: number.parse().ok()?,
                    outcome: Outcome::parse(outcome)?,
                });
            }
            if action_id.starts_with(CLOSE_ACTION_ACTION) {
                let mut parts = s(action, &["value"])?.split(':');
                let (incident, number, status) = (parts.next()?, parts.next()?, parts.next()?);
                let status = match status {
                    "done" => ActionStatus::Done,
                    "wontfix" => ActionStatus::WontFix,
                    _ => return None,
                };
                let pressed_on = s(p, &["response_url"])
                    .zip(p.get("message").and_then(|m| m.get("blocks")))
                    .map(|(url, blocks)| PressedOn {
                        response_url: url.to_string(),
                        text: s(p, &["message", "text"]).unwrap_or_default().to_string(),
                        blocks: blocks.clone(),
                    });
                return Some(Interaction::CloseAction {
                    team,
                    channel: ChannelId::new(channel),
                    user,
                    incident: incident.parse().ok()?,
                    number: number.parse().ok()?,
                    status,
                    pressed_on,
                });
            }
            if !action_id.starts_with(TAKE_ROLE_ACTION) {
                return None;
            }
            Some(Interaction::TakeRole {
                team,
                channel: ChannelId::new(channel),
                user,
                role: s(action, &["value"])?.to_string(),
            })
        }
        "view_submission" if s(p, &["view", "callback_id"]) == Some(DECLARE_CALLBACK) => {
            Some(Interaction::DeclareSubmitted {
                team,
                user,
                submission: read_declare_submission(p.get("view")?),
            })
        }
        "message_action" if s(p, &["callback_id"]) == Some(DECLARE_FROM_MESSAGE) => {
            Some(Interaction::DeclareFromMessage {
                team,
                user,
                channel: ChannelId::new(s(p, &["channel", "id"])?),
                trigger_id: s(p, &["trigger_id"])?.to_string(),
                text: s(p, &["message", "text"]).unwrap_or("").to_string(),
                ts: s(p, &["message", "ts"])?.to_string(),
                thread_ts: s(p, &["message", "thread_ts"]).map(str::to_string),
            })
        }
        _ => None,
    }
}
