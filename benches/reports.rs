//! Report benchmark: the monthly yield report and the supervisors' dashboard over a
//! synthetic history (`greenchip::synthetic`: items received through the year, dismantled,
//! stripped, melted and shipped through the real ledger, each stamped on its day).
//!
//! ```sh
//! cargo bench --bench reports                          # 100,000 items: target/bench-reports-100000.db
//! GREENCHIP_BENCH_ITEMS=1000000 cargo bench --bench reports      # the issue's size (slow to generate)
//! GREENCHIP_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/gc_reports cargo bench --bench reports
//! ```
//! Target (issue: supervisor dashboard): each under 200 ms with 1,000,000 items. Besides the
//! two services it times the twelve months the report page charts, and the report and
//! dashboard pages themselves as a signed-in supervisor gets them from the router.

use std::future::Future;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use chrono::NaiveDate;
use greenchip::Config;
use greenchip::services::reports::{self, ReportQuery};
use greenchip::synthetic;

const RUNS: usize = 7;

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Runs `work` [`RUNS`] times and prints a table row: median and worst.
async fn time<F: Future<Output = ()>>(what: &str, mut work: impl FnMut() -> F) {
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        work().await;
        runs.push(started.elapsed());
    }
    runs.sort();
    println!(
        "| {what} | {RUNS} | {:.0} | {:.0} | < 200 ms |",
        ms(runs[RUNS / 2]),
        ms(runs[RUNS - 1])
    );
}

/// A page as a signed-in supervisor gets it: answers its size in bytes.
async fn page(router: &axum::Router, cookie: &str, path: &str) -> usize {
    let request = Request::get(path)
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .len()
}

/// Signs a new supervisor in through the router; answers the session cookie.
async fn supervisor(db: &sea_orm::DatabaseConnection, router: &axum::Router) -> String {
    let name = format!("bench-{}", uuid::Uuid::now_v7().simple());
    let password = "bench password, long enough";
    greenchip::services::users::create(
        db,
        greenchip::services::users::NewUser {
            name: name.clone(),
            display_name: None,
            email: None,
            role: greenchip::domain::roles::Role::Supervisor,
            password: Some(password.to_string()),
            partner_id: None,
        },
        None,
    )
    .await
    .unwrap();
    let request = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({ "login": name, "password": password }).to_string(),
        ))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gc_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_string()
}

#[tokio::main]
async fn main() {
    let items: usize = std::env::var("GREENCHIP_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let url = std::env::var("GREENCHIP_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target");
        format!("sqlite://{dir}/bench-reports-{items}.db")
    });
    let config = Config {
        database_url: url.clone(),
        ..Config::default()
    };
    let db = greenchip::db::open_and_migrate(&config)
        .await
        .expect("open the bench database");
    println!("database: {}", greenchip::db::redact(&url));
    if !synthetic::has_history(&db, items).await.unwrap() {
        let started = Instant::now();
        let made = synthetic::generate(&db, &synthetic::Spec::items(items))
            .await
            .unwrap();
        println!(
            "generated {} items, {} operations, {} movements in {:.0} s",
            made.items,
            made.operations,
            made.movements,
            started.elapsed().as_secs_f64()
        );
    }
    // June: a month in the middle of the synthetic year.
    let month = ReportQuery {
        from: NaiveDate::from_ymd_opt(2026, 6, 1),
        to: NaiveDate::from_ymd_opt(2026, 6, 30),
        ..Default::default()
    };
    let scope = reports::resolve(&db, &month).await.unwrap();
    let report = reports::yields(&db, &scope, greenchip::i18n::Lang::Fr)
        .await
        .unwrap();
    println!(
        "June: {} g received, {} g dismantled, {} g of ingot",
        report.intake_g, report.dismantled_g, report.copper.ingot_g
    );
    println!("| measurement | runs | median ms | worst ms | target |");
    println!("|---|---|---|---|---|");
    time("monthly yield report", || async {
        let scope = reports::resolve(&db, &month).await.unwrap();
        reports::yields(&db, &scope, greenchip::i18n::Lang::Fr)
            .await
            .unwrap();
    })
    .await;
    time("dashboard figures", || async {
        reports::dashboard(&db).await.unwrap();
    })
    .await;
    let june_30 = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    time("twelve months charted (report page)", || async {
        reports::monthly(&db, june_30, 12).await.unwrap();
    })
    .await;
    let router = greenchip::app(greenchip::AppState::new(db.clone(), config.clone()));
    let cookie = supervisor(&db, &router).await;
    time("report page, June (`/reports`)", || async {
        page(&router, &cookie, "/reports?from=2026-06-01&to=2026-06-30").await;
    })
    .await;
    time("dashboard page (`/`)", || async {
        page(&router, &cookie, "/").await;
    })
    .await;
}
