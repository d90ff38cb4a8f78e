//! Drills for faults outside hereby: a disk that fills up and is freed, a database too slow
//! for Slack's 3 s, and a flood of slow connections.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

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
    assert_eq!(healthz(&app).await, 503, "healthz must fail while deliveries are refused");

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
    app.eventually("the incident declared after the disk was freed has its channel", |s| {
        !s.channels().is_empty()
    })
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
