//! Keeps the metrics recorder small where nothing scrapes `/metrics`: every few seconds the
//! histograms' samples are folded into their buckets, so memory does not grow with every
//! delivery.

use std::time::Duration;

use super::Outcome;

/// How often the samples are folded in: at the most deliveries hereby takes in, a few hundred
/// KiB of samples at most wait in between.
const EVERY: Duration = Duration::from_secs(5);

pub struct MetricsUpkeep;

impl MetricsUpkeep {
    /// Folds what the histograms hold into their buckets; always idle afterwards.
    pub async fn run_once(&self) -> anyhow::Result<Outcome> {
        crate::metrics::upkeep();
        Ok(Outcome::Idle)
    }

    /// Works until shutdown.
    pub async fn run(self, shutdown: tokio::sync::watch::Receiver<bool>) {
        let never = tokio::sync::Notify::new();
        super::run_until_stopped("metrics", &never, EVERY, shutdown, || self.run_once()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn samples_folded_in_by_the_upkeep_are_all_counted_on_metrics() {
        let Some(handle) = crate::metrics::handle() else {
            panic!("the recorder could not be installed");
        };
        for seconds in [0.001, 0.002, 0.5] {
            metrics::histogram!("hereby_test_upkeep_seconds").record(seconds);
        }
        MetricsUpkeep.run_once().await.unwrap();
        metrics::histogram!("hereby_test_upkeep_seconds").record(2.0);
        MetricsUpkeep.run_once().await.unwrap();
        let text = handle.render();
        assert!(
            text.lines()
                .any(|l| l.starts_with("hereby_test_upkeep_seconds_count") && l.ends_with(" 4")),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with("hereby_test_upkeep_seconds_sum") && l.contains("2.503")),
            "{text}"
        );
    }
}
