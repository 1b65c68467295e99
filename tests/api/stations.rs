//! Workstations: enrolment, badge sign-in, scans and their log, the lifecycle with its
//! sanitisation gate, reuse and whole shipment in the ledger, work logs and training.

use axum::http::{Method, StatusCode};
use greenchip::domain::roles::Role;
use greenchip::entities::{scan, station_action};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Workshop};

fn sanitised_ok() -> Value {
    json!({ "method": "purge", "tool": "nwipe 0.34", "verified": true, "verification": "read-back of 10 % of sectors", "success": true })
}

#[tokio::test]
async fn a_device_is_enrolled_once_and_a_revoked_one_is_refused() {
    let shop = Workshop::new().await;
    let station = shop.station("triage").await;
    let session = shop
        .app
        .get("/api/v1/station")
        .cookie(&station.1)
        .send()
        .await;
    assert_eq!(session.status, StatusCode::OK);
    assert_eq!(session.json()["station"]["kind"], "triage");
    assert_eq!(session.json()["apprentice"], Value::Null);

    let devices = shop
        .app
        .get(&format!("/api/v1/stations/{}/devices", station.0))
        .cookie(&shop.supervisor)
        .send()
        .await
        .json();
    let device_id = devices[0]["id"].as_str().unwrap();
    let revoked = shop
        .app
        .request(
            Method::DELETE,
            &format!("/api/v1/station-devices/{device_id}"),
        )
        .cookie(&shop.supervisor)
        .send()
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    shop.scan(&station, &shop.badge, "after-revoke")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");

    let apprentice = shop.app.logged_in("khadija", Role::Apprentice).await;
    shop.app
        .post(&format!("/api/v1/stations/{}/devices", station.0))
        .cookie(&apprentice)
        .json(&json!({}))
        .send()
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn scans_resolve_codes_urls_and_serials_and_every_one_is_logged_once() {
    let shop = Workshop::new().await;
    let station = shop.station("dismantling").await;
    let pc = shop.item("desktop_pc", 9_400).await;
    let linked = shop
        .app
        .post(&format!("/api/v1/items/{pc}/barcodes"))
        .cookie(&shop.supervisor)
        .json(&json!({ "barcode": "CZC4021XYZ" }))
        .send()
        .await;
    assert_eq!(linked.status, StatusCode::CREATED);

    let before_badge = shop.scan(&station, &pc, "s1").await.json();
    assert_eq!(before_badge["result"], "ok");
    assert_eq!(before_badge["message"], "scan your badge first");
    assert_eq!(before_badge["actions"], json!([]));

    shop.sign_in(&station).await;
    for (raw, id) in [
        (pc.clone(), "s2"),
        (pc.to_lowercase(), "s3"),
        (format!("HTTPS://GC.EXAMPLE.ORG/S/{pc}"), "s4"),
        ("CZC4021XYZ".to_string(), "s5"),
    ] {
        let found = shop.scan(&station, &raw, id).await.json();
        assert_eq!(found["result"], "ok", "{raw}");
        assert_eq!(found["code"], pc.as_str(), "{raw}");
        assert_eq!(found["apprentice"], "youssef");
        assert!(
            found["message"]
                .as_str()
                .unwrap()
                .contains("sanitisation needed"),
            "{found}"
        );
    }
    let typo = format!(
        "{}{}",
        &pc[..pc.len() - 1],
        if pc.ends_with('A') { 'B' } else { 'A' }
    );
    assert_eq!(
        shop.scan(&station, &typo, "s6").await.json()["result"],
        "bad_check"
    );
    assert_eq!(
        shop.scan(&station, "IT-000000000", "s7").await.json()["result"],
        "unknown"
    );
    assert_eq!(
        shop.scan(&station, "hello world", "s8").await.json()["result"],
        "malformed"
    );
    let logged = scan::Entity::find().count(&shop.app.db).await.unwrap();
    assert_eq!(logged, 9);

    let first = shop.scan(&station, "hello world", "s8").await.json();
    assert_eq!(first["replayed"], true);
    assert_eq!(
        scan::Entity::find().count(&shop.app.db).await.unwrap(),
        logged,
        "a repeat logs nothing"
    );

    shop.app
        .post("/api/v1/scans")
        .cookie(&station.1)
        .json(&json!({ "station": "ST-000000000", "raw": pc, "client_scan_id": "s9" }))
        .send()
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
}

#[tokio::test]
async fn scans_arriving_together_are_each_logged_once_and_their_repeats_answer_the_first() {
    let shop = Workshop::new().await;
    let benches = [
        shop.station("dismantling").await,
        shop.station("dismantling").await,
    ];
    for bench in &benches {
        shop.sign_in(bench).await;
    }
    let pc = shop.item("desktop_pc", 9_400).await;
    let before = scan::Entity::find().count(&shop.app.db).await.unwrap();
    // Twenty scans per bench, each sent twice at once: the writer stores them in batches.
    let mut scans = Vec::new();
    for bench in &benches {
        for n in 0..20 {
            let raw = if n % 4 == 3 {
                "hello world"
            } else {
                pc.as_str()
            };
            for _ in 0..2 {
                scans.push((bench, raw, format!("together-{n}")));
            }
        }
    }
    let sent = scans
        .iter()
        .map(|(bench, raw, id)| shop.scan(bench, raw, id));
    let answers = futures_util::future::join_all(sent).await;
    for pair in answers.chunks(2) {
        let (first, second) = (pair[0].json(), pair[1].json());
        assert_eq!(pair[0].status, StatusCode::OK, "{first}");
        assert_eq!(pair[1].status, StatusCode::OK, "{second}");
        assert_eq!(first["result"], second["result"]);
        assert_eq!(first["message"], second["message"]);
        assert_eq!(
            [&first["replayed"], &second["replayed"]]
                .iter()
                .filter(|r| **r == &json!(true))
                .count(),
            1,
            "one of the two is the repeat: {first} {second}"
        );
    }
    assert_eq!(
        scan::Entity::find().count(&shop.app.db).await.unwrap(),
        before + 40,
        "each client scan id of each bench is logged once"
    );
}

#[tokio::test]
async fn a_badge_with_a_pin_needs_it_and_another_badge_switches() {
    let shop = Workshop::new().await;
    let station = shop.station("triage").await;
    let set = shop
        .app
        .request(
            Method::PUT,
            &format!("/api/v1/apprentices/{}/pin", shop.apprentice_id),
        )
        .cookie(&shop.supervisor)
        .json(&json!({ "pin": "4821" }))
        .send()
        .await;
    assert_eq!(set.status, StatusCode::NO_CONTENT);
    assert_eq!(
        shop.scan(&station, &shop.badge, "p1").await.json()["result"],
        "pin_required"
    );
    let wrong = shop
        .app
        .post("/api/v1/scans")
        .cookie(&station.1)
        .json(&json!({ "station": station.0, "raw": shop.badge, "client_scan_id": "p2", "pin": "1111" }))
        .send()
        .await
        .json();
    assert_eq!(wrong["result"], "wrong_pin");
    let right = shop
        .app
        .post("/api/v1/scans")
        .cookie(&station.1)
        .json(&json!({ "station": station.0, "raw": shop.badge, "client_scan_id": "p3", "pin": "4821" }))
        .send()
        .await
        .json();
    assert_eq!(right["result"], "signed_in");

    let other = shop.app.user("khadija", Role::Apprentice).await;
    let switched = shop
        .scan(&station, other.badge_code.as_deref().unwrap(), "p4")
        .await
        .json();
    assert_eq!(switched["apprentice"], "khadija");
    let session = shop
        .app
        .get("/api/v1/station")
        .cookie(&station.1)
        .send()
        .await
        .json();
    assert_eq!(session["apprentice"], "khadija");

    shop.app
        .request(
            Method::PUT,
            &format!("/api/v1/apprentices/{}/pin", shop.apprentice_id),
        )
        .cookie(&shop.supervisor)
        .json(&json!({ "pin": "12a4" }))
        .send()
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
}

#[tokio::test]
async fn a_pc_needs_sanitising_before_dismantling_and_both_tasks_are_logged() {
    let shop = Workshop::new().await;
    let triage = shop.station("triage").await;
    let sanitisation = shop.station("sanitisation").await;
    let dismantling = shop.station("dismantling").await;
    let pc = shop.item("desktop_pc", 9_400).await;

    // Not signed in: nothing happens.
    shop.act(&triage, json!({ "client_action_id": "a0", "item": pc, "action": "triage", "decision": "dismantle", "reason": "broken board" }))
        .await
        .problem(StatusCode::CONFLICT, "not_signed_in");

    shop.sign_in(&triage).await;
    shop.scan(&triage, &pc, "t1").await;
    let triaged = shop
        .act(&triage, json!({ "client_action_id": "a1", "item": pc, "action": "triage", "decision": "dismantle", "reason": "broken board" }))
        .await;
    assert_eq!(triaged.status, StatusCode::OK, "{}", triaged.text());
    assert_eq!(triaged.json()["state"], "triaged");

    shop.sign_in(&dismantling).await;
    let scanned = shop.scan(&dismantling, &pc, "d1").await.json();
    assert!(
        scanned["message"]
            .as_str()
            .unwrap()
            .contains("sanitisation needed")
    );
    assert_eq!(scanned["actions"], json!([]));
    let refused = shop
        .act(
            &dismantling,
            json!({ "client_action_id": "a2", "item": pc, "action": "start_dismantling" }),
        )
        .await;
    let problem = refused.problem(StatusCode::CONFLICT, "sanitisation_needed");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("it is triaged"),
        "{problem}"
    );

    shop.sign_in(&sanitisation).await;
    shop.scan(&sanitisation, &pc, "z1").await;
    let failed = shop
        .act(&sanitisation, json!({ "client_action_id": "a3", "item": pc, "action": "sanitise",
            "sanitisation": { "method": "clear", "tool": "nwipe 0.34", "verified": false, "success": false } }))
        .await;
    assert_eq!(
        failed.json()["state"],
        "triaged",
        "a failed wipe changes nothing"
    );
    assert_eq!(
        shop.scan(&sanitisation, &pc, "z2").await.json()["summary"]["sanitised"],
        false,
        "a failed wipe is no sanitisation"
    );
    let unverified = shop
        .act(&sanitisation, json!({ "client_action_id": "a4", "item": pc, "action": "sanitise",
            "sanitisation": { "method": "purge", "tool": "nwipe", "verified": true, "success": true } }))
        .await;
    unverified.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let wiped = shop
        .act(&sanitisation, json!({ "client_action_id": "a5", "item": pc, "action": "sanitise", "sanitisation": sanitised_ok() }))
        .await;
    assert_eq!(wiped.json()["state"], "sanitised");

    let rescanned = shop.scan(&dismantling, &pc, "d2").await.json();
    assert_eq!(rescanned["summary"]["sanitised"], true, "{rescanned}");
    assert!(
        !rescanned["message"]
            .as_str()
            .unwrap()
            .contains("sanitisation needed"),
        "{rescanned}"
    );
    assert!(
        rescanned["actions"]
            .as_array()
            .unwrap()
            .contains(&json!("start_dismantling")),
        "{rescanned}"
    );
    let started = shop
        .act(
            &dismantling,
            json!({ "client_action_id": "a6", "item": pc, "action": "start_dismantling" }),
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text());
    assert_eq!(started.json()["state"], "dismantling");
    assert_eq!(
        started.json()["next_actions"],
        json!([]),
        "finishing records the fractions, in the dismantling flow, not as a plain action"
    );

    let logs = shop
        .app
        .get(&format!(
            "/api/v1/worklogs?apprentice_id={}",
            shop.apprentice_id
        ))
        .cookie(&shop.supervisor)
        .send()
        .await
        .json();
    let activities: Vec<&str> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["activity"].as_str().unwrap())
        .collect();
    assert_eq!(
        activities,
        ["triage", "sanitise", "sanitise", "dismantling"]
    );
    assert!(logs[0]["duration_s"].as_i64().unwrap() >= 0);
    assert_eq!(logs[3]["ended_at"], Value::Null, "dismantling is under way");
    assert_eq!(logs[0]["item_code"], pc.as_str());

    let record = shop
        .app
        .get(&format!(
            "/api/v1/apprentices/{}/training",
            shop.apprentice_id
        ))
        .cookie(&shop.supervisor)
        .send()
        .await
        .json();
    assert_eq!(record["sanitisations"], 2);
    assert_eq!(record["items_by_kind"]["desktop_pc"], 1);
    assert_eq!(record["mass_handled_g"], 9_400);
    assert!(record["hours_by_station_kind"].get("triage").is_some());
}

#[tokio::test]
async fn reuse_and_whole_shipment_leave_the_ledger_with_the_item() {
    let shop = Workshop::new().await;
    let triage = shop.station("triage").await;
    let refurbishment = shop.station("refurbishment").await;
    let shipping = shop.station("shipping").await;
    let screen = shop.item("lcd_monitor", 4_300).await;
    let crt = shop.item("crt_monitor", 15_200).await;
    shop.sign_in(&triage).await;
    for (item, decision, id) in [(&screen, "reuse", "t1"), (&crt, "ship_whole", "t2")] {
        let triaged = shop
            .act(&triage, json!({ "client_action_id": id, "item": item, "action": "triage", "decision": decision, "reason": "checked" }))
            .await;
        assert_eq!(triaged.status, StatusCode::OK, "{}", triaged.text());
    }
    shop.sign_in(&refurbishment).await;
    shop.act(
        &refurbishment,
        json!({ "client_action_id": "r1", "item": screen, "action": "start_refurbishment" }),
    )
    .await;
    shop.act(
        &refurbishment,
        json!({ "client_action_id": "r2", "item": screen, "action": "mark_reused" }),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let reused = shop
        .act(&refurbishment, json!({ "client_action_id": "r3", "item": screen, "action": "mark_reused", "destination": "donated to École Al Jisr" }))
        .await;
    assert_eq!(reused.json()["state"], "reused");
    assert_eq!(reused.json()["next_actions"], json!([]));

    shop.sign_in(&shipping).await;
    let wrong_item = shop
        .act(
            &shipping,
            json!({ "client_action_id": "x1", "item": screen, "action": "ship_whole" }),
        )
        .await;
    let problem = wrong_item.problem(StatusCode::CONFLICT, "action_not_allowed");
    assert!(
        problem["detail"].as_str().unwrap().contains("reused"),
        "{problem}"
    );
    let shipped = shop
        .act(
            &shipping,
            json!({ "client_action_id": "x2", "item": crt, "action": "ship_whole" }),
        )
        .await;
    assert_eq!(shipped.json()["state"], "shipped_whole");

    for (code, balance) in [(&screen, 0), (&crt, 0)] {
        let holder = shop
            .app
            .get(&format!("/api/v1/holders/{code}"))
            .cookie(&shop.supervisor)
            .send()
            .await
            .json();
        assert_eq!(holder["balance_g"], balance);
    }
    let reuse = shop
        .app
        .get("/api/v1/holders/reuse")
        .cookie(&shop.supervisor)
        .send()
        .await
        .json();
    assert_eq!(reuse["balance_g"], 4_300);
    let shipped_account = shop
        .app
        .get("/api/v1/holders/shipped")
        .cookie(&shop.supervisor)
        .send()
        .await
        .json();
    assert_eq!(shipped_account["balance_g"], 15_200);
    let report = greenchip::services::ledger::check::check(&shop.app.db)
        .await
        .unwrap();
    assert!(report.is_clean(), "{:?}", report.differences);
}

#[tokio::test]
async fn a_repeated_action_answers_the_first_and_a_wrong_station_is_refused() {
    let shop = Workshop::new().await;
    let triage = shop.station("triage").await;
    let dismantling = shop.station("dismantling").await;
    let switch = shop.item("network_switch", 3_100).await;
    shop.sign_in(&dismantling).await;
    let wrong = shop
        .act(&dismantling, json!({ "client_action_id": "w1", "item": switch, "action": "triage", "decision": "dismantle", "reason": "old" }))
        .await;
    let problem = wrong.problem(StatusCode::CONFLICT, "action_not_allowed");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("triage station"),
        "{problem}"
    );

    shop.sign_in(&triage).await;
    let body = json!({ "client_action_id": "k1", "item": switch, "action": "triage", "decision": "dismantle", "reason": "old" });
    let first = shop.act(&triage, body.clone()).await.json();
    let before = station_action::Entity::find()
        .count(&shop.app.db)
        .await
        .unwrap();
    let again = shop.act(&triage, body).await.json();
    assert_eq!(again["replayed"], true);
    assert_eq!(again["state"], first["state"]);
    assert_eq!(
        station_action::Entity::find()
            .count(&shop.app.db)
            .await
            .unwrap(),
        before
    );
}

#[tokio::test]
async fn two_stations_starting_the_same_item_at_once_one_wins() {
    let shop = Workshop::new().await;
    let triage = shop.station("triage").await;
    let first = shop.station("dismantling").await;
    let second = shop.station("dismantling").await;
    let switch = shop.item("network_switch", 3_000).await;
    shop.sign_in(&triage).await;
    shop.act(&triage, json!({ "client_action_id": "t", "item": switch, "action": "triage", "decision": "dismantle", "reason": "old" }))
        .await;
    shop.sign_in(&first).await;
    shop.sign_in(&second).await;
    let (a, b) = tokio::join!(
        shop.act(
            &first,
            json!({ "client_action_id": "c1", "item": switch, "action": "start_dismantling" })
        ),
        shop.act(
            &second,
            json!({ "client_action_id": "c2", "item": switch, "action": "start_dismantling" })
        ),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        a.text(),
        b.text()
    );
}

#[tokio::test]
async fn supervisors_correct_tasks_with_a_reason_and_apprentices_see_only_their_own() {
    let shop = Workshop::new().await;
    let triage = shop.station("triage").await;
    let printer = shop.item("printer", 7_000).await;
    shop.sign_in(&triage).await;
    shop.act(&triage, json!({ "client_action_id": "t", "item": printer, "action": "triage", "decision": "dismantle", "reason": "jammed" }))
        .await;
    let logs = shop
        .app
        .get("/api/v1/worklogs")
        .cookie(&shop.supervisor)
        .send()
        .await
        .json();
    let task = logs[0]["id"].as_str().unwrap();
    let path = format!("/api/v1/worklogs/{task}/corrections");
    shop.app
        .post(&path)
        .cookie(&shop.supervisor)
        .json(&json!({ "ended_at": "2026-11-29T09:00:00Z", "reason": "" }))
        .send()
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let started = logs[0]["started_at"].as_str().unwrap();
    let end =
        chrono::DateTime::parse_from_rfc3339(started).unwrap() + chrono::Duration::minutes(12);
    let corrected = shop
        .app
        .post(&path)
        .cookie(&shop.supervisor)
        .json(&json!({ "ended_at": end.to_rfc3339(), "reason": "forgot to press finish" }))
        .send()
        .await;
    assert_eq!(
        corrected.status,
        StatusCode::NO_CONTENT,
        "{}",
        corrected.text()
    );
    let after = shop
        .app
        .get("/api/v1/worklogs")
        .cookie(&shop.supervisor)
        .send()
        .await
        .json();
    assert_eq!(after[0]["duration_s"], 720);
    assert_eq!(after[0]["corrections"], json!(["forgot to press finish"]));

    let apprentice = shop
        .app
        .post("/api/v1/auth/login")
        .json(&json!({ "login": "youssef", "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .session_cookie()
        .unwrap();
    let own = shop
        .app
        .get("/api/v1/worklogs")
        .cookie(&apprentice)
        .send()
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.json().as_array().unwrap().len(), 1);
    let other = shop.app.user("hamza", Role::Apprentice).await;
    shop.app
        .get(&format!("/api/v1/worklogs?apprentice_id={}", other.id))
        .cookie(&apprentice)
        .send()
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    shop.app
        .get(&format!("/api/v1/apprentices/{}/training", other.id))
        .cookie(&apprentice)
        .send()
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let skill = shop
        .app
        .post(&format!("/api/v1/apprentices/{}/skills", shop.apprentice_id))
        .cookie(&shop.supervisor)
        .json(&json!({ "station_kind": "triage", "level": "practising", "note": "good eye for boards" }))
        .send()
        .await;
    assert_eq!(skill.status, StatusCode::NO_CONTENT);
    let record = shop
        .app
        .get(&format!(
            "/api/v1/apprentices/{}/training",
            shop.apprentice_id
        ))
        .cookie(&apprentice)
        .send()
        .await
        .json();
    assert_eq!(record["skills"][0]["level"], "practising");
}

#[tokio::test]
async fn an_idle_station_signs_its_apprentice_out() {
    let app = TestApp::with_config(|config| config.station_idle_minutes = 0).await;
    let shop = Workshop::with(app).await;
    let triage = shop.station("triage").await;
    let printer = shop.item("printer", 7_000).await;
    shop.sign_in(&triage).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    shop.act(&triage, json!({ "client_action_id": "t", "item": printer, "action": "triage", "decision": "dismantle", "reason": "jammed" }))
        .await
        .problem(StatusCode::CONFLICT, "not_signed_in");
}

#[tokio::test]
async fn the_station_page_enrols_a_device_and_then_shows_the_kiosk() {
    let shop = Workshop::new().await;
    let created = shop
        .app
        .post("/api/v1/stations")
        .cookie(&shop.supervisor)
        .json(&json!({ "name": "Démontage 1", "kind": "dismantling" }))
        .send()
        .await
        .json();
    let code = created["code"].as_str().unwrap();
    let path = format!("/stations/{code}");

    let anonymous = shop.app.get(&path).send().await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location(), format!("/login?next={path}"));

    let enrol_page = shop.app.get(&path).cookie(&shop.supervisor).send().await;
    assert_eq!(enrol_page.status, StatusCode::OK);
    let html = enrol_page.text();
    assert!(
        html.contains("id=\"enrol\""),
        "a supervisor is offered enrolment"
    );
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = &html[start..start + 32];
    let enrolled = shop
        .app
        .post(&format!("{path}/enrol"))
        .cookie(&shop.supervisor)
        .form(&[("csrf", csrf), ("name", "tablet")])
        .send()
        .await;
    assert_eq!(
        enrolled.status,
        StatusCode::SEE_OTHER,
        "{}",
        enrolled.text()
    );
    let device = enrolled
        .cookie_named("gc_station")
        .expect("the station cookie");
    // Enrolling signs the supervisor out of this device: a kiosk is shared.
    assert!(
        enrolled
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("gc_session=;") && c.contains("Max-Age=0")),
        "{:?}",
        enrolled.set_cookies()
    );
    let after = shop
        .app
        .get("/certificates")
        .cookie(&shop.supervisor)
        .send()
        .await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the session still opens pages"
    );
    assert!(after.location().starts_with("/login"));
    assert!(
        enrolled
            .set_cookies()
            .iter()
            .any(|c| c.contains("HttpOnly") && c.contains("Max-Age=31536000"))
    );

    let kiosk = shop
        .app
        .get(&path)
        .cookie(&device)
        .header("accept-language", "ar")
        .send()
        .await;
    assert_eq!(kiosk.status, StatusCode::OK);
    let html = kiosk.text();
    assert!(html.contains("id=\"scan\"") && html.contains("autofocus"));
    assert!(
        html.contains("dir=\"rtl\""),
        "the kiosk speaks Arabic right to left"
    );
    assert!(html.contains("/assets/js/kiosk.js"));
    let script = shop.app.get("/assets/js/kiosk.js").send().await;
    assert_eq!(script.status, StatusCode::OK);
    let decoder = shop.app.get("/assets/vendor/jsqr/jsQR.js").send().await;
    assert_eq!(
        decoder.status,
        StatusCode::OK,
        "the camera decoder is served from the binary"
    );

    let apprentice = shop.app.logged_in("khadija", Role::Apprentice).await;
    assert_eq!(
        shop.app.get(&path).cookie(&apprentice).send().await.status,
        StatusCode::FORBIDDEN
    );
    // On the supervisor's own computer, signed in again.
    let office = shop.app.logged_in("hind", Role::Supervisor).await;
    let card = shop
        .app
        .get(&format!("/labels/{code}.pdf?template=L7163"))
        .cookie(&office)
        .send()
        .await;
    assert_eq!(
        card.status,
        StatusCode::OK,
        "the station card prints through the label renderer"
    );
    assert_eq!(card.content_type(), "application/pdf");
}

#[tokio::test]
async fn the_training_record_page_shows_tasks_and_keeps_the_skills_matrix() {
    let shop = Workshop::new().await;
    let triage = shop.station("triage").await;
    let printer = shop.item("printer", 7_000).await;
    shop.sign_in(&triage).await;
    shop.act(&triage, json!({ "client_action_id": "t", "item": printer, "action": "triage", "decision": "dismantle", "reason": "jammed" }))
        .await;
    let path = format!("/apprentices/{}", shop.apprentice_id);
    let page = shop.app.get(&path).cookie(&shop.supervisor).send().await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains(&printer), "the task's item is listed");
    assert!(html.contains("printer × 1"));
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = html[start..start + 32].to_string();
    let set = shop
        .app
        .post(&format!("{path}/skills"))
        .cookie(&shop.supervisor)
        .form(&[
            ("csrf", csrf.as_str()),
            ("station_kind", "triage"),
            ("level", "autonomous"),
            ("note", "ready"),
        ])
        .send()
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.text());
    let after = shop
        .app
        .get(&path)
        .cookie(&shop.supervisor)
        .header("accept-language", "fr")
        .send()
        .await
        .text();
    assert!(
        after.contains("level-autonomous") && after.contains("autonome"),
        "the matrix shows the new level"
    );

    let apprentice = shop
        .app
        .post("/api/v1/auth/login")
        .json(&json!({ "login": "youssef", "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .session_cookie()
        .unwrap();
    let own = shop.app.get(&path).cookie(&apprentice).send().await;
    assert_eq!(
        own.status,
        StatusCode::OK,
        "an apprentice sees their own record"
    );
    assert!(
        !own.text().contains("name=\"level\""),
        "but cannot set levels"
    );
    let other = shop.app.user("hamza", Role::Apprentice).await;
    let refused = shop
        .app
        .get(&format!("/apprentices/{}", other.id))
        .cookie(&apprentice)
        .send()
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// Where the kept station sessions go stale and where they do not: a write of the service's
/// own is seen by the next scan; a change made behind its back (another process writing the
/// database) is seen within a second on SQLite, at once on PostgreSQL, which keeps none.
#[tokio::test]
async fn kept_station_sessions_are_forgotten_after_a_write_and_after_a_second() {
    use greenchip::services::station_sessions::SessionCache;
    use sea_orm::ConnectionTrait;

    let shop = Workshop::new().await;
    let triage = shop.station("triage").await;
    let printer = shop.item("printer", 7_000).await;
    let apprentice_of = |answer: Value| answer["apprentice"].clone();
    shop.sign_in(&triage).await;
    let first = shop.scan(&triage, &printer, "first").await.json();
    assert_eq!(apprentice_of(first), "youssef");

    // Behind the service's back: nobody signed in at any device.
    shop.app
        .db
        .execute_unprepared("UPDATE station_devices SET signed_in_user_id = NULL")
        .await
        .unwrap();
    let kept = matches!(
        shop.app.db.get_database_backend(),
        sea_orm::DbBackend::Sqlite
    );
    // Two scans: a scan without a badge changes no session, so the first keeps what is kept.
    for id in ["second", "third"] {
        let answer = shop.scan(&triage, &printer, id).await.json();
        let expected = if kept { json!("youssef") } else { Value::Null };
        assert_eq!(apprentice_of(answer), expected, "scan {id}");
    }
    tokio::time::sleep(SessionCache::LIFETIME + std::time::Duration::from_millis(100)).await;
    let later = shop.scan(&triage, &printer, "later").await.json();
    assert_eq!(
        apprentice_of(later),
        Value::Null,
        "read again after its lifetime"
    );

    // The service's own writes: a badge, then a sign-out, each seen by the very next scan.
    let badge = shop.scan(&triage, &shop.badge, "badge-again").await.json();
    assert_eq!(badge["result"], "signed_in", "{badge}");
    let signed = shop.scan(&triage, &printer, "signed").await.json();
    assert_eq!(apprentice_of(signed), "youssef");
    let out = shop
        .app
        .post("/api/v1/station/sign-out")
        .cookie(&triage.1)
        .send()
        .await;
    assert!(out.status.is_success(), "{}", out.text());
    let after = shop.scan(&triage, &printer, "after-sign-out").await.json();
    assert_eq!(apprentice_of(after), Value::Null, "seen at once");
}
