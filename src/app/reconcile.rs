//! Catching up: reads what Slack has of an incident channel (`conversations.history`, then
//! each thread's `conversations.replies`, page by page) and records what hereby missed while it
//! was down or a delivery was lost. Recording is keyed by message, so nothing is doubled.

use std::collections::BTreeSet;

use anyhow::Context;
use chrono::Utc;
use sqlx::Row;

use super::effects::{queue_again, Effect, EffectError};
use super::record;
use super::App;
use crate::domain::ChannelId;
use crate::slack::events::{is_spoken, posted_from};
use crate::store::incidents::IncidentRecord;
use crate::store::outbox::ClaimedEffect;

/// Records every message of the incident channel that is not in the record yet; returns how
/// many messages Slack showed.
#[tracing::instrument(name = "Catching up with an incident channel", skip_all, fields(incident = incident.id))]
///
/// History comes newest first, so recording a page moves "the newest recorded message"; the
/// starting point is therefore fixed at the first attempt and kept in the effect's progress,
/// so that an attempt interrupted by a rate limit resumes from the same place.
pub async fn catch_up(
    app: &App,
    incident: &IncidentRecord,
    claimed: &ClaimedEffect,
    worker: &str,
) -> Result<usize, EffectError> {
    let channel = incident
        .channel
        .as_ref()
        .map(|c| c.id.clone())
        .context("The incident has no channel yet")?;
    let bot = app.slack.bot_user().await?;
    let oldest = match claimed.progress.get(CATCH_UP_FROM) {
        Some(from) => from.as_str().map(str::to_string),
        None => {
            let mut conn = app.store.conn().await?;
            let from =
                crate::store::record::latest_ts(&mut conn, &incident.team, incident.id).await?;
            app.store
                .save_progress(
                    claimed.id,
                    worker,
                    &serde_json::json!({ CATCH_UP_FROM: from }),
                )
                .await?;
            from
        }
    };
    let mut threads: BTreeSet<String> = known_threads(app, incident).await?;
    let mut seen = 0;
    let mut cursor = None;
    loop {
        let (messages, next) = app
            .slack
            .history_page(&channel, oldest.as_deref(), cursor)
            .await?;
        for m in &messages {
            if m.get("reply_count").and_then(|c| c.as_u64()).unwrap_or(0) > 0 {
                if let Some(ts) = m.get("ts").and_then(|t| t.as_str()) {
                    threads.insert(ts.to_string());
                }
            }
        }
        seen += record_page(app, incident, &channel, bot.as_str(), &messages).await?;
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    for thread in threads {
        let mut cursor = None;
        loop {
            let (messages, next) = app.slack.replies_page(&channel, &thread, cursor).await?;
            seen += record_page(app, incident, &channel, bot.as_str(), &messages).await?;
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    Ok(seen)
}

/// Queues a catch-up for every open incident: what was said while hereby was down.
pub async fn queue_for_open_incidents(app: &App) -> anyhow::Result<usize> {
    let now = Utc::now();
    let mut tx = app.store.begin_write().await?;
    let open = crate::store::incidents::open_with_channel(&mut tx).await?;
    for incident in &open {
        queue_again(
            &mut tx,
            incident,
            &[Effect::CatchUp],
            format!("start-{}", now.timestamp_millis()),
            now,
        )
        .await?;
    }
    tx.commit().await.context("Failed to queue catch-ups")?;
    app.effects_waiting.notify_one();
    Ok(open.len())
}

/// Where a catch-up started, in its effect's progress.
const CATCH_UP_FROM: &str = "catch_up_from";

async fn known_threads(app: &App, incident: &IncidentRecord) -> anyhow::Result<BTreeSet<String>> {
    let rows = sqlx::query("SELECT DISTINCT thread_ts FROM messages WHERE team_id = $1 AND incident_id = $2 AND thread_ts IS NOT NULL")
        .bind(incident.team.to_string())
        .bind(incident.id)
        .fetch_all(app.store.pool())
        .await
        .context("Failed to list an incident's threads")?;
    rows.iter()
        .map(|r| r.try_get::<String, _>("thread_ts").map_err(Into::into))
        .collect()
}

/// Records one page in one transaction.
async fn record_page(
    app: &App,
    incident: &IncidentRecord,
    channel: &ChannelId,
    bot: &str,
    messages: &[serde_json::Value],
) -> anyhow::Result<usize> {
    let now = Utc::now();
    let mut tx = app.store.begin_write().await?;
    for m in messages {
        let subtype = m.get("subtype").and_then(|s| s.as_str());
        if !is_spoken(subtype) {
            if let (Some("channel_join"), Some(user), Some(ts)) = (
                subtype,
                m.get("user").and_then(|u| u.as_str()),
                m.get("ts").and_then(|t| t.as_str()),
            ) {
                let at = super::ingest::ts_to_time(ts).unwrap_or(now);
                record::participant(
                    &mut tx,
                    incident,
                    &crate::domain::UserId::new(user),
                    at,
                    now,
                )
                .await?;
            }
            continue;
        }
        if let Some(posted) = posted_from(m, incident.team.clone(), channel.clone(), Some(bot)) {
            record::message(&mut tx, incident, &posted, "history", now).await?;
        }
    }
    tx.commit()
        .await
        .context("Failed to commit recovered messages")?;
    Ok(messages.len())
}
