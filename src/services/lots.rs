//! Lots and sorting: opening a lot, moving mass between lots (split, merge, regrade), reweighing
//! a lot, closing and reopening it, and what a lot holds and went through.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::ledger::{Account, Basis, Movement, OperationKind};
use crate::domain::lots::LotState;
use crate::domain::tolerance::{self, Residual};
use crate::entities::{holder, lot, material, melt, station};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::events::{self, NewEvent};
use crate::services::flows::{
    self, FlowAnswer, Output, Override, OverrideRequest, Performer, ResidualTo, Typed,
};
use crate::services::ledger;
use crate::services::ledger::holders::{HistoryLine, HolderDetail};
use crate::services::{Page, Paging, catalogue, paginate};

/// A lot as its page and the API show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotView {
    pub code: String,
    pub material: String,
    pub material_name_en: String,
    pub material_name_fr: String,
    pub family: String,
    pub hazardous: bool,
    pub state: LotState,
    pub station: Option<String>,
    pub tare_g: Option<i64>,
    pub pieces: Option<i32>,
    /// The melt an ingot or dross came from.
    pub melt: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub balance_g: i64,
    /// Where its mass came from, by collection and partner (mass-balance attribution).
    pub holder: HolderDetail,
    pub history: Vec<HistoryLine>,
}

/// One lot in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotRow {
    pub code: String,
    pub material: String,
    pub state: LotState,
    pub station: Option<String>,
    pub balance_g: i64,
    pub opened_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct LotFilter {
    /// A material code, e.g. `PCB-HIGH`.
    pub material: Option<String>,
    /// `open`, `closed`, `emptied`, `shipped`.
    pub state: Option<String>,
    /// The station's code.
    pub station: Option<String>,
}

pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &LotFilter,
    paging: Paging,
) -> AppResult<Page<LotRow>> {
    let mut query = lot::Entity::find().order_by_desc(lot::Column::OpenedAt);
    if let Some(code) = filter.material.as_deref().filter(|c| !c.is_empty()) {
        let found = catalogue::material(conn, code).await?;
        query = query.filter(lot::Column::MaterialId.eq(found.id));
    }
    if let Some(state) = filter.state.as_deref().filter(|s| !s.is_empty()) {
        let state: LotState = state
            .parse()
            .map_err(|message: String| AppError::invalid("state", message))?;
        query = query.filter(lot::Column::State.eq(state.as_str()));
    }
    if let Some(code) = filter.station.as_deref().filter(|c| !c.is_empty()) {
        let found = crate::services::stations::find(conn, code).await?;
        query = query.filter(lot::Column::StationId.eq(found.id));
    }
    let page = paginate(conn, query, paging).await?;
    let rows = rows_of(conn, page.items.clone()).await?;
    let mut rows = rows.into_iter();
    Ok(page.map(|_| rows.next().expect("one row per lot")))
}

/// Rows for lots, in the order given.
pub async fn rows_of(conn: &impl ConnectionTrait, lots: Vec<lot::Model>) -> AppResult<Vec<LotRow>> {
    let ids: Vec<Uuid> = lots.iter().map(|l| l.id).collect();
    let balances: std::collections::HashMap<Uuid, i64> = holder::Entity::find()
        .filter(holder::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|h| (h.id, h.balance_g))
        .collect();
    let materials: std::collections::HashMap<Uuid, String> = material::Entity::find()
        .filter(material::Column::Id.is_in(lots.iter().map(|l| l.material_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.id, m.code))
        .collect();
    let stations: std::collections::HashMap<Uuid, String> = station::Entity::find()
        .filter(station::Column::Id.is_in(lots.iter().filter_map(|l| l.station_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.id, s.code))
        .collect();
    lots.into_iter()
        .map(|l| {
            Ok(LotRow {
                balance_g: balances.get(&l.id).copied().unwrap_or(0),
                material: materials.get(&l.material_id).cloned().unwrap_or_default(),
                station: l.station_id.and_then(|id| stations.get(&id).cloned()),
                state: l.state.parse().map_err(anyhow::Error::msg)?,
                code: l.code,
                opened_at: l.opened_at,
            })
        })
        .collect()
}

/// The open lots at a station, the oldest first: the bins the kiosk offers.
pub async fn open_at(conn: &impl ConnectionTrait, station_id: Uuid) -> AppResult<Vec<LotRow>> {
    let lots = lot::Entity::find()
        .filter(lot::Column::StationId.eq(station_id))
        .filter(lot::Column::State.eq(LotState::Open.as_str()))
        .order_by_asc(lot::Column::OpenedAt)
        .all(conn)
        .await?;
    rows_of(conn, lots).await
}

pub async fn view(conn: &impl ConnectionTrait, reference: &str) -> AppResult<LotView> {
    let (found, material) = flows::find_lot(conn, reference).await?;
    let holder = ledger::holders::describe(conn, &found.code).await?;
    let history = ledger::holders::history(conn, found.id, 200).await?;
    let station = match found.station_id {
        Some(id) => station::Entity::find_by_id(id)
            .one(conn)
            .await?
            .map(|s| s.code),
        None => None,
    };
    let melt = match found.melt_id {
        Some(id) => melt::Entity::find_by_id(id)
            .one(conn)
            .await?
            .map(|m| m.code),
        None => None,
    };
    Ok(LotView {
        code: found.code,
        material: material.code,
        material_name_en: material.name_en,
        material_name_fr: material.name_fr,
        family: material.family,
        hazardous: material.hazardous,
        state: found.state.parse().map_err(anyhow::Error::msg)?,
        station,
        tare_g: found.tare_g,
        pieces: found.pieces,
        melt,
        opened_at: found.opened_at,
        closed_at: found.closed_at,
        balance_g: holder.balance_g,
        holder,
        history,
    })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenLotRequest {
    /// The device's own id for this step: a retry returns the lot first opened.
    pub client_id: String,
    pub material: String,
    /// The empty container's mass, in grams.
    pub tare_g: Option<i64>,
    /// The station, when a supervisor opens it from the pages or the API.
    pub station: Option<String>,
}

/// Opens an empty lot (a new bin) of a material at the performer's station.
pub async fn open(
    db: &DatabaseConnection,
    performer: &Performer,
    request: OpenLotRequest,
) -> AppResult<LotView> {
    let key = performer.key("lot", &request.client_id)?;
    if let Some(found) = by_client_key(db, &key).await? {
        return view(db, &found.code).await;
    }
    let material = catalogue::material(db, &request.material)
        .await
        .map_err(|e| match e {
            AppError::NotFound(detail) => AppError::invalid("material", detail),
            other => other,
        })?;
    if !material.active {
        return Err(AppError::invalid(
            "material",
            format!("{} is no longer in use", material.code),
        ));
    }
    if let Some(tare) = request.tare_g
        && !(0..=crate::domain::mass::MAX_MASS_G).contains(&tare)
    {
        return Err(AppError::invalid("tare_g", "a tare is 0 to 2,000,000 g"));
    }
    let txn = begin_write(db).await?;
    let opened = match flows::open_lot(
        &txn,
        performer,
        &material,
        request.tare_g,
        None,
        Some(key.clone()),
    )
    .await
    {
        Ok(opened) => opened,
        Err(AppError::Database(error)) if ledger::is_unique_violation(&error) => {
            drop(txn);
            let found = by_client_key(db, &key)
                .await?
                .ok_or(AppError::Database(error))?;
            return view(db, &found.code).await;
        }
        Err(error) => return Err(error),
    };
    events::record(
        &txn,
        NewEvent {
            station_id: performer.station_id(),
            ..NewEvent::new("lot.opened", Some(performer.user.id))
        }
        .subject(opened.code.clone())
        .payload(json!({ "material": material.code, "tare_g": request.tare_g })),
    )
    .await?;
    txn.commit().await?;
    view(db, &opened.code).await
}

async fn by_client_key(conn: &impl ConnectionTrait, key: &str) -> AppResult<Option<lot::Model>> {
    Ok(lot::Entity::find()
        .filter(lot::Column::ClientKey.eq(key))
        .one(conn)
        .await?)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotStateRequest {
    /// Required to reopen a lot.
    pub reason: Option<String>,
}

/// Closes an open lot (a full bin): it then only gives mass out. Closing a closed lot is a
/// no-op, so a retry is harmless.
pub async fn close(
    db: &DatabaseConnection,
    performer: &Performer,
    reference: &str,
) -> AppResult<LotView> {
    set_state(db, performer, reference, LotState::Closed, None).await
}

/// Reopens a closed lot, with a reason.
pub async fn reopen(
    db: &DatabaseConnection,
    performer: &Performer,
    reference: &str,
    reason: Option<&str>,
) -> AppResult<LotView> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let Some(reason) = reason else {
        return Err(AppError::invalid("reason", "say why the lot is reopened"));
    };
    if reason.chars().count() > 500 {
        return Err(AppError::invalid("reason", "at most 500 characters"));
    }
    set_state(db, performer, reference, LotState::Open, Some(reason)).await
}

async fn set_state(
    db: &DatabaseConnection,
    performer: &Performer,
    reference: &str,
    to: LotState,
    reason: Option<&str>,
) -> AppResult<LotView> {
    let txn = begin_write(db).await?;
    let (found, _) = flows::find_lot(&txn, reference).await?;
    let found = flows::lock_sources(&txn, &[found.id])
        .await?
        .remove(&found.id)
        .unwrap_or(found);
    let from: LotState = found.state.parse().map_err(anyhow::Error::msg)?;
    if from != to {
        if to == LotState::Open && found.pieces == Some(1) {
            return Err(AppError::conflict(
                "lot_is_ingot",
                format!("{} is an ingot: nothing can be added to it", found.code),
            ));
        }
        let code = found.code.clone();
        let mut changed: lot::ActiveModel = found.into();
        changed.state = Set(to.as_str().to_string());
        changed.closed_at = Set((to == LotState::Closed).then(Utc::now));
        changed.update(&txn).await?;
        events::record(
            &txn,
            NewEvent {
                station_id: performer.station_id(),
                ..NewEvent::new(
                    if to == LotState::Open {
                        "lot.reopened"
                    } else {
                        "lot.closed"
                    },
                    Some(performer.user.id),
                )
            }
            .subject(code)
            .payload(json!({ "from": from, "to": to, "reason": reason })),
        )
        .await?;
    }
    txn.commit().await?;
    view(db, reference).await
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The device's own id for this step: a retry returns the first answer.
    pub client_id: String,
    /// How much is taken out of the lot, in grams or kilograms; all of it when neither is given.
    pub mass_g: Option<Typed>,
    pub mass_kg: Option<Typed>,
    /// Where it went, weighed: the same material (a split or merge) or another (a regrade,
    /// e.g. `CU-CABLE` → `CU-WIRE` and `PL-MIX` after stripping).
    pub outputs: Vec<Output>,
    /// Where the difference goes: `weighing_variance` (scale noise, the default, held to the
    /// tolerance) or `process_loss` (real loss such as stripped insulation).
    pub residual_to: Option<ResidualTo>,
    #[serde(rename = "override")]
    pub override_request: Option<OverrideRequest>,
    pub station: Option<String>,
}

/// Moves mass out of a lot into other lots, in one operation.
pub async fn transfer(
    db: &DatabaseConnection,
    performer: &Performer,
    tolerance_bp: u32,
    overridden: Option<Override>,
    reference: &str,
    request: TransferRequest,
) -> AppResult<FlowAnswer> {
    let key = performer.key("transfer", &request.client_id)?;
    let mut errors = Vec::new();
    let taken = flows::weighed_or_all(
        "mass",
        request.mass_g.as_ref(),
        request.mass_kg.as_ref(),
        &mut errors,
    );
    AppError::invalid_fields(errors)?;
    let taken = taken.flatten();
    let posted = ledger::post_once(db, Some(&key), async |txn| {
        let (found, _) = flows::find_lot(txn, reference).await?;
        let mut sources = flows::lock_sources(txn, &[found.id]).await?;
        let source = sources.remove(&found.id).unwrap_or(found);
        let holder = ledger::find_holder(txn, &source.code).await?;
        let input_g = taken.unwrap_or(holder.balance_g);
        if input_g <= 0 || input_g > holder.balance_g {
            return Err(AppError::conflict(
                "not_enough_in_lot",
                format!(
                    "{} holds {} kg; {} kg cannot be taken from it",
                    source.code,
                    crate::domain::mass::kilograms(holder.balance_g),
                    crate::domain::mass::kilograms(input_g),
                ),
            ));
        }
        let placed =
            flows::place_outputs(txn, performer, "outputs", &request.outputs, &|_| Ok(())).await?;
        if placed.iter().any(|p| p.lot.id == source.id) {
            return Err(AppError::invalid(
                "outputs",
                format!("{} cannot go into itself", source.code),
            ));
        }
        let residual_to = request.residual_to.unwrap_or(ResidualTo::WeighingVariance);
        let residual = flows::residual_of(input_g, &placed, tolerance_bp);
        // Stripping loses real mass: only outputs weighing more than went in are held to
        // the tolerance then.
        let checked = if residual_to == ResidualTo::ProcessLoss && residual.residual_g >= 0 {
            Residual {
                within: true,
                ..residual
            }
        } else {
            residual
        };
        flows::within_tolerance(
            &source.code,
            checked,
            performer.station_kind_or("sorting"),
            overridden.as_ref(),
        )?;
        let movements = flows::movements_with_residual(
            txn,
            source.id,
            &placed,
            residual.residual_g,
            residual_to,
        )
        .await?;
        let message = format!(
            "{} kg from {} into {}",
            crate::domain::mass::kilograms(input_g),
            source.code,
            placed
                .iter()
                .map(|p| p.lot.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut operation = performer.operation(
            OperationKind::Transfer,
            &key,
            overridden.as_ref(),
            movements,
        );
        operation.subjects = std::iter::once(source.code.clone())
            .chain(placed.iter().map(|p| p.lot.code.clone()))
            .collect();
        operation.payload = flows::payload(
            &source.code,
            &placed,
            Some(residual),
            overridden.as_ref(),
            &message,
            json!({ "residual_to": residual_to, "taken_g": input_g }),
        );
        let posted = ledger::post_in(txn, operation).await?;
        flows::settle_sources(txn, [source], false).await?;
        Ok(posted)
    })
    .await?;
    flows::answer_of(db, &posted).await
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReweighRequest {
    pub client_id: String,
    /// What the scale reads, container included when the lot has a tare.
    pub reading_g: Option<Typed>,
    pub reading_kg: Option<Typed>,
    #[serde(rename = "override")]
    pub override_request: Option<OverrideRequest>,
    pub station: Option<String>,
}

/// Reweighs a lot: the difference from its balance goes to or comes from `weighing_variance`,
/// and the scale reading is kept with the operation.
pub async fn reweigh(
    db: &DatabaseConnection,
    performer: &Performer,
    tolerance_bp: u32,
    overridden: Option<Override>,
    reference: &str,
    request: ReweighRequest,
) -> AppResult<FlowAnswer> {
    let key = performer.key("reweigh", &request.client_id)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let reading = flows::weighed(
        "reading",
        request.reading_g.as_ref(),
        request.reading_kg.as_ref(),
        &mut errors,
    );
    AppError::invalid_fields(errors)?;
    let reading = reading.unwrap_or_default();
    let (found, _) = flows::find_lot(db, reference).await?;
    let balance = ledger::find_holder(db, &found.code).await?.balance_g;
    if reading - found.tare_g.unwrap_or(0) == balance {
        // It weighs what the ledger says: nothing to post, and nothing wrong.
        return Ok(FlowAnswer {
            operation_id: None,
            kind: OperationKind::Reweigh.as_str().to_string(),
            subject: found.code.clone(),
            movements: Vec::new(),
            opened_lots: Vec::new(),
            residual: Some(tolerance::check(balance, &[balance], tolerance_bp)),
            override_reason: None,
            message: format!(
                "{} weighs what the ledger says: {} kg",
                found.code,
                crate::domain::mass::kilograms(balance)
            ),
            replayed: false,
        });
    }
    let posted = ledger::post_once(db, Some(&key), async |txn| {
        let (found, _) = flows::find_lot(txn, reference).await?;
        let mut sources = flows::lock_sources(txn, &[found.id]).await?;
        let source = sources.remove(&found.id).unwrap_or(found);
        let holder = ledger::find_holder(txn, &source.code).await?;
        let tare = source.tare_g.unwrap_or(0);
        let net = reading - tare;
        if net <= 0 {
            return Err(AppError::invalid(
                "reading",
                format!(
                    "the reading ({} kg) is not more than the container's tare ({} kg)",
                    crate::domain::mass::kilograms(reading),
                    crate::domain::mass::kilograms(tare)
                ),
            ));
        }
        let residual = tolerance::check(holder.balance_g, &[net], tolerance_bp);
        flows::within_tolerance(
            &source.code,
            residual,
            performer.station_kind_or("sorting"),
            overridden.as_ref(),
        )?;
        let variance = ledger::account(txn, Account::WeighingVariance, None).await?;
        let difference = net - holder.balance_g;
        let movements = match difference {
            0 => Vec::new(),
            gain if gain > 0 => {
                vec![Movement::new(variance.id, source.id, gain).basis(Basis::Like(source.id))]
            }
            loss => vec![Movement::new(source.id, variance.id, -loss)],
        };
        let message = format!(
            "{} reweighed: {} kg (was {} kg)",
            source.code,
            crate::domain::mass::kilograms(net),
            crate::domain::mass::kilograms(holder.balance_g)
        );
        let mut operation =
            performer.operation(OperationKind::Reweigh, &key, overridden.as_ref(), movements);
        operation.subjects = vec![source.code.clone()];
        operation.payload = flows::payload(
            &source.code,
            &[],
            Some(residual),
            overridden.as_ref(),
            &message,
            json!({ "reading_g": reading, "tare_g": tare, "net_g": net }),
        );
        let posted = ledger::post_in(txn, operation).await?;
        flows::settle_sources(txn, [source], false).await?;
        Ok(posted)
    })
    .await?;
    flows::answer_of(db, &posted).await
}
