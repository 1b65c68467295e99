//! What the public may read of a certificate (issue 18, items 4 and 5): by code, signed public
//! facts and nothing personal; by number alone, nothing at all; the whole certificate only
//! for staff and its own partner; lookups limited per client address; an unknown number is
//! a typo, never a forgery; `/verify` asks for the code.

use axum::http::StatusCode;
use greenchip::config::Config;
use greenchip::domain::codes::{Code, CodeKind};
use greenchip::domain::roles::Role;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::certificates::History;
use crate::helpers::{TestApp, TestResponse, Workshop};

/// What must never reach the public: the partner's address, the PC's serial, the name of the
/// apprentice who sanitised it, the item and collection codes.
struct Private {
    address: &'static str,
    serial: String,
    operator: &'static str,
    item: String,
    collection: String,
}

const ADDRESS: &str = "17 rue des Orangers, Fès";

/// A certified history whose partner has an address; answers (number, code, what is private).
async fn certified(history: &History) -> (String, String, Private) {
    let shop = &history.shop;
    let collection = shop
        .app
        .get(&format!("/api/v1/collections/{}", shop.collection))
        .cookie(&shop.supervisor)
        .send()
        .await
        .json();
    let partner_id = collection["partner_id"].as_str().unwrap();
    let patched = shop
        .app
        .request(
            axum::http::Method::PATCH,
            &format!("/api/v1/partners/{partner_id}"),
        )
        .cookie(&shop.supervisor)
        .json(&json!({ "address": ADDRESS }))
        .send()
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    history.mostly_processed().await;
    history.finish().await;
    let issued = history
        .issue(json!({ "collection": shop.collection }))
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text());
    let issued = issued.json();
    // The operator named in the annex is the apprentice signed in at the sanitisation bench.
    let full = shop
        .app
        .get(&format!(
            "/api/v1/certificates/{}",
            issued["number"].as_str().unwrap()
        ))
        .cookie(&shop.supervisor)
        .send()
        .await;
    assert_eq!(full.status, StatusCode::OK);
    (
        issued["number"].as_str().unwrap().to_string(),
        issued["code"].as_str().unwrap().to_string(),
        Private {
            address: ADDRESS,
            serial: "SN-9400".to_string(),
            operator: "youssef",
            item: history.pc.clone(),
            collection: shop.collection.clone(),
        },
    )
}

impl Private {
    fn assert_absent(&self, text: &str, what: &str) {
        for secret in [
            self.address,
            &self.serial,
            self.operator,
            &self.item,
            &self.collection,
        ] {
            assert!(!text.contains(secret), "{what} reveals {secret:?}: {text}");
        }
    }
}

async fn anonymous(app: &TestApp, path: &str) -> TestResponse {
    app.get(path).header("accept", "text/html").send().await
}

/// Checks an Ed25519 signature over a text with Python's `cryptography` when it is installed
/// (independent of the service's own code), else with `ed25519-dalek` directly.
fn signature_verifies(text: &str, signature_hex: &str, public_key_hex: &str) -> bool {
    let script = "import sys\n\
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey\n\
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sys.argv[2]))\n\
        try:\n    key.verify(bytes.fromhex(sys.argv[1]), sys.stdin.buffer.read()); print('ok')\n\
        except Exception: print('bad')\n";
    let python = std::process::Command::new("python3")
        .args(["-c", script, signature_hex, public_key_hex])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())?;
            child.wait_with_output()
        });
    match python {
        Ok(output) if output.stdout.starts_with(b"ok") => true,
        Ok(output) if output.stdout.starts_with(b"bad") => false,
        // No python3 or no `cryptography`: the Rust implementation, called directly.
        _ => {
            use ed25519_dalek::{Signature, Verifier, VerifyingKey};
            let key: [u8; 32] = hex::decode(public_key_hex).unwrap().try_into().unwrap();
            let signature: [u8; 64] = hex::decode(signature_hex).unwrap().try_into().unwrap();
            VerifyingKey::from_bytes(&key)
                .unwrap()
                .verify(text.as_bytes(), &Signature::from_bytes(&signature))
                .is_ok()
        }
    }
}

#[tokio::test]
async fn anonymous_verify_by_number_reveals_nothing() {
    let history = History::received_by(Workshop::new().await).await;
    let (number, _code, private) = certified(&history).await;
    let app = &history.shop.app;

    let api = app
        .get(&format!("/api/v1/certificates/{number}/verify"))
        .send()
        .await;
    let problem = api.problem(StatusCode::NOT_FOUND, "not_found");
    assert!(
        problem["detail"].as_str().unwrap().contains("code"),
        "{problem}"
    );
    private.assert_absent(&api.text(), "the API by number");
    // The same answer as a number that does not exist: numbers cannot be counted through.
    let absent = app
        .get("/api/v1/certificates/2026-9999/verify")
        .send()
        .await;
    assert_eq!(absent.status, api.status);
    assert_eq!(absent.json()["detail"], problem["detail"]);

    let page = anonymous(app, &format!("/verify/{number}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    private.assert_absent(&html, "the page by number");
    assert!(html.contains("data-verdict=\"code_needed\""), "{html}");
    assert!(
        html.contains("name=\"code\""),
        "a form asks for the code: {html}"
    );
    assert!(
        !html.contains("Lycée Ibn Sina"),
        "not even the partner's name: {html}"
    );
    let unknown = anonymous(app, "/verify/2026-9999").await;
    assert_eq!(unknown.status, page.status);
    assert_eq!(
        unknown.text().replace("2026-9999", ""),
        html.replace(&number, ""),
        "an existing number and an absent one answer the same page"
    );
}

#[tokio::test]
async fn anonymous_verify_by_code_shows_signed_public_facts_and_nothing_personal() {
    let history = History::received_by(Workshop::new().await).await;
    let (number, code, private) = certified(&history).await;
    let app = &history.shop.app;

    let api = app
        .get(&format!("/api/v1/certificates/{code}/verify"))
        .send()
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text());
    private.assert_absent(&api.text(), "the API by code");
    let checked = api.json();
    assert_eq!(checked["genuine"], true, "{checked}");
    assert_eq!(checked["status"], json!({ "state": "valid" }));
    assert!(checked["full"].is_null(), "{checked}");
    let facts = &checked["facts"];
    assert_eq!(facts["number"], number.as_str());
    assert_eq!(facts["code"], code.as_str());
    assert_eq!(facts["partner"], "Lycée Ibn Sina");
    assert_eq!(facts["scope"]["kind"], "collection");
    assert_eq!(
        facts["totals"]["received"],
        json!({ "count": 3, "mass_g": 9_400 + 10_000 + 4_300 })
    );
    assert_eq!(facts["totals"]["hazardous_g"], 6_000);
    assert_eq!(facts["totals"]["lost_g"], 100);
    assert_eq!(facts["signatory"]["name"], "samira");

    // The canonical text is exactly the facts, and its signature verifies, independently of
    // the service, with the key the workshop publishes.
    let canonical = checked["canonical"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(canonical).unwrap();
    assert_eq!(&parsed, facts);
    let keys = app
        .get("/.well-known/greenchip-signing-key")
        .send()
        .await
        .json();
    let public_key = keys["public_key"].as_str().unwrap();
    assert_eq!(checked["seal"]["public_key"], public_key);
    let signature = checked["seal"]["signature"].as_str().unwrap();
    assert!(signature_verifies(canonical, signature, public_key));
    let forged = canonical.replace("\"lost_g\":100", "\"lost_g\":0");
    assert_ne!(forged, canonical);
    assert!(!signature_verifies(&forged, signature, public_key));

    // The page by code: the verdict and the facts, without anything personal. Codes are
    // accepted as typed, in lower case.
    for path in [
        format!("/verify/{code}"),
        format!("/verify/{}", code.to_lowercase()),
    ] {
        let page = anonymous(app, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let html = page.text();
        private.assert_absent(&html, &path);
        assert!(html.contains("data-verdict=\"valid\""), "{html}");
        assert!(
            html.contains("Lycée Ibn Sina") && html.contains(&number),
            "{html}"
        );
        assert!(html.contains(signature), "the signature is on the page");
    }
}

#[tokio::test]
async fn staff_and_the_owning_partner_read_the_whole_certificate_a_foreign_partner_only_the_public_view()
 {
    let history = History::received_by(Workshop::new().await).await;
    let (number, code, private) = certified(&history).await;
    let app = &history.shop.app;
    let owner = history.partner_login("lycee").await;
    let foreign = app.logged_in("other", Role::Partner).await;
    let admin = app.logged_in("root", Role::Admin).await;

    // Another partner: by code the public view only, by number nothing.
    let public = app
        .get(&format!("/api/v1/certificates/{code}/verify"))
        .cookie(&foreign)
        .send()
        .await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.json()["full"].is_null());
    private.assert_absent(&public.text(), "a foreign partner by code");
    app.get(&format!("/api/v1/certificates/{number}/verify"))
        .cookie(&foreign)
        .send()
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    for reference in [&number, &code] {
        let page = app
            .get(&format!("/verify/{reference}"))
            .cookie(&foreign)
            .send()
            .await;
        private.assert_absent(&page.text(), "a foreign partner's page");
    }

    // Staff and the owner: the whole certificate, by number or by code.
    for (who, cookie) in [
        ("supervisor", &history.shop.supervisor),
        ("admin", &admin),
        ("owner", &owner),
    ] {
        for reference in [&number, &code] {
            let path = format!("/api/v1/certificates/{reference}/verify");
            let answer = app.get(&path).cookie(cookie).send().await;
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "{who} {path}: {}",
                answer.text()
            );
            let full = &answer.json()["full"];
            assert_eq!(full["genuine"], true, "{who} {path}: {full}");
            assert_eq!(full["snapshot"]["partner"]["address"], ADDRESS);
            assert_eq!(
                full["snapshot"]["annex"][0]["serial"],
                private.serial.as_str()
            );
            assert_eq!(full["snapshot"]["annex"][0]["operator"], private.operator);
            let page = app
                .get(&format!("/verify/{reference}"))
                .cookie(cookie)
                .send()
                .await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(
                page.text().contains(ADDRESS),
                "{who}'s page shows the whole certificate"
            );
        }
    }

    // A revocation's reason is free text: staff and the owner read it, the public does not.
    let revoked = app
        .post(&format!("/api/v1/certificates/{number}/revocations"))
        .cookie(&history.shop.supervisor)
        .json(&json!({ "reason": "Mme Benali's address was wrong", "reissue": false }))
        .send()
        .await;
    assert_eq!(revoked.status, StatusCode::CREATED, "{}", revoked.text());
    let public = app
        .get(&format!("/api/v1/certificates/{code}/verify"))
        .send()
        .await;
    assert_eq!(public.json()["status"]["state"], "revoked");
    assert!(!public.text().contains("Benali"), "{}", public.text());
    let page = anonymous(app, &format!("/verify/{code}")).await;
    assert!(page.text().contains("data-verdict=\"revoked\""));
    assert!(!page.text().contains("Benali"));
    let owned = app
        .get(&format!("/verify/{code}"))
        .cookie(&owner)
        .send()
        .await;
    assert!(owned.text().contains("Benali"));
}

#[tokio::test]
async fn public_lookups_are_limited_per_client_address() {
    let app = TestApp::with_config(|config| config.trust_forwarded_for = true).await;
    let history = History::received_by(Workshop::with(app).await).await;
    let (_number, code, _) = certified(&history).await;
    let app = &history.shop.app;
    let from = |address: &'static str, path: String| {
        app.get(&path).header("x-forwarded-for", address).send()
    };
    for index in 0..30 {
        let path = if index % 2 == 0 {
            format!("/api/v1/certificates/{code}/verify")
        } else {
            format!("/verify/{code}")
        };
        let answer = from("198.51.100.7", path).await;
        assert_eq!(answer.status, StatusCode::OK, "lookup {index}");
    }
    let refused = from(
        "198.51.100.7",
        format!("/api/v1/certificates/{code}/verify"),
    )
    .await;
    refused.problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let page = from("198.51.100.7", format!("/verify/{code}")).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers.contains_key("retry-after"));
    assert!(page.text().contains("data-verdict=\"throttled\""));
    // Another address is not affected, nor is the workshop's own staff.
    let other = from(
        "198.51.100.8",
        format!("/api/v1/certificates/{code}/verify"),
    )
    .await;
    assert_eq!(other.status, StatusCode::OK);
    let staff = app
        .get(&format!("/api/v1/certificates/{code}/verify"))
        .header("x-forwarded-for", "198.51.100.7")
        .cookie(&history.shop.supervisor)
        .send()
        .await;
    assert_eq!(staff.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_number_or_code_is_a_typo_never_a_forgery() {
    let app = TestApp::spawn().await;
    let supervisor = app.logged_in("samira", Role::Supervisor).await;
    let never_issued = Code::random(CodeKind::Certificate).to_string();
    let mistyped = format!("{}X", &never_issued[..never_issued.len() - 1]);
    let cases = [
        (Some(&supervisor), "/verify/2026-9999".to_string()),
        (None, format!("/verify/{never_issued}")),
        (None, format!("/verify/{mistyped}")),
    ];
    for (cookie, path) in cases {
        let mut request = app.get(&path).header("accept", "text/html");
        if let Some(cookie) = cookie {
            request = request.cookie(cookie);
        }
        let page = request.send().await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        let html = page.text();
        assert!(
            !html.contains("NOT genuine") && !html.contains("not_genuine"),
            "{path}: {html}"
        );
        assert!(
            html.contains("No certificate has this number: check what you typed"),
            "{path}: {html}"
        );
    }
    // In the page's language.
    let french = app
        .get(&format!("/verify/{never_issued}"))
        .header("accept-language", "fr")
        .send()
        .await;
    assert_eq!(french.status, StatusCode::NOT_FOUND);
    assert!(
        french
            .text()
            .contains("Aucun certificat ne porte ce numéro"),
        "{}",
        french.text()
    );
    let api = app
        .get(&format!("/api/v1/certificates/{never_issued}/verify"))
        .send()
        .await;
    let problem = api.problem(StatusCode::NOT_FOUND, "not_found");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("no certificate has this number"),
        "{problem}"
    );
}

#[tokio::test]
async fn verify_alone_is_a_form_that_sends_the_typed_code_to_its_page() {
    let app = TestApp::spawn().await;
    let page = anonymous(&app, "/verify").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("<form method=\"get\" action=\"/verify\""),
        "{html}"
    );
    assert!(
        html.contains("<label>") && html.contains("name=\"code\""),
        "{html}"
    );

    let code = Code::random(CodeKind::Certificate).to_string();
    let body = code.trim_start_matches("CE-");
    let typed = format!("ce {} {}", &body[..4], &body[4..]).to_lowercase();
    let sent = anonymous(&app, &format!("/verify?code={}", typed.replace(' ', "+"))).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    assert_eq!(sent.location(), format!("/verify/{code}"));
    let number = anonymous(&app, "/verify?code=2026-0001").await;
    assert_eq!(number.location(), "/verify/2026-0001");
}

#[tokio::test]
async fn the_backfill_signs_public_facts_for_a_certificate_issued_without_them() {
    let history = History::received_by(Workshop::new().await).await;
    let (_number, code, _) = certified(&history).await;
    let db = &history.shop.app.db;
    let count = || async {
        db.query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM certificate_public_facts",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
    };
    assert_eq!(count().await, 1, "signed at issue");
    // As if it had been issued before public facts existed: around the append-only guard.
    let unguard = match db.get_database_backend() {
        DbBackend::Postgres => {
            "DROP TRIGGER certificate_public_facts_append_only ON certificate_public_facts"
        }
        _ => "DROP TRIGGER certificate_public_facts_no_delete",
    };
    db.execute_unprepared(unguard).await.unwrap();
    db.execute_unprepared("DELETE FROM certificate_public_facts")
        .await
        .unwrap();
    let before = history
        .shop
        .app
        .get(&format!("/api/v1/certificates/{code}/verify"))
        .send()
        .await
        .json();
    assert_eq!(before["genuine"], false, "{before}");

    // Service start (`serve` runs `keys::ensure`), twice, as two instances would.
    let config = Config::default();
    for _ in 0..2 {
        greenchip::services::certificates::keys::ensure(db, &config)
            .await
            .unwrap();
    }
    assert_eq!(count().await, 1);
    // Another instance that read the list before this one signed: its insert does nothing.
    let found = greenchip::services::certificates::find(db, &code)
        .await
        .unwrap();
    let key = greenchip::services::certificates::keys::active(db, &config)
        .await
        .unwrap();
    greenchip::services::certificates::public::sign(db, &found, &key)
        .await
        .unwrap();
    assert_eq!(count().await, 1);
    let after = history
        .shop
        .app
        .get(&format!("/api/v1/certificates/{code}/verify"))
        .send()
        .await
        .json();
    assert_eq!(after["genuine"], true, "{after}");
    assert_eq!(after["facts"]["code"], code.as_str());
    assert!(signature_verifies(
        after["canonical"].as_str().unwrap(),
        after["seal"]["signature"].as_str().unwrap(),
        after["seal"]["public_key"].as_str().unwrap(),
    ));
}
