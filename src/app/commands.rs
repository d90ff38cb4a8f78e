//! `/incident` commands: parse what was typed, decide, apply, and say what happened.

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::actions::Handover;
use super::declare::{declare, Declared};
use super::notes::NoteKind;
use super::App;
use super::{actions, changes, fixes, notes, review};
use crate::domain::command::{self, ActionChange, Assignee, Command};
use crate::domain::incident::{DeclareIncident, Origin, Status};
use crate::domain::transitions::{decide, Change};
use crate::domain::{ChannelId, TeamId, UserId};
use crate::slack::modals::{declare_modal, DeclareContext};
use crate::slack::views;
use crate::store::incidents;

/// Who typed a command, where.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub team: TeamId,
    pub channel: ChannelId,
    pub user: UserId,
    pub text: String,
    /// Lets hereby open a form within 3 s of the command.
    pub trigger_id: Option<String>,
    /// Where hereby can answer the command later (30 minutes), even where it is not a member.
    pub response_url: Option<String>,
}

/// The answer to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Only the person who typed it sees this.
    Ephemeral(String),
    /// The same, with blocks (buttons); `text` is what clients without blocks show.
    EphemeralBlocks {
        text: String,
        blocks: serde_json::Value,
    },
    /// Nothing to say (a form opened instead).
    Nothing,
}

/// The answer to a command that needs an incident, typed elsewhere.
pub const NOT_AN_INCIDENT_CHANNEL: &str = "That command works in an incident channel, and this is not one. To start an incident, type `/incident declare <title>` or write \"I hereby declare this an incident: <title>\".";

/// Runs one command. User mistakes become a helpful [`Reply`]; only internal failures are `Err`.
#[tracing::instrument(name = "Running a command", skip(app, inv), fields(team = %inv.team, user = %inv.user))]
pub async fn run(app: &App, inv: &Invocation, now: DateTime<Utc>) -> anyhow::Result<Reply> {
    let cmd = match command::parse(&inv.text, &app.settings.custom_roles) {
        Ok(cmd) => cmd,
        Err(e) => return Ok(Reply::Ephemeral(e.reply())),
    };
    match cmd {
        Command::Help => Ok(Reply::Ephemeral(command::help_text())),
        Command::Declare {
            title: None,
            private,
        } if inv.trigger_id.is_some() => open_declare_form(app, inv, private).await,
        Command::Declare { title, private } => {
            let d = DeclareIncident {
                private,
                team: inv.team.clone(),
                declarer: inv.user.clone(),
                title,
                origin: Origin::Command {
                    channel: inv.channel.clone(),
                },
                at: now,
            };
            let mut tx = app.store.begin_write().await?;
            let reply = match declare(&mut tx, &d, inv.response_url.as_deref(), now).await? {
                Declared::New(i) => Reply::Ephemeral(format!(
                    "Declared {}. Its channel is being created and you will be invited as incident commander.{}",
                    views::escape(&views::incident_label(&i)),
                    if i.title.is_none() { " Give it a title there with `/incident rename <title>`." } else { "" }
                )),
                Declared::Already(_) => Reply::Ephemeral("That incident is already declared.".into()),
            };
            tx.commit()
                .await
                .context("Failed to commit a declaration")?;
            app.effects_waiting.notify_one();
            Ok(reply)
        }
        Command::MyActions => my_actions(app, inv, now).await,
        cmd => in_incident(app, inv, cmd, now).await,
    }
}

/// `/incident actions mine`: the typer's open action items from every incident.
async fn my_actions(app: &App, inv: &Invocation, now: DateTime<Utc>) -> anyhow::Result<Reply> {
    let mut conn = app.store.conn().await?;
    let owned =
        crate::store::postmortems::open_actions_owned_by(&mut conn, &inv.team, &inv.user).await?;
    let mut mine: Vec<(crate::store::incidents::Incident, Vec<_>)> = Vec::new();
    for (incident_id, item) in owned {
        match mine.last_mut() {
            Some((incident, items)) if incident.id == incident_id => items.push(item),
            _ => {
                let incident = incidents::get(&mut conn, &inv.team, incident_id).await?;
                mine.push((incident, vec![item]));
            }
        }
    }
    let today = now.with_timezone(&app.settings.timezone).date_naive();
    let (text, blocks) = views::my_actions(&mine, today);
    Ok(Reply::EphemeralBlocks { text, blocks })
}

async fn in_incident(
    app: &App,
    inv: &Invocation,
    cmd: Command,
    now: DateTime<Utc>,
) -> anyhow::Result<Reply> {
    let custom = &app.settings.custom_roles;
    // The team's date, against which due dates are past.
    let today = now.with_timezone(&app.settings.timezone).date_naive();
    let mut tx = app.store.begin_write().await?;
    let Some(incident) = incidents::by_channel(&mut tx, &inv.team, &inv.channel).await? else {
        return Ok(Reply::Ephemeral(NOT_AN_INCIDENT_CHANNEL.into()));
    };
    let state = changes::load_state(&mut tx, &incident, custom).await?;
    let change = match cmd {
        Command::Roles => return Ok(Reply::Ephemeral(views::roles_text(&state.roles, custom))),
        Command::Summary => {
            return Ok(Reply::Ephemeral(views::summary_text(
                &incident,
                &state.roles,
                custom,
                now,
            )))
        }
        Command::Role { role, to } => Change::Assign {
            role,
            to: match to {
                Assignee::Me => inv.user.clone(),
                Assignee::User(u) => u,
            },
        },
        Command::Unassign { role } => Change::Unassign { role },
        Command::Severity(s) => Change::Severity(s),
        Command::Status(s) => Change::Status(s),
        Command::Update { text } => Change::Update(text),
        Command::Rename { title } => Change::Rename(title),
        Command::Resolve => Change::Status(Status::Resolved),
        Command::Reopen => Change::Reopen,
        Command::Tried { what, outcome } => {
            let reply = fixes::tried(&mut tx, &incident, &what, outcome, &inv.user, now).await?;
            return finish(app, tx, reply).await;
        }
        Command::Action(new) => {
            let reply = actions::add_action(
                &mut tx,
                &incident,
                &new,
                &inv.user,
                now,
                today,
                app.settings.followup_interval,
            )
            .await?;
            return finish(app, tx, reply).await;
        }
        Command::ChangeAction { number, change } => {
            let change = match change {
                ActionChange::Owner(Assignee::Me) => Handover::Owner(inv.user.clone()),
                ActionChange::Owner(Assignee::User(u)) => Handover::Owner(u),
                ActionChange::Due(d) => Handover::Due(d),
            };
            let reply =
                actions::change_action(&mut tx, &incident, number, change, &inv.user, now, today)
                    .await?;
            return finish(app, tx, reply).await;
        }
        Command::CloseAction { number, status } => {
            let reply =
                actions::close_action(&mut tx, &incident, number, status, &inv.user, now).await?;
            return finish(app, tx, reply).await;
        }
        Command::Actions => {
            let actions =
                crate::store::postmortems::actions(&mut tx, &incident.team, incident.id).await?;
            return Ok(Reply::Ephemeral(views::actions_text(&actions, today)));
        }
        Command::Fixes => {
            let fixes = crate::store::fixes::fixes(&mut tx, &incident.team, incident.id).await?;
            return Ok(Reply::Ephemeral(views::fixes_text(&fixes)));
        }
        Command::Note { text } => {
            let reply =
                notes::note(&mut tx, &incident, NoteKind::Note, &text, &inv.user, now).await?;
            return finish(app, tx, reply).await;
        }
        Command::Postmortem { status, owner } => {
            let owner = owner.map(|o| match o {
                Assignee::Me => inv.user.clone(),
                Assignee::User(u) => u,
            });
            let reply = review::apply(&mut tx, &incident, status, owner, &inv.user, now).await?;
            return finish(app, tx, reply).await;
        }
        Command::Docs { text } => {
            let reply =
                notes::note(&mut tx, &incident, NoteKind::Docs, &text, &inv.user, now).await?;
            return finish(app, tx, reply).await;
        }
        Command::Declare { .. } | Command::Help | Command::MyActions => {
            return Ok(Reply::Ephemeral(command::help_text()))
        }
    };
    let facts = match decide(&state, change, &inv.user, app.settings.policy) {
        Ok(facts) => facts,
        Err(refusal) => return Ok(Reply::Ephemeral(refusal.to_string())),
    };
    let confirmation =
        changes::apply(&mut tx, &incident, &facts, &inv.user, now, &app.settings).await?;
    tx.commit().await.context("Failed to commit a command")?;
    app.effects_waiting.notify_one();
    Ok(Reply::Ephemeral(confirmation))
}

async fn finish(app: &App, tx: crate::store::Tx, reply: String) -> anyhow::Result<Reply> {
    tx.commit().await.context("Failed to commit a command")?;
    app.effects_waiting.notify_one();
    Ok(Reply::Ephemeral(reply))
}

/// Opens the declare form; Slack accepts that only within 3 s, so it cannot wait in the outbox.
async fn open_declare_form(app: &App, inv: &Invocation, private: bool) -> anyhow::Result<Reply> {
    let ctx = DeclareContext {
        channel: inv.channel.to_string(),
        message_ts: None,
        thread_ts: None,
        private,
    };
    let trigger = inv.trigger_id.as_deref().unwrap_or_default();
    match app
        .slack
        .open_view(trigger, &declare_modal(&ctx, None, None))
        .await
    {
        Ok(_) => Ok(Reply::Nothing),
        Err(e) => {
            tracing::warn!(error = %e, "Could not open the declare form");
            Ok(Reply::Ephemeral("Slack did not open the form just now. Declare with a title instead: `/incident declare <title>`.".into()))
        }
    }
}
