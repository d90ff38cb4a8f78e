//! An incident's action items: numbered per incident, closed as done or won't-fix.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AnyConnection;

use crate::domain::actions::{ActionStatus, NewAction};
use crate::domain::postmortem::ActionRow;
use crate::domain::{TeamId, UserId};
use crate::store::to_millis;

/// An `action_items` row as stored.
#[derive(sqlx::FromRow)]
struct ActionItem {
    number: i64,
    text: String,
    owner: Option<String>,
    due: Option<String>,
    status: String,
}

impl From<ActionItem> for ActionRow {
    fn from(r: ActionItem) -> ActionRow {
        ActionRow {
            number: r.number,
            text: r.text,
            owner: r.owner.map(UserId::new),
            due: r
                .due
                .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
            status: ActionStatus::from_key(&r.status),
        }
    }
}

/// Adds an action item under the incident's next number. Its owner is reminded when its due
/// date comes, unless that date is before `today`.
pub async fn add_action(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    a: &NewAction,
    by: &UserId,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> anyhow::Result<ActionRow> {
    let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 AS next FROM action_items WHERE team_id = $1 AND incident_id = $2")
        .bind(team.to_string())
        .bind(incident)
        .fetch_one(&mut *conn)
        .await
        .context("Failed to number an action item")?;
    sqlx::query(
        "INSERT INTO action_items (team_id, incident_id, number, text, owner, due, status, created_by, created_at, due_reminded)
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9)",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(next)
    .bind(a.text.clone())
    .bind(a.owner.as_ref().map(|u| u.to_string()))
    .bind(a.due.map(|d| d.to_string()))
    .bind(by.to_string())
    .bind(to_millis(now))
    // A date already past was pointed out when the item was added: no reminder follows.
    .bind(a.due.filter(|d| *d < today).map(|d| d.to_string()))
    .execute(conn)
    .await
    .context("Failed to add an action item")?;
    Ok(ActionRow {
        number: next,
        text: a.text.clone(),
        owner: a.owner.clone(),
        due: a.due,
        status: ActionStatus::Open,
    })
}

/// What closing or changing an action item found: only an open item is closed or changed.
#[derive(Debug, Clone)]
pub enum ItemUpdate {
    /// It was open, and is now closed or changed.
    Updated(ActionRow),
    /// It was closed already (by someone else's press, or an earlier command): left as it was.
    AlreadyClosed(ActionRow),
    /// There is no such item.
    Missing,
}

/// The item after an `UPDATE … AND status = 'open'` that changed it (`updated`) or not.
async fn item_update(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    number: i64,
    updated: bool,
) -> anyhow::Result<ItemUpdate> {
    let row = sqlx::query_as::<_, ActionItem>(
        "SELECT * FROM action_items WHERE team_id = $1 AND incident_id = $2 AND number = $3",
    )
    .bind(team.to_string())
    .bind(incident)
    .bind(number)
    .fetch_optional(conn)
    .await
    .context("Failed to load an action item")?;
    Ok(match (row.map(ActionRow::from), updated) {
        (Some(a), true) => ItemUpdate::Updated(a),
        (Some(a), false) => ItemUpdate::AlreadyClosed(a),
        (None, _) => ItemUpdate::Missing,
    })
}

/// Closes an open action item as done or won't-fix; an item closed already stays as it was.
pub async fn close_action(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    number: i64,
    status: ActionStatus,
    now: DateTime<Utc>,
) -> anyhow::Result<ItemUpdate> {
    let closed = sqlx::query("UPDATE action_items SET status = $1, closed_at = $2 WHERE team_id = $3 AND incident_id = $4 AND number = $5 AND status = $6")
        .bind(status.key())
        .bind(to_millis(now))
        .bind(team.to_string())
        .bind(incident)
        .bind(number)
        .bind(ActionStatus::Open.key())
        .execute(&mut *conn)
        .await
        .context("Failed to close an action item")?
        .rows_affected()
        > 0;
    item_update(conn, team, incident, number, closed).await
}

/// The open action item whose due date came first by `today` and whose owner has not been
/// reminded of it, if any: its row ID.
pub async fn next_due_reminder(
    conn: &mut AnyConnection,
    today: NaiveDate,
) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM action_items
         WHERE status = 'open' AND owner IS NOT NULL AND due IS NOT NULL AND due_reminded IS NULL
           AND due <= $1
         ORDER BY due, id LIMIT 1",
    )
    .bind(today.to_string())
    .fetch_optional(conn)
    .await
    .context("Failed to look for action items coming due")
}

/// Takes the due-date reminder of action item `id` (see [`next_due_reminder`]): marks it sent
/// in the caller's transaction, and returns (team, incident, item); `None` if another worker
/// took it first or the item was closed meanwhile.
pub async fn take_due_reminder(
    conn: &mut AnyConnection,
    id: i64,
) -> anyhow::Result<Option<(TeamId, i64, ActionRow)>> {
    #[derive(sqlx::FromRow)]
    struct Taken {
        team_id: String,
        incident_id: i64,
        #[sqlx(flatten)]
        item: ActionItem,
    }
    let taken: Option<Taken> = sqlx::query_as(
        "UPDATE action_items SET due_reminded = due
         WHERE id = $1 AND due_reminded IS NULL AND status = 'open'
         RETURNING team_id, incident_id, number, text, owner, due, status",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .context("Failed to take an action item's due-date reminder")?;
    Ok(taken.map(|t| (TeamId::new(t.team_id), t.incident_id, t.item.into())))
}

/// Gives an open action item to `owner`, or moves it to `due` (its owner is reminded on that
/// date, unless it is before `today`).
pub async fn change_action(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
    number: i64,
    owner: Option<&UserId>,
    due: Option<NaiveDate>,
    today: NaiveDate,
) -> anyhow::Result<ItemUpdate> {
    let changed = sqlx::query(
        "UPDATE action_items SET
            owner = COALESCE($1, owner),
            due = COALESCE($2, due),
            due_reminded = CASE WHEN $2 IS NULL THEN due_reminded WHEN $2 < $3 THEN $2 ELSE NULL END
         WHERE team_id = $4 AND incident_id = $5 AND number = $6 AND status = 'open'",
    )
    .bind(owner.map(|u| u.to_string()))
    .bind(due.map(|d| d.to_string()))
    .bind(today.to_string())
    .bind(team.to_string())
    .bind(incident)
    .bind(number)
    .execute(&mut *conn)
    .await
    .context("Failed to change an action item")?
    .rows_affected()
        > 0;
    item_update(conn, team, incident, number, changed).await
}

/// A person's open action items in one workspace, from every incident: (incident row ID,
/// item), oldest incident first, each incident's items in order.
pub async fn open_actions_owned_by(
    conn: &mut AnyConnection,
    team: &TeamId,
    owner: &UserId,
) -> anyhow::Result<Vec<(i64, ActionRow)>> {
    #[derive(sqlx::FromRow)]
    struct Owned {
        incident_id: i64,
        #[sqlx(flatten)]
        item: ActionItem,
    }
    let rows: Vec<Owned> = sqlx::query_as(
        "SELECT incident_id, number, text, owner, due, status FROM action_items
         WHERE team_id = $1 AND owner = $2 AND status = 'open'
         ORDER BY incident_id, number",
    )
    .bind(team.to_string())
    .bind(owner.to_string())
    .fetch_all(conn)
    .await
    .context("Failed to list someone's open action items")?;
    Ok(rows
        .into_iter()
        .map(|r| (r.incident_id, r.item.into()))
        .collect())
}

/// An incident's action items, in order.
pub async fn actions(
    conn: &mut AnyConnection,
    team: &TeamId,
    incident: i64,
) -> anyhow::Result<Vec<ActionRow>> {
    let rows = sqlx::query_as::<_, ActionItem>(
        "SELECT * FROM action_items WHERE team_id = $1 AND incident_id = $2 ORDER BY number",
    )
    .bind(team.to_string())
    .bind(incident)
    .fetch_all(conn)
    .await
    .context("Failed to load action items")?;
    Ok(rows.into_iter().map(ActionRow::from).collect())
}
