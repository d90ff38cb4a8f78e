//! The post-mortem draft: rendered from the record, stored with a version, shared in the
//! incident channel; and the follow-up reviews that remind the team of open action items.

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::AnyConnection;

use super::effects::EffectError;
use super::App;
use crate::domain::postmortem::{build, render, Draft};
use crate::store::incidents::IncidentRecord;
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
/// share it in the channel as a Markdown file with a summary of what is in it.
#[tracing::instrument(name = "Exporting the post-mortem draft", skip_all, fields(incident = incident.id))]
pub async fn export(app: &App, incident: &IncidentRecord) -> Result<(), EffectError> {
    let channel = incident
        .channel
        .as_ref()
        .map(|c| c.id.clone())
        .context("The incident has no channel")?;
    super::reconcile::catch_up(app, incident).await?;
    let now = Utc::now();
    let mut conn = app
        .store
        .pool()
        .acquire()
        .await
        .context("Failed to get a database connection")?;
    let (draft, markdown) = current_draft(
        &mut conn,
        incident,
        app.settings.timezone,
        &app.settings.postmortem_template,
        now,
    )
    .await?;
    drop(conn);
    let mut tx = app.store.begin_write().await?;
    let version =
        postmortems::save_draft(&mut tx, &incident.team, incident.id, &markdown, now).await?;
    tx.commit().await.context("Failed to store the draft")?;

    let filename = format!("postmortem-incident-{}-v{version}.md", incident.number);
    let title = format!("Post-mortem draft v{version}: {}", draft.title);
    let comment = summary(&draft, version);
    let file_id = app
        .slack
        .upload_file(&channel, &filename, &title, markdown.as_bytes(), &comment)
        .await?;
    let mut conn = app
        .store
        .pool()
        .acquire()
        .await
        .context("Failed to get a database connection")?;
    postmortems::set_draft_file(&mut conn, &incident.team, incident.id, version, &file_id).await?;
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
