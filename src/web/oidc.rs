//! Sign in with Slack (OpenID Connect): the code is exchanged for tokens at
//! `openid.connect.token`, the nonce is checked inside the ID token, and the identity comes from
//! `openid.connect.userInfo` — from Slack, never from the browser.

use std::time::Duration;

use anyhow::{bail, Context};
use axum::body::Bytes;
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::config::OidcClient;
use super::sessions::Viewer;
use crate::domain::{TeamId, UserId};
use crate::secret::Secret;

/// Slack's Web API, for signing people in.
#[derive(Clone)]
pub struct SlackSignIn {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    api_url: String,
    bot_token: Secret,
    timeout: Duration,
    installed: std::sync::Arc<OnceCell<TeamId>>,
}

/// The claims hereby needs from an ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdClaims {
    pub nonce: String,
    pub audience: String,
    pub user: String,
    pub team: String,
}

impl SlackSignIn {
    pub fn new(api_url: &url::Url, bot_token: &Secret, timeout: Duration) -> anyhow::Result<Self> {
        let https = crate::slack::api::https_connector()?;
        Ok(SlackSignIn {
            http: Client::builder(hyper_util::rt::TokioExecutor::new()).build(https),
            api_url: api_url.as_str().trim_end_matches('/').to_string(),
            bot_token: bot_token.clone(),
            timeout,
            installed: Default::default(),
        })
    }

    async fn call(
        &self,
        method: &str,
        bearer: Option<&Secret>,
        form: &[(&str, &str)],
    ) -> anyhow::Result<Value> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request = axum::http::Request::post(format!("{}/{method}", self.api_url))
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {}", token.expose()));
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .with_context(|| format!("Failed to build the {method} request"))?;
        let exchange = async {
            let response = self.http.request(request).await?;
            let bytes = response.into_body().collect().await?.to_bytes();
            anyhow::Ok(bytes)
        };
        let bytes = tokio::time::timeout(self.timeout, exchange)
            .await
            .with_context(|| format!("{method} timed out"))?
            .with_context(|| format!("Failed to call {method}"))?;
        let answer: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{method} did not answer with JSON"))?;
        if answer.get("ok").and_then(Value::as_bool) != Some(true) {
            let code = answer.get("error").and_then(Value::as_str).unwrap_or("?");
            bail!("{method} refused: {code}");
        }
        Ok(answer)
    }

    /// The workspace hereby is installed in (`auth.test` with the bot token), asked once.
    #[tracing::instrument(
        name = "Asking Slack which workspace hereby is installed in",
        skip(self)
    )]
    pub async fn installed_team(&self) -> anyhow::Result<TeamId> {
        self.installed
            .get_or_try_init(|| async {
                let answer = self.call("auth.test", Some(&self.bot_token), &[]).await?;
                let team = answer.get("team_id").and_then(Value::as_str);
                team.map(TeamId::new)
                    .context("auth.test did not name the workspace")
            })
            .await
            .cloned()
    }

    /// Exchanges the callback's code for tokens, checks the ID token against the nonce and
    /// the client, and asks Slack who signed in.
    #[tracing::instrument(name = "Finishing a sign-in with Slack", skip_all)]
    pub async fn identify(
        &self,
        client: &OidcClient,
        code: &str,
        redirect_uri: &str,
        nonce: &str,
    ) -> anyhow::Result<Viewer> {
        let tokens = self
            .call(
                "openid.connect.token",
                None,
                &[
                    ("client_id", client.id.as_str()),
                    ("client_secret", client.secret.expose()),
                    ("code", code),
                    ("redirect_uri", redirect_uri),
                    ("grant_type", "authorization_code"),
                ],
            )
            .await?;
        let access = tokens
            .get("access_token")
            .and_then(Value::as_str)
            .context("openid.connect.token gave no access token")?;
        let id_token = tokens
            .get("id_token")
            .and_then(Value::as_str)
            .context("openid.connect.token gave no ID token")?;
        // The token came straight from Slack over TLS, so its signature need not be checked
        // (OpenID Connect Core 3.1.3.7); its nonce and audience must be ours.
        let claims = id_claims(id_token)?;
        if claims.nonce != nonce {
            bail!("the ID token's nonce is not this sign-in's");
        }
        if claims.audience != client.id {
            bail!("the ID token was issued to another client");
        }
        let info = self
            .call("openid.connect.userInfo", None, &[("token", access)])
            .await?;
        let user = info.get("sub").and_then(Value::as_str).unwrap_or("");
        let team = info
            .get("https://slack.com/team_id")
            .and_then(Value::as_str)
            .unwrap_or("");
        if user.is_empty() || user != claims.user || team != claims.team {
            bail!("Slack's user info does not match the ID token");
        }
        Ok(Viewer {
            team: TeamId::new(team),
            user: UserId::new(user),
        })
    }
}

/// The claims of a JWT's payload (the middle part), unverified.
pub fn id_claims(jwt: &str) -> anyhow::Result<IdClaims> {
    let payload = jwt.split('.').nth(1).context("the ID token is not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .context("the ID token's payload is not base64")?;
    let v: Value = serde_json::from_slice(&bytes).context("the ID token's payload is not JSON")?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let audience = match v.get("aud") {
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).unwrap_or("").to_string(),
        _ => text("aud"),
    };
    Ok(IdClaims {
        nonce: text("nonce"),
        audience,
        user: text("sub"),
        team: text("https://slack.com/team_id"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &Value) -> String {
        let e = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        format!(
            "{}.{}.sig",
            e(br#"{"alg":"RS256"}"#),
            e(payload.to_string().as_bytes())
        )
    }

    #[test]
    fn the_nonce_user_and_workspace_are_read_from_an_id_token() {
        let token = jwt(
            &serde_json::json!({"sub": "W1", "aud": "123.456", "nonce": "n0",
            "https://slack.com/team_id": "T1"}),
        );
        let c = id_claims(&token).unwrap();
        assert_eq!(
            c,
            IdClaims {
                nonce: "n0".into(),
                audience: "123.456".into(),
                user: "W1".into(),
                team: "T1".into()
            }
        );
    }

    #[test]
    fn a_token_that_is_not_a_jwt_is_refused() {
        assert!(id_claims("not-a-token").is_err());
        assert!(id_claims("a.!!!.c").is_err());
    }
}
