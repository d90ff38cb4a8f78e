//! Background work: processing stored deliveries and carrying out the outbox. Each worker has
//! a `run_once` that does one unit of work (so tests can drive it a step at a time) and a `run`
//! loop that sleeps until woken, polled or told to stop.

pub mod checkpoint;
pub mod deliveries;
pub mod effects;
pub mod followups;
pub mod outbox;
pub mod sweep;
pub mod upkeep;

use std::time::Duration;

/// What one `run_once` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Did one unit of work.
    Worked,
    /// Did one unit of work and found nothing more waiting behind it: the worker waits for its
    /// next wake (one that came meanwhile is kept) rather than looking again at once. At a
    /// steady trickle that spares the look that would find nothing, a few statements each time.
    Drained,
    /// Nothing was due.
    Idle,
}

/// A name for this process's workers in leases, unique across replicas.
pub fn worker_id(role: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!(
        "{host}-{}-{role}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// Exponential back-off: `base`, 2×, 4×, … capped at five minutes, with a little jitter so
/// that replicas do not retry in step.
pub fn backoff(base: Duration, attempts: i64) -> Duration {
    let exp = attempts.clamp(1, 16) as u32 - 1;
    let raw = base.saturating_mul(1u32 << exp.min(12));
    let capped = raw.min(Duration::from_secs(300));
    let jitter = capped.as_millis() as u64 / 10;
    capped
        + Duration::from_millis(if jitter > 0 {
            rand::random::<u64>() % jitter
        } else {
            0
        })
}

/// The moment `d` from now.
pub fn later(d: Duration) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Runs `step` until shutdown: again at once after work, and after being woken or `poll`
/// passing when there was none; database trouble waits a little longer before trying again,
/// and so does a step that panicked (a bug): the worker logs it and goes on.
pub(crate) async fn run_until_stopped<F, Fut>(
    name: &'static str,
    wake: &tokio::sync::Notify,
    poll: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut step: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Outcome>>,
{
    loop {
        let stepped = crate::telemetry::unless_it_panics(name, step()).await;
        let pause = match stepped {
            Ok(Ok(Outcome::Worked)) if !*shutdown.borrow() => continue,
            Ok(Ok(Outcome::Worked)) => return,
            Ok(Ok(Outcome::Idle | Outcome::Drained)) => poll,
            Ok(Err(e)) => {
                tracing::error!(worker = name, error = ?e, "A worker could not reach the database");
                poll.max(Duration::from_secs(2))
            }
            Err(error) => {
                tracing::error!(worker = name, error = %error, "A worker's step panicked; it goes on after a pause");
                poll.max(Duration::from_secs(2))
            }
        };
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_millis(100);
        assert!(
            backoff(base, 1) >= Duration::from_millis(100)
                && backoff(base, 1) < Duration::from_millis(111)
        );
        assert!(backoff(base, 3) >= Duration::from_millis(400));
        assert!(backoff(base, 40) <= Duration::from_secs(330));
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_whose_step_panics_goes_on_with_its_next_step() {
        let steps = std::cell::Cell::new(0);
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let wake = tokio::sync::Notify::new();
        run_until_stopped("test", &wake, Duration::from_secs(1), shutdown, || {
            steps.set(steps.get() + 1);
            let first = steps.get() == 1;
            if !first {
                let _ = stop.send(true);
            }
            async move {
                if first {
                    panic!("a bug in the first step");
                }
                anyhow::Ok(Outcome::Worked)
            }
        })
        .await;
        assert_eq!(steps.get(), 2, "the step after the panic ran");
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_that_drained_its_queue_waits_for_a_wake_not_a_look_at_once() {
        let steps = std::cell::Cell::new(0);
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let wake = tokio::sync::Notify::new();
        let started = tokio::time::Instant::now();
        let at = std::cell::RefCell::new(Vec::new());
        let worker = run_until_stopped("test", &wake, Duration::from_secs(1), shutdown, || {
            steps.set(steps.get() + 1);
            at.borrow_mut().push(started.elapsed());
            if steps.get() == 3 {
                let _ = stop.send(true);
            }
            async { anyhow::Ok(Outcome::Drained) }
        });
        let waker = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            wake.notify_one();
        };
        tokio::join!(worker, waker);
        // The first step at once; the second when woken at 300 ms, not at once; the third
        // after the poll, since nothing woke it.
        assert_eq!(
            *at.borrow(),
            [
                Duration::ZERO,
                Duration::from_millis(300),
                Duration::from_millis(1300)
            ]
        );
    }
}
