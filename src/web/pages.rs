//! The pages a signed-in member sees: the incidents list, an incident with its timeline,
//! record and drafts, and the draft's Markdown. Each shows only the viewer's workspace.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::context;
use serde::Serialize;

use super::queries::{self, Filter};
use super::sessions::Viewer;
use super::{markdown, page, timeline, PageError, Web};
use crate::domain::incident::{Severity, Status};
use crate::domain::postmortem::build;
use crate::store::incidents::Incident;
use crate::store::postmortems;

fn time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// "3 d 4 h", "2 h 5 min", "12 min", "40 s".
pub fn duration(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    let (days, hours, mins) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[derive(Serialize)]
struct Row {
    number: i64,
    title: String,
    status: String,
    severity: String,
    commander: String,
    declared: String,
    duration: String,
    open_actions: i64,
}

/// `/`: the workspace's incidents, newest first, filtered by status and severity.
#[tracing::instrument(name = "Showing the incidents list", skip_all, fields(team = %viewer.team))]
pub async fn list(
    State(web): State<Web>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    let filter = Filter {
        status: q.get("status").and_then(|s| Status::parse(s)),
        severity: q.get("severity").and_then(|s| Severity::parse(s)),
        page: q
            .get("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1)
            .max(1),
    };
    let tz = web.app.settings.timezone;
    let mut conn = web.app.store.conn().await?;
    let (incidents, more) = visible_page(&web, &mut conn, &viewer, &filter).await?;
    let calendar = format!(
        "{}/calendar/{}.ics",
        super::base_url(&web, &headers),
        super::calendar::feed_secret(&mut conn, &viewer.team).await?
    );
    let now = Utc::now();
    let rows: Vec<Row> = incidents
        .into_iter()
        .map(|i| Row {
            number: i.number,
            title: i.title.unwrap_or_else(|| "(untitled)".into()),
            status: i.status,
            severity: i.severity.unwrap_or_default(),
            commander: i.commander.unwrap_or_default(),
            declared: time(i.declared_at, tz),
            duration: duration(i.resolved_at.unwrap_or(now) - i.declared_at),
            open_actions: i.open_actions,
        })
        .collect();
    let link = |page: i64| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if let Some(st) = filter.status {
            s.append_pair("status", st.as_str());
        }
        if let Some(sev) = filter.severity {
            s.append_pair("severity", sev.as_str());
        }
        s.append_pair("page", &page.to_string());
        format!("/?{}", s.finish())
    };
    page(
        "list.html",
        context! {
            viewer => queries::viewer_name(&mut conn, &viewer).await?,
            rows,
            statuses => Status::ALL.map(Status::as_str),
            severities => Severity::ALL.map(Severity::as_str),
            status => filter.status.map(Status::as_str).unwrap_or(""),
            severity => filter.severity.map(Severity::as_str).unwrap_or(""),
            page => filter.page,
            previous => (filter.page > 1).then(|| link(filter.page - 1)),
            next => more.then(|| link(filter.page + 1)),
            calendar,
        },
    )
}

/// The page of incidents the viewer may see, and whether they may see more. Pages count only
/// what the viewer sees: a private incident outside their channels takes no place on a page,
/// so no page comes up short, or empty with older ones behind it.
async fn visible_page(
    web: &Web,
    conn: &mut sqlx::AnyConnection,
    viewer: &Viewer,
    filter: &Filter,
) -> anyhow::Result<(Vec<queries::Listed>, bool)> {
    let size = queries::PAGE_SIZE as usize;
    let mut skip = (filter.page.max(1) as usize - 1) * size;
    let mut page = Vec::with_capacity(size + 1);
    let mut below = None;
    // One more than a page, to know whether an older page has anything to show.
    while page.len() <= size {
        let chunk =
            queries::list(conn, &viewer.team, filter, below, queries::PAGE_SIZE + 1).await?;
        let exhausted = (chunk.len() as i64) <= queries::PAGE_SIZE;
        below = chunk.last().map(|i| i.number);
        for i in chunk {
            if page.len() > size {
                break;
            }
            let visible = match &i.private_channel {
                None => true,
                Some(channel) => member_of(web, channel, viewer).await,
            };
            if !visible {
                continue;
            }
            if skip > 0 {
                skip -= 1;
            } else {
                page.push(i);
            }
        }
        if exhausted {
            break;
        }
    }
    let more = page.len() > size;
    page.truncate(size);
    Ok((page, more))
}

/// The incident numbered `number` in the viewer's workspace, if they may see it: a private
/// incident only by its channel's members, as Slack says now.
pub(super) async fn find(web: &Web, viewer: &Viewer, number: &str) -> Result<Incident, PageError> {
    let number: i64 = number.parse().map_err(|_| PageError::NotFound)?;
    let mut conn = web.app.store.conn().await?;
    let incident = queries::by_number(&mut conn, &viewer.team, number)
        .await?
        .ok_or(PageError::NotFound)?;
    drop(conn);
    if incident.private {
        let channel = incident
            .channel
            .as_ref()
            .map(|c| c.id.to_string())
            .unwrap_or_default();
        if !member_of(web, &channel, viewer).await {
            return Err(PageError::NotFound);
        }
    }
    Ok(incident)
}

/// Whether the viewer is in a private incident's channel; no channel, or no answer from
/// Slack, counts as no.
async fn member_of(web: &Web, channel: &str, viewer: &Viewer) -> bool {
    if channel.is_empty() {
        return false;
    }
    let channel = crate::domain::ChannelId::new(channel);
    match web.app.slack.is_member(&channel, &viewer.user).await {
        Ok(member) => member,
        Err(e) => {
            tracing::warn!(error = %e, "Could not check who may see a private incident");
            false
        }
    }
}

#[derive(Serialize)]
struct MarkerView {
    n: usize,
    at: String,
    kind: &'static str,
    label: String,
}

#[derive(Serialize)]
struct VersionView {
    version: i64,
    created: String,
}

#[derive(Serialize)]
struct LogView {
    at: String,
    author: String,
    text: String,
    deleted: bool,
    reply: bool,
    edited: bool,
    highlighted: bool,
    files: Vec<String>,
}

/// `/incidents/<number>`: key times, the SVG timeline, the record and every draft version.
#[tracing::instrument(name = "Showing an incident", skip_all, fields(team = %viewer.team, number = %number))]
pub async fn incident(
    State(web): State<Web>,
    viewer: Viewer,
    Path(number): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let incident = find(&web, &viewer, &number).await?;
    let tz = web.app.settings.timezone;
    let now = Utc::now();
    let mut conn = web.app.store.conn().await?;
    // The channel log is paged below; the record keeps the first message (for when the
    // incident started) and the highlights.
    let record = postmortems::load_record_without_log(&mut conn, &incident).await?;
    let draft = build(&record, tz, now.with_timezone(&tz).date_naive());
    let (bands, markers) = timeline::layout(&record, incident.resolved_at.unwrap_or(now));
    let svg = timeline::render(&bands, &markers, &tz);
    let markers: Vec<MarkerView> = markers
        .into_iter()
        .enumerate()
        .map(|(i, m)| MarkerView {
            n: i + 1,
            at: time(m.at, tz),
            kind: m.kind,
            label: m.label,
        })
        .collect();
    let versions: Vec<VersionView> = queries::versions(&mut conn, &incident)
        .await?
        .into_iter()
        .map(|v| VersionView {
            version: v.version,
            created: time(v.created_at, tz),
        })
        .collect();
    let log_page: i64 = q
        .get("log")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let (lines, total) = queries::log_page(&mut conn, &incident, &record.names, log_page).await?;
    let log: Vec<LogView> = lines
        .into_iter()
        .map(|l| LogView {
            at: time(l.at, tz),
            author: l.author,
            deleted: l.text.is_none(),
            text: crate::domain::mrkdwn::to_plain(&l.text.unwrap_or_default(), &record.names),
            reply: l.reply,
            edited: l.edited,
            highlighted: l.highlighted,
            files: l.files,
        })
        .collect();
    let pages = (total + queries::LOG_PAGE_SIZE - 1) / queries::LOG_PAGE_SIZE;
    let links: Vec<_> = draft
        .links
        .iter()
        .map(|l| {
            let lower = l.url.to_ascii_lowercase();
            let web_link = lower.starts_with("https://") || lower.starts_with("http://");
            context! { url => l.url, label => l.label, by => l.by, at => l.at, mentions => l.mentions, web_link }
        })
        .collect();
    page(
        "incident.html",
        context! {
            viewer => queries::viewer_name(&mut conn, &viewer).await?,
            number => incident.number,
            title => incident.title.as_ref().map(|t| t.as_str()).unwrap_or("(untitled)"),
            status => incident.status.as_str(),
            severity => incident.severity.map(Severity::as_str).unwrap_or(""),
            channel => incident.channel.as_ref().map(|c| c.name.clone()),
            draft,
            svg,
            markers,
            links,
            versions,
            log,
            log_total => total,
            log_page,
            log_previous => (log_page > 1).then(|| log_page - 1),
            log_next => (log_page < pages).then(|| log_page + 1),
        },
    )
}

/// `/incidents/<number>/drafts/<version>`: one stored version of the draft, as HTML.
#[tracing::instrument(name = "Showing a draft version", skip_all, fields(team = %viewer.team, number = %number))]
pub async fn draft_version(
    State(web): State<Web>,
    viewer: Viewer,
    Path((number, version)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let incident = find(&web, &viewer, &number).await?;
    let version: i64 = version.parse().map_err(|_| PageError::NotFound)?;
    let mut conn = web.app.store.conn().await?;
    let versions = queries::versions(&mut conn, &incident).await?;
    let newest = versions.first().map(|v| v.version);
    let shown = versions
        .into_iter()
        .find(|v| v.version == version)
        .ok_or(PageError::NotFound)?;
    page(
        "draft.html",
        context! {
            viewer => queries::viewer_name(&mut conn, &viewer).await?,
            number => incident.number,
            title => incident.title.as_ref().map(|t| t.as_str()).unwrap_or("(untitled)"),
            version,
            newest,
            created => time(shown.created_at, web.app.settings.timezone),
            html => markdown::to_html(&shown.markdown),
        },
    )
}

/// `/incidents/<number>/postmortem.md`: the latest draft version (or `?version=N`), or the
/// draft as the record stands when none is stored yet.
#[tracing::instrument(name = "Downloading a draft", skip_all, fields(team = %viewer.team, number = %number))]
pub async fn postmortem_markdown(
    State(web): State<Web>,
    viewer: Viewer,
    Path(number): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let incident = find(&web, &viewer, &number).await?;
    let mut conn = web.app.store.conn().await?;
    let versions = queries::versions(&mut conn, &incident).await?;
    let wanted = q.get("version").and_then(|v| v.parse::<i64>().ok());
    let markdown = match (wanted, versions.first()) {
        (Some(n), _) => {
            versions
                .into_iter()
                .find(|v| v.version == n)
                .ok_or(PageError::NotFound)?
                .markdown
        }
        (None, Some(latest)) => latest.markdown.clone(),
        (None, None) => {
            let s = &web.app.settings;
            crate::app::postmortem::current_draft(
                &mut conn,
                &incident,
                s.timezone,
                &s.postmortem_template,
                Utc::now(),
            )
            .await?
            .1
        }
    };
    let disposition = format!(
        "inline; filename=\"incident-{}-postmortem.md\"",
        incident.number
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        markdown,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_the_way_people_say_them() {
        assert_eq!(duration(chrono::Duration::seconds(40)), "40 s");
        assert_eq!(duration(chrono::Duration::minutes(12)), "12 min");
        assert_eq!(duration(chrono::Duration::minutes(125)), "2 h 5 min");
        assert_eq!(duration(chrono::Duration::hours(76)), "3 d 4 h");
    }
}
