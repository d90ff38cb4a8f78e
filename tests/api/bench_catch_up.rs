//! Benchmark, not a test (`#[ignore]`, run by hand): catching up an incident of 500 threads and
//! 20,000 messages that hereby never saw, against the fake with Slack's real Tier-3 window of a
//! minute (or `HEREBY_BENCH_WINDOW_MS`). Prints the time and the Web API calls it made; the
//! figures are in BENCHMARKS.md.
//!
//! `cargo test --test api bench_catch_up -- --ignored --nocapture`

use std::time::{Duration, Instant};

use crate::helpers::*;

#[tokio::test]
#[ignore = "a benchmark: about ten minutes under Slack's real Tier-3 limits"]
async fn bench_catch_up_of_500_threads_and_20000_messages() {
    let window = std::env::var("HEREBY_BENCH_WINDOW_MS")
        .ok()
        .and_then(|w| w.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(60));
    let app = spawn_app_with(Options {
        rate_window: Some(window),
        ..Options::default()
    })
    .await;
    let c = app.declared("bench").await;
    app.slack.set_page_size(999);
    // 500 threads of a parent and 30 replies, and 4,500 plain messages between them.
    let mut n = 0u64;
    let mut stamp = || {
        n += 1;
        format!("{}.{:06}", 1_700_000_000 + n / 1000, n % 1000 * 1000 + 1)
    };
    for t in 0..500 {
        let parent = stamp();
        app.slack
            .add_user_message(&c, &parent, None, "W222", &format!("thread {t}"));
        for r in 0..30 {
            let reply = stamp();
            app.slack
                .add_user_message(&c, &reply, Some(&parent), "W333", &format!("reply {r}"));
        }
        for p in 0..9 {
            let plain = stamp();
            app.slack
                .add_user_message(&c, &plain, None, "W444", &format!("plain {t}.{p}"));
        }
    }
    let calls_before = app.slack.calls().len();
    let started = Instant::now();
    app.command(&c, "W111", "resolve").await;
    for _ in 0..(window.as_secs() * 20 + 600) {
        if !app.slack.shared_files().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let took = started.elapsed();
    assert!(!app.slack.shared_files().is_empty(), "the draft was shared");
    let calls = &app.slack.calls()[calls_before..];
    let count = |m: &str| calls.iter().filter(|c| c.method == m).count();
    println!(
        "window {window:?}: caught up and shared in {took:?}; conversations.history {}, conversations.replies {}, all Web API calls {}, over-tier 429s {}; messages recorded {}",
        count("conversations.history"),
        count("conversations.replies"),
        calls.len(),
        app.slack.rate_limited_calls(),
        app.count("messages").await,
    );
}
