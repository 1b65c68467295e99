//! The item page: what it is, where it came from, its label and linked barcodes.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::domain::roles::Role;
use crate::entities::collection;
use crate::error::AppError;
use crate::http::AppState;
use crate::http::extract::{Form, Path};
use crate::http::ui::{PageContext, Shell, render};
use crate::i18n::Lang;
use crate::services::{catalogue, collections, items, partners};

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    shell: Shell,
    found: crate::entities::item::Model,
    kind: String,
    mass: String,
    collection: collection::Model,
    partner: String,
    barcodes: Vec<String>,
    error: Option<String>,
}

async fn show(
    state: &AppState,
    context: &PageContext,
    code: &str,
    error: Option<String>,
) -> Response {
    let loaded = async {
        let found = items::find(&state.db, code).await?;
        let kind = catalogue::kinds(&state.db)
            .await?
            .into_iter()
            .find(|k| k.id == found.kind_id)
            .map(|k| {
                if context.lang == Lang::En {
                    k.name_en
                } else {
                    k.name_fr
                }
            })
            .unwrap_or_default();
        let collection = collections::find(&state.db, &found.collection_id.to_string()).await?;
        let partner = partners::get(&state.db, collection.partner_id).await?;
        let barcodes = items::barcodes_of(&state.db, found.id).await?;
        Ok::<_, AppError>((found, kind, collection, partner.name, barcodes))
    }
    .await;
    match loaded {
        Ok((found, kind, collection, partner, barcodes)) => render(&ItemPage {
            shell: context.shell(state),
            mass: context.lang.kg(found.gross_mass_g),
            found,
            kind,
            collection,
            partner,
            barcodes,
            error,
        }),
        Err(error) => context.app_error(state, error),
    }
}

pub async fn detail(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
) -> Response {
    if let Some(refused) = context.refusal(&state, &[Role::Supervisor]) {
        return refused;
    }
    show(&state, &context, &code, None).await
}

#[derive(Debug, Deserialize)]
pub struct BarcodeForm {
    csrf: String,
    barcode: String,
}

pub async fn link_barcode(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
    Form(form): Form<BarcodeForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, &[Role::Supervisor], &form.csrf) {
        return refused;
    }
    match items::link_barcode(
        &state.db,
        &code,
        &form.barcode,
        Some(context.current.user.id),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/items/{code}")).into_response(),
        Err(error) if error.status().is_client_error() => {
            show(&state, &context, &code, Some(error.to_string())).await
        }
        Err(error) => context.app_error(&state, error),
    }
}
