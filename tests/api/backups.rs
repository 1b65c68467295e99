//! Backups and restores: an online SQLite copy taken under write load restores into a fresh
//! database with every row, a clean ledger and an intact audit chain; bad backups and
//! non-empty targets are refused and change nothing; PostgreSQL goes through pg_dump.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::Utc;
use greenchip::Config;
use greenchip::domain::ledger::{Movement, OperationKind};
use greenchip::entities::{event, operation};
use greenchip::services::backups::{self, BackupError};
use greenchip::services::{audit, ledger as ledger_service};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, Statement,
};
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::ledger;

/// A test app and its configuration (for the backup, which opens the database itself).
async fn app_and_config() -> (TestApp, Config) {
    let mut url = String::new();
    let app = TestApp::with_config(|config| url = config.database_url.clone()).await;
    let config = Config {
        database_url: url,
        ..Config::default()
    };
    (app, config)
}

fn sqlite_config(path: &Path) -> Config {
    Config {
        database_url: format!("sqlite://{}", path.display()),
        ..Config::default()
    }
}

/// Rows per table of a SQLite file, read directly.
async fn row_counts(path: &Path) -> BTreeMap<String, i64> {
    let db = Database::connect(format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect();
    let mut counts = BTreeMap::new();
    for table in tables {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("SELECT COUNT(*) FROM \"{table}\""),
            ))
            .await
            .unwrap()
            .unwrap();
        counts.insert(table, row.try_get_by_index::<i64>(0).unwrap());
    }
    db.close().await.unwrap();
    counts
}

fn is_sqlite(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Sqlite
}

#[tokio::test]
async fn a_backup_under_write_load_restores_every_row_a_clean_ledger_and_an_intact_chain() {
    let (app, config) = app_and_config().await;
    if !is_sqlite(&app.db) {
        return; // PostgreSQL: see `on_postgres_a_backup_is_a_pg_dump_archive…`.
    }
    let db = &app.db;
    let school = ledger::partner(db, "Lycée Ibn Sina").await;
    let received = ledger::collection(db, &school, Utc::now().date_naive()).await;

    // Four writers receive items and sort them into a lot until told to stop, noting every
    // operation the database acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for writer in 0..4i64 {
        let (db, stop, received) = (db.clone(), stop.clone(), received.clone());
        let progress = progress.clone();
        writers.push(tokio::spawn(async move {
            let bin = ledger::lot(&db, "CU-CABLE").await;
            let mut acknowledged: Vec<(Uuid, std::time::Instant)> = Vec::new();
            let mut step = 0i64;
            while !stop.load(Ordering::Relaxed) {
                let bundle = ledger::item(&db, &received).await;
                let mass_g = 1_000 + writer * 100 + step;
                let intake = ledger::receive(&db, &bundle, mass_g).await;
                acknowledged.push((intake.operation.id, std::time::Instant::now()));
                let sorted = ledger::post(
                    &db,
                    OperationKind::Dismantle,
                    vec![Movement::new(bundle.id, bin.id, mass_g)],
                )
                .await
                .unwrap();
                acknowledged.push((sorted.operation.id, std::time::Instant::now()));
                progress.fetch_add(2, Ordering::Relaxed);
                step += 1;
            }
            acknowledged
        }));
    }
    let until = |count: usize| {
        let progress = progress.clone();
        async move {
            while progress.load(Ordering::Relaxed) < count {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    };
    until(16).await;

    let folder = tempfile::tempdir().unwrap();
    let copy = folder.path().join("greenchip-backup.db");
    let started = std::time::Instant::now();
    let report = backups::backup(&config, &copy, false).await.unwrap();
    let at_backup = progress.load(Ordering::Relaxed);
    until(at_backup + 8).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    assert!(report.bytes > 0);

    // The copy is the source at one instant: a prefix of its audit chain, every operation
    // acknowledged before the backup began, and the writers went on after it.
    let in_copy = row_counts(&copy).await;
    let events_in_copy = in_copy["events"];
    assert_eq!(report.events, Some(events_in_copy as u64));
    let source_events = event::Entity::find().all(db).await.unwrap();
    assert!(
        source_events.len() as i64 > events_in_copy,
        "the writers carried on during and after the backup"
    );
    let copy_db = Database::connect(format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    let copied_events = event::Entity::find().all(&copy_db).await.unwrap();
    for copied in &copied_events {
        let source = source_events
            .iter()
            .find(|e| e.id == copied.id)
            .expect("every copied event is in the source");
        assert_eq!(source, copied);
    }
    let seqs: Vec<i64> = copied_events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events_in_copy).collect::<Vec<_>>());
    let before_backup: Vec<Uuid> = acknowledged
        .iter()
        .filter(|(_, at)| *at < started)
        .map(|(id, _)| *id)
        .collect();
    assert!(before_backup.len() >= 16, "{} before", before_backup.len());
    let copied_operations = operation::Entity::find()
        .filter(operation::Column::Id.is_in(before_backup.clone()))
        .all(&copy_db)
        .await
        .unwrap();
    assert_eq!(copied_operations.len(), before_backup.len());
    copy_db.close().await.unwrap();

    // Restored into a fresh database: the same rows, a clean ledger, an intact chain.
    let elsewhere = tempfile::tempdir().unwrap();
    let restored_path = elsewhere.path().join("restored.db");
    let restored_config = sqlite_config(&restored_path);
    let restored = backups::restore(&restored_config, &copy, false)
        .await
        .unwrap();
    assert_eq!(restored.events, events_in_copy as u64);
    assert!(restored.kept.is_none());
    assert_eq!(row_counts(&restored_path).await, in_copy);
    let restored_db = greenchip::db::open_and_migrate(&restored_config)
        .await
        .unwrap();
    let check = ledger_service::check::check(&restored_db).await.unwrap();
    assert!(check.is_clean(), "{:#?}", check.differences);
    assert_eq!(check.sum_g, 0);
    let chain = audit::verify(&restored_db).await.unwrap();
    assert!(chain.is_intact(), "{:?}", chain.damage);
    assert_eq!(chain.verified, events_in_copy as u64);
    restored_db.close().await.unwrap();
}

/// A small greenchip database at `path`, closed again.
async fn small_database(path: &Path) {
    let db = greenchip::db::open_and_migrate(&sqlite_config(path))
        .await
        .unwrap();
    greenchip::services::users::ensure_initial_admin(&db)
        .await
        .unwrap();
    db.close().await.unwrap();
}

fn leftovers(folder: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().contains(".restore-"))
        .collect()
}

#[tokio::test]
async fn a_restore_refuses_bad_backups_and_a_database_in_use_unless_forced() {
    // Plain SQLite files, whichever database the suite runs on.
    let folder = tempfile::tempdir().unwrap();
    let source = folder.path().join("source.db");
    small_database(&source).await;
    let copy = folder.path().join("copy.db");
    backups::backup(&sqlite_config(&source), &copy, false)
        .await
        .unwrap();

    // A backup never overwrites a file.
    let again = backups::backup(&sqlite_config(&source), &copy, false).await;
    assert!(
        matches!(again, Err(BackupError::TargetExists(_))),
        "{again:?}"
    );

    // The target already holds a workshop's history: refused, then replaced with --force.
    let target = folder.path().join("target.db");
    small_database(&target).await;
    let before = std::fs::read(&target).unwrap();
    let refused = backups::restore(&sqlite_config(&target), &copy, false).await;
    let message = refused.as_ref().unwrap_err().to_string();
    assert!(
        matches!(refused, Err(BackupError::TargetNotEmpty { .. })),
        "{message}"
    );
    assert!(message.contains("--force"), "{message}");
    assert_eq!(std::fs::read(&target).unwrap(), before, "nothing changed");

    // Bad backups: not SQLite at all, cut short, or from a newer greenchip. Each refused,
    // the target untouched, no temporary file left.
    let garbage = folder.path().join("garbage.db");
    std::fs::write(&garbage, b"this is not a database, just a note".repeat(200)).unwrap();
    let truncated = folder.path().join("truncated.db");
    let whole = std::fs::read(&copy).unwrap();
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    let newer = folder.path().join("newer.db");
    std::fs::copy(&copy, &newer).unwrap();
    let newer_db = Database::connect(format!("sqlite://{}", newer.display()))
        .await
        .unwrap();
    newer_db
        .execute_unprepared(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000001_future', 0)",
        )
        .await
        .unwrap();
    newer_db.close().await.unwrap();
    let foreign = folder.path().join("foreign.db");
    let foreign_db = Database::connect(format!("sqlite://{}?mode=rwc", foreign.display()))
        .await
        .unwrap();
    foreign_db
        .execute_unprepared("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello')")
        .await
        .unwrap();
    foreign_db.close().await.unwrap();
    for (bad, reason) in [
        (&garbage, "not a SQLite database"),
        (&truncated, ""),
        (&newer, "m20991231_000001_future"),
        (&foreign, "no greenchip migrations"),
    ] {
        let refused = backups::restore(&sqlite_config(&target), bad, true).await;
        let message = match refused {
            Err(error @ BackupError::BadBackup { .. }) => error.to_string(),
            other => panic!(
                "{} was not refused as a bad backup: {other:?}",
                bad.display()
            ),
        };
        assert!(message.contains(reason), "{message}");
        assert!(message.contains("nothing was changed"), "{message}");
        assert_eq!(std::fs::read(&target).unwrap(), before, "{message}");
        assert_eq!(leftovers(folder.path()), Vec::<PathBuf>::new());
    }
    let missing = backups::restore(
        &sqlite_config(&target),
        &folder.path().join("none.db"),
        true,
    )
    .await;
    assert!(
        matches!(missing, Err(BackupError::Missing(_))),
        "{missing:?}"
    );

    // Forced: the target becomes the backup, and what it held is kept beside it.
    let restored = backups::restore(&sqlite_config(&target), &copy, true)
        .await
        .unwrap();
    let kept = restored.kept.expect("a copy of the replaced database");
    assert_eq!(std::fs::read(&kept).unwrap(), before);
    assert_eq!(row_counts(&target).await, row_counts(&copy).await);
    assert_eq!(leftovers(folder.path()), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn the_commands_back_up_and_restore_through_the_binary() {
    let (app, config) = app_and_config().await;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("nightly.backup");
    let run = |args: &[&str], url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_greenchip"))
            .args(args)
            .args(["--database-url", url])
            .env("GREENCHIP_CONFIG", "/nonexistent/greenchip.toml")
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run greenchip")
    };
    let file_arg = file.to_str().unwrap();
    let made = run(&["backup", file_arg], &config.database_url);
    let said = String::from_utf8_lossy(&made.stdout).into_owned();
    assert!(
        made.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(said.contains(&format!("to {file_arg}")), "{said}");
    let again = run(&["backup", file_arg], &config.database_url);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    if is_sqlite(&app.db) {
        let restored_path = folder.path().join("restored.db");
        let url = format!("sqlite://{}", restored_path.display());
        let restored = run(&["restore", file_arg], &url);
        let said = String::from_utf8_lossy(&restored.stdout).into_owned();
        assert!(
            restored.status.success(),
            "{said} {}",
            String::from_utf8_lossy(&restored.stderr)
        );
        assert!(
            said.starts_with(&format!("restored {file_arg} into")),
            "{said}"
        );
        let verified = run(&["audit", "verify"], &url);
        assert!(
            verified.status.success(),
            "{}",
            String::from_utf8_lossy(&verified.stderr)
        );
    } else {
        // A pg_dump archive; restoring it is pg_restore's job, and the refusal says how.
        let header = std::fs::read(&file).unwrap();
        assert!(header.starts_with(b"PGDMP"), "a pg_dump custom archive");
        let refused = run(&["restore", file_arg], &config.database_url);
        assert!(!refused.status.success());
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains("pg_restore --clean"), "{said}");
        assert!(said.contains(file_arg), "{said}");
    }
}
