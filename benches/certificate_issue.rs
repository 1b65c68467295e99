//! Certificate benchmark: a partner's collection of 5,000 data-bearing laptops, each reused
//! after a verified wipe, so the certificate's annex has 5,000 lines. Times what issuing
//! does besides storing: read the facts and blockers from the database, build the snapshot,
//! canonicalise, hash and sign it, and render the PDF.
//!
//! ```sh
//! cargo bench --bench certificate_issue                    # SQLite in a temp dir, 10 runs
//! cargo bench --bench certificate_issue -- --quick         # 3 runs
//! GREENCHIP_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/gc_bench cargo bench --bench certificate_issue
//! ```
//! Target on a 2-core machine: snapshot + sign + PDF under 300 ms.

use std::time::{Duration, Instant};

use chrono::Utc;
use greenchip::Config;
use greenchip::domain::codes::{Code, CodeKind};
use greenchip::domain::intake::PartnerKind;
use greenchip::domain::ledger::{Account, Basis, HolderKind, Movement, OperationKind};
use greenchip::domain::roles::Role;
use greenchip::entities::{collection, equipment_kind, item, sanitisation_record};
use greenchip::services::certificates::{self, Heading, Scope};
use greenchip::services::ledger::{self, NewHolder, NewOperation};
use greenchip::services::{partners, users};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

const DEVICES: usize = 5_000;

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let runs = if quick { 3 } else { 10 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(bench(runs));
}

async fn bench(runs: usize) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let database_url = std::env::var("GREENCHIP_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let config = Config {
        database_url: database_url.clone(),
        workshop_name: "Atelier Green Chip".into(),
        workshop_address: "Quartier industriel Sidi Ghanem, Marrakech".into(),
        workshop_permit: "AE-MRK-2026-017".into(),
        public_url: Some("https://greenchip.example.org".into()),
        ..Config::default()
    };
    let db = greenchip::db::open_and_migrate(&config)
        .await
        .expect("open and migrate");
    let key = certificates::keys::active(&db, &config)
        .await
        .expect("a signing key");
    let started = Instant::now();
    let collection_id = history(&db).await;
    println!(
        "{DEVICES} wiped and reused laptops received in {:.1} s ({})",
        started.elapsed().as_secs_f64(),
        greenchip::db::redact(&database_url)
    );

    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let (resolved, gathered) =
            certificates::preview(&db, Scope::Collection(collection_id), "fr")
                .await
                .expect("the facts");
        assert!(gathered.blockers.is_empty(), "{:?}", gathered.blockers);
        let read = started.elapsed();
        let snapshot = certificates::assemble(&resolved, gathered, heading(), &config);
        let sealed = certificates::seal_and_render(snapshot, &key, &config).expect("sealed");
        times.push((started.elapsed(), read));
        last = Some(sealed);
    }
    times.sort();
    let (median, read) = times[times.len() / 2];
    let sealed = last.expect("at least one run");
    assert_eq!(sealed.snapshot.annex.len(), DEVICES);
    println!(
        "certificate with {DEVICES} annex lines: median {} ms (facts read in {} ms), best {} ms, worst {} ms over {runs} runs; snapshot {} KB, PDF {} KB",
        ms(median),
        ms(read),
        ms(times[0].0),
        ms(times[times.len() - 1].0),
        sealed.canonical.len() / 1024,
        sealed.pdf.len() / 1024
    );
    if let Ok(path) = std::env::var("GREENCHIP_BENCH_PDF") {
        std::fs::write(&path, &sealed.pdf).expect("write the PDF");
        println!("PDF written to {path}");
    }
}

fn heading() -> Heading {
    Heading {
        code: Code::random(CodeKind::Certificate).to_string(),
        number: "2026-0042".into(),
        issued_at: Utc::now(),
        language: "fr".into(),
        signatory: greenchip::domain::certificate::Signatory {
            name: "Samira El Idrissi".into(),
            role: "Responsable d'atelier".into(),
        },
        supersedes: None,
    }
}

fn ms(duration: Duration) -> u128 {
    duration.as_millis()
}

/// One closed collection of wiped, reused laptops, through the real ledger.
async fn history(db: &sea_orm::DatabaseConnection) -> Uuid {
    let operator = users::create(
        db,
        users::NewUser {
            name: "aicha".into(),
            display_name: Some("Aïcha Naciri".into()),
            email: None,
            role: Role::Apprentice,
            password: Some("correct horse battery".into()),
            partner_id: None,
        },
        None,
    )
    .await
    .expect("an operator")
    .user;
    let partner = partners::create(
        db,
        partners::PartnerFields {
            name: Some("Office Chérifien des Phosphates — DSI".into()),
            kind: Some(PartnerKind::Company),
            address: Some("Boulevard de la Grande Ceinture, Casablanca".into()),
            ..Default::default()
        },
        None,
    )
    .await
    .expect("a partner");
    let laptop = equipment_kind::Entity::find()
        .filter(equipment_kind::Column::Code.eq("laptop"))
        .one(db)
        .await
        .expect("kinds")
        .expect("the laptop kind is seeded");
    let txn = greenchip::db::begin_write(db).await.expect("a transaction");
    let received = collection::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(Code::random(CodeKind::Collection).to_string()),
        partner_id: Set(partner.id),
        received_on: Set(Utc::now().date_naive()),
        place: Set(None),
        reference: Set(Some("DSI-2026-RENOUVELLEMENT".into())),
        received_by: Set(None),
        notes: Set(None),
        state: Set("closed".into()),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await
    .expect("a collection");
    let intake = ledger::account(&txn, Account::Intake, None)
        .await
        .expect("intake")
        .id;
    let reuse = ledger::account(&txn, Account::Reuse, None)
        .await
        .expect("reuse")
        .id;
    for index in 0..DEVICES {
        let code = Code::random(CodeKind::Item).to_string();
        let mass_g = 1_800 + (index as i64 * 37) % 900;
        let holder = ledger::create_holder(
            &txn,
            NewHolder {
                kind: HolderKind::Item,
                code: Some(code.clone()),
                label: "laptop".into(),
                material_id: None,
                collection_id: Some(received.id),
            },
        )
        .await
        .expect("a holder");
        item::ActiveModel {
            id: Set(holder.id),
            code: Set(code),
            collection_id: Set(received.id),
            kind_id: Set(laptop.id),
            weee_category: Set(laptop.weee_category),
            brand: Set(Some("Lenovo".into())),
            model: Set(Some("ThinkPad T480".into())),
            serial: Set(Some(format!("PF-{index:07}"))),
            gross_mass_g: Set(mass_g),
            quantity: Set(1),
            data_bearing: Set(true),
            condition_notes: Set(None),
            state: Set("reused".into()),
            received_by: Set(None),
            created_at: Set(Utc::now()),
            route: Set(Some("reuse".into())),
        }
        .insert(&txn)
        .await
        .expect("an item");
        sanitisation_record::ActiveModel {
            id: Set(Uuid::now_v7()),
            item_id: Set(holder.id),
            drive_serial: Set(Some(format!("S3Z{index:07}"))),
            method: Set("purge".into()),
            tool: Set("nwipe 0.34 (PRNG stream, 1 pass)".into()),
            verified: Set(true),
            verification: Set(Some("relecture de 10 % des secteurs".into())),
            success: Set(true),
            operator_id: Set(operator.id),
            station_id: Set(None),
            at: Set(Utc::now()),
            device_time: Set(None),
            notes: Set(None),
        }
        .insert(&txn)
        .await
        .expect("a sanitisation record");
        for (kind, movement) in [
            (
                OperationKind::Intake,
                Movement::new(intake, holder.id, mass_g).basis(Basis::Collection(received.id)),
            ),
            (
                OperationKind::Reuse,
                Movement::new(holder.id, reuse, mass_g),
            ),
        ] {
            ledger::post_in(&txn, NewOperation::new(kind, None, vec![movement]))
                .await
                .expect("posted");
        }
    }
    txn.commit().await.expect("committed");
    received.id
}
