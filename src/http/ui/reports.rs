//! The yield report as a page: a period and filters, then each table with its CSV link.
//! Printable; numbers written the way the reader's language writes them.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::domain::roles::Role;
use crate::http::AppState;
use crate::http::extract::{Path, Query};
use crate::http::ui::{PageContext, Shell, render};
use crate::i18n::Lang;
use crate::services::reports::{self, ReportQuery, YieldReport};

const READERS: &[Role] = &[Role::Supervisor];

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    shell: Shell,
    report: YieldReport,
    /// The query string of this report, for the CSV links.
    query: String,
    partners: Vec<(String, String, bool)>,
    periods: Vec<(&'static str, String)>,
    /// The mass balance drawn as SVG (labels escaped by the renderer).
    sankey: String,
    /// Charts as SVG: intake and ingot per month, recovery by family, melt yield, hours.
    charts: Vec<String>,
}

impl ReportsPage {
    fn kg(&self, grams: impl std::borrow::Borrow<i64>) -> String {
        self.shell.lang.kg(*grams.borrow())
    }

    fn pct(&self, bp: impl std::borrow::Borrow<i64>) -> String {
        percent(self.shell.lang, *bp.borrow())
    }

    fn maybe_pct(&self, bp: impl std::borrow::Borrow<Option<i64>>) -> String {
        bp.borrow()
            .map(|bp| percent(self.shell.lang, bp))
            .unwrap_or_else(|| "—".into())
    }

    fn hours(&self, seconds: impl std::borrow::Borrow<i64>) -> String {
        let seconds = *seconds.borrow();
        self.shell
            .lang
            .decimal(&format!("{:.1}", seconds as f64 / 3600.0))
    }
}

/// Basis points as a percentage with two decimals, in the reader's number style.
pub fn percent(lang: Lang, bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    format!(
        "{}\u{a0}%",
        lang.decimal(&format!("{sign}{}.{:02}", bp.abs() / 100, bp.abs() % 100))
    )
}

fn query_string(query: &ReportQuery) -> String {
    let mut parts = Vec::new();
    if let Some(from) = query.from {
        parts.push(format!("from={from}"));
    }
    if let Some(to) = query.to {
        parts.push(format!("to={to}"));
    }
    if let Some(partner) = query.partner_id {
        parts.push(format!("partner_id={partner}"));
    }
    for (key, value) in [
        ("collection", &query.collection),
        ("kind", &query.kind),
        ("station", &query.station),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            let safe: String = value
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            parts.push(format!("{key}={safe}"));
        }
    }
    if let Some(apprentice) = query.apprentice_id {
        parts.push(format!("apprentice_id={apprentice}"));
    }
    parts.join("&")
}

pub async fn page(
    State(state): State<AppState>,
    context: PageContext,
    Query(query): Query<ReportQuery>,
) -> Response {
    if let Some(refused) = context.refusal(&state, READERS) {
        return refused;
    }
    // The report, the partners for its filter and the months it charts, read at once.
    let loaded = async {
        let scope = reports::resolve(&state.db, &query).await?;
        let partners = crate::services::partners::list(
            &state.db,
            crate::services::partners::PartnerFilter::default(),
            crate::services::Paging {
                page: Some(1),
                per_page: Some(500),
            },
        );
        tokio::try_join!(
            reports::yields(&state.db, &scope, context.lang),
            partners,
            reports::monthly(&state.db, scope.to, 12),
        )
    }
    .await;
    let (report, partners, months) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return context.app_error(&state, error),
    };
    let today = chrono::Utc::now().date_naive();
    let first_of_month = reports::first_of_month(today);
    let last_month_end = first_of_month - chrono::Duration::days(1);
    let last_month = reports::first_of_month(last_month_end);
    let week = today - chrono::Duration::days(6);
    let periods = vec![
        ("reports.today", format!("from={today}&to={today}")),
        ("reports.week", format!("from={week}&to={today}")),
        ("reports.month", format!("from={first_of_month}&to={today}")),
        (
            "reports.last_month",
            format!("from={last_month}&to={last_month_end}"),
        ),
    ];
    let lang = context.lang;
    let charts = charts(&report, &months, lang);
    let sankey = match report.mass_balance.sankey() {
        Ok(diagram) => diagram.svg(lang.t("reports.mass_balance"), |grams| lang.kg(grams)),
        Err(error) => {
            tracing::error!(%error, "the mass balance does not add up");
            String::new()
        }
    };
    render(&ReportsPage {
        charts,
        sankey,
        shell: context.shell(&state),
        query: query_string(&query),
        partners: partners
            .items
            .into_iter()
            .map(|p| {
                let chosen = query.partner_id == Some(p.id);
                (p.id.to_string(), p.name, chosen)
            })
            .collect(),
        periods,
        report,
    })
}

/// `/reports/<table>.csv`: one table as CSV, for the page's download links.
pub async fn csv(
    State(state): State<AppState>,
    context: PageContext,
    Path(table): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Response {
    if let Some(refused) = context.refusal(&state, READERS) {
        return refused;
    }
    match crate::http::api::reports::csv_response(&state, context.lang, &table, &query).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// The report's charts; one that cannot be drawn is left out and logged.
fn charts(report: &YieldReport, months: &[reports::MonthLine], lang: Lang) -> Vec<String> {
    use crate::render::charts;
    let kg = |grams: i64| grams as f64 / 1000.0;
    let mut families: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for line in &report.recovery {
        *families.entry(line.family.as_str()).or_default() += line.mass_g;
    }
    let drawn = [
        charts::bars(
            lang.t("reports.chart_intake"),
            "kg",
            &months
                .iter()
                .map(|m| (m.month.clone(), kg(m.intake_g)))
                .collect::<Vec<_>>(),
        ),
        charts::bars(
            lang.t("reports.chart_ingot"),
            "kg",
            &months
                .iter()
                .map(|m| (m.month.clone(), kg(m.ingot_g)))
                .collect::<Vec<_>>(),
        ),
        charts::bars(
            lang.t("reports.chart_recovery"),
            "kg",
            &families
                .iter()
                .map(|(family, grams)| {
                    (lang.t(&format!("family.{family}")).to_string(), kg(*grams))
                })
                .collect::<Vec<_>>(),
        ),
        charts::line(
            lang.t("reports.chart_melt_yield"),
            "%",
            100.0,
            &report
                .copper
                .melts
                .iter()
                .filter_map(|m| {
                    Some((
                        m.finished_on
                            .map_or_else(|| m.melt.clone(), |d| d.to_string()),
                        m.yield_bp? as f64 / 100.0,
                    ))
                })
                .collect::<Vec<_>>(),
        ),
        charts::bars(
            lang.t("reports.chart_hours"),
            "h",
            &report
                .apprentices
                .iter()
                .map(|a| (a.apprentice.clone(), a.worked_s as f64 / 3600.0))
                .collect::<Vec<_>>(),
        ),
    ];
    drawn
        .into_iter()
        .filter_map(|chart| {
            chart
                .map_err(|error| tracing::error!(%error, "a report chart failed"))
                .ok()
        })
        .collect()
}
