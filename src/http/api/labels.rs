//! Label sheets over HTTP: the layouts, and print runs as PDF.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::roles::Role;
use crate::error::{AppError, AppResult, Problem};
use crate::http::AppState;
use crate::http::auth::CurrentUser;
use crate::http::extract::Json;
use crate::render::{Field, Media};
use crate::services::labels::{self, PrintRun};

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    name: String,
    description: String,
    /// `sheet` (e.g. A4) or `roll` (one label per page).
    media: &'static str,
    page_width_mm: f32,
    page_height_mm: f32,
    label_width_mm: f32,
    label_height_mm: f32,
    columns: u32,
    rows: u32,
    labels_per_page: usize,
    /// What prints beside the QR code: `code`, `lines`.
    fields: Vec<&'static str>,
}

/// The label layouts this workshop can print, with their geometry.
#[utoipa::path(get, path = "/labels/templates", tag = "labels",
    responses((status = 200, body = [TemplateView]), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn templates(
    State(state): State<AppState>,
    _current: CurrentUser,
) -> Json<Vec<TemplateView>> {
    let views = state
        .labels
        .iter()
        .map(|t| {
            let (page_width_mm, page_height_mm) = t.media.page_size_mm();
            TemplateView {
                name: t.name.clone(),
                description: t.description.clone(),
                media: match t.media {
                    Media::Sheet { .. } => "sheet",
                    _ => "roll",
                },
                page_width_mm,
                page_height_mm,
                label_width_mm: t.label.width_mm,
                label_height_mm: t.label.height_mm,
                columns: t.grid.columns,
                rows: t.grid.rows,
                labels_per_page: t.labels_per_page(),
                fields: t
                    .fields
                    .iter()
                    .map(|f| match f {
                        Field::Code => "code",
                        Field::Lines => "lines",
                    })
                    .collect(),
            }
        })
        .collect();
    Json(views)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelRequest {
    /// A layout name from `GET /labels/templates`, e.g. `L7160` or `roll62`.
    template: String,
    /// Codes to print, in order (items, collections, lots, melts, badges). Up to 5,000.
    codes: Option<Vec<String>>,
    /// Or every item of a collection (`CO-…`).
    collection: Option<String>,
    /// Used labels at the start of the first sheet.
    skip: Option<usize>,
    /// Printer correction in mm (±10).
    offset_x_mm: Option<f32>,
    offset_y_mm: Option<f32>,
    /// Thin outlines to cut plain paper.
    cut_borders: Option<bool>,
}

/// Print labels: a PDF of the codes (or a collection's items) on a layout.
#[utoipa::path(post, path = "/labels", tag = "labels", request_body = LabelRequest,
    responses((status = 200, content_type = "application/pdf", description = "the label sheet(s)"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn print(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<LabelRequest>,
) -> AppResult<Response> {
    current.require(&[Role::Supervisor])?;
    let lang = state.config.label_lang();
    let (labels, name) = match (&request.codes, &request.collection) {
        (Some(codes), None) => (
            labels::for_codes(&state.db, codes, lang).await?,
            "labels".to_string(),
        ),
        (None, Some(collection)) => (
            labels::for_collection(&state.db, collection, lang).await?,
            format!("labels-{}", collection.trim().to_uppercase()),
        ),
        _ => {
            return Err(AppError::invalid(
                "codes",
                "give either `codes` or `collection`",
            ));
        }
    };
    let run = PrintRun {
        template: request.template,
        skip: request.skip.unwrap_or(0),
        offset_x_mm: request.offset_x_mm.unwrap_or(0.0),
        offset_y_mm: request.offset_y_mm.unwrap_or(0.0),
        cut_borders: request.cut_borders.unwrap_or(false),
    };
    let pdf = labels::render(
        &state.labels,
        &run,
        labels,
        state.config.public_base().map(str::to_string),
    )
    .await?;
    Ok(pdf_response(pdf, &name))
}

/// A PDF answer, shown in the browser (and saved under `name` if the person chooses).
pub fn pdf_response(pdf: Vec<u8>, name: &str) -> Response {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{safe}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response()
}
