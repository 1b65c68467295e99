//! A holder's mass by collection of origin (mass-balance attribution); sums to its balance.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holder_compositions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub holder_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub collection_id: Uuid,
    pub mass_g: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
