//! The follow-up calendar: a per-workspace iCalendar feed at `/calendar/<secret>.ics` with one
//! monthly follow-up per post-mortem that has action items, starting 30 days after resolution,
//! and cancelled once every item is done or won't be done.

use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Duration, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use sqlx::AnyConnection;

use super::sessions::new_secret;
use super::{PageError, Web};
use crate::domain::TeamId;
use crate::store::from_millis;

/// The first follow-up comes this long after resolution, then monthly.
pub const FIRST_FOLLOW_UP: Duration = Duration::days(30);

/// A resolved incident with action items.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub number: i64,
    pub title: Option<String>,
    pub resolved_at: DateTime<Utc>,
    pub open_items: i64,
}

/// The feed: one event per follow-up, linking to the incident page at `base`.
pub fn feed(team: &TeamId, followups: &[FollowUp], base: &str, now: DateTime<Utc>) -> String {
    let mut calendar = Calendar::new();
    calendar.name("hereby follow-ups");
    for f in followups {
        let start = f.resolved_at + FIRST_FOLLOW_UP;
        let title = f.title.as_deref().unwrap_or("untitled");
        let url = format!("{}/incidents/{}", base.trim_end_matches('/'), f.number);
        let status = if f.open_items > 0 {
            EventStatus::Confirmed
        } else {
            EventStatus::Cancelled
        };
        calendar.push(
            Event::new()
                .uid(&format!("hereby-followup-{team}-{}", f.number))
                .timestamp(now)
                .summary(&format!("Follow-up: incident #{} {title}", f.number))
                .description(&format!("{} open action items. {url}", f.open_items))
                .url(&url)
                .starts(start)
                .ends(start + Duration::minutes(30))
                .add_property("RRULE", monthly(start))
                .status(status)
                .done(),
        );
    }
    calendar.done().to_string()
}

/// Every month on the day of `start`; from the 29th on, on the month's last day where the
/// month is shorter (a plain monthly rule skips the months without that day).
fn monthly(start: DateTime<Utc>) -> String {
    match start.day() {
        day @ 29.. => format!("FREQ=MONTHLY;BYMONTHDAY={day},-1;BYSETPOS=1"),
        _ => "FREQ=MONTHLY".to_string(),
    }
}

/// The workspace's feed secret, made on first use.
pub async fn feed_secret(conn: &mut AnyConnection, team: &TeamId) -> anyhow::Result<String> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT secret FROM web_calendars WHERE team_id = $1")
            .bind(team.to_string())
            .fetch_optional(&mut *conn)
            .await
            .context("Failed to read the calendar feed")?;
    if let Some(secret) = existing {
        return Ok(secret);
    }
    sqlx::query("INSERT INTO web_calendars (team_id, secret) VALUES ($1, $2) ON CONFLICT (team_id) DO NOTHING")
        .bind(team.to_string())
        .bind(new_secret())
        .execute(&mut *conn)
        .await
        .context("Failed to make a calendar feed")?;
    sqlx::query_scalar("SELECT secret FROM web_calendars WHERE team_id = $1")
        .bind(team.to_string())
        .fetch_one(conn)
        .await
        .context("Failed to read the calendar feed")
}

/// A resolved incident's row for the feed, with its counts of action items.
#[derive(sqlx::FromRow)]
struct FollowUpRow {
    number: i64,
    title: Option<String>,
    resolved_at: i64,
    items: i64,
    open_items: i64,
}

async fn followups(conn: &mut AnyConnection, team: &TeamId) -> anyhow::Result<Vec<FollowUp>> {
    let rows: Vec<FollowUpRow> = sqlx::query_as(
        "SELECT i.number,
            -- A feed anyone with its link can read names no private incident.
            CASE WHEN i.private <> 0 THEN '(private)' ELSE i.title END AS title, i.resolved_at,
            (SELECT COUNT(*) FROM action_items a WHERE a.team_id = i.team_id AND a.incident_id = i.id) AS items,
            (SELECT COUNT(*) FROM action_items a
              WHERE a.team_id = i.team_id AND a.incident_id = i.id AND a.status = 'open') AS open_items
         FROM incidents i WHERE i.team_id = $1 AND i.resolved_at IS NOT NULL ORDER BY i.number",
    )
    .bind(team.to_string())
    .fetch_all(conn)
    .await
    .context("Failed to load follow-ups")?;
    Ok(rows
        .into_iter()
        .filter(|r| r.items > 0)
        .map(|r| FollowUp {
            number: r.number,
            title: r.title,
            resolved_at: from_millis(r.resolved_at),
            open_items: r.open_items,
        })
        .collect())
}

/// `/calendar/<secret>.ics`: the feed of the workspace the secret belongs to.
#[tracing::instrument(name = "Serving the follow-up calendar", skip_all)]
pub async fn ics(
    State(web): State<Web>,
    Path(file): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    let secret = file.strip_suffix(".ics").ok_or(PageError::NotFound)?;
    let mut conn = web.app.store.conn().await?;
    let team: Option<String> =
        sqlx::query_scalar("SELECT team_id FROM web_calendars WHERE secret = $1")
            .bind(secret.to_string())
            .fetch_optional(&mut *conn)
            .await
            .context("Failed to look up a calendar feed")?;
    let team = match team {
        Some(t) => TeamId::new(t),
        None => return Err(PageError::NotFound),
    };
    let body = feed(
        &team,
        &followups(&mut conn, &team).await?,
        &super::base_url(&web, &headers),
        Utc::now(),
    );
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn followup(number: i64, open_items: i64) -> FollowUp {
        FollowUp {
            number,
            title: Some("DB down".into()),
            resolved_at: Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap(),
            open_items,
        }
    }

    #[test]
    fn a_post_mortem_with_open_items_repeats_monthly_from_thirty_days_after_resolution() {
        let ics = feed(
            &TeamId::new("T1"),
            &[followup(7, 2)],
            "https://h.example",
            Utc::now(),
        );
        assert!(ics.contains("BEGIN:VEVENT"), "{ics}");
        assert!(ics.contains("DTSTART:20261201T100000Z"), "{ics}");
        assert!(ics.contains("RRULE:FREQ=MONTHLY"));
        assert!(ics.contains("STATUS:CONFIRMED"));
        assert!(ics.contains("UID:hereby-followup-T1-7"));
        assert!(ics.contains("https://h.example/incidents/7"));
    }

    #[test]
    fn a_follow_up_that_starts_late_in_a_month_comes_in_the_shorter_months_too() {
        let late = FollowUp {
            resolved_at: Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap(),
            ..followup(8, 1)
        };
        let ics = feed(&TeamId::new("T1"), &[late], "https://h.example", Utc::now());
        assert!(ics.contains("DTSTART:20260131T100000Z"), "{ics}");
        assert!(
            ics.contains("RRULE:FREQ=MONTHLY;BYMONTHDAY=31,-1;BYSETPOS=1"),
            "{ics}"
        );
    }

    #[test]
    fn a_post_mortem_whose_items_are_all_closed_is_cancelled() {
        let ics = feed(
            &TeamId::new("T1"),
            &[followup(7, 0)],
            "https://h.example",
            Utc::now(),
        );
        assert!(ics.contains("STATUS:CANCELLED"), "{ics}");
    }
}
