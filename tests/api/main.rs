//! hereby's integration suite: the real server over loopback HTTP, a real SQLite file, and a
//! local fake of Slack's Web API.

mod batches;
mod bench_catch_up;
mod bench_declaration;
mod browser;
mod commands;
mod declaration;
mod drills;
mod fake_slack;
mod fake_socket;
mod faults;
mod helpers;
mod hostile;
mod huddles;
mod ingress;
mod manifest;
mod membership;
mod migrations;
mod panics;
mod postmortem;
mod private;
mod process;
mod real_slack;
mod recording;
mod replicas;
mod settings;
mod skeleton;
mod socket_mode;
mod sweep;
mod web;
mod web_sign_in;
