//! Downstream processors (supervisors keep the list) and shipments to them.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::api::lots::WORKSHOP;
use crate::http::api::partners::STAFF;
use crate::http::auth::{CurrentUser, Performing};
use crate::http::extract::{Json, Path};
use crate::services::shipments::{
    self, ProcessorRequest, ProcessorView, ShipmentRequest, ShipmentView,
};

/// Downstream processors.
#[utoipa::path(get, path = "/processors", tag = "materials",
    responses((status = 200, body = [ProcessorView]), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn processors(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<Vec<ProcessorView>>> {
    current.require(WORKSHOP)?;
    Ok(Json(shipments::processors(&state.db).await?))
}

/// Register a downstream processor with its licence.
#[utoipa::path(post, path = "/processors", tag = "materials", request_body = ProcessorRequest,
    responses((status = 201, body = ProcessorView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_processor(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<ProcessorRequest>,
) -> AppResult<(StatusCode, Json<ProcessorView>)> {
    current.require(STAFF)?;
    Ok((
        StatusCode::CREATED,
        Json(shipments::create_processor(&state.db, current.user.id, request).await?),
    ))
}

/// Change a processor's details or licence.
#[utoipa::path(put, path = "/processors/{id}", tag = "materials", params(("id" = Uuid, Path)),
    request_body = ProcessorRequest,
    responses((status = 200, body = ProcessorView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "another processor has this name"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_processor(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
    Json(request): Json<ProcessorRequest>,
) -> AppResult<Json<ProcessorView>> {
    current.require(STAFF)?;
    Ok(Json(
        shipments::update_processor(&state.db, current.user.id, id, request).await?,
    ))
}

/// Shipments, newest first.
#[utoipa::path(get, path = "/shipments", tag = "materials",
    responses((status = 200, body = [ShipmentView]), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<Vec<ShipmentView>>> {
    current.require(WORKSHOP)?;
    Ok(Json(shipments::list(&state.db).await?))
}

/// Ship whole lots or parts of lots to a processor licensed for them.
#[utoipa::path(post, path = "/shipments", tag = "materials", request_body = ShipmentRequest,
    responses((status = 201, body = ShipmentView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "a lot's material is outside the processor's licence")))]
pub async fn ship(
    State(state): State<AppState>,
    performing: Performing,
    Json(request): Json<ShipmentRequest>,
) -> AppResult<(StatusCode, Json<ShipmentView>)> {
    let performer = performing.at(&state, request.station.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        Json(shipments::ship(&state.db, &performer, request).await?),
    ))
}

/// A shipment with its lots.
#[utoipa::path(get, path = "/shipments/{code}", tag = "materials", params(("code" = String, Path)),
    responses((status = 200, body = ShipmentView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<ShipmentView>> {
    current.require(WORKSHOP)?;
    Ok(Json(shipments::view(&state.db, &code).await?))
}
