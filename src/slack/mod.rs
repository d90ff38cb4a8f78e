//! Slack's side of the use cases, below `app`: verifying requests, decoding events and
//! interactions, the Web API gateway (paced by Slack's rate tiers), the messages and modals
//! hereby posts, and Slack's refusals in plain words. Receiving requests (HTTP, Socket Mode)
//! is `inbound`'s, above `app`.

pub mod api;
pub mod events;
pub mod interactions;
pub mod limits;
pub mod modals;
pub mod pacing;
pub mod refusals;
pub mod respond;
pub mod verify;
pub mod views;
