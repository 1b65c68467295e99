//! Recovery certificates: the workshop's signing keys, issued certificates (append-only: a
//! correction revokes and re-issues), the collections each covers, revocations, and the
//! language each partner receives them in.

use crate::{add_index, fk, make_append_only};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Partners {
    Table,
    Id,
    Language,
}

#[derive(DeriveIden)]
enum Collections {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Id,
    PublicKey,
    SecretKey,
    CreatedAt,
    RetiredAt,
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    Id,
    Code,
    Number,
    Year,
    Seq,
    PartnerId,
    ScopeKind,
    PeriodFrom,
    PeriodTo,
    Language,
    Snapshot,
    Hash,
    Signature,
    PublicKey,
    Pdf,
    SupersedesId,
    IssuedBy,
    IssuedAt,
    ClientKey,
}

#[derive(DeriveIden)]
enum CertificateCollections {
    Table,
    CertificateId,
    CollectionId,
}

#[derive(DeriveIden)]
enum CertificateRevocations {
    Table,
    Id,
    CertificateId,
    Reason,
    RevokedBy,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Partners::Table)
                    .add_column(string(Partners::Language).default("fr"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(pk_uuid(SigningKeys::Id))
                    .col(string_uniq(SigningKeys::PublicKey))
                    // Hex; none when the secret lives in a key file instead.
                    .col(string_null(SigningKeys::SecretKey))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(SigningKeys::RetiredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Certificates::Table)
                    .col(pk_uuid(Certificates::Id))
                    .col(string_uniq(Certificates::Code))
                    .col(string_uniq(Certificates::Number))
                    .col(integer(Certificates::Year))
                    .col(integer(Certificates::Seq))
                    .col(uuid(Certificates::PartnerId))
                    .col(string(Certificates::ScopeKind))
                    .col(date(Certificates::PeriodFrom))
                    .col(date(Certificates::PeriodTo))
                    .col(string(Certificates::Language))
                    .col(text(Certificates::Snapshot))
                    .col(string(Certificates::Hash))
                    .col(string(Certificates::Signature))
                    .col(string(Certificates::PublicKey))
                    .col(blob(Certificates::Pdf))
                    .col(uuid_null(Certificates::SupersedesId).unique_key())
                    .col(uuid(Certificates::IssuedBy))
                    .col(timestamp_with_time_zone(Certificates::IssuedAt))
                    .col(string_null(Certificates::ClientKey).unique_key())
                    .foreign_key(&mut fk(
                        (Certificates::Table, Certificates::PartnerId),
                        (Partners::Table, Partners::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Certificates::Table, Certificates::SupersedesId),
                        (Certificates::Table, Certificates::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Certificates::Table, Certificates::IssuedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "certificates_year_seq",
            Certificates::Table,
            vec![
                Certificates::Year.into_iden(),
                Certificates::Seq.into_iden(),
            ],
            true,
        )
        .await?;
        add_index(
            manager,
            "certificates_partner",
            Certificates::Table,
            vec![
                Certificates::PartnerId.into_iden(),
                Certificates::IssuedAt.into_iden(),
            ],
            false,
        )
        .await?;
        make_append_only(manager, "certificates").await?;
        manager
            .create_table(
                Table::create()
                    .table(CertificateCollections::Table)
                    .col(uuid(CertificateCollections::CertificateId))
                    .col(uuid(CertificateCollections::CollectionId))
                    .primary_key(
                        Index::create()
                            .col(CertificateCollections::CertificateId)
                            .col(CertificateCollections::CollectionId),
                    )
                    .foreign_key(&mut fk(
                        (
                            CertificateCollections::Table,
                            CertificateCollections::CertificateId,
                        ),
                        (Certificates::Table, Certificates::Id),
                    ))
                    .foreign_key(&mut fk(
                        (
                            CertificateCollections::Table,
                            CertificateCollections::CollectionId,
                        ),
                        (Collections::Table, Collections::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "certificate_collections_collection",
            CertificateCollections::Table,
            vec![CertificateCollections::CollectionId.into_iden()],
            false,
        )
        .await?;
        make_append_only(manager, "certificate_collections").await?;
        manager
            .create_table(
                Table::create()
                    .table(CertificateRevocations::Table)
                    .col(pk_uuid(CertificateRevocations::Id))
                    .col(uuid_uniq(CertificateRevocations::CertificateId))
                    .col(text(CertificateRevocations::Reason))
                    .col(uuid(CertificateRevocations::RevokedBy))
                    .col(timestamp_with_time_zone(CertificateRevocations::RevokedAt))
                    .foreign_key(&mut fk(
                        (
                            CertificateRevocations::Table,
                            CertificateRevocations::CertificateId,
                        ),
                        (Certificates::Table, Certificates::Id),
                    ))
                    .foreign_key(&mut fk(
                        (
                            CertificateRevocations::Table,
                            CertificateRevocations::RevokedBy,
                        ),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        make_append_only(manager, "certificate_revocations").await?;
        Ok(())
    }
}
