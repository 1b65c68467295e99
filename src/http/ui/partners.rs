//! The partners page: who hands equipment over, and registering a new one.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::domain::intake::PartnerKind;
use crate::domain::roles::Role;
use crate::entities::partner;
use crate::error::AppError;
use crate::http::AppState;
use crate::http::extract::{Form, Query};
use crate::http::ui::{PageContext, Shell, render};
use crate::services::Paging;
use crate::services::partners::{self, PartnerFields, PartnerFilter};

#[derive(Template)]
#[template(path = "partners.html")]
struct PartnersPage {
    shell: Shell,
    partners: Vec<partner::Model>,
    total: u64,
    search: String,
    kinds: Vec<(&'static str, &'static str)>,
    errors: Vec<String>,
    form: PartnerForm,
}

#[derive(Debug, Default, Deserialize)]
pub struct PartnerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    language: String,
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    page: Option<u64>,
}

fn kinds(shell: &Shell) -> Vec<(&'static str, &'static str)> {
    PartnerKind::ALL
        .iter()
        .map(|kind| {
            (
                kind.as_str(),
                shell.t(&format!("partner_kind.{}", kind.as_str())),
            )
        })
        .collect()
}

async fn page(
    state: &AppState,
    context: &PageContext,
    search: Option<String>,
    page: Option<u64>,
    form: PartnerForm,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let paging = match Paging::checked(page, Some(100)) {
        Ok(paging) => paging,
        Err(error) => return context.app_error(state, error),
    };
    let found = match partners::list(
        &state.db,
        PartnerFilter {
            name: search.clone(),
            kind: None,
        },
        paging,
    )
    .await
    {
        Ok(found) => found,
        Err(error) => return context.app_error(state, error),
    };
    let shell = context.shell(state);
    let page = PartnersPage {
        kinds: kinds(&shell),
        shell,
        total: found.total,
        partners: found.items,
        search: search.unwrap_or_default(),
        errors,
        form,
    };
    (status, render(&page)).into_response()
}

pub async fn list(
    State(state): State<AppState>,
    context: PageContext,
    Query(query): Query<SearchQuery>,
) -> Response {
    if let Some(refused) = context.refusal(&state, &[Role::Supervisor]) {
        return refused;
    }
    page(
        &state,
        &context,
        query.q,
        query.page,
        PartnerForm::default(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    context: PageContext,
    Form(form): Form<PartnerForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, &[Role::Supervisor], &form.csrf) {
        return refused;
    }
    let fields = PartnerFields {
        name: Some(form.name.clone()),
        kind: form.kind.parse().ok(),
        address: Some(form.address.clone()),
        contact: Some(form.contact.clone()),
        notes: None,
        language: Some(form.language.clone()).filter(|l| !l.is_empty()),
    };
    match partners::create(&state.db, fields, Some(context.current.user.id)).await {
        Ok(_) => Redirect::to("/partners").into_response(),
        Err(AppError::Unprocessable { errors, .. }) => {
            let messages = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            page(
                &state,
                &context,
                None,
                None,
                form,
                messages,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => context.app_error(&state, error),
    }
}
