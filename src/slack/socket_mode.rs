//! Socket Mode: Slack's deliveries over a WebSocket that hereby opens, for installs without a
//! public URL. Same behaviour as HTTP — Events API payloads are stored before the envelope is
//! acknowledged (an envelope that cannot be stored is not acknowledged, so Slack redelivers it),
//! commands and interactions are answered in the acknowledgement — and the connection is
//! reopened whenever Slack asks (`disconnect`) or it drops.
//!
//! The connection URL comes from `apps.connections.open` through slack-morphism; the socket is
//! read directly (tokio-tungstenite, as slack-morphism's own listener does) so that each
//! payload is stored exactly as Slack sent it rather than after a round trip through typed
//! models.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::dispatch::{self, EventsAnswer, Refusal, SlashCommand};
use crate::app::App;
use crate::config::Secret;

/// Why a connection ended.
enum Closed {
    /// Slack asked us to reconnect, or the socket closed.
    Reconnect,
    /// hereby is stopping.
    Shutdown,
}

/// Keeps a Socket Mode connection open until shutdown.
pub struct SocketMode {
    app: App,
    app_token: Secret,
}

impl SocketMode {
    pub fn new(app: App, app_token: Secret) -> Self {
        SocketMode { app, app_token }
    }

    /// Connects, serves, reconnects with back-off after failures, until shutdown.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut failures: i64 = 0;
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.connection(&mut shutdown).await {
                Ok(Closed::Shutdown) => return,
                Ok(Closed::Reconnect) => failures = 0,
                Err(e) => {
                    failures += 1;
                    let wait = crate::jobs::backoff(Duration::from_secs(1), failures)
                        .min(Duration::from_secs(60));
                    tracing::warn!(error = %format!("{e:#}"), ?wait, "Socket Mode connection failed; reconnecting");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = shutdown.changed() => return,
                    }
                }
            }
        }
    }

    async fn connection(&self, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<Closed> {
        let url = self.app.slack.socket_mode_url(&self.app_token).await?;
        let (socket, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
        tracing::info!("Socket Mode connected");
        let (mut outgoing, mut incoming) = socket.split();
        loop {
            let frame = tokio::select! {
                frame = incoming.next() => frame,
                _ = shutdown.changed() => {
                    let _ = outgoing.send(Message::Close(None)).await;
                    return Ok(Closed::Shutdown);
                }
            };
            let text = match frame {
                None | Some(Ok(Message::Close(_))) => return Ok(Closed::Reconnect),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Message::Text(t))) => t.to_string(),
                Some(Ok(Message::Ping(p))) => {
                    outgoing.send(Message::Pong(p)).await?;
                    continue;
                }
                Some(Ok(_)) => continue,
            };
            let envelope: Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "Ignored a Socket Mode frame that is not JSON");
                    continue;
                }
            };
            match envelope.get("type").and_then(Value::as_str) {
                Some("hello") => tracing::info!("Slack said hello"),
                Some("disconnect") => {
                    let reason = envelope
                        .get("reason")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown");
                    tracing::info!(reason, "Slack asked to reconnect");
                    return Ok(Closed::Reconnect);
                }
                _ => {
                    if let Some(ack) = self.answer(&envelope).await {
                        outgoing.send(Message::Text(ack.to_string().into())).await?;
                    }
                }
            }
        }
    }

    /// The acknowledgement of one envelope, or `None` to let Slack redeliver it.
    async fn answer(&self, envelope: &Value) -> Option<Value> {
        let id = envelope.get("envelope_id").and_then(Value::as_str)?;
        let payload = envelope.get("payload").cloned().unwrap_or(Value::Null);
        let ack = |answer: Option<Value>| match answer {
            Some(p) => json!({"envelope_id": id, "payload": p}),
            None => json!({"envelope_id": id}),
        };
        match envelope.get("type").and_then(Value::as_str) {
            Some("events_api") => {
                let retry = envelope.get("retry_attempt").and_then(Value::as_i64);
                match dispatch::event_payload(&self.app, &payload.to_string(), retry).await {
                    Ok(EventsAnswer::Ack) | Ok(EventsAnswer::Challenge(_)) => Some(ack(None)),
                    Err(Refusal::BadRequest(why)) => {
                        tracing::warn!(%why, "Acknowledged an events_api envelope that is not an event");
                        Some(ack(None))
                    }
                    Err(Refusal::Unavailable(e)) => {
                        tracing::error!(error = ?e, "Could not store a delivery; not acknowledging so that Slack redelivers it");
                        None
                    }
                }
            }
            Some("slash_commands") => match serde_json::from_value::<SlashCommand>(payload) {
                Ok(form) => Some(ack(dispatch::slash_command(&self.app, form).await)),
                Err(e) => {
                    tracing::warn!(error = %e, "Acknowledged a slash command hereby cannot read");
                    Some(ack(None))
                }
            },
            Some("interactive") => match dispatch::interaction(&self.app, &payload).await {
                Ok(answer) => Some(ack(answer)),
                Err(Refusal::BadRequest(_)) => Some(ack(None)),
                Err(Refusal::Unavailable(e)) => {
                    tracing::error!(error = ?e, "Could not handle an interaction; not acknowledging");
                    None
                }
            },
            other => {
                tracing::info!(kind = ?other, "Acknowledged a Socket Mode envelope hereby does not act on");
                Some(ack(None))
            }
        }
    }
}
