//! Catching up: reads what Slack has of an incident channel and records what hereby missed
//! while it was down or a delivery was lost, wherever in the channel it falls.
//!
//! It walks the whole history (`conversations.history`, pages as large as Slack gives) and
//! records every top-level message not yet in the record. For each thread parent it compares
//! Slack's `latest_reply` with the latest reply the record has, and reads only the threads with
//! unseen replies (`conversations.replies` from the last recorded reply). Where it stands (the
//! history cursor, the threads still to read, the cursor inside the current one) is saved with
//! the effect after every page, so a rate limit or a restart resumes it instead of starting
//! over; calls are paced by their tier in the gateway. Catching up on a complete record costs
//! history pages only. Recording is keyed by message, so nothing is doubled.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::effect::{queue_again, Effect, EffectError};
use super::progress::Progress;
use super::record;
use super::App;
use crate::domain::{ChannelId, UserId};
use crate::slack::events::{huddle, is_spoken, posted_from, PostedMessage};
use crate::store::incidents::Incident;

/// Where a catch-up stands, saved with its effect.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CatchUpState {
    /// The next history page, once the first has been read.
    #[serde(default)]
    history_cursor: Option<String>,
    /// Every history page has been read.
    #[serde(default)]
    history_done: bool,
    /// Threads with replies the record lacks, in the order found.
    #[serde(default)]
    threads: Vec<PendingThread>,
    /// Everything has been read.
    #[serde(default)]
    done: bool,
    /// Messages Slack showed so far.
    #[serde(default)]
    seen: usize,
}

/// A thread to read from `oldest` on.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingThread {
    ts: String,
    /// The latest reply already recorded (or the parent): only what is newer is read.
    oldest: String,
    #[serde(default)]
    cursor: Option<String>,
}

/// The key of a catch-up's state in its effect's progress.
const KEY: &str = "catch_up";

/// Records every message of the incident channel that is not in the record yet; returns how
/// many messages Slack showed.
#[tracing::instrument(name = "Catching up with an incident channel", skip_all, fields(incident = incident.id))]
pub async fn catch_up(
    app: &App,
    incident: &Incident,
    progress: &mut Progress<'_>,
) -> Result<usize, EffectError> {
    let channel = incident
        .channel
        .as_ref()
        .map(|c| c.id.clone())
        .context("The incident has no channel yet")?;
    let mut state: CatchUpState = progress.get(KEY).unwrap_or_default();
    if state.done {
        return Ok(state.seen);
    }
    let bot = app.slack.bot_user().await?;
    if !state.history_done {
        let mut conn = app.store.conn().await?;
        let recorded: HashMap<String, String> =
            crate::store::record::latest_replies(&mut conn, &incident.team, incident.id)
                .await?
                .into_iter()
                .collect();
        drop(conn);
        loop {
            let (messages, next) = app
                .slack
                .history_page(&channel, None, state.history_cursor.clone())
                .await?;
            for m in &messages {
                if let Some(thread) = unseen_replies(m, &recorded) {
                    if !state.threads.iter().any(|t| t.ts == thread.ts) {
                        state.threads.push(thread);
                    }
                }
            }
            state.seen += record_page(app, incident, &channel, bot.as_str(), &messages).await?;
            state.history_cursor = next;
            state.history_done = state.history_cursor.is_none();
            progress.set(KEY, &state).await?;
            if state.history_done {
                break;
            }
        }
    }
    while let Some(thread) = state.threads.first().cloned() {
        let (messages, next) = app
            .slack
            .replies_page(
                &channel,
                &thread.ts,
                Some(&thread.oldest),
                thread.cursor.clone(),
            )
            .await?;
        state.seen += record_page(app, incident, &channel, bot.as_str(), &messages).await?;
        match next {
            Some(cursor) => state.threads[0].cursor = Some(cursor),
            None => {
                state.threads.remove(0);
            }
        }
        progress.set(KEY, &state).await?;
    }
    state.done = true;
    progress.set(KEY, &state).await?;
    Ok(state.seen)
}

/// The thread of a history message whose replies go further than the record has them.
fn unseen_replies(
    m: &serde_json::Value,
    recorded: &HashMap<String, String>,
) -> Option<PendingThread> {
    let replies = m.get("reply_count").and_then(|c| c.as_u64()).unwrap_or(0);
    if replies == 0 {
        return None;
    }
    let ts = m.get("ts")?.as_str()?;
    let recorded_latest = recorded.get(ts);
    let slack_latest = m.get("latest_reply").and_then(|l| l.as_str());
    match (slack_latest, recorded_latest) {
        (Some(slack), Some(ours)) if !ts_after(slack, ours) => None,
        _ => Some(PendingThread {
            ts: ts.to_string(),
            oldest: recorded_latest.cloned().unwrap_or_else(|| ts.to_string()),
            cursor: None,
        }),
    }
}

/// Whether Slack timestamp `a` is later than `b` (`1790000000.000200` > `1790000000.000100`).
fn ts_after(a: &str, b: &str) -> bool {
    let key = |ts: &str| -> (u64, u64) {
        let (secs, micros) = ts.split_once('.').unwrap_or((ts, "0"));
        (secs.parse().unwrap_or(0), micros.parse().unwrap_or(0))
    };
    key(a) > key(b)
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

/// How long after the start of a minute in which Slack held deliveries back its catch-ups are
/// due: once the minute is over, and a few seconds more for messages sent at its very end.
const AFTER_HELD_BACK_MINUTE: chrono::Duration = chrono::Duration::seconds(65);

/// Slack held back event deliveries for `team` from `minute` on (an `app_rate_limited`
/// payload: the workspace sent more than Slack delivers in an hour). Queues a catch-up for each
/// of the team's open incidents, due once that minute is over, so that what was said in their
/// channels meanwhile is recorded. Slack says so again for each minute it holds deliveries
/// back; each minute queues its catch-ups once, however often it is told.
pub async fn queue_after_held_back(
    app: &App,
    team: &crate::domain::TeamId,
    minute: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let due = (minute + AFTER_HELD_BACK_MINUTE).max(Utc::now());
    let mut tx = app.store.begin_write().await?;
    let open: Vec<Incident> = crate::store::incidents::open_with_channel(&mut tx)
        .await?
        .into_iter()
        .filter(|i| &i.team == team)
        .collect();
    for incident in &open {
        let tag = format!("held-back-{}", minute.timestamp());
        queue_again(&mut tx, incident, &[Effect::CatchUp], tag, due).await?;
    }
    tx.commit()
        .await
        .context("Failed to queue catch-ups after deliveries held back")?;
    app.effects_waiting.notify_one();
    Ok(open.len())
}

/// Records one page in one transaction.
async fn record_page(
    app: &App,
    incident: &Incident,
    channel: &ChannelId,
    bot: &str,
    messages: &[serde_json::Value],
) -> anyhow::Result<usize> {
    let now = Utc::now();
    let mut joined = Vec::new();
    let mut posted = Vec::new();
    let mut huddles = Vec::new();
    for m in messages {
        let subtype = m.get("subtype").and_then(|s| s.as_str());
        if subtype == Some("huddle_thread") {
            huddles.extend(huddle(m));
            continue;
        }
        if !is_spoken(subtype) {
            if let (Some("channel_join"), Some(user), Some(ts)) = (
                subtype,
                m.get("user").and_then(|u| u.as_str()),
                m.get("ts").and_then(|t| t.as_str()),
            ) {
                // hereby's own join is not taking part.
                if user != bot {
                    let at = crate::domain::slack_ts::to_time(ts).unwrap_or(now);
                    joined.push((UserId::new(user), at));
                }
            }
            continue;
        }
        posted.extend(posted_from(
            m,
            incident.team.clone(),
            channel.clone(),
            Some(bot),
        ));
    }
    // Who joined and what was said do not depend on each other's order: a page is a few
    // statements, whatever its length.
    let mut tx = app.store.begin_write().await?;
    let joined: Vec<(&UserId, DateTime<Utc>)> = joined.iter().map(|(u, at)| (u, *at)).collect();
    record::participants(&mut tx, incident, &joined, now).await?;
    let posted: Vec<&PostedMessage> = posted.iter().collect();
    record::messages(&mut tx, incident, &posted, "history", now).await?;
    for seen in &huddles {
        record::huddle_seen(&mut tx, incident, seen, now).await?;
    }
    tx.commit()
        .await
        .context("Failed to commit recovered messages")?;
    Ok(messages.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_thread_is_read_again_only_when_slack_has_a_later_reply_than_the_record() {
        let recorded: HashMap<String, String> = [(
            "1790000000.000100".to_string(),
            "1790000050.000100".to_string(),
        )]
        .into_iter()
        .collect();
        let complete = json!({"ts": "1790000000.000100", "reply_count": 3, "latest_reply": "1790000050.000100"});
        assert!(unseen_replies(&complete, &recorded).is_none());
        let newer = json!({"ts": "1790000000.000100", "reply_count": 4, "latest_reply": "1790000060.000001"});
        let thread = unseen_replies(&newer, &recorded).expect("a later reply");
        assert_eq!(thread.oldest, "1790000050.000100");
        let unknown = json!({"ts": "1790000100.000100", "reply_count": 1, "latest_reply": "1790000101.000100"});
        assert_eq!(
            unseen_replies(&unknown, &recorded).map(|t| t.oldest),
            Some("1790000100.000100".to_string())
        );
        let plain = json!({"ts": "1790000200.000100"});
        assert!(unseen_replies(&plain, &recorded).is_none());
    }

    #[test]
    fn timestamps_compare_as_numbers() {
        assert!(ts_after("1790000000.000200", "1790000000.000100"));
        assert!(ts_after("1790000001.000000", "1790000000.999999"));
        assert!(!ts_after("1790000000.000100", "1790000000.000100"));
    }
}
