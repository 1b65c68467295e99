//! The material-flow pages (lots, melts, shipments, traces) over a history built through the
//! JSON API: two screens from two partners dismantled, copper melted, plastic shipped.

use axum::http::StatusCode;
use greenchip::domain::codes::{Code, CodeKind};
use greenchip::domain::roles::Role;
use serde_json::{Value, json};

use crate::helpers::{TestResponse, Workshop};

/// A partner whose name would run script if a page forgot to escape it.
const SCRIPT_PARTNER: &str = "<script>alert(1)</script>";
const SCRIPT_ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;";

struct Flows {
    shop: Workshop,
    /// The second collection, from the partner with a hostile name.
    other_collection: String,
    /// 4.5 kg screen from Lycée Ibn Sina, 5 kg screen from the other partner.
    first_screen: String,
    second_screen: String,
    /// Plastic from both screens (1.4 + 1.6 kg), then shipped whole.
    plastic_lot: String,
    /// Steel from both screens (1.5 + 2 kg), left open.
    steel_lot: String,
    /// Cable from both screens (180 + 220 g), charged whole into the melt.
    cable_lot: String,
    melt: String,
    /// 334 g poured from the 400 g charged, 40 g of dross, the rest lost.
    ingot: String,
    dross_lot: String,
    shipment: String,
}

/// The lot a step put `mass_g` into, from the step's answer.
fn lot_receiving(answer: &Value, mass_g: i64) -> String {
    answer["movements"]
        .as_array()
        .expect("movements")
        .iter()
        .find(|m| m["mass_g"] == mass_g && m["to"].as_str().is_some_and(|t| t.starts_with("LT-")))
        .unwrap_or_else(|| panic!("no lot received {mass_g} g: {answer}"))["to"]
        .as_str()
        .unwrap()
        .to_string()
}

fn ok(response: TestResponse, what: &str) -> Value {
    assert!(
        response.status.is_success(),
        "{what}: {} {}",
        response.status,
        response.text()
    );
    response.json()
}

async fn flows() -> Flows {
    let shop = Workshop::new().await;
    let other_collection = shop
        .app
        .open_collection(&shop.supervisor, SCRIPT_PARTNER)
        .await;
    let first_screen = shop.item("lcd_monitor", 4_500).await;
    let second = shop
        .app
        .post(&format!("/api/v1/collections/{other_collection}/items"))
        .cookie(&shop.supervisor)
        .json(&json!({ "kind": "lcd_monitor", "mass_g": 5_000, "serial": "SN-B" }))
        .send()
        .await;
    let second_screen = ok(second, "second screen")["code"]
        .as_str()
        .unwrap()
        .to_string();

    let triage = shop.station("triage").await;
    let dismantling = shop.station("dismantling").await;
    let smelting = shop.station("smelting").await;
    shop.sign_in(&triage).await;
    for (index, item) in [&first_screen, &second_screen].into_iter().enumerate() {
        let triaged = shop
            .act(&triage, json!({ "client_action_id": format!("t{index}"), "item": item, "action": "triage", "decision": "dismantle", "reason": "broken panel" }))
            .await;
        ok(triaged, "triage");
    }
    shop.sign_in(&dismantling).await;
    for (index, item) in [&first_screen, &second_screen].into_iter().enumerate() {
        let started = shop
            .act(&dismantling, json!({ "client_action_id": format!("s{index}"), "item": item, "action": "start_dismantling" }))
            .await;
        ok(started, "start dismantling");
    }
    // 4 480 g weighed out of 4 500 g: 20 g to weighing variance.
    let first = shop
        .app
        .post("/api/v1/dismantlings")
        .cookie(&dismantling.1)
        .json(
            &json!({ "client_id": "d1", "item": first_screen, "fractions": [
            { "material": "PL-MIX", "mass_kg": "1,4" },
            { "material": "CU-CABLE", "mass_g": 180 },
            { "material": "FE-STEEL", "mass_g": 1_500 },
            { "material": "LCD-CCFL", "mass_g": 1_000 },
            { "material": "PCB-LOW", "mass_g": 300 },
            { "material": "RESIDUE", "mass_g": 100 },
        ] }),
        )
        .send()
        .await;
    let first = ok(first, "first dismantling");
    let plastic_lot = lot_receiving(&first, 1_400);
    let cable_lot = lot_receiving(&first, 180);
    let steel_lot = lot_receiving(&first, 1_500);
    let second = shop
        .app
        .post("/api/v1/dismantlings")
        .cookie(&dismantling.1)
        .json(
            &json!({ "client_id": "d2", "item": second_screen, "fractions": [
            { "lot": plastic_lot, "mass_kg": "1,6" },
            { "lot": cable_lot, "mass_g": 220 },
            { "lot": steel_lot, "mass_g": 2_000 },
            { "material": "LCD-CCFL", "mass_g": 1_100 },
            { "material": "RESIDUE", "mass_g": 80 },
        ] }),
        )
        .send()
        .await;
    ok(second, "second dismantling");

    shop.sign_in(&smelting).await;
    let started = shop
        .app
        .post("/api/v1/melts")
        .cookie(&smelting.1)
        .json(&json!({ "client_id": "m1" }))
        .send()
        .await;
    let melt = ok(started, "melt")["code"].as_str().unwrap().to_string();
    let charged = shop
        .app
        .post(&format!("/api/v1/melts/{melt}/charges"))
        .cookie(&smelting.1)
        .json(&json!({ "client_id": "c1", "lots": [{ "lot": cable_lot }] }))
        .send()
        .await;
    ok(charged, "charge");
    let poured = shop
        .app
        .post(&format!("/api/v1/melts/{melt}/pours"))
        .cookie(&smelting.1)
        .json(&json!({ "client_id": "p1", "ingots": [{ "mass_g": 334 }],
            "dross": [{ "material": "CU-DROSS", "mass_g": 40 }], "finish": true }))
        .send()
        .await;
    let poured = ok(poured, "pour");
    let ingot = lot_receiving(&poured, 334);
    let dross_lot = lot_receiving(&poured, 40);

    let processor = shop
        .app
        .post("/api/v1/processors")
        .cookie(&shop.supervisor)
        .json(
            &json!({ "name": "Plastiques du Souss", "address": "Zone industrielle, Agadir",
            "permit_number": "AUT-2026-117", "families": ["plastic"] }),
        )
        .send()
        .await;
    let processor = ok(processor, "processor")["id"].clone();
    let shipped = shop
        .app
        .post("/api/v1/shipments")
        .cookie(&shop.supervisor)
        .json(
            &json!({ "client_id": "sh1", "processor_id": processor, "shipped_on": "2026-11-29",
            "transport_document": "BSD-0042", "carrier": "Transports Atlas",
            "lots": [{ "lot": plastic_lot }] }),
        )
        .send()
        .await;
    let shipment = ok(shipped, "shipment")["code"]
        .as_str()
        .unwrap()
        .to_string();
    Flows {
        shop,
        other_collection,
        first_screen,
        second_screen,
        plastic_lot,
        steel_lot,
        cable_lot,
        melt,
        ingot,
        dross_lot,
        shipment,
    }
}

impl Flows {
    /// A page as the supervisor sees it in a language.
    async fn page(&self, path: &str, lang: &str) -> TestResponse {
        self.shop
            .app
            .get(path)
            .cookie(&format!("{}; gc_lang={lang}", self.shop.supervisor))
            .send()
            .await
    }

    async fn html(&self, path: &str, lang: &str) -> String {
        let page = self.page(path, lang).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text());
        page.text()
    }

    async fn lot_state(&self, code: &str) -> String {
        let lot = self
            .shop
            .app
            .get(&format!("/api/v1/lots/{code}"))
            .cookie(&self.shop.supervisor)
            .send()
            .await;
        ok(lot, "lot")["state"].as_str().unwrap().to_string()
    }
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form token") + marker.len();
    html[start..start + 32].to_string()
}

/// The `<ul>`/`<li>` tags of a page nest properly; answers how deep the lists go.
fn list_depth(html: &str) -> usize {
    let mut open: Vec<&str> = Vec::new();
    let mut deepest = 0;
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let tag = if rest.starts_with("<ul>") || rest.starts_with("<ul ") {
            Some(("ul", true))
        } else if rest.starts_with("</ul>") {
            Some(("ul", false))
        } else if rest.starts_with("<li>") || rest.starts_with("<li ") {
            Some(("li", true))
        } else if rest.starts_with("</li>") {
            Some(("li", false))
        } else {
            None
        };
        match tag {
            Some((name, true)) => {
                open.push(name);
                deepest = deepest.max(open.iter().filter(|t| **t == "ul").count());
            }
            Some((name, false)) => assert_eq!(open.pop(), Some(name), "badly nested lists"),
            None => {}
        }
        rest = &rest[1..];
    }
    assert!(open.is_empty(), "unclosed {open:?}");
    deepest
}

#[tokio::test]
async fn a_lot_page_shows_its_mass_partners_and_history_in_the_page_language() {
    let flows = flows().await;
    let steel = &flows.steel_lot;
    let html = flows.html(&format!("/lots/{steel}"), "fr").await;
    assert!(html.contains("Métaux ferreux"), "French material name");
    assert!(html.contains("<dd>ouvert</dd>"), "state in French");
    assert!(
        html.contains("3,5\u{a0}kg"),
        "1.5 + 2 kg with a comma: {html}"
    );
    assert!(html.contains("Lycée Ibn Sina"));
    assert!(
        html.contains(SCRIPT_ESCAPED),
        "the partner's name is escaped"
    );
    assert!(!html.contains(SCRIPT_PARTNER), "no script gets through");
    assert!(html.contains("57,1\u{a0}%"), "2 of 3.5 kg: {html}");
    assert!(html.contains("42,9\u{a0}%"), "1.5 of 3.5 kg");
    assert!(html.contains(&format!("href=\"/collections/{}\"", flows.shop.collection)));
    assert!(html.contains(&format!("href=\"/collections/{}\"", flows.other_collection)));
    assert!(html.contains("démantèlement"), "operation kind in French");
    assert!(html.contains("+1,5\u{a0}kg") && html.contains("+2\u{a0}kg"));
    assert!(html.contains(&format!(
        "<a class=\"code\" href=\"/items/{0}\">{0}</a>",
        flows.first_screen
    )));
    assert!(html.contains(&format!("href=\"/items/{}\"", flows.second_screen)));
    assert!(html.contains(&format!("/labels/{steel}.pdf?template=roll62")));
    assert!(html.contains(&format!("href=\"/trace/{steel}?direction=back\"")));
    assert!(html.contains(&format!("action=\"/lots/{steel}/state\"")));
    assert!(html.contains("name=\"action\" value=\"close\""));

    let english = flows.html(&format!("/lots/{steel}"), "en").await;
    assert!(english.contains("Ferrous metal") && english.contains("3.5\u{a0}kg"));
    assert!(english.contains("57.1\u{a0}%"));
    let arabic = flows.html(&format!("/lots/{steel}"), "ar").await;
    assert!(
        arabic.contains("Métaux ferreux"),
        "Arabic pages use the French name"
    );
    assert!(arabic.contains("dir=\"rtl\""));
}

#[tokio::test]
async fn the_lot_list_filters_and_a_shipped_lot_shows_where_it_went() {
    let flows = flows().await;
    let shipped = flows
        .html("/lots?material=PL-MIX&state=shipped", "en")
        .await;
    assert!(shipped.contains(&format!("href=\"/lots/{}\"", flows.plastic_lot)));
    assert!(
        !shipped.contains(&flows.steel_lot),
        "other materials are left out"
    );
    let open = flows.html("/lots?state=open", "en").await;
    assert!(open.contains(&format!("href=\"/lots/{}\"", flows.steel_lot)));
    assert!(
        !open.contains(&flows.plastic_lot),
        "a shipped lot is not open"
    );
    assert!(!open.contains(&flows.cable_lot), "a melted lot is emptied");
    let all = flows.html("/lots", "en").await;
    for lot in [
        &flows.steel_lot,
        &flows.plastic_lot,
        &flows.ingot,
        &flows.dross_lot,
    ] {
        assert!(all.contains(lot.as_str()), "{lot} listed");
    }

    let plastic = flows
        .html(&format!("/lots/{}", flows.plastic_lot), "en")
        .await;
    assert!(plastic.contains("Mixed plastics") && plastic.contains("<dd>shipped"));
    assert!(
        plastic.contains("-3\u{a0}kg"),
        "1.4 + 1.6 kg went out at once"
    );
    assert!(
        plastic.contains("<td>shipped:PL-MIX</td>"),
        "an account is named, not linked: {plastic}"
    );
    assert!(
        !plastic.contains("name=\"action\""),
        "a shipped lot takes no state change"
    );
}

#[tokio::test]
async fn the_melt_page_shows_charges_pours_and_the_yield() {
    let flows = flows().await;
    let melt = &flows.melt;
    let html = flows.html(&format!("/melts/{melt}"), "fr").await;
    assert!(html.contains("83,5\u{a0}%"), "334 of 400 g: {html}");
    assert!(html.contains("0,4\u{a0}kg"), "charged");
    assert!(html.contains("0,334\u{a0}kg"), "ingot");
    assert!(html.contains("0,04\u{a0}kg"), "dross");
    assert!(html.contains("0,026\u{a0}kg"), "400 - 334 - 40 g lost");
    assert!(html.contains("Câble cuivre isolé") && html.contains("Lingot de cuivre"));
    for lot in [&flows.cable_lot, &flows.ingot, &flows.dross_lot] {
        assert!(
            html.contains(&format!("href=\"/lots/{lot}\"")),
            "{lot} linked"
        );
    }
    assert!(html.contains(&format!("href=\"/trace/{melt}?direction=back\"")));
    assert!(html.contains("terminée"));

    let list = flows.html("/melts", "en").await;
    assert!(list.contains(&format!("href=\"/melts/{melt}\"")) && list.contains("83.5\u{a0}%"));

    let ingot = flows.html(&format!("/lots/{}", flows.ingot), "en").await;
    assert!(
        ingot.contains(&format!("href=\"/melts/{melt}\"")),
        "an ingot names its melt"
    );
    assert!(
        !ingot.contains("value=\"reopen\""),
        "an ingot cannot be reopened"
    );
}

#[tokio::test]
async fn the_shipment_page_shows_the_paperwork_and_its_lots() {
    let flows = flows().await;
    let html = flows
        .html(&format!("/shipments/{}", flows.shipment), "fr")
        .await;
    for expected in [
        "Plastiques du Souss",
        "Zone industrielle, Agadir",
        "AUT-2026-117",
        "2026-11-29",
        "BSD-0042",
        "Transports Atlas",
        "Plastiques mélangés",
    ] {
        assert!(html.contains(expected), "{expected}: {html}");
    }
    assert!(html.contains(&format!("href=\"/lots/{}\"", flows.plastic_lot)));
    assert!(html.contains(">3\u{a0}kg<"), "the whole plastic lot");
    assert!(html.contains(">non<"), "not hazardous");

    let list = flows.html("/shipments", "en").await;
    assert!(list.contains(&format!("href=\"/shipments/{}\"", flows.shipment)));
    assert!(list.contains("BSD-0042") && list.contains("3\u{a0}kg"));
}

#[tokio::test]
async fn the_trace_page_draws_the_tree_back_and_forward() {
    let flows = flows().await;
    let ingot = &flows.ingot;
    let back = flows.html(&format!("/trace/{ingot}"), "fr").await;
    assert!(
        back.contains("D’où vient cette masse"),
        "back by default for a lot"
    );
    for page in [
        format!("/melts/{}", flows.melt),
        format!("/lots/{}", flows.cable_lot),
        format!("/items/{}", flows.first_screen),
        format!("/items/{}", flows.second_screen),
        format!("/collections/{}", flows.shop.collection),
        format!("/collections/{}", flows.other_collection),
    ] {
        assert!(back.contains(&format!("href=\"{page}\"")), "{page}: {back}");
    }
    assert!(back.contains("0,334\u{a0}kg"), "ingot ← melt edge");
    assert!(
        back.contains("0,22\u{a0}kg") && back.contains("0,18\u{a0}kg"),
        "cable edges"
    );
    assert!(back.contains("Lycée Ibn Sina") && back.contains(SCRIPT_ESCAPED));
    assert!(!back.contains(SCRIPT_PARTNER));
    assert!(back.contains(&format!("href=\"/trace/{ingot}?direction=forward\"")));
    // ingot ← melt ← cable lot ← screen ← collection: five levels.
    assert_eq!(list_depth(&back), 5, "{back}");

    let forward = flows
        .html(&format!("/trace/{}", flows.shop.collection), "en")
        .await;
    assert!(
        forward.contains("Where this mass went"),
        "forward by default for a collection"
    );
    for page in [
        format!("/items/{}", flows.first_screen),
        format!("/lots/{}", flows.plastic_lot),
        format!("/lots/{}", flows.steel_lot),
        format!("/melts/{}", flows.melt),
        format!("/lots/{ingot}"),
    ] {
        assert!(
            forward.contains(&format!("href=\"{page}\"")),
            "{page}: {forward}"
        );
    }
    assert!(forward.contains("shipped") && forward.contains("weighing variance"));
    assert!(forward.contains("4.5\u{a0}kg"), "collection → screen edge");
    assert!(list_depth(&forward) >= 5);
    assert!(forward.contains(&format!(
        "href=\"/trace/{}?direction=back\"",
        flows.shop.collection
    )));

    let item = flows
        .html(&format!("/items/{}", flows.first_screen), "en")
        .await;
    assert!(item.contains(&format!(
        "href=\"/trace/{}?direction=forward\"",
        flows.first_screen
    )));
}

#[tokio::test]
async fn partners_get_no_flow_page_and_unknown_codes_are_not_found() {
    let flows = flows().await;
    let app = &flows.shop.app;
    let partner = app.logged_in("acme", Role::Partner).await;
    for path in [
        "/lots".to_string(),
        format!("/lots/{}", flows.steel_lot),
        format!("/melts/{}", flows.melt),
        format!("/shipments/{}", flows.shipment),
        format!("/trace/{}", flows.ingot),
    ] {
        let refused = app.get(&path).cookie(&partner).send().await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!refused.text().contains("Lycée Ibn Sina"), "{path}");
    }

    let apprentice = app.logged_in("amine", Role::Apprentice).await;
    let lot = app
        .get(&format!("/lots/{}", flows.steel_lot))
        .cookie(&apprentice)
        .send()
        .await;
    assert_eq!(lot.status, StatusCode::OK);
    assert!(lot.text().contains("3.5\u{a0}kg"));
    assert!(
        !lot.text().contains("/state\""),
        "apprentices do not close lots"
    );
    assert!(!lot.text().contains("/labels/"), "nor print from the pages");
    let melt = app
        .get(&format!("/melts/{}", flows.melt))
        .cookie(&apprentice)
        .send()
        .await;
    assert_eq!(melt.status, StatusCode::OK);
    let shipment = app
        .get(&format!("/shipments/{}", flows.shipment))
        .cookie(&apprentice)
        .send()
        .await;
    assert_eq!(shipment.status, StatusCode::FORBIDDEN);

    for path in [
        format!("/lots/{}", Code::random(CodeKind::Lot)),
        "/lots/not-a-code".to_string(),
        format!("/melts/{}", Code::random(CodeKind::Melt)),
        format!("/shipments/{}", Code::random(CodeKind::Shipment)),
        format!("/trace/{}", Code::random(CodeKind::Lot)),
    ] {
        let missing = flows.page(&path, "en").await;
        assert_eq!(
            missing.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            missing.text()
        );
        assert!(missing.content_type().starts_with("text/html"), "{path}");
    }
}

#[tokio::test]
async fn a_lot_is_closed_and_reopening_it_needs_a_reason() {
    let flows = flows().await;
    let app = &flows.shop.app;
    let steel = &flows.steel_lot;
    let path = format!("/lots/{steel}");
    let state_path = format!("{path}/state");
    let cookie = format!("{}; gc_lang=en", flows.shop.supervisor);
    let csrf = csrf_of(&flows.html(&path, "en").await);

    let forged = app
        .post(&state_path)
        .cookie(&cookie)
        .form(&[
            ("csrf", "00000000000000000000000000000000"),
            ("action", "close"),
        ])
        .send()
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(flows.lot_state(steel).await, "open");

    let closed = app
        .post(&state_path)
        .cookie(&cookie)
        .form(&[("csrf", &csrf), ("action", "close")])
        .send()
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.text());
    assert_eq!(closed.location(), path);
    assert_eq!(flows.lot_state(steel).await, "closed");
    let page = flows.html(&path, "en").await;
    assert!(page.contains("name=\"action\" value=\"reopen\""));
    assert!(page.contains("name=\"reason\""));

    let refused = app
        .post(&state_path)
        .cookie(&cookie)
        .form(&[("csrf", &csrf), ("action", "reopen"), ("reason", "  ")])
        .send()
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text();
    assert!(
        html.contains("role=\"alert\">reason: say why the lot is reopened<"),
        "{html}"
    );
    assert!(
        html.contains("3.5\u{a0}kg"),
        "the lot page, with the message"
    );
    assert_eq!(flows.lot_state(steel).await, "closed", "nothing changed");

    let reopened = app
        .post(&state_path)
        .cookie(&cookie)
        .form(&[
            ("csrf", &csrf),
            ("action", "reopen"),
            ("reason", "more steel from the same site"),
        ])
        .send()
        .await;
    assert_eq!(
        reopened.status,
        StatusCode::SEE_OTHER,
        "{}",
        reopened.text()
    );
    assert_eq!(flows.lot_state(steel).await, "open");
}
