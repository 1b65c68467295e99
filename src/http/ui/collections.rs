//! Collection pages: the list with a form to open one, and one collection with its items.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::intake::CollectionState;
use crate::domain::roles::Role;
use crate::entities::{collection, item, partner};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::extract::{Form, Path, Query};
use crate::http::ui::{PageContext, Shell, render};
use crate::services::collections::{self, CollectionFields, CollectionFilter};
use crate::services::items::{self, ItemFilter};
use crate::services::{Paging, catalogue, partners};

/// A collection as a list row.
pub struct CollectionRow {
    pub code: String,
    pub partner: String,
    pub received_on: NaiveDate,
    pub reference: String,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "collections.html")]
struct CollectionsPage {
    shell: Shell,
    rows: Vec<CollectionRow>,
    total: u64,
    partners: Vec<partner::Model>,
    chosen_partner: Option<Uuid>,
    today: NaiveDate,
    errors: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    partner: Option<Uuid>,
    page: Option<u64>,
}

async fn all_partners(state: &AppState) -> Result<Vec<partner::Model>, AppError> {
    Ok(partners::list(
        &state.db,
        Default::default(),
        Paging {
            page: Some(1),
            per_page: Some(500),
        },
    )
    .await?
    .items)
}

async fn list_page(
    state: &AppState,
    context: &PageContext,
    query: ListQuery,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let loaded = async {
        let partners = all_partners(state).await?;
        let found = collections::list(
            &state.db,
            CollectionFilter {
                partner_id: query.partner,
                ..Default::default()
            },
            Paging::checked(query.page, Some(100))?,
        )
        .await?;
        Ok::<_, AppError>((partners, found))
    }
    .await;
    let (partners, found) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return context.app_error(state, error),
    };
    let names: HashMap<Uuid, String> = partners.iter().map(|p| (p.id, p.name.clone())).collect();
    let rows = found.items.into_iter().map(|c| row(c, &names)).collect();
    let page = CollectionsPage {
        shell: context.shell(state),
        rows,
        total: found.total,
        partners,
        chosen_partner: query.partner,
        today: chrono::Utc::now().date_naive(),
        errors,
    };
    (status, render(&page)).into_response()
}

fn row(c: collection::Model, names: &HashMap<Uuid, String>) -> CollectionRow {
    CollectionRow {
        partner: names.get(&c.partner_id).cloned().unwrap_or_default(),
        open: c.state == CollectionState::Open.as_str(),
        code: c.code,
        received_on: c.received_on,
        reference: c.reference.unwrap_or_default(),
    }
}

pub async fn list(
    State(state): State<AppState>,
    context: PageContext,
    Query(query): Query<ListQuery>,
) -> Response {
    if let Some(refused) = context.refusal(&state, &[Role::Supervisor]) {
        return refused;
    }
    list_page(&state, &context, query, Vec::new(), StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct NewCollectionForm {
    csrf: String,
    partner_id: Option<Uuid>,
    received_on: Option<NaiveDate>,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    place: String,
}

/// Opens a collection and goes straight to receiving its items.
pub async fn create(
    State(state): State<AppState>,
    context: PageContext,
    Form(form): Form<NewCollectionForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, &[Role::Supervisor], &form.csrf) {
        return refused;
    }
    let fields = CollectionFields {
        partner_id: form.partner_id,
        received_on: form.received_on,
        place: Some(form.place),
        reference: Some(form.reference),
        notes: None,
    };
    match collections::create(&state.db, fields, Some(context.current.user.id)).await {
        Ok(created) => Redirect::to(&format!("/intake/{}", created.code)).into_response(),
        Err(AppError::Unprocessable { errors, .. }) => {
            let messages = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            let query = ListQuery {
                partner: form.partner_id,
                page: None,
            };
            list_page(
                &state,
                &context,
                query,
                messages,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => context.app_error(&state, error),
    }
}

/// An item as a row of a collection or intake page.
#[derive(Clone)]
pub struct ItemRow {
    pub code: String,
    pub kind: String,
    pub mass: String,
    pub quantity: i32,
    pub serial: String,
    pub data_bearing: bool,
    pub state: String,
}

pub async fn item_rows(
    state: &AppState,
    context: &PageContext,
    found: Vec<item::Model>,
) -> Result<Vec<ItemRow>, AppError> {
    let kinds: HashMap<Uuid, (String, String)> = catalogue::kinds(&state.db)
        .await?
        .into_iter()
        .map(|k| (k.id, (k.name_en, k.name_fr)))
        .collect();
    Ok(found
        .into_iter()
        .map(|i| ItemRow {
            kind: kinds
                .get(&i.kind_id)
                .map(|(en, fr)| {
                    if context.lang == crate::i18n::Lang::En {
                        en.clone()
                    } else {
                        fr.clone()
                    }
                })
                .unwrap_or_default(),
            mass: context.lang.kg(i.gross_mass_g),
            quantity: i.quantity,
            serial: i.serial.unwrap_or_default(),
            data_bearing: i.data_bearing,
            state: i.state,
            code: i.code,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "collection.html")]
struct CollectionPage {
    shell: Shell,
    collection: collection::Model,
    partner: String,
    open: bool,
    items: Vec<ItemRow>,
    item_count: u64,
    received: String,
    templates: Vec<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
) -> Response {
    if let Some(refused) = context.refusal(&state, &[Role::Supervisor]) {
        return refused;
    }
    let loaded = async {
        let found = collections::find(&state.db, &code).await?;
        let partner = partners::get(&state.db, found.partner_id).await?;
        let received = items::list(
            &state.db,
            ItemFilter {
                collection_id: Some(found.id),
                ..Default::default()
            },
            Paging {
                page: Some(1),
                per_page: Some(500),
            },
        )
        .await?;
        let total_g = items::total_mass_g(&state.db, found.id).await?;
        let rows = item_rows(&state, &context, received.items).await?;
        Ok::<_, AppError>((found, partner, rows, received.total, total_g))
    }
    .await;
    let (found, partner, rows, item_count, total_g) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return context.app_error(&state, error),
    };
    let page = CollectionPage {
        shell: context.shell(&state),
        open: found.state == CollectionState::Open.as_str(),
        collection: found,
        partner: partner.name,
        items: rows,
        item_count,
        received: context.lang.kg(total_g),
        templates: vec![
            "L7160".to_string(),
            "L7163".to_string(),
            "L7651".to_string(),
            "roll62".to_string(),
        ],
    };
    render(&page)
}

#[derive(Debug, Deserialize)]
pub struct StateForm {
    csrf: String,
    /// `close` or `reopen`.
    action: String,
    #[serde(default)]
    reason: String,
}

pub async fn change_state(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
    Form(form): Form<StateForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, &[Role::Supervisor], &form.csrf) {
        return refused;
    }
    let target = match form.action.as_str() {
        "close" => CollectionState::Closed,
        _ => CollectionState::Open,
    };
    match collections::set_state(
        &state.db,
        &code,
        target,
        Some(&form.reason),
        Some(context.current.user.id),
    )
    .await
    {
        Ok(changed) => Redirect::to(&format!("/collections/{}", changed.code)).into_response(),
        Err(error) => context.app_error(&state, error),
    }
}
