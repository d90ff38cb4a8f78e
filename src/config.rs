//! Settings from the environment (and `.env`), validated once at start.
//!
//! Every problem is collected, so one run names all of them with how to fix each; secrets are
//! wrapped in [`Secret`], whose `Debug` and `Display` never show the value.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use chrono_tz::Tz;
use url::Url;

use crate::domain::channel_name::ChannelPrefix;
use crate::domain::fixes::FixReactions;
use crate::domain::ChannelId;

/// A value that must never reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Everything hereby needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `SLACK_BOT_TOKEN`: the bot's `xoxb-` token for the Web API.
    pub bot_token: Secret,
    /// `SLACK_SIGNING_SECRET`: verifies that HTTP requests come from Slack.
    /// `None` when only Socket Mode is used: then `/slack/*` over HTTP is off.
    pub signing_secret: Option<Secret>,
    /// `SLACK_APP_TOKEN`: the `xapp-` token for Socket Mode, if set.
    pub app_token: Option<Secret>,
    /// `SLACK_API_URL`: the Web API base, without a trailing slash.
    pub slack_api_url: Url,
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`.
    pub database_url: Secret,
    /// `HEREBY_LISTEN`: the HTTP address.
    pub listen: SocketAddr,
    /// `HEREBY_TIMEZONE`: dates in channel names and times in drafts.
    pub timezone: Tz,
    /// `HEREBY_ANNOUNCE_CHANNEL`: where new incidents are announced, if anywhere.
    pub announce_channel: Option<ChannelId>,
    /// `HEREBY_CHANNEL_PREFIX`: the first word of incident channel names.
    pub channel_prefix: ChannelPrefix,
    /// `HEREBY_OPEN_COMMANDS`: when true, anyone may run any command.
    pub open_commands: bool,
    /// `HEREBY_ROLES`: extra roles besides the built-in ones (comma-separated).
    pub custom_roles: Vec<String>,
    /// `HEREBY_HIGHLIGHT_REACTION`: the reaction that marks a key event (`pushpin`).
    pub highlight_reaction: String,
    /// `HEREBY_FIX_REACTION` (`wrench`), `HEREBY_FIX_WORKED_REACTION` (`white_check_mark`),
    /// `HEREBY_FIX_FAILED_REACTION` (`x`): the reactions that record a message as a fix
    /// attempt and set its outcome.
    pub fix_reactions: FixReactions,
    /// `HEREBY_POSTMORTEM_TEMPLATE`: the draft template's text (the embedded default if unset).
    pub postmortem_template: String,
    /// `HEREBY_RENAME_CHANNELS`: rename the channel when the incident is renamed.
    pub rename_channels: bool,
    /// `HEREBY_POSTMORTEM_CANVAS`: also put each draft in a canvas in the incident channel.
    pub postmortem_canvas: bool,
    /// `HEREBY_FOLLOWUP_INTERVAL`: between follow-up reviews of open action items (`30d`).
    pub followup_interval: chrono::Duration,
    /// `HEREBY_LOG_FORMAT`: `text` (default) or `json`.
    pub log_json: bool,
    /// `HEREBY_RETRY_BASE_MS`: the first back-off after a failed Slack call; doubles each time.
    pub retry_base: Duration,
    /// `HEREBY_SLACK_TIMEOUT_MS`: how long one Slack call may take before it is retried.
    pub slack_timeout: Duration,
    /// `HEREBY_SLACK_RATE_WINDOW_MS`: the window Slack's rate tiers count calls in (a minute;
    /// shorter only for a local stand-in of Slack with a compressed window).
    pub slack_rate_window: Duration,
    /// `HEREBY_SOCKET_PING_MS`: how often hereby pings Slack over Socket Mode; a connection
    /// silent for three pings is replaced.
    pub socket_ping: Duration,
    /// `HEREBY_MAX_ATTEMPTS`: attempts at a Slack effect or a delivery before it is marked
    /// failed (and can be retried by hand).
    pub max_attempts: i64,
    /// `HEREBY_MAX_CONNECTIONS`, `HEREBY_HEADER_TIMEOUT_MS`, `HEREBY_IDLE_TIMEOUT_MS`,
    /// `HEREBY_BODY_TIMEOUT_MS`, `HEREBY_UNVERIFIED_BODY_BYTES`: the HTTP server's limits.
    pub limits: crate::server::Limits,
    /// The web view: `HEREBY_PUBLIC_URL`, `SLACK_URL`, `SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET`.
    pub web: crate::web::config::WebConfig,
}

/// One or more settings are missing or wrong; the message names each with its fix.
#[derive(Debug, thiserror::Error)]
#[error("hereby cannot start; fix these settings (environment or .env):\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

const CREATE_APP_HINT: &str = "If the app does not exist yet, create it from manifest.yml at https://api.slack.com/apps → Create New App → From a manifest, then install it to your workspace.";

/// What the settings are for: serving Slack needs its secrets; local commands
/// (`migrate`, `postmortem`) need only the database and the draft's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Serve,
    Local,
}

impl Config {
    /// Reads the process environment, after loading `.env` from the working directory if present.
    pub fn from_env(purpose: Purpose) -> Result<Config, ConfigError> {
        // A missing .env is normal; values already in the environment win.
        let _ = dotenvy::dotenv();
        Config::from_vars_for(&std::env::vars().collect(), purpose)
    }

    /// Validates settings from a map for serving, so tests need not touch the environment.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Config, ConfigError> {
        Config::from_vars_for(vars, Purpose::Serve)
    }

    /// Validates settings from a map for `purpose`.
    pub fn from_vars_for(
        vars: &HashMap<String, String>,
        purpose: Purpose,
    ) -> Result<Config, ConfigError> {
        let mut vars = vars.clone();
        if purpose == Purpose::Local {
            // Slack is not called: stand-ins keep the secrets out of the way, never used.
            vars.entry("SLACK_BOT_TOKEN".into())
                .or_insert_with(|| "xoxb-unused".into());
            vars.entry("SLACK_SIGNING_SECRET".into())
                .or_insert_with(|| "unused".into());
        }
        let get = |k: &str| vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut problems = Vec::new();

        let bot_token = match get("SLACK_BOT_TOKEN") {
            None => {
                problems.push(format!("SLACK_BOT_TOKEN is not set. Copy the Bot User OAuth Token (xoxb-…) from your Slack app's settings: OAuth & Permissions → OAuth Tokens. {CREATE_APP_HINT}"));
                None
            }
            Some(t) if !(t.starts_with("xoxb-") || t.starts_with("xoxe.xoxb-")) => {
                problems.push("SLACK_BOT_TOKEN does not look like a bot token (it should start with xoxb-). Copy the Bot User OAuth Token from OAuth & Permissions, not a user (xoxp-) or app-level (xapp-) token.".to_string());
                None
            }
            Some(t) => Some(Secret::new(t)),
        };
        let signing_secret = match (get("SLACK_SIGNING_SECRET"), get("SLACK_APP_TOKEN")) {
            (None, None) => {
                problems.push(format!("SLACK_SIGNING_SECRET is not set. Copy the Signing Secret from your Slack app's settings: Basic Information → App Credentials (or set SLACK_APP_TOKEN to use Socket Mode instead of HTTP). {CREATE_APP_HINT}"));
                Some(None)
            }
            (secret, _) => Some(secret.map(Secret::new)),
        };
        let app_token = match get("SLACK_APP_TOKEN") {
            Some(t) if !t.starts_with("xapp-") => {
                problems.push("SLACK_APP_TOKEN should be an app-level token starting with xapp- (Basic Information → App-Level Tokens, with the connections:write scope), or unset.".to_string());
                None
            }
            other => other.map(Secret::new),
        };
        let slack_api_url = match Url::parse(
            get("SLACK_API_URL").unwrap_or("https://slack.com/api"),
        ) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
            _ => {
                problems.push("SLACK_API_URL must be an http(s) URL such as https://slack.com/api (GovSlack: https://slack-gov.com/api).".to_string());
                None
            }
        };
        let database_url = get("DATABASE_URL").unwrap_or("sqlite://hereby.db");
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            problems.push("DATABASE_URL must start with sqlite:// (for example sqlite://hereby.db, created if missing) or postgres://user:password@host/db.".to_string());
        }
        let listen = match get("HEREBY_LISTEN")
            .unwrap_or("0.0.0.0:3000")
            .parse::<SocketAddr>()
        {
            Ok(a) => Some(a),
            Err(_) => {
                problems.push("HEREBY_LISTEN must be an address and port such as 0.0.0.0:3000 or 127.0.0.1:8080.".to_string());
                None
            }
        };
        let timezone = match get("HEREBY_TIMEZONE").unwrap_or("UTC").parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                problems.push(format!("HEREBY_TIMEZONE '{}' is not an IANA time zone name; use one such as UTC, Europe/Berlin or America/New_York.", get("HEREBY_TIMEZONE").unwrap_or_default()));
                None
            }
        };
        let announce_channel = match get("HEREBY_ANNOUNCE_CHANNEL") {
            Some(c)
                if !(c.starts_with('C') || c.starts_with('G'))
                    || !c.chars().all(|ch| ch.is_ascii_alphanumeric()) =>
            {
                problems.push(format!("HEREBY_ANNOUNCE_CHANNEL '{c}' should be a channel ID such as C0123456789 (in Slack: open the channel's details; the ID is at the bottom), not a #name."));
                None
            }
            other => other.map(ChannelId::new),
        };
        let channel_prefix =
            match ChannelPrefix::parse(get("HEREBY_CHANNEL_PREFIX").unwrap_or("incident")) {
                Ok(p) => Some(p),
                Err(e) => {
                    problems.push(format!("HEREBY_CHANNEL_PREFIX: {e}."));
                    None
                }
            };
        let log_json = match get("HEREBY_LOG_FORMAT").unwrap_or("text") {
            "text" => false,
            "json" => true,
            _ => {
                problems.push("HEREBY_LOG_FORMAT must be text or json.".to_string());
                false
            }
        };
        let open_commands = flag(
            get("HEREBY_OPEN_COMMANDS"),
            "HEREBY_OPEN_COMMANDS",
            &mut problems,
        );
        let mut custom_roles = Vec::new();
        for raw in get("HEREBY_ROLES")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            let key = raw.to_ascii_lowercase().replace(' ', "-");
            let valid = key.len() <= 30
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !valid {
                problems.push(format!("HEREBY_ROLES: '{raw}' is not a usable role name; use letters, digits and dashes (for example customer-liaison)."));
            } else if crate::domain::roles::Role::parse(&key, &[]).is_some() {
                problems.push(format!("HEREBY_ROLES: '{raw}' is already a built-in role (commander, deputy, comms, scribe, ops) or one of their aliases."));
            } else {
                custom_roles.push(key);
            }
        }
        let postmortem_template = match get("HEREBY_POSTMORTEM_TEMPLATE") {
            None => crate::domain::postmortem::DEFAULT_TEMPLATE.to_string(),
            Some(path) => match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(format!("HEREBY_POSTMORTEM_TEMPLATE '{path}' cannot be read ({e}); point it at a readable template file, or unset it to use the built-in one."));
                    String::new()
                }
            },
        };
        let rename_channels = flag(
            get("HEREBY_RENAME_CHANNELS"),
            "HEREBY_RENAME_CHANNELS",
            &mut problems,
        );
        let postmortem_canvas = flag(
            get("HEREBY_POSTMORTEM_CANVAS"),
            "HEREBY_POSTMORTEM_CANVAS",
            &mut problems,
        );
        let followup_interval =
            match parse_interval(get("HEREBY_FOLLOWUP_INTERVAL").unwrap_or("30d")) {
                Some(d) => d,
                None => {
                    problems.push(
                        "HEREBY_FOLLOWUP_INTERVAL must be a duration such as 30d, 12h, 45m or 90s."
                            .to_string(),
                    );
                    chrono::Duration::days(30)
                }
            };
        let reaction = |key: &str, default: &str| {
            get(key)
                .map(|r| r.trim().trim_matches(':'))
                .filter(|r| !r.is_empty())
                .unwrap_or(default)
                .to_string()
        };
        let highlight_reaction = reaction("HEREBY_HIGHLIGHT_REACTION", "pushpin");
        let defaults = FixReactions::default();
        let fix_reactions = FixReactions {
            tried: reaction("HEREBY_FIX_REACTION", &defaults.tried),
            worked: reaction("HEREBY_FIX_WORKED_REACTION", &defaults.worked),
            failed: reaction("HEREBY_FIX_FAILED_REACTION", &defaults.failed),
        };
        let mut millis = |key: &str, default: u64| match get(key).map(str::parse::<u64>) {
            None => Duration::from_millis(default),
            Some(Ok(ms)) if ms > 0 => Duration::from_millis(ms),
            Some(_) => {
                problems.push(format!("{key} must be a positive number of milliseconds."));
                Duration::from_millis(default)
            }
        };
        let retry_base = millis("HEREBY_RETRY_BASE_MS", 1000);
        let slack_timeout = millis("HEREBY_SLACK_TIMEOUT_MS", 10_000);
        let slack_rate_window = millis("HEREBY_SLACK_RATE_WINDOW_MS", 60_000);
        let socket_ping = millis("HEREBY_SOCKET_PING_MS", 10_000);
        let defaults = crate::server::Limits::default();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let header_timeout = millis("HEREBY_HEADER_TIMEOUT_MS", ms(defaults.header_timeout));
        let idle_timeout = millis("HEREBY_IDLE_TIMEOUT_MS", ms(defaults.idle_timeout));
        let body_timeout = millis("HEREBY_BODY_TIMEOUT_MS", ms(defaults.body_timeout));
        let mut count = |key: &str, default: usize| match get(key).map(str::parse::<usize>) {
            None => default,
            Some(Ok(n)) if n > 0 => n,
            Some(_) => {
                problems.push(format!("{key} must be a positive whole number."));
                default
            }
        };
        let limits = crate::server::Limits {
            max_connections: count("HEREBY_MAX_CONNECTIONS", defaults.max_connections),
            header_timeout,
            idle_timeout,
            body_timeout,
            body_budget: count("HEREBY_UNVERIFIED_BODY_BYTES", defaults.body_budget),
        };
        let max_attempts = i64::try_from(count("HEREBY_MAX_ATTEMPTS", 50)).unwrap_or(i64::MAX);
        let web = crate::web::config::WebConfig::parse(get, &mut problems);

        match (
            bot_token,
            signing_secret,
            slack_api_url,
            listen,
            timezone,
            channel_prefix,
        ) {
            (
                Some(bot_token),
                Some(signing_secret),
                Some(slack_api_url),
                Some(listen),
                Some(timezone),
                Some(channel_prefix),
            ) if problems.is_empty() => Ok(Config {
                bot_token,
                signing_secret,
                app_token,
                slack_api_url,
                database_url: Secret::new(database_url),
                listen,
                timezone,
                announce_channel,
                channel_prefix,
                open_commands,
                custom_roles,
                highlight_reaction,
                fix_reactions,
                postmortem_template,
                postmortem_canvas,
                rename_channels,
                followup_interval,
                log_json,
                retry_base,
                slack_timeout,
                slack_rate_window,
                socket_ping,
                max_attempts,
                limits,
                web,
            }),
            _ => Err(ConfigError { problems }),
        }
    }
}

/// A true/false setting; anything else is a problem named after `key`.
fn flag(raw: Option<&str>, key: &str, problems: &mut Vec<String>) -> bool {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") | Some("0") | Some("no") => false,
        Some("true") | Some("1") | Some("yes") => true,
        Some(_) => {
            problems.push(format!("{key} must be true or false."));
            false
        }
    }
}

/// "30d", "12h", "45m", "90s" (a bare number is seconds).
fn parse_interval(raw: &str) -> Option<chrono::Duration> {
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: i64 = digits.parse().ok().filter(|n| *n > 0)?;
    match unit {
        "d" => Some(chrono::Duration::days(n)),
        "h" => Some(chrono::Duration::hours(n)),
        "m" => Some(chrono::Duration::minutes(n)),
        "s" | "" => Some(chrono::Duration::seconds(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn minimal() -> HashMap<String, String> {
        vars(&[
            ("SLACK_BOT_TOKEN", "xoxb-1-2-abc"),
            ("SLACK_SIGNING_SECRET", "s3cr3t"),
        ])
    }

    #[test]
    fn two_secrets_are_enough_and_defaults_fill_the_rest() {
        let c = Config::from_vars(&minimal()).unwrap();
        assert_eq!(c.slack_api_url.as_str(), "https://slack.com/api");
        assert_eq!(c.database_url.expose(), "sqlite://hereby.db");
        assert_eq!(c.listen.to_string(), "0.0.0.0:3000");
        assert_eq!(c.timezone, chrono_tz::UTC);
        assert_eq!(c.channel_prefix.as_str(), "incident");
        assert!(c.announce_channel.is_none());
    }

    #[test]
    fn missing_tokens_are_named_with_where_to_find_them() {
        let err = Config::from_vars(&HashMap::new()).unwrap_err().to_string();
        assert!(err.contains("SLACK_BOT_TOKEN is not set"), "{err}");
        assert!(err.contains("OAuth & Permissions"), "{err}");
        assert!(err.contains("manifest.yml"), "{err}");
        assert!(err.contains("SLACK_SIGNING_SECRET is not set"), "{err}");
        assert!(err.contains("Basic Information"), "{err}");
    }

    #[test]
    fn every_bad_setting_is_reported_at_once() {
        let mut v = minimal();
        v.insert("HEREBY_TIMEZONE".into(), "Mars/Olympus".into());
        v.insert("HEREBY_LISTEN".into(), "port 80".into());
        v.insert("HEREBY_ANNOUNCE_CHANNEL".into(), "#general".into());
        let err = Config::from_vars(&v).unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let c = Config::from_vars(&minimal()).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("xoxb-1-2-abc"));
        assert!(!debug.contains("s3cr3t"));
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn a_user_token_is_refused_as_bot_token() {
        let mut v = minimal();
        v.insert("SLACK_BOT_TOKEN".into(), "xoxp-123".into());
        let err = Config::from_vars(&v).unwrap_err().to_string();
        assert!(err.contains("should start with xoxb-"), "{err}");
    }
}
