//! The web view in a real browser: headless Chromium driven through WebDriver (Debian's
//! `chromium` and `chromium-driver`). Without chromedriver these tests say so and pass, except
//! under `CI=true`, where they must run.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::json;

use crate::helpers::*;
use crate::web::{login_link, resolved_incident, spawn_app_with_slack_sign_in};

/// chromedriver on the PATH, if installed.
fn chromedriver() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("chromedriver"))
            .find(|p| p.is_file())
    })
}

/// Runs `scenario` in a fresh headless Chromium (own profile, own chromedriver), closing the
/// browser whatever happens; `javascript: false` turns script off, as some people browse. Skips with a message when chromedriver is missing outside CI.
async fn in_chromium<F>(test: &str, javascript: bool, scenario: impl FnOnce(Client) -> F)
where
    F: std::future::Future<Output = ()>,
{
    let Some(driver) = chromedriver() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but chromedriver is not installed (apt-get install chromium chromium-driver)");
        }
        eprintln!("skipping {test}: chromedriver is not installed (apt-get install chromium chromium-driver)");
        return;
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut chromedriver = tokio::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let mut ready = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "chromedriver did not listen on port {port}");
    let profile = tempfile::tempdir().unwrap();
    let mut options = json!({"args": [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,1800",
        format!("--user-data-dir={}", profile.path().display()),
    ]});
    if !javascript {
        options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
    }
    if std::path::Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    let outcome = AssertUnwindSafe(scenario(client.clone()))
        .catch_unwind()
        .await;
    let _ = client.close().await;
    let _ = chromedriver.kill().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Waits (a bounded while) for an element.
async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
}

#[tokio::test]
async fn a_member_signs_in_with_slack_reads_an_incident_and_signs_out_in_chromium() {
    let app = spawn_app_with_slack_sign_in().await;
    resolved_incident(&app, "Payments failing").await;
    app.slack.sign_in_as("W111", TEAM);
    let addr = app.addr.clone();

    in_chromium("the sign-in walk-through", true, |c| async move {
        c.goto(&format!("{addr}/")).await.unwrap();
        wait_for(&c, "#sign-in-with-slack")
            .await
            .click()
            .await
            .unwrap();

        let row = wait_for(&c, "tr.incident").await;
        assert!(row.text().await.unwrap().contains("Payments failing"));
        c.find(Locator::LinkText("Payments failing"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();

        wait_for(&c, "svg.timeline").await;
        let mut kinds = vec![];
        let mut labels = vec![];
        for m in c
            .find_all(Locator::Css("svg.timeline a.marker"))
            .await
            .unwrap()
        {
            kinds.push(m.attr("data-kind").await.unwrap().unwrap_or_default());
            labels.push(m.attr("aria-label").await.unwrap().unwrap_or_default());
        }
        assert!(kinds.contains(&"fix".to_string()), "{kinds:?}");
        assert!(kinds.contains(&"resolution".to_string()), "{kinds:?}");
        assert!(
            labels
                .iter()
                .any(|l| l.contains("restart the pods (failed)")),
            "{labels:?}"
        );
        let first = c.find(Locator::Css("svg.timeline a.marker")).await.unwrap();
        first.send_keys("\u{E007}").await.unwrap();
        assert_eq!(
            c.current_url().await.unwrap().fragment(),
            Some("marker-1"),
            "Enter on a marker goes to its entry"
        );
        let bands = c
            .find_all(Locator::Css("svg.timeline g.band[data-severity='sev1']"))
            .await
            .unwrap();
        assert!(!bands.is_empty(), "a SEV1 band");

        if let Ok(path) = std::env::var("HEREBY_SCREENSHOT") {
            std::fs::write(path, c.screenshot().await.unwrap()).unwrap();
        }

        let href = c
            .find(Locator::Id("download-markdown"))
            .await
            .unwrap()
            .prop("href")
            .await
            .unwrap()
            .unwrap();
        let session = c.get_named_cookie("hereby_session").await.unwrap();
        let md = reqwest::Client::new()
            .get(href)
            .header("cookie", format!("hereby_session={}", session.value()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            md.starts_with("# Post-mortem: Payments failing (incident #1)"),
            "{md}"
        );

        // The owner closes the action item from the page.
        c.find(Locator::Css(
            "form.close-action button[value='done'][aria-label='Mark action item 1 done']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        for _ in 0..100 {
            let forms = c.find_all(Locator::Css("form.close-action")).await.unwrap();
            if forms.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let actions = wait_for(&c, "table.actions").await.text().await.unwrap();
        assert!(
            actions.contains("Alert on pool saturation") && actions.contains("done"),
            "{actions}"
        );
        assert_eq!(
            c.current_url().await.unwrap().fragment(),
            Some("actions"),
            "back at the action items"
        );

        c.find(Locator::LinkText("Version 1"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let heading = wait_for(&c, "#draft h1").await;
        assert_eq!(
            heading.text().await.unwrap(),
            "Post-mortem: Payments failing (incident #1)"
        );

        c.find(Locator::Id("sign-out"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "#sign-in-with-slack").await;
        c.goto(&format!("{addr}/incidents/1")).await.unwrap();
        wait_for(&c, "#sign-in-with-slack").await;
    })
    .await;
}

#[tokio::test]
async fn a_hostile_title_shows_as_text_in_chromium_without_javascript() {
    let app = spawn_app().await;
    // As Slack sends what people type: `<`, `>` and `&` escaped.
    app.declared("&lt;img src=x onerror=alert(1)&gt; pwned")
        .await;
    let link = login_link(&app, "W111", TEAM).await;
    let addr = app.addr.clone();

    in_chromium("the hostile title", false, |c| async move {
        c.goto(&link).await.unwrap();
        wait_for(&c, "#use-link").await.click().await.unwrap();
        wait_for(&c, "tr.incident").await;
        assert!(c
            .find_all(Locator::Css("tr.incident img"))
            .await
            .unwrap()
            .is_empty());

        c.goto(&format!("{addr}/incidents/1")).await.unwrap();
        let title = wait_for(&c, "#incident-title").await;
        assert_eq!(
            title.text().await.unwrap(),
            "#1 <img src=x onerror=alert(1)> pwned"
        );
        assert!(c
            .find_all(Locator::Css("#incident-title img"))
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_private_incident_is_invisible_to_a_non_member_in_chromium() {
    let app = spawn_app().await;
    app.declared("Public outage").await;
    app.command("C111", "W111", "declare --private Secret rotation")
        .await;
    app.eventually("the private channel is set up", |s| {
        s.channels().iter().any(|c| c.private && !c.pins.is_empty())
    })
    .await;
    let link = login_link(&app, "W999", TEAM).await;
    let addr = app.addr.clone();

    in_chromium("the private incident", true, |c| async move {
        c.goto(&link).await.unwrap();
        wait_for(&c, "#use-link").await.click().await.unwrap();
        wait_for(&c, "tr.incident").await;
        let list = c.source().await.unwrap();
        assert!(list.contains("Public outage"), "{list}");
        assert!(!list.contains("Secret rotation"), "{list}");

        c.goto(&format!("{addr}/incidents/2")).await.unwrap();
        let page = c.source().await.unwrap();
        assert!(!page.contains("Secret rotation"), "{page}");
        assert!(c
            .find_all(Locator::Css("#incident-title"))
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}
