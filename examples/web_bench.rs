//! Times the web view's incident page for a synthetic incident of N messages, as the server
//! serves it over loopback: `cargo run --release --example web_bench -- 50000 5`.
//! `--page=<path>` times another page (`--page=/incidents/1?log=250`, the log's last page).
//! With `--serve` it keeps serving instead and prints a login link (for screenshots).
//! See BENCHMARKS.md.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use hereby::config::Config;
use hereby::domain::fixes::Outcome;
use hereby::domain::incident::{Severity, Status, Title};
use hereby::domain::roles::Role;
use hereby::domain::timeline::TimelineEntry;
use hereby::domain::{ChannelId, TeamId, UserId};
use hereby::startup::Application;
use hereby::store::{incidents, to_millis, Store};

const TEAM: &str = "TBENCH";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let messages: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let runs: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    let serve = args.iter().any(|a| a == "--serve");
    let dir = tempfile::tempdir()?;
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());
    let vars: HashMap<String, String> = [
        ("SLACK_BOT_TOKEN", "xoxb-bench"),
        ("SLACK_SIGNING_SECRET", "bench"),
        ("SLACK_API_URL", "http://127.0.0.1:9/api"),
        ("DATABASE_URL", db.as_str()),
        ("HEREBY_LISTEN", "127.0.0.1:0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let app = Application::build(Config::from_vars(&vars)?).await?;
    let addr = format!("http://{}", app.local_addr()?);
    let store = Store::connect(&db).await?;
    let seeding = Instant::now();
    seed(&store, messages).await?;
    eprintln!(
        "seeded {messages} messages in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    tokio::spawn(app.run_until(std::future::pending()));

    let link = hereby::web::auth::login_link(&store, &addr, "U0000", Some(TEAM)).await?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    if serve {
        println!("{link}");
        std::future::pending::<()>().await;
    }
    let signed_in = http.post(&link).send().await?;
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_string();
    let path = args
        .iter()
        .find_map(|a| a.strip_prefix("--page="))
        .unwrap_or("/incidents/1");
    let page = format!("{addr}{path}");
    let mut times = Vec::new();
    let mut size = 0;
    for i in 0..=runs {
        let started = Instant::now();
        let r = http.get(&page).header("cookie", &cookie).send().await?;
        anyhow::ensure!(r.status() == 200, "the page answered {}", r.status());
        size = r.bytes().await?.len();
        // The first request warms the connection pool and SQLite's page cache.
        if i > 0 {
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "| {messages} | {:.0} ms | {:.0} ms | {:.0} ms | {} KiB |",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        size / 1024
    );
    Ok(())
}

/// One resolved incident over three hours: status and severity changes, fixes, updates, role
/// changes, highlights, threads, links, action items, 40 people and a stored draft.
async fn seed(store: &Store, messages: usize) -> anyhow::Result<()> {
    let start = Utc
        .with_ymd_and_hms(2026, 11, 21, 9, 0, 0)
        .single()
        .unwrap_or_default();
    let at = |min: i64| to_millis(start + Duration::minutes(min));
    let span_ms = 180 * 60 * 1000;
    let mut tx = store.begin_write().await?;
    let q = |sql: &'static str| sqlx::query(sql);
    q("INSERT INTO team_counters (team_id, last_number) VALUES ($1, 1)")
        .bind(TEAM)
        .execute(&mut *tx)
        .await?;
    q("INSERT INTO incidents (id, team_id, number, title, status, severity, declared_by, declared_at, origin_channel, channel_id, channel_name, created_at, resolved_at)
       VALUES (1, $1, 1, 'Checkout payments failing', 'resolved', 'sev1', 'U0000', $2, 'CGENERAL', 'CINC', 'incident-2026-11-21-checkout-payments-failing', $2, $3)")
        .bind(TEAM).bind(at(0)).bind(at(180)).execute(&mut *tx).await?;
    for i in 0..40 {
        q("INSERT INTO users (team_id, user_id, display_name, real_name, fetched_at) VALUES ($1, $2, $3, $3, $4)")
            .bind(TEAM).bind(format!("U{i:04}")).bind(format!("person-{i}")).bind(at(0)).execute(&mut *tx).await?;
        q("INSERT INTO participants (team_id, incident_id, user_id, first_seen_at) VALUES ($1, 1, $2, $3)")
            .bind(TEAM).bind(format!("U{i:04}")).bind(at(i)).execute(&mut *tx).await?;
    }
    for (role, user, from, until) in [
        ("commander", "U0000", 0, Some(90)),
        ("commander", "U0003", 90, None),
        ("comms", "U0001", 4, None),
        ("scribe", "U0002", 6, None),
    ] {
        q("INSERT INTO role_assignments (team_id, incident_id, role, user_id, assigned_by, assigned_at, unassigned_at) VALUES ($1, 1, $2, $3, 'U0000', $4, $5)")
            .bind(TEAM).bind(role).bind(user).bind(at(from)).bind(until.map(at)).execute(&mut *tx).await?;
    }
    let fix = |number: i64, what: &str, outcome: Outcome| TimelineEntry::FixTried {
        number,
        what: what.into(),
        outcome,
        message_ts: None,
    };
    let role = |role: Role, user: &str, previous: Option<&str>| TimelineEntry::RoleAssigned {
        role,
        user: UserId::new(user),
        previous: previous.map(UserId::new),
    };
    let update = |text: &str| TimelineEntry::UpdatePosted { text: text.into() };
    let entries = [
        (
            0,
            TimelineEntry::Declared {
                title: Title::parse("Checkout payments failing").ok(),
                origin_channel: ChannelId::new("CGENERAL"),
            },
        ),
        (4, role(Role::Comms, "U0001", None)),
        (6, role(Role::Scribe, "U0002", None)),
        (
            8,
            TimelineEntry::SeverityChanged {
                from: None,
                to: Severity::Sev2,
            },
        ),
        (25, fix(1, "restart the checkout pods", Outcome::Failed)),
        (35, update("Card payments fail for about 30% of customers.")),
        (
            40,
            TimelineEntry::SeverityChanged {
                from: Some(Severity::Sev2),
                to: Severity::Sev1,
            },
        ),
        (
            55,
            TimelineEntry::StatusChanged {
                from: Status::Investigating,
                to: Status::Identified,
            },
        ),
        (70, fix(2, "revert the pool size change", Outcome::Worked)),
        (90, role(Role::Commander, "U0003", Some("U0000"))),
        (
            95,
            TimelineEntry::StatusChanged {
                from: Status::Identified,
                to: Status::Monitoring,
            },
        ),
        (120, update("Error rate back to normal; watching.")),
        (
            130,
            TimelineEntry::SeverityChanged {
                from: Some(Severity::Sev1),
                to: Severity::Sev3,
            },
        ),
        (
            180,
            TimelineEntry::Resolved {
                from: Status::Monitoring,
            },
        ),
    ];
    let (team, by) = (TeamId::new(TEAM), UserId::new("U0000"));
    for (min, entry) in &entries {
        let when = start + Duration::minutes(*min);
        incidents::add_timeline(&mut tx, &team, 1, entry, Some(&by), when).await?;
    }
    for (n, what, outcome, min) in [
        (1, "restart the checkout pods", "failed", 25),
        (2, "revert the pool size change", "worked", 70),
    ] {
        q("INSERT INTO fix_attempts (team_id, incident_id, number, description, outcome, tried_by, tried_at, outcome_by, outcome_at) VALUES ($1, 1, $2, $3, $4, 'U0004', $5, 'U0004', $5)")
            .bind(TEAM).bind(n as i64).bind(what).bind(outcome).bind(at(min)).execute(&mut *tx).await?;
    }
    for (n, text, owner, status) in [
        (
            1,
            "Alert when the DB pool is above 90%",
            Some("U0004"),
            "open",
        ),
        (
            2,
            "Load-test pool size changes before release",
            Some("U0005"),
            "done",
        ),
        (3, "Document the pool settings in the runbook", None, "open"),
    ] {
        q("INSERT INTO action_items (team_id, incident_id, number, text, owner, due, status, created_by, created_at) VALUES ($1, 1, $2, $3, $4, '2026-12-15', $5, 'U0000', $6)")
            .bind(TEAM).bind(n as i64).bind(text).bind(owner).bind(status).bind(at(150)).execute(&mut *tx).await?;
    }
    for i in 0..300 {
        q("INSERT INTO links (team_id, incident_id, url, label, first_by, first_at, mentions) VALUES ($1, 1, $2, $3, 'U0001', $4, 3)")
            .bind(TEAM).bind(format!("https://grafana.example.com/d/{i}")).bind(format!("dashboard {i}")).bind(at(i % 180)).execute(&mut *tx).await?;
    }
    for i in 0..messages {
        let posted = to_millis(start) + (i as i64 * span_ms / messages.max(1) as i64);
        let ts = format!("{}.{:06}", posted / 1000, i % 1_000_000);
        let parent = (i % 10 > 6).then(|| {
            let p = i - i % 10;
            format!(
                "{}.{:06}",
                (to_millis(start) + p as i64 * span_ms / messages.max(1) as i64) / 1000,
                p % 1_000_000
            )
        });
        q("INSERT INTO messages (team_id, incident_id, channel_id, ts, thread_ts, user_id, author_kind, text, posted_at, highlighted, source) VALUES ($1, 1, 'CINC', $2, $3, $4, 'person', $5, $6, $7, 'event')")
            .bind(TEAM).bind(ts).bind(parent).bind(format!("U{:04}", i % 40))
            .bind(format!("message {i}: checking <https://grafana.example.com/d/{}|dashboard> — pool at {}%", i % 300, 50 + i % 50))
            .bind(posted).bind(i64::from(i % 5000 == 17)).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    let mut conn = store.conn().await?;
    let incident =
        hereby::store::incidents::get(&mut conn, &hereby::domain::TeamId::new(TEAM), 1).await?;
    let (_, markdown) = hereby::app::postmortem::current_draft(
        &mut conn,
        &incident,
        chrono_tz::UTC,
        hereby::domain::postmortem::DEFAULT_TEMPLATE,
        start + Duration::hours(4),
    )
    .await?;
    q("INSERT INTO postmortems (team_id, incident_id, version, markdown, created_at) VALUES ($1, 1, 1, $2, $3)")
        .bind(TEAM).bind(markdown).bind(at(181)).execute(&mut *conn).await?;
    Ok(())
}
