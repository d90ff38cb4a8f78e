//! Drills for faults outside hereby: a disk that fills up and is freed, a database too slow
//! for Slack's 3 s, and a flood of slow connections.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// A small tmpfs of its own, so that a test can fill it; unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
    filler: PathBuf,
}

impl SmallDisk {
    /// `None` where mounting is not permitted (not root, or in a container that forbids it).
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let filler = dir.path().join("filler");
        mounted.then_some(SmallDisk { dir, filler })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Writes until the disk refuses another byte.
    fn fill(&self) {
        let mut f = std::fs::File::create(&self.filler).unwrap();
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).and_then(|_| f.flush()).is_ok() {}
        let _ = f.write_all(&[0u8; 1]);
    }

    fn free(&self) {
        std::fs::remove_file(&self.filler).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

async fn healthz(app: &TestApp) -> u16 {
    app.client
        .get(format!("{}/healthz", app.addr))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Waits (a bounded while) until `/healthz` answers `status`.
async fn until_healthz(app: &TestApp, status: u16) {
    for _ in 0..300 {
        if healthz(app).await == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/healthz never answered {status}");
}

fn on_postgres() -> bool {
    std::env::var("HEREBY_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty())
}

#[tokio::test]
async fn a_full_disk_refuses_deliveries_and_health_then_all_are_processed_once_freed_without_a_restart(
) {
    if on_postgres() {
        println!("skipped: the full-disk drill fills an SQLite file's disk");
        return;
    }
    let Some(disk) = SmallDisk::mount("8m") else {
        println!("skipped: this machine does not allow mounting a small tmpfs (needs root)");
        return;
    };
    let db = format!("sqlite://{}", disk.path().join("hereby.db").display());
    let mut app = spawn_app_with(Options {
        env: vec![("DATABASE_URL", db)],
        ..Options::default()
    })
    .await;
    assert_eq!(healthz(&app).await, 200);

    disk.fill();
    let mut stored = 0;
    let mut refused = false;
    for i in 0..500 {
        let event = message_event(
            &format!("EvFull{i}"),
            "C111",
            "W111",
            &ts(i),
            &"words of a busy channel ".repeat(40),
        );
        match app.post_event(&event).await.status().as_u16() {
            200 => stored += 1,
            503 => {
                refused = true;
                break;
            }
            other => panic!("a delivery got {other} on a full disk"),
        }
    }
    assert!(refused, "the disk never filled ({stored} stored)");
    assert_eq!(
        healthz(&app).await,
        503,
        "healthz must fail while deliveries are refused"
    );

    disk.free();
    until_healthz(&app, 200).await;
    let declaration = message_event(
        "EvAfterFull",
        "C111",
        "W111",
        &ts(900),
        "I hereby declare this an incident: the disk filled up",
    );
    assert_eq!(app.post_event(&declaration).await.status(), 200);
    app.eventually(
        "the incident declared after the disk was freed has its channel",
        |s| !s.channels().is_empty(),
    )
    .await;
    for _ in 0..300 {
        if app.count_where("deliveries", "processed_at IS NULL").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.count_where("deliveries", "processed_at IS NULL").await,
        0,
        "every delivery stored before, during and after the full disk is processed"
    );
    assert_eq!(app.count("deliveries").await, stored + 1);
    app.stop().await;
}

/// The server's `host:port`.
fn host(app: &TestApp) -> String {
    app.addr.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection (a bounded while); what it answered, or
/// `None` when it never closed.
async fn until_closed(stream: &mut TcpStream) -> Option<String> {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&answer).into_owned()),
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
        }
    }
}

fn limits(pairs: &[(&'static str, &str)]) -> Options {
    Options {
        env: pairs.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        ..Options::default()
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_or_goes_quiet_is_disconnected() {
    let app = spawn_app_with(limits(&[
        ("HEREBY_HEADER_TIMEOUT_MS", "400"),
        ("HEREBY_IDLE_TIMEOUT_MS", "400"),
    ]))
    .await;
    let mut half_headers = TcpStream::connect(host(&app)).await.unwrap();
    half_headers
        .write_all(b"POST /slack/events HTTP/1.1\r\nHost: hereby\r\nX-Slow: ")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(host(&app)).await.unwrap();
    let mut kept_alive = TcpStream::connect(host(&app)).await.unwrap();
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: hereby\r\n\r\n")
        .await
        .unwrap();

    assert!(
        until_closed(&mut half_headers).await.is_some(),
        "half-sent headers"
    );
    assert!(
        until_closed(&mut silent).await.is_some(),
        "a connection that says nothing"
    );
    let answered = until_closed(&mut kept_alive).await;
    assert!(
        answered
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 200")),
        "a kept-alive connection is answered, then closed when idle: {answered:?}"
    );
}

/// Reads one answer to `GET /healthz` (headers and its short body) from a kept-alive
/// connection; `None` if the connection closed or said nothing for 30 s.
async fn one_answer(stream: &mut TcpStream) -> Option<String> {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).ends_with("\r\n\r\nok") {
        match tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn a_kept_alive_connection_stays_open_for_the_idle_timeout_not_the_header_timeout() {
    // A load balancer keeps its connections to hereby open for its own idle timeout and
    // sends the next request on one whenever it likes: hereby must not close it sooner.
    let app = spawn_app_with(limits(&[
        ("HEREBY_HEADER_TIMEOUT_MS", "300"),
        ("HEREBY_IDLE_TIMEOUT_MS", "60000"),
    ]))
    .await;
    let request = b"GET /healthz HTTP/1.1\r\nHost: hereby\r\n\r\n";
    let mut balancer = TcpStream::connect(host(&app)).await.unwrap();
    balancer.write_all(request).await.unwrap();
    let first = one_answer(&mut balancer).await;
    assert!(first.is_some_and(|a| a.starts_with("HTTP/1.1 200")));
    // Idle for four times the header timeout, nothing of a request sent: hereby neither
    // closes the connection nor says anything on it.
    let mut byte = [0u8; 1];
    let idle = tokio::time::timeout(Duration::from_millis(1200), balancer.read(&mut byte)).await;
    assert!(idle.is_err(), "the idle connection stays open: {idle:?}");
    balancer.write_all(request).await.unwrap();
    let second = one_answer(&mut balancer).await;
    assert!(
        second
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 200")),
        "the second request on the idle connection is answered: {second:?}"
    );
    // Headers begun and never finished are cut off at the header timeout, long before the
    // minute of idle time.
    balancer
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: hereby\r\nX-Slow: ")
        .await
        .unwrap();
    assert!(
        until_closed(&mut balancer).await.is_some(),
        "half-sent headers are cut off"
    );
}

#[tokio::test]
async fn a_body_that_never_arrives_is_cut_off_at_its_deadline() {
    let app = spawn_app_with(limits(&[("HEREBY_BODY_TIMEOUT_MS", "400")])).await;
    let mut slow = TcpStream::connect(host(&app)).await.unwrap();
    slow.write_all(
        b"POST /slack/events HTTP/1.1\r\nHost: hereby\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"type\":",
    )
    .await
    .unwrap();
    let answer = until_closed(&mut slow).await;
    assert!(
        answer
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 408")),
        "{answer:?}"
    );
    assert_eq!(app.count("deliveries").await, 0);
}

#[tokio::test]
async fn unverified_bodies_share_a_byte_budget_and_slack_still_gets_in() {
    let app = spawn_app_with(limits(&[("HEREBY_UNVERIFIED_BODY_BYTES", "100000")])).await;
    let head = b"POST /slack/events HTTP/1.1\r\nHost: hereby\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n";
    let mut greedy = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(host(&app)).await.unwrap();
        s.write_all(head).await.unwrap();
        s.write_all(&vec![b' '; 60_000]).await.unwrap();
        greedy.push(s);
    }
    // Whichever of the two the server read second overdraws the budget and is refused.
    let (mut first, mut second) = (greedy.remove(0), greedy.remove(0));
    let answer = tokio::select! {
        a = until_closed(&mut first) => a,
        a = until_closed(&mut second) => a,
    };
    assert!(
        answer
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 503")),
        "{answer:?}"
    );

    let event = message_event("EvBudget", "C111", "W111", &ts(1), "still served");
    assert_eq!(app.post_event(&event).await.status(), 200);
    drop((first, second));
}

#[tokio::test]
async fn slack_deliveries_are_served_while_slow_connections_flood_the_server() {
    let app = spawn_app_with(limits(&[
        ("HEREBY_MAX_CONNECTIONS", "40"),
        ("HEREBY_HEADER_TIMEOUT_MS", "3000"),
        ("HEREBY_IDLE_TIMEOUT_MS", "3000"),
        ("HEREBY_BODY_TIMEOUT_MS", "3000"),
    ]))
    .await;
    let flooding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let disconnected = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let (addr, flooding, disconnected) = (host(&app), flooding.clone(), disconnected.clone());
        flood.spawn(async move {
            while flooding.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(mut s) = TcpStream::connect(&addr).await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let mut sent = s
                    .write_all(b"POST /slack/events HTTP/1.1\r\nHost: hereby\r\n")
                    .await;
                while sent.is_ok() && flooding.load(std::sync::atomic::Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    sent = s.write_all(b"X-Slow: 1\r\n").await;
                }
                disconnected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
    }
    // Slack opens a connection per delivery.
    let slack = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for i in 0..5 {
        let body =
            message_event(&format!("EvFlood{i}"), "C111", "W111", &ts(i), "hello").to_string();
        let url = format!("{}/slack/events", app.addr);
        let json = "application/json";
        let r = signed_post(&slack, &url, json, body.as_bytes(), now_secs())
            .send()
            .await
            .expect("Slack's delivery is answered during the flood");
        assert_eq!(r.status(), 200);
    }
    let health = slack.get(format!("{}/healthz", app.addr)).send().await;
    assert_eq!(health.map(|r| r.status().as_u16()).unwrap_or(0), 200);
    for _ in 0..300 {
        if disconnected.load(std::sync::atomic::Ordering::Relaxed) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        disconnected.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "the flood's connections beyond the cap are closed"
    );
    flooding.store(false, std::sync::atomic::Ordering::Relaxed);
    while flood.join_next().await.is_some() {}
    assert_eq!(app.count("deliveries").await, 5);
}
