//! Fix attempts recorded by hand: `/incident tried` and the outcome buttons it posts.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::effect::{queue_for_change, Effect};
use super::notes::links_in;
use crate::domain::fixes::Outcome;
use crate::domain::mrkdwn::typed;
use crate::domain::timeline::TimelineEntry;
use crate::domain::UserId;
use crate::store::fixes;
use crate::store::incidents::{self, Incident};

/// `/incident tried`: records the attempt and posts it with outcome buttons.
pub async fn tried(
    conn: &mut AnyConnection,
    incident: &Incident,
    what: &str,
    outcome: Option<Outcome>,
    by: &UserId,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let outcome = outcome.unwrap_or(Outcome::Unknown);
    let fix = fixes::add_fix(conn, &incident.team, incident.id, what, outcome, by, now).await?;
    let entry = TimelineEntry::FixTried {
        number: fix.number,
        what: what.to_string(),
        outcome,
        message_ts: None,
    };
    incidents::add_timeline(conn, &incident.team, incident.id, &entry, Some(by), now).await?;
    links_in(conn, incident, what, by, now).await?;
    queue_for_change(
        conn,
        incident,
        &[Effect::PostFix { number: fix.number }],
        now,
    )
    .await?;
    Ok(format!(
        "Recorded fix #{} ({}). Set or change its outcome with the buttons in the channel.",
        fix.number,
        outcome.as_str()
    ))
}

/// A fix attempt's outcome set or changed (the buttons).
pub async fn outcome(
    conn: &mut AnyConnection,
    incident: &Incident,
    number: i64,
    outcome: Outcome,
    by: &UserId,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<String>> {
    let Some(fix) =
        fixes::set_fix_outcome(conn, &incident.team, incident.id, number, outcome, by, now).await?
    else {
        return Ok(None);
    };
    let entry = TimelineEntry::FixOutcome {
        number,
        what: fix.description.clone(),
        outcome,
    };
    incidents::add_timeline(conn, &incident.team, incident.id, &entry, Some(by), now).await?;
    let text = format!(
        "{} <@{by}> marked fix #{number} ({}) as *{}*.",
        outcome.emoji(),
        typed(&fix.description),
        outcome.as_str()
    );
    queue_for_change(
        conn,
        incident,
        &[Effect::Notice { text: text.clone() }],
        now,
    )
    .await?;
    Ok(Some(text))
}
