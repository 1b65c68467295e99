//! The mass ledger: materials, partners and collections it attributes to, holders with their
//! balances and compositions, operations and movements (append-only).

use crate::{add_index, fk};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Materials {
    Table,
    Id,
    Code,
    NameEn,
    NameFr,
    Family,
    EwcCode,
    Hazardous,
    Handling,
    Active,
}

#[derive(DeriveIden)]
enum Partners {
    Table,
    Id,
    Name,
    Kind,
    Address,
    Contact,
    Notes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Collections {
    Table,
    Id,
    Code,
    PartnerId,
    ReceivedOn,
    Place,
    Reference,
    ReceivedBy,
    Notes,
    State,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Holders {
    Table,
    Id,
    Kind,
    Code,
    AccountKey,
    Account,
    MaterialId,
    CollectionId,
    Label,
    BalanceG,
    Version,
    CreatedAt,
}

#[derive(DeriveIden)]
enum HolderCompositions {
    Table,
    HolderId,
    CollectionId,
    MassG,
}

#[derive(DeriveIden)]
enum Operations {
    Table,
    Id,
    Kind,
    ActorId,
    StationId,
    At,
    IdempotencyKey,
    Reason,
    CorrectsId,
    EventId,
    Payload,
}

#[derive(DeriveIden)]
enum Movements {
    Table,
    Id,
    OperationId,
    Seq,
    FromHolderId,
    ToHolderId,
    MassG,
    Parts,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
}

const MATERIALS_CSV: &str = include_str!("../../data/materials.csv");

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Materials::Table)
                    .col(pk_uuid(Materials::Id))
                    .col(string_uniq(Materials::Code))
                    .col(string(Materials::NameEn))
                    .col(string(Materials::NameFr))
                    .col(string(Materials::Family))
                    .col(string_null(Materials::EwcCode))
                    .col(boolean(Materials::Hazardous).default(false))
                    .col(text_null(Materials::Handling))
                    .col(boolean(Materials::Active).default(true))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Partners::Table)
                    .col(pk_uuid(Partners::Id))
                    .col(string(Partners::Name))
                    .col(string(Partners::Kind))
                    .col(text_null(Partners::Address))
                    .col(text_null(Partners::Contact))
                    .col(text_null(Partners::Notes))
                    .col(timestamp_with_time_zone(Partners::CreatedAt))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "partners_name",
            Partners::Table,
            vec![Partners::Name.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Collections::Table)
                    .col(pk_uuid(Collections::Id))
                    .col(string_uniq(Collections::Code))
                    .col(uuid(Collections::PartnerId))
                    .col(date(Collections::ReceivedOn))
                    .col(text_null(Collections::Place))
                    .col(string_null(Collections::Reference))
                    .col(uuid_null(Collections::ReceivedBy))
                    .col(text_null(Collections::Notes))
                    .col(string(Collections::State).default("open"))
                    .col(timestamp_with_time_zone(Collections::CreatedAt))
                    .foreign_key(&mut fk(
                        (Collections::Table, Collections::PartnerId),
                        (Partners::Table, Partners::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Collections::Table, Collections::ReceivedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "collections_partner",
            Collections::Table,
            vec![
                Collections::PartnerId.into_iden(),
                Collections::ReceivedOn.into_iden(),
            ],
            false,
        )
        .await?;
        add_index(
            manager,
            "collections_received_on",
            Collections::Table,
            vec![Collections::ReceivedOn.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Holders::Table)
                    .col(pk_uuid(Holders::Id))
                    .col(string(Holders::Kind))
                    .col(string_null(Holders::Code).unique_key())
                    .col(string_null(Holders::AccountKey).unique_key())
                    .col(string_null(Holders::Account))
                    .col(uuid_null(Holders::MaterialId))
                    .col(uuid_null(Holders::CollectionId))
                    .col(string(Holders::Label))
                    .col(big_integer(Holders::BalanceG).default(0))
                    .col(big_integer(Holders::Version).default(0))
                    .col(timestamp_with_time_zone(Holders::CreatedAt))
                    .foreign_key(&mut fk(
                        (Holders::Table, Holders::MaterialId),
                        (Materials::Table, Materials::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Holders::Table, Holders::CollectionId),
                        (Collections::Table, Collections::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "holders_kind_material",
            Holders::Table,
            vec![Holders::Kind.into_iden(), Holders::MaterialId.into_iden()],
            false,
        )
        .await?;
        add_index(
            manager,
            "holders_collection",
            Holders::Table,
            vec![Holders::CollectionId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(HolderCompositions::Table)
                    .col(uuid(HolderCompositions::HolderId))
                    .col(uuid(HolderCompositions::CollectionId))
                    .col(big_integer(HolderCompositions::MassG))
                    .primary_key(
                        Index::create()
                            .col(HolderCompositions::HolderId)
                            .col(HolderCompositions::CollectionId),
                    )
                    .foreign_key(&mut fk(
                        (HolderCompositions::Table, HolderCompositions::HolderId),
                        (Holders::Table, Holders::Id),
                    ))
                    .foreign_key(&mut fk(
                        (HolderCompositions::Table, HolderCompositions::CollectionId),
                        (Collections::Table, Collections::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "holder_compositions_collection",
            HolderCompositions::Table,
            vec![HolderCompositions::CollectionId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Operations::Table)
                    .col(pk_uuid(Operations::Id))
                    .col(string(Operations::Kind))
                    .col(uuid_null(Operations::ActorId))
                    .col(uuid_null(Operations::StationId))
                    .col(timestamp_with_time_zone(Operations::At))
                    .col(string_null(Operations::IdempotencyKey).unique_key())
                    .col(text_null(Operations::Reason))
                    .col(uuid_null(Operations::CorrectsId).unique_key())
                    .col(uuid(Operations::EventId))
                    .col(json_binary(Operations::Payload))
                    .foreign_key(&mut fk(
                        (Operations::Table, Operations::ActorId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Operations::Table, Operations::CorrectsId),
                        (Operations::Table, Operations::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Operations::Table, Operations::EventId),
                        (Events::Table, Events::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "operations_at",
            Operations::Table,
            vec![Operations::At.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Movements::Table)
                    .col(pk_uuid(Movements::Id))
                    .col(uuid(Movements::OperationId))
                    .col(integer(Movements::Seq))
                    .col(uuid(Movements::FromHolderId))
                    .col(uuid(Movements::ToHolderId))
                    .col(big_integer(Movements::MassG))
                    .col(json_binary(Movements::Parts))
                    .foreign_key(&mut fk(
                        (Movements::Table, Movements::OperationId),
                        (Operations::Table, Operations::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Movements::Table, Movements::FromHolderId),
                        (Holders::Table, Holders::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Movements::Table, Movements::ToHolderId),
                        (Holders::Table, Holders::Id),
                    ))
                    .check(Expr::col(Movements::MassG).gt(0))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "movements_operation",
            Movements::Table,
            vec![
                Movements::OperationId.into_iden(),
                Movements::Seq.into_iden(),
            ],
            false,
        )
        .await?;
        add_index(
            manager,
            "movements_from",
            Movements::Table,
            vec![Movements::FromHolderId.into_iden()],
            false,
        )
        .await?;
        add_index(
            manager,
            "movements_to",
            Movements::Table,
            vec![Movements::ToHolderId.into_iden()],
            false,
        )
        .await?;

        // Operations and movements are history: append-only, like events.
        for table in ["operations", "movements"] {
            crate::make_append_only(manager, table).await?;
        }

        seed_materials(manager).await
    }
}

/// The starting catalogue (shared/data/materials.csv); admins edit it afterwards.
async fn seed_materials(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut insert = Query::insert()
        .into_table(Materials::Table)
        .columns([
            Materials::Id,
            Materials::Code,
            Materials::NameEn,
            Materials::NameFr,
            Materials::Family,
            Materials::EwcCode,
            Materials::Hazardous,
            Materials::Handling,
        ])
        .to_owned();
    for line in MATERIALS_CSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [
            code,
            name_en,
            name_fr,
            family,
            ewc_code,
            hazardous,
            handling,
        ] = fields[..]
        else {
            return Err(DbErr::Migration(format!(
                "materials.csv: cannot read “{line}”"
            )));
        };
        let optional = |text: &str| (!text.is_empty()).then(|| text.to_string());
        insert.values_panic([
            uuid::Uuid::now_v7().into(),
            code.into(),
            name_en.into(),
            name_fr.into(),
            family.into(),
            optional(ewc_code).into(),
            (hazardous == "yes").into(),
            optional(handling).into(),
        ]);
    }
    manager.exec_stmt(insert).await
}
