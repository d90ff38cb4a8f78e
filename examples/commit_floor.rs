//! The floor under hereby's acknowledgement latency on SQLite: one SQLite connection through
//! sqlx (write-ahead log, `synchronous = FULL`, as hereby runs it) committing one small
//! transaction at a fixed rate, open loop, with nothing else around it: no HTTP, no load
//! generator, no hereby. As in hereby, every statement is handed to SQLite's own thread and
//! back, so the figures are the disk's and those hand-offs' (on a machine whose CPU slows down
//! in windows, mostly the hand-offs': see BENCHMARKS.md). Each transaction inserts a
//! delivery-sized row and runs `--statements` more (alternately a look-up and a small insert,
//! as recording a message does); its latency counts from when it was due, so a slow commit
//! delays the ones behind it as it would delay requests. The log is checkpointed once a second
//! on a second connection, as hereby does.
//!
//! ```text
//! cargo run --release --example commit_floor -- --rate 200 --seconds 10 --statements 10
//! ```
//!
//! Prints one JSON line: p50, p90, p99 and max in milliseconds. See BENCHMARKS.md.

use std::time::{Duration, Instant};

use clap::Parser;
use sqlx::{Connection, Executor};

/// Commits small SQLite transactions at a fixed rate and reports their latency.
#[derive(Parser, Debug)]
#[command(name = "commit_floor")]
struct Args {
    /// Transactions per second (at most 5,000).
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// How long to run, in seconds (at most 600).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Statements in each transaction besides the insert of the row (a delivery recorded as it
    /// arrives takes about ten).
    #[arg(long, default_value_t = 0)]
    statements: usize,
    /// Bytes in each row (a message delivery is about 1,200).
    #[arg(long, default_value_t = 1200)]
    payload_bytes: usize,
    /// Where to put the scratch database (a directory on the disk to measure).
    #[arg(long, default_value_t = std::env::temp_dir().display().to_string())]
    dir: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!((1..=5_000).contains(&args.rate), "--rate must be 1 to 5000");
    anyhow::ensure!(
        (1..=600).contains(&args.seconds),
        "--seconds must be 1 to 600"
    );
    sqlx::any::install_default_drivers();
    let dir = tempfile::Builder::new()
        .prefix("hereby-commit-floor.")
        .tempdir_in(&args.dir)?;
    let url = format!("sqlite://{}/floor.db?mode=rwc", dir.path().display());
    let mut conn = sqlx::AnyConnection::connect(&url).await?;
    conn.execute("PRAGMA journal_mode = WAL").await?;
    conn.execute("PRAGMA synchronous = FULL").await?;
    conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
    conn.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        .await?;
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, note TEXT NOT NULL)")
        .await?;

    // Beside the writer, as `jobs::checkpoint` does.
    let mut checkpointer = sqlx::AnyConnection::connect(&url).await?;
    let checkpoints = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
            if let Err(e) = checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                eprintln!("commit_floor: checkpoint failed: {e}");
            }
        }
    });

    let payload = "x".repeat(args.payload_bytes);
    let total = args.rate as u64 * args.seconds;
    let mut millis = Vec::with_capacity(total as usize);
    let start = Instant::now();
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / args.rate as f64);
        // The runtime's timer wakes up to a millisecond late, which would count against every
        // transaction; a thread sleep is accurate to microseconds (the checkpoint task runs
        // while this one awaits the database).
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let id = sqlx::query("INSERT INTO rows (payload) VALUES ($1)")
            .bind(&payload)
            .execute(&mut *tx)
            .await?
            .last_insert_id()
            .unwrap_or_default();
        for k in 0..args.statements {
            if k % 2 == 0 {
                let _: Option<(i64,)> = sqlx::query_as("SELECT id FROM rows WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            } else {
                sqlx::query("INSERT INTO notes (note) VALUES ($1)")
                    .bind("seen")
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        millis.push(due.elapsed().as_secs_f64() * 1000.0);
    }
    checkpoints.abort();
    millis.sort_by(f64::total_cmp);
    let at = |q: f64| millis[((millis.len() - 1) as f64 * q).round() as usize];
    println!(
        "{}",
        serde_json::json!({
            "rate": args.rate, "statements": args.statements, "transactions": millis.len(),
            "p50_ms": at(0.5), "p90_ms": at(0.9), "p99_ms": at(0.99), "max_ms": at(1.0),
        })
    );
    Ok(())
}
