//! A PC or tablet enrolled as a station: it holds a long-lived station session (its token
//! hashed here) and knows which apprentice is signed in at it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "station_devices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub station_id: Uuid,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub name: String,
    pub enrolled_by: Uuid,
    pub enrolled_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<Uuid>,
    pub last_seen_at: DateTimeUtc,
    pub signed_in_user_id: Option<Uuid>,
    pub signed_in_at: Option<DateTimeUtc>,
    /// The signed-in apprentice's last action: the idle timeout counts from here.
    pub last_activity_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::station::Entity",
        from = "Column::StationId",
        to = "super::station::Column::Id"
    )]
    Station,
    /// The apprentice signed in at the device.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::SignedInUserId",
        to = "super::user::Column::Id"
    )]
    SignedIn,
}

impl Related<super::station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Station.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SignedIn.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
