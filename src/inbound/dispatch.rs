//! What Slack's three kinds of request mean, whichever way they arrive (HTTP or Socket Mode):
//! Events API payloads are stored before they are acknowledged; slash commands and interactions
//! are answered with what Slack should show.

use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::Instrument;

use crate::app::commands::{self, Invocation, Reply};
use crate::app::interactions::{self, Answer};
use crate::app::App;
use crate::domain::{ChannelId, TeamId, UserId};
use crate::slack::events::Envelope;
use crate::store::deliveries::{OwnedDelivery, Recorded};

/// How long storing a delivery may take before Slack is told to retry.
const STORE_DEADLINE: std::time::Duration = std::time::Duration::from_millis(2500);

/// Why a request was not taken; the transport turns it into its own answer.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Not a request Slack sends (HTTP 400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The database cannot take it now; Slack must retry (HTTP 503, or no Socket Mode ack).
    #[error("temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// Slack's IDs (`T0123ABC`, `Ev08XYZ…`) are short runs of letters and digits; anything else is
/// not Slack's and would not even store everywhere (PostgreSQL refuses NUL in text).
fn is_slack_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// What an Events API payload needs in return.
#[derive(Debug, PartialEq, Eq)]
pub enum EventsAnswer {
    /// `url_verification`: echo the challenge.
    Challenge(String),
    /// Stored (or already stored): acknowledge.
    Ack,
}

/// Stores an Events API payload, exactly as received, before it is acknowledged.
#[tracing::instrument(name = "Accepting an Events API payload", skip_all)]
pub async fn event_payload(
    app: &App,
    text: &str,
    retry_num: Option<i64>,
) -> Result<EventsAnswer, Refusal> {
    let envelope: Envelope = serde_json::from_str(text)
        .map_err(|e| Refusal::BadRequest(format!("not an Events API payload: {e}")))?;
    match envelope.kind.as_str() {
        "url_verification" => {
            let challenge = envelope
                .challenge
                .clone()
                .ok_or_else(|| Refusal::BadRequest("url_verification without challenge".into()))?;
            Ok(EventsAnswer::Challenge(challenge))
        }
        "event_callback" => {
            let (Some(team_id), Some(event_id)) =
                (envelope.installing_team(), envelope.event_id.as_deref())
            else {
                return Err(Refusal::BadRequest(
                    "event_callback without team_id or event_id".into(),
                ));
            };
            if !is_slack_id(team_id) || !is_slack_id(event_id) {
                return Err(Refusal::BadRequest(
                    "team_id and event_id must be Slack IDs (letters and digits)".into(),
                ));
            }
            let event_type = envelope.event_type();
            let delivery = OwnedDelivery {
                team_id: team_id.to_string(),
                event_id: event_id.to_string(),
                event_type: event_type.to_string(),
                payload: text.to_string(),
                retry_num,
            };
            // Slack waits 3 s for an answer: a database that cannot take the delivery by then
            // gets a 503 (so Slack retries) rather than a timeout. Deliveries arriving together
            // are committed together; each is answered once its transaction committed.
            let stored = tokio::time::timeout(STORE_DEADLINE, app.deliveries.record(delivery))
                .await
                .map_err(|_| {
                    Refusal::Unavailable(anyhow::anyhow!(
                        "the database did not take the delivery within {STORE_DEADLINE:?}"
                    ))
                })?;
            match stored.map_err(Refusal::Unavailable)? {
                Recorded::New => {
                    metrics::counter!("hereby_deliveries_received_total", "event_type" => event_type.to_string()).increment(1);
                    tracing::debug!(event_id, event_type, "Delivery stored");
                    app.deliveries_waiting.notify_one();
                }
                Recorded::Processed => {
                    metrics::counter!("hereby_deliveries_received_total", "event_type" => event_type.to_string()).increment(1);
                    tracing::debug!(event_id, event_type, "Delivery stored and processed");
                    // What it queued for Slack (a declaration's channel) is for the outbox.
                    app.effects_waiting.notify_one();
                }
                Recorded::Duplicate => {
                    metrics::counter!("hereby_deliveries_duplicate_total").increment(1);
                    tracing::info!(
                        event_id,
                        ?retry_num,
                        "Redelivery of a stored event acknowledged and ignored"
                    );
                }
            }
            Ok(EventsAnswer::Ack)
        }
        "app_rate_limited" => {
            // Slack holds back this workspace's deliveries for a while: what is said in the
            // incident channels meanwhile is read from their history instead.
            let (Some(team), Some(minute)) = (
                envelope.team_id.as_deref().filter(|t| is_slack_id(t)),
                envelope
                    .minute_rate_limited
                    .and_then(|m| chrono::DateTime::from_timestamp(m, 0)),
            ) else {
                return Err(Refusal::BadRequest(
                    "app_rate_limited without team_id or minute_rate_limited".into(),
                ));
            };
            metrics::counter!("hereby_deliveries_held_back_total").increment(1);
            let queued = tokio::time::timeout(
                STORE_DEADLINE,
                crate::app::reconcile::queue_after_held_back(app, &TeamId::new(team), minute),
            )
            .await
            .map_err(|_| {
                Refusal::Unavailable(anyhow::anyhow!(
                    "the database did not take the catch-ups within {STORE_DEADLINE:?}"
                ))
            })?
            .map_err(Refusal::Unavailable)?;
            tracing::warn!(
                team,
                minute = %minute,
                incidents = queued,
                "Slack is holding back event deliveries (more than it delivers in an hour); each open incident's channel will be read from its history once the minute is over"
            );
            Ok(EventsAnswer::Ack)
        }
        other => {
            // Future envelope types need only an acknowledgement.
            tracing::info!(
                kind = other,
                "Acknowledged an Events API payload hereby does not act on"
            );
            Ok(EventsAnswer::Ack)
        }
    }
}

/// The fields of a slash command that hereby reads (a form over HTTP, JSON in Socket Mode).
#[derive(Debug, Deserialize)]
pub struct SlashCommand {
    pub team_id: String,
    pub channel_id: String,
    pub user_id: String,
    #[serde(default)]
    pub text: String,
    pub trigger_id: Option<String>,
    /// Where an answer can still go after the 3 s (Slack's hooks, for 30 minutes).
    pub response_url: Option<String>,
}

/// Slack gives up on a command's answer after 3 s; one not ready by then is answered with
/// [`BUSY`] and finished through the command's `response_url`.
pub const REPLY_DEADLINE: std::time::Duration = std::time::Duration::from_millis(2500);

/// The answer when the database is too slow to answer within Slack's 3 s.
pub const BUSY: &str = ":hourglass_flowing_sand: hereby is busy (its database is slow to answer) and is still working on this: the answer follows here in a moment.";

/// Runs a slash command; the answer's JSON, or `None` for an empty acknowledgement. The command
/// runs on its own task: when it takes longer than [`REPLY_DEADLINE`], Slack gets [`BUSY`] now
/// and the real answer through `response_url` when it is ready.
#[tracing::instrument(name = "Running a slash command", skip_all)]
pub async fn slash_command(app: &App, form: SlashCommand) -> Option<Value> {
    // What people type into commands can be customer details: never above `debug`.
    tracing::debug!(text = %form.text, "Slash command text");
    let inv = Invocation {
        team: TeamId::new(form.team_id),
        channel: ChannelId::new(form.channel_id),
        user: UserId::new(form.user_id),
        text: crate::slack::events::without_nul(&form.text),
        trigger_id: form.trigger_id,
        response_url: form.response_url.clone(),
    };
    let (answer, mut waiting) = tokio::sync::oneshot::channel();
    let worker = app.clone();
    let response_url = form.response_url;
    tokio::spawn(
        async move {
            let reply = run_command(&worker, &inv).await;
            if let Err(late) = answer.send(reply) {
                answer_late(&worker, response_url.as_deref(), late).await;
            }
        }
        .in_current_span(),
    );
    let reply = match tokio::time::timeout(REPLY_DEADLINE, &mut waiting).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(_)) => Reply::Ephemeral(COULD_NOT.into()),
        Err(_) => {
            // Closing first means the answer either arrived just now or goes to response_url.
            waiting.close();
            match waiting.try_recv() {
                Ok(reply) => reply,
                Err(_) => {
                    tracing::warn!("A command is taking longer than Slack waits; answered busy");
                    Reply::Ephemeral(BUSY.into())
                }
            }
        }
    };
    match reply {
        Reply::Ephemeral(text) => Some(json!({ "response_type": "ephemeral", "text": text })),
        Reply::EphemeralBlocks { text, blocks } => {
            Some(json!({ "response_type": "ephemeral", "text": text, "blocks": blocks }))
        }
        Reply::Nothing => None,
    }
}

const COULD_NOT: &str = ":warning: hereby could not do that just now (its database did not answer). Nothing was changed; please try again in a moment.";

async fn run_command(app: &App, inv: &Invocation) -> Reply {
    match commands::run(app, inv, Utc::now()).await {
        Ok(reply) => reply,
        Err(e) => {
            tracing::error!(error = ?e, "A command failed");
            Reply::Ephemeral(COULD_NOT.into())
        }
    }
}

/// Sends an answer that missed Slack's 3 s through the command's `response_url`.
async fn answer_late(app: &App, response_url: Option<&str>, reply: Reply) {
    let (text, blocks) = match reply {
        Reply::Ephemeral(text) => (text, None),
        Reply::EphemeralBlocks { text, blocks } => (text, Some(blocks)),
        Reply::Nothing => return,
    };
    let Some(url) = response_url else {
        tracing::warn!("A late answer had no response_url to go to");
        return;
    };
    if let Err(e) = crate::slack::respond::respond_with(
        url,
        &app.settings.api_origin,
        &text,
        blocks.as_ref(),
        std::time::Duration::from_secs(10),
    )
    .await
    {
        tracing::warn!(error = ?e, "Could not deliver a late answer to a command");
    }
}

/// Handles an interaction payload; the answer's JSON, or `None` for an empty acknowledgement.
#[tracing::instrument(name = "Handling an interaction", skip_all)]
pub async fn interaction(app: &App, payload: &Value) -> Result<Option<Value>, Refusal> {
    let Some(interaction) = crate::slack::interactions::decode(payload) else {
        let kind = payload
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("unknown");
        tracing::info!(kind, "Acknowledged an interaction hereby does not act on");
        return Ok(None);
    };
    match interactions::handle(app, interaction, Utc::now()).await {
        Ok(Answer::Ack) => Ok(None),
        Ok(Answer::Json(v)) => Ok(Some(v)),
        Err(e) => Err(Refusal::Unavailable(e)),
    }
}
