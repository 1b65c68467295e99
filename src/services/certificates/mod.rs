//! Recovery certificates (DESIGN.md section 7): issued only when everything in scope has
//! reached an end state, frozen into a signed snapshot and a PDF that never change. A
//! correction revokes a certificate and issues a new one that supersedes it.

mod cover;
pub mod facts;
pub mod keys;
pub mod public;

pub use cover::refuse_if_certified;
use cover::{lock_scope, revoked, revoked_predecessor, valid_covering};

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::Config;
use crate::db::begin_write;
use crate::domain::certificate::{self as domain, Issuer, Party, Seal, Signatory, Snapshot};
use crate::domain::codes::{Code, CodeKind};
use crate::entities::{
    certificate, certificate_collection, certificate_revocation, collection, user,
};
use crate::error::{AppError, AppResult};
use crate::render::certificate::{CertificatePdf, render};
use crate::services::events::{self, NewEvent};
use crate::services::ledger::is_unique_violation;
pub use facts::Scope;

/// What a supervisor asks to issue.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub scope: Scope,
    /// `fr` or `en`; the partner's language when not given.
    pub language: Option<String>,
    /// The signatory's role as printed; "Workshop supervisor" in the certificate's language
    /// when not given.
    pub signatory_role: Option<String>,
    /// A retried request with the same id returns the certificate the first one issued.
    pub client_id: Option<String>,
}

/// Where a certificate stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    Valid,
    Revoked {
        reason: String,
        revoked_at: DateTime<Utc>,
        revoked_by: String,
    },
    /// Revoked and replaced by a corrected certificate.
    Superseded {
        reason: String,
        revoked_at: DateTime<Utc>,
        revoked_by: String,
        /// The new certificate's number.
        by: String,
        by_code: String,
    },
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Revoked { .. } => "revoked",
            Status::Superseded { .. } => "superseded",
        }
    }
}

/// A certificate as lists and pages show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateView {
    pub code: String,
    pub number: String,
    pub partner_id: Uuid,
    pub partner: String,
    /// `collection` or `partner`.
    pub scope_kind: String,
    pub collections: Vec<String>,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub language: String,
    pub issued_at: DateTime<Utc>,
    pub issued_by: String,
    pub hash: String,
    pub status: Status,
    /// The number of the certificate this one replaced.
    pub supersedes: Option<String>,
    pub received_g: i64,
    pub copper_ingot_g: i64,
    pub data_bearing_devices: usize,
    /// True when an idempotent retry found the certificate already issued.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
}

fn signatory_role(language: &str) -> &'static str {
    if language == "fr" {
        "Responsable d'atelier"
    } else {
        "Workshop supervisor"
    }
}

/// A certificate by code (`CE-…`), number (`2026-0042`) or id.
pub async fn find(conn: &impl ConnectionTrait, reference: &str) -> AppResult<certificate::Model> {
    let reference = reference.trim();
    let query = if let Ok(id) = reference.parse::<Uuid>() {
        certificate::Entity::find_by_id(id)
    } else if let Ok(code) = Code::from_scan(reference) {
        if code.kind() != CodeKind::Certificate {
            return Err(AppError::not_found(format!("{code} is not a certificate")));
        }
        certificate::Entity::find().filter(certificate::Column::Code.eq(code.to_string()))
    } else {
        certificate::Entity::find().filter(certificate::Column::Number.eq(reference))
    };
    query
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no certificate {reference}")))
}

pub async fn status(conn: &impl ConnectionTrait, found: &certificate::Model) -> AppResult<Status> {
    let Some(revocation) = certificate_revocation::Entity::find()
        .filter(certificate_revocation::Column::CertificateId.eq(found.id))
        .one(conn)
        .await?
    else {
        return Ok(Status::Valid);
    };
    let revoked_by = user::Entity::find_by_id(revocation.revoked_by)
        .one(conn)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    let successor = certificate::Entity::find()
        .filter(certificate::Column::SupersedesId.eq(found.id))
        .one(conn)
        .await?;
    Ok(match successor {
        Some(next) => Status::Superseded {
            reason: revocation.reason,
            revoked_at: revocation.revoked_at,
            revoked_by,
            by: next.number,
            by_code: next.code,
        },
        None => Status::Revoked {
            reason: revocation.reason,
            revoked_at: revocation.revoked_at,
            revoked_by,
        },
    })
}

pub fn snapshot_of(found: &certificate::Model) -> AppResult<Snapshot> {
    serde_json::from_str(&found.snapshot).map_err(|error| {
        AppError::Unexpected(anyhow::anyhow!(
            "certificate {} holds an unreadable snapshot: {error}",
            found.number
        ))
    })
}

pub fn seal_of(found: &certificate::Model) -> Seal {
    Seal {
        hash: found.hash.clone(),
        signature: found.signature.clone(),
        public_key: found.public_key.clone(),
    }
}

pub async fn view(
    conn: &impl ConnectionTrait,
    found: &certificate::Model,
) -> AppResult<CertificateView> {
    let snapshot = snapshot_of(found)?;
    let issued_by = user::Entity::find_by_id(found.issued_by)
        .one(conn)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    Ok(CertificateView {
        code: found.code.clone(),
        number: found.number.clone(),
        partner_id: found.partner_id,
        partner: snapshot.partner.name.clone(),
        scope_kind: found.scope_kind.clone(),
        collections: snapshot
            .scope
            .collections
            .iter()
            .map(|c| c.code.clone())
            .collect(),
        period_from: found.period_from,
        period_to: found.period_to,
        language: found.language.clone(),
        issued_at: found.issued_at,
        issued_by,
        hash: found.hash.clone(),
        status: status(conn, found).await?,
        supersedes: snapshot.supersedes.clone(),
        received_g: snapshot.fate.received.mass_g,
        copper_ingot_g: snapshot.fate.copper_ingot_g,
        data_bearing_devices: snapshot.annex.len(),
        replayed: false,
    })
}

/// Certificates newest first, of one partner or all.
pub async fn list(
    conn: &impl ConnectionTrait,
    partner_id: Option<Uuid>,
) -> AppResult<Vec<CertificateView>> {
    let mut query = certificate::Entity::find()
        .order_by_desc(certificate::Column::Year)
        .order_by_desc(certificate::Column::Seq);
    if let Some(partner_id) = partner_id {
        query = query.filter(certificate::Column::PartnerId.eq(partner_id));
    }
    let mut views = Vec::new();
    for found in query.all(conn).await? {
        views.push(view(conn, &found).await?);
    }
    Ok(views)
}

/// What is refused before a scope is even read: a period ending in the future (more could
/// be received in it), and issuing without `public_url` (the QR code is sealed for good).
fn check_request(request: &IssueRequest, config: &Config) -> AppResult<()> {
    if let Scope::Partner { to, .. } = request.scope
        && to > crate::clock::now().date_naive()
    {
        return Err(AppError::invalid(
            "to",
            "a period cannot end in the future: more could still be received in it",
        ));
    }
    if config.public_base().is_none() {
        return Err(AppError::conflict(
            "public_url_missing",
            format!(
                "set public_url (GREENCHIP_PUBLIC_URL, or public_url in greenchip.toml) to the \
                 address people reach greenchip at before issuing certificates: the QR code \
                 would be sealed forever to http://{}, which works only on this machine",
                config.addr
            ),
        ));
    }
    Ok(())
}

/// What a certificate for this scope would state, and what blocks it; nothing is written.
pub async fn preview(
    conn: &impl ConnectionTrait,
    scope: Scope,
    language: &str,
) -> AppResult<(facts::Resolved, facts::Gathered)> {
    let resolved = facts::resolve(conn, scope).await?;
    let gathered = facts::gather(conn, &resolved, language).await?;
    Ok((resolved, gathered))
}

/// The next number of the year: `2026-0042`.
async fn next_seq(conn: &impl ConnectionTrait, year: i32) -> AppResult<i32> {
    let last: Option<i32> = certificate::Entity::find()
        .select_only()
        .column_as(certificate::Column::Seq.max(), "seq")
        .filter(certificate::Column::Year.eq(year))
        .into_tuple::<Option<i32>>()
        .one(conn)
        .await?
        .flatten();
    Ok(last.unwrap_or(0) + 1)
}

struct Issuing<'a> {
    config: &'a Config,
    key: &'a keys::ActiveKey,
    actor: &'a user::Model,
    supersedes: Option<&'a certificate::Model>,
    client_key: Option<String>,
}

/// Builds, seals, renders and stores one certificate inside `txn`.
async fn issue_in(
    txn: &DatabaseTransaction,
    request: &IssueRequest,
    issuing: &Issuing<'_>,
) -> AppResult<certificate::Model> {
    check_request(request, issuing.config)?;
    lock_scope(txn, &request.scope).await?;
    let resolved = facts::resolve(txn, request.scope.clone()).await?;
    let language = match request.language.as_deref().map(str::trim) {
        Some(language) if crate::services::partners::CERTIFICATE_LANGUAGES.contains(&language) => {
            language.to_string()
        }
        Some(_) => return Err(AppError::invalid("language", "must be `fr` or `en`")),
        None => resolved.partner.language.clone(),
    };
    let collection_ids: Vec<Uuid> = resolved.collections.iter().map(|c| c.id).collect();
    // A collection is covered by at most one valid certificate, whatever the scopes' kinds.
    if let Some(existing) = valid_covering(txn, &collection_ids).await?.first() {
        return Err(AppError::conflict(
            "already_certified",
            format!(
                "certificate {} already covers {} in this scope; a collection is covered by \
                 one valid certificate at most: revoke it to issue a corrected one",
                existing.number,
                if resolved.kind() == "collection" {
                    "the collection"
                } else {
                    "a collection"
                }
            ),
        ));
    }
    let orphan = match issuing.supersedes {
        Some(_) => None,
        None => revoked_predecessor(txn, &collection_ids).await?,
    };
    let supersedes = issuing.supersedes.or(orphan.as_ref());
    let gathered = facts::gather(txn, &resolved, &language).await?;
    if !gathered.blockers.is_empty() {
        return Err(AppError::Refused {
            code: "not_ready",
            detail: format!(
                "a certificate cannot be issued yet: {} thing(s) in scope are not finished",
                gathered.blockers.len()
            ),
            errors: gathered.blockers,
        });
    }
    let issued_at = Utc::now().trunc_subsecs(0);
    let year = issued_at.year();
    let seq = next_seq(txn, year).await?;
    let snapshot = assemble(
        &resolved,
        gathered,
        Heading {
            code: Code::random(CodeKind::Certificate).to_string(),
            number: format!("{year}-{seq:04}"),
            issued_at,
            language: language.clone(),
            signatory: Signatory {
                name: issuing.actor.display_name.clone(),
                role: request
                    .signatory_role
                    .as_deref()
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .unwrap_or(signatory_role(&language))
                    .to_string(),
            },
            supersedes: supersedes.map(|old| old.number.clone()),
        },
        issuing.config,
    );
    let Sealed {
        snapshot,
        canonical,
        seal,
        pdf,
    } = seal_and_render(snapshot, issuing.key, issuing.config)?;
    let code = snapshot.code.clone();
    let created = certificate::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        number: Set(snapshot.number.clone()),
        year: Set(year),
        seq: Set(seq),
        partner_id: Set(resolved.partner.id),
        scope_kind: Set(resolved.kind().to_string()),
        period_from: Set(resolved.from),
        period_to: Set(resolved.to),
        language: Set(language),
        snapshot: Set(canonical),
        hash: Set(seal.hash),
        signature: Set(seal.signature),
        public_key: Set(seal.public_key),
        pdf: Set(pdf),
        supersedes_id: Set(supersedes.map(|old| old.id)),
        issued_by: Set(issuing.actor.id),
        issued_at: Set(issued_at),
        client_key: Set(issuing.client_key.clone()),
    }
    .insert(txn)
    .await?;
    for covered in &resolved.collections {
        certificate_collection::ActiveModel {
            certificate_id: Set(created.id),
            collection_id: Set(covered.id),
        }
        .insert(txn)
        .await?;
    }
    public::sign(txn, &created, issuing.key).await?;
    events::record(
        txn,
        NewEvent::new("certificate.issued", Some(issuing.actor.id))
            .subject(created.code.clone())
            .subject(created.number.clone())
            .payload(json!({
                "certificate_id": created.id,
                "partner_id": created.partner_id,
                "hash": created.hash,
                "supersedes": snapshot.supersedes,
            })),
    )
    .await?;
    Ok(created)
}

/// What heads a certificate besides the facts of its scope.
pub struct Heading {
    pub code: String,
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub language: String,
    pub signatory: Signatory,
    pub supersedes: Option<String>,
}

/// The snapshot of a scope's facts under a heading, with the issuer from the configuration.
pub fn assemble(
    resolved: &facts::Resolved,
    gathered: facts::Gathered,
    heading: Heading,
    config: &Config,
) -> Snapshot {
    Snapshot {
        format: domain::FORMAT,
        code: heading.code,
        number: heading.number,
        declaration: domain::declaration(
            &heading.language,
            &config.workshop_name,
            &resolved.partner.name,
        ),
        language: heading.language,
        issued_at: heading
            .issued_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        issuer: Issuer {
            name: config.workshop_name.clone(),
            address: config.workshop_address.clone(),
            permit_number: config.workshop_permit.clone(),
        },
        partner: Party {
            name: resolved.partner.name.clone(),
            address: resolved.partner.address.clone().unwrap_or_default(),
        },
        scope: gathered.scope,
        received: gathered.received,
        fate: gathered.fate,
        annex: gathered.annex,
        signatory: heading.signatory,
        supersedes: heading.supersedes,
    }
}

/// A certificate ready to store: its facts, the exact signed text, the seal and the PDF.
pub struct Sealed {
    pub snapshot: Snapshot,
    pub canonical: String,
    pub seal: Seal,
    pub pdf: Vec<u8>,
}

/// Freezes a snapshot into its canonical text, signs it and renders the PDF.
pub fn seal_and_render(
    snapshot: Snapshot,
    key: &keys::ActiveKey,
    config: &Config,
) -> AppResult<Sealed> {
    let canonical = snapshot
        .canonical()
        .map_err(|e| AppError::Unexpected(e.into()))?;
    let seal = domain::seal(&canonical, &key.secret);
    let verify_url = config.verify_url(&snapshot.code);
    let pdf = render(&CertificatePdf {
        snapshot: &snapshot,
        canonical: &canonical,
        seal: &seal,
        secret: &key.secret,
        verify_url: &verify_url,
        status_note: None,
    })
    .map_err(|error| AppError::Unexpected(anyhow::anyhow!("certificate PDF: {error}")))?;
    Ok(Sealed {
        snapshot,
        canonical,
        seal,
        pdf,
    })
}

/// Retries a numbering collision (two supervisors issuing at once) a few times.
const ISSUE_ATTEMPTS: usize = 5;

/// Issues a certificate, or refuses with the list of what is still open.
pub async fn issue(
    db: &DatabaseConnection,
    config: &Config,
    request: IssueRequest,
    actor: &user::Model,
) -> AppResult<CertificateView> {
    let client_key = request
        .client_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| format!("{}:{id}", actor.id));
    if let Some(key) = &client_key
        && let Some(done) = replayed(db, key).await?
    {
        return Ok(done);
    }
    let key = keys::active(db, config).await?;
    let issuing = Issuing {
        config,
        key: &key,
        actor,
        supersedes: None,
        client_key: client_key.clone(),
    };
    for attempt in 1..=ISSUE_ATTEMPTS {
        let txn = begin_write(db).await?;
        match issue_in(&txn, &request, &issuing).await {
            Ok(created) => {
                txn.commit().await?;
                return view(db, &created).await;
            }
            Err(AppError::Database(error)) if is_unique_violation(&error) => {
                drop(txn);
                if let Some(key) = &client_key
                    && let Some(done) = replayed(db, key).await?
                {
                    return Ok(done);
                }
                if attempt == ISSUE_ATTEMPTS {
                    return Err(AppError::Database(error));
                }
            }
            Err(error) => return Err(error),
        }
    }
    unreachable!("the last attempt returns")
}

async fn replayed(db: &DatabaseConnection, key: &str) -> AppResult<Option<CertificateView>> {
    let Some(found) = certificate::Entity::find()
        .filter(certificate::Column::ClientKey.eq(key))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let mut done = view(db, &found).await?;
    done.replayed = true;
    Ok(Some(done))
}

/// Revokes a certificate with a reason and, when `reissue`, issues in the same transaction
/// a corrected one over the same scope that supersedes it. Returns the new certificate, or
/// the revoked one.
pub async fn revoke(
    db: &DatabaseConnection,
    config: &Config,
    reference: &str,
    reason: &str,
    reissue: bool,
    actor: &user::Model,
) -> AppResult<CertificateView> {
    let reason = reason.trim();
    if reason.chars().count() < 3 {
        return Err(AppError::invalid("reason", "say why it is revoked"));
    }
    if reason.chars().count() > 2_000 {
        return Err(AppError::invalid("reason", "at most 2,000 characters"));
    }
    let key = keys::active(db, config).await?;
    let txn = begin_write(db).await?;
    let old = find(&txn, reference).await?;
    if status(&txn, &old).await? != Status::Valid {
        return Err(AppError::conflict(
            "already_revoked",
            format!("certificate {} is already revoked", old.number),
        ));
    }
    certificate_revocation::ActiveModel {
        id: Set(Uuid::now_v7()),
        certificate_id: Set(old.id),
        reason: Set(reason.to_string()),
        revoked_by: Set(actor.id),
        revoked_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await
    .map_err(|error| {
        if is_unique_violation(&error) {
            AppError::conflict(
                "already_revoked",
                format!("certificate {} is already revoked", old.number),
            )
        } else {
            error.into()
        }
    })?;
    events::record(
        &txn,
        NewEvent::new("certificate.revoked", Some(actor.id))
            .subject(old.code.clone())
            .subject(old.number.clone())
            .payload(json!({ "certificate_id": old.id, "reason": reason, "reissue": reissue })),
    )
    .await?;
    let result = if reissue {
        let collections = certificate_collection::Entity::find()
            .filter(certificate_collection::Column::CertificateId.eq(old.id))
            .all(&txn)
            .await?;
        let scope = match (old.scope_kind.as_str(), collections.as_slice()) {
            ("collection", [only]) => Scope::Collection(only.collection_id),
            _ => Scope::Partner {
                partner_id: old.partner_id,
                from: old.period_from,
                to: old.period_to,
            },
        };
        let request = IssueRequest {
            scope,
            language: Some(old.language.clone()),
            signatory_role: None,
            client_id: None,
        };
        let issuing = Issuing {
            config,
            key: &key,
            actor,
            supersedes: Some(&old),
            client_key: None,
        };
        issue_in(&txn, &request, &issuing).await?
    } else {
        old
    };
    txn.commit().await?;
    view(db, &result).await
}

/// What checking a stored certificate finds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    /// The snapshot hashes to the stored hash, the signature matches, and the key is the
    /// workshop's.
    pub genuine: bool,
    /// Why it is not genuine, when it is not.
    pub problem: Option<String>,
    pub status: Status,
    pub number: String,
    pub code: String,
    /// The facts as issued (when readable).
    pub snapshot: Option<Snapshot>,
    /// The exact signed text.
    pub canonical: String,
    pub seal: Seal,
}

/// Checks a stored certificate's seal against its snapshot and the workshop's keys.
pub async fn verify(
    conn: &impl ConnectionTrait,
    found: &certificate::Model,
) -> AppResult<Verification> {
    let seal = seal_of(found);
    let mut problem = domain::verify(&found.snapshot, &seal)
        .err()
        .map(|e| e.to_string());
    let snapshot: Option<Snapshot> = serde_json::from_str(&found.snapshot).ok();
    if problem.is_none() && !keys::is_ours(conn, &found.public_key).await? {
        problem = Some("it was signed by a key that is not this workshop's".into());
    }
    if problem.is_none()
        && snapshot
            .as_ref()
            .is_none_or(|s| s.number != found.number || s.code != found.code)
    {
        problem = Some("the snapshot names another certificate".into());
    }
    Ok(Verification {
        genuine: problem.is_none(),
        problem,
        status: status(conn, found).await?,
        number: found.number.clone(),
        code: found.code.clone(),
        snapshot,
        canonical: found.snapshot.clone(),
        seal,
    })
}

/// A collection that may receive a certificate now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ready {
    pub collection: String,
    pub partner_id: Uuid,
    pub partner: String,
    pub received_on: NaiveDate,
    pub items: usize,
    pub received_g: i64,
}

/// Closed collections no valid certificate covers yet and that nothing blocks, oldest first.
pub async fn ready(conn: &impl ConnectionTrait, limit: usize) -> AppResult<Vec<Ready>> {
    let covered = sea_orm::sea_query::Query::select()
        .column(certificate_collection::Column::CollectionId)
        .from(certificate_collection::Entity)
        .and_where(
            Expr::col(certificate_collection::Column::CertificateId).not_in_subquery(revoked()),
        )
        .to_owned();
    // Collections with an item not yet in an end state cannot be ready: left out in SQL. The
    // states are named rather than excluded, so the `items_state` index finds the few.
    use crate::domain::lifecycle::ItemState;
    let unfinished = sea_orm::sea_query::Query::select()
        .column(crate::entities::item::Column::CollectionId)
        .from(crate::entities::item::Entity)
        .and_where(
            Expr::col(crate::entities::item::Column::State).is_in(
                ItemState::ALL
                    .iter()
                    .filter(|state| !state.is_final())
                    .map(|state| state.as_str()),
            ),
        )
        .to_owned();
    let candidates = collection::Entity::find()
        .filter(collection::Column::State.eq("closed"))
        .filter(collection::Column::Id.not_in_subquery(covered))
        .filter(collection::Column::Id.not_in_subquery(unfinished))
        .order_by_asc(collection::Column::ReceivedOn)
        .limit(limit as u64 * 4)
        .all(conn)
        .await?;
    // The blocker most often met, checked for all candidates in one query first: a
    // data-bearing item with no successful, verified sanitisation. The full gathering below
    // would refuse these collections anyway; it then runs only for the others.
    use crate::entities::item;
    let unsanitised: std::collections::HashSet<Uuid> = if candidates.is_empty() {
        std::collections::HashSet::new()
    } else {
        item::Entity::find()
            .select_only()
            .column(item::Column::CollectionId)
            .distinct()
            .filter(item::Column::CollectionId.is_in(candidates.iter().map(|c| c.id)))
            .filter(item::Column::DataBearing.eq(true))
            .filter(Expr::cust(
                "NOT EXISTS (SELECT 1 FROM sanitisation_records r \
                 WHERE r.item_id = items.id AND r.success AND r.verified)",
            ))
            .into_tuple::<Uuid>()
            .all(conn)
            .await?
            .into_iter()
            .collect()
    };
    let mut found = Vec::new();
    for candidate in candidates
        .into_iter()
        .filter(|c| !unsanitised.contains(&c.id))
    {
        let resolved = facts::resolve(conn, Scope::Collection(candidate.id)).await?;
        let gathered = facts::gather(conn, &resolved, "en").await?;
        if !gathered.blockers.is_empty() {
            continue;
        }
        found.push(Ready {
            collection: candidate.code,
            partner_id: resolved.partner.id,
            partner: resolved.partner.name,
            received_on: candidate.received_on,
            items: gathered.received.iter().map(|l| l.count as usize).sum(),
            received_g: gathered.fate.received.mass_g,
        });
        if found.len() == limit {
            break;
        }
    }
    Ok(found)
}
