//! Opening the database (SQLite file or PostgreSQL), applying migrations, and write transactions.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QuerySelect, SqliteTransactionMode, TransactionOptions, TransactionTrait,
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

/// Opens the database the URL names. SQLite: created if missing, WAL, foreign keys on,
/// busy timeout. PostgreSQL: a pool.
pub async fn open(config: &Config) -> Result<DatabaseConnection, OpenError> {
    let url = config.database_url.trim();
    let shown = redact(url);
    let mut options = ConnectOptions::new(url.to_string());
    options.sqlx_logging(false);
    if is_sqlite(url) {
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
            });
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        options
            .max_connections(config.postgres_pool_size)
            // While PostgreSQL is away a request waits at most this long for a connection,
            // then answers 503; a request that needs two waits stays under ten seconds.
            .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
            // A connection broken by a restart is found out before use and replaced, so
            // service resumes by itself when PostgreSQL is back.
            .test_before_acquire(true);
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
