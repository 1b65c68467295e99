//! Rate-limit counts kept in the database (`throttles`), so every instance behind a load
//! balancer shares them and a restart forgets nothing. The rules are pure
//! (`domain::throttle`); this module reads and writes the counts.
//!
//! A key names what is counted: `account:<user id>`, `name:<lower-cased login>`,
//! `address:<ip>`, `device:<token hash>`, `lookup:<ip>`, and whatever a later caller needs
//! (`badge:<id>` for failed PIN entries, …). The API:
//!
//! - [`take`]: the usual call before an attempt. Answers 429 (`TooManyRequests`, with the
//!   seconds to wait) when any key must wait, counting nothing; otherwise counts one on every
//!   key. Counting *before* the attempt is checked means a burst of simultaneous attempts
//!   cannot all slip through while the first is still being checked.
//! - [`give_back`] / [`forget`]: after the attempt succeeded, return its count to a key
//!   (an address, whose other people still count) or forget the key's failures altogether
//!   (the account just proven).
//! - [`count`]: what is counted for a key now.
//!
//! Writes are one transaction that serialises on the keys it counts: SQLite's write lock
//! (`BEGIN IMMEDIATE`), or on PostgreSQL a transaction-scoped advisory lock per key, taken in
//! key order so two writers never deadlock (and, unlike `begin_write`, without the audit
//! chain head: a lookup need not wait for every other write). Expired rows are deleted after
//! each write; on PostgreSQL rows a writer holds are skipped rather than waited for.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, Set, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};

use crate::domain::throttle::{Rule, Tally};
use crate::entities::throttle;
use crate::error::{AppError, AppResult};

/// Counts one on every key unless one of them must wait: then 429 and nothing counted.
pub async fn take(
    db: &DatabaseConnection,
    keys: &[(&str, Rule)],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = begin(db, keys.iter().map(|(key, _)| *key)).await?;
    let tallies = tallies(&txn, keys.iter().map(|(key, _)| *key)).await?;
    let wait_s = longest_wait(keys, &tallies, now);
    if wait_s > 0 {
        txn.rollback().await?;
        return Err(AppError::TooManyRequests {
            retry_after_s: wait_s,
        });
    }
    count_one(&txn, keys, &tallies, now).await?;
    txn.commit().await?;
    sweep(db, now).await?;
    Ok(())
}

/// What is counted for `key` at `now` (0 once expired).
pub async fn count(db: &DatabaseConnection, key: &str, now: DateTime<Utc>) -> AppResult<u32> {
    let tallies = tallies(db, [key]).await?;
    Ok(Tally::live(tallies.get(key), now).map_or(0, |tally| tally.count))
}

/// Forgets everything counted for these keys.
pub async fn forget(db: &DatabaseConnection, keys: &[&str]) -> AppResult<()> {
    throttle::Entity::delete_many()
        .filter(throttle::Column::Key.is_in(keys.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Takes back one count from `key` (an attempt [`take`] counted that turned out fine).
pub async fn give_back(db: &DatabaseConnection, key: &str) -> AppResult<()> {
    let txn = begin(db, [key]).await?;
    if let Some(found) = tallies(&txn, [key]).await?.get(key)
        && found.count > 0
    {
        throttle::Entity::update_many()
            .col_expr(
                throttle::Column::Count,
                sea_orm::sea_query::Expr::value(found.count as i32 - 1),
            )
            .filter(throttle::Column::Key.eq(key))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A write transaction holding `keys` (see the module header).
async fn begin<'a>(
    db: &DatabaseConnection,
    keys: impl IntoIterator<Item = &'a str>,
) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db.begin().await?;
            let mut keys: Vec<&str> = keys.into_iter().collect();
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                    [key.into()],
                ))
                .await?;
            }
            Ok(txn)
        }
        _ => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
        }
    }
}

async fn tallies<'a>(
    conn: &impl ConnectionTrait,
    keys: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, Tally>, DbErr> {
    let rows = throttle::Entity::find()
        .filter(throttle::Column::Key.is_in(keys))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let tally = Tally {
                count: row.count.max(0) as u32,
                last_at: row.last_at,
                expires_at: row.expires_at,
            };
            (row.key, tally)
        })
        .collect())
}

fn longest_wait(
    keys: &[(&str, Rule)],
    tallies: &HashMap<String, Tally>,
    now: DateTime<Utc>,
) -> u64 {
    keys.iter()
        .map(|(key, rule)| rule.wait_s(tallies.get(*key), now))
        .max()
        .unwrap_or(0)
}

async fn count_one(
    txn: &DatabaseTransaction,
    keys: &[(&str, Rule)],
    tallies: &HashMap<String, Tally>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for (key, rule) in keys {
        let counted = rule.counted(tallies.get(*key), now);
        throttle::Entity::insert(throttle::ActiveModel {
            key: Set(key.to_string()),
            count: Set(counted.count.min(i32::MAX as u32) as i32),
            last_at: Set(counted.last_at),
            expires_at: Set(counted.expires_at),
        })
        .on_conflict(
            OnConflict::column(throttle::Column::Key)
                .update_columns([
                    throttle::Column::Count,
                    throttle::Column::LastAt,
                    throttle::Column::ExpiresAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Deletes expired counts. On PostgreSQL a row another writer holds is skipped: waiting for
/// it while that writer waits for a row deleted here would be a deadlock.
async fn sweep(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "DELETE FROM throttles WHERE key IN (SELECT key FROM throttles \
                 WHERE expires_at <= $1 LIMIT 1000 FOR UPDATE SKIP LOCKED)",
                [now.into()],
            ))
            .await?;
        }
        _ => {
            throttle::Entity::delete_many()
                .filter(throttle::Column::ExpiresAt.lte(now))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}
