//! A person who uses greenchip: admin, supervisor, apprentice or partner.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Login name, unique.
    #[sea_orm(unique)]
    pub name: String,
    pub display_name: String,
    #[sea_orm(unique)]
    pub email: Option<String>,
    /// One of `admin`, `supervisor`, `apprentice`, `partner`.
    pub role: String,
    /// Argon2id PHC string; none for accounts that cannot log in with a password.
    pub password_hash: Option<String>,
    /// An apprentice's badge code (`AP-…`).
    #[sea_orm(unique)]
    pub badge_code: Option<String>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    /// For a partner user: the partner it belongs to.
    pub partner_id: Option<Uuid>,
    /// An apprentice's optional 4-digit PIN (Argon2id), asked after the badge at a station.
    pub pin_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
