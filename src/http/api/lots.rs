//! Lots, sorting and dismantling over HTTP. Steps are taken by the apprentice signed in at an
//! enrolled station device, or by a supervisor naming the station.

use axum::extract::State;
use axum::http::StatusCode;

use crate::domain::roles::Role;
use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::auth::{CurrentUser, Performing, StationDevice};
use crate::http::extract::{Json, Path, Query};
use crate::services::dismantling::{self, DismantleRequest};
use crate::services::flows::FlowAnswer;
use crate::services::lots::{
    self, LotFilter, LotRow, LotStateRequest, LotView, OpenLotRequest, ReweighRequest,
    TransferRequest,
};
use crate::services::{Page, Paging};

/// Who may read lots, melts and shipments.
pub const WORKSHOP: &[Role] = &[Role::Supervisor, Role::Apprentice];

/// Lots, newest first.
#[utoipa::path(get, path = "/lots", tag = "materials", params(LotFilter, Paging),
    responses((status = 200, body = Page<LotRow>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(filter): Query<LotFilter>,
    Query(paging): Query<Paging>,
) -> AppResult<Json<Page<LotRow>>> {
    current.require(WORKSHOP)?;
    Ok(Json(lots::list(&state.db, &filter, paging).await?))
}

/// Open a new, empty lot (a bin, bag or pallet) of a material.
#[utoipa::path(post, path = "/lots", tag = "materials", request_body = OpenLotRequest,
    responses((status = 201, body = LotView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn open(
    State(state): State<AppState>,
    performing: Performing,
    Json(request): Json<OpenLotRequest>,
) -> AppResult<(StatusCode, Json<LotView>)> {
    let performer = performing.at(&state, request.station.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        Json(lots::open(&state.db, &performer, request).await?),
    ))
}

/// A lot: balance, composition by partner, history.
#[utoipa::path(get, path = "/lots/{code}", tag = "materials", params(("code" = String, Path)),
    responses((status = 200, body = LotView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<LotView>> {
    current.require(WORKSHOP)?;
    Ok(Json(lots::view(&state.db, &code).await?))
}

/// Close a lot: it then gives mass out (sorting, melts, shipments) but takes none in.
#[utoipa::path(post, path = "/lots/{code}/close", tag = "materials", params(("code" = String, Path)),
    responses((status = 200, body = LotView), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn close(
    State(state): State<AppState>,
    performing: Performing,
    Path(code): Path<String>,
) -> AppResult<Json<LotView>> {
    let performer = performing.at(&state, None).await?;
    Ok(Json(lots::close(&state.db, &performer, &code).await?))
}

/// Reopen a closed lot, with a reason.
#[utoipa::path(post, path = "/lots/{code}/reopen", tag = "materials", params(("code" = String, Path)),
    request_body = LotStateRequest,
    responses((status = 200, body = LotView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn reopen(
    State(state): State<AppState>,
    performing: Performing,
    Path(code): Path<String>,
    Json(request): Json<LotStateRequest>,
) -> AppResult<Json<LotView>> {
    let performer = performing.at(&state, None).await?;
    Ok(Json(
        lots::reopen(&state.db, &performer, &code, request.reason.as_deref()).await?,
    ))
}

/// Move mass out of a lot into other lots: a split, a merge, or a regrade after stripping.
#[utoipa::path(post, path = "/lots/{code}/transfers", tag = "materials", params(("code" = String, Path)),
    request_body = TransferRequest,
    responses((status = 200, body = FlowAnswer), (status = 409, body = Problem, content_type = "application/problem+json",
        description = "the lot is finished, or the outputs are outside the tolerance (the detail shows input, outputs and difference)"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`approval_refused`: the supervisor's badge and PIN in `override` were not accepted (the same answer whatever else is wrong)"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 423, body = Problem, content_type = "application/problem+json", description = "`badge_locked`: the approving badge is locked after too many wrong PINs")))]
pub async fn transfer(
    State(state): State<AppState>,
    performing: Performing,
    Path(code): Path<String>,
    Json(request): Json<TransferRequest>,
) -> AppResult<Json<FlowAnswer>> {
    let step = performing
        .weighing(
            &state,
            request.station.as_deref(),
            request.override_request.as_ref(),
            "sorting",
        )
        .await?;
    Ok(Json(
        lots::transfer(
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

/// Reweigh a lot: the difference goes to `weighing_variance`, with the scale reading.
#[utoipa::path(post, path = "/lots/{code}/reweighings", tag = "materials", params(("code" = String, Path)),
    request_body = ReweighRequest,
    responses((status = 200, body = FlowAnswer), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`approval_refused`: the supervisor's badge and PIN in `override` were not accepted (the same answer whatever else is wrong)"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 423, body = Problem, content_type = "application/problem+json", description = "`badge_locked`: the approving badge is locked after too many wrong PINs")))]
pub async fn reweigh(
    State(state): State<AppState>,
    performing: Performing,
    Path(code): Path<String>,
    Json(request): Json<ReweighRequest>,
) -> AppResult<Json<FlowAnswer>> {
    let step = performing
        .weighing(
            &state,
            request.station.as_deref(),
            request.override_request.as_ref(),
            "sorting",
        )
        .await?;
    Ok(Json(
        lots::reweigh(
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

/// Finish dismantling an item: its weighed fractions into lots, the difference to
/// `weighing_variance` (or `process_loss`); the item ends `dismantled`.
#[utoipa::path(post, path = "/dismantlings", tag = "materials", request_body = DismantleRequest,
    responses((status = 200, body = FlowAnswer), (status = 409, body = Problem, content_type = "application/problem+json",
        description = "the item is not being dismantled here, a lot is not open, or the fractions are outside the tolerance"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`approval_refused`: the supervisor's badge and PIN in `override` were not accepted (the same answer whatever else is wrong)"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 423, body = Problem, content_type = "application/problem+json", description = "`badge_locked`: the approving badge is locked after too many wrong PINs")))]
pub async fn dismantle(
    State(state): State<AppState>,
    performing: Performing,
    Json(request): Json<DismantleRequest>,
) -> AppResult<Json<FlowAnswer>> {
    let step = performing
        .weighing(
            &state,
            request.station.as_deref(),
            request.override_request.as_ref(),
            "dismantling",
        )
        .await?;
    Ok(Json(
        dismantling::dismantle(
            &state.db,
            &step.performer,
            step.tolerance_bp,
            step.overridden,
            request,
        )
        .await?,
    ))
}

/// The open lots at this device's station, oldest first: the bins to offer.
#[utoipa::path(get, path = "/station/lots", tag = "stations",
    responses((status = 200, body = [LotRow]), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn at_station(
    State(state): State<AppState>,
    at: StationDevice,
) -> AppResult<Json<Vec<LotRow>>> {
    Ok(Json(lots::open_at(&state.db, at.station.id).await?))
}
