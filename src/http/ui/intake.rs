//! The fast intake page: one person receives a truckload, keyboard first. Choose the
//! collection once; then per item the kind, the mass from the scale (digits + Enter), the
//! serial (scanned); Enter saves, clears, keeps the kind, and offers the item's label.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::domain::intake::CollectionState;
use crate::domain::mass::{self, Unit};
use crate::domain::roles::Role;
use crate::entities::{collection, equipment_kind};
use crate::error::{AppError, FieldError};
use crate::http::AppState;
use crate::http::extract::{Form, Path, Query};
use crate::http::ui::collections::{ItemRow, item_rows};
use crate::http::ui::{PageContext, Shell, render};
use crate::i18n::Lang;
use crate::services::items::{self, ItemFilter, NewItem};
use crate::services::{Paging, catalogue, collections, partners};

/// How many of the latest items the page lists.
const RECENT: u64 = 25;

pub struct KindOption {
    pub code: String,
    pub name: String,
    pub data_bearing: bool,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    shell: Shell,
    collection: collection::Model,
    partner: String,
    open: bool,
    kinds: Vec<KindOption>,
    form: IntakeForm,
    errors: Vec<FieldError>,
    /// The item just saved, to confirm and offer its label.
    last: Option<ItemRow>,
    recent: Vec<ItemRow>,
    item_count: u64,
    received: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct IntakeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    /// In kilograms, as the scale or the person typed it (`8,4`).
    #[serde(default)]
    mass_kg: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    serial: String,
    /// `auto` (the kind's default), `yes` or `no`.
    #[serde(default)]
    data_bearing: String,
    #[serde(default)]
    brand: String,
    #[serde(default)]
    model: String,
}

#[derive(Debug, Deserialize)]
pub struct IntakeQuery {
    kind: Option<String>,
    last: Option<String>,
}

fn kind_options(kinds: &[equipment_kind::Model], lang: Lang, selected: &str) -> Vec<KindOption> {
    kinds
        .iter()
        .filter(|k| k.active)
        .map(|k| KindOption {
            code: k.code.clone(),
            name: if lang == Lang::En {
                k.name_en.clone()
            } else {
                k.name_fr.clone()
            },
            data_bearing: k.data_bearing,
            selected: k.code == selected,
        })
        .collect()
}

async fn show(
    state: &AppState,
    context: &PageContext,
    code: &str,
    form: IntakeForm,
    errors: Vec<FieldError>,
    last: Option<String>,
    status: StatusCode,
) -> Response {
    let loaded = async {
        let found = collections::find(&state.db, code).await?;
        let partner = partners::get(&state.db, found.partner_id).await?;
        let kinds = catalogue::kinds(&state.db).await?;
        let latest = items::list(
            &state.db,
            ItemFilter {
                collection_id: Some(found.id),
                ..Default::default()
            },
            Paging {
                page: Some(1),
                per_page: Some(1),
            },
        )
        .await?;
        // The newest items: the last page, reversed.
        let last_page = latest.total.div_ceil(RECENT).max(1);
        let mut recent = items::list(
            &state.db,
            ItemFilter {
                collection_id: Some(found.id),
                ..Default::default()
            },
            Paging {
                page: Some(last_page),
                per_page: Some(RECENT),
            },
        )
        .await?
        .items;
        recent.reverse();
        let total_g = items::total_mass_g(&state.db, found.id).await?;
        Ok::<_, AppError>((found, partner, kinds, recent, latest.total, total_g))
    }
    .await;
    let (found, partner, kinds, recent, item_count, total_g) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return context.app_error(state, error),
    };
    let recent = match item_rows(state, context, recent).await {
        Ok(rows) => rows,
        Err(error) => return context.app_error(state, error),
    };
    let last = last.and_then(|code| recent.iter().find(|row| row.code == code).cloned());
    let page = IntakePage {
        shell: context.shell(state),
        open: found.state == CollectionState::Open.as_str(),
        kinds: kind_options(&kinds, context.lang, &form.kind),
        collection: found,
        partner: partner.name,
        form,
        errors,
        last,
        recent,
        item_count,
        received: context.lang.kg(total_g),
    };
    (status, render(&page)).into_response()
}

pub async fn page(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
    Query(query): Query<IntakeQuery>,
) -> Response {
    if let Some(refused) = context.refusal(&state, &[Role::Supervisor]) {
        return refused;
    }
    let form = IntakeForm {
        kind: query.kind.unwrap_or_default(),
        data_bearing: "auto".to_string(),
        ..IntakeForm::default()
    };
    show(
        &state,
        &context,
        &code,
        form,
        Vec::new(),
        query.last,
        StatusCode::OK,
    )
    .await
}

/// Saves one item from the form; errors come back on the same page with what was typed.
pub async fn receive(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
    Form(form): Form<IntakeForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, &[Role::Supervisor], &form.csrf) {
        return refused;
    }
    let mut errors = Vec::new();
    let mass_g = match mass::parse(&form.mass_kg, Unit::Kilograms) {
        Ok(grams) => grams,
        Err(error) => {
            errors.push(FieldError::new("mass_kg", error.to_string()));
            0
        }
    };
    let quantity = match form.quantity.trim() {
        "" => None,
        text => match text.parse::<i32>() {
            Ok(quantity) => Some(quantity),
            Err(_) => {
                errors.push(FieldError::new(
                    "quantity",
                    format!("“{text}” is not a whole number"),
                ));
                None
            }
        },
    };
    if form.kind.trim().is_empty() {
        errors.push(FieldError::new("kind", "choose the kind of equipment"));
    }
    if !errors.is_empty() {
        return show(
            &state,
            &context,
            &code,
            form,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let new = NewItem {
        kind: form.kind.clone(),
        mass_g,
        quantity,
        brand: Some(form.brand.clone()),
        model: Some(form.model.clone()),
        serial: Some(form.serial.clone()),
        data_bearing: match form.data_bearing.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
        condition_notes: None,
    };
    match items::receive(
        &state.db,
        &code,
        vec![new],
        false,
        Some(context.current.user.id),
        None,
    )
    .await
    {
        Ok(received) => {
            let last = received.first().map(|i| i.code.clone()).unwrap_or_default();
            let kind = form.kind.trim().to_string();
            Redirect::to(&format!("/intake/{code}?kind={kind}&last={last}")).into_response()
        }
        Err(AppError::Unprocessable { errors, .. }) => {
            show(
                &state,
                &context,
                &code,
                form,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error @ AppError::Conflict { .. }) => {
            let errors = vec![FieldError::new("collection", error.to_string())];
            show(
                &state,
                &context,
                &code,
                form,
                errors,
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(error) => context.app_error(&state, error),
    }
}
