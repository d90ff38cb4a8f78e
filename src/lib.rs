//! hereby turns "I hereby declare this an incident" into a process: a dated incident channel,
//! roles, a full record of what was said and tried, and a post-mortem draft.
//!
//! # Layout
//!
//! - [`domain`]: the pure core — incidents, roles, the `/incident` grammar, the declaration
//!   phrase, channel naming. No I/O, no clock.
//! - [`slack`]: everything that speaks Slack — request verification, the HTTP ingress, event
//!   decoding, the Web API gateway, message layouts.
//! - [`store`]: the database (SQLite or PostgreSQL) through one SQL text.
//! - [`app`]: use cases — load, apply the domain, persist with the effects it calls for.
//! - [`jobs`]: background workers — processing deliveries and carrying out the outbox.
//! - [`config`], [`startup`], [`telemetry`], [`metrics`]: settings, wiring, logs and metrics.

pub mod app;
pub mod config;
pub mod domain;
pub mod jobs;
pub mod metrics;
pub mod slack;
pub mod startup;
pub mod store;
pub mod telemetry;
