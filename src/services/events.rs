//! The append-only audit log: every change writes its event in the same transaction, as the
//! next link of the hash chain (see `domain::audit`).

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::audit;
use crate::entities::{audit_chain_head, event};

/// An event about to be recorded.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    pub actor_id: Option<Uuid>,
    pub station_id: Option<Uuid>,
    pub kind: &'static str,
    pub subjects: Vec<String>,
    pub payload: Value,
    /// Set for writes a device may retry; recording the same key twice fails with a
    /// unique violation, which the caller turns into "already done".
    pub idempotency_key: Option<String>,
}

impl NewEvent {
    pub fn new(kind: &'static str, actor_id: Option<Uuid>) -> NewEvent {
        NewEvent {
            kind,
            actor_id,
            payload: Value::Object(Default::default()),
            ..NewEvent::default()
        }
    }

    pub fn subject(mut self, subject: impl Into<String>) -> NewEvent {
        self.subjects.push(subject.into());
        self
    }

    pub fn payload(mut self, payload: Value) -> NewEvent {
        self.payload = payload;
        self
    }
}

/// Writes one event, chained after the last one. Call it with the write transaction of the
/// change it describes (begun with `db::begin_write`): the chain head is read and advanced in
/// that transaction, so events are chained in the order their transactions commit. (Outside
/// one, two racing writers cannot fork the chain either: the second one's sequence number
/// is taken and its insert fails.)
pub async fn record(txn: &impl ConnectionTrait, new: NewEvent) -> Result<event::Model, DbErr> {
    let mut head = audit_chain_head::Entity::find_by_id(audit::HEAD_ID);
    // `begin_write` has locked it already on PostgreSQL; taking it again costs nothing and
    // keeps the chain in order should a transaction come from elsewhere.
    if txn.get_database_backend() == DbBackend::Postgres {
        head = head.lock_exclusive();
    }
    let head = head.one(txn).await?.ok_or_else(|| {
        DbErr::RecordNotFound("the audit chain head is missing: run `greenchip migrate`".into())
    })?;
    let mut recorded = event::Model {
        id: Uuid::now_v7(),
        at: audit::to_micros(crate::clock::now()),
        actor_id: new.actor_id,
        station_id: new.station_id,
        kind: new.kind.to_string(),
        subjects: Value::from(new.subjects),
        payload: new.payload,
        idempotency_key: new.idempotency_key,
        seq: head.seq + 1,
        prev_hash: head.hash,
        hash: String::new(),
    };
    recorded.hash = audit::hash(&recorded.prev_hash, &audit::link_of(&recorded));
    // A repeated idempotency key fails here, before the head moves.
    event::Entity::insert(recorded.clone().into_active_model().reset_all())
        .exec_without_returning(txn)
        .await?;
    audit_chain_head::Entity::update_many()
        .col_expr(audit_chain_head::Column::Seq, Expr::value(recorded.seq))
        .col_expr(
            audit_chain_head::Column::Hash,
            Expr::value(recorded.hash.clone()),
        )
        .filter(audit_chain_head::Column::Id.eq(audit::HEAD_ID))
        .exec(txn)
        .await?;
    Ok(recorded)
}

/// Which events to list: newest first.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub kind: Option<String>,
    pub actor_id: Option<Uuid>,
    /// Only events older than this one (for paging backwards).
    pub before: Option<Uuid>,
    /// At most this many, up to 500; 0 means 100.
    pub limit: u64,
}

pub async fn list(
    conn: &impl ConnectionTrait,
    filter: EventFilter,
) -> Result<Vec<event::Model>, sea_orm::DbErr> {
    let mut query = event::Entity::find();
    if let Some(kind) = filter.kind {
        query = query.filter(event::Column::Kind.eq(kind));
    }
    if let Some(actor_id) = filter.actor_id {
        query = query.filter(event::Column::ActorId.eq(actor_id));
    }
    if let Some(before) = filter.before {
        query = query.filter(event::Column::Id.lt(before));
    }
    query
        .order_by_desc(event::Column::Id)
        .limit(if filter.limit == 0 {
            100
        } else {
            filter.limit.min(500)
        })
        .all(conn)
        .await
}
