//! The database going away: answers while it is gone, and recovery without a restart.
//! (The crash, PostgreSQL-restart and several-instances runs are scripts:
//! tests/reliability/, figures in docs/reliability.md.)

use axum::http::StatusCode;
use greenchip::domain::roles::Role;
use sea_orm::{ConnectionTrait, DbBackend};

use crate::helpers::TestApp;

#[tokio::test]
async fn a_request_while_the_database_is_gone_is_503_problem_with_retry_after() {
    let app = TestApp::spawn().await;
    let cookie = app.logged_in("samira", Role::Supervisor).await;
    app.db.close_by_ref().await.expect("close the pool");
    let response = app.get("/api/v1/partners").cookie(&cookie).send().await;
    let problem = response.problem(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable");
    assert_eq!(problem["detail"], "the database is not available");
    assert_eq!(response.headers["retry-after"], "2");
    let written = app
        .post("/api/v1/partners")
        .cookie(&cookie)
        .json(&serde_json::json!({ "name": "Lycée", "kind": "school" }))
        .send()
        .await;
    written.problem(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable");
}

/// A PostgreSQL restart breaks every pooled connection; the next requests must find fresh
/// ones by themselves, not fail on the dead ones.
#[tokio::test]
async fn connections_killed_under_the_service_are_replaced_by_themselves() {
    let app = TestApp::spawn().await;
    if app.db.get_database_backend() != DbBackend::Postgres {
        return; // SQLite is a file: there is no server to lose.
    }
    let cookie = app.logged_in("samira", Role::Supervisor).await;
    for _ in 0..3 {
        let answers = four_reads(&app, &cookie).await;
        assert!(
            answers.iter().all(|status| *status == StatusCode::OK),
            "{answers:?}"
        );
        // Every backend of this database, this one included, as a restart would.
        let _ = app
            .db
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database()",
            )
            .await;
    }
    let response = app.get("/healthz").send().await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
}

/// Four requests at once, so the pool holds several connections to be killed.
async fn four_reads(app: &TestApp, cookie: &str) -> Vec<StatusCode> {
    let (a, b, c, d) = tokio::join!(
        app.get("/api/v1/partners").cookie(cookie).send(),
        app.get("/api/v1/collections").cookie(cookie).send(),
        app.get("/api/v1/lots").cookie(cookie).send(),
        app.get("/api/v1/auth/me").cookie(cookie).send(),
    );
    vec![a.status, b.status, c.status, d.status]
}
