//! `greenchip demo`: a small demo workshop. It grows with each capability.

use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use crate::domain::intake::PartnerKind;
use crate::domain::roles::Role;
use crate::entities::partner;
use crate::error::{AppError, AppResult};
use crate::services::collections::{self, CollectionFields};
use crate::services::items::{self, NewItem};
use crate::services::partners::{self, PartnerFields};
use crate::services::users::{self, NewUser};

/// Staff of the demo workshop: (login, display name, role).
const STAFF: [(&str, &str, Role); 4] = [
    ("samira", "Samira El Idrissi", Role::Supervisor),
    ("youssef", "Youssef Amrani", Role::Apprentice),
    ("khadija", "Khadija Ouali", Role::Apprentice),
    ("hamza", "Hamza Boulahcen", Role::Apprentice),
];

/// The workshop's benches: (name, kind).
const STATIONS: [(&str, crate::domain::lifecycle::StationKind); 6] = [
    ("Réception", crate::domain::lifecycle::StationKind::Intake),
    ("Tri", crate::domain::lifecycle::StationKind::Triage),
    (
        "Effacement des données",
        crate::domain::lifecycle::StationKind::Sanitisation,
    ),
    (
        "Reconditionnement",
        crate::domain::lifecycle::StationKind::Refurbishment,
    ),
    (
        "Démontage 1",
        crate::domain::lifecycle::StationKind::Dismantling,
    ),
    (
        "Démontage 2",
        crate::domain::lifecycle::StationKind::Dismantling,
    ),
];

/// Partners and what they brought: (name, kind, address, reference, [(kind, grams, serial)]).
type Delivery = (
    &'static str,
    PartnerKind,
    &'static str,
    &'static str,
    &'static [(&'static str, i64, &'static str)],
);

const DELIVERIES: [Delivery; 3] = [
    (
        "Lycée Ibn Sina",
        PartnerKind::School,
        "Avenue Hassan II, Marrakech",
        "BL-2026-031",
        &[
            ("desktop_pc", 9_350, "CZC4021XYZ"),
            ("desktop_pc", 8_920, "CZC4021XZA"),
            ("desktop_pc", 9_610, "CZC4021XZB"),
            ("crt_monitor", 14_800, ""),
            ("lcd_monitor", 4_420, "CN-0F525M"),
            ("keyboard_mouse", 24_300, ""),
            ("cables", 6_750, ""),
        ],
    ),
    (
        "Managem — Bou-Azzer mine",
        PartnerKind::MineSite,
        "Bou-Azzer, Ouarzazate",
        "MNG-DSI-2026-07",
        &[
            ("server", 21_900, "SGH432KL9P"),
            ("network_switch", 3_150, "FOC1932X0AB"),
            ("ups", 11_400, ""),
            ("laptop", 2_480, "5CG8143QRS"),
            ("laptop", 2_390, "5CG8143QRT"),
            ("printer", 7_250, "VNB3K12345"),
        ],
    ),
    (
        "Commune de Taznakht",
        PartnerKind::PublicBody,
        "Taznakht",
        "CT-2026-004",
        &[
            ("desktop_pc", 9_100, ""),
            ("lcd_monitor", 4_610, ""),
            ("phone", 172, "356938035643809"),
            ("phone", 181, "356938035643810"),
        ],
    ),
];

/// Fills the database; running it twice adds nothing the second time.
pub async fn fill(db: &DatabaseConnection) -> AppResult<()> {
    let mut supervisor_id = None;
    for (name, display_name, role) in STAFF {
        let new = NewUser {
            name: name.to_string(),
            display_name: Some(display_name.to_string()),
            email: None,
            role,
            password: None,
            partner_id: None,
        };
        match users::create(db, new, None).await {
            Ok(created) => {
                if role == Role::Supervisor {
                    supervisor_id = Some(created.user.id);
                }
                let badge = created.user.badge_code.as_deref().unwrap_or("-");
                let password = created.generated_password.unwrap_or_default();
                println!("{role:<10} {name:<8} password {password}  badge {badge}");
            }
            Err(AppError::Conflict { .. }) => println!("{role:<10} {name:<8} already there"),
            Err(error) => return Err(error),
        }
    }
    if crate::entities::station::Entity::find().count(db).await? == 0 {
        for (name, kind) in STATIONS {
            let created = crate::services::stations::create(db, name, kind, supervisor_id).await?;
            println!("station    {:<26} {}", name, created.code);
        }
    }
    if partner::Entity::find().count(db).await? > 0 {
        println!("partners and collections already there");
        return Ok(());
    }
    for (name, kind, address, reference, delivered) in DELIVERIES {
        let fields = PartnerFields {
            name: Some(name.to_string()),
            kind: Some(kind),
            address: Some(address.to_string()),
            ..Default::default()
        };
        let created = partners::create(db, fields, supervisor_id).await?;
        let fields = CollectionFields {
            partner_id: Some(created.id),
            reference: Some(reference.to_string()),
            place: Some(address.to_string()),
            ..Default::default()
        };
        let collection = collections::create(db, fields, supervisor_id).await?;
        let new_items = delivered
            .iter()
            .map(|(kind, mass_g, serial)| NewItem {
                kind: kind.to_string(),
                mass_g: *mass_g,
                quantity: (*kind == "keyboard_mouse").then_some(30),
                serial: Some(serial.to_string()),
                ..Default::default()
            })
            .collect();
        let received =
            items::receive(db, &collection.code, new_items, true, supervisor_id, None).await?;
        println!(
            "{:<28} collection {} with {} items",
            name,
            collection.code,
            received.len()
        );
    }
    Ok(())
}
