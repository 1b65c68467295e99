//! An Ed25519 key the workshop signs certificates with. Retired keys stay, so the
//! certificates they signed stay verifiable.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Hex of the 32-byte public key.
    #[sea_orm(unique)]
    pub public_key: String,
    /// Hex of the 32-byte secret; none when the secret lives in the configured key file.
    pub secret_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
