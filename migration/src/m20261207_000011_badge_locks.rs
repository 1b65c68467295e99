//! Wrong PINs counted per badge (issue 19, items 1 and 2): five within the window lock the
//! badge for a while. A small table of its own, keyed `badge:<code>` like the shared failure
//! counter the login throttle is moving to, so it can move there later without a new key.
//! Rows are counters, not history: the audit log keeps every failure.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BadgeLocks {
    Table,
    Key,
    Failures,
    FirstFailureAt,
    LockedUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BadgeLocks::Table)
                    .col(string(BadgeLocks::Key).primary_key())
                    .col(integer(BadgeLocks::Failures))
                    .col(timestamp_with_time_zone(BadgeLocks::FirstFailureAt))
                    .col(timestamp_with_time_zone_null(BadgeLocks::LockedUntil))
                    .to_owned(),
            )
            .await
    }
}
