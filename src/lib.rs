//! hereby turns "I hereby declare this an incident" into a process: a dated incident channel,
//! roles, a full record of what was said and tried, and a post-mortem draft.
//!
//! # Layout
//!
//! - [`domain`]: the pure core — incidents and their transitions, the plan that turns decided
//!   facts into writes, timeline entries, notices and Slack intents, the timeline as a typed
//!   enum ([`domain::timeline::TimelineEntry`]), roles, the `/incident` grammar, the
//!   declaration phrase, channel naming, links, action items, the post-mortem model and its
//!   rendering. No I/O, no clock.
//! - [`slack`]: everything that speaks Slack — request verification, the HTTP ingress and
//!   Socket Mode (both through one dispatch), event and interaction decoding, the Web API
//!   gateway (paced by Slack's rate tiers), message layouts, modals and Slack's refusals in
//!   plain words.
//! - [`store`]: the database (SQLite or PostgreSQL) through one SQL text: deliveries (stored in
//!   group commits), incidents, the record, the outbox, drafts and follow-ups.
//! - [`app`]: use cases — declare, run commands and interactions, record, catch up, export the
//!   draft: load, apply the domain, persist together with the Slack effects it calls for.
//! - [`jobs`]: background workers — processing deliveries, carrying out the outbox, follow-up
//!   reviews — each with a `run_once` that tests can drive.
//! - [`server`]: the HTTP server's limits against slow and greedy clients.
//! - [`web`]: the web view — sign-in, the incidents list, each incident's SVG timeline, record
//!   and post-mortem drafts, rendered on the server.
//! - [`config`], [`startup`], [`telemetry`], [`metrics`]: settings, wiring, logs and metrics.

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
