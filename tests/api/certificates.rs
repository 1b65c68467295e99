//! Recovery certificates: refused while anything is unfinished, issued from a known history
//! with figures worked out by hand, sealed, downloadable byte for byte, verifiable by anyone,
//! revoked and superseded, and readable only by their own partner.

use axum::http::StatusCode;
use greenchip::domain::roles::Role;
use greenchip::entities::certificate;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestResponse, Workshop};

pub(crate) type Station = (String, String);

/// A small history: a desktop PC (data-bearing, sanitised, dismantled), a UPS whose lead
/// batteries went to a licensed processor, and an LCD monitor refurbished and donated.
pub(crate) struct History {
    pub(crate) shop: Workshop,
    pub(crate) pc: String,
    pub(crate) ups: String,
    pub(crate) monitor: String,
    pub(crate) triage: Station,
    sanitisation: Station,
    pub(crate) refurbishment: Station,
    pub(crate) dismantling: Station,
}

const PC_G: i64 = 9_400;
const UPS_G: i64 = 10_000;
const MONITOR_G: i64 = 4_300;

impl History {
    pub(crate) async fn received() -> History {
        History::received_by(Workshop::new().await).await
    }

    pub(crate) async fn received_by(shop: Workshop) -> History {
        let pc = shop.item("desktop_pc", PC_G).await;
        let ups = shop.item("ups", UPS_G).await;
        let monitor = shop.item("lcd_monitor", MONITOR_G).await;
        let triage = shop.station("triage").await;
        let sanitisation = shop.station("sanitisation").await;
        let refurbishment = shop.station("refurbishment").await;
        let dismantling = shop.station("dismantling").await;
        for station in [&triage, &sanitisation, &refurbishment, &dismantling] {
            shop.sign_in(station).await;
        }
        History {
            shop,
            pc,
            ups,
            monitor,
            triage,
            sanitisation,
            refurbishment,
            dismantling,
        }
    }

    pub(crate) async fn act(&self, station: &Station, id: &str, body: Value) {
        let mut body = body;
        body["client_action_id"] = json!(id);
        let answer = self.shop.act(station, body).await;
        assert_eq!(answer.status, StatusCode::OK, "{id}: {}", answer.text());
    }

    pub(crate) async fn post(&self, cookie: &str, path: &str, body: Value) -> TestResponse {
        self.shop
            .app
            .post(path)
            .cookie(cookie)
            .json(&body)
            .send()
            .await
    }

    pub(crate) async fn supervisor_post(&self, path: &str, body: Value) -> TestResponse {
        self.post(&self.shop.supervisor.clone(), path, body).await
    }

    pub(crate) async fn get(&self, cookie: &str, path: &str) -> TestResponse {
        self.shop.app.get(path).cookie(cookie).send().await
    }

    /// Everything but the monitor's reuse and the collection's closing.
    pub(crate) async fn mostly_processed(&self) {
        let (pc, ups, monitor) = (&self.pc, &self.ups, &self.monitor);
        self.act(&self.triage, "t-pc", json!({ "item": pc, "action": "triage", "decision": "dismantle", "reason": "dead board" })).await;
        self.act(&self.sanitisation, "s-pc", json!({ "item": pc, "action": "sanitise",
            "sanitisation": { "method": "purge", "tool": "nwipe 0.34", "verified": true, "verification": "read-back of 10 % of sectors", "success": true } })).await;
        self.act(
            &self.dismantling,
            "d-pc",
            json!({ "item": pc, "action": "start_dismantling" }),
        )
        .await;
        let pc_done = self
            .post(&self.dismantling.1, "/api/v1/dismantlings", json!({ "client_id": "pc", "item": pc, "fractions": [
                { "material": "FE-STEEL", "mass_g": 6_000 }, { "material": "PCB-MED", "mass_g": 1_400 }, { "material": "CU-CABLE", "mass_g": 2_000 } ] }))
            .await;
        assert_eq!(pc_done.status, StatusCode::OK, "{}", pc_done.text());

        self.act(
            &self.triage,
            "t-ups",
            json!({ "item": ups, "action": "triage", "decision": "dismantle", "reason": "old" }),
        )
        .await;
        self.act(
            &self.dismantling,
            "d-ups",
            json!({ "item": ups, "action": "start_dismantling" }),
        )
        .await;
        let ups_done = self
            .post(&self.dismantling.1, "/api/v1/dismantlings", json!({ "client_id": "ups", "item": ups, "fractions": [
                { "material": "BAT-PB", "mass_g": 6_000 }, { "material": "PCB-LOW", "mass_g": 3_900 } ] }))
            .await;
        assert_eq!(ups_done.status, StatusCode::OK, "{}", ups_done.text());
        let battery = ups_done.json()["opened_lots"][0]
            .as_str()
            .unwrap()
            .to_string();
        let processor = self
            .supervisor_post("/api/v1/processors", json!({ "name": "Plomb Récupération", "address": "Zone industrielle, Casablanca",
                "permit_number": "AUT-PB-118", "families": ["battery"], "hazardous_materials": ["BAT-PB"] }))
            .await;
        assert_eq!(
            processor.status,
            StatusCode::CREATED,
            "{}",
            processor.text()
        );
        let shipped = self
            .supervisor_post("/api/v1/shipments", json!({ "client_id": "ship-pb", "processor_id": processor.json()["id"],
                "shipped_on": "2026-11-29", "transport_document": "BSD-2026-118", "carrier": "Transports Atlas",
                "lots": [{ "lot": battery }] }))
            .await;
        assert_eq!(shipped.status, StatusCode::CREATED, "{}", shipped.text());

        self.act(
            &self.triage,
            "t-mon",
            json!({ "item": monitor, "action": "triage", "decision": "reuse", "reason": "works" }),
        )
        .await;
        self.act(
            &self.refurbishment,
            "r1-mon",
            json!({ "item": monitor, "action": "start_refurbishment" }),
        )
        .await;
        self.act(
            &self.refurbishment,
            "r2-mon",
            json!({ "item": monitor, "action": "finish_refurbishment", "outcome": "repaired" }),
        )
        .await;
    }

    pub(crate) async fn finish(&self) {
        self.act(&self.refurbishment, "r3-mon", json!({ "item": self.monitor, "action": "mark_reused", "destination": "donated to École Al Amal" })).await;
        let closed = self
            .supervisor_post(
                &format!("/api/v1/collections/{}/close", self.shop.collection),
                json!({}),
            )
            .await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.text());
    }

    pub(crate) async fn issue(&self, body: Value) -> TestResponse {
        self.supervisor_post("/api/v1/certificates", body).await
    }

    pub(crate) async fn certificates(&self) -> u64 {
        certificate::Entity::find()
            .count(&self.shop.app.db)
            .await
            .unwrap()
    }

    pub(crate) async fn partner_id(&self) -> String {
        let found = self
            .get(
                &self.shop.supervisor,
                &format!("/api/v1/collections/{}", self.shop.collection),
            )
            .await;
        found.json()["partner_id"].as_str().unwrap().to_string()
    }

    /// A partner user for the collection's partner, logged in.
    pub(crate) async fn partner_login(&self, name: &str) -> String {
        let partner_id = self.partner_id().await.parse().unwrap();
        greenchip::services::users::create(
            &self.shop.app.db,
            greenchip::services::users::NewUser {
                name: name.to_string(),
                display_name: None,
                email: None,
                role: Role::Partner,
                password: Some(PASSWORD.to_string()),
                partner_id: Some(partner_id),
            },
            None,
        )
        .await
        .expect("partner user");
        let response = self
            .shop
            .app
            .post("/api/v1/auth/login")
            .json(&json!({ "login": name, "password": PASSWORD }))
            .send()
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.session_cookie().unwrap()
    }
}

fn blocked_subjects(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn issuing_is_refused_with_the_list_of_blockers_and_writes_nothing() {
    let history = History::received().await;
    let collection = history.shop.collection.clone();
    let refused = history.issue(json!({ "collection": collection })).await;
    let problem = refused.problem(StatusCode::CONFLICT, "not_ready");
    let subjects = blocked_subjects(&problem);
    for expected in [&collection, &history.pc, &history.ups, &history.monitor] {
        assert!(
            subjects.contains(expected),
            "{expected} missing from {problem}"
        );
    }

    history.mostly_processed().await;
    let refused = history.issue(json!({ "collection": collection })).await;
    let problem = refused.problem(StatusCode::CONFLICT, "not_ready");
    // Only the monitor (still refurbished, not reused) and the open collection remain.
    let mut subjects = blocked_subjects(&problem);
    subjects.sort();
    let mut expected = vec![collection.clone(), history.monitor.clone()];
    expected.sort();
    assert_eq!(subjects, expected, "{problem}");
    assert!(
        problem["errors"].to_string().contains("refurbish"),
        "{problem}"
    );
    assert_eq!(history.certificates().await, 0);

    // A scope with nothing in it, a bad language, a missing scope: refused too.
    let partner_id = history.partner_id().await;
    history
        .issue(json!({ "partner_id": partner_id, "from": "2020-01-01", "to": "2020-12-31" }))
        .await
        .problem(StatusCode::CONFLICT, "not_ready");
    history
        .issue(json!({ "collection": collection, "language": "de" }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    history
        .issue(json!({}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(history.certificates().await, 0);

    // Nobody but a supervisor issues.
    let apprentice = history.shop.app.logged_in("karim", Role::Apprentice).await;
    history
        .post(
            &apprentice,
            "/api/v1/certificates",
            json!({ "collection": collection }),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_certificate_states_the_figures_worked_out_by_hand_and_verifies() {
    let history = History::received().await;
    history.mostly_processed().await;
    history.finish().await;
    let collection = history.shop.collection.clone();

    let issued = history
        .issue(json!({ "collection": collection, "client_id": "first", "language": "fr" }))
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text());
    let view = issued.json();
    let number = view["number"].as_str().unwrap().to_string();
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(number, format!("{year}-0001"));
    assert_eq!(view["status"]["state"], "valid");
    assert_eq!(view["received_g"], PC_G + UPS_G + MONITOR_G);

    // A retry answers the same certificate; a second issue over the same scope is refused.
    let retried = history
        .issue(json!({ "collection": collection, "client_id": "first", "language": "fr" }))
        .await;
    assert_eq!(retried.status, StatusCode::OK);
    assert_eq!(retried.json()["number"], number.as_str());
    assert_eq!(retried.json()["replayed"], true);
    history
        .issue(json!({ "collection": collection }))
        .await
        .problem(StatusCode::CONFLICT, "already_certified");
    assert_eq!(history.certificates().await, 1);

    // A supervisor verifies by number and reads the whole certificate: the snapshot holds
    // the hand-worked figures. (What the public sees: `certificate_public.rs`.)
    let verified = history
        .get(
            &history.shop.supervisor,
            &format!("/api/v1/certificates/{number}/verify"),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text());
    let verified = verified.json();
    assert_eq!(verified["genuine"], true, "{verified}");
    let verified = &verified["full"];
    assert_eq!(verified["genuine"], true, "{verified}");
    let facts = &verified["snapshot"];
    assert_eq!(facts["language"], "fr");
    assert_eq!(
        facts["fate"]["received"],
        json!({ "count": 3, "mass_g": PC_G + UPS_G + MONITOR_G })
    );
    assert_eq!(
        facts["fate"]["reused"],
        json!({ "count": 1, "mass_g": MONITOR_G })
    );
    assert_eq!(
        facts["fate"]["dismantled"],
        json!({ "count": 2, "mass_g": PC_G + UPS_G })
    );
    assert_eq!(
        facts["fate"]["shipped_whole"],
        json!({ "count": 0, "mass_g": 0 })
    );
    assert_eq!(
        facts["fate"]["recycled"],
        json!([
            { "family": "battery", "mass_g": 6_000 },
            { "family": "copper", "mass_g": 2_000 },
            { "family": "ferrous", "mass_g": 6_000 },
            { "family": "pcb", "mass_g": 1_400 + 3_900 },
        ])
    );
    assert_eq!(
        facts["fate"]["lost_g"], 100,
        "the UPS's 10,000 g gave 9,900 g of fractions"
    );
    assert_eq!(facts["fate"]["copper_ingot_g"], 0);
    let hazardous = &facts["fate"]["hazardous"][0];
    assert_eq!(hazardous["material"], "BAT-PB");
    assert_eq!(hazardous["mass_g"], 6_000);
    assert_eq!(hazardous["processor"], "Plomb Récupération");
    assert_eq!(hazardous["permit_number"], "AUT-PB-118");
    assert!(
        hazardous["documents"][0]
            .as_str()
            .unwrap()
            .ends_with("/ BSD-2026-118")
    );
    let annex = facts["annex"].as_array().unwrap();
    assert_eq!(annex.len(), 1, "only the PC bears data");
    assert_eq!(annex[0]["item"], history.pc.as_str());
    assert_eq!(annex[0]["serial"], format!("SN-{PC_G}"));
    assert_eq!(annex[0]["method"], "purge");
    assert_eq!(annex[0]["verification"], "read-back of 10 % of sectors");
    assert!(facts["declaration"].as_str().unwrap().contains("certifie"));
    let received: i64 = facts["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["mass_g"].as_i64().unwrap())
        .sum();
    assert_eq!(received, PC_G + UPS_G + MONITOR_G);
    // The exact signed text verifies with the published key.
    let keys = history
        .shop
        .app
        .get("/.well-known/greenchip-signing-key")
        .send()
        .await
        .json();
    assert_eq!(keys["public_key"], verified["seal"]["public_key"]);
    let seal: greenchip::domain::certificate::Seal =
        serde_json::from_value(verified["seal"].clone()).unwrap();
    greenchip::domain::certificate::verify(verified["canonical"].as_str().unwrap(), &seal)
        .expect("the published seal verifies");

    // The PDF downloads with the same bytes every time, and they are the stored ones.
    let first = history
        .get(
            &history.shop.supervisor,
            &format!("/api/v1/certificates/{number}/pdf"),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.content_type(), "application/pdf");
    let again = history
        .get(
            &history.shop.supervisor,
            &format!("/api/v1/certificates/{number}/pdf"),
        )
        .await;
    assert_eq!(first.body, again.body);
    let stored = certificate::Entity::find()
        .one(&history.shop.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.body, stored.pdf);

    // The public page says so too, by the code.
    let code = view["code"].as_str().unwrap();
    let page = history
        .shop
        .app
        .get(&format!("/verify/{code}"))
        .send()
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("data-verdict=\"valid\""),
        "{}",
        page.text()
    );
}

#[tokio::test]
async fn changing_one_figure_in_the_stored_snapshot_fails_verification() {
    let history = History::received().await;
    history.mostly_processed().await;
    history.finish().await;
    let issued = history
        .issue(json!({ "collection": history.shop.collection }))
        .await
        .json();
    let number = issued["number"].as_str().unwrap();
    let code = issued["code"].as_str().unwrap();
    let db = &history.shop.app.db;
    // Someone with write access to the database goes around the append-only guard.
    let unguard = match db.get_database_backend() {
        DbBackend::Postgres => "DROP TRIGGER certificates_append_only ON certificates",
        _ => "DROP TRIGGER certificates_no_update",
    };
    db.execute_unprepared(unguard).await.unwrap();
    let forged = db
        .execute_unprepared(
            "UPDATE certificates SET snapshot = REPLACE(snapshot, '\"received\":{\"count\":3,', '\"received\":{\"count\":4,')",
        )
        .await
        .unwrap();
    assert_eq!(forged.rows_affected(), 1);
    let verified = history
        .get(
            &history.shop.supervisor,
            &format!("/api/v1/certificates/{number}/verify"),
        )
        .await
        .json();
    assert_eq!(verified["genuine"], false, "{verified}");
    assert_eq!(verified["full"]["snapshot"]["fate"]["received"]["count"], 4);
    let public = history
        .shop
        .app
        .get(&format!("/api/v1/certificates/{code}/verify"))
        .send()
        .await
        .json();
    assert_eq!(public["genuine"], false, "{public}");
    assert!(public["full"].is_null());
    let page = history
        .shop
        .app
        .get(&format!("/verify/{code}"))
        .send()
        .await;
    assert!(page.text().contains("data-verdict=\"not_genuine\""));
}

#[tokio::test]
async fn a_correction_revokes_and_reissues_under_a_new_number() {
    let history = History::received().await;
    history.mostly_processed().await;
    history.finish().await;
    let first = history
        .issue(json!({ "collection": history.shop.collection }))
        .await
        .json();
    let old = first["number"].as_str().unwrap().to_string();

    history
        .supervisor_post(
            &format!("/api/v1/certificates/{old}/revocations"),
            json!({ "reason": "" }),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let corrected = history
        .supervisor_post(
            &format!("/api/v1/certificates/{old}/revocations"),
            json!({ "reason": "partner address was wrong" }),
        )
        .await;
    assert_eq!(
        corrected.status,
        StatusCode::CREATED,
        "{}",
        corrected.text()
    );
    let corrected = corrected.json();
    let new = corrected["number"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(corrected["supersedes"], old.as_str());
    assert_eq!(corrected["status"]["state"], "valid");

    let verify = |number: String| {
        let history = &history;
        async move {
            history
                .get(
                    &history.shop.supervisor,
                    &format!("/api/v1/certificates/{number}/verify"),
                )
                .await
                .json()
        }
    };
    let was = verify(old.clone()).await;
    assert_eq!(was["genuine"], true, "revoked is still genuine: {was}");
    assert_eq!(was["status"]["state"], "superseded");
    assert_eq!(was["status"]["by"], new.as_str());
    assert_eq!(was["full"]["status"]["reason"], "partner address was wrong");
    assert_eq!(verify(new.clone()).await["status"]["state"], "valid");
    let page = history
        .get(&history.shop.supervisor, &format!("/verify/{old}"))
        .await;
    assert!(page.text().contains(&new) && page.text().contains("partner address was wrong"));

    // Revoking twice is refused; revoking without reissue leaves it revoked.
    history
        .supervisor_post(
            &format!("/api/v1/certificates/{old}/revocations"),
            json!({ "reason": "again" }),
        )
        .await
        .problem(StatusCode::CONFLICT, "already_revoked");
    let revoked = history
        .supervisor_post(
            &format!("/api/v1/certificates/{new}/revocations"),
            json!({ "reason": "issued by mistake", "reissue": false }),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::CREATED, "{}", revoked.text());
    assert_eq!(revoked.json()["status"]["state"], "revoked");
    assert_eq!(history.certificates().await, 2);
}

#[tokio::test]
async fn a_partner_sees_only_its_own_and_everything_else_is_404() {
    let history = History::received().await;
    history.mostly_processed().await;
    history.finish().await;
    let issued = history
        .issue(json!({ "collection": history.shop.collection }))
        .await
        .json();
    let number = issued["number"].as_str().unwrap().to_string();
    let code = issued["code"].as_str().unwrap().to_string();
    let own = history.partner_login("lycee").await;
    let other = history.shop.app.logged_in("other", Role::Partner).await;
    let collection = &history.shop.collection;
    let pc = &history.pc;
    let routes = [
        format!("/api/v1/collections/{collection}"),
        format!("/api/v1/collections/{collection}/items"),
        format!("/api/v1/items/{pc}"),
        format!("/api/v1/trace/{pc}?direction=forward"),
        format!("/api/v1/trace/{collection}?direction=forward"),
        format!("/api/v1/attribution?collection={collection}"),
        format!("/api/v1/certificates/{number}"),
        format!("/api/v1/certificates/{code}"),
        format!("/api/v1/certificates/{number}/pdf"),
        format!("/portal/collections/{collection}"),
    ];
    for route in &routes {
        let mine = history.get(&own, route).await;
        assert_eq!(mine.status, StatusCode::OK, "{route}: {}", mine.text());
        let theirs = history.get(&other, route).await;
        assert_eq!(
            theirs.status,
            StatusCode::NOT_FOUND,
            "{route}: {}",
            theirs.text()
        );
    }
    // A lot is nobody's own: a partner cannot trace from it.
    let lots = history
        .get(&history.shop.supervisor, "/api/v1/lots")
        .await
        .json();
    let lot = lots["items"][0]["code"].as_str().unwrap().to_string();
    let traced = history.get(&own, &format!("/api/v1/trace/{lot}")).await;
    assert_eq!(traced.status, StatusCode::NOT_FOUND, "{}", traced.text());

    // Lists hold only the partner's own.
    let listed = |cookie: String, path: &'static str| {
        let history = &history;
        async move { history.get(&cookie, path).await.json() }
    };
    assert_eq!(listed(own.clone(), "/api/v1/collections").await["total"], 1);
    assert_eq!(
        listed(other.clone(), "/api/v1/collections").await["total"],
        0
    );
    assert_eq!(listed(own.clone(), "/api/v1/items").await["total"], 3);
    assert_eq!(listed(other.clone(), "/api/v1/items").await["total"], 0);
    assert_eq!(
        listed(own.clone(), "/api/v1/certificates")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        listed(other.clone(), "/api/v1/certificates")
            .await
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // A partner asking for another partner's list by id still gets only its own.
    let partner_id = history.partner_id().await;
    let probed = history
        .get(
            &other,
            &format!("/api/v1/collections?partner_id={partner_id}"),
        )
        .await
        .json();
    assert_eq!(probed["total"], 0);

    // The portal shows the collection as fully processed with the certificate to download.
    let portal = history.get(&own, "/portal").await;
    assert_eq!(portal.status, StatusCode::OK);
    let text = portal.text();
    assert!(
        text.contains(collection.as_str()) && text.contains(&number),
        "{text}"
    );
    assert!(text.contains(&format!("/api/v1/certificates/{number}/pdf")));
    assert!(
        !history
            .get(&other, "/portal")
            .await
            .text()
            .contains(collection.as_str())
    );
    // Partners do not issue, and do not see the supervisors' certificate page.
    history
        .post(
            &own,
            "/api/v1/certificates",
            json!({ "collection": collection }),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        history.get(&own, "/certificates").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn supervisors_see_what_is_ready_and_issue_from_the_page() {
    let history = History::received().await;
    history.mostly_processed().await;
    let ready = history
        .get(&history.shop.supervisor, "/api/v1/certificates/ready")
        .await
        .json();
    assert_eq!(
        ready,
        json!([]),
        "the collection is neither closed nor finished"
    );
    history.finish().await;
    let ready = history
        .get(&history.shop.supervisor, "/api/v1/certificates/ready")
        .await
        .json();
    assert_eq!(ready[0]["collection"], history.shop.collection.as_str());
    assert_eq!(ready[0]["received_g"], PC_G + UPS_G + MONITOR_G);

    let page = history.get(&history.shop.supervisor, "/certificates").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page
        .text()
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let issued = history
        .shop
        .app
        .post("/certificates")
        .cookie(&history.shop.supervisor)
        .form(&[
            ("csrf", &csrf),
            ("collection", &history.shop.collection),
            ("client_id", "page-1"),
        ])
        .send()
        .await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.text());
    assert!(issued.location().starts_with("/certificates?issued="));
    assert_eq!(history.certificates().await, 1);
    // A forged form is refused and issues nothing more.
    let forged = history
        .shop
        .app
        .post("/certificates")
        .cookie(&history.shop.supervisor)
        .form(&[("csrf", "forged"), ("collection", &history.shop.collection)])
        .send()
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(history.certificates().await, 1);
    let ready = history
        .get(&history.shop.supervisor, "/api/v1/certificates/ready")
        .await
        .json();
    assert_eq!(ready, json!([]));
}

fn run_tool(tool: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(
        output.status.success(),
        "{tool} {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn the_issued_pdf_reads_back_and_its_qr_code_opens_the_verify_page() {
    let app = crate::helpers::TestApp::with_config(|config| {
        config.public_url = Some("https://greenchip.example.org/".into());
        config.workshop_name = "Atelier Green Chip".into();
        config.workshop_permit = "AE-MRK-2026-017".into();
    })
    .await;
    let history = History::received_by(Workshop::with(app).await).await;
    history.mostly_processed().await;
    history.finish().await;
    let issued = history
        .issue(json!({ "collection": history.shop.collection, "language": "fr" }))
        .await
        .json();
    let number = issued["number"].as_str().unwrap().to_string();
    let code = issued["code"].as_str().unwrap().to_string();
    let pdf = history
        .get(
            &history.shop.supervisor,
            &format!("/api/v1/certificates/{number}/pdf"),
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with(b"%PDF-"));

    // What the PDF carries verifies on its own, as `greenchip certificate verify` checks it.
    let embedded =
        greenchip::render::certificate::extract(&pdf.body).expect("the seal is embedded");
    greenchip::domain::certificate::verify(&embedded.canonical, &embedded.seal)
        .expect("the embedded snapshot verifies");
    assert_eq!(embedded.seal.hash, issued["hash"].as_str().unwrap());

    if !crate::labels::have_tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("certificate.pdf");
    std::fs::write(&file, &pdf.body).unwrap();
    let path = file.to_str().unwrap();
    run_tool("qpdf", &["--check", path]);
    let text = run_tool("pdftotext", &["-layout", path, "-"]);
    for expected in [
        "Lycée Ibn Sina",
        number.as_str(),
        "Atelier Green Chip",
        "AE-MRK-2026-017",
        "Plomb Récupération",
        "BSD-2026-118",
        "23,7",
        "Récupération",
        "certifie",
        history.pc.as_str(),
    ] {
        assert!(
            text.contains(expected),
            "pdftotext lacks {expected:?}:\n{text}"
        );
    }
    let prefix = dir.path().join("page");
    run_tool(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            path,
            prefix.to_str().unwrap(),
        ],
    );
    let image = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .expect("a rendered page");
    let decoded = run_tool("zbarimg", &["--raw", "-q", image.to_str().unwrap()]);
    assert_eq!(
        decoded.trim(),
        format!("https://greenchip.example.org/verify/{code}")
    );
}
