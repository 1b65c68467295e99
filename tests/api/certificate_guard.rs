//! What a valid certificate guards: its collections cannot change under it (reopening,
//! items' masses, fates, kinds), no collection is covered twice, a period does not end in the
//! future, and nothing is issued without `public_url`. The way out (revoke, change, issue
//! again) works and the new certificate supersedes the revoked one.

use axum::http::{Method, StatusCode};
use greenchip::entities::{certificate_collection, collection, event, item, operation};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::certificates::History;
use crate::helpers::{TestApp, Workshop};

/// A finished history with its collection certified; answers the certificate's number.
async fn certified(history: &History) -> String {
    history.mostly_processed().await;
    history.finish().await;
    let issued = history
        .issue(json!({ "collection": history.shop.collection }))
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text());
    issued.json()["number"].as_str().unwrap().to_string()
}

/// What a refused write must leave as it was.
#[derive(Debug, PartialEq)]
struct Written {
    items: u64,
    operations: u64,
    events: u64,
    collection_state: String,
    masses_g: Vec<i64>,
    states: Vec<String>,
}

async fn written(history: &History) -> Written {
    let db = &history.shop.app.db;
    let found = collection::Entity::find()
        .filter(collection::Column::Code.eq(history.shop.collection.as_str()))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let items = item::Entity::find()
        .filter(item::Column::CollectionId.eq(found.id))
        .all(db)
        .await
        .unwrap();
    Written {
        items: items.len() as u64,
        operations: operation::Entity::find().count(db).await.unwrap(),
        events: event::Entity::find().count(db).await.unwrap(),
        collection_state: found.state,
        masses_g: items.iter().map(|i| i.gross_mass_g).collect(),
        states: items.iter().map(|i| i.state.clone()).collect(),
    }
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

#[tokio::test]
async fn a_certified_collection_cannot_change_until_its_certificate_is_revoked() {
    let history = History::received().await;
    let number = certified(&history).await;
    let collection = history.shop.collection.clone();
    let before = written(&history).await;
    let reuse = operation::Entity::find()
        .filter(operation::Column::Kind.eq("reuse"))
        .one(&history.shop.app.db)
        .await
        .unwrap()
        .expect("the monitor's reuse");

    let reopened = history
        .supervisor_post(
            &format!("/api/v1/collections/{collection}/reopen"),
            json!({ "reason": "one more laptop turned up" }),
        )
        .await;
    let problem = reopened.problem(StatusCode::CONFLICT, "certified");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(&number) && detail.contains("Revoke") && detail.contains("reopen"),
        "{detail}"
    );

    let app = &history.shop.app;
    let supervisor = &history.shop.supervisor;
    let patch = |path: String, body: Value| async move {
        app.request(Method::PATCH, &path)
            .cookie(supervisor)
            .json(&body)
            .send()
            .await
    };
    let refusals = [
        (
            "an item's kind",
            patch(
                format!("/api/v1/items/{}", history.pc),
                json!({ "kind": "laptop" }),
            )
            .await,
        ),
        (
            "an item's quantity",
            patch(
                format!("/api/v1/items/{}", history.monitor),
                json!({ "quantity": 2 }),
            )
            .await,
        ),
        (
            "the reception date",
            patch(
                format!("/api/v1/collections/{collection}"),
                json!({ "received_on": (today() - chrono::Days::new(3)).to_string() }),
            )
            .await,
        ),
        (
            "an item's mass",
            history
                .supervisor_post(
                    &format!("/api/v1/items/{}/mass-corrections", history.monitor),
                    json!({ "mass_g": 4_000, "reason": "weighed again" }),
                )
                .await,
        ),
        (
            "the monitor's reuse",
            history
                .supervisor_post(
                    &format!("/api/v1/operations/{}/corrections", reuse.id),
                    json!({ "reason": "it came back" }),
                )
                .await,
        ),
        (
            "a new item",
            history
                .supervisor_post(
                    &format!("/api/v1/collections/{collection}/items"),
                    json!({ "kind": "laptop", "mass_g": 2_100 }),
                )
                .await,
        ),
        (
            "a station action",
            history
                .shop
                .act(
                    &history.refurbishment,
                    json!({ "client_action_id": "again", "item": history.monitor, "action": "start_refurbishment" }),
                )
                .await,
        ),
    ];
    for (what, refused) in refusals {
        assert_eq!(
            refused.status,
            StatusCode::CONFLICT,
            "{what}: {}",
            refused.text()
        );
        assert_eq!(refused.json()["code"], "certified", "{what}");
    }
    // Notes that no certificate states may still be written.
    let noted = patch(
        format!("/api/v1/collections/{collection}"),
        json!({ "notes": "stored in room 2" }),
    )
    .await;
    assert_eq!(noted.status, StatusCode::OK, "{}", noted.text());
    let after = written(&history).await;
    assert_eq!(after.events, before.events + 1, "only the notes");
    assert_eq!(
        Written {
            events: before.events,
            ..after
        },
        before,
        "a refused change wrote nothing"
    );

    // The way out: revoke without a reissue, reopen, receive, process, close, issue again.
    let revoked = history
        .supervisor_post(
            &format!("/api/v1/certificates/{number}/revocations"),
            json!({ "reason": "a laptop of this hand-over was found later", "reissue": false }),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::CREATED, "{}", revoked.text());
    let reopened = history
        .supervisor_post(
            &format!("/api/v1/collections/{collection}/reopen"),
            json!({ "reason": "one more monitor turned up" }),
        )
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.text());
    let late = history.shop.item("lcd_monitor", 4_100).await;
    history
        .act(
            &history.triage,
            "t-late",
            json!({ "item": late, "action": "triage", "decision": "reuse", "reason": "works" }),
        )
        .await;
    history
        .act(
            &history.refurbishment,
            "r1-late",
            json!({ "item": late, "action": "start_refurbishment" }),
        )
        .await;
    history
        .act(
            &history.refurbishment,
            "r2-late",
            json!({ "item": late, "action": "finish_refurbishment", "outcome": "repaired" }),
        )
        .await;
    history
        .act(
            &history.refurbishment,
            "r3-late",
            json!({ "item": late, "action": "mark_reused", "destination": "donated" }),
        )
        .await;
    let closed = history
        .supervisor_post(
            &format!("/api/v1/collections/{collection}/close"),
            json!({}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text());
    let again = history.issue(json!({ "collection": collection })).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    let again = again.json();
    let new = again["number"].as_str().unwrap();
    assert_eq!(again["status"]["state"], "valid");
    assert_eq!(again["received_g"], 9_400 + 10_000 + 4_300 + 4_100);
    assert_eq!(again["supersedes"], number.as_str(), "{again}");
    let old = history
        .shop
        .app
        .get(&format!("/api/v1/certificates/{number}/verify"))
        .cookie(&history.shop.supervisor)
        .send()
        .await
        .json();
    assert_eq!(old["status"]["state"], "superseded", "{old}");
    assert_eq!(old["status"]["by"], new);
}

#[tokio::test]
async fn a_collection_is_covered_by_one_valid_certificate_and_periods_end_by_today() {
    let history = History::received().await;
    let number = certified(&history).await;
    let partner_id = history.partner_id().await;
    let day = |offset: i64| (today() + chrono::Duration::days(offset)).to_string();

    // Periods over the certified collection, however their ends are moved: refused.
    for (from, to) in [(day(0), day(0)), (day(-1), day(0)), (day(-30), day(0))] {
        let refused = history
            .issue(json!({ "partner_id": partner_id, "from": from, "to": to }))
            .await;
        let problem = refused.problem(StatusCode::CONFLICT, "already_certified");
        assert!(
            problem["detail"].as_str().unwrap().contains(&number),
            "{problem}"
        );
    }
    // A period may not end in the future.
    let future = history
        .issue(json!({ "partner_id": partner_id, "from": day(-1), "to": day(1) }))
        .await;
    let problem = future.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem["errors"][0]["field"], "to", "{problem}");
    assert_eq!(history.certificates().await, 1);

    // Revoked, the collection may go into a period certificate; then not into its own.
    let revoked = history
        .supervisor_post(
            &format!("/api/v1/certificates/{number}/revocations"),
            json!({ "reason": "the annual summary replaces it", "reissue": false }),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::CREATED, "{}", revoked.text());
    let period = history
        .issue(json!({ "partner_id": partner_id, "from": day(-1), "to": day(0) }))
        .await;
    assert_eq!(period.status, StatusCode::CREATED, "{}", period.text());
    let period_number = period.json()["number"].as_str().unwrap().to_string();
    let refused = history
        .issue(json!({ "collection": history.shop.collection }))
        .await;
    let problem = refused.problem(StatusCode::CONFLICT, "already_certified");
    assert!(
        problem["detail"].as_str().unwrap().contains(&period_number),
        "{problem}"
    );
    assert_eq!(history.certificates().await, 2);
    let ready = history
        .get(&history.shop.supervisor, "/api/v1/certificates/ready")
        .await
        .json();
    assert_eq!(ready, json!([]));
}

/// On PostgreSQL the requests run on separate connections at once; SQLite's single writer
/// serialises them. Either way exactly one of two overlapping writes wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_issues_and_a_reopen_at_the_same_moment_leave_one_valid_certificate() {
    let history = History::received().await;
    history.mostly_processed().await;
    history.finish().await;
    let partner_id = history.partner_id().await;
    let collection = history.shop.collection.clone();
    let today = today().to_string();

    let (one, other) = tokio::join!(
        history.issue(json!({ "collection": collection })),
        history.issue(json!({ "partner_id": partner_id, "from": today, "to": today })),
    );
    let mut statuses = [one.status, other.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::CONFLICT],
        "{} / {}",
        one.text(),
        other.text()
    );
    let loser = if one.status == StatusCode::CONFLICT {
        &one
    } else {
        &other
    };
    assert_eq!(loser.json()["code"], "already_certified");
    assert_eq!(history.certificates().await, 1);
    let winner = if one.status == StatusCode::CREATED {
        one.json()
    } else {
        other.json()
    };

    // An issue racing a reopen: either the certificate covers a closed collection, or the
    // collection reopened and nothing was issued.
    let revoked = history
        .supervisor_post(
            &format!(
                "/api/v1/certificates/{}/revocations",
                winner["number"].as_str().unwrap()
            ),
            json!({ "reason": "racing a reopen", "reissue": false }),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::CREATED, "{}", revoked.text());
    let reopen = format!("/api/v1/collections/{collection}/reopen");
    let (issued, reopened) = tokio::join!(
        history.issue(json!({ "collection": collection })),
        history.supervisor_post(&reopen, json!({ "reason": "a late item" })),
    );
    let state = written(&history).await.collection_state;
    match (issued.status, reopened.status) {
        (StatusCode::CREATED, StatusCode::CONFLICT) => {
            assert_eq!(reopened.json()["code"], "certified");
            assert_eq!(state, "closed");
            assert_eq!(history.certificates().await, 2);
        }
        (StatusCode::CONFLICT, StatusCode::OK) => {
            assert_eq!(issued.json()["code"], "not_ready");
            assert_eq!(state, "open");
            assert_eq!(history.certificates().await, 1);
        }
        other => panic!(
            "both or neither went through: {other:?} {} / {}",
            issued.text(),
            reopened.text()
        ),
    }
}

#[tokio::test]
async fn issuing_without_public_url_is_refused_and_the_page_says_so_first() {
    let app = TestApp::with_config(|config| config.public_url = None).await;
    let history = History::received_by(Workshop::with(app).await).await;
    history.mostly_processed().await;
    history.finish().await;
    let collection = history.shop.collection.clone();

    let page = history.get(&history.shop.supervisor, "/certificates").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("data-notice=\"public_url_missing\""),
        "{}",
        page.text()
    );

    let refused = history.issue(json!({ "collection": collection })).await;
    let problem = refused.problem(StatusCode::CONFLICT, "public_url_missing");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("public_url") && detail.contains("127.0.0.1"),
        "{detail}"
    );

    let csrf = page
        .text()
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let from_page = history
        .shop
        .app
        .post("/certificates")
        .cookie(&history.shop.supervisor)
        .form(&[("csrf", &csrf), ("collection", &collection)])
        .send()
        .await;
    assert_eq!(
        from_page.status,
        StatusCode::CONFLICT,
        "{}",
        from_page.text()
    );
    assert!(
        from_page.text().contains("127.0.0.1"),
        "{}",
        from_page.text()
    );

    assert_eq!(history.certificates().await, 0);
    let covered = certificate_collection::Entity::find()
        .count(&history.shop.app.db)
        .await
        .unwrap();
    assert_eq!(covered, 0);
    let ready = history
        .get(&history.shop.supervisor, "/api/v1/certificates/ready")
        .await
        .json();
    assert_eq!(ready[0]["collection"], collection.as_str(), "still ready");
}
