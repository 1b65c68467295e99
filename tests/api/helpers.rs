//! The test harness: a fresh database per test and the same router `serve` runs.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use greenchip::domain::roles::Role;
use greenchip::services::users::{self, NewUser};
use greenchip::{AppState, Config};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const POSTGRES_ENV: &str = "GREENCHIP_TEST_POSTGRES_URL";
pub const PASSWORD: &str = "correct horse battery";
/// The `public_url` every test app has unless it says otherwise.
pub const TEST_PUBLIC_URL: &str = "https://greenchip.test";

/// A database that disappears with the test.
pub enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh, empty database and its URL.
    pub async fn create() -> (TestDb, String) {
        match std::env::var(POSTGRES_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("gc_test_{}", uuid::Uuid::now_v7().simple());
                let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("{POSTGRES_ENV} is set but PostgreSQL does not answer: {e}")
                });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create the test database");
                admin.close().await.ok();
                let url = format!(
                    "{}/{name}",
                    admin_url.rsplit_once('/').expect("URL with a database").0
                );
                (TestDb::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("greenchip.db").display());
                (TestDb::Sqlite(dir), url)
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async; a small runtime of its own drops the database.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    let admin = Database::connect(&admin_url).await.ok()?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await
                        .ok()?;
                    admin.close().await.ok()
                })
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub router: Router,
    pub db: DatabaseConnection,
    pub config: Config,
    /// Kept so the database lives as long as the app (and any other instance on it).
    _test_db: std::sync::Arc<TestDb>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::with_config(|_| {}).await
    }

    pub async fn with_config(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let (test_db, url) = TestDb::create().await;
        let mut config = Config {
            database_url: url,
            postgres_pool_size: 4,
            // Issuing certificates needs it; a test of the refusal sets it back to `None`.
            public_url: Some(TEST_PUBLIC_URL.into()),
            ..Config::default()
        };
        adjust(&mut config);
        let db = greenchip::db::open_and_migrate(&config)
            .await
            .expect("open and migrate");
        let state = AppState::new(db.clone(), config.clone());
        TestApp {
            router: greenchip::app(state),
            db,
            config,
            _test_db: std::sync::Arc::new(test_db),
        }
    }

    /// Another instance of the service on the same database, sharing nothing in memory:
    /// a second process behind the load balancer, or this one after a restart.
    pub fn another_instance(&self) -> TestApp {
        TestApp {
            router: greenchip::app(AppState::new(self.db.clone(), self.config.clone())),
            db: self.db.clone(),
            config: self.config.clone(),
            _test_db: self._test_db.clone(),
        }
    }

    pub fn request(&self, method: Method, path: &str) -> TestRequest<'_> {
        TestRequest {
            app: self,
            builder: Request::builder().method(method).uri(path),
            body: Body::empty(),
        }
    }

    pub fn get(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::POST, path)
    }

    /// Creates an account with the test password (a partner user gets a partner of its own).
    pub async fn user(&self, name: &str, role: Role) -> greenchip::entities::user::Model {
        let partner_id = match role {
            Role::Partner => {
                let fields = greenchip::services::partners::PartnerFields {
                    name: Some(format!("{name} (partner)")),
                    kind: Some(greenchip::domain::intake::PartnerKind::Company),
                    ..Default::default()
                };
                let partner = greenchip::services::partners::create(&self.db, fields, None)
                    .await
                    .expect("create partner");
                Some(partner.id)
            }
            _ => None,
        };
        let new = NewUser {
            name: name.to_string(),
            display_name: None,
            email: None,
            role,
            password: Some(PASSWORD.to_string()),
            partner_id,
        };
        users::create(&self.db, new, None)
            .await
            .expect("create user")
            .user
    }

    /// Registers a school partner and opens a collection for it through the API, as the
    /// staff member with this session cookie; answers the collection's code.
    pub async fn open_collection(&self, cookie: &str, partner_name: &str) -> String {
        let partner = self
            .post("/api/v1/partners")
            .cookie(cookie)
            .json(&serde_json::json!({ "name": partner_name, "kind": "school" }))
            .send()
            .await;
        assert_eq!(partner.status, StatusCode::CREATED, "{}", partner.text());
        let collection = self
            .post("/api/v1/collections")
            .cookie(cookie)
            .json(&serde_json::json!({ "partner_id": partner.json()["id"] }))
            .send()
            .await;
        assert_eq!(
            collection.status,
            StatusCode::CREATED,
            "{}",
            collection.text()
        );
        collection.json()["code"]
            .as_str()
            .expect("a code")
            .to_string()
    }

    /// Creates an account and logs it in; answers the session cookie (`gc_session=…`).
    pub async fn logged_in(&self, name: &str, role: Role) -> String {
        self.user(name, role).await;
        let response = self
            .post("/api/v1/auth/login")
            .json(&serde_json::json!({ "login": name, "password": PASSWORD }))
            .send()
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.session_cookie().expect("a session cookie")
    }
}

pub struct TestRequest<'a> {
    app: &'a TestApp,
    builder: axum::http::request::Builder,
    body: Body,
}

impl TestRequest<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    pub fn cookie(self, cookie: &str) -> Self {
        self.header("cookie", cookie)
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.builder = self
            .builder
            .header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(body.to_string());
        self
    }

    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        let encoded = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.builder = self
            .builder
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.body = Body::from(encoded);
        self
    }

    pub fn raw_body(mut self, content_type: Option<&str>, body: impl Into<Body>) -> Self {
        if let Some(content_type) = content_type {
            self.builder = self.builder.header(header::CONTENT_TYPE, content_type);
        }
        self.body = body.into();
        self
    }

    pub async fn send(self) -> TestResponse {
        let request = self.builder.body(self.body).expect("request");
        let response = self
            .app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts an RFC 9457 problem with this status and machine code; answers the document.
    pub fn problem(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.content_type(), "application/problem+json");
        let problem = self.json();
        assert_eq!(problem["code"], code, "{problem}");
        assert_eq!(problem["status"], status.as_u16());
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
        problem
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }

    /// `name=value` of a cookie this response sets (with a value).
    pub fn cookie_named(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .filter_map(|c| c.split(';').next().map(str::to_string))
            .find(|pair| pair.starts_with(&format!("{name}=")) && pair.len() > name.len() + 1)
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookie_named("gc_session")
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// A workshop to act in: a supervisor's session, one apprentice, one open collection.
pub struct Workshop {
    pub app: TestApp,
    pub supervisor: String,
    pub collection: String,
    pub badge: String,
    pub apprentice_id: String,
}

impl Workshop {
    pub async fn new() -> Workshop {
        Workshop::with(TestApp::spawn().await).await
    }

    pub async fn with(app: TestApp) -> Workshop {
        let supervisor = app.logged_in("samira", Role::Supervisor).await;
        let apprentice = app.user("youssef", Role::Apprentice).await;
        let collection = app.open_collection(&supervisor, "Lycée Ibn Sina").await;
        Workshop {
            app,
            supervisor,
            collection,
            badge: apprentice.badge_code.unwrap(),
            apprentice_id: apprentice.id.to_string(),
        }
    }

    pub async fn item(&self, kind: &str, mass_g: i64) -> String {
        let response = self
            .app
            .post(&format!("/api/v1/collections/{}/items", self.collection))
            .cookie(&self.supervisor)
            .json(&json!({ "kind": kind, "mass_g": mass_g, "serial": format!("SN-{mass_g}") }))
            .send()
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()["code"].as_str().unwrap().to_string()
    }

    /// A station of this kind with one enrolled device; answers (station code, device cookie).
    pub async fn station(&self, kind: &str) -> (String, String) {
        let created = self
            .app
            .post("/api/v1/stations")
            .cookie(&self.supervisor)
            .json(&json!({ "name": format!("{kind} bench"), "kind": kind }))
            .send()
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let code = created.json()["code"].as_str().unwrap().to_string();
        let enrolled = self
            .app
            .post(&format!("/api/v1/stations/{code}/devices"))
            .cookie(&self.supervisor)
            .json(&json!({ "name": "tablet" }))
            .send()
            .await;
        assert_eq!(enrolled.status, StatusCode::CREATED, "{}", enrolled.text());
        let device = enrolled
            .cookie_named("gc_station")
            .expect("a station cookie");
        (code, device)
    }

    pub async fn scan(&self, station: &(String, String), raw: &str, id: &str) -> TestResponse {
        self.app
            .post("/api/v1/scans")
            .cookie(&station.1)
            .json(&json!({ "station": station.0, "raw": raw, "client_scan_id": id, "device_time": "2026-11-29T08:00:00Z" }))
            .send()
            .await
    }

    pub async fn sign_in(&self, station: &(String, String)) {
        let signed = self
            .scan(station, &self.badge, &format!("badge-{}", station.0))
            .await
            .json();
        assert_eq!(signed["result"], "signed_in", "{signed}");
    }

    /// The supervisor sets their own PIN (to approve at a station); answers their badge code.
    pub async fn supervisor_pin(&self, pin: &str) -> String {
        let set = self
            .app
            .request(Method::PUT, "/api/v1/me/pin")
            .cookie(&self.supervisor)
            .json(&json!({ "pin": pin }))
            .send()
            .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.text());
        set.json()["badge_code"].as_str().unwrap().to_string()
    }

    pub async fn act(&self, station: &(String, String), body: Value) -> TestResponse {
        self.app
            .post("/api/v1/station/actions")
            .cookie(&station.1)
            .json(&body)
            .send()
            .await
    }
}
