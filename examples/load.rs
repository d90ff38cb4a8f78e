//! Load generator for `POST /slack/events`: sends signed Events API message deliveries (each
//! with its own `event_id`, shaped like `tests/fixtures/message_event.json`) into one incident
//! channel of a server on this machine, at a fixed rate or as fast as a bounded number of
//! connections allows, for a bounded time and count. Reports acknowledged deliveries per
//! second, ack latency p50/p99/max, errors and non-200 answers, and the server's peak memory.
//!
//! ```text
//! cargo run --release --example load -- --channel C00000001 --rate 200 --duration 10 \
//!     --secret "$SLACK_SIGNING_SECRET" --server-pid "$(pgrep -n hereby)"
//! cargo run --release --example load -- --channel C00000001 --rate max --concurrency 32
//! ```
//!
//! Only loopback addresses are accepted as targets. Used by `bench/load.sh`; see BENCHMARKS.md.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::sync::Semaphore;

/// The most deliveries one run may send, whatever the flags say.
const MAX_COUNT: u64 = 2_000_000;
/// The longest one run may send for, in seconds.
const MAX_DURATION_SECS: u64 = 600;
/// Slack retries a delivery it has no answer to within this long.
const SLACK_ACK_DEADLINE: Duration = Duration::from_secs(3);

/// Sends signed message deliveries to a local hereby (or any Events API endpoint).
#[derive(Parser, Debug)]
#[command(name = "load")]
struct Args {
    /// The Events API endpoint; must be on a loopback address.
    #[arg(long, default_value = "http://127.0.0.1:3901/slack/events")]
    url: String,
    /// The signing secret the server verifies with.
    #[arg(long, env = "SLACK_SIGNING_SECRET", hide_env_values = true)]
    secret: String,
    /// The workspace of every delivery.
    #[arg(long, default_value = "T111")]
    team: String,
    /// The (incident) channel every message is posted in.
    #[arg(long)]
    channel: String,
    /// Deliveries per second, or `max` for as fast as `--concurrency` connections allow.
    #[arg(long, default_value = "200")]
    rate: String,
    /// The most requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// How long to send for, in seconds (at most 600).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Stop after this many deliveries (default: rate × duration at a fixed rate, else no
    /// limit but the duration; never more than 2,000,000).
    #[arg(long)]
    count: Option<u64>,
    /// How many different people post the messages.
    #[arg(long, default_value_t = 25)]
    users: u32,
    /// The server's process ID, for its peak memory (its child processes are counted too).
    #[arg(long)]
    server_pid: Option<u32>,
    /// The process ID of the server's database server, if it has one (PostgreSQL's
    /// postmaster), for the CPU its processes used during the run.
    #[arg(long)]
    database_pid: Option<u32>,
    /// How long one request may take before it counts as a timeout, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Print one JSON object instead of the human-readable report.
    #[arg(long)]
    json: bool,
    /// Also write each delivery's send time and latency to this file, one line each:
    /// milliseconds from the start of the run to when it was due (or sent, at `max`), then its
    /// latency in milliseconds, then its outcome. For placing slow answers in time.
    #[arg(long)]
    samples: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rate {
    PerSecond(f64),
    Max,
}

/// What happened to one delivery.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Acked,
    Status(u16),
    Timeout,
    Error,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    outcome: Outcome,
    latency: Duration,
    done_at: Instant,
}

/// Builds and signs deliveries; shared by every sender.
struct Generator {
    secret: String,
    team: String,
    channel: String,
    users: u32,
    run_tag: String,
    last_ts_micros: AtomicU64,
}

const TEXTS: &[&str] = &[
    "Looking at the dashboards now: https://grafana.example.com/d/api-latency?orgId=1&from=now-1h",
    "Error rate on checkout-api is at 4%, still well above the baseline",
    "Rolled back deploy 2291 in eu-west-1, watching the graphs",
    "Can someone from payments join? We see timeouts towards the PSP",
    "p99 for /v1/orders is 2.3 s, p50 looks normal",
    "Paged the database on-call, they are looking at replication lag",
    "Status page updated: https://status.example.com/incidents/8841",
    "Connection pool on orders-db is saturated (200/200)",
    "I think it started right after the config change at 09:12",
    "Mitigation is holding, error rate back to 0.3%",
    "Customer support reports failed checkouts in DE and FR",
    "Opened a ticket with the cloud provider: https://support.example.com/case/55120",
];

impl Generator {
    /// A Slack `ts` for now, unique within this run (Slack's are unique within a channel).
    fn next_ts(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or_default();
        let prev = self
            .last_ts_micros
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
                Some(now.max(last + 1))
            })
            .unwrap_or(now);
        let ts = now.max(prev + 1);
        format!("{}.{:06}", ts / 1_000_000, ts % 1_000_000)
    }

    /// The body of delivery `i`, as Slack would send it.
    fn body(&self, i: u64) -> String {
        let ts = self.next_ts();
        let user = format!("W{:04}", i % u64::from(self.users.max(1)));
        let text = TEXTS[(i % TEXTS.len() as u64) as usize];
        let secs = ts.split('.').next().unwrap_or("0");
        let event_time: i64 = secs.parse().unwrap_or_default();
        json!({
            "token": "verification-token",
            "team_id": self.team,
            "api_app_id": "A111",
            "event": {
                "client_msg_id": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                    rand::random::<u32>(), rand::random::<u16>(), rand::random::<u16>() & 0xfff,
                    rand::random::<u16>() & 0xfff, rand::random::<u64>() & 0xffff_ffff_ffff),
                "type": "message",
                "text": text,
                "user": user,
                "ts": ts,
                "team": self.team,
                "blocks": [{
                    "type": "rich_text",
                    "block_id": format!("b{}", i % 1000),
                    "elements": [{
                        "type": "rich_text_section",
                        "elements": [{"type": "text", "text": text}]
                    }]
                }],
                "channel": self.channel,
                "event_ts": ts,
                "channel_type": "channel"
            },
            "type": "event_callback",
            "event_id": format!("Ev{}{:08}", self.run_tag, i),
            "event_time": event_time,
            "authorizations": [{
                "enterprise_id": null,
                "team_id": self.team,
                "user_id": "UHEREBY",
                "is_bot": true,
                "is_enterprise_install": false
            }],
            "is_ext_shared_channel": false,
            "event_context": format!("1-message-{}-{}", self.team, self.channel)
        })
        .to_string()
    }

    /// Slack's signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`.
    fn sign(&self, timestamp: &str, body: &str) -> Result<String, String> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes())
            .map_err(|e| format!("bad signing secret: {e}"))?;
        mac.update(b"v0:");
        mac.update(timestamp.as_bytes());
        mac.update(b":");
        mac.update(body.as_bytes());
        Ok(format!("v0={}", hex::encode(mac.finalize().into_bytes())))
    }
}

/// Sends delivery `i` and says how it went; latency counts from `since`.
async fn send(
    client: &reqwest::Client,
    url: &str,
    generator: &Generator,
    i: u64,
    since: Instant,
) -> Sample {
    let body = generator.body(i);
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
        .to_string();
    let outcome = match generator.sign(&timestamp, &body) {
        Err(_) => Outcome::Error,
        Ok(signature) => {
            let sent = client
                .post(url)
                .header("content-type", "application/json")
                .header("user-agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
                .header("x-slack-request-timestamp", timestamp)
                .header("x-slack-signature", signature)
                .body(body)
                .send()
                .await;
            match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    // Read the whole answer, as Slack does, before counting it.
                    match response.bytes().await {
                        Ok(_) if status == 200 => Outcome::Acked,
                        Ok(_) => Outcome::Status(status),
                        Err(e) if e.is_timeout() => Outcome::Timeout,
                        Err(_) => Outcome::Error,
                    }
                }
                Err(e) if e.is_timeout() => Outcome::Timeout,
                Err(_) => Outcome::Error,
            }
        }
    };
    let done_at = Instant::now();
    Sample {
        outcome,
        latency: done_at.saturating_duration_since(since),
        done_at,
    }
}

/// Only addresses on this machine may be targets.
fn check_loopback(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("--url {url:?}: {e}"))?;
    if parsed.scheme() != "http" {
        return Err(format!(
            "--url {url:?}: only http:// on loopback is supported"
        ));
    }
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    if loopback {
        Ok(())
    } else {
        Err(format!(
            "--url {url:?}: the load generator only targets loopback addresses (127.0.0.1, ::1, localhost)"
        ))
    }
}

fn parse_rate(raw: &str) -> Result<Rate, String> {
    if raw.eq_ignore_ascii_case("max") {
        return Ok(Rate::Max);
    }
    match raw.parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() && r <= 1_000_000.0 => Ok(Rate::PerSecond(r)),
        _ => Err(format!(
            "--rate {raw:?}: give deliveries per second (0 < rate <= 1000000) or `max`"
        )),
    }
}

/// The parent of each process, from `/proc/*/stat`.
fn parents() -> Vec<(u32, u32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name may hold spaces and parentheses: read after the last ')'.
            let rest = stat.get(stat.rfind(')')? + 1..)?;
            let ppid = rest.split_whitespace().nth(1)?.parse::<u32>().ok()?;
            Some((pid, ppid))
        })
        .collect()
}

/// `pid` and all its descendants (a pre-forking server's workers).
fn process_tree(pid: u32) -> Vec<u32> {
    let all = parents();
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            all.iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p)
                .filter(|p| *p != parent),
        );
        i += 1;
    }
    tree
}

/// A `/proc/<pid>/status` field in KiB (`VmHWM`, `VmRSS`).
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// A field summed over the server's process tree.
fn tree_kib(pid: u32, field: &str) -> Option<u64> {
    sum_kib(&process_tree(pid), field)
}

/// A field summed over `pids` (those still running).
fn sum_kib(pids: &[u32], field: &str) -> Option<u64> {
    let values: Vec<u64> = pids.iter().filter_map(|p| status_kib(*p, field)).collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

/// CPU time (user + system), in seconds, of the process whose `/proc/<pid>/stat` is at `path`
/// (all its threads).
fn stat_cpu_seconds(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on Linux.
    Some((utime + stime) / 100.0)
}

/// This process's CPU time, for how much of the machine the generator took.
fn own_cpu_seconds() -> Option<f64> {
    stat_cpu_seconds("/proc/self/stat")
}

/// The CPU time of `pid` and its descendants: how much of the machine the server took.
fn tree_cpu_seconds(pid: u32) -> Option<f64> {
    let seconds: Vec<f64> = process_tree(pid)
        .into_iter()
        .filter_map(|p| stat_cpu_seconds(&format!("/proc/{p}/stat")))
        .collect();
    (!seconds.is_empty()).then(|| seconds.iter().sum())
}

/// Says when each delivery of a fixed-rate run is due, from a thread of its own: the runtime's
/// timer wakes up to a millisecond late (its wheel counts whole milliseconds), which would
/// count against every delivery's latency, while a thread's sleep is accurate to tens of
/// microseconds. Yields `(i, due)` for every delivery due before `deadline`.
fn pace(
    start: Instant,
    deadline: Instant,
    total: u64,
    rate: f64,
) -> tokio::sync::mpsc::UnboundedReceiver<(u64, Instant)> {
    let (due_now, receiver) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for i in 0..total {
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            if due >= deadline {
                break;
            }
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if due_now.send((i, due)).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Writes `--samples`: one line per delivery, in the order they were due.
fn write_samples(path: &std::path::Path, start: Instant, samples: &[Sample]) -> Result<(), String> {
    let mut lines: Vec<(f64, String)> = samples
        .iter()
        .map(|s| {
            let sent = s
                .done_at
                .saturating_duration_since(start)
                .saturating_sub(s.latency)
                .as_secs_f64();
            let outcome = match s.outcome {
                Outcome::Acked => "ok".to_string(),
                Outcome::Status(code) => code.to_string(),
                Outcome::Timeout => "timeout".to_string(),
                Outcome::Error => "error".to_string(),
            };
            let line = format!("{:.3} {:.3} {outcome}", sent * 1000.0, ms(s.latency));
            (sent, line)
        })
        .collect();
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    // The wall clock at the start, to line the samples up with other records of the run.
    let started = SystemTime::now()
        .checked_sub(start.elapsed())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .unwrap_or_default();
    let header = format!(
        "# run started at {:.6} (Unix time, s); sent ms from then, latency ms, outcome\n",
        started.as_secs_f64()
    );
    let text: String = std::iter::once(header)
        .chain(lines.into_iter().map(|(_, l)| l + "\n"))
        .collect();
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    check_loopback(&args.url)?;
    let rate = parse_rate(&args.rate)?;
    if args.concurrency == 0 || args.concurrency > 4096 {
        return Err("--concurrency must be between 1 and 4096".into());
    }
    let duration = Duration::from_secs(args.duration.clamp(1, MAX_DURATION_SECS));
    let total = match (args.count, rate) {
        (Some(n), _) => n,
        (None, Rate::PerSecond(r)) => (r * duration.as_secs_f64()).ceil() as u64,
        (None, Rate::Max) => MAX_COUNT,
    }
    .min(MAX_COUNT);
    let timeout = Duration::from_millis(args.timeout_ms.clamp(100, 60_000));
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let run_tag: String = (0..5)
        .map(|_| {
            let n = rand::random::<u8>() % 36;
            char::from_digit(u32::from(n), 36)
                .unwrap_or('0')
                .to_ascii_uppercase()
        })
        .collect();
    let generator = Arc::new(Generator {
        secret: args.secret.clone(),
        team: args.team.clone(),
        channel: args.channel.clone(),
        users: args.users,
        run_tag,
        last_ts_micros: AtomicU64::new(0),
    });
    let url: Arc<str> = Arc::from(args.url.as_str());

    // The server's memory, sampled while the load runs (summed over its processes).
    let rss_peak = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = args.server_pid.map(|pid| {
        let (peak, on) = (rss_peak.clone(), sampling.clone());
        tokio::task::spawn_blocking(move || {
            // Finding the tree reads every process's `/proc/<pid>/stat`, milliseconds of CPU
            // taken from the machine under test: once a second, and each sample reads only the
            // tree's own `status` files.
            let mut tree = Vec::new();
            let mut sample = 0u64;
            while on.load(Ordering::Relaxed) {
                if sample.is_multiple_of(10) {
                    tree = process_tree(pid);
                }
                sample += 1;
                if let Some(kib) = sum_kib(&tree, "VmRSS") {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    });

    let cpu_before = CpuUsed::so_far(&args);
    let start = Instant::now();
    let deadline = start + duration;
    let samples: Vec<Sample> = match rate {
        Rate::PerSecond(r) => {
            // Open loop: delivery i is due at start + i/r whatever happened to the ones
            // before, and its latency counts from when it was due, so a slow server cannot
            // hide its queue by slowing the sender down.
            let samples = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
            let permits = Arc::new(Semaphore::new(args.concurrency));
            let mut tasks = tokio::task::JoinSet::new();
            let mut due_now = pace(start, deadline, total, r);
            while let Some((i, due)) = due_now.recv().await {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let (client, url, generator, samples) = (
                    client.clone(),
                    url.clone(),
                    generator.clone(),
                    samples.clone(),
                );
                tasks.spawn(async move {
                    let s = send(&client, &url, &generator, i, due).await;
                    drop(permit);
                    if let Ok(mut v) = samples.lock() {
                        v.push(s);
                    }
                });
                // Reap finished tasks as we go so the set stays small.
                while tasks.try_join_next().is_some() {}
            }
            while tasks.join_next().await.is_some() {}
            let collected = samples.lock().map(|v| v.clone()).unwrap_or_default();
            collected
        }
        Rate::Max => {
            // Closed loop: each connection sends its next delivery as soon as the last one
            // is answered.
            let next = Arc::new(AtomicU64::new(0));
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..args.concurrency {
                let (client, url, generator, next) =
                    (client.clone(), url.clone(), generator.clone(), next.clone());
                tasks.spawn(async move {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total || Instant::now() >= deadline {
                            break;
                        }
                        mine.push(send(&client, &url, &generator, i, Instant::now()).await);
                    }
                    mine
                });
            }
            let mut all = Vec::new();
            while let Some(done) = tasks.join_next().await {
                match done {
                    Ok(mine) => all.extend(mine),
                    Err(e) => return Err(format!("a sender failed: {e}")),
                }
            }
            all
        }
    };
    let cpu = CpuUsed::so_far(&args).since(cpu_before);
    sampling.store(false, Ordering::Relaxed);
    if let Some(s) = sampler {
        let _ = s.await;
    }
    report(&args, rate, start, &samples, cpu, &rss_peak)
}

/// CPU seconds (user + system) used by the generator, the server's processes and the
/// database server's processes: so far, or over the run.
#[derive(Debug, Clone, Copy)]
struct CpuUsed {
    generator: Option<f64>,
    server: Option<f64>,
    database: Option<f64>,
}

impl CpuUsed {
    /// What each has used since it started.
    fn so_far(args: &Args) -> CpuUsed {
        CpuUsed {
            generator: own_cpu_seconds(),
            server: args.server_pid.and_then(tree_cpu_seconds),
            database: args.database_pid.and_then(tree_cpu_seconds),
        }
    }

    /// What each used between `before` and `self`.
    fn since(self, before: CpuUsed) -> CpuUsed {
        let used = |after: Option<f64>, before: Option<f64>| after.zip(before).map(|(a, b)| a - b);
        CpuUsed {
            generator: used(self.generator, before.generator),
            server: used(self.server, before.server),
            database: used(self.database, before.database),
        }
    }
}

fn report(
    args: &Args,
    rate: Rate,
    start: Instant,
    samples: &[Sample],
    cpu: CpuUsed,
    rss_peak: &AtomicU64,
) -> Result<(), String> {
    if let Some(path) = &args.samples {
        write_samples(path, start, samples)?;
    }
    let mut acked: Vec<Duration> = Vec::with_capacity(samples.len());
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let (mut timeouts, mut errors) = (0u64, 0u64);
    for s in samples {
        match s.outcome {
            Outcome::Acked => acked.push(s.latency),
            Outcome::Status(code) => *statuses.entry(code).or_default() += 1,
            Outcome::Timeout => timeouts += 1,
            Outcome::Error => errors += 1,
        }
    }
    acked.sort_unstable();
    let last = samples.iter().map(|s| s.done_at).max().unwrap_or(start);
    let elapsed = last.saturating_duration_since(start).as_secs_f64();
    let acked_per_s = if elapsed > 0.0 {
        acked.len() as f64 / elapsed
    } else {
        0.0
    };
    let late = acked.iter().filter(|d| **d > SLACK_ACK_DEADLINE).count();
    let non_200: u64 = statuses.values().sum();
    let hwm = args.server_pid.and_then(|pid| tree_kib(pid, "VmHWM"));
    let rss_now = args.server_pid.and_then(|pid| tree_kib(pid, "VmRSS"));
    let processes = args.server_pid.map(|pid| process_tree(pid).len());
    let rss_sampled = rss_peak.load(Ordering::Relaxed);
    let rate_text = match rate {
        Rate::PerSecond(r) => format!("{r}"),
        Rate::Max => "max".to_string(),
    };
    let (p50, p99, max) = (
        percentile(&acked, 50.0),
        percentile(&acked, 99.0),
        acked.last().copied().unwrap_or_default(),
    );
    if args.json {
        let v: Value = json!({
            "rate": rate_text,
            "concurrency": args.concurrency,
            "sent": samples.len(),
            "acked": acked.len(),
            "elapsed_s": elapsed,
            "acked_per_s": acked_per_s,
            "p50_ms": ms(p50),
            "p99_ms": ms(p99),
            "max_ms": ms(max),
            "acked_over_3s": late,
            "non_200": non_200,
            "statuses": statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "timeouts": timeouts,
            "errors": errors,
            "server_pid": args.server_pid,
            "server_processes": processes,
            "server_vmhwm_kib": hwm,
            "server_rss_sampled_peak_kib": (rss_sampled > 0).then_some(rss_sampled),
            "server_rss_end_kib": rss_now,
            "client_cpu_s": cpu.generator,
            "server_cpu_s": cpu.server,
            "database_cpu_s": cpu.database,
        });
        println!("{v}");
    } else {
        println!("target          {}", args.url);
        println!(
            "rate            {rate_text}/s, at most {} in flight",
            args.concurrency
        );
        println!("sent            {} in {elapsed:.2} s", samples.len());
        println!("acked (200)     {} = {acked_per_s:.1}/s", acked.len());
        println!(
            "ack latency     p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({late} over 3 s)",
            ms(p50),
            ms(p99),
            ms(max)
        );
        println!("non-200         {non_200} {statuses:?}");
        println!("timeouts        {timeouts}");
        println!("other errors    {errors}");
        if let Some(pid) = args.server_pid {
            let kib = |v: Option<u64>| {
                v.map_or("?".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
            };
            println!(
                "server {pid}    peak RSS (VmHWM) {}, sampled peak RSS {}, RSS now {} over {} process(es)",
                kib(hwm),
                kib((rss_sampled > 0).then_some(rss_sampled)),
                kib(rss_now),
                processes.unwrap_or(0)
            );
        }
        if let Some(c) = cpu.generator {
            println!("generator CPU   {c:.2} s");
        }
        if let Some(c) = cpu.server {
            println!("server CPU      {c:.2} s (its processes, all threads)");
        }
        if let Some(c) = cpu.database {
            println!("database CPU    {c:.2} s (its processes, all threads)");
        }
    }
    Ok(())
}
