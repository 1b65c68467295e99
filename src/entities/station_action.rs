//! An action taken at a station, kept with its answer so a replay answers the same.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "station_actions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub device_id: Uuid,
    pub station_id: Uuid,
    pub client_action_id: String,
    pub user_id: Option<Uuid>,
    pub item_id: Uuid,
    pub action: String,
    pub at: DateTimeUtc,
    #[sea_orm(column_type = "JsonBinary")]
    pub response: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
