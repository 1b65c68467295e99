//! Finishing a dismantling: the item's weighed fractions go into lots of their materials, the
//! difference to `weighing_variance` (or `process_loss`), all in one operation. The item ends
//! `dismantled` with nothing left in it.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::domain::ledger::OperationKind;
use crate::domain::lifecycle::{self, Action};
use crate::entities::item;
use crate::error::{AppError, AppResult};
use crate::services::events::{self, NewEvent};
use crate::services::flows::{
    self, FlowAnswer, Output, Override, OverrideRequest, Performer, ResidualTo,
};
use crate::services::ledger;
use crate::services::{actions, stations};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismantleRequest {
    /// The device's own id for this step: a retry returns the first answer.
    pub client_id: String,
    /// The item's code, as scanned.
    pub item: String,
    /// Each weighed fraction and the lot it went into.
    pub fractions: Vec<Output>,
    /// Where the difference goes (default `weighing_variance`).
    pub residual_to: Option<ResidualTo>,
    /// A supervisor accepting a weighing outside the tolerance.
    #[serde(rename = "override")]
    pub override_request: Option<OverrideRequest>,
    /// The station, when a supervisor records it from the pages or the API.
    pub station: Option<String>,
    pub device_time: Option<DateTime<Utc>>,
}

/// Finishes dismantling an item into its fractions.
pub async fn dismantle(
    db: &DatabaseConnection,
    performer: &Performer,
    tolerance_bp: u32,
    overridden: Option<Override>,
    request: DismantleRequest,
) -> AppResult<FlowAnswer> {
    let key = performer.key("dismantle", &request.client_id)?;
    let station = performer.require_station("the dismantling")?.clone();
    let posted = ledger::post_once(db, Some(&key), async |txn| {
        let found = actions::lock_item(txn, &request.item).await?;
        crate::services::certificates::refuse_if_certified(txn, found.collection_id).await?;
        let state = actions::state_of(&found);
        let kind = stations::kind_of(&station);
        let facts = actions::facts_of(txn, &found).await?;
        let next = lifecycle::transition(state, Action::FinishDismantling, kind, facts)
            .map_err(|refusal| actions::refused(&found, state, kind, facts, refusal))?;
        let holder = ledger::find_holder(txn, &found.code).await?;
        if holder.balance_g <= 0 {
            return Err(AppError::conflict(
                "nothing_to_dismantle",
                format!("{} holds no mass: correct its mass first", found.code),
            ));
        }
        let placed =
            flows::place_outputs(txn, performer, "fractions", &request.fractions, &|_| Ok(()))
                .await?;
        let residual = flows::residual_of(holder.balance_g, &placed, tolerance_bp);
        flows::within_tolerance(&found.code, residual, &station.kind, overridden.as_ref())?;
        let residual_to = request.residual_to.unwrap_or(ResidualTo::WeighingVariance);
        let movements = flows::movements_with_residual(
            txn,
            holder.id,
            &placed,
            residual.residual_g,
            residual_to,
        )
        .await?;
        let message = format!(
            "{} dismantled into {} fraction(s)",
            found.code,
            placed.len()
        );
        let mut operation = performer.operation(
            OperationKind::Dismantle,
            &key,
            overridden.as_ref(),
            movements,
        );
        operation.subjects = std::iter::once(found.code.clone())
            .chain(placed.iter().map(|p| p.lot.code.clone()))
            .collect();
        operation.payload = flows::payload(
            &found.code,
            &placed,
            Some(residual),
            overridden.as_ref(),
            &message,
            json!({ "residual_to": residual_to, "device_time": request.device_time }),
        );
        let posted = ledger::post_in(txn, operation).await?;

        let now = crate::clock::now();
        let mut changed: item::ActiveModel = found.clone().into();
        changed.state = Set(next.as_str().to_string());
        changed.update(txn).await?;
        actions::log_task(
            txn,
            &station,
            &performer.user,
            &found,
            Action::FinishDismantling,
            "dismantled".to_string(),
            request.device_time,
            now,
        )
        .await?;
        events::record(
            txn,
            NewEvent {
                station_id: Some(station.id),
                ..NewEvent::new("item.action", Some(performer.user.id))
            }
            .subject(found.code.clone())
            .payload(json!({
                "action": Action::FinishDismantling, "from": state, "to": next,
                "operation": posted.operation.id, "device_time": request.device_time,
            })),
        )
        .await?;
        Ok(posted)
    })
    .await?;
    flows::answer_of(db, &posted).await
}
