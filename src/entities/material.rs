//! A catalogue grade of material (copper cable, PCB high grade, …) with its waste code.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "materials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// e.g. `CU-CABLE`.
    #[sea_orm(unique)]
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    /// e.g. `copper`, `pcb`, `ferrous`.
    pub family: String,
    /// European Waste Catalogue code, `*` marking a hazardous entry.
    pub ewc_code: Option<String>,
    pub hazardous: bool,
    pub handling: Option<String>,
    pub active: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
