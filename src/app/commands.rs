//! `/incident` commands: parse what was typed, apply it, and say what happened.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::declare::{declare, Declared};
use super::effects::{queue_again, Effect};
use super::App;
use crate::domain::command::{self, Command};
use crate::domain::incident::{DeclareIncident, Origin};
use crate::domain::{ChannelId, TeamId, UserId};
use crate::slack::views;
use crate::store::incidents;

/// Who typed a command, where.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub team: TeamId,
    pub channel: ChannelId,
    pub user: UserId,
    pub text: String,
}

/// The answer to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Only the person who typed it sees this.
    Ephemeral(String),
    /// Everyone in the channel sees this.
    InChannel(String),
}

/// Runs one command. User mistakes become a helpful [`Reply`]; only internal failures are `Err`.
#[tracing::instrument(name = "Running a command", skip(app), fields(team = %inv.team, user = %inv.user))]
pub async fn run(app: &App, inv: &Invocation, now: DateTime<Utc>) -> anyhow::Result<Reply> {
    let cmd = match command::parse(&inv.text) {
        Ok(cmd) => cmd,
        Err(e) => return Ok(Reply::Ephemeral(e.reply())),
    };
    let mut tx = app.store.begin_write().await?;
    let incident = incidents::by_channel(&mut tx, &inv.team, &inv.channel).await?;
    let reply = match cmd {
        Command::Help => Reply::Ephemeral(command::help_text()),
        Command::Declare { title } => {
            let d = DeclareIncident {
                team: inv.team.clone(),
                declarer: inv.user.clone(),
                title,
                origin: Origin::Command {
                    channel: inv.channel.clone(),
                },
                at: now,
            };
            match declare(&mut tx, &d, now).await? {
                Declared::New(i) => Reply::Ephemeral(format!(
                    "Declared {}. Its channel is being created and you will be invited as incident commander.{}",
                    views::escape(&views::incident_label(&i)),
                    if i.title.is_none() { " Give it a title there with `/incident rename <title>`." } else { "" }
                )),
                Declared::Already(_) => Reply::Ephemeral("That incident is already declared.".into()),
            }
        }
        Command::Rename { title } => {
            let Some(mut i) = incident else {
                return Ok(Reply::Ephemeral(NOT_AN_INCIDENT_CHANNEL.into()));
            };
            incidents::set_title(&mut tx, &inv.team, i.id, &title).await?;
            incidents::add_timeline(
                &mut tx,
                &inv.team,
                i.id,
                "renamed",
                Some(&inv.user),
                now,
                json!({"from": i.title.as_ref().map(|t| t.as_str()), "to": title.as_str()}),
            )
            .await?;
            i.title = Some(title);
            queue_again(
                &mut tx,
                &i,
                &[Effect::SetTopic],
                now.timestamp_millis(),
                now,
            )
            .await?;
            Reply::InChannel(format!(
                "<@{}> renamed this incident to *{}*.",
                inv.user,
                views::escape(&views::incident_label(&i))
            ))
        }
    };
    tx.commit().await.context("Failed to commit a command")?;
    app.effects_waiting.notify_one();
    Ok(reply)
}

/// The answer to a command that needs an incident, typed elsewhere.
pub const NOT_AN_INCIDENT_CHANNEL: &str = "That command works in an incident channel, and this is not one. To start an incident, type `/incident declare <title>` or write \"I hereby declare this an incident: <title>\".";
