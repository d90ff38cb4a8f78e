//! Follow-up reviews: after an incident is resolved with open action items, remind the team in
//! the incident channel (and each owner directly) every interval until every item is done or
//! won't be. The schedule lives in the database and each reminder is claimed by one worker.
//! Each owner is also reminded once, directly, when an item's due date comes.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Timelike, Utc};

use super::Outcome;
use crate::app::effect::{queue_again, Effect};
use crate::app::App;
use crate::slack::views;
use crate::store::{incidents, postmortems};

/// The hour of the day (in `HEREBY_TIMEZONE`) from which an item due that day is reminded:
/// a reminder at midnight would wake no one and be buried by morning.
pub const DUE_REMINDER_HOUR: u32 = 9;

pub struct FollowUpWorker {
    app: App,
    id: String,
}

impl FollowUpWorker {
    pub fn new(app: App) -> Self {
        FollowUpWorker {
            app,
            id: super::worker_id("followups"),
        }
    }

    /// Sends the next due-date reminder or due follow-up, if any.
    pub async fn run_once(&self) -> anyhow::Result<Outcome> {
        self.run_once_at(Utc::now()).await
    }

    /// [`Self::run_once`], deciding what is due as if it were `now` (for a test to step through
    /// days); a due-date reminder it queues goes out at once.
    pub async fn run_once_at(&self, now: DateTime<Utc>) -> anyhow::Result<Outcome> {
        if self.remind_due(now).await? == Outcome::Worked {
            return Ok(Outcome::Worked);
        }
        self.review(now).await
    }

    /// Reminds an owner, directly, of an open action item whose due date has come (from
    /// [`DUE_REMINDER_HOUR`] that day, in `HEREBY_TIMEZONE`), once.
    async fn remind_due(&self, now: DateTime<Utc>) -> anyhow::Result<Outcome> {
        let local = now.with_timezone(&self.app.settings.timezone);
        let today = local.date_naive();
        let come = if local.hour() >= DUE_REMINDER_HOUR {
            today
        } else {
            today.pred_opt().unwrap_or(today)
        };
        // Looked for on a reader: most seconds nothing is due, and SQLite's writer stays free.
        let mut conn = self.app.store.conn().await?;
        let Some(id) = postmortems::next_due_reminder(&mut conn, come).await? else {
            return Ok(Outcome::Idle);
        };
        drop(conn);
        let mut tx = self.app.store.begin_write().await?;
        let Some((team, incident_id, item)) = postmortems::take_due_reminder(&mut tx, id).await?
        else {
            return Ok(Outcome::Worked);
        };
        let incident = incidents::get(&mut tx, &team, incident_id).await?;
        let Some(owner) = item.owner.clone() else {
            return Ok(Outcome::Worked);
        };
        let intro = views::due_reminder_intro(&incident, &item, today);
        let reminder = Effect::RemindOwner {
            user: owner.to_string(),
            text: views::due_reminder_text(&incident, &item, today),
            blocks: Some(views::reminder_blocks(
                &intro,
                incident.id,
                std::slice::from_ref(&item),
                today,
            )),
        };
        // Sent at once, whatever day `now` was taken to be.
        queue_again(
            &mut tx,
            &incident,
            &[reminder],
            format!("due-{}", item.number),
            Utc::now(),
        )
        .await?;
        tx.commit()
            .await
            .context("Failed to commit a due-date reminder")?;
        self.app.effects_waiting.notify_one();
        tracing::info!(
            incident = incident_id,
            item = item.number,
            "Due-date reminder queued"
        );
        Ok(Outcome::Worked)
    }

    /// Sends the next due follow-up review, if any.
    async fn review(&self, now: DateTime<Utc>) -> anyhow::Result<Outcome> {
        let Some((team, incident_id)) = postmortems::claim_followup(
            self.app.store.writer(),
            &self.id,
            now,
            chrono::Duration::seconds(60),
        )
        .await?
        else {
            return Ok(Outcome::Idle);
        };
        let interval = self.app.settings.followup_interval;
        let mut tx = self.app.store.begin_write().await?;
        let incident = incidents::get(&mut tx, &team, incident_id).await?;
        let open: Vec<_> = postmortems::actions(&mut tx, &team, incident_id)
            .await?
            .into_iter()
            .filter(|a| a.status.is_open())
            .collect();
        if open.is_empty() {
            postmortems::end_followups(&mut tx, &team, incident_id).await?;
        } else if incident.status.is_open() {
            // Reopened: the incident channel is busy with the incident itself; ask again later.
            postmortems::reschedule_followup(&mut tx, &team, incident_id, &self.id, now + interval)
                .await?;
        } else {
            let tag = format!("review-{}", now.timestamp_millis());
            let today = now.with_timezone(&self.app.settings.timezone).date_naive();
            let mut effects = vec![Effect::FollowUp {
                text: views::followup_text(&incident, &open, today),
                blocks: Some(views::reminder_blocks(
                    &views::followup_intro(&incident, open.len()),
                    incident.id,
                    &open,
                    today,
                )),
            }];
            let mut owners: Vec<_> = open.iter().filter_map(|a| a.owner.clone()).collect();
            owners.sort();
            owners.dedup();
            for owner in owners {
                let theirs: Vec<_> = open
                    .iter()
                    .filter(|a| a.owner.as_ref() == Some(&owner))
                    .cloned()
                    .collect();
                effects.push(Effect::RemindOwner {
                    user: owner.to_string(),
                    text: views::owner_reminder_text(&incident, &theirs),
                    blocks: Some(views::reminder_blocks(
                        &views::owner_reminder_intro(&incident, theirs.len()),
                        incident.id,
                        &theirs,
                        today,
                    )),
                });
            }
            for (n, effect) in effects.iter().enumerate() {
                queue_again(
                    &mut tx,
                    &incident,
                    std::slice::from_ref(effect),
                    format!("{tag}-{n}"),
                    now,
                )
                .await?;
            }
            if !postmortems::reschedule_followup(
                &mut tx,
                &team,
                incident_id,
                &self.id,
                now + interval,
            )
            .await?
            {
                // Another worker took it over after our lease lapsed: theirs to send.
                return Ok(Outcome::Worked);
            }
            tracing::info!(
                incident = incident_id,
                open = open.len(),
                "Follow-up review queued"
            );
        }
        tx.commit().await.context("Failed to commit a follow-up")?;
        self.app.effects_waiting.notify_one();
        Ok(Outcome::Worked)
    }

    /// Works until shutdown.
    pub async fn run(self, shutdown: tokio::sync::watch::Receiver<bool>) {
        // Follow-ups are due by the clock, not by an event: polling is the wake-up.
        let never = tokio::sync::Notify::new();
        super::run_until_stopped(
            "followups",
            &never,
            Duration::from_secs(1),
            shutdown,
            || self.run_once(),
        )
        .await
    }
}
