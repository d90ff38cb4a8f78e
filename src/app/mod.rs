//! Use cases: each loads what it needs, applies the domain, persists the result together with
//! the Slack effects it calls for, and wakes the workers that carry those out.

pub mod actions;
pub mod changes;
pub mod channel;
pub mod commands;
pub mod declare;
pub mod effect;
mod fix_reactions;
pub mod fixes;
pub mod ingest;
pub mod interactions;
pub mod notes;
pub mod posting;
pub mod postmortem;
pub mod progress;
pub mod reconcile;
pub mod record;
mod review;
pub mod telling;

use std::sync::Arc;

use chrono_tz::Tz;
use tokio::sync::Notify;

use crate::domain::channel_name::ChannelPrefix;
use crate::domain::ChannelId;
use crate::slack::api::SlackGateway;
use crate::store::Store;

/// Workspace-independent settings the use cases need.
#[derive(Debug, Clone)]
pub struct Settings {
    pub timezone: Tz,
    pub channel_prefix: ChannelPrefix,
    pub announce_channel: Option<ChannelId>,
    /// Extra roles the team configured, besides the built-in ones.
    pub custom_roles: Vec<String>,
    /// Who may do what.
    pub policy: crate::domain::transitions::Policy,
    /// The reaction that marks a message as a key event (`pushpin`).
    pub highlight_reaction: String,
    /// The reactions that record fix attempts and their outcomes.
    pub fix_reactions: crate::domain::fixes::FixReactions,
    /// The post-mortem template's text.
    pub postmortem_template: String,
    /// Rename the channel when the incident is renamed.
    pub rename_channels: bool,
    /// Also put each draft in a canvas.
    pub postmortem_canvas: bool,
    /// Time between follow-up reviews of open action items.
    pub followup_interval: chrono::Duration,
    /// Attempts at an effect or a delivery before it is marked failed.
    pub max_attempts: i64,
    /// The web view's address (`HEREBY_PUBLIC_URL`), for links to an incident's page.
    pub web_base: Option<String>,
    /// The Slack API's origin: besides Slack's hooks, the only place a late answer to a
    /// command may be posted (a proxy, or a local fake in tests).
    pub api_origin: url::Url,
}

/// Everything a use case or worker needs, cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    /// Stores Events API deliveries in group commits.
    pub deliveries: crate::store::group_commit::DeliveryWriter,
    pub slack: SlackGateway,
    pub settings: Arc<Settings>,
    /// Wakes the delivery worker when a new delivery is stored.
    pub deliveries_waiting: Arc<Notify>,
    /// Wakes the outbox worker when effects are queued.
    pub effects_waiting: Arc<Notify>,
}
