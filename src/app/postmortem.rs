//! The post-mortem draft: rendered from the record, stored with a version, shared in the
//! incident channel; and the follow-up reviews that remind the team of open action items.

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::AnyConnection;

use super::effects::{queue_again, Effect, EffectError};
use super::App;
use crate::domain::postmortem::{build, render, Draft};
use crate::store::incidents::IncidentRecord;
use crate::store::outbox::ClaimedEffect;
use crate::store::postmortems;

/// The draft of an incident as the record stands now, and its Markdown.
pub async fn current_draft(
    conn: &mut AnyConnection,
    incident: &IncidentRecord,
    tz: Tz,
    template: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<(Draft, String)> {
    let record = postmortems::load_record(conn, incident).await?;
    let today = now.with_timezone(&tz).date_naive();
    let draft = build(&record, tz, today);
    let markdown = render(&draft, template)?;
    Ok((draft, markdown))
}

/// At resolution: catch up with the channel, render the draft, store it as the next version and
/// share it in the channel as a Markdown file with a summary of what is in it (and, if enabled,
/// as a canvas). `key` names the export: a retried export reuses its version and does not share
/// a file twice once the upload is recorded.
#[tracing::instrument(name = "Exporting the post-mortem draft", skip_all, fields(incident = incident.id))]
pub async fn export(
    app: &App,
    incident: &IncidentRecord,
    claimed: &ClaimedEffect,
    worker: &str,
) -> Result<(), EffectError> {
    let key = claimed.dedupe_key.as_str();
    let channel = incident
        .channel
        .as_ref()
        .map(|c| c.id.clone())
        .context("The incident has no channel")?;
    let mut conn = app.store.conn().await?;
    let stored = postmortems::draft_by_source(&mut conn, &incident.team, key).await?;
    drop(conn);
    let now = Utc::now();
    let stored = match stored {
        Some(s) => s,
        None => {
            // Everything Slack delivered before the resolution belongs in the draft.
            let cutoff = incident.resolved_at.unwrap_or(now);
            let waiting = app
                .store
                .unprocessed_deliveries(incident.team.as_str(), cutoff)
                .await?;
            if waiting > 0 {
                return Err(anyhow::anyhow!(
                    "waiting for {waiting} delivered event(s) to be recorded first"
                )
                .into());
            }
            super::reconcile::catch_up(app, incident, claimed, worker).await?;
            let mut tx = app.store.begin_write().await?;
            let (_, markdown) = current_draft(
                &mut tx,
                incident,
                app.settings.timezone,
                &app.settings.postmortem_template,
                now,
            )
            .await?;
            let version =
                postmortems::save_draft(&mut tx, &incident.team, incident.id, &markdown, key, now)
                    .await?;
            if app.settings.postmortem_canvas {
                queue_again(
                    &mut tx,
                    incident,
                    &[Effect::DraftCanvas { version }],
                    version,
                    now,
                )
                .await?;
            }
            tx.commit().await.context("Failed to store the draft")?;
            postmortems::StoredDraft {
                version,
                markdown,
                file_id: None,
            }
        }
    };
    if stored.file_id.is_some() {
        return Ok(());
    }
    let mut conn = app.store.conn().await?;
    let (draft, _) = current_draft(
        &mut conn,
        incident,
        app.settings.timezone,
        &app.settings.postmortem_template,
        now,
    )
    .await?;
    drop(conn);
    let version = stored.version;
    let filename = format!("postmortem-incident-{}-v{version}.md", incident.number);
    let title = format!("Post-mortem draft v{version}: {}", draft.title);
    let file_id = app
        .slack
        .upload_file(
            &channel,
            &filename,
            &title,
            stored.markdown.as_bytes(),
            &summary(&draft, version),
        )
        .await?;
    let mut conn = app.store.conn().await?;
    postmortems::set_draft_file(&mut conn, &incident.team, incident.id, version, &file_id).await?;
    Ok(())
}

/// The largest canvas Slack accepts.
const CANVAS_LIMIT: usize = 1024 * 1024;

/// Puts a stored draft version in a canvas tabbed in the incident channel.
pub async fn canvas(app: &App, incident: &IncidentRecord, version: i64) -> Result<(), EffectError> {
    let channel = incident
        .channel
        .as_ref()
        .map(|c| c.id.clone())
        .context("The incident has no channel")?;
    let markdown: String = sqlx::query(
        "SELECT markdown FROM postmortems WHERE team_id = $1 AND incident_id = $2 AND version = $3",
    )
    .bind(incident.team.to_string())
    .bind(incident.id)
    .bind(version)
    .fetch_one(app.store.pool())
    .await
    .context("Failed to load a draft")
    .and_then(|r| sqlx::Row::try_get(&r, "markdown").context("Failed to read a draft"))?;
    let markdown = if markdown.len() > CANVAS_LIMIT {
        // The channel log is last: cut it, and say where the whole draft is.
        let mut cut = CANVAS_LIMIT - 200;
        while !markdown.is_char_boundary(cut) {
            cut -= 1;
        }
        format!(
            "{}\n\n_(cut to fit a canvas; the shared Markdown file has the whole draft)_\n",
            &markdown[..cut]
        )
    } else {
        markdown
    };
    let title = format!(
        "Post-mortem draft v{version}: incident #{}",
        incident.number
    );
    app.slack.create_canvas(&channel, &title, &markdown).await?;
    Ok(())
}

/// The message that goes with the draft: what is prefilled and what is left for people.
fn summary(d: &Draft, version: i64) -> String {
    let weak = d.actions.iter().filter(|a| !a.flags.is_empty()).count();
    let mut s = format!(
        ":memo: *Post-mortem draft v{version}* for incident #{}. Prefilled from the record: key times, {} people and their roles, a timeline of {} entries, {} fix attempt(s), {} link(s), {} action item(s){}, and the full channel log.",
        d.number,
        d.participants.len(),
        d.timeline.len(),
        d.fixes.len(),
        d.links.len(),
        d.actions.len(),
        if weak > 0 { format!(" ({weak} flagged as vague or missing an owner or due date)") } else { String::new() }
    );
    s.push_str(" Left for you: the executive summary, impact per stakeholder, contributing factors (five whys), mitigating factors and lessons learned.");
    if d.times.mitigated.is_none() {
        s.push_str(" No fix was marked as having worked, so the mitigation time is blank.");
    }
    s
}
