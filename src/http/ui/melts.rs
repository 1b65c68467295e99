//! Melt pages: the list, and one melt with what was charged, what was poured, and its yield.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::error::AppError;
use crate::http::AppState;
use crate::http::api::lots::WORKSHOP;
use crate::http::extract::Path;
use crate::http::ui::lots::{material_names, moment, percent, unknown_code};
use crate::http::ui::trace::page_of;
use crate::http::ui::{PageContext, Shell, render};
use crate::i18n::Lang;
use crate::services::melts::{self, MeltLine, MeltView};

/// Melts the list shows, newest first.
const LISTED: u64 = 200;

/// The yield as the pages show it: `83.5 %`, or a dash before anything was charged.
fn yield_of(lang: Lang, melt: &MeltView) -> String {
    melt.yield_bp
        .map(|bp| percent(lang, bp, 10_000))
        .unwrap_or_else(|| "–".to_string())
}

pub struct MeltRow {
    pub code: String,
    pub station: String,
    pub state: String,
    pub started: String,
    pub charged: String,
    pub ingot: String,
    pub yield_percent: String,
}

#[derive(Template)]
#[template(path = "melts.html")]
struct MeltsPage {
    shell: Shell,
    rows: Vec<MeltRow>,
}

pub async fn list(State(state): State<AppState>, context: PageContext) -> Response {
    if let Some(refused) = context.refusal(&state, WORKSHOP) {
        return refused;
    }
    let found = match melts::list(&state.db, LISTED).await {
        Ok(found) => found,
        Err(error) => return context.app_error(&state, error),
    };
    let lang = context.lang;
    let rows = found
        .iter()
        .map(|melt| MeltRow {
            code: melt.code.clone(),
            station: melt.station.clone(),
            state: melt.state.clone(),
            started: moment(melt.started_at),
            charged: lang.kg(melt.charged_g),
            ingot: lang.kg(melt.ingot_g),
            yield_percent: yield_of(lang, melt),
        })
        .collect();
    render(&MeltsPage {
        shell: context.shell(&state),
        rows,
    })
}

/// A charge or a pour: a lot (linked) and its mass.
pub struct LineRow {
    pub at: String,
    pub lot: String,
    pub href: Option<String>,
    pub material: String,
    pub material_name: String,
    pub mass: String,
}

pub struct NoteRow {
    pub at: String,
    pub temperature: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "melt.html")]
struct MeltPage {
    shell: Shell,
    melt: MeltView,
    started: String,
    finished: String,
    charges: Vec<LineRow>,
    pours: Vec<LineRow>,
    charged: String,
    ingot: String,
    dross: String,
    loss: String,
    in_furnace: String,
    yield_percent: String,
    notes: Vec<NoteRow>,
}

fn rows(lang: Lang, lines: &[MeltLine], names: &HashMap<String, String>) -> Vec<LineRow> {
    lines
        .iter()
        .map(|line| LineRow {
            at: moment(line.at),
            href: page_of(&line.lot),
            lot: line.lot.clone(),
            material_name: names.get(&line.material).cloned().unwrap_or_default(),
            material: line.material.clone(),
            mass: lang.kg(line.mass_g),
        })
        .collect()
}

pub async fn detail(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
) -> Response {
    if let Some(refused) = context.refusal(&state, WORKSHOP) {
        return refused;
    }
    let lang = context.lang;
    let loaded = async {
        let melt = melts::view(&state.db, &code).await.map_err(unknown_code)?;
        let names = material_names(&state, lang).await?;
        Ok::<_, AppError>((melt, names))
    }
    .await;
    let (melt, names) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return context.app_error(&state, error),
    };
    let page = MeltPage {
        shell: context.shell(&state),
        started: moment(melt.started_at),
        finished: melt.finished_at.map(moment).unwrap_or_default(),
        charges: rows(lang, &melt.charges, &names),
        pours: rows(lang, &melt.pours, &names),
        charged: lang.kg(melt.charged_g),
        ingot: lang.kg(melt.ingot_g),
        dross: lang.kg(melt.dross_g),
        loss: lang.kg(melt.loss_g),
        in_furnace: lang.kg(melt.balance_g),
        yield_percent: yield_of(lang, &melt),
        notes: melt
            .notes
            .iter()
            .map(|note| NoteRow {
                at: moment(note.at),
                temperature: note
                    .temperature_c
                    .map(|t| format!("{t}\u{a0}°C"))
                    .unwrap_or_default(),
                note: note.note.clone(),
            })
            .collect(),
        melt,
    };
    render(&page)
}
