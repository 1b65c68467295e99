//! `greenchip ledger check`: recompute every balance and composition from the movements and
//! compare them with the maintained ones.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use serde::Serialize;
use uuid::Uuid;

use crate::entities::{holder, holder_composition, item, lot, melt, movement};
use crate::error::AppResult;
use crate::services::ledger::parts_of_json;

/// Movements read per query while replaying.
const PAGE: u64 = 20_000;

#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    pub holders: usize,
    pub movements: u64,
    /// Σ of every balance: zero when mass is conserved.
    pub sum_g: i64,
    /// Every difference found, in words naming the holder.
    pub differences: Vec<String>,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.sum_g == 0 && self.differences.is_empty()
    }
}

pub async fn check(conn: &impl ConnectionTrait) -> AppResult<CheckReport> {
    let mut balances: HashMap<Uuid, i64> = HashMap::new();
    let mut compositions: HashMap<(Uuid, Uuid), i64> = HashMap::new();
    let mut report = CheckReport::default();
    let mut after: Option<Uuid> = None;
    loop {
        let mut query = movement::Entity::find()
            .order_by_asc(movement::Column::Id)
            .limit(PAGE);
        if let Some(last) = after {
            query = query.filter(movement::Column::Id.gt(last));
        }
        let page = query.all(conn).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for m in &page {
            report.movements += 1;
            *balances.entry(m.from_holder_id).or_default() -= m.mass_g;
            *balances.entry(m.to_holder_id).or_default() += m.mass_g;
            let parts = parts_of_json(&m.parts);
            let parts_g: i64 = parts.values().sum();
            if parts_g != m.mass_g {
                report.differences.push(format!(
                    "movement {}: parts add up to {parts_g} g, not {} g",
                    m.id, m.mass_g
                ));
            }
            for (collection, grams) in parts {
                *compositions
                    .entry((m.from_holder_id, collection))
                    .or_default() -= grams;
                *compositions
                    .entry((m.to_holder_id, collection))
                    .or_default() += grams;
            }
        }
    }

    let holders = holder::Entity::find().all(conn).await?;
    report.holders = holders.len();
    let name = |h: &holder::Model| h.code.clone().unwrap_or_else(|| h.label.clone());
    let mut names: HashMap<Uuid, String> = HashMap::new();
    for h in &holders {
        names.insert(h.id, name(h));
        report.sum_g += h.balance_g;
        let replayed = balances.remove(&h.id).unwrap_or(0);
        if replayed != h.balance_g {
            report.differences.push(format!(
                "{}: balance is {} g but its movements add up to {replayed} g",
                name(h),
                h.balance_g
            ));
        }
        if h.balance_g < 0 && !matches!(h.account.as_deref(), Some("intake" | "weighing_variance"))
        {
            report.differences.push(format!(
                "{}: balance is negative ({} g)",
                name(h),
                h.balance_g
            ));
        }
    }
    for (id, grams) in balances {
        report.differences.push(format!(
            "movements name holder {id}, which does not exist ({grams} g)"
        ));
    }

    let stored = holder_composition::Entity::find().all(conn).await?;
    let mut sums: BTreeMap<Uuid, i64> = BTreeMap::new();
    for row in stored {
        *sums.entry(row.holder_id).or_default() += row.mass_g;
        let replayed = compositions
            .remove(&(row.holder_id, row.collection_id))
            .unwrap_or(0);
        if replayed != row.mass_g {
            report.differences.push(format!(
                "{}: holds {} g of collection {} but its movements say {replayed} g",
                names
                    .get(&row.holder_id)
                    .cloned()
                    .unwrap_or_else(|| row.holder_id.to_string()),
                row.mass_g,
                row.collection_id
            ));
        }
    }
    for ((holder_id, collection), grams) in compositions {
        if grams != 0 {
            report.differences.push(format!(
                "{}: its movements bring {grams} g of collection {collection}, which its composition lacks",
                names.get(&holder_id).cloned().unwrap_or_else(|| holder_id.to_string())
            ));
        }
    }
    for h in &holders {
        let composed = sums.get(&h.id).copied().unwrap_or(0);
        if composed != h.balance_g {
            report.differences.push(format!(
                "{}: its composition adds up to {composed} g, its balance is {} g",
                name(h),
                h.balance_g
            ));
        }
    }
    states_match_balances(conn, &holders, &mut report).await?;
    report
        .differences
        .extend(super::daily::differences(conn).await?);
    intake_days_match_items(conn, &mut report).await?;
    if report.sum_g != 0 {
        report.differences.push(format!(
            "the ledger does not sum to zero: {} g",
            report.sum_g
        ));
    }
    report.differences.sort();
    Ok(report)
}

/// Items that left or were taken apart, lots that were emptied or shipped, and finished melts
/// hold nothing; their states must agree with their balances.
async fn states_match_balances(
    conn: &impl ConnectionTrait,
    holders: &[holder::Model],
    report: &mut CheckReport,
) -> AppResult<()> {
    let balances: HashMap<Uuid, (i64, String)> = holders
        .iter()
        .map(|h| (h.id, (h.balance_g, h.code.clone().unwrap_or_default())))
        .collect();
    let mut done: Vec<(Uuid, String)> = Vec::new();
    for found in item::Entity::find()
        .filter(item::Column::State.is_in(["dismantled", "reused", "shipped_whole"]))
        .all(conn)
        .await?
    {
        done.push((found.id, found.state));
    }
    for found in lot::Entity::find()
        .filter(lot::Column::State.is_in(["emptied", "shipped"]))
        .all(conn)
        .await?
    {
        done.push((found.id, found.state));
    }
    for found in melt::Entity::find()
        .filter(melt::Column::State.eq("finished"))
        .all(conn)
        .await?
    {
        done.push((found.id, found.state));
    }
    for (id, state) in done {
        if let Some((balance, code)) = balances.get(&id)
            && *balance != 0
        {
            report
                .differences
                .push(format!("{code}: it is {state} but still holds {balance} g"));
        }
    }
    Ok(())
}

/// The items received each day by kind, WEEE category and state, as the triggers keep them
/// (`intake_days`), against the items counted afresh.
async fn intake_days_match_items(
    conn: &impl ConnectionTrait,
    report: &mut CheckReport,
) -> AppResult<()> {
    #[derive(Debug, FromQueryResult)]
    struct Day {
        received_on: chrono::NaiveDate,
        kind_id: Uuid,
        weee_category: i16,
        state: String,
        items: i64,
        mass_g: i64,
    }
    let backend = conn.get_database_backend();
    let read = |sql: String| Day::find_by_statement(Statement::from_string(backend, sql));
    let mut fresh: HashMap<_, (i64, i64)> = read(migration::flow_days::summed_intake_days())
        .all(conn)
        .await?
        .into_iter()
        .map(|d| {
            (
                (d.received_on, d.kind_id, d.weee_category, d.state),
                (d.items, d.mass_g),
            )
        })
        .collect();
    let stored = read(
        "SELECT received_on, kind_id, weee_category, state, items, mass_g FROM intake_days"
            .to_string(),
    )
    .all(conn)
    .await?;
    for day in stored {
        let counted = fresh
            .remove(&(
                day.received_on,
                day.kind_id,
                day.weee_category,
                day.state.clone(),
            ))
            .unwrap_or_default();
        if counted != (day.items, day.mass_g) {
            report.differences.push(format!(
                "intake of {} ({}, {}): {} pieces and {} g kept, the items count {} and {} g",
                day.received_on,
                day.kind_id,
                day.state,
                day.items,
                day.mass_g,
                counted.0,
                counted.1
            ));
        }
    }
    for ((day, kind, _, state), (items, mass_g)) in fresh {
        report.differences.push(format!(
            "intake of {day} ({kind}, {state}): the items count {items} and {mass_g} g, none kept"
        ));
    }
    Ok(())
}
