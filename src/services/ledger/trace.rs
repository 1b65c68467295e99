//! Genealogy: the movement graph with masses, back from anything to the collections and
//! partners its mass came from, or forward from a collection or item to everywhere it went.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::codes::{Code, CodeKind};
use crate::domain::ledger::{Account, HolderKind};
use crate::entities::{
    collection, holder, holder_composition, material, movement, operation, partner,
};
use crate::error::{AppError, AppResult};
use crate::services::ledger::{kind_of, parts_of_json};

/// A trace stops growing past this many nodes and says it was cut.
pub const MAX_NODES: usize = 20_000;
/// Ids per `IN (…)` query, well under both databases' parameter limits.
const CHUNK: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Where the mass came from.
    Back,
    /// Where the mass went.
    Forward,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TraceNode {
    /// The holder's or collection's id.
    pub id: Uuid,
    /// `item`, `lot`, `melt`, `account` or `collection`.
    pub kind: String,
    pub code: Option<String>,
    pub label: String,
    /// For lots and per-material accounts.
    pub material: Option<String>,
    /// For collections.
    pub partner: Option<String>,
    /// For holders: what they hold now.
    pub balance_g: Option<i64>,
    /// Back: grams of the traced holder that came from this collection. Forward from a
    /// collection: grams of that collection this holder holds now (mass-balance attribution).
    pub attributed_g: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TraceEdge {
    pub from: Uuid,
    pub to: Uuid,
    /// Grams moved along this edge in all (corrected operations left out). Left out of a
    /// partner's view where the edge leaves a lot, melt or account: those mix partners.
    pub mass_g: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Trace {
    pub root: Uuid,
    pub direction: Direction,
    pub nodes: Vec<TraceNode>,
    pub edges: Vec<TraceEdge>,
    /// True when the graph was cut at [`MAX_NODES`].
    pub truncated: bool,
}

impl Trace {
    /// What a partner may see of a trace from its own item or collection: its own items and
    /// collections as they are, but of the lots, melts and accounts its mass reached (which
    /// mix partners) only its own attributed grams, never their balance nor the grams that
    /// left them.
    pub fn as_partner_sees(mut self) -> Trace {
        let own = |kind: &str| kind == "item" || kind == "collection";
        let mut shared = BTreeSet::new();
        for node in &mut self.nodes {
            if !own(&node.kind) {
                node.balance_g = None;
                shared.insert(node.id);
            }
        }
        for edge in &mut self.edges {
            if shared.contains(&edge.from) {
                edge.mass_g = None;
            }
        }
        self
    }
}

/// Traces from a code: an item, lot or melt (either way) or a collection.
pub async fn trace(
    conn: &impl ConnectionTrait,
    reference: &str,
    direction: Direction,
) -> AppResult<Trace> {
    let code =
        Code::parse(reference).map_err(|error| AppError::invalid("code", error.to_string()))?;
    if code.kind() == CodeKind::Collection {
        let found = collection::Entity::find()
            .filter(collection::Column::Code.eq(code.to_string()))
            .one(conn)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no collection {code}")))?;
        return trace_collection(conn, found, direction).await;
    }
    let root = holder::Entity::find()
        .filter(holder::Column::Code.eq(code.to_string()))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("nothing with code {code} holds mass")))?;
    let mut graph = Graph::new(conn, direction).await?;
    graph.add_holders(conn, vec![root.clone()]).await?;
    graph.walk(conn, vec![root.id]).await?;
    if direction == Direction::Back {
        graph.attribute_collections_from(conn, root.id).await?;
    }
    Ok(graph.finish(root.id))
}

async fn trace_collection(
    conn: &impl ConnectionTrait,
    found: collection::Model,
    direction: Direction,
) -> AppResult<Trace> {
    let mut graph = Graph::new(conn, direction).await?;
    graph.add_collections(conn, [found.id].into()).await?;
    if direction == Direction::Forward {
        let items = holder::Entity::find()
            .filter(holder::Column::CollectionId.eq(found.id))
            .all(conn)
            .await?;
        let item_ids: Vec<Uuid> = items.iter().map(|h| h.id).collect();
        graph.add_holders(conn, items).await?;
        // The collection → item edges are the items' intake.
        for chunk in item_ids.chunks(CHUNK) {
            let intakes = movement::Entity::find()
                .filter(movement::Column::ToHolderId.is_in(chunk.iter().copied()))
                .all(conn)
                .await?;
            for m in intakes {
                if graph.intake.contains(&m.from_holder_id)
                    && !graph.excluded.contains(&m.operation_id)
                {
                    let grams = parts_of_json(&m.parts).get(&found.id).copied().unwrap_or(0);
                    if grams > 0 {
                        *graph.edges.entry((found.id, m.to_holder_id)).or_default() += grams;
                    }
                }
            }
        }
        graph.walk(conn, item_ids).await?;
        let attributed = holder_composition::Entity::find()
            .filter(holder_composition::Column::CollectionId.eq(found.id))
            .all(conn)
            .await?;
        for row in attributed {
            if let Some(node) = graph.nodes.get_mut(&row.holder_id) {
                node.attributed_g = Some(row.mass_g);
            }
        }
    }
    Ok(graph.finish(found.id))
}

struct Graph {
    direction: Direction,
    nodes: HashMap<Uuid, TraceNode>,
    edges: BTreeMap<(Uuid, Uuid), i64>,
    /// The intake account's holder id(s): mass from there is shown coming from collections.
    intake: BTreeSet<Uuid>,
    /// Operations left out: corrections and what they corrected cancel each other.
    excluded: BTreeSet<Uuid>,
    truncated: bool,
}

impl Graph {
    async fn new(conn: &impl ConnectionTrait, direction: Direction) -> AppResult<Graph> {
        let intake = holder::Entity::find()
            .filter(holder::Column::AccountKey.eq(Account::Intake.as_str()))
            .all(conn)
            .await?
            .into_iter()
            .map(|h| h.id)
            .collect();
        let mut excluded = BTreeSet::new();
        for correction in operation::Entity::find()
            .filter(operation::Column::CorrectsId.is_not_null())
            .all(conn)
            .await?
        {
            excluded.insert(correction.id);
            excluded.extend(correction.corrects_id);
        }
        Ok(Graph {
            direction,
            nodes: HashMap::new(),
            edges: BTreeMap::new(),
            intake,
            excluded,
            truncated: false,
        })
    }

    /// Breadth-first over movements, one query per level; accounts end a path.
    async fn walk(&mut self, conn: &impl ConnectionTrait, start: Vec<Uuid>) -> AppResult<()> {
        let mut frontier = start;
        while !frontier.is_empty() {
            let mut next_ids: BTreeSet<Uuid> = BTreeSet::new();
            let mut new_collections: BTreeSet<Uuid> = BTreeSet::new();
            for chunk in frontier.chunks(CHUNK) {
                let ids = chunk.iter().copied();
                let found = match self.direction {
                    Direction::Back => {
                        movement::Entity::find().filter(movement::Column::ToHolderId.is_in(ids))
                    }
                    Direction::Forward => {
                        movement::Entity::find().filter(movement::Column::FromHolderId.is_in(ids))
                    }
                }
                .all(conn)
                .await?;
                for m in found {
                    if self.excluded.contains(&m.operation_id) {
                        continue;
                    }
                    if self.direction == Direction::Back && self.intake.contains(&m.from_holder_id)
                    {
                        for (collection, grams) in parts_of_json(&m.parts) {
                            *self.edges.entry((collection, m.to_holder_id)).or_default() += grams;
                            new_collections.insert(collection);
                        }
                        continue;
                    }
                    *self
                        .edges
                        .entry((m.from_holder_id, m.to_holder_id))
                        .or_default() += m.mass_g;
                    let other = match self.direction {
                        Direction::Back => m.from_holder_id,
                        Direction::Forward => m.to_holder_id,
                    };
                    if !self.nodes.contains_key(&other) {
                        next_ids.insert(other);
                    }
                }
            }
            self.add_collections(conn, new_collections).await?;
            if self.nodes.len() + next_ids.len() > MAX_NODES {
                self.truncated = true;
                let room = MAX_NODES.saturating_sub(self.nodes.len());
                next_ids = next_ids.into_iter().take(room).collect();
            }
            let holders = load_holders(conn, &next_ids).await?;
            // Accounts are where paths end: intake, reuse, shipped, losses.
            frontier = holders
                .iter()
                .filter(|h| !matches!(kind_of(h), HolderKind::Account(_)))
                .map(|h| h.id)
                .collect();
            self.add_holders(conn, holders).await?;
            if self.truncated {
                break;
            }
        }
        Ok(())
    }

    async fn add_holders(
        &mut self,
        conn: &impl ConnectionTrait,
        holders: Vec<holder::Model>,
    ) -> AppResult<()> {
        let material_ids: BTreeSet<Uuid> = holders.iter().filter_map(|h| h.material_id).collect();
        let materials: HashMap<Uuid, String> = if material_ids.is_empty() {
            HashMap::new()
        } else {
            material::Entity::find()
                .filter(material::Column::Id.is_in(material_ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|m| (m.id, m.code))
                .collect()
        };
        for h in holders {
            self.nodes.insert(
                h.id,
                TraceNode {
                    id: h.id,
                    kind: h.kind.clone(),
                    code: h.code.clone(),
                    label: h.label.clone(),
                    material: h.material_id.and_then(|id| materials.get(&id).cloned()),
                    partner: None,
                    balance_g: Some(h.balance_g),
                    attributed_g: None,
                },
            );
        }
        Ok(())
    }

    async fn add_collections(
        &mut self,
        conn: &impl ConnectionTrait,
        ids: BTreeSet<Uuid>,
    ) -> AppResult<()> {
        let ids: Vec<Uuid> = ids
            .into_iter()
            .filter(|id| !self.nodes.contains_key(id))
            .collect();
        for chunk in ids.chunks(CHUNK) {
            let found = collection::Entity::find()
                .filter(collection::Column::Id.is_in(chunk.iter().copied()))
                .all(conn)
                .await?;
            let partner_ids: BTreeSet<Uuid> = found.iter().map(|c| c.partner_id).collect();
            let partners: HashMap<Uuid, String> = partner::Entity::find()
                .filter(partner::Column::Id.is_in(partner_ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|p| (p.id, p.name))
                .collect();
            for c in found {
                self.nodes.insert(
                    c.id,
                    TraceNode {
                        id: c.id,
                        kind: "collection".to_string(),
                        code: Some(c.code.clone()),
                        label: c.reference.clone().unwrap_or_else(|| c.code.clone()),
                        material: None,
                        partner: partners.get(&c.partner_id).cloned(),
                        balance_g: None,
                        attributed_g: None,
                    },
                );
            }
        }
        Ok(())
    }

    /// Back traces end at collections; each gets the grams of the root that came from it.
    async fn attribute_collections_from(
        &mut self,
        conn: &impl ConnectionTrait,
        root: Uuid,
    ) -> AppResult<()> {
        let composition = holder_composition::Entity::find()
            .filter(holder_composition::Column::HolderId.eq(root))
            .all(conn)
            .await?;
        let missing: BTreeSet<Uuid> = composition.iter().map(|row| row.collection_id).collect();
        self.add_collections(conn, missing).await?;
        for row in composition {
            if let Some(node) = self.nodes.get_mut(&row.collection_id) {
                node.attributed_g = Some(row.mass_g);
            }
        }
        Ok(())
    }

    fn finish(self, root: Uuid) -> Trace {
        let mut nodes: Vec<TraceNode> = self.nodes.into_values().collect();
        nodes.sort_by(|a, b| {
            (a.kind.as_str(), &a.code, a.id).cmp(&(b.kind.as_str(), &b.code, b.id))
        });
        Trace {
            root,
            direction: self.direction,
            nodes,
            edges: self
                .edges
                .into_iter()
                .map(|((from, to), mass_g)| TraceEdge {
                    from,
                    to,
                    mass_g: Some(mass_g),
                })
                .collect(),
            truncated: self.truncated,
        }
    }
}

async fn load_holders(
    conn: &impl ConnectionTrait,
    ids: &BTreeSet<Uuid>,
) -> AppResult<Vec<holder::Model>> {
    let ids: Vec<Uuid> = ids.iter().copied().collect();
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        found.extend(
            holder::Entity::find()
                .filter(holder::Column::Id.is_in(chunk.iter().copied()))
                .all(conn)
                .await?,
        );
    }
    Ok(found)
}
