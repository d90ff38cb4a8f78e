//! The real `hereby` binary as a process of its own, as operators run it: its JSON log lines
//! collected as they come, Slack's requests signed as Slack signs them. What a test reads from
//! its log is what an operator would read, whatever else runs in the test process.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::fake_slack::{FakeSlack, BOT_TOKEN};
use crate::helpers::*;

/// One `hereby serve` process.
pub struct Hereby {
    pub child: Child,
    pub addr: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Hereby {
    /// Starts `hereby serve` on `db_url` against `slack`, and waits until it listens.
    pub async fn start(db_url: &str, slack: &FakeSlack) -> Hereby {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hereby"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SLACK_BOT_TOKEN", BOT_TOKEN)
            .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
            .env("SLACK_API_URL", &slack.url)
            .env("DATABASE_URL", db_url)
            .env("HEREBY_LISTEN", "127.0.0.1:0")
            .env("HEREBY_ANNOUNCE_CHANNEL", "CANNOUNCE")
            .env("HEREBY_RETRY_BASE_MS", "50")
            .env("HEREBY_LOG_FORMAT", "json")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("hereby starts");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        for _ in 0..600 {
            let addr = logs.lock().unwrap().iter().find_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).ok()?;
                (v["fields"]["message"] == "hereby is listening")
                    .then(|| v["fields"]["addr"].as_str().map(str::to_string))?
            });
            if let Some(addr) = addr {
                return Hereby {
                    child,
                    addr: format!("http://{addr}"),
                    logs,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("hereby did not start: {:?}", logs.lock().unwrap());
    }

    /// Every log line so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// POSTs `body` to `path` signed as Slack signs it now; the status, or 0 if the request
    /// got no answer.
    pub async fn post_signed(
        &self,
        client: &reqwest::Client,
        path: &str,
        content_type: &str,
        body: &str,
        retry: Option<&str>,
    ) -> u16 {
        let url = format!("{}{path}", self.addr);
        let mut req = signed_post(client, &url, content_type, body.as_bytes(), now_secs());
        if let Some(n) = retry {
            req = req.header("x-slack-retry-num", n);
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    /// Delivers an Events API `body` (a retry if `retry` is its number); the status.
    pub async fn post(&self, client: &reqwest::Client, body: &str, retry: Option<&str>) -> u16 {
        self.post_signed(client, "/slack/events", "application/json", body, retry)
            .await
    }

    /// Sends `/incident <text>` as `user` from `channel`; the status.
    pub async fn command(
        &self,
        client: &reqwest::Client,
        slack: &FakeSlack,
        channel: &str,
        user: &str,
        text: &str,
    ) -> u16 {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(slash_command(slack, channel, user, text))
            .finish();
        self.post_signed(
            client,
            "/slack/commands",
            "application/x-www-form-urlencoded",
            &body,
            None,
        )
        .await
    }

    /// SIGTERM, then the exit status and the log (waiting a bounded while).
    pub async fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..600 {
            if let Ok(Some(status)) = self.child.try_wait() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                return (status, self.logs());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.child.kill();
        panic!("hereby did not stop after SIGTERM");
    }
}

impl Drop for Hereby {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// A database for processes to share: a new database on the suite's PostgreSQL server when
/// `HEREBY_TEST_POSTGRES_URL` is set, else a SQLite file in `dir`.
pub async fn database_url(dir: &tempfile::TempDir) -> String {
    match std::env::var("HEREBY_TEST_POSTGRES_URL") {
        Ok(server) if !server.is_empty() => {
            use sqlx::Connection;
            let server = server.trim_end_matches('/');
            let name = format!("hereby_test_{:016x}", rand::random::<u64>());
            let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .unwrap();
            format!("{server}/{name}")
        }
        _ => format!("sqlite://{}", dir.path().join("shared.db").display()),
    }
}

/// Waits (a bounded while) until `check` holds for what `slack` saw.
pub async fn until(slack: &FakeSlack, what: &str, mut check: impl FnMut(&FakeSlack) -> bool) {
    for _ in 0..400 {
        if check(slack) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "timed out waiting until {what}; Slack saw: {:#?}",
        slack.calls()
    );
}
