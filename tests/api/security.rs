//! Regression tests of the threats in docs/security.md, one per defence: each failed on the
//! commit before its fix.

use axum::http::StatusCode;

use crate::helpers::TestApp;

/// `next` after a language switch or a login leads only to a path on this site: a tab, a
/// backslash or a line break cannot turn it into another host (browsers drop tabs and read
/// `\` as `/`), and a line break is refused outright rather than failing the server.
#[tokio::test]
async fn next_leads_only_to_a_path_on_this_site() {
    let app = TestApp::spawn().await;
    for hostile in [
        "/%09/evil.example/phish",
        "/%0d%0aSet-Cookie:%20x=1",
        "/a%0bb",
    ] {
        let switched = app.get(&format!("/lang/en?next={hostile}")).send().await;
        switched.problem(StatusCode::BAD_REQUEST, "bad_next");
        let form = app.get(&format!("/login?next={hostile}")).send().await;
        form.problem(StatusCode::BAD_REQUEST, "bad_next");
    }
    for hostile in ["/%5C/evil.example", "/%5Cevil.example", "//evil.example"] {
        let switched = app.get(&format!("/lang/en?next={hostile}")).send().await;
        assert_eq!(switched.status, StatusCode::SEE_OTHER, "{hostile}");
        assert_eq!(switched.location(), "/", "{hostile}");
        let form = app.get(&format!("/login?next={hostile}")).send().await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(!form.text().contains("evil.example"), "{hostile}");
    }
    let posted = app
        .post("/login")
        .form(&[
            ("login", "nobody"),
            ("password", "wrong"),
            ("csrf", "x"),
            ("next", "/\r\nSet-Cookie: x=1"),
        ])
        .send()
        .await;
    posted.problem(StatusCode::BAD_REQUEST, "bad_next");
    let kept = app.get("/lang/en?next=/collections%3Fq%3Da").send().await;
    assert_eq!(kept.location(), "/collections?q=a");
}

/// What a test's own thread logs, as text.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Captured {
    type Writer = Captured;

    fn make_writer(&'w self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A password typed into the login field by mistake is not written to the log: a login
/// name is logged only once it matched an account, otherwise a short hash of it.
#[tokio::test]
async fn a_password_typed_as_the_login_name_never_reaches_the_log() {
    let app = TestApp::spawn().await;
    app.user("samira", greenchip::domain::roles::Role::Supervisor)
        .await;
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);
    for (login, password) in [("RootPassw0rd!x", "samira"), ("samira", "not her password")] {
        let refused = app
            .post("/api/v1/auth/login")
            .json(&serde_json::json!({ "login": login, "password": password }))
            .send()
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{}",
            refused.text()
        );
    }
    let text = log.text();
    assert!(text.contains("login refused"), "{text}");
    assert!(!text.contains("RootPassw0rd!x"), "{text}");
    assert!(text.contains("login=unknown#"), "{text}");
    assert!(
        text.contains("login=samira reason=\"wrong password\""),
        "{text}"
    );
}

/// Every numeric query parameter has a range: a page number that would overflow the
/// database's row offset is a 422 naming it, not a dropped connection.
#[tokio::test]
async fn numbers_in_a_query_outside_their_range_are_refused() {
    let app = TestApp::spawn().await;
    let cookie = app
        .logged_in("samira", greenchip::domain::roles::Role::Supervisor)
        .await;
    for (path, field) in [
        ("/api/v1/items?page=18446744073709551615", "page"),
        ("/api/v1/items?page=0", "page"),
        ("/api/v1/items?per_page=501", "per_page"),
        ("/api/v1/collections?page=18446744073709551615", "page"),
        ("/api/v1/partners?page=18446744073709551615", "page"),
        ("/api/v1/partners?per_page=0", "per_page"),
        ("/api/v1/melts?limit=501", "limit"),
        ("/api/v1/events?limit=0", "limit"),
        ("/api/v1/events?limit=18446744073709551615", "limit"),
    ] {
        let refused = app.get(path).cookie(&cookie).send().await;
        let problem = refused.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(problem["errors"][0]["field"], field, "{path}: {problem}");
    }
    for page in [
        "/collections?page=18446744073709551615",
        "/lots?page=18446744073709551615",
    ] {
        let refused = app.get(page).cookie(&cookie).send().await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    }
    let last = app
        .get("/api/v1/items?page=1000000&per_page=500")
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(last.status, StatusCode::OK, "{}", last.text());
    assert_eq!(last.json()["items"], serde_json::json!([]));
}

/// Made-up HTTP methods all count under one label: they cannot grow `/metrics` for good.
#[tokio::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    let app = TestApp::spawn().await;
    let before = app.get("/metrics").send().await.text().len();
    for index in 0..50 {
        let method = format!("X{index:03}{}", "Q".repeat(1_000));
        let method = axum::http::Method::from_bytes(method.as_bytes()).unwrap();
        app.request(method, "/healthz").send().await;
        let unmatched = axum::http::Method::from_bytes(format!("Y{index}").as_bytes()).unwrap();
        app.request(unmatched, &format!("/no/such/path/{index}"))
            .send()
            .await;
    }
    let after = app.get("/metrics").send().await.text();
    assert!(after.contains("method=\"other\""), "{after}");
    assert!(!after.contains("X000"), "a made-up method became a label");
    assert!(!after.contains("/no/such/path"), "a path became a label");
    assert!(
        after.len() < before + 8_000,
        "{} bytes after, {before} before",
        after.len()
    );
}

/// A manufacturer's barcode does not tell a partner that another partner's item exists: it
/// answers 404 as a barcode nobody linked, while staff are led to the item.
#[tokio::test]
async fn a_barcode_leads_a_partner_only_to_its_own_items() {
    let shop = crate::helpers::Workshop::new().await;
    let item = shop.item("laptop", 2_100).await;
    let linked = shop
        .app
        .post(&format!("/api/v1/items/{item}/barcodes"))
        .cookie(&shop.supervisor)
        .json(&serde_json::json!({ "barcode": "5CG0000LEAK" }))
        .send()
        .await;
    assert_eq!(linked.status, StatusCode::CREATED, "{}", linked.text());
    let staff = shop
        .app
        .get("/s/5CG0000LEAK")
        .cookie(&shop.supervisor)
        .send()
        .await;
    assert_eq!(staff.location(), format!("/items/{item}"));
    let other = shop
        .app
        .logged_in("another-school", greenchip::domain::roles::Role::Partner)
        .await;
    let probed = shop.app.get("/s/5CG0000LEAK").cookie(&other).send().await;
    let nobody = shop.app.get("/s/5CG0000NONE").cookie(&other).send().await;
    assert_eq!(probed.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert_eq!(
        probed.text().replace("LEAK", "NONE"),
        nobody.text(),
        "the two answers differ"
    );
}

/// A partner's forward trace shows its own grams: the lots and accounts its mass reached
/// mix partners, so their balances and the grams that left them stay out of its view.
#[tokio::test]
async fn a_partners_trace_shows_only_its_own_grams() {
    let history = crate::certificates::History::received().await;
    history.mostly_processed().await;
    let own = history.partner_login("lycee").await;
    let path = format!(
        "/api/v1/trace/{}?direction=forward",
        history.shop.collection
    );
    let staff = history.get(&history.shop.supervisor, &path).await.json();
    let seen = history.get(&own, &path).await.json();
    let shared = |trace: &serde_json::Value| -> Vec<String> {
        trace["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|node| !["item", "collection"].contains(&node["kind"].as_str().unwrap()))
            .map(|node| node["id"].as_str().unwrap().to_string())
            .collect()
    };
    let lots = shared(&staff);
    assert!(!lots.is_empty(), "the history reaches lots: {staff}");
    assert_eq!(shared(&seen), lots);
    for node in seen["nodes"].as_array().unwrap() {
        let id = node["id"].as_str().unwrap().to_string();
        let staff_node = staff["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == node["id"])
            .unwrap();
        if lots.contains(&id) {
            assert!(node["balance_g"].is_null(), "{node}");
            assert!(staff_node["balance_g"].is_i64(), "{staff_node}");
            // Its own attributed grams stay.
            assert_eq!(node["attributed_g"], staff_node["attributed_g"]);
        } else {
            assert_eq!(node, staff_node);
        }
    }
    for edge in seen["edges"].as_array().unwrap() {
        let from = edge["from"].as_str().unwrap().to_string();
        assert_eq!(edge["mass_g"].is_null(), lots.contains(&from), "{edge}");
    }
}

/// `greenchip` run under a umask that lets everyone read what it creates, as a stock
/// server's is: answers its standard output, failing the test when it fails.
fn greenchip_with_umask_022(database_url: &str, args: &[&str]) -> String {
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_greenchip"))
        .args(args)
        .arg("--database-url")
        .arg(database_url)
        .env("GREENCHIP_CONFIG", "/nonexistent/greenchip.toml")
        .env_remove("GREENCHIP_SIGNING_KEY_FILE")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run greenchip");
    assert!(
        output.status.success(),
        "greenchip {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The database (which holds the signing secret) and its backups are readable by their owner
/// only whatever the umask; a backup leaves the secret out unless asked, and a restore keeps
/// the key of the database it replaces, or retires a key left without its secret so that a
/// new one is made while the old public key stays published.
#[cfg(unix)]
#[tokio::test]
async fn the_signing_secret_stays_in_private_files_and_out_of_backups() {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("greenchip.db");
    let url = format!("sqlite://{}", database.display());
    greenchip_with_umask_022(&url, &["migrate"]);
    let keys = greenchip_with_umask_022(&url, &["key", "show"]);
    let current = keys
        .split_whitespace()
        .find(|w| w.len() == 64)
        .unwrap()
        .to_string();
    assert_eq!(mode(&database), 0o600);
    for sidecar in ["greenchip.db-wal", "greenchip.db-shm"] {
        let path = dir.path().join(sidecar);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{sidecar}");
        }
    }

    let plain = dir.path().join("plain.db");
    let said = greenchip_with_umask_022(&url, &["backup", plain.to_str().unwrap()]);
    assert!(said.contains("signing secret is left out"), "{said}");
    let with_key = dir.path().join("with-key.db");
    greenchip_with_umask_022(
        &url,
        &["backup", with_key.to_str().unwrap(), "--with-signing-key"],
    );
    let secret_of = |path: std::path::PathBuf| async move {
        let db = Database::connect(format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let row = db
            .query_one_raw(Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT secret_key FROM signing_keys WHERE retired_at IS NULL",
            ))
            .await
            .unwrap();
        db.close().await.unwrap();
        row.and_then(|row| row.try_get_by_index::<Option<String>>(0).ok().flatten())
    };
    for backup in [&plain, &with_key] {
        assert_eq!(mode(backup), 0o600, "{}", backup.display());
    }
    let secret = secret_of(with_key.clone()).await.expect("kept on request");
    assert_eq!(secret_of(plain.clone()).await, None);
    let raw = std::fs::read(&plain).unwrap();
    assert!(
        !raw.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret's bytes are still in the file"
    );

    // Over the running workshop's database: the same key signs on.
    greenchip_with_umask_022(&url, &["restore", plain.to_str().unwrap(), "--force"]);
    let after = greenchip_with_umask_022(&url, &["key", "show"]);
    assert_eq!(
        after.split_whitespace().find(|w| w.len() == 64),
        Some(current.as_str()),
        "{after}"
    );
    assert_eq!(mode(&database), 0o600);
    // On a new machine: a new key signs, the old one stays published.
    let fresh = dir.path().join("fresh.db");
    let fresh_url = format!("sqlite://{}", fresh.display());
    greenchip_with_umask_022(&fresh_url, &["restore", plain.to_str().unwrap()]);
    let fresh_keys = greenchip_with_umask_022(&fresh_url, &["key", "show"]);
    let listed: Vec<&str> = fresh_keys
        .split_whitespace()
        .filter(|w| w.len() == 64)
        .collect();
    assert_eq!(listed.len(), 2, "{fresh_keys}");
    assert_ne!(listed[0], current, "{fresh_keys}");
    assert!(listed.contains(&current.as_str()), "{fresh_keys}");
}
