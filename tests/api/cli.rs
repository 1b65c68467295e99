//! The `greenchip` binary itself: first start, clear failures, users and tokens, real TCP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::helpers::TestDb;

fn greenchip(database_url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_greenchip"));
    command
        .args(args)
        .arg("--database-url")
        .arg(database_url)
        .current_dir(std::env::temp_dir())
        .env_remove("DATABASE_URL")
        .env("GREENCHIP_CONFIG", "/nonexistent/greenchip.toml")
        .env("RUST_LOG", "warn");
    for (key, _) in std::env::vars() {
        if key.starts_with("GREENCHIP_") && key != "GREENCHIP_CONFIG" {
            command.env_remove(key);
        }
    }
    command
}

fn run(database_url: &str, args: &[&str]) -> Output {
    greenchip(database_url, args)
        .output()
        .expect("run greenchip")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A running `greenchip serve`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    lines: Vec<String>,
}

impl Server {
    fn start(database_url: &str) -> Server {
        let mut child = greenchip(database_url, &["serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start greenchip");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        let port = loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                panic!("greenchip exited before listening: {lines:?}");
            }
            lines.push(line.trim().to_string());
            if let Some(rest) = line
                .trim()
                .strip_prefix("greenchip is listening on http://127.0.0.1:")
            {
                break rest.trim_end_matches('/').parse().unwrap();
            }
        };
        Server { child, port, lines }
    }

    /// One HTTP/1.1 exchange over a real socket; answers status and body.
    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response[9..12].parse().unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_unsupported_database_url_is_one_clear_line_and_a_failure() {
    let output = run("mysql://root@localhost/gc", &["migrate"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: unsupported database URL"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_database_is_one_clear_line_and_a_failure() {
    let output = run(
        "postgres://nobody@127.0.0.1:1/none",
        &["serve", "--addr", "127.0.0.1:0"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot open the database at postgres://nobody@127.0.0.1:1/none"),
        "{stderr}"
    );
}

#[tokio::test]
async fn first_start_prints_the_admin_password_once_and_it_logs_in() {
    let (_db, url) = TestDb::create().await;
    let url = url.clone();
    tokio::task::spawn_blocking(move || {
        let server = Server::start(&url);
        let password = server
            .lines
            .iter()
            .find_map(|line| line.strip_prefix("initial admin password: "))
            .expect("the password is printed")
            .to_string();
        assert!(password.len() >= 16);
        let (status, body) = server.call("GET", "/healthz", &[], "");
        assert_eq!(
            (status, body.as_str()),
            (200, r#"{"status":"ok","db":"ok"}"#)
        );
        let login = format!(r#"{{"login":"admin","password":"{password}"}}"#);
        let (status, body) = server.call(
            "POST",
            "/api/v1/auth/login",
            &[("Content-Type", "application/json")],
            &login,
        );
        assert_eq!(status, 200, "{body}");
        drop(server);

        let again = Server::start(&url);
        assert!(
            !again.lines.iter().any(|l| l.contains("password")),
            "{:?}",
            again.lines
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn users_and_tokens_made_on_the_command_line_work_over_http() {
    let (_db, url) = TestDb::create().await;
    let url = url.clone();
    tokio::task::spawn_blocking(move || {
        let migrated = run(&url, &["migrate"]);
        assert!(migrated.status.success());
        assert!(
            stdout(&migrated).contains("applied m20261129_000001_foundation"),
            "{}",
            stdout(&migrated)
        );
        assert!(stdout(&run(&url, &["migrate"])).contains("up to date"));

        let added = run(
            &url,
            &["user", "add", "--role", "supervisor", "--name", "samira"],
        );
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
        let password = stdout(&added)
            .lines()
            .find_map(|l| l.strip_prefix("password: ").map(str::to_string))
            .unwrap();
        assert_eq!(password.len(), 16);

        let refused = run(&url, &["user", "add", "--role", "overlord", "--name", "x"]);
        assert!(!refused.status.success());

        let token = stdout(&run(&url, &["token", "create", "--user", "samira"]))
            .trim()
            .to_string();
        assert!(token.starts_with("gct_"), "{token}");
        let unknown = run(&url, &["token", "create", "--user", "nobody"]);
        assert!(!unknown.status.success());
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user named"));

        let server = Server::start(&url);
        let bearer = format!("Bearer {token}");
        let (status, body) =
            server.call("GET", "/api/v1/auth/me", &[("Authorization", &bearer)], "");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"name\":\"samira\""), "{body}");
    })
    .await
    .unwrap();
}

/// Counts a few things the demo must have made, straight from the database.
async fn demo_counts(url: &str) -> DemoCounts {
    use greenchip::entities::{
        collection, item, lot, material, melt, movement, operation, partner, sanitisation_record,
        shipment, task,
    };
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

    let config = greenchip::Config {
        database_url: url.to_string(),
        ..greenchip::Config::default()
    };
    let db = greenchip::db::open(&config).await.unwrap();
    let report = greenchip::services::ledger::check::check(&db)
        .await
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    let items_in = async |state: &str| {
        item::Entity::find()
            .filter(item::Column::State.eq(state))
            .count(&db)
            .await
            .unwrap()
    };
    let operations_of = async |kind: &str| {
        operation::Entity::find()
            .filter(operation::Column::Kind.eq(kind))
            .count(&db)
            .await
            .unwrap()
    };
    let material_id = async |code: &str| {
        material::Entity::find()
            .filter(material::Column::Code.eq(code))
            .one(&db)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let ingot = material_id("CU-INGOT").await;
    let dross = material_id("CU-DROSS").await;

    let finished: Vec<melt::Model> = melt::Entity::find()
        .filter(melt::Column::State.eq("finished"))
        .all(&db)
        .await
        .unwrap();
    let mut ingots_per_melt = Vec::new();
    for found in &finished {
        let ingots = lot::Entity::find()
            .filter(lot::Column::MeltId.eq(found.id))
            .filter(lot::Column::MaterialId.eq(ingot))
            .count(&db)
            .await
            .unwrap();
        ingots_per_melt.push(ingots);
    }
    let dross_lots: Vec<uuid::Uuid> = lot::Entity::find()
        .filter(lot::Column::MaterialId.eq(dross))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    let dross_charged = movement::Entity::find()
        .filter(movement::Column::FromHolderId.is_in(dross_lots))
        .filter(movement::Column::ToHolderId.is_in(finished.iter().map(|m| m.id)))
        .count(&db)
        .await
        .unwrap();
    let days: Vec<chrono::NaiveDate> = collection::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.received_on)
        .collect();
    let apprentices_at_work = task::Entity::find()
        .select_only()
        .column(task::Column::ApprenticeId)
        .distinct()
        .into_tuple::<uuid::Uuid>()
        .all(&db)
        .await
        .unwrap()
        .len();
    let counts = DemoCounts {
        partners: partner::Entity::find().count(&db).await.unwrap(),
        collection_days: days.clone(),
        items: item::Entity::find().count(&db).await.unwrap(),
        dismantled: items_in("dismantled").await,
        reused: items_in("reused").await,
        shipped_whole: items_in("shipped_whole").await,
        sanitisations: sanitisation_record::Entity::find()
            .filter(sanitisation_record::Column::Verified.eq(true))
            .count(&db)
            .await
            .unwrap(),
        ingots_per_melt,
        dross_charged,
        shipments: shipment::Entity::find().count(&db).await.unwrap(),
        closed_bins: lot::Entity::find()
            .filter(lot::Column::State.eq("closed"))
            .filter(lot::Column::MaterialId.ne(ingot))
            .count(&db)
            .await
            .unwrap(),
        transfers: operations_of("transfer").await,
        reweighs: operations_of("reweigh").await,
        operations: operation::Entity::find().count(&db).await.unwrap(),
        apprentices_at_work,
        certificates: greenchip::entities::certificate::Entity::find()
            .count(&db)
            .await
            .unwrap(),
    };
    db.close().await.unwrap();
    counts
}

#[derive(Debug, PartialEq)]
struct DemoCounts {
    partners: u64,
    collection_days: Vec<chrono::NaiveDate>,
    items: u64,
    dismantled: u64,
    reused: u64,
    shipped_whole: u64,
    sanitisations: u64,
    ingots_per_melt: Vec<u64>,
    dross_charged: u64,
    shipments: u64,
    closed_bins: u64,
    transfers: u64,
    reweighs: u64,
    operations: u64,
    apprentices_at_work: usize,
    certificates: u64,
}

#[tokio::test]
async fn the_demo_fills_a_workshop_and_can_run_twice() {
    let (_db, url) = TestDb::create().await;
    let first_url = url.clone();
    let first = tokio::task::spawn_blocking(move || run(&first_url, &["demo"]))
        .await
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(stdout(&first).contains("badge AP-"));
    // No public_url here: the demo's certificates say where their QR codes point.
    assert!(stdout(&first).contains("https://demo.greenchip.invalid"));

    let made = demo_counts(&url).await;
    assert!(made.partners >= 4, "{made:?}");
    let today = chrono::Utc::now().date_naive();
    let oldest = made.collection_days.iter().min().copied().unwrap();
    let newest = made.collection_days.iter().max().copied().unwrap();
    assert!(made.collection_days.len() >= 10, "{made:?}");
    assert!((today - oldest).num_days() >= 80, "{made:?}");
    assert!(
        newest <= today && (today - newest).num_days() <= 10,
        "{made:?}"
    );
    assert!((150..=250).contains(&made.items), "{made:?}");
    assert!(made.dismantled >= made.items / 2, "{made:?}");
    assert!(made.reused > 0 && made.shipped_whole > 0, "{made:?}");
    assert!(made.sanitisations > 0, "{made:?}");
    assert!(made.ingots_per_melt.len() >= 2, "{made:?}");
    assert!(made.ingots_per_melt.iter().all(|&n| n > 0), "{made:?}");
    assert!(
        made.dross_charged > 0,
        "a later melt takes back the dross: {made:?}"
    );
    assert!(made.shipments >= 2, "{made:?}");
    assert!(made.closed_bins > 0, "{made:?}");
    assert!(made.transfers >= 2 && made.reweighs >= 1, "{made:?}");
    assert!(made.apprentices_at_work >= 4, "{made:?}");
    assert!(made.certificates >= 3, "{made:?}");
    assert!(stdout(&first).contains("partner    ibnsina  password "));

    let second_url = url.clone();
    let second = tokio::task::spawn_blocking(move || run(&second_url, &["demo"]))
        .await
        .unwrap();
    assert!(second.status.success());
    assert!(stdout(&second).contains("already there"));
    assert_eq!(demo_counts(&url).await, made, "the second run adds nothing");

    certificate_verify_checks_a_demo_pdf_offline(&url).await;

    let checked = tokio::task::spawn_blocking(move || run(&url, &["ledger", "check"]))
        .await
        .unwrap();
    assert!(
        stdout(&checked).starts_with("ledger clean:"),
        "{}",
        stdout(&checked)
    );
}

#[tokio::test]
async fn ledger_check_is_clean_on_a_consistent_history_and_fails_naming_damage() {
    let (_db, url) = TestDb::create().await;
    {
        let config = greenchip::Config {
            database_url: url.clone(),
            ..greenchip::Config::default()
        };
        let db = greenchip::db::open_and_migrate(&config).await.unwrap();
        let spec = greenchip::synthetic::Spec {
            batch: 50,
            ..greenchip::synthetic::Spec::items(120)
        };
        let made = greenchip::synthetic::generate(&db, &spec).await.unwrap();
        assert_eq!(made.items, 120);
        assert!(made.movements > 120 * 5, "{made:?}");
        db.close().await.unwrap();
    }
    let check_url = url.clone();
    let clean = tokio::task::spawn_blocking(move || run(&check_url, &["ledger", "check"]))
        .await
        .unwrap();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert!(
        stdout(&clean).starts_with("ledger clean:"),
        "{}",
        stdout(&clean)
    );

    {
        let config = greenchip::Config {
            database_url: url.clone(),
            ..greenchip::Config::default()
        };
        let db = greenchip::db::open(&config).await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(
            &db,
            "UPDATE holder_compositions SET mass_g = mass_g - 1 WHERE holder_id IN \
             (SELECT id FROM holders WHERE account_key = 'weighing_variance')",
        )
        .await
        .unwrap();
        db.close().await.unwrap();
    }
    let damaged = tokio::task::spawn_blocking(move || run(&url, &["ledger", "check"]))
        .await
        .unwrap();
    assert!(!damaged.status.success());
    assert!(
        stdout(&damaged).contains("weighing_variance: holds"),
        "{}",
        stdout(&damaged)
    );
    assert!(String::from_utf8_lossy(&damaged.stderr).starts_with("error: ledger damaged"));
}

/// `greenchip certificate verify`: a demo certificate's PDF is genuine against the published
/// key, offline; against another key, or with one figure changed, it is not.
async fn certificate_verify_checks_a_demo_pdf_offline(url: &str) {
    use greenchip::entities::certificate;
    use sea_orm::EntityTrait;
    let config = greenchip::Config {
        database_url: url.to_string(),
        ..greenchip::Config::default()
    };
    let db = greenchip::db::open(&config).await.unwrap();
    let issued = certificate::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .expect("the demo issued certificates");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("certificate.pdf");
    std::fs::write(&file, &issued.pdf).unwrap();
    let path = file.to_str().unwrap().to_string();
    let verify = |args: Vec<String>| {
        let url = url.to_string();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&url, &args)
        })
    };
    // The PDF at `path`, checked offline against `key`.
    let verify_file = |key: String| {
        verify(vec![
            "certificate".into(),
            "verify".into(),
            path.clone(),
            "--key".into(),
            key,
        ])
    };
    let offline = verify_file(issued.public_key.clone()).await.unwrap();
    assert!(
        offline.status.success(),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    let report = stdout(&offline);
    assert!(
        report.starts_with(&format!("genuine: certificate {}", issued.number)),
        "{report}"
    );
    // The signed figures to compare with the paper, and the status from the database.
    let snapshot: greenchip::domain::certificate::Snapshot =
        serde_json::from_str(&issued.snapshot).unwrap();
    assert!(report.contains("\nprinted pages: all "), "{report}");
    assert!(
        report.contains(&format!("  partner:      {}\n", snapshot.partner.name)),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "  received:     {} piece(s), ",
            snapshot.fate.received.count
        )),
        "{report}"
    );
    assert!(report.contains("  copper ingot: "), "{report}");
    assert!(report.ends_with("status: valid\n"), "{report}");
    // Offline, with no database at hand: genuine, status not checked, no database created.
    let nowhere = tempfile::tempdir().unwrap();
    let missing = format!("sqlite://{}", nowhere.path().join("none.db").display());
    let away = {
        let (missing, path, key) = (missing.clone(), path.clone(), issued.public_key.clone());
        tokio::task::spawn_blocking(move || {
            run(&missing, &["certificate", "verify", &path, "--key", &key])
        })
        .await
        .unwrap()
    };
    assert!(
        away.status.success(),
        "{}",
        String::from_utf8_lossy(&away.stderr)
    );
    assert!(stdout(&away).contains("status: not checked: no database at "));
    assert!(!nowhere.path().join("none.db").exists());
    let stored = verify(vec![
        "certificate".into(),
        "verify".into(),
        issued.number.clone(),
    ])
    .await
    .unwrap();
    assert!(
        stored.status.success(),
        "{}",
        String::from_utf8_lossy(&stored.stderr)
    );
    let report = stdout(&stored);
    assert!(
        report.starts_with(&format!("genuine: certificate {}", issued.number)),
        "{report}"
    );
    assert!(report.ends_with("status: valid\n"), "{report}");
    let other_key = greenchip::domain::certificate::public_key_hex(&[3; 32]);
    let refused = verify_file(other_key).await.unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("NOT genuine"));
    // The same PDF with one received figure changed in its embedded snapshot.
    let embedded = greenchip::render::certificate::extract(&issued.pdf).unwrap();
    let snapshot: greenchip::domain::certificate::Snapshot =
        serde_json::from_str(&embedded.canonical).unwrap();
    let mut forged = snapshot.clone();
    forged.fate.received.mass_g += 1_000;
    let forged_text = forged.canonical().unwrap();
    // The forger can recompute the hash, not the signature.
    let forged_seal = greenchip::domain::certificate::Seal {
        hash: greenchip::domain::certificate::hash_hex(&forged_text),
        ..embedded.seal.clone()
    };
    let forged_pdf =
        greenchip::render::certificate::render(&greenchip::render::certificate::CertificatePdf {
            snapshot: &forged,
            canonical: &forged_text,
            seal: &forged_seal,
            secret: &[3; 32],
            verify_url: "https://greenchip.example.org/verify/x",
            status_note: None,
        })
        .unwrap();
    std::fs::write(&file, &forged_pdf).unwrap();
    let forged = verify_file(issued.public_key.clone()).await.unwrap();
    assert!(!forged.status.success());
    assert!(String::from_utf8_lossy(&forged.stderr).contains("NOT genuine"));

    // The issued PDF with a rectangle drawn over page 1, its snapshot untouched.
    let mut document = lopdf::Document::load_mem(&issued.pdf).unwrap();
    let page = *document.get_pages().values().next().unwrap();
    let cover = document.add_object(lopdf::Stream::new(
        lopdf::Dictionary::new(),
        b"q 1 1 1 rg 40 500 120 14 re f Q".to_vec(),
    ));
    let contents = document
        .get_dictionary(page)
        .unwrap()
        .get(b"Contents")
        .unwrap()
        .clone();
    document.get_dictionary_mut(page).unwrap().set(
        "Contents",
        lopdf::Object::Array(vec![contents, lopdf::Object::Reference(cover)]),
    );
    let mut covered = Vec::new();
    document.save_to(&mut covered).unwrap();
    std::fs::write(&file, &covered).unwrap();
    let covered = verify_file(issued.public_key.clone()).await.unwrap();
    assert!(!covered.status.success());
    assert!(
        String::from_utf8_lossy(&covered.stderr).contains(
            "NOT genuine: the printed pages differ from what was sealed: page 1: its text or \
             drawings changed"
        ),
        "{}",
        String::from_utf8_lossy(&covered.stderr)
    );

    // Revoked and reissued: the old PDF is still genuine, and says it was superseded.
    std::fs::write(&file, &issued.pdf).unwrap();
    let supervisor = greenchip::entities::user::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .find(|user| user.role == "supervisor")
        .expect("the demo has a supervisor");
    let config = greenchip::Config {
        database_url: url.to_string(),
        public_url: Some("https://greenchip.example.org".into()),
        ..greenchip::Config::default()
    };
    let reissued = greenchip::services::certificates::revoke(
        &db,
        &config,
        &issued.number,
        "a mass was corrected",
        true,
        &supervisor,
    )
    .await
    .unwrap();
    let superseded = verify_file(issued.public_key.clone()).await.unwrap();
    assert!(!superseded.status.success());
    let report = stdout(&superseded);
    assert!(report.starts_with("genuine: "), "{report}");
    assert!(
        report.contains(&format!(
            "status: SUPERSEDED by certificate {}",
            reissued.number
        )),
        "{report}"
    );
    assert!(
        String::from_utf8_lossy(&superseded.stderr)
            .contains(&format!("replaced by {}", reissued.number))
    );
}

/// A certificate issued before pages were sealed (format 1, greenchip a2086e6): its data is
/// genuine, its printed page is not bound, and it is never called a forgery.
#[tokio::test]
async fn a_format_1_certificate_verifies_as_data_genuine_with_its_page_not_bound() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures");
    let pdf = fixtures.join("certificate-format1.pdf");
    let key = std::fs::read_to_string(fixtures.join("certificate-format1.key")).unwrap();
    let nowhere = tempfile::tempdir().unwrap();
    let missing = format!("sqlite://{}", nowhere.path().join("none.db").display());
    let path = pdf.to_str().unwrap().to_string();
    let checked = tokio::task::spawn_blocking(move || {
        run(
            &missing,
            &["certificate", "verify", &path, "--key", key.trim()],
        )
    })
    .await
    .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let report = stdout(&checked);
    assert!(
        report.starts_with("data genuine; printed page not bound (format 1): certificate "),
        "{report}"
    );
    assert!(report.contains("  received:     "), "{report}");
    // Not a forgery, but not what a format-2 certificate without its page seal would be.
    let snapshot = greenchip::render::certificate::extract(&std::fs::read(&pdf).unwrap()).unwrap();
    assert!(snapshot.page_seal.is_none());
    assert!(snapshot.canonical.contains("\"format\":1,"));
}
