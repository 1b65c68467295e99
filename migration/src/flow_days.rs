//! The daily flows' sum of the movements, as SQL. Defined here, beside the migration that
//! fills the table from the movements already posted, so that the migration and the
//! service's `ledger check` (`greenchip::services::ledger::daily`) sum with the one same query.

use sea_orm_migration::sea_orm::DbBackend;

/// Every movement summed per UTC day and per the daily flows' key, with the columns named as
/// the table's. An absent id is the nil uuid and an absent account the empty string.
pub fn summed_movements(backend: DbBackend) -> String {
    let (day, nil) = match backend {
        DbBackend::Postgres => (
            "CAST(o.at AT TIME ZONE 'UTC' AS DATE)",
            "CAST('00000000-0000-0000-0000-000000000000' AS uuid)",
        ),
        // sqlx stores a uuid as 16 bytes and a time as RFC 3339 text in UTC.
        _ => ("substr(o.at, 1, 10)", "X'00000000000000000000000000000000'"),
    };
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
