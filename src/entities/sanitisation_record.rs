//! A data sanitisation (NIST SP 800-88: clear, purge or destroy) of an item or one of its drives.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sanitisation_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub item_id: Uuid,
    /// A removed drive's own serial, when recorded separately.
    pub drive_serial: Option<String>,
    /// `clear`, `purge` or `destroy`.
    pub method: String,
    /// Software and version, degausser, drill or shredder.
    pub tool: String,
    pub verified: bool,
    /// How it was verified.
    pub verification: Option<String>,
    pub success: bool,
    pub operator_id: Uuid,
    pub station_id: Option<Uuid>,
    pub at: DateTimeUtc,
    pub device_time: Option<DateTimeUtc>,
    pub notes: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
