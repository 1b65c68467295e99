//! Downstream processors and shipments to them. A shipment takes whole lots or part of a lot
//! into `shipped` (kept per material); hazardous material goes only to a processor licensed
//! for it, and each family only to a processor licensed for that family.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::codes::{Code, CodeKind};
use crate::domain::intake;
use crate::domain::ledger::{Account, Movement, OperationKind};
use crate::entities::{lot, material, movement, processor, shipment};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::catalogue;
use crate::services::events::{self, NewEvent};
use crate::services::flows::{self, Performer, Take};
use crate::services::ledger;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProcessorView {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    pub permit_number: String,
    /// Material families it is licensed for.
    pub families: Vec<String>,
    /// Hazardous materials (codes) it is licensed for.
    pub hazardous_materials: Vec<String>,
    pub active: bool,
}

impl From<processor::Model> for ProcessorView {
    fn from(found: processor::Model) -> ProcessorView {
        ProcessorView {
            id: found.id,
            families: strings(&found.families),
            hazardous_materials: strings(&found.hazardous_materials),
            name: found.name,
            address: found.address,
            permit_number: found.permit_number,
            active: found.active,
        }
    }
}

fn strings(value: &Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessorRequest {
    pub name: String,
    pub address: String,
    pub permit_number: String,
    pub families: Vec<String>,
    #[serde(default)]
    pub hazardous_materials: Vec<String>,
    pub active: Option<bool>,
}

pub async fn processors(conn: &impl ConnectionTrait) -> AppResult<Vec<ProcessorView>> {
    Ok(processor::Entity::find()
        .order_by_asc(processor::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(ProcessorView::from)
        .collect())
}

async fn checked_processor(
    conn: &impl ConnectionTrait,
    request: &ProcessorRequest,
) -> AppResult<(String, String, String, Vec<String>, Vec<String>)> {
    let mut errors = Vec::new();
    let name = intake::required_text("name", &request.name, 200, &mut errors);
    let address = intake::required_text("address", &request.address, 1_000, &mut errors);
    let permit = intake::required_text("permit_number", &request.permit_number, 200, &mut errors);
    let materials = catalogue::materials(conn).await?;
    let known_families: BTreeSet<&str> = materials.iter().map(|m| m.family.as_str()).collect();
    let mut families = Vec::new();
    for (i, family) in request.families.iter().enumerate() {
        let family = family.trim();
        if known_families.contains(family) {
            families.push(family.to_string());
        } else {
            errors.push(FieldError::new(
                format!("families/{i}"),
                format!(
                    "unknown family “{family}” (known: {})",
                    known_families
                        .iter()
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    if request.families.is_empty() {
        errors.push(FieldError::new(
            "families",
            "name at least one material family",
        ));
    }
    let mut hazardous = Vec::new();
    for (i, code) in request.hazardous_materials.iter().enumerate() {
        match materials
            .iter()
            .find(|m| m.code.eq_ignore_ascii_case(code.trim()))
        {
            Some(m) if m.hazardous => hazardous.push(m.code.clone()),
            Some(m) => errors.push(FieldError::new(
                format!("hazardous_materials/{i}"),
                format!("{} is not hazardous: its family licence is enough", m.code),
            )),
            None => errors.push(FieldError::new(
                format!("hazardous_materials/{i}"),
                format!("no material {}", code.trim()),
            )),
        }
    }
    AppError::invalid_fields(errors)?;
    families.sort();
    families.dedup();
    hazardous.sort();
    hazardous.dedup();
    Ok((name, address, permit, families, hazardous))
}

fn name_taken(error: sea_orm::DbErr, name: &str) -> AppError {
    if ledger::is_unique_violation(&error) {
        AppError::conflict("duplicate_name", format!("a processor named {name} exists"))
    } else {
        error.into()
    }
}

pub async fn create_processor(
    db: &DatabaseConnection,
    actor_id: Uuid,
    request: ProcessorRequest,
) -> AppResult<ProcessorView> {
    let (name, address, permit, families, hazardous) = checked_processor(db, &request).await?;
    let txn = begin_write(db).await?;
    let created = processor::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.clone()),
        address: Set(address),
        permit_number: Set(permit),
        families: Set(json!(families)),
        hazardous_materials: Set(json!(hazardous)),
        active: Set(request.active.unwrap_or(true)),
        created_at: Set(crate::clock::now()),
    }
    .insert(&txn)
    .await
    .map_err(|error| name_taken(error, &name))?;
    events::record(
        &txn,
        NewEvent::new("processor.created", Some(actor_id))
            .subject(created.id.to_string())
            .payload(json!({ "name": created.name, "permit_number": created.permit_number })),
    )
    .await?;
    txn.commit().await?;
    Ok(created.into())
}

pub async fn update_processor(
    db: &DatabaseConnection,
    actor_id: Uuid,
    id: Uuid,
    request: ProcessorRequest,
) -> AppResult<ProcessorView> {
    let (name, address, permit, families, hazardous) = checked_processor(db, &request).await?;
    let txn = begin_write(db).await?;
    let found = processor::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no processor {id}")))?;
    let mut changed: processor::ActiveModel = found.into();
    changed.name = Set(name.clone());
    changed.address = Set(address);
    changed.permit_number = Set(permit);
    changed.families = Set(json!(families));
    changed.hazardous_materials = Set(json!(hazardous));
    if let Some(active) = request.active {
        changed.active = Set(active);
    }
    let updated = changed
        .update(&txn)
        .await
        .map_err(|error| name_taken(error, &name))?;
    events::record(
        &txn,
        NewEvent::new("processor.updated", Some(actor_id))
            .subject(updated.id.to_string())
            .payload(json!({ "name": updated.name, "permit_number": updated.permit_number })),
    )
    .await?;
    txn.commit().await?;
    Ok(updated.into())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentRequest {
    /// The client's own id for this shipment: a retry returns the first.
    pub client_id: String,
    pub processor_id: Uuid,
    pub shipped_on: NaiveDate,
    /// The transport document's number (waste transfer note, consignment note).
    pub transport_document: String,
    pub carrier: String,
    pub lots: Vec<Take>,
    pub station: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShipmentView {
    pub code: String,
    pub processor: ProcessorView,
    pub shipped_on: NaiveDate,
    pub transport_document: String,
    pub carrier: String,
    pub lines: Vec<ShipmentLine>,
    pub total_g: i64,
    pub operation_id: Uuid,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShipmentLine {
    pub lot: String,
    pub material: String,
    pub hazardous: bool,
    pub mass_g: i64,
}

/// Ships lots (or parts of lots) to a processor in one operation.
pub async fn ship(
    db: &DatabaseConnection,
    performer: &Performer,
    request: ShipmentRequest,
) -> AppResult<ShipmentView> {
    let key = performer.key("ship", &request.client_id)?;
    let mut errors = Vec::new();
    let document = intake::required_text(
        "transport_document",
        &request.transport_document,
        200,
        &mut errors,
    );
    let carrier = intake::required_text("carrier", &request.carrier, 200, &mut errors);
    AppError::invalid_fields(errors)?;
    let masses = flows::take_masses(&request.lots, "name at least one lot to ship")?;
    let posted = ledger::post_once(db, Some(&key), async |txn| {
        let to = processor::Entity::find_by_id(request.processor_id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::invalid("processor_id", "no such processor"))?;
        if !to.active {
            return Err(AppError::invalid(
                "processor_id",
                format!("{} is no longer active", to.name),
            ));
        }
        let families = strings(&to.families);
        let licensed_hazardous = strings(&to.hazardous_materials);
        let licensed = |material: &material::Model| {
            if !families.contains(&material.family) {
                Err(format!(
                    "{} is not licensed for {} ({}): its licence covers {}",
                    to.name,
                    material.family,
                    material.code,
                    families.join(", ")
                ))
            } else if material.hazardous && !licensed_hazardous.contains(&material.code) {
                Err(format!(
                    "{} is hazardous ({}), and {} is not licensed for it",
                    material.code,
                    material.ewc_code.clone().unwrap_or_default(),
                    to.name
                ))
            } else {
                Ok(())
            }
        };
        let (taken, sources) = flows::take_from(
            txn,
            &request.lots,
            &masses,
            &licensed,
            "not_licensed_or_invalid",
            "shipped",
        )
        .await?;
        let mut movements = Vec::new();
        for t in &taken {
            let account = ledger::account(
                txn,
                Account::Shipped,
                Some((t.material.id, &t.material.code)),
            )
            .await?;
            movements.push(Movement::new(t.lot.id, account.id, t.mass_g));
        }
        let code = Code::random(CodeKind::Shipment).to_string();
        let total: i64 = movements.iter().map(|m| m.mass_g).sum();
        let message = format!(
            "{code}: {} kg to {}",
            crate::domain::mass::kilograms(total),
            to.name
        );
        let mut operation = performer.operation(OperationKind::Ship, &key, None, movements);
        operation.subjects = std::iter::once(code.clone())
            .chain(taken.iter().map(|t| t.lot.code.clone()))
            .collect();
        operation.payload = flows::payload(
            &code,
            &[],
            None,
            None,
            &message,
            json!({
                "processor": to.name, "permit_number": to.permit_number,
                "transport_document": document, "carrier": carrier,
            }),
        );
        let posted = ledger::post_in(txn, operation).await?;
        shipment::ActiveModel {
            id: Set(Uuid::now_v7()),
            code: Set(code),
            processor_id: Set(to.id),
            shipped_on: Set(request.shipped_on),
            transport_document: Set(document.clone()),
            carrier: Set(carrier.clone()),
            operation_id: Set(posted.operation.id),
            created_by: Set(performer.user.id),
            created_at: Set(crate::clock::now()),
        }
        .insert(txn)
        .await?;
        flows::settle_sources(txn, sources.into_values(), true).await?;
        Ok(posted)
    })
    .await?;
    let found = shipment::Entity::find()
        .filter(shipment::Column::OperationId.eq(posted.operation.id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("shipment without its row")))?;
    view(db, &found.code).await
}

pub async fn view(conn: &impl ConnectionTrait, reference: &str) -> AppResult<ShipmentView> {
    let code =
        Code::parse(reference).map_err(|error| AppError::invalid("shipment", error.to_string()))?;
    let found = shipment::Entity::find()
        .filter(shipment::Column::Code.eq(code.to_string()))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no shipment {code}")))?;
    view_of(conn, found).await
}

async fn view_of(conn: &impl ConnectionTrait, found: shipment::Model) -> AppResult<ShipmentView> {
    let to = processor::Entity::find_by_id(found.processor_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("shipment without processor")))?;
    let moves = movement::Entity::find()
        .filter(movement::Column::OperationId.eq(found.operation_id))
        .order_by_asc(movement::Column::Seq)
        .all(conn)
        .await?;
    let lots: HashMap<Uuid, lot::Model> = lot::Entity::find()
        .filter(lot::Column::Id.is_in(moves.iter().map(|m| m.from_holder_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let materials: HashMap<Uuid, material::Model> = material::Entity::find()
        .filter(material::Column::Id.is_in(lots.values().map(|l| l.material_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let lines: Vec<ShipmentLine> = moves
        .iter()
        .filter_map(|m| {
            let lot = lots.get(&m.from_holder_id)?;
            let material = materials.get(&lot.material_id)?;
            Some(ShipmentLine {
                lot: lot.code.clone(),
                material: material.code.clone(),
                hazardous: material.hazardous,
                mass_g: m.mass_g,
            })
        })
        .collect();
    Ok(ShipmentView {
        code: found.code,
        processor: to.into(),
        shipped_on: found.shipped_on,
        transport_document: found.transport_document,
        carrier: found.carrier,
        total_g: lines.iter().map(|l| l.mass_g).sum(),
        lines,
        operation_id: found.operation_id,
    })
}

/// Shipments, newest first.
pub async fn list(conn: &impl ConnectionTrait) -> AppResult<Vec<ShipmentView>> {
    let found = shipment::Entity::find()
        .order_by_desc(shipment::Column::ShippedOn)
        .order_by_desc(shipment::Column::CreatedAt)
        .all(conn)
        .await?;
    let mut views = Vec::new();
    for shipment in found {
        views.push(view_of(conn, shipment).await?);
    }
    Ok(views)
}
