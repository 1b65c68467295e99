//! The mass ledger in the database: holders, posting operations atomically with their audit
//! event, keeping balances and compositions in step, and corrections.

pub mod check;
pub mod daily;
pub mod holders;
pub mod summary;
pub mod trace;

pub use holders::{NewHolder, account, account_key, create_holder, find_holder, kind_of};

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::sea_query::{CaseStatement, Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqlErr,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::attribution::Composition;
use crate::domain::ledger::{self, Basis, HolderId, HolderState, Movement, OperationKind};
use crate::entities::{holder, holder_composition, movement, operation};
use crate::error::{AppError, AppResult};
use crate::services::events::{self, NewEvent};

/// An operation to post.
#[derive(Debug, Clone)]
pub struct NewOperation {
    pub kind: OperationKind,
    pub actor_id: Option<Uuid>,
    pub station_id: Option<Uuid>,
    /// Set for requests a device may retry: a second post with the same key returns the first.
    pub idempotency_key: Option<String>,
    pub reason: Option<String>,
    /// Codes the audit event is about.
    pub subjects: Vec<String>,
    /// Facts worth keeping with the operation (scale readings, overrides, …).
    pub payload: Value,
    pub movements: Vec<Movement>,
}

impl NewOperation {
    pub fn new(
        kind: OperationKind,
        actor_id: Option<Uuid>,
        movements: Vec<Movement>,
    ) -> NewOperation {
        NewOperation {
            kind,
            actor_id,
            station_id: None,
            idempotency_key: None,
            reason: None,
            subjects: Vec::new(),
            payload: json!({}),
            movements,
        }
    }
}

/// A posted operation with its movements; `replayed` when an idempotent retry found it.
#[derive(Debug, Clone)]
pub struct PostedOperation {
    pub operation: operation::Model,
    pub movements: Vec<movement::Model>,
    pub replayed: bool,
}

/// Posts an operation in its own write transaction. A retry with the same idempotency key,
/// even one racing the first, answers the first result and writes nothing.
pub async fn post(db: &DatabaseConnection, new: NewOperation) -> AppResult<PostedOperation> {
    let key = new.idempotency_key.clone();
    post_once(db, key.as_deref(), async |txn| post_in(txn, new).await).await
}

/// Runs `work` in one write transaction and commits it. `work` posts an operation under
/// `key` (with whatever else the use case writes); a retry with the same key answers the
/// operation first posted, even when it raced the first, and writes nothing.
pub async fn post_once(
    db: &DatabaseConnection,
    key: Option<&str>,
    work: impl AsyncFnOnce(&DatabaseTransaction) -> AppResult<PostedOperation>,
) -> AppResult<PostedOperation> {
    if let Some(key) = key
        && let Some(done) = find_by_key(db, key).await?
    {
        return Ok(done);
    }
    let txn = begin_write(db).await?;
    let outcome = match work(&txn).await {
        Ok(posted) => txn.commit().await.map(|()| posted).map_err(AppError::from),
        Err(error) => Err(error),
    };
    match (outcome, key) {
        (Err(AppError::Database(error)), Some(key)) if is_unique_violation(&error) => {
            find_by_key(db, key).await?.ok_or(AppError::Database(error))
        }
        (outcome, _) => outcome,
    }
}

pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub async fn find_by_key(
    conn: &impl ConnectionTrait,
    key: &str,
) -> AppResult<Option<PostedOperation>> {
    let Some(operation) = operation::Entity::find()
        .filter(operation::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let movements = movements_of(conn, operation.id).await?;
    Ok(Some(PostedOperation {
        operation,
        movements,
        replayed: true,
    }))
}

pub async fn movements_of(
    conn: &impl ConnectionTrait,
    operation_id: Uuid,
) -> AppResult<Vec<movement::Model>> {
    Ok(movement::Entity::find()
        .filter(movement::Column::OperationId.eq(operation_id))
        .order_by_asc(movement::Column::Seq)
        .all(conn)
        .await?)
}

/// Posts an operation inside a write transaction the caller holds (begun with
/// [`begin_write`]), so a use case can create an item and post its intake atomically.
pub async fn post_in(txn: &DatabaseTransaction, new: NewOperation) -> AppResult<PostedOperation> {
    let mut ids: BTreeSet<HolderId> = BTreeSet::new();
    for movement in &new.movements {
        ids.extend([movement.from, movement.to]);
        if let Basis::Like(holder) = movement.basis {
            ids.insert(holder);
        }
    }
    let loaded = lock_holders(txn, &ids).await?;
    let mut states: HashMap<HolderId, HolderState> = loaded
        .iter()
        .map(|h| {
            (
                h.id,
                HolderState {
                    kind: kind_of(h),
                    balance_g: h.balance_g,
                    composition: Composition::new(),
                },
            )
        })
        .collect();
    // Compositions are needed where mass is shared out: sources that cannot go negative and
    // holders a gain is attributed like. Destinations are written as deltas.
    let mut need_composition: BTreeSet<HolderId> = BTreeSet::new();
    for movement in &new.movements {
        if let Some(state) = states.get(&movement.from)
            && !state.kind.may_go_negative()
        {
            need_composition.insert(movement.from);
        }
        if let Basis::Like(holder) = movement.basis {
            need_composition.insert(holder);
        }
    }
    for (holder_id, composition) in compositions_of(txn, &need_composition).await? {
        if let Some(state) = states.get_mut(&holder_id) {
            state.composition = composition;
        }
    }

    let before: HashMap<HolderId, i64> = states.iter().map(|(id, s)| (*id, s.balance_g)).collect();
    let posted =
        ledger::post(&mut states, &new.movements).map_err(|error| refusal(error, &loaded))?;

    let now = crate::clock::now();
    let event = events::record(
        txn,
        NewEvent {
            actor_id: new.actor_id,
            station_id: new.station_id,
            kind: event_kind(new.kind),
            subjects: new.subjects.clone(),
            payload: json!({
                "movements": posted.iter().map(|p| json!({
                    "from": p.from, "to": p.to, "mass_g": p.mass_g,
                })).collect::<Vec<_>>(),
                "reason": new.reason,
            }),
            idempotency_key: None,
        },
    )
    .await?;
    let operation = operation::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind.as_str().to_string()),
        actor_id: Set(new.actor_id),
        station_id: Set(new.station_id),
        at: Set(now),
        idempotency_key: Set(new.idempotency_key.clone()),
        reason: Set(new.reason.clone()),
        corrects_id: Set(corrects_of(&new.payload)),
        event_id: Set(event.id),
        payload: Set(new.payload.clone()),
    }
    .insert(txn)
    .await?;

    let movements: Vec<movement::Model> = posted
        .iter()
        .map(|p| movement::Model {
            id: Uuid::now_v7(),
            operation_id: operation.id,
            seq: i32::try_from(p.seq).unwrap_or(i32::MAX),
            from_holder_id: p.from,
            to_holder_id: p.to,
            mass_g: p.mass_g,
            parts: parts_json(&p.parts),
        })
        .collect();
    let rows = movements.iter().map(|m| movement::ActiveModel {
        id: Set(m.id),
        operation_id: Set(m.operation_id),
        seq: Set(m.seq),
        from_holder_id: Set(m.from_holder_id),
        to_holder_id: Set(m.to_holder_id),
        mass_g: Set(m.mass_g),
        parts: Set(m.parts.clone()),
    });
    movement::Entity::insert_many(rows).exec(txn).await?;
    daily::add(
        txn,
        &operation.kind,
        operation.at,
        operation.station_id,
        operation.actor_id,
        &posted,
        &loaded,
    )
    .await?;

    // Every touched balance in one statement: `balance_g + CASE id WHEN … THEN Δ … END`.
    let deltas: Vec<(HolderId, i64)> = states
        .iter()
        .map(|(id, state)| (*id, state.balance_g - before[id]))
        .filter(|(_, delta)| *delta != 0)
        .collect();
    if !deltas.is_empty() {
        let mut case = CaseStatement::new();
        for (id, delta) in &deltas {
            case = case.case(Expr::col(holder::Column::Id).eq(*id), Expr::val(*delta));
        }
        let case = case.finally(Expr::val(0i64));
        holder::Entity::update_many()
            .col_expr(
                holder::Column::BalanceG,
                Expr::col(holder::Column::BalanceG).add(Into::<Expr>::into(case)),
            )
            .col_expr(
                holder::Column::Version,
                Expr::col(holder::Column::Version).add(1),
            )
            .filter(holder::Column::Id.is_in(deltas.iter().map(|(id, _)| *id)))
            .exec(txn)
            .await?;
    }
    write_composition_deltas(txn, &posted).await?;

    let mut movements = movements;
    movements.sort_by_key(|m| m.seq);
    Ok(PostedOperation {
        operation,
        movements,
        replayed: false,
    })
}

/// A ledger refusal in words a person can act on: holders by their code or label, not their id.
fn refusal(error: ledger::LedgerError, holders: &[holder::Model]) -> AppError {
    let name = |id: HolderId| {
        holders
            .iter()
            .find(|h| h.id == id)
            .map(|h| h.code.clone().unwrap_or_else(|| h.label.clone()))
            .unwrap_or_else(|| id.to_string())
    };
    match error {
        ledger::LedgerError::WouldGoNegative {
            holder,
            balance_g,
            short_g,
        } => AppError::conflict(
            "insufficient_mass",
            format!(
                "{} holds {balance_g} g; this would take {short_g} g more than it holds",
                name(holder)
            ),
        ),
        ledger::LedgerError::CompositionShort {
            holder,
            collection,
            short_g,
        } => AppError::conflict(
            "insufficient_mass",
            format!(
                "{} no longer holds {short_g} g of collection {collection}: correct the later operations first",
                name(holder)
            ),
        ),
        other => AppError::from(other),
    }
}

fn event_kind(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Intake => "ledger.intake",
        OperationKind::Dismantle => "ledger.dismantle",
        OperationKind::Transfer => "ledger.transfer",
        OperationKind::Reweigh => "ledger.reweigh",
        OperationKind::Charge => "ledger.charge",
        OperationKind::Pour => "ledger.pour",
        OperationKind::Reuse => "ledger.reuse",
        OperationKind::Ship => "ledger.ship",
        OperationKind::Correction => "ledger.correction",
    }
}

/// A correction names the operation it reverses in its payload; the column keeps it unique.
fn corrects_of(payload: &Value) -> Option<Uuid> {
    payload
        .get("corrects")
        .and_then(Value::as_str)
        .and_then(|text| text.parse().ok())
}

/// Loads the holders an operation touches. On PostgreSQL they are locked `FOR UPDATE` in id
/// order, so two postings on the same lot wait for each other and can never deadlock; on
/// SQLite the `BEGIN IMMEDIATE` write transaction already excludes other writers.
async fn lock_holders(
    txn: &DatabaseTransaction,
    ids: &BTreeSet<HolderId>,
) -> AppResult<Vec<holder::Model>> {
    let mut query = holder::Entity::find()
        .filter(holder::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(holder::Column::Id);
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    let found = query.all(txn).await?;
    if found.len() != ids.len() {
        let missing = ids
            .iter()
            .find(|id| !found.iter().any(|h| h.id == **id))
            .copied()
            .unwrap_or_default();
        return Err(AppError::invalid(
            "movements",
            format!("unknown holder {missing}"),
        ));
    }
    Ok(found)
}

pub async fn compositions_of(
    conn: &impl ConnectionTrait,
    ids: &BTreeSet<HolderId>,
) -> AppResult<HashMap<HolderId, Composition>> {
    let mut compositions: HashMap<HolderId, Composition> = HashMap::new();
    if ids.is_empty() {
        return Ok(compositions);
    }
    let rows = holder_composition::Entity::find()
        .filter(holder_composition::Column::HolderId.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    for row in rows {
        compositions
            .entry(row.holder_id)
            .or_default()
            .insert(row.collection_id, row.mass_g);
    }
    Ok(compositions)
}

/// Adds each movement's parts to its destination and takes them from its source, as one
/// upsert per (holder, collection), then drops the rows that reached zero.
async fn write_composition_deltas(
    txn: &DatabaseTransaction,
    posted: &[ledger::Posted],
) -> AppResult<()> {
    let mut deltas: BTreeMap<(HolderId, Uuid), i64> = BTreeMap::new();
    for movement in posted {
        for (&collection, &grams) in &movement.parts {
            *deltas.entry((movement.from, collection)).or_default() -= grams;
            *deltas.entry((movement.to, collection)).or_default() += grams;
        }
    }
    deltas.retain(|_, grams| *grams != 0);
    if deltas.is_empty() {
        return Ok(());
    }
    let touched: Vec<(HolderId, Uuid)> = deltas.keys().copied().collect();
    let rows = deltas
        .into_iter()
        .map(
            |((holder_id, collection_id), mass_g)| holder_composition::ActiveModel {
                holder_id: Set(holder_id),
                collection_id: Set(collection_id),
                mass_g: Set(mass_g),
            },
        );
    holder_composition::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                holder_composition::Column::HolderId,
                holder_composition::Column::CollectionId,
            ])
            .value(
                holder_composition::Column::MassG,
                Expr::cust("holder_compositions.mass_g + excluded.mass_g"),
            )
            .to_owned(),
        )
        .exec(txn)
        .await?;
    // Drop the rows that reached zero, by their keys (an account's composition is long).
    let mut touched_pairs = Condition::any();
    for (holder_id, collection_id) in touched {
        touched_pairs = touched_pairs.add(
            Condition::all()
                .add(holder_composition::Column::HolderId.eq(holder_id))
                .add(holder_composition::Column::CollectionId.eq(collection_id)),
        );
    }
    holder_composition::Entity::delete_many()
        .filter(holder_composition::Column::MassG.eq(0))
        .filter(touched_pairs)
        .exec(txn)
        .await?;
    Ok(())
}

/// Parts as stored: `{"<collection id>": grams}`.
pub fn parts_json(parts: &Composition) -> Value {
    Value::Object(
        parts
            .iter()
            .map(|(collection, grams)| (collection.to_string(), Value::from(*grams)))
            .collect(),
    )
}

pub fn parts_of_json(value: &Value) -> Composition {
    value
        .as_object()
        .map(|object| {
            object
                .iter()
                .filter_map(|(collection, grams)| Some((collection.parse().ok()?, grams.as_i64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Reverses a posted operation with a correction (mirror movements, same parts), keeping
/// the original. Each operation can be corrected once; the reason is required.
pub async fn correct(
    db: &DatabaseConnection,
    operation_id: Uuid,
    reason: &str,
    actor_id: Option<Uuid>,
    idempotency_key: Option<String>,
) -> AppResult<PostedOperation> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "a correction needs a reason"));
    }
    if let Some(key) = &idempotency_key
        && let Some(done) = find_by_key(db, key).await?
    {
        return Ok(done);
    }
    let original = operation::Entity::find_by_id(operation_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no operation {operation_id}")))?;
    if let Some(existing) = operation::Entity::find()
        .filter(operation::Column::CorrectsId.eq(original.id))
        .one(db)
        .await?
    {
        return Err(AppError::conflict(
            "already_corrected",
            format!(
                "operation {} was already corrected by {}",
                original.id, existing.id
            ),
        ));
    }
    let posted: Vec<ledger::Posted> = movements_of(db, original.id)
        .await?
        .into_iter()
        .map(|m| ledger::Posted {
            seq: usize::try_from(m.seq).unwrap_or_default(),
            from: m.from_holder_id,
            to: m.to_holder_id,
            mass_g: m.mass_g,
            parts: parts_of_json(&m.parts),
        })
        .collect();
    let mut new = NewOperation::new(
        OperationKind::Correction,
        actor_id,
        ledger::reversal(&posted),
    );
    new.reason = Some(reason.to_string());
    new.idempotency_key = idempotency_key;
    new.payload = json!({ "corrects": original.id, "corrects_kind": original.kind });
    new.subjects = vec![original.id.to_string()];
    // Reversing what happened to an item changes what its collection's certificate states.
    let touched: BTreeSet<Uuid> = posted.iter().flat_map(|m| [m.from, m.to]).collect();
    let key = new.idempotency_key.clone();
    let corrected = post_once(db, key.as_deref(), async |txn| {
        let collections: BTreeSet<Uuid> = holder::Entity::find()
            .filter(holder::Column::Id.is_in(touched))
            .filter(holder::Column::Kind.eq("item"))
            .all(txn)
            .await?
            .into_iter()
            .filter_map(|h| h.collection_id)
            .collect();
        for collection_id in collections {
            crate::services::certificates::refuse_if_certified(txn, collection_id).await?;
        }
        post_in(txn, new).await
    })
    .await;
    match corrected {
        Err(AppError::Database(error)) if is_unique_violation(&error) => Err(AppError::conflict(
            "already_corrected",
            format!("operation {} was already corrected", original.id),
        )),
        other => other,
    }
}
