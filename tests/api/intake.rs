//! Intake over the API: partners, the catalogue, collections, items, and every refusal.

use axum::http::{Method, StatusCode};
use greenchip::domain::codes::{Code, CodeKind};
use greenchip::domain::roles::Role;
use greenchip::entities::{item, operation};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::TestApp;

struct Desk {
    app: TestApp,
    supervisor: String,
}

impl Desk {
    async fn new() -> Desk {
        let app = TestApp::spawn().await;
        let supervisor = app.logged_in("samira", Role::Supervisor).await;
        Desk { app, supervisor }
    }

    async fn partner(&self, name: &str) -> Value {
        let response = self
            .app
            .post("/api/v1/partners")
            .cookie(&self.supervisor)
            .json(&json!({ "name": name, "kind": "school", "address": "Marrakech" }))
            .send()
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()
    }

    async fn collection(&self) -> String {
        let partner = self.partner("Lycée Ibn Sina").await;
        let response = self
            .app
            .post("/api/v1/collections")
            .cookie(&self.supervisor)
            .json(&json!({ "partner_id": partner["id"], "reference": "BL-2026-117", "place": "Marrakech" }))
            .send()
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()["code"].as_str().unwrap().to_string()
    }

    async fn receive(&self, collection: &str, body: Value) -> crate::helpers::TestResponse {
        self.app
            .post(&format!("/api/v1/collections/{collection}/items"))
            .cookie(&self.supervisor)
            .json(&body)
            .send()
            .await
    }
}

async fn counts(db: &DatabaseConnection) -> (u64, u64) {
    (
        item::Entity::find().count(db).await.unwrap(),
        operation::Entity::find().count(db).await.unwrap(),
    )
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn partners_are_registered_listed_and_edited_by_staff_only() {
    let desk = Desk::new().await;
    let app = &desk.app;
    let created = desk.partner("Managem — Bou Azzer").await;
    assert_eq!(created["kind"], "school");
    desk.partner("Commune de Taznakht").await;

    let found = app
        .get("/api/v1/partners?name=bou")
        .cookie(&desk.supervisor)
        .send()
        .await
        .json();
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["name"], "Managem — Bou Azzer");

    let id = created["id"].as_str().unwrap();
    let patched = app
        .request(Method::PATCH, &format!("/api/v1/partners/{id}"))
        .cookie(&desk.supervisor)
        .json(&json!({ "kind": "mine_site", "contact": "M. Idrissi" }))
        .send()
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.json()["kind"], "mine_site");
    assert_eq!(patched.json()["name"], "Managem — Bou Azzer");

    let missing = app
        .post("/api/v1/partners")
        .cookie(&desk.supervisor)
        .json(&json!({}))
        .send()
        .await;
    let problem = missing.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(fields(&problem), ["name", "kind"]);
    let bad_kind = app
        .post("/api/v1/partners")
        .cookie(&desk.supervisor)
        .json(&json!({ "name": "X", "kind": "bank" }))
        .send()
        .await;
    bad_kind.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");

    let apprentice = app.logged_in("youssef", Role::Apprentice).await;
    app.get("/api/v1/partners")
        .cookie(&apprentice)
        .send()
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_partner_user_belongs_to_exactly_one_partner() {
    let desk = Desk::new().await;
    let app = &desk.app;
    let admin = app.logged_in("root", Role::Admin).await;
    let partner = desk.partner("OCP").await;
    let created = app
        .post("/api/v1/users")
        .cookie(&admin)
        .json(&json!({ "name": "ocp-portal", "role": "partner", "partner_id": partner["id"] }))
        .send()
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["user"]["partner_id"], partner["id"]);
    let orphan = app
        .post("/api/v1/users")
        .cookie(&admin)
        .json(&json!({ "name": "nobody", "role": "partner" }))
        .send()
        .await;
    assert_eq!(
        fields(&orphan.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation")),
        ["partner_id"]
    );
    let staff = app
        .post("/api/v1/users")
        .cookie(&admin)
        .json(&json!({ "name": "karim", "role": "supervisor", "partner_id": partner["id"] }))
        .send()
        .await;
    staff.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
}

#[tokio::test]
async fn the_catalogue_is_seeded_and_only_admins_edit_it() {
    let desk = Desk::new().await;
    let app = &desk.app;
    let kinds = app
        .get("/api/v1/equipment-kinds")
        .cookie(&desk.supervisor)
        .send()
        .await
        .json();
    let kinds = kinds.as_array().unwrap();
    assert_eq!(kinds.len(), 11);
    let desktop = kinds.iter().find(|k| k["code"] == "desktop_pc").unwrap();
    assert_eq!(desktop["name_fr"], "Unité centrale");
    assert_eq!(desktop["weee_category"], 6);
    assert_eq!(desktop["data_bearing"], true);
    let materials = app
        .get("/api/v1/materials")
        .cookie(&desk.supervisor)
        .send()
        .await
        .json();
    assert_eq!(materials.as_array().unwrap().len(), 20);
    let lead = materials
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["code"] == "BAT-PB")
        .unwrap();
    assert_eq!(lead["hazardous"], true);
    assert_eq!(lead["ewc_code"], "16 06 01*");

    let tablet = json!({
        "code": "tablet", "name_en": "Tablet", "name_fr": "Tablette", "weee_category": 6,
        "typical_mass_g": 500, "data_bearing": true, "typical_fractions": "PCB-HIGH:20;BAT-LION:30;PL-MIX:50",
    });
    app.post("/api/v1/equipment-kinds")
        .cookie(&desk.supervisor)
        .json(&tablet)
        .send()
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let admin = app.logged_in("root", Role::Admin).await;
    let created = app
        .post("/api/v1/equipment-kinds")
        .cookie(&admin)
        .json(&tablet)
        .send()
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    app.post("/api/v1/equipment-kinds")
        .cookie(&admin)
        .json(&tablet)
        .send()
        .await
        .problem(StatusCode::CONFLICT, "kind_exists");
    let bad = app
        .request(Method::PATCH, "/api/v1/equipment-kinds/tablet")
        .cookie(&admin)
        .json(&json!({ "typical_fractions": "PCB-HIGH:20;UNOBTAINIUM:80", "weee_category": 9 }))
        .send()
        .await;
    assert_eq!(
        fields(&bad.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation")),
        ["weee_category", "typical_fractions"]
    );
    let retired = app
        .request(Method::PATCH, "/api/v1/materials/TONER")
        .cookie(&admin)
        .json(&json!({ "handling": "return to the supplier", "active": false }))
        .send()
        .await;
    assert_eq!(retired.status, StatusCode::OK, "{}", retired.text());
    assert_eq!(retired.json()["active"], false);
}

#[tokio::test]
async fn receiving_an_item_gives_it_a_code_and_posts_its_intake() {
    let desk = Desk::new().await;
    let collection = desk.collection().await;
    let response = desk
        .receive(&collection, json!({ "kind": "desktop_pc", "mass_g": 8_400, "brand": "Dell", "serial": "CN-0X1234" }))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let received = response.json();
    let code = received["code"].as_str().unwrap();
    assert_eq!(Code::parse(code).unwrap().kind(), CodeKind::Item);
    assert_eq!(received["state"], "received");
    assert_eq!(received["data_bearing"], true, "defaults from the kind");
    assert_eq!(received["weee_category"], 6);

    let holder = desk
        .app
        .get(&format!("/api/v1/holders/{code}"))
        .cookie(&desk.supervisor)
        .send()
        .await
        .json();
    assert_eq!(holder["balance_g"], 8_400);
    assert_eq!(holder["composition"][0]["collection_code"], collection);

    let screen = desk
        .receive(
            &collection,
            json!({ "kind": "lcd_monitor", "mass_g": 4_300 }),
        )
        .await
        .json();
    assert_eq!(screen["data_bearing"], false);
    let keyboards = desk
        .receive(
            &collection,
            json!({ "kind": "keyboard_mouse", "mass_g": 31_000, "quantity": 40 }),
        )
        .await
        .json();
    assert_eq!(keyboards["quantity"], 40);

    let detail = desk
        .app
        .get(&format!("/api/v1/collections/{collection}"))
        .cookie(&desk.supervisor)
        .send()
        .await
        .json();
    assert_eq!(detail["item_count"], 3);
    assert_eq!(detail["received_g"], 43_700);
    assert_eq!(detail["partner_name"], "Lycée Ibn Sina");
    let report = greenchip::services::ledger::check::check(&desk.app.db)
        .await
        .unwrap();
    assert!(report.is_clean(), "{:?}", report.differences);
}

#[tokio::test]
async fn bad_items_are_refused_naming_the_field_and_nothing_is_written() {
    let desk = Desk::new().await;
    let collection = desk.collection().await;
    desk.receive(
        &collection,
        json!({ "kind": "laptop", "mass_g": 2_300, "serial": "SN-1" }),
    )
    .await;
    let before = counts(&desk.app.db).await;
    let cases = [
        (json!({ "kind": "toaster", "mass_g": 900 }), "kind"),
        (json!({ "kind": "laptop", "mass_g": 0 }), "mass_g"),
        (json!({ "kind": "laptop", "mass_g": -4 }), "mass_g"),
        (json!({ "kind": "laptop", "mass_g": 2_000_001 }), "mass_g"),
        (
            json!({ "kind": "laptop", "mass_g": 2_000, "serial": "SN-1" }),
            "serial",
        ),
        (
            json!({ "kind": "laptop", "mass_g": 2_000, "quantity": 0 }),
            "quantity",
        ),
        (
            json!({ "kind": "laptop", "mass_g": 2_000, "brand": "x".repeat(101) }),
            "brand",
        ),
    ];
    for (body, field) in cases {
        let response = desk.receive(&collection, body.clone()).await;
        let problem = response.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(fields(&problem), [field], "{body}");
        assert_eq!(counts(&desk.app.db).await, before, "{body} wrote something");
    }
    let typed_wrong = desk
        .receive(&collection, json!({ "kind": "laptop", "mass_g": "2,3 kg" }))
        .await;
    assert_eq!(
        fields(&typed_wrong.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation")),
        ["mass_g"]
    );
    let unknown = desk
        .receive("CO-7K3M9QX4U", json!({ "kind": "laptop", "mass_g": 2_000 }))
        .await;
    unknown.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(counts(&desk.app.db).await, before);
}

#[tokio::test]
async fn a_closed_collection_takes_no_items_until_reopened_with_a_reason() {
    let desk = Desk::new().await;
    let app = &desk.app;
    let collection = desk.collection().await;
    let closed = app
        .post(&format!("/api/v1/collections/{collection}/close"))
        .cookie(&desk.supervisor)
        .send()
        .await;
    assert_eq!(closed.json()["state"], "closed");
    let before = counts(&app.db).await;
    let refused = desk
        .receive(&collection, json!({ "kind": "printer", "mass_g": 7_000 }))
        .await;
    refused.problem(StatusCode::CONFLICT, "collection_closed");
    assert_eq!(counts(&app.db).await, before);
    app.post(&format!("/api/v1/collections/{collection}/close"))
        .cookie(&desk.supervisor)
        .send()
        .await
        .problem(StatusCode::CONFLICT, "collection_state");
    app.post(&format!("/api/v1/collections/{collection}/reopen"))
        .cookie(&desk.supervisor)
        .json(&json!({ "reason": " " }))
        .send()
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let reopened = app
        .post(&format!("/api/v1/collections/{collection}/reopen"))
        .cookie(&desk.supervisor)
        .json(&json!({ "reason": "a second van arrived" }))
        .send()
        .await;
    assert_eq!(reopened.json()["state"], "open");
    let accepted = desk
        .receive(&collection, json!({ "kind": "printer", "mass_g": 7_000 }))
        .await;
    assert_eq!(accepted.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_bulk_request_is_all_or_nothing() {
    let desk = Desk::new().await;
    let collection = desk.collection().await;
    let path = format!("/api/v1/collections/{collection}/items/bulk");
    let mut items: Vec<Value> = (0..200)
        .map(|n| json!({ "kind": "laptop", "mass_g": 2_000 + n, "serial": format!("LT-SER-{n:03}") }))
        .collect();
    items[149]["mass_g"] = json!(0);
    let before = counts(&desk.app.db).await;
    let refused = desk
        .app
        .post(&path)
        .cookie(&desk.supervisor)
        .json(&json!({ "items": items }))
        .send()
        .await;
    let problem = refused.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(fields(&problem), ["items/149/mass_g"]);
    assert_eq!(counts(&desk.app.db).await, before);

    items[149]["mass_g"] = json!(2_149);
    items[7]["serial"] = items[3]["serial"].clone();
    let duplicate = desk
        .app
        .post(&path)
        .cookie(&desk.supervisor)
        .json(&json!({ "items": items }))
        .send()
        .await;
    assert_eq!(
        fields(&duplicate.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation")),
        ["items/7/serial"]
    );

    items[7]["serial"] = json!("LT-SER-007");
    let accepted = desk
        .app
        .post(&path)
        .cookie(&desk.supervisor)
        .json(&json!({ "items": items }))
        .send()
        .await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.text());
    assert_eq!(accepted.json().as_array().unwrap().len(), 200);
    assert_eq!(counts(&desk.app.db).await, (before.0 + 200, before.1 + 200));
    let listed = desk
        .app
        .get(&format!(
            "/api/v1/collections/{collection}/items?per_page=10&page=2"
        ))
        .cookie(&desk.supervisor)
        .send()
        .await
        .json();
    assert_eq!(listed["total"], 200);
    assert_eq!(listed["items"][0]["serial"], "LT-SER-010");

    let too_many: Vec<Value> = (0..1_001)
        .map(|_| json!({ "kind": "phone", "mass_g": 150 }))
        .collect();
    let refused = desk
        .app
        .post(&path)
        .cookie(&desk.supervisor)
        .json(&json!({ "items": too_many }))
        .send()
        .await;
    assert_eq!(
        fields(&refused.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation")),
        ["items"]
    );
}

#[tokio::test]
async fn a_retried_receive_with_the_same_key_creates_nothing_new() {
    let desk = Desk::new().await;
    let collection = desk.collection().await;
    let send = || {
        desk.app
            .post(&format!("/api/v1/collections/{collection}/items"))
            .cookie(&desk.supervisor)
            .header("idempotency-key", "intake-desk/42")
            .json(&json!({ "kind": "server", "mass_g": 21_500 }))
            .send()
    };
    let first = send().await;
    assert_eq!(first.status, StatusCode::CREATED);
    let before = counts(&desk.app.db).await;
    let again = send().await;
    assert_eq!(again.json()["code"], first.json()["code"]);
    assert_eq!(counts(&desk.app.db).await, before);
}

#[tokio::test]
async fn items_are_edited_mass_corrected_with_a_reason_and_found_by_barcode() {
    let desk = Desk::new().await;
    let app = &desk.app;
    let collection = desk.collection().await;
    let received = desk
        .receive(&collection, json!({ "kind": "laptop", "mass_g": 2_500 }))
        .await
        .json();
    let code = received["code"].as_str().unwrap().to_string();

    let edited = app
        .request(Method::PATCH, &format!("/api/v1/items/{code}"))
        .cookie(&desk.supervisor)
        .json(&json!({ "brand": "Lenovo", "model": "T440", "data_bearing": true }))
        .send()
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text());
    assert_eq!(edited.json()["brand"], "Lenovo");
    let silent = app
        .request(Method::PATCH, &format!("/api/v1/items/{code}"))
        .cookie(&desk.supervisor)
        .json(&json!({ "gross_mass_g": 1 }))
        .send()
        .await;
    silent.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");

    let path = format!("/api/v1/items/{code}/mass-corrections");
    app.post(&path)
        .cookie(&desk.supervisor)
        .json(&json!({ "mass_g": 2_450, "reason": "" }))
        .send()
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let corrected = app
        .post(&path)
        .cookie(&desk.supervisor)
        .json(&json!({ "mass_g": 2_450, "reason": "tare of the crate was not taken off" }))
        .send()
        .await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.text());
    assert_eq!(corrected.json()["gross_mass_g"], 2_450);
    let holder = app
        .get(&format!("/api/v1/holders/{code}"))
        .cookie(&desk.supervisor)
        .send()
        .await
        .json();
    assert_eq!(holder["balance_g"], 2_450);
    let corrections = app
        .get("/api/v1/events?kind=ledger.correction")
        .cookie(&desk.supervisor)
        .send()
        .await
        .json();
    assert_eq!(
        corrections[0]["payload"]["reason"],
        "tare of the crate was not taken off"
    );

    let linked = app
        .post(&format!("/api/v1/items/{code}/barcodes"))
        .cookie(&desk.supervisor)
        .json(&json!({ "barcode": "5CG1234XYZ" }))
        .send()
        .await;
    assert_eq!(linked.status, StatusCode::CREATED, "{}", linked.text());
    let found = app
        .get("/api/v1/items/5CG1234XYZ")
        .cookie(&desk.supervisor)
        .send()
        .await;
    assert_eq!(found.json()["code"], code.as_str());
    assert_eq!(found.json()["barcodes"], json!(["5CG1234XYZ"]));
    let other = desk
        .receive(&collection, json!({ "kind": "laptop", "mass_g": 2_600 }))
        .await
        .json();
    app.post(&format!(
        "/api/v1/items/{}/barcodes",
        other["code"].as_str().unwrap()
    ))
    .cookie(&desk.supervisor)
    .json(&json!({ "barcode": "5CG1234XYZ" }))
    .send()
    .await
    .problem(StatusCode::CONFLICT, "barcode_taken");
    app.post(&format!("/api/v1/items/{code}/barcodes"))
        .cookie(&desk.supervisor)
        .json(&json!({ "barcode": other["code"] }))
        .send()
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");

    let searched = app
        .get("/api/v1/items?q=T440")
        .cookie(&desk.supervisor)
        .send()
        .await
        .json();
    assert_eq!(searched["total"], 1);
    let by_kind = app
        .get("/api/v1/items?kind=laptop")
        .cookie(&desk.supervisor)
        .send()
        .await
        .json();
    assert_eq!(by_kind["total"], 2);
    app.get("/api/v1/items/IT-7K3M9QX4U")
        .cookie(&desk.supervisor)
        .send()
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
}
