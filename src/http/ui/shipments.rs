//! Shipment pages: the list, and one shipment as its transport paperwork needs it: the
//! processor and its permit, the document, the carrier, and each lot with its mass.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::domain::roles::Role;
use crate::error::AppError;
use crate::http::AppState;
use crate::http::extract::Path;
use crate::http::ui::lots::{material_names, unknown_code};
use crate::http::ui::{PageContext, Shell, render};
use crate::services::shipments::{self, ShipmentView};

/// Who may see shipments on the pages.
const READERS: &[Role] = &[Role::Supervisor];

pub struct ShipmentRow {
    pub code: String,
    pub shipped_on: String,
    pub processor: String,
    pub transport_document: String,
    pub carrier: String,
    pub total: String,
}

#[derive(Template)]
#[template(path = "shipments.html")]
struct ShipmentsPage {
    shell: Shell,
    rows: Vec<ShipmentRow>,
}

pub async fn list(State(state): State<AppState>, context: PageContext) -> Response {
    if let Some(refused) = context.refusal(&state, READERS) {
        return refused;
    }
    let found = match shipments::list(&state.db).await {
        Ok(found) => found,
        Err(error) => return context.app_error(&state, error),
    };
    let rows = found
        .into_iter()
        .map(|shipment| ShipmentRow {
            shipped_on: shipment.shipped_on.to_string(),
            processor: shipment.processor.name,
            total: context.lang.kg(shipment.total_g),
            transport_document: shipment.transport_document,
            carrier: shipment.carrier,
            code: shipment.code,
        })
        .collect();
    render(&ShipmentsPage {
        shell: context.shell(&state),
        rows,
    })
}

/// One lot shipped.
pub struct LineRow {
    pub lot: String,
    pub material: String,
    pub material_name: String,
    pub hazardous: bool,
    pub mass: String,
}

#[derive(Template)]
#[template(path = "shipment.html")]
struct ShipmentPage {
    shell: Shell,
    shipment: ShipmentView,
    lines: Vec<LineRow>,
    total: String,
}

pub async fn detail(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
) -> Response {
    if let Some(refused) = context.refusal(&state, READERS) {
        return refused;
    }
    let loaded = async {
        let shipment = shipments::view(&state.db, &code)
            .await
            .map_err(unknown_code)?;
        let names = material_names(&state, context.lang).await?;
        Ok::<_, AppError>((shipment, names))
    }
    .await;
    let (shipment, names): (ShipmentView, HashMap<String, String>) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return context.app_error(&state, error),
    };
    let lines = shipment
        .lines
        .iter()
        .map(|line| LineRow {
            lot: line.lot.clone(),
            material_name: names.get(&line.material).cloned().unwrap_or_default(),
            material: line.material.clone(),
            hazardous: line.hazardous,
            mass: context.lang.kg(line.mass_g),
        })
        .collect();
    render(&ShipmentPage {
        shell: context.shell(&state),
        total: context.lang.kg(shipment.total_g),
        lines,
        shipment,
    })
}
