//! Access control: every route of the router × every role, with the status each one must get,
//! written down in one table. The routes come from the router itself (the OpenAPI document and
//! the pages' list), so a new route without a row here fails the test. Then CSRF on every form
//! that changes state, session fixation, logout, token revocation and the login rate limit.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use greenchip::domain::roles::Role;
use greenchip::entities::{operation, task};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, Statement};
use serde_json::json;

use crate::certificates::History;
use crate::helpers::{PASSWORD, TestApp, TestResponse};

/// The roles, in the order of the columns of [`MATRIX`].
const ROLES: [&str; 7] = [
    "anonymous",
    "apprentice at the station",
    "apprentice elsewhere",
    "supervisor",
    "admin",
    "partner A",
    "partner B",
];

/// What a row sends.
#[derive(Clone, Copy)]
enum Body {
    None,
    /// JSON, with `{placeholders}`.
    Json(&'static str),
    /// A page's form (`a=1&b=2`, with `{placeholders}`); the caller's CSRF token is added.
    Form(&'static str),
}
use Body::{Form, Json, None as Nothing};

/// (method, route as the router declares it, the path requested, body, the status per role in
/// the order of [`ROLES`]). Rows run in this order on one workshop, so a write's row sees what
/// the rows above it did (a second creation of the same thing is a 409, a closed thing stays
/// closed); the rows that end something (revocations, sign-out, enrolment, logout) come last.
type Row = (&'static str, &'static str, &'static str, Body, &'static str);

#[rustfmt::skip]
const MATRIX: &[Row] = &[
    // Public: health, metrics, the API's description, assets, the login page, the public checks.
    ("GET", "/healthz", "/healthz", Nothing, "200 200 200 200 200 200 200"),
    ("GET", "/metrics", "/metrics", Nothing, "200 200 200 200 200 200 200"),
    ("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", Nothing, "200 200 200 200 200 200 200"),
    ("GET", "/assets/{*path}", "/assets/css/app.css", Nothing, "200 200 200 200 200 200 200"),
    ("GET", "/favicon.ico", "/favicon.ico", Nothing, "200 200 200 200 200 200 200"),
    ("GET", "/api/docs", "/api/docs", Nothing, "200 200 200 200 200 200 200"),
    ("GET", "/login", "/login", Nothing, "200 200 200 200 200 200 200"),
    ("GET", "/lang/{code}", "/lang/fr?next=/", Nothing, "303 303 303 303 303 303 303"),
    // By number only staff and its own partner check a certificate (others get the page's
    // form asking for the code, or a 404 from the API); by code anyone does
    // (`certificate_public.rs`).
    ("GET", "/verify", "/verify", Nothing, "200 200 200 200 200 200 200"),
    ("GET", "/verify/{number}", "/verify/{cert}", Nothing, "200 200 200 200 200 200 200"),
    ("GET", "/api/v1/certificates/{number}/verify", "/api/v1/certificates/{cert}/verify", Nothing, "404 404 404 200 200 200 404"),
    ("GET", "/.well-known/greenchip-signing-key", "/.well-known/greenchip-signing-key", Nothing, "200 200 200 200 200 200 200"),
    ("GET", "/api/v1/signing-keys", "/api/v1/signing-keys", Nothing, "200 200 200 200 200 200 200"),
    ("GET", "/s/{code}", "/s/{item}", Nothing, "303 303 303 303 303 303 303"),
    ("GET", "/S/{code}", "/S/{item}", Nothing, "303 303 303 303 303 303 303"),
    // Who am I, my tokens.
    ("GET", "/api/v1/auth/me", "/api/v1/auth/me", Nothing, "401 401 200 200 200 200 200"),
    ("GET", "/api/v1/tokens", "/api/v1/tokens", Nothing, "401 401 200 200 200 200 200"),
    ("POST", "/api/v1/tokens", "/api/v1/tokens", Json(r#"{"name":"matrix"}"#), "401 401 201 201 201 201 201"),
    // Users and events: administration.
    ("GET", "/api/v1/users", "/api/v1/users", Nothing, "401 401 403 200 200 403 403"),
    ("POST", "/api/v1/users", "/api/v1/users", Json(r#"{"name":"matrix-user","role":"apprentice"}"#), "401 401 403 403 201 403 403"),
    ("GET", "/api/v1/events", "/api/v1/events", Nothing, "401 401 403 200 200 403 403"),
    // Pages every signed-in person has.
    ("GET", "/", "/", Nothing, "303 303 200 200 200 303 303"),
    // Partners.
    ("GET", "/api/v1/partners", "/api/v1/partners", Nothing, "401 401 403 200 200 403 403"),
    ("POST", "/api/v1/partners", "/api/v1/partners", Json(r#"{"name":"Matrix SARL","kind":"company"}"#), "401 401 403 201 201 403 403"),
    ("GET", "/api/v1/partners/{id}", "/api/v1/partners/{partner}", Nothing, "401 401 403 200 200 403 403"),
    ("PATCH", "/api/v1/partners/{id}", "/api/v1/partners/{partner}", Json(r#"{"contact":"matrix"}"#), "401 401 403 200 200 403 403"),
    ("GET", "/partners", "/partners", Nothing, "303 303 403 200 200 403 403"),
    ("POST", "/partners", "/partners", Form("name=Matrix+Page&kind=school"), "303 303 403 303 303 403 403"),
    // Catalogue.
    ("GET", "/api/v1/equipment-kinds", "/api/v1/equipment-kinds", Nothing, "401 401 200 200 200 200 200"),
    ("POST", "/api/v1/equipment-kinds", "/api/v1/equipment-kinds", Json(r#"{"code":"matrix_kind","name_en":"Matrix","name_fr":"Matrice","weee_category":6}"#), "401 401 403 403 422 403 403"),
    ("PATCH", "/api/v1/equipment-kinds/{code}", "/api/v1/equipment-kinds/desktop_pc", Json(r#"{}"#), "401 401 403 403 200 403 403"),
    ("GET", "/api/v1/materials", "/api/v1/materials", Nothing, "401 401 200 200 200 200 200"),
    ("POST", "/api/v1/materials", "/api/v1/materials", Json(r#"{"code":"MX-TEST","name_en":"Matrix","family":"ferrous"}"#), "401 401 403 403 422 403 403"),
    ("PATCH", "/api/v1/materials/{code}", "/api/v1/materials/FE-STEEL", Json(r#"{}"#), "401 401 403 403 200 403 403"),
    // Collections and items.
    ("GET", "/api/v1/collections", "/api/v1/collections", Nothing, "401 401 403 200 200 200 200"),
    ("POST", "/api/v1/collections", "/api/v1/collections", Json(r#"{"partner_id":"{partner}"}"#), "401 401 403 201 201 403 403"),
    ("GET", "/api/v1/collections/{reference}", "/api/v1/collections/{collection}", Nothing, "401 401 403 200 200 200 404"),
    ("PATCH", "/api/v1/collections/{reference}", "/api/v1/collections/{open}", Json(r#"{"place":"matrix"}"#), "401 401 403 200 200 403 403"),
    ("GET", "/api/v1/collections/{reference}/items", "/api/v1/collections/{collection}/items", Nothing, "401 401 403 200 200 200 404"),
    ("POST", "/api/v1/collections/{reference}/items", "/api/v1/collections/{open}/items", Json(r#"{"kind":"lcd_monitor","mass_g":700}"#), "401 401 403 201 201 403 403"),
    ("POST", "/api/v1/collections/{reference}/items/bulk", "/api/v1/collections/{open}/items/bulk", Json(r#"{"items":[{"kind":"lcd_monitor","mass_g":650}]}"#), "401 401 403 201 201 403 403"),
    ("GET", "/collections", "/collections", Nothing, "303 303 403 200 200 403 403"),
    ("POST", "/collections", "/collections", Form("partner_id={partner}"), "303 303 403 303 303 403 403"),
    ("GET", "/collections/{code}", "/collections/{collection}", Nothing, "303 303 403 200 200 403 403"),
    ("GET", "/collections/{code}/labels.pdf", "/collections/{collection}/labels.pdf", Nothing, "303 303 403 200 200 403 403"),
    ("GET", "/intake/{code}", "/intake/{open}", Nothing, "303 303 403 200 200 403 403"),
    ("POST", "/intake/{code}", "/intake/{open}", Form("kind=lcd_monitor&mass_kg=0.6&quantity=1&data_bearing=auto"), "303 303 403 303 303 403 403"),
    ("GET", "/api/v1/items", "/api/v1/items", Nothing, "401 401 403 200 200 200 200"),
    ("GET", "/api/v1/items/{reference}", "/api/v1/items/{item}", Nothing, "401 401 403 200 200 200 404"),
    ("PATCH", "/api/v1/items/{reference}", "/api/v1/items/{item}", Json(r#"{"brand":"Matrix"}"#), "401 401 403 200 200 403 403"),
    ("POST", "/api/v1/items/{reference}/barcodes", "/api/v1/items/{item}/barcodes", Json(r#"{"barcode":"MATRIX-{role}"}"#), "401 401 403 201 201 403 403"),
    ("POST", "/api/v1/items/{reference}/mass-corrections", "/api/v1/items/{fresh}/mass-corrections", Json(r#"{"mass_g":710,"reason":"matrix"}"#), "401 401 403 200 422 403 403"),
    ("GET", "/items/{code}", "/items/{item}", Nothing, "303 303 403 200 200 403 403"),
    ("POST", "/items/{code}/barcodes", "/items/{item}/barcodes", Form("barcode=PAGE-{role}"), "303 303 403 303 303 403 403"),
    ("GET", "/labels/{file}", "/labels/{lot}.pdf", Nothing, "303 200 200 200 200 403 403"),
    ("GET", "/api/v1/labels/templates", "/api/v1/labels/templates", Nothing, "401 401 200 200 200 200 200"),
    ("POST", "/api/v1/labels", "/api/v1/labels", Json(r#"{"template":"roll62","codes":["{item}"]}"#), "401 401 403 200 200 403 403"),
    // The ledger.
    ("GET", "/api/v1/holders/{reference}", "/api/v1/holders/{item}", Nothing, "401 401 403 200 200 403 403"),
    ("GET", "/api/v1/trace/{code}", "/api/v1/trace/{item}", Nothing, "401 401 200 200 200 200 404"),
    ("GET", "/api/v1/attribution", "/api/v1/attribution?collection={collection}", Nothing, "401 401 403 200 200 200 404"),
    ("GET", "/api/v1/operations/{id}", "/api/v1/operations/{operation}", Nothing, "401 401 403 200 200 403 403"),
    ("GET", "/trace/{code}", "/trace/{item}", Nothing, "303 303 200 200 200 403 403"),
    // Stations and what their devices do.
    ("GET", "/api/v1/stations", "/api/v1/stations", Nothing, "401 401 403 200 200 403 403"),
    ("POST", "/api/v1/stations", "/api/v1/stations", Json(r#"{"name":"matrix bench","kind":"sorting"}"#), "401 401 403 201 201 403 403"),
    ("GET", "/api/v1/stations/{code}/devices", "/api/v1/stations/{station}/devices", Nothing, "401 401 403 200 200 403 403"),
    ("POST", "/api/v1/stations/{code}/devices", "/api/v1/stations/{spare_station}/devices", Json(r#"{"name":"matrix"}"#), "401 401 403 201 201 403 403"),
    ("GET", "/api/v1/stations/{code}/scans", "/api/v1/stations/{station}/scans", Nothing, "401 401 403 200 200 403 403"),
    ("GET", "/api/v1/station", "/api/v1/station", Nothing, "401 200 200 401 401 401 401"),
    ("POST", "/api/v1/scans", "/api/v1/scans", Json(r#"{"station":"{station}","raw":"{item}","client_scan_id":"matrix-{role}"}"#), "401 200 422 401 401 401 401"),
    ("POST", "/api/v1/station/actions", "/api/v1/station/actions", Json(r#"{"client_action_id":"matrix-{role}","item":"{item}","action":"start_dismantling"}"#), "401 409 409 401 401 401 401"),
    ("GET", "/api/v1/station/lots", "/api/v1/station/lots", Nothing, "401 200 200 401 401 401 401"),
    ("PUT", "/api/v1/apprentices/{id}/pin", "/api/v1/apprentices/{trainee}/pin", Json(r#"{"pin":"4321"}"#), "401 401 403 204 204 403 403"),
    ("DELETE", "/api/v1/apprentices/{id}/badge-lock", "/api/v1/apprentices/{trainee}/badge-lock", Nothing, "401 401 403 204 204 403 403"),
    ("GET", "/api/v1/badge-locks", "/api/v1/badge-locks", Nothing, "401 401 403 200 200 403 403"),
    ("PUT", "/api/v1/me/pin", "/api/v1/me/pin", Json(r#"{"pin":"2468"}"#), "401 401 403 200 200 403 403"),
    ("GET", "/api/v1/apprentices/{id}/training", "/api/v1/apprentices/{apprentice}/training", Nothing, "401 401 403 200 200 403 403"),
    ("POST", "/api/v1/apprentices/{id}/skills", "/api/v1/apprentices/{trainee}/skills", Json(r#"{"station_kind":"dismantling","level":"practising"}"#), "401 401 403 204 204 403 403"),
    ("GET", "/api/v1/worklogs", "/api/v1/worklogs", Nothing, "401 401 200 200 200 403 403"),
    ("POST", "/api/v1/worklogs/{id}/corrections", "/api/v1/worklogs/{worklog}/corrections", Json(r#"{"reason":"matrix"}"#), "401 401 403 422 422 403 403"),
    ("GET", "/stations", "/stations", Nothing, "303 303 403 200 200 403 403"),
    ("POST", "/stations", "/stations", Form("name=page+bench&kind=sorting"), "303 303 403 303 303 403 403"),
    ("GET", "/stations/{code}", "/stations/{station}", Nothing, "303 200 403 200 200 403 403"),
    ("GET", "/apprentices", "/apprentices", Nothing, "303 303 403 200 200 403 403"),
    ("GET", "/apprentices/{id}", "/apprentices/{apprentice}", Nothing, "303 303 403 200 200 403 403"),
    ("POST", "/apprentices/{id}/skills", "/apprentices/{trainee}/skills", Form("station_kind=sorting&level=practising"), "303 303 403 303 303 403 403"),
    ("POST", "/apprentices/{id}/unlock-badge", "/apprentices/{trainee}/unlock-badge", Form(""), "303 303 403 303 303 403 403"),
    ("POST", "/me/pin", "/me/pin", Form("pin=2468"), "303 303 403 303 303 403 403"),
    // Lots, dismantling, melts, shipments.
    ("GET", "/api/v1/lots", "/api/v1/lots", Nothing, "401 401 200 200 200 403 403"),
    ("POST", "/api/v1/lots", "/api/v1/lots", Json(r#"{"client_id":"matrix-{role}","material":"AL-MIX"}"#), "401 201 201 201 201 403 403"),
    ("GET", "/api/v1/lots/{code}", "/api/v1/lots/{lot}", Nothing, "401 401 200 200 200 403 403"),
    ("POST", "/api/v1/lots/{code}/reweighings", "/api/v1/lots/{lot}/reweighings", Json(r#"{"client_id":"matrix-{role}","gross_g":6000}"#), "401 422 422 422 422 403 403"),
    ("POST", "/api/v1/lots/{code}/transfers", "/api/v1/lots/{lot}/transfers", Json(r#"{"client_id":"matrix-{role}","outputs":[{"material":"FE-STEEL","mass_g":10}]}"#), "401 409 409 409 409 403 403"),
    ("POST", "/api/v1/lots/{code}/close", "/api/v1/lots/{lot}/close", Json(r#"{}"#), "401 200 200 200 200 403 403"),
    ("POST", "/api/v1/lots/{code}/reopen", "/api/v1/lots/{lot}/reopen", Json(r#"{"reason":"matrix"}"#), "401 200 200 200 200 403 403"),
    ("POST", "/api/v1/dismantlings", "/api/v1/dismantlings", Json(r#"{"client_id":"matrix-{role}","item":"{fresh}","fractions":[{"material":"FE-STEEL","mass_g":700}]}"#), "401 409 409 422 422 403 403"),
    ("GET", "/lots", "/lots", Nothing, "303 303 200 200 200 403 403"),
    ("GET", "/lots/{code}", "/lots/{lot}", Nothing, "303 303 200 200 200 403 403"),
    ("POST", "/lots/{code}/state", "/lots/{lot}/state", Form("action=close"), "303 303 403 303 303 403 403"),
    ("GET", "/api/v1/melts", "/api/v1/melts", Nothing, "401 401 200 200 200 403 403"),
    ("POST", "/api/v1/melts", "/api/v1/melts", Json(r#"{"client_id":"matrix-{role}","station":"{smelting}"}"#), "401 409 409 201 201 403 403"),
    ("GET", "/api/v1/melts/{code}", "/api/v1/melts/{melt}", Nothing, "401 401 200 200 200 403 403"),
    ("POST", "/api/v1/melts/{code}/charges", "/api/v1/melts/{melt}/charges", Json(r#"{"client_id":"matrix-{role}","lots":[{"lot":"{copper}"}]}"#), "401 409 409 200 409 403 403"),
    ("POST", "/api/v1/melts/{code}/notes", "/api/v1/melts/{melt}/notes", Json(r#"{"text":"matrix"}"#), "401 422 422 422 422 403 403"),
    ("POST", "/api/v1/melts/{code}/pours", "/api/v1/melts/{melt}/pours", Json(r#"{"client_id":"matrix-{role}","ingots":[]}"#), "401 422 422 422 422 403 403"),
    ("GET", "/melts", "/melts", Nothing, "303 303 200 200 200 403 403"),
    ("GET", "/melts/{code}", "/melts/{melt}", Nothing, "303 303 200 200 200 403 403"),
    ("GET", "/api/v1/processors", "/api/v1/processors", Nothing, "401 401 200 200 200 403 403"),
    ("POST", "/api/v1/processors", "/api/v1/processors", Json(r#"{"name":"Matrix {role}","address":"x","permit_number":"P-{role}","families":["ferrous"]}"#), "401 401 403 201 201 403 403"),
    ("PUT", "/api/v1/processors/{id}", "/api/v1/processors/{processor}", Json(r#"{"name":"Plomb Récupération","address":"Zone industrielle, Casablanca","permit_number":"AUT-PB-118","families":["battery"],"hazardous_materials":["BAT-PB"]}"#), "401 401 403 200 200 403 403"),
    ("GET", "/api/v1/shipments", "/api/v1/shipments", Nothing, "401 401 200 200 200 403 403"),
    ("POST", "/api/v1/shipments", "/api/v1/shipments", Json(r#"{"client_id":"matrix-{role}","processor_id":"{processor}","shipped_on":"2026-11-29","transport_document":"M-{role}","carrier":"x","lots":[{"lot":"{lot}"}]}"#), "401 422 422 422 422 403 403"),
    ("GET", "/api/v1/shipments/{code}", "/api/v1/shipments/{shipment}", Nothing, "401 401 200 200 200 403 403"),
    ("GET", "/shipments", "/shipments", Nothing, "303 303 403 200 200 403 403"),
    ("GET", "/shipments/{code}", "/shipments/{shipment}", Nothing, "303 303 403 200 200 403 403"),
    // Certificates and the partners' portal.
    ("GET", "/api/v1/certificates", "/api/v1/certificates", Nothing, "401 401 403 200 200 200 200"),
    ("GET", "/api/v1/certificates/ready", "/api/v1/certificates/ready", Nothing, "401 401 403 200 200 403 403"),
    ("POST", "/api/v1/certificates", "/api/v1/certificates", Json(r#"{"collection":"{open}"}"#), "401 401 403 409 409 403 403"),
    ("GET", "/api/v1/certificates/{number}", "/api/v1/certificates/{cert}", Nothing, "401 401 403 200 200 200 404"),
    ("GET", "/api/v1/certificates/{number}/pdf", "/api/v1/certificates/{cert}/pdf", Nothing, "401 401 403 200 200 200 404"),
    ("GET", "/certificates", "/certificates", Nothing, "303 303 403 200 200 403 403"),
    ("POST", "/certificates", "/certificates", Form("collection={open}"), "303 303 403 409 409 403 403"),
    ("GET", "/portal", "/portal", Nothing, "303 303 303 303 303 200 200"),
    ("GET", "/portal/collections/{code}", "/portal/collections/{collection}", Nothing, "303 303 403 200 200 200 404"),
    // Reports.
    ("GET", "/api/v1/reports/yield", "/api/v1/reports/yield", Nothing, "401 401 403 200 200 403 403"),
    ("GET", "/api/v1/reports/yield/{table}", "/api/v1/reports/yield/intake.csv", Nothing, "401 401 403 200 200 403 403"),
    ("GET", "/api/v1/reports/dashboard", "/api/v1/reports/dashboard", Nothing, "401 401 403 200 200 403 403"),
    ("GET", "/api/v1/reports/monthly", "/api/v1/reports/monthly", Nothing, "401 401 403 200 200 403 403"),
    ("GET", "/reports", "/reports", Nothing, "303 303 403 200 200 403 403"),
    ("GET", "/reports/{table}", "/reports/intake.csv", Nothing, "303 303 403 200 200 403 403"),
    // What ends something, last.
    ("POST", "/api/v1/collections/{reference}/close", "/api/v1/collections/{open}/close", Json(r#"{}"#), "401 401 403 200 409 403 403"),
    ("POST", "/api/v1/collections/{reference}/reopen", "/api/v1/collections/{open}/reopen", Json(r#"{"reason":"matrix"}"#), "401 401 403 200 409 403 403"),
    ("POST", "/collections/{code}/state", "/collections/{open}/state", Form("action=close"), "303 303 403 303 409 403 403"),
    ("POST", "/api/v1/operations/{id}/corrections", "/api/v1/operations/{operation}/corrections", Json(r#"{"reason":"matrix"}"#), "401 401 403 409 409 403 403"),
    ("POST", "/api/v1/certificates/{number}/revocations", "/api/v1/certificates/{cert}/revocations", Json(r#"{"reason":"matrix"}"#), "401 401 403 201 409 403 403"),
    ("POST", "/certificates/{number}/revoke", "/certificates/{cert}/revoke", Form("reason=matrix"), "303 303 403 409 409 403 403"),
    ("DELETE", "/api/v1/tokens/{id}", "/api/v1/tokens/{token}", Nothing, "401 401 404 200 200 404 404"),
    ("DELETE", "/api/v1/station-devices/{id}", "/api/v1/station-devices/{device}", Nothing, "401 401 403 200 200 403 403"),
    ("POST", "/stations/{code}/devices/{id}/revoke", "/stations/{spare_station}/devices/{device2}/revoke", Form(""), "303 303 403 303 303 403 403"),
    ("POST", "/api/v1/station/sign-out", "/api/v1/station/sign-out", Nothing, "401 204 204 401 401 401 401"),
    ("POST", "/login", "/login", Form("login=samira&password={password}"), "303 303 303 303 303 303 303"),
    ("POST", "/api/v1/auth/login", "/api/v1/auth/login", Json(r#"{"login":"samira","password":"{password}"}"#), "200 200 200 200 200 200 200"),
    // Enrolling a device ends the enrolling supervisor's session on it.
    ("POST", "/stations/{code}/enrol", "/stations/{spare_station}/enrol", Form("name=page"), "303 303 403 303 303 403 403"),
    ("POST", "/logout", "/logout", Form(""), "303 303 303 303 303 303 303"),
    ("POST", "/api/v1/auth/logout", "/api/v1/auth/logout", Nothing, "401 401 401 401 401 401 401"),
];

/// Routes outside the OpenAPI document and the pages' list: the document itself, metrics,
/// embedded assets.
const UNDOCUMENTED: [(&str, &str); 4] = [
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/assets/{*path}"),
    ("GET", "/favicon.ico"),
];

/// One caller: the cookies it sends and the CSRF token of its session (if any).
struct Caller {
    cookies: Option<String>,
    csrf: String,
}

/// A workshop with something of everything, and one caller per role.
struct World {
    history: History,
    callers: Vec<Caller>,
    values: Vec<(&'static str, String)>,
}

impl World {
    fn app(&self) -> &TestApp {
        &self.history.shop.app
    }

    async fn build() -> World {
        let history = History::received_by(crate::helpers::Workshop::new().await).await;
        history.mostly_processed().await;
        history.finish().await;
        let issued = history
            .issue(json!({ "collection": history.shop.collection }))
            .await;
        assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text());
        let cert = issued.json()["number"].as_str().unwrap().to_string();
        let shop = &history.shop;
        let app = &shop.app;
        let supervisor = shop.supervisor.clone();
        let sup_json = |path: String, body: serde_json::Value| {
            let supervisor = supervisor.clone();
            async move {
                let response = app.post(&path).cookie(&supervisor).json(&body).send().await;
                assert!(response.status.is_success(), "{path}: {}", response.text());
                response.json()
            }
        };
        let found = app
            .get(&format!("/api/v1/collections/{}", shop.collection))
            .cookie(&supervisor)
            .send()
            .await
            .json();
        let partner = found["partner_id"].as_str().unwrap().to_string();
        let open = sup_json(
            "/api/v1/collections".into(),
            json!({ "partner_id": partner }),
        )
        .await["code"]
            .as_str()
            .unwrap()
            .to_string();
        let fresh = sup_json(
            format!("/api/v1/collections/{open}/items"),
            json!({ "kind": "lcd_monitor", "mass_g": 700 }),
        )
        .await["code"]
            .as_str()
            .unwrap()
            .to_string();
        // A lot from the PC's dismantling, and a copper lot to charge.
        let lot = lot_of(app, "FE-STEEL").await;
        let copper = lot_of(app, "CU-CABLE").await;
        let smelting = sup_json(
            "/api/v1/stations".into(),
            json!({ "name": "furnace", "kind": "smelting" }),
        )
        .await["code"]
            .as_str()
            .unwrap()
            .to_string();
        let melt = sup_json(
            "/api/v1/melts".into(),
            json!({ "client_id": "matrix-melt", "station": smelting }),
        )
        .await["code"]
            .as_str()
            .unwrap()
            .to_string();
        let shipments = app
            .get("/api/v1/shipments")
            .cookie(&supervisor)
            .send()
            .await
            .json();
        let shipment = shipments
            .as_array()
            .or_else(|| shipments["shipments"].as_array())
            .unwrap()[0]["code"]
            .as_str()
            .unwrap()
            .to_string();
        let processors = app
            .get("/api/v1/processors")
            .cookie(&supervisor)
            .send()
            .await
            .json();
        let processor = processors[0]["id"].as_str().unwrap().to_string();
        let operation = operation::Entity::find()
            .order_by_asc(operation::Column::Id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id
            .to_string();
        let worklog = task::Entity::find()
            .order_by_asc(task::Column::Id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id
            .to_string();
        let token = sup_json("/api/v1/tokens".into(), json!({ "name": "to revoke" })).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        // A station nobody works at, with two devices to revoke.
        let spare_station = sup_json(
            "/api/v1/stations".into(),
            json!({ "name": "spare bench", "kind": "shipping" }),
        )
        .await["code"]
            .as_str()
            .unwrap()
            .to_string();
        let mut devices = Vec::new();
        for name in ["spare 1", "spare 2"] {
            let enrolled = sup_json(
                format!("/api/v1/stations/{spare_station}/devices"),
                json!({ "name": name }),
            )
            .await;
            devices.push(enrolled["id"].as_str().unwrap().to_string());
        }
        // Another apprentice, signed in with a password and at another bench.
        let elsewhere = shop.station("sorting").await;
        let khadija = app.user("khadija", Role::Apprentice).await;
        let signed = shop
            .scan(
                &elsewhere,
                khadija.badge_code.as_deref().unwrap(),
                "khadija-badge",
            )
            .await
            .json();
        assert_eq!(signed["result"], "signed_in", "{signed}");
        let khadija_session = login(app, "khadija").await;
        let trainee = app.user("hamza", Role::Apprentice).await.id.to_string();
        let admin = app.logged_in("root", Role::Admin).await;
        let partner_a = history.partner_login("partner-a").await;
        let partner_b = app.logged_in("partner-b", Role::Partner).await;

        let sessions = [
            None,
            Some(history.dismantling.1.clone()),
            Some(format!("{khadija_session}; {}", elsewhere.1)),
            Some(supervisor.clone()),
            Some(admin),
            Some(partner_a),
            Some(partner_b),
        ];
        let mut callers = Vec::new();
        for cookies in sessions {
            let csrf = match &cookies {
                Some(cookies) => csrf_of(app, cookies).await,
                None => String::new(),
            };
            callers.push(Caller { cookies, csrf });
        }
        let values = vec![
            ("{cert}", cert),
            ("{collection}", shop.collection.clone()),
            ("{open}", open),
            ("{fresh}", fresh),
            ("{item}", history.pc.clone()),
            ("{partner}", partner),
            ("{lot}", lot),
            ("{copper}", copper),
            ("{melt}", melt),
            ("{smelting}", smelting),
            ("{shipment}", shipment),
            ("{processor}", processor),
            ("{operation}", operation),
            ("{worklog}", worklog),
            ("{token}", token),
            ("{spare_station}", spare_station),
            ("{device}", devices[0].clone()),
            ("{device2}", devices[1].clone()),
            ("{station}", history.dismantling.0.clone()),
            ("{apprentice}", shop.apprentice_id.clone()),
            ("{trainee}", trainee),
            ("{password}", PASSWORD.to_string()),
        ];
        World {
            history,
            callers,
            values,
        }
    }

    fn fill(&self, text: &str, role: usize) -> String {
        let mut text = text.replace("{role}", &role.to_string());
        for (key, value) in &self.values {
            text = text.replace(key, value);
        }
        text
    }

    async fn send(&self, row: &Row, role: usize) -> TestResponse {
        let (method, route, path, body, _) = row;
        let caller = &self.callers[role];
        let mut request = self
            .app()
            .request(method.parse::<Method>().unwrap(), &self.fill(path, role));
        if let Some(cookies) = &caller.cookies {
            request = request.cookie(cookies);
        }
        if !route.starts_with("/api/") && *route != "/healthz" && *route != "/metrics" {
            request = request.header("accept", "text/html");
        }
        match body {
            Body::None => request.send().await,
            Body::Json(text) => {
                let text = self.fill(text, role);
                let value: serde_json::Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("row {route}: bad JSON {text}: {e}"));
                request.json(&value).send().await
            }
            Body::Form(text) => {
                let text = self.fill(text, role);
                let mut fields: Vec<(String, String)> = text
                    .split('&')
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        (key.to_string(), value.replace('+', " "))
                    })
                    .collect();
                fields.push(("csrf".into(), caller.csrf.clone()));
                if *route == "/login" {
                    // The login form's double-submit token: cookie and field agree.
                    fields.retain(|(k, _)| k != "csrf");
                    fields.push(("csrf".into(), "0123456789abcdef0123456789abcdef".into()));
                    let cookies = match &caller.cookies {
                        Some(c) => format!("{c}; gc_csrf=0123456789abcdef0123456789abcdef"),
                        None => "gc_csrf=0123456789abcdef0123456789abcdef".into(),
                    };
                    request = self
                        .app()
                        .request(Method::POST, path)
                        .header("accept", "text/html")
                        .cookie(&cookies);
                }
                let borrowed: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                request.form(&borrowed).send().await
            }
        }
    }
}

/// The code of a lot of this material.
async fn lot_of(app: &TestApp, material: &str) -> String {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!(
                "SELECT lots.code AS code FROM lots JOIN materials ON materials.id = lots.material_id \
                 WHERE materials.code = '{material}' ORDER BY lots.id"
            ),
        ))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("a {material} lot"));
    row.try_get::<String>("", "code").unwrap()
}

async fn login(app: &TestApp, name: &str) -> String {
    let response = app
        .post("/api/v1/auth/login")
        .json(&json!({ "login": name, "password": PASSWORD }))
        .send()
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.session_cookie().unwrap()
}

/// The CSRF token a session's pages carry.
async fn csrf_of(app: &TestApp, cookies: &str) -> String {
    let page = app
        .get("/")
        .cookie(cookies)
        .header("accept", "text/html")
        .send()
        .await
        .text();
    // A partner's home is the portal.
    let page = if page.contains("name=\"csrf\"") {
        page
    } else {
        app.get("/portal")
            .cookie(cookies)
            .header("accept", "text/html")
            .send()
            .await
            .text()
    };
    let marker = "name=\"csrf\" value=\"";
    page.find(marker)
        .map(|start| page[start + marker.len()..start + marker.len() + 32].to_string())
        .unwrap_or_default()
}

/// Every route the router serves, as (METHOD, route): the OpenAPI document's, the pages', and
/// the few undocumented ones.
async fn served_routes(app: &TestApp) -> BTreeSet<(String, String)> {
    let document = app.get("/api/v1/openapi.json").send().await.json();
    let mut routes = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    for (method, path) in greenchip::http::ui::PAGE_ROUTES {
        routes.insert((method.to_uppercase(), path.to_string()));
    }
    for (method, path) in UNDOCUMENTED {
        routes.insert((method.to_string(), path.to_string()));
    }
    routes
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_matrix_says() {
    let world = World::build().await;
    let served = served_routes(world.app()).await;
    let in_table: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(method, route, ..)| (method.to_string(), route.to_string()))
        .collect();
    assert_eq!(in_table.len(), MATRIX.len(), "a route has two rows");
    let missing: Vec<_> = served.difference(&in_table).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the access matrix: {missing:?}"
    );
    let unknown: Vec<_> = in_table.difference(&served).collect();
    assert!(
        unknown.is_empty(),
        "rows for routes not served: {unknown:?}"
    );

    let mut wrong = Vec::new();
    for row in MATRIX {
        let expected: Vec<&str> = row.4.split_whitespace().collect();
        assert_eq!(expected.len(), ROLES.len(), "{}", row.1);
        let mut got = Vec::new();
        for (role, want) in expected.iter().enumerate() {
            let response = world.send(row, role).await;
            assert!(
                !response.status.is_server_error(),
                "{} {} as {}: {}",
                row.0,
                row.2,
                ROLES[role],
                response.text()
            );
            if response.status.as_str() != *want {
                eprintln!(
                    "{} {} as {}: {} (expected {want}): {}",
                    row.0,
                    row.1,
                    ROLES[role],
                    response.status,
                    response.text().chars().take(200).collect::<String>()
                );
            }
            got.push(response.status.as_str().to_string());
        }
        let got = got.join(" ");
        if got != row.4 {
            wrong.push(format!("{} {}: expected {} got {got}", row.0, row.1, row.4));
        }
    }
    println!(
        "access matrix: {} routes × {} roles = {} cells",
        MATRIX.len(),
        ROLES.len(),
        MATRIX.len() * ROLES.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A valid form for every page that changes something (path and fields, with placeholders),
/// so that only the CSRF check can refuse it. A page form that is not listed fails the test.
#[rustfmt::skip]
const FORMS: &[(&str, &str, &str)] = &[
    ("/partners", "/partners", "name=CSRF+SARL&kind=company"),
    ("/collections", "/collections", "partner_id={partner}"),
    ("/collections/{code}/state", "/collections/{open}/state", "action=close"),
    ("/intake/{code}", "/intake/{open}", "kind=lcd_monitor&mass_kg=0.6&quantity=1&data_bearing=auto"),
    ("/items/{code}/barcodes", "/items/{item}/barcodes", "barcode=CSRF-1"),
    ("/stations", "/stations", "name=csrf+bench&kind=sorting"),
    ("/stations/{code}/devices/{id}/revoke", "/stations/{spare_station}/devices/{device}/revoke", ""),
    ("/apprentices/{id}/skills", "/apprentices/{trainee}/skills", "station_kind=sorting&level=practising"),
    ("/apprentices/{id}/unlock-badge", "/apprentices/{trainee}/unlock-badge", ""),
    ("/me/pin", "/me/pin", "pin=2468"),
    ("/lots/{code}/state", "/lots/{lot}/state", "action=close"),
    ("/certificates/{number}/revoke", "/certificates/{cert}/revoke", "reason=csrf"),
    ("/certificates", "/certificates", "collection={collection}"),
    ("/logout", "/logout", ""),
    // Accepted, it ends the admin's session on this browser: after the logout form's check.
    ("/stations/{code}/enrol", "/stations/{spare_station}/enrol", "name=csrf"),
    ("/login", "/login", "login=samira&password={password}"),
];

/// Rows in every table, and the states a form flips: what a refused form must leave alone.
async fn fingerprint(app: &TestApp) -> Vec<(String, i64)> {
    let backend = app.db.get_database_backend();
    let mut queries: Vec<String> = [
        "users",
        "sessions",
        "api_tokens",
        "partners",
        "collections",
        "items",
        "item_barcodes",
        "stations",
        "station_devices",
        "skills",
        "lots",
        "certificates",
        "certificate_revocations",
        "events",
        "operations",
        "movements",
    ]
    .iter()
    .map(|table| format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}"))
    .collect();
    queries.extend([
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM station_devices WHERE revoked_at IS NULL"
            .to_string(),
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM collections WHERE state = 'open'".to_string(),
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM lots WHERE state = 'open'".to_string(),
    ]);
    let mut found = Vec::new();
    for query in queries {
        let row = app
            .db
            .query_one_raw(Statement::from_string(backend, query.clone()))
            .await
            .unwrap()
            .unwrap();
        found.push((query, row.try_get::<i64>("", "n").unwrap()));
    }
    found
}

/// Every page form that changes something refuses a cross-site post (no token, a wrong token,
/// the right token from a foreign origin) and changes nothing; the same form from this site
/// with its token goes through.
#[tokio::test]
async fn every_state_changing_form_refuses_a_cross_site_post_and_changes_nothing() {
    let world = World::build().await;
    let app = world.app();
    let posted: BTreeSet<&str> = greenchip::http::ui::PAGE_ROUTES
        .iter()
        .filter(|(method, _)| *method == "post")
        .map(|(_, path)| *path)
        .collect();
    let listed: BTreeSet<&str> = FORMS.iter().map(|(route, ..)| *route).collect();
    assert_eq!(posted, listed, "every page form has a row in FORMS");

    const ADMIN: usize = 4;
    let admin = &world.callers[ADMIN];
    let admin_cookies = admin.cookies.clone().unwrap();
    let login_token = "0123456789abcdef0123456789abcdef";
    for (route, path, fields) in FORMS {
        let path = world.fill(path, ADMIN);
        let fields = world.fill(fields, ADMIN);
        let fields: Vec<(String, String)> = fields
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap();
                (key.to_string(), value.replace('+', " "))
            })
            .collect();
        let (cookies, token) = if *route == "/login" {
            (format!("gc_csrf={login_token}"), login_token.to_string())
        } else {
            (admin_cookies.clone(), admin.csrf.clone())
        };
        let post = |token: Option<&str>, origin: Option<&str>| {
            let mut fields = fields.clone();
            if let Some(token) = token {
                fields.push(("csrf".into(), token.to_string()));
            }
            let mut request = app
                .post(&path)
                .cookie(&cookies)
                .header("accept", "text/html")
                .header("host", "greenchip.test");
            if let Some(origin) = origin {
                request = request.header("origin", origin);
            }
            async move {
                let borrowed: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                request.form(&borrowed).send().await
            }
        };
        let before = fingerprint(app).await;
        for (what, token, origin) in [
            ("no token", None, None),
            ("an empty token", Some(""), None),
            (
                "a wrong token",
                Some("ffffffffffffffffffffffffffffffff"),
                None,
            ),
            (
                "the right token from another site",
                Some(token.as_str()),
                Some("https://evil.example"),
            ),
            (
                "the right token from a look-alike",
                Some(token.as_str()),
                Some("http://greenchip.test.evil.example"),
            ),
            (
                "the right token from an opaque origin",
                Some(token.as_str()),
                Some("null"),
            ),
        ] {
            let refused = post(token, origin).await;
            assert!(
                matches!(refused.status.as_u16(), 400 | 403 | 422),
                "{route} with {what}: {} {}",
                refused.status,
                refused.text()
            );
            if *route != "/logout" {
                // No token at all fails the form's own parsing (400) or the check (403).
                assert!(
                    refused.status == StatusCode::FORBIDDEN || token.is_none(),
                    "{route} with {what}"
                );
            }
            assert!(
                refused.session_cookie().is_none(),
                "{route} with {what} logged in"
            );
            assert_eq!(
                fingerprint(app).await,
                before,
                "{route} with {what} changed something"
            );
        }
        // The logout form refused: the session still works.
        if *route == "/logout" {
            let me = app
                .get("/api/v1/auth/me")
                .cookie(&admin_cookies)
                .send()
                .await;
            assert_eq!(me.status, StatusCode::OK);
            continue;
        }
        let accepted = post(Some(&token), Some("http://greenchip.test")).await;
        assert!(
            accepted.status.is_redirection()
                || accepted.status.is_success()
                || accepted.status == StatusCode::CONFLICT,
            "{route} from this site: {} {}",
            accepted.status,
            accepted.text()
        );
    }
}
