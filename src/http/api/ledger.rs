//! The mass ledger over HTTP: holders, genealogy, attribution, and corrections.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::codes::Code;
use crate::domain::roles::Role;
use crate::entities::{collection, movement, operation};
use crate::error::{AppError, AppResult, Problem};
use crate::http::AppState;
use crate::http::auth::CurrentUser;
use crate::http::extract::{Json, Path, Query};
use crate::services::ledger::holders::{self, HolderDetail};
use crate::services::ledger::summary::{self, AttributionSummary, Scope};
use crate::services::ledger::trace::{self, Direction, Trace};
use crate::services::ledger::{self, PostedOperation};
use crate::services::partners;

/// Who may read the ledger as a whole (partners get their own scoped views).
const READERS: &[Role] = &[Role::Supervisor];

/// A holder's balance and composition by collection.
#[utoipa::path(get, path = "/holders/{reference}", tag = "ledger",
    params(("reference" = String, Path, description = "A code (`LT-…`) or an account key (`intake`, `shipped:PCB-HIGH`)")),
    responses((status = 200, body = HolderDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn holder(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(reference): Path<String>,
) -> AppResult<Json<HolderDetail>> {
    current.require(READERS)?;
    Ok(Json(holders::describe(&state.db, &reference).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TraceQuery {
    /// `back` (where it came from, the default) or `forward` (where it went).
    direction: Option<Direction>,
}

/// The movement graph with masses from an item, lot, melt or collection (supervisors, and
/// apprentices, who follow what they dismantled and melted).
#[utoipa::path(get, path = "/trace/{code}", tag = "ledger", params(("code" = String, Path), TraceQuery),
    responses((status = 200, body = Trace), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn trace(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(code): Path<String>,
    Query(query): Query<TraceQuery>,
) -> AppResult<Json<Trace>> {
    let partner = current.partner_scope().is_some();
    if partner {
        let owner = partners::owner_of(&state.db, &code).await?;
        current.may_read(&[], owner, &format!("item or collection {code}"))?;
    } else {
        current.require(crate::http::api::lots::WORKSHOP)?;
    }
    let direction = query.direction.unwrap_or(Direction::Back);
    let traced = trace::trace(&state.db, &code, direction).await?;
    Ok(Json(if partner {
        traced.as_partner_sees()
    } else {
        traced
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttributionQuery {
    /// One collection (`CO-…`).
    collection: Option<String>,
    /// Or a partner's collections received in `from`..=`to`.
    partner: Option<Uuid>,
    /// First day (default: 1 January of this year).
    from: Option<NaiveDate>,
    /// Last day (default: today).
    to: Option<NaiveDate>,
}

/// What became of a collection's or a partner's mass: grams by destination and material.
#[utoipa::path(get, path = "/attribution", tag = "ledger", params(AttributionQuery),
    responses((status = 200, body = AttributionSummary), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn attribution(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<AttributionQuery>,
) -> AppResult<Json<AttributionSummary>> {
    let own = current.reader_scope(READERS)?;
    // A partner asking for nothing in particular gets its own partner's summary.
    let partner = match &query.collection {
        None => query.partner.or(own),
        Some(_) => query.partner,
    };
    let scope = match (query.collection, partner) {
        (Some(code), None) => {
            let code =
                Code::parse(&code).map_err(|e| AppError::invalid("collection", e.to_string()))?;
            let found = collection::Entity::find()
                .filter(collection::Column::Code.eq(code.to_string()))
                .one(&state.db)
                .await?
                .ok_or_else(|| AppError::not_found(format!("no collection {code}")))?;
            current.may_read(
                READERS,
                Some(found.partner_id),
                &format!("collection {code}"),
            )?;
            Scope::Collection(found.id)
        }
        (None, Some(partner_id)) => {
            current.may_read(READERS, Some(partner_id), &format!("partner {partner_id}"))?;
            let today = Utc::now().date_naive();
            let from = query.from.unwrap_or_else(|| {
                NaiveDate::from_yo_opt(chrono::Datelike::year(&today), 1).unwrap_or(today)
            });
            let to = query.to.unwrap_or(today);
            if to < from {
                return Err(AppError::invalid("to", "must not be before `from`"));
            }
            Scope::Partner {
                partner_id,
                from,
                to,
            }
        }
        _ => {
            return Err(AppError::invalid(
                "collection",
                "give either `collection` or `partner`",
            ));
        }
    };
    Ok(Json(summary::summarise(&state.db, scope).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MovementView {
    seq: i32,
    from: Uuid,
    to: Uuid,
    mass_g: i64,
    /// Grams by collection id.
    parts: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperationView {
    id: Uuid,
    kind: String,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    station_id: Option<Uuid>,
    reason: Option<String>,
    corrects_id: Option<Uuid>,
    /// True when an idempotent retry found the operation already posted.
    replayed: bool,
    movements: Vec<MovementView>,
}

impl OperationView {
    fn new(
        operation: operation::Model,
        movements: Vec<movement::Model>,
        replayed: bool,
    ) -> OperationView {
        OperationView {
            id: operation.id,
            kind: operation.kind,
            at: operation.at,
            actor_id: operation.actor_id,
            station_id: operation.station_id,
            reason: operation.reason,
            corrects_id: operation.corrects_id,
            replayed,
            movements: movements
                .into_iter()
                .map(|m| MovementView {
                    seq: m.seq,
                    from: m.from_holder_id,
                    to: m.to_holder_id,
                    mass_g: m.mass_g,
                    parts: m.parts,
                })
                .collect(),
        }
    }
}

impl From<PostedOperation> for OperationView {
    fn from(posted: PostedOperation) -> OperationView {
        OperationView::new(posted.operation, posted.movements, posted.replayed)
    }
}

/// One operation with its movements.
#[utoipa::path(get, path = "/operations/{id}", tag = "ledger", params(("id" = Uuid, Path)),
    responses((status = 200, body = OperationView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn operation(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Json<OperationView>> {
    current.require(READERS)?;
    let found = operation::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no operation {id}")))?;
    let movements = ledger::movements_of(&state.db, id).await?;
    Ok(Json(OperationView::new(found, movements, false)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// Why the operation is reversed; kept with the correction.
    reason: String,
}

/// Reverse an operation (supervisors). The original stays; an operation is corrected once.
/// Send an `Idempotency-Key` header to make a retry safe.
#[utoipa::path(post, path = "/operations/{id}/corrections", tag = "ledger", params(("id" = Uuid, Path)),
    request_body = CorrectionRequest,
    responses((status = 201, body = OperationView), (status = 200, body = OperationView, description = "a retry with the same Idempotency-Key"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn correct(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Json(request): Json<CorrectionRequest>,
) -> AppResult<(StatusCode, Json<OperationView>)> {
    current.require(&[Role::Supervisor])?;
    let key = idempotency_key(&headers)?;
    let posted =
        ledger::correct(&state.db, id, &request.reason, Some(current.user.id), key).await?;
    let status = if posted.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(OperationView::from(posted))))
}

/// The `Idempotency-Key` header, if sent: 1 to 200 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> AppResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| {
            AppError::invalid(
                "Idempotency-Key",
                "must be 1 to 200 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_string()))
}
