//! `/insights`: the workspace's incidents over the last twelve months, as server-drawn SVG.

use anyhow::Context;
use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, Utc};
use minijinja::context;
use sqlx::AnyConnection;

use super::charts::{self, IncidentFact, OpenItem, AGES, SEVERITIES};
use super::sessions::Viewer;
use super::{page, queries, PageError, Web};
use crate::domain::TeamId;
use crate::store::{from_millis, to_millis};

/// Months the insights cover.
const MONTHS: usize = 12;

/// An incident's row for the insights.
#[derive(sqlx::FromRow)]
struct FactRow {
    severity: Option<String>,
    declared_at: i64,
    resolved_at: Option<i64>,
    mitigated_at: Option<i64>,
}

/// An open action item's row for the insights.
#[derive(sqlx::FromRow)]
struct OpenItemRow {
    owner: Option<String>,
    created_at: i64,
}

async fn facts(
    conn: &mut AnyConnection,
    team: &TeamId,
    since: chrono::DateTime<Utc>,
) -> anyhow::Result<Vec<IncidentFact>> {
    let rows: Vec<FactRow> = sqlx::query_as(
        "SELECT i.severity, i.declared_at, i.resolved_at,
            (SELECT MIN(f.outcome_at) FROM fix_attempts f
              WHERE f.team_id = i.team_id AND f.incident_id = i.id AND f.outcome = 'worked') AS mitigated_at
         FROM incidents i WHERE i.team_id = $1 AND i.declared_at >= $2",
    )
    .bind(team.to_string())
    .bind(to_millis(since))
    .fetch_all(conn)
    .await
    .context("Failed to load incidents for the insights")?;
    Ok(rows
        .into_iter()
        .map(|r| IncidentFact {
            declared: from_millis(r.declared_at),
            severity: r.severity,
            mitigated: r.mitigated_at.map(from_millis),
            resolved: r.resolved_at.map(from_millis),
        })
        .collect())
}

async fn open_items(conn: &mut AnyConnection, team: &TeamId) -> anyhow::Result<Vec<OpenItem>> {
    let rows: Vec<OpenItemRow> = sqlx::query_as(
        "SELECT owner, created_at FROM action_items WHERE team_id = $1 AND status = 'open'",
    )
    .bind(team.to_string())
    .fetch_all(&mut *conn)
    .await
    .context("Failed to load open action items")?;
    let names = queries::names(conn, team).await?;
    Ok(rows
        .into_iter()
        .map(|r| OpenItem {
            owner: r.owner.map(|o| names.get(&o).cloned().unwrap_or(o)),
            created: from_millis(r.created_at),
        })
        .collect())
}

fn hours(v: Option<(f64, f64)>) -> String {
    match v {
        Some((median, p90)) => format!("{:.1} h / {:.1} h", median / 60.0, p90 / 60.0),
        None => "–".into(),
    }
}

/// `/insights`: incidents per month by severity, time to mitigate and to resolve, and the
/// open action items by age and owner.
#[tracing::instrument(name = "Showing the insights", skip_all, fields(team = %viewer.team))]
pub async fn insights(State(web): State<Web>, viewer: Viewer) -> Result<Response, PageError> {
    let tz = web.app.settings.timezone;
    let now = Utc::now();
    let months = charts::months(now, tz, MONTHS);
    let labels: Vec<String> = months.iter().map(|(y, m)| format!("{y}-{m:02}")).collect();
    let mut conn = web.app.store.conn().await?;
    let facts = facts(
        &mut conn,
        &viewer.team,
        now - Duration::days(31 * MONTHS as i64),
    )
    .await?;
    let counts = charts::per_month(&facts, &months, tz);
    let mitigate = charts::durations(&facts, &months, tz, |f| f.mitigated);
    let resolve = charts::durations(&facts, &months, tz, |f| f.resolved);
    let aging = charts::aging(&open_items(&mut conn, &viewer.team).await?, now);
    let table = |series: &Vec<Vec<Option<(f64, f64)>>>| -> Vec<Vec<String>> {
        series
            .iter()
            .map(|months| months.iter().map(|v| hours(*v)).collect())
            .collect()
    };
    page(
        "insights.html",
        context! {
            viewer => queries::viewer_name(&mut conn, &viewer).await?,
            labels => labels.clone(),
            severities => SEVERITIES,
            ages => AGES,
            // The months charted, not every incident loaded to fill them.
            total => counts.iter().flatten().sum::<usize>(),
            counts => counts.clone(),
            per_month_svg => charts::bars_svg(&labels, &counts),
            mitigate_svg => charts::lines_svg("Time to mitigate", &labels, &mitigate),
            mitigate_table => table(&mitigate),
            resolve_svg => charts::lines_svg("Time to resolve", &labels, &resolve),
            resolve_table => table(&resolve),
            aging_svg => charts::aging_svg(&aging),
            aging,
        },
    )
}
