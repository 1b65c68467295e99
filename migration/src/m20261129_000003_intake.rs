//! Intake: equipment kinds (seeded from data/equipment.csv), items with their manufacturer
//! barcodes, and partner users.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EquipmentKinds {
    Table,
    Id,
    Code,
    NameEn,
    NameFr,
    WeeeCategory,
    TypicalMassG,
    DataBearing,
    TypicalFractions,
    Active,
}

#[derive(DeriveIden)]
enum Items {
    Table,
    Id,
    Code,
    CollectionId,
    KindId,
    WeeeCategory,
    Brand,
    Model,
    Serial,
    GrossMassG,
    Quantity,
    DataBearing,
    ConditionNotes,
    State,
    ReceivedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ItemBarcodes {
    Table,
    Id,
    ItemId,
    Barcode,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    PartnerId,
}

#[derive(DeriveIden)]
enum Collections {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Holders {
    Table,
    Id,
}

const EQUIPMENT_CSV: &str = include_str!("../../data/equipment.csv");

/// English names for the kinds the shared catalogue names only in French.
fn english_name(code: &str) -> String {
    match code {
        "desktop_pc" => "Desktop PC".into(),
        "lcd_monitor" => "LCD monitor".into(),
        "crt_monitor" => "CRT monitor".into(),
        "network_switch" => "Network switch".into(),
        "ups" => "UPS".into(),
        "phone" => "Mobile phone".into(),
        "keyboard_mouse" => "Keyboard and mouse".into(),
        other => {
            let mut name = other.replace('_', " ");
            if let Some(first) = name.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            name
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EquipmentKinds::Table)
                    .col(pk_uuid(EquipmentKinds::Id))
                    .col(string_uniq(EquipmentKinds::Code))
                    .col(string(EquipmentKinds::NameEn))
                    .col(string(EquipmentKinds::NameFr))
                    .col(small_integer(EquipmentKinds::WeeeCategory))
                    .col(big_integer(EquipmentKinds::TypicalMassG))
                    .col(boolean(EquipmentKinds::DataBearing))
                    .col(text(EquipmentKinds::TypicalFractions))
                    .col(boolean(EquipmentKinds::Active).default(true))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Items::Table)
                    .col(pk_uuid(Items::Id))
                    .col(string_uniq(Items::Code))
                    .col(uuid(Items::CollectionId))
                    .col(uuid(Items::KindId))
                    .col(small_integer(Items::WeeeCategory))
                    .col(string_null(Items::Brand))
                    .col(string_null(Items::Model))
                    .col(string_null(Items::Serial))
                    .col(big_integer(Items::GrossMassG))
                    .col(integer(Items::Quantity).default(1))
                    .col(boolean(Items::DataBearing))
                    .col(text_null(Items::ConditionNotes))
                    .col(string(Items::State).default("received"))
                    .col(uuid_null(Items::ReceivedBy))
                    .col(timestamp_with_time_zone(Items::CreatedAt))
                    // An item is a holder of the ledger under the same id.
                    .foreign_key(
                        ForeignKey::create()
                            .from(Items::Table, Items::Id)
                            .to(Holders::Table, Holders::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Items::Table, Items::CollectionId)
                            .to(Collections::Table, Collections::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Items::Table, Items::KindId)
                            .to(EquipmentKinds::Table, EquipmentKinds::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Items::Table, Items::ReceivedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .check(Expr::col(Items::GrossMassG).gt(0))
                    .check(Expr::col(Items::Quantity).gt(0))
                    .to_owned(),
            )
            .await?;
        // A serial appears once per collection.
        manager
            .create_index(
                Index::create()
                    .name("items_collection_serial")
                    .table(Items::Table)
                    .col(Items::CollectionId)
                    .col(Items::Serial)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("items_kind")
                    .table(Items::Table)
                    .col(Items::KindId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("items_state")
                    .table(Items::Table)
                    .col(Items::State)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("items_serial")
                    .table(Items::Table)
                    .col(Items::Serial)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ItemBarcodes::Table)
                    .col(pk_uuid(ItemBarcodes::Id))
                    .col(uuid(ItemBarcodes::ItemId))
                    .col(string_uniq(ItemBarcodes::Barcode))
                    .col(timestamp_with_time_zone(ItemBarcodes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ItemBarcodes::Table, ItemBarcodes::ItemId)
                            .to(Items::Table, Items::Id),
                    )
                    .to_owned(),
            )
            .await?;

        // Partner users belong to one partner (checked by the service; SQLite cannot add a
        // foreign key to an existing table).
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(uuid_null(Users::PartnerId))
                    .to_owned(),
            )
            .await?;

        seed_equipment_kinds(manager).await
    }
}

async fn seed_equipment_kinds(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut insert = Query::insert()
        .into_table(EquipmentKinds::Table)
        .columns([
            EquipmentKinds::Id,
            EquipmentKinds::Code,
            EquipmentKinds::NameEn,
            EquipmentKinds::NameFr,
            EquipmentKinds::WeeeCategory,
            EquipmentKinds::TypicalMassG,
            EquipmentKinds::DataBearing,
            EquipmentKinds::TypicalFractions,
        ])
        .to_owned();
    for line in EQUIPMENT_CSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [code, name_fr, category, mass, data_bearing, fractions] = fields[..] else {
            return Err(DbErr::Migration(format!(
                "equipment.csv: cannot read “{line}”"
            )));
        };
        let number = |text: &str| {
            text.parse::<i64>().map_err(|_| {
                DbErr::Migration(format!(
                    "equipment.csv: “{text}” is not a number in “{line}”"
                ))
            })
        };
        insert.values_panic([
            uuid::Uuid::now_v7().into(),
            code.into(),
            english_name(code).into(),
            name_fr.into(),
            (number(category)? as i16).into(),
            number(mass)?.into(),
            (data_bearing == "yes").into(),
            fractions.into(),
        ]);
    }
    manager.exec_stmt(insert).await
}
