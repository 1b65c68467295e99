//! Fractions handed to a downstream processor (append-only). What left, and from which lots,
//! is the shipment's ledger operation.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub processor_id: Uuid,
    pub shipped_on: Date,
    pub transport_document: String,
    pub carrier: String,
    #[sea_orm(unique)]
    pub operation_id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
