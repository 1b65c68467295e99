//! Which valid certificates cover which collections: a collection is covered by one at most,
//! and while one does, nothing it states about the collection may change (the guard every
//! write to a collection's items calls). On PostgreSQL the collections' rows are locked so
//! that an issue and a change, or two issues, take turns.

use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, ExprTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::Scope;
use crate::entities::{certificate, certificate_collection, certificate_revocation, collection};
use crate::error::{AppError, AppResult};

/// The valid (not revoked) certificates covering any of these collections, oldest first.
pub(super) async fn valid_covering(
    conn: &impl ConnectionTrait,
    collection_ids: &[Uuid],
) -> AppResult<Vec<certificate::Model>> {
    if collection_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(certificate::Entity::find()
        .filter(certificate::Column::Id.in_subquery(covering_any(collection_ids)))
        .filter(certificate::Column::Id.not_in_subquery(revoked()))
        .order_by_asc(certificate::Column::IssuedAt)
        .order_by_asc(certificate::Column::Id)
        .all(conn)
        .await?)
}

/// `SELECT certificate_id` of the certificates covering any of these collections.
fn covering_any(collection_ids: &[Uuid]) -> SelectStatement {
    Query::select()
        .column(certificate_collection::Column::CertificateId)
        .from(certificate_collection::Entity)
        .and_where(
            Expr::col(certificate_collection::Column::CollectionId)
                .is_in(collection_ids.iter().copied()),
        )
        .to_owned()
}

/// `SELECT certificate_id` of every revoked certificate.
pub(super) fn revoked() -> SelectStatement {
    Query::select()
        .column(certificate_revocation::Column::CertificateId)
        .from(certificate_revocation::Entity)
        .to_owned()
}

/// Reads collections for a write that depends on what certifies them. On PostgreSQL their
/// rows are locked `FOR UPDATE` in id order: issuing locks its scope's rows and every
/// change to a collection's items goes through [`refuse_if_certified`], which locks its
/// collection's row, so an issue and a change (or two overlapping issues) wait for each
/// other and the second sees what the first committed. On SQLite the write transaction
/// (`BEGIN IMMEDIATE`) already excludes other writers.
async fn lock_collections(
    txn: &DatabaseTransaction,
    query: sea_orm::Select<collection::Entity>,
) -> AppResult<Vec<collection::Model>> {
    let mut query = query.order_by_asc(collection::Column::Id);
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    Ok(query.all(txn).await?)
}

pub(super) async fn lock_scope(txn: &DatabaseTransaction, scope: &Scope) -> AppResult<()> {
    let query = match scope {
        Scope::Collection(id) => collection::Entity::find().filter(collection::Column::Id.eq(*id)),
        Scope::Partner {
            partner_id,
            from,
            to,
        } => collection::Entity::find()
            .filter(collection::Column::PartnerId.eq(*partner_id))
            .filter(collection::Column::ReceivedOn.gte(*from))
            .filter(collection::Column::ReceivedOn.lte(*to)),
    };
    lock_collections(txn, query).await?;
    Ok(())
}

/// Refuses, with `409 certified`, a write that would change what a valid certificate states
/// about a collection: reopening it, or changing its items' masses, fates or sanitisation.
/// A certificate is the workshop's signed word; the way to a new state is to revoke it with a
/// reason, change what must change, and issue again. Every such write calls this inside its
/// own transaction, before writing.
pub async fn refuse_if_certified(txn: &DatabaseTransaction, collection_id: Uuid) -> AppResult<()> {
    let this = || collection::Entity::find().filter(collection::Column::Id.eq(collection_id));
    // On SQLite nothing needs locking: the collection is read only to name it in a refusal,
    // so the usual write (nothing certified) costs one query.
    if txn.get_database_backend() == DbBackend::Postgres {
        lock_collections(txn, this()).await?;
    }
    let Some(covering) = valid_covering(txn, &[collection_id])
        .await?
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let code = this()
        .one(txn)
        .await?
        .map_or_else(|| collection_id.to_string(), |c| c.code);
    Err(AppError::conflict(
        "certified",
        format!(
            "collection {code} is covered by certificate {number}, which is valid: nothing it \
             states may change. Revoke certificate {number} with a reason (without a reissue), \
             then reopen the collection; the certificate issued afterwards covers the new state",
            number = covering.number
        ),
    ))
}

/// The revoked certificate with no successor that a new certificate over these collections
/// replaces: the only one covering any of them, and only when the new scope covers all it
/// covered. (Revoked without a reissue, then the collection changed and is certified again.)
pub(super) async fn revoked_predecessor(
    conn: &impl ConnectionTrait,
    collection_ids: &[Uuid],
) -> AppResult<Option<certificate::Model>> {
    if collection_ids.is_empty() {
        return Ok(None);
    }
    let succeeded = Query::select()
        .column(certificate::Column::SupersedesId)
        .from(certificate::Entity)
        .and_where(Expr::col(certificate::Column::SupersedesId).is_not_null())
        .to_owned();
    let mut orphans = certificate::Entity::find()
        .filter(certificate::Column::Id.in_subquery(covering_any(collection_ids)))
        .filter(certificate::Column::Id.in_subquery(revoked()))
        .filter(certificate::Column::Id.not_in_subquery(succeeded))
        .all(conn)
        .await?;
    if orphans.len() != 1 {
        return Ok(None);
    }
    let orphan = orphans.remove(0);
    let covered = certificate_collection::Entity::find()
        .filter(certificate_collection::Column::CertificateId.eq(orphan.id))
        .all(conn)
        .await?;
    Ok(covered
        .iter()
        .all(|c| collection_ids.contains(&c.collection_id))
        .then_some(orphan))
}
