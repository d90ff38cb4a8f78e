//! The web view's settings: where it is reached, and the Slack app's OpenID Connect client.

use url::Url;

use crate::secret::Secret;

/// How the web view is reached and how people sign in.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// `HEREBY_PUBLIC_URL`: where browsers reach hereby, without a trailing slash. When unset,
    /// links are built from the request's `Host` (fine on a laptop, not behind a proxy).
    pub public_url: Option<Url>,
    /// `SLACK_URL`: Slack's web address, for its sign-in page (`https://slack.com`).
    pub slack_url: Url,
    /// `SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET`: Sign in with Slack, when both are set.
    pub client: Option<OidcClient>,
}

/// The Slack app's credentials (Basic Information → App Credentials).
#[derive(Debug, Clone)]
pub struct OidcClient {
    pub id: String,
    pub secret: Secret,
}

impl WebConfig {
    /// Reads the web view's settings; problems are added to `problems`, named with their fix.
    pub fn parse<'v>(get: impl Fn(&str) -> Option<&'v str>, problems: &mut Vec<String>) -> Self {
        let public_url = match get("HEREBY_PUBLIC_URL").map(Url::parse) {
            None => None,
            Some(Ok(u)) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Some(u),
            Some(_) => {
                problems.push("HEREBY_PUBLIC_URL must be the http(s) address where people reach hereby, such as https://hereby.example.com.".to_string());
                None
            }
        };
        let slack_url = match Url::parse(get("SLACK_URL").unwrap_or("https://slack.com")) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            _ => {
                problems.push(
                    "SLACK_URL must be Slack's web address, such as https://slack.com.".to_string(),
                );
                Url::parse("https://slack.com").unwrap_or_else(|_| unreachable!())
            }
        };
        let client = match (get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")) {
            (Some(id), Some(secret)) => Some(OidcClient {
                id: id.to_string(),
                secret: Secret::new(secret),
            }),
            (None, None) => None,
            _ => {
                problems.push("Set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (Basic Information → App Credentials) to turn on Sign in with Slack, or neither.".to_string());
                None
            }
        };
        WebConfig {
            public_url,
            slack_url,
            client,
        }
    }

    /// Whether session cookies must be `Secure`: the public address is HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> (WebConfig, Vec<String>) {
        let mut problems = Vec::new();
        let c = WebConfig::parse(
            |k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v),
            &mut problems,
        );
        (c, problems)
    }

    #[test]
    fn without_settings_the_web_view_uses_slack_com_and_login_links_only() {
        let (c, problems) = parse(&[]);
        assert!(problems.is_empty());
        assert_eq!(c.slack_url.as_str(), "https://slack.com/");
        assert!(c.client.is_none());
        assert!(!c.secure_cookies());
    }

    #[test]
    fn an_https_public_address_makes_cookies_secure() {
        let (c, _) = parse(&[("HEREBY_PUBLIC_URL", "https://hereby.example.com")]);
        assert!(c.secure_cookies());
    }

    #[test]
    fn a_client_id_without_its_secret_is_a_problem() {
        let (_, problems) = parse(&[("SLACK_CLIENT_ID", "123.456")]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("SLACK_CLIENT_SECRET"));
    }
}
