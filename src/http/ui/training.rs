//! An apprentice's training record as a page: hours by station kind, items handled, the
//! work log with durations, and the skills matrix a supervisor keeps. Printable.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::lifecycle::StationKind;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::http::AppState;
use crate::http::extract::{Form, Path};
use crate::http::ui::{PageContext, Shell, render};
use crate::services::worklogs::{self, SkillLevel, TrainingRecord, WorkLog, WorkLogFilter};

/// One row of the skills matrix.
pub struct SkillRow {
    pub kind: &'static str,
    pub label: &'static str,
    pub level: Option<String>,
    pub note: String,
    pub hours: String,
}

#[derive(Template)]
#[template(path = "training.html")]
struct TrainingPage {
    shell: Shell,
    record: TrainingRecord,
    skills: Vec<SkillRow>,
    logs: Vec<WorkLog>,
    mass: String,
    can_edit: bool,
    /// Until when the apprentice's badge is locked after wrong PINs, if it is.
    locked_until: Option<chrono::DateTime<chrono::Utc>>,
    /// Hours per month and loss at dismantling per month, as SVG.
    charts: Vec<String>,
}

pub async fn page(
    State(state): State<AppState>,
    context: PageContext,
    Path(id): Path<Uuid>,
) -> Response {
    let own = context.current.user.id == id;
    if !own && let Some(refused) = context.refusal(&state, &[Role::Supervisor]) {
        return refused;
    }
    let loaded = async {
        let record = worklogs::training_record(&state.db, id).await?;
        let logs = worklogs::list(
            &state.db,
            WorkLogFilter {
                apprentice_id: Some(id),
                ..Default::default()
            },
        )
        .await?;
        let locked_until = crate::services::badge_locks::locked_until(&state.db, id).await?;
        Ok::<_, AppError>((record, logs, locked_until))
    }
    .await;
    let (record, mut logs, locked_until) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return context.app_error(&state, error),
    };
    logs.reverse();
    let shell = context.shell(&state);
    let skills = StationKind::ALL
        .iter()
        .map(|kind| {
            let entry = record
                .skills
                .iter()
                .find(|s| s.station_kind == kind.as_str());
            SkillRow {
                kind: kind.as_str(),
                label: shell.tk("station_kind", kind.as_str()),
                level: entry.map(|s| s.level.clone()),
                note: entry.and_then(|s| s.note.clone()).unwrap_or_default(),
                hours: record
                    .hours_by_station_kind
                    .get(kind.as_str())
                    .map(|h| context.lang.decimal(&format!("{h:.2}")))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let charts = match crate::services::reports::trend(&state.db, id, 6).await {
        Ok(months) => trend_charts(&months, context.lang),
        Err(error) => return context.app_error(&state, error),
    };
    let page = TrainingPage {
        charts,
        locked_until,
        mass: context.lang.kg(record.mass_handled_g),
        can_edit: context.current.role.is_any_of(&[Role::Supervisor]),
        shell,
        record,
        skills,
        logs,
    };
    render(&page)
}

#[derive(Debug, Deserialize)]
pub struct SkillForm {
    csrf: String,
    station_kind: String,
    level: String,
    #[serde(default)]
    note: String,
}

pub async fn set_skill(
    State(state): State<AppState>,
    context: PageContext,
    Path(id): Path<Uuid>,
    Form(form): Form<SkillForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, &[Role::Supervisor], &form.csrf) {
        return refused;
    }
    let kind = form.station_kind.parse::<StationKind>();
    let level = match form.level.as_str() {
        "introduced" => Some(SkillLevel::Introduced),
        "practising" => Some(SkillLevel::Practising),
        "autonomous" => Some(SkillLevel::Autonomous),
        _ => None,
    };
    let (Ok(kind), Some(level)) = (kind, level) else {
        return context.app_error(
            &state,
            AppError::invalid("level", "choose a station kind and a level"),
        );
    };
    match worklogs::set_skill(
        &state.db,
        id,
        kind,
        level,
        Some(form.note),
        context.current.user.id,
    )
    .await
    {
        Ok(()) => Redirect::to(&format!("/apprentices/{id}")).into_response(),
        Err(error) => context.app_error(&state, error),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// A supervisor unlocks the apprentice's badge after too many wrong PINs.
pub async fn unlock_badge(
    State(state): State<AppState>,
    context: PageContext,
    Path(id): Path<Uuid>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, &[Role::Supervisor], &form.csrf) {
        return refused;
    }
    match crate::services::badge_locks::unlock(&state.db, id, context.current.user.id).await {
        Ok(()) => Redirect::to(&format!("/apprentices/{id}")).into_response(),
        Err(error) => context.app_error(&state, error),
    }
}

/// One apprentice as a row of the cohort overview.
pub struct CohortRow {
    pub id: Uuid,
    pub name: String,
    pub days: String,
    pub hours: String,
    /// Hours per station kind, in the order of [`StationKind::ALL`].
    pub by_kind: Vec<String>,
    /// The latest level per station kind, same order.
    pub levels: Vec<Option<String>>,
    pub items: usize,
    pub sanitisations: usize,
    pub dismantled: String,
    pub rate: String,
    /// Loses more at dismantling than the cohort's median: practice with a supervisor.
    pub needs_practice: bool,
}

#[derive(Template)]
#[template(path = "cohort.html")]
struct CohortPage {
    shell: Shell,
    kinds: Vec<&'static str>,
    rows: Vec<CohortRow>,
    trend_days: i64,
}

/// `/apprentices`: the cohort at a glance, printable.
pub async fn cohort(State(state): State<AppState>, context: PageContext) -> Response {
    if let Some(refused) = context.refusal(&state, &[Role::Supervisor]) {
        return refused;
    }
    let lines = match crate::services::reports::cohort(&state.db).await {
        Ok(lines) => lines,
        Err(error) => return context.app_error(&state, error),
    };
    let lang = context.lang;
    let mut rates: Vec<i64> = lines.iter().filter_map(|l| l.dismantling_rate_bp).collect();
    rates.sort_unstable();
    // The lower median: of two apprentices, the one losing more is flagged.
    let median = rates.get(rates.len().saturating_sub(1) / 2).copied();
    let shell = context.shell(&state);
    let rows = lines
        .into_iter()
        .map(|line| {
            let record = &line.record;
            CohortRow {
                id: record.apprentice_id,
                name: record.name.clone(),
                days: match (record.first_day, record.last_day) {
                    (Some(first), Some(last)) => format!("{first} → {last}"),
                    _ => "–".into(),
                },
                hours: lang.decimal(&format!("{:.1}", line.hours)),
                by_kind: StationKind::ALL
                    .iter()
                    .map(|kind| {
                        record
                            .hours_by_station_kind
                            .get(kind.as_str())
                            .map(|h| lang.decimal(&format!("{h:.1}")))
                            .unwrap_or_default()
                    })
                    .collect(),
                levels: StationKind::ALL
                    .iter()
                    .map(|kind| {
                        record
                            .skills
                            .iter()
                            .find(|s| s.station_kind == kind.as_str())
                            .map(|s| s.level.clone())
                    })
                    .collect(),
                items: record.items_by_kind.values().sum(),
                sanitisations: record.sanitisations,
                dismantled: lang.kg(line.dismantled_g),
                rate: line
                    .dismantling_rate_bp
                    .map(|bp| crate::http::ui::reports::percent(lang, bp))
                    .unwrap_or_else(|| "–".into()),
                needs_practice: rates.len() > 1
                    && line
                        .dismantling_rate_bp
                        .zip(median)
                        .is_some_and(|(rate, median)| rate > median),
            }
        })
        .collect();
    render(&CohortPage {
        kinds: StationKind::ALL
            .iter()
            .map(|kind| shell.tk("station_kind", kind.as_str()))
            .collect(),
        shell,
        rows,
        trend_days: crate::services::reports::TREND_DAYS,
    })
}

/// An apprentice's months as charts: hours worked, and loss at dismantling.
fn trend_charts(
    months: &[crate::services::reports::TrendLine],
    lang: crate::i18n::Lang,
) -> Vec<String> {
    use crate::render::charts;
    let rates: Vec<(String, f64)> = months
        .iter()
        .filter_map(|m| Some((m.month.clone(), m.dismantling_rate_bp? as f64 / 100.0)))
        .collect();
    let top = rates.iter().map(|(_, r)| *r).fold(5.0, f64::max) * 1.2;
    [
        charts::bars(
            lang.t("training.trend_hours"),
            "h",
            &months
                .iter()
                .map(|m| (m.month.clone(), m.hours))
                .collect::<Vec<_>>(),
        ),
        charts::line(lang.t("training.trend_rate"), "%", top, &rates),
    ]
    .into_iter()
    .filter_map(|chart| {
        chart
            .map_err(|error| tracing::error!(%error, "a training chart failed"))
            .ok()
    })
    .collect()
}
