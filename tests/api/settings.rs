//! Settings as the `hereby` command line takes them: `--help` names every one, a flag wins
//! over its environment variable, a blank variable counts as unset, a bad value stops hereby.

use std::process::{Command, Output};

/// Every setting hereby reads; a name may not disappear or change, deployments rely on it.
const SETTINGS: [&str; 34] = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "HEREBY_LISTEN",
    "HEREBY_TIMEZONE",
    "HEREBY_ANNOUNCE_CHANNEL",
    "HEREBY_CHANNEL_PREFIX",
    "HEREBY_OPEN_COMMANDS",
    "HEREBY_ROLES",
    "HEREBY_HIGHLIGHT_REACTION",
    "HEREBY_FIX_REACTION",
    "HEREBY_FIX_WORKED_REACTION",
    "HEREBY_FIX_FAILED_REACTION",
    "HEREBY_RENAME_CHANNELS",
    "HEREBY_POSTMORTEM_TEMPLATE",
    "HEREBY_POSTMORTEM_CANVAS",
    "HEREBY_FOLLOWUP_INTERVAL",
    "HEREBY_LOG_FORMAT",
    "HEREBY_RETRY_BASE_MS",
    "HEREBY_SLACK_TIMEOUT_MS",
    "HEREBY_MAX_ATTEMPTS",
    "HEREBY_SLACK_RATE_WINDOW_MS",
    "HEREBY_SOCKET_PING_MS",
    "HEREBY_MAX_CONNECTIONS",
    "HEREBY_HEADER_TIMEOUT_MS",
    "HEREBY_IDLE_TIMEOUT_MS",
    "HEREBY_BODY_TIMEOUT_MS",
    "HEREBY_UNVERIFIED_BODY_BYTES",
    "HEREBY_PUBLIC_URL",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_URL",
];

/// Runs `hereby` with only `env` (and `PATH`) in its environment, in an empty directory so no
/// `.env` is read.
fn hereby(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_hereby"))
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn help_names_every_setting_with_its_environment_variable_and_default() {
    for args in [&["--help"][..], &["serve", "--help"][..]] {
        let out = hereby(args, &[]);
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout);
        for name in SETTINGS {
            assert!(
                help.contains(&format!("[env: {name}")),
                "{args:?} {name}:\n{help}"
            );
        }
        assert!(help.contains("[default: 0.0.0.0:3000]"), "{help}");
        assert!(help.contains("[default: 30d]"), "{help}");
    }
    let mut known = hereby::config::Settings::env_names();
    known.sort();
    let mut expected = SETTINGS.map(String::from).to_vec();
    expected.sort();
    assert_eq!(known, expected, "a setting was added: name it in SETTINGS");
}

#[test]
fn help_never_shows_a_secret_from_the_environment() {
    let out = hereby(
        &["--help"],
        &[
            ("SLACK_BOT_TOKEN", "xoxb-very-secret"),
            ("SLACK_SIGNING_SECRET", "signing-very-secret"),
            ("SLACK_APP_TOKEN", "xapp-very-secret"),
            ("SLACK_CLIENT_SECRET", "client-very-secret"),
            ("DATABASE_URL", "postgres://hereby:very-secret@db/hereby"),
            ("HEREBY_LISTEN", "127.0.0.1:8080"),
        ],
    );
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.contains("very-secret"), "{help}");
    assert!(help.contains("HEREBY_LISTEN=127.0.0.1:8080"), "{help}");
}

#[test]
fn bad_settings_stop_hereby_with_status_2_naming_each_variable_and_what_is_valid() {
    let out = hereby(
        &["serve"],
        &[
            ("SLACK_BOT_TOKEN", "xoxb-1"),
            ("SLACK_SIGNING_SECRET", "secret"),
            ("HEREBY_LISTEN", "nowhere"),
            ("HEREBY_MAX_ATTEMPTS", "0"),
            ("HEREBY_LOG_FORMAT", "yaml"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("HEREBY_LISTEN must be an address and port such as 0.0.0.0:3000"),
        "{stderr}"
    );
    assert!(
        stderr.contains("HEREBY_MAX_ATTEMPTS must be a positive whole number"),
        "{stderr}"
    );
    assert!(
        stderr.contains("HEREBY_LOG_FORMAT must be text or json"),
        "{stderr}"
    );
}

#[test]
fn a_flag_wins_over_its_environment_variable() {
    let out = hereby(
        &["migrate", "--timezone", "Mars/Olympus"],
        &[("HEREBY_TIMEZONE", "UTC")],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("HEREBY_TIMEZONE 'Mars/Olympus'"),
        "{stderr}"
    );
}

#[test]
fn blank_settings_in_the_environment_count_as_unset() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("blank.db").display());
    let out = hereby(
        &["migrate"],
        &[
            ("DATABASE_URL", &db),
            ("HEREBY_LISTEN", ""),
            ("HEREBY_TIMEZONE", "  "),
            ("HEREBY_LOG_FORMAT", ""),
            ("SLACK_BOT_TOKEN", ""),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
