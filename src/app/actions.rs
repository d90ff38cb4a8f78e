//! Action items: added during or after an incident, closed with an outcome, and the
//! follow-up reviews they schedule.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AnyConnection;

use super::effect::{queue_for_change, Effect};
use crate::domain::actions::{self, ActionStatus, NewAction};
use crate::domain::mrkdwn::typed;
use crate::domain::timeline::TimelineEntry;
use crate::domain::UserId;
use crate::store::incidents::{self, Incident};
use crate::store::postmortems::{self, ItemUpdate};

/// `/incident action <text> [@owner] [due …]`; `today` is the team's date (`HEREBY_TIMEZONE`),
/// against which a due date is past.
pub async fn add_action(
    conn: &mut AnyConnection,
    incident: &Incident,
    new: &NewAction,
    by: &UserId,
    now: DateTime<Utc>,
    today: NaiveDate,
    followup_interval: chrono::Duration,
) -> anyhow::Result<String> {
    let a = postmortems::add_action(conn, &incident.team, incident.id, new, by, now, today).await?;
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
        typed(&a.text)
    );
    queue_for_change(conn, incident, &[Effect::Notice { text: notice }], now).await?;
    let flags = actions::flags(&a.text, a.owner.as_ref(), a.due, today);
    let advice = if flags.is_empty() {
        String::new()
    } else {
        format!(" To make it count: {}.", flags.join("; "))
    };
    Ok(format!("Added action item #{}.{advice}", a.number))
}

/// The answer when the number names no item.
fn no_such_item(number: i64) -> String {
    format!("There is no action item #{number}; `/incident actions` lists them.")
}

/// `/incident action done|wontfix <n>`, or a button on a follow-up reminder.
pub async fn close_action(
    conn: &mut AnyConnection,
    incident: &Incident,
    number: i64,
    status: ActionStatus,
    by: &UserId,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let a = match postmortems::close_action(conn, &incident.team, incident.id, number, status, now)
        .await?
    {
        ItemUpdate::Updated(a) => a,
        ItemUpdate::AlreadyClosed(a) => {
            return Ok(format!(
                "Action item #{number} is already {}.",
                a.status.as_str()
            ))
        }
        ItemUpdate::Missing => return Ok(no_such_item(number)),
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
        typed(&a.text)
    );
    queue_for_change(conn, incident, &[Effect::Notice { text: notice }], now).await?;
    Ok(match open {
        0 => format!("Action item #{number} is {}. Every action item is closed: no more follow-up reminders.", status.as_str()),
        n => format!("Action item #{number} is {}. {n} still open.", status.as_str()),
    })
}

/// An open item given to someone, or moved to another date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handover {
    Owner(UserId),
    Due(NaiveDate),
}

/// `/incident action owner <n> <@user>` or `/incident action due <n> <date>`: an open item
/// given to someone else or moved to another date, said in the channel and kept in the
/// timeline.
pub async fn change_action(
    conn: &mut AnyConnection,
    incident: &Incident,
    number: i64,
    change: Handover,
    by: &UserId,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> anyhow::Result<String> {
    let (owner, due) = match &change {
        Handover::Owner(user) => (Some(user), None),
        Handover::Due(date) => (None, Some(*date)),
    };
    let a = match postmortems::change_action(
        conn,
        &incident.team,
        incident.id,
        number,
        owner,
        due,
        today,
    )
    .await?
    {
        ItemUpdate::Updated(a) => a,
        ItemUpdate::AlreadyClosed(a) => {
            return Ok(format!(
                "Action item #{number} is already {}; only an open item changes.",
                a.status.as_str()
            ))
        }
        ItemUpdate::Missing => return Ok(no_such_item(number)),
    };
    let entry = TimelineEntry::ActionChanged {
        number,
        owner: owner.cloned(),
        due,
        text: Some(a.text.clone()),
    };
    incidents::add_timeline(conn, &incident.team, incident.id, &entry, Some(by), now).await?;
    let (said, reply) = match &change {
        Handover::Owner(owner) => (
            format!("gave action item #{number} to <@{owner}>"),
            match a.due.filter(|d| *d >= today) {
                Some(due) => format!(
                    "Action item #{number} is now <@{owner}>'s; they are reminded on {due}."
                ),
                None => format!("Action item #{number} is now <@{owner}>'s."),
            },
        ),
        Handover::Due(due) => (
            format!("moved action item #{number} to {due}"),
            if *due < today {
                format!("Action item #{number} is now due {due}. That date has passed: is it the one you meant?")
            } else {
                format!("Action item #{number} is now due {due}.")
            },
        ),
    };
    let notice = format!(":pencil2: <@{by}> {said}: {}", typed(&a.text));
    queue_for_change(conn, incident, &[Effect::Notice { text: notice }], now).await?;
    Ok(reply)
}
