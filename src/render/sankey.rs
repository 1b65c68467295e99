//! A mass-balance (Sankey) diagram as SVG: columns of nodes, and bands between adjacent
//! columns whose widths are grams. [`Sankey::new`] refuses flows that do not balance (what
//! enters a middle node that passes mass on must all leave it; a middle node with nothing
//! leaving is where that mass ends, such as equipment reused whole), so a drawn diagram
//! always adds up.

use std::collections::BTreeMap;
use std::fmt::Write;

/// Grams from a node of one column to a node of the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub from: String,
    pub to: String,
    pub grams: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SankeyError {
    #[error("“{node}” receives {into} g but gives {out_of} g")]
    Unbalanced {
        node: String,
        into: i64,
        out_of: i64,
    },
    #[error("a flow from “{from}” to “{to}” joins nodes that are not in adjacent columns")]
    NotAdjacent { from: String, to: String },
    #[error("a flow of {0} g: flows are positive")]
    Negative(i64),
}

/// A node and what passes through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub column: usize,
    pub label: String,
    pub grams: i64,
}

/// A checked diagram: every middle node gives out what it receives.
#[derive(Debug, Clone)]
pub struct Sankey {
    pub nodes: Vec<Node>,
    pub flows: Vec<Flow>,
    columns: usize,
}

impl Sankey {
    /// `columns` names each column's nodes in drawing order; zero flows are dropped.
    pub fn new(columns: &[Vec<String>], flows: Vec<Flow>) -> Result<Sankey, SankeyError> {
        let column_of: BTreeMap<&str, usize> = columns
            .iter()
            .enumerate()
            .flat_map(|(index, nodes)| nodes.iter().map(move |n| (n.as_str(), index)))
            .collect();
        let flows: Vec<Flow> = flows.into_iter().filter(|f| f.grams != 0).collect();
        let mut into: BTreeMap<&str, i64> = BTreeMap::new();
        let mut out_of: BTreeMap<&str, i64> = BTreeMap::new();
        for flow in &flows {
            if flow.grams < 0 {
                return Err(SankeyError::Negative(flow.grams));
            }
            match (
                column_of.get(flow.from.as_str()),
                column_of.get(flow.to.as_str()),
            ) {
                (Some(a), Some(b)) if b == &(a + 1) => {}
                _ => {
                    return Err(SankeyError::NotAdjacent {
                        from: flow.from.clone(),
                        to: flow.to.clone(),
                    });
                }
            }
            *out_of.entry(flow.from.as_str()).or_default() += flow.grams;
            *into.entry(flow.to.as_str()).or_default() += flow.grams;
        }
        let last = columns.len().saturating_sub(1);
        let mut nodes = Vec::new();
        for (column, names) in columns.iter().enumerate() {
            for name in names {
                let entering = into.get(name.as_str()).copied().unwrap_or(0);
                let leaving = out_of.get(name.as_str()).copied().unwrap_or(0);
                if column > 0 && column < last && leaving > 0 && entering != leaving {
                    return Err(SankeyError::Unbalanced {
                        node: name.clone(),
                        into: entering,
                        out_of: leaving,
                    });
                }
                let grams = if column == 0 { leaving } else { entering };
                if grams > 0 {
                    nodes.push(Node {
                        column,
                        label: name.clone(),
                        grams,
                    });
                }
            }
        }
        Ok(Sankey {
            nodes,
            flows,
            columns: columns.len(),
        })
    }

    /// Grams entering and leaving a node, for checks.
    pub fn through(&self, label: &str) -> (i64, i64) {
        let into = self
            .flows
            .iter()
            .filter(|f| f.to == label)
            .map(|f| f.grams)
            .sum();
        let out_of = self
            .flows
            .iter()
            .filter(|f| f.from == label)
            .map(|f| f.grams)
            .sum();
        (into, out_of)
    }

    /// The diagram as SVG: grey bands (readable in black and white), black nodes, each
    /// node labelled with its name and mass as `kg` formats it.
    pub fn svg(&self, title: &str, kg: impl Fn(i64) -> String) -> String {
        const WIDTH: f64 = 960.0;
        const HEIGHT: f64 = 460.0;
        const TOP: f64 = 40.0;
        const NODE_W: f64 = 14.0;
        const GAP: f64 = 10.0;
        let columns = self.columns.max(2);
        let usable_h = HEIGHT - TOP - 20.0;
        // One scale for every column: the fullest column fills the height.
        let mut column_total = vec![0i64; columns];
        let mut column_count = vec![0usize; columns];
        for node in &self.nodes {
            column_total[node.column] += node.grams;
            column_count[node.column] += 1;
        }
        let scale = column_total
            .iter()
            .zip(&column_count)
            .map(|(&total, &count)| {
                let room = usable_h - GAP * count.saturating_sub(1) as f64;
                if total > 0 {
                    room / total as f64
                } else {
                    f64::MAX
                }
            })
            .fold(f64::MAX, f64::min);
        let scale = if scale == f64::MAX { 0.0 } else { scale };
        let x_of = |column: usize| 30.0 + (WIDTH - 260.0) * column as f64 / (columns - 1) as f64;
        let mut top_of: BTreeMap<&str, f64> = BTreeMap::new();
        let mut y = vec![TOP; columns];
        for node in &self.nodes {
            top_of.insert(node.label.as_str(), y[node.column]);
            y[node.column] += node.grams as f64 * scale + GAP;
        }
        let mut out_cursor: BTreeMap<&str, f64> = top_of.clone();
        let mut in_cursor: BTreeMap<&str, f64> = top_of.clone();
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" class="sankey"><title>{}</title>"#,
            escape(title),
            escape(title)
        );
        let column_of: BTreeMap<&str, usize> = self
            .nodes
            .iter()
            .map(|n| (n.label.as_str(), n.column))
            .collect();
        for flow in &self.flows {
            let (Some(&from_column), Some(&to_column)) = (
                column_of.get(flow.from.as_str()),
                column_of.get(flow.to.as_str()),
            ) else {
                continue;
            };
            let h = flow.grams as f64 * scale;
            let x0 = x_of(from_column) + NODE_W;
            let x1 = x_of(to_column);
            let y0 = out_cursor.get(flow.from.as_str()).copied().unwrap_or(TOP);
            let y1 = in_cursor.get(flow.to.as_str()).copied().unwrap_or(TOP);
            out_cursor.insert(flow.from.as_str(), y0 + h);
            in_cursor.insert(flow.to.as_str(), y1 + h);
            let mid = (x0 + x1) / 2.0;
            let _ = write!(
                svg,
                r##"<path d="M{x0:.1},{y0:.1} C{mid:.1},{y0:.1} {mid:.1},{y1:.1} {x1:.1},{y1:.1} L{x1:.1},{:.1} C{mid:.1},{:.1} {mid:.1},{:.1} {x0:.1},{:.1} Z" fill="#9a9a9a" fill-opacity="0.45" stroke="#555" stroke-width="0.4"><title>{} → {}: {}</title></path>"##,
                y1 + h,
                y1 + h,
                y0 + h,
                y0 + h,
                escape(&flow.from),
                escape(&flow.to),
                escape(&kg(flow.grams))
            );
        }
        for node in &self.nodes {
            let x = x_of(node.column);
            let y = top_of.get(node.label.as_str()).copied().unwrap_or(TOP);
            let h = (node.grams as f64 * scale).max(1.0);
            let _ = write!(
                svg,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{NODE_W}" height="{h:.1}" fill="#222"/><text x="{:.1}" y="{:.1}" font-size="12" font-family="sans-serif" dominant-baseline="middle" paint-order="stroke" stroke="#fff" stroke-width="3">{} · {}</text>"##,
                x + NODE_W + 4.0,
                y + h / 2.0,
                escape(&node.label),
                escape(&kg(node.grams))
            );
        }
        svg.push_str("</svg>");
        svg
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(from: &str, to: &str, grams: i64) -> Flow {
        Flow {
            from: from.into(),
            to: to.into(),
            grams,
        }
    }

    fn columns() -> Vec<Vec<String>> {
        vec![
            vec!["PC".into(), "Cables".into()],
            vec!["Dismantled".into(), "Reused".into()],
            vec!["Copper".into(), "Steel".into(), "Losses".into()],
        ]
    }

    #[test]
    fn a_balanced_diagram_draws_every_band_and_node() {
        let sankey = Sankey::new(
            &columns(),
            vec![
                flow("PC", "Dismantled", 9_000),
                flow("PC", "Reused", 4_000),
                flow("Cables", "Dismantled", 3_000),
                flow("Dismantled", "Copper", 5_000),
                flow("Dismantled", "Steel", 6_900),
                flow("Dismantled", "Losses", 100),
            ],
        )
        .unwrap();
        assert_eq!(sankey.through("Dismantled"), (12_000, 12_000));
        let svg = sankey.svg("Mass <balance>", |g| format!("{g} g"));
        assert_eq!(svg.matches("<path").count(), 6);
        assert_eq!(svg.matches("<rect").count(), 7);
        assert!(svg.contains("Mass &lt;balance&gt;"));
        assert!(svg.contains("Dismantled · 12000 g"));
    }

    #[test]
    fn an_unbalanced_middle_node_is_refused() {
        let refused = Sankey::new(
            &columns(),
            vec![
                flow("PC", "Dismantled", 9_000),
                flow("Dismantled", "Steel", 8_999),
            ],
        );
        assert_eq!(
            refused.unwrap_err(),
            SankeyError::Unbalanced {
                node: "Dismantled".into(),
                into: 9_000,
                out_of: 8_999
            }
        );
    }

    #[test]
    fn a_middle_node_may_be_where_mass_ends() {
        let sankey = Sankey::new(&columns(), vec![flow("PC", "Reused", 4_000)]).unwrap();
        assert_eq!(sankey.through("Reused"), (4_000, 0));
    }

    #[test]
    fn flows_must_join_adjacent_columns_and_be_positive() {
        assert!(matches!(
            Sankey::new(&columns(), vec![flow("PC", "Steel", 1)]),
            Err(SankeyError::NotAdjacent { .. })
        ));
        assert!(matches!(
            Sankey::new(&columns(), vec![flow("PC", "Reused", -1)]),
            Err(SankeyError::Negative(-1))
        ));
    }
}
