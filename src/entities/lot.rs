//! A labelled container of one material (bin, bag, pallet), or an ingot: a lot of one piece.
//! Its mass and composition are the ledger's, under the same id as its holder.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub material_id: Uuid,
    /// The station where it was opened.
    pub station_id: Option<Uuid>,
    /// `open`, `closed`, `emptied` or `shipped`.
    pub state: String,
    /// The empty container's own mass, taken off a gross reading when it is reweighed.
    pub tare_g: Option<i64>,
    /// 1 for an ingot.
    pub pieces: Option<i32>,
    /// The melt an ingot or dross was poured from.
    pub melt_id: Option<Uuid>,
    pub opened_by: Option<Uuid>,
    pub opened_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    /// `<user id>:<client id>` of the request that made it: a retry finds it.
    #[sea_orm(unique)]
    pub client_key: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The lot's ledger holder (the same id): what it holds.
    #[sea_orm(
        belongs_to = "super::holder::Entity",
        from = "Column::Id",
        to = "super::holder::Column::Id"
    )]
    Holder,
}

impl Related<super::holder::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Holder.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
