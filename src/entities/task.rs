//! A unit of work (work log): who, at which station, on what, from when to when, with what outcome.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub apprentice_id: Uuid,
    pub station_id: Uuid,
    pub item_id: Option<Uuid>,
    /// The action, e.g. `triage`, `dismantling`.
    pub activity: String,
    /// Server time; the device's time is kept beside it.
    pub started_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    pub outcome: Option<String>,
    pub device_started_at: Option<DateTimeUtc>,
    pub device_ended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
