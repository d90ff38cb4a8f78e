//! The web view over HTTP: the incidents list, the incident page with its timeline and drafts,
//! insights, the follow-up calendar, error pages, and what one workspace cannot see of another's.
//! The helpers here sign people in for the other web tests.

use reqwest::header::{CONTENT_SECURITY_POLICY, SET_COOKIE};
use reqwest::{redirect, Client, Response};

use crate::fake_slack::{CLIENT_ID, CLIENT_SECRET};
use crate::helpers::*;

/// A client that shows redirects instead of following them.
pub fn browserless() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// The settings that turn on Sign in with Slack against the fake.
pub async fn spawn_app_with_slack_sign_in() -> TestApp {
    spawn_app_with(Options {
        env: vec![
            ("SLACK_CLIENT_ID", CLIENT_ID.to_string()),
            ("SLACK_CLIENT_SECRET", CLIENT_SECRET.to_string()),
        ],
        ..Options::default()
    })
    .await
}

/// `name=value` of a response's cookie.
pub fn cookie_of(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
}

/// A login link for `user` of `team`, as `hereby login-link` prints it.
pub async fn login_link(app: &TestApp, user: &str, team: &str) -> String {
    hereby::web::auth::login_link(&app.store().await, &app.addr, user, Some(team))
        .await
        .unwrap()
}

/// Signs `user` of `team` in with a login link; returns the session cookie.
pub async fn signed_in(app: &TestApp, user: &str, team: &str) -> String {
    let link = login_link(app, user, team).await;
    let r = browserless().post(&link).send().await.unwrap();
    assert_eq!(r.status(), 303);
    cookie_of(&r, "hereby_session").expect("a session cookie")
}

/// GETs a page as the holder of `cookie`.
pub async fn get_as(app: &TestApp, cookie: &str, path: &str) -> Response {
    browserless()
        .get(format!("{}{path}", app.addr))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// An incident with a severity, a failed and a working fix, an update, an action item and a
/// resolution, whose first draft has been stored; returns its channel.
pub async fn resolved_incident(app: &TestApp, title: &str) -> String {
    let c = app.declared(title).await;
    app.command(&c, "W111", "severity sev1").await;
    app.command(&c, "W111", "tried restart the pods -> failed")
        .await;
    app.command(&c, "W111", "tried revert the pool change -> worked")
        .await;
    app.command(
        &c,
        "W111",
        "action Alert on pool saturation <@W111|alice> due 2026-12-15",
    )
    .await;
    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    c
}
#[tokio::test]
async fn the_incident_page_draws_the_timeline_and_every_draft_version() {
    let app = spawn_app().await;
    resolved_incident(&app, "Payments failing").await;
    let cookie = signed_in(&app, "W111", TEAM).await;

    let r = get_as(&app, &cookie, "/incidents/1").await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("<svg class=\"timeline\""), "{html}");
    assert!(
        html.contains(r#"data-severity="sev1""#),
        "a band coloured by severity"
    );
    assert!(html.contains(r#"data-kind="fix""#), "markers for the fixes");
    assert!(html.contains(r#"data-kind="resolution""#));
    assert!(html.contains("restart the pods (failed)"));
    assert!(html.contains("Alert on pool saturation"), "the action item");
    assert!(
        html.contains(r#"href="/incidents/1/drafts/1""#),
        "draft version 1"
    );
    assert!(!html.contains("<script"), "no page runs script");

    let draft = get_as(&app, &cookie, "/incidents/1/drafts/1").await;
    assert_eq!(draft.status(), 200);
    let html = draft.text().await.unwrap();
    assert!(
        html.contains("<h1>Post-mortem: Payments failing (incident #1)</h1>"),
        "rendered as HTML"
    );
    assert_eq!(
        get_as(&app, &cookie, "/incidents/1/drafts/2")
            .await
            .status(),
        404
    );

    let md = get_as(&app, &cookie, "/incidents/1/postmortem.md").await;
    assert_eq!(md.status(), 200);
    assert!(md.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    assert!(md
        .text()
        .await
        .unwrap()
        .starts_with("# Post-mortem: Payments failing"));
}

#[tokio::test]
async fn a_hostile_title_and_message_show_as_text() {
    let app = spawn_app().await;
    let c = app
        // As Slack sends what people type: `<`, `>` and `&` escaped.
        .declared("&lt;script&gt;alert('t')&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;")
        .await;
    deliver(
        &app,
        "EvWeb1",
        say(
            &c,
            "W222",
            &ts_now(),
            // As Slack sends it: the characters it escapes arrive escaped.
            "&lt;img src=x onerror=alert(1)&gt; in chat",
        ),
    )
    .await;
    app.wait_for_rows("messages", 1).await;
    let cookie = signed_in(&app, "W111", TEAM).await;

    for path in ["/", "/incidents/1"] {
        let html = get_as(&app, &cookie, path).await.text().await.unwrap();
        assert!(!html.contains("<script>alert"), "{path}: {html}");
        assert!(!html.contains("<b>bold"), "{path}");
        assert!(html.contains("&lt;script&gt;"), "{path}");
    }
    let html = get_as(&app, &cookie, "/incidents/1")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt; in chat"),
        "shown as typed"
    );
}

#[tokio::test]
async fn the_incident_page_shows_what_people_wrote_not_the_drafts_markdown() {
    let app = spawn_app().await;
    let c = app.declared("checkout").await;
    app.command(&c, "W111", "tried restart [db] & the *pods* -> failed")
        .await;
    app.command(
        &c,
        "W111",
        "action Rotate keys_v2 for A&B <@W111|alice> due 2026-12-15",
    )
    .await;
    let cookie = signed_in(&app, "W111", TEAM).await;
    let html = get_as(&app, &cookie, "/incidents/1")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("restart [db] &amp; the *pods*"), "{html}");
    assert!(html.contains("Rotate keys_v2 for A&amp;B"), "{html}");
    for markdown in [r"\[", r"\*", r"\_", "&amp;amp;"] {
        assert!(!html.contains(markdown), "{markdown} in {html}");
    }
}

#[tokio::test]
async fn another_workspace_sees_none_of_these_incidents() {
    let app = spawn_app().await;
    resolved_incident(&app, "Secret project outage").await;
    let outsider = signed_in(&app, "W999", "T999").await;

    let list = get_as(&app, &outsider, "/").await.text().await.unwrap();
    assert!(!list.contains("Secret project outage"));
    assert!(list.contains("No incidents"));
    for path in [
        "/incidents/1",
        "/incidents/1/drafts/1",
        "/incidents/1/postmortem.md",
        "/incidents/1/postmortem.md?version=1",
    ] {
        let r = get_as(&app, &outsider, path).await;
        assert_eq!(r.status(), 404, "{path}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("Secret project"), "{path}");
    }
}

#[tokio::test]
async fn the_list_filters_by_status_and_severity() {
    let app = spawn_app().await;
    resolved_incident(&app, "Old resolved outage").await;
    app.declared("Fresh ongoing outage").await;
    app.wait_for_rows("incidents", 2).await;
    let cookie = signed_in(&app, "W111", TEAM).await;

    let all = get_as(&app, &cookie, "/").await.text().await.unwrap();
    let (old, fresh) = (
        all.find("Old resolved").unwrap(),
        all.find("Fresh ongoing").unwrap(),
    );
    assert!(fresh < old, "newest first");
    let resolved = get_as(&app, &cookie, "/?status=resolved")
        .await
        .text()
        .await
        .unwrap();
    assert!(resolved.contains("Old resolved") && !resolved.contains("Fresh ongoing"));
    let sev1 = get_as(&app, &cookie, "/?severity=sev1")
        .await
        .text()
        .await
        .unwrap();
    assert!(sev1.contains("Old resolved") && !sev1.contains("Fresh ongoing"));
}
#[tokio::test]
async fn unknown_pages_are_error_pages() {
    let app = spawn_app().await;
    let cookie = signed_in(&app, "W111", TEAM).await;
    for path in ["/nowhere", "/incidents/42", "/incidents/not-a-number"] {
        let r = get_as(&app, &cookie, path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert!(
            r.text().await.unwrap().contains("<h1>Not found</h1>"),
            "{path}"
        );
    }
}
#[tokio::test]
async fn insights_chart_this_workspace_incidents_and_open_action_items() {
    let app = spawn_app().await;
    resolved_incident(&app, "Payments failing").await;
    let cookie = signed_in(&app, "W111", TEAM).await;

    let r = get_as(&app, &cookie, "/insights").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<span id="total">1</span>"#), "{html}");
    assert!(html.contains(r#"class="bar""#) && html.contains(r#"data-severity="sev1""#));
    assert!(
        html.contains(r#"<polyline class="series" data-severity="sev1""#),
        "time to resolve"
    );
    assert!(
        html.contains("<th scope=\"row\">disp-w111</th>"),
        "the open item's owner: {html}"
    );

    let outsider = signed_in(&app, "W999", "T999").await;
    let theirs = get_as(&app, &outsider, "/insights")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        theirs.contains(r#"<span id="total">0</span>"#) && theirs.contains("No open action items")
    );

    // An incident from before the twelve months charted is not counted in their total.
    let store = app.store().await;
    let year_ago = (chrono::Utc::now() - chrono::Duration::days(369)).timestamp_millis();
    sqlx::query("UPDATE incidents SET declared_at = $1")
        .bind(year_ago)
        .execute(store.writer())
        .await
        .unwrap();
    let html = get_as(&app, &cookie, "/insights")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"<span id="total">0</span>"#), "{html}");
}

#[tokio::test]
async fn the_follow_up_calendar_repeats_monthly_until_every_action_item_is_closed() {
    let app = spawn_app().await;
    let c = resolved_incident(&app, "Payments failing").await;
    let cookie = signed_in(&app, "W111", TEAM).await;
    let list = get_as(&app, &cookie, "/").await.text().await.unwrap();
    let marker = r#"id="calendar-feed" href=""#;
    let start = list.find(marker).expect("the feed's address is shown") + marker.len();
    let feed = list[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    assert!(
        feed.starts_with(&format!("{}/calendar/", app.addr)),
        "{feed}"
    );
    assert_eq!(
        list.matches("Follow-up calendar").count(),
        1,
        "shown once on the page: {list}"
    );
    assert!(
        list.contains("<title>Incidents · hereby</title>"),
        "the secret address never reaches the tab's title: {list}"
    );

    let r = browserless().get(&feed).send().await.unwrap();
    assert_eq!(
        r.status(),
        200,
        "the feed needs no session, only its secret address"
    );
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let ics = r.text().await.unwrap();
    assert!(
        ics.contains("SUMMARY:Follow-up: incident #1 Payments failing"),
        "{ics}"
    );
    assert!(
        ics.contains("RRULE:FREQ=MONTHLY") && ics.contains("STATUS:CONFIRMED"),
        "{ics}"
    );

    app.command(&c, "W111", "action done 1").await;
    let ics = browserless()
        .get(&feed)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ics.contains("STATUS:CANCELLED"), "{ics}");

    let made_up = browserless()
        .get(format!("{}/calendar/made-up.ics", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(made_up.status(), 404);
    let outsider = signed_in(&app, "W999", "T999").await;
    let theirs = get_as(&app, &outsider, "/").await.text().await.unwrap();
    assert!(
        !theirs.contains(&feed.replace('/', "&#x2f;")),
        "each workspace has its own feed"
    );
}

#[tokio::test]
async fn the_list_and_the_channel_log_page_through_long_histories() {
    use hereby::domain::{ChannelId, TeamId};
    use hereby::store::record::{add_message, NewMessage};
    let app = spawn_app().await;
    for n in 1..=26 {
        app.insert_incident(&format!("Outage number {n:02}"), false)
            .await;
    }
    let store = app.store().await;
    let mut conn = store.conn().await.unwrap();
    let now = chrono::Utc::now();
    let channel = ChannelId::new("CLOG");
    for i in 0..205 {
        let ts = format!("1790000000.{i:06}");
        let text = format!("log line {i:03}");
        let m = NewMessage {
            channel: &channel,
            ts: &ts,
            thread_ts: None,
            user: None,
            from_app: true,
            author_name: Some("deploy-bot"),
            subtype: None,
            text: &text,
            files: None,
            posted_at: now + chrono::Duration::milliseconds(i),
            source: "event",
        };
        add_message(&mut conn, &TeamId::new(TEAM), 1, &m)
            .await
            .unwrap();
    }
    let cookie = signed_in(&app, "W111", TEAM).await;

    let first = get_as(&app, &cookie, "/").await.text().await.unwrap();
    assert!(first.contains("Outage number 26") && first.contains("Outage number 02"));
    assert!(
        !first.contains("Outage number 01"),
        "25 a page, newest first"
    );
    assert!(first.contains(r#"rel="next""#));
    let second = get_as(&app, &cookie, "/?page=2")
        .await
        .text()
        .await
        .unwrap();
    assert!(second.contains("Outage number 01") && !second.contains("Outage number 02"));

    let log = get_as(&app, &cookie, "/incidents/1")
        .await
        .text()
        .await
        .unwrap();
    assert!(log.contains("205 messages") && log.contains("log line 199"));
    assert!(!log.contains("log line 200") && log.contains("Later messages"));
    let rest = get_as(&app, &cookie, "/incidents/1?log=2")
        .await
        .text()
        .await
        .unwrap();
    assert!(rest.contains("log line 204") && !rest.contains("log line 199"));
}

#[tokio::test]
async fn a_member_closes_an_action_item_from_the_incident_page_and_another_site_cannot() {
    let app = spawn_app().await;
    let c = resolved_incident(&app, "Pool exhausted").await;
    let cookie = signed_in(&app, "W222", TEAM).await;
    let close = |headers: Vec<(&'static str, String)>, status: &'static str| {
        let mut r = browserless()
            .post(format!("{}/incidents/1/actions/1", app.addr))
            .header("cookie", &cookie)
            .form(&[("status", status)]);
        for (name, value) in headers {
            r = r.header(name, value);
        }
        r.send()
    };

    let forged = close(vec![("sec-fetch-site", "cross-site".into())], "done")
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let page = get_as(&app, &cookie, "/incidents/1")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"class="close-action""#), "still open");

    let r = close(vec![("sec-fetch-site", "same-origin".into())], "wontfix")
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/incidents/1#actions");
    let page = get_as(&app, &cookie, "/incidents/1")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains(r#"class="close-action""#), "{page}");
    assert!(
        page.contains("won&#x27;t fix") || page.contains("won't fix"),
        "{page}"
    );
    app.eventually("the channel hears who closed it", |s| {
        s.messages_in(&c).iter().any(|m| {
            m.text
                .contains("<@W222> closed action item #1 as won't fix")
        })
    })
    .await;
    let unknown = close(vec![], "finished").await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn the_pinned_summary_links_to_the_incident_page() {
    let app = spawn_app_with(Options {
        env: vec![("HEREBY_PUBLIC_URL", "https://hereby.example.com".into())],
        ..Options::default()
    })
    .await;
    let c = app.declared("linked summary").await;
    let welcome = app.slack.messages_in(&c).remove(0);
    let blocks = welcome.blocks.unwrap().to_string();
    assert!(
        blocks.contains("<https://hereby.example.com/incidents/1|"),
        "{blocks}"
    );
}
