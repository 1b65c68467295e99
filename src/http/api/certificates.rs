//! Recovery certificates over HTTP: supervisors issue and revoke them, partners read and
//! download their own, and anyone may verify one.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::codes::Code;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult, Problem};
use crate::http::AppState;
use crate::http::auth::ClientAddress;
use crate::http::auth::CurrentUser;
use crate::http::extract::{Json, Path, Query};
use crate::services::certificates::keys::PublicKey;
use crate::services::certificates::public::PublicVerification;
use crate::services::certificates::{self, CertificateView, IssueRequest, Ready, Scope};
use crate::services::collections;

/// Who issues, revokes and lists every partner's certificates.
const ISSUERS: &[Role] = &[Role::Supervisor];

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CertificateQuery {
    /// One partner's certificates (a partner user always sees only its own).
    partner_id: Option<Uuid>,
}

/// Certificates, newest first.
#[utoipa::path(get, path = "/certificates", tag = "certificates", params(CertificateQuery),
    responses((status = 200, body = [CertificateView]), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<CertificateQuery>,
) -> AppResult<Json<Vec<CertificateView>>> {
    let partner = current.reader_scope(ISSUERS)?.or(query.partner_id);
    Ok(Json(certificates::list(&state.db, partner).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    /// One collection (`CO-…`)…
    collection: Option<String>,
    /// …or a partner's collections received from `from` to `to` (default: this year so far).
    partner_id: Option<Uuid>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    /// `fr` or `en`; the partner's language when not given.
    language: Option<String>,
    /// The signatory's role as printed under the issuing supervisor's name.
    signatory_role: Option<String>,
    /// A retry with the same id returns the certificate the first request issued.
    client_id: Option<String>,
}

/// Issue a certificate for a collection or for a partner over a period. Refused with 409 and
/// the list of blockers while anything in scope is unfinished.
#[utoipa::path(post, path = "/certificates", tag = "certificates", request_body = IssueBody,
    responses((status = 201, body = CertificateView), (status = 200, body = CertificateView, description = "A retried request"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn issue(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<IssueBody>,
) -> AppResult<(StatusCode, Json<CertificateView>)> {
    current.require(ISSUERS)?;
    let scope = match (&body.collection, body.partner_id) {
        (Some(code), None) => {
            let found = collections::find(&state.db, code)
                .await
                .map_err(|error| match error {
                    AppError::NotFound(detail) => AppError::invalid("collection", detail),
                    other => other,
                })?;
            Scope::Collection(found.id)
        }
        (None, Some(partner_id)) => {
            let today = Utc::now().date_naive();
            let from = body
                .from
                .or_else(|| NaiveDate::from_yo_opt(today.year(), 1))
                .unwrap_or(today);
            let to = body.to.unwrap_or(today);
            if to < from {
                return Err(AppError::invalid("to", "must not be before `from`"));
            }
            crate::services::partners::get(&state.db, partner_id)
                .await
                .map_err(|_| AppError::invalid("partner_id", format!("no partner {partner_id}")))?;
            Scope::Partner {
                partner_id,
                from,
                to,
            }
        }
        _ => {
            return Err(AppError::invalid(
                "collection",
                "give either `collection` or `partner_id`",
            ));
        }
    };
    let issued = certificates::issue(
        &state.db,
        &state.config,
        IssueRequest {
            scope,
            language: body.language,
            signatory_role: body.signatory_role,
            client_id: body.client_id,
        },
        &current.user,
    )
    .await?;
    let status = if issued.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(issued)))
}

/// Closed collections that may receive a certificate now (finished, none yet).
#[utoipa::path(get, path = "/certificates/ready", tag = "certificates",
    responses((status = 200, body = [Ready]), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn ready(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<Vec<Ready>>> {
    current.require(ISSUERS)?;
    Ok(Json(certificates::ready(&state.db, 100).await?))
}

/// The certificate a supervisor, or its own partner, may read; 404 for any other partner.
async fn readable(
    state: &AppState,
    current: &CurrentUser,
    number: &str,
) -> AppResult<crate::entities::certificate::Model> {
    let found = certificates::find(&state.db, number).await;
    current.may_read(
        ISSUERS,
        found.as_ref().ok().map(|c| c.partner_id),
        &format!("certificate {number}"),
    )?;
    found
}

/// One certificate by number (`2026-0042`) or code (`CE-…`).
#[utoipa::path(get, path = "/certificates/{number}", tag = "certificates", params(("number" = String, Path)),
    responses((status = 200, body = CertificateView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(number): Path<String>,
) -> AppResult<Json<CertificateView>> {
    let found = readable(&state, &current, &number).await?;
    Ok(Json(certificates::view(&state.db, &found).await?))
}

/// The certificate's PDF, byte for byte as issued.
#[utoipa::path(get, path = "/certificates/{number}/pdf", tag = "certificates", params(("number" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn pdf(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(number): Path<String>,
) -> AppResult<Response> {
    let found = readable(&state, &current, &number).await?;
    Ok(pdf_response(&found))
}

/// An issued PDF as a download named after its number.
pub fn pdf_response(found: &crate::entities::certificate::Model) -> Response {
    let mut response = found.pdf.clone().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"certificate-{}.pdf\"",
        found.number
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevocationBody {
    /// Why: it is printed on the verify page.
    reason: String,
    /// Issue a corrected certificate over the same scope that supersedes this one (default).
    #[serde(default = "yes")]
    reissue: bool,
}

fn yes() -> bool {
    true
}

/// Revoke a certificate with a reason and (by default) issue the corrected one that
/// supersedes it, in one step. Answers the new certificate, or the revoked one.
#[utoipa::path(post, path = "/certificates/{number}/revocations", tag = "certificates", params(("number" = String, Path)),
    request_body = RevocationBody,
    responses((status = 201, body = CertificateView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(number): Path<String>,
    Json(body): Json<RevocationBody>,
) -> AppResult<(StatusCode, Json<CertificateView>)> {
    current.require(ISSUERS)?;
    Ok((
        StatusCode::CREATED,
        Json(
            certificates::revoke(
                &state.db,
                &state.config,
                &number,
                &body.reason,
                body.reissue,
                &current.user,
            )
            .await?,
        ),
    ))
}

/// What looking a certificate up finds, for whoever asks.
pub enum Lookup {
    /// Found by its code (anyone), or by its number by staff or its own partner. The whole
    /// certificate is inside only for staff and its own partner.
    Found(Box<PublicVerification>),
    /// A number alone from someone who may not read the certificate: the same answer whether
    /// or not the number exists, so numbers cannot be counted through.
    CodeNeeded,
    /// No certificate has this code (or, for staff and partners, this number).
    Unknown,
}

/// What someone typed or scanned, tidied: spaces dropped; a `CE…` code upper-cased with the
/// hyphens inside its body dropped (as typed from paper: `ce 1234 5678 x`). `None` when it
/// holds anything a code or number never holds.
pub fn tidy_reference(typed: &str) -> Option<String> {
    let compact: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty()
        || compact.len() > 64
        || !compact
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return None;
    }
    if compact.parse::<Uuid>().is_ok() {
        return Some(compact);
    }
    let upper = compact.to_ascii_uppercase();
    match upper.strip_prefix("CE") {
        Some(body) => {
            let body: String = body.chars().filter(|c| *c != '-').collect();
            Some(
                Code::from_scan(&format!("CE{body}"))
                    .map_or_else(|_| format!("CE-{body}"), |code| code.to_string()),
            )
        }
        None => Some(compact),
    }
}

/// Looks a certificate up by code or number for whoever asks, within the public rate limit
/// (staff are not counted). Shared by the verify page and the API.
pub async fn look_up(
    state: &AppState,
    current: Option<&CurrentUser>,
    address: &ClientAddress,
    reference: &str,
) -> AppResult<Lookup> {
    let staff = current.is_some_and(|c| c.require(ISSUERS).is_ok());
    if !staff {
        crate::http::throttle::look_up(state, address.0.as_deref()).await?;
    }
    let Some(reference) = tidy_reference(reference) else {
        return Ok(Lookup::Unknown);
    };
    let by_code = reference.starts_with("CE-");
    if !by_code && current.is_none() {
        return Ok(Lookup::CodeNeeded);
    }
    let found = match certificates::find(&state.db, &reference).await {
        Ok(found) => found,
        Err(AppError::NotFound(_)) if by_code || staff => return Ok(Lookup::Unknown),
        Err(AppError::NotFound(_)) => return Ok(Lookup::CodeNeeded),
        Err(error) => return Err(error),
    };
    let owner = current.is_some_and(|c| c.partner_scope() == Some(found.partner_id));
    if !by_code && !staff && !owner {
        return Ok(Lookup::CodeNeeded);
    }
    let checked = certificates::public::check(&state.db, &found, staff || owner).await?;
    Ok(Lookup::Found(Box::new(checked)))
}

/// Anyone (no login), by the certificate's code (`CE-…`, as its QR code carries it): is it
/// genuine, and is it still valid? With its public facts, their exact signed text and seal,
/// to check independently against `/.well-known/greenchip-signing-key`. The whole
/// certificate (`full`) only for supervisors and its own partner, who may also give the
/// number. A number alone from anyone else answers 404 asking for the code. Public lookups
/// are limited per client address (429 with `Retry-After`).
#[utoipa::path(get, path = "/certificates/{number}/verify", tag = "certificates",
    params(("number" = String, Path, description = "The certificate's code, `CE-…` (its number, `2026-0042`, only for supervisors and its own partner)")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, body = PublicVerification),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No certificate has this code, or a number was given without the right to look numbers up"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "Too many lookups from this address",
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn verify(
    State(state): State<AppState>,
    current: Option<CurrentUser>,
    address: ClientAddress,
    Path(number): Path<String>,
) -> AppResult<Json<PublicVerification>> {
    match look_up(&state, current.as_ref(), &address, &number).await? {
        Lookup::Found(checked) => Ok(Json(*checked)),
        Lookup::CodeNeeded => Err(AppError::not_found(
            "give the certificate's code (CE-…, printed beside its number): a number alone is \
             not looked up",
        )),
        Lookup::Unknown => Err(AppError::not_found(
            "no certificate has this number: check what you typed",
        )),
    }
}

/// The workshop's signing keys, current first (also at `/.well-known/greenchip-signing-key`).
#[utoipa::path(get, path = "/signing-keys", tag = "certificates", security(()),
    responses((status = 200, body = [PublicKey])))]
pub async fn signing_keys(State(state): State<AppState>) -> AppResult<Json<Vec<PublicKey>>> {
    Ok(Json(certificates::keys::published(&state.db).await?))
}
