//! Daily flows (migration 8): the ledger's movements summed per UTC day and per everything the
//! supervisors' reports tell apart. Posting adds each operation's movements here in its own
//! transaction ([`add`]), reports read a period's rows ([`read`]), and `ledger check` sums the
//! movements afresh and compares ([`differences`]), so the table is derived from the ledger
//! and cannot drift unseen. In the table an absent id is the nil uuid and an absent account
//! the empty string, so every column of the key is NOT NULL and one primary key serves the
//! upsert on both databases; in Rust they are `None`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DeriveIden, EntityTrait, ExprTrait,
    FromQueryResult, QueryFilter, QuerySelect, Statement,
};
use uuid::Uuid;

use crate::domain::ledger::Posted;
use crate::entities::{holder, item};
use crate::error::AppResult;

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
    let items: HashMap<Uuid, (Uuid, Uuid)> = if item_sources.is_empty() {
        HashMap::new()
    } else {
        item::Entity::find()
            .select_only()
            .columns([
                item::Column::Id,
                item::Column::KindId,
                item::Column::CollectionId,
            ])
            .filter(item::Column::Id.is_in(item_sources))
            .into_tuple::<(Uuid, Uuid, Uuid)>()
            .all(txn)
            .await?
            .into_iter()
            .map(|(id, kind, collection)| (id, (kind, collection)))
            .collect()
    };
    let mut sums: BTreeMap<FlowKey, FlowSum> = BTreeMap::new();
    for movement in posted {
        let (Some(from), Some(to)) = (holders.get(&movement.from), holders.get(&movement.to))
        else {
            continue;
        };
        let item = items.get(&movement.from);
        let sum = sums
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
    if sums.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert.into_table(FlowDays::Table).columns(
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
                Expr::cust("flow_days.mass_g + excluded.mass_g"),
            )
            .value(
                FlowDays::Movements,
                Expr::cust("flow_days.movements + excluded.movements"),
            )
            .to_owned(),
    );
    txn.execute(&insert).await?;
    Ok(())
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct Period {
    /// First and last day, both included.
    pub days: Option<(NaiveDate, NaiveDate)>,
    /// Only flows out of items of these collections.
    pub collections: Option<SelectStatement>,
}

/// The daily flows of a period, one row per key and day (operation kinds other than intake).
pub async fn read(conn: &impl ConnectionTrait, period: Period) -> AppResult<Vec<Flow>> {
    let mut query = Query::select();
    query
        .columns(KEY)
        .columns([FlowDays::MassG, FlowDays::Movements])
        .from(FlowDays::Table)
        .and_where(Expr::col(FlowDays::OpKind).ne("intake"));
    if let Some((from, to)) = period.days {
        query
            .and_where(Expr::col(FlowDays::Day).gte(from))
            .and_where(Expr::col(FlowDays::Day).lte(to));
    }
    if let Some(collections) = period.collections {
        query.and_where(Expr::col(FlowDays::CollectionId).in_subquery(collections));
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
    let mut fresh: HashMap<FlowKey, FlowSum> = Row::find_by_statement(Statement::from_string(
        backend,
        migration::flow_days::summed_movements(backend),
    ))
    .all(conn)
    .await?
    .into_iter()
    .map(Flow::from)
    .map(|f| (f.key, f.sum))
    .collect();
    let mut query = Query::select();
    query
        .columns(KEY)
        .columns([FlowDays::MassG, FlowDays::Movements])
        .from(FlowDays::Table);
    let stored = Row::find_by_statement(backend.build(&query))
        .all(conn)
        .await?;
    let mut differences = Vec::new();
    for flow in stored.into_iter().map(Flow::from) {
        let summed = fresh.remove(&flow.key).unwrap_or_default();
        if summed != flow.sum {
            differences.push(format!(
                "daily flows of {} ({} from {} to {}): {} g in {} movements stored, \
                 the movements add up to {} g in {}",
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
            "daily flows of {} ({} from {} to {}): the movements add up to {} g in {}, \
             none stored",
            key.day, key.op_kind, key.from_kind, key.to_kind, sum.mass_g, sum.movements
        ));
    }
    Ok(differences)
}
