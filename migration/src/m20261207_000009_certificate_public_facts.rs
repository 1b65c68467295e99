//! A certificate's public facts (docs/certificates.md): the part anyone holding its code may
//! read, signed on its own at issue (or, for certificates issued before, at the next start).
//! Append-only like the certificates; one row per certificate, so a second signer (another
//! instance backfilling at the same time) inserts nothing.

use crate::{fk, make_append_only};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Certificates {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CertificatePublicFacts {
    Table,
    CertificateId,
    Canonical,
    Hash,
    Signature,
    PublicKey,
    SignedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CertificatePublicFacts::Table)
                    .col(pk_uuid(CertificatePublicFacts::CertificateId))
                    .col(text(CertificatePublicFacts::Canonical))
                    .col(string(CertificatePublicFacts::Hash))
                    .col(string(CertificatePublicFacts::Signature))
                    .col(string(CertificatePublicFacts::PublicKey))
                    .col(timestamp_with_time_zone(CertificatePublicFacts::SignedAt))
                    .foreign_key(&mut fk(
                        (
                            CertificatePublicFacts::Table,
                            CertificatePublicFacts::CertificateId,
                        ),
                        (Certificates::Table, Certificates::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        make_append_only(manager, "certificate_public_facts").await
    }
}
