//! Fix attempts recorded without a command: a reaction (🔧 by default) on a message records it
//! as a fix attempt by its author, at its time; ✅ or ❌ on it set the outcome, and taking
//! that reaction away unsets it. Runs inside the delivery's transaction.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use crate::domain::fixes::{FixReaction, Outcome};
use crate::domain::mrkdwn;
use crate::domain::timeline::TimelineEntry;
use crate::domain::UserId;
use crate::store::fixes;
use crate::store::incidents::{self, Incident};

/// How much of a message becomes the fix attempt's description.
const DESCRIPTION_CHARS: usize = 200;

/// Applies a fix reaction added to (or removed from) the message `ts` by `user`.
#[tracing::instrument(name = "Recording a fix reaction", skip(conn, incident), fields(incident = incident.id))]
pub async fn apply(
    conn: &mut AnyConnection,
    incident: &Incident,
    ts: &str,
    user: &UserId,
    meaning: FixReaction,
    added: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<&'static str> {
    match (meaning, added) {
        (FixReaction::Tried, true) => tried(conn, incident, ts, user).await,
        // The attempt happened; taking the reaction away does not unmake it.
        (FixReaction::Tried, false) => Ok("fix reaction removed (the attempt stays)"),
        (FixReaction::Outcome(outcome), added) => {
            outcome_changed(conn, incident, ts, user, outcome, added, now).await
        }
    }
}

async fn tried(
    conn: &mut AnyConnection,
    incident: &Incident,
    ts: &str,
    reacted_by: &UserId,
) -> anyhow::Result<&'static str> {
    let Some(message) = fixes::message(conn, &incident.team, incident.id, ts).await? else {
        return Ok("fix reaction on a message that is not recorded");
    };
    // An app's post has no author to credit: the person who reacted recorded it.
    let by = message.user.clone().unwrap_or_else(|| reacted_by.clone());
    // Kept as a command's text is: Slack's escapes undone, its mentions and links as sent.
    let what = crate::domain::trigger::unescape_mrkdwn(&mrkdwn::first_line(
        &message.text,
        DESCRIPTION_CHARS,
    ));
    let Some(fix) = fixes::add_fix_from_message(
        conn,
        &incident.team,
        incident.id,
        ts,
        &what,
        &by,
        message.posted_at,
    )
    .await?
    else {
        return Ok("fix reaction on a message already recorded as a fix");
    };
    let entry = TimelineEntry::FixTried {
        number: fix.number,
        what,
        outcome: Outcome::Unknown,
        message_ts: Some(ts.to_string()),
    };
    incidents::add_timeline(
        conn,
        &incident.team,
        incident.id,
        &entry,
        Some(&by),
        message.posted_at,
    )
    .await?;
    Ok("fix attempt (reaction)")
}

async fn outcome_changed(
    conn: &mut AnyConnection,
    incident: &Incident,
    ts: &str,
    by: &UserId,
    outcome: Outcome,
    added: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<&'static str> {
    let Some(fix) = fixes::fix_by_message(conn, &incident.team, incident.id, ts).await? else {
        return Ok("outcome reaction on a message that is not a fix attempt");
    };
    let new = match (added, fix.outcome == outcome) {
        (true, true) => return Ok("outcome reaction (no change)"),
        (true, false) => outcome,
        (false, true) => Outcome::Unknown,
        // Another outcome was set since: removing this one changes nothing.
        (false, false) => return Ok("outcome reaction removed (no change)"),
    };
    fixes::set_fix_outcome(conn, &incident.team, incident.id, fix.number, new, by, now).await?;
    let entry = TimelineEntry::FixOutcome {
        number: fix.number,
        what: fix.description,
        outcome: new,
    };
    incidents::add_timeline(conn, &incident.team, incident.id, &entry, Some(by), now).await?;
    Ok(if added {
        "fix outcome (reaction)"
    } else {
        "fix outcome unset (reaction)"
    })
}
