//! The web view: incidents, their timelines and post-mortem drafts in a browser, for the
//! members of the workspace hereby is installed in.
//!
//! # Layout
//!
//! - [`config`]: its settings (public address, Slack's address, the OpenID Connect client).
//! - [`sessions`]: server-side sessions, single-use login links, sign-ins in flight.
//! - [`oidc`]: Sign in with Slack: code exchange, nonce check, who signed in.
//! - [`auth`]: the sign-in, callback, login-link and sign-out pages.
//! - [`pages`]: the incidents list, the incident page, draft versions and their Markdown.
//! - [`actions`]: closing an action item from the incident page.
//! - [`insights`] and [`charts`]: figures over twelve months, drawn as SVG (pure charts).
//! - [`calendar`]: the per-workspace iCalendar feed of post-mortem follow-ups.
//! - [`queries`]: what the pages read, always within the viewer's workspace.
//! - [`timeline`]: the SVG timeline, a pure function of the record.
//! - [`markdown`]: drafts as safe HTML.
//!
//! Every page is rendered on the server from templates embedded in the binary; no page runs
//! script, and the Content-Security-Policy forbids it.

pub mod actions;
pub mod auth;
pub mod calendar;
pub mod charts;
pub mod config;
pub mod insights;
pub mod markdown;
pub mod oidc;
pub mod pages;
pub mod queries;
pub mod sessions;
pub mod timeline;

use std::sync::{Arc, OnceLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use minijinja::Environment;
use serde::Serialize;

use crate::app::App;
use config::WebConfig;
use oidc::SlackSignIn;
use sessions::Viewer;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "hereby_session";

/// What the web handlers share.
#[derive(Clone)]
pub struct Web {
    pub app: App,
    pub config: Arc<WebConfig>,
    pub slack: SlackSignIn,
}

/// The web view's routes, with their security headers; `slack` signs people in.
pub fn router(app: App, config: WebConfig, slack: SlackSignIn) -> Router {
    let web = Web {
        app,
        config: Arc::new(config),
        slack,
    };
    Router::new()
        .route("/", get(pages::list))
        .route("/incidents/{number}", get(pages::incident))
        .route("/incidents/{number}/actions/{item}", post(actions::close))
        .route(
            "/incidents/{number}/postmortem.md",
            get(pages::postmortem_markdown),
        )
        .route(
            "/incidents/{number}/drafts/{version}",
            get(pages::draft_version),
        )
        .route("/insights", get(insights::insights))
        .route("/calendar/{file}", get(calendar::ics))
        .route("/signin", get(auth::sign_in_page))
        .route("/auth/slack", get(auth::start))
        .route("/auth/callback", get(auth::callback))
        .route(
            "/auth/link/{secret}",
            get(auth::link_page).post(auth::use_link),
        )
        .route("/signout", post(auth::sign_out))
        .route("/assets/style.css", get(style))
        .fallback(not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(web)
}

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // No address leaves the site in a `Referer`; within it, browsers then send the form's
    // real `Origin` (with `no-referrer` it is `null`, which the sign-in forms' check refuses).
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../templates/web/style.css"),
    )
        .into_response()
}

async fn not_found() -> PageError {
    PageError::NotFound
}

/// The embedded templates; `.html` ones escape everything they are given.
pub fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        let files = [
            ("base.html", include_str!("../../templates/web/base.html")),
            ("list.html", include_str!("../../templates/web/list.html")),
            (
                "incident.html",
                include_str!("../../templates/web/incident.html"),
            ),
            ("draft.html", include_str!("../../templates/web/draft.html")),
            (
                "insights.html",
                include_str!("../../templates/web/insights.html"),
            ),
            (
                "signin.html",
                include_str!("../../templates/web/signin.html"),
            ),
            ("link.html", include_str!("../../templates/web/link.html")),
            ("error.html", include_str!("../../templates/web/error.html")),
        ];
        for (name, source) in files {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "A web template does not parse");
            }
        }
        // A draft's fields are Markdown (made for the post-mortem file): `|md` shows them as
        // HTML instead of escaping their Markdown a second time.
        env.add_filter("md", |text: String| {
            minijinja::Value::from_safe_string(markdown::inline_html(&text))
        });
        env
    })
}

/// Renders a page.
pub fn page(name: &str, context: impl Serialize) -> Result<Response, PageError> {
    let html = templates()
        .get_template(name)
        .and_then(|t| t.render(context))
        .map_err(|e| PageError::Internal(anyhow::anyhow!("Failed to render {name}: {e:#}")))?;
    Ok(Html(html).into_response())
}

/// Why a page could not be shown; each variant says what the browser gets.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// 303 to the sign-in page.
    #[error("not signed in")]
    SignIn,
    /// 404 page: no such page, or nothing of the viewer's workspace by that name.
    #[error("not found")]
    NotFound,
    /// 403 page with this explanation (a sign-in that did not go through).
    #[error("refused: {0}")]
    Refused(String),
    /// 500 page; the details are logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            PageError::SignIn => return Redirect::to("/signin").into_response(),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here, or nothing you can see.".to_string(),
            ),
            PageError::Refused(why) => (StatusCode::FORBIDDEN, "Not signed in", why.clone()),
            PageError::Internal(e) => {
                tracing::error!(error = ?e, "A web page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "hereby could not show this page. Try again in a moment; the details are in hereby's log.".to_string(),
                )
            }
        };
        let body = templates()
            .get_template("error.html")
            .and_then(|t| t.render(minijinja::context! { title, message }))
            .unwrap_or_else(|_| title.to_string());
        (status, Html(body)).into_response()
    }
}

/// Where browsers reach hereby: `HEREBY_PUBLIC_URL`, or else this request's `Host`.
pub fn base_url(web: &Web, headers: &HeaderMap) -> String {
    match &web.config.public_url {
        Some(u) => u.as_str().trim_end_matches('/').to_string(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<Web> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let secret = cookie(&parts.headers, SESSION_COOKIE).ok_or(PageError::SignIn)?;
        let mut conn = web.app.store.conn().await?;
        sessions::find(&mut conn, &secret, chrono::Utc::now())
            .await?
            .ok_or(PageError::SignIn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for name in [
            "base.html",
            "list.html",
            "incident.html",
            "draft.html",
            "insights.html",
            "signin.html",
            "link.html",
            "error.html",
        ] {
            assert!(templates().get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; hereby_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }
}
