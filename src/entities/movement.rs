//! Mass moved from one holder to another within an operation, with its split by collection.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "movements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub operation_id: Uuid,
    /// Order within the operation.
    pub seq: i32,
    pub from_holder_id: Uuid,
    pub to_holder_id: Uuid,
    pub mass_g: i64,
    /// `{collection id: grams}`, summing to `mass_g`.
    #[sea_orm(column_type = "JsonBinary")]
    pub parts: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
