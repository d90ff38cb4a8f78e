//! Storage: one SQL text for SQLite and PostgreSQL through sqlx's `Any` driver.
//!
//! Times are stored as milliseconds since the Unix epoch so that both databases agree on them.
//! Every query names its `team_id`: no query crosses workspaces.

pub mod deliveries;
pub mod fixes;
pub mod group_commit;
pub mod incidents;
pub(crate) mod lease;
pub mod outbox;
pub mod postmortems;
pub mod record;
pub mod review;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

/// The database engine behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The size of the row the health check writes: larger than nearly every delivery Slack sends.
const HEALTH_PROBE_BYTES: usize = 16 * 1024;

/// Whether a connection may go back to (or come out of) the pool: only outside a transaction.
/// A COMMIT that fails on a full disk makes SQLite roll back by itself, after which sqlx's
/// own ROLLBACK fails too and sqlx still counts a transaction open; such a connection would
/// refuse every later `BEGIN` ("non-zero transaction depth"), so it is closed instead.
async fn out_of_transaction(conn: &mut sqlx::AnyConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // A rollback queued when a transaction was dropped runs at the connection's next use.
    conn.ping().await?;
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("Closing a database connection left inside a transaction");
    }
    Ok(clean)
}

/// A pool of connections to hereby's database.
///
/// On SQLite, which takes one writer at a time, every write that matters for throughput goes
/// through a pool of one connection ([`Store::writer`]): writers queue in order inside the
/// process instead of meeting SQLite's busy handler, which sleeps (up to 100 ms a turn) while
/// another connection holds the write lock. Reads use the other pool and run beside the writer
/// (WAL). On PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    writer: AnyPool,
    backend: Backend,
}

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Store {
    /// Connects to `sqlite://path` (the file is created if missing) or `postgres://…`.
    #[tracing::instrument(name = "Connecting to the database", skip_all)]
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let options = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(std::time::Duration::from_secs(5))
                .after_release(|conn, _| Box::pin(out_of_transaction(conn)))
                .before_acquire(|conn, _| Box::pin(out_of_transaction(conn)))
        };
        let connect_error = "Failed to connect to the database (check DATABASE_URL)";
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                // The writer never checkpoints by itself: copying the WAL into the database
                // at a commit would stall the requests waiting on that commit. The
                // checkpoint job does it beside the writer instead (see `Store::checkpoint`).
                let writer = options(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query("PRAGMA wal_autocheckpoint = 0")
                                .execute(conn)
                                .await
                                .map(|_| ())
                        })
                    })
                    .connect(&url)
                    .await
                    .context(connect_error)?;
                // WAL lets readers run beside the writer; it stays set in the file.
                sqlx::query("PRAGMA journal_mode = WAL")
                    .execute(&writer)
                    .await
                    .context("Failed to switch SQLite to WAL mode")?;
                (
                    options(4).connect(&url).await.context(connect_error)?,
                    writer,
                )
            }
            Backend::Postgres => {
                let pool = options(10).connect(&url).await.context(connect_error)?;
                (pool.clone(), pool)
            }
        };
        Ok(Store {
            pool,
            writer,
            backend,
        })
    }

    /// Brings the schema up to date; safe to run at every start and from several replicas.
    #[tracing::instrument(name = "Running migrations", skip_all)]
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator
            .run(&self.writer)
            .await
            .context("Failed to run database migrations")?;
        Ok(())
    }

    /// `true` when the database can take a delivery within two seconds: it answers, no other
    /// writer holds it locked, and it has room. The check writes and commits a delivery-sized
    /// row and deletes it in the same transaction, so a full disk fails it as it fails a
    /// delivery; nobody ever sees the row.
    pub async fn can_write(&self) -> bool {
        let check = async {
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "INSERT INTO deliveries (team_id, event_id, event_type, payload, received_at)
                 VALUES ('-', '-health', 'health', $1, $2) ON CONFLICT (team_id, event_id) DO NOTHING",
            )
            .bind("x".repeat(HEALTH_PROBE_BYTES))
            .bind(to_millis(Utc::now()))
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM deliveries WHERE team_id = '-' AND event_id = '-health'")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            anyhow::Ok(())
        };
        matches!(
            tokio::time::timeout(std::time::Duration::from_secs(2), check).await,
            Ok(Ok(()))
        )
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for reads (and for rare writes off the hot path, which SQLite's busy timeout
    /// queues behind the writer).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool for writes: one connection on SQLite, so writers wait their turn in order.
    /// Never acquire it while holding a [`Tx`] from [`Store::begin_write`]: on SQLite that
    /// waits for itself until the acquire timeout.
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// A connection from the pool, for reads and single writes outside a transaction.
    pub async fn conn(&self) -> anyhow::Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        self.pool
            .acquire()
            .await
            .context("Failed to get a database connection")
    }

    /// Copies what the write-ahead log holds into the SQLite database file, beside the writer
    /// and without waiting for readers (`PASSIVE`); returns the log's frames and how many of
    /// them are now in the database. Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> anyhow::Result<(i64, i64)> {
        if self.backend != Backend::Sqlite {
            return Ok((0, 0));
        }
        let (_busy, log, done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&self.pool)
            .await
            .context("Failed to checkpoint the write-ahead log")?;
        Ok((log, done))
    }

    /// A connection for a single write outside a transaction, from [`Store::writer`]; the
    /// same rule holds: never while holding a [`Tx`].
    pub async fn write_conn(&self) -> anyhow::Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        self.writer
            .acquire()
            .await
            .context("Failed to get a database connection for writing")
    }

    /// Starts a transaction that writes, on [`Store::writer`]. On SQLite it takes the write
    /// lock at once, so that a writer off the hot path (through [`Store::pool`]) queues on the
    /// busy timeout instead of failing when one upgrades its lock.
    pub async fn begin_write(&self) -> anyhow::Result<Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        };
        tx.context("Failed to begin a database transaction")
    }
}

/// How many rows of `width` values one multi-row statement takes. SQLite finds each bound
/// parameter's name by walking the statement's list of names, so binding costs the square of a
/// statement's parameter count: about 200 keeps that small beside the round trip it saves.
pub(crate) const fn rows_per_statement(width: usize) -> usize {
    if width >= 200 {
        1
    } else {
        200 / width
    }
}

/// The `VALUES` rows of a multi-row statement: `rows` groups of `width` numbered placeholders,
/// the first numbered `first`; only placeholders are formatted into SQL, every value is bound.
pub(crate) fn value_rows(rows: usize, width: usize, first: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", places(width, first + row * width)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `count` numbered placeholders from `first`, for an `IN (…)` list.
pub(crate) fn places(count: usize, first: usize) -> String {
    let places: Vec<String> = (first..first + count).map(|n| format!("${n}")).collect();
    places.join(", ")
}

/// Milliseconds since the epoch, as stored.
pub fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A stored time back as a `DateTime`; out-of-range values (never written by hereby) become
/// the epoch rather than failing a whole read.
pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Is this error a unique-constraint violation (the row is already there)?
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_writer_leaves_checkpoints_to_the_checkpoint_job_which_copies_the_whole_log() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let auto: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(store.writer())
            .await
            .unwrap();
        assert_eq!(auto, 0, "the writer does not checkpoint at a commit");
        for n in 0..50 {
            let mut tx = store.begin_write().await.unwrap();
            sqlx::query(
                "INSERT INTO deliveries (team_id, event_id, event_type, payload, received_at)
                 VALUES ('T1', $1, 'message', $2, 0)",
            )
            .bind(format!("Ev{n}"))
            .bind("x".repeat(8000))
            .execute(&mut *tx)
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        let (log, done) = store.checkpoint().await.unwrap();
        assert!(log >= 50, "the log held every commit: {log}");
        assert_eq!(done, log, "the whole log is in the database file");
    }

    #[tokio::test]
    async fn a_connection_left_inside_a_failed_transaction_never_reaches_the_next_writer() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        // SQLite ends the transaction behind sqlx's back (as a COMMIT failing on a full disk
        // does); the COMMIT and the ROLLBACK on drop then both fail.
        let mut tx = store.begin_write().await.unwrap();
        sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
        assert!(tx.commit().await.is_err());
        for n in 0..12 {
            let tx = store.begin_write().await;
            assert!(tx.is_ok(), "writer {n}: {:?}", tx.err());
            if let Ok(tx) = tx {
                tx.rollback().await.unwrap();
            }
        }
        assert!(store.can_write().await);
    }
}
