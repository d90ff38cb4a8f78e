//! HTTP ingress: `/slack/events`, `/slack/commands`, `/slack/interactions` and `/healthz`.
//!
//! Every `/slack/*` request is verified before anything else happens; a delivery is committed
//! to the database before Slack gets its acknowledgement, and processed afterwards.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::events::Envelope;
use super::verify::{verify_request, VerifyError};
use crate::app::commands::{self, Invocation, Reply};
use crate::app::interactions::{self, Answer};
use crate::app::App;
use crate::config::Secret;
use crate::domain::{ChannelId, TeamId, UserId};
use crate::store::deliveries::{NewDelivery, Recorded};

/// Slack's requests are small; anything over this is refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the HTTP handlers need.
#[derive(Clone)]
pub struct Ingress {
    pub app: App,
    pub signing_secret: Secret,
}

/// The routes, ready to serve.
pub fn router(state: Ingress) -> Router {
    Router::new()
        .route("/slack/events", post(events))
        .route("/slack/commands", post(commands))
        .route("/slack/interactions", post(interactions))
        .route("/healthz", get(healthz))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Why a request was not accepted; each variant says what Slack (or the caller) gets.
#[derive(Debug, thiserror::Error)]
pub enum IngressError {
    /// 401: not signed by Slack with our secret, or too old. Nothing is stored.
    #[error("request not verified: {0}")]
    Unverified(#[from] VerifyError),
    /// 400: signed, but not a request Slack sends.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 503: the database cannot take the delivery now; Slack will retry it.
    #[error("temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

impl IntoResponse for IngressError {
    fn into_response(self) -> Response {
        match &self {
            IngressError::Unverified(e) => {
                tracing::warn!(reason = %e, "Refused an unverified request");
                (
                    StatusCode::UNAUTHORIZED,
                    "request signature could not be verified",
                )
                    .into_response()
            }
            IngressError::BadRequest(why) => {
                tracing::warn!(%why, "Refused a malformed request");
                (StatusCode::BAD_REQUEST, why.clone()).into_response()
            }
            IngressError::Unavailable(e) => {
                tracing::error!(error = ?e, "Could not store a request; answering 503 so that Slack retries");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily unavailable, please retry",
                )
                    .into_response()
            }
        }
    }
}

fn verified<'a>(
    state: &Ingress,
    headers: &HeaderMap,
    body: &'a Bytes,
) -> Result<&'a str, IngressError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    verify_request(
        &state.signing_secret,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        body,
        Utc::now().timestamp(),
    )?;
    std::str::from_utf8(body).map_err(|_| IngressError::BadRequest("body is not UTF-8".into()))
}

#[tracing::instrument(name = "Receiving an Events API request", skip_all)]
async fn events(
    State(state): State<Ingress>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, IngressError> {
    let text = verified(&state, &headers, &body)?;
    let envelope: Envelope = serde_json::from_str(text)
        .map_err(|e| IngressError::BadRequest(format!("not an Events API payload: {e}")))?;
    match envelope.kind.as_str() {
        "url_verification" => {
            let challenge = envelope.challenge.clone().ok_or_else(|| {
                IngressError::BadRequest("url_verification without challenge".into())
            })?;
            Ok(Json(json!({ "challenge": challenge })).into_response())
        }
        "event_callback" => {
            let (Some(team_id), Some(event_id)) =
                (envelope.team_id.as_deref(), envelope.event_id.as_deref())
            else {
                return Err(IngressError::BadRequest(
                    "event_callback without team_id or event_id".into(),
                ));
            };
            let retry_num = headers
                .get("x-slack-retry-num")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i64>().ok());
            let delivery = NewDelivery {
                team_id,
                event_id,
                event_type: envelope.event_type(),
                payload: text,
                retry_num,
            };
            match state
                .app
                .store
                .record_delivery(&delivery, Utc::now())
                .await
                .map_err(IngressError::Unavailable)?
            {
                Recorded::New => {
                    tracing::info!(
                        event_id,
                        event_type = delivery.event_type,
                        "Delivery stored"
                    );
                    state.app.deliveries_waiting.notify_one();
                }
                Recorded::Duplicate => {
                    tracing::info!(
                        event_id,
                        ?retry_num,
                        "Redelivery of a stored event acknowledged and ignored"
                    );
                }
            }
            Ok(StatusCode::OK.into_response())
        }
        other => {
            // app_rate_limited and future envelope types need only an acknowledgement.
            tracing::info!(
                kind = other,
                "Acknowledged an Events API request hereby does not act on"
            );
            Ok(StatusCode::OK.into_response())
        }
    }
}

/// The form Slack posts for a slash command.
#[derive(Debug, Deserialize)]
struct SlashCommandForm {
    team_id: String,
    channel_id: String,
    user_id: String,
    #[serde(default)]
    text: String,
    trigger_id: Option<String>,
}

#[tracing::instrument(name = "Receiving a slash command", skip_all)]
async fn commands(
    State(state): State<Ingress>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, IngressError> {
    let text = verified(&state, &headers, &body)?;
    let form: SlashCommandForm = serde_urlencoded::from_str(text)
        .map_err(|e| IngressError::BadRequest(format!("not a slash command form: {e}")))?;
    let inv = Invocation {
        team: TeamId::new(form.team_id),
        channel: ChannelId::new(form.channel_id),
        user: UserId::new(form.user_id),
        text: form.text,
        trigger_id: form.trigger_id,
    };
    let reply = match commands::run(&state.app, &inv, Utc::now()).await {
        Ok(reply) => reply,
        Err(e) => {
            tracing::error!(error = ?e, "A command failed");
            Reply::Ephemeral(":warning: hereby could not do that just now (its database did not answer). Nothing was changed; please try again in a moment.".into())
        }
    };
    Ok(match reply {
        Reply::Ephemeral(text) => {
            Json(json!({ "response_type": "ephemeral", "text": text })).into_response()
        }
        Reply::Nothing => StatusCode::OK.into_response(),
    })
}

#[derive(Debug, Deserialize)]
struct InteractionForm {
    payload: String,
}

/// Interactive components (buttons, modals, shortcuts) post here.
#[tracing::instrument(name = "Receiving an interaction", skip_all)]
async fn interactions(
    State(state): State<Ingress>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, IngressError> {
    let text = verified(&state, &headers, &body)?;
    let form: InteractionForm = serde_urlencoded::from_str(text)
        .map_err(|e| IngressError::BadRequest(format!("not an interaction form: {e}")))?;
    let payload: serde_json::Value = serde_json::from_str(&form.payload)
        .map_err(|e| IngressError::BadRequest(format!("interaction payload is not JSON: {e}")))?;
    let Some(interaction) = super::interactions::decode(&payload) else {
        let kind = payload
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("unknown");
        tracing::info!(kind, "Acknowledged an interaction hereby does not act on");
        return Ok(StatusCode::OK.into_response());
    };
    match interactions::handle(&state.app, interaction, Utc::now()).await {
        Ok(Answer::Ack) => Ok(StatusCode::OK.into_response()),
        Ok(Answer::Json(v)) => Ok(Json(v).into_response()),
        Err(e) => Err(IngressError::Unavailable(e)),
    }
}

/// 200 when the database answers, 503 otherwise.
async fn healthz(State(state): State<Ingress>) -> Response {
    if state.app.store.ping().await {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}
