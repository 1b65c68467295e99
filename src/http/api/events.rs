//! Reading the audit log. There is deliberately no route that changes or removes an event.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::roles::Role;
use crate::entities::event;
use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::auth::CurrentUser;
use crate::http::extract::{Json, Query};
use crate::services::events::{self, EventFilter};
use crate::services::{MAX_PER_PAGE, in_range};

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    id: Uuid,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    station_id: Option<Uuid>,
    kind: String,
    subjects: serde_json::Value,
    payload: serde_json::Value,
}

impl From<event::Model> for EventView {
    fn from(event: event::Model) -> EventView {
        EventView {
            id: event.id,
            at: event.at,
            actor_id: event.actor_id,
            station_id: event.station_id,
            kind: event.kind,
            subjects: event.subjects,
            payload: event.payload,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Only events of this kind, e.g. `user.created`.
    kind: Option<String>,
    /// Only events by this user.
    actor_id: Option<Uuid>,
    /// Only events older than this event id (the last id of the previous page).
    before: Option<Uuid>,
    /// At most this many (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
}

/// The audit log, newest first (supervisors and admins).
#[utoipa::path(get, path = "/events", tag = "audit", params(EventQuery),
    responses((status = 200, body = [EventView]), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<EventQuery>,
) -> AppResult<Json<Vec<EventView>>> {
    current.require(&[Role::Supervisor])?;
    let found = events::list(
        &state.db,
        EventFilter {
            kind: query.kind,
            actor_id: query.actor_id,
            before: query.before,
            limit: in_range("limit", query.limit, 1, MAX_PER_PAGE)?.unwrap_or(100),
        },
    )
    .await?;
    Ok(Json(found.into_iter().map(EventView::from).collect()))
}
