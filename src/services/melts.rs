//! Melts at a smelting station: copper lots charged in, furnace notes, ingots (each a new
//! one-piece lot of `CU-INGOT`) and dross poured out, the rest to `process_loss` when the melt
//! is finished. Yield is ingot ÷ charged.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::codes::{Code, CodeKind};
use crate::domain::ledger::{Account, Basis, HolderKind, Movement, OperationKind};
use crate::domain::lifecycle::StationKind;
use crate::domain::lots;
use crate::domain::tolerance;
use crate::entities::{holder, material, melt, melt_note, movement, operation, station};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::events::{self, NewEvent};
use crate::services::flows::{
    self, FlowAnswer, Output, Override, OverrideRequest, Performer, Take, Typed,
};
use crate::services::ledger::summary::INGOT_MATERIAL;
use crate::services::ledger::{self, NewHolder};
use crate::services::{catalogue, stations};

/// The material dross is poured into.
pub const DROSS_MATERIAL: &str = "CU-DROSS";

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeltView {
    pub code: String,
    pub station: String,
    /// `open` or `finished`.
    pub state: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What is still in the furnace.
    pub balance_g: i64,
    pub charges: Vec<MeltLine>,
    pub pours: Vec<MeltLine>,
    pub charged_g: i64,
    pub ingot_g: i64,
    pub dross_g: i64,
    pub loss_g: i64,
    /// Ingot ÷ charged, in basis points (9 250 = 92.5 %); none before anything was charged.
    pub yield_bp: Option<i64>,
    pub notes: Vec<NoteView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeltLine {
    pub at: DateTime<Utc>,
    pub lot: String,
    pub material: String,
    pub mass_g: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoteView {
    pub at: DateTime<Utc>,
    pub temperature_c: Option<i32>,
    pub note: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartMeltRequest {
    /// The device's own id for this step: a retry returns the melt first started.
    pub client_id: String,
    /// The smelting station, when a supervisor starts it from the pages or the API.
    pub station: Option<String>,
}

/// Starts a melt at a smelting station.
pub async fn start(
    db: &DatabaseConnection,
    performer: &Performer,
    request: StartMeltRequest,
) -> AppResult<MeltView> {
    let key = performer.key("melt", &request.client_id)?;
    if let Some(found) = by_client_key(db, &key).await? {
        return view(db, &found.code).await;
    }
    let station = performer.require_station("the melt")?;
    if stations::kind_of(station) != StationKind::Smelting {
        return Err(AppError::conflict(
            "not_a_smelting_station",
            format!(
                "{} is a {} station: melts happen at a smelting station",
                station.code, station.kind
            ),
        ));
    }
    let txn = begin_write(db).await?;
    let code = Code::random(CodeKind::Melt).to_string();
    let holder = ledger::create_holder(
        &txn,
        NewHolder {
            kind: HolderKind::Melt,
            code: Some(code.clone()),
            label: format!("melt {code}"),
            material_id: None,
            collection_id: None,
        },
    )
    .await?;
    let inserted = melt::ActiveModel {
        id: Set(holder.id),
        code: Set(code.clone()),
        station_id: Set(station.id),
        state: Set("open".to_string()),
        started_by: Set(performer.user.id),
        started_at: Set(crate::clock::now()),
        finished_at: Set(None),
        client_key: Set(Some(key.clone())),
    }
    .insert(&txn)
    .await;
    match inserted {
        Ok(_) => {}
        Err(error) if ledger::is_unique_violation(&error) => {
            drop(txn);
            let found = by_client_key(db, &key)
                .await?
                .ok_or(AppError::Database(error))?;
            return view(db, &found.code).await;
        }
        Err(error) => return Err(error.into()),
    }
    events::record(
        &txn,
        NewEvent {
            station_id: Some(station.id),
            ..NewEvent::new("melt.started", Some(performer.user.id))
        }
        .subject(code.clone()),
    )
    .await?;
    txn.commit().await?;
    view(db, &code).await
}

async fn by_client_key(conn: &impl ConnectionTrait, key: &str) -> AppResult<Option<melt::Model>> {
    Ok(melt::Entity::find()
        .filter(melt::Column::ClientKey.eq(key))
        .one(conn)
        .await?)
}

pub async fn find(conn: &impl ConnectionTrait, reference: &str) -> AppResult<melt::Model> {
    let code =
        Code::parse(reference).map_err(|error| AppError::invalid("melt", error.to_string()))?;
    if code.kind() != CodeKind::Melt {
        return Err(AppError::invalid("melt", format!("{code} is not a melt")));
    }
    melt::Entity::find()
        .filter(melt::Column::Code.eq(code.to_string()))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no melt {code}")))
}

fn refuse_finished(found: &melt::Model) -> AppResult<()> {
    if found.state == "finished" {
        return Err(AppError::conflict(
            "melt_finished",
            format!(
                "{} is finished: it takes no more charges or pours",
                found.code
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargeRequest {
    pub client_id: String,
    pub lots: Vec<Take>,
    pub station: Option<String>,
}

/// Charges copper lots into an open melt.
pub async fn charge(
    db: &DatabaseConnection,
    performer: &Performer,
    reference: &str,
    request: ChargeRequest,
) -> AppResult<FlowAnswer> {
    let key = performer.key("charge", &request.client_id)?;
    let masses = flows::take_masses(&request.lots, "scan at least one lot to charge")?;
    let posted = ledger::post_once(db, Some(&key), async |txn| {
        let found = find(txn, reference).await?;
        refuse_finished(&found)?;
        refuse_elsewhere(performer, &found)?;
        let copper_only = |material: &material::Model| {
            if lots::meltable(&material.family) {
                Ok(())
            } else {
                Err(format!(
                    "{} is {}: only copper is charged into a melt",
                    material.code, material.family
                ))
            }
        };
        let (taken, sources) = flows::take_from(
            txn,
            &request.lots,
            &masses,
            &copper_only,
            "validation",
            "charged",
        )
        .await?;
        let movements: Vec<Movement> = taken
            .iter()
            .map(|t| Movement::new(t.lot.id, found.id, t.mass_g))
            .collect();
        let total: i64 = movements.iter().map(|m| m.mass_g).sum();
        let message = format!(
            "{} kg charged into {}",
            crate::domain::mass::kilograms(total),
            found.code
        );
        let mut operation = performer.operation(OperationKind::Charge, &key, None, movements);
        operation.station_id = operation.station_id.or(Some(found.station_id));
        operation.subjects = std::iter::once(found.code.clone())
            .chain(taken.iter().map(|t| t.lot.code.clone()))
            .collect();
        operation.payload = flows::payload(&found.code, &[], None, None, &message, json!({}));
        let posted = ledger::post_in(txn, operation).await?;
        flows::settle_sources(txn, sources.into_values(), false).await?;
        Ok(posted)
    })
    .await?;
    flows::answer_of(db, &posted).await
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngotRequest {
    pub mass_g: Option<Typed>,
    pub mass_kg: Option<Typed>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PourRequest {
    pub client_id: String,
    /// Each ingot poured, weighed: each becomes a new one-piece lot of `CU-INGOT`.
    #[serde(default)]
    pub ingots: Vec<IngotRequest>,
    /// Dross skimmed, weighed: into a `CU-DROSS` lot scanned, or a new one.
    #[serde(default)]
    pub dross: Vec<Output>,
    /// Finish the melt: what is left goes to `process_loss`, and it takes nothing more.
    #[serde(default)]
    pub finish: bool,
    #[serde(rename = "override")]
    pub override_request: Option<OverrideRequest>,
    pub station: Option<String>,
}

/// Pours ingots and dross out of a melt, and finishes it when asked.
pub async fn pour(
    db: &DatabaseConnection,
    performer: &Performer,
    tolerance_bp: u32,
    overridden: Option<Override>,
    reference: &str,
    request: PourRequest,
) -> AppResult<FlowAnswer> {
    let key = performer.key("pour", &request.client_id)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let ingots: Vec<i64> = request
        .ingots
        .iter()
        .enumerate()
        .filter_map(|(i, ingot)| {
            flows::weighed(
                &format!("ingots/{i}/mass"),
                ingot.mass_g.as_ref(),
                ingot.mass_kg.as_ref(),
                &mut errors,
            )
        })
        .collect();
    if request.ingots.is_empty() && request.dross.is_empty() && !request.finish {
        errors.push(FieldError::new(
            "ingots",
            "weigh at least one ingot or the dross, or finish the melt",
        ));
    }
    AppError::invalid_fields(errors)?;
    let posted = ledger::post_once(db, Some(&key), async |txn| {
        let found = find(txn, reference).await?;
        refuse_finished(&found)?;
        refuse_elsewhere(performer, &found)?;
        let holder = holder::Entity::find_by_id(found.id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("melt without holder")))?;
        let dross_rule = |m: &material::Model| {
            if m.code == DROSS_MATERIAL {
                Ok(())
            } else {
                Err(format!(
                    "dross goes into a {DROSS_MATERIAL} lot, not {}",
                    m.code
                ))
            }
        };
        let mut placed = if request.dross.is_empty() {
            Vec::new()
        } else {
            flows::place_outputs(txn, performer, "dross", &request.dross, &dross_rule).await?
        };
        let ingot_material = catalogue::material(txn, INGOT_MATERIAL).await?;
        for mass_g in &ingots {
            let opened =
                flows::open_lot(txn, performer, &ingot_material, None, Some(found.id), None)
                    .await?;
            placed.push(flows::Placed {
                lot: opened,
                material: ingot_material.clone(),
                mass_g: *mass_g,
                opened: true,
            });
        }
        let poured: i64 = placed.iter().map(|p| p.mass_g).sum();
        let charged = charged_g(txn, found.id).await?;
        // Poured beyond what is in the furnace is held to the tolerance of all it was charged.
        let excess = poured - holder.balance_g;
        let residual = if excess > 0 {
            let check = tolerance::check(charged, &[charged + excess], tolerance_bp);
            let station_kind = "smelting";
            flows::within_tolerance(&found.code, check, station_kind, overridden.as_ref())?;
            Some(check)
        } else {
            None
        };
        let mut movements = Vec::new();
        if excess > 0 {
            let variance = ledger::account(txn, Account::WeighingVariance, None).await?;
            movements
                .push(Movement::new(variance.id, found.id, excess).basis(Basis::Like(found.id)));
        }
        movements.extend(
            placed
                .iter()
                .map(|p| Movement::new(found.id, p.lot.id, p.mass_g)),
        );
        let left = holder.balance_g - poured.min(holder.balance_g);
        if request.finish && left > 0 {
            let loss = ledger::account(txn, Account::ProcessLoss, None).await?;
            movements.push(Movement::new(found.id, loss.id, left));
        }
        if movements.is_empty() {
            return Err(AppError::conflict(
                "melt_empty",
                format!("{} holds nothing: charge it first", found.code),
            ));
        }
        let message = format!(
            "{} ingot(s), {} kg poured from {}{}",
            ingots.len(),
            crate::domain::mass::kilograms(poured),
            found.code,
            if request.finish { "; finished" } else { "" }
        );
        let mut operation =
            performer.operation(OperationKind::Pour, &key, overridden.as_ref(), movements);
        operation.station_id = operation.station_id.or(Some(found.station_id));
        operation.subjects = std::iter::once(found.code.clone())
            .chain(placed.iter().map(|p| p.lot.code.clone()))
            .collect();
        operation.payload = flows::payload(
            &found.code,
            &placed,
            residual,
            overridden.as_ref(),
            &message,
            json!({ "finish": request.finish, "ingots": ingots }),
        );
        let posted = ledger::post_in(txn, operation).await?;
        if request.finish {
            let mut changed: melt::ActiveModel = found.clone().into();
            changed.state = Set("finished".to_string());
            changed.finished_at = Set(Some(crate::clock::now()));
            changed.update(txn).await?;
        }
        Ok(posted)
    })
    .await?;
    flows::answer_of(db, &posted).await
}

/// Everything charged into a melt, in grams.
async fn charged_g(conn: &impl ConnectionTrait, melt_id: Uuid) -> AppResult<i64> {
    let charges = charges_of(conn, melt_id).await?;
    Ok(charges.iter().map(|(m, _)| m.mass_g).sum())
}

async fn charges_of(
    conn: &impl ConnectionTrait,
    melt_id: Uuid,
) -> AppResult<Vec<(movement::Model, operation::Model)>> {
    let moves = movement::Entity::find()
        .filter(movement::Column::ToHolderId.eq(melt_id))
        .order_by_asc(movement::Column::Id)
        .all(conn)
        .await?;
    with_operations(conn, moves, OperationKind::Charge).await
}

async fn with_operations(
    conn: &impl ConnectionTrait,
    moves: Vec<movement::Model>,
    kind: OperationKind,
) -> AppResult<Vec<(movement::Model, operation::Model)>> {
    let ids: Vec<Uuid> = moves.iter().map(|m| m.operation_id).collect();
    let operations: std::collections::HashMap<Uuid, operation::Model> = operation::Entity::find()
        .filter(operation::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    Ok(moves
        .into_iter()
        .filter_map(|m| {
            let operation = operations.get(&m.operation_id)?.clone();
            (operation.kind == kind.as_str()).then_some((m, operation))
        })
        .collect())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The furnace temperature, in °C.
    pub temperature_c: Option<i32>,
    pub note: Option<String>,
}

/// Adds a furnace note to a melt.
pub async fn note(
    db: &DatabaseConnection,
    performer: &Performer,
    reference: &str,
    request: NoteRequest,
) -> AppResult<MeltView> {
    let text = request.note.as_deref().map(str::trim).unwrap_or_default();
    let mut errors = Vec::new();
    if text.len() > 2_000 {
        errors.push(FieldError::new("note", "at most 2,000 characters"));
    }
    if let Some(t) = request.temperature_c
        && !(0..=2_000).contains(&t)
    {
        errors.push(FieldError::new(
            "temperature_c",
            "a furnace temperature is 0 to 2,000 °C",
        ));
    }
    if text.is_empty() && request.temperature_c.is_none() {
        errors.push(FieldError::new("note", "write a note or a temperature"));
    }
    AppError::invalid_fields(errors)?;
    let txn = begin_write(db).await?;
    let found = find(&txn, reference).await?;
    refuse_finished(&found)?;
    refuse_elsewhere(performer, &found)?;
    melt_note::ActiveModel {
        id: Set(Uuid::now_v7()),
        melt_id: Set(found.id),
        temperature_c: Set(request.temperature_c),
        note: Set(text.to_string()),
        author_id: Set(performer.user.id),
        at: Set(crate::clock::now()),
    }
    .insert(&txn)
    .await?;
    events::record(
        &txn,
        NewEvent {
            station_id: performer.station_id(),
            ..NewEvent::new("melt.note", Some(performer.user.id))
        }
        .subject(found.code.clone())
        .payload(json!({ "temperature_c": request.temperature_c, "note": text })),
    )
    .await?;
    txn.commit().await?;
    view(db, reference).await
}

/// An apprentice works on a melt at its furnace: a device at another station (a dismantling
/// bench, say) may not charge, note or pour it. Supervisors may act from anywhere.
fn refuse_elsewhere(performer: &Performer, found: &melt::Model) -> AppResult<()> {
    match (&performer.device_id, &performer.station) {
        (Some(_), Some(station)) if station.id != found.station_id => Err(AppError::conflict(
            "wrong_station",
            format!(
                "{} is melted at another station, not at {}: do this at its furnace",
                found.code, station.code
            ),
        )),
        _ => Ok(()),
    }
}

pub async fn view(conn: &impl ConnectionTrait, reference: &str) -> AppResult<MeltView> {
    let found = find(conn, reference).await?;
    let holder = holder::Entity::find_by_id(found.id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("melt without holder")))?;
    let charges = charges_of(conn, found.id).await?;
    let outs = movement::Entity::find()
        .filter(movement::Column::FromHolderId.eq(found.id))
        .order_by_asc(movement::Column::Id)
        .all(conn)
        .await?;
    let pours = with_operations(conn, outs, OperationKind::Pour).await?;
    let holder_ids: Vec<Uuid> = charges
        .iter()
        .map(|(m, _)| m.from_holder_id)
        .chain(pours.iter().map(|(m, _)| m.to_holder_id))
        .collect();
    let holders: std::collections::HashMap<Uuid, holder::Model> = holder::Entity::find()
        .filter(holder::Column::Id.is_in(holder_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let material_ids: Vec<Uuid> = holders.values().filter_map(|h| h.material_id).collect();
    let materials: std::collections::HashMap<Uuid, String> = material::Entity::find()
        .filter(material::Column::Id.is_in(material_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.id, m.code))
        .collect();
    let line = |(m, o): &(movement::Model, operation::Model), id: Uuid| {
        let other = holders.get(&id);
        MeltLine {
            at: o.at,
            lot: other
                .and_then(|h| h.code.clone().or(h.account_key.clone()))
                .unwrap_or_default(),
            material: other
                .and_then(|h| h.material_id)
                .and_then(|id| materials.get(&id).cloned())
                .unwrap_or_default(),
            mass_g: m.mass_g,
        }
    };
    let charges: Vec<MeltLine> = charges
        .iter()
        .map(|c| line(c, c.0.from_holder_id))
        .collect();
    let (pours, losses): (Vec<MeltLine>, Vec<MeltLine>) = pours
        .iter()
        .map(|p| line(p, p.0.to_holder_id))
        .partition(|l| !l.material.is_empty() || l.lot.starts_with("LT-"));
    let charged_g: i64 = charges.iter().map(|c| c.mass_g).sum();
    let ingot_g: i64 = pours
        .iter()
        .filter(|p| p.material == INGOT_MATERIAL)
        .map(|p| p.mass_g)
        .sum();
    let dross_g: i64 = pours
        .iter()
        .filter(|p| p.material == DROSS_MATERIAL)
        .map(|p| p.mass_g)
        .sum();
    let notes = melt_note::Entity::find()
        .filter(melt_note::Column::MeltId.eq(found.id))
        .order_by_asc(melt_note::Column::At)
        .all(conn)
        .await?
        .into_iter()
        .map(|n| NoteView {
            at: n.at,
            temperature_c: n.temperature_c,
            note: n.note,
        })
        .collect();
    let station_code = station::Entity::find_by_id(found.station_id)
        .one(conn)
        .await?
        .map(|s| s.code)
        .unwrap_or_default();
    Ok(MeltView {
        code: found.code,
        station: station_code,
        state: found.state,
        started_at: found.started_at,
        finished_at: found.finished_at,
        balance_g: holder.balance_g,
        charges,
        pours,
        charged_g,
        ingot_g,
        dross_g,
        loss_g: losses.iter().map(|l| l.mass_g).sum(),
        yield_bp: (charged_g > 0).then(|| ingot_g * 10_000 / charged_g),
        notes,
    })
}

/// Melts, newest first.
pub async fn list(conn: &impl ConnectionTrait, limit: u64) -> AppResult<Vec<MeltView>> {
    use sea_orm::QuerySelect;
    let found = melt::Entity::find()
        .order_by_desc(melt::Column::StartedAt)
        .limit(limit)
        .all(conn)
        .await?;
    let mut views = Vec::new();
    for melt in found {
        views.push(view(conn, &melt.code).await?);
    }
    Ok(views)
}
