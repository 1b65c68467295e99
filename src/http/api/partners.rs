//! Partners over HTTP: supervisors manage them.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::intake::PartnerKind;
use crate::domain::roles::Role;
use crate::entities::partner;
use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::auth::CurrentUser;
use crate::http::extract::{Json, Path, Query};
use crate::services::partners::{self, PartnerFields, PartnerFilter};
use crate::services::{Page, Paging};

pub const STAFF: &[Role] = &[Role::Supervisor];

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerView {
    id: Uuid,
    name: String,
    kind: String,
    address: Option<String>,
    contact: Option<String>,
    notes: Option<String>,
    /// `fr` or `en`: the language of its certificates.
    language: String,
    created_at: DateTime<Utc>,
}

impl From<partner::Model> for PartnerView {
    fn from(p: partner::Model) -> PartnerView {
        PartnerView {
            id: p.id,
            name: p.name,
            kind: p.kind,
            address: p.address,
            contact: p.contact,
            notes: p.notes,
            language: p.language,
            created_at: p.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerRequest {
    name: Option<String>,
    kind: Option<PartnerKind>,
    address: Option<String>,
    contact: Option<String>,
    notes: Option<String>,
    /// `fr` or `en`: the language of its certificates (French when not given).
    language: Option<String>,
}

impl From<PartnerRequest> for PartnerFields {
    fn from(r: PartnerRequest) -> PartnerFields {
        PartnerFields {
            name: r.name,
            kind: r.kind,
            address: r.address,
            contact: r.contact,
            notes: r.notes,
            language: r.language,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PartnerQuery {
    /// Part of the name.
    name: Option<String>,
    kind: Option<PartnerKind>,
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u64>,
    #[param(minimum = 1, maximum = 500)]
    per_page: Option<u64>,
}

/// Partners by name.
#[utoipa::path(get, path = "/partners", tag = "intake", params(PartnerQuery),
    responses((status = 200, body = Page<PartnerView>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<PartnerQuery>,
) -> AppResult<Json<Page<PartnerView>>> {
    current.require(STAFF)?;
    let found = partners::list(
        &state.db,
        PartnerFilter {
            name: query.name,
            kind: query.kind,
        },
        Paging::checked(query.page, query.per_page)?,
    )
    .await?;
    Ok(Json(found.map(PartnerView::from)))
}

/// Register a partner (`name` and `kind` required).
#[utoipa::path(post, path = "/partners", tag = "intake", request_body = PartnerRequest,
    responses((status = 201, body = PartnerView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<PartnerRequest>,
) -> AppResult<(StatusCode, Json<PartnerView>)> {
    current.require(STAFF)?;
    let created = partners::create(&state.db, request.into(), Some(current.user.id)).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One partner.
#[utoipa::path(get, path = "/partners/{id}", tag = "intake", params(("id" = Uuid, Path)),
    responses((status = 200, body = PartnerView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Json<PartnerView>> {
    current.require(STAFF)?;
    Ok(Json(partners::get(&state.db, id).await?.into()))
}

/// Change a partner's details (only the fields sent).
#[utoipa::path(patch, path = "/partners/{id}", tag = "intake", params(("id" = Uuid, Path)), request_body = PartnerRequest,
    responses((status = 200, body = PartnerView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
    Json(request): Json<PartnerRequest>,
) -> AppResult<Json<PartnerView>> {
    current.require(STAFF)?;
    Ok(Json(
        partners::update(&state.db, id, request.into(), Some(current.user.id))
            .await?
            .into(),
    ))
}
