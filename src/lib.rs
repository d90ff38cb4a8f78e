//! hereby turns "I hereby declare this an incident" into a process: a dated incident channel,
//! roles, a full record of what was said and tried, and a post-mortem draft.
//!
//! # Layout
//!
//! Layers, from the bottom up; a module imports only from layers below its own (the test
//! `tests/layers.rs` checks this, and that no module's parts import each other in a circle):
//!
//! 0. [`domain`]: the pure core — the [`domain::incident::Incident`] aggregate and its
//!    transitions, the plan that turns decided facts into writes, timeline entries, notices and
//!    Slack intents, the timeline as a typed enum ([`domain::timeline::TimelineEntry`]), roles,
//!    the `/incident` grammar, the declaration phrase, Slack timestamps, channel naming, links,
//!    action items, fixes, the post-mortem model and its rendering. No I/O, no clock.
//!    Beside it: [`secret`], [`metrics`], [`telemetry`].
//! 1. [`store`]: the database (SQLite or PostgreSQL) through one SQL text — deliveries (stored in
//!    group commits), incidents, the record, the outbox, drafts, follow-ups, and the one lease
//!    queue the workers share. [`slack`]: Slack below the use cases — request verification,
//!    event and interaction decoding, the Web API gateway (paced by Slack's rate tiers),
//!    messages and modals built from domain types, Slack's refusals in plain words.
//!    [`server`]: the HTTP server's limits against slow and greedy clients.
//! 2. [`app`]: use cases — declare, run commands and interactions, record, catch up, export the
//!    draft: load, plan with the domain, persist the plan with the Slack effects it calls for
//!    ([`app::effect`]: the outbox's vocabulary).
//! 3. [`jobs`]: background workers — processing deliveries, carrying out effects
//!    ([`jobs::effects`]), follow-up reviews and due-date reminders, sweeping old deliveries,
//!    the metrics' upkeep — each with a `run_once` that tests can drive.
//! 4. [`inbound`]: receiving Slack — the HTTP ingress and Socket Mode through one dispatch.
//!    [`web`]: the web view — sign-in, the incidents list, each incident's SVG timeline, record
//!    and post-mortem drafts, rendered on the server; its one change is closing action items.
//! 5. [`config`]: every setting in one clap struct (`hereby --help` lists them).
//! 6. [`startup`]: wiring it all together.

pub mod app;
pub mod config;
pub mod domain;
pub mod inbound;
pub mod jobs;
pub mod metrics;
pub mod secret;
pub mod server;
pub mod slack;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
