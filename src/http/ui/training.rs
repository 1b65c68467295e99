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
        Ok::<_, AppError>((record, logs))
    }
    .await;
    let (record, mut logs) = match loaded {
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
    let page = TrainingPage {
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
