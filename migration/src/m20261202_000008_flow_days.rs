//! Daily flows: the ledger's movements summed per UTC day and per everything the supervisors'
//! reports tell apart (operation kind, station, person, both ends' kinds and accounts, the
//! destination's material, and the kind and collection of an item source). Posting an
//! operation adds its movements here in the same transaction, so a month's report reads a few
//! thousand rows instead of every movement, and `ledger check` recomputes the table from the
//! movements to prove it has not drifted. Absent ids are the nil uuid and absent accounts the
//! empty string, so the whole row key is NOT NULL and one primary key serves every upsert.
//!
//! Also indexes for the reports: the items of a collection with what intake counts (read from
//! the index alone), the items still holding mass, operations by kind and time, and the
//! operations that carry a reason.

use crate::flow_days::summed_movements;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FlowDays {
    Table,
    Day,
    OpKind,
    StationId,
    ActorId,
    FromKind,
    FromAccount,
    ToKind,
    ToAccount,
    ToMaterialId,
    ItemKindId,
    CollectionId,
    MassG,
    Movements,
}

#[derive(DeriveIden)]
enum Items {
    Table,
    CollectionId,
    KindId,
    WeeeCategory,
    State,
    GrossMassG,
    Quantity,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let key = [
            FlowDays::Day,
            FlowDays::OpKind,
            FlowDays::StationId,
            FlowDays::ActorId,
            FlowDays::FromKind,
            FlowDays::FromAccount,
            FlowDays::ToKind,
            FlowDays::ToAccount,
            FlowDays::ToMaterialId,
            FlowDays::ItemKindId,
            FlowDays::CollectionId,
        ];
        let mut primary_key = Index::create();
        for column in key {
            primary_key.col(column);
        }
        manager
            .create_table(
                Table::create()
                    .table(FlowDays::Table)
                    .col(date(FlowDays::Day))
                    .col(string(FlowDays::OpKind))
                    .col(uuid(FlowDays::StationId))
                    .col(uuid(FlowDays::ActorId))
                    .col(string(FlowDays::FromKind))
                    .col(string(FlowDays::FromAccount))
                    .col(string(FlowDays::ToKind))
                    .col(string(FlowDays::ToAccount))
                    .col(uuid(FlowDays::ToMaterialId))
                    .col(uuid(FlowDays::ItemKindId))
                    .col(uuid(FlowDays::CollectionId))
                    .col(big_integer(FlowDays::MassG))
                    .col(big_integer(FlowDays::Movements))
                    .primary_key(&mut primary_key)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("flow_days_collection")
                    .table(FlowDays::Table)
                    .col(FlowDays::CollectionId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("items_intake")
                    .table(Items::Table)
                    .col(Items::CollectionId)
                    .col(Items::KindId)
                    .col(Items::WeeeCategory)
                    .col(Items::State)
                    .col(Items::GrossMassG)
                    .col(Items::Quantity)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX holders_items_holding ON holders (id) \
             WHERE kind = 'item' AND balance_g > 0",
        )
        .await?;
        // A period's pours, and its steps a supervisor let through with a reason.
        db.execute_unprepared("CREATE INDEX operations_kind_at ON operations (kind, at)")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX operations_with_reason ON operations (at) WHERE reason IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(&backfill(manager.get_database_backend()))
            .await?;
        Ok(())
    }
}

/// Every movement so far, summed the way posting sums it.
fn backfill(backend: DbBackend) -> String {
    format!(
        "INSERT INTO flow_days (day, op_kind, station_id, actor_id, from_kind, from_account, \
           to_kind, to_account, to_material_id, item_kind_id, collection_id, mass_g, movements) {}",
        summed_movements(backend)
    )
}
