//! Prometheus metrics: what hereby counts and how `GET /metrics` shows it.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `hereby_deliveries_received_total` | counter | `event_type` |
//! | `hereby_deliveries_duplicate_total` | counter | |
//! | `hereby_events_ack_seconds` | histogram | |
//! | `hereby_delivery_processing_seconds` | histogram | |
//! | `hereby_outbox_depth` | gauge | |
//! | `hereby_outbox_retries_total` | counter | `step`, `reason` |
//! | `hereby_outbox_failed_total` | counter | `step` |
//! | `hereby_outbox_failed` | gauge | |
//! | `hereby_deliveries_failed_total` | counter | |
//! | `hereby_deliveries_swept_total` | counter | |
//! | `hereby_slack_api_calls_total` | counter | `method` |
//! | `hereby_slack_api_errors_total` | counter | `method`, `kind` |

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once and returns its handle (`None` if another recorder
/// was installed first, in which case `/metrics` says so).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("hereby_delivery_processing_seconds".into()),
                    &[
                        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                    ],
                )
                .ok()?
                .set_buckets_for_metric(
                    Matcher::Full("hereby_events_ack_seconds".into()),
                    &[
                        0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1,
                        0.25, 0.5, 1.0, 2.0, 3.0,
                    ],
                )
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

/// Folds the samples recorded into histograms since the last time into their buckets. The
/// recorder keeps each sample until then (8 bytes, a few per delivery); rendering `/metrics`
/// folds them too, but where nothing scrapes it they would pile up for good, so a worker
/// (`jobs::upkeep`) calls this every few seconds.
pub fn upkeep() {
    if let Some(handle) = handle() {
        handle.run_upkeep();
    }
}

fn describe() {
    metrics::describe_counter!(
        "hereby_deliveries_received_total",
        "Events API deliveries stored (first arrivals)"
    );
    metrics::describe_counter!(
        "hereby_deliveries_duplicate_total",
        "Redeliveries of a stored event_id, acknowledged and ignored"
    );
    metrics::describe_histogram!(
        "hereby_events_ack_seconds",
        "From a verified Events API request to its answer: the delivery is stored durably by then (Slack retries what is not answered within 3 s)"
    );
    metrics::describe_histogram!(
        "hereby_delivery_processing_seconds",
        "From a delivery's arrival to its effects being committed"
    );
    metrics::describe_gauge!(
        "hereby_outbox_depth",
        "Slack effects waiting to be carried out"
    );
    metrics::describe_counter!(
        "hereby_outbox_retries_total",
        "Slack effects put back to be retried"
    );
    metrics::describe_counter!(
        "hereby_outbox_failed_total",
        "Slack effects given up on: a definitive refusal, or too many attempts"
    );
    metrics::describe_gauge!(
        "hereby_outbox_failed",
        "Slack effects given up on and not retried yet (hereby outbox failed)"
    );
    metrics::describe_counter!(
        "hereby_deliveries_failed_total",
        "Deliveries that kept failing and were marked failed"
    );
    metrics::describe_counter!(
        "hereby_deliveries_swept_total",
        "Processed deliveries with nothing kept, deleted once past the redelivery window"
    );
    metrics::describe_counter!("hereby_slack_api_calls_total", "Slack Web API calls made");
    metrics::describe_counter!(
        "hereby_slack_api_errors_total",
        "Slack Web API calls that failed, by kind"
    );
}
