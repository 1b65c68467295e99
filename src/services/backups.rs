//! Backups and restores. SQLite: an online, consistent copy (`VACUUM INTO`) while the service
//! runs, and a restore that checks the copy before it replaces the database in one rename.
//! PostgreSQL: PostgreSQL's own `pg_dump` (run when it is on the PATH) and `pg_restore`.

use std::path::{Path, PathBuf};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};

use crate::config::Config;
use crate::db;

/// Why a backup or a restore was refused or failed, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists: a backup never overwrites a file, choose a new name")]
    TargetExists(PathBuf),
    #[error("the folder {0} does not exist")]
    NoFolder(PathBuf),
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error(
        "unsupported database URL “{0}”: backups need sqlite://path/to/file.db or postgres://…"
    )]
    Unsupported(String),
    #[error(
        "pg_dump is not on the PATH: install PostgreSQL's client tools, or run it yourself: {0}"
    )]
    NoPgDump(String),
    #[error("pg_dump failed: {0}")]
    PgDump(String),
    #[error("greenchip does not replace a PostgreSQL database itself; restore the dump with: {0}")]
    PostgresRestore(String),
    #[error("{path} is not a usable greenchip backup: {reason}; nothing was changed")]
    BadBackup { path: PathBuf, reason: String },
    #[error(
        "{path} is not empty ({holds}): restoring would replace it; stop greenchip and add --force to replace it (a copy of it is kept)"
    )]
    TargetNotEmpty { path: PathBuf, holds: String },
    #[error("the database {0} is in use: stop greenchip before restoring")]
    InUse(PathBuf),
    #[error("{0}")]
    Io(String),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    /// Audit events in the backup, for SQLite; none for a `pg_dump` archive.
    pub events: Option<u64>,
}

/// What a restore put in place.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    pub path: PathBuf,
    pub events: u64,
    /// The last migration the backup had applied.
    pub migration: String,
    /// Where the database that was replaced is kept (with `--force`).
    pub kept: Option<PathBuf>,
}

/// The file a `sqlite:` URL names (without its `?options`); none for another database.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.trim().strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn is_postgres(url: &str) -> bool {
    let url = url.trim();
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The `pg_dump` command that backs up `url` into `target` (custom format: compressed, and
/// `pg_restore` can restore it table by table).
pub fn pg_dump_command(url: &str, target: &Path) -> String {
    format!(
        "pg_dump --format=custom --file={} --dbname={}",
        shell_quote(&target.display().to_string()),
        shell_quote(&without_password(url))
    )
}

/// The `pg_restore` command that restores `backup` into `url`, replacing what it holds.
pub fn pg_restore_command(url: &str, backup: &Path) -> String {
    format!(
        "pg_restore --clean --if-exists --no-owner --single-transaction --dbname={} {}",
        shell_quote(&without_password(url)),
        shell_quote(&backup.display().to_string())
    )
}

/// The URL without its password, still usable: the PostgreSQL tools then ask for it or read
/// it from `~/.pgpass` (or `PGPASSWORD`).
fn without_password(url: &str) -> String {
    let url = url.trim();
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn shell_quote(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:@=+,%".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Backs up the configured database into `target`, a new file, while the service runs.
pub async fn backup(config: &Config, target: &Path) -> Result<BackupReport, BackupError> {
    if target.exists() {
        return Err(BackupError::TargetExists(target.to_path_buf()));
    }
    if let Some(folder) = target.parent()
        && !folder.as_os_str().is_empty()
        && !folder.is_dir()
    {
        return Err(BackupError::NoFolder(folder.to_path_buf()));
    }
    let url = config.database_url.trim();
    if is_postgres(url) {
        return pg_dump(url, target).await;
    }
    let source = sqlite_path(url).ok_or_else(|| BackupError::Unsupported(db::redact(url)))?;
    if !source.is_file() {
        return Err(BackupError::Missing(source));
    }
    // Not `open_and_migrate`: a backup taken before an upgrade must be of the old schema.
    let db = db::open(config)
        .await
        .map_err(|error| BackupError::Io(error.to_string()))?;
    let target_text = target
        .to_str()
        .ok_or_else(|| BackupError::Io(format!("{} is not a UTF-8 path", target.display())))?;
    // One statement reading one snapshot: writers carry on meanwhile (WAL), and the copy is
    // the database as it was at one instant, already compacted.
    let copied = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "VACUUM INTO ?",
            [target_text.into()],
        ))
        .await;
    db.close().await.ok();
    copied?;
    // A single self-contained file, ready to copy to a USB stick.
    let copy = open_file(target).await?;
    copy.execute_unprepared("PRAGMA journal_mode = DELETE")
        .await?;
    let events = count_events(&copy).await?;
    copy.close().await.ok();
    Ok(BackupReport {
        path: target.to_path_buf(),
        bytes: file_size(target)?,
        events: Some(events),
    })
}

async fn pg_dump(url: &str, target: &Path) -> Result<BackupReport, BackupError> {
    let command = pg_dump_command(url, target);
    let (url, path) = (url.to_string(), target.to_path_buf());
    let outcome = tokio::task::spawn_blocking(move || {
        std::process::Command::new("pg_dump")
            .arg("--format=custom")
            .arg(format!("--file={}", path.display()))
            .arg(format!("--dbname={url}"))
            .output()
    })
    .await
    .map_err(|error| BackupError::Io(error.to_string()))?;
    let output = match outcome {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(BackupError::NoPgDump(command));
        }
        Err(error) => return Err(BackupError::PgDump(error.to_string())),
    };
    if !output.status.success() {
        let _ = std::fs::remove_file(target);
        let said = String::from_utf8_lossy(&output.stderr);
        return Err(BackupError::PgDump(
            said.split_whitespace().collect::<Vec<_>>().join(" "),
        ));
    }
    Ok(BackupReport {
        path: target.to_path_buf(),
        bytes: file_size(target)?,
        events: None,
    })
}

/// Restores a SQLite backup into the configured database: the backup must pass SQLite's
/// integrity check and be a greenchip database whose migrations this binary knows; the
/// database it replaces must be empty unless `force` (then a copy of it is kept). The
/// checked copy replaces the database in one rename, so a failure half-way changes nothing.
/// greenchip must not be running on that database meanwhile.
pub async fn restore(
    config: &Config,
    backup: &Path,
    force: bool,
) -> Result<RestoreReport, BackupError> {
    let url = config.database_url.trim();
    if is_postgres(url) {
        return Err(BackupError::PostgresRestore(pg_restore_command(
            url, backup,
        )));
    }
    let target = sqlite_path(url).ok_or_else(|| BackupError::Unsupported(db::redact(url)))?;
    if !backup.is_file() {
        return Err(BackupError::Missing(backup.to_path_buf()));
    }
    let folder = match target.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Err(BackupError::NoFolder(folder));
    }
    let holds = contents_of(&target).await?;
    if let Some(holds) = &holds
        && !force
    {
        return Err(BackupError::TargetNotEmpty {
            path: target,
            holds: holds.clone(),
        });
    }

    // Check the very bytes that will be renamed into place.
    let name = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "greenchip.db".into());
    let temporary = folder.join(format!(".{name}.restore-{}", uuid::Uuid::now_v7().simple()));
    let checked = async {
        std::fs::copy(backup, &temporary).map_err(|error| {
            BackupError::Io(format!(
                "cannot copy {} to {}: {error}",
                backup.display(),
                temporary.display()
            ))
        })?;
        let checked = check_backup(&temporary, backup).await;
        remove_sidecars(&temporary);
        let checked = checked?;
        std::fs::File::open(&temporary)
            .and_then(|file| file.sync_all())
            .map_err(|error| BackupError::Io(format!("cannot sync the copy: {error}")))?;
        Ok::<_, BackupError>(checked)
    }
    .await;
    let (events, migration) = match checked {
        Ok(checked) => checked,
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            return Err(error);
        }
    };

    let kept = if holds.is_some() {
        match keep_copy(&target).await {
            Ok(kept) => Some(kept),
            Err(error) => {
                let _ = std::fs::remove_file(&temporary);
                return Err(error);
            }
        }
    } else {
        None
    };
    // The replaced database's journal files belong to it, not to the restored one.
    remove_sidecars(&target);
    std::fs::rename(&temporary, &target).map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        BackupError::Io(format!(
            "cannot move the restored database into place at {}: {error}",
            target.display()
        ))
    })?;
    if let Ok(directory) = std::fs::File::open(&folder) {
        let _ = directory.sync_all();
    }
    Ok(RestoreReport {
        path: target,
        events,
        migration,
        kept,
    })
}

/// What a database file holds, in words, or none when it is absent or empty of anything
/// anyone did (no audit event: every change writes one).
async fn contents_of(path: &Path) -> Result<Option<String>, BackupError> {
    if !path.exists() || file_size(path)? == 0 {
        return Ok(None);
    }
    let db = open_file(path).await?;
    let tables = table_names(&db).await;
    let holds = match tables {
        Err(_) => Some("it is not a SQLite database".to_string()),
        Ok(tables) if tables.iter().any(|table| table == "events") => {
            let events = count_events(&db).await?;
            (events > 0).then(|| format!("{events} audit events"))
        }
        Ok(tables) if tables.is_empty() => None,
        Ok(tables) => Some(format!("{} tables, not greenchip's", tables.len())),
    };
    db.close().await.ok();
    Ok(holds)
}

/// Checks a copy of a backup: SQLite's integrity check, greenchip's migrations, none newer
/// than this binary's. Answers its audit events and last migration.
async fn check_backup(copy: &Path, shown: &Path) -> Result<(u64, String), BackupError> {
    let bad = |reason: String| BackupError::BadBackup {
        path: shown.to_path_buf(),
        reason,
    };
    let db = connect_file(copy)
        .await
        .map_err(|error| bad(format!("not a SQLite database ({})", sqlite_cause(&error))))?;
    let outcome = async {
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await
            .map_err(|error| bad(format!("not a SQLite database ({})", sqlite_cause(&error))))?;
        let findings: Vec<String> = rows
            .iter()
            .filter_map(|row| row.try_get_by_index::<String>(0).ok())
            .collect();
        if findings != ["ok"] {
            return Err(bad(format!(
                "SQLite's integrity check failed: {}",
                findings.join("; ")
            )));
        }
        let applied: Vec<String> = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT version FROM seaql_migrations ORDER BY version",
            ))
            .await
            .map_err(|_| bad("it has no greenchip migrations".into()))?
            .iter()
            .filter_map(|row| row.try_get_by_index::<String>(0).ok())
            .collect();
        let known: Vec<String> = Migrator::migrations()
            .iter()
            .map(|migration| migration.name().to_string())
            .collect();
        if applied.first() != known.first() {
            return Err(bad("it has no greenchip migrations".into()));
        }
        if let Some(newer) = applied.iter().find(|name| !known.contains(name)) {
            return Err(bad(format!(
                "it was made by a newer greenchip (migration {newer} is unknown to this one): restore it with that version"
            )));
        }
        let events = count_events(&db).await?;
        Ok((events, applied.last().cloned().unwrap_or_default()))
    }
    .await;
    db.close().await.ok();
    outcome
}

/// Keeps a copy of the database about to be replaced, beside it; refuses when it is in use.
async fn keep_copy(target: &Path) -> Result<PathBuf, BackupError> {
    let db = open_file(target).await?;
    // Folds the write-ahead log into the file, so the file alone is the database. Busy
    // means another connection is reading or writing it: greenchip is running.
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(TRUNCATE)",
        ))
        .await?;
    db.close().await.ok();
    if row.and_then(|row| row.try_get_by_index::<i32>(0).ok()) == Some(1) {
        return Err(BackupError::InUse(target.to_path_buf()));
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let kept = PathBuf::from(format!("{}.before-restore-{stamp}", target.display()));
    std::fs::copy(target, &kept).map_err(|error| {
        BackupError::Io(format!(
            "cannot keep a copy of {} at {}: {error}",
            target.display(),
            kept.display()
        ))
    })?;
    Ok(kept)
}

/// Opens an existing SQLite file, one connection, never creating it.
async fn open_file(path: &Path) -> Result<DatabaseConnection, BackupError> {
    connect_file(path)
        .await
        .map_err(|error| BackupError::Io(format!("cannot open {}: {error}", path.display())))
}

async fn connect_file(path: &Path) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(format!("sqlite://{}", path.display()));
    options
        .sqlx_logging(false)
        .max_connections(1)
        .min_connections(1)
        .map_sqlx_sqlite_opts(|opts| opts.create_if_missing(false));
    Database::connect(options).await
}

/// SQLite's own words for what is wrong, without the layers around them.
fn sqlite_cause(error: &DbErr) -> String {
    let text = error.to_string();
    let cause = text
        .rsplit_once("error returned from database: ")
        .map_or(text.as_str(), |(_, cause)| cause);
    cause.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn table_names(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    Ok(db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        ))
        .await?
        .iter()
        .filter_map(|row| row.try_get_by_index::<String>(0).ok())
        .collect())
}

async fn count_events(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT COUNT(*) FROM events",
        ))
        .await?;
    Ok(row
        .and_then(|row| row.try_get_by_index::<i64>(0).ok())
        .unwrap_or(0)
        .max(0) as u64)
}

fn file_size(path: &Path) -> Result<u64, BackupError> {
    std::fs::metadata(path)
        .map(|meta| meta.len())
        .map_err(|error| BackupError::Io(format!("cannot read {}: {error}", path.display())))
}

/// Removes a SQLite file's write-ahead log and shared-memory index, if any.
fn remove_sidecars(path: &Path) {
    for suffix in ["-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite://greenchip.db"),
            Some(PathBuf::from("greenchip.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/greenchip/gc.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/greenchip/gc.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:data/gc.db"),
            Some(PathBuf::from("data/gc.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://gc@db/gc"), None);
    }

    #[test]
    fn the_postgres_commands_are_exact_and_hide_the_password() {
        assert_eq!(
            pg_dump_command(
                "postgres://gc:s3cret@db.local/gc",
                Path::new("/backups/gc 1.dump")
            ),
            "pg_dump --format=custom --file='/backups/gc 1.dump' --dbname=postgres://gc@db.local/gc"
        );
        assert_eq!(
            pg_restore_command("postgres://gc@db.local/gc", Path::new("gc.dump")),
            "pg_restore --clean --if-exists --no-owner --single-transaction --dbname=postgres://gc@db.local/gc gc.dump"
        );
    }
}
