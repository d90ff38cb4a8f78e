//! hereby's integration suite: the real server over loopback HTTP, a real SQLite file, and a
//! local fake of Slack's Web API.

mod browser;
mod commands;
mod declaration;
mod drills;
mod fake_slack;
mod fake_socket;
mod helpers;
mod ingress;
mod postmortem;
mod recording;
mod replicas;
mod socket_mode;
mod web;
mod web_sign_in;
