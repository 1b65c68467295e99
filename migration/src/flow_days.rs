//! The daily flows' sums as SQL. Defined here, beside the migration that fills the tables from
//! the movements already posted, so that the migration and the service's `ledger check`
//! (`greenchip::services::ledger::daily`) sum with the one same query.

use sea_orm_migration::sea_orm::DbBackend;

/// The nil uuid as a literal: an absent id in the daily flows.
fn nil(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "CAST('00000000-0000-0000-0000-000000000000' AS uuid)",
        // sqlx stores a uuid as 16 bytes.
        _ => "X'00000000000000000000000000000000'",
    }
}

/// Every movement summed per UTC day and per the daily flows' key (`flow_days`), with the
/// columns named as the table's. An absent id is the nil uuid and an absent account the
/// empty string.
pub fn summed_movements(backend: DbBackend) -> String {
    let day = match backend {
        DbBackend::Postgres => "CAST(o.at AT TIME ZONE 'UTC' AS DATE)",
        // sqlx stores a time as RFC 3339 text in UTC.
        _ => "substr(o.at, 1, 10)",
    };
    let nil = nil(backend);
    format!(
        "SELECT {day} AS day, o.kind AS op_kind, \
           COALESCE(o.station_id, {nil}) AS station_id, \
           COALESCE(o.actor_id, {nil}) AS actor_id, \
           hf.kind AS from_kind, COALESCE(hf.account, '') AS from_account, \
           ht.kind AS to_kind, COALESCE(ht.account, '') AS to_account, \
           COALESCE(ht.material_id, {nil}) AS to_material_id, \
           COALESCE(i.kind_id, {nil}) AS item_kind_id, \
           COALESCE(i.collection_id, {nil}) AS collection_id, \
           CAST(SUM(m.mass_g) AS BIGINT) AS mass_g, CAST(COUNT(*) AS BIGINT) AS movements \
         FROM movements m \
           JOIN operations o ON o.id = m.operation_id \
           JOIN holders hf ON hf.id = m.from_holder_id \
           JOIN holders ht ON ht.id = m.to_holder_id \
           LEFT JOIN items i ON i.id = m.from_holder_id \
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"
    )
}

/// `flow_days` without the collection (`flow_day_totals`).
pub fn summed_totals(backend: DbBackend) -> String {
    let nil = nil(backend);
    format!(
        "SELECT day, op_kind, station_id, actor_id, from_kind, from_account, to_kind, \
           to_account, to_material_id, item_kind_id, {nil} AS collection_id, \
           CAST(SUM(mass_g) AS BIGINT) AS mass_g, CAST(SUM(movements) AS BIGINT) AS movements \
         FROM flow_days GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
    )
}

/// What left items, by the day their collection was received (`intake_flows`).
pub fn summed_intake(backend: DbBackend) -> String {
    let nil = nil(backend);
    format!(
        "SELECT c.received_on AS day, f.op_kind, {nil} AS station_id, {nil} AS actor_id, \
           f.from_kind, f.from_account, f.to_kind, f.to_account, f.to_material_id, \
           f.item_kind_id, {nil} AS collection_id, \
           CAST(SUM(f.mass_g) AS BIGINT) AS mass_g, \
           CAST(SUM(f.movements) AS BIGINT) AS movements \
         FROM flow_days f JOIN collections c ON c.id = f.collection_id \
         GROUP BY 1, 2, 5, 6, 7, 8, 9, 10"
    )
}
