//! Ledger benchmark on a realistic history (docs/benchmarks.md has the figures).
//!
//! ```sh
//! cargo bench --bench ledger                                   # SQLite, 100,000 items
//! GREENCHIP_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/gc_bench cargo bench --bench ledger
//! GREENCHIP_BENCH_ITEMS=10000 cargo bench --bench ledger       # a smaller history
//! ```
//! The history is generated once per database (`greenchip synth`) and reused by later runs.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use greenchip::Config;
use greenchip::domain::codes::{Code, CodeKind};
use greenchip::domain::ledger::{Account, Basis, HolderKind, Movement, OperationKind};
use greenchip::entities::{collection, holder, material, partner};
use greenchip::services::ledger::summary::{self, Scope};
use greenchip::services::ledger::trace::{self, Direction};
use greenchip::services::ledger::{self, NewHolder, NewOperation};
use greenchip::synthetic;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

fn stats(label: &str, target_ms: Option<f64>, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = samples.len();
    let median = ms(samples[n / 2]);
    let p95 = ms(samples[(n * 95 / 100).min(n - 1)]);
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / n as f64;
    let target = target_ms.map(|t| format!("< {t} ms")).unwrap_or_default();
    println!("| {label} | {n} | {median:.2} | {p95:.2} | {mean:.2} | {target} |");
}

#[tokio::main]
async fn main() {
    let items: usize = std::env::var("GREENCHIP_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let url = std::env::var("GREENCHIP_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target");
        format!("sqlite://{dir}/bench-ledger-{items}.db")
    });
    let config = Config {
        database_url: url.clone(),
        ..Config::default()
    };
    let db = greenchip::db::open_and_migrate(&config)
        .await
        .expect("open the bench database");
    println!("database: {}", greenchip::db::redact(&url));
    if !synthetic::has_history(&db, items).await.unwrap() {
        let started = Instant::now();
        let made = synthetic::generate(&db, &synthetic::Spec::items(items))
            .await
            .unwrap();
        println!(
            "generated {} items, {} operations, {} movements, {} ingots in {:.0} s",
            made.items,
            made.operations,
            made.movements,
            made.ingots,
            started.elapsed().as_secs_f64()
        );
    }
    println!();
    println!("| measurement | runs | median ms | p95 ms | mean ms | target |");
    println!("|---|---|---|---|---|---|");
    bench_post(&db).await;
    bench_trace(&db).await;
    bench_attribution(&db).await;
    let started = Instant::now();
    let report = ledger::check::check(&db).await.unwrap();
    let elapsed = started.elapsed();
    stats(
        &format!(
            "`ledger check`, {} movements, {} holders",
            report.movements, report.holders
        ),
        None,
        vec![elapsed],
    );
    assert!(report.is_clean(), "{:?}", report.differences);
}

/// Posting one dismantling of a PC into nine lots plus its residual: ten movements.
async fn bench_post(db: &DatabaseConnection) {
    const RUNS: usize = 300;
    const FRACTIONS: [(&str, i64); 9] = [
        ("FE-STEEL", 6_650),
        ("PL-MIX", 570),
        ("PCB-MED", 665),
        ("AL-MIX", 380),
        ("CU-CABLE", 190),
        ("CU-MIX", 95),
        ("HDD-DESTROYED", 570),
        ("CAP-ELEC", 95),
        ("RESIDUE", 250),
    ];
    let owner = partner::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set("Benchmark partner".into()),
        kind: Set("company".into()),
        address: Set(None),
        contact: Set(None),
        notes: Set(None),
        created_at: Set(Utc::now()),
        language: Set("fr".into()),
    }
    .insert(db)
    .await
    .unwrap();
    let received = collection::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(Code::random(CodeKind::Collection).to_string()),
        partner_id: Set(owner.id),
        received_on: Set(Utc::now().date_naive()),
        place: Set(None),
        reference: Set(None),
        received_by: Set(None),
        notes: Set(None),
        state: Set("open".into()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .unwrap();
    let mut lots = Vec::new();
    for (code, _) in FRACTIONS {
        let material_id = material::Entity::find()
            .filter(material::Column::Code.eq(code))
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .id;
        let lot = ledger::create_holder(
            db,
            NewHolder {
                kind: HolderKind::Lot,
                code: Some(Code::random(CodeKind::Lot).to_string()),
                label: format!("{code} bench lot"),
                material_id: Some(material_id),
                collection_id: None,
            },
        )
        .await
        .unwrap();
        lots.push(lot.id);
    }
    let intake = ledger::account(db, Account::Intake, None).await.unwrap().id;
    let variance = ledger::account(db, Account::WeighingVariance, None)
        .await
        .unwrap()
        .id;
    let mut pcs = Vec::new();
    for _ in 0..RUNS {
        let pc = ledger::create_holder(
            db,
            NewHolder {
                kind: HolderKind::Item,
                code: Some(Code::random(CodeKind::Item).to_string()),
                label: "desktop_pc".into(),
                material_id: None,
                collection_id: Some(received.id),
            },
        )
        .await
        .unwrap();
        ledger::post(
            db,
            NewOperation::new(
                OperationKind::Intake,
                None,
                vec![Movement::new(intake, pc.id, 9_500).basis(Basis::Collection(received.id))],
            ),
        )
        .await
        .unwrap();
        pcs.push(pc.id);
    }
    let mut samples = Vec::with_capacity(RUNS);
    for pc in pcs {
        let mut movements: Vec<Movement> = FRACTIONS
            .iter()
            .zip(&lots)
            .map(|((_, grams), lot)| Movement::new(pc, *lot, *grams))
            .collect();
        movements.push(Movement::new(pc, variance, 35));
        let started = Instant::now();
        ledger::post(
            db,
            NewOperation::new(OperationKind::Dismantle, None, movements),
        )
        .await
        .unwrap();
        samples.push(started.elapsed());
    }
    stats("post one 10-movement operation", Some(5.0), samples);
}

async fn bench_trace(db: &DatabaseConnection) {
    let ingot_material = material::Entity::find()
        .filter(material::Column::Code.eq("CU-INGOT"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let ingots: Vec<holder::Model> = holder::Entity::find()
        .filter(holder::Column::MaterialId.eq(ingot_material.id))
        .limit(50)
        .all(db)
        .await
        .unwrap();
    let mut samples = Vec::new();
    let mut nodes = 0;
    for ingot in &ingots {
        let started = Instant::now();
        let traced = trace::trace(db, ingot.code.as_deref().unwrap(), Direction::Back)
            .await
            .unwrap();
        samples.push(started.elapsed());
        nodes = nodes.max(traced.nodes.len());
    }
    if samples.is_empty() {
        println!("| trace back from an ingot | 0 | – | – | – | no ingots yet |");
        return;
    }
    stats(
        &format!("trace back from an ingot (up to {nodes} nodes)"),
        Some(50.0),
        samples,
    );
}

async fn bench_attribution(db: &DatabaseConnection) {
    let partners: Vec<partner::Model> = partner::Entity::find().limit(20).all(db).await.unwrap();
    let from = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
    let mut samples = Vec::new();
    for partner in &partners {
        let started = Instant::now();
        let summary = summary::summarise(
            db,
            Scope::Partner {
                partner_id: partner.id,
                from,
                to,
            },
        )
        .await
        .unwrap();
        samples.push(started.elapsed());
        assert!(summary.balanced);
    }
    stats(
        "attribution for one partner over a year",
        Some(50.0),
        samples,
    );
}
