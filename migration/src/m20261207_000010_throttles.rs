//! Rate-limit counts in the database, shared by every instance and kept across restarts
//! (failed logins per account, name, address and device; public lookups per address), and
//! the devices a person has logged in from (the login throttle's device cookies, stored as
//! hashes). A count row lives until `expires_at`; any instance may delete it after that.

use crate::{add_index, fk};
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
enum Throttles {
    Table,
    Key,
    Count,
    LastAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum LoginDevices {
    Table,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Throttles::Table)
                    .col(string(Throttles::Key).primary_key())
                    .col(integer(Throttles::Count))
                    .col(timestamp_with_time_zone(Throttles::LastAt))
                    .col(timestamp_with_time_zone(Throttles::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "throttles_expires_at",
            Throttles::Table,
            vec![Throttles::ExpiresAt.into_iden()],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginDevices::Table)
                    .col(string(LoginDevices::TokenHash).primary_key())
                    .col(uuid(LoginDevices::UserId))
                    .col(timestamp_with_time_zone(LoginDevices::CreatedAt))
                    .col(timestamp_with_time_zone(LoginDevices::ExpiresAt))
                    .foreign_key(&mut fk(
                        (LoginDevices::Table, LoginDevices::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        add_index(
            manager,
            "login_devices_expires_at",
            LoginDevices::Table,
            vec![LoginDevices::ExpiresAt.into_iden()],
            false,
        )
        .await
    }
}
