//! A certificate's public facts (append-only; one per certificate): the canonical text anyone
//! may read and its own seal.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificate_public_facts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub certificate_id: Uuid,
    /// The canonical JSON text that was signed.
    #[sea_orm(column_type = "Text")]
    pub canonical: String,
    pub hash: String,
    pub signature: String,
    pub public_key: String,
    pub signed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
