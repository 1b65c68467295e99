//! A workstation: intake, triage, sanitisation, refurbishment, dismantling, sorting, smelting, shipping.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `ST-…`
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    /// A [`crate::domain::lifecycle::StationKind`].
    pub kind: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
