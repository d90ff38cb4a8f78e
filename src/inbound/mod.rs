//! Receiving Slack, above `app`: the HTTP ingress (signed Events API deliveries, slash
//! commands, interactions), Socket Mode, and the dispatch both share — each request is
//! verified, stored or handed to a use case, and answered within Slack's three seconds.

pub mod dispatch;
pub mod http;
pub mod socket_mode;
