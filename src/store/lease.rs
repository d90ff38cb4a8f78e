//! The lease queue shared by deliveries, the outbox and follow-ups: the SQL that claims due rows
//! for a while, and that touches a claimed row only while its worker still holds it.
//!
//! A claim is one atomic `UPDATE … WHERE key IN (SELECT … LIMIT n)` whose conditions are checked
//! again outside the subquery, so when two workers race for the same rows the second one's
//! `UPDATE` re-checks them and matches nothing. A worker killed mid-step leaves its rows to
//! whoever comes after `claimed_until`.

use chrono::{DateTime, Utc};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::QueryAs;
use sqlx::{Any, AssertSqlSafe, FromRow};

use super::to_millis;

/// A table whose rows workers take turns on: `claimed_by` names the worker holding a row and
/// `claimed_until` is when its hold lapses.
pub(crate) struct LeaseQueue {
    pub table: &'static str,
    /// The columns that name one row.
    pub key: &'static [&'static str],
    /// When a row is waiting to be claimed (besides no live hold); `$3` is the time now.
    pub due: &'static str,
    /// The order in which due rows are taken.
    pub order: &'static str,
    /// Whether claiming counts an attempt (`attempts = attempts + 1`).
    pub counts_attempts: bool,
}

impl LeaseQueue {
    /// The claim: `$1` the worker, `$2` the end of its hold, `$3` now, `$4` how many rows.
    pub fn claim_sql(&self, returning: &str) -> String {
        let columns = self.key.join(", ");
        let key = match self.key {
            [one] => one.to_string(),
            _ => format!("({columns})"),
        };
        let attempts = if self.counts_attempts {
            ", attempts = attempts + 1"
        } else {
            ""
        };
        let (table, due, order) = (self.table, self.due, self.order);
        let free = "(claimed_until IS NULL OR claimed_until < $3)";
        format!(
            "UPDATE {table} SET claimed_by = $1, claimed_until = $2{attempts}
             WHERE {key} IN (SELECT {columns} FROM {table} WHERE {due} AND {free}
                             ORDER BY {order} LIMIT $4)
               AND {due} AND {free}
             RETURNING {returning}"
        )
    }

    /// Whether any row is due and free, asked on a reader: an `UPDATE` that matches nothing
    /// still waits for the write lock on SQLite, and idle workers poll. `extra` is the value of
    /// `$5` in `due`, for a queue whose condition has one.
    pub async fn has_due(
        &self,
        pool: &sqlx::AnyPool,
        now: DateTime<Utc>,
        extra: Option<i64>,
    ) -> anyhow::Result<bool> {
        use anyhow::Context;
        let due = self.due.replace("$3", "$1").replace("$5", "$2");
        let sql = format!(
            "SELECT 1 FROM {} WHERE {due} AND (claimed_until IS NULL OR claimed_until < $1) LIMIT 1",
            self.table
        );
        let mut query = sqlx::query_scalar(AssertSqlSafe(sql)).bind(to_millis(now));
        if let Some(extra) = extra {
            query = query.bind(extra);
        }
        let found: Option<i32> = query
            .fetch_optional(pool)
            .await
            .with_context(|| format!("Failed to look for due rows in {}", self.table))?;
        Ok(found.is_some())
    }

    /// Claims up to `limit` due rows for `worker` until `now + lease`, read as `O`.
    pub fn claim<O>(
        &self,
        returning: &str,
        worker: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: i64,
    ) -> QueryAs<'static, Any, O, AnyArguments>
    where
        O: for<'r> FromRow<'r, AnyRow>,
    {
        sqlx::query_as(AssertSqlSafe(self.claim_sql(returning)))
            .bind(worker.to_string())
            .bind(to_millis(now + lease))
            .bind(to_millis(now))
            .bind(limit)
    }

    /// An update of a row its worker still holds: `set` applies only where the key columns equal
    /// `$first`, `$first + 1`, … and `claimed_by` the parameter after them, and `also` holds.
    /// Renewing sets `claimed_until` later; releasing sets it to `NULL` or to a retry time.
    pub fn held_sql(&self, set: &str, first: usize, also: Option<&str>) -> String {
        let mut conditions: Vec<String> = self
            .key
            .iter()
            .enumerate()
            .map(|(i, column)| format!("{column} = ${}", first + i))
            .collect();
        conditions.push(format!("claimed_by = ${}", first + self.key.len()));
        conditions.extend(also.map(str::to_string));
        format!(
            "UPDATE {} SET {set} WHERE {}",
            self.table,
            conditions.join(" AND ")
        )
    }

    /// Ends `worker`'s hold on the row `id` (of a queue keyed by `id` alone): `set` says how,
    /// with `$1` a time (when to retry, or when it failed) and `$2` the error that ended it.
    pub async fn end_hold(
        &self,
        writer: &sqlx::AnyPool,
        id: i64,
        worker: &str,
        set: &str,
        at: DateTime<Utc>,
        error: &str,
    ) -> sqlx::Result<()> {
        debug_assert_eq!(self.key, ["id"]);
        sqlx::query(AssertSqlSafe(self.held_sql(set, 3, None)))
            .bind(to_millis(at))
            .bind(error.to_string())
            .bind(id)
            .bind(worker.to_string())
            .execute(writer)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queue keyed by two columns, shaped like the follow-ups' (`store::postmortems::followups`,
    /// private there): the SQL below is checked on its own, not against that queue.
    const FOLLOWUPS: LeaseQueue = LeaseQueue {
        table: "followups",
        key: &["team_id", "incident_id"],
        due: "next_at <= $3",
        order: "next_at",
        counts_attempts: false,
    };

    #[test]
    fn a_claim_checks_its_conditions_again_outside_the_subquery() {
        let sql = FOLLOWUPS.claim_sql("team_id, incident_id");
        let normal = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(
            normal,
            "UPDATE followups SET claimed_by = $1, claimed_until = $2 \
             WHERE (team_id, incident_id) IN (SELECT team_id, incident_id FROM followups \
             WHERE next_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3) \
             ORDER BY next_at LIMIT $4) \
             AND next_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3) \
             RETURNING team_id, incident_id"
        );
    }

    #[test]
    fn an_update_of_a_held_row_names_its_key_and_its_worker() {
        assert_eq!(
            FOLLOWUPS.held_sql("claimed_until = NULL", 2, Some("next_at > 0")),
            "UPDATE followups SET claimed_until = NULL \
             WHERE team_id = $2 AND incident_id = $3 AND claimed_by = $4 AND next_at > 0"
        );
    }
}
