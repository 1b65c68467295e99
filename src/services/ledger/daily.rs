//! Daily flows (migration 8): the ledger's movements summed per UTC day and per everything the
//! supervisors' reports tell apart, in three tables of one shape ([`Table`]). Posting adds
//! each operation's movements to all three in its own transaction ([`add`]), reports read a
//! period's rows ([`read`]), and `ledger check` sums the movements afresh and compares
//! ([`differences`]), so the tables are derived from the ledger and cannot drift unseen.
//! In the tables an absent id is the nil uuid and an absent account the empty string, so
//! every column of the key is NOT NULL and one primary key serves the upsert on both
//! databases; in Rust they are `None`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query, SelectStatement};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DeriveIden, EntityTrait, ExprTrait, FromQueryResult,
    QuerySelect, Statement,
};
use uuid::Uuid;

use crate::db::sum_i64;
use crate::domain::ledger::Posted;
use crate::entities::{collection, holder, item};
use crate::error::AppResult;

#[derive(DeriveIden, Clone, Copy)]
enum FlowDays {
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

const KEY: [FlowDays; 11] = [
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

/// What the reports tell movements apart by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowKey {
    pub day: NaiveDate,
    pub op_kind: String,
    pub station_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub from_kind: String,
    pub from_account: Option<String>,
    pub to_kind: String,
    pub to_account: Option<String>,
    pub to_material_id: Option<Uuid>,
    /// When the source is an item: its equipment kind and collection.
    pub item_kind_id: Option<Uuid>,
    pub collection_id: Option<Uuid>,
}

/// The mass and number of movements of one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowSum {
    pub mass_g: i64,
    pub movements: i64,
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub key: FlowKey,
    pub sum: FlowSum,
}

/// A row as stored.
#[derive(Debug, FromQueryResult)]
struct Row {
    day: NaiveDate,
    op_kind: String,
    station_id: Uuid,
    actor_id: Uuid,
    from_kind: String,
    from_account: String,
    to_kind: String,
    to_account: String,
    to_material_id: Uuid,
    item_kind_id: Uuid,
    collection_id: Uuid,
    mass_g: i64,
    movements: i64,
}

fn id(stored: Uuid) -> Option<Uuid> {
    (!stored.is_nil()).then_some(stored)
}

fn text(stored: String) -> Option<String> {
    (!stored.is_empty()).then_some(stored)
}

impl From<Row> for Flow {
    fn from(row: Row) -> Flow {
        Flow {
            key: FlowKey {
                day: row.day,
                op_kind: row.op_kind,
                station_id: id(row.station_id),
                actor_id: id(row.actor_id),
                from_kind: row.from_kind,
                from_account: text(row.from_account),
                to_kind: row.to_kind,
                to_account: text(row.to_account),
                to_material_id: id(row.to_material_id),
                item_kind_id: id(row.item_kind_id),
                collection_id: id(row.collection_id),
            },
            sum: FlowSum {
                mass_g: row.mass_g,
                movements: row.movements,
            },
        }
    }
}

/// The three tables of daily flows, all of the shape of [`FlowKey`] and [`FlowSum`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Every key, with the item source's collection.
    Detail,
    /// Without the collection: what a period's report reads.
    Totals,
    /// What left items, by the day their collection was received (no station, no person,
    /// no collection): where a period's intake went.
    Intake,
}

impl Table {
    const ALL: [Table; 3] = [Table::Detail, Table::Totals, Table::Intake];

    fn name(self) -> &'static str {
        match self {
            Table::Detail => "flow_days",
            Table::Totals => "flow_day_totals",
            Table::Intake => "intake_flows",
        }
    }

    /// The key a detail key is summed under in this table; none when it has no row here.
    fn key_of(self, detail: &FlowKey, received_on: &HashMap<Uuid, NaiveDate>) -> Option<FlowKey> {
        match self {
            Table::Detail => Some(detail.clone()),
            Table::Totals => Some(FlowKey {
                collection_id: None,
                ..detail.clone()
            }),
            Table::Intake => Some(FlowKey {
                day: *received_on.get(&detail.collection_id?)?,
                station_id: None,
                actor_id: None,
                collection_id: None,
                ..detail.clone()
            }),
        }
    }

    /// Detail sums summed again under this table's keys.
    fn sum(
        self,
        detail: &BTreeMap<FlowKey, FlowSum>,
        received_on: &HashMap<Uuid, NaiveDate>,
    ) -> BTreeMap<FlowKey, FlowSum> {
        let mut sums: BTreeMap<FlowKey, FlowSum> = BTreeMap::new();
        for (key, sum) in detail {
            if let Some(key) = self.key_of(key, received_on) {
                let total = sums.entry(key).or_default();
                total.mass_g += sum.mass_g;
                total.movements += sum.movements;
            }
        }
        sums
    }
}

/// Adds a posted operation's movements to the daily flows, in the posting's transaction.
/// `holders` are the holders the operation touched, as loaded for posting.
pub async fn add(
    txn: &DatabaseTransaction,
    op_kind: &str,
    at: DateTime<Utc>,
    station_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    posted: &[Posted],
    holders: &[holder::Model],
) -> AppResult<()> {
    let holders: HashMap<Uuid, &holder::Model> = holders.iter().map(|h| (h.id, h)).collect();
    let item_sources: HashSet<Uuid> = posted
        .iter()
        .filter(|p| holders.get(&p.from).is_some_and(|h| h.kind == "item"))
        .map(|p| p.from)
        .collect();
    // Each item source's kind and collection, and the day that collection was received.
    let mut items: HashMap<Uuid, (Uuid, Uuid)> = HashMap::new();
    let mut received_on: HashMap<Uuid, NaiveDate> = HashMap::new();
    if !item_sources.is_empty() {
        #[derive(FromQueryResult)]
        struct Source {
            id: Uuid,
            kind_id: Uuid,
            collection_id: Uuid,
            received_on: NaiveDate,
        }
        let mut query = Query::select();
        query
            .columns([
                (item::Entity, item::Column::Id),
                (item::Entity, item::Column::KindId),
                (item::Entity, item::Column::CollectionId),
            ])
            .column((collection::Entity, collection::Column::ReceivedOn))
            .from(item::Entity)
            .inner_join(
                collection::Entity,
                Expr::col((collection::Entity, collection::Column::Id))
                    .equals((item::Entity, item::Column::CollectionId)),
            )
            .and_where(Expr::col((item::Entity, item::Column::Id)).is_in(item_sources));
        for source in Source::find_by_statement(txn.get_database_backend().build(&query))
            .all(txn)
            .await?
        {
            items.insert(source.id, (source.kind_id, source.collection_id));
            received_on.insert(source.collection_id, source.received_on);
        }
    }
    let mut detail: BTreeMap<FlowKey, FlowSum> = BTreeMap::new();
    for movement in posted {
        let (Some(from), Some(to)) = (holders.get(&movement.from), holders.get(&movement.to))
        else {
            continue;
        };
        let item = items.get(&movement.from);
        let sum = detail
            .entry(FlowKey {
                day: at.date_naive(),
                op_kind: op_kind.to_string(),
                station_id,
                actor_id,
                from_kind: from.kind.clone(),
                from_account: from.account.clone(),
                to_kind: to.kind.clone(),
                to_account: to.account.clone(),
                to_material_id: to.material_id,
                item_kind_id: item.map(|i| i.0),
                collection_id: item.map(|i| i.1),
            })
            .or_default();
        sum.mass_g += movement.mass_g;
        sum.movements += 1;
    }
    for table in Table::ALL {
        upsert(txn, table, table.sum(&detail, &received_on)).await?;
    }
    Ok(())
}

/// The day each collection was received.
async fn receptions(conn: &impl ConnectionTrait) -> AppResult<HashMap<Uuid, NaiveDate>> {
    Ok(collection::Entity::find()
        .select_only()
        .columns([collection::Column::Id, collection::Column::ReceivedOn])
        .into_tuple::<(Uuid, NaiveDate)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// Adds these sums to a table's rows (a negative sum takes away).
async fn upsert(
    txn: &DatabaseTransaction,
    table: Table,
    sums: BTreeMap<FlowKey, FlowSum>,
) -> AppResult<()> {
    if sums.is_empty() {
        return Ok(());
    }
    let name = table.name();
    let mut insert = Query::insert();
    insert.into_table(Alias::new(name)).columns(
        KEY.into_iter()
            .chain([FlowDays::MassG, FlowDays::Movements]),
    );
    for (key, sum) in sums {
        let nil = Uuid::nil();
        insert.values_panic([
            key.day.into(),
            key.op_kind.into(),
            key.station_id.unwrap_or(nil).into(),
            key.actor_id.unwrap_or(nil).into(),
            key.from_kind.into(),
            key.from_account.unwrap_or_default().into(),
            key.to_kind.into(),
            key.to_account.unwrap_or_default().into(),
            key.to_material_id.unwrap_or(nil).into(),
            key.item_kind_id.unwrap_or(nil).into(),
            key.collection_id.unwrap_or(nil).into(),
            sum.mass_g.into(),
            sum.movements.into(),
        ]);
    }
    insert.on_conflict(
        OnConflict::columns(KEY)
            .value(
                FlowDays::MassG,
                Expr::cust(format!("{name}.mass_g + excluded.mass_g")),
            )
            .value(
                FlowDays::Movements,
                Expr::cust(format!("{name}.movements + excluded.movements")),
            )
            .to_owned(),
    );
    txn.execute(&insert).await?;
    Ok(())
}

/// A collection's reception day changed from `before` to `after`: what left its items moves
/// in `intake_flows` from the one day to the other (in the caller's transaction).
pub async fn move_reception(
    txn: &DatabaseTransaction,
    collection_id: Uuid,
    before: NaiveDate,
    after: NaiveDate,
) -> AppResult<()> {
    if before == after {
        return Ok(());
    }
    let detail: BTreeMap<FlowKey, FlowSum> = read(
        txn,
        Table::Detail,
        Period {
            collections: Some(Query::select().expr(Expr::val(collection_id)).to_owned()),
            ..Period::default()
        },
    )
    .await?
    .into_iter()
    .map(|f| (f.key, f.sum))
    .collect();
    let mut moved = Table::Intake.sum(&detail, &HashMap::from([(collection_id, after)]));
    for (key, sum) in Table::Intake.sum(&detail, &HashMap::from([(collection_id, before)])) {
        moved.insert(
            key,
            FlowSum {
                mass_g: -sum.mass_g,
                movements: -sum.movements,
            },
        );
    }
    upsert(txn, Table::Intake, moved).await?;
    let mut emptied = Query::delete();
    emptied
        .from_table(Alias::new(Table::Intake.name()))
        .and_where(Expr::col(FlowDays::Day).eq(before))
        .and_where(Expr::col(FlowDays::Movements).eq(0));
    txn.execute(&emptied).await?;
    Ok(())
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct Period {
    /// First and last day, both included.
    pub days: Option<(NaiveDate, NaiveDate)>,
    /// Only flows out of items of these collections (detail only).
    pub collections: Option<SelectStatement>,
    /// Only flows out of items of this equipment kind.
    pub item_kind: Option<Uuid>,
    /// Only this operation kind (otherwise every kind but intake).
    pub op_kind: Option<&'static str>,
    /// Summed over the days in the database: one row per key but the day (its `day` is
    /// then the first day it has flows).
    pub over_days: bool,
}

/// Every row of a table, as stored.
fn rows_of(table: Table) -> SelectStatement {
    Query::select()
        .columns(KEY)
        .columns([FlowDays::MassG, FlowDays::Movements])
        .from(Alias::new(table.name()))
        .to_owned()
}

/// The daily flows of a period.
pub async fn read(
    conn: &impl ConnectionTrait,
    table: Table,
    period: Period,
) -> AppResult<Vec<Flow>> {
    let mut query = Query::select();
    if period.over_days {
        query
            .expr_as(Expr::cust("MIN(day)"), FlowDays::Day)
            .columns(KEY[1..].iter().copied())
            .expr_as(sum_i64("mass_g"), FlowDays::MassG)
            .expr_as(sum_i64("movements"), FlowDays::Movements)
            .group_by_columns(KEY[1..].iter().copied());
        query.from(Alias::new(table.name()));
    } else {
        query = rows_of(table);
    }
    match period.op_kind {
        Some(kind) => query.and_where(Expr::col(FlowDays::OpKind).eq(kind)),
        None => query.and_where(Expr::col(FlowDays::OpKind).ne("intake")),
    };
    if let Some((from, to)) = period.days {
        query
            .and_where(Expr::col(FlowDays::Day).gte(from))
            .and_where(Expr::col(FlowDays::Day).lte(to));
    }
    if let Some(collections) = period.collections {
        query.and_where(Expr::col(FlowDays::CollectionId).in_subquery(collections));
    }
    if let Some(kind) = period.item_kind {
        query.and_where(Expr::col(FlowDays::ItemKindId).eq(kind));
    }
    let statement = conn.get_database_backend().build(&query);
    Ok(Row::find_by_statement(statement)
        .all(conn)
        .await?
        .into_iter()
        .map(Flow::from)
        .collect())
}

/// Where the stored daily flows differ from the movements summed afresh, in words.
pub async fn differences(conn: &impl ConnectionTrait) -> AppResult<Vec<String>> {
    let backend = conn.get_database_backend();
    let detail: BTreeMap<FlowKey, FlowSum> = Row::find_by_statement(Statement::from_string(
        backend,
        migration::flow_days::summed_movements(backend),
    ))
    .all(conn)
    .await?
    .into_iter()
    .map(Flow::from)
    .map(|f| (f.key, f.sum))
    .collect();
    let received_on = receptions(conn).await?;
    let mut differences = Vec::new();
    for table in Table::ALL {
        let mut fresh = table.sum(&detail, &received_on);
        let stored = Row::find_by_statement(backend.build(&rows_of(table)))
            .all(conn)
            .await?;
        let name = table.name();
        for flow in stored.into_iter().map(Flow::from) {
            let summed = fresh.remove(&flow.key).unwrap_or_default();
            if summed != flow.sum {
                differences.push(format!(
                    "daily flows ({name}) of {} ({} from {} to {}): {} g in {} movements \
                     stored, the movements add up to {} g in {}",
                    flow.key.day,
                    flow.key.op_kind,
                    flow.key.from_kind,
                    flow.key.to_kind,
                    flow.sum.mass_g,
                    flow.sum.movements,
                    summed.mass_g,
                    summed.movements
                ));
            }
        }
        for (key, sum) in fresh {
            differences.push(format!(
                "daily flows ({name}) of {} ({} from {} to {}): the movements add up to {} g \
                 in {}, none stored",
                key.day, key.op_kind, key.from_kind, key.to_kind, sum.mass_g, sum.movements
            ));
        }
    }
    Ok(differences)
}
