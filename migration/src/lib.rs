//! Schema migrations: one file per migration, never edited once landed; applied at start-up.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_foundation;
mod m20261129_000002_ledger;
mod m20261129_000003_intake;
mod m20261129_000004_stations;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_foundation::Migration),
            Box::new(m20261129_000002_ledger::Migration),
            Box::new(m20261129_000003_intake::Migration),
            Box::new(m20261129_000004_stations::Migration),
        ]
    }
}
