//! Report benchmark: the monthly yield report and the supervisors' dashboard over a
//! synthetic history (`greenchip::synthetic`: items received through the year, dismantled,
//! stripped, melted and shipped through the real ledger, each stamped on its day).
//!
//! ```sh
//! cargo bench --bench reports                          # 100,000 items: target/bench-reports-100000.db
//! GREENCHIP_BENCH_ITEMS=1000000 cargo bench --bench reports      # the issue's size (slow to generate)
//! GREENCHIP_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/gc_reports cargo bench --bench reports
//! ```
//! Target (issue: supervisor dashboard): each under 200 ms with 1,000,000 items.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use greenchip::Config;
use greenchip::services::reports::{self, ReportQuery};
use greenchip::synthetic;

const RUNS: usize = 7;

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
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
    let mut yields = Vec::new();
    let mut shown = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let scope = reports::resolve(&db, &month).await.unwrap();
        let report = reports::yields(&db, &scope, greenchip::i18n::Lang::Fr)
            .await
            .unwrap();
        yields.push(started.elapsed());
        shown = Some(report);
    }
    let mut dashboards = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        reports::dashboard(&db).await.unwrap();
        dashboards.push(started.elapsed());
    }
    yields.sort();
    dashboards.sort();
    let report = shown.expect("a report");
    println!(
        "June: {} g received, {} g dismantled, {} g of ingot",
        report.intake_g, report.dismantled_g, report.copper.ingot_g
    );
    println!("| measurement | runs | median ms | worst ms | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| monthly yield report | {RUNS} | {:.0} | {:.0} | < 200 ms |",
        ms(yields[RUNS / 2]),
        ms(yields[RUNS - 1])
    );
    println!(
        "| dashboard figures | {RUNS} | {:.0} | {:.0} | < 200 ms |",
        ms(dashboards[RUNS / 2]),
        ms(dashboards[RUNS - 1])
    );
}
