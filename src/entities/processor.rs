//! A downstream processor: who takes fractions the workshop cannot recycle itself.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "processors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub name: String,
    pub address: String,
    /// Licence or permit number.
    pub permit_number: String,
    /// Material families it is licensed for, as a JSON list (`["pcb", "battery"]`).
    #[sea_orm(column_type = "JsonBinary")]
    pub families: Json,
    /// Hazardous materials it is licensed for, as a JSON list of material codes.
    #[sea_orm(column_type = "JsonBinary")]
    pub hazardous_materials: Json,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
