//! `spawn_app()`: the real server on a free port with its own SQLite file and fake Slack, and
//! typed helpers that sign requests exactly as Slack does.

use std::collections::HashMap;
use std::time::Duration;

use hereby::config::Config;
use hereby::startup::Application;
use hereby::store::Store;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::fake_slack::{FakeSlack, BOT_TOKEN};

/// Marks a setting to leave out.
const UNSET: &str = "\u{0}unset";

pub const SIGNING_SECRET: &str = "test-signing-secret-0123456789";
pub const TEAM: &str = "T111";

/// Slack's signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`.
pub fn slack_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

pub struct TestApp {
    pub addr: String,
    /// The running server's use cases, to step workers with `run_once`.
    pub app: hereby::app::App,
    pub slack: FakeSlack,
    pub db_url: String,
    pub client: reqwest::Client,
    dir_handle: std::sync::Arc<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    extra: Vec<(String, String)>,
}

/// Options for [`spawn_app_with`].
#[derive(Default)]
pub struct Options {
    pub env: Vec<(&'static str, String)>,
    /// Settings to leave unset (e.g. the signing secret, for Socket Mode only).
    pub without: Vec<&'static str>,
    /// The window of the fake's rate tiers (and hereby's pacing), if not the suite's
    /// compressed one: a minute to measure against Slack's real limits.
    pub rate_window: Option<Duration>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(opts: Options) -> TestApp {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let db_url = match std::env::var("HEREBY_TEST_POSTGRES_URL") {
        Ok(server) if !server.is_empty() => fresh_postgres_database(&server).await,
        _ => format!("sqlite://{}", dir.path().join("hereby.db").display()),
    };
    let slack = FakeSlack::start().await;
    let mut env = opts.env;
    if let Some(window) = opts.rate_window {
        slack.set_rate_window(window);
        env.push((
            "HEREBY_SLACK_RATE_WINDOW_MS",
            window.as_millis().to_string(),
        ));
    }
    let extra = env
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain(
            opts.without
                .into_iter()
                .map(|k| (k.to_string(), UNSET.to_string())),
        )
        .collect();
    start(dir, db_url, slack, extra).await
}

/// With `HEREBY_TEST_POSTGRES_URL=postgres://user@host:port` the suite runs on PostgreSQL,
/// each test in a database of its own.
pub async fn fresh_postgres_database(server: &str) -> String {
    use sqlx::Connection;
    let server = server.trim_end_matches('/');
    let name = format!("hereby_test_{:016x}", rand::random::<u64>());
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("PostgreSQL answers");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    format!("{server}/{name}")
}

async fn start(
    dir: std::sync::Arc<tempfile::TempDir>,
    db_url: String,
    slack: FakeSlack,
    extra: Vec<(String, String)>,
) -> TestApp {
    let mut vars: HashMap<String, String> = [
        ("SLACK_BOT_TOKEN", BOT_TOKEN.to_string()),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_string()),
        ("SLACK_API_URL", slack.url.clone()),
        ("SLACK_URL", slack.web_url()),
        ("DATABASE_URL", db_url.clone()),
        ("HEREBY_LISTEN", "127.0.0.1:0".to_string()),
        ("HEREBY_ANNOUNCE_CHANNEL", "CANNOUNCE".to_string()),
        ("HEREBY_RETRY_BASE_MS", "50".to_string()),
        ("HEREBY_SLACK_TIMEOUT_MS", "1500".to_string()),
        // The fake counts Slack's per-minute rate tiers per second.
        (
            "HEREBY_SLACK_RATE_WINDOW_MS",
            crate::fake_slack::RATE_WINDOW.as_millis().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in &extra {
        if v == UNSET {
            vars.remove(k);
        } else {
            vars.insert(k.clone(), v.clone());
        }
    }
    let config = Config::from_vars(&vars).expect("test configuration is valid");
    let db_url = vars.get("DATABASE_URL").cloned().unwrap_or(db_url);
    let app = Application::build(config)
        .await
        .expect("the application starts");
    let addr = format!("http://{}", app.local_addr().unwrap());
    let use_cases = app.app();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        app: use_cases,
        slack,
        db_url,
        client: reqwest::Client::new(),
        dir_handle: dir,
        stop: Some(stop),
        task: Some(task),
        extra,
    }
}

impl TestApp {
    /// Stops the server gracefully.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Stops this server and starts a new one on the same database and fake Slack.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        start(
            self.dir_handle.clone(),
            self.db_url.clone(),
            self.slack.clone(),
            self.extra.clone(),
        )
        .await
    }

    /// The database, opened beside the server.
    pub async fn store(&self) -> Store {
        Store::connect(&self.db_url).await.unwrap()
    }

    /// Stores an incident as declared by W111 from C111 now, straight in the database (no
    /// channel, no Slack call): for pages that list many.
    pub async fn insert_incident(&self, title: &str, private: bool) {
        use hereby::domain::incident::{DeclareIncident, Origin, Title};
        use hereby::domain::{ChannelId, TeamId, UserId};
        let now = chrono::Utc::now();
        let d = DeclareIncident {
            private,
            team: TeamId::new(TEAM),
            declarer: UserId::new("W111"),
            title: Some(Title::parse(title).unwrap()),
            origin: Origin::Command {
                channel: ChannelId::new("C111"),
            },
            at: now,
        };
        let mut conn = self.store().await.conn().await.unwrap();
        hereby::store::incidents::insert(&mut conn, &d, now)
            .await
            .unwrap();
    }

    /// POSTs `body` to `path`, signed as Slack signs it at `timestamp`.
    pub async fn post_signed_at(
        &self,
        path: &str,
        body: &str,
        content_type: &str,
        timestamp: i64,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let url = format!("{}{path}", self.addr);
        let mut req = signed_post(&self.client, &url, content_type, body.as_bytes(), timestamp);
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    pub async fn post_event(&self, payload: &Value) -> reqwest::Response {
        self.post_signed_at(
            "/slack/events",
            &payload.to_string(),
            "application/json",
            now_secs(),
            &[],
        )
        .await
    }

    /// Delivers `payload` as Slack does: a 503 (hereby could not store it within its
    /// deadline, as on a machine running two test suites at once) is retried, up to Slack's
    /// three retries, each marked with its number. The last status.
    pub async fn deliver_as_slack(&self, payload: &Value) -> reqwest::StatusCode {
        let body = payload.to_string();
        let mut status = self.post_event(payload).await.status();
        for retry in 1..=3 {
            if status != reqwest::StatusCode::SERVICE_UNAVAILABLE {
                break;
            }
            let n = retry.to_string();
            let headers = [
                ("x-slack-retry-num", n.as_str()),
                ("x-slack-retry-reason", "http_error"),
            ];
            status = self
                .post_signed_at(
                    "/slack/events",
                    &body,
                    "application/json",
                    now_secs(),
                    &headers,
                )
                .await
                .status();
        }
        status
    }

    /// Sends `/incident <text>` as `user` from `channel`; returns Slack's view of the answer.
    pub async fn command(&self, channel: &str, user: &str, text: &str) -> Value {
        let pairs = slash_command(&self.slack, channel, user, text);
        let r = self
            .post_command(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// Posts a slash command with exactly these form fields, signed; the raw response.
    pub async fn post_command<'a>(
        &self,
        fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.post_signed_at(
            "/slack/commands",
            &body,
            "application/x-www-form-urlencoded",
            now_secs(),
            &[],
        )
        .await
    }

    /// Sends `/incident <text>` with a `trigger_id`, as Slack does; returns the raw response.
    pub async fn command_raw(&self, channel: &str, user: &str, text: &str) -> reqwest::Response {
        let (trigger, response_url) = (self.slack.trigger_id(), self.slack.response_url());
        self.post_command([
            ("team_id", TEAM),
            ("channel_id", channel),
            ("user_id", user),
            ("command", "/incident"),
            ("text", text),
            ("trigger_id", trigger.as_str()),
            ("response_url", response_url.as_str()),
        ])
        .await
    }

    /// Posts an interaction payload (`payload=<json>`), signed.
    pub async fn interaction(&self, payload: &Value) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", &payload.to_string())
            .finish();
        self.post_signed_at(
            "/slack/interactions",
            &body,
            "application/x-www-form-urlencoded",
            now_secs(),
            &[],
        )
        .await
    }

    /// Declares an incident by the phrase as W111 and waits until its welcome is pinned;
    /// returns the new incident channel's ID (not that of an incident declared before).
    pub async fn declared(&self, title: &str) -> String {
        let before: Vec<String> = self.slack.channels().into_iter().map(|c| c.id).collect();
        let payload = message_event(
            &format!("Ev{}", rand::random::<u32>()),
            "C111",
            "W111",
            // This very microsecond: not later than what the test does next, and not one of
            // the stamps `ts` gives a test's own messages.
            &ts_now(),
            &format!("I hereby declare this an incident: {title}"),
        );
        assert_eq!(self.deliver_as_slack(&payload).await, 200);
        self.eventually_some("the declaration is complete", |s| {
            s.channels()
                .into_iter()
                .find(|c| {
                    !before.contains(&c.id)
                        && !c.pins.is_empty()
                        && c.topic.contains("Commander")
                        && c.members.contains(&"W111".to_string())
                })
                .map(|c| c.id)
        })
        .await
    }

    /// Timeline kinds of incident 1, in order.
    pub async fn timeline(&self) -> Vec<String> {
        let store = self.store().await;
        let mut conn = store.pool().acquire().await.unwrap();
        hereby::store::incidents::timeline_kinds(&mut conn, &hereby::domain::TeamId::new(TEAM), 1)
            .await
            .unwrap()
    }

    /// Waits (a bounded while) until `check` holds; the suite's workers run in the background.
    pub async fn eventually(&self, what: &str, mut check: impl FnMut(&FakeSlack) -> bool) {
        for _ in 0..200 {
            if check(&self.slack) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "timed out waiting until {what}; Slack saw: {:#?}",
            self.slack.calls()
        );
    }

    /// Waits (a bounded while) until `find` finds something in what Slack saw; returns it.
    pub async fn eventually_some<T>(
        &self,
        what: &str,
        mut find: impl FnMut(&FakeSlack) -> Option<T>,
    ) -> T {
        let mut found = None;
        self.eventually(what, |s| {
            found = find(s);
            found.is_some()
        })
        .await;
        found.expect("eventually saw it")
    }

    /// Waits (a bounded while) until every stored delivery is processed.
    pub async fn wait_processed(&self) {
        for _ in 0..200 {
            if self.count_where("deliveries", "processed_at IS NULL").await == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("deliveries were not processed");
    }

    /// Runs the `hereby` command line on this test's database; its standard output. Fails the
    /// test (with hereby's error output) if the command does not succeed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hereby"))
            .args(args)
            .env_clear()
            .env("DATABASE_URL", &self.db_url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits (a bounded while) until no Slack step is waiting or under way.
    pub async fn wait_for_outbox_idle(&self) {
        for _ in 0..200 {
            if self.count_where("outbox", "status = 'pending'").await == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the outbox did not empty");
    }

    /// Waits (a bounded while) until `table` has at least `n` rows.
    pub async fn wait_for_rows(&self, table: &str, n: i64) {
        for _ in 0..200 {
            if self.count(table).await >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{table} has fewer than {n} rows");
    }

    /// Counts rows of a table that match a condition.
    pub async fn count_where(&self, table: &str, condition: &str) -> i64 {
        use sqlx::Row;
        let store = self.store().await;
        let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get("n")
    }

    /// Steps the delivery, outbox and follow-up workers (`run_once`, beside the server's own)
    /// until none finds work that is due and no worker holds any: whatever hereby was going to
    /// do by now is done, so a test can show that something does *not* happen.
    pub async fn settle(&self) {
        use hereby::jobs::{
            deliveries::DeliveryWorker, followups::FollowUpWorker, outbox::OutboxWorker, Outcome,
        };
        let deliveries = DeliveryWorker::new(self.app.clone(), Duration::from_millis(50));
        let outbox = OutboxWorker::new(self.app.clone(), Duration::from_millis(50));
        let followups = FollowUpWorker::new(self.app.clone());
        for _ in 0..1000 {
            let stepped = [
                deliveries.run_once().await.unwrap(),
                outbox.run_once().await.unwrap(),
                followups.run_once().await.unwrap(),
            ];
            let now = chrono::Utc::now().timestamp_millis();
            // A delivery with no lease may be in another worker's transaction (taken new).
            let held = self
                .count_where(
                    "deliveries",
                    &format!(
                        "processed_at IS NULL AND (claimed_until IS NULL OR claimed_until > {now})"
                    ),
                )
                .await
                + self
                    .count_where(
                        "outbox",
                        &format!("status = 'pending' AND claimed_until > {now}"),
                    )
                    .await;
            if stepped.iter().all(|o| *o == Outcome::Idle) && held == 0 {
                return;
            }
            if held > 0 {
                // Another worker is in the middle of something (a call to the fake Slack).
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        panic!("hereby's workers never became idle");
    }

    /// Counts rows of a table (for "nothing was stored").
    pub async fn count(&self, table: &str) -> i64 {
        use sqlx::Row;
        let store = self.store().await;
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get("n")
    }
}

/// A message delivery into `channel`, as the group-commit writer stores it.
pub fn stored_message(
    event_id: &str,
    channel: &str,
    at: u64,
    text: &str,
) -> hereby::store::deliveries::OwnedDelivery {
    hereby::store::deliveries::OwnedDelivery {
        team_id: TEAM.into(),
        event_id: event_id.into(),
        event_type: "message".into(),
        payload: message_event(event_id, channel, "W222", &ts(at), text).to_string(),
        retry_num: None,
    }
}

/// A message event (from the fixture) with this text, author, channel, ts and event_id.
pub fn message_event(event_id: &str, channel: &str, user: &str, ts: &str, text: &str) -> Value {
    let mut v: Value =
        serde_json::from_str(include_str!("../fixtures/message_event.json")).unwrap();
    v["event_id"] = event_id.into();
    v["event"]["channel"] = channel.into();
    v["event"]["user"] = user.into();
    v["event"]["ts"] = ts.into();
    v["event"]["event_ts"] = ts.into();
    v["event"]["text"] = text.into();
    v["event"]["blocks"] = serde_json::json!([]);
    v
}

thread_local! {
    /// The stamps [`ts`] has given in this test: each test runs on a thread of its own.
    static STAMPS: std::cell::RefCell<HashMap<u64, String>> = std::cell::RefCell::new(HashMap::new());
}

/// A Slack ts for now plus `n` microseconds, so that channel dates are today's and a message
/// sent later in a test is later than the commands before it. The same `n` gives the same
/// stamp for the rest of the test, so `ts(3)` names one message however late it is called
/// again (a second reading of the clock could fall into the next second and name another).
pub fn ts(n: u64) -> String {
    STAMPS.with(|stamps| {
        stamps
            .borrow_mut()
            .entry(n)
            .or_insert_with(|| format!("{}.{n:06}", now_secs()))
            .clone()
    })
}

/// A POST of `body` to `url`, signed as Slack signs it at `timestamp` (seconds).
pub fn signed_post(
    client: &reqwest::Client,
    url: &str,
    content_type: &str,
    body: &[u8],
    timestamp: i64,
) -> reqwest::RequestBuilder {
    let ts = timestamp.to_string();
    client
        .post(url)
        .header("content-type", content_type)
        .header("x-slack-request-timestamp", &ts)
        .header(
            "x-slack-signature",
            slack_signature(SIGNING_SECRET, &ts, body),
        )
        .body(body.to_vec())
}

/// The form fields of `/incident <text>` typed by `user` in `channel`, as Slack sends them
/// (a real payload with these fields replaced), with a fresh `trigger_id` and `response_url`.
pub fn slash_command(
    slack: &FakeSlack,
    channel: &str,
    user: &str,
    text: &str,
) -> Vec<(String, String)> {
    let form = include_str!("../fixtures/slash_command.form.txt").trim();
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    for (k, v) in pairs.iter_mut() {
        match k.as_str() {
            "text" => *v = text.to_string(),
            "channel_id" => *v = channel.to_string(),
            "user_id" => *v = user.to_string(),
            // A fresh click: its trigger opens one view within 3 s.
            "trigger_id" => *v = slack.trigger_id(),
            "response_url" => *v = slack.response_url(),
            _ => {}
        }
    }
    pairs
}

/// A Slack ts for this very moment.
pub fn ts_now() -> String {
    let now = chrono::Utc::now();
    std::thread::sleep(std::time::Duration::from_micros(2));
    format!("{}.{:06}", now.timestamp(), now.timestamp_subsec_micros())
}

/// Today's date in UTC, as in channel names.
pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// An Events API envelope around `event`, as Slack delivers it to hereby.
pub fn envelope(event_id: &str, event: Value) -> Value {
    serde_json::json!({"token": "verification-token", "team_id": TEAM, "api_app_id": "A111", "event": event,
           "type": "event_callback", "event_id": event_id, "event_time": now_secs(),
           "authorizations": [{"enterprise_id": null, "team_id": TEAM, "user_id": "UHEREBY", "is_bot": true, "is_enterprise_install": false}]})
}

/// A message event: `user` says `text` in `channel` at `ts`.
pub fn say(channel: &str, user: &str, ts: &str, text: &str) -> Value {
    serde_json::json!({"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts, "channel_type": "channel", "team": TEAM})
}

/// Delivers `event` signed, and expects Slack's acknowledgement.
pub async fn deliver(app: &TestApp, event_id: &str, event: Value) {
    assert_eq!(app.deliver_as_slack(&envelope(event_id, event)).await, 200);
}
