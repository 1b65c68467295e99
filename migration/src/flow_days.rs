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

/// The items received each day, counted by kind, WEEE category and state (`intake_days`),
/// with the columns named as the table's.
pub fn summed_intake_days() -> String {
    "SELECT c.received_on AS received_on, i.kind_id AS kind_id, \
       i.weee_category AS weee_category, i.state AS state, \
       CAST(SUM(i.quantity) AS BIGINT) AS items, CAST(SUM(i.gross_mass_g) AS BIGINT) AS mass_g \
     FROM items i JOIN collections c ON c.id = i.collection_id \
     GROUP BY c.received_on, i.kind_id, i.weee_category, i.state"
        .to_string()
}

/// Adds or takes away one item's pieces and mass in `intake_days` (PostgreSQL).
const PG_INTAKE_ADD: &str = "
CREATE FUNCTION greenchip_intake_days_add(
    day date, kind uuid, weee smallint, item_state text, pieces bigint, grams bigint
) RETURNS void AS $$
    INSERT INTO intake_days (received_on, kind_id, weee_category, state, items, mass_g)
    VALUES (day, kind, weee, item_state, pieces, grams)
    ON CONFLICT (received_on, kind_id, weee_category, state) DO UPDATE
    SET items = intake_days.items + excluded.items,
        mass_g = intake_days.mass_g + excluded.mass_g
$$ LANGUAGE sql";

const PG_ITEMS_TRIGGER: &str = "
CREATE FUNCTION greenchip_items_intake() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM greenchip_intake_days_add(
            (SELECT received_on FROM collections WHERE id = OLD.collection_id),
            OLD.kind_id, OLD.weee_category, OLD.state, -OLD.quantity, -OLD.gross_mass_g);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM greenchip_intake_days_add(
            (SELECT received_on FROM collections WHERE id = NEW.collection_id),
            NEW.kind_id, NEW.weee_category, NEW.state, NEW.quantity, NEW.gross_mass_g);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql";

const PG_COLLECTIONS_TRIGGER: &str = "
CREATE FUNCTION greenchip_collections_intake() RETURNS trigger AS $$
BEGIN
    IF OLD.received_on IS DISTINCT FROM NEW.received_on THEN
        PERFORM greenchip_intake_days_add(OLD.received_on, kind_id, weee_category, state,
            -CAST(SUM(quantity) AS bigint), -CAST(SUM(gross_mass_g) AS bigint))
        FROM items WHERE collection_id = NEW.id GROUP BY kind_id, weee_category, state;
        PERFORM greenchip_intake_days_add(NEW.received_on, kind_id, weee_category, state,
            CAST(SUM(quantity) AS bigint), CAST(SUM(gross_mass_g) AS bigint))
        FROM items WHERE collection_id = NEW.id GROUP BY kind_id, weee_category, state;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql";

/// One item's pieces and mass added (`NEW`, sign 1) or taken away (`OLD`, sign -1) in
/// `intake_days` (SQLite trigger body).
fn sqlite_intake_add(row: &str, sign: &str) -> String {
    format!(
        "INSERT INTO intake_days (received_on, kind_id, weee_category, state, items, mass_g) \
         SELECT c.received_on, {row}.kind_id, {row}.weee_category, {row}.state, \
           {sign} * {row}.quantity, {sign} * {row}.gross_mass_g \
         FROM collections c WHERE c.id = {row}.collection_id \
         ON CONFLICT (received_on, kind_id, weee_category, state) DO UPDATE \
         SET items = intake_days.items + excluded.items, \
             mass_g = intake_days.mass_g + excluded.mass_g;"
    )
}

/// A collection's items moved in `intake_days` to or from a reception day (SQLite).
fn sqlite_collection_moved(day: &str, sign: &str) -> String {
    format!(
        "INSERT INTO intake_days (received_on, kind_id, weee_category, state, items, mass_g) \
         SELECT {day}, kind_id, weee_category, state, {sign} * SUM(quantity), \
           {sign} * SUM(gross_mass_g) \
         FROM items WHERE collection_id = NEW.id GROUP BY kind_id, weee_category, state \
         ON CONFLICT (received_on, kind_id, weee_category, state) DO UPDATE \
         SET items = intake_days.items + excluded.items, \
             mass_g = intake_days.mass_g + excluded.mass_g;"
    )
}

/// The statements that keep `intake_days` in step with every write to items and to a
/// collection's reception day, in the database itself: no code path can forget them.
pub fn intake_days_triggers(backend: DbBackend) -> Vec<String> {
    let changes = "state, kind_id, weee_category, quantity, gross_mass_g, collection_id";
    match backend {
        DbBackend::Postgres => vec![
            PG_INTAKE_ADD.to_string(),
            PG_ITEMS_TRIGGER.to_string(),
            format!(
                "CREATE TRIGGER items_intake_days AFTER INSERT OR DELETE OR UPDATE OF {changes} \
                 ON items FOR EACH ROW EXECUTE FUNCTION greenchip_items_intake()"
            ),
            PG_COLLECTIONS_TRIGGER.to_string(),
            "CREATE TRIGGER collections_intake_days AFTER UPDATE OF received_on ON collections \
             FOR EACH ROW EXECUTE FUNCTION greenchip_collections_intake()"
                .to_string(),
        ],
        _ => vec![
            format!(
                "CREATE TRIGGER items_intake_days_insert AFTER INSERT ON items BEGIN {} END",
                sqlite_intake_add("NEW", "1")
            ),
            format!(
                "CREATE TRIGGER items_intake_days_update AFTER UPDATE OF {changes} ON items \
                 BEGIN {} {} END",
                sqlite_intake_add("OLD", "-1"),
                sqlite_intake_add("NEW", "1")
            ),
            format!(
                "CREATE TRIGGER items_intake_days_delete AFTER DELETE ON items BEGIN {} END",
                sqlite_intake_add("OLD", "-1")
            ),
            format!(
                "CREATE TRIGGER collections_intake_days AFTER UPDATE OF received_on \
                 ON collections WHEN OLD.received_on <> NEW.received_on BEGIN {} {} END",
                sqlite_collection_moved("OLD.received_on", "-1"),
                sqlite_collection_moved("NEW.received_on", "1")
            ),
        ],
    }
}
