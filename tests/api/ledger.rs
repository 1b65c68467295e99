//! The mass ledger on a real database: posting, refusals, corrections, idempotency,
//! concurrency, genealogy and attribution, with a worked example checked by hand.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use greenchip::AppError;
use greenchip::domain::codes::{Code, CodeKind};
use greenchip::domain::ledger::{Account, Basis, HolderKind, Movement, OperationKind};
use greenchip::domain::roles::Role;
use greenchip::entities::{collection, holder, material, movement, operation, partner};
use greenchip::services::ledger::summary::{self, Scope};
use greenchip::services::ledger::trace::{self, Direction};
use greenchip::services::ledger::{self, NewHolder, NewOperation};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::TestApp;

pub async fn partner(db: &DatabaseConnection, name: &str) -> partner::Model {
    partner::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.to_string()),
        kind: Set("company".to_string()),
        address: Set(None),
        contact: Set(None),
        notes: Set(None),
        created_at: Set(Utc::now()),
        language: Set("fr".to_string()),
    }
    .insert(db)
    .await
    .unwrap()
}

pub async fn collection(
    db: &DatabaseConnection,
    partner: &partner::Model,
    received_on: NaiveDate,
) -> collection::Model {
    collection::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(Code::random(CodeKind::Collection).to_string()),
        partner_id: Set(partner.id),
        received_on: Set(received_on),
        place: Set(None),
        reference: Set(None),
        received_by: Set(None),
        notes: Set(None),
        state: Set("open".to_string()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .unwrap()
}

pub async fn material_id(db: &DatabaseConnection, code: &str) -> Uuid {
    material::Entity::find()
        .filter(material::Column::Code.eq(code))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("material {code} is seeded"))
        .id
}

pub async fn item(db: &DatabaseConnection, collection: &collection::Model) -> holder::Model {
    ledger::create_holder(
        db,
        NewHolder {
            kind: HolderKind::Item,
            code: Some(Code::random(CodeKind::Item).to_string()),
            label: "cable bundle".into(),
            material_id: None,
            collection_id: Some(collection.id),
        },
    )
    .await
    .unwrap()
}

pub async fn lot(db: &DatabaseConnection, material: &str) -> holder::Model {
    let material_id = material_id(db, material).await;
    ledger::create_holder(
        db,
        NewHolder {
            kind: HolderKind::Lot,
            code: Some(Code::random(CodeKind::Lot).to_string()),
            label: format!("{material} bin"),
            material_id: Some(material_id),
            collection_id: None,
        },
    )
    .await
    .unwrap()
}

async fn melt(db: &DatabaseConnection) -> holder::Model {
    ledger::create_holder(
        db,
        NewHolder {
            kind: HolderKind::Melt,
            code: Some(Code::random(CodeKind::Melt).to_string()),
            label: "furnace run".into(),
            material_id: None,
            collection_id: None,
        },
    )
    .await
    .unwrap()
}

pub async fn account(db: &DatabaseConnection, account: Account) -> Uuid {
    ledger::account(db, account, None).await.unwrap().id
}

/// Posts `intake → item`, attributed to the item's collection.
pub async fn receive(
    db: &DatabaseConnection,
    item: &holder::Model,
    mass_g: i64,
) -> ledger::PostedOperation {
    let intake = account(db, Account::Intake).await;
    let collection = item.collection_id.unwrap();
    post(
        db,
        OperationKind::Intake,
        vec![Movement::new(intake, item.id, mass_g).basis(Basis::Collection(collection))],
    )
    .await
    .unwrap()
}

pub async fn post(
    db: &DatabaseConnection,
    kind: OperationKind,
    movements: Vec<Movement>,
) -> Result<ledger::PostedOperation, AppError> {
    ledger::post(db, NewOperation::new(kind, None, movements)).await
}

async fn balance(db: &DatabaseConnection, id: Uuid) -> i64 {
    holder::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .balance_g
}

async fn counts(db: &DatabaseConnection) -> (u64, u64, u64) {
    (
        operation::Entity::find().count(db).await.unwrap(),
        movement::Entity::find().count(db).await.unwrap(),
        greenchip::entities::event::Entity::find()
            .count(db)
            .await
            .unwrap(),
    )
}

async fn assert_clean(db: &DatabaseConnection) {
    let report = ledger::check::check(db).await.unwrap();
    assert!(report.is_clean(), "{:#?}", report.differences);
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[tokio::test]
async fn an_intake_posts_balance_and_composition_in_step() {
    let app = TestApp::spawn().await;
    let school = partner(&app.db, "École Al Jisr").await;
    let received = collection(&app.db, &school, today()).await;
    let pc = item(&app.db, &received).await;
    let posted = receive(&app.db, &pc, 8_400).await;
    assert!(!posted.replayed);
    assert_eq!(posted.movements.len(), 1);

    let detail = ledger::holders::describe(&app.db, pc.code.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(detail.balance_g, 8_400);
    assert_eq!(detail.composition.len(), 1);
    assert_eq!(detail.composition[0].mass_g, 8_400);
    assert_eq!(
        detail.composition[0].collection_code.as_deref(),
        Some(received.code.as_str())
    );
    assert_eq!(
        detail.composition[0].partner.as_deref(),
        Some("École Al Jisr")
    );
    let intake = account(&app.db, Account::Intake).await;
    assert_eq!(balance(&app.db, intake).await, -8_400);
    // The operation is one audit event.
    let event = greenchip::entities::event::Entity::find_by_id(posted.operation.event_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.kind, "ledger.intake");
    assert_clean(&app.db).await;
}

#[tokio::test]
async fn bad_operations_are_refused_and_write_nothing() {
    let app = TestApp::spawn().await;
    let company = partner(&app.db, "Managem").await;
    let received = collection(&app.db, &company, today()).await;
    let pc = item(&app.db, &received).await;
    receive(&app.db, &pc, 1_000).await;
    let bin = lot(&app.db, "FE-STEEL").await;
    let before = counts(&app.db).await;

    let cases: Vec<(Vec<Movement>, StatusCode, &str)> = vec![
        (
            vec![Movement::new(pc.id, bin.id, 0)],
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            vec![Movement::new(pc.id, bin.id, -50)],
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            vec![Movement::new(pc.id, pc.id, 10)],
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            vec![Movement::new(pc.id, Uuid::now_v7(), 10)],
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (vec![], StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        (
            vec![
                Movement::new(pc.id, bin.id, 600),
                Movement::new(pc.id, bin.id, 600),
            ],
            StatusCode::CONFLICT,
            "insufficient_mass",
        ),
    ];
    for (movements, status, code) in cases {
        let refused = post(&app.db, OperationKind::Transfer, movements.clone())
            .await
            .unwrap_err();
        assert_eq!(
            (refused.status(), refused.code()),
            (status, code),
            "{movements:?}: {refused}"
        );
        assert_eq!(
            counts(&app.db).await,
            before,
            "{movements:?} wrote something"
        );
    }
    let overdraw = post(
        &app.db,
        OperationKind::Transfer,
        vec![Movement::new(pc.id, bin.id, 1_001)],
    )
    .await
    .unwrap_err();
    assert!(
        overdraw.to_string().contains(pc.code.as_deref().unwrap()),
        "{overdraw}"
    );
    assert!(overdraw.to_string().contains("1000 g"), "{overdraw}");
    assert_eq!(balance(&app.db, pc.id).await, 1_000);
    assert_clean(&app.db).await;
}

#[tokio::test]
async fn a_correction_reverses_an_operation_once_and_keeps_the_original() {
    let app = TestApp::spawn().await;
    let company = partner(&app.db, "Managem").await;
    let received = collection(&app.db, &company, today()).await;
    let pc = item(&app.db, &received).await;
    receive(&app.db, &pc, 9_500).await;
    let steel = lot(&app.db, "FE-STEEL").await;
    let variance = account(&app.db, Account::WeighingVariance).await;
    let dismantled = post(
        &app.db,
        OperationKind::Dismantle,
        vec![
            Movement::new(pc.id, steel.id, 9_000),
            Movement::new(pc.id, variance, 500),
        ],
    )
    .await
    .unwrap();

    let empty_reason = ledger::correct(&app.db, dismantled.operation.id, "  ", None, None)
        .await
        .unwrap_err();
    assert_eq!(empty_reason.code(), "validation");

    let corrected = ledger::correct(
        &app.db,
        dismantled.operation.id,
        "wrong bin scanned",
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        corrected.operation.corrects_id,
        Some(dismantled.operation.id)
    );
    assert_eq!(
        corrected.operation.reason.as_deref(),
        Some("wrong bin scanned")
    );
    assert_eq!(balance(&app.db, pc.id).await, 9_500);
    assert_eq!(balance(&app.db, steel.id).await, 0);
    assert_eq!(balance(&app.db, variance).await, 0);
    assert!(
        operation::Entity::find_by_id(dismantled.operation.id)
            .one(&app.db)
            .await
            .unwrap()
            .is_some()
    );

    let before = counts(&app.db).await;
    let twice = ledger::correct(&app.db, dismantled.operation.id, "again", None, None)
        .await
        .unwrap_err();
    assert_eq!(
        (twice.status(), twice.code()),
        (StatusCode::CONFLICT, "already_corrected")
    );
    assert_eq!(counts(&app.db).await, before);

    let unknown = ledger::correct(&app.db, Uuid::now_v7(), "typo", None, None)
        .await
        .unwrap_err();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_clean(&app.db).await;
}

#[tokio::test]
async fn a_correction_is_refused_once_the_mass_has_moved_on() {
    let app = TestApp::spawn().await;
    let company = partner(&app.db, "Managem").await;
    let received = collection(&app.db, &company, today()).await;
    let pc = item(&app.db, &received).await;
    let intake = receive(&app.db, &pc, 2_000).await;
    let bin = lot(&app.db, "PL-MIX").await;
    post(
        &app.db,
        OperationKind::Dismantle,
        vec![Movement::new(pc.id, bin.id, 2_000)],
    )
    .await
    .unwrap();
    let before = counts(&app.db).await;
    let refused = ledger::correct(&app.db, intake.operation.id, "weighed twice", None, None)
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (StatusCode::CONFLICT, "insufficient_mass")
    );
    assert_eq!(counts(&app.db).await, before);
}

#[tokio::test]
async fn a_retry_with_the_same_key_answers_the_first_post_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let company = partner(&app.db, "Managem").await;
    let received = collection(&app.db, &company, today()).await;
    let pc = item(&app.db, &received).await;
    receive(&app.db, &pc, 3_000).await;
    let bin = lot(&app.db, "PCB-MED").await;
    let request = || {
        let mut new = NewOperation::new(
            OperationKind::Transfer,
            None,
            vec![Movement::new(pc.id, bin.id, 1_000)],
        );
        new.idempotency_key = Some("station-7/scan-42".into());
        new
    };
    let first = ledger::post(&app.db, request()).await.unwrap();
    let before = counts(&app.db).await;
    let second = ledger::post(&app.db, request()).await.unwrap();
    assert!(second.replayed);
    assert_eq!(second.operation.id, first.operation.id);
    assert_eq!(second.movements, first.movements);
    assert_eq!(counts(&app.db).await, before);
    assert_eq!(balance(&app.db, bin.id).await, 1_000);

    // Racing retries: still exactly one.
    let (a, b) = tokio::join!(
        ledger::post(&app.db, {
            let mut new = request();
            new.idempotency_key = Some("race".into());
            new
        }),
        ledger::post(&app.db, {
            let mut new = request();
            new.idempotency_key = Some("race".into());
            new
        })
    );
    assert_eq!(a.unwrap().operation.id, b.unwrap().operation.id);
    assert_eq!(balance(&app.db, bin.id).await, 2_000);
    assert_clean(&app.db).await;
}

#[tokio::test]
async fn sixteen_concurrent_posters_lose_nothing_and_overdraw_nothing() {
    let app = TestApp::spawn().await;
    let company = partner(&app.db, "Managem").await;
    let first = collection(&app.db, &company, today()).await;
    let second = collection(&app.db, &company, today()).await;
    let mut lots = Vec::new();
    for (index, received) in [&first, &second, &first, &second].into_iter().enumerate() {
        let bundle = item(&app.db, received).await;
        receive(&app.db, &bundle, 20_000).await;
        let bin = lot(&app.db, "CU-CABLE").await;
        post(
            &app.db,
            OperationKind::Dismantle,
            vec![Movement::new(bundle.id, bin.id, 20_000)],
        )
        .await
        .unwrap();
        lots.push(bin.id);
        assert_eq!(index + 1, lots.len());
    }
    let loss = account(&app.db, Account::ProcessLoss).await;
    let before_ops = operation::Entity::find().count(&app.db).await.unwrap();

    let mut tasks = Vec::new();
    for task in 0..16i64 {
        let db = app.db.clone();
        let lots = lots.clone();
        tasks.push(tokio::spawn(async move {
            let mut posted = 0u64;
            let mut refused = 0u64;
            for step in 0..12i64 {
                let seed = task * 131 + step * 17;
                let from = lots[(seed % 4) as usize];
                let to = lots[((seed / 4 + 1 + seed % 3) % 4) as usize];
                let mass_g = 500 + (seed * 7919) % 9_000;
                let mut movements = vec![Movement::new(from, to, mass_g)];
                if to == from {
                    movements = vec![Movement::new(from, loss, 1 + seed % 40)];
                }
                match post(&db, OperationKind::Transfer, movements).await {
                    Ok(_) => posted += 1,
                    Err(error) if error.code() == "insufficient_mass" => refused += 1,
                    Err(error) => panic!("task {task} step {step}: {error}"),
                }
            }
            (posted, refused)
        }));
    }
    let mut posted = 0;
    for task in tasks {
        let (p, _) = task.await.unwrap();
        posted += p;
    }
    let after_ops = operation::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(
        after_ops - before_ops,
        posted,
        "every acknowledged post is there, once"
    );
    for id in &lots {
        assert!(balance(&app.db, *id).await >= 0);
    }
    let mut total = balance(&app.db, loss).await;
    for id in &lots {
        total += balance(&app.db, *id).await;
    }
    assert_eq!(
        total, 80_000,
        "transfers move mass, they never make or lose it"
    );
    assert_clean(&app.db).await;
}

/// Two collections' cables merged into one lot, part of it melted into an ingot: every gram
/// worked out by hand (docs/ledger.md walks through the same numbers).
#[tokio::test]
async fn worked_example_two_collections_into_one_ingot() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let school = partner(db, "Lycée Ibn Sina").await;
    let company = partner(db, "Managem").await;
    let day = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    // Created first: its uuid v7 is smaller and wins ties of equal remainders.
    let from_school = collection(db, &school, day).await;
    let from_company = collection(db, &company, day).await;
    let school_cables = item(db, &from_school).await;
    let company_cables = item(db, &from_company).await;
    receive(db, &school_cables, 3_000).await;
    receive(db, &company_cables, 5_000).await;

    let variance = account(db, Account::WeighingVariance).await;
    let loss = account(db, Account::ProcessLoss).await;
    let cable = lot(db, "CU-CABLE").await;
    post(
        db,
        OperationKind::Dismantle,
        vec![
            Movement::new(school_cables.id, cable.id, 2_950),
            Movement::new(school_cables.id, variance, 50),
        ],
    )
    .await
    .unwrap();
    post(
        db,
        OperationKind::Dismantle,
        vec![
            Movement::new(company_cables.id, cable.id, 4_900),
            Movement::new(company_cables.id, variance, 100),
        ],
    )
    .await
    .unwrap();

    let furnace = melt(db).await;
    post(
        db,
        OperationKind::Charge,
        vec![Movement::new(cable.id, furnace.id, 6_000)],
    )
    .await
    .unwrap();
    let ingot = lot(db, "CU-INGOT").await;
    let dross = lot(db, "CU-DROSS").await;
    post(
        db,
        OperationKind::Pour,
        vec![
            Movement::new(furnace.id, ingot.id, 5_400),
            Movement::new(furnace.id, dross.id, 300),
            Movement::new(furnace.id, loss, 300),
        ],
    )
    .await
    .unwrap();

    let shares = |detail: ledger::holders::HolderDetail| -> BTreeMap<Uuid, i64> {
        detail
            .composition
            .iter()
            .map(|s| (s.collection_id, s.mass_g))
            .collect()
    };
    let (s, c) = (from_school.id, from_company.id);
    // Charge 6000 g of 2950 + 4900: 2254.78 → 2255 and 3745.22 → 3745.
    assert_eq!(
        shares(
            ledger::holders::describe(db, cable.code.as_deref().unwrap())
                .await
                .unwrap()
        ),
        BTreeMap::from([(s, 695), (c, 1_155)])
    );
    // Pour 5400 of 2255 + 3745: 2029.5 and 3370.5, the tie going to the older collection.
    assert_eq!(
        shares(
            ledger::holders::describe(db, ingot.code.as_deref().unwrap())
                .await
                .unwrap()
        ),
        BTreeMap::from([(s, 2_030), (c, 3_370)])
    );
    // Dross 300 of the 225 + 375 left: 112.5 and 187.5, the tie again to the older one.
    assert_eq!(
        shares(
            ledger::holders::describe(db, dross.code.as_deref().unwrap())
                .await
                .unwrap()
        ),
        BTreeMap::from([(s, 113), (c, 187)])
    );

    // Trace back from the ingot: melt, cable lot, the two bundles, their collections.
    let traced = trace::trace(db, ingot.code.as_deref().unwrap(), Direction::Back)
        .await
        .unwrap();
    let edge = |from: Uuid, to: Uuid| {
        traced
            .edges
            .iter()
            .find(|e| e.from == from && e.to == to)
            .and_then(|e| e.mass_g)
    };
    assert_eq!(edge(furnace.id, ingot.id), Some(5_400));
    assert_eq!(edge(cable.id, furnace.id), Some(6_000));
    assert_eq!(edge(school_cables.id, cable.id), Some(2_950));
    assert_eq!(edge(company_cables.id, cable.id), Some(4_900));
    assert_eq!(edge(s, school_cables.id), Some(3_000));
    assert_eq!(edge(c, company_cables.id), Some(5_000));
    assert_eq!(traced.edges.len(), 6);
    let node = |id: Uuid| traced.nodes.iter().find(|n| n.id == id).unwrap();
    assert_eq!(node(s).attributed_g, Some(2_030));
    assert_eq!(node(c).attributed_g, Some(3_370));
    assert_eq!(node(s).partner.as_deref(), Some("Lycée Ibn Sina"));
    assert_eq!(traced.nodes.len(), 7);

    // Forward from the school's collection: everywhere its mass went, and how much is there.
    let forward = trace::trace(db, &from_school.code, Direction::Forward)
        .await
        .unwrap();
    let attributed: BTreeMap<Uuid, i64> = forward
        .nodes
        .iter()
        .filter_map(|n| Some((n.id, n.attributed_g?)))
        .collect();
    assert_eq!(
        attributed,
        BTreeMap::from([
            (cable.id, 695),
            (ingot.id, 2_030),
            (dross.id, 113),
            (variance, 50),
            (loss, 112)
        ])
    );
    assert!(
        forward
            .edges
            .iter()
            .any(|e| e.from == furnace.id && e.to == ingot.id)
    );

    // The attribution summary per partner over the year adds up to what was received.
    let year = |partner: &partner::Model| Scope::Partner {
        partner_id: partner.id,
        from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    };
    let school_summary = summary::summarise(db, year(&school)).await.unwrap();
    assert_eq!(school_summary.received_g, 3_000);
    assert_eq!(
        school_summary.by_destination,
        BTreeMap::from([
            ("in_stock".into(), 808),
            ("ingot".into(), 2_030),
            ("lost".into(), 162)
        ])
    );
    assert!(school_summary.balanced);
    assert_eq!(school_summary.by_family["copper"]["ingot"], 2_030);
    let company_summary = summary::summarise(db, year(&company)).await.unwrap();
    assert_eq!(
        company_summary.by_destination,
        BTreeMap::from([
            ("in_stock".into(), 1_342),
            ("ingot".into(), 3_370),
            ("lost".into(), 288)
        ])
    );
    let by_collection = summary::summarise(db, Scope::Collection(from_company.id))
        .await
        .unwrap();
    assert_eq!(by_collection.by_destination, company_summary.by_destination);
    // Another year holds nothing of theirs.
    let last_year = summary::summarise(
        db,
        Scope::Partner {
            partner_id: school.id,
            from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
        },
    )
    .await
    .unwrap();
    assert_eq!(last_year.received_g, 0);
    assert_clean(db).await;
}

#[tokio::test]
async fn the_ledger_check_names_a_tampered_balance() {
    let app = TestApp::spawn().await;
    let company = partner(&app.db, "Managem").await;
    let received = collection(&app.db, &company, today()).await;
    let pc = item(&app.db, &received).await;
    receive(&app.db, &pc, 4_500).await;
    assert_clean(&app.db).await;
    // History cannot be rewritten behind the ledger's back: the database refuses.
    for forgery in [
        "UPDATE movements SET mass_g = mass_g + 1",
        "DELETE FROM movements",
        "UPDATE operations SET reason = 'forged'",
        "DELETE FROM operations",
    ] {
        assert!(
            app.db.execute_unprepared(forgery).await.is_err(),
            "{forgery} must fail"
        );
    }
    app.db
        .execute_unprepared("UPDATE holders SET balance_g = balance_g + 7 WHERE kind = 'item'")
        .await
        .unwrap();
    let report = ledger::check::check(&app.db).await.unwrap();
    assert!(!report.is_clean());
    assert_eq!(report.sum_g, 7);
    let code = pc.code.unwrap();
    assert!(
        report
            .differences
            .iter()
            .any(|d| d.starts_with(&code) && d.contains("4507")),
        "{:#?}",
        report.differences
    );
    // The daily flows the reports read are summed afresh from the movements and compared.
    let flows = |report: &ledger::check::CheckReport| {
        report
            .differences
            .iter()
            .filter(|d| d.starts_with("daily flows"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(flows(&report), Vec::<String>::new());
    app.db
        .execute_unprepared("UPDATE flow_days SET mass_g = mass_g - 5")
        .await
        .unwrap();
    let report = ledger::check::check(&app.db).await.unwrap();
    let named = flows(&report);
    assert_eq!(named.len(), 1, "{named:#?}");
    assert!(
        named[0].contains("intake") && named[0].contains("4495 g") && named[0].contains("4500 g"),
        "{named:#?}"
    );
    app.db
        .execute_unprepared("DELETE FROM flow_days")
        .await
        .unwrap();
    let report = ledger::check::check(&app.db).await.unwrap();
    let named = flows(&report);
    assert!(
        named.len() == 1 && named[0].contains("none stored"),
        "{named:#?}"
    );
    app.db
        .execute_unprepared("UPDATE flow_day_totals SET movements = movements + 1")
        .await
        .unwrap();
    let report = ledger::check::check(&app.db).await.unwrap();
    let named = flows(&report);
    assert!(
        named
            .iter()
            .any(|d| d.contains("(flow_day_totals)") && d.contains("in 2 movements stored")),
        "{named:#?}"
    );
    // So are the items received each day, which the database's triggers keep.
    let intake = |report: &ledger::check::CheckReport| {
        report
            .differences
            .iter()
            .filter(|d| d.starts_with("intake of"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(intake(&report), Vec::<String>::new());
    app.db
        .execute_unprepared(
            "INSERT INTO intake_days (received_on, kind_id, weee_category, state, items, mass_g) \
             SELECT '2026-01-05', id, 3, 'received', 2, 500 FROM equipment_kinds \
             WHERE code = 'desktop_pc'",
        )
        .await
        .unwrap();
    let report = ledger::check::check(&app.db).await.unwrap();
    let named = intake(&report);
    assert!(
        named.len() == 1
            && named[0].contains("2026-01-05")
            && named[0].contains("2 pieces and 500 g kept, the items count 0 and 0 g"),
        "{named:#?}"
    );
}

#[tokio::test]
async fn the_ledger_api_answers_supervisors_only() {
    let app = TestApp::spawn().await;
    let supervisor = app.logged_in("samira", Role::Supervisor).await;
    let apprentice = app.logged_in("youssef", Role::Apprentice).await;
    let company = partner(&app.db, "Managem").await;
    let received = collection(&app.db, &company, today()).await;
    let pc = item(&app.db, &received).await;
    let intake = receive(&app.db, &pc, 2_500).await;
    let code = pc.code.clone().unwrap();

    let detail = app
        .get(&format!("/api/v1/holders/{code}"))
        .cookie(&supervisor)
        .send()
        .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text());
    assert_eq!(detail.json()["balance_g"], 2_500);
    let lower = app
        .get(&format!("/api/v1/holders/{}", code.to_lowercase()))
        .cookie(&supervisor)
        .send()
        .await;
    assert_eq!(lower.status, StatusCode::OK);
    let account = app
        .get("/api/v1/holders/intake")
        .cookie(&supervisor)
        .send()
        .await;
    assert_eq!(account.json()["balance_g"], -2_500);
    app.get(&format!("/api/v1/holders/{code}"))
        .cookie(&apprentice)
        .send()
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    app.get("/api/v1/holders/LT-00000000")
        .cookie(&supervisor)
        .send()
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");

    let traced = app
        .get(&format!("/api/v1/trace/{code}?direction=back"))
        .cookie(&supervisor)
        .send()
        .await;
    assert_eq!(traced.status, StatusCode::OK);
    assert_eq!(traced.json()["edges"][0]["mass_g"], 2_500);
    app.get("/api/v1/trace/IT-7K3M9QX4U")
        .cookie(&supervisor)
        .send()
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    app.get(&format!("/api/v1/trace/{code}?direction=sideways"))
        .cookie(&supervisor)
        .send()
        .await
        .problem(StatusCode::BAD_REQUEST, "bad_query");

    let summary = app
        .get(&format!("/api/v1/attribution?collection={}", received.code))
        .cookie(&supervisor)
        .send()
        .await;
    assert_eq!(summary.status, StatusCode::OK);
    assert_eq!(summary.json()["received_g"], 2_500);
    assert_eq!(summary.json()["by_destination"]["in_stock"], 2_500);
    let partner_summary = app
        .get(&format!("/api/v1/attribution?partner={}", company.id))
        .cookie(&supervisor)
        .send()
        .await;
    assert_eq!(partner_summary.json()["received_g"], 2_500);
    app.get("/api/v1/attribution")
        .cookie(&supervisor)
        .send()
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");

    // Corrections through the API: supervisors only, a reason, once, retry-safe.
    let path = format!("/api/v1/operations/{}/corrections", intake.operation.id);
    app.post(&path)
        .cookie(&apprentice)
        .json(&json!({ "reason": "typo" }))
        .send()
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let corrected = app
        .post(&path)
        .cookie(&supervisor)
        .header("idempotency-key", "fix-1")
        .json(&json!({ "reason": "weighed on the wrong scale" }))
        .send()
        .await;
    assert_eq!(
        corrected.status,
        StatusCode::CREATED,
        "{}",
        corrected.text()
    );
    let retried = app
        .post(&path)
        .cookie(&supervisor)
        .header("idempotency-key", "fix-1")
        .json(&json!({ "reason": "weighed on the wrong scale" }))
        .send()
        .await;
    assert_eq!(retried.status, StatusCode::OK);
    assert_eq!(retried.json()["id"], corrected.json()["id"]);
    app.post(&path)
        .cookie(&supervisor)
        .json(&json!({ "reason": "again" }))
        .send()
        .await
        .problem(StatusCode::CONFLICT, "already_corrected");
    let shown = app
        .get(&format!(
            "/api/v1/operations/{}",
            corrected.json()["id"].as_str().unwrap()
        ))
        .cookie(&supervisor)
        .send()
        .await;
    assert_eq!(shown.json()["corrects_id"], json!(intake.operation.id));
    assert_eq!(shown.json()["movements"][0]["mass_g"], 2_500);
}
