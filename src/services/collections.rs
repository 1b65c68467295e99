//! Collections: hand-overs of equipment from a partner, open while items are received.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::codes::{Code, CodeKind};
use crate::domain::intake::{self, CollectionState};
use crate::entities::collection;
use crate::error::{AppError, AppResult};
use crate::services::events::{self, NewEvent};
use crate::services::{Page, Paging, certificates, paginate, partners};

#[derive(Debug, Clone, Default)]
pub struct CollectionFields {
    pub partner_id: Option<Uuid>,
    pub received_on: Option<NaiveDate>,
    pub place: Option<String>,
    /// The partner's own reference, e.g. its delivery note number.
    pub reference: Option<String>,
    pub notes: Option<String>,
}

pub async fn create(
    db: &DatabaseConnection,
    fields: CollectionFields,
    actor_id: Option<Uuid>,
) -> AppResult<collection::Model> {
    let mut errors = Vec::new();
    let place = intake::optional_text("place", fields.place.as_deref(), 200, &mut errors);
    let reference =
        intake::optional_text("reference", fields.reference.as_deref(), 100, &mut errors);
    let notes = intake::optional_text("notes", fields.notes.as_deref(), 2_000, &mut errors);
    let today = crate::clock::now().date_naive();
    let received_on = fields.received_on.unwrap_or(today);
    if received_on > today {
        errors.push(crate::error::FieldError::new(
            "received_on",
            "cannot be in the future",
        ));
    }
    let Some(partner_id) = fields.partner_id else {
        errors.push(crate::error::FieldError::new("partner_id", "is required"));
        return Err(AppError::invalid_fields(errors)
            .err()
            .unwrap_or_else(|| AppError::invalid("partner_id", "is required")));
    };
    AppError::invalid_fields(errors)?;
    let txn = begin_write(db).await?;
    let partner = partners::get(&txn, partner_id)
        .await
        .map_err(|_| AppError::invalid("partner_id", format!("no partner {partner_id}")))?;
    let created = collection::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(Code::random(CodeKind::Collection).to_string()),
        partner_id: Set(partner.id),
        received_on: Set(received_on),
        place: Set(place),
        reference: Set(reference),
        received_by: Set(actor_id),
        notes: Set(notes),
        state: Set(CollectionState::Open.as_str().to_string()),
        created_at: Set(crate::clock::now()),
    }
    .insert(&txn)
    .await?;
    events::record(
        &txn,
        NewEvent::new("collection.created", actor_id)
            .subject(created.code.clone())
            .subject(partner.name.clone())
            .payload(json!({ "collection_id": created.id, "partner_id": partner.id, "reference": created.reference })),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// A collection by its code (`CO-…`, typed or scanned) or its id.
pub async fn find(conn: &impl ConnectionTrait, reference: &str) -> AppResult<collection::Model> {
    let query = match reference.trim().parse::<Uuid>() {
        Ok(id) => collection::Entity::find_by_id(id),
        Err(_) => {
            let code = Code::from_scan(reference)
                .map_err(|e| AppError::invalid("collection", e.to_string()))?;
            if code.kind() != CodeKind::Collection {
                return Err(AppError::invalid(
                    "collection",
                    format!("{code} is not a collection code"),
                ));
            }
            collection::Entity::find().filter(collection::Column::Code.eq(code.to_string()))
        }
    };
    query
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no collection {}", reference.trim())))
}

pub async fn update(
    db: &DatabaseConnection,
    reference: &str,
    fields: CollectionFields,
    actor_id: Option<Uuid>,
) -> AppResult<collection::Model> {
    if fields.partner_id.is_some() {
        return Err(AppError::invalid(
            "partner_id",
            "a collection's partner cannot change: its items' mass is attributed to it",
        ));
    }
    let mut errors = Vec::new();
    let place = intake::optional_text("place", fields.place.as_deref(), 200, &mut errors);
    let reference_text =
        intake::optional_text("reference", fields.reference.as_deref(), 100, &mut errors);
    let notes = intake::optional_text("notes", fields.notes.as_deref(), 2_000, &mut errors);
    if let Some(day) = fields.received_on
        && day > crate::clock::now().date_naive()
    {
        errors.push(crate::error::FieldError::new(
            "received_on",
            "cannot be in the future",
        ));
    }
    AppError::invalid_fields(errors)?;
    let txn = begin_write(db).await?;
    let found = find(&txn, reference).await?;
    // The reception date and the partner's reference are printed on its certificate.
    if fields
        .received_on
        .is_some_and(|day| day != found.received_on)
        || (fields.reference.is_some() && reference_text != found.reference)
    {
        certificates::refuse_if_certified(&txn, found.id).await?;
    }
    let before_received_on = found.received_on;
    let before = json!({ "received_on": found.received_on, "place": found.place, "reference": found.reference, "notes": found.notes });
    let mut changed: collection::ActiveModel = found.into();
    if let Some(day) = fields.received_on {
        changed.received_on = Set(day);
    }
    if fields.place.is_some() {
        changed.place = Set(place);
    }
    if fields.reference.is_some() {
        changed.reference = Set(reference_text);
    }
    if fields.notes.is_some() {
        changed.notes = Set(notes);
    }
    let updated = changed.update(&txn).await?;
    crate::services::ledger::daily::move_reception(
        &txn,
        updated.id,
        before_received_on,
        updated.received_on,
    )
    .await?;
    events::record(
        &txn,
        NewEvent::new("collection.updated", actor_id)
            .subject(updated.code.clone())
            .payload(json!({ "before": before })),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Closes (no more items) or reopens (with a reason) a collection.
pub async fn set_state(
    db: &DatabaseConnection,
    reference: &str,
    state: CollectionState,
    reason: Option<&str>,
    actor_id: Option<Uuid>,
) -> AppResult<collection::Model> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if state == CollectionState::Open && reason.is_none() {
        return Err(AppError::invalid(
            "reason",
            "reopening a collection needs a reason",
        ));
    }
    let txn = begin_write(db).await?;
    let found = find(&txn, reference).await?;
    if state == CollectionState::Open {
        certificates::refuse_if_certified(&txn, found.id).await?;
    }
    if found.state == state.as_str() {
        return Err(AppError::conflict(
            "collection_state",
            format!("collection {} is already {}", found.code, state.as_str()),
        ));
    }
    let mut changed: collection::ActiveModel = found.into();
    changed.state = Set(state.as_str().to_string());
    let updated = changed.update(&txn).await?;
    let kind = match state {
        CollectionState::Open => "collection.reopened",
        CollectionState::Closed => "collection.closed",
    };
    events::record(
        &txn,
        NewEvent::new(kind, actor_id)
            .subject(updated.code.clone())
            .payload(json!({ "reason": reason })),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

#[derive(Debug, Clone, Default)]
pub struct CollectionFilter {
    pub partner_id: Option<Uuid>,
    pub state: Option<CollectionState>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Newest first.
pub async fn list(
    db: &DatabaseConnection,
    filter: CollectionFilter,
    paging: Paging,
) -> AppResult<Page<collection::Model>> {
    let mut query = collection::Entity::find()
        .order_by_desc(collection::Column::ReceivedOn)
        .order_by_desc(collection::Column::Id);
    if let Some(partner_id) = filter.partner_id {
        query = query.filter(collection::Column::PartnerId.eq(partner_id));
    }
    if let Some(state) = filter.state {
        query = query.filter(collection::Column::State.eq(state.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(collection::Column::ReceivedOn.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(collection::Column::ReceivedOn.lte(to));
    }
    Ok(paginate(db, query, paging).await?)
}
