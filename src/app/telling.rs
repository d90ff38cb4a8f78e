//! Telling people what hereby could not do: an ephemeral message where they are (or a direct
//! message where hereby cannot post), and the report queued when a Slack step failed for good.

use anyhow::Context;
use chrono::Utc;

use super::effect::{queue_again, Effect};
use super::App;
use crate::domain::{ChannelId, UserId};
use crate::slack::api::{CallError, OutgoingMessage};
use crate::store::incidents;
use crate::store::outbox::ClaimedEffect;

/// Whether Slack's refusal means hereby cannot post there (not a member, or a private
/// conversation it cannot see).
pub fn not_a_member(code: &str) -> bool {
    matches!(
        code,
        "not_in_channel" | "channel_not_found" | "is_archived" | "is_inactive"
    )
}

/// Tells `user` something only they need to see: an ephemeral message in `channel`, or, where
/// hereby cannot post there, a direct message.
pub async fn tell(
    app: &App,
    channel: &ChannelId,
    user: &UserId,
    text: &str,
) -> Result<(), CallError> {
    match app.slack.post_ephemeral(channel, user, text).await {
        Err(CallError::Refused { code })
            if not_a_member(&code) || code == "user_not_in_channel" =>
        {
            let key = format!("tell:{user}");
            app.slack
                .post_message(
                    &ChannelId::new(user.as_str()),
                    &OutgoingMessage::plain(text.to_string(), &key),
                )
                .await
                .map(|_| ())
        }
        other => other,
    }
}

/// Steps that only keep the incident channel current: once the incident is resolved and its
/// channel archived, they have nowhere to go and nothing to report.
const KEEPS_THE_CHANNEL_CURRENT: [&str; 3] = ["notice", "refresh_summary", "set_topic"];

/// After an effect failed for good: queues the message that tells a person about it (unless
/// the failed effect was itself such a message, or had no incident).
pub async fn report_failure(app: &App, claimed: &ClaimedEffect, error: &str) -> anyhow::Result<()> {
    let step = claimed
        .effect
        .get("step")
        .and_then(|s| s.as_str())
        .unwrap_or("unknown");
    let Some(incident_id) = claimed.incident else {
        return Ok(());
    };
    if matches!(step, "report_refusal" | "whisper") {
        return Ok(());
    }
    let now = Utc::now();
    let mut tx = app.store.begin_write().await?;
    let incident = incidents::get(&mut tx, &claimed.team, incident_id).await?;
    if !incident.status.is_open()
        && not_a_member(error)
        && KEEPS_THE_CHANNEL_CURRENT.contains(&step)
    {
        // Archiving the channel of an incident that is over is the team's choice, not a fault:
        // what would have kept that channel current is let go.
        tracing::info!(
            step,
            error,
            "The channel of a resolved incident is gone; not reported"
        );
        return Ok(());
    }
    queue_again(
        &mut tx,
        &incident,
        &[Effect::ReportRefusal {
            failed: step.to_string(),
            error: error.to_string(),
        }],
        claimed.id,
        now,
    )
    .await?;
    tx.commit()
        .await
        .context("Failed to queue the report of a refusal")?;
    app.effects_waiting.notify_one();
    Ok(())
}
