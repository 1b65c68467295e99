//! Work logs and training records: tasks with their durations (server time, corrections
//! applied), supervisors' corrections, and each apprentice's record and skills.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::lifecycle::StationKind;
use crate::domain::roles::Role;
use crate::entities::{
    equipment_kind, item, sanitisation_record, skill, station, task, task_correction, user,
};
use crate::error::{AppError, AppResult};
use crate::services::events::{self, NewEvent};
use crate::services::users;

/// A task as it stands once corrections are applied.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkLog {
    pub id: Uuid,
    pub apprentice_id: Uuid,
    pub apprentice: String,
    pub station_code: String,
    pub station_kind: String,
    pub item_code: Option<String>,
    pub activity: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// From the server's clock; none while the task is open.
    pub duration_s: Option<i64>,
    pub outcome: Option<String>,
    pub device_started_at: Option<DateTime<Utc>>,
    pub device_ended_at: Option<DateTime<Utc>>,
    /// Reasons of the corrections applied, oldest first.
    pub corrections: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WorkLogFilter {
    pub apprentice_id: Option<Uuid>,
    /// A station code.
    pub station: Option<String>,
    /// A station kind.
    pub kind: Option<StationKind>,
    /// Tasks started on or after this day.
    pub from: Option<NaiveDate>,
    /// Tasks started on or before this day.
    pub to: Option<NaiveDate>,
}

pub async fn list(conn: &impl ConnectionTrait, filter: WorkLogFilter) -> AppResult<Vec<WorkLog>> {
    let stations: HashMap<Uuid, station::Model> = station::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut query = task::Entity::find().order_by_asc(task::Column::StartedAt);
    if let Some(apprentice_id) = filter.apprentice_id {
        query = query.filter(task::Column::ApprenticeId.eq(apprentice_id));
    }
    if let Some(code) = &filter.station {
        let wanted = stations
            .values()
            .find(|s| s.code.eq_ignore_ascii_case(code.trim()));
        query = query.filter(task::Column::StationId.eq(wanted.map(|s| s.id).unwrap_or_default()));
    }
    if let Some(kind) = filter.kind {
        let ids: Vec<Uuid> = stations
            .values()
            .filter(|s| s.kind == kind.as_str())
            .map(|s| s.id)
            .collect();
        query = query.filter(task::Column::StationId.is_in(ids));
    }
    if let Some(from) = filter.from {
        query = query.filter(
            task::Column::StartedAt.gte(from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()),
        );
    }
    if let Some(to) = filter.to {
        let end = to
            .succ_opt()
            .unwrap_or(to)
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc();
        query = query.filter(task::Column::StartedAt.lt(end));
    }
    let tasks = query.all(conn).await?;
    let ids: Vec<Uuid> = tasks.iter().map(|t| t.id).collect();
    let mut corrections: HashMap<Uuid, Vec<task_correction::Model>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for correction in task_correction::Entity::find()
            .filter(task_correction::Column::TaskId.is_in(chunk.iter().copied()))
            .order_by_asc(task_correction::Column::At)
            .all(conn)
            .await?
        {
            corrections
                .entry(correction.task_id)
                .or_default()
                .push(correction);
        }
    }
    let people: HashMap<Uuid, String> = user::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let item_ids: Vec<Uuid> = tasks.iter().filter_map(|t| t.item_id).collect();
    let mut codes: HashMap<Uuid, String> = HashMap::new();
    for chunk in item_ids.chunks(500) {
        for found in item::Entity::find()
            .filter(item::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            codes.insert(found.id, found.code);
        }
    }
    Ok(tasks
        .into_iter()
        .map(|t| {
            let mut log = WorkLog {
                id: t.id,
                apprentice_id: t.apprentice_id,
                apprentice: people.get(&t.apprentice_id).cloned().unwrap_or_default(),
                station_code: stations
                    .get(&t.station_id)
                    .map(|s| s.code.clone())
                    .unwrap_or_default(),
                station_kind: stations
                    .get(&t.station_id)
                    .map(|s| s.kind.clone())
                    .unwrap_or_default(),
                item_code: t.item_id.and_then(|id| codes.get(&id).cloned()),
                activity: t.activity,
                started_at: t.started_at,
                ended_at: t.ended_at,
                duration_s: None,
                outcome: t.outcome,
                device_started_at: t.device_started_at,
                device_ended_at: t.device_ended_at,
                corrections: Vec::new(),
            };
            for correction in corrections.remove(&t.id).unwrap_or_default() {
                if let Some(started_at) = correction.started_at {
                    log.started_at = started_at;
                }
                if let Some(ended_at) = correction.ended_at {
                    log.ended_at = Some(ended_at);
                }
                if let Some(outcome) = correction.outcome {
                    log.outcome = Some(outcome);
                }
                log.corrections.push(correction.reason);
            }
            log.duration_s = log
                .ended_at
                .map(|end| (end - log.started_at).num_seconds().max(0));
            log
        })
        .collect())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskCorrectionRequest {
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub reason: String,
}

/// A supervisor's correction of a task: a new entry with a reason; the task stays as logged.
pub async fn correct(
    db: &DatabaseConnection,
    task_id: Uuid,
    request: TaskCorrectionRequest,
    author_id: Uuid,
) -> AppResult<()> {
    let reason = request.reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "a correction needs a reason"));
    }
    if request.started_at.is_none() && request.ended_at.is_none() && request.outcome.is_none() {
        return Err(AppError::invalid(
            "started_at",
            "correct at least one of started_at, ended_at, outcome",
        ));
    }
    let txn = begin_write(db).await?;
    let found = task::Entity::find_by_id(task_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no task {task_id}")))?;
    let start = request.started_at.unwrap_or(found.started_at);
    if let Some(end) = request.ended_at.or(found.ended_at)
        && end < start
    {
        return Err(AppError::invalid(
            "ended_at",
            "a task cannot end before it starts",
        ));
    }
    task_correction::ActiveModel {
        id: Set(Uuid::now_v7()),
        task_id: Set(found.id),
        started_at: Set(request.started_at),
        ended_at: Set(request.ended_at),
        outcome: Set(request.outcome.clone()),
        reason: Set(reason.to_string()),
        author_id: Set(author_id),
        at: Set(crate::clock::now()),
    }
    .insert(&txn)
    .await?;
    events::record(
        &txn,
        NewEvent::new("task.corrected", Some(author_id))
            .payload(json!({ "task_id": found.id, "reason": reason })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Levels of a skill at a station kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkillLevel {
    Introduced,
    Practising,
    Autonomous,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkillEntry {
    pub station_kind: String,
    pub level: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrainingRecord {
    pub apprentice_id: Uuid,
    pub name: String,
    pub badge_code: Option<String>,
    /// Hours of finished tasks by station kind.
    pub hours_by_station_kind: BTreeMap<String, f64>,
    /// Distinct items handled, by equipment kind.
    pub items_by_kind: BTreeMap<String, usize>,
    pub sanitisations: usize,
    /// Σ of the intake masses of the items handled.
    pub mass_handled_g: i64,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    /// The latest level per station kind.
    pub skills: Vec<SkillEntry>,
}

pub async fn training_record(
    conn: &impl ConnectionTrait,
    apprentice_id: Uuid,
) -> AppResult<TrainingRecord> {
    let apprentice = user::Entity::find_by_id(apprentice_id)
        .one(conn)
        .await?
        .filter(|u| users::role_of(u) == Role::Apprentice)
        .ok_or_else(|| AppError::not_found(format!("no apprentice {apprentice_id}")))?;
    let logs = list(
        conn,
        WorkLogFilter {
            apprentice_id: Some(apprentice_id),
            ..Default::default()
        },
    )
    .await?;
    let mut hours: BTreeMap<String, f64> = BTreeMap::new();
    for log in &logs {
        if let Some(seconds) = log.duration_s {
            *hours.entry(log.station_kind.clone()).or_default() += seconds as f64 / 3600.0;
        }
    }
    for value in hours.values_mut() {
        *value = (*value * 100.0).round() / 100.0;
    }
    let codes: Vec<String> = {
        let mut codes: Vec<String> = logs.iter().filter_map(|l| l.item_code.clone()).collect();
        codes.sort();
        codes.dedup();
        codes
    };
    let kinds: HashMap<Uuid, String> = equipment_kind::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|k| (k.id, k.code))
        .collect();
    let mut items_by_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut mass_handled_g = 0;
    for chunk in codes.chunks(500) {
        for found in item::Entity::find()
            .filter(item::Column::Code.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            *items_by_kind
                .entry(kinds.get(&found.kind_id).cloned().unwrap_or_default())
                .or_default() += 1;
            mass_handled_g += found.gross_mass_g;
        }
    }
    let sanitisations = sanitisation_record::Entity::find()
        .filter(sanitisation_record::Column::OperatorId.eq(apprentice_id))
        .all(conn)
        .await?
        .len();
    let mut latest: BTreeMap<String, SkillEntry> = BTreeMap::new();
    for entry in skill::Entity::find()
        .filter(skill::Column::ApprenticeId.eq(apprentice_id))
        .order_by_asc(skill::Column::At)
        .all(conn)
        .await?
    {
        latest.insert(
            entry.station_kind.clone(),
            SkillEntry {
                station_kind: entry.station_kind,
                level: entry.level,
                note: entry.note,
                at: entry.at,
            },
        );
    }
    Ok(TrainingRecord {
        apprentice_id,
        name: apprentice.display_name,
        badge_code: apprentice.badge_code,
        hours_by_station_kind: hours,
        items_by_kind,
        sanitisations,
        mass_handled_g,
        first_day: logs.first().map(|l| l.started_at.date_naive()),
        last_day: logs.iter().map(|l| l.started_at.date_naive()).max(),
        skills: latest.into_values().collect(),
    })
}

/// Records a supervisor's judgement of an apprentice's level at a station kind.
pub async fn set_skill(
    db: &DatabaseConnection,
    apprentice_id: Uuid,
    kind: StationKind,
    level: SkillLevel,
    note: Option<String>,
    supervisor_id: Uuid,
) -> AppResult<()> {
    let txn = begin_write(db).await?;
    let apprentice = user::Entity::find_by_id(apprentice_id)
        .one(&txn)
        .await?
        .filter(|u| users::role_of(u) == Role::Apprentice)
        .ok_or_else(|| AppError::not_found(format!("no apprentice {apprentice_id}")))?;
    let level_text = match level {
        SkillLevel::Introduced => "introduced",
        SkillLevel::Practising => "practising",
        SkillLevel::Autonomous => "autonomous",
    };
    skill::ActiveModel {
        id: Set(Uuid::now_v7()),
        apprentice_id: Set(apprentice.id),
        station_kind: Set(kind.as_str().to_string()),
        level: Set(level_text.to_string()),
        note: Set(note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty())),
        set_by: Set(supervisor_id),
        at: Set(crate::clock::now()),
    }
    .insert(&txn)
    .await?;
    events::record(
        &txn,
        NewEvent::new("apprentice.skill_set", Some(supervisor_id))
            .subject(apprentice.name)
            .payload(json!({ "station_kind": kind, "level": level_text })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
