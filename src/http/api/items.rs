//! Items over HTTP: find, edit, correct the mass (with a reason), link barcodes.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::api::collections::{ItemView, kind_codes};
use crate::http::api::ledger::idempotency_key;
use crate::http::api::partners::STAFF;
use crate::http::auth::CurrentUser;
use crate::http::extract::{Json, Path, Query};
use crate::services::items::{self, ItemChanges, ItemFilter};
use crate::services::{Page, Paging, catalogue, partners};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ItemQuery {
    collection_id: Option<Uuid>,
    partner_id: Option<Uuid>,
    /// Equipment kind code.
    kind: Option<String>,
    state: Option<String>,
    /// Part of a code, serial, brand or model.
    q: Option<String>,
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u64>,
    #[param(minimum = 1, maximum = 500)]
    per_page: Option<u64>,
}

/// Items, filtered.
#[utoipa::path(get, path = "/items", tag = "intake", params(ItemQuery),
    responses((status = 200, body = Page<ItemView>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<ItemQuery>,
) -> AppResult<Json<Page<ItemView>>> {
    let own = current.reader_scope(STAFF)?;
    let kind_id = match &query.kind {
        Some(code) => Some(catalogue::kind(&state.db, code).await?.id),
        None => None,
    };
    let filter = ItemFilter {
        collection_id: query.collection_id,
        partner_id: own.or(query.partner_id),
        kind_id,
        state: query.state,
        text: query.q,
    };
    let kinds = kind_codes(&state).await?;
    let page = items::list(
        &state.db,
        filter,
        Paging::checked(query.page, query.per_page)?,
    )
    .await?;
    Ok(Json(page.map(|i| ItemView::new(i, &kinds))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDetail {
    #[serde(flatten)]
    item: ItemView,
    /// Manufacturer barcodes linked to it.
    barcodes: Vec<String>,
}

/// One item by code (`IT-…`), id, or a linked manufacturer barcode.
#[utoipa::path(get, path = "/items/{reference}", tag = "intake", params(("reference" = String, Path)),
    responses((status = 200, body = ItemDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(reference): Path<String>,
) -> AppResult<Json<ItemDetail>> {
    let found = items::find(&state.db, &reference).await;
    let owner = match &found {
        Ok(found) => partners::owner_of(&state.db, &found.code).await?,
        Err(_) => None,
    };
    current.may_read(STAFF, owner, &format!("item {reference}"))?;
    let found = found?;
    let barcodes = items::barcodes_of(&state.db, found.id).await?;
    let kinds = kind_codes(&state).await?;
    Ok(Json(ItemDetail {
        item: ItemView::new(found, &kinds),
        barcodes,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemChangeRequest {
    kind: Option<String>,
    brand: Option<String>,
    model: Option<String>,
    serial: Option<String>,
    quantity: Option<i32>,
    data_bearing: Option<bool>,
    condition_notes: Option<String>,
}

/// Change an item's editable fields. Its mass is corrected with `POST …/mass-corrections`.
#[utoipa::path(patch, path = "/items/{reference}", tag = "intake", params(("reference" = String, Path)),
    request_body = ItemChangeRequest,
    responses((status = 200, body = ItemView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(reference): Path<String>,
    Json(request): Json<ItemChangeRequest>,
) -> AppResult<Json<ItemView>> {
    current.require(STAFF)?;
    let changes = ItemChanges {
        kind: request.kind,
        brand: request.brand,
        model: request.model,
        serial: request.serial,
        quantity: request.quantity,
        data_bearing: request.data_bearing,
        condition_notes: request.condition_notes,
    };
    let updated = items::update(&state.db, &reference, changes, Some(current.user.id)).await?;
    let kinds = kind_codes(&state).await?;
    Ok(Json(ItemView::new(updated, &kinds)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MassCorrectionRequest {
    /// The right intake mass, whole grams.
    mass_g: i64,
    reason: String,
}

/// Correct an item's intake mass: a ledger correction with a reason, not a silent edit.
#[utoipa::path(post, path = "/items/{reference}/mass-corrections", tag = "intake", params(("reference" = String, Path)),
    request_body = MassCorrectionRequest,
    responses((status = 200, body = ItemView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn correct_mass(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Json(request): Json<MassCorrectionRequest>,
) -> AppResult<Json<ItemView>> {
    current.require(STAFF)?;
    let key = idempotency_key(&headers)?;
    let corrected = items::correct_mass(
        &state.db,
        &reference,
        request.mass_g,
        &request.reason,
        Some(current.user.id),
        key,
    )
    .await?;
    let kinds = kind_codes(&state).await?;
    Ok(Json(ItemView::new(corrected, &kinds)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BarcodeRequest {
    /// The manufacturer's barcode or serial as scanned.
    barcode: String,
}

/// Link a manufacturer barcode to an item, so scanning it finds the item.
#[utoipa::path(post, path = "/items/{reference}/barcodes", tag = "intake", params(("reference" = String, Path)),
    request_body = BarcodeRequest,
    responses((status = 201, body = ItemDetail), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn link_barcode(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(reference): Path<String>,
    Json(request): Json<BarcodeRequest>,
) -> AppResult<(StatusCode, Json<ItemDetail>)> {
    current.require(STAFF)?;
    items::link_barcode(
        &state.db,
        &reference,
        &request.barcode,
        Some(current.user.id),
    )
    .await?;
    let found = items::find(&state.db, &reference).await?;
    let barcodes = items::barcodes_of(&state.db, found.id).await?;
    let kinds = kind_codes(&state).await?;
    Ok((
        StatusCode::CREATED,
        Json(ItemDetail {
            item: ItemView::new(found, &kinds),
            barcodes,
        }),
    ))
}
