//! A kind of equipment (desktop PC, laptop, CRT monitor, …) with its WEEE category and
//! typical mass and split into fractions.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "equipment_kinds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// e.g. `desktop_pc`.
    #[sea_orm(unique)]
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    /// Directive 2012/19/EU Annex III category, 1 to 6.
    pub weee_category: i16,
    pub typical_mass_g: i64,
    /// Whether items of this kind bear data by default.
    pub data_bearing: bool,
    /// Typical split in percent of mass, e.g. `FE-STEEL:70;PL-MIX:6`.
    pub typical_fractions: String,
    pub active: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
