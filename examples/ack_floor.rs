//! The floor under any acknowledgement latency on this machine: a server that takes Events API
//! deliveries as hereby does (HTTP/1.1 through axum and hyper, Slack's signature checked with
//! hereby's own verifier) and answers 200 having done nothing else, or, with `--durable`,
//! having appended the delivery to a file and `fdatasync`ed it on a writer thread of its own
//! (group commit: what queued during one sync goes in the next). No database, no recording, no
//! log: what no store can go below. Measured with `examples/load.rs` at a fixed rate, its
//! latency percentiles are those of the load generator, HTTP over loopback and the machine
//! (and, durable, of one sync per batch), side by side with hereby's in the same minutes.
//!
//! ```text
//! cargo run --release --example ack_floor -- --port 3950 --secret "$SLACK_SIGNING_SECRET" [--durable DIR]
//! cargo run --release --example load -- --url http://127.0.0.1:3950/slack/events --channel C1 --rate 200
//! ```
//!
//! Listens on 127.0.0.1 only, and stops by itself after `--seconds`. See BENCHMARKS.md.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use clap::Parser;
use hereby::secret::Secret;
use hereby::slack::verify::verify_request;
use tokio::sync::oneshot;

/// Answers signed deliveries at once, or once each is synced to a file.
#[derive(Parser, Debug)]
#[command(name = "ack_floor")]
struct Args {
    /// The port on 127.0.0.1 to listen on.
    #[arg(long, default_value_t = 3950)]
    port: u16,
    /// The signing secret deliveries are verified with.
    #[arg(long, env = "SLACK_SIGNING_SECRET", hide_env_values = true)]
    secret: String,
    /// Append each delivery to a file in this directory and sync it before answering.
    #[arg(long)]
    durable: Option<std::path::PathBuf>,
    /// Stop after this many seconds (at most 3,600).
    #[arg(long, default_value_t = 600)]
    seconds: u64,
}

/// A delivery for the writer thread, and where to say it is synced.
type Append = (Bytes, oneshot::Sender<bool>);

#[derive(Clone)]
struct Floor {
    secret: Secret,
    writer: Option<mpsc::Sender<Append>>,
}

async fn events(State(floor): State<Floor>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    let verified = verify_request(
        &floor.secret,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        &body,
        now,
    );
    if verified.is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    let Some(writer) = &floor.writer else {
        return StatusCode::OK;
    };
    let (synced, answer) = oneshot::channel();
    if writer.send((body, synced)).is_err() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match answer.await {
        Ok(true) => StatusCode::OK,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Appends what queued while the last sync ran, syncs once, and answers each.
fn write_batches(mut file: std::fs::File, queue: mpsc::Receiver<Append>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter().take(255));
        let written = batch
            .iter()
            .try_for_each(|(body, _)| file.write_all(body))
            .and_then(|()| file.sync_data());
        for (_, synced) in batch {
            let _ = synced.send(written.is_ok());
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        (1..=3_600).contains(&args.seconds),
        "--seconds must be 1 to 3600"
    );
    let writer = match &args.durable {
        Some(dir) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("ack_floor.log"))?;
            let (writer, queue) = mpsc::channel();
            std::thread::spawn(move || write_batches(file, queue));
            Some(writer)
        }
        None => None,
    };
    let floor = Floor {
        secret: Secret::new(args.secret),
        writer,
    };
    let app = Router::new()
        .route("/slack/events", post(events))
        .with_state(floor);
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
    let stop = tokio::time::sleep(Duration::from_secs(args.seconds));
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    Ok(())
}
