//! Settings from flags, the environment (and `.env`), validated once at start.
//!
//! [`Settings`] names each setting with its variable, default and help; this module turns them
//! into a [`Config`].
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

mod settings;
pub use settings::{blank_env_is_unset, Settings, HIGHLIGHT_REACTION};

pub use crate::secret::Secret;

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
    /// `HEREBY_MAX_ATTEMPTS`: attempts at a delivery, or at a Slack effect failing on hereby's
    /// side, before it is marked failed (and can be retried by hand); a Slack outage never
    /// uses them up.
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
        let settings = Settings::from_process_env().map_err(ConfigError::from_clap)?;
        Config::from_settings(settings, purpose)
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
        let settings = Settings::from_vars(vars).map_err(ConfigError::from_clap)?;
        Config::from_settings(settings, purpose)
    }

    /// Validates `settings` for `purpose`, naming every problem with its fix.
    pub fn from_settings(mut s: Settings, purpose: Purpose) -> Result<Config, ConfigError> {
        if purpose == Purpose::Local {
            // Slack is not called: stand-ins keep the secrets out of the way, never used.
            if set(&s.slack_bot_token).is_none() {
                s.slack_bot_token = Some("xoxb-unused".into());
            }
            if set(&s.slack_signing_secret).is_none() {
                s.slack_signing_secret = Some("unused".into());
            }
        }
        let mut problems = Vec::new();

        let bot_token = match set(&s.slack_bot_token) {
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
        let signing_secret = match (set(&s.slack_signing_secret), set(&s.slack_app_token)) {
            (None, None) => {
                problems.push(format!("SLACK_SIGNING_SECRET is not set. Copy the Signing Secret from your Slack app's settings: Basic Information → App Credentials (or set SLACK_APP_TOKEN to use Socket Mode instead of HTTP). {CREATE_APP_HINT}"));
                Some(None)
            }
            (secret, _) => Some(secret.map(Secret::new)),
        };
        let app_token = match set(&s.slack_app_token) {
            Some(t) if !t.starts_with("xapp-") => {
                problems.push("SLACK_APP_TOKEN should be an app-level token starting with xapp- (Basic Information → App-Level Tokens, with the connections:write scope), or unset.".to_string());
                None
            }
            other => other.map(Secret::new),
        };
        let slack_api_url = match Url::parse(s.slack_api_url.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
            _ => {
                problems.push("SLACK_API_URL must be an http(s) URL such as https://slack.com/api (GovSlack: https://slack-gov.com/api).".to_string());
                None
            }
        };
        let database_url = s.database_url.trim();
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            problems.push("DATABASE_URL must start with sqlite:// (for example sqlite://hereby.db, created if missing) or postgres://user:password@host/db.".to_string());
        }
        let listen = match s.listen.trim().parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                problems.push("HEREBY_LISTEN must be an address and port such as 0.0.0.0:3000 or 127.0.0.1:8080.".to_string());
                None
            }
        };
        let timezone = match s.timezone.trim().parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                problems.push(format!("HEREBY_TIMEZONE '{}' is not an IANA time zone name; use one such as UTC, Europe/Berlin or America/New_York.", s.timezone.trim()));
                None
            }
        };
        let announce_channel = match set(&s.announce_channel) {
            Some(c)
                if !(c.starts_with('C') || c.starts_with('G'))
                    || !c.chars().all(|ch| ch.is_ascii_alphanumeric()) =>
            {
                problems.push(format!("HEREBY_ANNOUNCE_CHANNEL '{c}' should be a channel ID such as C0123456789 (in Slack: open the channel's details; the ID is at the bottom), not a #name."));
                None
            }
            other => other.map(ChannelId::new),
        };
        let channel_prefix = match ChannelPrefix::parse(s.channel_prefix.trim()) {
            Ok(p) => Some(p),
            Err(e) => {
                problems.push(format!("HEREBY_CHANNEL_PREFIX: {e}."));
                None
            }
        };
        let log_json = match s.log_format.trim() {
            "text" => false,
            "json" => true,
            _ => {
                problems.push("HEREBY_LOG_FORMAT must be text or json.".to_string());
                false
            }
        };
        let open_commands = flag(&s.open_commands, "HEREBY_OPEN_COMMANDS", &mut problems);
        let custom_roles = roles(set(&s.roles).unwrap_or(""), &mut problems);
        let postmortem_template = match set(&s.postmortem_template) {
            None => crate::domain::postmortem::DEFAULT_TEMPLATE.to_string(),
            Some(path) => match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(format!("HEREBY_POSTMORTEM_TEMPLATE '{path}' cannot be read ({e}); point it at a readable template file, or unset it to use the built-in one."));
                    String::new()
                }
            },
        };
        let rename_channels = flag(&s.rename_channels, "HEREBY_RENAME_CHANNELS", &mut problems);
        let postmortem_canvas = flag(
            &s.postmortem_canvas,
            "HEREBY_POSTMORTEM_CANVAS",
            &mut problems,
        );
        let followup_interval = match parse_interval(&s.followup_interval) {
            Some(d) => d,
            None => {
                problems.push(
                    "HEREBY_FOLLOWUP_INTERVAL must be a duration such as 30d, 12h, 45m or 90s."
                        .to_string(),
                );
                chrono::Duration::days(30)
            }
        };
        let defaults = FixReactions::default();
        let highlight_reaction = reaction(&s.highlight_reaction, settings::HIGHLIGHT_REACTION);
        let fix_reactions = FixReactions {
            tried: reaction(&s.fix_reaction, &defaults.tried),
            worked: reaction(&s.fix_worked_reaction, &defaults.worked),
            failed: reaction(&s.fix_failed_reaction, &defaults.failed),
        };
        let mut millis = |raw: &str, key: &str| match raw.trim().parse::<u64>() {
            Ok(ms) if ms > 0 => Duration::from_millis(ms),
            _ => {
                problems.push(format!("{key} must be a positive number of milliseconds."));
                Duration::ZERO
            }
        };
        let retry_base = millis(&s.retry_base_ms, "HEREBY_RETRY_BASE_MS");
        let slack_timeout = millis(&s.slack_timeout_ms, "HEREBY_SLACK_TIMEOUT_MS");
        let slack_rate_window = millis(&s.slack_rate_window_ms, "HEREBY_SLACK_RATE_WINDOW_MS");
        let socket_ping = millis(&s.socket_ping_ms, "HEREBY_SOCKET_PING_MS");
        let header_timeout = millis(&s.header_timeout_ms, "HEREBY_HEADER_TIMEOUT_MS");
        let idle_timeout = millis(&s.idle_timeout_ms, "HEREBY_IDLE_TIMEOUT_MS");
        let body_timeout = millis(&s.body_timeout_ms, "HEREBY_BODY_TIMEOUT_MS");
        let mut count = |raw: &str, key: &str| match raw.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                problems.push(format!("{key} must be a positive whole number."));
                0
            }
        };
        let limits = crate::server::Limits {
            max_connections: count(&s.max_connections, "HEREBY_MAX_CONNECTIONS"),
            header_timeout,
            idle_timeout,
            body_timeout,
            body_budget: count(&s.unverified_body_bytes, "HEREBY_UNVERIFIED_BODY_BYTES"),
        };
        let max_attempts =
            i64::try_from(count(&s.max_attempts, "HEREBY_MAX_ATTEMPTS")).unwrap_or(i64::MAX);
        let web = crate::web::config::WebConfig::parse(
            |key| match key {
                "HEREBY_PUBLIC_URL" => set(&s.public_url),
                "SLACK_URL" => Some(s.slack_url.trim()),
                "SLACK_CLIENT_ID" => set(&s.slack_client_id),
                "SLACK_CLIENT_SECRET" => set(&s.slack_client_secret),
                _ => None,
            },
            &mut problems,
        );

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

impl ConfigError {
    /// A setting clap itself could not read (a value that is not UTF-8, an unknown flag).
    fn from_clap(e: clap::Error) -> ConfigError {
        ConfigError {
            problems: vec![e.to_string().trim().to_string()],
        }
    }
}

/// The value of an optional setting, trimmed; blank counts as unset.
fn set(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A reaction's name without colons (`:wrench:` is `wrench`); nothing left means `default`.
fn reaction(raw: &str, default: &str) -> String {
    let name = raw.trim().trim_matches(':');
    if name.is_empty() { default } else { name }.to_string()
}

/// `HEREBY_ROLES`: comma-separated role names, each checked; problems are added to `problems`.
fn roles(raw: &str, problems: &mut Vec<String>) -> Vec<String> {
    let mut custom_roles = Vec::new();
    for raw in raw.split(',').map(str::trim).filter(|r| !r.is_empty()) {
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
    custom_roles
}

/// A true/false setting; anything else is a problem named after `key`.
fn flag(raw: &str, key: &str, problems: &mut Vec<String>) -> bool {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" => false,
        "true" | "1" | "yes" => true,
        _ => {
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
    use clap::Args;

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
    fn blank_values_count_as_unset_and_values_are_trimmed() {
        let mut v = minimal();
        v.insert("HEREBY_LISTEN".into(), "  ".into());
        v.insert("HEREBY_ANNOUNCE_CHANNEL".into(), "".into());
        v.insert("HEREBY_TIMEZONE".into(), " Europe/Berlin ".into());
        v.insert("HEREBY_FIX_REACTION".into(), ":hammer:".into());
        let c = Config::from_vars(&v).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:3000");
        assert!(c.announce_channel.is_none());
        assert_eq!(c.timezone, chrono_tz::Europe::Berlin);
        assert_eq!(c.fix_reactions.tried, "hammer");
    }

    #[test]
    fn the_defaults_are_those_of_the_server_limits_and_the_fix_reactions() {
        let c = Config::from_vars(&minimal()).unwrap();
        let limits = crate::server::Limits::default();
        assert_eq!(c.limits.max_connections, limits.max_connections);
        assert_eq!(c.limits.header_timeout, limits.header_timeout);
        assert_eq!(c.limits.idle_timeout, limits.idle_timeout);
        assert_eq!(c.limits.body_timeout, limits.body_timeout);
        assert_eq!(c.limits.body_budget, limits.body_budget);
        let fixes = FixReactions::default();
        assert_eq!(c.fix_reactions.tried, fixes.tried);
        assert_eq!(c.fix_reactions.worked, fixes.worked);
        assert_eq!(c.fix_reactions.failed, fixes.failed);
        assert_eq!(c.highlight_reaction, "pushpin");
        assert_eq!(c.max_attempts, 50);
        assert_eq!(c.followup_interval, chrono::Duration::days(30));
        assert_eq!(c.retry_base, Duration::from_secs(1));
        assert_eq!(c.slack_rate_window, Duration::from_secs(60));
        assert!(!c.log_json && !c.open_commands && !c.rename_channels && !c.postmortem_canvas);
        assert_eq!(c.web.slack_url.as_str(), "https://slack.com/");
    }

    #[test]
    fn each_bad_value_names_its_variable_and_what_is_valid() {
        let cases = [
            (
                "HEREBY_RETRY_BASE_MS",
                "0",
                "positive number of milliseconds",
            ),
            (
                "HEREBY_SOCKET_PING_MS",
                "soon",
                "positive number of milliseconds",
            ),
            ("HEREBY_MAX_CONNECTIONS", "-1", "positive whole number"),
            ("HEREBY_MAX_ATTEMPTS", "many", "positive whole number"),
            ("HEREBY_OPEN_COMMANDS", "maybe", "true or false"),
            ("HEREBY_LOG_FORMAT", "xml", "text or json"),
            (
                "HEREBY_FOLLOWUP_INTERVAL",
                "monthly",
                "30d, 12h, 45m or 90s",
            ),
            ("HEREBY_ROLES", "commander", "already a built-in role"),
            ("DATABASE_URL", "mysql://db", "sqlite://"),
            ("SLACK_API_URL", "ftp://slack", "http(s) URL"),
            ("SLACK_APP_TOKEN", "xoxb-1", "xapp-"),
            ("HEREBY_PUBLIC_URL", "hereby.example.com", "http(s) address"),
        ];
        for (key, value, valid) in cases {
            let mut v = minimal();
            v.insert(key.into(), value.into());
            let err = Config::from_vars(&v).unwrap_err();
            assert_eq!(err.problems.len(), 1, "{key}: {err}");
            assert!(err.problems[0].starts_with(key), "{key}: {err}");
            assert!(err.problems[0].contains(valid), "{key}: {err}");
        }
    }

    #[test]
    fn local_commands_need_no_slack_secrets() {
        let v = vars(&[("DATABASE_URL", "sqlite://elsewhere.db")]);
        let c = Config::from_vars_for(&v, Purpose::Local).unwrap();
        assert_eq!(c.database_url.expose(), "sqlite://elsewhere.db");
    }

    #[test]
    fn every_setting_has_a_flag_an_environment_variable_and_help() {
        let cmd = Settings::augment_args(clap::Command::new("hereby"));
        let names = Settings::env_names();
        assert_eq!(names.len(), cmd.get_arguments().count());
        for arg in cmd.get_arguments() {
            assert!(arg.get_long().is_some(), "{:?}", arg.get_id());
            assert!(arg.get_help().is_some(), "{:?}", arg.get_id());
        }
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }

    #[test]
    fn a_user_token_is_refused_as_bot_token() {
        let mut v = minimal();
        v.insert("SLACK_BOT_TOKEN".into(), "xoxp-123".into());
        let err = Config::from_vars(&v).unwrap_err().to_string();
        assert!(err.contains("should start with xoxb-"), "{err}");
    }
}
