//! Workstations: stations, enrolled devices, apprentice PINs, the scan log, station actions,
//! sanitisation records, work logs with their corrections, and apprentices' skills.

use crate::{add_index, fk};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Stations {
    Table,
    Id,
    Code,
    Name,
    Kind,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StationDevices {
    Table,
    Id,
    StationId,
    TokenHash,
    Name,
    EnrolledBy,
    EnrolledAt,
    RevokedAt,
    RevokedBy,
    LastSeenAt,
    SignedInUserId,
    SignedInAt,
    LastActivityAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    PinHash,
}

#[derive(DeriveIden)]
enum Items {
    Table,
    Id,
    Route,
}

#[derive(DeriveIden)]
enum Scans {
    Table,
    Id,
    DeviceId,
    StationId,
    ClientScanId,
    UserId,
    Raw,
    ResolvedKind,
    ResolvedCode,
    Result,
    Message,
    DeviceTime,
    At,
    Response,
}

#[derive(DeriveIden)]
enum StationActions {
    Table,
    Id,
    DeviceId,
    StationId,
    ClientActionId,
    UserId,
    ItemId,
    Action,
    At,
    Response,
}

#[derive(DeriveIden)]
enum SanitisationRecords {
    Table,
    Id,
    ItemId,
    DriveSerial,
    Method,
    Tool,
    Verified,
    Verification,
    Success,
    OperatorId,
    StationId,
    At,
    DeviceTime,
    Notes,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    ApprenticeId,
    StationId,
    ItemId,
    Activity,
    StartedAt,
    EndedAt,
    Outcome,
    DeviceStartedAt,
    DeviceEndedAt,
}

#[derive(DeriveIden)]
enum TaskCorrections {
    Table,
    Id,
    TaskId,
    StartedAt,
    EndedAt,
    Outcome,
    Reason,
    AuthorId,
    At,
}

#[derive(DeriveIden)]
enum Skills {
    Table,
    Id,
    ApprenticeId,
    StationKind,
    Level,
    Note,
    SetBy,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Stations::Table)
                    .col(pk_uuid(Stations::Id))
                    .col(string_uniq(Stations::Code))
                    .col(string(Stations::Name))
                    .col(string(Stations::Kind))
                    .col(boolean(Stations::Active).default(true))
                    .col(timestamp_with_time_zone(Stations::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StationDevices::Table)
                    .col(pk_uuid(StationDevices::Id))
                    .col(uuid(StationDevices::StationId))
                    .col(string_uniq(StationDevices::TokenHash))
                    .col(string(StationDevices::Name))
                    .col(uuid(StationDevices::EnrolledBy))
                    .col(timestamp_with_time_zone(StationDevices::EnrolledAt))
                    .col(timestamp_with_time_zone_null(StationDevices::RevokedAt))
                    .col(uuid_null(StationDevices::RevokedBy))
                    .col(timestamp_with_time_zone(StationDevices::LastSeenAt))
                    .col(uuid_null(StationDevices::SignedInUserId))
                    .col(timestamp_with_time_zone_null(StationDevices::SignedInAt))
                    .col(timestamp_with_time_zone_null(
                        StationDevices::LastActivityAt,
                    ))
                    .foreign_key(&mut fk(
                        (StationDevices::Table, StationDevices::StationId),
                        (Stations::Table, Stations::Id),
                    ))
                    .foreign_key(&mut fk(
                        (StationDevices::Table, StationDevices::EnrolledBy),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        (StationDevices::Table, StationDevices::SignedInUserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(text_null(Users::PinHash))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Items::Table)
                    .add_column(string_null(Items::Route))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Scans::Table)
                    .col(pk_uuid(Scans::Id))
                    .col(uuid(Scans::DeviceId))
                    .col(uuid(Scans::StationId))
                    .col(string(Scans::ClientScanId))
                    .col(uuid_null(Scans::UserId))
                    .col(text(Scans::Raw))
                    .col(string_null(Scans::ResolvedKind))
                    .col(string_null(Scans::ResolvedCode))
                    .col(string(Scans::Result))
                    .col(text(Scans::Message))
                    .col(timestamp_with_time_zone_null(Scans::DeviceTime))
                    .col(timestamp_with_time_zone(Scans::At))
                    .col(json_binary(Scans::Response))
                    .foreign_key(&mut fk(
                        (Scans::Table, Scans::DeviceId),
                        (StationDevices::Table, StationDevices::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Scans::Table, Scans::StationId),
                        (Stations::Table, Stations::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "scans_device_client",
            Scans::Table,
            vec![Scans::DeviceId.into_iden(), Scans::ClientScanId.into_iden()],
            true,
        )
        .await?;
        add_index(
            manager,
            "scans_station_at",
            Scans::Table,
            vec![Scans::StationId.into_iden(), Scans::At.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(StationActions::Table)
                    .col(pk_uuid(StationActions::Id))
                    .col(uuid(StationActions::DeviceId))
                    .col(uuid(StationActions::StationId))
                    .col(string(StationActions::ClientActionId))
                    .col(uuid_null(StationActions::UserId))
                    .col(uuid(StationActions::ItemId))
                    .col(string(StationActions::Action))
                    .col(timestamp_with_time_zone(StationActions::At))
                    .col(json_binary(StationActions::Response))
                    .foreign_key(&mut fk(
                        (StationActions::Table, StationActions::DeviceId),
                        (StationDevices::Table, StationDevices::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "station_actions_device_client",
            StationActions::Table,
            vec![
                StationActions::DeviceId.into_iden(),
                StationActions::ClientActionId.into_iden(),
            ],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SanitisationRecords::Table)
                    .col(pk_uuid(SanitisationRecords::Id))
                    .col(uuid(SanitisationRecords::ItemId))
                    .col(string_null(SanitisationRecords::DriveSerial))
                    .col(string(SanitisationRecords::Method))
                    .col(string(SanitisationRecords::Tool))
                    .col(boolean(SanitisationRecords::Verified))
                    .col(text_null(SanitisationRecords::Verification))
                    .col(boolean(SanitisationRecords::Success))
                    .col(uuid(SanitisationRecords::OperatorId))
                    .col(uuid_null(SanitisationRecords::StationId))
                    .col(timestamp_with_time_zone(SanitisationRecords::At))
                    .col(timestamp_with_time_zone_null(
                        SanitisationRecords::DeviceTime,
                    ))
                    .col(text_null(SanitisationRecords::Notes))
                    .foreign_key(&mut fk(
                        (SanitisationRecords::Table, SanitisationRecords::ItemId),
                        (Items::Table, Items::Id),
                    ))
                    .foreign_key(&mut fk(
                        (SanitisationRecords::Table, SanitisationRecords::OperatorId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "sanitisation_item",
            SanitisationRecords::Table,
            vec![SanitisationRecords::ItemId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .col(pk_uuid(Tasks::Id))
                    .col(uuid(Tasks::ApprenticeId))
                    .col(uuid(Tasks::StationId))
                    .col(uuid_null(Tasks::ItemId))
                    .col(string(Tasks::Activity))
                    .col(timestamp_with_time_zone(Tasks::StartedAt))
                    .col(timestamp_with_time_zone_null(Tasks::EndedAt))
                    .col(string_null(Tasks::Outcome))
                    .col(timestamp_with_time_zone_null(Tasks::DeviceStartedAt))
                    .col(timestamp_with_time_zone_null(Tasks::DeviceEndedAt))
                    .foreign_key(&mut fk(
                        (Tasks::Table, Tasks::ApprenticeId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Tasks::Table, Tasks::StationId),
                        (Stations::Table, Stations::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "tasks_apprentice",
            Tasks::Table,
            vec![
                Tasks::ApprenticeId.into_iden(),
                Tasks::StartedAt.into_iden(),
            ],
            false,
        )
        .await?;
        add_index(
            manager,
            "tasks_item",
            Tasks::Table,
            vec![Tasks::ItemId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TaskCorrections::Table)
                    .col(pk_uuid(TaskCorrections::Id))
                    .col(uuid(TaskCorrections::TaskId))
                    .col(timestamp_with_time_zone_null(TaskCorrections::StartedAt))
                    .col(timestamp_with_time_zone_null(TaskCorrections::EndedAt))
                    .col(string_null(TaskCorrections::Outcome))
                    .col(text(TaskCorrections::Reason))
                    .col(uuid(TaskCorrections::AuthorId))
                    .col(timestamp_with_time_zone(TaskCorrections::At))
                    .foreign_key(&mut fk(
                        (TaskCorrections::Table, TaskCorrections::TaskId),
                        (Tasks::Table, Tasks::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Skills::Table)
                    .col(pk_uuid(Skills::Id))
                    .col(uuid(Skills::ApprenticeId))
                    .col(string(Skills::StationKind))
                    .col(string(Skills::Level))
                    .col(text_null(Skills::Note))
                    .col(uuid(Skills::SetBy))
                    .col(timestamp_with_time_zone(Skills::At))
                    .foreign_key(&mut fk(
                        (Skills::Table, Skills::ApprenticeId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        // Records of what happened are append-only.
        for table in [
            "scans",
            "sanitisation_records",
            "task_corrections",
            "skills",
        ] {
            crate::make_append_only(manager, table).await?;
        }
        Ok(())
    }
}
