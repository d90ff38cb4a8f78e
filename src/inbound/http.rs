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

use super::dispatch::{self, EventsAnswer, Refusal, SlashCommand};
use crate::app::App;
use crate::secret::Secret;
use crate::server::{bounded_body, BodyBudget};
use crate::slack::verify::{verify_request, VerifyError};

/// Slack's requests are small; anything over this is refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the HTTP handlers need.
#[derive(Clone)]
pub struct Ingress {
    pub app: App,
    pub signing_secret: Secret,
}

/// The routes, ready to serve; without a signing secret (Socket Mode only) there is no
/// `/slack/*`.
/// `/slack/*` bodies are read within `budget` (a deadline, and a share of the bytes held by
/// requests not yet verified).
pub fn router(state: Ingress, slack_over_http: bool, budget: BodyBudget) -> Router {
    let slack = Router::new()
        .route("/slack/events", post(events))
        .route("/slack/commands", post(commands))
        .route("/slack/interactions", post(interactions))
        .layer(axum::middleware::from_fn_with_state(budget, bounded_body));
    let base = if slack_over_http {
        slack
    } else {
        Router::new()
    };
    base.route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
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

impl From<Refusal> for IngressError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::BadRequest(why) => IngressError::BadRequest(why),
            Refusal::Unavailable(e) => IngressError::Unavailable(e),
        }
    }
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
    let started = std::time::Instant::now();
    let text = verified(&state, &headers, &body)?;
    let retry_num = headers
        .get("x-slack-retry-num")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let answer = match dispatch::event_payload(&state.app, text, retry_num).await? {
        EventsAnswer::Challenge(challenge) => {
            Json(json!({ "challenge": challenge })).into_response()
        }
        EventsAnswer::Ack => StatusCode::OK.into_response(),
    };
    metrics::histogram!("hereby_events_ack_seconds").record(started.elapsed().as_secs_f64());
    Ok(answer)
}

#[tracing::instrument(name = "Receiving a slash command", skip_all)]
async fn commands(
    State(state): State<Ingress>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, IngressError> {
    let text = verified(&state, &headers, &body)?;
    let form: SlashCommand = serde_urlencoded::from_str(text)
        .map_err(|e| IngressError::BadRequest(format!("not a slash command form: {e}")))?;
    Ok(match dispatch::slash_command(&state.app, form).await {
        Some(answer) => Json(answer).into_response(),
        None => StatusCode::OK.into_response(),
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
    Ok(match dispatch::interaction(&state.app, &payload).await? {
        Some(answer) => Json(answer).into_response(),
        None => StatusCode::OK.into_response(),
    })
}

/// Prometheus text format; the outbox depth is read from the database at each scrape.
async fn metrics_text(State(state): State<Ingress>) -> Response {
    if let Ok(depth) = state.app.store.outbox_depth().await {
        metrics::gauge!("hereby_outbox_depth").set(depth as f64);
    }
    if let Ok(failed) = state.app.store.outbox_failed().await {
        metrics::gauge!("hereby_outbox_failed").set(failed as f64);
    }
    match crate::metrics::handle() {
        Some(h) => ([("content-type", "text/plain; version=0.0.4")], h.render()).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response(),
    }
}

/// 200 when the database answers, 503 otherwise.
async fn healthz(State(state): State<Ingress>) -> Response {
    if state.app.store.can_write().await {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}
