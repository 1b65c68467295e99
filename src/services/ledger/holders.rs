//! Holders of mass: creating them, accounts made on first use, and looking them up.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ledger::{Account, HolderKind};
use crate::entities::{collection, holder, holder_composition, material, partner};
use crate::error::{AppError, AppResult};

/// A holder to create: an item, lot or melt (accounts are made by [`account`]).
#[derive(Debug, Clone)]
pub struct NewHolder {
    pub kind: HolderKind,
    pub code: Option<String>,
    pub label: String,
    pub material_id: Option<Uuid>,
    pub collection_id: Option<Uuid>,
}

pub async fn create_holder(
    conn: &impl ConnectionTrait,
    new: NewHolder,
) -> AppResult<holder::Model> {
    if matches!(new.kind, HolderKind::Account(_)) {
        return Err(AppError::Unexpected(anyhow::anyhow!(
            "accounts are created by ledger::account"
        )));
    }
    Ok(holder::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind.as_str().to_string()),
        code: Set(new.code),
        account_key: Set(None),
        account: Set(None),
        material_id: Set(new.material_id),
        collection_id: Set(new.collection_id),
        label: Set(new.label),
        balance_g: Set(0),
        version: Set(0),
        created_at: Set(crate::clock::now()),
    }
    .insert(conn)
    .await?)
}

/// The key an account is stored under: `shipped`, or `shipped:PCB-HIGH` when kept per material.
pub fn account_key(account: Account, material_code: Option<&str>) -> String {
    match material_code {
        Some(code) => format!("{}:{code}", account.as_str()),
        None => account.as_str().to_string(),
    }
}

/// The holder of an account, created on first use. Accounts that receive fractions are kept
/// per material (`shipped:PCB-HIGH`) so "what was shipped, by material" is a lookup.
pub async fn account(
    conn: &impl ConnectionTrait,
    account: Account,
    material: Option<(Uuid, &str)>,
) -> AppResult<holder::Model> {
    let key = account_key(account, material.map(|(_, code)| code));
    if let Some(found) = holder::Entity::find()
        .filter(holder::Column::AccountKey.eq(&key))
        .one(conn)
        .await?
    {
        return Ok(found);
    }
    holder::Entity::insert(holder::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set("account".to_string()),
        code: Set(None),
        account_key: Set(Some(key.clone())),
        account: Set(Some(account.as_str().to_string())),
        material_id: Set(material.map(|(id, _)| id)),
        collection_id: Set(None),
        label: Set(key.clone()),
        balance_g: Set(0),
        version: Set(0),
        created_at: Set(crate::clock::now()),
    })
    .on_conflict_do_nothing_on([holder::Column::AccountKey])
    .exec(conn)
    .await?;
    holder::Entity::find()
        .filter(holder::Column::AccountKey.eq(&key))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("account {key} vanished")))
}

pub fn kind_of(holder: &holder::Model) -> HolderKind {
    match holder.kind.as_str() {
        "item" => HolderKind::Item,
        "lot" => HolderKind::Lot,
        "melt" => HolderKind::Melt,
        _ => HolderKind::Account(
            holder
                .account
                .as_deref()
                .and_then(|a| a.parse().ok())
                .unwrap_or(Account::ProcessLoss),
        ),
    }
}

/// A holder by its label code (`IT-…`, `LT-…`, `MT-…`) or account key (`intake`, `shipped:PCB-HIGH`).
pub async fn find_holder(conn: &impl ConnectionTrait, reference: &str) -> AppResult<holder::Model> {
    let reference = reference.trim();
    let by_code = crate::domain::codes::Code::parse(reference)
        .ok()
        .map(|c| c.to_string());
    let query = match by_code {
        Some(code) => holder::Entity::find().filter(holder::Column::Code.eq(code)),
        None => holder::Entity::find().filter(holder::Column::AccountKey.eq(reference)),
    };
    query
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no holder “{reference}”")))
}

/// One collection's share of a holder.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Share {
    pub collection_id: Uuid,
    pub collection_code: Option<String>,
    pub partner: Option<String>,
    pub mass_g: i64,
}

/// A holder with its balance and its composition by collection, largest share first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HolderDetail {
    pub id: Uuid,
    /// `item`, `lot`, `melt` or `account`.
    pub kind: String,
    pub code: Option<String>,
    pub account: Option<String>,
    pub material: Option<String>,
    pub label: String,
    pub balance_g: i64,
    pub composition: Vec<Share>,
}

pub async fn describe(conn: &impl ConnectionTrait, reference: &str) -> AppResult<HolderDetail> {
    let found = find_holder(conn, reference).await?;
    let rows = holder_composition::Entity::find()
        .filter(holder_composition::Column::HolderId.eq(found.id))
        .order_by_desc(holder_composition::Column::MassG)
        .all(conn)
        .await?;
    let collection_ids: BTreeSet<Uuid> = rows.iter().map(|r| r.collection_id).collect();
    let collections = collection::Entity::find()
        .filter(collection::Column::Id.is_in(collection_ids))
        .all(conn)
        .await?;
    let partner_ids: BTreeSet<Uuid> = collections.iter().map(|c| c.partner_id).collect();
    let partners: HashMap<Uuid, String> = partner::Entity::find()
        .filter(partner::Column::Id.is_in(partner_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let collections: HashMap<Uuid, collection::Model> =
        collections.into_iter().map(|c| (c.id, c)).collect();
    let material = match found.material_id {
        Some(id) => material::Entity::find_by_id(id)
            .one(conn)
            .await?
            .map(|m| m.code),
        None => None,
    };
    Ok(HolderDetail {
        id: found.id,
        kind: found.kind,
        code: found.code,
        account: found.account,
        material,
        label: found.label,
        balance_g: found.balance_g,
        composition: rows
            .into_iter()
            .map(|row| {
                let collection = collections.get(&row.collection_id);
                Share {
                    collection_id: row.collection_id,
                    collection_code: collection.map(|c| c.code.clone()),
                    partner: collection.and_then(|c| partners.get(&c.partner_id).cloned()),
                    mass_g: row.mass_g,
                }
            })
            .collect(),
    })
}

/// One movement into or out of a holder, as its history shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryLine {
    pub at: chrono::DateTime<Utc>,
    pub operation_id: Uuid,
    /// The operation's kind: `intake`, `dismantle`, `transfer`, …
    pub kind: String,
    /// Into the holder (positive) or out of it (negative), in grams.
    pub change_g: i64,
    /// The other side: a code or an account.
    pub counterpart: String,
    pub reason: Option<String>,
}

/// A holder's movements, newest first (at most `limit`).
pub async fn history(
    conn: &impl ConnectionTrait,
    holder_id: Uuid,
    limit: u64,
) -> AppResult<Vec<HistoryLine>> {
    use crate::entities::{movement, operation};
    use sea_orm::{Condition, QuerySelect};
    let moves = movement::Entity::find()
        .filter(
            Condition::any()
                .add(movement::Column::FromHolderId.eq(holder_id))
                .add(movement::Column::ToHolderId.eq(holder_id)),
        )
        .order_by_desc(movement::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let operation_ids: BTreeSet<Uuid> = moves.iter().map(|m| m.operation_id).collect();
    let operations: HashMap<Uuid, operation::Model> = operation::Entity::find()
        .filter(operation::Column::Id.is_in(operation_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let others: BTreeSet<Uuid> = moves
        .iter()
        .map(|m| {
            if m.from_holder_id == holder_id {
                m.to_holder_id
            } else {
                m.from_holder_id
            }
        })
        .collect();
    let names: HashMap<Uuid, String> = holder::Entity::find()
        .filter(holder::Column::Id.is_in(others))
        .all(conn)
        .await?
        .into_iter()
        .map(|h| (h.id, h.code.or(h.account_key).unwrap_or(h.label)))
        .collect();
    let mut lines: Vec<HistoryLine> = moves
        .into_iter()
        .filter_map(|m| {
            let operation = operations.get(&m.operation_id)?;
            let (change_g, other) = if m.from_holder_id == holder_id {
                (-m.mass_g, m.to_holder_id)
            } else {
                (m.mass_g, m.from_holder_id)
            };
            Some(HistoryLine {
                at: operation.at,
                operation_id: operation.id,
                kind: operation.kind.clone(),
                change_g,
                counterpart: names.get(&other).cloned().unwrap_or_default(),
                reason: operation.reason.clone(),
            })
        })
        .collect();
    lines.sort_by_key(|line| std::cmp::Reverse(line.at));
    Ok(lines)
}
