//! An issued recovery certificate (append-only): its frozen snapshot, seal and PDF.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `CE-…`
    #[sea_orm(unique)]
    pub code: String,
    /// The human sequence, `2026-0042`.
    #[sea_orm(unique)]
    pub number: String,
    pub year: i32,
    pub seq: i32,
    pub partner_id: Uuid,
    /// `collection` or `partner`.
    pub scope_kind: String,
    pub period_from: Date,
    pub period_to: Date,
    pub language: String,
    /// The canonical JSON text that was signed.
    #[sea_orm(column_type = "Text")]
    pub snapshot: String,
    pub hash: String,
    pub signature: String,
    pub public_key: String,
    /// The PDF as issued: re-downloads give these bytes.
    pub pdf: Vec<u8>,
    pub supersedes_id: Option<Uuid>,
    pub issued_by: Uuid,
    pub issued_at: DateTimeUtc,
    pub client_key: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
