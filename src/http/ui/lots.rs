//! Lot pages: the list with its filters, and one lot with where its mass came from, what
//! happened to it, and (for supervisors) closing and reopening it.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::lots::LotState;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::http::AppState;
use crate::http::api::lots::WORKSHOP;
use crate::http::extract::{Form, Path, Query};
use crate::http::ui::trace::page_of;
use crate::http::ui::{PageContext, Shell, render};
use crate::i18n::Lang;
use crate::services::flows::Performer;
use crate::services::lots::{self, LotFilter, LotView};
use crate::services::{Paging, catalogue};

/// A material's name in the page's language: English for English pages, French otherwise
/// (the catalogue has no Arabic names).
pub(super) fn material_name(lang: Lang, name_en: &str, name_fr: &str) -> String {
    lang.name(name_en, name_fr).to_string()
}

/// Every material's name in the page's language, by code.
pub(super) async fn material_names(
    state: &AppState,
    lang: Lang,
) -> Result<HashMap<String, String>, AppError> {
    Ok(catalogue::materials(&state.db)
        .await?
        .into_iter()
        .map(|m| {
            let name = material_name(lang, &m.name_en, &m.name_fr);
            (m.code, name)
        })
        .collect())
}

/// `part` of `whole` as a percentage with one decimal, rounded, in the language's way.
pub(super) fn percent(lang: Lang, part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "–".to_string();
    }
    let tenths = (part * 1_000 + whole / 2) / whole;
    format!(
        "{}\u{a0}%",
        lang.decimal(&format!("{}.{}", tenths / 10, tenths % 10))
    )
}

/// A moment as the pages show it, to the minute (UTC).
pub(super) fn moment(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// A code in an address that is not a well-formed code names no page: a 404, not a form error.
pub(super) fn unknown_code(error: AppError) -> AppError {
    match error {
        AppError::Unprocessable { detail, .. } => AppError::NotFound(detail),
        other => other,
    }
}

pub struct LotListRow {
    pub code: String,
    pub material: String,
    pub material_name: String,
    pub state: LotState,
    pub station: String,
    pub balance: String,
    pub opened: String,
}

#[derive(Template)]
#[template(path = "lots.html")]
struct LotsPage {
    shell: Shell,
    rows: Vec<LotListRow>,
    total: u64,
    /// (code, name) of every material, for the filter.
    materials: Vec<(String, String)>,
    chosen_material: String,
    chosen_state: String,
    states: [LotState; 4],
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    material: Option<String>,
    state: Option<String>,
    page: Option<u64>,
}

pub async fn list(
    State(state): State<AppState>,
    context: PageContext,
    Query(query): Query<ListQuery>,
) -> Response {
    if let Some(refused) = context.refusal(&state, WORKSHOP) {
        return refused;
    }
    let filter = LotFilter {
        material: query.material.clone(),
        state: query.state.clone(),
        station: None,
    };
    let loaded = async {
        let found = lots::list(&state.db, &filter, Paging::checked(query.page, Some(200))?).await?;
        let materials = catalogue::materials(&state.db).await?;
        Ok::<_, AppError>((found, materials))
    }
    .await;
    let (found, materials) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return context.app_error(&state, error),
    };
    let materials: Vec<(String, String)> = materials
        .into_iter()
        .map(|m| {
            let name = material_name(context.lang, &m.name_en, &m.name_fr);
            (m.code, name)
        })
        .collect();
    let names: HashMap<&str, &str> = materials
        .iter()
        .map(|(code, name)| (code.as_str(), name.as_str()))
        .collect();
    let rows = found
        .items
        .into_iter()
        .map(|row| LotListRow {
            material_name: names
                .get(row.material.as_str())
                .map(|n| n.to_string())
                .unwrap_or_default(),
            balance: context.lang.kg(row.balance_g),
            opened: moment(row.opened_at),
            station: row.station.unwrap_or_default(),
            state: row.state,
            material: row.material,
            code: row.code,
        })
        .collect();
    render(&LotsPage {
        shell: context.shell(&state),
        rows,
        total: found.total,
        materials,
        chosen_material: query.material.unwrap_or_default(),
        chosen_state: query.state.unwrap_or_default(),
        states: [
            LotState::Open,
            LotState::Closed,
            LotState::Emptied,
            LotState::Shipped,
        ],
    })
}

/// One collection's share of a lot.
pub struct ShareRow {
    pub collection: Option<String>,
    pub partner: String,
    pub mass: String,
    pub percent: String,
}

/// One movement into or out of a lot.
pub struct HistoryRow {
    pub at: String,
    pub kind: String,
    pub change: String,
    pub counterpart: String,
    /// The counterpart's page, when it is a code (accounts have none).
    pub href: Option<String>,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "lot.html")]
struct LotPage {
    shell: Shell,
    lot: LotView,
    material_name: String,
    balance: String,
    tare: String,
    opened: String,
    closed: String,
    shares: Vec<ShareRow>,
    attributed: String,
    history: Vec<HistoryRow>,
    supervisor: bool,
    error: Option<String>,
}

impl LotPage {
    /// Whether a supervisor may reopen it: closed, and not an ingot (poured whole).
    fn reopenable(&self) -> bool {
        self.lot.state == LotState::Closed && self.lot.pieces != Some(1)
    }

    fn closable(&self) -> bool {
        self.lot.state == LotState::Open
    }
}

async fn show(
    state: &AppState,
    context: &PageContext,
    code: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let lot = match lots::view(&state.db, code).await.map_err(unknown_code) {
        Ok(lot) => lot,
        Err(error) => return context.app_error(state, error),
    };
    let lang = context.lang;
    let whole: i64 = lot.holder.composition.iter().map(|s| s.mass_g).sum();
    let shares = lot
        .holder
        .composition
        .iter()
        .map(|share| ShareRow {
            collection: share.collection_code.clone(),
            partner: share.partner.clone().unwrap_or_default(),
            mass: lang.kg(share.mass_g),
            percent: percent(lang, share.mass_g, whole),
        })
        .collect();
    let history = lot
        .history
        .iter()
        .map(|line| HistoryRow {
            at: moment(line.at),
            kind: lang.t(&format!("lot_page.op.{}", line.kind)).to_string(),
            change: if line.change_g > 0 {
                format!("+{}", lang.kg(line.change_g))
            } else {
                lang.kg(line.change_g)
            },
            href: page_of(&line.counterpart),
            counterpart: line.counterpart.clone(),
            reason: line.reason.clone().unwrap_or_default(),
        })
        .collect();
    let page = LotPage {
        shell: context.shell(state),
        material_name: material_name(lang, &lot.material_name_en, &lot.material_name_fr),
        balance: lang.kg(lot.balance_g),
        tare: lot.tare_g.map(|g| lang.kg(g)).unwrap_or_else(|| "–".into()),
        opened: moment(lot.opened_at),
        closed: lot.closed_at.map(moment).unwrap_or_default(),
        attributed: lang.kg(whole),
        shares,
        history,
        supervisor: context.current.role.is_any_of(&[Role::Supervisor]),
        error,
        lot,
    };
    (status, render(&page)).into_response()
}

pub async fn detail(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
) -> Response {
    if let Some(refused) = context.refusal(&state, WORKSHOP) {
        return refused;
    }
    show(&state, &context, &code, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct StateForm {
    csrf: String,
    /// `close` or `reopen`.
    action: String,
    #[serde(default)]
    reason: String,
}

/// Closes or reopens a lot from its page; a refusal is shown on the page, nothing changed.
pub async fn change_state(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
    Form(form): Form<StateForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, &[Role::Supervisor], &form.csrf) {
        return refused;
    }
    let performer = Performer::person(context.current.user.clone(), None);
    let changed = match form.action.as_str() {
        "close" => lots::close(&state.db, &performer, &code).await,
        _ => lots::reopen(&state.db, &performer, &code, Some(&form.reason)).await,
    };
    match changed {
        Ok(lot) => Redirect::to(&format!("/lots/{}", lot.code)).into_response(),
        Err(error)
            if error.status().is_client_error() && error.status() != StatusCode::NOT_FOUND =>
        {
            let status = error.status();
            show(&state, &context, &code, Some(error.to_string()), status).await
        }
        Err(error) => context.app_error(&state, unknown_code(error)),
    }
}
