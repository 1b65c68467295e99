//! One entry of the append-only audit log, a link of its hash chain (see `domain::audit`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    /// uuid v7: ordered by time.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub actor_id: Option<Uuid>,
    pub station_id: Option<Uuid>,
    /// What happened, e.g. `user.created`, `auth.login`.
    pub kind: String,
    /// The codes or names of what the event is about, as a JSON array of strings.
    #[sea_orm(column_type = "JsonBinary")]
    pub subjects: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub payload: Json,
    #[sea_orm(unique)]
    pub idempotency_key: Option<String>,
    /// Position in the chain, from 1, without gaps.
    #[sea_orm(unique)]
    pub seq: i64,
    /// The hash of the event before (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 of `prev_hash` and this event's canonical form, hex.
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
