//! The intake pages as a browser uses them: forms with their CSRF token, redirects, errors
//! shown in the page's language with what was typed kept.

use axum::http::StatusCode;
use greenchip::domain::roles::Role;

use crate::helpers::TestApp;

/// A signed-in supervisor in a browser: session cookie, language, and the form token.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
}

impl<'a> Browser<'a> {
    async fn supervisor(app: &'a TestApp, lang: &str) -> Browser<'a> {
        let session = app.logged_in("samira", Role::Supervisor).await;
        let cookie = format!("{session}; gc_lang={lang}");
        let page = app.get("/").cookie(&cookie).send().await.text();
        let marker = "name=\"csrf\" value=\"";
        let start = page.find(marker).expect("a form token") + marker.len();
        let csrf = page[start..start + 32].to_string();
        Browser { app, cookie, csrf }
    }

    async fn get(&self, path: &str) -> crate::helpers::TestResponse {
        self.app.get(path).cookie(&self.cookie).send().await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> crate::helpers::TestResponse {
        let mut with_token = vec![("csrf", self.csrf.as_str())];
        with_token.extend_from_slice(fields);
        self.app
            .post(path)
            .cookie(&self.cookie)
            .form(&with_token)
            .send()
            .await
    }
}

async fn open_collection(browser: &Browser<'_>) -> String {
    let created = browser
        .post(
            "/partners",
            &[
                ("name", "Lycée Ibn Sina"),
                ("kind", "school"),
                ("address", "Marrakech"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text());
    let partners = browser.get("/partners").await.text();
    assert!(partners.contains("Lycée Ibn Sina"));
    let marker = "<option value=\"";
    let collections_page = browser.get("/collections").await.text();
    let start = collections_page
        .find(marker)
        .expect("the partner is offered")
        + marker.len();
    let partner_id = collections_page[start..start + 36].to_string();
    let opened = browser
        .post(
            "/collections",
            &[
                ("partner_id", &partner_id),
                ("reference", "BL-117"),
                ("place", "Marrakech"),
            ],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.text());
    let location = opened.location().to_string();
    assert!(location.starts_with("/intake/CO-"), "{location}");
    location.trim_start_matches("/intake/").to_string()
}

#[tokio::test]
async fn a_truckload_is_received_item_by_item_with_enter() {
    let app = TestApp::spawn().await;
    let browser = Browser::supervisor(&app, "fr").await;
    let collection = open_collection(&browser).await;
    let path = format!("/intake/{collection}");
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Masse (kg)"));
    assert!(page.text().contains("Unité centrale"));

    // The scale typed "8,4" and Enter.
    let saved = browser
        .post(
            &path,
            &[
                ("kind", "desktop_pc"),
                ("mass_kg", "8,4"),
                ("serial", "CN-0X1"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let next = saved.location().to_string();
    assert!(
        next.contains("kind=desktop_pc") && next.contains("last=IT-"),
        "{next}"
    );
    let after = browser.get(&next).await.text();
    let code = next.split("last=").nth(1).unwrap();
    assert!(
        after.contains(&format!("<span class=\"code\">{code}</span>")),
        "the saved item is confirmed"
    );
    assert!(after.contains("8,4\u{a0}kg"), "French decimal comma");
    assert!(
        after.contains(&format!("/labels/{code}.pdf?template=roll62")),
        "its label is one click away"
    );
    assert!(
        after.contains("<option value=\"desktop_pc\" data-bearing=\"true\" selected>"),
        "the kind stays chosen"
    );

    for mass in ["2,3", "2.25", "1 234,5 kg"] {
        let saved = browser
            .post(&path, &[("kind", "laptop"), ("mass_kg", mass)])
            .await;
        assert_eq!(
            saved.status,
            StatusCode::SEE_OTHER,
            "{mass}: {}",
            saved.text()
        );
    }
    let collection_page = browser
        .get(&format!("/collections/{collection}"))
        .await
        .text();
    assert!(
        collection_page.contains("<dd>4 objets · 1\u{202f}247,45\u{a0}kg</dd>"),
        "8.4 + 2.3 + 2.25 + 1234.5 kg: {collection_page}"
    );
}

#[tokio::test]
async fn a_mistyped_mass_is_refused_on_the_page_keeping_what_was_typed() {
    let app = TestApp::spawn().await;
    let browser = Browser::supervisor(&app, "en").await;
    let collection = open_collection(&browser).await;
    let path = format!("/intake/{collection}");
    for (mass, expected) in [
        ("3 lb", "this field is in kg"),
        ("", "no mass was entered"),
        ("0", "more than 0 g"),
    ] {
        let refused = browser
            .post(
                &path,
                &[("kind", "printer"), ("mass_kg", mass), ("serial", "PR-77")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{mass}");
        let html = refused.text();
        assert!(html.contains(expected), "{mass}: {html}");
        assert!(html.contains("value=\"PR-77\""), "the serial is kept");
    }
    let unknown_kind = browser
        .post(&path, &[("kind", "toaster"), ("mass_kg", "1")])
        .await;
    assert!(unknown_kind.text().contains("unknown equipment kind"));
    let listed = browser
        .get(&format!("/collections/{collection}"))
        .await
        .text();
    assert!(
        listed.contains("<dd>0 items · 0\u{a0}kg</dd>"),
        "nothing was saved: {listed}"
    );
}

#[tokio::test]
async fn intake_forms_need_their_token_and_a_staff_role() {
    let app = TestApp::spawn().await;
    let browser = Browser::supervisor(&app, "en").await;
    let collection = open_collection(&browser).await;
    let forged = app
        .post(&format!("/intake/{collection}"))
        .cookie(&browser.cookie)
        .form(&[
            ("csrf", "00000000000000000000000000000000"),
            ("kind", "laptop"),
            ("mass_kg", "2"),
        ])
        .send()
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let listed = browser
        .get(&format!("/collections/{collection}"))
        .await
        .text();
    assert!(listed.contains("<dd>0 items · 0\u{a0}kg</dd>"), "{listed}");

    let apprentice = app.logged_in("youssef", Role::Apprentice).await;
    for path in [
        "/partners",
        "/collections",
        &format!("/intake/{collection}"),
    ] {
        let refused = app.get(path).cookie(&apprentice).send().await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert!(refused.content_type().starts_with("text/html"));
    }
    let anonymous = app.get("/collections").send().await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location(), "/login?next=/collections");
}

#[tokio::test]
async fn a_scanned_code_or_barcode_opens_its_page() {
    let app = TestApp::spawn().await;
    let browser = Browser::supervisor(&app, "en").await;
    let collection = open_collection(&browser).await;
    let saved = browser
        .post(
            &format!("/intake/{collection}"),
            &[("kind", "laptop"), ("mass_kg", "2,5")],
        )
        .await;
    let code = saved.location().split("last=").nth(1).unwrap().to_string();

    for scanned in [code.clone(), code.to_lowercase()] {
        let resolved = browser.get(&format!("/s/{scanned}")).await;
        assert_eq!(resolved.status, StatusCode::SEE_OTHER);
        assert_eq!(resolved.location(), format!("/items/{code}"));
    }
    let upper = browser.get(&format!("/S/{collection}")).await;
    assert_eq!(upper.location(), format!("/collections/{collection}"));

    let item_page = browser.get(&format!("/items/{code}")).await;
    assert_eq!(item_page.status, StatusCode::OK);
    assert!(item_page.text().contains(&collection));
    let linked = browser
        .post(
            &format!("/items/{code}/barcodes"),
            &[("barcode", "5CG0001ABC")],
        )
        .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.text());
    let by_barcode = browser.get("/s/5CG0001ABC").await;
    assert_eq!(by_barcode.location(), format!("/items/{code}"));
    let mistyped = browser.get("/s/IT-7K3M9QX4U").await;
    assert_eq!(mistyped.status, StatusCode::NOT_FOUND);
    assert!(
        mistyped.text().contains("is not a greenchip code")
            || mistyped.text().contains("wrong check")
    );
}
