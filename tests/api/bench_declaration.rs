//! Benchmark, not a test (`#[ignore]`, run by hand): how long a declaration takes, from the
//! moment its phrase is delivered to the moment its welcome is posted in the new channel
//! (delivery stored and acknowledged, processed, the channel created, the declarer invited,
//! the topic set, the welcome posted: five Slack calls in order), over 200 declarations made
//! one after another against the local fake Slack. The fake's message `ts` is the time it took
//! the welcome (microseconds), so the figure does not depend on how often the test looks.
//!
//! `cargo test --release --test api bench_declaration -- --ignored --nocapture`

use std::time::Duration;

use crate::helpers::*;

#[tokio::test]
#[ignore = "a benchmark: 200 declarations"]
async fn bench_declaration_latency() {
    // Slack allows 20 channel creations a minute (Tier 2); the pacer would dominate after the
    // 20th, so this measures hereby itself with a window too short to pace anything.
    let app = spawn_app_with(Options {
        rate_window: Some(Duration::from_millis(1)),
        ..Options::default()
    })
    .await;
    let mut latencies = Vec::new();
    for n in 0..200u64 {
        let sent = chrono::Utc::now();
        let payload = message_event(
            &format!("EvLatency{n}"),
            "C111",
            "W111",
            &ts(n),
            &format!("I hereby declare this an incident: latency {n}"),
        );
        assert_eq!(app.post_event(&payload).await.status(), 200);
        let name = format!("incident-{}-latency-{n}", today());
        let welcome = loop {
            let found = app
                .slack
                .channel_named(&name)
                .and_then(|c| app.slack.messages_in(&c.id).first().map(|m| m.ts.clone()));
            if let Some(ts) = found {
                break ts;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let (secs, micros) = welcome.split_once('.').unwrap();
        let at = secs.parse::<i64>().unwrap() * 1_000_000 + micros.parse::<i64>().unwrap();
        latencies.push((at - sent.timestamp_micros()) as f64 / 1000.0);
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pick = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "declaration to welcome over {} declarations: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        pick(0.5),
        pick(0.9),
        pick(0.99),
        pick(1.0)
    );
}
