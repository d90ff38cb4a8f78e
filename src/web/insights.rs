//! `/insights`: the workspace's incidents over the last twelve months, as server-drawn SVG.

use anyhow::Context;
use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, Utc};
use minijinja::context;
use sqlx::{AnyConnection, Row};

use super::charts::{self, IncidentFact, OpenItem, AGES, SEVERITIES};
use super::sessions::Viewer;
use super::{page, queries, PageError, Web};
use crate::domain::TeamId;
use crate::store::{from_millis, opt_text, to_millis};

/// Months the insights cover.
const MONTHS: usize = 12;

async fn facts(
    conn: &mut AnyConnection,
    team: &TeamId,
    since: chrono::DateTime<Utc>,
) -> anyhow::Result<Vec<IncidentFact>> {
    let rows = sqlx::query(
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
    rows.iter()
        .map(|r| {
            Ok(IncidentFact {
                declared: from_millis(r.try_get("declared_at")?),
                severity: opt_text(r, "severity")?,
                mitigated: r
                    .try_get::<Option<i64>, _>("mitigated_at")?
                    .map(from_millis),
                resolved: r.try_get::<Option<i64>, _>("resolved_at")?.map(from_millis),
            })
        })
        .collect()
}

async fn open_items(conn: &mut AnyConnection, team: &TeamId) -> anyhow::Result<Vec<OpenItem>> {
    let rows = sqlx::query(
        "SELECT owner, created_at FROM action_items WHERE team_id = $1 AND status = 'open'",
    )
    .bind(team.to_string())
    .fetch_all(&mut *conn)
    .await
    .context("Failed to load open action items")?;
    let names = queries::names(conn, team).await?;
    rows.iter()
        .map(|r| {
            Ok(OpenItem {
                owner: opt_text(r, "owner")?.map(|o| names.get(&o).cloned().unwrap_or(o)),
                created: from_millis(r.try_get("created_at")?),
            })
        })
        .collect()
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
            total => facts.len(),
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
