//! Melts over HTTP: start one at a smelting station, charge copper lots, note the furnace,
//! pour ingots and dross, finish.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::api::lots::WORKSHOP;
use crate::http::auth::{CurrentUser, Performing};
use crate::http::extract::{Json, Path, Query};
use crate::services::flows::FlowAnswer;
use crate::services::melts::{
    self, ChargeRequest, MeltView, NoteRequest, PourRequest, StartMeltRequest,
};
use crate::services::{MAX_PER_PAGE, in_range};

#[derive(Debug, Deserialize, IntoParams)]
pub struct MeltListQuery {
    /// At most this many (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
}

/// Melts, newest first.
#[utoipa::path(get, path = "/melts", tag = "materials", params(MeltListQuery),
    responses((status = 200, body = [MeltView]), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<MeltListQuery>,
) -> AppResult<Json<Vec<MeltView>>> {
    current.require(WORKSHOP)?;
    Ok(Json(
        melts::list(
            &state.db,
            in_range("limit", query.limit, 1, MAX_PER_PAGE)?.unwrap_or(50),
        )
        .await?,
    ))
}

/// Start a melt at a smelting station.
#[utoipa::path(post, path = "/melts", tag = "materials", request_body = StartMeltRequest,
    responses((status = 201, body = MeltView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn start(
    State(state): State<AppState>,
    performing: Performing,
    Json(request): Json<StartMeltRequest>,
) -> AppResult<(StatusCode, Json<MeltView>)> {
    let performer = performing.at(&state, request.station.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        Json(melts::start(&state.db, &performer, request).await?),
    ))
}

/// A melt: charges, pours, yield, furnace notes.
#[utoipa::path(get, path = "/melts/{code}", tag = "materials", params(("code" = String, Path)),
    responses((status = 200, body = MeltView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<MeltView>> {
    current.require(WORKSHOP)?;
    Ok(Json(melts::view(&state.db, &code).await?))
}

/// Charge copper lots (all of each, or the mass given) into an open melt.
#[utoipa::path(post, path = "/melts/{code}/charges", tag = "materials", params(("code" = String, Path)),
    request_body = ChargeRequest,
    responses((status = 200, body = FlowAnswer), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "a lot is not copper, or not known")))]
pub async fn charge(
    State(state): State<AppState>,
    performing: Performing,
    Path(code): Path<String>,
    Json(request): Json<ChargeRequest>,
) -> AppResult<Json<FlowAnswer>> {
    let performer = performing.at(&state, request.station.as_deref()).await?;
    Ok(Json(
        melts::charge(&state.db, &performer, &code, request).await?,
    ))
}

/// Add a furnace note (a temperature, what was seen).
#[utoipa::path(post, path = "/melts/{code}/notes", tag = "materials", params(("code" = String, Path)),
    request_body = NoteRequest,
    responses((status = 200, body = MeltView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn note(
    State(state): State<AppState>,
    performing: Performing,
    Path(code): Path<String>,
    Json(request): Json<NoteRequest>,
) -> AppResult<Json<MeltView>> {
    let performer = performing.at(&state, None).await?;
    Ok(Json(
        melts::note(&state.db, &performer, &code, request).await?,
    ))
}

/// Pour ingots (each a new `CU-INGOT` lot) and dross out of a melt; `finish` sends the rest
/// to `process_loss` and closes the melt.
#[utoipa::path(post, path = "/melts/{code}/pours", tag = "materials", params(("code" = String, Path)),
    request_body = PourRequest,
    responses((status = 200, body = FlowAnswer), (status = 409, body = Problem, content_type = "application/problem+json",
        description = "the melt is finished, or more was poured than charged beyond the tolerance"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`approval_refused`: the supervisor's badge and PIN in `override` were not accepted (the same answer whatever else is wrong)"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 423, body = Problem, content_type = "application/problem+json", description = "`badge_locked`: the approving badge is locked after too many wrong PINs")))]
pub async fn pour(
    State(state): State<AppState>,
    performing: Performing,
    Path(code): Path<String>,
    Json(request): Json<PourRequest>,
) -> AppResult<Json<FlowAnswer>> {
    let step = performing
        .weighing(
            &state,
            request.station.as_deref(),
            request.override_request.as_ref(),
            "smelting",
        )
        .await?;
    Ok(Json(
        melts::pour(
            &state.db,
            &step.performer,
            step.tolerance_bp,
            step.overridden,
            &code,
            request,
        )
        .await?,
    ))
}
