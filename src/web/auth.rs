//! Signing in and out: Sign in with Slack (redirect, callback), single-use login links, and
//! sign-out. A session starts only for a member of the workspace hereby is installed in.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use minijinja::context;

use super::sessions::{self, Viewer};
use super::{cookie, page, PageError, Web, SESSION_COOKIE};

/// The cookie that ties Slack's callback to the browser that started the sign-in.
const SIGN_IN_COOKIE: &str = "hereby_sign_in";

/// `/signin`: Sign in with Slack, or how to get a login link.
pub async fn sign_in_page(State(web): State<Web>) -> Result<Response, PageError> {
    page(
        "signin.html",
        context! { slack_sign_in => web.config.client.is_some() },
    )
}

/// The address Slack sends people back to.
fn redirect_uri(web: &Web, headers: &HeaderMap) -> String {
    format!("{}/auth/callback", super::base_url(web, headers))
}

fn set_cookie(web: &Web, name: &str, value: &str, path: &str, max_age: i64) -> HeaderValue {
    let secure = if web.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let raw =
        format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&raw).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `/auth/slack`: remembers a state and nonce and sends the browser to Slack's sign-in page.
#[tracing::instrument(name = "Starting a sign-in with Slack", skip_all)]
pub async fn start(State(web): State<Web>, headers: HeaderMap) -> Result<Response, PageError> {
    let client = web.config.client.as_ref().ok_or(PageError::NotFound)?;
    let mut conn = web.app.store.conn().await?;
    let (state, nonce) = sessions::begin_sign_in(&mut conn, Utc::now()).await?;
    let mut authorize = web.config.slack_url.clone();
    authorize.set_path("/openid/connect/authorize");
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("scope", "openid email profile")
        .append_pair("client_id", &client.id)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("redirect_uri", &redirect_uri(&web, &headers));
    let mut response = Redirect::to(authorize.as_str()).into_response();
    let age = sessions::SIGN_IN_LIFETIME.num_seconds();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&web, SIGN_IN_COOKIE, &state, "/auth", age),
    );
    Ok(response)
}

/// `/auth/callback`: checks the state against this browser's, and the nonce inside Slack's ID
/// token; then starts a session for the person Slack names, if hereby is installed in their
/// workspace.
#[tracing::instrument(name = "Signing in with Slack", skip_all)]
pub async fn callback(
    State(web): State<Web>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let client = web.config.client.as_ref().ok_or(PageError::NotFound)?;
    if let Some(error) = query.get("error") {
        return Err(PageError::Refused(format!(
            "Slack did not sign you in ({error})."
        )));
    }
    let (Some(code), Some(state)) = (query.get("code"), query.get("state")) else {
        return Err(PageError::Refused(
            "This is not a sign-in Slack sent back.".into(),
        ));
    };
    let again = "Start again from the sign-in page.";
    if cookie(&headers, SIGN_IN_COOKIE).as_deref() != Some(state.as_str()) {
        return Err(PageError::Refused(format!(
            "This sign-in was not started in this browser. {again}"
        )));
    }
    let mut conn = web.app.store.conn().await?;
    let nonce = sessions::take_sign_in(&mut conn, state, Utc::now())
        .await?
        .ok_or_else(|| {
            PageError::Refused(format!(
                "This sign-in has expired or was already used. {again}"
            ))
        })?;
    let viewer = match web
        .slack
        .identify(client, code, &redirect_uri(&web, &headers), &nonce)
        .await
    {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "Slack could not confirm a sign-in");
            return Err(PageError::Refused(format!(
                "Slack could not confirm who you are. {again}"
            )));
        }
    };
    let installed = web.slack.installed_team().await?;
    if viewer.team != installed {
        return Err(PageError::Refused(
            "hereby is not installed in your workspace, so there is nothing to show you.".into(),
        ));
    }
    signed_in(&web, &mut conn, &viewer).await
}

async fn signed_in(
    web: &Web,
    conn: &mut sqlx::AnyConnection,
    viewer: &Viewer,
) -> Result<Response, PageError> {
    let secret = sessions::start(conn, viewer, Utc::now()).await?;
    tracing::info!(team = %viewer.team, user = %viewer.user, "Signed in to the web view");
    let mut response = Redirect::to("/").into_response();
    let h = response.headers_mut();
    let age = sessions::SESSION_LIFETIME.num_seconds();
    h.append(
        header::SET_COOKIE,
        set_cookie(web, SESSION_COOKIE, &secret, "/", age),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(web, SIGN_IN_COOKIE, "", "/auth", 0),
    );
    Ok(response)
}

/// `GET /auth/link/<secret>`: a button that uses the link, so that link previews (which only
/// fetch) never use it up.
pub async fn link_page(Path(secret): Path<String>) -> Result<Response, PageError> {
    let well_formed = secret
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !well_formed {
        return Err(PageError::NotFound);
    }
    page("link.html", context! { secret })
}

/// `POST /auth/link/<secret>`: uses a login link and starts a session.
#[tracing::instrument(name = "Signing in with a login link", skip_all)]
pub async fn use_link(
    State(web): State<Web>,
    Path(secret): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    from_this_site(&web, &headers)?;
    let mut conn = web.app.store.conn().await?;
    let viewer = sessions::redeem_link(&mut conn, &secret, Utc::now())
        .await?
        .ok_or_else(|| {
            PageError::Refused(
                "This login link has expired or was already used. Ask for a new one with hereby login-link.".into(),
            )
        })?;
    signed_in(&web, &mut conn, &viewer).await
}

/// Refuses a form another site's page sent (a login or a sign-out forced on someone): the
/// browser's `Sec-Fetch-Site`, or else its `Origin`, must say this site. The origin is this
/// site's when it is the public address's (`HEREBY_PUBLIC_URL`, behind a proxy) or the `Host`
/// asked for. A request with neither header (not from a browser) passes.
pub(super) fn from_this_site(web: &Web, headers: &HeaderMap) -> Result<(), PageError> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let ours = match (text("sec-fetch-site"), text("origin")) {
        (Some(site), _) => matches!(site, "same-origin" | "same-site" | "none"),
        (None, Some(origin)) => {
            let public = web
                .config
                .public_url
                .as_ref()
                .map(|u| u.origin().ascii_serialization());
            let host = origin.split_once("://").map(|(_, host)| host);
            public.as_deref() == Some(origin) || (host.is_some() && host == text("host"))
        }
        (None, None) => true,
    };
    if ours {
        Ok(())
    } else {
        Err(PageError::Refused(
            "This form was sent from another site. Open hereby's page and use it there.".into(),
        ))
    }
}

/// `POST /signout`: ends the session and forgets the cookie.
#[tracing::instrument(name = "Signing out of the web view", skip_all)]
pub async fn sign_out(State(web): State<Web>, headers: HeaderMap) -> Result<Response, PageError> {
    from_this_site(&web, &headers)?;
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        let mut conn = web.app.store.conn().await?;
        sessions::end(&mut conn, &secret, Utc::now()).await?;
    }
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&web, SESSION_COOKIE, "", "/", 0),
    );
    Ok(response)
}

/// A login link for `user` of `team`, valid for ten minutes, for `hereby login-link`.
pub async fn login_link(
    store: &crate::store::Store,
    base_url: &str,
    user: &str,
    team: Option<&str>,
) -> anyhow::Result<String> {
    let mut conn = store.conn().await?;
    let team = match team {
        Some(t) => t.to_string(),
        None => {
            let teams: Vec<String> =
                sqlx::query_scalar("SELECT team_id FROM team_counters ORDER BY team_id")
                    .fetch_all(&mut *conn)
                    .await?;
            match teams.as_slice() {
                [one] => one.clone(),
                [] => anyhow::bail!("hereby has no incidents yet, so it cannot tell your workspace; give it with --team T… (Slack: workspace settings, or any channel link)"),
                several => anyhow::bail!("hereby serves several workspaces ({}); choose one with --team", several.join(", ")),
            }
        }
    };
    let viewer = Viewer {
        team: crate::domain::TeamId::new(team),
        user: crate::domain::UserId::new(user.trim()),
    };
    let secret = sessions::create_link(&mut conn, &viewer, Utc::now()).await?;
    Ok(format!(
        "{}/auth/link/{secret}",
        base_url.trim_end_matches('/')
    ))
}
