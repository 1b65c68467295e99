//! Workstations over HTTP: stations and their devices (supervisors), and what an enrolled
//! device does: scans, sign-in and sign-out, actions on items.

use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::lifecycle::StationKind;
use crate::domain::roles::Role;
use crate::entities::{station, station_device};
use crate::error::{AppError, AppResult, Problem};
use crate::http::AppState;
use crate::http::auth::{CurrentUser, STATION_COOKIE, StationDevice, set_cookie};
use crate::http::extract::{Json, Path, Query};
use crate::services::actions::{self, ActionAnswer, ActionRequest};
use crate::services::scans::{self, ScanAnswer, ScanRequest};
use crate::services::station_sessions::SessionsUnchanged;
use crate::services::stations;
use crate::services::worklogs::{
    self, SkillLevel, TaskCorrectionRequest, TrainingRecord, WorkLog, WorkLogFilter,
};

/// A station session lasts a year; revoking it is how it ends early.
const STATION_COOKIE_MAX_AGE_S: u64 = 365 * 24 * 3600;

#[derive(Debug, Serialize, ToSchema)]
pub struct StationView {
    id: Uuid,
    /// `ST-…`
    code: String,
    name: String,
    kind: StationKind,
    active: bool,
}

impl From<station::Model> for StationView {
    fn from(s: station::Model) -> StationView {
        StationView {
            kind: stations::kind_of(&s),
            id: s.id,
            code: s.code,
            name: s.name,
            active: s.active,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationRequest {
    name: String,
    kind: StationKind,
}

/// Workstations.
#[utoipa::path(get, path = "/stations", tag = "stations",
    responses((status = 200, body = [StationView]), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<Vec<StationView>>> {
    current.require(&[Role::Supervisor])?;
    Ok(Json(
        stations::list(&state.db)
            .await?
            .into_iter()
            .map(StationView::from)
            .collect(),
    ))
}

/// Create a workstation.
#[utoipa::path(post, path = "/stations", tag = "stations", request_body = StationRequest,
    responses((status = 201, body = StationView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<StationRequest>,
) -> AppResult<(StatusCode, Json<StationView>)> {
    current.require(&[Role::Supervisor])?;
    let created = stations::create(
        &state.db,
        &request.name,
        request.kind,
        Some(current.user.id),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    id: Uuid,
    name: String,
    enrolled_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_seen_at: DateTime<Utc>,
}

impl From<station_device::Model> for DeviceView {
    fn from(d: station_device::Model) -> DeviceView {
        DeviceView {
            id: d.id,
            name: d.name,
            enrolled_at: d.enrolled_at,
            revoked_at: d.revoked_at,
            last_seen_at: d.last_seen_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// What the device is, e.g. "tablet at bench 2".
    name: Option<String>,
}

/// Enrol the calling device as this station (a supervisor, on the device): the answer sets
/// the long-lived station cookie; no password is typed at the station afterwards.
#[utoipa::path(post, path = "/stations/{code}/devices", tag = "stations", params(("code" = String, Path)),
    request_body = EnrolRequest,
    responses((status = 201, body = DeviceView, description = "`Set-Cookie: gc_station=…`"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn enrol(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(code): Path<String>,
    Json(request): Json<EnrolRequest>,
) -> AppResult<Response> {
    current.require(&[Role::Supervisor])?;
    let enrolled = stations::enrol(
        &state.db,
        &code,
        request.name.as_deref().unwrap_or("device"),
        &current.user,
    )
    .await?;
    let cookie = station_cookie(&state, &enrolled.token);
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(DeviceView::from(enrolled.device)),
    )
        .into_response())
}

pub fn station_cookie(state: &AppState, token: &str) -> axum::http::HeaderValue {
    set_cookie(
        STATION_COOKIE,
        token,
        Some(STATION_COOKIE_MAX_AGE_S),
        state.config.cookies_secure(),
    )
}

/// A station's enrolled devices.
#[utoipa::path(get, path = "/stations/{code}/devices", tag = "stations", params(("code" = String, Path)),
    responses((status = 200, body = [DeviceView]), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn devices(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<Vec<DeviceView>>> {
    current.require(&[Role::Supervisor])?;
    let found = stations::find(&state.db, &code).await?;
    Ok(Json(
        stations::devices_of(&state.db, found.id)
            .await?
            .into_iter()
            .map(DeviceView::from)
            .collect(),
    ))
}

/// Revoke a device's station session: it gets 401 from then on.
#[utoipa::path(delete, path = "/station-devices/{id}", tag = "stations", params(("id" = Uuid, Path)),
    responses((status = 200, body = DeviceView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Json<DeviceView>> {
    current.require(&[Role::Supervisor])?;
    Ok(Json(
        stations::revoke(&state.db, id, &current.user).await?.into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanBody {
    /// The station's code, as the device knows it; must be the device's station.
    station: String,
    /// Exactly what the scanner typed (or the camera read).
    raw: String,
    /// The device's own id for this scan.
    client_scan_id: String,
    /// The device's clock at the scan.
    device_time: Option<chrono::DateTime<chrono::Utc>>,
    /// For a badge whose apprentice has a PIN.
    pin: Option<String>,
}

impl ScanBody {
    /// The scan itself, without the station it claims. (Written out rather than
    /// `#[serde(flatten)]`: a flattened `ScanRequest` documents as an `allOf` whose halves
    /// each forbid the other's fields, which no body can satisfy.)
    fn into_scan(self) -> ScanRequest {
        ScanRequest {
            raw: self.raw,
            client_scan_id: self.client_scan_id,
            device_time: self.device_time,
            pin: self.pin,
        }
    }
}

/// A scan at an enrolled device: resolves it, logs it, answers what the station may do now.
#[utoipa::path(post, path = "/scans", tag = "stations", request_body = ScanBody,
    responses((status = 200, body = ScanAnswer), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 423, body = Problem, content_type = "application/problem+json", description = "`badge_locked`: the badge is locked after too many wrong PINs, whatever PIN was sent")))]
pub async fn scan(
    State(state): State<AppState>,
    at: StationDevice,
    Json(body): Json<ScanBody>,
) -> AppResult<(Option<Extension<SessionsUnchanged>>, Json<ScanAnswer>)> {
    same_station(&at, &body.station)?;
    let scanned = scans::scan(
        &state.db,
        &state.scan_log,
        &at,
        body.into_scan(),
        state.config.station_idle_minutes,
    )
    .await?;
    let unchanged = (!scanned.changed_session).then_some(Extension(SessionsUnchanged));
    Ok((unchanged, Json(scanned.answer)))
}

fn same_station(at: &StationDevice, claimed: &str) -> AppResult<()> {
    let claimed = crate::domain::codes::Code::from_scan(claimed)
        .map_err(|e| AppError::invalid("station", e.to_string()))?;
    if claimed.to_string() != at.station.code {
        return Err(AppError::invalid(
            "station",
            format!(
                "this device is enrolled as {}, not {claimed}",
                at.station.code
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScanLogEntry {
    raw: String,
    result: String,
    message: String,
    resolved_code: Option<String>,
    client_scan_id: String,
    at: DateTime<Utc>,
    device_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ScanLogQuery {
    /// 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
}

/// A station's scan log, newest first (supervisors).
#[utoipa::path(get, path = "/stations/{code}/scans", tag = "stations", params(("code" = String, Path), ScanLogQuery),
    responses((status = 200, body = [ScanLogEntry]), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn scan_log(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(code): Path<String>,
    Query(query): Query<ScanLogQuery>,
) -> AppResult<Json<Vec<ScanLogEntry>>> {
    current.require(&[Role::Supervisor])?;
    let found = stations::find(&state.db, &code).await?;
    let limit = crate::services::in_range("limit", query.limit, 1, 500)?.unwrap_or(100);
    let log = scans::log_of(&state.db, found.id, limit).await?;
    Ok(Json(
        log.into_iter()
            .map(|s| ScanLogEntry {
                raw: s.raw,
                result: s.result,
                message: s.message,
                resolved_code: s.resolved_code,
                client_scan_id: s.client_scan_id,
                at: s.at,
                device_time: s.device_time,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StationSession {
    station: StationView,
    /// Who is signed in, if anyone (after the idle timeout, no one).
    apprentice: Option<String>,
    idle_minutes: u32,
}

/// What the device is enrolled as, and who is signed in at it.
#[utoipa::path(get, path = "/station", tag = "stations",
    responses((status = 200, body = StationSession), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn session(
    State(state): State<AppState>,
    at: StationDevice,
) -> AppResult<Json<StationSession>> {
    let apprentice = at
        .apprentice(state.config.station_idle_minutes, Utc::now())
        .map(|a| a.display_name.clone());
    Ok(Json(StationSession {
        station: at.station.into(),
        apprentice,
        idle_minutes: state.config.station_idle_minutes,
    }))
}

/// Sign the apprentice out of this device.
#[utoipa::path(post, path = "/station/sign-out", tag = "stations",
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn sign_out(State(state): State<AppState>, at: StationDevice) -> AppResult<StatusCode> {
    stations::sign_out(&state.db, &at.device).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take an action on an item at this station, for the signed-in apprentice.
#[utoipa::path(post, path = "/station/actions", tag = "stations", request_body = ActionRequest,
    responses((status = 200, body = ActionAnswer), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "not allowed in the item's state or at this station; the detail names the state and the allowed actions"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn act(
    State(state): State<AppState>,
    at: StationDevice,
    Json(request): Json<ActionRequest>,
) -> AppResult<Json<ActionAnswer>> {
    let apprentice = at.require_apprentice(state.config.station_idle_minutes, Utc::now())?;
    Ok(Json(
        actions::act(&state.db, &at.device, &at.station, apprentice, request).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinRequest {
    /// Four digits, or none to remove the PIN.
    pin: Option<String>,
}

/// Set or clear an apprentice's PIN (supervisors).
#[utoipa::path(put, path = "/apprentices/{id}/pin", tag = "training", params(("id" = Uuid, Path)), request_body = PinRequest,
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn set_pin(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
    Json(request): Json<PinRequest>,
) -> AppResult<StatusCode> {
    current.require(&[Role::Supervisor])?;
    stations::set_pin(&state.db, id, request.pin.as_deref(), current.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OwnBadge {
    /// The badge to scan at a station when approving a step.
    badge_code: String,
}

/// Set or clear your own PIN (supervisors): with your badge, it approves a weighing outside
/// the tolerance at a station. An account without a badge gets one.
#[utoipa::path(put, path = "/me/pin", tag = "training", request_body = PinRequest,
    responses((status = 200, body = OwnBadge), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn set_own_pin(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<PinRequest>,
) -> AppResult<Json<OwnBadge>> {
    current.require(&[Role::Supervisor])?;
    let badge_code =
        stations::set_own_pin(&state.db, &current.user, request.pin.as_deref()).await?;
    Ok(Json(OwnBadge { badge_code }))
}

/// Unlock a badge locked after too many wrong PINs (supervisors); its count starts again.
#[utoipa::path(delete, path = "/apprentices/{id}/badge-lock", tag = "training", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn unlock_badge(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    current.require(&[Role::Supervisor])?;
    crate::services::badge_locks::unlock(&state.db, id, current.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The badges locked now after too many wrong PINs (supervisors).
#[utoipa::path(get, path = "/badge-locks", tag = "training",
    responses((status = 200, body = [crate::services::badge_locks::LockedBadge])))]
pub async fn locked_badges(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<Vec<crate::services::badge_locks::LockedBadge>>> {
    current.require(&[Role::Supervisor])?;
    Ok(Json(crate::services::badge_locks::locked(&state.db).await?))
}

/// Work logs, filtered by apprentice, station, station kind, period (supervisors; an
/// apprentice sees their own).
#[utoipa::path(get, path = "/worklogs", tag = "training", params(WorkLogFilter),
    responses((status = 200, body = [WorkLog]), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn worklogs(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(mut filter): Query<WorkLogFilter>,
) -> AppResult<Json<Vec<WorkLog>>> {
    if current.role == Role::Apprentice {
        if filter.apprentice_id.is_some_and(|id| id != current.user.id) {
            return Err(AppError::forbidden());
        }
        filter.apprentice_id = Some(current.user.id);
    } else {
        current.require(&[Role::Supervisor])?;
    }
    Ok(Json(worklogs::list(&state.db, filter).await?))
}

/// Correct a task (supervisors): a correction entry with a reason, not an edit.
#[utoipa::path(post, path = "/worklogs/{id}/corrections", tag = "training", params(("id" = Uuid, Path)),
    request_body = TaskCorrectionRequest,
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn correct_task(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
    Json(request): Json<TaskCorrectionRequest>,
) -> AppResult<StatusCode> {
    current.require(&[Role::Supervisor])?;
    worklogs::correct(&state.db, id, request, current.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An apprentice's training record (supervisors, and the apprentice themself).
#[utoipa::path(get, path = "/apprentices/{id}/training", tag = "training", params(("id" = Uuid, Path)),
    responses((status = 200, body = TrainingRecord), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn training(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Json<TrainingRecord>> {
    if !(current.role.is_any_of(&[Role::Supervisor]) || current.user.id == id) {
        return Err(AppError::forbidden());
    }
    Ok(Json(worklogs::training_record(&state.db, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkillRequest {
    station_kind: StationKind,
    level: SkillLevel,
    note: Option<String>,
}

/// Record an apprentice's level at a station kind (supervisors).
#[utoipa::path(post, path = "/apprentices/{id}/skills", tag = "training", params(("id" = Uuid, Path)), request_body = SkillRequest,
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn set_skill(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
    Json(request): Json<SkillRequest>,
) -> AppResult<StatusCode> {
    current.require(&[Role::Supervisor])?;
    worklogs::set_skill(
        &state.db,
        id,
        request.station_kind,
        request.level,
        request.note,
        current.user.id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
