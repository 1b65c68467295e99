//! Anything that holds mass in the ledger: an item, a lot, a melt, or one of the ledger's accounts.
//! Items, lots and melts keep their own details in their own tables under the same id.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `item`, `lot`, `melt` or `account`.
    pub kind: String,
    /// The label code (`IT-…`, `LT-…`, `MT-…`); none for accounts.
    #[sea_orm(unique)]
    pub code: Option<String>,
    /// For accounts: `intake`, or `shipped:PCB-HIGH` for an account kept per material.
    #[sea_orm(unique)]
    pub account_key: Option<String>,
    /// For accounts: `intake`, `reuse`, `shipped`, `process_loss`, `weighing_variance`.
    pub account: Option<String>,
    /// The material a lot holds, or an account's material.
    pub material_id: Option<Uuid>,
    /// For an item: the collection it came in with.
    pub collection_id: Option<Uuid>,
    pub label: String,
    /// Σ in − Σ out, kept in step with the movements.
    pub balance_g: i64,
    /// Bumped by every posting that touches the holder.
    pub version: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
