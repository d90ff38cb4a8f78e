//! Everything that speaks Slack: verifying and receiving requests, decoding events, the Web
//! API gateway and the messages hereby posts.

pub mod api;
pub mod dispatch;
pub mod events;
pub mod ingress;
pub mod interactions;
pub mod modals;
pub mod pacing;
pub mod refusals;
pub mod respond;
pub mod socket_mode;
pub mod verify;
pub mod views;
