//! The `hereby` command: `serve` (the default), `migrate`, `postmortem`, `outbox` and
//! `login-link`.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use hereby::config::{Config, Purpose, Settings};
use hereby::startup::{shutdown_signal, Application};
use hereby::store::Store;

/// hereby: a Slack incident-response bot. "I hereby declare this an incident" opens a dated
/// channel, assigns roles, records everything and drafts the post-mortem.
///
/// Each setting below is read from its flag, else its environment variable (also from a .env
/// file in the working directory), else its default.
#[derive(Parser)]
#[command(name = "hereby", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the bot: migrate the database, then serve Slack's requests (the default).
    Serve,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Print the post-mortem draft of an incident as the record stands (open incidents too).
    Postmortem {
        /// The incident's number (`7`) or its channel's name (`incident-2026-11-21-db-down`).
        incident: String,
        /// The workspace (`T…`), when several workspaces have an incident with that number.
        #[arg(long)]
        team: Option<String>,
    },
    /// Print a single-use link that signs this Slack user in to the web view (valid 10 minutes).
    LoginLink {
        /// The person's Slack user ID (`U…` or `W…`; in Slack: their profile → ⋮ → Copy member ID).
        user: String,
        /// The workspace (`T…`), when hereby serves several or has no incident yet.
        #[arg(long)]
        team: Option<String>,
    },
    /// Slack effects hereby gave up on (a refusal, or too many attempts).
    Outbox {
        #[command(subcommand)]
        action: OutboxCmd,
    },
}

#[derive(Subcommand)]
enum OutboxCmd {
    /// List the effects given up on, with Slack's answer.
    Failed,
    /// Try failed effects again (after fixing what Slack refused): one by its ID, or `--all`.
    Retry {
        /// The effect's ID, from `hereby outbox failed`.
        #[arg(required_unless_present = "all")]
        id: Option<i64>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
}

fn main() -> ExitCode {
    one_allocator_arena();
    // A missing .env is normal; values already in the environment win.
    let _ = dotenvy::dotenv();
    let matches = hereby::config::blank_env_is_unset(Cli::command()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let purpose = match cli.command {
        None | Some(Cmd::Serve) => Purpose::Serve,
        Some(_) => Purpose::Local,
    };
    let config = match Config::from_settings(cli.settings, purpose) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let _logs = hereby::telemetry::init(config.log_json);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hereby cannot start its runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Cmd::Serve), config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = ?e, "hereby stopped");
            eprintln!("hereby: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// glibc's allocator gives each thread that allocates an arena of its own (up to eight per
/// core), and memory freed into one arena serves only the threads of that arena. hereby's
/// threads (the runtime's, SQLite's one per connection, the log writer's) spread the same live
/// data over several arenas, which under load holds a few MiB more at peak (BENCHMARKS.md,
/// *Memory*). One arena keeps it in one place, for a lock whose cost on two cores was within
/// the machine's spread (perhaps a tenth of the throughput at 128 connections at full speed).
/// Set before any thread starts; `MALLOC_ARENA_MAX` in the environment still wins.
fn one_allocator_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a tunable of the allocator; no thread has started yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

async fn run(cmd: Cmd, config: Config) -> anyhow::Result<()> {
    match cmd {
        Cmd::Serve => {
            Application::build(config)
                .await?
                .run_until(shutdown_signal())
                .await
        }
        Cmd::Migrate => {
            let store = Store::connect(config.database_url.expose()).await?;
            store.migrate().await?;
            println!("hereby: database is up to date");
            Ok(())
        }
        Cmd::Outbox { action } => {
            let store = Store::connect(config.database_url.expose()).await?;
            store.migrate().await?;
            match action {
                OutboxCmd::Failed => {
                    let failed = store.failed_effects().await?;
                    if failed.is_empty() {
                        println!("No failed effects.");
                    }
                    for f in failed {
                        println!(
                            "{}\t{}\tincident {}\t{}\t{} attempts\t{}\t{}",
                            f.id,
                            f.team,
                            f.incident.map(|i| i.to_string()).unwrap_or("-".into()),
                            f.step,
                            f.attempts,
                            f.failed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                            f.error
                        );
                    }
                }
                OutboxCmd::Retry { id, all: _ } => {
                    let n = store.retry_failed(id, chrono::Utc::now()).await?;
                    println!(
                        "{} queued again; a running hereby carries them out.",
                        hereby::domain::words::plural(n, "effect")
                    );
                }
            }
            Ok(())
        }
        Cmd::LoginLink { user, team } => {
            let store = Store::connect(config.database_url.expose()).await?;
            store.migrate().await?;
            let base = match &config.web.public_url {
                Some(u) => u.to_string(),
                None => format!("http://localhost:{}", config.listen.port()),
            };
            let link = hereby::web::auth::login_link(&store, &base, &user, team.as_deref()).await?;
            println!("{link}");
            Ok(())
        }
        Cmd::Postmortem { incident, team } => {
            let store = Store::connect(config.database_url.expose()).await?;
            store.migrate().await?;
            let mut conn = store.pool().acquire().await?;
            let found =
                hereby::store::postmortems::find_incident(&mut conn, &incident, team.as_deref())
                    .await?;
            let incident =
                match found.as_slice() {
                    [one] => one,
                    [] => anyhow::bail!(
                        "no incident {incident} (give its number or its channel's name)"
                    ),
                    several => {
                        anyhow::bail!(
                    "{} workspaces have an incident {incident}; choose one with --team ({})",
                    several.len(),
                    several.iter().map(|i| i.team.to_string()).collect::<Vec<_>>().join(", ")
                )
                    }
                };
            let (_, markdown) = hereby::app::postmortem::current_draft(
                &mut conn,
                incident,
                config.timezone,
                &config.postmortem_template,
                chrono::Utc::now(),
            )
            .await?;
            print!("{markdown}");
            Ok(())
        }
    }
}
