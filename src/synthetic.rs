//! A realistic synthetic history for benchmarks and load tests (`greenchip synth`): partners
//! hand over collections of equipment drawn from `data/equipment.csv`; items are received,
//! some reused, some shipped whole, most dismantled into lots with weighing noise; copper is
//! stripped, melted and poured into ingots; full lots of hazardous and board fractions are
//! shipped. Every step goes through the real ledger service, so the history is as consistent
//! as one the workshop would make. The same seed gives the same history.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::codes::{Code, CodeKind};
use crate::domain::ledger::{Account, Basis, HolderKind, Movement, OperationKind};
use crate::entities::{collection, material, partner};
use crate::error::{AppError, AppResult};
use crate::services::ledger::{self, NewHolder, NewOperation};

const EQUIPMENT_CSV: &str = include_str!("../data/equipment.csv");

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub items: usize,
    /// Items per collection (a van load).
    pub items_per_collection: usize,
    pub partners: usize,
    /// Collections are spread over the year from this day.
    pub first_day: NaiveDate,
    pub seed: u64,
    /// Operations per transaction while generating (the history is the same either way).
    pub batch: usize,
}

impl Spec {
    pub fn items(items: usize) -> Spec {
        Spec {
            items,
            items_per_collection: 50,
            partners: 40,
            first_day: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default(),
            seed: 2010,
            batch: 500,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub partners: usize,
    pub collections: usize,
    pub items: usize,
    pub operations: usize,
    pub movements: usize,
    pub melts: usize,
    pub ingots: usize,
}

struct Kind {
    name: String,
    typical_mass_g: i64,
    /// (material code, percent of mass)
    fractions: Vec<(String, i64)>,
    /// How often it arrives, relative.
    weight: u32,
}

fn equipment() -> Vec<Kind> {
    EQUIPMENT_CSV
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let name = fields.first()?.to_string();
            let fractions = fields
                .get(5)?
                .split(';')
                .filter_map(|part| {
                    let (code, percent) = part.split_once(':')?;
                    Some((code.to_string(), percent.parse().ok()?))
                })
                .collect();
            let weight = match name.as_str() {
                "desktop_pc" => 30,
                "laptop" | "lcd_monitor" => 15,
                "printer" | "cables" => 8,
                "phone" => 6,
                "crt_monitor" | "network_switch" => 5,
                "ups" | "keyboard_mouse" => 4,
                _ => 2,
            };
            Some(Kind {
                typical_mass_g: fields.get(3)?.parse().ok()?,
                name,
                fractions,
                weight,
            })
        })
        .collect()
}

/// Lots at the workshop: one open per material, swapped for a fresh one when full.
struct Workshop {
    materials: HashMap<String, Uuid>,
    /// Equipment kind code → (id, WEEE category), for the items' rows.
    kinds: HashMap<String, (Uuid, i16)>,
    open_lots: HashMap<String, (Uuid, i64)>,
    intake: Uuid,
    variance: Uuid,
    loss: Uuid,
    reuse: Uuid,
    shipped_whole: Uuid,
    generated: Generated,
}

const LOT_FULL_G: i64 = 250_000;
const MELT_CHARGE_G: i64 = 60_000;

impl Workshop {
    async fn lot(&mut self, txn: &DatabaseTransaction, material: &str) -> AppResult<Uuid> {
        if let Some((id, _)) = self.open_lots.get(material) {
            return Ok(*id);
        }
        let material_id = *self.materials.get(material).ok_or_else(|| {
            AppError::not_found(format!("material {material} is not in the catalogue"))
        })?;
        let created = ledger::create_holder(
            txn,
            NewHolder {
                kind: HolderKind::Lot,
                code: Some(Code::random(CodeKind::Lot).to_string()),
                label: format!("{material} lot"),
                material_id: Some(material_id),
                collection_id: None,
            },
        )
        .await?;
        self.open_lots.insert(material.to_string(), (created.id, 0));
        Ok(created.id)
    }

    async fn post(
        &mut self,
        txn: &DatabaseTransaction,
        kind: OperationKind,
        movements: Vec<Movement>,
    ) -> AppResult<()> {
        self.generated.movements += movements.len();
        self.generated.operations += 1;
        ledger::post_in(txn, NewOperation::new(kind, None, movements)).await?;
        Ok(())
    }

    async fn shipped(&mut self, txn: &DatabaseTransaction, material: &str) -> AppResult<Uuid> {
        let material_id = self.materials[material];
        Ok(
            ledger::account(txn, Account::Shipped, Some((material_id, material)))
                .await?
                .id,
        )
    }
}

/// Generates the history into an empty (migrated) database; each collection's work is
/// stamped on the day it was received.
pub async fn generate(db: &DatabaseConnection, spec: &Spec) -> AppResult<Generated> {
    let start = spec
        .first_day
        .and_hms_opt(9, 0, 0)
        .unwrap_or_default()
        .and_utc();
    crate::clock::simulated(start, generate_in(db, spec)).await
}

async fn generate_in(db: &DatabaseConnection, spec: &Spec) -> AppResult<Generated> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let kinds = equipment();
    let total_weight: u32 = kinds.iter().map(|k| k.weight).sum();
    let materials: HashMap<String, Uuid> = material::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.code, m.id))
        .collect();

    let txn = begin_write(db).await?;
    let mut workshop = Workshop {
        intake: ledger::account(&txn, Account::Intake, None).await?.id,
        variance: ledger::account(&txn, Account::WeighingVariance, None)
            .await?
            .id,
        loss: ledger::account(&txn, Account::ProcessLoss, None).await?.id,
        reuse: ledger::account(&txn, Account::Reuse, None).await?.id,
        shipped_whole: ledger::account(&txn, Account::Shipped, None).await?.id,
        materials,
        kinds: crate::entities::equipment_kind::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|k| (k.code, (k.id, k.weee_category)))
            .collect(),
        open_lots: HashMap::new(),
        generated: Generated::default(),
    };
    let mut partners = Vec::new();
    for index in 0..spec.partners {
        let kind = ["school", "company", "public_body", "mine_site"][index % 4];
        let model = partner::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(format!("{} {:02}", partner_name(kind), index + 1)),
            kind: Set(kind.to_string()),
            address: Set(Some("Marrakech".to_string())),
            contact: Set(None),
            notes: Set(Some("synthetic".to_string())),
            created_at: Set(Utc::now()),
            language: Set("fr".to_string()),
        }
        .insert(&txn)
        .await?;
        partners.push(model);
    }
    workshop.generated.partners = partners.len();
    txn.commit().await?;

    let collections = spec.items.div_ceil(spec.items_per_collection.max(1));
    let mut done = 0;
    let mut txn = begin_write(db).await?;
    let mut in_batch = 0;
    for index in 0..collections {
        let day = spec.first_day + Duration::days((index * 360 / collections.max(1)) as i64);
        let morning = day.and_hms_opt(9, 0, 0).unwrap_or_default().and_utc();
        crate::clock::set(morning);
        let from = &partners[rng.gen_range(0..partners.len())];
        let received = collection::ActiveModel {
            id: Set(Uuid::now_v7()),
            code: Set(Code::random(CodeKind::Collection).to_string()),
            partner_id: Set(from.id),
            received_on: Set(day),
            place: Set(Some("Marrakech".to_string())),
            reference: Set(Some(format!("BL-{:05}", index + 1))),
            received_by: Set(None),
            notes: Set(None),
            state: Set("closed".to_string()),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        workshop.generated.collections += 1;
        let count = spec.items_per_collection.min(spec.items - done);
        for _ in 0..count {
            let mut pick = rng.gen_range(0..total_weight);
            let kind = kinds
                .iter()
                .find(|k| {
                    if pick < k.weight {
                        true
                    } else {
                        pick -= k.weight;
                        false
                    }
                })
                .unwrap_or(&kinds[0]);
            crate::clock::set(morning + Duration::minutes(3 * (done % 150) as i64));
            process_item(&mut workshop, &txn, &mut rng, kind, &received).await?;
            done += 1;
            in_batch += 1;
            if in_batch >= spec.batch {
                txn.commit().await?;
                txn = begin_write(db).await?;
                in_batch = 0;
            }
        }
    }
    txn.commit().await?;
    workshop.generated.items = done;
    Ok(workshop.generated)
}

fn partner_name(kind: &str) -> &'static str {
    match kind {
        "school" => "Lycée",
        "company" => "Société",
        "public_body" => "Commune",
        _ => "Site minier",
    }
}

async fn process_item(
    workshop: &mut Workshop,
    txn: &DatabaseTransaction,
    rng: &mut StdRng,
    kind: &Kind,
    received: &collection::Model,
) -> AppResult<()> {
    let mass_g = (kind.typical_mass_g as f64 * rng.gen_range(0.85..1.15))
        .round()
        .max(50.0) as i64;
    let code = Code::random(CodeKind::Item).to_string();
    let item = ledger::create_holder(
        txn,
        NewHolder {
            kind: HolderKind::Item,
            code: Some(code.clone()),
            label: kind.name.clone(),
            material_id: None,
            collection_id: Some(received.id),
        },
    )
    .await?;
    let fate: f64 = rng.r#gen();
    let reusable = matches!(
        kind.name.as_str(),
        "desktop_pc" | "laptop" | "lcd_monitor" | "phone"
    );
    let state = if reusable && fate < 0.12 {
        "reused"
    } else if kind.name == "crt_monitor" && fate < 0.5 {
        "shipped_whole"
    } else {
        "dismantled"
    };
    if let Some(&(kind_id, weee_category)) = workshop.kinds.get(&kind.name) {
        crate::entities::item::ActiveModel {
            id: Set(item.id),
            code: Set(code),
            collection_id: Set(received.id),
            kind_id: Set(kind_id),
            weee_category: Set(weee_category),
            brand: Set(None),
            model: Set(None),
            serial: Set(None),
            gross_mass_g: Set(mass_g),
            quantity: Set(1),
            data_bearing: Set(false),
            condition_notes: Set(None),
            state: Set(state.to_string()),
            received_by: Set(None),
            created_at: Set(crate::clock::now()),
            route: Set(None),
        }
        .insert(txn)
        .await?;
    }
    let intake = workshop.intake;
    workshop
        .post(
            txn,
            OperationKind::Intake,
            vec![Movement::new(intake, item.id, mass_g).basis(Basis::Collection(received.id))],
        )
        .await?;

    if state == "reused" {
        let reuse = workshop.reuse;
        return workshop
            .post(
                txn,
                OperationKind::Reuse,
                vec![Movement::new(item.id, reuse, mass_g)],
            )
            .await;
    }
    if state == "shipped_whole" {
        let shipped = workshop.shipped_whole;
        return workshop
            .post(
                txn,
                OperationKind::Ship,
                vec![Movement::new(item.id, shipped, mass_g)],
            )
            .await;
    }

    // Dismantle: each fraction weighed with a little noise; the residual goes to variance.
    let mut movements = Vec::new();
    let mut outputs_g = 0;
    for (material, percent) in &kind.fractions {
        let share = (mass_g * percent) as f64 / 100.0 * rng.gen_range(0.97..1.01);
        let grams = share.round() as i64;
        if grams <= 0 {
            continue;
        }
        let lot = workshop.lot(txn, material).await?;
        movements.push(Movement::new(item.id, lot, grams));
        outputs_g += grams;
        if let Some((_, held)) = workshop.open_lots.get_mut(material) {
            *held += grams;
        }
    }
    let residual = mass_g - outputs_g;
    if residual > 0 {
        movements.push(Movement::new(item.id, workshop.variance, residual));
    } else if residual < 0
        && let Some(largest) = movements.iter_mut().max_by_key(|m| m.mass_g)
    {
        // Weighed heavier than it came in: the item gives all it has, and the scale's
        // extra grams come from variance, attributed like the item.
        largest.mass_g += residual;
        let lot = largest.to;
        movements
            .push(Movement::new(workshop.variance, lot, -residual).basis(Basis::Like(item.id)));
    }
    workshop
        .post(txn, OperationKind::Dismantle, movements)
        .await?;
    settle_full_lots(workshop, txn, rng).await
}

/// Full lots move on: copper is stripped and melted, boards and hazardous fractions shipped.
async fn settle_full_lots(
    workshop: &mut Workshop,
    txn: &DatabaseTransaction,
    rng: &mut StdRng,
) -> AppResult<()> {
    let full: Vec<(String, Uuid, i64)> = workshop
        .open_lots
        .iter()
        .filter(|(material, (_, held))| {
            let limit = if is_melt_feed(material) {
                MELT_CHARGE_G
            } else {
                LOT_FULL_G
            };
            *held >= limit
        })
        .map(|(material, (id, held))| (material.clone(), *id, *held))
        .collect();
    for (material, lot, held) in full {
        workshop.open_lots.remove(&material);
        match material.as_str() {
            "CU-CABLE" => {
                // Stripping: about 60 % copper wire, the insulation to process loss.
                let wire_lot = workshop.lot(txn, "CU-WIRE").await?;
                let wire = held * rng.gen_range(55..65) / 100;
                let loss = workshop.loss;
                workshop
                    .post(
                        txn,
                        OperationKind::Transfer,
                        vec![
                            Movement::new(lot, wire_lot, wire),
                            Movement::new(lot, loss, held - wire),
                        ],
                    )
                    .await?;
                if let Some((_, in_wire)) = workshop.open_lots.get_mut("CU-WIRE") {
                    *in_wire += wire;
                }
            }
            "CU-WIRE" | "CU-MIX" => melt(workshop, txn, rng, lot, held).await?,
            "PCB-HIGH" | "PCB-MED" | "PCB-LOW" | "BAT-LION" | "BAT-PB" | "LCD-CCFL"
            | "CRT-GLASS" | "CAP-ELEC" | "HDD-DESTROYED" | "TONER" => {
                let shipped = workshop.shipped(txn, &material).await?;
                workshop
                    .post(
                        txn,
                        OperationKind::Ship,
                        vec![Movement::new(lot, shipped, held)],
                    )
                    .await?;
            }
            // Steel, aluminium, plastics and residue stay in stock (closed lots).
            _ => {}
        }
    }
    Ok(())
}

fn is_melt_feed(material: &str) -> bool {
    matches!(material, "CU-WIRE" | "CU-MIX")
}

async fn melt(
    workshop: &mut Workshop,
    txn: &DatabaseTransaction,
    rng: &mut StdRng,
    lot: Uuid,
    held: i64,
) -> AppResult<()> {
    let furnace = ledger::create_holder(
        txn,
        NewHolder {
            kind: HolderKind::Melt,
            code: Some(Code::random(CodeKind::Melt).to_string()),
            label: "furnace run".to_string(),
            material_id: None,
            collection_id: None,
        },
    )
    .await?;
    workshop.generated.melts += 1;
    workshop
        .post(
            txn,
            OperationKind::Charge,
            vec![Movement::new(lot, furnace.id, held)],
        )
        .await?;
    let mut movements = Vec::new();
    let ingot_total = held * rng.gen_range(84..92) / 100;
    let pieces = (ingot_total / 8_000).max(1);
    for piece in 0..pieces {
        let ingot = workshop.lot(txn, "CU-INGOT").await?;
        workshop.open_lots.remove("CU-INGOT");
        let grams = if piece + 1 == pieces {
            ingot_total - 8_000 * (pieces - 1)
        } else {
            8_000
        };
        movements.push(Movement::new(furnace.id, ingot, grams));
        workshop.generated.ingots += 1;
    }
    let dross_g = held * 6 / 100;
    let dross = workshop.lot(txn, "CU-DROSS").await?;
    movements.push(Movement::new(furnace.id, dross, dross_g));
    let loss_g = held - ingot_total - dross_g;
    if loss_g > 0 {
        movements.push(Movement::new(furnace.id, workshop.loss, loss_g));
    }
    workshop.post(txn, OperationKind::Pour, movements).await
}

/// Whether the database already holds a generated history of at least `items` items.
pub async fn has_history(db: &DatabaseConnection, items: usize) -> AppResult<bool> {
    use sea_orm::PaginatorTrait;
    let count = crate::entities::holder::Entity::find()
        .filter(crate::entities::holder::Column::Kind.eq("item"))
        .count(db)
        .await?;
    Ok(count as usize >= items)
}
