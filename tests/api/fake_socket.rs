//! A local WebSocket server speaking Slack's Socket Mode envelopes (shapes from Slack's
//! python-slack-sdk mock server): it says `hello`, sends what a test queues, records every
//! frame the client sends back (the acknowledgements). After a `disconnect` it keeps the old
//! socket open a moment, as Slack does (`refresh_requested` comes ahead of the close), and it
//! can go silent without closing, like a half-open connection.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone)]
pub struct FakeSocket {
    pub url: String,
    queue: Arc<Mutex<VecDeque<Value>>>,
    queued: Arc<Notify>,
    received: Arc<Mutex<Vec<Value>>>,
    connections: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    max_open: Arc<AtomicUsize>,
    silent: Arc<AtomicBool>,
}

/// Slack's hello, as the python-slack-sdk mock server sends it.
fn hello() -> Value {
    json!({"type": "hello", "num_connections": 1, "debug_info": {"host": "applink-111-xxx", "build_number": 10, "approximate_connection_time": 18060}, "connection_info": {"app_id": "A111"}})
}

impl FakeSocket {
    pub async fn start() -> FakeSocket {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeSocket {
            url: format!("ws://{}/link/?ticket=test", listener.local_addr().unwrap()),
            queue: Arc::default(),
            queued: Arc::default(),
            received: Arc::default(),
            connections: Arc::default(),
            open: Arc::default(),
            max_open: Arc::default(),
            silent: Arc::default(),
        };
        let server = fake.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
                    continue;
                };
                server.connections.fetch_add(1, Ordering::SeqCst);
                let open = server.open.fetch_add(1, Ordering::SeqCst) + 1;
                server.max_open.fetch_max(open, Ordering::SeqCst);
                let conn = server.clone();
                tokio::spawn(async move {
                    conn.serve(ws).await;
                    conn.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        fake
    }

    async fn serve(&self, ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) {
        let (mut tx, mut rx) = ws.split();
        if tx
            .send(Message::Text(hello().to_string().into()))
            .await
            .is_err()
        {
            return;
        }
        let mut closing_at: Option<tokio::time::Instant> = None;
        loop {
            if self.silent.load(Ordering::SeqCst) {
                // Half-open: neither reads (so no pongs) nor writes, and never closes.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            if closing_at.is_some_and(|at| tokio::time::Instant::now() >= at) {
                let _ = tx.send(Message::Close(None)).await;
                return;
            }
            let next = if closing_at.is_none() {
                self.queue.lock().unwrap().pop_front()
            } else {
                None
            };
            if let Some(envelope) = next {
                if envelope["type"] == "disconnect" {
                    // Slack closes the socket about 10 s after announcing it.
                    closing_at = Some(tokio::time::Instant::now() + Duration::from_secs(10));
                }
                if tx
                    .send(Message::Text(envelope.to_string().into()))
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
            tokio::select! {
                _ = self.queued.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                frame = rx.next() => match frame {
                    Some(Ok(Message::Text(t))) => {
                        if let Ok(v) = serde_json::from_str::<Value>(&t) {
                            self.received.lock().unwrap().push(v);
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => return,
                },
            }
        }
    }

    /// Queues an envelope for the connected client.
    pub fn send(&self, envelope: Value) {
        self.queue.lock().unwrap().push_back(envelope);
        self.queued.notify_one();
    }

    /// Frames the client sent (acknowledgements).
    pub fn received(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// The most connections that were open at once.
    pub fn max_open(&self) -> usize {
        self.max_open.load(Ordering::SeqCst)
    }

    /// Stops answering (and reading) on every open connection, without closing any: a
    /// half-open connection. A new connection is served normally again.
    pub fn go_silent(&self) {
        self.silent.store(true, Ordering::SeqCst);
    }

    /// Serves new connections normally again.
    pub fn speak_again(&self) {
        self.silent.store(false, Ordering::SeqCst);
    }

    /// Waits (a bounded while) for the acknowledgement of `envelope_id`.
    pub async fn ack_of(&self, envelope_id: &str) -> Value {
        for _ in 0..200 {
            if let Some(ack) = self
                .received()
                .into_iter()
                .find(|a| a["envelope_id"] == envelope_id)
            {
                return ack;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no acknowledgement of {envelope_id}; received {:?}",
            self.received()
        );
    }
}
