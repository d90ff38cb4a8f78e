//! The two migration directories describe one schema: `migrations/sqlite` and
//! `migrations/postgres` hold the same files, and after all of them both engines have the same
//! tables with the same columns. Checked by parsing each directory's DDL in its own dialect,
//! against a real SQLite file, and (with `HEREBY_TEST_POSTGRES_URL`) against real PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sqlparser::ast::{AlterTableOperation, ObjectName, ObjectType, RenameTableNameKind, Statement};
use sqlparser::dialect::{Dialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use hereby::store::Store;

/// Table name → its column names.
type Schema = BTreeMap<String, BTreeSet<String>>;

fn migrations(engine: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine)
}

/// The `.sql` files of a migration directory, by name, in the order they run.
fn files(engine: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(migrations(engine))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn name(n: &ObjectName) -> String {
    n.0.last()
        .map(|part| part.to_string().trim_matches('"').to_ascii_lowercase())
        .unwrap_or_default()
}

fn ident(i: &sqlparser::ast::Ident) -> String {
    i.value.to_ascii_lowercase()
}

/// The schema after applying `sql` to `schema`, as far as tables and columns go.
fn apply(schema: &mut Schema, file: &str, sql: &str, dialect: &dyn Dialect) {
    let statements =
        Parser::parse_sql(dialect, sql).unwrap_or_else(|e| panic!("{file} does not parse: {e}"));
    for statement in statements {
        match statement {
            Statement::CreateTable(t) => {
                let columns = t.columns.iter().map(|c| ident(&c.name)).collect();
                schema.insert(name(&t.name), columns);
            }
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => {
                for n in &names {
                    schema.remove(&name(n));
                }
            }
            Statement::AlterTable(alter) => {
                let mut table = name(&alter.name);
                for op in &alter.operations {
                    let columns = schema
                        .get_mut(&table)
                        .unwrap_or_else(|| panic!("{file} alters {table}, which does not exist"));
                    match op {
                        AlterTableOperation::AddColumn { column_def, .. } => {
                            columns.insert(ident(&column_def.name));
                        }
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            for c in column_names {
                                columns.remove(&ident(c));
                            }
                        }
                        AlterTableOperation::RenameColumn {
                            old_column_name,
                            new_column_name,
                        } => {
                            columns.remove(&ident(old_column_name));
                            columns.insert(ident(new_column_name));
                        }
                        AlterTableOperation::RenameTable {
                            table_name: RenameTableNameKind::As(to) | RenameTableNameKind::To(to),
                        } => {
                            let renamed = schema.remove(&table).unwrap_or_default();
                            table = name(to);
                            schema.insert(table.clone(), renamed);
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

/// The tables and columns a directory's migrations leave, parsed in the engine's dialect.
fn parsed(engine: &str, dialect: &dyn Dialect) -> Schema {
    let mut schema = Schema::new();
    for (file, sql) in files(engine) {
        apply(&mut schema, &format!("{engine}/{file}"), &sql, dialect);
    }
    schema
}

/// The tables and columns of a migrated database, without sqlx's own bookkeeping table.
async fn built(store: &Store, sql: &'static str) -> Schema {
    let rows: Vec<(String, String)> = sqlx::query_as(sql).fetch_all(store.pool()).await.unwrap();
    let mut schema = Schema::new();
    for (table, column) in rows {
        if table != "_sqlx_migrations" {
            schema
                .entry(table.to_ascii_lowercase())
                .or_default()
                .insert(column.to_ascii_lowercase());
        }
    }
    schema
}

const SQLITE_COLUMNS: &str =
    "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'";

const POSTGRES_COLUMNS: &str =
    "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns
     WHERE table_schema = current_schema()";

#[test]
fn both_engines_have_the_same_migration_files() {
    let names = |engine| {
        files(engine)
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
}

#[test]
fn after_all_migrations_both_engines_have_the_same_tables_and_columns() {
    let sqlite = parsed("sqlite", &SQLiteDialect {});
    let postgres = parsed("postgres", &PostgreSqlDialect {});
    assert!(sqlite.contains_key("incidents"), "{sqlite:?}");
    assert_eq!(sqlite, postgres);
}

#[tokio::test]
async fn the_parsed_sqlite_schema_is_the_one_a_real_sqlite_file_gets() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("m.db").display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let real = built(&store, SQLITE_COLUMNS).await;
    let mut parsed = parsed("sqlite", &SQLiteDialect {});
    // SQLite keeps its AUTOINCREMENT counters in a table of its own.
    parsed.remove("sqlite_sequence");
    assert_eq!(real, parsed);
}

#[tokio::test]
async fn real_postgresql_gets_the_same_tables_and_columns_as_real_sqlite() {
    let server = std::env::var("HEREBY_TEST_POSTGRES_URL").unwrap_or_default();
    if server.is_empty() {
        println!("skipped: set HEREBY_TEST_POSTGRES_URL to compare with a real PostgreSQL");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}", dir.path().join("m.db").display()))
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    let postgres = Store::connect(&crate::helpers::fresh_postgres_database(&server).await)
        .await
        .unwrap();
    postgres.migrate().await.unwrap();
    let mut sqlite = built(&sqlite, SQLITE_COLUMNS).await;
    sqlite.remove("sqlite_sequence");
    assert_eq!(built(&postgres, POSTGRES_COLUMNS).await, sqlite);
}

/// The queue tables' autovacuum settings, as PostgreSQL lists them.
async fn vacuum_settings(store: &Store, table: &str) -> String {
    sqlx::query_scalar(
        "SELECT COALESCE(array_to_string(reloptions, ','), '') FROM pg_class WHERE relname = $1",
    )
    .bind(table.to_string())
    .fetch_one(store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn postgresql_vacuums_the_queue_tables_often_and_a_restart_keeps_an_administrator_s_tuning() {
    let server = std::env::var("HEREBY_TEST_POSTGRES_URL").unwrap_or_default();
    if server.is_empty() {
        println!("skipped: set HEREBY_TEST_POSTGRES_URL to check it against a real PostgreSQL");
        return;
    }
    let store = Store::connect(&crate::helpers::fresh_postgres_database(&server).await)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    for table in ["deliveries", "outbox"] {
        let settings = vacuum_settings(&store, table).await;
        assert!(
            settings.contains("autovacuum_vacuum_threshold=1000")
                && settings.contains("autovacuum_vacuum_scale_factor=0.0"),
            "{table}: {settings}"
        );
    }
    sqlx::query("ALTER TABLE deliveries SET (autovacuum_vacuum_threshold = 5000)")
        .execute(store.pool())
        .await
        .unwrap();
    // Every start runs the migrations again.
    store.migrate().await.unwrap();
    let settings = vacuum_settings(&store, "deliveries").await;
    assert!(
        settings.contains("autovacuum_vacuum_threshold=5000"),
        "{settings}"
    );
}

#[test]
fn a_column_added_in_one_directory_only_is_a_difference() {
    let mut sqlite = Schema::new();
    apply(
        &mut sqlite,
        "base",
        "CREATE TABLE t (id BIGINT PRIMARY KEY, a TEXT);",
        &SQLiteDialect {},
    );
    let mut postgres = sqlite.clone();
    let added = "ALTER TABLE t ADD COLUMN b TEXT;";
    apply(&mut sqlite, "0008", added, &SQLiteDialect {});
    assert_ne!(sqlite, postgres);
    apply(&mut postgres, "0008", added, &PostgreSqlDialect {});
    assert_eq!(sqlite, postgres);
    // SQLite's way of changing a table: build the new one, drop the old, rename.
    apply(
        &mut sqlite,
        "0009",
        "CREATE TABLE t_new (id BIGINT, b TEXT); DROP TABLE t; ALTER TABLE t_new RENAME TO t;",
        &SQLiteDialect {},
    );
    assert_eq!(
        sqlite.get("t"),
        Some(&BTreeSet::from(["id".to_string(), "b".to_string()]))
    );
    assert_ne!(sqlite, postgres);
}
