//! An organisation that hands equipment over: company, school, public body, mine site.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partners")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
    /// `fr` or `en`: the language its certificates are issued in.
    pub language: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
