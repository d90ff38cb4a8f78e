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

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::dispatch::{self, EventsAnswer, Refusal, SlashCommand};
use crate::app::App;
use crate::secret::Secret;
use crate::slack::api::CallError;

/// Why a connection ended.
enum Closed {
    /// The socket closed (after Slack asked for a new one, or on its own).
    Reconnect,
    /// hereby is stopping.
    Shutdown,
}

/// How long the old socket keeps being served after Slack announced it will close it
/// (`refresh_requested` comes about 10 s ahead).
const DRAIN: Duration = Duration::from_secs(30);

/// Keeps a Socket Mode connection open until shutdown.
pub struct SocketMode {
    app: App,
    app_token: Secret,
    /// How often hereby pings; a connection silent for three of these is dead.
    ping_every: Duration,
}

impl SocketMode {
    pub fn new(app: App, app_token: Secret, ping_every: Duration) -> Self {
        SocketMode {
            app,
            app_token,
            ping_every,
        }
    }

    /// Connects, serves, reconnects with back-off after failures, until shutdown. When Slack
    /// announces that it will close a connection (`disconnect`), the next one is opened at once
    /// while the old one is still served, so no envelope waits for the switch.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let this = Arc::new(self);
        let mut failures: i64 = 0;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let (successor_tx, successor_rx) = oneshot::channel();
            let mut connection = tokio::spawn(
                this.clone()
                    .connection(shutdown.clone(), Some(successor_tx)),
            );
            let ended = tokio::select! {
                asked = successor_rx => match asked {
                    // The old socket goes on in its task until Slack closes it.
                    Ok(()) => None,
                    Err(_) => Some((&mut connection).await),
                },
                ended = &mut connection => Some(ended),
                _ = shutdown.changed() => return,
            };
            match ended {
                None => failures = 0,
                Some(Ok(Ok(Closed::Shutdown))) => return,
                Some(Ok(Ok(Closed::Reconnect))) => failures = 0,
                Some(Ok(Err(e))) => {
                    failures += 1;
                    let backoff = crate::jobs::backoff(Duration::from_secs(1), failures)
                        .min(Duration::from_secs(60));
                    // Opening a connection is Tier 1: when Slack says how long to wait, wait
                    // at least that long rather than be refused again.
                    let wait = match e.downcast_ref::<CallError>() {
                        Some(CallError::RateLimited { retry_after }) => backoff.max(*retry_after),
                        _ => backoff,
                    };
                    tracing::warn!(error = %format!("{e:#}"), ?wait, "Socket Mode connection failed; reconnecting");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = shutdown.changed() => return,
                    }
                }
                Some(Err(e)) => {
                    tracing::error!(error = %e, "A Socket Mode connection task ended abnormally");
                    failures += 1;
                }
            }
        }
    }

    /// Serves one connection: each envelope in a task of its own (so a slow command does not
    /// hold up the deliveries behind it), acknowledgements written as they are ready, a ping
    /// every `ping_every`, and an end when Slack is silent for three pings.
    async fn connection(
        self: Arc<Self>,
        mut shutdown: watch::Receiver<bool>,
        mut successor: Option<oneshot::Sender<()>>,
    ) -> anyhow::Result<Closed> {
        let url = self.app.slack.socket_mode_url(&self.app_token).await?;
        let (socket, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
        tracing::info!("Socket Mode connected");
        let (mut outgoing, mut incoming) = socket.split();
        let (acks_tx, mut acks) = mpsc::channel::<Value>(64);
        let mut ping = tokio::time::interval(self.ping_every);
        ping.tick().await;
        let mut last_heard = Instant::now();
        let mut draining_until: Option<Instant> = None;
        loop {
            let drain_deadline = async {
                match draining_until {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let frame = tokio::select! {
                frame = incoming.next() => frame,
                Some(ack) = acks.recv() => {
                    outgoing.send(Message::Text(ack.to_string().into())).await?;
                    continue;
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > self.ping_every * 3 {
                        anyhow::bail!("Slack has been silent for {:?}", last_heard.elapsed());
                    }
                    outgoing.send(Message::Ping(Vec::new().into())).await?;
                    continue;
                }
                _ = drain_deadline => return Ok(Closed::Reconnect),
                _ = shutdown.changed() => {
                    let _ = outgoing.send(Message::Close(None)).await;
                    return Ok(Closed::Shutdown);
                }
            };
            last_heard = Instant::now();
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
                    tracing::info!(reason, "Slack will close this connection; opening the next");
                    match successor.take() {
                        Some(next) => {
                            let _ = next.send(());
                            draining_until = Some(Instant::now() + DRAIN);
                        }
                        None => return Ok(Closed::Reconnect),
                    }
                }
                _ => {
                    let this = self.clone();
                    let acks = acks_tx.clone();
                    tokio::spawn(async move {
                        if let Some(ack) = this.answer(&envelope).await {
                            let _ = acks.send(ack).await;
                        }
                    });
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
