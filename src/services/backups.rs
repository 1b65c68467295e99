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
    /// Whether the certificate signing secret is in it (`--with-signing-key`, or a
    /// PostgreSQL dump, which holds every column).
    pub signing_secret: bool,
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

/// Backs up the configured database into `target`, a new file readable by its owner only,
/// while the service runs. The certificate signing secret is left out unless
/// `with_signing_secret`: a backup travels (a USB stick, another machine), and whoever holds
/// the secret can sign certificates in the workshop's name. [`restore`] keeps the key of the
/// database it replaces, so a backup without it loses nothing.
pub async fn backup(
    config: &Config,
    target: &Path,
    with_signing_secret: bool,
) -> Result<BackupReport, BackupError> {
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
    let source = if is_postgres(url) {
        None
    } else {
        let source = sqlite_path(url).ok_or_else(|| BackupError::Unsupported(db::redact(url)))?;
        if !source.is_file() {
            return Err(BackupError::Missing(source));
        }
        Some(source)
    };
    // Made empty and private first: the copy's contents never exist under a wider mode.
    crate::files::create_private(target).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => BackupError::TargetExists(target.to_path_buf()),
        _ => BackupError::Io(format!("cannot create {}: {error}", target.display())),
    })?;
    if source.is_none() {
        return pg_dump(url, target).await;
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
    if let Err(error) = copied {
        let _ = std::fs::remove_file(target);
        return Err(error.into());
    }
    // A single self-contained file, ready to copy to a USB stick.
    let copy = open_file(target).await?;
    copy.execute_unprepared("PRAGMA journal_mode = DELETE")
        .await?;
    if !with_signing_secret {
        // Overwritten where it lay, not only unlinked from the table.
        copy.execute_unprepared("PRAGMA secure_delete = ON").await?;
        copy.execute_unprepared("UPDATE signing_keys SET secret_key = NULL")
            .await?;
        copy.execute_unprepared("VACUUM").await?;
    }
    let events = count_events(&copy).await?;
    copy.close().await.ok();
    Ok(BackupReport {
        path: target.to_path_buf(),
        bytes: file_size(target)?,
        signing_secret: with_signing_secret,
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
        signing_secret: true,
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
    let checked = match checked {
        Ok(checked) => keep_signing_keys(&target, &temporary, config)
            .await
            .map(|()| checked),
        Err(error) => Err(error),
    };
    let (events, migration) = match checked {
        Ok(checked) => checked,
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            remove_sidecars(&temporary);
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

/// Carries the signing keys of the database being replaced into the restored copy: a secret
/// the backup left out is put back where the same key is, and a key made since the backup is
/// added. A current key left without its secret (a backup restored on a new machine, no key
/// file configured) is retired, so the next start makes a new key while the old public keys
/// stay published and the certificates they signed stay verifiable.
async fn keep_signing_keys(
    replaced: &Path,
    copy: &Path,
    config: &Config,
) -> Result<(), BackupError> {
    let has_keys = |db: &DatabaseConnection| {
        let db = db.clone();
        async move {
            table_names(&db)
                .await
                .is_ok_and(|tables| tables.iter().any(|t| t == "signing_keys"))
        }
    };
    let replaced_has_keys = if replaced.exists() && file_size(replaced)? > 0 {
        let db = open_file(replaced).await?;
        let found = has_keys(&db).await;
        db.close().await.ok();
        found
    } else {
        false
    };
    let restored = open_file(copy).await?;
    let outcome = async {
        if !has_keys(&restored).await {
            return Ok(());
        }
        if replaced_has_keys {
            let path = replaced
                .to_str()
                .ok_or_else(|| BackupError::Io(format!("{} is not UTF-8", replaced.display())))?;
            // One connection: the attached database stays with the statements below.
            restored
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "ATTACH DATABASE ? AS replaced",
                    [path.into()],
                ))
                .await?;
            for statement in [
                "UPDATE main.signing_keys SET secret_key = (SELECT r.secret_key \
                 FROM replaced.signing_keys r WHERE r.public_key = signing_keys.public_key) \
                 WHERE secret_key IS NULL AND public_key IN (SELECT public_key \
                 FROM replaced.signing_keys WHERE secret_key IS NOT NULL)",
                "INSERT INTO main.signing_keys SELECT * FROM replaced.signing_keys r \
                 WHERE r.secret_key IS NOT NULL AND r.public_key NOT IN \
                 (SELECT public_key FROM main.signing_keys)",
            ] {
                restored.execute_unprepared(statement).await?;
            }
            // The key that signs now in the replaced database signs on: any other current
            // key of the backup is retired.
            restored
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "UPDATE main.signing_keys SET retired_at = ? \
                     WHERE retired_at IS NULL AND EXISTS (SELECT 1 FROM replaced.signing_keys r \
                     WHERE r.retired_at IS NULL AND r.secret_key IS NOT NULL) \
                     AND public_key NOT IN (SELECT public_key FROM replaced.signing_keys \
                     WHERE retired_at IS NULL AND secret_key IS NOT NULL)",
                    [chrono::Utc::now().into()],
                ))
                .await?;
            restored
                .execute_unprepared("DETACH DATABASE replaced")
                .await?;
        }
        if config.signing_key_file.is_none() {
            restored
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "UPDATE signing_keys SET retired_at = ? \
                     WHERE retired_at IS NULL AND secret_key IS NULL",
                    [chrono::Utc::now().into()],
                ))
                .await?;
        }
        Ok::<_, BackupError>(())
    }
    .await;
    restored.close().await.ok();
    outcome
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
