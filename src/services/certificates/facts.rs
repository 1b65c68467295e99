//! What a certificate would state about a scope, read from the items, the sanitisation
//! records and the ledger, and what still stands in the way of issuing it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::domain::certificate::{
    AnnexLine, CertificateScope, CountMass, FamilyLine, Fate, HazardousLine, ReceivedLine,
    ScopeCollection,
};
use crate::domain::lifecycle::ItemState;
use crate::entities::{
    collection, equipment_kind, holder, item, lot, material, movement, partner, processor,
    sanitisation_record, shipment, user,
};
use crate::error::{AppResult, FieldError};
use crate::services::ledger::parts_of_json;
use crate::services::ledger::summary::{self, Destination, Scope as SummaryScope};

/// What a certificate covers.
#[derive(Debug, Clone)]
pub enum Scope {
    Collection(Uuid),
    /// A partner's collections received between the two dates, both included.
    Partner {
        partner_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    },
}

/// A scope with its partner and collections read.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub scope: Scope,
    pub partner: partner::Model,
    pub collections: Vec<collection::Model>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Resolved {
    pub fn kind(&self) -> &'static str {
        match self.scope {
            Scope::Collection(_) => "collection",
            Scope::Partner { .. } => "partner",
        }
    }

    fn summary_scope(&self) -> SummaryScope {
        match self.scope {
            Scope::Collection(id) => SummaryScope::Collection(id),
            Scope::Partner {
                partner_id,
                from,
                to,
            } => SummaryScope::Partner {
                partner_id,
                from,
                to,
            },
        }
    }
}

pub async fn resolve(conn: &impl ConnectionTrait, scope: Scope) -> AppResult<Resolved> {
    let (partner_id, collections, from, to) = match &scope {
        Scope::Collection(id) => {
            let found = collection::Entity::find_by_id(*id)
                .one(conn)
                .await?
                .ok_or_else(|| crate::error::AppError::not_found(format!("no collection {id}")))?;
            let day = found.received_on;
            (found.partner_id, vec![found], day, day)
        }
        Scope::Partner {
            partner_id,
            from,
            to,
        } => {
            let found = collection::Entity::find()
                .filter(collection::Column::PartnerId.eq(*partner_id))
                .filter(collection::Column::ReceivedOn.gte(*from))
                .filter(collection::Column::ReceivedOn.lte(*to))
                .order_by_asc(collection::Column::ReceivedOn)
                .order_by_asc(collection::Column::Code)
                .all(conn)
                .await?;
            (*partner_id, found, *from, *to)
        }
    };
    let partner = crate::services::partners::get(conn, partner_id).await?;
    Ok(Resolved {
        scope,
        partner,
        collections,
        from,
        to,
    })
}

/// The facts of a scope, and what blocks a certificate for it (empty when it may be issued).
pub struct Gathered {
    pub scope: CertificateScope,
    pub received: Vec<ReceivedLine>,
    pub fate: Fate,
    pub annex: Vec<AnnexLine>,
    pub blockers: Vec<FieldError>,
}

fn is_end_state(state: ItemState) -> bool {
    matches!(
        state,
        ItemState::Reused | ItemState::Dismantled | ItemState::ShippedWhole
    )
}

fn count_mass(items: &[&item::Model]) -> CountMass {
    CountMass {
        count: items.iter().map(|i| i64::from(i.quantity)).sum(),
        mass_g: items.iter().map(|i| i.gross_mass_g).sum(),
    }
}

pub async fn gather(
    conn: &impl ConnectionTrait,
    resolved: &Resolved,
    language: &str,
) -> AppResult<Gathered> {
    let mut blockers = Vec::new();
    let collection_ids: Vec<Uuid> = resolved.collections.iter().map(|c| c.id).collect();
    for found in &resolved.collections {
        if found.state == "open" {
            blockers.push(FieldError::new(
                found.code.clone(),
                "the collection is still open for intake: close it first",
            ));
        }
    }
    let items = if collection_ids.is_empty() {
        Vec::new()
    } else {
        item::Entity::find()
            .filter(item::Column::CollectionId.is_in(collection_ids.clone()))
            .order_by_asc(item::Column::Code)
            .all(conn)
            .await?
    };
    if items.is_empty() {
        blockers.push(FieldError::new(
            "scope",
            "no equipment was received in this scope",
        ));
    }
    let kinds: HashMap<Uuid, equipment_kind::Model> = equipment_kind::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|k| (k.id, k))
        .collect();
    let lang = crate::i18n::Lang::from_code(language).unwrap_or(crate::i18n::Lang::En);
    let kind_name = |id: Uuid| {
        kinds.get(&id).map_or_else(String::new, |k| {
            lang.name(&k.name_en, &k.name_fr).to_string()
        })
    };

    // Where each item is; dismantled ones must have left nothing unsorted behind.
    let states: Vec<(ItemState, &item::Model)> = items
        .iter()
        .map(|i| (crate::services::actions::state_of(i), i))
        .collect();
    let dismantled_ids: Vec<Uuid> = states
        .iter()
        .filter(|(state, _)| *state == ItemState::Dismantled)
        .map(|(_, i)| i.id)
        .collect();
    let unsorted: HashMap<Uuid, i64> = if dismantled_ids.is_empty() {
        HashMap::new()
    } else {
        holder::Entity::find()
            .filter(holder::Column::Id.is_in(dismantled_ids))
            .filter(holder::Column::BalanceG.ne(0))
            .all(conn)
            .await?
            .into_iter()
            .map(|h| (h.id, h.balance_g))
            .collect()
    };
    for (state, found) in &states {
        if !is_end_state(*state) {
            blockers.push(FieldError::new(
                found.code.clone(),
                format!("still {state}: not yet reused, dismantled or shipped whole"),
            ));
        } else if let Some(grams) = unsorted.get(&found.id) {
            blockers.push(FieldError::new(
                found.code.clone(),
                format!("dismantled, but {grams} g are not yet sorted into lots"),
            ));
        }
    }

    // The annex: every successful, verified sanitisation of a data-bearing item.
    let data_bearing: Vec<&item::Model> = items.iter().filter(|i| i.data_bearing).collect();
    let mut records: HashMap<Uuid, Vec<sanitisation_record::Model>> = HashMap::new();
    if !data_bearing.is_empty() {
        // By a subquery on the scope's collections, not thousands of bound item ids.
        let wanted = sea_orm::sea_query::Query::select()
            .column(item::Column::Id)
            .from(item::Entity)
            .and_where(
                sea_orm::sea_query::Expr::col(item::Column::CollectionId)
                    .is_in(collection_ids.clone()),
            )
            .and_where(sea_orm::sea_query::Expr::col(item::Column::DataBearing).eq(true))
            .to_owned();
        for record in sanitisation_record::Entity::find()
            .filter(sanitisation_record::Column::ItemId.in_subquery(wanted))
            .filter(sanitisation_record::Column::Success.eq(true))
            .filter(sanitisation_record::Column::Verified.eq(true))
            .order_by_asc(sanitisation_record::Column::At)
            .all(conn)
            .await?
        {
            records.entry(record.item_id).or_default().push(record);
        }
    }
    let operator_ids: HashSet<Uuid> = records.values().flatten().map(|r| r.operator_id).collect();
    let operators: HashMap<Uuid, String> = if operator_ids.is_empty() {
        HashMap::new()
    } else {
        user::Entity::find()
            .filter(user::Column::Id.is_in(operator_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect()
    };
    let mut annex = Vec::new();
    for found in &data_bearing {
        let Some(done) = records.get(&found.id) else {
            blockers.push(FieldError::new(
                found.code.clone(),
                "bears data and has no successful, verified sanitisation record",
            ));
            continue;
        };
        for record in done {
            annex.push(AnnexLine {
                item: found.code.clone(),
                equipment_kind: kind_name(found.kind_id),
                serial: record
                    .drive_serial
                    .clone()
                    .or_else(|| found.serial.clone())
                    .unwrap_or_default(),
                method: record.method.clone(),
                tool: record.tool.clone(),
                verification: record.verification.clone().unwrap_or_default(),
                date: record.at.date_naive().to_string(),
                operator: operators
                    .get(&record.operator_id)
                    .cloned()
                    .unwrap_or_default(),
            });
        }
    }

    // Received, by kind and WEEE category.
    let mut received: BTreeMap<(String, i64), (i64, i64)> = BTreeMap::new();
    for found in &items {
        let entry = received
            .entry((kind_name(found.kind_id), i64::from(found.weee_category)))
            .or_default();
        entry.0 += i64::from(found.quantity);
        entry.1 += found.gross_mass_g;
    }
    let received: Vec<ReceivedLine> = received
        .into_iter()
        .map(
            |((equipment_kind, weee_category), (count, mass_g))| ReceivedLine {
                equipment_kind,
                weee_category,
                count,
                mass_g,
            },
        )
        .collect();

    let in_state = |wanted: ItemState| -> Vec<&item::Model> {
        states
            .iter()
            .filter(|(state, _)| *state == wanted)
            .map(|(_, i)| *i)
            .collect()
    };
    let attributed = summary::summarise(conn, resolved.summary_scope()).await?;
    let mut recycled: BTreeMap<String, i64> = BTreeMap::new();
    for line in &attributed.by_material {
        if line.material.is_some() && line.destination != Destination::Lost {
            *recycled
                .entry(line.family.clone().unwrap_or_default())
                .or_default() += line.mass_g;
        }
    }
    let fate = Fate {
        received: count_mass(&items.iter().collect::<Vec<_>>()),
        reused: count_mass(&in_state(ItemState::Reused)),
        dismantled: count_mass(&in_state(ItemState::Dismantled)),
        shipped_whole: count_mass(&in_state(ItemState::ShippedWhole)),
        recycled: recycled
            .into_iter()
            .filter(|(_, grams)| *grams != 0)
            .map(|(family, mass_g)| FamilyLine { family, mass_g })
            .collect(),
        hazardous: hazardous(conn, &collection_ids, language).await?,
        copper_ingot_g: attributed.by_destination.get("ingot").copied().unwrap_or(0),
        lost_g: attributed.by_destination.get("lost").copied().unwrap_or(0),
    };

    let scope = CertificateScope {
        kind: resolved.kind().to_string(),
        collections: resolved
            .collections
            .iter()
            .map(|c| ScopeCollection {
                code: c.code.clone(),
                received_on: c.received_on.to_string(),
                reference: c.reference.clone(),
            })
            .collect(),
        from: resolved.from.to_string(),
        to: resolved.to.to_string(),
    };
    Ok(Gathered {
        scope,
        received,
        fate,
        annex,
        blockers,
    })
}

/// Hazardous fractions of these collections that left in shipments, by material and
/// processor, with the shipments' documents: read from the shipments' movements, whose
/// parts say how many grams of each collection each carried.
async fn hazardous(
    conn: &impl ConnectionTrait,
    collection_ids: &[Uuid],
    language: &str,
) -> AppResult<Vec<HazardousLine>> {
    let hazardous: HashMap<Uuid, material::Model> = material::Entity::find()
        .filter(material::Column::Hazardous.eq(true))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    if hazardous.is_empty() || collection_ids.is_empty() {
        return Ok(Vec::new());
    }
    let lang = crate::i18n::Lang::from_code(language).unwrap_or(crate::i18n::Lang::En);
    let wanted: HashSet<Uuid> = collection_ids.iter().copied().collect();
    let shipments = shipment::Entity::find()
        .order_by_asc(shipment::Column::ShippedOn)
        .all(conn)
        .await?;
    if shipments.is_empty() {
        return Ok(Vec::new());
    }
    let processors: HashMap<Uuid, processor::Model> = processor::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let by_operation: HashMap<Uuid, &shipment::Model> =
        shipments.iter().map(|s| (s.operation_id, s)).collect();
    let movements = movement::Entity::find()
        .filter(movement::Column::OperationId.is_in(by_operation.keys().copied()))
        .all(conn)
        .await?;
    let lots: HashMap<Uuid, Uuid> = lot::Entity::find()
        .filter(lot::Column::MaterialId.is_in(hazardous.keys().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| (l.id, l.material_id))
        .collect();
    // (material code, processor id) -> (grams, documents)
    let mut lines: BTreeMap<(String, Uuid), (i64, BTreeSet<String>)> = BTreeMap::new();
    for moved in movements {
        let Some(material) = lots
            .get(&moved.from_holder_id)
            .and_then(|m| hazardous.get(m))
        else {
            continue;
        };
        let grams: i64 = parts_of_json(&moved.parts)
            .iter()
            .filter(|(collection, _)| wanted.contains(collection))
            .map(|(_, grams)| grams)
            .sum();
        if grams == 0 {
            continue;
        }
        let Some(sent) = by_operation.get(&moved.operation_id) else {
            continue;
        };
        let line = lines
            .entry((material.code.clone(), sent.processor_id))
            .or_default();
        line.0 += grams;
        line.1
            .insert(format!("{} / {}", sent.code, sent.transport_document));
    }
    Ok(lines
        .into_iter()
        .map(|((code, processor_id), (mass_g, documents))| {
            let material = hazardous.values().find(|m| m.code == code);
            let processor = processors.get(&processor_id);
            HazardousLine {
                material_name: material.map_or_else(String::new, |m| {
                    lang.name(&m.name_en, &m.name_fr).to_string()
                }),
                material: code,
                mass_g,
                processor: processor.map_or_else(String::new, |p| p.name.clone()),
                permit_number: processor.map_or_else(String::new, |p| p.permit_number.clone()),
                documents: documents.into_iter().collect(),
            }
        })
        .collect())
}
