//! Logging: human-readable by default (coloured only on a terminal), JSON with
//! `HEREBY_LOG_FORMAT=json`; `RUST_LOG` filters.
//!
//! Lines are written to standard error by a thread of their own, so that a slow reader of the
//! log (a busy journald, a full pipe) never holds up a request or a commit. None is dropped:
//! when [`LINES_WAITING`] lines wait, whoever logs waits too. Keep the returned [`Logs`] until
//! the end of `main`; dropping it writes out what is still waiting.

use std::io::IsTerminal;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// How many lines may wait for a slow reader of the log before logging waits: at the most
/// deliveries hereby takes in, more than a minute of its log. The room is set aside at start
/// (32 bytes a line), so tracing's default of 128,000 would cost 4 MiB for good.
pub const LINES_WAITING: usize = 16_384;

/// Writes out the lines still waiting when dropped.
#[must_use = "dropping it at once stops logging"]
pub struct Logs {
    _writer: Option<WorkerGuard>,
}

/// Installs the global subscriber once; later calls do nothing (and their [`Logs`] hold
/// nothing).
pub fn init(json: bool) -> Logs {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,slack_morphism=warn"));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(LINES_WAITING)
        .thread_name("hereby-log")
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    let installed = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    Logs {
        _writer: installed.is_ok().then_some(guard),
    }
}

/// Runs `work`, turning a panic inside it (a bug in hereby) into the error for `step`, so that
/// the writer or worker running it can refuse or retry that work and go on. `work` should be an
/// `async` block, so that a panic while making its future is inside it too.
pub async fn unless_it_panics<T>(
    step: &str,
    work: impl std::future::Future<Output = T>,
) -> anyhow::Result<T> {
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|panic| panicked(step, panic.as_ref()))
}

/// The error for a step that panicked, with the panic's message when it has one.
pub fn panicked(step: &str, panic: &(dyn std::any::Any + Send)) -> anyhow::Error {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    anyhow::anyhow!("{step} panicked (a bug in hereby): {message}")
}
