//! The catalogue over HTTP: everyone signed in reads it; admins edit it.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::roles::Role;
use crate::entities::{equipment_kind, material};
use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::auth::CurrentUser;
use crate::http::extract::{Json, Path};
use crate::services::catalogue::{self, KindFields, MaterialFields};

#[derive(Debug, Serialize, ToSchema)]
pub struct KindView {
    id: Uuid,
    code: String,
    name_en: String,
    name_fr: String,
    weee_category: i16,
    typical_mass_g: i64,
    data_bearing: bool,
    typical_fractions: String,
    active: bool,
}

impl From<equipment_kind::Model> for KindView {
    fn from(k: equipment_kind::Model) -> KindView {
        KindView {
            id: k.id,
            code: k.code,
            name_en: k.name_en,
            name_fr: k.name_fr,
            weee_category: k.weee_category,
            typical_mass_g: k.typical_mass_g,
            data_bearing: k.data_bearing,
            typical_fractions: k.typical_fractions,
            active: k.active,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KindRequest {
    code: Option<String>,
    name_en: Option<String>,
    name_fr: Option<String>,
    /// WEEE category 1 to 6 (Directive 2012/19/EU Annex III).
    weee_category: Option<i16>,
    typical_mass_g: Option<i64>,
    data_bearing: Option<bool>,
    /// `FE-STEEL:70;PL-MIX:30`, summing to 100.
    typical_fractions: Option<String>,
    active: Option<bool>,
}

impl From<KindRequest> for KindFields {
    fn from(r: KindRequest) -> KindFields {
        KindFields {
            code: r.code,
            name_en: r.name_en,
            name_fr: r.name_fr,
            weee_category: r.weee_category,
            typical_mass_g: r.typical_mass_g,
            data_bearing: r.data_bearing,
            typical_fractions: r.typical_fractions,
            active: r.active,
        }
    }
}

/// Equipment kinds.
#[utoipa::path(get, path = "/equipment-kinds", tag = "catalogue",
    responses((status = 200, body = [KindView]), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn kinds(
    State(state): State<AppState>,
    _current: CurrentUser,
) -> AppResult<Json<Vec<KindView>>> {
    Ok(Json(
        catalogue::kinds(&state.db)
            .await?
            .into_iter()
            .map(KindView::from)
            .collect(),
    ))
}

/// Add an equipment kind (admins).
#[utoipa::path(post, path = "/equipment-kinds", tag = "catalogue", request_body = KindRequest,
    responses((status = 201, body = KindView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_kind(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<KindRequest>,
) -> AppResult<(StatusCode, Json<KindView>)> {
    current.require(&[Role::Admin])?;
    let created = catalogue::create_kind(&state.db, request.into(), Some(current.user.id)).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Change an equipment kind (admins).
#[utoipa::path(patch, path = "/equipment-kinds/{code}", tag = "catalogue", params(("code" = String, Path)), request_body = KindRequest,
    responses((status = 200, body = KindView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_kind(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(code): Path<String>,
    Json(request): Json<KindRequest>,
) -> AppResult<Json<KindView>> {
    current.require(&[Role::Admin])?;
    Ok(Json(
        catalogue::update_kind(&state.db, &code, request.into(), Some(current.user.id))
            .await?
            .into(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MaterialView {
    id: Uuid,
    code: String,
    name_en: String,
    name_fr: String,
    family: String,
    /// European Waste Catalogue code; `*` marks a hazardous entry.
    ewc_code: Option<String>,
    hazardous: bool,
    handling: Option<String>,
    active: bool,
}

impl From<material::Model> for MaterialView {
    fn from(m: material::Model) -> MaterialView {
        MaterialView {
            id: m.id,
            code: m.code,
            name_en: m.name_en,
            name_fr: m.name_fr,
            family: m.family,
            ewc_code: m.ewc_code,
            hazardous: m.hazardous,
            handling: m.handling,
            active: m.active,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialRequest {
    code: Option<String>,
    name_en: Option<String>,
    name_fr: Option<String>,
    family: Option<String>,
    ewc_code: Option<String>,
    hazardous: Option<bool>,
    handling: Option<String>,
    active: Option<bool>,
}

impl From<MaterialRequest> for MaterialFields {
    fn from(r: MaterialRequest) -> MaterialFields {
        MaterialFields {
            code: r.code,
            name_en: r.name_en,
            name_fr: r.name_fr,
            family: r.family,
            ewc_code: r.ewc_code,
            hazardous: r.hazardous,
            handling: r.handling,
            active: r.active,
        }
    }
}

/// Materials.
#[utoipa::path(get, path = "/materials", tag = "catalogue",
    responses((status = 200, body = [MaterialView]), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn materials(
    State(state): State<AppState>,
    _current: CurrentUser,
) -> AppResult<Json<Vec<MaterialView>>> {
    Ok(Json(
        catalogue::materials(&state.db)
            .await?
            .into_iter()
            .map(MaterialView::from)
            .collect(),
    ))
}

/// Add a material (admins).
#[utoipa::path(post, path = "/materials", tag = "catalogue", request_body = MaterialRequest,
    responses((status = 201, body = MaterialView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_material(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<MaterialRequest>,
) -> AppResult<(StatusCode, Json<MaterialView>)> {
    current.require(&[Role::Admin])?;
    let created =
        catalogue::create_material(&state.db, request.into(), Some(current.user.id)).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Change a material (admins).
#[utoipa::path(patch, path = "/materials/{code}", tag = "catalogue", params(("code" = String, Path)), request_body = MaterialRequest,
    responses((status = 200, body = MaterialView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_material(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(code): Path<String>,
    Json(request): Json<MaterialRequest>,
) -> AppResult<Json<MaterialView>> {
    current.require(&[Role::Admin])?;
    Ok(Json(
        catalogue::update_material(&state.db, &code, request.into(), Some(current.user.id))
            .await?
            .into(),
    ))
}
