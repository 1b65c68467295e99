//! Items: receiving equipment into a collection (each posting its intake to the ledger in the
//! same transaction), editing what may be edited, mass corrections, manufacturer barcodes.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::codes::{Code, CodeKind};
use crate::domain::intake::{self, CollectionState, MAX_ITEMS_PER_REQUEST, MAX_QUANTITY};
use crate::domain::ledger::{Account, Basis, HolderKind, Movement, OperationKind};
use crate::domain::mass;
use crate::entities::{collection, equipment_kind, item, item_barcode};
use crate::error::{AppError, AppResult, FieldError, OnConstraint};
use crate::services::events::{self, NewEvent};
use crate::services::ledger::{self, NewHolder, NewOperation};
use crate::services::{Page, Paging, catalogue, certificates, collections, paginate};

/// The state every item starts in.
pub const RECEIVED: &str = "received";

/// One item to receive.
#[derive(Debug, Clone, Default)]
pub struct NewItem {
    /// Equipment kind code, e.g. `desktop_pc`.
    pub kind: String,
    /// Gross mass as weighed at intake, in grams.
    pub mass_g: i64,
    /// More than one for bulk small items weighed together.
    pub quantity: Option<i32>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    /// Defaults from the kind.
    pub data_bearing: Option<bool>,
    pub condition_notes: Option<String>,
}

struct CheckedItem {
    kind: equipment_kind::Model,
    mass_g: i64,
    quantity: i32,
    brand: Option<String>,
    model: Option<String>,
    serial: Option<String>,
    data_bearing: bool,
    condition_notes: Option<String>,
}

/// Field names in errors: `mass_g` for a single item, `items/3/mass_g` in a bulk request.
fn field(prefix: Option<usize>, name: &str) -> String {
    match prefix {
        Some(index) => format!("items/{index}/{name}"),
        None => name.to_string(),
    }
}

fn check_item(
    new: &NewItem,
    index: Option<usize>,
    kinds: &HashMap<String, equipment_kind::Model>,
    errors: &mut Vec<FieldError>,
) -> Option<CheckedItem> {
    let before = errors.len();
    let kind = match kinds.get(new.kind.trim()) {
        Some(kind) if kind.active => Some(kind.clone()),
        Some(_) => {
            errors.push(FieldError::new(
                field(index, "kind"),
                format!("equipment kind “{}” is retired", new.kind),
            ));
            None
        }
        None => {
            errors.push(FieldError::new(
                field(index, "kind"),
                format!("unknown equipment kind “{}”", new.kind.trim()),
            ));
            None
        }
    };
    if let Err(error) = mass::check(new.mass_g) {
        errors.push(FieldError::new(field(index, "mass_g"), error.to_string()));
    }
    let quantity = new.quantity.unwrap_or(1);
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        errors.push(FieldError::new(
            field(index, "quantity"),
            format!("must be from 1 to {MAX_QUANTITY}"),
        ));
    }
    let brand = intake::optional_text(&field(index, "brand"), new.brand.as_deref(), 100, errors);
    let model = intake::optional_text(&field(index, "model"), new.model.as_deref(), 100, errors);
    let serial = intake::optional_text(&field(index, "serial"), new.serial.as_deref(), 100, errors);
    let condition_notes = intake::optional_text(
        &field(index, "condition_notes"),
        new.condition_notes.as_deref(),
        2_000,
        errors,
    );
    let kind = kind?;
    (errors.len() == before).then(|| CheckedItem {
        data_bearing: new.data_bearing.unwrap_or(kind.data_bearing),
        kind,
        mass_g: new.mass_g,
        quantity,
        brand,
        model,
        serial,
        condition_notes,
    })
}

/// Receives items into an open collection, all or nothing: every item is checked first,
/// and one invalid item (named by its index) writes none. Each item gets its `IT-…` code,
/// its holder, and its intake posting (`intake → item`, attributed to the collection).
///
/// With an idempotency key, a retry answers the items the first request created.
pub async fn receive(
    db: &DatabaseConnection,
    collection_ref: &str,
    new_items: Vec<NewItem>,
    bulk: bool,
    actor_id: Option<Uuid>,
    idempotency_key: Option<String>,
) -> AppResult<Vec<item::Model>> {
    if new_items.is_empty() {
        return Err(AppError::invalid("items", "give at least one item"));
    }
    if new_items.len() > MAX_ITEMS_PER_REQUEST {
        return Err(AppError::invalid(
            "items",
            format!(
                "at most {MAX_ITEMS_PER_REQUEST} items per request, not {}",
                new_items.len()
            ),
        ));
    }
    if let Some(key) = &idempotency_key
        && let Some(done) = already_received(db, key).await?
    {
        return Ok(done);
    }
    let kinds: HashMap<String, equipment_kind::Model> = catalogue::kinds(db)
        .await?
        .into_iter()
        .map(|k| (k.code.clone(), k))
        .collect();
    let mut errors = Vec::new();
    let mut checked = Vec::with_capacity(new_items.len());
    let mut serials: HashMap<String, usize> = HashMap::new();
    for (index, new) in new_items.iter().enumerate() {
        let position = bulk.then_some(index);
        if let Some(item) = check_item(new, position, &kinds, &mut errors) {
            if let Some(serial) = &item.serial
                && let Some(first) = serials.insert(serial.to_lowercase(), index)
            {
                errors.push(FieldError::new(
                    field(position, "serial"),
                    format!("serial “{serial}” is also given for item {first}"),
                ));
            }
            checked.push(item);
        }
    }
    AppError::invalid_fields(errors)?;

    match receive_checked(
        db,
        collection_ref,
        checked,
        bulk,
        actor_id,
        idempotency_key.clone(),
    )
    .await
    {
        // A retry racing the first request: the first one's items are the answer.
        Err(AppError::Database(error))
            if idempotency_key.is_some()
                && matches!(
                    error.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) =>
        {
            let key = idempotency_key.unwrap_or_default();
            already_received(db, &key)
                .await?
                .ok_or(AppError::Database(error))
        }
        other => other,
    }
}

async fn receive_checked(
    db: &DatabaseConnection,
    collection_ref: &str,
    checked: Vec<CheckedItem>,
    bulk: bool,
    actor_id: Option<Uuid>,
    idempotency_key: Option<String>,
) -> AppResult<Vec<item::Model>> {
    let txn = begin_write(db).await?;
    let target = collections::find(&txn, collection_ref).await?;
    certificates::refuse_if_certified(&txn, target.id).await?;
    if target.state != CollectionState::Open.as_str() {
        return Err(AppError::conflict(
            "collection_closed",
            format!(
                "collection {} is closed: reopen it (with a reason) to add items",
                target.code
            ),
        ));
    }
    check_serials_free(&txn, &target, &checked, bulk).await?;
    let intake = ledger::account(&txn, Account::Intake, None).await?;
    let mut received = Vec::with_capacity(checked.len());
    for (index, item) in checked.into_iter().enumerate() {
        let key = idempotency_key.as_ref().map(|key| format!("{key}/{index}"));
        received.push(receive_one(&txn, &target, item, intake.id, actor_id, key).await?);
    }
    txn.commit().await?;
    Ok(received)
}

async fn check_serials_free(
    txn: &DatabaseTransaction,
    target: &collection::Model,
    checked: &[CheckedItem],
    bulk: bool,
) -> AppResult<()> {
    let serials: Vec<String> = checked.iter().filter_map(|i| i.serial.clone()).collect();
    if serials.is_empty() {
        return Ok(());
    }
    let taken: BTreeSet<String> = item::Entity::find()
        .filter(item::Column::CollectionId.eq(target.id))
        .filter(item::Column::Serial.is_in(serials))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|i| i.serial)
        .collect();
    let errors: Vec<FieldError> = checked
        .iter()
        .enumerate()
        .filter(|(_, item)| item.serial.as_ref().is_some_and(|s| taken.contains(s)))
        .map(|(index, item)| {
            FieldError::new(
                field(bulk.then_some(index), "serial"),
                format!(
                    "serial “{}” was already received in collection {}",
                    item.serial.as_deref().unwrap_or_default(),
                    target.code
                ),
            )
        })
        .collect();
    AppError::invalid_fields(errors)
}

async fn receive_one(
    txn: &DatabaseTransaction,
    target: &collection::Model,
    item: CheckedItem,
    intake_id: Uuid,
    actor_id: Option<Uuid>,
    idempotency_key: Option<String>,
) -> AppResult<item::Model> {
    let code = Code::random(CodeKind::Item).to_string();
    let holder = ledger::create_holder(
        txn,
        NewHolder {
            kind: HolderKind::Item,
            code: Some(code.clone()),
            label: item.kind.name_en.clone(),
            material_id: None,
            collection_id: Some(target.id),
        },
    )
    .await?;
    let serial = item.serial.clone();
    let created = item::ActiveModel {
        id: Set(holder.id),
        code: Set(code.clone()),
        collection_id: Set(target.id),
        kind_id: Set(item.kind.id),
        weee_category: Set(item.kind.weee_category),
        brand: Set(item.brand),
        model: Set(item.model),
        serial: Set(item.serial),
        gross_mass_g: Set(item.mass_g),
        quantity: Set(item.quantity),
        data_bearing: Set(item.data_bearing),
        condition_notes: Set(item.condition_notes),
        state: Set(RECEIVED.to_string()),
        received_by: Set(actor_id),
        created_at: Set(crate::clock::now()),
        route: Set(None),
    }
    .insert(txn)
    .await
    .on_unique("serial_taken", || {
        format!(
            "serial “{}” was already received in collection {}",
            serial.unwrap_or_default(),
            target.code
        )
    })?;
    let mut operation = NewOperation::new(
        OperationKind::Intake,
        actor_id,
        vec![Movement::new(intake_id, holder.id, item.mass_g).basis(Basis::Collection(target.id))],
    );
    operation.subjects = vec![code, target.code.clone()];
    operation.idempotency_key = idempotency_key;
    operation.payload = json!({
        "item": created.code, "collection": target.code, "kind": item.kind.code,
        "quantity": created.quantity, "data_bearing": created.data_bearing,
    });
    ledger::post_in(txn, operation).await?;
    Ok(created)
}

/// The items a request with this idempotency key created, if it already ran.
async fn already_received(
    conn: &impl ConnectionTrait,
    key: &str,
) -> AppResult<Option<Vec<item::Model>>> {
    use crate::entities::operation;
    let first = operation::Entity::find()
        .filter(operation::Column::IdempotencyKey.eq(format!("{key}/0")))
        .one(conn)
        .await?;
    if first.is_none() {
        return Ok(None);
    }
    let operations = operation::Entity::find()
        .filter(operation::Column::IdempotencyKey.starts_with(format!("{key}/")))
        .all(conn)
        .await?;
    let codes: Vec<String> = operations
        .iter()
        .filter_map(|op| {
            op.payload
                .get("item")
                .and_then(|c| c.as_str())
                .map(str::to_string)
        })
        .collect();
    let mut found = item::Entity::find()
        .filter(item::Column::Code.is_in(codes))
        .all(conn)
        .await?;
    found.sort_by_key(|i| i.id);
    Ok(Some(found))
}

/// An item by its code (`IT-…`, typed or scanned), its id, or a linked manufacturer barcode.
pub async fn find(conn: &impl ConnectionTrait, reference: &str) -> AppResult<item::Model> {
    let reference = reference.trim();
    if let Ok(id) = reference.parse::<Uuid>() {
        return item::Entity::find_by_id(id)
            .one(conn)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no item {id}")));
    }
    if let Ok(code) = Code::from_scan(reference) {
        if code.kind() != CodeKind::Item {
            return Err(AppError::invalid(
                "item",
                format!("{code} is not an item code"),
            ));
        }
        return item::Entity::find()
            .filter(item::Column::Code.eq(code.to_string()))
            .one(conn)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no item {code}")));
    }
    let linked = item_barcode::Entity::find()
        .filter(item_barcode::Column::Barcode.eq(reference))
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!("no item with code or barcode “{reference}”"))
        })?;
    item::Entity::find_by_id(linked.item_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no item with barcode “{reference}”")))
}

/// Editable fields of an item; mass is not among them (see [`correct_mass`]).
#[derive(Debug, Clone, Default)]
pub struct ItemChanges {
    pub kind: Option<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub quantity: Option<i32>,
    pub data_bearing: Option<bool>,
    pub condition_notes: Option<String>,
}

pub async fn update(
    db: &DatabaseConnection,
    reference: &str,
    changes: ItemChanges,
    actor_id: Option<Uuid>,
) -> AppResult<item::Model> {
    let mut errors = Vec::new();
    let brand = intake::optional_text("brand", changes.brand.as_deref(), 100, &mut errors);
    let model = intake::optional_text("model", changes.model.as_deref(), 100, &mut errors);
    let serial = intake::optional_text("serial", changes.serial.as_deref(), 100, &mut errors);
    let notes = intake::optional_text(
        "condition_notes",
        changes.condition_notes.as_deref(),
        2_000,
        &mut errors,
    );
    if let Some(quantity) = changes.quantity
        && !(1..=MAX_QUANTITY).contains(&quantity)
    {
        errors.push(FieldError::new(
            "quantity",
            format!("must be from 1 to {MAX_QUANTITY}"),
        ));
    }
    AppError::invalid_fields(errors)?;
    let txn = begin_write(db).await?;
    let found = find(&txn, reference).await?;
    // Kind, quantity, serial and whether it bears data are what a certificate states.
    if changes.kind.is_some()
        || changes.quantity.is_some()
        || changes.serial.is_some()
        || changes.data_bearing.is_some()
    {
        certificates::refuse_if_certified(&txn, found.collection_id).await?;
    }
    let before = json!({
        "kind_id": found.kind_id, "brand": found.brand, "model": found.model, "serial": found.serial,
        "quantity": found.quantity, "data_bearing": found.data_bearing, "condition_notes": found.condition_notes,
    });
    let code = found.code.clone();
    let collection_id = found.collection_id;
    let mut changed: item::ActiveModel = found.into();
    if let Some(kind_code) = &changes.kind {
        let kind = catalogue::kind(&txn, kind_code).await.map_err(|_| {
            AppError::invalid(
                "kind",
                format!("unknown equipment kind “{}”", kind_code.trim()),
            )
        })?;
        changed.kind_id = Set(kind.id);
        changed.weee_category = Set(kind.weee_category);
    }
    if changes.brand.is_some() {
        changed.brand = Set(brand);
    }
    if changes.model.is_some() {
        changed.model = Set(model);
    }
    if changes.serial.is_some() {
        changed.serial = Set(serial.clone());
    }
    if let Some(quantity) = changes.quantity {
        changed.quantity = Set(quantity);
    }
    if let Some(data_bearing) = changes.data_bearing {
        changed.data_bearing = Set(data_bearing);
    }
    if changes.condition_notes.is_some() {
        changed.condition_notes = Set(notes);
    }
    let updated = changed.update(&txn).await.on_unique("serial_taken", || {
        format!(
            "serial “{}” is already on another item of this collection ({collection_id})",
            serial.unwrap_or_default()
        )
    })?;
    events::record(
        &txn,
        NewEvent::new("item.updated", actor_id)
            .subject(code)
            .payload(json!({ "before": before })),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Corrects an item's intake mass with a ledger correction and a reason: the difference
/// moves between `intake` and the item, attributed to its collection. Only while the item
/// is still whole (`received`, nothing moved on).
pub async fn correct_mass(
    db: &DatabaseConnection,
    reference: &str,
    mass_g: i64,
    reason: &str,
    actor_id: Option<Uuid>,
    idempotency_key: Option<String>,
) -> AppResult<item::Model> {
    mass::check(mass_g).map_err(|e| AppError::invalid("mass_g", e.to_string()))?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "a mass correction needs a reason",
        ));
    }
    let txn = begin_write(db).await?;
    let found = find(&txn, reference).await?;
    certificates::refuse_if_certified(&txn, found.collection_id).await?;
    if let Some(key) = &idempotency_key
        && let Some(_done) = crate::entities::operation::Entity::find()
            .filter(crate::entities::operation::Column::IdempotencyKey.eq(key.as_str()))
            .one(&txn)
            .await?
    {
        return Ok(found);
    }
    let holder = ledger::find_holder(&txn, &found.code).await?;
    if found.state != RECEIVED || holder.balance_g != found.gross_mass_g {
        return Err(AppError::conflict(
            "item_processed",
            format!(
                "{} has been processed since intake: correct the later operations instead",
                found.code
            ),
        ));
    }
    if mass_g == found.gross_mass_g {
        return Err(AppError::invalid(
            "mass_g",
            format!("{} already weighs {mass_g} g", found.code),
        ));
    }
    let intake = ledger::account(&txn, Account::Intake, None).await?;
    let delta = mass_g - found.gross_mass_g;
    let movement = if delta > 0 {
        Movement::new(intake.id, found.id, delta).basis(Basis::Collection(found.collection_id))
    } else {
        Movement::new(found.id, intake.id, -delta)
    };
    let mut operation = NewOperation::new(OperationKind::Correction, actor_id, vec![movement]);
    operation.reason = Some(reason.to_string());
    operation.subjects = vec![found.code.clone()];
    operation.idempotency_key = idempotency_key;
    operation.payload =
        json!({ "item": found.code, "mass_from_g": found.gross_mass_g, "mass_to_g": mass_g });
    ledger::post_in(&txn, operation).await?;
    let mut changed: item::ActiveModel = found.into();
    changed.gross_mass_g = Set(mass_g);
    let updated = changed.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Links a manufacturer barcode or serial to an item, so scanning it finds the item.
pub async fn link_barcode(
    db: &DatabaseConnection,
    reference: &str,
    barcode: &str,
    actor_id: Option<Uuid>,
) -> AppResult<item_barcode::Model> {
    let mut errors = Vec::new();
    let barcode = intake::required_text("barcode", barcode, 200, &mut errors);
    AppError::invalid_fields(errors)?;
    if Code::from_scan(&barcode).is_ok() {
        return Err(AppError::invalid(
            "barcode",
            "this is a greenchip code, not a manufacturer barcode",
        ));
    }
    let txn = begin_write(db).await?;
    let found = find(&txn, reference).await?;
    let linked = item_barcode::ActiveModel {
        id: Set(Uuid::now_v7()),
        item_id: Set(found.id),
        barcode: Set(barcode.clone()),
        created_at: Set(crate::clock::now()),
    }
    .insert(&txn)
    .await
    .on_unique("barcode_taken", || {
        format!("barcode “{barcode}” is already linked to an item")
    })?;
    events::record(
        &txn,
        NewEvent::new("item.barcode_linked", actor_id)
            .subject(found.code.clone())
            .payload(json!({ "barcode": linked.barcode })),
    )
    .await?;
    txn.commit().await?;
    Ok(linked)
}

pub async fn barcodes_of(conn: &impl ConnectionTrait, item_id: Uuid) -> AppResult<Vec<String>> {
    Ok(item_barcode::Entity::find()
        .filter(item_barcode::Column::ItemId.eq(item_id))
        .order_by_asc(item_barcode::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|b| b.barcode)
        .collect())
}

#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub collection_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub kind_id: Option<Uuid>,
    pub state: Option<String>,
    /// Part of a code, serial, brand or model.
    pub text: Option<String>,
}

/// Items, oldest first within a collection (the order they were received).
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: ItemFilter,
    paging: Paging,
) -> AppResult<Page<item::Model>> {
    let mut query = item::Entity::find().order_by_asc(item::Column::Id);
    if let Some(collection_id) = filter.collection_id {
        query = query.filter(item::Column::CollectionId.eq(collection_id));
    }
    if let Some(partner_id) = filter.partner_id {
        let of_partner: Vec<Uuid> = collection::Entity::find()
            .filter(collection::Column::PartnerId.eq(partner_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        query = query.filter(item::Column::CollectionId.is_in(of_partner));
    }
    if let Some(kind_id) = filter.kind_id {
        query = query.filter(item::Column::KindId.eq(kind_id));
    }
    if let Some(state) = filter.state {
        query = query.filter(item::Column::State.eq(state));
    }
    if let Some(text) = filter
        .text
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
    {
        let pattern = format!("%{text}%");
        query = query.filter(
            Condition::any()
                .add(item::Column::Code.like(pattern.to_uppercase()))
                .add(item::Column::Serial.like(pattern.clone()))
                .add(item::Column::Brand.like(pattern.clone()))
                .add(item::Column::Model.like(pattern)),
        );
    }
    Ok(paginate(conn, query, paging).await?)
}

/// Σ of the intake masses of a collection's items.
pub async fn total_mass_g(conn: &impl ConnectionTrait, collection_id: Uuid) -> AppResult<i64> {
    use sea_orm::{FromQueryResult, QuerySelect};
    #[derive(FromQueryResult)]
    struct Total {
        total_g: Option<i64>,
    }
    let total = item::Entity::find()
        .select_only()
        .column_as(
            sea_orm::sea_query::Expr::cust("CAST(COALESCE(SUM(gross_mass_g), 0) AS BIGINT)"),
            "total_g",
        )
        .filter(item::Column::CollectionId.eq(collection_id))
        .into_model::<Total>()
        .one(conn)
        .await?;
    Ok(total.and_then(|t| t.total_g).unwrap_or(0))
}

/// The lifecycle state of each of a collection's items.
pub async fn states_of(conn: &impl ConnectionTrait, collection_id: Uuid) -> AppResult<Vec<String>> {
    use sea_orm::QuerySelect;
    Ok(item::Entity::find()
        .select_only()
        .column(item::Column::State)
        .filter(item::Column::CollectionId.eq(collection_id))
        .into_tuple::<String>()
        .all(conn)
        .await?)
}
