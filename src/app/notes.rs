//! What responders record by hand: fix attempts and their outcomes, notes from calls and
//! meetings, and documentation that got in the way.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::effect::{queue_for_change, Effect};
use crate::domain::actions::{self, ActionStatus, NewAction};
use crate::domain::fixes::Outcome;
use crate::domain::links;
use crate::domain::timeline::TimelineEntry;
use crate::domain::UserId;
use crate::slack::views;
use crate::store::incidents::{self, Incident};
use crate::store::{fixes, postmortems, record};

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
        views::escape(&fix.description),
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

/// What a hand-written note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// `/incident note`: something said outside the chat.
    Note,
    /// `/incident docs`: documentation that got in the way.
    Docs,
}

/// `/incident note` and `/incident docs`: a timeline entry, said in the channel.
pub async fn note(
    conn: &mut AnyConnection,
    incident: &Incident,
    kind: NoteKind,
    text: &str,
    by: &UserId,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let entry = match kind {
        NoteKind::Note => TimelineEntry::Note { text: text.into() },
        NoteKind::Docs => TimelineEntry::Docs { text: text.into() },
    };
    incidents::add_timeline(conn, &incident.team, incident.id, &entry, Some(by), now).await?;
    links_in(conn, incident, text, by, now).await?;
    let (notice, reply) = match kind {
        NoteKind::Docs => (
            format!(
                ":books: <@{by}> noted documentation trouble: {}",
                crate::domain::mrkdwn::safe(text)
            ),
            "Noted for the post-mortem's documentation section.",
        ),
        NoteKind::Note => (
            format!(
                ":memo: Note from <@{by}>: {}",
                crate::domain::mrkdwn::safe(text)
            ),
            "Noted in the timeline.",
        ),
    };
    queue_for_change(conn, incident, &[Effect::Notice { text: notice }], now).await?;
    Ok(reply.to_string())
}

/// `/incident action <text> [@owner] [due …]`.
pub async fn add_action(
    conn: &mut AnyConnection,
    incident: &Incident,
    new: &NewAction,
    by: &UserId,
    now: DateTime<Utc>,
    followup_interval: chrono::Duration,
) -> anyhow::Result<String> {
    let a = postmortems::add_action(conn, &incident.team, incident.id, new, by, now).await?;
    let entry = TimelineEntry::ActionAdded {
        number: a.number,
        text: a.text.clone(),
        owner: a.owner.clone(),
        due: a.due,
    };
    incidents::add_timeline(conn, &incident.team, incident.id, &entry, Some(by), now).await?;
    if !incident.status.is_open() {
        // Added after resolution: the follow-up reviews carry it too.
        postmortems::schedule_followup(conn, &incident.team, incident.id, now + followup_interval)
            .await?;
    }
    let owner = a
        .owner
        .as_ref()
        .map(|o| format!(" for <@{o}>"))
        .unwrap_or_default();
    let due = a.due.map(|d| format!(", due {d}")).unwrap_or_default();
    let notice = format!(
        ":dart: <@{by}> added action item #{}{owner}{due}: {}",
        a.number,
        views::escape(&a.text)
    );
    queue_for_change(conn, incident, &[Effect::Notice { text: notice }], now).await?;
    let flags = actions::flags(&a.text, a.owner.as_ref(), a.due, now.date_naive());
    let advice = if flags.is_empty() {
        String::new()
    } else {
        format!(" To make it count: {}.", flags.join("; "))
    };
    Ok(format!("Added action item #{}.{advice}", a.number))
}

/// `/incident action done|wontfix <n>`.
pub async fn close_action(
    conn: &mut AnyConnection,
    incident: &Incident,
    number: i64,
    status: ActionStatus,
    by: &UserId,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let Some(a) =
        postmortems::close_action(conn, &incident.team, incident.id, number, status, now).await?
    else {
        return Ok(format!(
            "There is no action item #{number}; `/incident actions` lists them."
        ));
    };
    let entry = TimelineEntry::ActionClosed {
        number,
        status,
        text: Some(a.text.clone()),
    };
    incidents::add_timeline(conn, &incident.team, incident.id, &entry, Some(by), now).await?;
    let open = postmortems::actions(conn, &incident.team, incident.id)
        .await?
        .iter()
        .filter(|a| a.status.is_open())
        .count();
    if open == 0 {
        postmortems::end_followups(conn, &incident.team, incident.id).await?;
    }
    let notice = format!(
        ":white_check_mark: <@{by}> closed action item #{number} as {}: {}",
        status.as_str(),
        views::escape(&a.text)
    );
    queue_for_change(conn, incident, &[Effect::Notice { text: notice }], now).await?;
    Ok(match open {
        0 => format!("Action item #{number} is {}. Every action item is closed: no more follow-up reminders.", status.as_str()),
        n => format!("Action item #{number} is {}. {n} still open.", status.as_str()),
    })
}

async fn links_in(
    conn: &mut AnyConnection,
    incident: &Incident,
    text: &str,
    by: &UserId,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    for link in links::extract(text, None, None) {
        record::add_link(
            conn,
            &incident.team,
            incident.id,
            &link,
            Some(by),
            now,
            None,
        )
        .await?;
    }
    Ok(())
}
