//! The audit log becomes a hash chain: every event gets a sequence number, the hash of the
//! event before it and its own hash (see [`crate::audit_chain`]); a one-row chain head holds
//! the last sequence number and hash, and writers lock it to append in a well-defined order.
//! Events recorded before this migration are chained here, in the order of their ids (uuid
//! v7, ordered by time), so every database chains them the same way.

use crate::audit_chain::{self, GENESIS, Link};
use crate::make_append_only;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, Value as DbValue};
use uuid::Uuid;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Seq,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditChainHead {
    Table,
    Id,
    Seq,
    Hash,
}

/// Events read and chained at a time.
const PAGE: usize = 1000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // Also on SQLite: the events are open to updates only inside this one transaction.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        match backend {
            DbBackend::Postgres => {
                // No instance may append while the existing events are chained.
                db.execute_unprepared("LOCK TABLE events IN EXCLUSIVE MODE")
                    .await?;
                db.execute_unprepared("DROP TRIGGER events_append_only ON events")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER events_no_update")
                    .await?;
                db.execute_unprepared("DROP TRIGGER events_no_delete")
                    .await?;
            }
        }
        // SQLite adds one column per statement; NOT NULL needs a default there.
        for column in [
            big_integer(Events::Seq).default(0).to_owned(),
            string(Events::PrevHash).default("").to_owned(),
            string(Events::Hash).default("").to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Events::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }

        let (seq, hash) = chain_existing(db, backend).await?;

        manager
            .create_index(
                Index::create()
                    .name("events_seq")
                    .table(Events::Table)
                    .col(Events::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditChainHead::Table)
                    .col(integer(AuditChainHead::Id).primary_key())
                    .col(big_integer(AuditChainHead::Seq))
                    .col(string(AuditChainHead::Hash))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(AuditChainHead::Table)
                    .columns([
                        AuditChainHead::Id,
                        AuditChainHead::Seq,
                        AuditChainHead::Hash,
                    ])
                    .values_panic([1.into(), seq.into(), hash.into()])
                    .to_owned(),
            )
            .await?;
        make_append_only(manager, "events").await?;
        Ok(())
    }
}

/// Chains every event in id order; answers the last sequence number and hash.
async fn chain_existing(
    db: &impl ConnectionTrait,
    backend: DbBackend,
) -> Result<(i64, String), DbErr> {
    let (json, after, update) = match backend {
        DbBackend::Postgres => (
            "subjects::text AS subjects, payload::text AS payload",
            "$1",
            "UPDATE events SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4",
        ),
        _ => (
            "subjects, payload",
            "?",
            "UPDATE events SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?",
        ),
    };
    let columns = format!("id, at, actor_id, station_id, kind, {json}, idempotency_key");
    let mut seq = 0i64;
    let mut prev = GENESIS.to_string();
    let mut last: Option<Uuid> = None;
    loop {
        let page = match last {
            None => {
                db.query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT {columns} FROM events ORDER BY id LIMIT {PAGE}"),
                ))
                .await?
            }
            Some(id) => {
                db.query_all_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "SELECT {columns} FROM events WHERE id > {after} ORDER BY id LIMIT {PAGE}"
                    ),
                    [DbValue::from(id)],
                ))
                .await?
            }
        };
        for row in &page {
            let id: Uuid = row.try_get("", "id")?;
            let text = |column: &str| -> Result<serde_json::Value, DbErr> {
                let stored: String = row.try_get("", column)?;
                serde_json::from_str(&stored).map_err(|error| {
                    DbErr::Migration(format!("event {id}: unreadable {column}: {error}"))
                })
            };
            let subjects = text("subjects")?;
            let payload = text("payload")?;
            let kind: String = row.try_get("", "kind")?;
            let idempotency_key: Option<String> = row.try_get("", "idempotency_key")?;
            seq += 1;
            let link = Link {
                seq,
                id,
                at: row.try_get("", "at")?,
                actor_id: row.try_get("", "actor_id")?,
                station_id: row.try_get("", "station_id")?,
                kind: &kind,
                subjects: &subjects,
                payload: &payload,
                idempotency_key: idempotency_key.as_deref(),
            };
            let hash = audit_chain::hash(&prev, &link);
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                update,
                [
                    DbValue::from(seq),
                    DbValue::from(prev.clone()),
                    DbValue::from(hash.clone()),
                    DbValue::from(id),
                ],
            ))
            .await?;
            prev = hash;
            last = Some(id);
        }
        if page.len() < PAGE {
            return Ok((seq, prev));
        }
    }
}
