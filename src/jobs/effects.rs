//! Carrying out one claimed effect, one at a time, for the outbox worker.
//!
//! Each effect is safe to run again: creating a channel remembers the names it tried and adopts
//! a channel an interrupted attempt already created; posting remembers that it may have posted
//! and looks for its own message before posting again; invites and pins treat "already done"
//! as done. What one effect learns (the channel, the welcome message) is stored in the same
//! transaction that marks it done and queues the effects that follow it.

use anyhow::Context;
use chrono::Utc;
use futures_util::future::BoxFuture;

use crate::app::channel as incident_channel;
use crate::app::effect::{queue, Completion, Effect, EffectError};
use crate::app::progress::Progress;
use crate::app::{posting, postmortem, reconcile, telling, App};
use crate::domain::timeline::TimelineEntry;
use crate::domain::{ChannelId, UserId};
use crate::slack::api::{CallError, OutgoingMessage};
use crate::slack::views;
use crate::store::incidents::{self, Incident};
use crate::store::outbox::{self, ClaimedEffect};
use crate::store::record;

/// Carries out claimed effects for the outbox worker: [`Execute`] in production; a test may put
/// in one with a bug in it (the outbox worker's `carrying_out_with`).
pub trait CarryOut: Send + Sync {
    fn carry_out<'a>(
        &'a self,
        app: &'a App,
        claimed: &'a ClaimedEffect,
        worker: &'a str,
    ) -> BoxFuture<'a, Result<(), EffectError>>;
}

/// Carries out each effect with [`execute`].
pub struct Execute;

impl CarryOut for Execute {
    fn carry_out<'a>(
        &'a self,
        app: &'a App,
        claimed: &'a ClaimedEffect,
        worker: &'a str,
    ) -> BoxFuture<'a, Result<(), EffectError>> {
        Box::pin(execute(app, claimed, worker))
    }
}

/// Steps that post somewhere other than the incident channel (or nowhere): Slack refusing one
/// of them says nothing about whether hereby can still post in the incident channel.
const ELSEWHERE: [&str; 8] = [
    "announce",
    "announce_change",
    "point_origin",
    "whisper",
    "remind_owner",
    "tell_removed",
    "look_up_user",
    "look_up_bot",
];

/// Carries out one claimed effect and records its result.
#[tracing::instrument(name = "Carrying out an effect", skip_all, fields(key = %claimed.dedupe_key, attempt = claimed.attempts))]
pub async fn execute(app: &App, claimed: &ClaimedEffect, worker: &str) -> Result<(), EffectError> {
    let effect: Effect = serde_json::from_value(claimed.effect.clone())
        .with_context(|| format!("Unknown effect {}", claimed.effect))?;
    let incident_id = claimed.incident.context("Effect without an incident")?;
    let mut conn = app.store.conn().await?;
    let incident = incidents::get(&mut conn, &claimed.team, incident_id).await?;
    let roles = incidents::current_roles(
        &mut conn,
        &claimed.team,
        incident_id,
        &app.settings.custom_roles,
    )
    .await?;
    drop(conn);
    let commander = roles
        .iter()
        .find(|(role, _)| *role == crate::domain::roles::Role::Commander)
        .map(|(_, user)| user.clone());

    let channel = incident.channel.as_ref().map(|c| c.id.clone());
    let need_channel = || channel.clone().context("The incident has no channel yet");
    let done = match effect {
        Effect::CreateChannel { reply_to } => {
            incident_channel::create_channel(app, claimed, worker, &incident, reply_to).await?
        }
        Effect::InviteDeclarer => {
            app.slack
                .invite(
                    &need_channel()?,
                    std::slice::from_ref(&incident.declared_by),
                )
                .await?;
            Completion::default()
        }
        Effect::SetTopic => {
            app.slack
                .set_topic(&need_channel()?, &views::topic(&incident, &roles))
                .await?;
            Completion::default()
        }
        Effect::PostWelcome => {
            let message = OutgoingMessage {
                text: views::welcome_text(&incident, &roles),
                blocks: Some(views::welcome_blocks(
                    &incident,
                    &roles,
                    &app.settings.custom_roles,
                    app.settings.web_base.as_deref(),
                )),
                thread_ts: None,
                key: claimed.dedupe_key.clone(),
            };
            let ts = posting::post_once(app, claimed, worker, &need_channel()?, &message).await?;
            Completion {
                welcome_ts: Some(ts),
                then: vec![Effect::PinWelcome],
                ..Completion::default()
            }
        }
        Effect::PinWelcome => {
            let ts = incident
                .welcome_ts
                .clone()
                .context("The welcome message is not posted yet")?;
            app.slack.pin(&need_channel()?, &ts).await?;
            Completion::default()
        }
        Effect::PointOrigin { reply_to } => {
            let message = OutgoingMessage {
                text: views::pointer_text(&incident),
                blocks: None,
                thread_ts: incident.origin.reply_thread().map(str::to_string),
                key: claimed.dedupe_key.clone(),
            };
            // A private incident's pointer names its channel only to the declarer.
            let posted = if incident.private {
                Err(EffectError::Slack(CallError::Refused {
                    code: "not_in_channel".into(),
                }))
            } else {
                posting::post_once(app, claimed, worker, incident.origin.channel(), &message).await
            };
            match posted {
                // A private channel or DM hereby is not in: answer the command where it was
                // typed, or tell the declarer.
                Err(EffectError::Slack(CallError::Refused { code }))
                    if telling::not_a_member(&code) =>
                {
                    let answered = match &reply_to {
                        Some(url) => crate::slack::respond::respond(
                            url,
                            &app.settings.api_origin,
                            &message.text,
                            std::time::Duration::from_secs(10),
                        )
                        .await
                        .is_ok(),
                        None => false,
                    };
                    if !answered {
                        telling::tell(
                            app,
                            incident.origin.channel(),
                            &incident.declared_by,
                            &message.text,
                        )
                        .await?;
                    }
                }
                other => {
                    other?;
                }
            }
            Completion::default()
        }
        Effect::Announce => {
            if let Some(announce) = &app.settings.announce_channel {
                let message = OutgoingMessage::plain(
                    views::announcement_text(&incident),
                    &claimed.dedupe_key,
                );
                posting::post_once(app, claimed, worker, announce, &message).await?;
            }
            Completion::default()
        }
        Effect::Invite { user } => {
            app.slack
                .invite(&need_channel()?, &[UserId::new(user)])
                .await?;
            Completion::default()
        }
        Effect::RefreshSummary => {
            let ts = incident
                .welcome_ts
                .clone()
                .context("The summary is not posted yet")?;
            let text = views::welcome_text(&incident, &roles);
            let blocks = views::welcome_blocks(
                &incident,
                &roles,
                &app.settings.custom_roles,
                app.settings.web_base.as_deref(),
            );
            app.slack
                .update_message(&need_channel()?, &ts, &text, &blocks)
                .await?;
            Completion::default()
        }
        Effect::Notice { text } => {
            let message = OutgoingMessage::plain(text, &claimed.dedupe_key);
            posting::post_once(app, claimed, worker, &need_channel()?, &message).await?;
            Completion::default()
        }
        Effect::AnnounceChange { text } => {
            // What happens in a private incident stays in its channel.
            if let (Some(announce), false) = (&app.settings.announce_channel, incident.private) {
                let message = OutgoingMessage::plain(text, &claimed.dedupe_key);
                posting::post_once(app, claimed, worker, announce, &message).await?;
            }
            Completion::default()
        }
        Effect::LookUpUser { user } => {
            let user = UserId::new(user);
            let (display, real) = app.slack.user_names(&user).await?;
            let mut conn = app.store.write_conn().await?;
            record::save_user(
                &mut conn,
                &incident.team,
                &user,
                display.as_deref(),
                real.as_deref(),
                Utc::now(),
            )
            .await?;
            Completion::default()
        }
        Effect::LookUpBot { bot } => {
            let name = app.slack.bot_name(&bot).await?;
            let mut conn = app.store.write_conn().await?;
            // Cached beside people's names: bot IDs and user IDs never collide.
            record::save_user(
                &mut conn,
                &incident.team,
                &UserId::new(bot.clone()),
                Some(&name),
                None,
                Utc::now(),
            )
            .await?;
            Completion::default()
        }
        Effect::PostFix { number } => {
            let mut conn = app.store.conn().await?;
            let fixes = crate::store::fixes::fixes(&mut conn, &incident.team, incident.id).await?;
            drop(conn);
            let fix = fixes
                .iter()
                .find(|f| f.number == number)
                .context("No such fix attempt")?;
            let message = OutgoingMessage {
                text: views::fix_text(fix),
                blocks: Some(views::fix_blocks(fix)),
                thread_ts: None,
                key: claimed.dedupe_key.clone(),
            };
            posting::post_once(app, claimed, worker, &need_channel()?, &message).await?;
            Completion::default()
        }
        Effect::CatchUp => {
            let mut progress = Progress::of(app, claimed, worker);
            let seen = reconcile::catch_up(app, &incident, &mut progress).await?;
            tracing::info!(seen, "Caught up with the incident channel");
            Completion::default()
        }
        Effect::ExportDraft => {
            let mut progress = Progress::of(app, claimed, worker);
            postmortem::export(app, &incident, &claimed.dedupe_key, &mut progress).await?;
            Completion::default()
        }
        Effect::RenameChannel => {
            if app.settings.rename_channels {
                incident_channel::rename_channel(app, &incident).await?
            } else {
                Completion::default()
            }
        }
        Effect::DraftCanvas { version } => {
            let mut progress = Progress::of(app, claimed, worker);
            postmortem::canvas(app, &incident, version, &mut progress).await?;
            Completion::default()
        }
        Effect::FollowUp { text, blocks } => {
            let message = OutgoingMessage {
                blocks,
                ..OutgoingMessage::plain(text, &claimed.dedupe_key)
            };
            match posting::post_once(app, claimed, worker, &need_channel()?, &message).await {
                // Teams archive an incident's channel once it is over (or remove hereby from
                // it): the review goes to whoever answers for the post-mortem instead.
                Err(EffectError::Slack(CallError::Refused { code }))
                    if telling::not_a_member(&code) =>
                {
                    let to = incident
                        .postmortem_owner
                        .clone()
                        .or(commander)
                        .unwrap_or_else(|| incident.declared_by.clone());
                    let direct = views::review_in_private(message);
                    app.slack
                        .post_message(&ChannelId::new(to.as_str()), &direct)
                        .await?;
                }
                other => {
                    other?;
                }
            }
            Completion::default()
        }
        Effect::RemindOwner { user, text, blocks } => {
            // Posting to a user ID delivers the message in the app's direct conversation.
            let message = OutgoingMessage {
                blocks,
                ..OutgoingMessage::plain(text, &claimed.dedupe_key)
            };
            app.slack
                .post_message(&ChannelId::new(user), &message)
                .await?;
            Completion::default()
        }
        Effect::TellRemoved { by } => {
            let commander = commander.unwrap_or_else(|| incident.declared_by.clone());
            let text = views::removed_text(&incident, by.as_deref());
            app.slack
                .post_message(
                    &ChannelId::new(commander.as_str()),
                    &OutgoingMessage::plain(text, &claimed.dedupe_key),
                )
                .await?;
            Completion::default()
        }
        Effect::ReportRefusal { failed, error } => {
            let text = crate::slack::refusals::refusal_text(incident.number, &failed, &error);
            match (&channel, failed.as_str(), commander) {
                // hereby can no longer post in the incident channel (archived, or hereby
                // removed): a report there would be refused the same way, so the commander
                // hears directly.
                (Some(channel), s, Some(commander))
                    if telling::not_a_member(&error) && !ELSEWHERE.contains(&s) =>
                {
                    telling::tell(app, channel, &commander, &text).await?
                }
                (Some(channel), s, Some(commander)) if s != "create_channel" => {
                    let message = OutgoingMessage::plain(
                        format!("<@{commander}> {text}"),
                        &claimed.dedupe_key,
                    );
                    posting::post_once(app, claimed, worker, channel, &message).await?;
                }
                _ => {
                    telling::tell(app, incident.origin.channel(), &incident.declared_by, &text)
                        .await?
                }
            }
            Completion::default()
        }
        Effect::Whisper {
            channel,
            user,
            text,
        } => {
            // A button can be pressed where hereby cannot post (on `/incident actions mine`
            // typed in someone's direct messages): the presser then hears directly.
            telling::tell(app, &ChannelId::new(channel), &UserId::new(user), &text).await?;
            Completion::default()
        }
    };
    complete(app, claimed, worker, &incident, done).await?;
    Ok(())
}

async fn complete(
    app: &App,
    claimed: &ClaimedEffect,
    worker: &str,
    incident: &Incident,
    done: Completion,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let mut tx = app.store.begin_write().await?;
    if let Some(channel) = &done.channel {
        incidents::set_channel(&mut tx, &incident.team, incident.id, channel).await?;
        let (channel, name) = (channel.id.clone(), channel.name.clone());
        let entry = if done.renamed {
            TimelineEntry::ChannelRenamed { channel, name }
        } else {
            TimelineEntry::ChannelCreated { channel, name }
        };
        incidents::add_timeline(&mut tx, &incident.team, incident.id, &entry, None, now).await?;
    }
    if let Some(ts) = &done.welcome_ts {
        incidents::set_welcome_ts(&mut tx, &incident.team, incident.id, ts).await?;
    }
    queue(&mut tx, incident, &done.then, now).await?;
    if outbox::complete(&mut tx, claimed.id, worker, now).await? {
        tx.commit()
            .await
            .context("Failed to commit an effect's result")?;
        if !done.then.is_empty() {
            app.effects_waiting.notify_one();
        }
    } else {
        tracing::warn!(key = %claimed.dedupe_key, "Another worker took this effect over; its result is theirs to record");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_that_post_elsewhere_are_named_as_the_outbox_stores_them() {
        let elsewhere = [
            Effect::Announce,
            Effect::AnnounceChange { text: "x".into() },
            Effect::PointOrigin { reply_to: None },
            Effect::Whisper {
                channel: "C1".into(),
                user: "U1".into(),
                text: "x".into(),
            },
            Effect::RemindOwner {
                user: "U1".into(),
                text: "x".into(),
                blocks: None,
            },
            Effect::TellRemoved { by: None },
            Effect::LookUpUser { user: "U1".into() },
            Effect::LookUpBot { bot: "B1".into() },
        ];
        let steps: Vec<String> = elsewhere
            .iter()
            .map(|e| {
                serde_json::to_value(e).unwrap()["step"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(steps, ELSEWHERE);
    }
}
