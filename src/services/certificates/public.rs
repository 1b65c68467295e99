//! A certificate's public facts (`domain::public_facts`): signed and stored at issue, in the
//! issuing transaction; for certificates issued before they existed, derived from the stored
//! snapshot and signed with the active key at start-up. Every write is an insert-or-ignore
//! keyed by the certificate, so instances starting together sign each certificate once (the
//! loser's row is simply not inserted) and a restart signs nothing again.
//!
//! What the public sees is decided here and in `domain::public_facts`, not in the handlers:
//! the facts, their seal, whether the whole certificate is genuine, and the status without
//! the revocation's free-text reason or who revoked it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Status, Verification, keys, seal_of, snapshot_of};
use crate::domain::certificate::{self as domain, Seal};
use crate::domain::public_facts::PublicFacts;
use crate::entities::{certificate, certificate_public_facts as facts_table};
use crate::error::{AppError, AppResult};

/// Signs the public facts of a stored certificate and stores them, unless they already are.
pub async fn sign(
    conn: &impl ConnectionTrait,
    found: &certificate::Model,
    key: &keys::ActiveKey,
) -> AppResult<()> {
    let snapshot = snapshot_of(found)?;
    let facts = PublicFacts::of(&snapshot, &found.hash);
    let canonical = facts
        .canonical()
        .map_err(|e| AppError::Unexpected(e.into()))?;
    let seal = domain::seal(&canonical, &key.secret);
    facts_table::Entity::insert(facts_table::ActiveModel {
        certificate_id: Set(found.id),
        canonical: Set(canonical),
        hash: Set(seal.hash),
        signature: Set(seal.signature),
        public_key: Set(seal.public_key),
        signed_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(facts_table::Column::CertificateId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Signs the public facts of every certificate that has none (issued before they existed).
/// Answers how many were signed here. Idempotent; safe with several instances.
pub async fn backfill(db: &DatabaseConnection, key: &keys::ActiveKey) -> AppResult<usize> {
    let missing = certificate::Entity::find()
        .filter(
            certificate::Column::Id.not_in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(facts_table::Column::CertificateId)
                    .from(facts_table::Entity)
                    .to_owned(),
            ),
        )
        .all(db)
        .await?;
    for found in &missing {
        sign(db, found, key).await?;
    }
    if !missing.is_empty() {
        tracing::info!(
            certificates = missing.len(),
            "signed the public facts of certificates issued before they existed"
        );
    }
    Ok(missing.len())
}

/// Where a certificate stands, as the public may know it: no reason, no names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PublicStatus {
    Valid,
    Revoked {
        revoked_at: DateTime<Utc>,
    },
    /// Revoked and replaced by a corrected certificate.
    Superseded {
        revoked_at: DateTime<Utc>,
        /// The new certificate's number and code.
        by: String,
        by_code: String,
    },
}

impl From<&Status> for PublicStatus {
    fn from(status: &Status) -> PublicStatus {
        match status {
            Status::Valid => PublicStatus::Valid,
            Status::Revoked { revoked_at, .. } => PublicStatus::Revoked {
                revoked_at: *revoked_at,
            },
            Status::Superseded {
                revoked_at,
                by,
                by_code,
                ..
            } => PublicStatus::Superseded {
                revoked_at: *revoked_at,
                by: by.clone(),
                by_code: by_code.clone(),
            },
        }
    }
}

/// A certificate checked for the public: its signed public facts, their seal, and the
/// status beside them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicVerification {
    /// The whole certificate's stored snapshot still matches its seal, and the public facts
    /// match theirs, both signed by a key of this workshop.
    pub genuine: bool,
    /// Why it is not genuine, when it is not.
    pub problem: Option<String>,
    /// The live status: not signed (it changes after issue), served beside the facts.
    pub status: PublicStatus,
    pub number: String,
    pub code: String,
    /// The public facts as signed (when readable).
    pub facts: Option<PublicFacts>,
    /// The exact signed text of the public facts: check `seal.signature` over its UTF-8
    /// bytes with `seal.public_key`, one of `/.well-known/greenchip-signing-key`.
    pub canonical: String,
    pub seal: Option<Seal>,
    /// The whole certificate's check, with its snapshot and the revocation's reason: only
    /// for the workshop's supervisors and the certificate's own partner.
    pub full: Option<Verification>,
}

/// Checks a certificate for the public: genuine when the whole certificate's check
/// (`certificates::verify`) passes and the public facts' seal does too. With `reveal`, the
/// whole check goes with it.
pub async fn check(
    conn: &impl ConnectionTrait,
    found: &certificate::Model,
    reveal: bool,
) -> AppResult<PublicVerification> {
    let full = super::verify(conn, found).await?;
    let stored = facts_table::Entity::find_by_id(found.id).one(conn).await?;
    let mut problem = full.problem.clone();
    let (facts, canonical, seal) = match stored {
        Some(stored) => {
            let seal = Seal {
                hash: stored.hash,
                signature: stored.signature,
                public_key: stored.public_key,
            };
            let facts: Option<PublicFacts> = serde_json::from_str(&stored.canonical).ok();
            if problem.is_none() {
                problem =
                    public_problem(conn, found, &stored.canonical, &seal, facts.as_ref()).await?;
            }
            (facts, stored.canonical, Some(seal))
        }
        None => {
            problem.get_or_insert_with(|| "its public facts were never signed".into());
            (None, String::new(), None)
        }
    };
    Ok(PublicVerification {
        genuine: problem.is_none(),
        problem,
        status: PublicStatus::from(&full.status),
        number: found.number.clone(),
        code: found.code.clone(),
        facts,
        canonical,
        seal,
        full: reveal.then_some(full),
    })
}

async fn public_problem(
    conn: &impl ConnectionTrait,
    found: &certificate::Model,
    text: &str,
    seal: &Seal,
    facts: Option<&PublicFacts>,
) -> AppResult<Option<String>> {
    if let Err(tampered) = domain::verify(text, seal) {
        return Ok(Some(format!("public facts: {tampered}")));
    }
    if !keys::is_ours(conn, &seal.public_key).await? {
        return Ok(Some(
            "its public facts were signed by a key that is not this workshop's".into(),
        ));
    }
    let whole = seal_of(found);
    if facts.is_none_or(|f| {
        f.number != found.number || f.code != found.code || f.snapshot_hash != whole.hash
    }) {
        return Ok(Some("its public facts name another certificate".into()));
    }
    Ok(None)
}
