//! Material flows: lots (bins, bags, pallets and ingots), melts with their furnace notes,
//! downstream processors and shipments. Lots and melts are ledger holders under the same id;
//! their balances and compositions live in the ledger, never here.

use crate::{add_index, fk, make_append_only};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Holders {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Materials {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Stations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Operations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Melts {
    Table,
    Id,
    Code,
    StationId,
    State,
    StartedBy,
    StartedAt,
    FinishedAt,
    ClientKey,
}

#[derive(DeriveIden)]
enum MeltNotes {
    Table,
    Id,
    MeltId,
    TemperatureC,
    Note,
    AuthorId,
    At,
}

#[derive(DeriveIden)]
enum Lots {
    Table,
    Id,
    Code,
    MaterialId,
    StationId,
    State,
    TareG,
    Pieces,
    MeltId,
    OpenedBy,
    OpenedAt,
    ClosedAt,
    ClientKey,
}

#[derive(DeriveIden)]
enum Processors {
    Table,
    Id,
    Name,
    Address,
    PermitNumber,
    Families,
    HazardousMaterials,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Shipments {
    Table,
    Id,
    Code,
    ProcessorId,
    ShippedOn,
    TransportDocument,
    Carrier,
    OperationId,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Melts::Table)
                    .col(pk_uuid(Melts::Id))
                    .col(string_uniq(Melts::Code))
                    .col(uuid(Melts::StationId))
                    .col(string(Melts::State))
                    .col(uuid(Melts::StartedBy))
                    .col(timestamp_with_time_zone(Melts::StartedAt))
                    .col(timestamp_with_time_zone_null(Melts::FinishedAt))
                    .col(string_null(Melts::ClientKey).unique_key())
                    .foreign_key(&mut fk(
                        (Melts::Table, Melts::Id),
                        (Holders::Table, Holders::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Melts::Table, Melts::StationId),
                        (Stations::Table, Stations::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Melts::Table, Melts::StartedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MeltNotes::Table)
                    .col(pk_uuid(MeltNotes::Id))
                    .col(uuid(MeltNotes::MeltId))
                    .col(integer_null(MeltNotes::TemperatureC))
                    .col(text(MeltNotes::Note))
                    .col(uuid(MeltNotes::AuthorId))
                    .col(timestamp_with_time_zone(MeltNotes::At))
                    .foreign_key(&mut fk(
                        (MeltNotes::Table, MeltNotes::MeltId),
                        (Melts::Table, Melts::Id),
                    ))
                    .foreign_key(&mut fk(
                        (MeltNotes::Table, MeltNotes::AuthorId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "melt_notes_melt",
            MeltNotes::Table,
            vec![MeltNotes::MeltId.into_iden(), MeltNotes::At.into_iden()],
            false,
        )
        .await?;
        make_append_only(manager, "melt_notes").await?;
        manager
            .create_table(
                Table::create()
                    .table(Lots::Table)
                    .col(pk_uuid(Lots::Id))
                    .col(string_uniq(Lots::Code))
                    .col(uuid(Lots::MaterialId))
                    .col(uuid_null(Lots::StationId))
                    .col(string(Lots::State))
                    .col(big_integer_null(Lots::TareG))
                    .col(integer_null(Lots::Pieces))
                    .col(uuid_null(Lots::MeltId))
                    .col(uuid_null(Lots::OpenedBy))
                    .col(timestamp_with_time_zone(Lots::OpenedAt))
                    .col(timestamp_with_time_zone_null(Lots::ClosedAt))
                    .col(string_null(Lots::ClientKey).unique_key())
                    .foreign_key(&mut fk(
                        (Lots::Table, Lots::Id),
                        (Holders::Table, Holders::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Lots::Table, Lots::MaterialId),
                        (Materials::Table, Materials::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Lots::Table, Lots::StationId),
                        (Stations::Table, Stations::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Lots::Table, Lots::MeltId),
                        (Melts::Table, Melts::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Lots::Table, Lots::OpenedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "lots_material_state",
            Lots::Table,
            vec![Lots::MaterialId.into_iden(), Lots::State.into_iden()],
            false,
        )
        .await?;
        add_index(
            manager,
            "lots_station_state",
            Lots::Table,
            vec![Lots::StationId.into_iden(), Lots::State.into_iden()],
            false,
        )
        .await?;
        add_index(
            manager,
            "lots_melt",
            Lots::Table,
            vec![Lots::MeltId.into_iden()],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Processors::Table)
                    .col(pk_uuid(Processors::Id))
                    .col(string_uniq(Processors::Name))
                    .col(text(Processors::Address))
                    .col(string(Processors::PermitNumber))
                    .col(json_binary(Processors::Families))
                    .col(json_binary(Processors::HazardousMaterials))
                    .col(boolean(Processors::Active).default(true))
                    .col(timestamp_with_time_zone(Processors::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Shipments::Table)
                    .col(pk_uuid(Shipments::Id))
                    .col(string_uniq(Shipments::Code))
                    .col(uuid(Shipments::ProcessorId))
                    .col(date(Shipments::ShippedOn))
                    .col(string(Shipments::TransportDocument))
                    .col(string(Shipments::Carrier))
                    .col(uuid_uniq(Shipments::OperationId))
                    .col(uuid(Shipments::CreatedBy))
                    .col(timestamp_with_time_zone(Shipments::CreatedAt))
                    .foreign_key(&mut fk(
                        (Shipments::Table, Shipments::ProcessorId),
                        (Processors::Table, Processors::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Shipments::Table, Shipments::OperationId),
                        (Operations::Table, Operations::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Shipments::Table, Shipments::CreatedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "shipments_processor",
            Shipments::Table,
            vec![
                Shipments::ProcessorId.into_iden(),
                Shipments::ShippedOn.into_iden(),
            ],
            false,
        )
        .await?;
        make_append_only(manager, "shipments").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["shipments", "processors", "lots", "melt_notes", "melts"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
