//! The append-only audit log: every change writes its event in the same transaction.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;
use uuid::Uuid;

use crate::entities::event;

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

/// Writes one event. Call it with the transaction of the change it describes.
pub async fn record(
    conn: &impl ConnectionTrait,
    new: NewEvent,
) -> Result<event::Model, sea_orm::DbErr> {
    event::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(crate::clock::now()),
        actor_id: Set(new.actor_id),
        station_id: Set(new.station_id),
        kind: Set(new.kind.to_string()),
        subjects: Set(Value::from(new.subjects)),
        payload: Set(new.payload),
        idempotency_key: Set(new.idempotency_key),
    }
    .insert(conn)
    .await
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
