//! The trace page: the movement graph from one code drawn as an indented tree, back to the
//! collections its mass came from or forward to everywhere it went.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::codes::{Code, CodeKind};
use crate::http::AppState;
use crate::http::api::lots::WORKSHOP;
use crate::http::extract::{Path, Query};
use crate::http::ui::lots::unknown_code;
use crate::http::ui::{PageContext, Shell, render};
use crate::i18n::Lang;
use crate::services::ledger::trace::{self, Direction, Trace, TraceNode};

/// The page of a code (`/lots/LT-…`), or none for an account or a code without a page.
pub fn page_of(reference: &str) -> Option<String> {
    let code = Code::parse(reference).ok()?;
    let folder = match code.kind() {
        CodeKind::Item => "items",
        CodeKind::Lot => "lots",
        CodeKind::Melt => "melts",
        CodeKind::Collection => "collections",
        CodeKind::Shipment => "shipments",
        _ => return None,
    };
    Some(format!("/{folder}/{code}"))
}

/// One node of the tree, in reading order. The `<ul>`/`<li>` nesting is rebuilt from
/// `opens` and `closes` so the template needs no recursion.
pub struct TreeLine {
    /// The first child of the line above: a new level starts.
    pub opens: bool,
    /// Levels that end before this line.
    pub closes: usize,
    pub kind: &'static str,
    pub code: Option<String>,
    pub href: Option<String>,
    /// An account's name, or a collection's partner.
    pub name: String,
    pub material: String,
    /// Grams along the edge from the line it hangs from (none for the root).
    pub moved: Option<String>,
    /// What a holder holds now.
    pub holds: Option<String>,
    /// Grams of the traced mass attributed to (back) or held from (forward) a collection.
    pub attributed: Option<String>,
    /// Already drawn above with what hangs from it.
    pub repeated: bool,
}

#[derive(Template)]
#[template(path = "trace.html")]
struct TracePage {
    shell: Shell,
    code: String,
    root_href: Option<String>,
    back: bool,
    lines: Vec<TreeLine>,
    /// Levels still open after the last line.
    last_depth: usize,
    truncated: bool,
}

#[derive(Debug, Deserialize)]
pub struct TraceQuery {
    direction: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
    Query(query): Query<TraceQuery>,
) -> Response {
    if let Some(refused) = context.refusal(&state, WORKSHOP) {
        return refused;
    }
    let collection = Code::parse(&code).is_ok_and(|c| c.kind() == CodeKind::Collection);
    let direction = match query.direction.as_deref() {
        Some("back") => Direction::Back,
        Some("forward") => Direction::Forward,
        // A collection is traced to where it went; anything else to where it came from.
        _ if collection => Direction::Forward,
        _ => Direction::Back,
    };
    let found = match trace::trace(&state.db, &code, direction)
        .await
        .map_err(unknown_code)
    {
        Ok(found) => found,
        Err(error) => return context.app_error(&state, error),
    };
    let (lines, last_depth) = tree(&found, context.lang);
    let code = found
        .nodes
        .iter()
        .find(|n| n.id == found.root)
        .and_then(|n| n.code.clone())
        .unwrap_or(code);
    render(&TracePage {
        shell: context.shell(&state),
        root_href: page_of(&code),
        code,
        back: direction == Direction::Back,
        lines,
        last_depth,
        truncated: found.truncated,
    })
}

/// The graph as a tree from its root, heaviest branch first; a node reached again is drawn
/// once more without its branches (merges and loops stay finite).
fn tree(found: &Trace, lang: Lang) -> (Vec<TreeLine>, usize) {
    let nodes: HashMap<Uuid, &TraceNode> = found.nodes.iter().map(|n| (n.id, n)).collect();
    let mut children: HashMap<Uuid, Vec<(Uuid, i64)>> = HashMap::new();
    for edge in &found.edges {
        let (parent, child) = match found.direction {
            Direction::Back => (edge.to, edge.from),
            Direction::Forward => (edge.from, edge.to),
        };
        if nodes.contains_key(&child) {
            children
                .entry(parent)
                .or_default()
                .push((child, edge.mass_g.unwrap_or_default()));
        }
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| nodes[&a.0].code.cmp(&nodes[&b.0].code))
        });
    }
    let mut lines = Vec::new();
    let mut drawn: HashSet<Uuid> = HashSet::new();
    let mut depth_before = 0;
    let mut stack = vec![(found.root, 0_usize, None::<i64>)];
    while let Some((id, depth, moved)) = stack.pop() {
        let Some(node) = nodes.get(&id) else {
            continue;
        };
        let repeated = !drawn.insert(id);
        if !repeated && let Some(list) = children.get(&id) {
            stack.extend(
                list.iter()
                    .rev()
                    .map(|(child, g)| (*child, depth + 1, Some(*g))),
            );
        }
        let opens = !lines.is_empty() && depth > depth_before;
        lines.push(TreeLine {
            opens,
            closes: depth_before.saturating_sub(depth),
            kind: lang.t(&format!("trace_page.kind.{}", node.kind)),
            href: node.code.as_deref().and_then(page_of),
            code: node.code.clone(),
            name: name_of(node, lang),
            material: node.material.clone().unwrap_or_default(),
            moved: moved.map(|g| lang.kg(g)),
            holds: node
                .balance_g
                .filter(|_| node.kind != "account")
                .map(|g| lang.kg(g)),
            attributed: node.attributed_g.map(|g| lang.kg(g)),
            repeated,
        });
        depth_before = depth;
    }
    (lines, depth_before)
}

/// An account by its name in the page's language; a collection by its partner.
fn name_of(node: &TraceNode, lang: Lang) -> String {
    match node.kind.as_str() {
        "account" => {
            let account = node.label.split(':').next().unwrap_or_default();
            lang.t(&format!("trace_page.account.{account}")).to_string()
        }
        "collection" => node.partner.clone().unwrap_or_default(),
        _ => String::new(),
    }
}
