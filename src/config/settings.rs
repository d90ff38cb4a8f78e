//! Every setting in one place: its environment variable, its flag, its default and its help.
//!
//! `hereby --help` prints them all from here. Values stay text until [`super::Config`]
//! validates them, so one run reports every bad setting at once.

use std::collections::HashMap;

use clap::{ArgMatches, Args, Command, FromArgMatches};

/// The reaction that marks a key event when `HEREBY_HIGHLIGHT_REACTION` is unset.
pub const HIGHLIGHT_REACTION: &str = "pushpin";

/// The settings as given (flag, environment variable, `.env`, or default), not yet validated.
///
/// Deliberately not `Debug`: it holds the secrets as plain text.
#[derive(Args, Clone)]
#[command(next_help_heading = "Settings (a flag, or its environment variable, also from .env)")]
pub struct Settings {
    /// The bot's token (xoxb-…), from your Slack app's OAuth & Permissions → OAuth Tokens.
    /// Required to serve.
    #[arg(
        long,
        global = true,
        env = "SLACK_BOT_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub slack_bot_token: Option<String>,

    /// Verifies that HTTP requests come from Slack (Basic Information → App Credentials).
    /// Required to serve over HTTP; optional with SLACK_APP_TOKEN (Socket Mode).
    #[arg(
        long,
        global = true,
        env = "SLACK_SIGNING_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub slack_signing_secret: Option<String>,

    /// An app-level token (xapp-…, with connections:write): connect with Socket Mode.
    #[arg(
        long,
        global = true,
        env = "SLACK_APP_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub slack_app_token: Option<String>,

    /// The Web API base: GovSlack (`https://slack-gov.com/api`), a proxy, or a local fake.
    #[arg(
        long,
        global = true,
        env = "SLACK_API_URL",
        default_value = "https://slack.com/api",
        value_name = "URL"
    )]
    pub slack_api_url: String,

    /// A SQLite file (created if missing), or postgres://user:password@host/db.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "sqlite://hereby.db",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: String,

    /// The HTTP address to listen on.
    #[arg(
        long,
        global = true,
        env = "HEREBY_LISTEN",
        default_value = "0.0.0.0:3000",
        value_name = "ADDR"
    )]
    pub listen: String,

    /// The IANA time zone of channel-name dates and of times in drafts.
    #[arg(
        long,
        global = true,
        env = "HEREBY_TIMEZONE",
        default_value = "UTC",
        value_name = "ZONE"
    )]
    pub timezone: String,

    /// The channel ID (C…) where new incidents are announced; unset: nowhere.
    #[arg(
        long,
        global = true,
        env = "HEREBY_ANNOUNCE_CHANNEL",
        value_name = "CHANNEL_ID"
    )]
    pub announce_channel: Option<String>,

    /// The first part of incident channel names.
    #[arg(
        long,
        global = true,
        env = "HEREBY_CHANNEL_PREFIX",
        default_value = "incident",
        value_name = "PREFIX"
    )]
    pub channel_prefix: String,

    /// true lets anyone run every command.
    #[arg(
        long,
        global = true,
        env = "HEREBY_OPEN_COMMANDS",
        default_value = "false",
        value_name = "BOOL"
    )]
    pub open_commands: String,

    /// Extra roles besides the built-in ones, comma-separated (customer-liaison,security).
    #[arg(long, global = true, env = "HEREBY_ROLES", value_name = "ROLES")]
    pub roles: Option<String>,

    /// The reaction that marks a message as a key event.
    #[arg(long, global = true, env = "HEREBY_HIGHLIGHT_REACTION", default_value = HIGHLIGHT_REACTION, value_name = "EMOJI")]
    pub highlight_reaction: String,

    /// The reaction that records a message as a fix attempt by its author.
    #[arg(
        long,
        global = true,
        env = "HEREBY_FIX_REACTION",
        default_value = "wrench",
        value_name = "EMOJI"
    )]
    pub fix_reaction: String,

    /// On a fix attempt's message: it worked (removing it unsets the outcome).
    #[arg(
        long,
        global = true,
        env = "HEREBY_FIX_WORKED_REACTION",
        default_value = "white_check_mark",
        value_name = "EMOJI"
    )]
    pub fix_worked_reaction: String,

    /// On a fix attempt's message: it failed (removing it unsets the outcome).
    #[arg(
        long,
        global = true,
        env = "HEREBY_FIX_FAILED_REACTION",
        default_value = "x",
        value_name = "EMOJI"
    )]
    pub fix_failed_reaction: String,

    /// true renames the channel when the incident is renamed (same date, new slug).
    #[arg(
        long,
        global = true,
        env = "HEREBY_RENAME_CHANNELS",
        default_value = "false",
        value_name = "BOOL"
    )]
    pub rename_channels: String,

    /// The path of a post-mortem template file; unset: the built-in template.
    #[arg(
        long,
        global = true,
        env = "HEREBY_POSTMORTEM_TEMPLATE",
        value_name = "PATH"
    )]
    pub postmortem_template: Option<String>,

    /// true also puts each draft in a canvas in the incident channel.
    #[arg(
        long,
        global = true,
        env = "HEREBY_POSTMORTEM_CANVAS",
        default_value = "false",
        value_name = "BOOL"
    )]
    pub postmortem_canvas: String,

    /// Time between follow-up reviews of open action items (30d, 12h, 45m, 90s).
    #[arg(
        long,
        global = true,
        env = "HEREBY_FOLLOWUP_INTERVAL",
        default_value = "30d",
        value_name = "DURATION"
    )]
    pub followup_interval: String,

    /// text, or json for structured logs (RUST_LOG filters; default info).
    #[arg(
        long,
        global = true,
        env = "HEREBY_LOG_FORMAT",
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub log_format: String,

    /// The first back-off after a failed Slack call, in milliseconds; doubles each time.
    #[arg(
        long,
        global = true,
        env = "HEREBY_RETRY_BASE_MS",
        default_value = "1000",
        value_name = "MS"
    )]
    pub retry_base_ms: String,

    /// How long one Slack call may take before it is retried, in milliseconds.
    #[arg(
        long,
        global = true,
        env = "HEREBY_SLACK_TIMEOUT_MS",
        default_value = "10000",
        value_name = "MS"
    )]
    pub slack_timeout_ms: String,

    /// Attempts at processing a delivery, or at a Slack step failing on hereby's side, before
    /// it is marked failed (a Slack outage and rate limits never use them up).
    #[arg(
        long,
        global = true,
        env = "HEREBY_MAX_ATTEMPTS",
        default_value = "50",
        value_name = "N"
    )]
    pub max_attempts: String,

    /// The window Slack's rate tiers count calls in, in milliseconds; change it only for a
    /// local stand-in of Slack.
    #[arg(
        long,
        global = true,
        env = "HEREBY_SLACK_RATE_WINDOW_MS",
        default_value = "60000",
        value_name = "MS"
    )]
    pub slack_rate_window_ms: String,

    /// Socket Mode: how often hereby pings Slack, in milliseconds; a connection silent for
    /// three pings is replaced.
    #[arg(
        long,
        global = true,
        env = "HEREBY_SOCKET_PING_MS",
        default_value = "10000",
        value_name = "MS"
    )]
    pub socket_ping_ms: String,

    /// HTTP connections open at once; at the cap, the one idle the longest is closed.
    #[arg(
        long,
        global = true,
        env = "HEREBY_MAX_CONNECTIONS",
        default_value = "4096",
        value_name = "N"
    )]
    pub max_connections: String,

    /// Time a client has to send a request's headers, from their first byte, in milliseconds.
    #[arg(
        long,
        global = true,
        env = "HEREBY_HEADER_TIMEOUT_MS",
        default_value = "10000",
        value_name = "MS"
    )]
    pub header_timeout_ms: String,

    /// Time a connection may stay open with no request in progress, in milliseconds (behind a
    /// load balancer, above the balancer's own idle timeout).
    #[arg(
        long,
        global = true,
        env = "HEREBY_IDLE_TIMEOUT_MS",
        default_value = "15000",
        value_name = "MS"
    )]
    pub idle_timeout_ms: String,

    /// Time a client has to send a request's body, in milliseconds (408 after).
    #[arg(
        long,
        global = true,
        env = "HEREBY_BODY_TIMEOUT_MS",
        default_value = "10000",
        value_name = "MS"
    )]
    pub body_timeout_ms: String,

    /// Bytes of /slack/* request bodies held before their signature is checked, across all
    /// connections; a request that would go over gets 503 (Slack retries).
    #[arg(
        long,
        global = true,
        env = "HEREBY_UNVERIFIED_BODY_BYTES",
        default_value = "33554432",
        value_name = "BYTES"
    )]
    pub unverified_body_bytes: String,

    /// Where people reach the web view (`https://hereby.example.com`); unset: links follow the
    /// request's Host.
    #[arg(long, global = true, env = "HEREBY_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// With SLACK_CLIENT_SECRET: Sign in with Slack (Basic Information → App Credentials).
    #[arg(long, global = true, env = "SLACK_CLIENT_ID", value_name = "ID")]
    pub slack_client_id: Option<String>,

    /// The app's client secret, for Sign in with Slack.
    #[arg(
        long,
        global = true,
        env = "SLACK_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub slack_client_secret: Option<String>,

    /// Slack's web address, for its sign-in page.
    #[arg(
        long,
        global = true,
        env = "SLACK_URL",
        default_value = "https://slack.com",
        value_name = "URL"
    )]
    pub slack_url: String,
}

impl Settings {
    /// The settings' environment variables, in the order `--help` lists them.
    pub fn env_names() -> Vec<String> {
        Settings::augment_args(Command::new("hereby"))
            .get_arguments()
            .filter_map(|a| a.get_env())
            .map(|name| name.to_string_lossy().into_owned())
            .collect()
    }

    /// Settings from `vars` (environment-variable names to values) alone, never the process's
    /// environment, so tests can give theirs. Blank values count as unset.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Settings, clap::Error> {
        let cmd = Settings::augment_args(Command::new("hereby"));
        let mut args = vec!["hereby".to_string()];
        for arg in cmd.get_arguments() {
            let name = arg.get_env().and_then(|n| n.to_str());
            let value = name.and_then(|n| vars.get(n)).map(|v| v.trim());
            if let (Some(long), Some(value)) = (arg.get_long(), value) {
                if !value.is_empty() {
                    args.push(format!("--{long}={value}"));
                }
            }
        }
        let matches = cmd
            .mut_args(|arg| arg.env(None::<&str>))
            .try_get_matches_from(args)?;
        Settings::from_arg_matches(&matches)
    }

    /// Settings from the process's environment (after `.env`, if any, is loaded by the caller).
    pub fn from_process_env() -> Result<Settings, clap::Error> {
        let matches: ArgMatches =
            blank_env_is_unset(Settings::augment_args(Command::new("hereby")))
                .try_get_matches_from(["hereby"])?;
        Settings::from_arg_matches(&matches)
    }
}

/// `cmd` with each setting whose environment variable is blank (a `.env` line `HEREBY_ROLES=`)
/// counted as unset, so its default applies, as it would with the line left out.
pub fn blank_env_is_unset(cmd: Command) -> Command {
    cmd.mut_args(|arg| {
        let blank = arg
            .get_env()
            .and_then(std::env::var_os)
            .is_some_and(|v| v.to_string_lossy().trim().is_empty());
        if blank {
            arg.env(None::<&str>)
        } else {
            arg
        }
    })
}
