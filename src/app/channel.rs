//! The incident channel in Slack: creating it exactly once when a call can time out after
//! taking effect (the name tried is remembered, and the channel an interrupted attempt created
//! is adopted instead of making `-2`), and renaming it after the incident's title.

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::effect::{Completion, Effect, EffectError};
use super::App;
use crate::domain::channel_name::ChannelName;
use crate::domain::ChannelId;
use crate::slack::api::CallError;
use crate::store::incidents::{self, Incident, IncidentChannel};
use crate::store::outbox::ClaimedEffect;

/// Progress of channel creation across attempts.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CreateProgress {
    /// 1 for the plain name, then 2, 3, … after `name_taken`.
    #[serde(default = "first_attempt")]
    attempt: u32,
    /// A name whose creation may have gone through without us hearing back.
    #[serde(default)]
    uncertain: Option<String>,
    /// When the first attempt began (seconds since the epoch): a channel created before then
    /// cannot be ours.
    #[serde(default)]
    since: Option<i64>,
    /// Where the search for an adoptable channel stands in `conversations.list`, so that a
    /// rate limit mid-way resumes the search instead of starting it over.
    #[serde(default)]
    list_cursor: Option<String>,
}

/// Saves where channel creation stands with the effect, before the next call to Slack.
async fn save(
    app: &App,
    claimed: &ClaimedEffect,
    worker: &str,
    progress: &CreateProgress,
) -> anyhow::Result<()> {
    let value = serde_json::to_value(progress).context("Failed to serialise progress")?;
    app.store.save_progress(claimed.id, worker, &value).await
}

fn first_attempt() -> u32 {
    1
}

/// How many `-N` suffixes to try before giving up on a name.
const MAX_NAME_ATTEMPTS: u32 = 50;

pub async fn create_channel(
    app: &App,
    claimed: &ClaimedEffect,
    worker: &str,
    incident: &Incident,
    reply_to: Option<String>,
) -> Result<Completion, EffectError> {
    let mut progress: CreateProgress =
        serde_json::from_value(claimed.progress.clone()).unwrap_or_default();
    progress.attempt = progress.attempt.max(1);
    let since = *progress
        .since
        .get_or_insert_with(|| chrono::Utc::now().timestamp() - 1);
    let date = incident
        .declared_at
        .with_timezone(&app.settings.timezone)
        .date_naive();
    let s = &app.settings;
    loop {
        let name = ChannelName::for_incident(
            &s.channel_prefix,
            date,
            incident.title.as_ref().map(|t| t.as_str()),
            incident.number,
            progress.attempt,
        );
        let was_uncertain = progress.uncertain.as_deref() == Some(name.as_str());
        progress.uncertain = Some(name.to_string());
        save(app, claimed, worker, &progress).await?;
        match app
            .slack
            .create_channel(name.as_str(), incident.private)
            .await
        {
            Ok(id) => return Ok(created(id, name, reply_to)),
            Err(CallError::Refused { code }) if code == "name_taken" => {
                if was_uncertain {
                    if let Some(id) =
                        adoptable(app, claimed, worker, incident, &mut progress, since).await?
                    {
                        tracing::info!(channel = %id, "Adopting the channel an interrupted attempt created");
                        return Ok(created(id, name, reply_to));
                    }
                }
                if progress.attempt >= MAX_NAME_ATTEMPTS {
                    return Err(CallError::Refused {
                        code: format!("name_taken ({MAX_NAME_ATTEMPTS} names tried)"),
                    }
                    .into());
                }
                progress.attempt += 1;
                progress.uncertain = None;
            }
            Err(CallError::RateLimited { retry_after }) => {
                // Slack refused before creating anything.
                progress.uncertain = None;
                save(app, claimed, worker, &progress).await?;
                return Err(CallError::RateLimited { retry_after }.into());
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn created(id: ChannelId, name: ChannelName, reply_to: Option<String>) -> Completion {
    Completion {
        channel: Some(IncidentChannel {
            id,
            name: name.to_string(),
        }),
        then: vec![
            Effect::InviteDeclarer,
            Effect::SetTopic,
            Effect::PostWelcome,
            Effect::PointOrigin { reply_to },
            Effect::Announce,
        ],
        ..Completion::default()
    }
}

/// The channel called `progress.uncertain`, if this bot created it since the first attempt and
/// no other incident owns it. The search pages through `conversations.list` (Tier 2) and keeps
/// its cursor in the effect's progress, so a rate limit resumes it where it stopped.
async fn adoptable(
    app: &App,
    claimed: &ClaimedEffect,
    worker: &str,
    incident: &Incident,
    progress: &mut CreateProgress,
    since: i64,
) -> Result<Option<ChannelId>, EffectError> {
    let Some(name) = progress.uncertain.clone() else {
        return Ok(None);
    };
    let bot = app.slack.bot_user().await?;
    loop {
        let (channels, next) = app
            .slack
            .channels_page(progress.list_cursor.clone())
            .await?;
        let found = channels.into_iter().find(|c| {
            c.name == name
                && c.creator.as_ref() == Some(&bot)
                && c.created.is_none_or(|at| at >= since)
        });
        if let Some(c) = found {
            progress.list_cursor = None;
            let mut conn = app.store.conn().await?;
            let owner = incidents::by_channel(&mut conn, &incident.team, &c.id).await?;
            return Ok(owner.is_none().then_some(c.id));
        }
        progress.list_cursor = next;
        save(app, claimed, worker, progress).await?;
        if progress.list_cursor.is_none() {
            return Ok(None);
        }
    }
}

/// Renames the incident channel after its title: the same date, the new slug, the next free
/// `-N` if the name is taken.
pub async fn rename_channel(app: &App, incident: &Incident) -> Result<Completion, EffectError> {
    let current = incident
        .channel
        .clone()
        .context("The incident has no channel yet")?;
    let date = incident
        .declared_at
        .with_timezone(&app.settings.timezone)
        .date_naive();
    let title = incident.title.as_ref().map(|t| t.as_str());
    for attempt in 1..=MAX_NAME_ATTEMPTS {
        let name = ChannelName::for_incident(
            &app.settings.channel_prefix,
            date,
            title,
            incident.number,
            attempt,
        );
        if name.as_str() == current.name {
            return Ok(Completion::default());
        }
        match app.slack.rename_channel(&current.id, name.as_str()).await {
            Ok(()) => {
                return Ok(Completion {
                    channel: Some(IncidentChannel {
                        id: current.id,
                        name: name.to_string(),
                    }),
                    renamed: true,
                    ..Completion::default()
                })
            }
            Err(CallError::Refused { code }) if code == "name_taken" => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CallError::Refused {
        code: format!("name_taken ({MAX_NAME_ATTEMPTS} names tried)"),
    }
    .into())
}
