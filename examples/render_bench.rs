//! Renders post-mortem drafts of synthetic incidents and reports the time and the process's
//! peak memory: `cargo run --release --example render_bench -- 50000` (one size per process,
//! so that peak memory belongs to that size). See BENCHMARKS.md.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use hereby::domain::actions::ActionStatus;
use hereby::domain::fixes::Outcome;
use hereby::domain::postmortem::{
    build, render, ActionRow, Entry, FixRow, IncidentFacts, LinkRow, LoggedMessage, Record,
    RoleSpan, DEFAULT_TEMPLATE,
};
use hereby::domain::timeline::TimelineEntry;
use hereby::domain::UserId;

fn record(messages: usize) -> Record {
    let start = Utc
        .with_ymd_and_hms(2026, 11, 21, 9, 0, 0)
        .single()
        .unwrap_or_default();
    let users: Vec<UserId> = (0..40).map(|i| UserId::new(format!("U{i:04}"))).collect();
    let names: HashMap<String, String> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.to_string(), format!("person-{i}")))
        .collect();
    let msgs: Vec<LoggedMessage> = (0..messages)
        .map(|i| {
            let ts = format!("{}.{:06}", 1_790_000_000 + i, i % 1_000_000);
            let parent = (i % 10 > 6).then(|| format!("{}.{:06}", 1_790_000_000 + i - i % 10, (i - i % 10) % 1_000_000));
            LoggedMessage {
                ts,
                thread_ts: parent,
                at: start + Duration::seconds(i as i64),
                user: Some(users[i % users.len()].clone()),
                author_name: None,
                from_app: i % 50 == 0,
                text: (i % 97 != 0).then(|| format!("message {i}: checking <https://grafana.example.com/d/{}|dashboard {}> with <@{}>\nsecond line", i % 300, i % 300, users[(i + 1) % users.len()])),
                files: None,
                edited: i % 13 == 0,
                highlighted: i % 500 == 0,
            }
        })
        .collect();
    Record {
        incident: IncidentFacts {
            number: 42,
            title: Some("Synthetic incident".into()),
            severity: Some("sev2".into()),
            declared_at: start,
            declared_by: users[0].clone(),
            resolved_at: Some(start + Duration::seconds(messages as i64 + 60)),
            description: None,
            channel_name: Some("incident-2026-11-21-synthetic".into()),
            postmortem_status: Default::default(),
            postmortem_owner: None,
        },
        roles: vec![RoleSpan {
            role: "incident commander".into(),
            user: users[0].clone(),
            by: users[0].clone(),
            from: start,
            until: None,
        }],
        entries: (0..messages / 100)
            .map(|i| Entry {
                at: start + Duration::seconds(i as i64 * 100),
                actor: Some(users[i % users.len()].clone()),
                what: TimelineEntry::Note {
                    text: format!("note {i}"),
                },
            })
            .collect(),
        messages: msgs,
        links: (0..300.min(messages))
            .map(|i| LinkRow {
                url: format!("https://grafana.example.com/d/{i}"),
                label: Some(format!("dashboard {i}")),
                by: Some(users[i % users.len()].clone()),
                at: start + Duration::seconds(i as i64),
                mentions: 3,
            })
            .collect(),
        fixes: (0..20)
            .map(|i| FixRow {
                number: i + 1,
                what: format!("fix {i}"),
                by: users[1].clone(),
                at: start + Duration::seconds(i * 60),
                outcome: if i == 19 {
                    Outcome::Worked
                } else {
                    Outcome::Failed
                },
                outcome_at: Some(start + Duration::seconds(i * 60)),
                message_ts: None,
            })
            .collect(),
        actions: (0..10)
            .map(|i| ActionRow {
                number: i + 1,
                text: format!("Alert when queue {i} backs up for 5 minutes"),
                owner: Some(users[2].clone()),
                due: None,
                status: ActionStatus::Open,
            })
            .collect(),
        participants: users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.clone(), start + Duration::seconds(i as i64)))
            .collect(),
        names,
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    let runs: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let rec = record(n);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default();
    let mut times = Vec::new();
    let mut bytes = 0;
    let mut timeline = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let draft = build(&rec, chrono_tz::Europe::Berlin, today);
        timeline = draft.timeline.len();
        match render(&draft, DEFAULT_TEMPLATE) {
            Ok(md) => bytes = md.len(),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "messages={n} runs={runs} median_ms={:.1} min_ms={:.1} max_ms={:.1} draft_kib={} timeline_lines={timeline} peak_rss_mib={:.1}",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        bytes / 1024,
        peak_rss_kib() as f64 / 1024.0
    );
}
