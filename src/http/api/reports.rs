//! Reports over HTTP: the yield report as JSON, each of its tables as CSV, and the
//! supervisors' dashboard figures.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::domain::roles::Role;
use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::auth::CurrentUser;
use crate::http::extract::{Json, Path, Query};
use crate::i18n::Lang;
use crate::services::reports::{self, Dashboard, ReportQuery, YieldReport};

const READERS: &[Role] = &[Role::Supervisor];

/// The yield report for a period (default: this month so far), filtered by partner,
/// collection, equipment kind, station or apprentice.
#[utoipa::path(get, path = "/reports/yield", tag = "reports", params(ReportQuery),
    responses((status = 200, body = YieldReport), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn yields(
    State(state): State<AppState>,
    current: CurrentUser,
    lang: Lang,
    Query(query): Query<ReportQuery>,
) -> AppResult<Json<YieldReport>> {
    current.require(READERS)?;
    let scope = reports::resolve(&state.db, &query).await?;
    Ok(Json(reports::yields(&state.db, &scope, lang).await?))
}

/// One table of the yield report as CSV (`intake`, `fate`, `recovery`, `melts`,
/// `losses_by_station_kind`, `losses_by_apprentice`, `stock`, `throughput`, `apprentices`),
/// with a header row and SI units in the column names.
#[utoipa::path(get, path = "/reports/yield/{table}", tag = "reports", params(("table" = String, Path), ReportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn yield_table(
    State(state): State<AppState>,
    current: CurrentUser,
    lang: Lang,
    Path(table): Path<String>,
    Query(query): Query<ReportQuery>,
) -> AppResult<Response> {
    current.require(READERS)?;
    csv_response(&state, lang, &table, &query).await
}

/// A yield table as a CSV download named after the table and the period.
pub async fn csv_response(
    state: &AppState,
    lang: Lang,
    table: &str,
    query: &ReportQuery,
) -> AppResult<Response> {
    let table = table.trim_end_matches(".csv");
    let scope = reports::resolve(&state.db, query).await?;
    let report = reports::yields(&state.db, &scope, lang).await?;
    let body = reports::csv(&report, table)?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{table}-{}-{}.csv\"",
        scope.from, scope.to
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// This month's figures and the alerts a supervisor sees first.
#[utoipa::path(get, path = "/reports/dashboard", tag = "reports",
    responses((status = 200, body = Dashboard), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn dashboard(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<Dashboard>> {
    current.require(READERS)?;
    Ok(Json(reports::dashboard(&state.db).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MonthlyQuery {
    /// A day of the last month shown (default: today).
    to: Option<chrono::NaiveDate>,
    /// How many months, 1 to 60 (default 12).
    months: Option<u32>,
}

/// Intake and copper ingot month by month.
#[utoipa::path(get, path = "/reports/monthly", tag = "reports", params(MonthlyQuery),
    responses((status = 200, body = [reports::MonthLine]), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn monthly(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<MonthlyQuery>,
) -> AppResult<Json<Vec<reports::MonthLine>>> {
    current.require(READERS)?;
    let months = query.months.unwrap_or(12);
    if !(1..=60).contains(&months) {
        return Err(crate::error::AppError::invalid("months", "from 1 to 60"));
    }
    let to = query.to.unwrap_or_else(|| chrono::Utc::now().date_naive());
    Ok(Json(reports::monthly(&state.db, to, months).await?))
}
