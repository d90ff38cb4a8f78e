//! The `hereby` command: `serve` (the default) and `migrate`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hereby::config::Config;
use hereby::startup::{shutdown_signal, Application};
use hereby::store::Store;

/// hereby: a Slack incident-response bot. "I hereby declare this an incident" opens a dated
/// channel, assigns roles, records everything and drafts the post-mortem.
///
/// Configuration comes from the environment or a .env file; see README.md.
#[derive(Parser)]
#[command(name = "hereby", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the bot: migrate the database, then serve Slack's requests (the default).
    Serve,
    /// Bring the database schema up to date and exit.
    Migrate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    hereby::telemetry::init(config.log_json);
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
    }
}
