//! Opening the database (SQLite file or PostgreSQL), applying migrations, and write transactions.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, QuerySelect, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::Config;
use crate::entities::audit_chain_head;

/// Why the database could not be opened, in one line a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "unsupported database URL “{0}”: use sqlite://path/to/file.db or postgres://user@host/database"
    )]
    BadUrl(String),
    #[error("cannot open the database at {url}: {cause}")]
    Unreachable { url: String, cause: String },
    #[error("cannot apply migrations: {0}")]
    Migration(String),
}

/// The longest a request waits for a PostgreSQL connection before answering 503.
pub const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How much of a SQLite file its connections map into memory (address space, not RAM).
const MMAP_BYTES: u64 = 1 << 30;

/// Opens the database the URL names. SQLite: created if missing, WAL, foreign keys on,
/// busy timeout. PostgreSQL: a pool.
pub async fn open(config: &Config) -> Result<DatabaseConnection, OpenError> {
    let url = config.database_url.trim();
    let shown = redact(url);
    let mut options = ConnectOptions::new(url.to_string());
    options.sqlx_logging(false);
    if is_sqlite(url) {
        if let Some(file) = crate::services::backups::sqlite_path(url) {
            crate::files::guard_sqlite_database(&file);
        }
        options
            // Writers queue here while one holds the file's write lock.
            .acquire_timeout(Duration::from_secs(5))
            // One writer at a time is SQLite's rule; readers alongside it (WAL).
            .max_connections(config.sqlite_pool_size.max(1))
            .min_connections(1)
            .map_sqlx_sqlite_opts(|opts| {
                opts.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    // Pages read through a memory map rather than a read(2) each: every
                    // commit elsewhere empties a connection's page cache, so a busy
                    // workshop's scans would otherwise reread their index pages by system call.
                    .pragma("mmap_size", MMAP_BYTES.to_string())
            })
            .map_sqlx_sqlite_pool_opts(|pool| {
                pool.after_connect(|connection, _| {
                    Box::pin(async move {
                        let mut handle = connection.lock_handle().await?;
                        stable_plans(handle.as_raw_handle())
                    })
                })
            });
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        options
            .max_connections(config.postgres_pool_size)
            // While PostgreSQL is away a request waits at most this long for a connection,
            // then answers 503; a request that needs two waits stays under ten seconds.
            .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
            // A connection broken by a restart is found out before use and replaced, so
            // service resumes by itself when PostgreSQL is back.
            .test_before_acquire(true)
            // No just-in-time compilation: it starts on a plan's estimated cost, and a month's
            // report over a large history crosses that line to spend more compiling than
            // running. And a plan for the values bound each time: after five runs of a
            // statement PostgreSQL may keep a generic plan, and for the report's copper by
            // partner that plan took 177 ms where the one for the month's values took 40.
            .map_sqlx_postgres_opts(|opts| {
                opts.options([("jit", "off"), ("plan_cache_mode", "force_custom_plan")])
            });
    } else {
        return Err(OpenError::BadUrl(shown));
    }
    Database::connect(options)
        .await
        .map_err(|error| OpenError::Unreachable {
            url: shown,
            cause: one_line(&error),
        })
}

/// Turns on SQLite's query planner stability guarantee for a connection. Without it a
/// statement whose plan looked at a bound value (every `LIMIT ?`, so every `.one()`) is
/// thrown away and prepared again each time it runs: a quarter of the time of a scan went
/// to parsing the same few statements again. greenchip runs no `ANALYZE`, so plans never
/// depended on bound values for anything but that.
fn stable_plans(
    handle: std::ptr::NonNull<libsqlite3_sys::sqlite3>,
) -> Result<(), sea_orm::sqlx::Error> {
    match plan_stability(handle, 1) {
        (libsqlite3_sys::SQLITE_OK, 1) => Ok(()),
        (code, _) => Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLite refused its query planner setting (code {code})").into(),
        )),
    }
}

/// Sets the planner's stability guarantee (1 on, 0 off, -1 leaves it): SQLite's result
/// code, and whether it is on afterwards (1) or not (0).
fn plan_stability(
    handle: std::ptr::NonNull<libsqlite3_sys::sqlite3>,
    set: std::ffi::c_int,
) -> (std::ffi::c_int, std::ffi::c_int) {
    use libsqlite3_sys::{SQLITE_DBCONFIG_ENABLE_QPSG, sqlite3_db_config};
    let mut on: std::ffi::c_int = -1;
    // SAFETY: the caller holds the handle locked out of its worker thread (sqlx's
    // `lock_handle`), and the arguments match the documented signature of
    // SQLITE_DBCONFIG_ENABLE_QPSG: an int to set, and an int pointer for the state after.
    let code = unsafe {
        sqlite3_db_config(
            handle.as_ptr(),
            SQLITE_DBCONFIG_ENABLE_QPSG,
            set,
            &mut on as *mut std::ffi::c_int,
        )
    };
    (code, on)
}

/// How often the service moves SQLite's write-ahead log into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// SQLite: moves committed pages from the write-ahead log into the database file in the
/// background, so that a commit seldom has to. A commit that finds the log past 1,000 pages
/// copies it before it returns, and every scan waiting on that commit (the scan log's
/// group commit) waits for the copy and its `fsync`: the slowest scans were those. Passive:
/// it never waits for a reader or a writer. Nothing to do on PostgreSQL.
pub fn spawn_checkpoints(db: DatabaseConnection) -> Option<tokio::task::JoinHandle<()>> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut every = tokio::time::interval(CHECKPOINT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failures_in_a_row: u64 = 0;
        loop {
            every.tick().await;
            match db
                .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                .await
            {
                Ok(_) if failures_in_a_row > 0 => {
                    tracing::info!(failures_in_a_row, "background checkpoints work again");
                    failures_in_a_row = 0;
                }
                Ok(_) => {}
                Err(error) => {
                    failures_in_a_row += 1;
                    if warn_now(failures_in_a_row) {
                        tracing::warn!(error = %one_line(&error), failures_in_a_row,
                            "background checkpoint failed");
                    }
                }
            }
        }
    }))
}

/// Whether a failed checkpoint is logged: the first of a run of failures, then one a minute
/// (a disk that stays full would otherwise write four warnings a second).
fn warn_now(failures_in_a_row: u64) -> bool {
    let per_minute = (60_000 / CHECKPOINT_EVERY.as_millis()).max(1) as u64;
    failures_in_a_row
        .saturating_sub(1)
        .is_multiple_of(per_minute)
}

/// Opens the database and applies every pending migration.
pub async fn open_and_migrate(config: &Config) -> Result<DatabaseConnection, OpenError> {
    let db = open(config).await?;
    migrate(&db).await?;
    Ok(db)
}

/// Applies pending migrations; answers the names of those applied.
pub async fn migrate(db: &DatabaseConnection) -> Result<Vec<String>, OpenError> {
    let failed = |error: DbErr| OpenError::Migration(one_line(&error));
    let pending: Vec<String> = Migrator::get_pending_migrations(db)
        .await
        .map_err(failed)?
        .iter()
        .map(|migration| migration.name().to_string())
        .collect();
    Migrator::up(db, None).await.map_err(failed)?;
    Ok(pending)
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so a read-then-write never fails half-way with `SQLITE_BUSY`. On
/// PostgreSQL it locks the audit chain head first: nearly every write appends to the audit
/// log, and a lock every writer takes first, before any row it touches, keeps the chain in
/// commit order without two writers ever deadlocking over it. Writers thus take turns on
/// both databases.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
        }
        _ => {
            let txn = db.begin().await?;
            audit_chain_head::Entity::find_by_id(crate::domain::audit::HEAD_ID)
                .lock_exclusive()
                .one(&txn)
                .await?;
            Ok(txn)
        }
    }
}

/// `SUM(column)` read as an `i64` on both databases: PostgreSQL sums a BIGINT into a NUMERIC,
/// which does not decode as one. `column` is SQL written in the code, never user input.
pub fn sum_i64(column: &str) -> sea_orm::sea_query::Expr {
    sea_orm::sea_query::Expr::cust(format!("CAST(SUM({column}) AS BIGINT)"))
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn one_line(error: &impl std::fmt::Display) -> String {
    error
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show_in_messages() {
        assert_eq!(
            redact("postgres://gc:s3cret@db.local/gc"),
            "postgres://gc:***@db.local/gc"
        );
        assert_eq!(
            redact("postgres://gc@db.local/gc"),
            "postgres://gc@db.local/gc"
        );
        assert_eq!(redact("sqlite://greenchip.db"), "sqlite://greenchip.db");
    }

    #[test]
    fn a_failing_checkpoint_warns_at_first_then_once_a_minute() {
        let warned: Vec<u64> = (1..=1_000).filter(|n| warn_now(*n)).collect();
        // Four checkpoints a second: the 1st failure, then every 240th (a minute apart).
        assert_eq!(warned, vec![1, 241, 481, 721, 961]);
    }

    /// Whether a pooled SQLite connection has the planner's stability guarantee on.
    async fn plans_are_stable(db: &DatabaseConnection) -> bool {
        let mut connection = db.get_sqlite_connection_pool().acquire().await.unwrap();
        let mut handle = connection.lock_handle().await.unwrap();
        plan_stability(handle.as_raw_handle(), -1) == (libsqlite3_sys::SQLITE_OK, 1)
    }

    #[tokio::test]
    async fn every_sqlite_connection_keeps_its_statements_prepared() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            database_url: format!("sqlite://{}/plans.db", dir.path().display()),
            sqlite_pool_size: 3,
            ..Config::default()
        };
        let db = open(&config).await.unwrap();
        assert!(plans_are_stable(&db).await);
        // A connection without the setting (sqlx's own) answers false: the check can fail.
        let plain = Database::connect(config.database_url.as_str())
            .await
            .unwrap();
        assert!(!plans_are_stable(&plain).await);
    }

    #[tokio::test]
    async fn committed_pages_reach_the_sqlite_file_without_waiting_for_a_commit_to_copy_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("checkpoints.db");
        let config = Config {
            database_url: format!("sqlite://{}", file.display()),
            ..Config::default()
        };
        let db = open(&config).await.unwrap();
        db.execute_unprepared("CREATE TABLE notes (body TEXT)")
            .await
            .unwrap();
        let size = || std::fs::metadata(&file).unwrap().len();
        // About 400 KB: well under the 1,000 pages at which a commit would copy them.
        db.execute_unprepared(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) \
             INSERT INTO notes SELECT hex(randomblob(2000)) FROM n",
        )
        .await
        .unwrap();
        let pause = || tokio::time::sleep(CHECKPOINT_EVERY * 3);
        let before = size();
        pause().await;
        assert_eq!(
            size(),
            before,
            "without checkpoints the pages stay in the log"
        );
        let checkpoints = spawn_checkpoints(db.clone()).unwrap();
        pause().await;
        assert!(
            size() > before + 300_000,
            "the background checkpoint copied the log: {} → {}",
            before,
            size()
        );
        checkpoints.abort();
    }

    #[tokio::test]
    async fn postgresql_connections_plan_for_their_values_without_jit() {
        let Ok(url) = std::env::var("GREENCHIP_TEST_POSTGRES_URL") else {
            return; // the PostgreSQL run of the suite checks it
        };
        let config = Config {
            database_url: url.clone(),
            ..Config::default()
        };
        let setting = |db: DatabaseConnection, name: &'static str| async move {
            db.query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Postgres,
                format!("SHOW {name}"),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<String>(0)
            .unwrap()
        };
        let db = open(&config).await.unwrap();
        assert_eq!(setting(db.clone(), "jit").await, "off");
        assert_eq!(setting(db, "plan_cache_mode").await, "force_custom_plan");
        // The server's own default differs, so the check can fail.
        let plain = Database::connect(url.as_str()).await.unwrap();
        assert_eq!(setting(plain, "plan_cache_mode").await, "auto");
    }

    #[tokio::test]
    async fn an_unsupported_url_is_one_clear_error() {
        let config = Config {
            database_url: "mysql://root@localhost/gc".into(),
            ..Config::default()
        };
        let error = open(&config).await.unwrap_err().to_string();
        assert!(error.starts_with("unsupported database URL"), "{error}");
    }

    #[tokio::test]
    async fn an_unreachable_database_is_one_clear_error() {
        let config = Config {
            database_url: "postgres://nobody@127.0.0.1:1/none".into(),
            ..Config::default()
        };
        let error = open(&config).await.unwrap_err().to_string();
        assert!(
            error.starts_with("cannot open the database at postgres://nobody@127.0.0.1:1/none"),
            "{error}"
        );
        assert!(!error.contains('\n'));
    }
}
