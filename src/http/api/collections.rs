//! Collections and the items received in them, over HTTP.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::intake::CollectionState;
use crate::entities::{collection, item};
use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::api::ledger::idempotency_key;
use crate::http::api::partners::STAFF;
use crate::http::auth::CurrentUser;
use crate::http::extract::{Json, Path, Query};
use crate::services::collections::{self, CollectionFields, CollectionFilter};
use crate::services::items::{self, NewItem};
use crate::services::{Page, Paging, catalogue, partners};

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionView {
    id: Uuid,
    /// `CO-…`
    code: String,
    partner_id: Uuid,
    received_on: NaiveDate,
    place: Option<String>,
    reference: Option<String>,
    received_by: Option<Uuid>,
    notes: Option<String>,
    state: CollectionState,
    created_at: DateTime<Utc>,
}

impl From<collection::Model> for CollectionView {
    fn from(c: collection::Model) -> CollectionView {
        CollectionView {
            id: c.id,
            code: c.code,
            partner_id: c.partner_id,
            received_on: c.received_on,
            place: c.place,
            reference: c.reference,
            received_by: c.received_by,
            notes: c.notes,
            state: if c.state == "closed" {
                CollectionState::Closed
            } else {
                CollectionState::Open
            },
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionDetail {
    #[serde(flatten)]
    collection: CollectionView,
    partner_name: String,
    /// Items received so far.
    item_count: u64,
    /// Σ of their intake masses.
    received_g: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionRequest {
    /// Required when creating; cannot change afterwards.
    partner_id: Option<Uuid>,
    /// Default: today.
    received_on: Option<NaiveDate>,
    place: Option<String>,
    /// The partner's reference, e.g. its delivery note number.
    reference: Option<String>,
    notes: Option<String>,
}

impl From<CollectionRequest> for CollectionFields {
    fn from(r: CollectionRequest) -> CollectionFields {
        CollectionFields {
            partner_id: r.partner_id,
            received_on: r.received_on,
            place: r.place,
            reference: r.reference,
            notes: r.notes,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CollectionQuery {
    partner_id: Option<Uuid>,
    state: Option<CollectionState>,
    /// Received on or after.
    from: Option<NaiveDate>,
    /// Received on or before.
    to: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u64>,
    #[param(minimum = 1, maximum = 500)]
    per_page: Option<u64>,
}

/// Collections, newest first.
#[utoipa::path(get, path = "/collections", tag = "intake", params(CollectionQuery),
    responses((status = 200, body = Page<CollectionView>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<CollectionQuery>,
) -> AppResult<Json<Page<CollectionView>>> {
    let own = current.reader_scope(STAFF)?;
    let filter = CollectionFilter {
        partner_id: own.or(query.partner_id),
        state: query.state,
        from: query.from,
        to: query.to,
    };
    let paging = Paging::checked(query.page, query.per_page)?;
    Ok(Json(
        collections::list(&state.db, filter, paging)
            .await?
            .map(CollectionView::from),
    ))
}

/// Open a collection for a partner; items are then received into it.
#[utoipa::path(post, path = "/collections", tag = "intake", request_body = CollectionRequest,
    responses((status = 201, body = CollectionView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<CollectionRequest>,
) -> AppResult<(StatusCode, Json<CollectionView>)> {
    current.require(STAFF)?;
    let created = collections::create(&state.db, request.into(), Some(current.user.id)).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One collection by code (`CO-…`) or id, with its partner and totals.
#[utoipa::path(get, path = "/collections/{reference}", tag = "intake", params(("reference" = String, Path)),
    responses((status = 200, body = CollectionDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(reference): Path<String>,
) -> AppResult<Json<CollectionDetail>> {
    let found = collections::find(&state.db, &reference).await;
    current.may_read(
        STAFF,
        found.as_ref().ok().map(|c| c.partner_id),
        &format!("collection {reference}"),
    )?;
    Ok(Json(detail(&state, found?).await?))
}

async fn detail(state: &AppState, found: collection::Model) -> AppResult<CollectionDetail> {
    let partner = partners::get(&state.db, found.partner_id).await?;
    let received = items::list(
        &state.db,
        items::ItemFilter {
            collection_id: Some(found.id),
            ..Default::default()
        },
        Paging {
            page: Some(1),
            per_page: Some(1),
        },
    )
    .await?;
    let received_g = items::total_mass_g(&state.db, found.id).await?;
    Ok(CollectionDetail {
        collection: found.into(),
        partner_name: partner.name,
        item_count: received.total,
        received_g,
    })
}

/// Change a collection's date, place, reference or notes.
#[utoipa::path(patch, path = "/collections/{reference}", tag = "intake", params(("reference" = String, Path)),
    request_body = CollectionRequest,
    responses((status = 200, body = CollectionView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json",
            description = "`certified`: a valid certificate states the reception date and reference"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(reference): Path<String>,
    Json(request): Json<CollectionRequest>,
) -> AppResult<Json<CollectionView>> {
    current.require(STAFF)?;
    Ok(Json(
        collections::update(&state.db, &reference, request.into(), Some(current.user.id))
            .await?
            .into(),
    ))
}

/// Close a collection: no more items.
#[utoipa::path(post, path = "/collections/{reference}/close", tag = "intake", params(("reference" = String, Path)),
    responses((status = 200, body = CollectionView), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn close(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(reference): Path<String>,
) -> AppResult<Json<CollectionView>> {
    current.require(STAFF)?;
    let closed = collections::set_state(
        &state.db,
        &reference,
        CollectionState::Closed,
        None,
        Some(current.user.id),
    )
    .await?;
    Ok(Json(closed.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenRequest {
    reason: String,
}

/// Reopen a closed collection, with a reason.
#[utoipa::path(post, path = "/collections/{reference}/reopen", tag = "intake", params(("reference" = String, Path)),
    request_body = ReopenRequest,
    responses((status = 200, body = CollectionView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn reopen(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(reference): Path<String>,
    Json(request): Json<ReopenRequest>,
) -> AppResult<Json<CollectionView>> {
    current.require(STAFF)?;
    let opened = collections::set_state(
        &state.db,
        &reference,
        CollectionState::Open,
        Some(&request.reason),
        Some(current.user.id),
    )
    .await?;
    Ok(Json(opened.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    id: Uuid,
    /// `IT-…`
    code: String,
    collection_id: Uuid,
    /// Equipment kind code.
    kind: String,
    weee_category: i16,
    brand: Option<String>,
    model: Option<String>,
    serial: Option<String>,
    /// As weighed at intake (after any mass correction).
    gross_mass_g: i64,
    quantity: i32,
    data_bearing: bool,
    condition_notes: Option<String>,
    state: String,
    created_at: DateTime<Utc>,
}

impl ItemView {
    pub fn new(i: item::Model, kinds: &HashMap<Uuid, String>) -> ItemView {
        ItemView {
            kind: kinds.get(&i.kind_id).cloned().unwrap_or_default(),
            id: i.id,
            code: i.code,
            collection_id: i.collection_id,
            weee_category: i.weee_category,
            brand: i.brand,
            model: i.model,
            serial: i.serial,
            gross_mass_g: i.gross_mass_g,
            quantity: i.quantity,
            data_bearing: i.data_bearing,
            condition_notes: i.condition_notes,
            state: i.state,
            created_at: i.created_at,
        }
    }
}

pub async fn kind_codes(state: &AppState) -> AppResult<HashMap<Uuid, String>> {
    Ok(catalogue::kinds(&state.db)
        .await?
        .into_iter()
        .map(|k| (k.id, k.code))
        .collect())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemRequest {
    /// Equipment kind code, e.g. `desktop_pc`.
    kind: String,
    /// Gross mass weighed at intake, whole grams (more than 0, at most 2,000,000).
    mass_g: i64,
    /// For bulk small items weighed together (default 1).
    quantity: Option<i32>,
    brand: Option<String>,
    model: Option<String>,
    /// Unique within the collection.
    serial: Option<String>,
    /// Default: the kind's.
    data_bearing: Option<bool>,
    condition_notes: Option<String>,
}

impl From<ItemRequest> for NewItem {
    fn from(r: ItemRequest) -> NewItem {
        NewItem {
            kind: r.kind,
            mass_g: r.mass_g,
            quantity: r.quantity,
            brand: r.brand,
            model: r.model,
            serial: r.serial,
            data_bearing: r.data_bearing,
            condition_notes: r.condition_notes,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkItemsRequest {
    /// Up to 1,000 items; one invalid item refuses them all.
    items: Vec<ItemRequest>,
}

/// The items of a collection, in the order received.
#[utoipa::path(get, path = "/collections/{reference}/items", tag = "intake", params(("reference" = String, Path), Paging),
    responses((status = 200, body = Page<ItemView>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn items_of(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(reference): Path<String>,
    Query(paging): Query<Paging>,
) -> AppResult<Json<Page<ItemView>>> {
    let found = collections::find(&state.db, &reference).await;
    current.may_read(
        STAFF,
        found.as_ref().ok().map(|c| c.partner_id),
        &format!("collection {reference}"),
    )?;
    let found = found?;
    let kinds = kind_codes(&state).await?;
    let page = items::list(
        &state.db,
        items::ItemFilter {
            collection_id: Some(found.id),
            ..Default::default()
        },
        Paging::checked(paging.page, paging.per_page)?,
    )
    .await?;
    Ok(Json(page.map(|i| ItemView::new(i, &kinds))))
}

/// Receive one item into an open collection: its code is generated and its intake posted.
/// Send an `Idempotency-Key` header to make a retry safe.
#[utoipa::path(post, path = "/collections/{reference}/items", tag = "intake", params(("reference" = String, Path)),
    request_body = ItemRequest,
    responses((status = 201, body = ItemView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn receive(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Json(request): Json<ItemRequest>,
) -> AppResult<(StatusCode, Json<ItemView>)> {
    current.require(STAFF)?;
    let key = idempotency_key(&headers)?;
    let received = items::receive(
        &state.db,
        &reference,
        vec![request.into()],
        false,
        Some(current.user.id),
        key,
    )
    .await?;
    let kinds = kind_codes(&state).await?;
    let first = received
        .into_iter()
        .next()
        .ok_or_else(|| crate::error::AppError::invalid("items", "nothing received"))?;
    Ok((StatusCode::CREATED, Json(ItemView::new(first, &kinds))))
}

/// Receive many items at once, all or nothing (errors name `items/<index>/<field>`).
#[utoipa::path(post, path = "/collections/{reference}/items/bulk", tag = "intake", params(("reference" = String, Path)),
    request_body = BulkItemsRequest,
    responses((status = 201, body = [ItemView]), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn receive_bulk(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Json(request): Json<BulkItemsRequest>,
) -> AppResult<(StatusCode, Json<Vec<ItemView>>)> {
    current.require(STAFF)?;
    let key = idempotency_key(&headers)?;
    let new_items = request.items.into_iter().map(NewItem::from).collect();
    let received = items::receive(
        &state.db,
        &reference,
        new_items,
        true,
        Some(current.user.id),
        key,
    )
    .await?;
    let kinds = kind_codes(&state).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            received
                .into_iter()
                .map(|i| ItemView::new(i, &kinds))
                .collect(),
        ),
    ))
}
