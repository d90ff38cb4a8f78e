//! Posting a message exactly once when a call can time out after taking effect: an attempt
//! notes that it may have posted, and the next one looks for its own message (by metadata)
//! before posting again.

use serde_json::json;

use super::effect::EffectError;
use super::App;
use crate::domain::ChannelId;
use crate::slack::api::{CallError, OutgoingMessage};
use crate::store::outbox::ClaimedEffect;

/// Posts a message once: if an earlier attempt may have posted it, looks for it first.
pub async fn post_once(
    app: &App,
    claimed: &ClaimedEffect,
    worker: &str,
    channel: &ChannelId,
    message: &OutgoingMessage,
) -> Result<String, EffectError> {
    // The first attempt notes when it started: only messages since then can be its own.
    let since = claimed
        .progress
        .get("since")
        .and_then(|s| s.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}.000000", chrono::Utc::now().timestamp() - 1));
    if claimed.progress.get("posting").and_then(|p| p.as_bool()) == Some(true) {
        let find = || {
            app.slack.find_posted(
                channel,
                message.thread_ts.as_deref(),
                &message.key,
                &message.text,
                Some(&since),
            )
        };
        let found = match find().await {
            // A public channel hereby posts in without being a member (the announcement
            // channel): it must join to read back what it may have posted.
            Err(CallError::Refused { code }) if code == "not_in_channel" => {
                app.slack.join(channel).await?;
                find().await?
            }
            other => other?,
        };
        if let Some(ts) = found {
            tracing::info!(%ts, "Found the message an interrupted attempt posted");
            return Ok(ts);
        }
    }
    app.store
        .save_progress(
            claimed.id,
            worker,
            &json!({"posting": true, "since": since}),
        )
        .await?;
    Ok(app.slack.post_message(channel, message).await?)
}
