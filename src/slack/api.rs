//! The Web API gateway: the few Slack calls hereby makes, through slack-morphism, with errors
//! sorted into what to do next (wait, retry, or give up) and a time limit on every call.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use tokio::sync::OnceCell;

use super::pacing::Pacer;
use crate::domain::{ChannelId, UserId};
use crate::secret::Secret;

mod channels;
mod files;
mod history;
mod messages;

type Connector = SlackClientHyperConnector<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
>;

/// Why a Slack call did not succeed, sorted by what the caller should do.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Slack asked us to slow down (HTTP 429); try again after `retry_after`.
    #[error("rate limited by Slack; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// Slack or the network failed (5xx, timeout, connection); the call may or may not have
    /// taken effect, and should be retried.
    #[error("Slack is unavailable: {0}")]
    Unavailable(String),
    /// Slack answered `ok: false` with this error code; retrying the same call will not help.
    #[error("Slack refused the call: {code}")]
    Refused { code: String },
}

impl CallError {
    /// The `error` code Slack answered with, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Refused { code } => Some(code),
            _ => None,
        }
    }

    fn from_client(err: SlackClientError) -> CallError {
        match err {
            SlackClientError::RateLimitError(e) => CallError::RateLimited {
                retry_after: e.retry_after.unwrap_or(Duration::from_secs(1)),
            },
            SlackClientError::ApiError(e) => match e.code.as_str() {
                // Codes Slack documents as passing trouble on its side.
                // `rate_limited` is how `chat.postMessage` says "too many messages for now".
                "ratelimited" | "rate_limited" => CallError::RateLimited {
                    retry_after: Duration::from_secs(1),
                },
                "internal_error"
                | "fatal_error"
                | "service_unavailable"
                | "request_timeout"
                | "team_added_to_org" => CallError::Unavailable(e.code),
                _ => CallError::Refused { code: e.code },
            },
            // An HTTP 4xx is a refusal (a wrong SLACK_API_URL, a proxy that forbids it, an
            // upload address that expired), not an outage to wait out; 408 asks to try again.
            SlackClientError::HttpError(e)
                if e.status_code.is_client_error() && e.status_code.as_u16() != 408 =>
            {
                CallError::Refused {
                    code: format!("http_{}", e.status_code.as_u16()),
                }
            }
            other => CallError::Unavailable(other.to_string()),
        }
    }
}

fn page(
    messages: Vec<SlackHistoryMessage>,
    meta: Option<SlackResponseMetadata>,
) -> (Vec<serde_json::Value>, Option<String>) {
    let values = messages
        .iter()
        .filter_map(|m| serde_json::to_value(m).ok())
        .collect();
    let next = meta
        .and_then(|m| m.next_cursor)
        .map(|c| c.0)
        .filter(|c| !c.is_empty());
    (values, next)
}

/// A channel as `conversations.list` shows it.
#[derive(Debug, Clone)]
pub struct ChannelSummary {
    pub id: ChannelId,
    pub name: String,
    /// Who created it.
    pub creator: Option<UserId>,
    /// When, in seconds since the epoch.
    pub created: Option<i64>,
}

/// A message hereby posts.
#[derive(Debug, Clone, Default)]
pub struct OutgoingMessage {
    /// Plain text: the notification and the fallback for clients without blocks.
    pub text: String,
    /// Block Kit blocks as JSON, if any.
    pub blocks: Option<serde_json::Value>,
    /// Reply in this thread.
    pub thread_ts: Option<String>,
    /// Names the effect this message is; stored as message metadata so that a retry after an
    /// uncertain outcome can find the message instead of posting it twice.
    pub key: String,
}

impl OutgoingMessage {
    /// A plain-text message (no blocks, not in a thread) for the effect named `key`.
    pub fn plain(text: String, key: &str) -> Self {
        OutgoingMessage {
            text,
            blocks: None,
            thread_ts: None,
            key: key.to_string(),
        }
    }
}

/// The Slack Web API, as hereby uses it.
#[derive(Clone)]
pub struct SlackGateway {
    client: Arc<SlackClient<Connector>>,
    token: SlackApiToken,
    timeout: Duration,
    bot_user: Arc<OnceCell<UserId>>,
    pacer: Arc<Pacer>,
}

/// The HTTP(S) connector every outbound call to Slack uses: the system's root certificates,
/// plain HTTP allowed (a local stand-in of Slack, a proxy on loopback).
pub fn https_connector(
) -> anyhow::Result<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>>
{
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .context("Failed to load the system's TLS root certificates")?
        .https_or_http()
        .enable_http1()
        .build())
}

/// The largest page `conversations.history` and `conversations.replies` give.
const PAGE_LIMIT: u16 = 999;

/// The metadata event type on every message hereby posts.
pub const METADATA_EVENT_TYPE: &str = "hereby_effect";

impl SlackGateway {
    /// A gateway to the Web API at `api_url` (which may be plain http, for a local fake or a
    /// proxy), authenticated with the bot token; each call may take `timeout`, and methods are
    /// paced by their rate-limit tier counted over `rate_window` (a minute against Slack).
    pub fn new(
        api_url: &url::Url,
        bot_token: &Secret,
        timeout: Duration,
        rate_window: Duration,
    ) -> anyhow::Result<Self> {
        let https = https_connector()?;
        let base = api_url.as_str().trim_end_matches('/').to_string();
        let connector = SlackClientHyperConnector::with_connector(https).with_slack_api_url(&base);
        Ok(SlackGateway {
            client: Arc::new(SlackClient::new(connector)),
            token: SlackApiToken::new(SlackApiTokenValue::new(bot_token.expose().to_string())),
            timeout,
            bot_user: Arc::new(OnceCell::new()),
            pacer: Arc::new(Pacer::new(rate_window)),
        })
    }

    async fn call<T, F>(&self, method: &'static str, fut: F) -> Result<T, CallError>
    where
        F: std::future::Future<Output = ClientResult<T>>,
    {
        // Waiting for the tier is not part of the call's time limit.
        self.pacer.ready(method).await;
        metrics::counter!("hereby_slack_api_calls_total", "method" => method).increment(1);
        let result = match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => Err(CallError::Unavailable(format!("{method} timed out"))),
            Ok(Err(e)) => Err(CallError::from_client(e)),
            Ok(Ok(v)) => Ok(v),
        };
        if let Err(e) = &result {
            let kind = match e {
                CallError::RateLimited { .. } => "rate_limited",
                CallError::Unavailable(_) => "unavailable",
                CallError::Refused { .. } => "refused",
            };
            metrics::counter!("hereby_slack_api_errors_total", "method" => method, "kind" => kind)
                .increment(1);
            tracing::warn!(method, error = %e, "Slack call failed");
        }
        result
    }

    /// The bot's own user ID (`auth.test`), asked once.
    #[tracing::instrument(name = "Asking Slack who the bot is", skip(self))]
    pub async fn bot_user(&self) -> Result<UserId, CallError> {
        self.bot_user
            .get_or_try_init(|| async {
                let session = self.client.open_session(&self.token);
                let r = self.call("auth.test", session.auth_test()).await?;
                Ok(UserId::new(r.user_id.0))
            })
            .await
            .cloned()
    }

    /// `apps.connections.open` with the app-level token: a Socket Mode WebSocket URL.
    #[tracing::instrument(name = "Opening a Socket Mode connection", skip_all)]
    pub async fn socket_mode_url(&self, app_token: &Secret) -> Result<String, CallError> {
        let token = SlackApiToken::new(SlackApiTokenValue::new(app_token.expose().to_string()));
        let session = self.client.open_session(&token);
        let r = self
            .call(
                "apps.connections.open",
                session.apps_connections_open(&SlackApiAppsConnectionOpenRequest::new()),
            )
            .await?;
        Ok(r.url.0.to_string())
    }
}
