//! Hostile input: oversized and deeply nested bodies, invalid UTF-8, numbers out of range, SQL
//! metacharacters and markup in every text field (stored verbatim, shown escaped), and
//! arbitrary JSON thrown at the scan endpoint. Bad input gets a clear 4xx and changes nothing.

use axum::http::{Method, StatusCode};
use greenchip::domain::roles::Role;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::certificates::History;
use crate::helpers::{TestApp, TestResponse, Workshop};

const SCRIPT: &str = "<script>alert(1)</script>";
const SCRIPT_ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;";
const ATTRIBUTE_ESCAPED: &str = "&#34;&#62;&#60;img src=x onerror=alert(1)&#62;";
const SQL: &str = "'; DROP TABLE items;--";
const ATTRIBUTE: &str = "\"><img src=x onerror=alert(1)>";

/// Rows in a few tables: what a refused request must leave as it was.
async fn counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "partners",
        "collections",
        "items",
        "events",
        "operations",
        "movements",
        "scans",
    ] {
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        counts.push(row.try_get::<i64>("", "n").unwrap());
    }
    counts
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> String {
    let response = app
        .get(path)
        .cookie(cookie)
        .header("accept", "text/html")
        .send()
        .await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{path}: {}",
        response.text()
    );
    response.text()
}

/// The markup is shown as text: its escaped form is on the page and the raw tag is not.
fn assert_escaped(html: &str, path: &str) {
    assert_escaped_as(html, path, SCRIPT_ESCAPED)
}

fn assert_escaped_as(html: &str, path: &str, escaped: &str) {
    assert!(
        !html.contains(SCRIPT) && !html.contains("<img src=x"),
        "{path} shows raw markup"
    );
    assert!(
        html.contains(escaped),
        "{path} does not show the escaped name: {}",
        html.find("alert(1)")
            .map(|at| &html[at.saturating_sub(40)..at + 30])
            .unwrap_or(html)
    );
}

#[tokio::test]
async fn markup_and_sql_in_text_fields_are_stored_verbatim_and_shown_as_text() {
    let history = History::received_by(Workshop::new().await).await;
    let shop = &history.shop;
    let app = &shop.app;
    let supervisor = &shop.supervisor;
    let collection = app
        .get(&format!("/api/v1/collections/{}", shop.collection))
        .cookie(supervisor)
        .send()
        .await
        .json();
    let partner_id = collection["partner_id"].as_str().unwrap().to_string();

    // Every text field of the partner, the collection, an item, a station and a user.
    let partner_fields =
        json!({ "name": SCRIPT, "address": SQL, "contact": ATTRIBUTE, "notes": SQL });
    let changed = app
        .request(Method::PATCH, &format!("/api/v1/partners/{partner_id}"))
        .cookie(supervisor)
        .json(&partner_fields)
        .send()
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    let collection_fields = json!({ "reference": SCRIPT, "place": SQL, "notes": ATTRIBUTE });
    let changed = app
        .request(
            Method::PATCH,
            &format!("/api/v1/collections/{}", shop.collection),
        )
        .cookie(supervisor)
        .json(&collection_fields)
        .send()
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    let item_fields =
        json!({ "brand": SCRIPT, "model": SQL, "serial": ATTRIBUTE, "condition_notes": SCRIPT });
    let changed = app
        .request(Method::PATCH, &format!("/api/v1/items/{}", history.monitor))
        .cookie(supervisor)
        .json(&item_fields)
        .send()
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    let station = app
        .post("/api/v1/stations")
        .cookie(supervisor)
        .json(&json!({ "name": SCRIPT, "kind": "sorting" }))
        .send()
        .await;
    assert_eq!(station.status, StatusCode::CREATED, "{}", station.text());
    let station = station.json()["code"].as_str().unwrap().to_string();
    let admin = app.logged_in("root", Role::Admin).await;
    let user = app
        .post("/api/v1/users")
        .cookie(&admin)
        .json(&json!({ "name": "hostile", "display_name": SCRIPT, "role": "apprentice" }))
        .send()
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.text());
    let user_id = user.json()["user"]["id"].as_str().unwrap().to_string();

    // Stored exactly as sent.
    for (path, sent) in [
        (format!("/api/v1/partners/{partner_id}"), &partner_fields),
        (
            format!("/api/v1/collections/{}", shop.collection),
            &collection_fields,
        ),
        (format!("/api/v1/items/{}", history.monitor), &item_fields),
    ] {
        let stored = app.get(&path).cookie(supervisor).send().await.json();
        for (field, value) in sent.as_object().unwrap() {
            assert_eq!(&stored[field], value, "{path} {field}");
        }
    }
    // The metacharacters dropped nothing.
    assert_eq!(counts(app).await[2], 3, "the items are all there");

    // Certified, so that the certificate pages and the portal have it too.
    history.mostly_processed().await;
    history.finish().await;
    let issued = history
        .issue(json!({ "collection": shop.collection }))
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text());
    let number = issued.json()["number"].as_str().unwrap().to_string();
    let code = issued.json()["code"].as_str().unwrap().to_string();
    let partner_user = history.partner_login("hostile-partner").await;

    for path in [
        "/partners".to_string(),
        "/collections".to_string(),
        format!("/collections/{}", shop.collection),
        format!("/items/{}", history.monitor),
        "/certificates".to_string(),
        format!("/verify/{number}"),
        "/stations".to_string(),
        format!("/apprentices/{user_id}"),
        "/apprentices".to_string(),
    ] {
        let html = page(app, supervisor, &path).await;
        assert_escaped(&html, &path);
    }
    let portal = page(app, &partner_user, "/portal").await;
    assert_escaped(&portal, "/portal");
    // The portal's page of a collection lists the items (their serials) under the partner's own heading.
    let path = format!("/portal/collections/{}", shop.collection);
    let html = page(app, &partner_user, &path).await;
    assert_escaped_as(&html, &path, ATTRIBUTE_ESCAPED);
    // The verification page is public: anyone holding the printed QR code sees it.
    let public = app
        .get(&format!("/verify/{code}"))
        .header("accept", "text/html")
        .send()
        .await;
    assert_escaped(&public.text(), "/verify (public)");
    let kiosk = page(app, supervisor, &format!("/stations/{station}")).await;
    assert_escaped(&kiosk, "the kiosk");
}

#[tokio::test]
async fn the_body_limit_exists_and_answers_413_for_json_and_forms() {
    let app = TestApp::spawn().await;
    let cookie = app.logged_in("samira", Role::Supervisor).await;
    let before = counts(&app).await;
    let limit = greenchip::Config::default().max_body_bytes;
    assert!(limit > 0 && limit <= 16 * 1024 * 1024, "{limit}");
    let big_json = format!(
        "{{\"name\": \"{}\", \"kind\": \"school\"}}",
        "a".repeat(limit + 1)
    );
    let response = app
        .post("/api/v1/partners")
        .cookie(&cookie)
        .raw_body(Some("application/json"), big_json)
        .send()
        .await;
    response.problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let big_form = format!("csrf=x&kind=school&name={}", "a".repeat(limit + 1));
    let response = app
        .post("/partners")
        .cookie(&cookie)
        .raw_body(Some("application/x-www-form-urlencoded"), big_form)
        .send()
        .await;
    response.problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    let app = TestApp::spawn().await;
    let cookie = app.logged_in("samira", Role::Supervisor).await;
    let depth = 100_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let in_a_field = format!("{{\"name\": \"x\", \"kind\": \"school\", \"notes\": {arrays}}}");
    for body in [arrays, objects, in_a_field] {
        let response = app
            .post("/api/v1/partners")
            .cookie(&cookie)
            .raw_body(Some("application/json"), body)
            .send()
            .await;
        assert!(
            matches!(response.status.as_u16(), 400 | 422),
            "{}",
            response.text()
        );
        assert_eq!(response.content_type(), "application/problem+json");
    }
}

#[tokio::test]
async fn invalid_utf8_in_bodies_queries_and_paths_is_a_400() {
    let app = TestApp::spawn().await;
    let cookie = app.logged_in("samira", Role::Supervisor).await;
    let before = counts(&app).await;
    let mut json_bytes = b"{\"name\": \"".to_vec();
    json_bytes.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    json_bytes.extend_from_slice(b"\", \"kind\": \"school\"}");
    let response = app
        .post("/api/v1/partners")
        .cookie(&cookie)
        .raw_body(Some("application/json"), json_bytes)
        .send()
        .await;
    response.problem(StatusCode::BAD_REQUEST, "malformed_json");
    for form in [
        "csrf=x&kind=school&name=%FF%FE",
        "csrf=x&kind=school&name=\u{0}",
    ] {
        let response = app
            .post("/partners")
            .cookie(&cookie)
            .raw_body(Some("application/x-www-form-urlencoded"), form)
            .send()
            .await;
        assert!(
            response.status.is_client_error(),
            "{form}: {}",
            response.text()
        );
    }
    let mut raw_form = b"csrf=x&kind=school&name=".to_vec();
    raw_form.extend_from_slice(&[0xff, 0xfe]);
    let response = app
        .post("/partners")
        .cookie(&cookie)
        .raw_body(Some("application/x-www-form-urlencoded"), raw_form)
        .send()
        .await;
    assert!(response.status.is_client_error(), "{}", response.text());
    // A query that is not UTF-8 is read lossily (U+FFFD) and matches nothing: harmless.
    for path in ["/api/v1/items?q=%FF%FE", "/api/v1/partners?q=%C3"] {
        let response = app.get(path).cookie(&cookie).send().await;
        assert!(
            matches!(response.status.as_u16(), 200 | 400),
            "{path}: {} {}",
            response.status,
            response.text()
        );
    }
    for path in [
        "/api/v1/items/%FF%FE",
        "/api/v1/collections/%C3%28",
        "/api/v1/trace/%FF?direction=%FF",
    ] {
        let response = app.get(path).cookie(&cookie).send().await;
        assert!(
            response.status.is_client_error(),
            "{path}: {} {}",
            response.status,
            response.text()
        );
        assert_eq!(
            response.content_type(),
            "application/problem+json",
            "{path}"
        );
    }
    for path in ["/items/%FF%FE", "/partners?q=%FF", "/collections?q=%C3"] {
        let response = app
            .get(path)
            .cookie(&cookie)
            .header("accept", "text/html")
            .send()
            .await;
        assert!(
            !response.status.is_server_error(),
            "{path}: {} {}",
            response.status,
            response.text()
        );
    }
    assert_eq!(counts(&app).await, before);
}

/// PostgreSQL cannot store U+0000 in text, so it is refused before anything reads it, the same
/// on both databases: in a JSON string, a form field, a path and a query string.
#[tokio::test]
async fn the_nul_character_is_refused_wherever_text_comes_in() {
    let shop = Workshop::new().await;
    let station = shop.station("triage").await;
    shop.sign_in(&station).await;
    let app = &shop.app;
    let before = counts(app).await;
    let partner = |name: &str| {
        app.post("/api/v1/partners")
            .cookie(&shop.supervisor)
            .json(&json!({"name": name, "kind": "school"}))
            .send()
    };
    partner("Lycée\u{0}Ibn Sina")
        .await
        .problem(StatusCode::BAD_REQUEST, "nul_character");
    let scan = app
        .post("/api/v1/scans")
        .cookie(&station.1)
        .json(&json!({"station": station.0, "raw": "IT-1", "client_scan_id": "\u{0}"}))
        .send()
        .await;
    scan.problem(StatusCode::BAD_REQUEST, "nul_character");
    let form = app
        .post("/partners")
        .cookie(&shop.supervisor)
        .raw_body(
            Some("application/x-www-form-urlencoded"),
            "csrf=x&kind=school&name=a%00b",
        )
        .send()
        .await;
    form.problem(StatusCode::BAD_REQUEST, "nul_character");
    for path in [
        "/api/v1/items/IT-%00",
        "/api/v1/partners?q=%00",
        "/api/v1/collections?partner=a%00",
    ] {
        let response = app.get(path).cookie(&shop.supervisor).send().await;
        response.problem(StatusCode::BAD_REQUEST, "nul_character");
    }
    assert_eq!(counts(app).await, before);
    // The same text without the NUL is taken: the refusal is about the character alone.
    assert_eq!(partner("Lycée Ibn Sina").await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn masses_out_of_range_and_of_the_wrong_type_are_refused() {
    let shop = Workshop::new().await;
    let app = &shop.app;
    let before = counts(app).await;
    let path = format!("/api/v1/collections/{}/items", shop.collection);
    for mass in [
        "1e30",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "-5",
        "0",
        "1.5",
        "\"12\"",
        "null",
        "true",
        "[1]",
    ] {
        let body = format!("{{\"kind\": \"desktop_pc\", \"mass_g\": {mass}}}");
        let response = app
            .post(&path)
            .cookie(&shop.supervisor)
            .raw_body(Some("application/json"), body)
            .send()
            .await;
        let problem = response.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert!(problem.to_string().contains("mass_g"), "{mass}: {problem}");
    }
    for quantity in ["2147483648", "-1", "0", "1000000000"] {
        let body =
            format!("{{\"kind\": \"lcd_monitor\", \"mass_g\": 500, \"quantity\": {quantity}}}");
        let response = app
            .post(&path)
            .cookie(&shop.supervisor)
            .raw_body(Some("application/json"), body)
            .send()
            .await;
        response.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    }
    // The same in a page's form, where the mass is typed in kilograms.
    for mass_kg in [
        "1e30",
        "9223372036854775808",
        "-5",
        "NaN",
        "inf",
        "8,4,2",
        "١٢",
    ] {
        let response = intake_form(&shop, mass_kg).await;
        assert!(
            response.status.is_client_error(),
            "{mass_kg}: {} {}",
            response.status,
            response.text()
        );
    }
    assert_eq!(counts(app).await, before);
}

async fn intake_form(shop: &Workshop, mass_kg: &str) -> TestResponse {
    let app = &shop.app;
    let html = app
        .get(&format!("/intake/{}", shop.collection))
        .cookie(&shop.supervisor)
        .header("accept", "text/html")
        .send()
        .await
        .text();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = html[start..start + 32].to_string();
    app.post(&format!("/intake/{}", shop.collection))
        .cookie(&shop.supervisor)
        .header("accept", "text/html")
        .form(&[
            ("csrf", &csrf),
            ("kind", "desktop_pc"),
            ("mass_kg", mass_kg),
            ("quantity", "1"),
            ("data_bearing", "auto"),
        ])
        .send()
        .await
}

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,30}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A scan body with the expected fields, each of them anything.
fn scan_shaped(station: String) -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        ".{0,60}",
        "(IT|LT|CO|AP|ST|MT|CE|SH|it|zz)-[0-9A-Za-z]{0,12}",
        "https?://[a-z./]{0,20}/[sS]/[A-Z0-9-]{0,14}[?#/]?.{0,10}",
    ];
    (
        prop::option::of(prop_oneof![Just(station), ".{0,12}".boxed()]),
        prop::option::of(prop_oneof![text.prop_map(Value::String), any_json()]),
        prop::option::of(prop_oneof![".{0,80}".prop_map(Value::String), any_json()]),
        prop::option::of(prop_oneof![
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?"
                .prop_map(Value::String),
            any_json()
        ]),
        prop::option::of(any_json()),
    )
        .prop_map(|(station, raw, client_scan_id, device_time, pin)| {
            let mut body = serde_json::Map::new();
            for (key, value) in [
                ("station", station.map(Value::String)),
                ("raw", raw),
                ("client_scan_id", client_scan_id),
                ("device_time", device_time),
                ("pin", pin),
            ] {
                if let Some(value) = value {
                    body.insert(key.to_string(), value);
                }
            }
            Value::Object(body)
        })
}

/// Cases per strategy of the scan endpoint's property test (recorded in docs/reliability.md).
pub const SCAN_CASES: u32 = 200;

/// Arbitrary JSON (and arbitrary bytes) posted to `/api/v1/scans` by a signed-in station never
/// gets a 5xx: every answer is a scan result or a 4xx problem.
#[test]
fn arbitrary_bodies_posted_to_the_scan_endpoint_never_get_a_5xx() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (shop, station) = runtime.block_on(async {
        let shop = Workshop::new().await;
        let station = shop.station("triage").await;
        shop.sign_in(&station).await;
        (shop, station)
    });
    let post = |body: Vec<u8>| {
        runtime.block_on(
            shop.app
                .post("/api/v1/scans")
                .cookie(&station.1)
                .raw_body(Some("application/json"), body)
                .send(),
        )
    };
    let check = |response: TestResponse| -> Result<(), TestCaseError> {
        prop_assert!(
            !response.status.is_server_error(),
            "{}: {}",
            response.status,
            response.text()
        );
        if response.status.is_client_error() {
            prop_assert_eq!(response.content_type(), "application/problem+json");
        }
        Ok(())
    };
    let config = ProptestConfig {
        cases: SCAN_CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config.clone());
    runner
        .run(&scan_shaped(station.0.clone()), |body| {
            check(post(body.to_string().into_bytes()))
        })
        .unwrap();
    let mut runner = TestRunner::new(config.clone());
    runner
        .run(&any_json(), |body| {
            check(post(body.to_string().into_bytes()))
        })
        .unwrap();
    let mut runner = TestRunner::new(config);
    runner
        .run(&prop::collection::vec(any::<u8>(), 0..200), |bytes| {
            check(post(bytes))
        })
        .unwrap();
    // The database goes inside the runtime its connections belong to.
    runtime.block_on(async move { drop(shop) });
}
