//! Daily flows: the ledger's movements summed per UTC day and per everything the supervisors'
//! reports tell apart (operation kind, station, person, both ends' kinds and accounts, the
//! destination's material, and the kind and collection of an item source). Posting an
//! operation adds its movements here in the same transaction, and `ledger check` sums the
//! movements afresh to prove nothing has drifted. Three tables of one shape:
//!
//! - `flow_days`: the detail, with the item source's collection;
//! - `flow_day_totals`: the same without the collection (the collection column holds the
//!   nil uuid), what a month's report reads: a few thousand rows, not 800,000 movements;
//! - `intake_flows`: what left the items, by the day their collection was received (station
//!   and person nil): where a period's intake went, for the mass-balance diagram.
//!
//! Absent ids are the nil uuid and absent accounts the empty string, so the whole row key is
//! NOT NULL and one primary key serves every upsert on both databases.
//!
//! And `intake_days`: the items received each day, by kind, WEEE category and state, with
//! their pieces and mass, kept by triggers on `items` and on a collection's reception day in
//! the database itself, so no code path that creates an item or moves it through its life
//! can forget it. A period's intake and fate read a few hundred rows instead of every item.
//!
//! Also indexes for the reports: the items of a collection with what intake counts (read from
//! the index alone), holders by kind and balance (the items still holding mass), operations by kind and time, operations
//! that carry a reason, and the detail by material and day (copper by partner).

use crate::flow_days::{
    intake_days_triggers, summed_intake, summed_intake_days, summed_movements, summed_totals,
};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
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
enum IntakeDays {
    Table,
    ReceivedOn,
    KindId,
    WeeeCategory,
    State,
    Items,
    MassG,
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
        for table in TABLES {
            let mut primary_key = Index::create();
            for column in key {
                primary_key.col(column);
            }
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new(table))
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
        }
        manager
            .create_index(
                Index::create()
                    .name("flow_days_material_day")
                    .table(FlowDays::Table)
                    .col(FlowDays::ToMaterialId)
                    .col(FlowDays::Day)
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
        // Not a partial index: SQLite's planner passes one by when the values are bound.
        db.execute_unprepared("CREATE INDEX holders_kind_balance ON holders (kind, balance_g)")
            .await?;
        // A period's pours, and its steps a supervisor let through with a reason.
        db.execute_unprepared("CREATE INDEX operations_kind_at ON operations (kind, at)")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX operations_with_reason ON operations (at) WHERE reason IS NOT NULL",
        )
        .await?;
        for statement in backfill(manager.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }

        // The items received each day by kind, WEEE category and state, kept by triggers.
        manager
            .create_table(
                Table::create()
                    .table(IntakeDays::Table)
                    .col(date(IntakeDays::ReceivedOn))
                    .col(uuid(IntakeDays::KindId))
                    .col(small_integer(IntakeDays::WeeeCategory))
                    .col(string(IntakeDays::State))
                    .col(big_integer(IntakeDays::Items))
                    .col(big_integer(IntakeDays::MassG))
                    .primary_key(
                        Index::create()
                            .col(IntakeDays::ReceivedOn)
                            .col(IntakeDays::KindId)
                            .col(IntakeDays::WeeeCategory)
                            .col(IntakeDays::State),
                    )
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO intake_days (received_on, kind_id, weee_category, state, items, mass_g) \
             {}",
            summed_intake_days()
        ))
        .await?;
        for statement in intake_days_triggers(manager.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}

const TABLES: [&str; 3] = ["flow_days", "flow_day_totals", "intake_flows"];

/// Every movement so far, summed the way posting sums it: the detail from the movements, the
/// other two from the detail.
fn backfill(backend: DbBackend) -> [String; 3] {
    let columns = "day, op_kind, station_id, actor_id, from_kind, from_account, to_kind, \
                   to_account, to_material_id, item_kind_id, collection_id, mass_g, movements";
    [
        format!(
            "INSERT INTO flow_days ({columns}) {}",
            summed_movements(backend)
        ),
        format!(
            "INSERT INTO flow_day_totals ({columns}) {}",
            summed_totals(backend)
        ),
        format!(
            "INSERT INTO intake_flows ({columns}) {}",
            summed_intake(backend)
        ),
    ]
}
