//! Builds the running service from a [`Config`]: database, Slack gateway, HTTP server and
//! workers, and stops them in order on shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use crate::app::{App, Settings};
use crate::config::Config;
use crate::inbound::http::{router, Ingress};
use crate::jobs::deliveries::DeliveryWorker;
use crate::jobs::outbox::OutboxWorker;
use crate::slack::api::SlackGateway;
use crate::store::Store;

/// How many effects one process carries out at a time; claims keep them from colliding.
const OUTBOX_WORKERS: usize = 4;

/// A bound, migrated service, ready to run.
pub struct Application {
    listener: TcpListener,
    app: App,
    config: Config,
}

impl Application {
    /// Connects and migrates the database and binds the listener (port 0 picks a free port).
    pub async fn build(mut config: Config) -> anyhow::Result<Application> {
        config.limits.max_connections = within_descriptor_limit(config.limits.max_connections);
        if crate::metrics::handle().is_none() {
            tracing::warn!("Another metrics recorder is installed: /metrics will be unavailable");
        }
        let store = Store::connect(config.database_url.expose()).await?;
        store.migrate().await?;
        let slack = SlackGateway::new(
            &config.slack_api_url,
            &config.bot_token,
            config.slack_timeout,
            config.slack_rate_window,
        )?;
        let settings = Arc::new(Settings {
            timezone: config.timezone,
            channel_prefix: config.channel_prefix.clone(),
            announce_channel: config.announce_channel.clone(),
            custom_roles: config.custom_roles.clone(),
            highlight_reaction: config.highlight_reaction.clone(),
            fix_reactions: config.fix_reactions.clone(),
            postmortem_template: config.postmortem_template.clone(),
            postmortem_canvas: config.postmortem_canvas,
            rename_channels: config.rename_channels,
            followup_interval: config.followup_interval,
            max_attempts: config.max_attempts,
            web_base: config.web.public_url.as_ref().map(|u| u.to_string()),
            api_origin: config.slack_api_url.clone(),
            policy: crate::domain::transitions::Policy {
                open: config.open_commands,
            },
        });
        // On SQLite writers take turns on one connection: processing a batch in the transaction
        // that stores it saves a claim and a commit. PostgreSQL lets the worker record one batch
        // on its own connection while the writer stores the next, which is faster there.
        let at_once: Option<Arc<dyn crate::store::group_commit::RecordStored>> =
            match store.backend() {
                crate::store::Backend::Sqlite => Some(Arc::new(crate::app::ingest::Recorder::new(
                    settings.clone(),
                ))),
                crate::store::Backend::Postgres => None,
            };
        let app = App {
            deliveries: crate::store::group_commit::DeliveryWriter::start(store.clone(), at_once),
            store,
            slack,
            settings,
            deliveries_waiting: Arc::new(Notify::new()),
            effects_waiting: Arc::new(Notify::new()),
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("Failed to listen on {} (HEREBY_LISTEN)", config.listen))?;
        Ok(Application {
            listener,
            app,
            config,
        })
    }

    /// The use cases' shared state, for stepping workers (`run_once`) beside the running ones.
    pub fn app(&self) -> App {
        self.app.clone()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener
            .local_addr()
            .context("Failed to read the listening address")
    }

    /// Serves until `shutdown` completes, then lets in-flight requests and the unit of work
    /// each worker is on finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut workers = JoinSet::new();
        let retry = self.config.retry_base;
        match self.app.store.backend() {
            // Writers take turns on SQLite's one connection: the worker shares the runtime and
            // the writer (and has little to do: deliveries are recorded as they are stored);
            // the write-ahead log is checkpointed beside it.
            crate::store::Backend::Sqlite => {
                workers.spawn(DeliveryWorker::new(self.app.clone(), retry).run(stop_rx.clone()));
                workers.spawn(
                    crate::jobs::checkpoint::CheckpointWorker::new(self.app.store.clone())
                        .run(stop_rx.clone()),
                );
            }
            crate::store::Backend::Postgres => {
                let finished = deliveries_on_own_thread(
                    self.app.clone(),
                    self.config.database_url.expose().to_string(),
                    retry,
                    stop_rx.clone(),
                )?;
                workers.spawn(async move {
                    let _ = finished.await;
                });
            }
        }
        workers.spawn(
            crate::jobs::followups::FollowUpWorker::new(self.app.clone()).run(stop_rx.clone()),
        );
        workers.spawn(crate::jobs::upkeep::MetricsUpkeep.run(stop_rx.clone()));
        workers.spawn(
            crate::jobs::sweep::SweepWorker::new(
                self.app.store.clone(),
                crate::jobs::sweep::KEEP_DELIVERIES,
            )
            .run(stop_rx.clone()),
        );
        for _ in 0..OUTBOX_WORKERS {
            workers.spawn(OutboxWorker::new(self.app.clone(), retry).run(stop_rx.clone()));
        }
        let catching_up = crate::app::reconcile::queue_for_open_incidents(&self.app).await?;
        if catching_up > 0 {
            tracing::info!(
                incidents = catching_up,
                "Catching up with open incidents' channels"
            );
        }
        if let Some(app_token) = &self.config.app_token {
            let socket = crate::inbound::socket_mode::SocketMode::new(
                self.app.clone(),
                app_token.clone(),
                self.config.socket_ping,
            );
            workers.spawn(socket.run(stop_rx.clone()));
        }
        let over_http = self.config.signing_secret.is_some();
        let ingress = Ingress {
            app: self.app.clone(),
            signing_secret: self
                .config
                .signing_secret
                .clone()
                .unwrap_or_else(|| crate::secret::Secret::new("")),
        };
        tracing::info!(addr = %self.local_addr()?, slack_over_http = over_http, socket_mode = self.config.app_token.is_some(), "hereby is listening");
        let limits = self.config.limits.clone();
        let budget = crate::server::BodyBudget::new(&limits, crate::inbound::http::MAX_BODY_BYTES);
        let sign_in = crate::web::oidc::SlackSignIn::new(
            &self.config.slack_api_url,
            &self.config.bot_token,
            self.config.slack_timeout,
        )?;
        let web = crate::web::router(self.app.clone(), self.config.web.clone(), sign_in);
        crate::server::serve(
            self.listener,
            router(ingress, over_http, budget).merge(web),
            limits,
            shutdown,
        )
        .await
        .context("The HTTP server failed")?;
        tracing::info!("Shutting down: finishing work in progress");
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(Duration::from_secs(20), async {
            while workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                "Workers did not finish in 20 s; what they held is picked up at the next start"
            );
        }
        Ok(())
    }
}

/// Runs the delivery worker on a thread and runtime of its own, with connections of its own
/// (PostgreSQL). On the runtime that serves requests, each of its statements waited for its
/// turn behind every request in flight, dozens of statements a batch, so under a burst it fell
/// behind what was acknowledged; on its own thread it gets its share of the cores from the
/// operating system. The receiver completes once the worker has stopped.
fn deliveries_on_own_thread(
    app: App,
    database_url: String,
    retry: Duration,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<tokio::sync::oneshot::Receiver<()>> {
    let (finished, on_finish) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("Failed to start the delivery worker's runtime")?;
    // The thread logs where its starter does (the global subscriber, or a test's own).
    let logs = tracing::dispatcher::get_default(|d| d.clone());
    std::thread::Builder::new()
        .name("hereby-deliveries".into())
        .spawn(move || {
            let _logs = tracing::dispatcher::set_default(&logs);
            runtime.block_on(async move {
                // Until its own connections open, the worker waits; stopping meanwhile is fine:
                // what was stored is processed at the next start.
                let store = loop {
                    match Store::connect(&database_url).await {
                        Ok(store) => break store,
                        Err(e) => {
                            tracing::error!(error = ?e, "The delivery worker could not connect to the database; trying again");
                            tokio::select! {
                                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                                _ = stop.changed() => return,
                            }
                        }
                    }
                };
                let app = App { store, ..app };
                DeliveryWorker::new(app.clone(), retry).run(stop).await;
                app.store.close().await;
            });
            let _ = finished.send(());
        })
        .context("Failed to start the delivery worker's thread")?;
    Ok(on_finish)
}

/// Descriptors kept back from connections, for the database, Slack calls and logs.
const RESERVED_DESCRIPTORS: u64 = 128;

/// Raises the soft open-file limit to the hard one (systemd's default soft limit, 1,024, is
/// easily exhausted) and says so; the connection cap is lowered to fit what is available.
fn within_descriptor_limit(max_connections: usize) -> usize {
    match crate::server::raise_descriptor_limit() {
        Ok((before, after)) => {
            let show = |l: Option<u64>| l.map_or("unlimited".to_string(), |n| n.to_string());
            tracing::info!(
                before = %show(before),
                after = %show(after),
                "Raised the open-file limit to the hard limit"
            );
            let available =
                after.map_or(u64::MAX, |n| n.saturating_sub(RESERVED_DESCRIPTORS).max(16));
            let fits = usize::try_from(available).unwrap_or(usize::MAX);
            if fits < max_connections {
                tracing::warn!(
                    max_connections = fits,
                    "HEREBY_MAX_CONNECTIONS lowered to fit the open-file limit"
                );
            }
            max_connections.min(fits)
        }
        Err(e) => {
            tracing::warn!(error = %e, "Could not raise the open-file limit");
            max_connections
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "Cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "Cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
