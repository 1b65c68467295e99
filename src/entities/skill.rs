//! An apprentice's level at a station kind, set by a supervisor (the latest entry counts).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "skills")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub apprentice_id: Uuid,
    pub station_kind: String,
    /// `introduced`, `practising` or `autonomous`.
    pub level: String,
    pub note: Option<String>,
    pub set_by: Uuid,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
