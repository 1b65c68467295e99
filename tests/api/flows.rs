//! Material flows: dismantling into lots, sorting, melts and ingots, shipments, with every
//! refusal writing nothing and the ledger adding up after each history.

use axum::http::StatusCode;
use greenchip::domain::roles::Role;
use greenchip::entities::{holder, lot, operation};
use greenchip::services::ledger::check;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestResponse, Workshop};

type Station = (String, String);

/// A workshop with a triage and a dismantling station, the apprentice signed in at both.
pub(crate) struct Flows {
    pub(crate) shop: Workshop,
    pub(crate) triage: Station,
    pub(crate) dismantling: Station,
}

impl Flows {
    pub(crate) async fn new() -> Flows {
        let shop = Workshop::new().await;
        let triage = shop.station("triage").await;
        let dismantling = shop.station("dismantling").await;
        shop.sign_in(&triage).await;
        shop.sign_in(&dismantling).await;
        Flows {
            shop,
            triage,
            dismantling,
        }
    }

    /// An item of a kind that bears no data, triaged and being dismantled.
    pub(crate) async fn being_dismantled(&self, kind: &str, mass_g: i64) -> String {
        let code = self.shop.item(kind, mass_g).await;
        let triaged = self
            .shop
            .act(&self.triage, json!({ "client_action_id": format!("t-{code}"), "item": code, "action": "triage", "decision": "dismantle", "reason": "broken" }))
            .await;
        assert_eq!(triaged.status, StatusCode::OK, "{}", triaged.text());
        let started = self
            .shop
            .act(&self.dismantling, json!({ "client_action_id": format!("s-{code}"), "item": code, "action": "start_dismantling" }))
            .await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.text());
        code
    }

    pub(crate) async fn post(&self, station: &Station, path: &str, body: Value) -> TestResponse {
        self.shop
            .app
            .post(path)
            .cookie(&station.1)
            .json(&body)
            .send()
            .await
    }

    pub(crate) async fn dismantle(&self, body: Value) -> TestResponse {
        self.post(&self.dismantling, "/api/v1/dismantlings", body)
            .await
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        let response = self
            .shop
            .app
            .get(path)
            .cookie(&self.shop.supervisor)
            .send()
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()
    }

    pub(crate) async fn balance(&self, reference: &str) -> i64 {
        self.get(&format!("/api/v1/holders/{reference}")).await["balance_g"]
            .as_i64()
            .unwrap()
    }

    pub(crate) async fn lot_state(&self, code: &str) -> String {
        self.get(&format!("/api/v1/lots/{code}")).await["state"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub(crate) async fn item_state(&self, code: &str) -> String {
        self.get(&format!("/api/v1/items/{code}")).await["state"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub(crate) async fn counts(&self) -> (u64, u64) {
        let db = &self.shop.app.db;
        (
            operation::Entity::find().count(db).await.unwrap(),
            lot::Entity::find().count(db).await.unwrap(),
        )
    }

    pub(crate) async fn assert_ledger_clean(&self) {
        let report = check::check(&self.shop.app.db).await.unwrap();
        assert!(report.is_clean(), "{report:?}");
    }

    /// Dismantles a cable bundle into one new lot of `CU-CABLE`; answers the lot's code.
    pub(crate) async fn cable_lot(&self, mass_g: i64) -> String {
        let item = self.being_dismantled("cables", mass_g).await;
        let answer = self
            .dismantle(json!({ "client_id": format!("cable-{item}"), "item": item, "fractions": [{ "material": "CU-CABLE", "mass_g": mass_g }] }))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        answer.json()["opened_lots"][0]
            .as_str()
            .unwrap()
            .to_string()
    }
}

fn lot_of(answer: &Value, index: usize) -> String {
    answer["opened_lots"][index].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_switch_dismantled_into_new_lots_ends_dismantled_and_the_ledger_adds_up() {
    let flows = Flows::new().await;
    let switch = flows.being_dismantled("network_switch", 8_400).await;
    let body = json!({
        "client_id": "d-1", "item": switch, "device_time": "2026-11-29T09:00:00Z",
        "fractions": [
            { "material": "FE-STEEL", "mass_kg": "4,6" },
            { "material": "PCB-MED", "mass_kg": "2.1 kg" },
            { "material": "CU-CABLE", "mass_g": 420 },
            { "material": "RESIDUE", "mass_kg": 1.15 },
        ],
    });
    let answer = flows.dismantle(body.clone()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let answer = answer.json();
    assert_eq!(answer["replayed"], false);
    assert_eq!(answer["opened_lots"].as_array().unwrap().len(), 4);
    // 8,400 g in, 8,270 g weighed out: 130 g to weighing variance.
    assert_eq!(answer["residual"]["residual_g"], 130);
    assert_eq!(answer["residual"]["outputs_g"], 8_270);
    assert!(
        answer["movements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["to"] == "weighing_variance" && m["mass_g"] == 130),
        "{answer}"
    );
    assert_eq!(flows.balance(&switch).await, 0);
    assert_eq!(flows.item_state(&switch).await, "dismantled");
    let steel = lot_of(&answer, 0);
    assert_eq!(flows.balance(&steel).await, 4_600);
    assert_eq!(flows.balance(&lot_of(&answer, 1)).await, 2_100);
    assert_eq!(flows.balance(&lot_of(&answer, 3)).await, 1_150);
    let lot = flows.get(&format!("/api/v1/lots/{steel}")).await;
    assert_eq!(lot["material"], "FE-STEEL");
    assert_eq!(lot["state"], "open");
    assert_eq!(lot["station"], flows.dismantling.0.as_str());
    assert_eq!(lot["holder"]["composition"][0]["partner"], "Lycée Ibn Sina");
    assert_eq!(lot["history"][0]["counterpart"], switch.as_str());
    assert_eq!(lot["history"][0]["change_g"], 4_600);

    // A phone reading the bin's QR code lands on the lot's page.
    let scanned = flows
        .shop
        .app
        .get(&format!("/s/{steel}"))
        .cookie(&flows.shop.supervisor)
        .send()
        .await;
    assert_eq!(scanned.status, StatusCode::SEE_OTHER);
    assert_eq!(scanned.location(), format!("/lots/{steel}"));

    // The station prints its new bins' labels without anyone logging in; not items' labels.
    let label = flows
        .shop
        .app
        .get(&format!("/labels/{steel}.pdf"))
        .cookie(&flows.dismantling.1)
        .send()
        .await;
    assert_eq!(label.status, StatusCode::OK);
    assert_eq!(label.content_type(), "application/pdf");
    let item_label = flows
        .shop
        .app
        .get(&format!("/labels/{switch}.pdf"))
        .cookie(&flows.dismantling.1)
        .send()
        .await;
    assert_ne!(item_label.status, StatusCode::OK);
    assert_ne!(item_label.content_type(), "application/pdf");

    // A retry (the network dropped the answer) returns the first and writes nothing.
    let before = flows.counts().await;
    let again = flows.dismantle(body.clone()).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json()["replayed"], true);
    assert_eq!(again.json()["operation_id"], answer["operation_id"]);
    assert_eq!(flows.counts().await, before);

    // The device's queue replays it after another apprentice signed in: still the first.
    let amina = flows.shop.app.user("amina", Role::Apprentice).await;
    flows
        .shop
        .scan(
            &flows.dismantling,
            amina.badge_code.as_deref().unwrap(),
            "badge-amina",
        )
        .await;
    let replayed = flows.dismantle(body).await;
    assert_eq!(replayed.json()["replayed"], true, "{}", replayed.text());
    assert_eq!(flows.counts().await, before);

    // The trace forward from the item reaches every lot.
    let trace = flows
        .get(&format!("/api/v1/trace/{switch}?direction=forward"))
        .await;
    let text = trace.to_string();
    for index in 0..4 {
        assert!(text.contains(&lot_of(&answer, index)), "{text}");
    }
    // Apprentices follow what they dismantled; partners do not read the workshop's traces here.
    for (name, role, allowed) in [
        ("karim", Role::Apprentice, true),
        ("acme", Role::Partner, false),
    ] {
        let cookie = flows.shop.app.logged_in(name, role).await;
        let answer = flows
            .shop
            .app
            .get(&format!("/api/v1/trace/{switch}?direction=forward"))
            .cookie(&cookie)
            .send()
            .await;
        assert_eq!(
            answer.status == StatusCode::OK,
            allowed,
            "{name}: {}",
            answer.status
        );
    }
    // The dismantling task is closed in the apprentice's work log.
    let log = flows
        .get(&format!(
            "/api/v1/worklogs?apprentice_id={}",
            flows.shop.apprentice_id
        ))
        .await;
    assert!(
        log.to_string().contains("dismantled"),
        "the dismantling task has its outcome: {log}"
    );
    flows.assert_ledger_clean().await;
}

#[tokio::test]
async fn fractions_outside_the_tolerance_are_refused_unless_a_supervisor_overrides() {
    let flows = Flows::new().await;
    let pc = flows.being_dismantled("network_switch", 8_400).await;
    let before = flows.counts().await;
    // The design's example: 8,400 g into 7,930 g is 470 g (5.6 %) missing.
    let body = json!({ "client_id": "d-1", "item": pc, "fractions": [
        { "material": "FE-STEEL", "mass_g": 5_930 }, { "material": "PCB-MED", "mass_g": 2_000 } ] });
    let refused = flows.dismantle(body.clone()).await;
    let problem = refused.problem(StatusCode::CONFLICT, "outside_tolerance");
    let detail = problem["detail"].as_str().unwrap();
    for figure in ["8.4 kg in", "7.93 kg", "470 g", "5.6 %", "252 g"] {
        assert!(detail.contains(figure), "{figure} in {detail}");
    }
    assert_eq!(flows.counts().await, before, "a refusal writes nothing");
    assert_eq!(flows.item_state(&pc).await, "dismantling");

    // An apprentice cannot override alone, nor with an apprentice's badge and PIN.
    let mut alone = body.clone();
    alone["override"] = json!({ "reason": "scale broken" });
    flows
        .dismantle(alone)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let mut wrong = body.clone();
    wrong["override"] =
        json!({ "reason": "scale broken", "badge": flows.shop.badge, "pin": "1234" });
    flows
        .dismantle(wrong)
        .await
        .problem(StatusCode::FORBIDDEN, "approval_refused");
    assert_eq!(flows.counts().await, before);

    // The supervisor comes to the station, scans their badge, types their PIN and says why.
    let badge = flows.shop.supervisor_pin("2468").await;
    let mut approved = body;
    approved["override"] =
        json!({ "reason": "dust from the fan filter", "badge": badge, "pin": "2468" });
    let answer = flows.dismantle(approved).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let answer = answer.json();
    assert_eq!(answer["override_reason"], "dust from the fan filter");
    assert_eq!(answer["residual"]["within"], false);
    assert_eq!(flows.balance("weighing_variance").await, 470);
    flows.assert_ledger_clean().await;
}

#[tokio::test]
async fn outputs_weighing_more_than_the_item_draw_the_gain_from_weighing_variance() {
    let flows = Flows::new().await;
    let monitor = flows.being_dismantled("lcd_monitor", 4_000).await;
    let answer = flows
        .dismantle(json!({ "client_id": "d-1", "item": monitor, "fractions": [
            { "material": "PL-MIX", "mass_g": 2_050 }, { "material": "LCD-CCFL", "mass_g": 2_050 } ] }))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["residual"]["residual_g"], -100);
    assert_eq!(flows.balance("weighing_variance").await, -100);
    assert_eq!(flows.balance(&monitor).await, 0);
    // The gain is attributed like the item: all of it to the item's collection.
    let lot = flows
        .get(&format!("/api/v1/lots/{}", lot_of(&answer.json(), 0)))
        .await;
    assert_eq!(lot["holder"]["composition"][0]["mass_g"], 2_050);
    flows.assert_ledger_clean().await;
}

#[tokio::test]
async fn dismantling_into_scanned_lots_and_its_refusals_write_nothing() {
    let flows = Flows::new().await;
    let opened = flows
        .post(
            &flows.dismantling,
            "/api/v1/lots",
            json!({ "client_id": "bin-1", "material": "PL-MIX", "tare_g": 1_200 }),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text());
    let bin = opened.json()["code"].as_str().unwrap().to_string();
    // Opening it again with the same client id is the same lot.
    let again = flows
        .post(
            &flows.dismantling,
            "/api/v1/lots",
            json!({ "client_id": "bin-1", "material": "PL-MIX" }),
        )
        .await;
    assert_eq!(again.json()["code"], bin.as_str());
    let offered = flows
        .shop
        .app
        .get("/api/v1/station/lots")
        .cookie(&flows.dismantling.1)
        .send()
        .await
        .json();
    assert_eq!(offered[0]["code"], bin.as_str());

    let printer = flows.being_dismantled("printer", 6_000).await;
    let before = flows.counts().await;
    let refusals = [
        // The same bin twice with conflicting materials.
        json!([{ "lot": bin, "mass_g": 3_000 }, { "lot": bin, "material": "FE-STEEL", "mass_g": 3_000 }]),
        // A kilogram mass typed into a gram field.
        json!([{ "lot": bin, "mass_g": "1,5 kg" }]),
        json!([{ "lot": bin, "mass_g": 1.5 }]),
        // Grams typed into a kilogram field.
        json!([{ "lot": bin, "mass_kg": "1500 g" }]),
        json!([{ "lot": bin }]),
        json!([{ "mass_kg": "6" }]),
        json!([{ "material": "UNOBTAINIUM", "mass_kg": "6" }]),
        json!([{ "lot": "LT-AAAAAAAA", "mass_kg": "6" }]),
        json!([{ "lot": "IT-7K3M9QX4", "mass_kg": "6" }]),
        json!([]),
    ];
    for (index, fractions) in refusals.iter().enumerate() {
        let refused = flows
            .dismantle(json!({ "client_id": format!("bad-{index}"), "item": printer, "fractions": fractions }))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fractions}: {}",
            refused.text()
        );
    }
    let unit = flows
        .dismantle(json!({ "client_id": "bad-unit", "item": printer, "fractions": [{ "lot": bin, "mass_g": "1,5 kg" }] }))
        .await
        .json();
    assert!(
        unit["detail"].as_str().unwrap().contains("in kg"),
        "the refusal says which unit: {unit}"
    );
    assert_eq!(flows.counts().await, before, "no refusal wrote anything");

    // A lot that is closed takes nothing in.
    let closed = flows
        .post(
            &flows.dismantling,
            &format!("/api/v1/lots/{bin}/close"),
            json!(null),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text());
    assert_eq!(closed.json()["state"], "closed");
    flows
        .dismantle(json!({ "client_id": "closed", "item": printer, "fractions": [{ "lot": bin, "mass_kg": "6" }] }))
        .await
        .problem(StatusCode::CONFLICT, "lot_not_open");
    assert_eq!(flows.counts().await, before);
    // Reopening needs a reason.
    flows
        .post(
            &flows.dismantling,
            &format!("/api/v1/lots/{bin}/reopen"),
            json!({}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(flows.lot_state(&bin).await, "closed");
    let reopened = flows
        .post(
            &flows.dismantling,
            &format!("/api/v1/lots/{bin}/reopen"),
            json!({ "reason": "closed by mistake" }),
        )
        .await;
    assert_eq!(reopened.json()["state"], "open");

    // Consistent lines naming one bin add up; the comma decimal works where it says kg.
    let answer = flows
        .dismantle(json!({ "client_id": "ok", "item": printer, "fractions": [
            { "lot": bin, "mass_kg": "2,5" }, { "lot": bin, "material": "PL-MIX", "mass_kg": "1,5 kg" },
            { "material": "FE-STEEL", "mass_kg": "2" } ] }))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(flows.balance(&bin).await, 4_000);
    assert_eq!(answer.json()["opened_lots"].as_array().unwrap().len(), 1);

    // Dismantled once: a second dismantling of it is refused.
    flows
        .dismantle(json!({ "client_id": "twice", "item": printer, "fractions": [{ "lot": bin, "mass_kg": "6" }] }))
        .await
        .problem(StatusCode::CONFLICT, "action_not_allowed");
    // An item not yet being dismantled is refused too.
    let fresh = flows.shop.item("printer", 5_000).await;
    flows
        .dismantle(json!({ "client_id": "fresh", "item": fresh, "fractions": [{ "lot": bin, "mass_kg": "5" }] }))
        .await
        .problem(StatusCode::CONFLICT, "action_not_allowed");
    flows.assert_ledger_clean().await;
}

#[tokio::test]
async fn sorting_regrades_splits_reweighs_and_empties_lots() {
    let flows = Flows::new().await;
    let sorting = flows.shop.station("sorting").await;
    flows.shop.sign_in(&sorting).await;
    let cable = flows.cable_lot(10_000).await;

    // Stripping: 10 kg of cable into 6.2 kg of wire and 3.3 kg of insulation; 500 g lost.
    let regraded = flows
        .post(&sorting, &format!("/api/v1/lots/{cable}/transfers"), json!({
            "client_id": "strip-1", "residual_to": "process_loss",
            "outputs": [{ "material": "CU-WIRE", "mass_kg": "6,2" }, { "material": "PL-MIX", "mass_kg": "3,3" }] }))
        .await;
    assert_eq!(regraded.status, StatusCode::OK, "{}", regraded.text());
    let regraded = regraded.json();
    let wire = lot_of(&regraded, 0);
    assert_eq!(flows.balance(&wire).await, 6_200);
    assert_eq!(flows.balance("process_loss").await, 500);
    assert_eq!(flows.lot_state(&cable).await, "emptied");

    // An emptied lot gives nothing more.
    flows
        .post(
            &sorting,
            &format!("/api/v1/lots/{cable}/transfers"),
            json!({
            "client_id": "strip-2", "outputs": [{ "material": "CU-WIRE", "mass_kg": "1" }] }),
        )
        .await
        .problem(StatusCode::CONFLICT, "lot_finished");

    // Split 2 kg off into another bin of wire; more than the lot holds is refused.
    let before = flows.counts().await;
    flows
        .post(&sorting, &format!("/api/v1/lots/{wire}/transfers"), json!({
            "client_id": "split-0", "mass_kg": "7", "outputs": [{ "material": "CU-WIRE", "mass_kg": "7" }] }))
        .await
        .problem(StatusCode::CONFLICT, "not_enough_in_lot");
    flows
        .post(&sorting, &format!("/api/v1/lots/{wire}/transfers"), json!({
            "client_id": "split-self", "mass_kg": "2", "outputs": [{ "lot": wire, "mass_kg": "2" }] }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(flows.counts().await, before);
    let split = flows
        .post(&sorting, &format!("/api/v1/lots/{wire}/transfers"), json!({
            "client_id": "split-1", "mass_kg": "2", "outputs": [{ "material": "CU-WIRE", "mass_kg": "2" }] }))
        .await;
    assert_eq!(split.status, StatusCode::OK, "{}", split.text());
    assert_eq!(flows.balance(&wire).await, 4_200);
    assert_eq!(flows.lot_state(&wire).await, "open");

    // Reweighing: the scale reads 4.25 kg; 50 g come from weighing variance.
    let reweighed = flows
        .post(
            &sorting,
            &format!("/api/v1/lots/{wire}/reweighings"),
            json!({ "client_id": "rw-1", "reading_kg": "4,25" }),
        )
        .await;
    assert_eq!(reweighed.status, StatusCode::OK, "{}", reweighed.text());
    assert_eq!(flows.balance(&wire).await, 4_250);
    // The same reading again matches the ledger: nothing to post, and no error either.
    let before = flows.counts().await;
    let matched = flows
        .post(
            &sorting,
            &format!("/api/v1/lots/{wire}/reweighings"),
            json!({ "client_id": "rw-same", "reading_g": 4_250 }),
        )
        .await;
    assert_eq!(matched.status, StatusCode::OK, "{}", matched.text());
    assert_eq!(matched.json()["operation_id"], Value::Null);
    assert_eq!(flows.counts().await, before);
    // A reading far off the ledger needs a supervisor.
    flows
        .post(
            &sorting,
            &format!("/api/v1/lots/{wire}/reweighings"),
            json!({ "client_id": "rw-2", "reading_kg": "3" }),
        )
        .await
        .problem(StatusCode::CONFLICT, "outside_tolerance");
    let operation = operation::Entity::find_by_id(
        reweighed.json()["operation_id"]
            .as_str()
            .unwrap()
            .parse::<uuid::Uuid>()
            .unwrap(),
    )
    .one(&flows.shop.app.db)
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        operation.payload["reading_g"], 4_250,
        "the scale reading is kept"
    );
    flows.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_melt_charges_copper_pours_ingots_and_dross_and_then_takes_nothing_more() {
    let flows = Flows::new().await;
    let smelting = flows.shop.station("smelting").await;
    flows.shop.sign_in(&smelting).await;
    let first = flows.cable_lot(5_000).await;
    let second = flows.cable_lot(3_000).await;
    let switch = flows.being_dismantled("network_switch", 2_000).await;
    let pcb = lot_of(
        &flows
            .dismantle(json!({ "client_id": "pcb", "item": switch, "fractions": [{ "material": "PCB-MED", "mass_g": 2_000 }] }))
            .await
            .json(),
        0,
    );

    // Not at a smelting station: refused.
    flows
        .post(
            &flows.dismantling,
            "/api/v1/melts",
            json!({ "client_id": "m0" }),
        )
        .await
        .problem(StatusCode::CONFLICT, "not_a_smelting_station");
    let melt = flows
        .post(&smelting, "/api/v1/melts", json!({ "client_id": "m1" }))
        .await;
    assert_eq!(melt.status, StatusCode::CREATED, "{}", melt.text());
    let melt = melt.json()["code"].as_str().unwrap().to_string();

    // PCBs are not copper: the whole charge is refused and nothing moves.
    let before = flows.counts().await;
    let refused = flows
        .post(
            &smelting,
            &format!("/api/v1/melts/{melt}/charges"),
            json!({
            "client_id": "c0", "lots": [{ "lot": first }, { "lot": pcb }] }),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert!(
        refused["detail"].as_str().unwrap().contains("only copper"),
        "{refused}"
    );
    assert_eq!(flows.counts().await, before);
    assert_eq!(flows.balance(&first).await, 5_000);

    let charged = flows
        .post(
            &smelting,
            &format!("/api/v1/melts/{melt}/charges"),
            json!({
            "client_id": "c1", "lots": [{ "lot": first }, { "lot": second, "mass_kg": "2" }] }),
        )
        .await;
    assert_eq!(charged.status, StatusCode::OK, "{}", charged.text());
    assert_eq!(flows.balance(&melt).await, 7_000);
    assert_eq!(flows.lot_state(&first).await, "emptied");
    assert_eq!(flows.balance(&second).await, 1_000);

    flows
        .post(
            &smelting,
            &format!("/api/v1/melts/{melt}/notes"),
            json!({ "temperature_c": 1_180, "note": "clean pour" }),
        )
        .await;
    // Pouring more than was charged, beyond the tolerance, is refused.
    flows
        .post(
            &smelting,
            &format!("/api/v1/melts/{melt}/pours"),
            json!({
            "client_id": "p0", "ingots": [{ "mass_kg": "7,5" }] }),
        )
        .await
        .problem(StatusCode::CONFLICT, "outside_tolerance");
    // Dross must go into a dross lot.
    flows
        .post(
            &smelting,
            &format!("/api/v1/melts/{melt}/pours"),
            json!({
            "client_id": "p0b", "dross": [{ "material": "PL-MIX", "mass_kg": "0,4" }] }),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(
        flows.counts().await.0,
        before.0 + 1,
        "only the charge was posted"
    );

    let poured = flows
        .post(
            &smelting,
            &format!("/api/v1/melts/{melt}/pours"),
            json!({
            "client_id": "p1", "ingots": [{ "mass_kg": "3,2" }, { "mass_g": 2_900 }],
            "dross": [{ "material": "CU-DROSS", "mass_kg": "0,4" }], "finish": true }),
        )
        .await;
    assert_eq!(poured.status, StatusCode::OK, "{}", poured.text());
    let poured = poured.json();
    let opened = poured["opened_lots"].as_array().unwrap();
    assert_eq!(opened.len(), 3, "a dross lot and two ingots: {poured}");
    let ingot = opened[1].as_str().unwrap();
    let ingot_lot = flows.get(&format!("/api/v1/lots/{ingot}")).await;
    assert_eq!(ingot_lot["material"], "CU-INGOT");
    assert_eq!(ingot_lot["pieces"], 1);
    assert_eq!(ingot_lot["melt"], melt.as_str());
    assert_eq!(ingot_lot["state"], "closed");

    let view = flows.get(&format!("/api/v1/melts/{melt}")).await;
    assert_eq!(view["state"], "finished");
    assert_eq!(view["charged_g"], 7_000);
    assert_eq!(view["ingot_g"], 6_100);
    assert_eq!(view["dross_g"], 400);
    assert_eq!(view["loss_g"], 500);
    assert_eq!(view["balance_g"], 0);
    // 6,100 ÷ 7,000 = 87.14 %.
    assert_eq!(view["yield_bp"], 8_714);
    assert_eq!(view["notes"][0]["temperature_c"], 1_180);
    assert_eq!(flows.balance("process_loss").await, 500);

    // A finished melt takes no more charges or pours.
    flows
        .post(
            &smelting,
            &format!("/api/v1/melts/{melt}/charges"),
            json!({
            "client_id": "c2", "lots": [{ "lot": second }] }),
        )
        .await
        .problem(StatusCode::CONFLICT, "melt_finished");
    flows
        .post(
            &smelting,
            &format!("/api/v1/melts/{melt}/pours"),
            json!({
            "client_id": "p2", "ingots": [{ "mass_kg": "1" }] }),
        )
        .await
        .problem(StatusCode::CONFLICT, "melt_finished");

    // A later melt charges the dross.
    let later = flows
        .post(&smelting, "/api/v1/melts", json!({ "client_id": "m2" }))
        .await
        .json()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let dross = opened[0].as_str().unwrap();
    let recharged = flows
        .post(
            &smelting,
            &format!("/api/v1/melts/{later}/charges"),
            json!({ "client_id": "c3", "lots": [{ "lot": dross }] }),
        )
        .await;
    assert_eq!(recharged.status, StatusCode::OK, "{}", recharged.text());
    assert_eq!(flows.balance(&later).await, 400);

    // The ingot traces back to the cable bundles' collection.
    let trace = flows
        .get(&format!("/api/v1/trace/{ingot}?direction=back"))
        .await
        .to_string();
    assert!(trace.contains(&flows.shop.collection), "{trace}");
    flows.assert_ledger_clean().await;
}

#[tokio::test]
async fn shipments_go_only_to_processors_licensed_for_what_they_carry() {
    let flows = Flows::new().await;
    let ups = flows.being_dismantled("ups", 10_000).await;
    let answer = flows
        .dismantle(json!({ "client_id": "ups", "item": ups, "fractions": [
            { "material": "BAT-PB", "mass_g": 6_000 }, { "material": "PCB-LOW", "mass_g": 4_000 } ] }))
        .await
        .json();
    let (battery, pcb) = (lot_of(&answer, 0), lot_of(&answer, 1));
    let processor = |name: &str, families: Value, hazardous: Value| {
        let app = &flows.shop.app;
        let supervisor = flows.shop.supervisor.clone();
        let body = json!({ "name": name, "address": "Zone industrielle, Casablanca", "permit_number": format!("AUT-{name}"),
            "families": families, "hazardous_materials": hazardous });
        async move {
            let created = app
                .post("/api/v1/processors")
                .cookie(&supervisor)
                .json(&body)
                .send()
                .await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
            created.json()["id"].as_str().unwrap().to_string()
        }
    };
    let refiner = processor("Affinage Atlas", json!(["pcb"]), json!([])).await;
    let batteries_only = processor("Recyclage Piles", json!(["battery"]), json!([])).await;
    let licensed = processor("Plomb Recyclage", json!(["battery"]), json!(["BAT-PB"])).await;
    // A licence can only list hazardous materials that are hazardous.
    flows
        .shop
        .app
        .post("/api/v1/processors")
        .cookie(&flows.shop.supervisor)
        .json(&json!({ "name": "X", "address": "Y", "permit_number": "Z", "families": ["pcb"], "hazardous_materials": ["PCB-LOW"] }))
        .send()
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");

    let ship = |processor: &str, lots: Value, client: &str| {
        let body = json!({ "client_id": client, "processor_id": processor, "shipped_on": "2026-11-29",
            "transport_document": "BSD-2026-118", "carrier": "Transports Atlas", "lots": lots });
        let app = &flows.shop.app;
        let supervisor = flows.shop.supervisor.clone();
        async move {
            app.post("/api/v1/shipments")
                .cookie(&supervisor)
                .json(&body)
                .send()
                .await
        }
    };
    let before = flows.counts().await;
    let refused = ship(&refiner, json!([{ "lot": battery }]), "s0").await;
    let problem = refused.problem(StatusCode::UNPROCESSABLE_ENTITY, "not_licensed_or_invalid");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not licensed for battery"),
        "{problem}"
    );
    let refused = ship(&batteries_only, json!([{ "lot": battery }]), "s1").await;
    let problem = refused.problem(StatusCode::UNPROCESSABLE_ENTITY, "not_licensed_or_invalid");
    assert!(
        problem["detail"].as_str().unwrap().contains("hazardous"),
        "{problem}"
    );
    // One bad lot refuses the whole shipment.
    ship(&refiner, json!([{ "lot": pcb }, { "lot": battery }]), "s2")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "not_licensed_or_invalid");
    assert_eq!(flows.counts().await, before);
    assert_eq!(flows.lot_state(&pcb).await, "open");

    // Part of the PCB lot, then the rest; then the batteries to the licensed processor.
    let part = ship(&refiner, json!([{ "lot": pcb, "mass_kg": "1,5" }]), "s3").await;
    assert_eq!(part.status, StatusCode::CREATED, "{}", part.text());
    let part = part.json();
    assert_eq!(part["total_g"], 1_500);
    assert_eq!(part["processor"]["permit_number"], "AUT-Affinage Atlas");
    assert_eq!(flows.lot_state(&pcb).await, "open");
    let retry = ship(&refiner, json!([{ "lot": pcb, "mass_kg": "1,5" }]), "s3").await;
    assert_eq!(
        retry.json()["code"],
        part["code"],
        "a retry is the same shipment"
    );
    ship(&refiner, json!([{ "lot": pcb }]), "s4").await;
    assert_eq!(flows.lot_state(&pcb).await, "shipped");
    let batteries = ship(&licensed, json!([{ "lot": battery }]), "s5").await;
    assert_eq!(
        batteries.status,
        StatusCode::CREATED,
        "{}",
        batteries.text()
    );
    assert_eq!(batteries.json()["lines"][0]["hazardous"], true);
    assert_eq!(flows.balance("shipped:PCB-LOW").await, 4_000);
    assert_eq!(flows.balance("shipped:BAT-PB").await, 6_000);
    let shipment = flows
        .get(&format!(
            "/api/v1/shipments/{}",
            part["code"].as_str().unwrap()
        ))
        .await;
    assert_eq!(shipment["lines"][0]["lot"], pcb.as_str());
    // A shipped lot gives nothing more.
    ship(&refiner, json!([{ "lot": pcb }]), "s6")
        .await
        .problem(StatusCode::CONFLICT, "lot_finished");
    flows.assert_ledger_clean().await;
}

#[tokio::test]
async fn two_apprentices_dismantling_into_the_same_bin_at_once_both_land() {
    let flows = Flows::new().await;
    let second_bench = flows.shop.station("dismantling").await;
    let other = flows.shop.app.user("amina", Role::Apprentice).await;
    let signed = flows
        .shop
        .scan(
            &second_bench,
            other.badge_code.as_deref().unwrap(),
            "badge-amina",
        )
        .await
        .json();
    assert_eq!(signed["result"], "signed_in", "{signed}");
    let bin = flows
        .post(
            &flows.dismantling,
            "/api/v1/lots",
            json!({ "client_id": "bin", "material": "PL-ABS" }),
        )
        .await
        .json()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut items = Vec::new();
    for index in 0..6 {
        items.push(
            flows
                .being_dismantled("keyboard_mouse", 1_000 + index)
                .await,
        );
    }
    // Both benches post at once, alternately.
    let mut requests = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let station = if index % 2 == 0 {
            &flows.dismantling
        } else {
            &second_bench
        };
        requests.push(flows.post(station, "/api/v1/dismantlings", json!({
            "client_id": format!("k{index}"), "item": item, "fractions": [{ "lot": bin, "mass_g": 1_000 + index }] })));
    }
    let answers = futures_util::future::join_all(requests).await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    }
    assert_eq!(flows.balance(&bin).await, 6_015);
    let held = holder::Entity::find()
        .filter(holder::Column::Code.eq(&bin))
        .one(&flows.shop.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.version, 6, "six postings touched the bin");
    flows.assert_ledger_clean().await;
}

/// The "done when": one partner's 40 PCs through dismantling, sorting and two melts,
/// mixed in the same lots with another partner's cables; the attribution says, to the gram
/// and adding up exactly, what came from each partner and where it went.
#[tokio::test]
async fn forty_pcs_from_one_partner_are_accounted_for_to_the_gram() {
    let flows = &Flows::new().await;
    let shop = &flows.shop;
    let sanitisation = shop.station("sanitisation").await;
    let sorting = shop.station("sorting").await;
    let smelting = shop.station("smelting").await;
    for station in [&sanitisation, &sorting, &smelting] {
        shop.sign_in(station).await;
    }
    let bin = |material: &str| {
        let body = json!({ "client_id": format!("bin-{material}"), "material": material });
        async move {
            flows
                .post(&flows.dismantling, "/api/v1/lots", body)
                .await
                .json()["code"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let (steel, pcb, plastic, cable, residue) = (
        bin("FE-STEEL").await,
        bin("PCB-MED").await,
        bin("PL-MIX").await,
        bin("CU-CABLE").await,
        bin("RESIDUE").await,
    );

    let mut received_pcs = 0;
    for n in 0..40_i64 {
        let mass = 9_000 + n * 37;
        received_pcs += mass;
        let pc = shop.item("desktop_pc", mass).await;
        for (station, body) in [
            (
                &flows.triage,
                json!({ "action": "triage", "decision": "dismantle", "reason": "obsolete" }),
            ),
            (
                &sanitisation,
                json!({ "action": "sanitise", "sanitisation": { "method": "destroy", "tool": "drill press", "verified": true, "verification": "platters pierced", "success": true } }),
            ),
            (&flows.dismantling, json!({ "action": "start_dismantling" })),
        ] {
            let mut body = body;
            body["item"] = json!(pc);
            body["client_action_id"] = json!(format!("{pc}-{}", body["action"]));
            let done = shop.act(station, body).await;
            assert_eq!(done.status, StatusCode::OK, "{}", done.text());
        }
        // Weighed fractions with scale noise: up to 1 % missing.
        let (fe, pc_board, pl, cu) = (
            mass * 70 / 100,
            mass * 8 / 100,
            mass * 12 / 100,
            mass * 3 / 100,
        );
        let rest = mass - fe - pc_board - pl - cu - (n % 9) * 10;
        let answer = flows
            .dismantle(
                json!({ "client_id": format!("pc-{n}"), "item": pc, "fractions": [
                { "lot": steel, "mass_g": fe }, { "lot": pcb, "mass_g": pc_board },
                { "lot": plastic, "mass_g": pl }, { "lot": cable, "mass_g": cu },
                { "lot": residue, "mass_g": rest } ] }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    }
    // Another partner's cables go into the same cable bin.
    let other = shop
        .app
        .open_collection(&shop.supervisor, "Office Chérifien")
        .await;
    let mut received_cables = 0;
    for n in 0..5_i64 {
        let mass = 4_000 + n * 11;
        received_cables += mass;
        let created = shop
            .app
            .post(&format!("/api/v1/collections/{other}/items"))
            .cookie(&shop.supervisor)
            .json(&json!({ "kind": "cables", "mass_g": mass }))
            .send()
            .await
            .json();
        let code = created["code"].as_str().unwrap().to_string();
        for (station, body) in [
            (
                &flows.triage,
                json!({ "action": "triage", "decision": "dismantle", "reason": "scrap cable" }),
            ),
            (&flows.dismantling, json!({ "action": "start_dismantling" })),
        ] {
            let mut body = body;
            body["item"] = json!(code);
            body["client_action_id"] = json!(format!("{code}-{}", body["action"]));
            shop.act(station, body).await;
        }
        flows
            .dismantle(json!({ "client_id": format!("cable-{n}"), "item": code, "fractions": [{ "lot": cable, "mass_g": mass }] }))
            .await;
    }

    // Sorting: the cable is stripped into wire and plastic; the rest is lost.
    let cable_g = flows.balance(&cable).await;
    let wire_g = cable_g * 62 / 100;
    let stripped = flows
        .post(&sorting, &format!("/api/v1/lots/{cable}/transfers"), json!({
            "client_id": "strip", "residual_to": "process_loss",
            "outputs": [{ "material": "CU-WIRE", "mass_g": wire_g }, { "lot": plastic, "mass_g": cable_g * 33 / 100 }] }))
        .await;
    assert_eq!(stripped.status, StatusCode::OK, "{}", stripped.text());
    let wire = lot_of(&stripped.json(), 0);

    // Two melts: most of the wire first, then the rest with the first melt's dross.
    let melt = |client: &str| {
        let body = json!({ "client_id": client });
        let smelting = &smelting;
        async move {
            flows.post(smelting, "/api/v1/melts", body).await.json()["code"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let first = melt("melt-1").await;
    flows
        .post(
            &smelting,
            &format!("/api/v1/melts/{first}/charges"),
            json!({ "client_id": "c1", "lots": [{ "lot": wire, "mass_g": wire_g * 2 / 3 }] }),
        )
        .await;
    let charged_first = wire_g * 2 / 3;
    let poured = flows
        .post(&smelting, &format!("/api/v1/melts/{first}/pours"), json!({ "client_id": "p1",
            "ingots": [{ "mass_g": charged_first * 85 / 100 }], "dross": [{ "material": "CU-DROSS", "mass_g": charged_first * 6 / 100 }], "finish": true }))
        .await
        .json();
    let dross = lot_of(&poured, 0);
    let second = melt("melt-2").await;
    flows
        .post(
            &smelting,
            &format!("/api/v1/melts/{second}/charges"),
            json!({ "client_id": "c2", "lots": [{ "lot": wire }, { "lot": dross }] }),
        )
        .await;
    let charged_second = flows.balance(&second).await;
    flows
        .post(&smelting, &format!("/api/v1/melts/{second}/pours"), json!({ "client_id": "p2",
            "ingots": [{ "mass_g": charged_second * 45 / 100 }, { "mass_g": charged_second * 44 / 100 }], "finish": true }))
        .await;

    // The PCBs are shipped to a licensed refiner.
    let refiner = shop
        .app
        .post("/api/v1/processors")
        .cookie(&shop.supervisor)
        .json(&json!({ "name": "Affinage Atlas", "address": "Casablanca", "permit_number": "AUT-77", "families": ["pcb"] }))
        .send()
        .await
        .json()["id"]
        .clone();
    let shipped = shop
        .app
        .post("/api/v1/shipments")
        .cookie(&shop.supervisor)
        .json(
            &json!({ "client_id": "pcb", "processor_id": refiner, "shipped_on": "2026-11-29",
            "transport_document": "BSD-1", "carrier": "Atlas", "lots": [{ "lot": pcb }] }),
        )
        .send()
        .await;
    assert_eq!(shipped.status, StatusCode::CREATED, "{}", shipped.text());
    let pcb_g = shipped.json()["total_g"].as_i64().unwrap();

    let summary = |collection: &str| {
        let path = format!("/api/v1/attribution?collection={collection}");
        async move { flows.get(&path).await }
    };
    let school = summary(&shop.collection).await;
    let office = summary(&other).await;
    for (summary, received) in [(&school, received_pcs), (&office, received_cables)] {
        assert_eq!(summary["received_g"], received, "{summary}");
        assert_eq!(summary["balanced"], true);
        let destinations: i64 = summary["by_destination"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum();
        assert_eq!(destinations, received, "every gram is somewhere: {summary}");
    }
    let material = |summary: &Value, destination: &str, code: &str| -> i64 {
        summary["by_material"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["destination"] == destination && l["material"] == code)
            .map(|l| l["mass_g"].as_i64().unwrap())
            .sum()
    };
    // Only the school's PCs gave PCBs: all of the shipment is theirs.
    assert_eq!(material(&school, "shipped", "PCB-MED"), pcb_g);
    assert_eq!(material(&office, "shipped", "PCB-MED"), 0);
    // The steel never mixed: the school's to the gram.
    assert_eq!(
        material(&school, "in_stock", "FE-STEEL"),
        flows.balance(&steel).await
    );
    // Ingots and plastic mixed both partners: their shares add up to the whole, exactly.
    let ingots = flows.get("/api/v1/lots?material=CU-INGOT").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["balance_g"].as_i64().unwrap())
        .sum::<i64>();
    assert_eq!(
        material(&school, "ingot", "CU-INGOT") + material(&office, "ingot", "CU-INGOT"),
        ingots
    );
    assert!(
        material(&office, "ingot", "CU-INGOT") > material(&school, "ingot", "CU-INGOT"),
        "the office's cables carried more copper than the PCs' cable fraction"
    );
    assert_eq!(
        material(&school, "in_stock", "PL-MIX") + material(&office, "in_stock", "PL-MIX"),
        flows.balance(&plastic).await
    );
    flows.assert_ledger_clean().await;
}

#[tokio::test]
async fn ledger_check_finds_a_lot_marked_emptied_that_still_holds_mass() {
    use sea_orm::{ActiveModelTrait, Set};
    let flows = Flows::new().await;
    let cable = flows.cable_lot(2_000).await;
    flows.assert_ledger_clean().await;
    let found = lot::Entity::find()
        .filter(lot::Column::Code.eq(&cable))
        .one(&flows.shop.app.db)
        .await
        .unwrap()
        .unwrap();
    let mut damaged: lot::ActiveModel = found.into();
    damaged.state = Set("emptied".to_string());
    damaged.update(&flows.shop.app.db).await.unwrap();
    let report = check::check(&flows.shop.app.db).await.unwrap();
    assert!(!report.is_clean());
    assert_eq!(
        report.differences,
        vec![format!("{cable}: it is emptied but still holds 2000 g")]
    );
}
