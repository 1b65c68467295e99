//! One scan at a station, as received and as answered (append-only).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "scans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub device_id: Uuid,
    pub station_id: Uuid,
    /// The device's own id for the scan: a repeat returns the first answer.
    pub client_scan_id: String,
    /// The apprentice signed in when it was scanned.
    pub user_id: Option<Uuid>,
    pub raw: String,
    pub resolved_kind: Option<String>,
    pub resolved_code: Option<String>,
    /// `ok`, `unknown`, `malformed`, `bad_check`, …
    pub result: String,
    pub message: String,
    pub device_time: Option<DateTimeUtc>,
    pub at: DateTimeUtc,
    #[sea_orm(column_type = "JsonBinary")]
    pub response: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
