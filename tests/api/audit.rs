//! The audit log: written with every change, in its transaction, and never changed afterwards.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use greenchip::domain::audit as domain_audit;
use greenchip::domain::audit::Break;
use greenchip::domain::ledger::{Movement, OperationKind};
use greenchip::domain::roles::Role;
use greenchip::entities::event;
use greenchip::services::audit::{self, Damage};
use greenchip::services::events::{self, NewEvent};
use greenchip::services::users::{self, NewUser};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Statement,
};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, TestDb, Workshop};
use crate::ledger;

#[tokio::test]
async fn creating_a_user_writes_one_event_and_a_refused_one_writes_none() {
    let app = TestApp::spawn().await;
    let before = event::Entity::find().count(&app.db).await.unwrap();
    let new = NewUser {
        name: "samira".into(),
        display_name: None,
        email: None,
        role: Role::Supervisor,
        password: Some("long enough".into()),
        partner_id: None,
    };
    users::create(&app.db, new.clone(), None).await.unwrap();
    let after = event::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(after, before + 1);

    assert!(users::create(&app.db, new, None).await.is_err());
    assert_eq!(event::Entity::find().count(&app.db).await.unwrap(), after);

    let listed = events::list(&app.db, Default::default()).await.unwrap();
    assert_eq!(listed[0].kind, "user.created");
    assert_eq!(listed[0].subjects, json!(["samira"]));
}

#[tokio::test]
async fn supervisors_read_the_log_newest_first_and_others_may_not() {
    let app = TestApp::spawn().await;
    let supervisor = app.logged_in("samira", Role::Supervisor).await;
    let apprentice = app.logged_in("youssef", Role::Apprentice).await;
    let response = app
        .get("/api/v1/events?kind=auth.login")
        .cookie(&supervisor)
        .send()
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let listed = response.json();
    let subjects: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["subjects"][0].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["youssef", "samira"]);
    let refused = app.get("/api/v1/events").cookie(&apprentice).send().await;
    refused.problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn the_api_offers_no_way_to_change_or_remove_an_event() {
    let app = TestApp::spawn().await;
    let admin = app.logged_in("root", Role::Admin).await;
    let id = events::list(&app.db, Default::default()).await.unwrap()[0].id;

    // The published API has no operation but GET on any events path.
    let document = app.get("/api/v1/openapi.json").send().await.json();
    for (path, operations) in document["paths"].as_object().unwrap() {
        if path.contains("event") {
            let methods: Vec<&String> = operations.as_object().unwrap().keys().collect();
            assert_eq!(methods, ["get"], "{path} offers {methods:?}");
        }
    }
    // And the router refuses every other method, even to an admin.
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        for path in ["/api/v1/events".to_string(), format!("/api/v1/events/{id}")] {
            let response = app
                .request(method.clone(), &path)
                .cookie(&admin)
                .json(&json!({}))
                .send()
                .await;
            assert!(
                matches!(
                    response.status,
                    StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND
                ),
                "{method} {path} answered {}",
                response.status
            );
        }
    }
    assert_eq!(
        events::list(&app.db, Default::default()).await.unwrap()[0].id,
        id
    );
}

#[tokio::test]
async fn the_database_itself_refuses_to_change_or_delete_an_event() {
    let app = TestApp::spawn().await;
    let recorded = events::record(&app.db, NewEvent::new("test.fact", None).subject("IT-0000"))
        .await
        .unwrap();
    let update = app
        .db
        .execute_unprepared("UPDATE events SET kind = 'test.forged'")
        .await;
    assert!(update.is_err(), "an UPDATE of events must fail");
    let delete = app.db.execute_unprepared("DELETE FROM events").await;
    assert!(delete.is_err(), "a DELETE of events must fail");
    let stored = event::Entity::find_by_id(recorded.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.kind, "test.fact");
}

#[tokio::test]
async fn an_idempotency_key_is_recorded_once() {
    let app = TestApp::spawn().await;
    let keyed = || NewEvent {
        idempotency_key: Some("scan-7f3a".into()),
        ..NewEvent::new("test.keyed", None)
    };
    events::record(&app.db, keyed()).await.unwrap();
    let again = events::record(&app.db, keyed()).await;
    assert!(
        matches!(
            again.as_ref().map_err(|e| e.sql_err()),
            Err(Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
        ),
        "{again:?}"
    );
    let kept = events::list(
        &app.db,
        greenchip::services::events::EventFilter {
            kind: Some("test.keyed".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(kept.len(), 1);
}

// ---- The hash chain -------------------------------------------------------------------------

/// A workshop's day on the database: logins, users, a collection, items received over the API,
/// a station where an apprentice signs in and out, apprentices' accounts, and eight writers
/// posting transfers at once. Answers the app and its database URL.
async fn busy_workshop() -> (TestApp, String) {
    let mut url = String::new();
    let app = TestApp::with_config(|config| url = config.database_url.clone()).await;
    let shop = Workshop::with(app).await;
    for mass_g in [8_400, 2_100, 12_000] {
        shop.item("desktop_pc", mass_g).await;
    }
    let bench = shop.station("triage").await;
    shop.sign_in(&bench).await;
    let signed_out = shop
        .app
        .post("/api/v1/station/sign-out")
        .cookie(&bench.1)
        .send()
        .await;
    assert_eq!(signed_out.status, StatusCode::NO_CONTENT);

    let db = &shop.app.db;
    let school = ledger::partner(db, "École Al Jisr").await;
    let received = ledger::collection(db, &school, Utc::now().date_naive()).await;
    let mut lots = Vec::new();
    for _ in 0..4 {
        let bundle = ledger::item(db, &received).await;
        ledger::receive(db, &bundle, 20_000).await;
        let bin = ledger::lot(db, "CU-CABLE").await;
        ledger::post(
            db,
            OperationKind::Dismantle,
            vec![Movement::new(bundle.id, bin.id, 20_000)],
        )
        .await
        .unwrap();
        lots.push(bin.id);
    }
    for name in ["amine", "salma", "karim"] {
        users::create(
            db,
            NewUser {
                name: name.into(),
                display_name: None,
                email: None,
                role: Role::Apprentice,
                password: None,
                partner_id: None,
            },
            None,
        )
        .await
        .unwrap();
    }
    let mut tasks = Vec::new();
    for task in 0..8usize {
        let db = db.clone();
        let lots = lots.clone();
        tasks.push(tokio::spawn(async move {
            for step in 0..8usize {
                let from = lots[(task + step) % 4];
                let to = lots[(task + step + 1) % 4];
                ledger::post(
                    &db,
                    OperationKind::Transfer,
                    vec![Movement::new(from, to, 100 + (task * 7 + step) as i64)],
                )
                .await
                .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    (shop.app, url)
}

/// The event at this position of the chain.
async fn event_at(db: &DatabaseConnection, seq: i64) -> event::Model {
    event::Entity::find()
        .filter(event::Column::Seq.eq(seq))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("an event at sequence {seq}"))
}

/// Someone with write access to the database goes around the append-only guard.
async fn unguard(db: &DatabaseConnection) {
    let statements: &[&str] = match db.get_database_backend() {
        DbBackend::Postgres => &["DROP TRIGGER events_append_only ON events"],
        _ => &[
            "DROP TRIGGER events_no_update",
            "DROP TRIGGER events_no_delete",
        ],
    };
    for statement in statements {
        db.execute_unprepared(statement).await.unwrap();
    }
}

fn audit_verify(url: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_greenchip"))
        .args(["audit", "verify", "--database-url", url])
        .env("GREENCHIP_CONFIG", "/nonexistent/greenchip.toml")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run greenchip")
}

#[tokio::test]
async fn every_event_is_chained_in_sequence_and_the_chain_verifies() {
    let (app, url) = busy_workshop().await;
    let events = event::Entity::find().count(&app.db).await.unwrap();
    assert!(events > 80, "{events} events");

    let report = audit::verify(&app.db).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.damage);
    assert_eq!(report.verified, events);
    assert_eq!(report.head_seq, events as i64);
    let last = event_at(&app.db, events as i64).await;
    assert_eq!(report.head_hash, last.hash);
    let first = event_at(&app.db, 1).await;
    assert_eq!(first.prev_hash, domain_audit::GENESIS);

    let output = audit_verify(&url);
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        said.starts_with(&format!("audit chain intact: {events} events verified")),
        "{said}"
    );
}

#[tokio::test]
async fn an_event_edited_in_the_database_is_named_by_verification() {
    let (app, url) = busy_workshop().await;
    let events = event::Entity::find().count(&app.db).await.unwrap() as i64;
    let target = event_at(&app.db, events / 2).await;
    unguard(&app.db).await;
    let forged = match app.db.get_database_backend() {
        DbBackend::Postgres => {
            "UPDATE events SET payload = payload || '{\"forged\": true}'::jsonb WHERE seq = $1"
        }
        _ => {
            "UPDATE events SET payload = json_set(payload, '$.forged', json('true')) WHERE seq = $1"
        }
    };
    let changed = app
        .db
        .execute_raw(Statement::from_sql_and_values(
            app.db.get_database_backend(),
            forged,
            [target.seq.into()],
        ))
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 1);

    let report = audit::verify(&app.db).await.unwrap();
    match report.damage {
        Some(Damage::Event {
            id,
            seq,
            ref kind,
            problem: Break::HashMismatch { .. },
        }) => {
            assert_eq!(
                (id, seq, kind.as_str()),
                (target.id, target.seq, target.kind.as_str())
            );
        }
        other => panic!(
            "expected a hash mismatch at {}, found {other:?}",
            target.seq
        ),
    }
    assert_eq!(report.verified, (target.seq - 1) as u64);

    let output = audit_verify(&url);
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains(&format!(
            "event {} (sequence {}, {}): hash mismatch",
            target.id, target.seq, target.kind
        )),
        "{said}"
    );
}

#[tokio::test]
async fn an_event_whose_hash_was_recomputed_breaks_the_next_link() {
    let (app, _url) = busy_workshop().await;
    let target = event_at(&app.db, 5).await;
    let mut forged = target.clone();
    forged.kind = "user.forged".into();
    forged.hash = domain_audit::hash(&forged.prev_hash, &domain_audit::link_of(&forged));
    unguard(&app.db).await;
    app.db
        .execute_raw(Statement::from_sql_and_values(
            app.db.get_database_backend(),
            "UPDATE events SET kind = $1, hash = $2 WHERE seq = $3",
            [
                forged.kind.clone().into(),
                forged.hash.clone().into(),
                5i64.into(),
            ],
        ))
        .await
        .unwrap();
    let next = event_at(&app.db, 6).await;
    let report = audit::verify(&app.db).await.unwrap();
    assert!(
        matches!(
            report.damage,
            Some(Damage::Event { id, seq: 6, problem: Break::PrevHashMismatch { .. }, .. }) if id == next.id
        ),
        "{:?}",
        report.damage
    );
}

#[tokio::test]
async fn a_deleted_event_is_a_gap_and_a_deleted_last_event_shows_at_the_head() {
    let (app, _url) = busy_workshop().await;
    // Events of user accounts: no ledger operation refers to them.
    let created: Vec<event::Model> = event::Entity::find()
        .filter(event::Column::Kind.eq("user.created"))
        .order_by_asc(event::Column::Seq)
        .all(&app.db)
        .await
        .unwrap();
    let gone = &created[created.len() / 2];
    unguard(&app.db).await;
    let delete = |seq: i64| {
        Statement::from_sql_and_values(
            app.db.get_database_backend(),
            "DELETE FROM events WHERE seq = $1",
            [seq.into()],
        )
    };
    app.db.execute_raw(delete(gone.seq)).await.unwrap();
    let after = event_at(&app.db, gone.seq + 1).await;
    let report = audit::verify(&app.db).await.unwrap();
    assert_eq!(
        report.damage,
        Some(Damage::Event {
            id: after.id,
            seq: after.seq,
            kind: after.kind.clone(),
            problem: Break::Gap {
                expected_seq: gone.seq
            },
        })
    );
    let shown = report.damage.unwrap().to_string();
    assert!(shown.contains("gap in sequence"), "{shown}");

    // On a fresh chain, removing the newest event leaves every link sound: the head tells.
    let (app, _url) = busy_workshop().await;
    users::create(
        &app.db,
        NewUser {
            name: "last-one".into(),
            display_name: None,
            email: None,
            role: Role::Apprentice,
            password: None,
            partner_id: None,
        },
        None,
    )
    .await
    .unwrap();
    let head = audit::verify(&app.db).await.unwrap().head_seq;
    unguard(&app.db).await;
    app.db
        .execute_raw(Statement::from_sql_and_values(
            app.db.get_database_backend(),
            "DELETE FROM events WHERE seq = $1",
            [head.into()],
        ))
        .await
        .unwrap();
    let report = audit::verify(&app.db).await.unwrap();
    assert!(
        matches!(report.damage, Some(Damage::Head { head_seq, last_seq, .. }) if head_seq == head && last_seq == head - 1),
        "{:?}",
        report.damage
    );
}

#[tokio::test]
async fn events_recorded_before_the_chain_existed_are_chained_by_the_migration_in_id_order() {
    let (_test_db, url) = TestDb::create().await;
    let config = greenchip::Config {
        database_url: url,
        ..greenchip::Config::default()
    };
    let db = greenchip::db::open(&config).await.unwrap();
    Migrator::up(&db, Some(6)).await.unwrap();
    let backend = db.get_database_backend();
    let at = Utc::now();
    // Written out of id order, with keys in no particular order and nanoseconds.
    let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    for (index, id) in ids.iter().enumerate().rev() {
        let insert = match backend {
            DbBackend::Postgres => {
                "INSERT INTO events (id, at, actor_id, station_id, kind, subjects, payload, idempotency_key) VALUES ($1, $2, NULL, NULL, $3, $4::jsonb, $5::jsonb, $6)"
            }
            _ => {
                "INSERT INTO events (id, at, actor_id, station_id, kind, subjects, payload, idempotency_key) VALUES ($1, $2, NULL, NULL, $3, $4, $5, $6)"
            }
        };
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            insert,
            [
                (*id).into(),
                (at + chrono::Duration::nanoseconds(index as i64 * 1_001)).into(),
                format!("legacy.{index}").into(),
                "[\"IT-1\"]".into(),
                format!("{{\"z\": {index}, \"a\": [1, {{\"y\": 2, \"b\": 3}}]}}").into(),
                (index == 1).then(|| "scan-legacy".to_string()).into(),
            ],
        ))
        .await
        .unwrap();
    }
    Migrator::up(&db, None).await.unwrap();

    let chained = event::Entity::find()
        .order_by_asc(event::Column::Seq)
        .all(&db)
        .await
        .unwrap();
    let seen: Vec<(Uuid, i64)> = chained.iter().map(|e| (e.id, e.seq)).collect();
    assert_eq!(seen, vec![(ids[0], 1), (ids[1], 2), (ids[2], 3)]);
    // The same hashes as the service computes: one format, whoever chains.
    let mut prev = domain_audit::GENESIS.to_string();
    for stored in &chained {
        assert_eq!(stored.prev_hash, prev);
        assert_eq!(
            stored.hash,
            domain_audit::hash(&prev, &domain_audit::link_of(stored))
        );
        prev = stored.hash.clone();
    }
    let report = audit::verify(&db).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.damage);
    assert_eq!((report.verified, report.head_seq), (3, 3));

    // Appending carries on from the migrated head; the events stay append-only.
    let txn = greenchip::db::begin_write(&db).await.unwrap();
    let next = events::record(&txn, NewEvent::new("test.after", None))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!((next.seq, next.prev_hash.as_str()), (4, prev.as_str()));
    assert!(audit::verify(&db).await.unwrap().is_intact());
    assert!(db.execute_unprepared("DELETE FROM events").await.is_err());
    db.close().await.unwrap();
}
