//! Who is signed in: server-side sessions, single-use login links, and sign-ins with Slack
//! between the redirect and the callback. Secrets are random; only their hashes are stored.

use anyhow::Context;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::domain::{TeamId, UserId};
use crate::store::to_millis;

/// How long a session lasts after sign-in.
pub const SESSION_LIFETIME: Duration = Duration::days(7);
/// How long a login link may wait to be used.
pub const LINK_LIFETIME: Duration = Duration::minutes(10);
/// How long Slack's sign-in page may take before the callback.
pub const SIGN_IN_LIFETIME: Duration = Duration::minutes(10);

/// A signed-in person: a member of one workspace, who sees only that workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub team: TeamId,
    pub user: UserId,
}

/// A session's or login link's row: whose it is.
#[derive(sqlx::FromRow)]
struct ViewerRow {
    team_id: String,
    user_id: String,
}

impl From<ViewerRow> for Viewer {
    fn from(r: ViewerRow) -> Self {
        Viewer {
            team: TeamId::new(r.team_id),
            user: UserId::new(r.user_id),
        }
    }
}

/// 32 random bytes, URL-safe.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Starts a session for `viewer`; returns the secret for the cookie.
#[tracing::instrument(name = "Starting a web session", skip_all, fields(team = %viewer.team))]
pub async fn start(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let secret = new_secret();
    sqlx::query("INSERT INTO web_sessions (secret_hash, team_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(hash(&secret))
        .bind(viewer.team.to_string())
        .bind(viewer.user.to_string())
        .bind(to_millis(now))
        .bind(to_millis(now + SESSION_LIFETIME))
        .execute(conn)
        .await
        .context("Failed to store a web session")?;
    Ok(secret)
}

/// The viewer a cookie's secret belongs to, while the session lasts.
pub async fn find(
    conn: &mut AnyConnection,
    secret: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Viewer>> {
    let row: Option<ViewerRow> = sqlx::query_as(
        "SELECT team_id, user_id FROM web_sessions WHERE secret_hash = $1 AND expires_at > $2",
    )
    .bind(hash(secret))
    .bind(to_millis(now))
    .fetch_optional(conn)
    .await
    .context("Failed to look up a web session")?;
    Ok(row.map(Viewer::from))
}

/// Ends a session (sign-out), and forgets sessions that have expired.
#[tracing::instrument(name = "Ending a web session", skip_all)]
pub async fn end(conn: &mut AnyConnection, secret: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM web_sessions WHERE secret_hash = $1 OR expires_at <= $2")
        .bind(hash(secret))
        .bind(to_millis(now))
        .execute(conn)
        .await
        .context("Failed to end a web session")?;
    Ok(())
}

/// A single-use login link's secret for `viewer`, valid for [`LINK_LIFETIME`].
#[tracing::instrument(name = "Creating a login link", skip_all, fields(team = %viewer.team))]
pub async fn create_link(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let secret = new_secret();
    sqlx::query("INSERT INTO web_login_links (secret_hash, team_id, user_id, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash(&secret))
        .bind(viewer.team.to_string())
        .bind(viewer.user.to_string())
        .bind(to_millis(now + LINK_LIFETIME))
        .execute(conn)
        .await
        .context("Failed to store a login link")?;
    Ok(secret)
}

/// Uses a login link: the viewer it was made for, once, while it is valid.
#[tracing::instrument(name = "Using a login link", skip_all)]
pub async fn redeem_link(
    conn: &mut AnyConnection,
    secret: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Viewer>> {
    let row: Option<ViewerRow> = sqlx::query_as(
        "UPDATE web_login_links SET used_at = $1
         WHERE secret_hash = $2 AND used_at IS NULL AND expires_at > $1
         RETURNING team_id, user_id",
    )
    .bind(to_millis(now))
    .bind(hash(secret))
    .fetch_optional(conn)
    .await
    .context("Failed to use a login link")?;
    Ok(row.map(Viewer::from))
}

/// Begins a sign-in with Slack; returns its state and nonce.
pub async fn begin_sign_in(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
) -> anyhow::Result<(String, String)> {
    let (state, nonce) = (new_secret(), new_secret());
    sqlx::query("INSERT INTO web_sign_ins (state, nonce, expires_at) VALUES ($1, $2, $3)")
        .bind(state.clone())
        .bind(nonce.clone())
        .bind(to_millis(now + SIGN_IN_LIFETIME))
        .execute(conn)
        .await
        .context("Failed to store a sign-in")?;
    Ok((state, nonce))
}

/// Finishes the sign-in a state names, once: its nonce, if it is still valid.
pub async fn take_sign_in(
    conn: &mut AnyConnection,
    state: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<String>> {
    let nonce: Option<String> = sqlx::query_scalar(
        "DELETE FROM web_sign_ins WHERE state = $1 AND expires_at > $2 RETURNING nonce",
    )
    .bind(state.to_string())
    .bind(to_millis(now))
    .fetch_optional(&mut *conn)
    .await
    .context("Failed to finish a sign-in")?;
    sqlx::query("DELETE FROM web_sign_ins WHERE expires_at <= $1")
        .bind(to_millis(now))
        .execute(conn)
        .await
        .context("Failed to forget old sign-ins")?;
    Ok(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_url_safe() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn only_the_hash_of_a_secret_is_kept() {
        let s = new_secret();
        assert_eq!(hash(&s).len(), 64);
        assert!(!hash(&s).contains(&s));
    }
}
