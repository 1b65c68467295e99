//! Issue 19 ("Trust II"), items 1 and 2: PINs at a station cannot be guessed. Five wrong
//! PINs lock a badge (sign-in or a supervisor's approval alike) until a supervisor unlocks
//! it; every failure is an audit event; a supervisor approves a weighing at the kiosk with
//! their badge and PIN, never a password.

use axum::http::StatusCode;
use greenchip::domain::roles::Role;
use serde_json::{Value, json};

use crate::flows::Flows;
use crate::helpers::{TestApp, Workshop};

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form token") + marker.len();
    html[start..start + 32].to_string()
}

async fn set_pin(shop: &Workshop, pin: &str) {
    let set = shop
        .app
        .request(
            axum::http::Method::PUT,
            &format!("/api/v1/apprentices/{}/pin", shop.apprentice_id),
        )
        .cookie(&shop.supervisor)
        .json(&json!({ "pin": pin }))
        .send()
        .await;
    assert_eq!(set.status, StatusCode::NO_CONTENT, "{}", set.text());
}

async fn badge_with_pin(
    shop: &Workshop,
    station: &(String, String),
    pin: &str,
    id: &str,
) -> crate::helpers::TestResponse {
    shop.app
        .post("/api/v1/scans")
        .cookie(&station.1)
        .json(&json!({ "station": station.0, "raw": shop.badge, "client_scan_id": id, "pin": pin }))
        .send()
        .await
}

async fn events_of(app: &TestApp, supervisor: &str, kind: &str) -> Vec<Value> {
    let answer = app
        .get(&format!("/api/v1/events?kind={kind}"))
        .cookie(supervisor)
        .send()
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json().as_array().unwrap().clone()
}

async fn signed_in_at(shop: &Workshop, station: &(String, String)) -> Value {
    shop.app
        .get("/api/v1/station")
        .cookie(&station.1)
        .send()
        .await
        .json()["apprentice"]
        .clone()
}

/// Locks the workshop apprentice's badge with five wrong PINs at `station`.
async fn lock_badge(shop: &Workshop, station: &(String, String)) {
    for n in 1..=4 {
        let wrong = badge_with_pin(shop, station, "0000", &format!("w{n}"))
            .await
            .json();
        assert_eq!(wrong["result"], "wrong_pin", "attempt {n}: {wrong}");
    }
    badge_with_pin(shop, station, "0000", "w5")
        .await
        .problem(StatusCode::LOCKED, "badge_locked");
}

#[tokio::test]
async fn five_wrong_pins_lock_the_badge_and_then_even_the_right_pin_is_refused() {
    let shop = Workshop::new().await;
    set_pin(&shop, "4821").await;
    let station = shop.station("triage").await;
    lock_badge(&shop, &station).await;

    // The right PIN now: refused alike, nobody signed in.
    let refused = badge_with_pin(&shop, &station, "4821", "right").await;
    let problem = refused.problem(StatusCode::LOCKED, "badge_locked");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("ask a supervisor"),
        "{problem}"
    );
    assert_eq!(signed_in_at(&shop, &station).await, Value::Null);
    // Without a PIN too: no PIN pad for a locked badge.
    shop.scan(&station, &shop.badge, "no-pin")
        .await
        .problem(StatusCode::LOCKED, "badge_locked");
    // The kiosk says it in the apprentice's language.
    let kiosk = shop
        .app
        .get(&format!("/stations/{}", station.0))
        .cookie(&station.1)
        .header("accept", "text/html")
        .header("accept-language", "fr")
        .send()
        .await
        .text();
    assert!(kiosk.contains("Ce badge est bloqué"), "the French words");

    // Every failure is in the audit log: five wrong PINs and the right one refused.
    let failures = events_of(&shop.app, &shop.supervisor, "badge.pin_failed").await;
    assert_eq!(failures.len(), 6, "{failures:?}");
    assert!(
        failures
            .iter()
            .all(|e| e["subjects"][0] == shop.badge.as_str())
    );
    assert_eq!(failures[0]["payload"]["reason"], "locked");
    assert_eq!(failures[1]["payload"]["failures"], 5);
    assert!(failures[1]["payload"]["locked_until"].is_string());
    assert!(
        events_of(&shop.app, &shop.supervisor, "station.sign_in")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_supervisor_unlocks_a_locked_badge_from_the_apprentice_page() {
    let shop = Workshop::new().await;
    set_pin(&shop, "4821").await;
    let station = shop.station("triage").await;
    lock_badge(&shop, &station).await;

    // The dashboard shows it; the apprentice's page offers the unlock.
    let dashboard = shop
        .app
        .get("/")
        .cookie(&shop.supervisor)
        .header("accept", "text/html")
        .send()
        .await
        .text();
    assert!(
        dashboard.contains("id=\"locked-badges\""),
        "the dashboard lists locks"
    );
    assert!(dashboard.contains(&shop.badge));
    let listed = shop
        .app
        .get("/api/v1/badge-locks")
        .cookie(&shop.supervisor)
        .send()
        .await;
    assert_eq!(listed.json()[0]["badge_code"], shop.badge.as_str());
    let page = shop
        .app
        .get(&format!("/apprentices/{}", shop.apprentice_id))
        .cookie(&shop.supervisor)
        .header("accept", "text/html")
        .send()
        .await
        .text();
    let unlock = format!("/apprentices/{}/unlock-badge", shop.apprentice_id);
    assert!(page.contains(&unlock), "an unlock button");

    // Refused: without the form token, and by someone who is not a supervisor.
    let forged = shop
        .app
        .post(&unlock)
        .cookie(&shop.supervisor)
        .form(&[("csrf", "0123456789abcdef0123456789abcdef")])
        .send()
        .await;
    assert!(forged.status.is_client_error(), "{}", forged.status);
    let karim = shop.app.logged_in("karim", Role::Apprentice).await;
    let by_apprentice = shop
        .app
        .request(
            axum::http::Method::DELETE,
            &format!("/api/v1/apprentices/{}/badge-lock", shop.apprentice_id),
        )
        .cookie(&karim)
        .send()
        .await;
    by_apprentice.problem(StatusCode::FORBIDDEN, "forbidden");
    badge_with_pin(&shop, &station, "4821", "still")
        .await
        .problem(StatusCode::LOCKED, "badge_locked");
    assert!(
        events_of(&shop.app, &shop.supervisor, "badge.unlocked")
            .await
            .is_empty()
    );

    let unlocked = shop
        .app
        .post(&unlock)
        .cookie(&shop.supervisor)
        .form(&[("csrf", &csrf_of(&page))])
        .send()
        .await;
    assert_eq!(
        unlocked.status,
        StatusCode::SEE_OTHER,
        "{}",
        unlocked.text()
    );
    assert_eq!(
        events_of(&shop.app, &shop.supervisor, "badge.unlocked")
            .await
            .len(),
        1
    );
    let signed = badge_with_pin(&shop, &station, "4821", "after")
        .await
        .json();
    assert_eq!(signed["result"], "signed_in", "{signed}");
    let listed = shop
        .app
        .get("/api/v1/badge-locks")
        .cookie(&shop.supervisor)
        .send()
        .await;
    assert_eq!(listed.json(), json!([]));

    // The API unlock does the same.
    lock_badge(&shop, &station).await;
    let by_api = shop
        .app
        .request(
            axum::http::Method::DELETE,
            &format!("/api/v1/apprentices/{}/badge-lock", shop.apprentice_id),
        )
        .cookie(&shop.supervisor)
        .send()
        .await;
    assert_eq!(by_api.status, StatusCode::NO_CONTENT, "{}", by_api.text());
    let signed = badge_with_pin(&shop, &station, "4821", "after-api")
        .await
        .json();
    assert_eq!(signed["result"], "signed_in", "{signed}");
}

/// A switch being dismantled at the Flows workshop, and fractions 5.6 % short of it:
/// beyond the tolerance, so a supervisor must approve.
async fn outside_tolerance(flows: &Flows) -> Value {
    let switch = flows.being_dismantled("network_switch", 8_400).await;
    json!({ "client_id": format!("d-{switch}"), "item": switch, "fractions": [
        { "material": "FE-STEEL", "mass_g": 5_930 }, { "material": "PCB-MED", "mass_g": 2_000 } ] })
}

fn approved_by(mut body: Value, badge: &str, pin: &str) -> Value {
    body["override"] = json!({ "reason": "dust from the fan filter", "badge": badge, "pin": pin });
    body
}

#[tokio::test]
async fn a_supervisor_approves_at_the_kiosk_with_their_badge_and_pin() {
    let flows = Flows::new().await;
    let badge = flows.shop.supervisor_pin("2468").await;
    let body = outside_tolerance(&flows).await;
    let before = flows.counts().await;

    // Refused: a wrong PIN, the apprentice's own badge and PIN; nothing written.
    set_pin(&flows.shop, "4821").await;
    for (badge, pin) in [
        (badge.as_str(), "1357"),
        (flows.shop.badge.as_str(), "4821"),
    ] {
        flows
            .dismantle(approved_by(body.clone(), badge, pin))
            .await
            .problem(StatusCode::FORBIDDEN, "approval_refused");
    }
    assert_eq!(
        flows.counts().await,
        before,
        "a refused approval writes nothing"
    );

    let answer = flows.dismantle(approved_by(body, &badge, "2468")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["override_reason"], "dust from the fan filter");
    assert_eq!(flows.balance("weighing_variance").await, 470);
    // The two failures are in the audit log, by the apprentice who asked, at the station.
    let failures = events_of(&flows.shop.app, &flows.shop.supervisor, "badge.pin_failed").await;
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        failures
            .iter()
            .all(|e| e["payload"]["purpose"] == "approval")
    );
    assert_eq!(failures[1]["subjects"][0], badge.as_str());
    assert_eq!(failures[1]["actor_id"], flows.shop.apprentice_id.as_str());
}

#[tokio::test]
async fn a_supervisors_password_at_the_kiosk_is_refused_and_never_checked() {
    let flows = Flows::new().await;
    let body = outside_tolerance(&flows).await;
    let before = flows.counts().await;
    let mut answers = Vec::new();
    for password in [crate::helpers::PASSWORD, "a wrong guess"] {
        let mut with_password = body.clone();
        with_password["override"] =
            json!({ "reason": "dust", "login": "samira", "password": password });
        let refused = flows.dismantle(with_password).await;
        answers.push(
            refused
                .problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "override_password_removed",
                )
                .clone(),
        );
    }
    assert_eq!(
        answers[0], answers[1],
        "the right password answers like a wrong one"
    );
    assert!(
        answers[0]["detail"].as_str().unwrap().contains("badge"),
        "{}",
        answers[0]
    );
    assert_eq!(flows.counts().await, before, "nothing written");
}

#[tokio::test]
async fn a_failed_approval_answers_the_same_whatever_else_is_wrong() {
    let flows = Flows::new().await;
    let badge = flows.shop.supervisor_pin("2468").await;
    let good = outside_tolerance(&flows).await;
    let mut broken = good.clone();
    broken["fractions"][0]["mass_g"] = json!(-5);
    broken["item"] = json!("IT-0000000");
    let unknown_badge = "AP-0000000";
    let sorting = flows.shop.station("sorting").await;
    flows.shop.sign_in(&sorting).await;
    let before = flows.counts().await;
    let mut answers = Vec::new();
    for (body, badge) in [
        (&good, badge.as_str()),
        (&broken, badge.as_str()),
        (&good, unknown_badge),
    ] {
        let refused = flows
            .dismantle(approved_by(body.clone(), badge, "1357"))
            .await;
        answers.push(
            refused
                .problem(StatusCode::FORBIDDEN, "approval_refused")
                .clone(),
        );
    }
    // A reweighing of a lot that does not exist, at another station: the same answer.
    let reweigh = flows
        .post(
            &sorting,
            "/api/v1/lots/LT-0000000/reweighings",
            approved_by(
                json!({ "client_id": "rw", "reading_kg": "3" }),
                &badge,
                "1357",
            ),
        )
        .await;
    answers.push(
        reweigh
            .problem(StatusCode::FORBIDDEN, "approval_refused")
            .clone(),
    );
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(flows.counts().await, before, "nothing written");
}

#[tokio::test]
async fn wrong_approval_pins_lock_the_supervisors_badge_like_a_sign_in() {
    let flows = Flows::new().await;
    let badge = flows.shop.supervisor_pin("2468").await;
    let body = outside_tolerance(&flows).await;
    let before = flows.counts().await;
    for n in 1..=4 {
        flows
            .dismantle(approved_by(body.clone(), &badge, &format!("100{n}")))
            .await
            .problem(StatusCode::FORBIDDEN, "approval_refused");
    }
    flows
        .dismantle(approved_by(body.clone(), &badge, "1005"))
        .await
        .problem(StatusCode::LOCKED, "badge_locked");
    // Locked: the right PIN is refused too, and nothing is written.
    flows
        .dismantle(approved_by(body.clone(), &badge, "2468"))
        .await
        .problem(StatusCode::LOCKED, "badge_locked");
    assert_eq!(flows.counts().await, before);
    let failures = events_of(&flows.shop.app, &flows.shop.supervisor, "badge.pin_failed").await;
    assert_eq!(failures.len(), 6, "{failures:?}");
    let listed = flows
        .shop
        .app
        .get("/api/v1/badge-locks")
        .cookie(&flows.shop.supervisor)
        .send()
        .await;
    assert_eq!(listed.json()[0]["badge_code"], badge.as_str());

    // Another supervisor unlocks it; the right PIN approves again.
    let other = flows.shop.app.logged_in("nadia", Role::Supervisor).await;
    let samira = listed.json()[0]["user_id"].as_str().unwrap().to_string();
    let unlocked = flows
        .shop
        .app
        .request(
            axum::http::Method::DELETE,
            &format!("/api/v1/apprentices/{samira}/badge-lock"),
        )
        .cookie(&other)
        .send()
        .await;
    assert_eq!(
        unlocked.status,
        StatusCode::NO_CONTENT,
        "{}",
        unlocked.text()
    );
    let answer = flows.dismantle(approved_by(body, &badge, "2468")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

#[tokio::test]
async fn a_supervisor_sets_their_own_pin_from_the_dashboard_and_it_approves() {
    let flows = Flows::new().await;
    let home = |cookie: String| {
        let app = &flows.shop.app;
        async move {
            app.get("/")
                .cookie(&cookie)
                .header("accept", "text/html")
                .send()
                .await
                .text()
        }
    };
    let page = home(flows.shop.supervisor.clone()).await;
    assert!(
        page.contains("id=\"own-pin\""),
        "a PIN form for supervisors"
    );
    // Refused without the form's token, and a PIN is four digits.
    let forged = flows
        .shop
        .app
        .post("/me/pin")
        .cookie(&flows.shop.supervisor)
        .form(&[
            ("csrf", "0123456789abcdef0123456789abcdef"),
            ("pin", "2468"),
        ])
        .send()
        .await;
    assert!(forged.status.is_client_error(), "{}", forged.status);
    let short = flows
        .shop
        .app
        .post("/me/pin")
        .cookie(&flows.shop.supervisor)
        .form(&[("csrf", csrf_of(&page).as_str()), ("pin", "24")])
        .send()
        .await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.text()
    );
    assert!(
        events_of(
            &flows.shop.app,
            &flows.shop.supervisor,
            "supervisor.pin_set"
        )
        .await
        .is_empty()
    );

    let set = flows
        .shop
        .app
        .post("/me/pin")
        .cookie(&flows.shop.supervisor)
        .form(&[("csrf", csrf_of(&page).as_str()), ("pin", "2468")])
        .send()
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.text());
    let event = &events_of(
        &flows.shop.app,
        &flows.shop.supervisor,
        "supervisor.pin_set",
    )
    .await[0];
    let badge = event["payload"]["badge_code"].as_str().unwrap().to_string();
    assert!(
        home(flows.shop.supervisor.clone()).await.contains(&badge),
        "the badge is shown"
    );
    let body = outside_tolerance(&flows).await;
    let answer = flows.dismantle(approved_by(body, &badge, "2468")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}
