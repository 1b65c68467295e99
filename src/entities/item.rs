//! One piece of equipment received in a collection; a holder of the ledger under the same id.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `IT-…`
    #[sea_orm(unique)]
    pub code: String,
    pub collection_id: Uuid,
    pub kind_id: Uuid,
    pub weee_category: i16,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    /// As weighed at intake (kept in step with mass corrections, which the ledger records).
    pub gross_mass_g: i64,
    /// More than one for bulk small items weighed together (40 keyboards as one item).
    pub quantity: i32,
    pub data_bearing: bool,
    pub condition_notes: Option<String>,
    /// Lifecycle state: `received`, `triaged`, …
    pub state: String,
    pub received_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// Triage's decision: `reuse`, `dismantle` or `ship_whole`.
    pub route: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
