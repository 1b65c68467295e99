//! The audit log: written with every change, in its transaction, and never changed afterwards.

use axum::http::{Method, StatusCode};
use greenchip::domain::roles::Role;
use greenchip::entities::event;
use greenchip::services::events::{self, NewEvent};
use greenchip::services::users::{self, NewUser};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::helpers::TestApp;

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
