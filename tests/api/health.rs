//! Health, metrics, the OpenAPI document and its browsable page.

use axum::http::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_is_ok_while_the_database_answers() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").send().await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json(),
        serde_json::json!({ "status": "ok", "db": "ok" })
    );
}

#[tokio::test]
async fn health_is_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.db.close_by_ref().await.expect("close the pool");
    let response = app.get("/healthz").send().await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.json()["db"], "unavailable");
}

#[tokio::test]
async fn metrics_count_requests_by_route_not_by_raw_path() {
    let app = TestApp::spawn().await;
    app.get("/healthz").send().await;
    app.get("/api/v1/tokens/0190c1f2-0000-7000-8000-000000000000")
        .send()
        .await;
    let response = app.get("/metrics").send().await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.content_type().starts_with("text/plain"));
    let text = response.text();
    assert!(
        text.contains(
            r#"greenchip_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"route="/api/v1/tokens/{id}""#), "{text}");
    assert!(!text.contains("0190c1f2"), "raw ids must not become labels");
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/openapi.json").send().await;
    assert_eq!(response.status, StatusCode::OK);
    let document = response.json();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/auth/login",
        "/api/v1/users",
        "/api/v1/tokens",
        "/api/v1/events",
        "/healthz",
    ] {
        assert!(document["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(
        document["components"]["securitySchemes"]
            .get("bearer")
            .is_some()
    );
}

/// A change to the API shows up in review as a change to this file.
/// Refresh it with `UPDATE_SNAPSHOTS=1 cargo test openapi`.
#[tokio::test]
async fn the_openapi_document_matches_its_snapshot() {
    let app = TestApp::spawn().await;
    let document = app.get("/api/v1/openapi.json").send().await.json();
    let rendered = serde_json::to_string_pretty(&document).unwrap() + "\n";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/api/snapshots/openapi.json"
    );
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &rendered).unwrap();
    }
    let snapshot = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        snapshot == rendered,
        "the OpenAPI document changed; review it and run UPDATE_SNAPSHOTS=1 cargo test openapi"
    );
}

#[tokio::test]
async fn the_api_docs_page_and_its_assets_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let page = app.get("/api/docs").send().await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("/assets/vendor/swagger-ui/swagger-ui-bundle.js"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external asset"
    );
    for (path, content_type) in [
        (
            "/assets/vendor/swagger-ui/swagger-ui-bundle.js",
            "text/javascript",
        ),
        ("/assets/vendor/swagger-ui/swagger-ui.css", "text/css"),
        ("/assets/js/api-docs.js", "text/javascript"),
        ("/assets/css/app.css", "text/css"),
    ] {
        let asset = app.get(path).send().await;
        assert_eq!(asset.status, StatusCode::OK, "{path}");
        assert!(asset.content_type().starts_with(content_type), "{path}");
        assert!(asset.body.len() > 100, "{path}");
    }
    let missing = app.get("/assets/nope.js").send().await;
    missing.problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").send().await;
    assert!(response.headers.get("x-request-id").is_some());
    let response = app
        .get("/healthz")
        .header("x-request-id", "scan-42")
        .send()
        .await;
    assert_eq!(response.headers["x-request-id"], "scan-42");
}
