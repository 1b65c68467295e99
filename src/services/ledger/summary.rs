//! Attribution summary: for a collection, or a partner's collections received in a period,
//! the grams by destination and material, read from the maintained compositions (a lookup,
//! never a replay of the movements).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, Func, Query};
use sea_orm::{ConnectionTrait, ExprTrait, FromQueryResult};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ledger::Account;
use crate::entities::{collection, holder, holder_composition, material};
use crate::error::AppResult;

/// The material code under which an ingot lot is a product, not stock.
pub const INGOT_MATERIAL: &str = "CU-INGOT";

/// Which collections a summary covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Collection(Uuid),
    /// A partner's collections received between the two dates, both included.
    Partner {
        partner_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    },
}

/// Where attributed mass is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    /// Still at the workshop: unprocessed items, lots, melts in progress.
    InStock,
    /// Copper ingots at the workshop.
    Ingot,
    Reused,
    Shipped,
    /// Process loss and weighing variance.
    Lost,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaterialLine {
    pub destination: Destination,
    /// The material code, or none for whole equipment (items, reuse, whole shipments).
    pub material: Option<String>,
    pub family: Option<String>,
    pub mass_g: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttributionSummary {
    /// Grams received in scope.
    pub received_g: i64,
    pub by_destination: BTreeMap<String, i64>,
    /// Grams by family (`equipment` for whole items) and destination.
    pub by_family: BTreeMap<String, BTreeMap<String, i64>>,
    pub by_material: Vec<MaterialLine>,
    /// Σ destinations = received: always true unless the ledger is damaged.
    pub balanced: bool,
}

#[derive(Debug, FromQueryResult)]
struct Row {
    kind: String,
    account: Option<String>,
    material: Option<String>,
    family: Option<String>,
    mass_g: i64,
}

pub async fn summarise(conn: &impl ConnectionTrait, scope: Scope) -> AppResult<AttributionSummary> {
    let mut query = Query::select();
    query
        .column((holder::Entity, holder::Column::Kind))
        .column((holder::Entity, holder::Column::Account))
        .expr_as(
            Expr::col((material::Entity, material::Column::Code)),
            Alias::new("material"),
        )
        .expr_as(
            Expr::col((material::Entity, material::Column::Family)),
            Alias::new("family"),
        )
        .expr_as(
            Func::cast_as(
                Func::sum(Expr::col((
                    holder_composition::Entity,
                    holder_composition::Column::MassG,
                ))),
                Alias::new("BIGINT"),
            ),
            Alias::new("mass_g"),
        )
        .from(holder_composition::Entity)
        .inner_join(
            holder::Entity,
            Expr::col((holder::Entity, holder::Column::Id)).equals((
                holder_composition::Entity,
                holder_composition::Column::HolderId,
            )),
        )
        .left_join(
            material::Entity,
            Expr::col((material::Entity, material::Column::Id))
                .equals((holder::Entity, holder::Column::MaterialId)),
        )
        .group_by_col((holder::Entity, holder::Column::Kind))
        .group_by_col((holder::Entity, holder::Column::Account))
        .group_by_col((material::Entity, material::Column::Code))
        .group_by_col((material::Entity, material::Column::Family));
    match scope {
        Scope::Collection(collection_id) => {
            query.and_where(
                Expr::col((
                    holder_composition::Entity,
                    holder_composition::Column::CollectionId,
                ))
                .eq(collection_id),
            );
        }
        Scope::Partner {
            partner_id,
            from,
            to,
        } => {
            query
                .inner_join(
                    collection::Entity,
                    Expr::col((collection::Entity, collection::Column::Id)).equals((
                        holder_composition::Entity,
                        holder_composition::Column::CollectionId,
                    )),
                )
                .and_where(
                    Expr::col((collection::Entity, collection::Column::PartnerId)).eq(partner_id),
                )
                .and_where(
                    Expr::col((collection::Entity, collection::Column::ReceivedOn)).gte(from),
                )
                .and_where(Expr::col((collection::Entity, collection::Column::ReceivedOn)).lte(to));
        }
    }
    let statement = conn.get_database_backend().build(&query);
    let rows = Row::find_by_statement(statement).all(conn).await?;

    let mut received_g = 0;
    let mut lines: BTreeMap<(Destination, Option<String>), MaterialLine> = BTreeMap::new();
    for row in rows {
        let account = row
            .account
            .as_deref()
            .and_then(|a| a.parse::<Account>().ok());
        let destination = match (row.kind.as_str(), account) {
            ("account", Some(Account::Intake)) => {
                received_g -= row.mass_g;
                continue;
            }
            ("account", Some(Account::Reuse)) => Destination::Reused,
            ("account", Some(Account::Shipped)) => Destination::Shipped,
            ("account", _) => Destination::Lost,
            ("lot", _) if row.material.as_deref() == Some(INGOT_MATERIAL) => Destination::Ingot,
            _ => Destination::InStock,
        };
        let line = lines
            .entry((destination, row.material.clone()))
            .or_insert_with(|| MaterialLine {
                destination,
                material: row.material.clone(),
                family: row.family.clone(),
                mass_g: 0,
            });
        line.mass_g += row.mass_g;
    }
    let by_material: Vec<MaterialLine> = lines
        .into_values()
        .filter(|line| line.mass_g != 0)
        .collect();
    let mut by_destination: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_family: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for line in &by_material {
        let destination = serde_json::to_value(line.destination)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        *by_destination.entry(destination.clone()).or_default() += line.mass_g;
        let family = line
            .family
            .clone()
            .unwrap_or_else(|| "equipment".to_string());
        *by_family
            .entry(family)
            .or_default()
            .entry(destination)
            .or_default() += line.mass_g;
    }
    let placed: i64 = by_destination.values().sum();
    Ok(AttributionSummary {
        received_g,
        balanced: placed == received_g,
        by_destination,
        by_family,
        by_material,
    })
}
