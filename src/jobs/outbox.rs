//! Carries out queued Slack effects: honours `Retry-After` (a wait that does not count as an
//! attempt), backs off on Slack trouble, gives up on a definitive refusal or on our own error
//! that persists past its attempts, and never drops an effect because Slack was down.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::effects::{self, CarryOut};
use super::{backoff, later, Outcome};
use crate::app::effect::EffectError;
use crate::app::App;
use crate::slack::api::CallError;
use crate::store::outbox::ClaimedEffect;

pub struct OutboxWorker {
    app: App,
    id: String,
    retry_base: Duration,
    carry_out: Arc<dyn CarryOut>,
}

impl OutboxWorker {
    pub fn new(app: App, retry_base: Duration) -> Self {
        OutboxWorker {
            app,
            id: super::worker_id("outbox"),
            retry_base,
            carry_out: Arc::new(effects::Execute),
        }
    }

    /// Carries out effects with `carry_out` instead of [`effects::execute`] (in tests, one
    /// with a bug in it).
    pub fn carrying_out_with(mut self, carry_out: Arc<dyn CarryOut>) -> Self {
        self.carry_out = carry_out;
        self
    }

    /// Carries out the next due effect, if any.
    pub async fn run_once(&self) -> anyhow::Result<Outcome> {
        let now = Utc::now();
        let Some(e) = self
            .app
            .store
            .claim_effect(&self.id, now, crate::store::outbox::LEASE)
            .await?
        else {
            return Ok(Outcome::Idle);
        };
        // A bug that panics is an error of this effect like any other: it is retried, and
        // given up after its attempts (and a person told), while the worker goes on. Left to
        // unwind, it would be claimed again at every lease, for ever.
        let carried_out = crate::telemetry::unless_it_panics("carrying out the effect", async {
            self.carry_out.carry_out(&self.app, &e, &self.id).await
        })
        .await
        .unwrap_or_else(|panic| Err(EffectError::Internal(panic)));
        match carried_out {
            Ok(()) => tracing::info!(key = %e.dedupe_key, "Effect done"),
            Err(EffectError::Slack(CallError::RateLimited { retry_after })) => {
                metrics::counter!("hereby_outbox_retries_total", "step" => step(&e), "reason" => "rate_limited").increment(1);
                tracing::warn!(key = %e.dedupe_key, ?retry_after, "Slack rate-limited an effect; waiting as asked");
                let at = later(retry_after);
                self.app
                    .store
                    .wait_effect(e.id, &self.id, at, "rate limited")
                    .await?;
            }
            Err(EffectError::Slack(CallError::Refused { code })) => {
                tracing::error!(key = %e.dedupe_key, %code, "Slack refused an effect; giving up on it");
                self.give_up(&e, &code).await?;
            }
            // Slack or the network is down: the effect waits for it, however long that takes
            // (the back-off is capped at five minutes), and is never given up for it.
            Err(err @ EffectError::Slack(CallError::Unavailable(_))) => {
                metrics::counter!("hereby_outbox_retries_total", "step" => step(&e), "reason" => "unavailable").increment(1);
                let wait = backoff(self.retry_base, e.attempts);
                let error = format!("{err:#}");
                if e.attempts >= self.app.settings.max_attempts {
                    tracing::error!(key = %e.dedupe_key, %error, attempts = e.attempts, ?wait, "Slack has been unavailable for an effect for a long time; still waiting for it");
                } else {
                    tracing::warn!(key = %e.dedupe_key, %error, ?wait, "Slack is unavailable for an effect; retrying");
                }
                self.app
                    .store
                    .retry_effect(e.id, &self.id, later(wait), &error)
                    .await?;
            }
            Err(err) if e.attempts >= self.app.settings.max_attempts => {
                let error = format!("{err:#}");
                tracing::error!(key = %e.dedupe_key, %error, attempts = e.attempts, "An effect kept failing; giving up on it");
                self.give_up(&e, &crate::slack::refusals::gave_up(e.attempts, &error))
                    .await?;
            }
            Err(err) => {
                metrics::counter!("hereby_outbox_retries_total", "step" => step(&e), "reason" => "error").increment(1);
                let wait = backoff(self.retry_base, e.attempts);
                tracing::warn!(key = %e.dedupe_key, error = %format!("{err:#}"), ?wait, "An effect failed; retrying");
                let at = later(wait);
                self.app
                    .store
                    .retry_effect(e.id, &self.id, at, &format!("{err:#}"))
                    .await?;
            }
        }
        Ok(Outcome::Worked)
    }

    /// Marks an effect failed (it stays listed by `hereby outbox failed`, from where it can be
    /// retried) and tells a person about it.
    async fn give_up(&self, e: &ClaimedEffect, error: &str) -> anyhow::Result<()> {
        metrics::counter!("hereby_outbox_failed_total", "step" => step(e)).increment(1);
        self.app
            .store
            .fail_effect(e.id, &self.id, Utc::now(), error)
            .await?;
        crate::app::telling::report_failure(&self.app, e, error).await
    }

    /// Works until shutdown.
    pub async fn run(self, shutdown: tokio::sync::watch::Receiver<bool>) {
        let wake = self.app.effects_waiting.clone();
        super::run_until_stopped(
            "outbox",
            &wake,
            Duration::from_millis(500),
            shutdown,
            || self.run_once(),
        )
        .await
    }
}

/// The effect's step name, for metric labels.
fn step(e: &ClaimedEffect) -> String {
    e.effect
        .get("step")
        .and_then(|s| s.as_str())
        .unwrap_or("unknown")
        .to_string()
}
