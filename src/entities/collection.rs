//! One hand-over of equipment from a partner.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `CO-…`
    #[sea_orm(unique)]
    pub code: String,
    pub partner_id: Uuid,
    pub received_on: Date,
    pub place: Option<String>,
    /// The partner's own reference, e.g. its delivery note number.
    pub reference: Option<String>,
    pub received_by: Option<Uuid>,
    pub notes: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
