//! Certificate pages: the supervisors' list (ready to issue, issued, revoke), the public
//! verify page a printed certificate's QR code opens, and the partner portal.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::certificate::{Seal, Snapshot};
use crate::domain::public_facts::PublicFacts;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::api::certificates::{Lookup, look_up, tidy_reference};
use crate::http::auth::ClientAddress;
use crate::http::extract::{Form, Path, Query};
use crate::http::ui::{PageContext, Shell, render};
use crate::i18n::Lang;
use crate::services::certificates::public::{PublicStatus, PublicVerification};
use crate::services::certificates::{self, CertificateView, IssueRequest, Ready, Scope, Status};
use crate::services::{collections, items, partners};

const ISSUERS: &[Role] = &[Role::Supervisor];

/// A certificate as a row of a table.
pub struct CertificateRow {
    pub number: String,
    pub code: String,
    pub partner: String,
    pub scope: String,
    pub issued_on: String,
    pub status: &'static str,
    pub status_text: &'static str,
    pub received: String,
    pub ingot: String,
    pub valid: bool,
}

fn row_of(view: &CertificateView, lang: Lang) -> CertificateRow {
    let scope = if view.scope_kind == "collection" {
        view.collections.join(", ")
    } else {
        format!("{} → {}", view.period_from, view.period_to)
    };
    CertificateRow {
        number: view.number.clone(),
        code: view.code.clone(),
        partner: view.partner.clone(),
        scope,
        issued_on: view.issued_at.date_naive().to_string(),
        status: view.status.name(),
        status_text: lang.t(&format!("certificate_page.status_{}", view.status.name())),
        received: lang.kg(view.received_g),
        ingot: lang.kg(view.copper_ingot_g),
        valid: view.status == Status::Valid,
    }
}

pub struct ReadyRow {
    pub collection: String,
    pub partner: String,
    pub received_on: String,
    pub items: usize,
    pub received: String,
}

#[derive(Template)]
#[template(path = "certificates.html")]
struct CertificatesPage {
    shell: Shell,
    ready: Vec<ReadyRow>,
    rows: Vec<CertificateRow>,
    partners: Vec<(String, String)>,
    /// What went wrong with the last form, and what blocks issuing.
    error: Option<String>,
    blockers: Vec<(String, String)>,
    issued: Option<String>,
    /// Issuing is refused until `public_url` is set: said before anyone tries.
    public_url_missing: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    issued: Option<String>,
}

async fn list_page(
    state: &AppState,
    context: &PageContext,
    issued: Option<String>,
    error: Option<AppError>,
) -> Response {
    let loaded = async {
        let ready: Vec<Ready> = certificates::ready(&state.db, 50).await?;
        let views = certificates::list(&state.db, None).await?;
        let partners = partners::list(
            &state.db,
            partners::PartnerFilter::default(),
            crate::services::Paging {
                page: Some(1),
                per_page: Some(500),
            },
        )
        .await?;
        Ok::<_, AppError>((ready, views, partners))
    }
    .await;
    let (ready, views, partners) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return context.app_error(state, error),
    };
    let lang = context.lang;
    let (error_text, blockers) = match error {
        Some(AppError::Refused { detail, errors, .. }) => (
            Some(detail),
            errors.into_iter().map(|e| (e.field, e.message)).collect(),
        ),
        Some(other) => (Some(other.problem().detail), Vec::new()),
        None => (None, Vec::new()),
    };
    let status = if error_text.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let page = CertificatesPage {
        shell: context.shell(state),
        ready: ready
            .into_iter()
            .map(|r| ReadyRow {
                collection: r.collection,
                partner: r.partner,
                received_on: r.received_on.to_string(),
                items: r.items,
                received: lang.kg(r.received_g),
            })
            .collect(),
        rows: views.iter().map(|v| row_of(v, lang)).collect(),
        partners: partners
            .items
            .into_iter()
            .map(|p| (p.id.to_string(), p.name))
            .collect(),
        error: error_text,
        blockers,
        issued,
        public_url_missing: state.config.public_base().is_none(),
    };
    (status, render(&page)).into_response()
}

pub async fn list(
    State(state): State<AppState>,
    context: PageContext,
    Query(query): Query<ListQuery>,
) -> Response {
    if let Some(refused) = context.refusal(&state, ISSUERS) {
        return refused;
    }
    list_page(&state, &context, query.issued, None).await
}

#[derive(Debug, Default, Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    collection: String,
    #[serde(default)]
    partner_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// A fresh id per form, so a double click issues once.
    #[serde(default)]
    client_id: String,
}

fn date_field(field: &str, text: &str) -> AppResult<NaiveDate> {
    text.trim()
        .parse()
        .map_err(|_| AppError::invalid(field, "give a date as YYYY-MM-DD"))
}

async fn scope_of(state: &AppState, form: &IssueForm) -> AppResult<Scope> {
    if !form.collection.trim().is_empty() {
        let found = collections::find(&state.db, &form.collection).await?;
        return Ok(Scope::Collection(found.id));
    }
    let partner_id: Uuid = form
        .partner_id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("partner_id", "choose a partner"))?;
    let from = date_field("from", &form.from)?;
    let to = date_field("to", &form.to)?;
    if to < from {
        return Err(AppError::invalid("to", "must not be before `from`"));
    }
    Ok(Scope::Partner {
        partner_id,
        from,
        to,
    })
}

pub async fn issue(
    State(state): State<AppState>,
    context: PageContext,
    Form(form): Form<IssueForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, ISSUERS, &form.csrf) {
        return refused;
    }
    let issued = async {
        let scope = scope_of(&state, &form).await?;
        certificates::issue(
            &state.db,
            &state.config,
            IssueRequest {
                scope,
                language: None,
                signatory_role: None,
                client_id: Some(form.client_id.clone()).filter(|id| !id.trim().is_empty()),
            },
            &context.current.user,
        )
        .await
    }
    .await;
    match issued {
        Ok(view) => Redirect::to(&format!("/certificates?issued={}", view.number)).into_response(),
        Err(error) if error.status().is_server_error() => error.into_response(),
        Err(error) => list_page(&state, &context, None, Some(error)).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    /// A checkbox: present when a corrected certificate is to be issued.
    #[serde(default)]
    reissue: Option<String>,
}

pub async fn revoke(
    State(state): State<AppState>,
    context: PageContext,
    Path(number): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, ISSUERS, &form.csrf) {
        return refused;
    }
    match certificates::revoke(
        &state.db,
        &state.config,
        &number,
        &form.reason,
        form.reissue.is_some(),
        &context.current.user,
    )
    .await
    {
        Ok(view) => Redirect::to(&format!("/certificates?issued={}", view.number)).into_response(),
        Err(error) if error.status().is_server_error() => error.into_response(),
        Err(error) => list_page(&state, &context, None, Some(error)).await,
    }
}

/// What the verify page shows: a form to type a code, or a certificate's check.
#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    shell: Shell,
    /// What was asked for, as typed (echoed, never looked up when it is a number alone).
    reference: String,
    /// Why the form is shown again (`code_needed`, `unknown`, `throttled`: a message of
    /// `certificate_page`), or none.
    notice: Option<&'static str>,
    checked: Option<Checked>,
}

/// A found certificate as the page shows it.
struct Checked {
    number: String,
    code: String,
    genuine: bool,
    problem: Option<String>,
    status: &'static str,
    status_text: &'static str,
    /// When it was revoked (date), and the free-text reason for staff and its partner only.
    revoked_on: Option<String>,
    reason: Option<String>,
    superseded_by: Option<(String, String)>,
    facts: Option<PublicFacts>,
    figures: Vec<(&'static str, String)>,
    canonical: String,
    seal: Option<Seal>,
    /// The whole snapshot, for staff and its partner only.
    full: Option<Snapshot>,
}

fn figures_of(
    facts: &PublicFacts,
    full: Option<&Snapshot>,
    lang: Lang,
) -> Vec<(&'static str, String)> {
    let totals = &facts.totals;
    let count_mass = |count: i64, mass_g: i64| format!("{count} · {}", lang.kg(mass_g));
    let mut figures = vec![
        (
            "certificate_page.received",
            count_mass(totals.received.count, totals.received.mass_g),
        ),
        (
            "certificate_page.reused",
            count_mass(totals.reused.count, totals.reused.mass_g),
        ),
        (
            "certificate_page.dismantled",
            count_mass(totals.dismantled.count, totals.dismantled.mass_g),
        ),
        (
            "certificate_page.shipped_whole",
            count_mass(totals.shipped_whole.count, totals.shipped_whole.mass_g),
        ),
        (
            "certificate_page.recycled",
            lang.kg(totals.recycled.iter().map(|l| l.mass_g).sum()),
        ),
        (
            "certificate_page.copper_ingot",
            lang.kg(totals.copper_ingot_g),
        ),
        ("certificate_page.hazardous", lang.kg(totals.hazardous_g)),
        ("certificate_page.lost", lang.kg(totals.lost_g)),
    ];
    if let Some(full) = full {
        figures.push(("certificate_page.devices", full.annex.len().to_string()));
    }
    figures
}

fn checked_of(found: PublicVerification, lang: Lang) -> Checked {
    let (revoked_on, superseded_by) = match &found.status {
        PublicStatus::Valid => (None, None),
        PublicStatus::Revoked { revoked_at } => (Some(revoked_at.date_naive().to_string()), None),
        PublicStatus::Superseded {
            revoked_at,
            by,
            by_code,
        } => (
            Some(revoked_at.date_naive().to_string()),
            Some((by.clone(), by_code.clone())),
        ),
    };
    let (reason, full) = match found.full {
        Some(full) => (
            match full.status {
                Status::Valid => None,
                Status::Revoked { reason, .. } | Status::Superseded { reason, .. } => Some(reason),
            },
            full.snapshot,
        ),
        None => (None, None),
    };
    let status = match &found.status {
        PublicStatus::Valid => "valid",
        PublicStatus::Revoked { .. } => "revoked",
        PublicStatus::Superseded { .. } => "superseded",
    };
    Checked {
        figures: found
            .facts
            .as_ref()
            .map(|facts| figures_of(facts, full.as_ref(), lang))
            .unwrap_or_default(),
        number: found.number,
        code: found.code,
        genuine: found.genuine,
        problem: found.problem,
        status,
        status_text: lang.t(&format!("certificate_page.status_{status}")),
        revoked_on,
        reason,
        superseded_by,
        facts: found.facts,
        canonical: found.canonical,
        seal: found.seal,
        full,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct VerifyQuery {
    #[serde(default)]
    code: String,
}

/// `/verify`: a field to type the code printed on a certificate; the form comes back here
/// with `?code=` and is sent on to `/verify/CE-…`.
pub async fn verify_form(
    State(state): State<AppState>,
    lang: Lang,
    current: Option<crate::http::auth::CurrentUser>,
    Query(query): Query<VerifyQuery>,
) -> Response {
    if let Some(tidy) = tidy_reference(&query.code) {
        return Redirect::to(&format!("/verify/{tidy}")).into_response();
    }
    let page = VerifyPage {
        shell: Shell::new(&state, lang, "/verify", current.as_ref()),
        reference: String::new(),
        notice: (!query.code.trim().is_empty()).then_some("unknown"),
        checked: None,
    };
    let status = if page.notice.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    (status, render(&page)).into_response()
}

/// The public page a certificate's QR code opens (`/verify/CE-…`): genuine or not, valid,
/// revoked or superseded, and its public facts; the whole certificate for supervisors and its
/// own partner. A number alone from anyone else shows the form asking for the code. No login.
pub async fn verify(
    State(state): State<AppState>,
    lang: Lang,
    current: Option<crate::http::auth::CurrentUser>,
    address: ClientAddress,
    Path(number): Path<String>,
) -> Response {
    let shell = Shell::new(&state, lang, &format!("/verify/{number}"), current.as_ref());
    let form = |shell: Shell, notice: &'static str| VerifyPage {
        shell,
        reference: number.clone(),
        notice: Some(notice),
        checked: None,
    };
    match look_up(&state, current.as_ref(), &address, &number).await {
        Ok(Lookup::Found(found)) => render(&VerifyPage {
            shell,
            reference: found.number.clone(),
            notice: None,
            checked: Some(checked_of(*found, lang)),
        }),
        Ok(Lookup::CodeNeeded) => render(&form(shell, "code_needed")),
        Ok(Lookup::Unknown) => {
            (StatusCode::NOT_FOUND, render(&form(shell, "unknown"))).into_response()
        }
        Err(AppError::TooManyRequests { retry_after_s }) => {
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                render(&form(shell, "throttled")),
            )
                .into_response();
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_s),
            );
            response
        }
        Err(error) => error.into_response(),
    }
}

pub struct PortalCollection {
    pub code: String,
    pub received_on: String,
    pub reference: String,
    pub items: u64,
    pub finished: u64,
    pub received: String,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    shell: Shell,
    partner: String,
    collections: Vec<PortalCollection>,
    certificates: Vec<CertificateRow>,
}

/// Items of a collection that have reached an end state, and all of them.
async fn progress(state: &AppState, collection_id: Uuid) -> AppResult<(u64, u64)> {
    let all = items::states_of(&state.db, collection_id).await?;
    let finished = all
        .iter()
        .filter(|s| matches!(s.as_str(), "reused" | "dismantled" | "shipped_whole"))
        .count() as u64;
    Ok((all.len() as u64, finished))
}

/// The partner portal: its own collections, how far they are, and its certificates.
pub async fn portal(State(state): State<AppState>, context: PageContext) -> Response {
    let Some(partner_id) = context.current.partner_scope() else {
        return Redirect::to("/").into_response();
    };
    let loaded = async {
        let partner = partners::get(&state.db, partner_id).await?;
        let found = collections::list(
            &state.db,
            collections::CollectionFilter {
                partner_id: Some(partner_id),
                ..Default::default()
            },
            crate::services::Paging {
                page: Some(1),
                per_page: Some(500),
            },
        )
        .await?;
        let mut rows = Vec::new();
        for collection in found.items {
            let (count, finished) = progress(&state, collection.id).await?;
            rows.push(PortalCollection {
                received: context
                    .lang
                    .kg(items::total_mass_g(&state.db, collection.id).await?),
                code: collection.code,
                received_on: collection.received_on.to_string(),
                reference: collection.reference.unwrap_or_default(),
                items: count,
                finished,
            });
        }
        let views = certificates::list(&state.db, Some(partner_id)).await?;
        Ok::<_, AppError>((partner, rows, views))
    }
    .await;
    let (partner, collections, views) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return context.app_error(&state, error),
    };
    render(&PortalPage {
        shell: context.shell(&state),
        partner: partner.name,
        collections,
        certificates: views.iter().map(|v| row_of(v, context.lang)).collect(),
    })
}

pub struct PortalItem {
    pub code: String,
    pub kind: String,
    pub serial: String,
    pub mass: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "portal_collection.html")]
struct PortalCollectionPage {
    shell: Shell,
    code: String,
    received_on: String,
    items: Vec<PortalItem>,
}

/// One of the partner's collections, item by item with its fate; another partner's answers
/// 404 like a code that does not exist.
pub async fn portal_collection(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
) -> Response {
    let loaded = async {
        let found = collections::find(&state.db, &code).await;
        context.current.may_read(
            ISSUERS,
            found.as_ref().ok().map(|c| c.partner_id),
            &format!("collection {code}"),
        )?;
        let found = found?;
        let kinds = crate::http::api::collections::kind_codes(&state).await?;
        let listed = items::list(
            &state.db,
            items::ItemFilter {
                collection_id: Some(found.id),
                ..Default::default()
            },
            crate::services::Paging {
                page: Some(1),
                per_page: Some(1_000),
            },
        )
        .await?;
        Ok::<_, AppError>((found, kinds, listed.items))
    }
    .await;
    let (found, kinds, listed) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return context.app_error(&state, error),
    };
    let lang = context.lang;
    render(&PortalCollectionPage {
        shell: context.shell(&state),
        code: found.code,
        received_on: found.received_on.to_string(),
        items: listed
            .into_iter()
            .map(|i| PortalItem {
                kind: kinds.get(&i.kind_id).cloned().unwrap_or_default(),
                serial: i.serial.unwrap_or_default(),
                mass: lang.kg(i.gross_mass_g),
                state: lang.t(&format!("item_state.{}", i.state)).to_string(),
                code: i.code,
            })
            .collect(),
    })
}

/// `/.well-known/greenchip-signing-key`: the key that signs now and every key that signed
/// before, so anyone can check a certificate's signature.
pub async fn signing_key(State(state): State<AppState>) -> Response {
    match certificates::keys::published(&state.db).await {
        Ok(keys) => {
            let current = keys.iter().find(|k| k.retired_at.is_none()).cloned();
            axum::Json(serde_json::json!({
                "issuer": state.config.workshop_name,
                "algorithm": "Ed25519",
                "public_key": current.map(|k| k.public_key),
                "signed": "the canonical JSON snapshot's UTF-8 bytes; its SHA-256 is the certificate's hash",
                "keys": keys,
            }))
            .into_response()
        }
        Err(error) => error.into_response(),
    }
}
