//! Bad requests always answer RFC 9457 problem+json, never a 500.

use axum::http::{Method, StatusCode};
use greenchip::domain::roles::Role;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let response = app
        .post("/api/v1/auth/login")
        .raw_body(Some("application/json"), "{\"login\": \"samira\",")
        .send()
        .await;
    response.problem(StatusCode::BAD_REQUEST, "malformed_json");
}

#[tokio::test]
async fn a_wrongly_typed_field_is_a_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let response = app
        .post("/api/v1/auth/login")
        .json(&json!({ "login": 42, "password": "x" }))
        .send()
        .await;
    let problem = response.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem["errors"][0]["field"], "login", "{problem}");

    let response = app
        .post("/api/v1/auth/login")
        .json(&json!({ "password": "x" }))
        .send()
        .await;
    let problem = response.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem["errors"][0]["field"], "login", "{problem}");

    let response = app
        .post("/api/v1/auth/login")
        .json(&json!({ "login": "a", "password": "b", "admin": true }))
        .send()
        .await;
    response.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
}

#[tokio::test]
async fn a_body_without_json_content_type_is_a_415_problem() {
    let app = TestApp::spawn().await;
    let response = app
        .post("/api/v1/auth/login")
        .raw_body(Some("text/plain"), "{}")
        .send()
        .await;
    response.problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[tokio::test]
async fn an_oversized_body_is_a_413_problem() {
    let app = TestApp::with_config(|config| config.max_body_bytes = 1024).await;
    let big = format!(
        "{{\"login\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(4096)
    );
    let response = app
        .post("/api/v1/auth/login")
        .raw_body(Some("application/json"), big)
        .send()
        .await;
    response.problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/no-such-thing").send().await;
    response.problem(StatusCode::NOT_FOUND, "not_found");
    // Even when a browser asks, the API answers problem+json.
    let response = app
        .get("/api/v1/no-such-thing")
        .header("accept", "text/html")
        .send()
        .await;
    response.problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn a_browser_gets_a_page_for_an_unknown_address() {
    let app = TestApp::spawn().await;
    let response = app
        .get("/no-such-page")
        .header("accept", "text/html,application/xhtml+xml")
        .header("accept-language", "fr")
        .send()
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(response.content_type().starts_with("text/html"));
    assert!(response.text().contains("Page introuvable"));
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let app = TestApp::spawn().await;
    let response = app.request(Method::PUT, "/api/v1/auth/login").send().await;
    response.problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn a_malformed_path_or_query_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let cookie = app.logged_in("samira", Role::Supervisor).await;
    let response = app
        .request(Method::DELETE, "/api/v1/tokens/not-a-uuid")
        .cookie(&cookie)
        .send()
        .await;
    response.problem(StatusCode::BAD_REQUEST, "bad_path");
    let response = app
        .get("/api/v1/events?limit=many")
        .cookie(&cookie)
        .send()
        .await;
    response.problem(StatusCode::BAD_REQUEST, "bad_query");
}
