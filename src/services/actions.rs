//! Actions on items at stations: the lifecycle rule applied in one transaction with the
//! sanitisation record, the ledger posting (reuse, whole shipment), the work log and the
//! audit event. A repeated client action id answers the first result.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::intake;
use crate::domain::ledger::{Account, Movement, OperationKind};
use crate::domain::lifecycle::{self, Action, Facts, ItemState, Refusal, Route, StationKind};
use crate::entities::{
    item, sanitisation_record, station, station_action, station_device, task, user,
};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::events::{self, NewEvent};
use crate::services::ledger::{self, NewOperation};
use crate::services::{items, stations};

/// NIST SP 800-88 sanitisation methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SanitisationMethod {
    Clear,
    Purge,
    Destroy,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SanitisationInput {
    pub method: SanitisationMethod,
    /// Software and version, degausser, drill or shredder.
    pub tool: String,
    pub verified: bool,
    /// How it was verified (e.g. "read-back of 10 % of sectors").
    pub verification: Option<String>,
    /// Whether the sanitisation succeeded.
    pub success: bool,
    /// A removed drive's own serial.
    pub drive_serial: Option<String>,
    pub notes: Option<String>,
}

/// What an apprentice asks for at a station.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// The device's own id for this action: a repeat returns the first answer.
    pub client_action_id: String,
    /// The item's code, as scanned.
    pub item: String,
    pub action: Action,
    /// For `triage`: the decision.
    pub decision: Option<Route>,
    /// For `triage`: why.
    pub reason: Option<String>,
    /// For `sanitise`.
    pub sanitisation: Option<SanitisationInput>,
    /// For `mark_reused`: donated to whom, sold, internal use.
    pub destination: Option<String>,
    /// For `finish_refurbishment`: e.g. `repaired`, `failed`.
    pub outcome: Option<String>,
    /// The device's clock when the action was taken (kept beside the server's).
    pub device_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActionAnswer {
    pub item: String,
    pub action: Action,
    pub state: ItemState,
    /// What may be done to the item at this station now.
    pub next_actions: Vec<Action>,
    pub message: String,
    /// True when this answers a repeat of an action already taken.
    pub replayed: bool,
}

/// The actions a station can take on an item here and now. Finishing a dismantling records
/// the fractions, which the dismantling flow does (not a plain action), so it is not offered.
pub fn offered_actions(state: ItemState, kind: StationKind, facts: Facts) -> Vec<Action> {
    lifecycle::allowed_actions(state, kind, facts)
        .into_iter()
        .filter(|action| *action != Action::FinishDismantling)
        .collect()
}

/// The facts the lifecycle rule needs about an item.
/// An item by its code with the facts the rules need, in one query (a scan's hot path).
pub async fn find_with_facts(
    conn: &impl ConnectionTrait,
    code: &str,
) -> AppResult<Option<(item::Model, Facts)>> {
    use sea_orm::sea_query::ExprTrait;
    #[derive(sea_orm::FromQueryResult)]
    struct WithFacts {
        #[sea_orm(nested)]
        item: item::Model,
        sanitised: bool,
    }
    let verified = sea_orm::sea_query::Query::select()
        .expr(sea_orm::sea_query::Expr::val(1))
        .from(sanitisation_record::Entity)
        .and_where(
            sea_orm::sea_query::Expr::col((
                sanitisation_record::Entity,
                sanitisation_record::Column::ItemId,
            ))
            .equals((item::Entity, item::Column::Id)),
        )
        .and_where(sanitisation_record::Column::Success.eq(true))
        .and_where(sanitisation_record::Column::Verified.eq(true))
        .to_owned();
    let found = item::Entity::find()
        .filter(item::Column::Code.eq(code))
        .column_as(sea_orm::sea_query::Expr::exists(verified), "sanitised")
        .into_model::<WithFacts>()
        .one(conn)
        .await?;
    Ok(found.map(|f| {
        let facts = facts_with(&f.item, f.sanitised);
        (f.item, facts)
    }))
}

/// The facts of an item, given whether a successful, verified sanitisation record exists
/// (only a data-bearing item's sanitisation matters to the rules and to the kiosk).
fn facts_with(found: &item::Model, verified_record: bool) -> Facts {
    Facts {
        data_bearing: found.data_bearing,
        sanitised: found.data_bearing && verified_record,
        route: found.route.as_deref().and_then(|r| r.parse().ok()),
        decision: None,
        record_ok: false,
    }
}

pub async fn facts_of(conn: &impl ConnectionTrait, found: &item::Model) -> AppResult<Facts> {
    // Only a data-bearing item's sanitisation matters to the rules (and to the kiosk).
    let sanitised = found.data_bearing
        && sanitisation_record::Entity::find()
            .filter(sanitisation_record::Column::ItemId.eq(found.id))
            .filter(sanitisation_record::Column::Success.eq(true))
            .filter(sanitisation_record::Column::Verified.eq(true))
            .one(conn)
            .await?
            .is_some();
    Ok(facts_with(found, sanitised))
}

pub fn state_of(found: &item::Model) -> ItemState {
    found.state.parse().unwrap_or(ItemState::Received)
}

/// Takes an action at a device's station for its signed-in apprentice.
pub async fn act(
    db: &DatabaseConnection,
    device: &station_device::Model,
    at_station: &station::Model,
    apprentice: &user::Model,
    request: ActionRequest,
) -> AppResult<ActionAnswer> {
    let client_id = request.client_action_id.trim().to_string();
    if client_id.is_empty() || client_id.len() > 100 {
        return Err(AppError::invalid(
            "client_action_id",
            "must be 1 to 100 characters",
        ));
    }
    if let Some(answer) = replay(db, device.id, &client_id).await? {
        return Ok(answer);
    }
    let txn = begin_write(db).await?;
    let outcome = act_in(&txn, device, at_station, apprentice, &request, &client_id).await;
    match outcome {
        Ok(answer) => {
            txn.commit().await?;
            Ok(answer)
        }
        Err(error) => {
            drop(txn);
            // A repeat racing the first: the first one's answer.
            if let AppError::Database(db_error) = &error
                && matches!(
                    db_error.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                )
                && let Some(answer) = replay(db, device.id, &client_id).await?
            {
                return Ok(answer);
            }
            Err(error)
        }
    }
}

async fn replay(
    conn: &impl ConnectionTrait,
    device_id: Uuid,
    client_id: &str,
) -> AppResult<Option<ActionAnswer>> {
    let found = station_action::Entity::find()
        .filter(station_action::Column::DeviceId.eq(device_id))
        .filter(station_action::Column::ClientActionId.eq(client_id))
        .one(conn)
        .await?;
    Ok(found
        .and_then(|row| serde_json::from_value::<ActionAnswer>(row.response).ok())
        .map(|answer| ActionAnswer {
            replayed: true,
            ..answer
        }))
}

pub async fn lock_item(txn: &DatabaseTransaction, reference: &str) -> AppResult<item::Model> {
    let found = items::find(txn, reference).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        // Two stations acting on one item: the second waits, then sees the new state.
        return item::Entity::find_by_id(found.id)
            .lock_exclusive()
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no item {reference}")));
    }
    Ok(found)
}

async fn act_in(
    txn: &DatabaseTransaction,
    device: &station_device::Model,
    at_station: &station::Model,
    apprentice: &user::Model,
    request: &ActionRequest,
    client_id: &str,
) -> AppResult<ActionAnswer> {
    let found = lock_item(txn, &request.item).await?;
    crate::services::certificates::refuse_if_certified(txn, found.collection_id).await?;
    let state = state_of(&found);
    let kind = stations::kind_of(at_station);
    let mut facts = facts_of(txn, &found).await?;
    facts.decision = request.decision;
    let mut errors = Vec::new();
    let sanitisation = match (request.action, &request.sanitisation) {
        (Action::Sanitise, Some(input)) => {
            let tool = intake::required_text("sanitisation/tool", &input.tool, 200, &mut errors);
            intake::optional_text(
                "sanitisation/verification",
                input.verification.as_deref(),
                500,
                &mut errors,
            );
            if input.verified
                && input
                    .verification
                    .as_deref()
                    .is_none_or(|v| v.trim().is_empty())
            {
                errors.push(FieldError::new(
                    "sanitisation/verification",
                    "say how it was verified",
                ));
            }
            facts.record_ok = input.success && input.verified;
            Some((input, tool))
        }
        (Action::Sanitise, None) => {
            errors.push(FieldError::new(
                "sanitisation",
                "a sanitisation record is required",
            ));
            None
        }
        _ => None,
    };
    if request.action == Action::Triage
        && request
            .reason
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        errors.push(FieldError::new("reason", "say why triage decided this"));
    }
    if request.action == Action::MarkReused
        && request
            .destination
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
    {
        errors.push(FieldError::new(
            "destination",
            "say where it goes: donated to whom, sold, internal use",
        ));
    }
    if request.action == Action::FinishDismantling {
        errors.push(FieldError::new(
            "action",
            "finishing a dismantling records its fractions: use the dismantling flow",
        ));
    }
    AppError::invalid_fields(errors)?;

    let next = lifecycle::transition(state, request.action, kind, facts)
        .map_err(|refusal| refused(&found, state, kind, facts, refusal))?;
    let now = crate::clock::now();
    let mut changed: item::ActiveModel = found.clone().into();
    changed.state = Set(next.as_str().to_string());
    if request.action == Action::Triage {
        changed.route = Set(request.decision.map(|r| r.as_str().to_string()));
    }
    let updated = changed.update(txn).await?;

    if let Some((input, tool)) = sanitisation {
        sanitisation_record::ActiveModel {
            id: Set(Uuid::now_v7()),
            item_id: Set(found.id),
            drive_serial: Set(input.drive_serial.clone().filter(|s| !s.trim().is_empty())),
            method: Set(match input.method {
                SanitisationMethod::Clear => "clear",
                SanitisationMethod::Purge => "purge",
                SanitisationMethod::Destroy => "destroy",
            }
            .to_string()),
            tool: Set(tool),
            verified: Set(input.verified),
            verification: Set(input.verification.clone().filter(|v| !v.trim().is_empty())),
            success: Set(input.success),
            operator_id: Set(apprentice.id),
            station_id: Set(Some(at_station.id)),
            at: Set(now),
            device_time: Set(request.device_time),
            notes: Set(input.notes.clone().filter(|n| !n.trim().is_empty())),
        }
        .insert(txn)
        .await?;
    }

    // Leaving whole: the item's mass leaves the workshop in the ledger too.
    let leaves_to = match request.action {
        Action::MarkReused => Some((Account::Reuse, OperationKind::Reuse)),
        Action::ShipWhole => Some((Account::Shipped, OperationKind::Ship)),
        _ => None,
    };
    if let Some((account, operation_kind)) = leaves_to {
        let holder = ledger::find_holder(txn, &found.code).await?;
        let destination = ledger::account(txn, account, None).await?;
        if holder.balance_g > 0 {
            let mut operation = NewOperation::new(
                operation_kind,
                Some(apprentice.id),
                vec![Movement::new(holder.id, destination.id, holder.balance_g)],
            );
            operation.station_id = Some(at_station.id);
            operation.subjects = vec![found.code.clone()];
            operation.payload = json!({ "destination": request.destination });
            ledger::post_in(txn, operation).await?;
        }
    }

    log_work(txn, at_station, apprentice, &found, request, now).await?;
    let answer = ActionAnswer {
        item: found.code.clone(),
        action: request.action,
        state: next,
        next_actions: offered_actions(next, kind, facts_of(txn, &updated).await?),
        message: format!("{} → {}", request.action, next),
        replayed: false,
    };
    station_action::ActiveModel {
        id: Set(Uuid::now_v7()),
        device_id: Set(device.id),
        station_id: Set(at_station.id),
        client_action_id: Set(client_id.to_string()),
        user_id: Set(Some(apprentice.id)),
        item_id: Set(found.id),
        action: Set(request.action.as_str().to_string()),
        at: Set(now),
        response: Set(serde_json::to_value(&answer).map_err(anyhow::Error::from)?),
    }
    .insert(txn)
    .await?;
    events::record(
        txn,
        NewEvent {
            station_id: Some(at_station.id),
            ..NewEvent::new("item.action", Some(apprentice.id))
        }
        .subject(found.code.clone())
        .payload(json!({
            "action": request.action, "from": state, "to": next, "decision": request.decision,
            "reason": request.reason, "destination": request.destination, "outcome": request.outcome,
            "device_time": request.device_time,
        })),
    )
    .await?;
    stations::touch(txn, device).await?;
    Ok(answer)
}

pub fn refused(
    found: &item::Model,
    state: ItemState,
    kind: StationKind,
    facts: Facts,
    refusal: Refusal,
) -> AppError {
    let allowed: Vec<&str> = offered_actions(state, kind, facts)
        .iter()
        .map(|a| a.as_str())
        .collect();
    let code = match refusal {
        Refusal::SanitisationNeeded => "sanitisation_needed",
        _ => "action_not_allowed",
    };
    let allowed = if allowed.is_empty() {
        "none".to_string()
    } else {
        allowed.join(", ")
    };
    AppError::conflict(
        code,
        format!(
            "{}: {refusal} (it is {state}; allowed here: {allowed})",
            found.code
        ),
    )
}

fn log_work<'a>(
    txn: &'a DatabaseTransaction,
    at_station: &'a station::Model,
    apprentice: &'a user::Model,
    found: &'a item::Model,
    request: &'a ActionRequest,
    now: DateTime<Utc>,
) -> impl Future<Output = AppResult<()>> + 'a {
    let outcome = request
        .outcome
        .clone()
        .or_else(|| request.decision.map(|d| d.as_str().to_string()))
        .or_else(|| request.destination.clone())
        .unwrap_or_else(|| request.action.as_str().to_string());
    log_task(
        txn,
        at_station,
        apprentice,
        found,
        request.action,
        outcome,
        request.device_time,
        now,
    )
}

/// Opens a task for long actions, closes it for finishing ones; quick actions are one task
/// from the person's scan of the item at this station to now.
#[allow(clippy::too_many_arguments)]
pub async fn log_task(
    txn: &DatabaseTransaction,
    at_station: &station::Model,
    apprentice: &user::Model,
    found: &item::Model,
    action: Action,
    outcome: String,
    device_time: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let activity = match action {
        Action::StartRefurbishment | Action::FinishRefurbishment | Action::MarkReused => {
            "refurbishment"
        }
        Action::StartDismantling | Action::FinishDismantling => "dismantling",
        other => other.as_str(),
    };
    let open = task::Entity::find()
        .filter(task::Column::ItemId.eq(found.id))
        .filter(task::Column::Activity.eq(activity))
        .filter(task::Column::EndedAt.is_null())
        .order_by_desc(task::Column::StartedAt)
        .one(txn)
        .await?;
    let finishing = !matches!(
        action,
        Action::StartRefurbishment | Action::StartDismantling
    );
    match (open, finishing) {
        (Some(open), true) => {
            let mut closing: task::ActiveModel = open.into();
            closing.ended_at = Set(Some(now));
            closing.outcome = Set(Some(outcome));
            closing.device_ended_at = Set(device_time);
            closing.update(txn).await?;
        }
        (Some(_), false) => {}
        (None, finishing) => {
            let started_at = if finishing {
                last_scan_of(txn, at_station.id, apprentice.id, &found.code)
                    .await?
                    .unwrap_or(now)
            } else {
                now
            };
            task::ActiveModel {
                id: Set(Uuid::now_v7()),
                apprentice_id: Set(apprentice.id),
                station_id: Set(at_station.id),
                item_id: Set(Some(found.id)),
                activity: Set(activity.to_string()),
                started_at: Set(started_at),
                ended_at: Set(finishing.then_some(now)),
                outcome: Set(finishing.then_some(outcome)),
                device_started_at: Set(if finishing { None } else { device_time }),
                device_ended_at: Set(if finishing { device_time } else { None }),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

async fn last_scan_of(
    conn: &impl ConnectionTrait,
    station_id: Uuid,
    user_id: Uuid,
    code: &str,
) -> AppResult<Option<DateTime<Utc>>> {
    use crate::entities::scan;
    Ok(scan::Entity::find()
        .filter(scan::Column::StationId.eq(station_id))
        .filter(scan::Column::UserId.eq(user_id))
        .filter(scan::Column::ResolvedCode.eq(code))
        .order_by_desc(scan::Column::At)
        .one(conn)
        .await?
        .map(|s| s.at))
}

/// Every sanitisation record of an item, oldest first.
pub async fn sanitisations_of(
    conn: &impl ConnectionTrait,
    item_id: Uuid,
) -> AppResult<Vec<sanitisation_record::Model>> {
    Ok(sanitisation_record::Entity::find()
        .filter(sanitisation_record::Column::ItemId.eq(item_id))
        .order_by_asc(sanitisation_record::Column::At)
        .all(conn)
        .await?)
}
