//! Button presses, form submissions and shortcuts, already decoded at the edge.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::declare::{declare, Declared};
use super::effect::{queue_for_change, Effect};
use super::App;
use super::{changes, fixes};
use crate::domain::incident::{DeclareIncident, Origin};
use crate::domain::timeline::TimelineEntry;
use crate::domain::transitions::{decide, Change};
use crate::domain::{ChannelId, TeamId, UserId};
use crate::slack::api::CallError;
pub use crate::slack::interactions::Interaction;
use crate::slack::modals::{declare_modal, DeclareContext, DeclareSubmission};
use crate::store::incidents;

/// What Slack gets back (for a form: close it, or show field errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Ack,
    Json(Value),
}

pub async fn handle(
    app: &App,
    interaction: Interaction,
    now: DateTime<Utc>,
) -> anyhow::Result<Answer> {
    match interaction {
        Interaction::TakeRole {
            team,
            channel,
            user,
            role,
        } => take_role(app, &team, &channel, &user, &role, now).await,
        Interaction::FixOutcome {
            team,
            channel,
            user,
            number,
            outcome,
        } => {
            let mut tx = app.store.begin_write().await?;
            let Some(incident) = incidents::by_channel(&mut tx, &team, &channel).await? else {
                return Ok(Answer::Ack);
            };
            fixes::outcome(&mut tx, &incident, number, outcome, &user, now).await?;
            tx.commit()
                .await
                .context("Failed to commit a fix outcome")?;
            app.effects_waiting.notify_one();
            Ok(Answer::Ack)
        }
        Interaction::CloseAction {
            team,
            channel,
            user,
            incident,
            number,
            status,
            pressed_on,
        } => {
            let mut tx = app.store.begin_write().await?;
            let Some(incident) = incidents::find(&mut tx, &team, incident).await? else {
                return Ok(Answer::Ack);
            };
            let reply =
                super::actions::close_action(&mut tx, &incident, number, status, &user, now)
                    .await?;
            let redrawn = pressed_on.and_then(|mut pressed| {
                let note = format!(":white_check_mark: <@{user}>: {reply}");
                pressed.blocks = crate::slack::views::closed_in_place(
                    &pressed.blocks,
                    incident.id,
                    number,
                    &note,
                )?;
                Some(pressed)
            });
            // Only the one who pressed hears how it went, where they pressed.
            let whisper = Effect::Whisper {
                channel: channel.to_string(),
                user: user.to_string(),
                text: reply,
            };
            queue_for_change(&mut tx, &incident, &[whisper], now).await?;
            tx.commit()
                .await
                .context("Failed to commit a closed action item")?;
            app.effects_waiting.notify_one();
            // The pressed message shows at once that the item is closed, so no one presses its
            // buttons again; if that fails, the whisper above still says it.
            if let Some(pressed) = redrawn {
                let origin = app.settings.api_origin.clone();
                tokio::spawn(async move {
                    let timeout = std::time::Duration::from_secs(10);
                    let (url, text, blocks) =
                        (&pressed.response_url, &pressed.text, &pressed.blocks);
                    if let Err(e) =
                        crate::slack::respond::replace(url, &origin, text, blocks, timeout).await
                    {
                        tracing::warn!(error = ?e, "Could not redraw the message a close button was pressed on");
                    }
                });
            }
            Ok(Answer::Ack)
        }
        Interaction::DeclareSubmitted {
            team,
            user,
            submission,
        } => declare_submitted(app, team, user, submission, now).await,
        Interaction::DeclareFromMessage {
            team: _,
            user,
            channel,
            trigger_id,
            text,
            ts,
            thread_ts,
        } => {
            // The trigger expires 3 s after the click: open the form first, then add the
            // message's link to it.
            let first_line =
                crate::domain::trigger::unescape_mrkdwn(text.lines().next().unwrap_or(""));
            let description = crate::domain::trigger::unescape_mrkdwn(&text);
            let ctx = DeclareContext {
                channel: channel.to_string(),
                message_ts: Some(ts.clone()),
                thread_ts,
                private: false,
            };
            let view_id = match app
                .slack
                .open_view(
                    &trigger_id,
                    &declare_modal(&ctx, Some(&first_line), Some(&description)),
                )
                .await
            {
                Ok(id) => id,
                Err(e) => {
                    tracing::warn!(error = %e, "Could not open the declare form from a message");
                    // The click must not come to nothing: the person hears why, and the way
                    // that needs no form.
                    let why = match &e {
                        CallError::Refused { code } if code.contains("trigger") => {
                            "it took longer than the 3 s Slack allows".to_string()
                        }
                        CallError::Refused { code } => format!("Slack answered `{code}`"),
                        CallError::RateLimited { .. } => "Slack asked hereby to slow down".into(),
                        CallError::Unavailable(_) => "Slack did not answer in time".into(),
                    };
                    let text = format!("The declare form did not open ({why}). Try the shortcut again, or type `/incident declare <title>`.");
                    if let Err(e) = super::telling::tell(app, &channel, &user, &text).await {
                        tracing::warn!(error = %e, "Could not tell why the declare form did not open");
                    }
                    return Ok(Answer::Ack);
                }
            };
            if let Ok(link) = app.slack.permalink(&channel, &ts).await {
                let with_link = format!("{description}\n\nFrom: {link}");
                if let Err(e) = app
                    .slack
                    .update_view(
                        &view_id,
                        &declare_modal(&ctx, Some(&first_line), Some(&with_link)),
                    )
                    .await
                {
                    tracing::warn!(error = %e, "Could not add the message's link to the declare form");
                }
            }
            Ok(Answer::Ack)
        }
    }
}

async fn take_role(
    app: &App,
    team: &TeamId,
    channel: &ChannelId,
    user: &UserId,
    role_key: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Answer> {
    let custom = &app.settings.custom_roles;
    let mut tx = app.store.begin_write().await?;
    let Some(incident) = incidents::by_channel(&mut tx, team, channel).await? else {
        return Ok(Answer::Ack);
    };
    let Some(role) = changes::role_from_button(role_key, custom) else {
        return Ok(Answer::Ack);
    };
    let state = changes::load_state(&mut tx, &incident, custom).await?;
    match decide(
        &state,
        Change::Assign {
            role,
            to: user.clone(),
        },
        user,
        app.settings.policy,
    ) {
        Ok(facts) => {
            changes::apply(&mut tx, &incident, &facts, user, now, &app.settings).await?;
        }
        Err(refusal) => {
            // Someone else was quicker: say so to the one who pressed.
            let whisper = Effect::Whisper {
                channel: channel.to_string(),
                user: user.to_string(),
                text: refusal.to_string(),
            };
            queue_for_change(&mut tx, &incident, &[whisper, Effect::RefreshSummary], now).await?;
        }
    }
    tx.commit()
        .await
        .context("Failed to commit a button press")?;
    app.effects_waiting.notify_one();
    Ok(Answer::Ack)
}

async fn declare_submitted(
    app: &App,
    team: TeamId,
    user: UserId,
    s: DeclareSubmission,
    now: DateTime<Utc>,
) -> anyhow::Result<Answer> {
    let title = match s.title {
        Ok(t) => t,
        Err(why) => {
            return Ok(Answer::Json(
                json!({"response_action": "errors", "errors": {"title": why}}),
            ))
        }
    };
    let channel = ChannelId::new(s.context.channel.clone());
    let origin = match s.context.message_ts.clone() {
        Some(ts) => Origin::Message {
            channel,
            ts,
            thread_ts: s.context.thread_ts.clone(),
        },
        None => Origin::Command { channel },
    };
    let d = DeclareIncident {
        private: s.private,
        team: team.clone(),
        declarer: user.clone(),
        title: Some(title),
        origin,
        at: now,
    };
    let mut tx = app.store.begin_write().await?;
    let incident = match declare(&mut tx, &d, None, now).await? {
        Declared::New(incident) => incident,
        Declared::Already(id) => {
            // The form stays open and says why, instead of closing as if it had worked.
            let number = incidents::get(&mut tx, &team, id).await?.number;
            return Ok(Answer::Json(
                json!({"response_action": "errors", "errors": {"title": format!(
                    "This message already declared incident #{number}. Set its severity and title there with /incident severity and /incident rename."
                )}}),
            ));
        }
    };
    if let Some(description) = &s.description {
        incidents::set_description(&mut tx, &team, incident.id, description).await?;
        let described = TimelineEntry::Described {
            text: description.clone(),
        };
        incidents::add_timeline(&mut tx, &team, incident.id, &described, Some(&user), now).await?;
    }
    if let Some(severity) = s.severity {
        // The channel does not exist yet: its welcome and topic will show the severity.
        incidents::set_severity(&mut tx, &team, incident.id, severity).await?;
        let set = TimelineEntry::SeverityChanged {
            from: None,
            to: severity,
        };
        incidents::add_timeline(&mut tx, &team, incident.id, &set, Some(&user), now).await?;
    }
    tx.commit()
        .await
        .context("Failed to commit a declaration")?;
    app.effects_waiting.notify_one();
    Ok(Answer::Ack)
}
