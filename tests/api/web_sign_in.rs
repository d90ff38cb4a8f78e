//! Signing in to the web view: single-use login links, Sign in with Slack (state, nonce, the
//! workspace check) and signing out.

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::Response;

use crate::helpers::*;
use crate::web::{
    browserless, cookie_of, get_as, login_link, signed_in, spawn_app_with_slack_sign_in,
};

#[tokio::test]
async fn a_login_link_signs_in_once_and_shows_the_workspace_incidents() {
    let app = spawn_app().await;
    app.declared("Checkout is down").await;
    let link = login_link(&app, "W111", TEAM).await;

    let page = browserless().get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200, "opening the link only shows a button");
    let r = browserless().post(&link).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let set = r
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain http on a laptop: {set}");
    let cookie = cookie_of(&r, "hereby_session").unwrap();

    let list = get_as(&app, &cookie, "/").await;
    assert_eq!(list.status(), 200);
    let html = list.text().await.unwrap();
    assert!(html.contains("Checkout is down"), "{html}");
    assert!(html.contains(r#"href="/incidents/1""#));

    let again = browserless().post(&link).send().await.unwrap();
    assert_eq!(again.status(), 403, "a login link works once");
}

#[tokio::test]
async fn pages_ask_to_sign_in_without_a_session() {
    let app = spawn_app().await;
    for path in ["/", "/incidents/1", "/incidents/1/postmortem.md"] {
        let r = browserless()
            .get(format!("{}{path}", app.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(r.headers()[LOCATION], "/signin");
    }
    let forged = get_as(&app, "hereby_session=made-up", "/").await;
    assert_eq!(forged.status(), 303);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    let cookie = signed_in(&app, "W111", TEAM).await;
    let r = browserless()
        .post(format!("{}/signout", app.addr))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(get_as(&app, &cookie, "/").await.status(), 303);
}

#[tokio::test]
async fn a_sign_out_another_site_sends_is_refused_and_the_session_stays() {
    let app = spawn_app().await;
    let cookie = signed_in(&app, "W111", TEAM).await;
    let host = app.addr.trim_start_matches("http://").to_string();
    for (name, value) in [
        ("sec-fetch-site", "cross-site".to_string()),
        ("origin", "https://evil.example".to_string()),
    ] {
        let r = browserless()
            .post(format!("{}/signout", app.addr))
            .header("cookie", &cookie)
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{name}");
        assert!(r.headers().get(SET_COOKIE).is_none(), "{name}");
    }
    assert_eq!(get_as(&app, &cookie, "/").await.status(), 200);
    let r = browserless()
        .post(format!("{}/signout", app.addr))
        .header("cookie", &cookie)
        .header("origin", format!("http://{host}"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the page's own form signs out");
}

#[tokio::test]
async fn behind_a_proxy_the_public_address_is_this_sites_origin() {
    let app = spawn_app_with(Options {
        env: vec![("HEREBY_PUBLIC_URL", "https://hereby.example.com/".into())],
        ..Options::default()
    })
    .await;
    let cookie = signed_in(&app, "W111", TEAM).await;
    // A browser without `Sec-Fetch-Site`; the proxy passed on its own `Host`.
    let r = browserless()
        .post(format!("{}/signout", app.addr))
        .header("cookie", &cookie)
        .header("origin", "https://hereby.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

/// Follows Sign in with Slack as a browser would, keeping the sign-in cookie; returns the
/// callback's response.
async fn sign_in_with_slack(app: &TestApp) -> Response {
    let start = browserless()
        .get(format!("{}/auth/slack", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    let sign_in_cookie = cookie_of(&start, "hereby_sign_in").unwrap();
    let authorize = start.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(authorize.starts_with(&format!(
        "{}/openid/connect/authorize?",
        app.slack.web_url()
    )));
    let slack = browserless().get(&authorize).send().await.unwrap();
    assert_eq!(slack.status(), 302);
    let callback = slack.headers()[LOCATION].to_str().unwrap().to_string();
    browserless()
        .get(callback)
        .header("cookie", sign_in_cookie)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_in_with_slack_starts_a_session_for_the_person_slack_names() {
    let app = spawn_app_with_slack_sign_in().await;
    app.declared("Search is slow").await;
    app.slack.sign_in_as("W222", TEAM);

    let done = sign_in_with_slack(&app).await;
    assert_eq!(done.status(), 303, "{:?}", done.text().await);
    assert_eq!(done.headers()[LOCATION], "/");
    let cookie = cookie_of(&done, "hereby_session").unwrap();
    let html = get_as(&app, &cookie, "/").await.text().await.unwrap();
    assert!(html.contains("Search is slow"));
    assert!(html.contains("W222"), "signed in as the person Slack named");
    let authorize = &app.slack.calls_to("openid.connect.authorize")[0].params;
    assert_eq!(authorize["scope"], "openid email profile");
    assert!(!authorize["nonce"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn sign_in_with_slack_refuses_another_browser_and_other_workspaces() {
    let app = spawn_app_with_slack_sign_in().await;
    app.slack.sign_in_as("W222", TEAM);
    let start = browserless()
        .get(format!("{}/auth/slack", app.addr))
        .send()
        .await
        .unwrap();
    let authorize = start.headers()[LOCATION].to_str().unwrap().to_string();
    let slack = browserless().get(&authorize).send().await.unwrap();
    let callback = slack.headers()[LOCATION].to_str().unwrap().to_string();
    let elsewhere = browserless().get(&callback).send().await.unwrap();
    assert_eq!(elsewhere.status(), 403, "the state is not this browser's");
    assert!(cookie_of(&elsewhere, "hereby_session").is_none());

    app.slack.sign_in_as("W777", "T777");
    let outsider = sign_in_with_slack(&app).await;
    assert_eq!(outsider.status(), 403);
    assert!(outsider
        .text()
        .await
        .unwrap()
        .contains("not installed in your workspace"));
}

#[tokio::test]
async fn the_command_line_prints_a_login_link_that_leads_to_the_incident_page() {
    let app = spawn_app().await;
    app.declared("Login from the README").await;
    // The command line writes to the same SQLite file: let the declaration's work finish.
    app.eventually("the declaration's Slack steps are done", |s| {
        !s.messages_in("CANNOUNCE").is_empty()
    })
    .await;
    app.wait_for_outbox_idle().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hereby"))
        .args(["login-link", "W111"])
        .env_clear()
        .env("DATABASE_URL", &app.db_url)
        .env("HEREBY_PUBLIC_URL", &app.addr)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let link = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        link.starts_with(&format!("{}/auth/link/", app.addr)),
        "{link}"
    );

    let r = browserless().post(&link).send().await.unwrap();
    let cookie = cookie_of(&r, "hereby_session").expect("signed in");
    let page = get_as(&app, &cookie, "/incidents/1").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Login from the README"));

    let empty = tempfile::tempdir().unwrap();
    let unknown_team = std::process::Command::new(env!("CARGO_BIN_EXE_hereby"))
        .args(["login-link", "W111"])
        .env_clear()
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/empty.db", empty.path().display()),
        )
        .output()
        .unwrap();
    assert!(!unknown_team.status.success());
    assert!(String::from_utf8_lossy(&unknown_team.stderr).contains("--team"));
}
