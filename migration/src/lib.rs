//! Schema migrations: one file per migration, never edited once landed; applied at start-up.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_foundation;
mod m20261129_000002_ledger;
mod m20261129_000003_intake;
mod m20261129_000004_stations;
mod m20261129_000005_material_flows;
mod m20261129_000006_certificates;
mod m20261129_000007_audit_chain;
mod m20261202_000008_flow_days;
mod m20261207_000009_certificate_public_facts;
mod m20261207_000010_throttles;
mod m20261207_000011_badge_locks;

pub mod audit_chain;
pub mod flow_days;

pub struct Migrator;

use sea_orm_migration::sea_orm::DbBackend;

/// A foreign key from `(table, column)` to `(table, column)`.
pub(crate) fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}

/// An index on `columns` of `table`.
pub(crate) async fn add_index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut statement = Index::create().name(name).table(table).to_owned();
    for column in columns {
        statement.col(column);
    }
    if unique {
        statement.unique();
    }
    manager.create_index(statement).await
}

/// Makes a table append-only in the database itself: triggers refuse every UPDATE and
/// DELETE (on PostgreSQL through `greenchip_refuse_change`, made by the first migration).
pub(crate) async fn make_append_only(
    manager: &SchemaManager<'_>,
    table: &str,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                 FOR EACH ROW EXECUTE FUNCTION greenchip_refuse_change()"
            ))
            .await?;
        }
        _ => {
            for action in ["UPDATE", "DELETE"] {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_no_{lower} BEFORE {action} ON {table}
                     BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
                    lower = action.to_lowercase()
                ))
                .await?;
            }
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_foundation::Migration),
            Box::new(m20261129_000002_ledger::Migration),
            Box::new(m20261129_000003_intake::Migration),
            Box::new(m20261129_000004_stations::Migration),
            Box::new(m20261129_000005_material_flows::Migration),
            Box::new(m20261129_000006_certificates::Migration),
            Box::new(m20261129_000007_audit_chain::Migration),
            Box::new(m20261202_000008_flow_days::Migration),
            Box::new(m20261207_000009_certificate_public_facts::Migration),
            Box::new(m20261207_000010_throttles::Migration),
            Box::new(m20261207_000011_badge_locks::Migration),
        ]
    }
}
