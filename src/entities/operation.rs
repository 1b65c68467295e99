//! One ledger operation: a group of movements posted atomically, with who, where and why.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "operations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `intake`, `dismantle`, `transfer`, `reweigh`, `charge`, `pour`, `reuse`, `ship`, `correction`.
    pub kind: String,
    pub actor_id: Option<Uuid>,
    pub station_id: Option<Uuid>,
    pub at: DateTimeUtc,
    #[sea_orm(unique)]
    pub idempotency_key: Option<String>,
    pub reason: Option<String>,
    /// For a correction: the operation it reverses.
    #[sea_orm(unique)]
    pub corrects_id: Option<Uuid>,
    /// The audit event recorded with it.
    pub event_id: Uuid,
    #[sea_orm(column_type = "JsonBinary")]
    pub payload: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
