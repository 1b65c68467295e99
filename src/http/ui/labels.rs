//! Label PDFs linked from pages: one item's label, or a whole collection's sheet.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::domain::codes::{Code, CodeKind};
use crate::domain::roles::Role;
use crate::http::AppState;
use crate::http::api::labels::pdf_response;
use crate::http::auth::StationDevice;
use crate::http::extract::{Path, Query};
use crate::http::ui::PageContext;
use crate::services::labels::{self, PrintRun};

#[derive(Debug, Deserialize)]
pub struct PrintQuery {
    template: Option<String>,
    skip: Option<usize>,
    cut_borders: Option<bool>,
}

fn run(query: PrintQuery, default_template: &str) -> PrintRun {
    PrintRun {
        template: query
            .template
            .unwrap_or_else(|| default_template.to_string()),
        skip: query.skip.unwrap_or(0),
        cut_borders: query.cut_borders.unwrap_or(false),
        ..PrintRun::default()
    }
}

/// `/labels/<code>.pdf?template=roll62`. A station device prints the labels of the lots and
/// melts it opens (a new bin, an ingot) without anyone logging in.
pub async fn one(
    State(state): State<AppState>,
    at: Option<StationDevice>,
    context: Result<PageContext, Response>,
    Path(file): Path<String>,
    Query(query): Query<PrintQuery>,
) -> Response {
    let code = file.trim_end_matches(".pdf").to_string();
    let station_label = at.is_some()
        && Code::parse(&code).is_ok_and(|c| matches!(c.kind(), CodeKind::Lot | CodeKind::Melt));
    let context = match context {
        Ok(context) => Some(context),
        Err(_) if station_label => None,
        Err(login) => return login,
    };
    if !station_label
        && let Some(refused) = context
            .as_ref()
            .and_then(|c| c.refusal(&state, &[Role::Supervisor]))
    {
        return refused;
    }
    let lang = state.config.label_lang();
    let printed = async {
        let labels = labels::for_codes(&state.db, std::slice::from_ref(&code), lang).await?;
        labels::render(
            &state.labels,
            &run(query, "roll62"),
            labels,
            state.config.public_base().map(str::to_string),
        )
        .await
    }
    .await;
    match (printed, context) {
        (Ok(pdf), _) => pdf_response(pdf, &code),
        (Err(error), Some(context)) => context.app_error(&state, error),
        (Err(error), None) => error.into_response(),
    }
}

/// `/collections/<code>/labels.pdf?template=L7160&skip=3`
pub async fn collection(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
    Query(query): Query<PrintQuery>,
) -> Response {
    if let Some(refused) = context.refusal(&state, &[Role::Supervisor]) {
        return refused;
    }
    let lang = state.config.label_lang();
    let printed = async {
        let labels = labels::for_collection(&state.db, &code, lang).await?;
        labels::render(
            &state.labels,
            &run(query, "L7160"),
            labels,
            state.config.public_base().map(str::to_string),
        )
        .await
    }
    .await;
    match printed {
        Ok(pdf) => pdf_response(pdf, &format!("labels-{code}")),
        Err(error) => context.app_error(&state, error),
    }
}
