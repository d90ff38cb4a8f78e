//! The post-mortem draft: rendered from the record, stored with a version, shared in the
//! incident channel; and the follow-up reviews that remind the team of open action items.

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::AnyConnection;

use super::effect::{queue_again, Effect, EffectError};
use super::progress::Progress;
use super::App;
use crate::domain::postmortem::{build, render, Draft};
use crate::domain::words::{counted, plural};
use crate::slack::api::CallError;
use crate::store::incidents::Incident;
use crate::store::postmortems;

/// The draft of an incident as the record stands now, and its Markdown.
pub async fn current_draft(
    conn: &mut AnyConnection,
    incident: &Incident,
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
/// as a canvas). `key` names the export: a retried export reuses its version, and the share is
/// done exactly once (see `share`).
#[tracing::instrument(name = "Exporting the post-mortem draft", skip_all, fields(incident = incident.id))]
pub async fn export(
    app: &App,
    incident: &Incident,
    key: &str,
    progress: &mut Progress<'_>,
) -> Result<(), EffectError> {
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
                    "waiting for {} to be recorded first",
                    plural(waiting, "delivered event")
                )
                .into());
            }
            super::reconcile::catch_up(app, incident, progress).await?;
            wait_for_names(app, incident, progress, now).await?;
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
    let file = DraftFile {
        name: format!("postmortem-incident-{}-v{version}.md", incident.number),
        // A file title is Slack text, not Markdown: the title as typed, with what it could
        // ping or disguise made harmless, but no Markdown escapes.
        title: crate::domain::mrkdwn::safe(&format!(
            "Post-mortem draft v{version}: {}",
            incident
                .title
                .as_ref()
                .map(|t| t.as_str().to_string())
                .unwrap_or_else(|| format!("incident #{}", incident.number))
        )),
        content: stored.markdown.as_bytes(),
        comment: summary(&draft, version),
    };
    let file_id = share(app, &channel, &file, progress).await?;
    let mut conn = app.store.write_conn().await?;
    postmortems::set_draft_file(&mut conn, &incident.team, incident.id, version, &file_id).await?;
    Ok(())
}

/// How long an export waits for pending name look-ups before it renders with what it has.
const NAMES_WAIT_SECS: i64 = 60;

/// Names come from `users.info` through the outbox; a draft rendered before a look-up is done
/// would show a raw user ID. Waits (by retrying the export) until the incident's look-ups are
/// done, for at most [`NAMES_WAIT_SECS`] from the first try.
async fn wait_for_names(
    app: &App,
    incident: &Incident,
    progress: &mut Progress<'_>,
    now: DateTime<Utc>,
) -> Result<(), EffectError> {
    let pending = app.store.pending_name_lookups(incident).await?;
    if pending == 0 {
        return Ok(());
    }
    let since = match progress.get::<i64>("names_wait_since") {
        Some(since) => since,
        None => {
            progress.set("names_wait_since", &now.timestamp()).await?;
            now.timestamp()
        }
    };
    if now.timestamp() - since >= NAMES_WAIT_SECS {
        tracing::warn!(pending, "Rendering the draft before every name is known");
        return Ok(());
    }
    Err(anyhow::anyhow!(
        "waiting for {} so the draft shows names",
        plural(pending, "name look-up")
    )
    .into())
}

/// A draft version as a file to share.
struct DraftFile<'a> {
    name: String,
    title: String,
    content: &'a [u8],
    comment: String,
}

/// How far sharing a file has gone, saved with the effect.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct ShareProgress {
    file_id: Option<String>,
    upload_url: Option<String>,
    #[serde(default)]
    uploaded: bool,
    /// `files.completeUploadExternal` was called; whether Slack did it may be unknown.
    #[serde(default)]
    completing: bool,
}

/// Shares `file` in `channel` exactly once across timeouts, lost answers and restarts: the
/// file's ID is kept from the first step; after an attempt to complete it whose answer was
/// lost, Slack is asked whether the file is already shared there before completing that same
/// file again. Only a refusal to complete (an expired upload) starts a new file.
async fn share(
    app: &App,
    channel: &crate::domain::ChannelId,
    file: &DraftFile<'_>,
    progress: &mut Progress<'_>,
) -> Result<String, EffectError> {
    const KEY: &str = "share";
    let mut state: ShareProgress = progress.get(KEY).unwrap_or_default();
    if let (Some(id), true) = (&state.file_id, state.completing) {
        if app.slack.file_shared_in(id, channel).await? {
            tracing::info!(file = %id, "The draft was already shared by an attempt whose answer was lost");
            return Ok(id.clone());
        }
    }
    let (file_id, url) = match (state.file_id.clone(), state.upload_url.clone()) {
        (Some(id), Some(url)) => (id, url),
        _ => {
            let (id, url) = app.slack.upload_url(&file.name, file.content.len()).await?;
            state = ShareProgress {
                file_id: Some(id.clone()),
                upload_url: Some(url.clone()),
                ..ShareProgress::default()
            };
            progress.set(KEY, &state).await?;
            (id, url)
        }
    };
    if !state.uploaded {
        match app.slack.upload_bytes(&url, file.content).await {
            // The upload address expired (a long outage between asking and sending): the next
            // attempt asks for a new one.
            Err(CallError::Refused { code }) if code.starts_with("http_4") => {
                progress.set(KEY, &ShareProgress::default()).await?;
                return Err(
                    CallError::Unavailable(format!("the upload address answered {code}")).into(),
                );
            }
            other => other?,
        }
        state.uploaded = true;
        progress.set(KEY, &state).await?;
    }
    state.completing = true;
    progress.set(KEY, &state).await?;
    match app
        .slack
        .complete_upload(&file_id, &file.title, channel, &file.comment)
        .await
    {
        Ok(()) => Ok(file_id),
        Err(CallError::Refused { code }) if code == "file_not_found" => {
            // The upload can no longer be completed (it expired): start a new file next time.
            progress.set(KEY, &ShareProgress::default()).await?;
            Err(CallError::Unavailable(format!("completing the upload failed: {code}")).into())
        }
        // Any other refusal (the channel archived, hereby removed from it) is told to a person
        // with what to change, not retried: a retry would only upload the file again.
        Err(e) => Err(e.into()),
    }
}

/// The largest canvas Slack accepts.
const CANVAS_LIMIT: usize = 1024 * 1024;

/// Puts a stored draft version in a canvas tabbed in the incident channel, once: after an
/// attempt whose answer was lost, the channel's canvases are searched for it by title before
/// another is created.
pub async fn canvas(
    app: &App,
    incident: &Incident,
    version: i64,
    progress: &mut Progress<'_>,
) -> Result<(), EffectError> {
    let channel = incident
        .channel
        .as_ref()
        .map(|c| c.id.clone())
        .context("The incident has no channel")?;
    let markdown: String = sqlx::query_scalar(
        "SELECT markdown FROM postmortems WHERE team_id = $1 AND incident_id = $2 AND version = $3",
    )
    .bind(incident.team.to_string())
    .bind(incident.id)
    .bind(version)
    .fetch_one(app.store.pool())
    .await
    .context("Failed to load a draft")?;
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
    if progress.get::<bool>("creating") == Some(true)
        && app.slack.find_canvas(&channel, &title).await?.is_some()
    {
        tracing::info!("The canvas was already created by an attempt whose answer was lost");
        return Ok(());
    }
    progress.set("creating", &true).await?;
    app.slack.create_canvas(&channel, &title, &markdown).await?;
    Ok(())
}

/// The message that goes with the draft: what is prefilled and what is left for people.
fn summary(d: &Draft, version: i64) -> String {
    let weak = d.actions.iter().filter(|a| !a.flags.is_empty()).count();
    let mut s = format!(
        ":memo: *Post-mortem draft v{version}* for incident #{}. Prefilled from the record: key times, {} and their roles, a timeline of {}, {}, {}, {}{}, and the full channel log.",
        d.number,
        counted(d.participants.len(), "person", "people"),
        counted(d.timeline.len(), "entry", "entries"),
        plural(d.fixes.len(), "fix attempt"),
        plural(d.links.len(), "link"),
        plural(d.actions.len(), "action item"),
        if weak > 0 { format!(" ({weak} flagged as vague or missing an owner or due date)") } else { String::new() }
    );
    s.push_str(" Left for you: the executive summary, impact per stakeholder, contributing factors (five whys), mitigating factors and lessons learned.");
    if d.times.mitigated.is_none() {
        s.push_str(" No fix was marked as having worked, so the mitigation time is blank.");
    }
    s
}
