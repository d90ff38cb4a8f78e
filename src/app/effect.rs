//! The outbox's vocabulary: the Slack effects a use case asks for, how they are queued (once
//! per incident, again per occasion, per change), and how an attempt at one ends. Use cases
//! queue effects inside their own transaction; the outbox worker (`jobs::effects`) carries
//! them out. This module calls nothing above the store.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::slack::api::CallError;
use crate::store::incidents::{self, Incident, IncidentChannel};
use crate::store::outbox::{self, NewEffect};

/// One Slack side effect of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Effect {
    /// `conversations.create`, trying `-2`, `-3`, … on `name_taken`.
    CreateChannel {
        /// The `response_url` of the command that declared the incident, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
    },
    /// Brings the declarer into the new channel.
    InviteDeclarer,
    /// Title, status, severity and commander in the channel topic.
    SetTopic,
    /// The welcome message in the new channel.
    PostWelcome,
    /// Pins the welcome message.
    PinWelcome,
    /// Points the conversation the incident was declared in at the new channel.
    PointOrigin {
        /// Where a command can still be answered when hereby cannot post in its channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
    },
    /// Tells the announcement channel about the new incident.
    Announce,
    /// Brings someone who was given a role into the channel.
    Invite { user: String },
    /// Redraws the pinned live summary (`chat.update`).
    RefreshSummary,
    /// Says in the incident channel what changed ("Alice made Bob communications lead").
    Notice { text: String },
    /// Tells the announcement channel what changed (severity, status, updates).
    AnnounceChange { text: String },
    /// A reply only one person sees (a refused button press).
    Whisper {
        channel: String,
        user: String,
        text: String,
    },
    /// Asks Slack for a participant's name (`users.info`) and caches it.
    LookUpUser { user: String },
    /// Asks Slack for the name of an app that posted with only its bot ID (`bots.info`).
    LookUpBot { bot: String },
    /// Posts a fix attempt with buttons to set its outcome.
    PostFix { number: i64 },
    /// Reads the channel's history and records what hereby missed.
    CatchUp,
    /// Catches up, renders the post-mortem draft and shares it in the channel.
    ExportDraft,
    /// Renames the channel after the new title (only with `HEREBY_RENAME_CHANNELS=true`).
    RenameChannel,
    /// A draft version as a canvas in the incident channel (`HEREBY_POSTMORTEM_CANVAS`).
    DraftCanvas { version: i64 },
    /// A follow-up review: the open action items, in the incident channel (or, where hereby
    /// can no longer post there, to whoever answers for the post-mortem). `blocks` carry a
    /// button to close each item; a review queued before there were buttons has none.
    FollowUp {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        blocks: Option<serde_json::Value>,
    },
    /// A direct message to an action item's owner, with buttons to close their items.
    RemindOwner {
        user: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        blocks: Option<serde_json::Value>,
    },
    /// Tells the commander directly that hereby was removed from the incident channel (by
    /// `by`), and what that means until it is invited back.
    TellRemoved {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// Tells a person what Slack refused for the incident and what to change: the commander
    /// in the incident channel, or the declarer when there is no channel.
    ReportRefusal { failed: String, error: String },
}

/// Queues effects of an incident inside the caller's transaction; each happens once per
/// incident.
pub async fn queue(
    conn: &mut AnyConnection,
    incident: &Incident,
    effects: &[Effect],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    queue_keyed(conn, incident, effects, "", now).await
}

/// Queues effects that happen again whenever the incident changes (the topic after a rename);
/// `tag` tells one occasion from the next (a revision, a user).
pub async fn queue_again(
    conn: &mut AnyConnection,
    incident: &Incident,
    effects: &[Effect],
    tag: impl std::fmt::Display,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    queue_keyed(conn, incident, effects, &format!(":{tag}"), now).await
}

/// Queues the effects of one change to an incident: the change is counted (its revision) so
/// that its effects are told apart from those of the next change.
pub async fn queue_for_change(
    conn: &mut AnyConnection,
    incident: &Incident,
    effects: &[Effect],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let revision = incidents::next_revision(conn, &incident.team, incident.id).await?;
    queue_again(conn, incident, effects, revision, now).await
}

async fn queue_keyed(
    conn: &mut AnyConnection,
    incident: &Incident,
    effects: &[Effect],
    suffix: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    for e in effects {
        let effect = serde_json::to_value(e).context("Failed to serialise an effect")?;
        // The step's name is serde's tag: one name for the queue key and the stored row.
        let step = effect
            .get("step")
            .and_then(|s| s.as_str())
            .context("An effect serialised without its step")?
            .to_string();
        let new = NewEffect {
            team: incident.team.clone(),
            incident: Some(incident.id),
            dedupe_key: format!("incident:{}:{step}{suffix}", incident.id),
            effect,
        };
        outbox::enqueue(conn, &new, now).await?;
    }
    Ok(())
}

/// Why an effect did not complete.
#[derive(Debug, thiserror::Error)]
pub enum EffectError {
    /// Slack did not do it; [`CallError`] says whether to wait, retry or give up.
    #[error(transparent)]
    Slack(#[from] CallError),
    /// Our side failed (database); retry.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What a successful effect changes, applied with its completion.
#[derive(Debug, Default)]
pub struct Completion {
    pub channel: Option<IncidentChannel>,
    pub welcome_ts: Option<String>,
    pub then: Vec<Effect>,
    /// The channel was renamed (not created).
    pub renamed: bool,
}
